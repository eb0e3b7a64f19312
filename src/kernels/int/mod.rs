//! Integer kernels for quantized inference: int8 weights, Q15 (i16) activations, i32 sums.
//!
//! Kept apart from the f32 [`Kernels`](super::Kernels) table: the integer path has one
//! specification, [`scalar`], and one optimization, [`packed`] (the Cortex-M4/M7 DSP dual
//! 16-bit multiply-accumulate `SMLAD`). Integer arithmetic is exact, so the optimized path must
//! equal the reference bit for bit; the tests hold it to that over odd lengths and random data.
//!
//! The fixed-point formats (the [`QRnn`](crate::model::QRnn) docs say where each is used):
//!
//! | quantity | type | real value |
//! |---|---|---|
//! | hidden state | `i16` | `h / 2^15` (Q15), in `[-32767, 32767]` |
//! | hidden pre-activation | `i32` | `pre / 2^12` (Q12); [`tanh_q15`] saturates past ±8 |
//! | weight | `i8` | `q · scale` of its row, `q` in `[-127, 127]` |
//! | dot product of a row and the hidden state | `i32` | `acc · scale / 2^15` |
//!
//! No kernel can overflow for rows of at most [`MAX_COLS`] columns of weights in `[-127, 127]`
//! (what quantization and the decoder produce): `|q·h| ≤ 127·32768`, and `127·32768·512 < 2^31`.
//! (With a hand-set weight of -128 the sums wrap, identically on every path; nothing panics.) Requantization ([`requantize`]) and every sum the model forms after
//! it saturate instead of wrapping.

pub mod elman;
pub mod gru;
pub mod input;
pub mod packed;
pub mod recurrent;
pub mod scalar;
pub mod sigmoid;
pub mod tanh;

pub use elman::ElmanUnits;
pub use gru::{GruInput, GruWeights};
pub use input::quantize_q12;
pub use scalar::{argmax_i16, dot, requantize, saturate_i16};
pub use sigmoid::{SIGMOID_MAX_ERROR_LSB, sigmoid_q15};
pub use tanh::{TANH_MAX_ERROR_LSB, tanh_q15};

/// The longest row (columns of a weight matrix) for which an `i32` dot product of int8 weights
/// in `[-127, 127]` and any i16 activations cannot overflow.
pub const MAX_COLS: usize = 512;

/// `out[r] = requantize(dot(w[r·cols..][..cols], x), multipliers[r])` with `cols = x.len()`,
/// `rows = out.len()` (rows beyond `w` or `multipliers` are left unchanged).
///
/// On ARMv7E-M (Cortex-M4/M7, where the crate's build script sets `micrornn_dsp`) this is
/// [`packed::matvec_requant`] with the `SMLAD`/`SXTB16` instructions; elsewhere
/// [`scalar::matvec_requant`]. The two are bit-identical for `cols ≤ MAX_COLS`.
#[inline]
pub fn matvec_requant(w: &[i8], x: &[i16], multipliers: &[i32], out: &mut [i32]) {
    #[cfg(micrornn_dsp)]
    packed::matvec_requant(w, x, multipliers, out);
    #[cfg(not(micrornn_dsp))]
    scalar::matvec_requant(w, x, multipliers, out);
}

/// The recurrent update in place: `h[j] = f(j, Σ_k w[j][k]·h[k])` for `j = 0..N` in order, every
/// sum over the old `h` (see [`recurrent`]). On ARMv7E-M [`recurrent::packed`] (`SMLAD`), elsewhere
/// [`recurrent::scalar`]; bit-identical.
#[inline(always)]
pub fn recurrent_update<const N: usize>(
    w: &[[i8; N]; N],
    h: &mut [i16; N],
    f: impl FnMut(usize, i32) -> i16,
) {
    #[cfg(micrornn_dsp)]
    recurrent::packed(w, h, f);
    #[cfg(not(micrornn_dsp))]
    recurrent::scalar(w, h, f);
}

/// The quantized Elman update in place (what [`QRnn::step`](crate::QRnn::step) runs): `h[j] =
/// tanh_q15(requantize(Σ_k w[j][k]·h[k]) + bias + input)` with every sum over the old `h`, per
/// unit saturating (see [`elman`]). On ARMv7E-M [`elman::packed`] (`SMLAD` sums, one `asm!` per
/// four units), elsewhere [`elman::scalar`]; bit-identical.
///
/// # Examples
/// ```
/// use micrornn::kernels::int::{self, ElmanUnits};
/// let w_hh = [[0i8; 4]; 4];
/// let mut h = [0i16; 4];
/// let units = ElmanUnits {
///     multipliers: &[1 << 29; 4],
///     biases: &[4096; 4], // 1.0 in Q12
///     input_row: &[0; 4],
///     input_multiplier: 0,
/// };
/// int::elman_update(&w_hh, &mut h, units);
/// assert_eq!(h, [int::tanh_q15(4096); 4]); // tanh(1) in Q15
/// ```
#[inline(always)]
pub fn elman_update<const N: usize>(w: &[[i8; N]; N], h: &mut [i16; N], units: ElmanUnits<'_, N>) {
    #[cfg(micrornn_dsp)]
    elman::packed(w, h, units);
    #[cfg(not(micrornn_dsp))]
    elman::scalar(w, h, units);
}

/// The quantized GRU update in place (what [`QGru`](crate::QGru)'s steps run): the three
/// gates' products and every unit's gate math in one pass, every product over the old `h` (see
/// [`gru`]). On ARMv7E-M [`gru::packed`] (`SMLAD` sums, rows at a compile-time stride), elsewhere
/// [`gru::scalar`]; bit-identical.
#[inline(always)]
pub fn gru_update<const I: usize, const H: usize>(
    weights: &GruWeights<'_, I, H>,
    input: GruInput<'_, I>,
    h: &mut [i16; H],
) {
    #[cfg(micrornn_dsp)]
    gru::packed(weights, input, h);
    #[cfg(not(micrornn_dsp))]
    gru::scalar(weights, input, h);
}

/// Integer logits of a Q15 hidden state, as the int8 cells read out:
/// `logits[o] = saturate_i16(requantize(Σ_k w_hy[o][k]·hidden[k], hy_multiplier[o]) + b_y[o])`,
/// `w_hy` row-major with `hidden.len()` columns.
#[inline]
pub fn readout<const O: usize>(
    w_hy: &[i8],
    hidden: &[i16],
    hy_multiplier: &[i32; O],
    b_y: &[i32; O],
    logits: &mut [i16; O],
) {
    let mut acc = [0i32; O];
    matvec_requant(w_hy, hidden, hy_multiplier, &mut acc);
    for ((logit, acc), &b) in logits.iter_mut().zip(&acc).zip(b_y) {
        *logit = saturate_i16(acc.saturating_add(b));
    }
}

/// Name of the integer path [`matvec_requant`] uses on this target: `"dsp"` or `"scalar"`.
pub const ACTIVE: &str = if cfg!(micrornn_dsp) { "dsp" } else { "scalar" };

#[cfg(test)]
mod tests;
