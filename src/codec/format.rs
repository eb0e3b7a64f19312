//! The model file format: a trained [`Rnn`], the state it starts from, its vocabulary, its task
//! and its training settings as bytes, without `std` or a heap, so firmware can `include_bytes!`
//! a model trained on the host and decode it into `static`s, reading words, class names and
//! metadata as `&str` slices of those bytes.
//!
//! All integers and floats are little-endian. Version 2 ([`VERSION`], written by this build):
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `MRNN` ([`MAGIC`]) |
//! | 4 | 2 | format version, `u16` (2) |
//! | 6 | 2 | flags, `u16`, 0 (reserved) |
//! | 8 | 4 × 5 | `inputs` I, `hidden` H, `outputs` O, live `classes` (`1..=O`), vocabulary entries (`0..=I`), `u32` each |
//! | 28 | 1 | task ([`Task`]): 0 language model, 1 many-to-one classifier |
//! | 29 | 1 | vocabulary kind ([`VocabKind`]): 0 characters, 1 words, 2 dense input channels (sensor samples) |
//! | 30 | 1 | cell ([`CellKind`]): 0 Elman ([`Rnn`]), 1 GRU ([`Gru`](crate::Gru)); files written before the GRU have 0 here |
//! | 31 | 1 | reserved, 0 |
//! | 32 | 4 × 3 | bytes of the vocabulary, class-name and metadata texts, `u32` each |
//! | 44 | 4 | CRC-32 of bytes `0..44` (so a damaged size is caught before it is trusted) |
//! | 48 | 4 × H | initial hidden state, `f32` (the carried state at the end of training; zeros for none) |
//! | 48 + 4·H | 4 × parameters | `f32` tensors in the order of the cell's [`Params::TENSORS`]: for Elman `w_xh` (I rows of H), `w_hh` (H × H), `b_h`, `w_hy` (O rows of H), `b_y`; for a GRU `w_xh` (I rows of 3H), `w_hh` (3H × H), `b_xh` (3H), `b_hh` (3H), `w_hy`, `b_y` |
//! | … | 8 × I | dense inputs only ([`VocabKind::Dense`]): the input [`Normalization`], `f32` mean of each input then its standard deviation (inputs past the channels: 0 and 1) |
//! | … | vocabulary bytes | UTF-8: the characters, sorted, one after the other; or the words, sorted, separated by `\n` (a symbol's id is its index); or the channel names, in input order, separated by `\n` |
//! | … | class-name bytes | UTF-8, `\n`-separated: one name per class for a classifier; empty for a language model |
//! | … | metadata bytes | UTF-8 `key=value` lines separated by `\n` (the training settings), free-form |
//! | end − 4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! Version 1 files (no initial state, characters only; layout in the `v1` module's docs) still
//! decode: they start from the zero state and have no class names or metadata.
//!
//! Decoding checks, in order: magic ([`Error::NotAModel`]), version
//! ([`Error::UnsupportedVersion`]), header length and header checksum ([`Error::Truncated`],
//! [`Error::ChecksumMismatch`]), shape ([`Error::ShapeMismatch`]), total length
//! ([`Error::Truncated`]), checksum ([`Error::ChecksumMismatch`]) and finally the content
//! ([`Error::CorruptModel`]: codes, sizes, UTF-8, sorted vocabulary, one name per class,
//! `key=value` metadata, finite parameters, a hidden state in `[-1, 1]`, a finite normalization
//! with positive standard deviations). Nothing is written to
//! the caller's buffers unless every check passes. Bytes after the announced length are ignored,
//! so a model can be decoded from a larger buffer (a flash region, say).
//!
//! ```
//! use micrornn::{CharVocab, Rnn, format};
//! let vocab = CharVocab::<8>::from_text("hello")?;
//! let mut model = Rnn::<8, 16, 8>::ZERO;
//! model.b_y[1] = 0.5;
//! let hidden = [0.25f32; 16];
//! let contents = format::Contents {
//!     initial_hidden: Some(&hidden),
//!     metadata: "lr=0.1\nseed=42",
//!     ..format::Contents::language_model(vocab.chars(), vocab.len())
//! };
//!
//! let mut bytes = [0u8; 4096];
//! let written = format::encode_contents(&model, &contents, &mut bytes)?;
//! assert_eq!(written, format::encoded_len::<Rnn<8, 16, 8>, _>(&contents));
//!
//! let (mut loaded, mut loaded_vocab, mut start) = (Rnn::<8, 16, 8>::ZERO, CharVocab::<8>::new(), [0.0; 16]);
//! let decoded = format::decode_contents(&bytes, &mut loaded, &mut loaded_vocab, &mut start)?;
//! assert_eq!((decoded.header.hidden, decoded.header.classes), (16, 4));
//! assert_eq!((&loaded, &loaded_vocab, start), (&model, &vocab, hidden));
//! assert_eq!(decoded.metadata.get("seed"), Some("42"));
//!
//! // A damaged byte is refused, and the wrong shape too.
//! bytes[100] ^= 1;
//! assert_eq!(format::decode(&bytes, &mut loaded, &mut loaded_vocab, &mut start), Err(micrornn::Error::ChecksumMismatch));
//! let mut other = Rnn::<8, 32, 8>::ZERO;
//! assert!(format::decode(&bytes, &mut other, &mut loaded_vocab, &mut [0.0; 32]).is_err());
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;
use crate::codec::bytes::{ByteReader, ByteWriter, array_at, f32s_from, sizes_at, u16_at, u32_at};
use crate::codec::vocab::CharVocab;
use crate::model::normalize::Normalization;
use crate::model::{Cell, CellKind, Params, Rnn};

