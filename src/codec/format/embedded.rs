//! A model decoded at compile time, so that firmware keeps its parameters in flash.
//!
//! [`decode_const`] is a `const fn`: a `static` initialized with it is computed by the compiler
//! from the `include_bytes!` of a model file and placed in `.rodata` (flash), not `.data` or
//! `.bss` (RAM). A damaged file, or a model of another shape, is then a compile error, not a
//! run-time one. The numbers are read by the same code as [`super::decode_contents`]'s.
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
use super::{Header, read_numbers};
use crate::Error;
use crate::model::{CellKind, Rnn};

/// What [`decode_const`] reads from a model file: the parameters, the state to start from, and
/// the header (`header.classes` is the number of live outputs to pick from). The vocabulary and
/// the texts stay in the bytes: [`super::decode_texts`] reads them at run time.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedded<const I: usize, const H: usize, const O: usize> {
    /// The parameters.
    pub rnn: Rnn<I, H, O>,
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
    let header = ok!(Header::parse(bytes));
    ok!(header.expect_cell(CellKind::Elman));
    ok!(header.expect_shape::<I, H, O>());
    let layout = ok!(header.verify_numbers(bytes));
    let mut model = Embedded {
        rnn: Rnn::ZERO,
        initial_hidden: [0.0; H],
        header,
    };
    ok!(read_numbers(
        bytes,
        &layout,
        &mut model.rnn,
        &mut model.initial_hidden
    ));
    Ok(model)
}
