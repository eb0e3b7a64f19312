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
//! | 4 | 2 | format version, `u16` ([`VERSION`] = `0x5208`, "Q8" version 2; [`VERSION_1`] = `0x5108` is still read) |
//! | 6 | 2 | flags, `u16`, 0 (reserved) |
//! | 8 | 4 × 5 | `inputs` I, `hidden` H, `outputs` O, live `classes` (`1..=O`), vocabulary length (`0..=I`), `u32` each |
//! | 28 | 4 | `logit_scale`, `f32` (finite, > 0) |
//! | 32 | 4 | CRC-32 of bytes `0..32` |
//! | 36 | 4 × I | vocabulary: one `u32` Unicode scalar value per input id, sorted; unused slots 0 |
//! | 36 + 4·I | 4 × (I + 2·H + 2·O) | `i32`: `xh_multiplier` (I), `hh_multiplier` (H), `hy_multiplier` (O), `b_h` (H), `b_y` (O) |
//! | … | I·H + H·H + O·H | `i8` weights, rows in order: `w_xh`, `w_hh`, `w_hy` |
//! | … | 2 × H | initial hidden state, `i16` Q15 (the f32 file's stored state, rounded; absent in version 1, which starts from zeros) |
//! | end − 4 | 4 | CRC-32 of every byte before it |
//!
//! Decoding checks magic, version, header checksum, shape, length, checksum, then the values;
//! nothing is written to the caller's model, vocabulary or state unless every check passes.
//! [`decode_const`] does the same checks at compile time, for a model kept in flash.
//!
//! ```
//! use micrornn::{CharVocab, QRnn, Rnn, qformat};
//! let vocab = CharVocab::<8>::from_text("hello")?;
//! let mut rnn = Rnn::<8, 16, 8>::ZERO;
//! rnn.b_y[1] = 0.5;
//! rnn.w_hh[2][3] = -0.25;
//! let q = QRnn::quantize(&rnn, None)?;
//!
//! let state = QRnn::<8, 16, 8>::quantize_state(&[0.5f32; 16]);
//!
//! let mut bytes = [0u8; qformat::encoded_len::<8, 16, 8>()];
//! qformat::encode(&q, &vocab, vocab.len(), &state, &mut bytes)?;
//! let mut loaded = QRnn::<8, 16, 8>::ZERO;
//! let mut loaded_vocab = CharVocab::<8>::new();
//! let mut start = [0i16; 16];
//! let header = qformat::decode(&bytes, &mut loaded, &mut loaded_vocab, &mut start)?;
//! assert_eq!((header.hidden, header.classes), (16, 4));
//! assert_eq!((&loaded, start), (&q, [16384; 16]));
//! // The f32 decoder refuses the quantized file cleanly.
//! let mut float = Rnn::<8, 16, 8>::ZERO;
//! assert!(micrornn::format::decode(&bytes, &mut float, &mut loaded_vocab, &mut [0.0; 16]).is_err());
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;
use crate::codec::bytes::{sizes_at, u16_at, u32_at};
use crate::codec::format::{Header, MAGIC, Task, VocabKind, check_magic, checked_header, crc32};

/// The version field of a quantized model file this build writes (distinct from every f32
/// format version): "Q8", version 2, with the initial hidden state.
pub const VERSION: u16 = 0x5208;

/// The first quantized version, still read: no initial hidden state (it starts from zeros).
pub const VERSION_1: u16 = 0x5108;

/// Version 3, written by [`encode_contents`]: any quantized cell ([`QRnn`](crate::QRnn) or
/// [`QGru`](crate::QGru)) with its task, vocabulary kind (dense channels with their
/// normalization too), class names and metadata (layout in the `v3` module's docs).
pub const VERSION_3: u16 = 0x5308;

/// Bytes before the vocabulary.
pub const HEADER_LEN: usize = 36;

/// Offset of the header checksum (it covers bytes `0..HEADER_CRC_AT`).
const HEADER_CRC_AT: usize = 32;