mod crc;
mod embedded;
#[cfg(test)]
mod tests;
mod text;
mod v1;

pub use crc::{crc32, crc32_update};
pub use embedded::{Embedded, EmbeddedGru, decode_const, decode_gru_const};
pub use text::{Metadata, TextList};

/// The first four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"MRNN";

/// The format version this build writes (it reads this one and version 1).
pub const VERSION: u16 = 2;

/// Bytes before the initial hidden state: magic, version, flags, sizes, codes and the header
/// checksum.
pub const HEADER_LEN: usize = 48;

/// What a model does with its outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Predicts the next symbol of a sequence at every step (a char-rnn).
    LanguageModel,
    /// Reads a whole sequence and names its class after the last step (many-to-one).
    Classifier,
}

impl Task {
    const fn code(self) -> u8 {
        match self {
            Task::LanguageModel => 0,
            Task::Classifier => 1,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Task::LanguageModel),
            1 => Some(Task::Classifier),
            _ => None,
        }
    }
}

/// What the symbols of the vocabulary are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VocabKind {
    /// Unicode scalar values (decoded into a [`CharVocab`]).
    Chars,
    /// Whitespace-free words (read as a [`TextList`] borrowed from the bytes).
    Words,
    /// Dense input vectors, one value per channel (sensor samples): the vocabulary is the
    /// channel names, and the file stores the inputs' [`Normalization`]
    /// ([`Decoded::normalization`]).
    Dense,
}

impl VocabKind {
    const fn code(self) -> u8 {
        match self {
            VocabKind::Chars => 0,
            VocabKind::Words => 1,
            VocabKind::Dense => 2,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(VocabKind::Chars),
            1 => Some(VocabKind::Words),
            2 => Some(VocabKind::Dense),
            _ => None,
        }
    }
}

/// What a model file announces, read by [`Header::read`] before the model's type is known
/// (the `micrornn` binary uses it to pick which compiled size to decode into).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version.
    pub version: u16,
    /// Inputs `I` (for a char model, the vocabulary bucket).
    pub inputs: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// Outputs `O`.
    pub outputs: usize,
    /// Live output classes; outputs `classes..O` are padding and masked.
    pub classes: usize,
    /// Symbols (characters or words) in the stored vocabulary; for dense inputs, the channels.
    pub vocab_len: usize,
    /// Language model or classifier.
    pub task: Task,
    /// Characters or words.
    pub vocab_kind: VocabKind,
    /// The recurrent cell (Elman for every file written before the GRU).
    pub cell: CellKind,
    /// Bytes of the vocabulary text (0 in version 1, whose vocabulary is in fixed slots).
    pub vocab_bytes: usize,
    /// Bytes of the class names.
    pub class_names_bytes: usize,
    /// Bytes of the metadata.
    pub metadata_bytes: usize,
}

/// Where the parts of a file start, and its length (the quantized file's version 3 fills it
/// too: `hidden_at` is its Q15 state, `parameters_at` its integers).
pub(crate) struct Layout {
    pub(crate) hidden_at: Option<usize>,
    pub(crate) parameters_at: usize,
    pub(crate) normalization_at: Option<usize>,
    pub(crate) texts_at: usize,
    pub(crate) len: usize,
}

impl Layout {
    /// The layout of a file of `header` whose numbers end at `parameters_end`: the
    /// normalization of dense inputs, the texts and the checksum follow them (the f32 file and
    /// the quantized version 3 alike); `None` on overflow.
    pub(crate) const fn ending(
        header: &Header,
        hidden_at: Option<usize>,
        parameters_at: usize,
        parameters_end: usize,
    ) -> Option<Layout> {
        let (normalization_at, texts_at) = match header.vocab_kind {
            VocabKind::Dense => (
                Some(parameters_end),
                some!(parameters_end.checked_add(some!(header.inputs.checked_mul(8)))),
            ),
            VocabKind::Chars | VocabKind::Words => (None, parameters_end),
        };
        let texts = some!(
            some!(header.vocab_bytes.checked_add(header.class_names_bytes))
                .checked_add(header.metadata_bytes)
        );
        let len = some!(some!(texts_at.checked_add(texts)).checked_add(4));
        Some(Layout {
            hidden_at,
            parameters_at,
            normalization_at,
            texts_at,
            len,
        })
    }
}

/// The checked text sections of a file.
pub(crate) struct Sections<'b> {
    layout: Layout,
    vocab_text: &'b str,
    words: TextList<'b>,
    channels: TextList<'b>,
    class_names: TextList<'b>,
    metadata: Metadata<'b>,
}

impl Header {
    /// Reads and fully checks `bytes` (magic, version, header checksum, total length, the
    /// checksum of the whole model and its content) without knowing the model's type.
    ///
    /// # Errors
    /// [`Error::NotAModel`], [`Error::UnsupportedVersion`], [`Error::Truncated`],
    /// [`Error::ChecksumMismatch`] or [`Error::CorruptModel`].
    pub fn read(bytes: &[u8]) -> Result<Self, Error> {
        let header = Self::parse(bytes)?;
        header.verify(bytes)?;
        Ok(header)
    }

    /// Bytes of the whole encoding this header announces (`None` if that overflows `usize`).
    pub fn encoded_len(&self) -> Option<usize> {
        self.layout().map(|layout| layout.len)
    }

