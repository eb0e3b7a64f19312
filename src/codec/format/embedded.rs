//! A model decoded at compile time, so that firmware keeps its parameters in flash.
//!
//! [`decode_const`] is a `const fn`: a `static` initialized with it is computed by the compiler
//! from the `include_bytes!` of a model file and placed in `.rodata` (flash), not `.data` or
//! `.bss` (RAM). A damaged file, or a model of another shape or cell, is then a compile error,
//! not a run-time one. The checks are [`super::decode_contents`]'s; the numbers are read by one
//! compile-time reader over the cell's tensor list, [`decode_const`] for an Elman file and
//! [`decode_gru_const`] for a GRU file.
//!
//! ```
//! use micrornn::format::{self, Embedded};
//!
//! static MODEL_BYTES: &[u8] = include_bytes!("../../../examples/firmware/models/poem-h32.mrnn");
//! static MODEL: Embedded<32, 32, 32> = match format::decode_const(MODEL_BYTES) {
//!     Ok(model) => model,
//!     Err(error) => panic!("{}", error.as_str()), // a compile error naming what is wrong
//! };
//!
//! let mut hidden = MODEL.initial_hidden; // the state to start from, copied into RAM
//! MODEL.rnn.step(micrornn::Input::Token(1), &mut hidden)?;
//! assert_eq!(MODEL.header.classes, 22);
//! # Ok::<(), micrornn::Error>(())
//! ```
use super::{Header, read_normalization, read_numbers};
use crate::Error;
use crate::model::normalize::Normalization;
use crate::model::{CellKind, Gru, Rnn};

/// What [`decode_const`] reads from a model file: the parameters, the state to start from, and
/// the header (`header.classes` is the number of live outputs to pick from). The vocabulary and
/// the texts stay in the bytes: [`super::decode_texts`] reads them at run time.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedded<const I: usize, const H: usize, const O: usize> {
    /// The parameters.
    pub rnn: Rnn<I, H, O>,
    /// The normalization of a dense model's inputs ([`super::VocabKind::Dense`]), to apply to
    /// each sample before the step; the identity for a model of symbols.
    pub normalization: Normalization<I>,
    /// The hidden state stored in the file (zeros for a version-1 file).
    pub initial_hidden: [f32; H],
    /// The sizes and codes of the file.
    pub header: Header,
}

/// Decodes the numbers of a model file at compile time, for a `static` in flash: checks the
/// magic, version, header checksum, shape, length, whole-file checksum, live classes, finite
/// parameters and the initial state's range, exactly as [`super::decode_contents`] does. The
/// text sections (vocabulary, class names, metadata), which it does not return, are covered by
/// the checksum and checked by [`super::decode_texts`] when read.
///
/// It returns the model by value: meant for `static`s and `const`s (evaluated by the
/// compiler). Called at run time it would build the model on the stack; use
/// [`super::decode_contents`] there.
///
/// # Errors
/// As [`super::decode_contents`], except [`Error::VocabularyFull`] (no vocabulary is read) and
/// [`Error::CorruptModel`] for a bad text section.
pub const fn decode_const<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
) -> Result<Embedded<I, H, O>, Error> {
    let (header, layout) = ok!(checked::<I, H, O>(bytes, CellKind::Elman));
    let mut model = Embedded {
        rnn: Rnn::ZERO,
        normalization: read_normalization(bytes, &layout),
        initial_hidden: [0.0; H],
        header,
    };
    let rnn = &mut model.rnn;
    // The tensors in file order (`Params::TENSORS` of `Rnn`).
    let mut tensors: [&mut [f32]; 5] = [
        rnn.w_xh.as_flattened_mut(),
        rnn.w_hh.as_flattened_mut(),
        &mut rnn.b_h,
        rnn.w_hy.as_flattened_mut(),
        &mut rnn.b_y,
    ];
    ok!(read_numbers(
        bytes,
        &layout,
        &mut tensors,
        &mut model.initial_hidden
    ));
    Ok(model)
}

/// What [`decode_gru_const`] reads from a GRU model file: as [`Embedded`], with a [`Gru`].
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddedGru<const I: usize, const H: usize, const O: usize> {
    /// The parameters.
    pub gru: Gru<I, H, O>,
    /// The normalization of a dense model's inputs ([`super::VocabKind::Dense`]), to apply to
    /// each sample before the step; the identity for a model of symbols.
    pub normalization: Normalization<I>,
    /// The hidden state stored in the file.
    pub initial_hidden: [f32; H],
    /// The sizes and codes of the file.
    pub header: Header,
}

/// [`decode_const`] for a GRU file: the same checks and the same reader of the numbers, into a
/// [`Gru`], so a GRU's weights can stay in flash too.
///
/// ```
/// use micrornn::format::{self, Contents, EmbeddedGru};
/// use micrornn::{CharVocab, Gru};
/// # let vocab = CharVocab::<4>::from_text("ab")?;
/// # let mut gru = Gru::<4, 3, 4>::ZERO;
/// # gru.b_y[1] = 0.5;
/// # let contents = Contents::language_model(vocab.chars(), 2);
/// # let mut bytes = vec![0u8; format::encoded_len::<Gru<4, 3, 4>, _>(&contents)];
/// # format::encode_contents(&gru, &contents, &mut bytes)?;
/// // In firmware: `static MODEL: EmbeddedGru<4, 3, 4> = match format::decode_gru_const(BYTES) …`
/// let embedded: EmbeddedGru<4, 3, 4> = format::decode_gru_const(&bytes)?;
/// assert_eq!(embedded.gru, gru);
/// assert!(format::decode_const::<4, 3, 4>(&bytes).is_err()); // not an Elman file
/// # Ok::<(), micrornn::Error>(())
/// ```
///
/// # Errors
/// As [`decode_const`]; [`Error::CellMismatch`] for an Elman file.
pub const fn decode_gru_const<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
) -> Result<EmbeddedGru<I, H, O>, Error> {
    let (header, layout) = ok!(checked::<I, H, O>(bytes, CellKind::Gru));
    let mut model = EmbeddedGru {
        gru: Gru::ZERO,
        normalization: read_normalization(bytes, &layout),
        initial_hidden: [0.0; H],
        header,
    };
    let gru = &mut model.gru;
    // The tensors in file order (`Params::TENSORS` of `Gru`).
    let mut tensors: [&mut [f32]; 6] = [
        gru.w_xh.as_flattened_mut().as_flattened_mut(),
        gru.w_hh.as_flattened_mut().as_flattened_mut(),
        gru.b_xh.as_flattened_mut(),
        gru.b_hh.as_flattened_mut(),
        gru.w_hy.as_flattened_mut(),
        &mut gru.b_y,
    ];
    ok!(read_numbers(
        bytes,
        &layout,
        &mut tensors,
        &mut model.initial_hidden
    ));
    Ok(model)
}

/// The header of a file of cell `cell` and shape `(I, H, O)`, and its checked layout.
const fn checked<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
    cell: CellKind,
) -> Result<(Header, super::Layout), Error> {
    let header = ok!(Header::parse(bytes));
    ok!(header.expect_cell(cell));
    ok!(header.expect_shape::<I, H, O>());
    let layout = ok!(header.verify_numbers(bytes));
    Ok((header, layout))
}
