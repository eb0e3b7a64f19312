//! Encoding and decoding of the quantized file (layout in the parent module's docs).

use super::{HEADER_CRC_AT, HEADER_LEN, Header, Layout, VERSION, encoded_len, parse, verify};
use crate::Error;
use crate::codec::bytes::u32_at;
use crate::codec::format::{MAGIC, crc32};
use crate::codec::vocab::CharVocab;
use crate::model::QRnn;
use crate::model::normalize::Normalization;

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

/// Encodes `q`, its vocabulary, its number of live output `classes` and the Q15 state to start
/// from ([`QRnn::quantize_state`] of the f32 model's stored state; zeros for none) into the
/// start of `out`; returns the bytes written, [`encoded_len::<I, H, O>()`](encoded_len).
///
/// # Errors
/// [`Error::BufferTooSmall`] if `out` is too short, [`Error::InvalidSetting`] if `classes` is
/// not in `1..=O` or `logit_scale` is not finite and positive, [`Error::VocabularyFull`] if the
/// vocabulary has more than `I` characters.
pub fn encode<const I: usize, const H: usize, const O: usize, const N: usize>(
    q: &QRnn<I, H, O>,
    vocab: &CharVocab<N>,
    classes: usize,
    initial_hidden: &[i16; H],
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
    for value in initial_hidden {
        w.put(&value.to_le_bytes());
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

/// Checks a whole quantized file and decodes its vocabulary: what [`super::decode_const`]
/// leaves in the bytes (firmware reads its vocabulary with this).
///
/// # Errors
/// As [`decode`], without [`Error::ShapeMismatch`].
pub fn decode_vocab<const N: usize>(bytes: &[u8]) -> Result<CharVocab<N>, Error> {
    if crate::codec::bytes::u16_at(bytes, 4) == Some(super::VERSION_3) {
        let mut chars = CharVocab::<N>::new();
        super::decode_texts(bytes, &mut chars)?;
        return Ok(chars);
    }
    let (header, logit_scale) = parse(bytes)?;
    verify(&header, logit_scale, bytes)?;
    stored_vocab(bytes, header.vocab_len)
}

/// The stored vocabulary (checked by `verify`): `len` chars.
fn stored_vocab<const N: usize>(bytes: &[u8], len: usize) -> Result<CharVocab<N>, Error> {
    let mut vocab = CharVocab::<N>::new();
    for slot in 0..len {
        let code = u32_at(bytes, HEADER_LEN + 4 * slot).ok_or(Error::Truncated)?;
        vocab.insert(
            char::from_u32(code).ok_or(Error::CorruptModel("vocabulary holds a non-char"))?,
        )?;
    }
    Ok(vocab)
}

/// The little-endian `i32`s at the front of `raw` into `values`; returns the rest of `raw`.
pub(super) const fn i32s_from<'b>(mut raw: &'b [u8], values: &mut [i32]) -> &'b [u8] {
    let mut i = 0;
    while i < values.len() {
        let Some((word, rest)) = raw.split_first_chunk::<4>() else {
            return raw;
        };
        values[i] = i32::from_le_bytes(*word);
        raw = rest;
        i += 1;
    }
    raw
}

/// The bytes at the front of `raw` as `i8`s into `values`; returns the rest of `raw`.
pub(super) const fn i8s_from<'b>(mut raw: &'b [u8], values: &mut [i8]) -> &'b [u8] {
    let mut i = 0;
    while i < values.len() {
        let Some((&byte, rest)) = raw.split_first() else {
            return raw;
        };
        values[i] = byte as i8;
        raw = rest;
        i += 1;
    }
    raw
}

/// Copies the checked numbers of a file (`verify` passed, shape `(I, H, O)`) into `q` and
/// `initial_hidden` (zeros for a version-1 file): the one reader, at compile time
/// ([`super::decode_const`]) and at run time ([`decode`]).
pub(super) const fn read_numbers<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
    layout: &Layout,
    logit_scale: f32,
    q: &mut QRnn<I, H, O>,
    initial_hidden: &mut [i16; H],
) {
    let mut raw = match bytes.split_at_checked(layout.words_at) {
        Some((_, rest)) => rest,
        None => &[],
    };
    raw = i32s_from(raw, &mut q.xh_multiplier);
    raw = i32s_from(raw, &mut q.hh_multiplier);
    raw = i32s_from(raw, &mut q.hy_multiplier);
    raw = i32s_from(raw, &mut q.b_h);
    raw = i32s_from(raw, &mut q.b_y);
    raw = i8s_from(raw, q.w_xh.as_flattened_mut());
    raw = i8s_from(raw, q.w_hh.as_flattened_mut());
    raw = i8s_from(raw, q.w_hy.as_flattened_mut());
    q.logit_scale = logit_scale;
    q.normalization = Normalization::IDENTITY;
    *initial_hidden = [0; H];
    if layout.state_at.is_some() {
        let mut i = 0;
        while i < H {
            let Some((word, rest)) = raw.split_first_chunk::<2>() else {
                return;
            };
            initial_hidden[i] = i16::from_le_bytes(*word);
            raw = rest;
            i += 1;
        }
    }
}

/// Decodes a file written by [`encode`] (or a version-1 file, or a version-3 Elman file) into the caller's `q`, `vocab`
/// and `initial_hidden` (the stored state; zeros for version 1) without allocation. Returns
/// the header (`classes` for generation). On error all three are unchanged.
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
    initial_hidden: &mut [i16; H],
) -> Result<Header, Error> {
    if crate::codec::bytes::u16_at(bytes, 4) == Some(super::VERSION_3) {
        let header = super::read_header(bytes)?;
        if header.vocab_kind != crate::codec::format::VocabKind::Chars {
            return Err(Error::InvalidSetting(
                "not a character model: read it with qformat::decode_contents",
            ));
        }
        return super::decode_contents(bytes, q, vocab, initial_hidden).map(|d| d.header);
    }
    let (header, logit_scale) = parse(bytes)?;
    header.expect_shape::<I, H, O>()?;
    let layout = verify(&header, logit_scale, bytes)?;
    let decoded_vocab = stored_vocab::<N>(bytes, header.vocab_len)?;
    read_numbers(bytes, &layout, logit_scale, q, initial_hidden);
    *vocab = decoded_vocab;
    Ok(header)
}