    /// Parameters of a model of this shape and cell: the cell's `I·H + H² + H` (three times
    /// that plus `3H` for a GRU's second bias) and the readout's `O·H + O`.
    const fn parameters(&self) -> Option<usize> {
        let (i, h, o) = (self.inputs, self.hidden, self.outputs);
        let w_xh = some!(i.checked_mul(h));
        let w_hh = some!(h.checked_mul(h));
        let elman = some!(some!(w_xh.checked_add(w_hh)).checked_add(h));
        let cell = match self.cell {
            CellKind::Elman => elman,
            CellKind::Gru => some!(some!(elman.checked_add(h)).checked_mul(3)),
        };
        let readout = some!(some!(o.checked_mul(h)).checked_add(o));
        cell.checked_add(readout)
    }

    /// Offsets of the parts, in either version.
    const fn layout(&self) -> Option<Layout> {
        let parameter_bytes = some!(some!(self.parameters()).checked_mul(4));
        let (hidden_at, parameters_at) = if self.version == v1::VERSION {
            (None, some!(v1::parameters_at(self)))
        } else {
            let hidden_bytes = some!(self.hidden.checked_mul(4));
            (
                Some(HEADER_LEN),
                some!(HEADER_LEN.checked_add(hidden_bytes)),
            )
        };
        Layout::ending(
            self,
            hidden_at,
            parameters_at,
            some!(parameters_at.checked_add(parameter_bytes)),
        )
    }

    /// Magic, version, header length and header checksum; then the fields.
    const fn parse(bytes: &[u8]) -> Result<Self, Error> {
        ok!(check_magic(bytes));
        match u16_at(bytes, MAGIC.len()) {
            Some(VERSION) => Self::parse_fields(bytes, VERSION),
            Some(v1::VERSION) => v1::parse_header(bytes),
            Some(other) => Err(Error::UnsupportedVersion(other)),
            None => Err(Error::Truncated),
        }
    }

    /// The fields of a version-2 header (the quantized file's version 3 shares it), checksum
    /// checked; `version` is recorded as given.
    pub(crate) const fn parse_fields(bytes: &[u8], version: u16) -> Result<Self, Error> {
        let header = ok!(checked_header(bytes, HEADER_LEN));
        let (Some(flags), Some([task, vocab_kind, cell, reserved])) =
            (u16_at(header, 6), array_at::<4>(header, 28))
        else {
            return Err(Error::Truncated);
        };
        let (
            Some([inputs, hidden, outputs, classes, vocab_len]),
            Some([vocab_bytes, class_names_bytes, metadata_bytes]),
        ) = (sizes_at::<5>(header, 8), sizes_at::<3>(header, 32))
        else {
            return Err(Error::Truncated);
        };
        if flags != 0 || reserved != 0 {
            return Err(Error::CorruptModel("reserved header bits are set"));
        }
        let Some(task) = Task::from_code(task) else {
            return Err(Error::CorruptModel("unknown task"));
        };
        let Some(vocab_kind) = VocabKind::from_code(vocab_kind) else {
            return Err(Error::CorruptModel("unknown vocabulary kind"));
        };
        let Some(cell) = cell_from_code(cell) else {
            return Err(Error::CorruptModel("unknown cell"));
        };
        Ok(Self {
            version,
            inputs,
            hidden,
            outputs,
            classes,
            vocab_len,
            task,
            vocab_kind,
            cell,
            vocab_bytes,
            class_names_bytes,
            metadata_bytes,
        })
    }

    /// `CellMismatch` unless the file holds a model of the cell `kind`.
    pub(crate) const fn expect_cell(&self, kind: CellKind) -> Result<(), Error> {
        self.cell.expect(kind)
    }

    /// `ShapeMismatch` unless the file holds a model of shape `(I, H, O)`.
    pub(crate) const fn expect_shape<const I: usize, const H: usize, const O: usize>(
        &self,
    ) -> Result<(), Error> {
        let found = (self.inputs, self.hidden, self.outputs);
        if found.0 != I || found.1 != H || found.2 != O {
            return Err(Error::ShapeMismatch {
                found,
                expected: (I, H, O),
            });
        }
        Ok(())
    }

    /// What a compile-time decode needs checked: total length, whole-file checksum, live
    /// classes, vocabulary length, finite parameters and an initial state in `[-1, 1]`.
    const fn verify_numbers(&self, bytes: &[u8]) -> Result<Layout, Error> {
        let Some(layout) = self.layout() else {
            return Err(Error::CorruptModel("sizes too large"));
        };
        let body = ok!(self.check_body(bytes, &layout));
        ok!(check_floats(body, self, &layout));
        Ok(layout)
    }

