//! Which kind of file a weights file is, told from its first bytes (and, for a zip, its entry
//! names): safetensors, a numpy `.npz`, a PyTorch zip `.pt`/`.pth` are read; the formats people
//! also save by default (a legacy `.pt`, a TorchScript archive, Keras `.weights.h5`/`.h5` and
//! `.keras`) are refused with an error that names the format and gives the one line to run
//! instead.

use super::bounded::Budget;
use super::weight_table::{Table, WeightsError};
use super::{npz, torch_zip};
use std::collections::HashMap;
use std::io::Cursor;

/// The formats `import` reads, for errors.
const READ: &str = "safetensors, numpy .npz, PyTorch .pt/.pth (zip)";

/// The largest pickle (`data.pkl`) of a `.pt` file read, in bytes: a state dict's pickle names
/// its tensors and their shapes, a few KB; tensors themselves are bounded by the import's
/// [`Budget`].
pub const MAX_PICKLE_BYTES: u64 = 4 << 20;

/// The one-line conversion to safetensors of a PyTorch `torch.load`-able file `path`.
fn torch_conversion(path: &str) -> String {
    format!(
        "python3 -c \"import torch; from safetensors.torch import save_file; \
         save_file(torch.load('{path}', map_location='cpu'), 'weights.safetensors')\""
    )
}

/// The one-line conversion of a Keras model (or its `.weights.h5`, given the model) to an
/// `.npz` that `import` reads.
const KERAS_CONVERSION: &str = "python3 -c \"import keras, numpy as np; \
     np.savez('weights.npz', *keras.saving.load_model('FILE.keras').get_weights())\"";

/// The tensors and `__metadata__` of a weights file in a format `import` reads.
///
/// # Errors
/// A [`WeightsError`] naming the format for everything refused, with the conversion to run.
pub(super) fn read(
    bytes: &[u8],
    budget: &mut Budget,
) -> Result<(Table, HashMap<String, String>), WeightsError> {
    if bytes.starts_with(&crate::format::MAGIC) {
        return fail("this is a micrornn model file, not weights to import");
    }
    if bytes.starts_with(b"\x89HDF\r\n\x1a\n") {
        return fail(format!(
            "this is an HDF5 file (Keras model.save_weights(\"m.weights.h5\") or a legacy .h5), \
             which is not read; save the weights as an .npz instead: in the script that has the \
             model, np.savez(\"weights.npz\", *model.get_weights()), or from a saved model: {KERAS_CONVERSION}"
        ));
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return read_zip(bytes, budget);
    }
    if is_legacy_torch(bytes) {
        return fail(format!(
            "this is a legacy (pre-1.6, non-zip) PyTorch file, which is not read; convert it \
             with: {}",
            torch_conversion("FILE.pt")
        ));
    }
    if bytes.len() > 2 && bytes[0] == 0x80 && (2..=5).contains(&bytes[1]) {
        return fail(
            "this is a Python pickle, which is not read (unpickling runs code); save the state \
             dict with torch.save(model.state_dict(), \"m.pt\") or the arrays with np.savez",
        );
    }
    if bytes.starts_with(b"\x93NUMPY") {
        return fail(
            "this is a single numpy .npy array (np.save); save all the weights in one file with \
             np.savez(\"weights.npz\", *model.get_weights())",
        );
    }
    if looks_like_safetensors(bytes) {
        return read_safetensors(bytes, budget);
    }
    fail(format!(
        "not a weights file micrornn reads ({READ}); the first bytes are {:?}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(8)])
    ))
}

fn fail<T>(message: impl Into<String>) -> Result<T, WeightsError> {
    Err(WeightsError(message.into()))
}

/// A pickle that starts with torch's legacy magic number `0x1950a86a20f9469cfc6c` (what
/// `torch.save` writes with `_use_new_zipfile_serialization=False`): `LONG1` of 10 bytes.
fn is_legacy_torch(bytes: &[u8]) -> bool {
    const MAGIC: [u8; 12] = [
        0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
    ];
    bytes.len() > 2 && bytes[0] == 0x80 && bytes[2..].starts_with(&MAGIC)
}

/// Eight bytes of header length and a JSON object.
fn looks_like_safetensors(bytes: &[u8]) -> bool {
    bytes.len() >= 9 && bytes[8] == b'{'
}

/// A zip: a PyTorch checkpoint, a TorchScript archive, a `.keras` archive or an `.npz`.
fn read_zip(
    bytes: &[u8],
    budget: &mut Budget,
) -> Result<(Table, HashMap<String, String>), WeightsError> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| WeightsError(format!("a damaged zip archive (.npz or .pt): {e}")))?;
    let names: Vec<&str> = archive.file_names().collect();
    let has = |suffix: &str| names.iter().any(|n| n.ends_with(suffix));
    if has("constants.pkl") || names.iter().any(|n| n.contains("/code/")) {
        return fail(format!(
            "this is a TorchScript archive (torch.jit.save), which is not read; save the state \
             dict instead: torch.save(model.state_dict(), \"m.pt\"), or convert it with: {}",
            torch_conversion("FILE.pt")
                .replace("torch.load", "torch.jit.load")
                .replace("map_location='cpu')", "map_location='cpu').state_dict()")
        ));
    }
    if has("model.weights.h5") && has("config.json") {
        return fail(format!(
            "this is a Keras .keras archive (model.save), which is not read; convert it with: \
             {KERAS_CONVERSION}"
        ));
    }
    if let Some(folder) = torch_zip::archive_folder(&names) {
        let table = torch_zip::read(bytes, &folder, MAX_PICKLE_BYTES, budget)?;
        return Ok((table, HashMap::new()));
    }
    Ok((npz::read(bytes, budget)?, HashMap::new()))
}

/// The tensors of a safetensors file and its `__metadata__`.
fn read_safetensors(
    bytes: &[u8],
    budget: &mut Budget,
) -> Result<(Table, HashMap<String, String>), WeightsError> {
    use safetensors::{Dtype, SafeTensors};
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| WeightsError(format!("not a valid safetensors file ({e})")))?;
    let metadata = SafeTensors::read_metadata(bytes)
        .ok()
        .and_then(|(_, m)| m.metadata().clone())
        .unwrap_or_default();
    let mut tensors = file.tensors();
    tensors.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut table = Table::new();
    for (name, view) in tensors {
        let what = format!("tensor {name}: shape {:?} {:?}", view.shape(), view.dtype());
        budget
            .take(&what, view.data().len() as u64)
            .map_err(WeightsError)?;
        let values = (view.dtype() == Dtype::F32).then(|| {
            view.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        });
        let raw = super::weight_table::Raw {
            dtype: format!("{:?}", view.dtype()),
            shape: view.shape().to_vec(),
            values,
        };
        table.insert(name, raw);
    }
    Ok((table, metadata))
}
