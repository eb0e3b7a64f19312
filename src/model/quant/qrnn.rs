//! The quantized Elman RNN: int8 weights with a scale per row, i32 biases, a Q15 hidden state,
//! i16 logits.
//!
//! ```text
//! pre_j   = b_h[j] + x_j + requantize(Σ_k w_hh[j][k]·h[k], hh_multiplier[j])        (Q12, i32)
//!   x_j   = (w_xh[token][j]·xh_multiplier[token] + 2^7) >> 8                         (Q12)
//! h_j     = tanh_q15(pre_j)                                                          (Q15, i16)
//! logit_o = saturate_i16(b_y[o] + requantize(Σ_k w_hy[o][k]·h[k], hy_multiplier[o]))
//! ```
//!
//! A dense input (a sensor sample) goes through the same rows: `w_xh[i]` is channel `i`'s row,
//! scaled by `xh_multiplier[i]`. The step takes the **raw** sample and normalizes and quantizes
//! it with the model's own [`Normalization`] ([`dense::quantize_sample`]: Q12, ±8 standard
//! deviations, as [`QGru`](super::QGru)); then, exactly in `i64`,
//!
//! ```text
//! x_j     = saturate_i32((Σ_i (w_xh[i][j]·m_i)·x_i + 2^19) >> 20)                   (Q12)
//! pre_j   = requantize(Σ_k w_hh[j][k]·h[k], hh_multiplier[j]) + sat(b_h[j] + x_j)
//! ```
//!
//! (`m_i` the multiplier clamped as the token path clamps it): a one-hot sample of 1.0 (4096 in
//! Q12) on channel `t` gives exactly the token path's `x_j` for token `t`. The input terms join
//! the biases, and the recurrent part is the token path's fused kernel
//! ([`int::elman_update`]) with a zero input row, so the dense step is as bit-identical between
//! the scalar reference and the `SMLAD` path as the token step. The input terms cost 6.9
//! instructions per channel and unit on a Cortex-M4F, 52.7 on a Cortex-M0 (its `i64` multiplies
//! are library calls), besides the kernel (docs/microcontrollers.md).
//!
//! Each sum after a requantization saturates (no wraparound anywhere). Real values: a row of
//! `w_hh` has the scale `hh_multiplier · 2^-29`, a row of `w_xh` `xh_multiplier · 2^-20`, a row
//! of `w_hy` `hy_multiplier · logit_scale · 2^-17`; `b_h` is Q12, `b_y` and the logits are in
//! units of `logit_scale`, the hidden state is `h / 2^15`.

use super::dense;
use crate::Error;
use crate::kernels::int::{self, ElmanUnits, MAX_COLS};
use crate::model::normalize::Normalization;