    /// The file's bytes up to `layout.len`, once their length, whole-file checksum, live
    /// classes and vocabulary length are checked (every format version alike).
    pub(crate) const fn check_body<'b>(
        &self,
        bytes: &'b [u8],
        layout: &Layout,
    ) -> Result<&'b [u8], Error> {
        let Some((body, _)) = bytes.split_at_checked(layout.len) else {
            return Err(Error::Truncated);
        };
        let Some((covered, stored)) = body.split_at_checked(layout.len - 4) else {
            return Err(Error::Truncated);
        };
        match u32_at(stored, 0) {
            Some(crc) if crc == crc32(covered) => {}
            Some(_) => return Err(Error::ChecksumMismatch),
            None => return Err(Error::Truncated),
        }
        if self.classes == 0 || self.classes > self.outputs {
            return Err(Error::CorruptModel("live classes must be in 1..=outputs"));
        }
        if self.vocab_len > self.inputs {
            return Err(Error::CorruptModel("vocabulary longer than the inputs"));
        }
        Ok(body)
    }

    /// Total length and whole-file checksum; then the content.
    fn verify<'b>(&self, bytes: &'b [u8]) -> Result<Sections<'b>, Error> {
        let layout = self.verify_numbers(bytes)?;
        let body = bytes.get(..layout.len).ok_or(Error::Truncated)?;
        let sections = self.sections(body, layout)?;
        if self.vocab_kind == VocabKind::Chars {
            self.visit_chars(body, sections.vocab_text, |_| Ok(()))?;
        }
        Ok(sections)
    }

    /// The three text sections, each checked.
    pub(crate) fn sections<'b>(
        &self,
        body: &'b [u8],
        layout: Layout,
    ) -> Result<Sections<'b>, Error> {
        let mut texts = ByteReader::at(body, layout.texts_at);
        let mut text = |len| {
            core::str::from_utf8(texts.take(len)?)
                .map_err(|_| Error::CorruptModel("a text section is not UTF-8"))
        };
        let vocab_text = text(self.vocab_bytes)?;
        let names_text = text(self.class_names_bytes)?;
        let metadata = Metadata::new(text(self.metadata_bytes)?)?;
        let (words, channels) = match self.vocab_kind {
            VocabKind::Words => (
                TextList::words(vocab_text, self.vocab_len)?,
                TextList::EMPTY,
            ),
            VocabKind::Dense => (
                TextList::EMPTY,
                TextList::names(vocab_text, self.vocab_len)?,
            ),
            VocabKind::Chars => (TextList::EMPTY, TextList::EMPTY),
        };
        let names = match self.task {
            Task::Classifier => self.classes,
            Task::LanguageModel => 0,
        };
        Ok(Sections {
            layout,
            vocab_text,
            words,
            channels,
            class_names: TextList::names(names_text, names)?,
            metadata,
        })
    }

    /// Calls `visit` with each character of a char vocabulary, checking that they are sorted,
    /// distinct and as many as announced.
    fn visit_chars(
        &self,
        body: &[u8],
        vocab_text: &str,
        mut visit: impl FnMut(char) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut previous = None;
        let mut count = 0usize;
        let mut check = |c: char| {
            if previous.is_some_and(|p| p >= c) {
                return Err(Error::CorruptModel("vocabulary is not sorted"));
            }
            previous = Some(c);
            count += 1;
            visit(c)
        };
        if self.version == v1::VERSION {
            v1::visit_chars(body, self, &mut check)?;
        } else {
            vocab_text.chars().try_for_each(&mut check)?;
        }
        if count != self.vocab_len {
            return Err(Error::CorruptModel(
                "vocabulary holds another number of characters",
            ));
        }
        Ok(())
    }
}

/// Magic: `NotAModel`, or `Truncated` for a prefix of the magic (no bytes at all included).
pub(crate) const fn check_magic(bytes: &[u8]) -> Result<(), Error> {
    let mut i = 0;
    while i < MAGIC.len() {
        if i == bytes.len() {
            return Err(Error::Truncated);
        }
        if bytes[i] != MAGIC[i] {
            return Err(Error::NotAModel);
        }
        i += 1;
    }
    Ok(())
}

/// The first `len` (≥ 4) bytes of `bytes` if their last four are the CRC-32 of the others.
pub(crate) const fn checked_header(bytes: &[u8], len: usize) -> Result<&[u8], Error> {
    let Some((header, _)) = bytes.split_at_checked(len) else {
        return Err(Error::Truncated);
    };
    let Some((covered, stored)) = header.split_at_checked(len.saturating_sub(4)) else {
        return Err(Error::Truncated);
    };
    match u32_at(stored, 0) {
        Some(crc) if crc == crc32(covered) => Ok(header),
        Some(_) => Err(Error::ChecksumMismatch),
        None => Err(Error::Truncated),
    }
}

/// The code of a cell in byte 30 of the header.
const fn cell_code(kind: CellKind) -> u8 {
    match kind {
        CellKind::Elman => 0,
        CellKind::Gru => 1,
    }
}

/// The cell of a header code.
const fn cell_from_code(code: u8) -> Option<CellKind> {
    match code {
        0 => Some(CellKind::Elman),
        1 => Some(CellKind::Gru),
        _ => None,
    }
}

/// The `n` little-endian `f32`s at offset `at` of `body`, as raw bytes.
const fn f32_bytes(body: &[u8], at: usize, n: usize) -> Result<&[u8], Error> {
    let Some(len) = n.checked_mul(4) else {
        return Err(Error::Truncated);
    };
    match body.split_at_checked(at) {
        Some((_, rest)) => match rest.split_at_checked(len) {
            Some((raw, _)) => Ok(raw),
            None => Err(Error::Truncated),
        },
        None => Err(Error::Truncated),
    }
}

/// Every parameter is finite and every initial hidden value in `[-1, 1]` (a tanh's range).
const fn check_floats(body: &[u8], header: &Header, layout: &Layout) -> Result<(), Error> {
    if let Some(at) = layout.hidden_at {
        let mut raw = ok!(f32_bytes(body, at, header.hidden));
        while let Some((word, rest)) = raw.split_first_chunk::<4>() {
            let h = f32::from_le_bytes(*word);
            if !(h >= -1.0 && h <= 1.0) {
                return Err(Error::CorruptModel("initial hidden state outside [-1, 1]"));
            }
            raw = rest;
        }
    }
    let Some(parameters) = header.parameters() else {
        return Err(Error::Truncated);
    };
    let mut raw = ok!(f32_bytes(body, layout.parameters_at, parameters));
    while let Some((word, rest)) = raw.split_first_chunk::<4>() {
        if !f32::from_le_bytes(*word).is_finite() {
            return Err(Error::CorruptModel("a parameter is not finite"));
        }
        raw = rest;
    }
    if let Some(at) = layout.normalization_at {
        ok!(check_normalization(body, header, at));
    }
    Ok(())
}

