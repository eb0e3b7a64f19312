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
use super::{VERSION_3, parse, v3, verify};
use crate::Error;
use crate::codec::bytes::u16_at;
use crate::codec::format::{Header, Layout, check_magic, read_normalization};
use crate::model::normalize::Normalization;
use crate::model::{CellKind, QGru, QRnn};

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
    ok!(check_magic(bytes));
    if let Some(VERSION_3) = u16_at(bytes, 4) {
        let (header, logit_scale, layout) = ok!(checked_v3::<I, H, O>(bytes, CellKind::Elman));
        let mut model = Embedded {
            qrnn: QRnn::ZERO,
            initial_hidden: [0; H],
            header,
        };
        let q = &mut model.qrnn;
        q.logit_scale = logit_scale;
        q.normalization = read_normalization(bytes, &layout);
        v3::read_numbers(
            bytes,
            &layout,
            &mut [
                &mut q.xh_multiplier,
                &mut q.hh_multiplier,
                &mut q.hy_multiplier,
                &mut q.b_h,
                &mut q.b_y,
            ],
            &mut [
                q.w_xh.as_flattened_mut(),
                q.w_hh.as_flattened_mut(),
                q.w_hy.as_flattened_mut(),
            ],
            &mut model.initial_hidden,
        );
        return Ok(model);
    }
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

/// A version-3 file's header, logit scale and layout, once every check of [`v3::verify`]
/// passed and the file holds a `kind` cell of shape `(I, H, O)`.
const fn checked_v3<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
    kind: CellKind,
) -> Result<(Header, f32, Layout), Error> {
    let (header, logit_scale) = ok!(v3::parse(bytes));
    ok!(header.expect_cell(kind));
    ok!(header.expect_shape::<I, H, O>());
    let layout = ok!(v3::verify(&header, logit_scale, bytes));
    Ok((header, logit_scale, layout))
}

/// What [`decode_gru_const`] reads from a quantized GRU file: the parameters (with the dense
/// inputs' normalization inside), the state to start from, and the header.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddedGru<const I: usize, const H: usize, const O: usize> {
    /// The parameters.
    pub qgru: QGru<I, H, O>,
    /// The Q15 hidden state stored in the file.
    pub initial_hidden: [i16; H],
    /// The sizes and codes of the file (version [`VERSION_3`]).
    pub header: Header,
}

/// Decodes a quantized GRU file (version 3) at compile time, for a `static` in flash, with the
/// numeric checks of [`super::decode_contents`] (the texts are covered by the checksum; read
/// them with [`super::decode_texts`]).
///
/// # Errors
/// As [`super::decode_contents`], except [`Error::VocabularyFull`].
pub const fn decode_gru_const<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
) -> Result<EmbeddedGru<I, H, O>, Error> {
    let (header, logit_scale, layout) = ok!(checked_v3::<I, H, O>(bytes, CellKind::Gru));
    let normalization: Normalization<I> = read_normalization(bytes, &layout);
    let mut model = EmbeddedGru {
        qgru: QGru::ZERO,
        initial_hidden: [0; H],
        header,
    };
    let q = &mut model.qgru;
    q.logit_scale = logit_scale;
    q.normalization = normalization;
    v3::read_numbers(
        bytes,
        &layout,
        &mut [
            q.x_multiplier.as_flattened_mut(),
            q.h_multiplier.as_flattened_mut(),
            &mut q.hy_multiplier,
            q.b_x.as_flattened_mut(),
            q.b_h.as_flattened_mut(),
            &mut q.b_y,
        ],
        &mut [
            q.w_x.as_flattened_mut().as_flattened_mut(),
            q.w_h.as_flattened_mut().as_flattened_mut(),
            q.w_hy.as_flattened_mut(),
        ],
        &mut model.initial_hidden,
    );
    Ok(model)
}
