//! PyTorch's zip checkpoint (`torch.save(model.state_dict(), "m.pt")`, the default format since
//! PyTorch 1.6): `ARCHIVE/data.pkl` (the state dict, read by [`super::torch_pickle`]) and one
//! raw little-endian storage per `ARCHIVE/data/KEY`. Every entry is read through a byte limit.

use super::bounded::Budget;
use super::torch_pickle::{self, TensorRef};
use super::weight_table::{Raw, Table, WeightsError};
use std::io::{Cursor, Read};

/// The archive folder (`archive/` or the file's stem in older PyTorch) of a torch zip: the one
/// that holds `data.pkl`, if any entry is `FOLDER/data.pkl`.
pub(super) fn archive_folder(names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| n.strip_suffix("data.pkl"))
        .find(|folder| {
            folder.is_empty() || folder.matches('/').count() == 1 && folder.ends_with('/')
        })
        .map(str::to_string)
}

/// Reads entry `name` whole, refusing one larger than `limit` bytes (checked before and while
/// reading, so a lying header cannot make it read more).
pub(super) fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: u64,
) -> Result<Vec<u8>, String> {
    let entry = archive.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    if entry.size() > limit {
        return Err(format!(
            "{name}: {} bytes, more than the {limit} a model of the compiled sizes needs",
            entry.size()
        ));
    }
    let mut data = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut data)
        .map_err(|e| format!("{name}: {e}"))?;
    if data.len() as u64 > limit {
        return Err(format!("{name}: more than {limit} bytes"));
    }
    Ok(data)
}

/// The tensors of a torch zip whose state dict lives under `folder`: the pickle read through
/// `pickle_limit` bytes, each tensor's storage taken from `budget` (from the size the pickle
/// declares) before it is read, and read through exactly that many bytes.
///
/// # Errors
/// A [`WeightsError`] starting "PyTorch .pt file" and naming what is wrong.
pub(super) fn read(
    bytes: &[u8],
    folder: &str,
    pickle_limit: u64,
    budget: &mut Budget,
) -> Result<Table, WeightsError> {
    let bad = |what: String| WeightsError(format!("PyTorch .pt file: {what}"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    if let Ok(order) = read_entry(&mut archive, &format!("{folder}byteorder"), 16)
        && order != b"little"
    {
        return Err(bad(format!(
            "byte order {:?}; only little-endian storages are read",
            String::from_utf8_lossy(&order)
        )));
    }
    let pickle =
        read_entry(&mut archive, &format!("{folder}data.pkl"), pickle_limit).map_err(bad)?;
    let entries = torch_pickle::state_dict(&pickle).map_err(|e| bad(format!("data.pkl: {e}")))?;
    let mut table = Table::new();
    for (name, tensor) in entries {
        let (size, dtype) = storage_dtype(&tensor.storage_type);
        let declared = (tensor.storage_len as u64).saturating_mul(size as u64);
        let what = format!("tensor {name}: shape {:?} {dtype}", tensor.shape);
        budget.take(&what, declared).map_err(WeightsError)?;
        let raw = tensor_values(&mut archive, folder, &tensor, declared)
            .map_err(|e| bad(format!("tensor {name}: {e}")))?;
        table.insert(name, raw);
    }
    Ok(table)
}

/// Element size and dtype name of a storage class.
fn storage_dtype(storage_type: &str) -> (usize, &str) {
    match storage_type {
        "FloatStorage" => (4, "F32"),
        "DoubleStorage" => (8, "F64"),
        "HalfStorage" => (2, "F16"),
        "BFloat16Storage" => (2, "BF16"),
        "LongStorage" => (8, "I64"),
        "IntStorage" => (4, "I32"),
        "ShortStorage" => (2, "I16"),
        "CharStorage" => (1, "I8"),
        "ByteStorage" => (1, "U8"),
        "BoolStorage" => (1, "BOOL"),
        other => (0, other),
    }
}

/// One tensor: its values if it is `F32` and contiguous, else its dtype for the error.
fn tensor_values(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    folder: &str,
    tensor: &TensorRef,
    limit: u64,
) -> Result<Raw, String> {
    let (size, dtype) = storage_dtype(&tensor.storage_type);
    let shape = tensor.shape.clone();
    if dtype != "F32" {
        return Ok(Raw {
            dtype: dtype.to_string(),
            shape,
            values: None,
        });
    }
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} too large"))?;
    let mut contiguous = 1usize;
    for (&dim, &stride) in shape.iter().zip(&tensor.stride).rev() {
        if dim > 1 && stride != contiguous {
            return Err(format!(
                "stride {:?} for shape {shape:?}: not contiguous (save .contiguous() tensors)",
                tensor.stride
            ));
        }
        contiguous = contiguous.saturating_mul(dim);
    }
    if tensor.stride.len() != shape.len() {
        return Err(format!("stride {:?} for shape {shape:?}", tensor.stride));
    }
    let end = tensor
        .offset
        .checked_add(count)
        .filter(|&e| e <= tensor.storage_len)
        .ok_or_else(|| {
            format!(
                "elements {}..+{count} outside its storage of {}",
                tensor.offset, tensor.storage_len
            )
        })?;
    let data = read_entry(archive, &format!("{folder}data/{}", tensor.storage), limit)?;
    if data.len() != tensor.storage_len.saturating_mul(size) {
        return Err(format!(
            "storage {} holds {} bytes, expected {} elements of {size}",
            tensor.storage,
            data.len(),
            tensor.storage_len
        ));
    }
    let values = data[tensor.offset * size..end * size]
        .chunks_exact(size)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Raw {
        dtype: dtype.to_string(),
        shape,
        values: Some(values),
    })
}