/// The normalization at `at`: finite means, finite positive standard deviations, and mean 0,
/// std 1 for the inputs past the channels.
pub(crate) const fn check_normalization(
    body: &[u8],
    header: &Header,
    at: usize,
) -> Result<(), Error> {
    let raw = ok!(f32_bytes(body, at, 2 * header.inputs));
    let Some((mut means, mut stds)) = raw.split_at_checked(raw.len() / 2) else {
        return Err(Error::Truncated);
    };
    let mut input = 0;
    while let (Some((mean, more_means)), Some((std, more_stds))) = (
        means.split_first_chunk::<4>(),
        stds.split_first_chunk::<4>(),
    ) {
        let (mean, std) = (f32::from_le_bytes(*mean), f32::from_le_bytes(*std));
        if !(mean.is_finite() && std > 0.0 && std.is_finite()) {
            return Err(Error::CorruptModel(
                "a normalization mean is not finite or a standard deviation not positive",
            ));
        }
        if input >= header.vocab_len && (mean != 0.0 || std != 1.0) {
            return Err(Error::CorruptModel(
                "the normalization of an input past the channels is not mean 0, std 1",
            ));
        }
        (means, stds) = (more_means, more_stds);
        input += 1;
    }
    Ok(())
}

/// The input normalization stored at `layout` (identity where there is none), once checked.
pub(crate) const fn read_normalization<const I: usize>(
    bytes: &[u8],
    layout: &Layout,
) -> Normalization<I> {
    if let Some(at) = layout.normalization_at
        && let Ok(raw) = f32_bytes(bytes, at, 2 * I)
        && let Some(normalization) = normalization_from(raw)
    {
        return normalization;
    }
    Normalization::IDENTITY
}

/// The means then standard deviations of `I` inputs at the start of `raw` (`None` if shorter).
const fn normalization_from<const I: usize>(raw: &[u8]) -> Option<Normalization<I>> {
    let Some((means, stds)) = raw.split_at_checked(4 * I) else {
        return None;
    };
    let mut normalization = Normalization::IDENTITY;
    if f32s_from(means, &mut normalization.mean) && f32s_from(stds, &mut normalization.std) {
        Some(normalization)
    } else {
        None
    }
}

/// Copies the checked parameters and initial state (zeros in version 1) of `bytes` into
/// `tensors` (a cell's tensors in file order, each filled from the front of the parameters) and
/// `initial_hidden`: the compile-time reader of every cell ([`decode_const`],
/// [`decode_gru_const`]). Writes nothing unless the bytes hold every tensor.
const fn read_numbers<const H: usize>(
    bytes: &[u8],
    layout: &Layout,
    tensors: &mut [&mut [f32]],
    initial_hidden: &mut [f32; H],
) -> Result<(), Error> {
    let hidden = match layout.hidden_at {
        Some(at) => Some(ok!(f32_bytes(bytes, at, H))),
        None => None,
    };
    let mut parameters = 0;
    let mut t = 0;
    while t < tensors.len() {
        parameters += tensors[t].len();
        t += 1;
    }
    let mut raw = ok!(f32_bytes(bytes, layout.parameters_at, parameters));
    match hidden {
        Some(raw) => _ = f32s_from(raw, initial_hidden),
        None => *initial_hidden = [0.0; H],
    }
    let mut t = 0;
    while t < tensors.len() {
        let tensor = &mut *tensors[t];
        let Some((values, rest)) = raw.split_at_checked(4 * tensor.len()) else {
            return Err(Error::Truncated);
        };
        _ = f32s_from(values, tensor);
        raw = rest;
        t += 1;
    }
    Ok(())
}

/// The symbols of a vocabulary to encode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Vocabulary<'a> {
    /// Characters, sorted and distinct (a [`CharVocab::chars`]).
    Chars(&'a [char]),
    /// Words, sorted, distinct, non-empty and without whitespace.
    Words(&'a [&'a str]),
    /// Dense input channels (sensor samples): a name per channel (non-empty, no `\n`) and the
    /// per-channel normalization of the inputs, one mean and one standard deviation (finite,
    /// positive) per channel; inputs past the channels are stored as mean 0, standard deviation 1.
    Dense {
        /// One name per channel, in input order.
        channels: &'a [&'a str],
        /// Mean of each channel.
        mean: &'a [f32],
        /// Standard deviation of each channel.
        std: &'a [f32],
    },
}

/// Everything a model file holds besides the parameters, for [`encode_contents`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contents<'a, const H: usize> {
    /// Language model or classifier.
    pub task: Task,
    /// The symbols; a symbol's id is its index.
    pub vocab: Vocabulary<'a>,
    /// Live output classes, `1..=O`; outputs past them are padding.
    pub classes: usize,
    /// One name per class for a classifier (no `\n` in a name); empty for a language model.
    pub class_names: &'a [&'a str],
    /// The state to start from (`None`: zeros), each value in `[-1, 1]`.
    pub initial_hidden: Option<&'a [f32; H]>,
    /// `key=value` lines separated by `\n`, or empty.
    pub metadata: &'a str,
}