/// The fused Elman update a step runs on: [`int::elman_update`] (the target's own), or, in
/// tests, [`int::elman::scalar`] and [`int::elman::packed`].
pub type ElmanUpdate<const H: usize> = fn(&[[i8; H]; H], &mut [i16; H], ElmanUnits<'_, H>);

/// Right shift of a dense input's sum `Σ (w·m)·x` to Q12: `x` is Q12 and `w·m` is the token
/// path's `2^XH_SHIFT` units of Q12, so `12 + XH_SHIFT`.
pub const DENSE_SHIFT: u32 = 12 + XH_SHIFT;

/// Right shift of the input row's product (`x_j = (q·m + 2^7) >> 8`): the fused update's.
pub const XH_SHIFT: u32 = int::elman::INPUT_SHIFT;
/// The largest `|xh_multiplier|` used: larger ones (from a file written by another tool) are
/// clamped by the update, so `q·m` cannot overflow.
pub const XH_MULTIPLIER_LIMIT: i32 = int::elman::INPUT_MULTIPLIER_LIMIT;

/// A quantized Elman RNN with `I` inputs (token ids or sensor channels), `H ≤ 511` hidden
/// units and `O` outputs.
///
/// Plain integer arrays, `#[repr(C)]`, no pointers: it can live in a `static`
/// ([`QRnn::ZERO`]) and takes [`QRnn::SIZE`] bytes, about a quarter of the f32 [`crate::Rnn`]
/// (1 byte per weight, 4 per row scale and bias). A hidden size above [`MAX_COLS`] is a
/// compile-time error (its dot products could overflow `i32`).
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct QRnn<const I: usize, const H: usize, const O: usize> {
    /// Scale of each row of `w_xh` (one per token), as `scale · 2^20`.
    pub xh_multiplier: [i32; I],
    /// Scale of each row of `w_hh`, as `scale · 2^29`.
    pub hh_multiplier: [i32; H],
    /// Scale of each row of `w_hy`, as `scale · 2^17 / logit_scale`.
    pub hy_multiplier: [i32; O],
    /// Hidden bias, Q12.
    pub b_h: [i32; H],
    /// Output bias, in units of `logit_scale`.
    pub b_y: [i32; O],
    /// Input-to-hidden weights, row `i` = token `i`'s embedding, or channel `i`'s weights (as in
    /// [`crate::Rnn::w_xh`]).
    pub w_xh: [[i8; H]; I],
    /// Hidden-to-hidden weights: row `j` holds the weights into hidden unit `j`.
    pub w_hh: [[i8; H]; H],
    /// Hidden-to-output weights: row `o` holds the weights into output `o`.
    pub w_hy: [[i8; H]; O],
    /// The real value of one unit of an integer logit (chosen by [`QRnn::quantize`]); used only
    /// to turn logits back into floats (probabilities, the loss), never by the integer path.
    pub logit_scale: f32,
    /// The raw dense inputs' per-channel normalization (no change for token models:
    /// [`Normalization::IDENTITY`] or [`Normalization::ZERO`]).
    pub normalization: Normalization<I>,
}

impl<const I: usize, const H: usize, const O: usize> QRnn<I, H, O> {
    /// All parameters zero (and `logit_scale` 0); the normalization [`Normalization::ZERO`]
    /// (no change), so that every byte is zero and a `static` of it costs no flash.
    pub const ZERO: Self = Self {
        xh_multiplier: [0; I],
        hh_multiplier: [0; H],
        hy_multiplier: [0; O],
        b_h: [0; H],
        b_y: [0; O],
        w_xh: [[0; H]; I],
        w_hh: [[0; H]; H],
        w_hy: [[0; H]; O],
        logit_scale: 0.0,
        normalization: Normalization::ZERO,
    };

    /// Size of the struct in bytes.
    pub const SIZE: usize = core::mem::size_of::<Self>();

    /// Fails to compile for `H > MAX_COLS`.
    const HIDDEN_FITS: () = assert!(H <= MAX_COLS, "QRnn: H must be at most 511");

    /// Advances the Q15 hidden state by one token: `hidden = tanh(W_xh[token] + W_hh·hidden +
    /// b_h)` in integers (see the module docs).
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for a token `≥ I`; `hidden` is then unchanged.
    #[inline(never)]
    pub fn step(&self, token: usize, hidden: &mut [i16; H]) -> Result<(), Error> {
        let () = Self::HIDDEN_FITS;
        let (Some(row), Some(&multiplier)) = (self.w_xh.get(token), self.xh_multiplier.get(token))
        else {
            return Err(Error::TokenOutOfRange { token, limit: I });
        };
        let units = int::ElmanUnits {
            multipliers: &self.hh_multiplier,
            biases: &self.b_h,
            input_row: row,
            input_multiplier: multiplier,
        };
        int::elman_update(&self.w_hh, hidden, units);
        Ok(())
    }

    /// Advances the Q15 hidden state by one **raw** sample (the training files' units):
    /// normalized by [`QRnn::normalization`], quantized to Q12, then the dense step of the module
    /// docs.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `I > 512` (the dense sum's bound); `hidden` is then unchanged.
    #[inline(never)]
    pub fn step_sample(&self, sample: &[f32; I], hidden: &mut [i16; H]) -> Result<(), Error> {
        let x = self.quantize_sample(sample);
        self.step_q12_with(&x, hidden, int::elman_update)
    }

    /// A raw sample as the integer step sees it: [`dense::quantize_sample`] with the model's
    /// normalization.
    pub fn quantize_sample(&self, sample: &[f32; I]) -> [i16; I] {
        dense::quantize_sample(&self.normalization, sample)
    }

    /// The dense step from a Q12 sample `x` over the fused update `update` (which must equal
    /// [`int::elman::scalar`]: the scalar reference and the `SMLAD` path both do).
    ///
    /// # Errors
    /// As [`QRnn::step_sample`].
    pub fn step_q12_with(
        &self,
        x: &[i16; I],
        hidden: &mut [i16; H],
        update: ElmanUpdate<H>,
    ) -> Result<(), Error> {
        let () = Self::HIDDEN_FITS;
        dense::check_channels::<I>()?;
        let biases = self.dense_biases(x);
        let units = ElmanUnits {
            multipliers: &self.hh_multiplier,
            biases: &biases,
            input_row: &[0; H],
            input_multiplier: 0,
        };
        update(&self.w_hh, hidden, units);
        Ok(())
    }

    /// `sat(b_h[j] + x_j)` for every unit: the biases with a Q12 sample's input terms (module
    /// docs). Exact for `I ≤ 512`: `|w·m| < 2^30`, `|x| ≤ 2^15`, so the `i64` sum stays below
    /// `2^54`.
    fn dense_biases(&self, x: &[i16; I]) -> [i32; H] {
        let mut sums = [0i64; H];
        for ((row, &m), &x) in self.w_xh.iter().zip(&self.xh_multiplier).zip(x) {
            if x == 0 {
                continue;
            }
            let m = int::elman::clamp_input_multiplier(m);
            for (sum, &w) in sums.iter_mut().zip(row) {
                *sum += i64::from(i32::from(w) * m) * i64::from(x);
            }
        }
        let mut biases = self.b_h;
        for (b, sum) in biases.iter_mut().zip(sums) {
            let input = (sum + (1 << (DENSE_SHIFT - 1))) >> DENSE_SHIFT;
            let input = input.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32;
            *b = b.saturating_add(input);
        }
        biases
    }

    /// Integer logits of a hidden state: `logits = saturate_i16(W_hy·hidden + b_y)`; real
    /// values are `logit · logit_scale`.
    #[inline(never)]
    pub fn logits(&self, hidden: &[i16; H], logits: &mut [i16; O]) {
        let () = Self::HIDDEN_FITS;
        int::readout(
            self.w_hy.as_flattened(),
            hidden,
            &self.hy_multiplier,
            &self.b_y,
            logits,
        );
    }
}
