//! Encoding and decoding of the quantized file (layout in the parent module's docs).

use super::{HEADER_CRC_AT, HEADER_LEN, Header, VERSION, array_at, encoded_len, parse, verify};
use crate::Error;
use crate::codec::format::{MAGIC, crc32};
use crate::codec::vocab::CharVocab;
use crate::model::QRnn;

/// Sequential writes into a buffer whose length was checked up front.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.at..self.at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.at += bytes.len();
    }
}

/// Encodes `q`, its vocabulary and its number of live output `classes` into the start of `out`;
/// returns the bytes written, [`encoded_len::<I, H, O>()`](encoded_len).
///
/// # Errors
/// [`Error::BufferTooSmall`] if `out` is too short, [`Error::InvalidSetting`] if `classes` is
/// not in `1..=O` or `logit_scale` is not finite and positive, [`Error::VocabularyFull`] if the
/// vocabulary has more than `I` characters.
pub fn encode<const I: usize, const H: usize, const O: usize, const N: usize>(
    q: &QRnn<I, H, O>,
    vocab: &CharVocab<N>,
    classes: usize,
    out: &mut [u8],
) -> Result<usize, Error> {
    let len = encoded_len::<I, H, O>();
    let out = out
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { needed: len })?;
    crate::model::Classes::<O>::new(classes)?;
    if !(q.logit_scale.is_finite() && q.logit_scale > 0.0) {
        return Err(Error::InvalidSetting(
            "logit_scale must be finite and positive",
        ));
    }
    if vocab.len() > I {
        return Err(Error::VocabularyFull { capacity: I });
    }
    let mut w = Writer { out, at: 0 };
    w.put(&MAGIC);
    w.put(&VERSION.to_le_bytes());
    w.put(&0u16.to_le_bytes());
    for size in [I, H, O, classes, vocab.len()] {
        w.put(&(size as u32).to_le_bytes());
    }
    w.put(&q.logit_scale.to_le_bytes());
    let header_crc = crc32(w.out.get(..HEADER_CRC_AT).unwrap_or_default());
    w.put(&header_crc.to_le_bytes());
    let mut chars = vocab.chars().iter().map(|&c| u32::from(c));
    for _ in 0..I {
        w.put(&chars.next().unwrap_or(0).to_le_bytes());
    }
    for words in words(q) {
        for value in words {
            w.put(&value.to_le_bytes());
        }
    }
    for weights in weights(q) {
        for &value in weights {
            w.put(&[value as u8]);
        }
    }
    let crc = crc32(w.out.get(..len - 4).unwrap_or_default());
    w.put(&crc.to_le_bytes());
    Ok(w.at)
}

/// The `i32` tensors in file order.
fn words<const I: usize, const H: usize, const O: usize>(q: &QRnn<I, H, O>) -> [&[i32]; 5] {
    [
        &q.xh_multiplier,
        &q.hh_multiplier,
        &q.hy_multiplier,
        &q.b_h,
        &q.b_y,
    ]
}

/// The `i8` tensors in file order.
fn weights<const I: usize, const H: usize, const O: usize>(q: &QRnn<I, H, O>) -> [&[i8]; 3] {
    [
        q.w_xh.as_flattened(),
        q.w_hh.as_flattened(),
        q.w_hy.as_flattened(),
    ]
}

/// The stored vocabulary: `vocab_len` sorted, distinct chars.
fn decode_vocab<const N: usize>(raw: &[u8], len: usize) -> Result<CharVocab<N>, Error> {
    let mut vocab = CharVocab::<N>::new();
    let mut previous = None;
    for code in raw.chunks_exact(4).take(len) {
        let code = u32::from_le_bytes(array_at(code, 0).ok_or(Error::Truncated)?);
        let c = char::from_u32(code).ok_or(Error::CorruptModel("vocabulary holds a non-char"))?;
        if previous.is_some_and(|p| p >= c) {
            return Err(Error::CorruptModel("vocabulary is not sorted"));
        }
        previous = Some(c);
        vocab.insert(c)?;
    }
    // Slots past the vocabulary are 0 (what `encode` writes), so a file decodes to one model
    // and re-encodes to its own bytes (found by fuzzing: junk there was accepted and dropped).
    if raw.chunks_exact(4).skip(len).any(|slot| slot != [0; 4]) {
        return Err(Error::CorruptModel("an unused vocabulary slot is not 0"));
    }
    Ok(vocab)
}

/// Decodes a file written by [`encode`] into the caller's `q` and `vocab` (no allocation).
/// Returns the header (`classes` for [`QRnn::next_greedy`]). On error both are unchanged.
///
/// # Errors
/// [`Error::NotAModel`], [`Error::UnsupportedVersion`] (an f32 model file, or another
/// version), [`Error::ShapeMismatch`], [`Error::Truncated`], [`Error::ChecksumMismatch`],
/// [`Error::VocabularyFull`], or [`Error::CorruptModel`] for impossible values with valid
/// checksums.
pub fn decode<const I: usize, const H: usize, const O: usize, const N: usize>(
    bytes: &[u8],
    q: &mut QRnn<I, H, O>,
    vocab: &mut CharVocab<N>,
) -> Result<Header, Error> {
    let (header, logit_scale) = parse(bytes)?;
    let found = (header.inputs, header.hidden, header.outputs);
    if found != (I, H, O) {
        return Err(Error::ShapeMismatch {
            found,
            expected: (I, H, O),
        });
    }
    verify(&header, bytes)?;
    if !(logit_scale.is_finite() && logit_scale > 0.0) {
        return Err(Error::CorruptModel(
            "logit scale is not finite and positive",
        ));
    }
    let vocab_end = HEADER_LEN + 4 * I;
    let raw_vocab = bytes.get(HEADER_LEN..vocab_end).ok_or(Error::Truncated)?;
    let decoded_vocab = decode_vocab::<N>(raw_vocab, header.vocab_len)?;
    let words_end = vocab_end + 4 * (I + 2 * H + 2 * O);
    let mut raw_words = bytes
        .get(vocab_end..words_end)
        .ok_or(Error::Truncated)?
        .chunks_exact(4);
    let raw_weights = bytes
        .get(words_end..encoded_len::<I, H, O>() - 4)
        .ok_or(Error::Truncated)?;
    if raw_weights.contains(&0x80) {
        // the integer kernels are exact for weights in -127..=127 (see kernels::int::MAX_COLS)
        return Err(Error::CorruptModel(
            "a weight is -128 (quantized weights are in -127..=127)",
        ));
    }
    let mut raw_weights = raw_weights.iter();
    let mut next_word = || {
        raw_words
            .next()
            .and_then(|b| array_at(b, 0))
            .map(i32::from_le_bytes)
    };
    for tensor in [
        &mut q.xh_multiplier[..],
        &mut q.hh_multiplier[..],
        &mut q.hy_multiplier[..],
        &mut q.b_h[..],
        &mut q.b_y[..],
    ] {
        for slot in tensor {
            *slot = next_word().ok_or(Error::Truncated)?;
        }
    }
    for tensor in [
        q.w_xh.as_flattened_mut(),
        q.w_hh.as_flattened_mut(),
        q.w_hy.as_flattened_mut(),
    ] {
        for slot in tensor {
            *slot = *raw_weights.next().ok_or(Error::Truncated)? as i8;
        }
    }
    q.logit_scale = logit_scale;
    *vocab = decoded_vocab;
    Ok(header)
}