impl<'a, const H: usize> Contents<'a, H> {
    /// A character language model with `classes` live outputs (usually `chars.len()`), starting
    /// from zeros, without metadata.
    pub const fn language_model(chars: &'a [char], classes: usize) -> Self {
        Self {
            task: Task::LanguageModel,
            vocab: Vocabulary::Chars(chars),
            classes,
            class_names: &[],
            initial_hidden: None,
            metadata: "",
        }
    }

    /// A word classifier with one class per name, starting from zeros, without metadata.
    pub const fn classifier(words: &'a [&'a str], class_names: &'a [&'a str]) -> Self {
        Self {
            task: Task::Classifier,
            vocab: Vocabulary::Words(words),
            classes: class_names.len(),
            class_names,
            initial_hidden: None,
            metadata: "",
        }
    }

    /// A many-to-one classifier of dense sensor samples: a name per input channel and per
    /// class, and the inputs' normalization (`mean`/`std`: one value per channel), starting from
    /// zeros, without metadata.
    pub const fn sensor_classifier(
        channels: &'a [&'a str],
        mean: &'a [f32],
        std: &'a [f32],
        class_names: &'a [&'a str],
    ) -> Self {
        Self {
            task: Task::Classifier,
            vocab: Vocabulary::Dense {
                channels,
                mean,
                std,
            },
            classes: class_names.len(),
            class_names,
            initial_hidden: None,
            metadata: "",
        }
    }

    /// Entries and bytes of the vocabulary text.
    pub(crate) fn vocab_text_len(&self) -> (usize, usize) {
        match self.vocab {
            Vocabulary::Chars(chars) => (chars.len(), chars.iter().map(|c| c.len_utf8()).sum()),
            Vocabulary::Words(words) => (words.len(), joined_len(words)),
            Vocabulary::Dense { channels, .. } => (channels.len(), joined_len(channels)),
        }
    }

    /// Bytes of the normalization section of a model with `inputs` inputs.
    pub(crate) const fn normalization_len(&self, inputs: usize) -> usize {
        match self.vocab {
            Vocabulary::Dense { .. } => 8 * inputs,
            Vocabulary::Chars(_) | Vocabulary::Words(_) => 0,
        }
    }
}

/// Bytes of `entries` joined by `\n`.
pub(crate) fn joined_len(entries: &[&str]) -> usize {
    entries.iter().map(|e| e.len()).sum::<usize>() + entries.len().saturating_sub(1)
}

/// Bytes of the encoding of a model `M` (an [`Rnn`], a [`Gru`](crate::Gru), …) with these
/// contents: `encoded_len::<Rnn<8, 16, 8>, _>(&contents)`.
pub fn encoded_len<M: Params, const H: usize>(contents: &Contents<'_, H>) -> usize {
    // The first tensor of every cell is `w_xh`, one row per input.
    let inputs = M::TENSORS.first().map_or(0, |w_xh| w_xh.rows);
    HEADER_LEN
        + 4 * H
        + 4 * M::PARAMETER_COUNT
        + contents.normalization_len(inputs)
        + contents.vocab_text_len().1
        + joined_len(contents.class_names)
        + contents.metadata.len()
        + 4
}

/// The longest encoding of a character language model `Rnn<I, H, O>` with `metadata_bytes` of
/// metadata (every character taking 4 bytes of UTF-8): a buffer this long holds any of them.
pub const fn max_char_model_len<const I: usize, const H: usize, const O: usize>(
    metadata_bytes: usize,
) -> usize {
    HEADER_LEN + 4 * H + 4 * max_parameters::<I, H, O>() + 4 * I + metadata_bytes + 4
}

/// The most parameters a model `<I, H, O>` of any cell holds (the GRU's, about three Elman
/// cells'): the size that bounds a model file or a checkpoint before its cell is known.
#[must_use]
pub const fn max_parameters<const I: usize, const H: usize, const O: usize>() -> usize {
    let elman = <Rnn<I, H, O> as Params>::PARAMETER_COUNT;
    let gru = <crate::model::Gru<I, H, O> as Params>::PARAMETER_COUNT;
    if gru > elman { gru } else { elman }
}

/// Encodes a character language model starting from the zero state, without metadata: `rnn`,
/// its vocabulary and its number of live output `classes` (usually `vocab.len()`). Returns the
/// number of bytes written. [`encode_contents`] stores the rest.
///
/// # Errors
/// As [`encode_contents`].
pub fn encode<const I: usize, const H: usize, const O: usize, const N: usize>(
    rnn: &Rnn<I, H, O>,
    vocab: &CharVocab<N>,
    classes: usize,
    out: &mut [u8],
) -> Result<usize, Error> {
    encode_contents(rnn, &Contents::language_model(vocab.chars(), classes), out)
}

