//! Rewrites the checksums of fuzzed bytes, so that mutations reach the checks behind them (the
//! CRC-32s would otherwise refuse nearly every input). Knows the version-1 layouts only; for other
//! versions it leaves the bytes as they are (the decoders are then fuzzed through their raw path).
#![allow(dead_code)] // each target uses the half it needs

use micrornn::format::{self, HEADER_LEN};

/// Offset of the model header's checksum (it covers bytes `0..28`).
const HEADER_CRC_AT: usize = 28;

/// Byte offset of the checkpoint's hidden state (magic, version, flags, settings, progress).
pub const CHECKPOINT_FIXED_LEN: usize = 8 + 60 + 52;

/// Reseals a model file in place: the header checksum, then the checksum at the end of the
/// length the header announces (if the bytes are that long).
pub fn model(bytes: &mut [u8]) {
    if bytes.len() < HEADER_LEN {
        return;
    }
    let header_crc = format::crc32(&bytes[..HEADER_CRC_AT]);
    bytes[HEADER_CRC_AT..HEADER_LEN].copy_from_slice(&header_crc.to_le_bytes());
    let Ok(header) = format::Header::read(bytes).or_else(|e| match e {
        micrornn::Error::ChecksumMismatch => header_fields(bytes).ok_or(e),
        other => Err(other),
    }) else {
        return;
    };
    if let Some(len) = header.encoded_len().filter(|&len| len <= bytes.len()) {
        let crc = format::crc32(&bytes[..len - 4]);
        bytes[len - 4..len].copy_from_slice(&crc.to_le_bytes());
    }
}

/// The sizes of a model header whose body checksum does not match (yet).
fn header_fields(bytes: &[u8]) -> Option<format::Header> {
    let field = |i: usize| -> Option<usize> {
        let at = 8 + 4 * i;
        Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    Some(format::Header {
        version: format::VERSION,
        inputs: field(0)?,
        hidden: field(1)?,
        outputs: field(2)?,
        classes: field(3)?,
        vocab_len: field(4)?,
    })
}

/// Reseals a checkpoint in place: its embedded model (found through the stored hidden size and
/// model length), then the checksum of the whole.
pub fn checkpoint(bytes: &mut [u8]) {
    let read_u32 = |bytes: &[u8], at: usize| -> Option<usize> {
        Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?) as usize)
    };
    if let Some(hidden) = read_u32(bytes, 8) {
        let len_at = hidden
            .checked_mul(4)
            .and_then(|h| h.checked_add(CHECKPOINT_FIXED_LEN));
        if let Some(len_at) = len_at
            && let Some(model_len) = read_u32(bytes, len_at)
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
