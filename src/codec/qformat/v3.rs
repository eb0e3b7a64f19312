//! Version 3 of the quantized file ([`VERSION_3`]): any quantized cell ([`QTensors`]: the
//! Elman [`QRnn`](crate::QRnn) and the [`QGru`]) with what the f32 file says about it — cell,
//! task, vocabulary kind (characters, words, or dense channels with their normalization), class
//! names and metadata.
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 48 | the f32 file's version-2 header ([`crate::format`]) with version [`VERSION_3`]: sizes, task, vocabulary kind, cell, text lengths, header CRC |
//! | 48 | 4 | `logit_scale`, `f32` (finite, > 0) |
//! | 52 | 2 × H | initial hidden state, `i16` Q15 |
//! | 52 + 2·H | 4 × words | the cell's `i32` tensors in [`QTensors`] order: Elman `xh_multiplier` (I), `hh_multiplier` (H), `hy_multiplier` (O), `b_h` (H), `b_y` (O); GRU `x_multiplier` (3H), `h_multiplier` (3H), `hy_multiplier` (O), `b_x` (3H), `b_h` (3H), `b_y` (O) |
//! | … | weights | `i8` in `-127..=127`: Elman `w_xh` (I × H), `w_hh` (H × H), `w_hy` (O × H); GRU `w_x` (3H × I), `w_h` (3H × H), `w_hy` (O × H) |
//! | … | 8 × I | dense inputs only: the normalization, `f32` means then standard deviations (as the f32 file) |
//! | … | texts | vocabulary, class names, metadata (as the f32 file) |
//! | end − 4 | 4 | CRC-32 of every byte before it |

use super::VERSION_3;
use super::check_weights;
use super::coding::{i8s_from, i32s_from};
use crate::Error;
use crate::codec::bytes::{ByteWriter, u16_at, u32_at};
use crate::codec::format::{
    Contents, Decoded, HEADER_LEN, Header, Layout, check_magic, check_normalization, crc32,
    decoded_texts, put_header, put_normalization, put_texts, read_normalization,
};
use crate::codec::vocab::CharVocab;
use crate::model::CellKind;
use crate::model::normalize::Normalization;
use crate::model::quant::QTensors;
use crate::model::quant::quantize::quantize_state;

/// Offset of the logit scale.
const SCALE_AT: usize = HEADER_LEN;
/// Offset of the initial state.
const STATE_AT: usize = SCALE_AT + 4;

/// `(i32 words, i8 weights)` of a quantized `kind` cell with `i` inputs, `h` hidden units and
/// `o` outputs (`None` on overflow).
const fn counts(kind: CellKind, i: usize, h: usize, o: usize) -> Option<(usize, usize)> {
    let readout_words = some!(o.checked_mul(2));
    let readout_weights = some!(o.checked_mul(h));
    match kind {
        CellKind::Elman => {
            let words =
                some!(some!(i.checked_add(some!(h.checked_mul(2)))).checked_add(readout_words));
            let rows = some!(some!(i.checked_add(h)).checked_add(o));
            Some((words, some!(h.checked_mul(rows))))
        }
        CellKind::Gru => {
            let words = some!(some!(h.checked_mul(12)).checked_add(readout_words));
            let gate_rows = some!(h.checked_mul(3));
            let weights = some!(gate_rows.checked_mul(some!(i.checked_add(h))));
            Some((words, some!(weights.checked_add(readout_weights))))
        }
    }
}

/// Where the parts of a version-3 file start (`parameters_at` is the words, the weights follow
/// them); `None` on overflow.
pub(super) const fn layout(h: &Header) -> Option<Layout> {
    let (words, weights) = some!(counts(h.cell, h.inputs, h.hidden, h.outputs));
    let words_at = some!(STATE_AT.checked_add(some!(h.hidden.checked_mul(2))));
    let weights_end =
        some!(some!(words_at.checked_add(some!(words.checked_mul(4)))).checked_add(weights));
    Layout::ending(h, Some(STATE_AT), words_at, weights_end)
}

/// The header of a version-3 file (checksum checked) and its logit scale.
pub(super) const fn parse(bytes: &[u8]) -> Result<(Header, f32), Error> {
    ok!(check_magic(bytes));
    match u16_at(bytes, 4) {
        Some(VERSION_3) => {}
        Some(other) => return Err(Error::UnsupportedVersion(other)),
        None => return Err(Error::Truncated),
    }
    let header = ok!(Header::parse_fields(bytes, VERSION_3));
    let Some(scale) = u32_at(bytes, SCALE_AT) else {
        return Err(Error::Truncated);
    };
    Ok((header, f32::from_bits(scale)))
}