/// Bytes of the encoding of a `QRnn<I, H, O>`, its vocabulary and its initial state.
pub const fn encoded_len<const I: usize, const H: usize, const O: usize>() -> usize {
    HEADER_LEN + 4 * I + 4 * (I + 2 * H + 2 * O) + H * (I + H + O) + 2 * H + 4
}

/// Whether `bytes` start like a quantized model file (magic and version; nothing else checked).
pub fn is_quantized(bytes: &[u8]) -> bool {
    bytes.get(..4) == Some(&MAGIC[..])
        && matches!(u16_at(bytes, 4), Some(VERSION | VERSION_1 | VERSION_3))
}

/// Reads and fully checks the header of a quantized file (magic, version, header checksum,
/// length, whole-file checksum, values) without knowing its type; a version-3 file's texts are
/// checked when read ([`decode_contents`], [`decode_texts`]). The returned [`Header`] is
/// the f32 format's, with `version` = [`VERSION_3`], [`VERSION`] or [`VERSION_1`] (the
/// older two: an Elman language model of characters).
///
/// # Errors
/// [`Error::NotAModel`], [`Error::UnsupportedVersion`], [`Error::Truncated`],
/// [`Error::ChecksumMismatch`] or [`Error::CorruptModel`].
pub const fn read_header(bytes: &[u8]) -> Result<Header, Error> {
    ok!(check_magic(bytes));
    if let Some(VERSION_3) = u16_at(bytes, 4) {
        let (header, scale) = ok!(v3::parse(bytes));
        ok!(v3::verify(&header, scale, bytes));
        return Ok(header);
    }
    let (header, scale) = ok!(parse(bytes));
    ok!(verify(&header, scale, bytes));
    Ok(header)
}

/// Magic, version, header checksum; the header's fields and the logit scale.
const fn parse(bytes: &[u8]) -> Result<(Header, f32), Error> {
    ok!(check_magic(bytes));
    let version = match u16_at(bytes, 4) {
        Some(v @ (VERSION | VERSION_1)) => v,
        Some(other) => return Err(Error::UnsupportedVersion(other)),
        None => return Err(Error::Truncated),
    };
    let header = ok!(checked_header(bytes, HEADER_LEN));
    // Reserved: `encode` writes 0 (found by fuzzing: other flags decoded and were dropped).
    if !matches!(u16_at(header, 6), Some(0)) {
        return Err(Error::CorruptModel("reserved flags are not 0"));
    }
    let (Some([inputs, hidden, outputs, classes, vocab_len]), Some(scale)) =
        (sizes_at::<5>(header, 8), u32_at(header, 28))
    else {
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
        cell: crate::model::CellKind::Elman,
        vocab_bytes: 0,
        class_names_bytes: 0,
        metadata_bytes: 0,
    };
    Ok((header, f32::from_bits(scale)))
}

/// Where the parts of a file start.
struct Layout {
    /// The `i32` multipliers and biases.
    words_at: usize,
    /// The `i8` weights.
    weights_at: usize,
    /// The `i16` initial state (`None` in version 1).
    state_at: Option<usize>,
    /// The whole-file checksum.
    crc_at: usize,
}

/// Offsets of a file's parts (`None` on overflow).
const fn layout(h: &Header) -> Option<Layout> {
    let rows = some!(some!(h.inputs.checked_add(h.hidden)).checked_add(h.outputs));
    let weights = some!(h.hidden.checked_mul(rows));
    let words = some!(some!(rows.checked_add(h.hidden)).checked_add(h.outputs));
    let words_at = some!(HEADER_LEN.checked_add(some!(h.inputs.checked_mul(4))));
    let weights_at = some!(words_at.checked_add(some!(words.checked_mul(4))));
    let state_start = some!(weights_at.checked_add(weights));
    let (state_at, crc_at) = if h.version == VERSION_1 {
        (None, state_start)
    } else {
        let state_bytes = some!(h.hidden.checked_mul(2));
        (
            Some(state_start),
            some!(state_start.checked_add(state_bytes)),
        )
    };
    Some(Layout {
        words_at,
        weights_at,
        state_at,
        crc_at,
    })
}

