//! The quantized model file: a [`QRnn`](crate::QRnn) and its vocabulary as bytes, without `std` or a heap,
//! so firmware can `include_bytes!` a model quantized on the host (`micrornn quantize`).
//!
//! The same magic and CRC-32 as the f32 [`format`](crate::format), with its own version number
//! [`VERSION`], so each decoder refuses the other's files cleanly
//! ([`Error::UnsupportedVersion`]). Little-endian throughout; for a `QRnn<I, H, O>` the file is
//! [`encoded_len::<I, H, O>()`](encoded_len) bytes:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `MRNN` |
//! | 4 | 2 | format version, `u16` ([`VERSION`] = `0x5108`, "Q8") |
//! | 6 | 2 | flags, `u16`, 0 (reserved) |
//! | 8 | 4 × 5 | `inputs` I, `hidden` H, `outputs` O, live `classes` (`1..=O`), vocabulary length (`0..=I`), `u32` each |
//! | 28 | 4 | `logit_scale`, `f32` (finite, > 0) |
//! | 32 | 4 | CRC-32 of bytes `0..32` |
//! | 36 | 4 × I | vocabulary: one `u32` Unicode scalar value per input id, sorted; unused slots 0 |
//! | 36 + 4·I | 4 × (I + 2·H + 2·O) | `i32`: `xh_multiplier` (I), `hh_multiplier` (H), `hy_multiplier` (O), `b_h` (H), `b_y` (O) |
//! | … | I·H + H·H + O·H | `i8` weights, rows in order: `w_xh`, `w_hh`, `w_hy` |
//! | end − 4 | 4 | CRC-32 of every byte before it |
//!
//! Decoding checks magic, version, header checksum, shape, length, checksum, then the values;
//! nothing is written to the caller's model or vocabulary unless every check passes.
//!
//! ```
//! use micrornn::{CharVocab, QRnn, Rnn, qformat};
//! let vocab = CharVocab::<8>::from_text("hello")?;
//! let mut rnn = Rnn::<8, 16, 8>::ZERO;
//! rnn.b_y[1] = 0.5;
//! rnn.w_hh[2][3] = -0.25;
//! let q = QRnn::quantize(&rnn, None)?;
//!
//! let mut bytes = [0u8; qformat::encoded_len::<8, 16, 8>()];
//! qformat::encode(&q, &vocab, vocab.len(), &mut bytes)?;
//! let mut loaded = QRnn::<8, 16, 8>::ZERO;
//! let mut loaded_vocab = CharVocab::<8>::new();
//! let header = qformat::decode(&bytes, &mut loaded, &mut loaded_vocab)?;
//! assert_eq!((header.hidden, header.classes), (16, 4));
//! assert_eq!(loaded, q);
//! // The f32 decoder refuses the quantized file cleanly.
//! let mut float = Rnn::<8, 16, 8>::ZERO;
//! assert!(micrornn::format::decode(&bytes, &mut float, &mut loaded_vocab).is_err());
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;
use crate::codec::format::{Header, MAGIC, Task, VocabKind, crc32};

/// The version field of a quantized model file (distinct from every f32 format version).
pub const VERSION: u16 = 0x5108;

/// Bytes before the vocabulary.
pub const HEADER_LEN: usize = 36;

/// Offset of the header checksum (it covers bytes `0..HEADER_CRC_AT`).
const HEADER_CRC_AT: usize = 32;

/// Bytes of the encoding of a `QRnn<I, H, O>` and its vocabulary.
pub const fn encoded_len<const I: usize, const H: usize, const O: usize>() -> usize {
    body_len(I, H, O)
}

/// Header + vocabulary + multipliers and biases + weights + checksum.
const fn body_len(i: usize, h: usize, o: usize) -> usize {
    HEADER_LEN + 4 * i + 4 * (i + 2 * h + 2 * o) + h * (i + h + o) + 4
}

