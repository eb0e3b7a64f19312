//! numpy `.npz` archives (what `numpy.savez` and Keras-to-numpy scripts write): a zip of `.npy`
//! files, read with the `zip` crate; the `.npy` header (`{'descr': '<f4', 'fortran_order':
//! False, 'shape': (20, 32), }`) is parsed here. Only little-endian `f32` (`<f4`) in C order
//! gives values; other dtypes are reported by name so the importer can say what it expected.

use super::weights::{Raw, Table, WeightsError};
use std::io::{Cursor, Read};

/// The arrays of an `.npz`, by name (the entry name without `.npy`).
///
/// # Errors
/// A [`WeightsError`] for a damaged archive or an entry that is not a `.npy` array.
pub(super) fn read(bytes: &[u8]) -> Result<Table, WeightsError> {
    let bad = |what: String| WeightsError(format!("not a valid .npz file ({what})"));
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let mut table = Table::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| bad(e.to_string()))?;
        let name = entry.name().trim_end_matches(".npy").to_string();
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("{name}: {e}")))?;
        let raw = parse_npy(&data).map_err(|e| bad(format!("{name}: {e}")))?;
        table.insert(name, raw);
    }
    Ok(table)
}

/// One `.npy` array.
fn parse_npy(data: &[u8]) -> Result<Raw, String> {
    if !data.starts_with(b"\x93NUMPY") || data.len() < 10 {
        return Err("not a .npy array".into());
    }
    let (header_len, start) = match data[6] {
        1 => (usize::from(u16::from_le_bytes([data[8], data[9]])), 10),
        2 | 3 if data.len() >= 12 => (
            u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize,
            12,
        ),
        v => return Err(format!(".npy version {v}")),
    };
    let header = data
        .get(start..start + header_len)
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
    let body = &data[start + header_len..];
    let bytes = shape
        .iter()
        .try_fold(4usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| format!("shape {shape:?} too large"))?;
    let values = if descr == "<f4" && !fortran {
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
    let dtype = match descr {
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