/// Total length and checksum, then every value: live classes, vocabulary (sorted, distinct
/// chars, unused slots 0), logit scale and weights in `-127..=127`.
const fn verify(header: &Header, logit_scale: f32, bytes: &[u8]) -> Result<Layout, Error> {
    let Some(layout) = layout(header) else {
        return Err(Error::CorruptModel("sizes too large"));
    };
    let Some((covered, rest)) = bytes.split_at_checked(layout.crc_at) else {
        return Err(Error::Truncated);
    };
    match u32_at(rest, 0) {
        Some(crc) if crc == crc32(covered) => {}
        Some(_) => return Err(Error::ChecksumMismatch),
        None => return Err(Error::Truncated),
    }
    if header.classes == 0 || header.classes > header.outputs {
        return Err(Error::CorruptModel("live classes must be in 1..=outputs"));
    }
    if header.vocab_len > header.inputs {
        return Err(Error::CorruptModel("vocabulary longer than the inputs"));
    }
    if !(logit_scale.is_finite() && logit_scale > 0.0) {
        return Err(Error::CorruptModel(
            "logit scale is not finite and positive",
        ));
    }
    ok!(check_vocab(covered, header.inputs, header.vocab_len));
    let Some((_, weights)) = covered.split_at_checked(layout.weights_at) else {
        return Err(Error::Truncated);
    };
    let Some((weights, _)) = weights.split_at_checked(layout.crc_at - layout.weights_at) else {
        return Err(Error::Truncated);
    };
    let weights = match layout.state_at {
        Some(at) => match weights.split_at_checked(at - layout.weights_at) {
            Some((weights, _)) => weights,
            None => return Err(Error::Truncated),
        },
        None => weights,
    };
    ok!(check_weights(weights));
    Ok(layout)
}

/// Every stored weight is in `-127..=127`: the integer kernels are exact for those (see
/// `kernels::int::MAX_COLS`), so a `-128` from another tool is refused.
const fn check_weights(mut weights: &[u8]) -> Result<(), Error> {
    while let Some((&byte, rest)) = weights.split_first() {
        if byte == 0x80 {
            return Err(Error::CorruptModel(
                "a weight is -128 (quantized weights are in -127..=127)",
            ));
        }
        weights = rest;
    }
    Ok(())
}

/// The `inputs` vocabulary slots: `len` sorted, distinct chars, then zeros (what `encode`
/// writes, so a file decodes to one model and re-encodes to its own bytes; found by fuzzing:
/// junk there was accepted and dropped).
const fn check_vocab(bytes: &[u8], inputs: usize, len: usize) -> Result<(), Error> {
    let mut previous = None;
    let mut slot = 0;
    while slot < inputs {
        let Some(code) = u32_at(bytes, HEADER_LEN + 4 * slot) else {
            return Err(Error::Truncated);
        };
        if slot >= len {
            if code != 0 {
                return Err(Error::CorruptModel("an unused vocabulary slot is not 0"));
            }
        } else if char::from_u32(code).is_none() {
            return Err(Error::CorruptModel("vocabulary holds a non-char"));
        } else if let Some(p) = previous
            && p >= code
        {
            return Err(Error::CorruptModel("vocabulary is not sorted"));
        } else {
            previous = Some(code);
        }
        slot += 1;
    }
    Ok(())
}

mod coding;
mod embedded;
mod v3;
pub use coding::{decode, decode_vocab, encode};
pub use embedded::{Embedded, EmbeddedGru, decode_const, decode_gru_const};
pub use v3::{decode_contents, decode_texts, encode_contents, encoded_len as encoded_len_contents};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod v3_tests;