/// Length, checksum, and every number: classes, vocabulary length, logit scale, weights in
/// `-127..=127`, the normalization. (The texts are checked by [`decode_contents`].)
pub(super) const fn verify(
    header: &Header,
    logit_scale: f32,
    bytes: &[u8],
) -> Result<Layout, Error> {
    let Some(layout) = layout(header) else {
        return Err(Error::CorruptModel("sizes too large"));
    };
    let body = ok!(header.check_body(bytes, &layout));
    if !(logit_scale.is_finite() && logit_scale > 0.0) {
        return Err(Error::CorruptModel(
            "logit scale is not finite and positive",
        ));
    }
    let Some((words, _)) = counts(header.cell, header.inputs, header.hidden, header.outputs) else {
        return Err(Error::CorruptModel("sizes too large"));
    };
    // The weights end where the normalization or the texts begin.
    let weights_end = match layout.normalization_at {
        Some(at) => at,
        None => layout.texts_at,
    };
    let Some((before, _)) = body.split_at_checked(weights_end) else {
        return Err(Error::Truncated);
    };
    let Some((_, weights)) = before.split_at_checked(layout.parameters_at + 4 * words) else {
        return Err(Error::Truncated);
    };
    ok!(check_weights(weights));
    let mut at = STATE_AT;
    while at < layout.parameters_at {
        if matches!(crate::codec::bytes::u16_at(body, at), Some(0x8000)) {
            return Err(Error::CorruptModel(
                "an initial state value is -32768 (Q15 states are in -32767..=32767)",
            ));
        }
        at += 2;
    }
    if let Some(at) = layout.normalization_at {
        ok!(check_normalization(body, header, at));
    }
    Ok(layout)
}

/// The checked numbers of a file into `state`, `words` and `weights` (each tensor filled in file
/// order): the compile-time reader (the run-time one walks [`QTensors`] the same way).
pub(super) const fn read_numbers(
    bytes: &[u8],
    layout: &Layout,
    words: &mut [&mut [i32]],
    weights: &mut [&mut [i8]],
    state: &mut [i16],
) {
    let mut raw = match bytes.split_at_checked(STATE_AT) {
        Some((_, rest)) => rest,
        None => &[],
    };
    let mut i = 0;
    while i < state.len() {
        let Some((word, rest)) = raw.split_first_chunk::<2>() else {
            return;
        };
        state[i] = i16::from_le_bytes(*word);
        raw = rest;
        i += 1;
    }
    if let Some((_, rest)) = bytes.split_at_checked(layout.parameters_at) {
        raw = rest;
    }
    let mut t = 0;
    while t < words.len() {
        raw = i32s_from(raw, words[t]);
        t += 1;
    }
    let mut t = 0;
    while t < weights.len() {
        raw = i8s_from(raw, weights[t]);
        t += 1;
    }
}

/// Bytes of the version-3 encoding of a quantized cell `M` with `contents`.
pub fn encoded_len<M: QTensors<I>, const I: usize, const H: usize>(
    contents: &Contents<'_, H>,
) -> usize {
    let Some((words, weights)) = counts(M::KIND, I, M::HIDDEN, M::OUTPUTS) else {
        return usize::MAX; // no buffer holds it: encode_contents says BufferTooSmall
    };
    STATE_AT
        + 2 * H
        + 4 * words
        + weights
        + contents.normalization_len(I)
        + contents.vocab_text_len().1
        + crate::codec::format::joined_len(contents.class_names)
        + contents.metadata.len()
        + 4
}

/// Encodes a quantized cell (its kind goes in the header) with `contents` — task, vocabulary
/// (for dense inputs the normalization, which must be the model's own), class names, metadata,
/// and the f32 initial state, stored rounded to Q15 — as version 3. Returns the bytes written,
/// [`encoded_len`]; the bytes are decoded back before this returns.
///
/// # Errors
/// [`Error::BufferTooSmall`], [`Error::VocabularyFull`], [`Error::ShapeMismatch`] if `H` is
/// not the model's hidden size, [`Error::InvalidSetting`] for classes outside `1..=O`, a dense
/// vocabulary for a model without dense input or with another
/// normalization, or contents the decoder would refuse.
pub fn encode_contents<M: QTensors<I>, const I: usize, const H: usize>(
    model: &M,
    contents: &Contents<'_, H>,
    out: &mut [u8],
) -> Result<usize, Error> {
    if H != M::HIDDEN {
        return Err(Error::ShapeMismatch {
            found: (I, H, M::OUTPUTS),
            expected: (I, M::HIDDEN, M::OUTPUTS),
        });
    }
    let len = encoded_len::<M, I, H>(contents);
    let out = out
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { needed: len })?;
    if contents.classes == 0 || contents.classes > M::OUTPUTS {
        return Err(Error::InvalidSetting("classes must be in 1..=outputs"));
    }
    let (vocab_len, _) = contents.vocab_text_len();
    if vocab_len > I {
        return Err(Error::VocabularyFull { capacity: I });
    }
    if let crate::format::Vocabulary::Dense { mean, std, .. } = contents.vocab {
        let own = model.normalization();
        let same = |file: &[f32], model: &[f32]| model.get(..file.len()) == Some(file);
        if !same(mean, &own.mean) || !same(std, &own.std) {
            return Err(Error::InvalidSetting(
                "the file's normalization is not the model's",
            ));
        }
    }
    let mut w = ByteWriter::new(out);
    put_header(&mut w, VERSION_3, [I, H, M::OUTPUTS], M::KIND, contents)?;
    w.put_f32(model.logit_scale())?;
    let state = quantize_state(contents.initial_hidden.unwrap_or(&[0.0; H]));
    for value in state {
        w.put(&value.to_le_bytes())?;
    }
    for index in 0..M::WORD_TENSORS {
        for value in model.words(index) {
            w.put(&value.to_le_bytes())?;
        }
    }
    for index in 0..M::WEIGHT_TENSORS {
        for &value in model.weights(index) {
            w.put_u8(value as u8)?;
        }
    }
    put_normalization::<I, H>(&mut w, contents)?;
    put_texts(&mut w, contents)?;
    w.put_u32(crc32(w.written()))?;
    let written = w.position();
    // The vocabulary fits `I` (checked above), so `CharVocab<I>` holds a char vocabulary.
    decode_texts(out, &mut CharVocab::<I>::new()).map_err(|e| match e {
        Error::CorruptModel(what) => Error::InvalidSetting(what),
        other => other,
    })?;
    Ok(written)
}