/// Encodes `model` (any [`Cell`]: its kind goes in the header) and `contents` into the start of
/// `out`; returns the number of bytes written, [`encoded_len`]. The written bytes are decoded back before this returns, so a file this
/// writes is one [`decode_contents`] reads.
///
/// # Errors
/// - [`Error::BufferTooSmall`] if `out` is shorter than [`encoded_len`];
/// - [`Error::InvalidSetting`] if `classes` is not in `1..=O`, or the contents are not what
///   [`decode_contents`] accepts (unsorted vocabulary, a name per class missing, a hidden value
///   outside `[-1, 1]`, a non-finite parameter, metadata that is not `key=value` lines…);
/// - [`Error::VocabularyFull`] if the vocabulary has more than `I` symbols.
///
/// On error the bytes of `out` are unspecified.
pub fn encode_contents<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    model: &C,
    contents: &Contents<'_, H>,
    out: &mut [u8],
) -> Result<usize, Error> {
    let len = encoded_len::<C, H>(contents);
    let out = out
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { needed: len })?;
    crate::model::Classes::<O>::new(contents.classes)?;
    if contents.vocab_text_len().0 > I {
        return Err(Error::VocabularyFull { capacity: I });
    }
    let mut w = ByteWriter::new(out);
    put_header(&mut w, VERSION, [I, H, O], C::KIND, contents)?;
    w.put_f32s(contents.initial_hidden.unwrap_or(&[0.0; H]))?;
    for index in 0..C::TENSORS.len() {
        w.put_f32s(model.tensor(index))?;
    }
    put_normalization::<I, H>(&mut w, contents)?;
    put_texts(&mut w, contents)?;
    w.put_u32(crc32(w.written()))?;
    let written = w.position();
    Header::read(out).map_err(|e| match e {
        Error::CorruptModel(what) => Error::InvalidSetting(what),
        other => other,
    })?;
    Ok(written)
}

/// The header of a file of `version` for a model of `cell` and `[I, H, O]` with `contents`,
/// its checksum last (either file kind).
pub(crate) fn put_header<const H: usize>(
    w: &mut ByteWriter<'_>,
    version: u16,
    shape: [usize; 3],
    cell: CellKind,
    contents: &Contents<'_, H>,
) -> Result<(), Error> {
    let (vocab_len, vocab_bytes) = contents.vocab_text_len();
    w.put(&MAGIC)?;
    w.put_u16(version)?;
    w.put_u16(0)?;
    for size in shape.into_iter().chain([contents.classes, vocab_len]) {
        w.put_size(size)?;
    }
    let kind = match contents.vocab {
        Vocabulary::Chars(_) => VocabKind::Chars,
        Vocabulary::Words(_) => VocabKind::Words,
        Vocabulary::Dense { .. } => VocabKind::Dense,
    };
    w.put_u8(contents.task.code())?;
    w.put_u8(kind.code())?;
    w.put_u8(cell_code(cell))?;
    w.put_u8(0)?;
    let names_bytes = joined_len(contents.class_names);
    for size in [vocab_bytes, names_bytes, contents.metadata.len()] {
        w.put_size(size)?;
    }
    w.put_u32(crc32(w.written()))
}

/// The normalization section of a dense model with `I` inputs (nothing for symbols).
pub(crate) fn put_normalization<const I: usize, const H: usize>(
    w: &mut ByteWriter<'_>,
    contents: &Contents<'_, H>,
) -> Result<(), Error> {
    let (vocab_len, _) = contents.vocab_text_len();
    if let Vocabulary::Dense { mean, std, .. } = contents.vocab {
        if mean.len() != vocab_len || std.len() != vocab_len {
            return Err(Error::InvalidSetting(
                "the normalization needs one mean and one standard deviation per channel",
            ));
        }
        for (values, padding) in [(mean, 0.0), (std, 1.0)] {
            w.put_f32s(values)?;
            w.put_f32s(&[padding; I][vocab_len..])?;
        }
    }
    Ok(())
}

/// The vocabulary, class names and metadata texts.
pub(crate) fn put_texts<const H: usize>(
    w: &mut ByteWriter<'_>,
    contents: &Contents<'_, H>,
) -> Result<(), Error> {
    match contents.vocab {
        Vocabulary::Chars(chars) => {
            for c in chars {
                w.put(c.encode_utf8(&mut [0u8; 4]).as_bytes())?;
            }
        }
        Vocabulary::Words(words)
        | Vocabulary::Dense {
            channels: words, ..
        } => put_joined(w, words)?,
    }
    put_joined(w, contents.class_names)?;
    w.put(contents.metadata.as_bytes())
}

/// `entries` separated by `\n`.
fn put_joined(w: &mut ByteWriter<'_>, entries: &[&str]) -> Result<(), Error> {
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            w.put(b"\n")?;
        }
        w.put(entry.as_bytes())?;
    }
    Ok(())
}

/// What [`decode_contents`] found besides the parameters and the characters: the header and the
/// text sections, borrowed from the decoded bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'b> {
    /// The sizes and codes of the file.
    pub header: Header,
    /// The words of a word vocabulary ([`VocabKind::Words`]); empty for characters.
    pub words: TextList<'b>,
    /// The names of the input channels of a dense model ([`VocabKind::Dense`]); empty otherwise.
    pub channels: TextList<'b>,
    /// One name per class of a classifier; empty for a language model.
    pub class_names: TextList<'b>,
    /// The `key=value` metadata.
    pub metadata: Metadata<'b>,
    /// The checked bytes of the input normalization ([`VocabKind::Dense`]); empty otherwise.
    normalization: &'b [u8],
}

impl Decoded<'_> {
    /// The per-channel normalization of a dense model's inputs, `I` of them (the model's
    /// inputs; channels past the file's are mean 0, standard deviation 1). `None` for a model
    /// of symbols, or if `I` is not the file's input count.
    pub fn normalization<const I: usize>(&self) -> Option<Normalization<I>> {
        if self.header.vocab_kind != VocabKind::Dense || self.header.inputs != I {
            return None;
        }
        normalization_from(self.normalization)
    }
}

