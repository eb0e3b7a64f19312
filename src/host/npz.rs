//! numpy `.npz` archives (what `numpy.savez` and Keras-to-numpy scripts write): a zip of `.npy`
//! files, read with the `zip` crate; the `.npy` header (`{'descr': '<f4', 'fortran_order':
//! False, 'shape': (20, 32), }`) is parsed here. Only little-endian `f32` (`<f4`) in C order
//! gives values; other dtypes are reported by name so the importer can say what it expected.

use super::bounded::{self, Budget};
use super::weight_table::{Raw, Table, WeightsError};
use super::weights_budget::MAX_HEADER_BYTES;
use std::io::{Cursor, Read};

/// The arrays of an `.npz`, by name (the entry name without `.npy`). Each entry is inflated only
/// as far as its `.npy` header, whose declared shape is taken from `budget` before the data is
/// inflated (through a limit of exactly that many bytes): a bomb of deflated zeros that declares
/// a huge array is refused having inflated a few bytes.
///
/// # Errors
/// A [`WeightsError`] for a damaged archive, an entry that is not a `.npy` array, or one that
/// does not fit the budget.
pub(super) fn read(bytes: &[u8], budget: &mut Budget) -> Result<Table, WeightsError> {
    let bad = |what: String| WeightsError(format!("not a valid .npz file ({what})"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let mut table = Table::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| bad(e.to_string()))?;
        let name = entry.name().trim_end_matches(".npy").to_string();
        let header = read_npy_header(&mut entry).map_err(|e| bad(format!("{name}: {e}")))?;
        budget
            .take(
                &format!("tensor {name}: shape {:?} {}", header.shape, header.descr),
                header.data_bytes as u64,
            )
            .map_err(WeightsError)?;
        let raw = read_npy_data(&mut entry, header).map_err(|e| bad(format!("{name}: {e}")))?;
        table.insert(name, raw);
    }
    Ok(table)
}

/// Bytes of the `.npy` magic, version and header length (version 2 and 3: a `u32` length).
const PRELUDE_LEN: u64 = 12;

/// What a `.npy` header declares.
struct NpyHeader {
    descr: String,
    fortran: bool,
    shape: Vec<usize>,
    /// Bytes of data the shape and dtype declare.
    data_bytes: usize,
}

/// The header of the `.npy` array `data` starts with (at most [`MAX_HEADER_BYTES`] read).
fn read_npy_header(data: &mut impl Read) -> Result<NpyHeader, String> {
    let io = |e: std::io::Error| e.to_string();
    let mut head = Vec::new();
    data.take(PRELUDE_LEN - 2)
        .read_to_end(&mut head)
        .map_err(io)?;
    if !head.starts_with(b"\x93NUMPY") || head.len() < 10 {
        return Err("not a .npy array".into());
    }
    if matches!(head[6], 2 | 3) {
        data.take(2).read_to_end(&mut head).map_err(io)?;
    }
    let (header_len, start) = match (head[6], head.get(8..12)) {
        (1, _) => (u64::from(u16::from_le_bytes([head[8], head[9]])), 10),
        (2 | 3, Some(&[a, b, c, d])) => (u64::from(u32::from_le_bytes([a, b, c, d])), 12),
        (v, _) => return Err(format!(".npy version {v}")),
    };
    if header_len > MAX_HEADER_BYTES {
        return Err(format!(
            ".npy header of {header_len} bytes (at most {MAX_HEADER_BYTES})"
        ));
    }
    data.take(header_len).read_to_end(&mut head).map_err(io)?;
    let header = head
        .get(start..)
        .filter(|h| h.len() as u64 == header_len)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or("truncated .npy header")?;
    let descr = field(header, "descr").ok_or("no descr in the .npy header")?;
    let descr = descr.trim_matches(|c| c == '\'' || c == '"');
    let fortran = field(header, "fortran_order").ok_or("no fortran_order")? == "True";
    let shape_text = field(header, "shape").ok_or("no shape in the .npy header")?;
    let shape = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("shape {shape_text}"))
        })
        .collect::<Result<Vec<usize>, String>>()?;
    // The item size is the descr's number (`<f4`: 4); 1 for a descr without one.
    let item_size = descr
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse::<usize>()
        .unwrap_or(1);
    let data_bytes = shape
        .iter()
        .try_fold(item_size, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} too large"))?;
    Ok(NpyHeader {
        descr: descr.to_string(),
        fortran,
        shape,
        data_bytes,
    })
}

/// The array after its header: for `<f4` in C order (the only values used), exactly the bytes
/// the header declares, read through that limit (more is an error, not a cut); for another
/// dtype, only its name (nothing is inflated).
fn read_npy_data(data: &mut impl Read, header: NpyHeader) -> Result<Raw, String> {
    let NpyHeader {
        descr,
        fortran,
        shape,
        data_bytes: bytes,
    } = header;
    let values = if descr == "<f4" && !fortran {
        let mut body = Vec::with_capacity(bytes);
        bounded::read_entry(data, bytes as u64, &mut body).map_err(|e| match e {
            bounded::ReadError::TooLarge { .. } => {
                format!("more than {bytes} bytes of data for shape {shape:?}")
            }
            other => other.to_string(),
        })?;
        if body.len() != bytes {
            return Err(format!("{} bytes of data for shape {shape:?}", body.len()));
        }
        Some(
            body.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    } else {
        None
    };
    let dtype = match descr.as_str() {
        "<f4" if fortran => "F32 in Fortran order".to_string(),
        "<f4" => "F32".to_string(),
        "<f8" => "F64".to_string(),
        "<f2" => "F16".to_string(),
        other => other.to_string(),
    };
    Ok(Raw {
        dtype,
        shape,
        values,
    })
}

/// The text of `'key': value` in a `.npy` header dict (a tuple value kept whole).
fn field<'h>(header: &'h str, key: &str) -> Option<&'h str> {
    let at = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header
        .get(at..)?
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(rest.get(..end)?.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(header: &str, body: &[u8]) -> Vec<u8> {
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(body);
        out
    }

    /// One whole `.npy` array.
    fn parse_npy(mut data: &[u8]) -> Result<Raw, String> {
        let header = read_npy_header(&mut data)?;
        read_npy_data(&mut data, header)
    }

    #[test]
    fn parses_the_npy_header() {
        let body: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let raw = parse_npy(&npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
            &body,
        ))
        .unwrap();
        assert_eq!(raw.shape, [2, 3]);
        assert_eq!(raw.values.unwrap()[5], 6.0);
        let raw = parse_npy(&npy(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
            &body,
        ))
        .unwrap();
        assert_eq!(raw.shape, [6]);
        let raw = parse_npy(&npy(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
            &body,
        ))
        .unwrap();
        assert_eq!((raw.dtype.as_str(), raw.values), ("F64", None));
        assert!(
            parse_npy(&npy(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (7,), }",
                &body
            ))
            .is_err()
        );
        assert!(parse_npy(b"\x93NUMPY\x01\x00\xff\x00{").is_err());
        assert!(parse_npy(b"hello").is_err());
        let huge = "{'descr': '<f4', 'fortran_order': False, 'shape': (18446744073709551615, 2), }";
        assert!(parse_npy(&npy(huge, &body)).is_err());
    }
}
