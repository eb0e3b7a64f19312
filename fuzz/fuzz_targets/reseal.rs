//! Rewrites the checksums of fuzzed bytes, so that mutations reach the checks behind them (the
//! CRC-32s would otherwise refuse nearly every input). Knows the model format's version 2
//! (header CRC at 44 over `0..44`, whole-file CRC at the end of the announced length, Elman or
//! GRU parameters by header byte 30), version 1
//! (header CRC at 28), the quantized format (header CRC at 32; version 3 at 44, its length by the
//! cell in byte 30 and the vocabulary kind in byte 29) and the checkpoint layout (its
//! embedded model, batched or not, and the CRC of the whole). Other versions are left as they
//! are (the decoders are then fuzzed through their raw path).
#![allow(dead_code)] // each target uses the half it needs

use micrornn::format;
use micrornn::qformat;

/// Byte offset of the checkpoint's hidden state (magic, version, flags, settings, progress),
/// before a batched checkpoint's batch size.
pub const CHECKPOINT_FIXED_LEN: usize = 8 + 60 + 52;

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize)
}

/// Parameters of an `(I, H, O)` model of the cell with header code `cell` (0 Elman, 1 GRU: three
/// gates and a second bias).
fn parameters(i: usize, h: usize, o: usize, cell: u8) -> Option<usize> {
    let elman = i
        .checked_mul(h)?
        .checked_add(h.checked_mul(h)?)?
        .checked_add(h)?;
    let recurrent = match cell {
        1 => elman.checked_add(h)?.checked_mul(3)?,
        _ => elman,
    };
    recurrent.checked_add(o.checked_mul(h)?)?.checked_add(o)
}

/// Offset of the header checksum and the announced file length, from the raw fields.
fn layout(bytes: &[u8]) -> Option<(usize, Option<usize>)> {
    if bytes.get(..4)? != format::MAGIC {
        return None;
    }
    let version = u16::from_le_bytes(bytes.get(4..6)?.try_into().ok()?);
    let field = |i: usize| u32_at(bytes, 8 + 4 * i);
    let (i, h, o) = (field(0)?, field(1)?, field(2)?);
    match version {
        1 => {
            let len = (|| {
                32usize
                    .checked_add(i.checked_mul(4)?)?
                    .checked_add(parameters(i, h, o, 0)?.checked_mul(4)?)?
                    .checked_add(4)
            })();
            Some((28, len))
        }
        2 => {
            let len = (|| {
                format::HEADER_LEN
                    .checked_add(h.checked_mul(4)?)?
                    .checked_add(parameters(i, h, o, *bytes.get(30)?)?.checked_mul(4)?)?
                    .checked_add(u32_at(bytes, 32)?)?
                    .checked_add(u32_at(bytes, 36)?)?
                    .checked_add(u32_at(bytes, 40)?)?
                    .checked_add(4)
            })();
            Some((44, len))
        }
        qformat::VERSION => {
            let len = (|| {
                let rows = i.checked_add(h)?.checked_add(o)?;
                let words = rows.checked_add(h)?.checked_add(o)?;
                qformat::HEADER_LEN
                    .checked_add(i.checked_mul(4)?)?
                    .checked_add(words.checked_mul(4)?)?
                    .checked_add(h.checked_mul(rows)?)?
                    .checked_add(4)
            })();
            Some((32, len))
        }
        qformat::VERSION_3 => {
            let len = (|| {
                let (words, weights) = match *bytes.get(30)? {
                    1 => (
                        h.checked_mul(12)?.checked_add(o.checked_mul(2)?)?,
                        h.checked_mul(3)?
                            .checked_mul(i.checked_add(h)?)?
                            .checked_add(o.checked_mul(h)?)?,
                    ),
                    _ => (
                        i.checked_add(h.checked_mul(2)?)?
                            .checked_add(o.checked_mul(2)?)?,
                        h.checked_mul(i.checked_add(h)?.checked_add(o)?)?,
                    ),
                };
                let normalization = if *bytes.get(29)? == 2 {
                    i.checked_mul(8)?
                } else {
                    0
                };
                (format::HEADER_LEN + 4)
                    .checked_add(h.checked_mul(2)?)?
                    .checked_add(words.checked_mul(4)?)?
                    .checked_add(weights)?
                    .checked_add(normalization)?
                    .checked_add(u32_at(bytes, 32)?)?
                    .checked_add(u32_at(bytes, 36)?)?
                    .checked_add(u32_at(bytes, 40)?)?
                    .checked_add(4)
            })();
            Some((44, len))
        }
        _ => None,
    }
}

/// Reseals a model file (either f32 version, or quantized) in place: the header checksum, then
/// the checksum at the end of the length the header announces (if the bytes are that long).
pub fn model(bytes: &mut [u8]) {
    let Some((header_crc_at, len)) = layout(bytes) else {
        return;
    };
    if bytes.len() < header_crc_at + 4 {
        return;
    }
    let header_crc = format::crc32(&bytes[..header_crc_at]);
    bytes[header_crc_at..header_crc_at + 4].copy_from_slice(&header_crc.to_le_bytes());
    if let Some(len) = len.filter(|&len| len >= header_crc_at + 8 && len <= bytes.len()) {
        let crc = format::crc32(&bytes[..len - 4]);
        bytes[len - 4..len].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Reseals a checkpoint in place: its embedded model (found through the flags, the stored hidden
/// size and the model length), then the checksum of the whole.
pub fn checkpoint(bytes: &mut [u8]) {
    let batched = bytes.get(6).is_some_and(|flags| flags & 1 == 1);
    let hidden_at = CHECKPOINT_FIXED_LEN + if batched { 4 } else { 0 };
    if let Some(hidden) = u32_at(bytes, 8) {
        let len_at = hidden.checked_mul(4).and_then(|h| h.checked_add(hidden_at));
        if let Some(len_at) = len_at
            && let Some(model_len) = u32_at(bytes, len_at)
            && let Some(model) = bytes
                .get_mut(len_at + 4..)
                .and_then(|rest| rest.get_mut(..model_len))
        {
            self::model(model);
        }
    }
    if bytes.len() >= 4 {
        let end = bytes.len() - 4;
        let crc = format::crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }
}
