//! The dense input of the quantized cells ([`QRnn`](super::QRnn) and [`QGru`](super::QGru)):
//! a **raw** sample (the training files' units) normalized by the model's own stored
//! [`Normalization`] and quantized to Q12 by [`int::quantize_q12`], once, the same way for
//! every cell; and the bound on the number of channels that keeps the dense product exact.
//!
//! `x_i = quantize_q12((raw_i − mean_i) / std_i)`: one IEEE subtraction, division and multiply
//! by `2^12` per channel, exact and deterministic on every target, so host and device compute
//! the same integers from the same reading.

use crate::Error;
use crate::kernels::int::{self, MAX_COLS};
use crate::model::normalize::Normalization;

/// A raw sample as the integer step sees it: normalized by `normalization`, then
/// [`int::quantize_q12`] (±8 standard deviations; NaN becomes 0).
///
/// ```
/// use micrornn::model::normalize::Normalization;
/// use micrornn::model::quant::dense::quantize_sample;
/// let n = Normalization { mean: [1.0, 0.0], std: [2.0, 0.5] };
/// assert_eq!(quantize_sample(&n, &[3.0, 0.25]), [4096, 2048]);
/// ```
pub fn quantize_sample<const I: usize>(
    normalization: &Normalization<I>,
    sample: &[f32; I],
) -> [i16; I] {
    let mut normalized = *sample;
    normalization.apply(&mut normalized);
    normalized.map(int::quantize_q12)
}

/// Checks that a dense product over `I` channels cannot overflow (`I ≤` [`MAX_COLS`]).
///
/// # Errors
/// [`Error::InvalidSetting`] for `I > 512`.
pub const fn check_channels<const I: usize>() -> Result<(), Error> {
    if I > MAX_COLS {
        return Err(Error::InvalidSetting(
            "a quantized dense model takes at most 512 input channels",
        ));
    }
    Ok(())
}