/// Whether `bytes` start like a quantized model file (magic and version; nothing else checked).
pub fn is_quantized(bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&MAGIC[..]) && bytes.get(4..6) == Some(&VERSION.to_le_bytes()[..])
}

/// Reads and fully checks the header of a quantized file (magic, version, header checksum,
/// length, whole-file checksum, values) without knowing its type. The returned [`Header`] is
/// the f32 format's, with `version` = [`VERSION`].
///
/// # Errors
/// [`Error::NotAModel`], [`Error::UnsupportedVersion`], [`Error::Truncated`],
/// [`Error::ChecksumMismatch`] or [`Error::CorruptModel`].
pub fn read_header(bytes: &[u8]) -> Result<Header, Error> {
    let (header, _) = parse(bytes)?;
    verify(&header, bytes)?;
    Ok(header)
}

/// Magic, version, header checksum; the header's fields and the logit scale.
fn parse(bytes: &[u8]) -> Result<(Header, f32), Error> {
    match bytes.get(..MAGIC.len()) {
        Some(magic) if magic == MAGIC => {}
        None if MAGIC.starts_with(bytes) => return Err(Error::Truncated),
        _ => return Err(Error::NotAModel),
    }
    let version = u16::from_le_bytes(array_at(bytes, 4).ok_or(Error::Truncated)?);
    if version != VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    let header = bytes.get(..HEADER_LEN).ok_or(Error::Truncated)?;
    let (covered, stored) = header.split_at(HEADER_CRC_AT);
    if crc32(covered) != u32::from_le_bytes(array_at(stored, 0).ok_or(Error::Truncated)?) {
        return Err(Error::ChecksumMismatch);
    }
    let field = |i: usize| array_at(header, 8 + 4 * i).map(|b| u32::from_le_bytes(b) as usize);
    let (Some(inputs), Some(hidden), Some(outputs), Some(classes), Some(vocab_len), Some(scale)) = (
        field(0),
        field(1),
        field(2),
        field(3),
        field(4),
        array_at(header, 28).map(f32::from_le_bytes),
    ) else {
        return Err(Error::Truncated);
    };
    let header = Header {
        version,
        inputs,
        hidden,
        outputs,
        classes,
        vocab_len,
        task: Task::LanguageModel,
        vocab_kind: VocabKind::Chars,
        vocab_bytes: 0,
        class_names_bytes: 0,
        metadata_bytes: 0,
    };
    Ok((header, scale))
}

/// Bytes of the file a header announces (`None` on overflow).
fn announced_len(h: &Header) -> Option<usize> {
    let rows = h.inputs.checked_add(h.hidden)?.checked_add(h.outputs)?;
    let weights = h.hidden.checked_mul(rows)?;
    let words = rows.checked_add(h.hidden)?.checked_add(h.outputs)?;
    HEADER_LEN
        .checked_add(h.inputs.checked_mul(4)?)?
        .checked_add(words.checked_mul(4)?)?
        .checked_add(weights)?
        .checked_add(4)
}

/// Total length and checksum, then the header's values.
fn verify(header: &Header, bytes: &[u8]) -> Result<(), Error> {
    let len = announced_len(header).ok_or(Error::CorruptModel("sizes too large"))?;
    let body = bytes.get(..len).ok_or(Error::Truncated)?;
    let (covered, stored) = body.split_at(len - 4);
    if crc32(covered) != u32::from_le_bytes(array_at(stored, 0).ok_or(Error::Truncated)?) {
        return Err(Error::ChecksumMismatch);
    }
    if header.classes == 0 || header.classes > header.outputs {
        return Err(Error::CorruptModel("live classes must be in 1..=outputs"));
    }
    if header.vocab_len > header.inputs {
        return Err(Error::CorruptModel("vocabulary longer than the inputs"));
    }
    Ok(())
}

/// `N` bytes starting at `at`, if there are that many.
fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

mod coding;
pub use coding::{decode, encode};

#[cfg(test)]
mod tests;