/// Decodes a character model written by [`encode`] or [`encode_contents`] (either format
/// version) into the caller's `rnn`, `vocab` and `initial_hidden` (the state stored at the end
/// of training; zeros for a version-1 file: start from it to reproduce the binary's text);
/// returns the header, whose `classes` the caller passes on to [`crate::Sampler`] and
/// [`crate::workflows::eval::cross_entropy`]. [`decode_contents`] also returns the texts.
///
/// # Errors
/// As [`decode_contents`].
pub fn decode<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize, const N: usize>(
    bytes: &[u8],
    model: &mut C,
    vocab: &mut CharVocab<N>,
    initial_hidden: &mut [f32; H],
) -> Result<Header, Error> {
    decode_contents(bytes, model, vocab, initial_hidden).map(|decoded| decoded.header)
}

/// Decodes a model into the caller's `rnn`, character vocabulary `chars` (left empty for a word
/// vocabulary, which [`Decoded::words`] borrows from `bytes`) and `initial_hidden` (zeros for a
/// version-1 file), without allocation: a multi-megabyte model can be decoded straight into a
/// `static` or a `Box`.
///
/// On error, `rnn`, `chars` and `initial_hidden` are unchanged.
///
/// # Errors
/// - [`Error::NotAModel`]: the bytes do not start with [`MAGIC`];
/// - [`Error::UnsupportedVersion`]: another format version;
/// - [`Error::ShapeMismatch`]: the file holds a model of another `(I, H, O)`;
/// - [`Error::Truncated`]: fewer bytes than the header announces;
/// - [`Error::ChecksumMismatch`]: the bytes were damaged;
/// - [`Error::VocabularyFull`]: the characters do not fit a `CharVocab<N>`;
/// - [`Error::CorruptModel`]: checksums match but a value is impossible (see the module docs) —
///   a file written by another tool.
pub fn decode_contents<
    'b,
    C: Cell<I, H, O>,
    const I: usize,
    const H: usize,
    const O: usize,
    const N: usize,
>(
    bytes: &'b [u8],
    model: &mut C,
    chars: &mut CharVocab<N>,
    initial_hidden: &mut [f32; H],
) -> Result<Decoded<'b>, Error> {
    let header = Header::parse(bytes)?;
    header.expect_cell(C::KIND)?;
    header.expect_shape::<I, H, O>()?;
    let (decoded, layout, decoded_chars) = read_texts(header, bytes)?;
    read_tensors(bytes, &layout, model, initial_hidden)?;
    *chars = decoded_chars;
    Ok(decoded)
}

/// Copies the checked parameters and initial state of `bytes` into any cell's tensors, in the
/// order of its [`Params::TENSORS`] (the run-time reader; the Elman cell's compile-time one is
/// `read_numbers`, which reads the same bytes the same way). Nothing is written unless the
/// bytes hold every tensor.
fn read_tensors<C: Params, const H: usize>(
    bytes: &[u8],
    layout: &Layout,
    model: &mut C,
    initial_hidden: &mut [f32; H],
) -> Result<(), Error> {
    let mut raw = f32_bytes(bytes, layout.parameters_at, C::PARAMETER_COUNT)?;
    match layout.hidden_at {
        Some(at) => _ = f32s_from(f32_bytes(bytes, at, H)?, initial_hidden),
        None => *initial_hidden = [0.0; H],
    }
    for index in 0..C::TENSORS.len() {
        let tensor = model.tensor_mut(index);
        let (values, rest) = raw
            .split_at_checked(4 * tensor.len())
            .ok_or(Error::Truncated)?;
        _ = f32s_from(values, tensor);
        raw = rest;
    }
    Ok(())
}

/// Checks a whole model file and decodes what [`decode_const`] leaves in the bytes: the
/// character vocabulary into `chars` (unchanged on error) and the texts. Firmware whose
/// parameters are a `static` from [`decode_const`] reads its vocabulary with this.
///
/// # Errors
/// As [`decode_contents`], without [`Error::ShapeMismatch`].
pub fn decode_texts<'b, const N: usize>(
    bytes: &'b [u8],
    chars: &mut CharVocab<N>,
) -> Result<Decoded<'b>, Error> {
    let (decoded, _, decoded_chars) = read_texts(Header::parse(bytes)?, bytes)?;
    *chars = decoded_chars;
    Ok(decoded)
}

/// Verifies the file of `header` and reads its texts and character vocabulary.
fn read_texts<const N: usize>(
    header: Header,
    bytes: &[u8],
) -> Result<(Decoded<'_>, Layout, CharVocab<N>), Error> {
    decoded_texts(header, bytes, header.verify(bytes)?)
}

/// The texts and character vocabulary of checked `sections` of `bytes` (either file kind).
pub(crate) fn decoded_texts<'b, const N: usize>(
    header: Header,
    bytes: &'b [u8],
    sections: Sections<'b>,
) -> Result<(Decoded<'b>, Layout, CharVocab<N>), Error> {
    let mut decoded_chars = CharVocab::<N>::new();
    if header.vocab_kind == VocabKind::Chars {
        header.visit_chars(bytes, sections.vocab_text, |c| {
            decoded_chars.insert(c).map(drop)
        })?;
    }
    let normalization = match sections.layout.normalization_at {
        Some(at) => f32_bytes(bytes, at, 2 * header.inputs)?,
        None => &[],
    };
    let decoded = Decoded {
        header,
        words: sections.words,
        channels: sections.channels,
        class_names: sections.class_names,
        metadata: sections.metadata,
        normalization,
    };
    Ok((decoded, sections.layout, decoded_chars))
}
