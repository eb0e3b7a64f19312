//! A quantized model decoded at compile time, so that firmware keeps its parameters in flash
//! (as [`crate::format::decode_const`] for the f32 file).
//!
//! ```
//! use micrornn::qformat::{self, Embedded};
//!
//! static MODEL_BYTES: &[u8] = include_bytes!("../../../examples/firmware/models/poem-h32.q8");
//! static MODEL: Embedded<32, 32, 32> = match qformat::decode_const(MODEL_BYTES) {
//!     Ok(model) => model,
//!     Err(error) => panic!("{}", error.as_str()), // a compile error naming what is wrong
//! };
//!
//! let mut hidden = MODEL.initial_hidden; // the state to start from, copied into RAM
//! MODEL.qrnn.step(1, &mut hidden)?;
//! assert_eq!(MODEL.header.classes, 22);
//! # Ok::<(), micrornn::Error>(())
//! ```
use super::coding::read_numbers;
use super::{parse, verify};
use crate::Error;
use crate::codec::format::Header;
use crate::model::QRnn;

/// What [`decode_const`] reads from a quantized file: the parameters, the state to start from,
/// and the header (`header.classes` is the number of live outputs). The vocabulary stays in the
/// bytes: [`super::decode_vocab`] reads it at run time.
#[derive(Clone, Debug, PartialEq)]
pub struct Embedded<const I: usize, const H: usize, const O: usize> {
    /// The parameters.
    pub qrnn: QRnn<I, H, O>,
    /// The Q15 hidden state stored in the file (zeros for a version-1 file).
    pub initial_hidden: [i16; H],
    /// The sizes of the file (its `version` is [`super::VERSION`] or [`super::VERSION_1`]).
    pub header: Header,
}

/// Decodes a quantized file at compile time, for a `static` in flash, with every check of
/// [`super::decode`] (the vocabulary is checked, not returned). Returns the model by value:
/// meant for `static`s and `const`s; at run time use [`super::decode`].
///
/// # Errors
/// As [`super::decode`], except [`Error::VocabularyFull`].
pub const fn decode_const<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
) -> Result<Embedded<I, H, O>, Error> {
    let (header, logit_scale) = ok!(parse(bytes));
    ok!(header.expect_shape::<I, H, O>());
    let layout = ok!(verify(&header, logit_scale, bytes));
    let mut model = Embedded {
        qrnn: QRnn::ZERO,
        initial_hidden: [0; H],
        header,
    };
    read_numbers(
        bytes,
        &layout,
        logit_scale,
        &mut model.qrnn,
        &mut model.initial_hidden,
    );
    Ok(model)
}