/// Decodes a version-3 file into the caller's quantized cell `model` (its normalization too, for
/// a dense GRU), character vocabulary `chars` (empty unless the vocabulary is characters) and
/// `initial_hidden`; returns the header and the texts, borrowed from `bytes`. On error nothing
/// is written.
///
/// # Errors
/// [`Error::NotAModel`], [`Error::UnsupportedVersion`] (versions 1 and 2 hold a
/// [`QRnn`](crate::QRnn): read them with [`super::decode`]), [`Error::CellMismatch`],
/// [`Error::ShapeMismatch`], [`Error::Truncated`], [`Error::ChecksumMismatch`],
/// [`Error::VocabularyFull`], [`Error::CorruptModel`].
pub fn decode_contents<'b, M: QTensors<I>, const I: usize, const H: usize, const N: usize>(
    bytes: &'b [u8],
    model: &mut M,
    chars: &mut CharVocab<N>,
    initial_hidden: &mut [i16; H],
) -> Result<Decoded<'b>, Error> {
    let (header, logit_scale) = parse(bytes)?;
    header.expect_cell(M::KIND)?;
    let found = (header.inputs, header.hidden, header.outputs);
    if found != (I, M::HIDDEN, M::OUTPUTS) || H != M::HIDDEN {
        return Err(Error::ShapeMismatch {
            found,
            expected: (I, M::HIDDEN, M::OUTPUTS),
        });
    }
    let layout = verify(&header, logit_scale, bytes)?;
    let normalization: Normalization<I> = read_normalization(bytes, &layout);
    let body = bytes.get(..layout.len).ok_or(Error::Truncated)?;
    let sections = header.sections(body, layout)?;
    let (decoded, layout, decoded_chars) = decoded_texts::<N>(header, bytes, sections)?;
    let mut state = [0i16; H];
    read_numbers(bytes, &layout, &mut [], &mut [], &mut state);
    // The tensors in file order, after the state (the run-time twin of `read_numbers`).
    let mut raw = bytes
        .get(layout.parameters_at..layout.len)
        .ok_or(Error::Truncated)?;
    for index in 0..M::WORD_TENSORS {
        raw = i32s_from(raw, model.words_mut(index));
    }
    for index in 0..M::WEIGHT_TENSORS {
        raw = i8s_from(raw, model.weights_mut(index));
    }
    model.set_logit_scale(logit_scale);
    model.set_normalization(&normalization);
    *initial_hidden = state;
    *chars = decoded_chars;
    Ok(decoded)
}

/// Checks a whole version-3 file and decodes what [`super::decode_gru_const`] leaves in the
/// bytes: the character vocabulary into `chars` (unchanged on error) and the texts (channels,
/// class names, normalization, metadata).
///
/// # Errors
/// As [`decode_contents`], without [`Error::ShapeMismatch`] and [`Error::CellMismatch`].
pub fn decode_texts<'b, const N: usize>(
    bytes: &'b [u8],
    chars: &mut CharVocab<N>,
) -> Result<Decoded<'b>, Error> {
    let header = super::read_header(bytes)?;
    if header.version != VERSION_3 {
        return Err(Error::UnsupportedVersion(header.version));
    }
    let layout = layout(&header).ok_or(Error::CorruptModel("sizes too large"))?;
    let body = bytes.get(..layout.len).ok_or(Error::Truncated)?;
    let sections = header.sections(body, layout)?;
    let (decoded, _, decoded_chars) = decoded_texts::<N>(header, bytes, sections)?;
    *chars = decoded_chars;
    Ok(decoded)
}
