//! The quantized GRU: the gates of [`Gru`](crate::Gru) (PyTorch `nn.GRU`'s equations, gate
//! order r, z, n) in integers, over the same int8 kernels as [`QRnn`](super::QRnn).
//!
//! ```text
//! x_g[j]  = requantize(Σ_i w_x[g][j][i]·x_i, x_multiplier[g][j])        (Q12; x_i in Q12)
//! h_g[j]  = requantize(Σ_k w_h[g][j][k]·h_k, h_multiplier[g][j])        (Q12; h_k in Q15)
//! r_j     = sigmoid_q15(x_r[j] + b_x[r][j] + h_r[j] + b_h[r][j])        (Q15)
//! z_j     = sigmoid_q15(x_z[j] + b_x[z][j] + h_z[j] + b_h[z][j])        (Q15)
//! n_j     = tanh_q15(x_n[j] + b_x[n][j] + (r_j·(h_n[j] + b_h[n][j]) + 2^14) >> 15)
//! h'_j    = n_j + (z_j·(h_j − n_j) + 2^14) >> 15                          (Q15)
//! logit_o = saturate_i16(b_y[o] + requantize(Σ_k w_hy[o][k]·h'_k, hy_multiplier[o]))
//! ```
//!
//! The input weights are stored by gate and unit (`w_x[g][j]` is the row of the `I` weights into
//! unit `j` of gate `g`, with one scale per row), so a dense sample is a product of `3H` rows
//! and a token is the column `token` of those rows — the same arithmetic as a dense one-hot
//! input of value 1.0 (4096 in Q12), without the product. The recurrent weights are a `3H × H`
//! product. [`QGru::step_token`], [`QGru::step_q12`] and [`QGru::step_sample`] run both
//! products and the gate math in one fused kernel, [`int::gru_update`] (per four units the three
//! gates' rows at a compile-time stride through the `SMLAD` sums on a Cortex-M4, then each
//! unit's gates); [`QGru::step_with`] is the same step in separate passes over any
//! [`matvec_requant`](crate::kernels::int::matvec_requant), bit-identical. Every sum saturates;
//! the reset product is taken in `i64`
//! (no overflow for any `i32` operand).
//!
//! A dense model carries its inputs' [`Normalization`]: its step takes the **raw** sample, in
//! the units of the training files, and normalizes and quantizes it itself (`x_i =
//! round(2^12·(raw_i − mean_i) / std_i)`, ±8 standard deviations). Firmware reading an IMU
//! then hands the reading over as it is and cannot forget or misapply the normalization; the
//! model file is the whole contract, and host and device compute the same integers (one IEEE
//! subtraction and division per channel, exact and deterministic on every target).
//!
//! Real values: a row of `w_x` has the scale `x_multiplier · 2^-32`, a row of `w_h`
//! `h_multiplier · 2^-29`, a row of `w_hy` `hy_multiplier · logit_scale · 2^-17`; the biases
//! are Q12, `b_y` and the logits in units of `logit_scale`, the hidden state is `h / 2^15`.
//! The gates' error against f32: [`TANH_MAX_ERROR_LSB`](crate::kernels::int::TANH_MAX_ERROR_LSB)
//! and [`SIGMOID_MAX_ERROR_LSB`](crate::kernels::int::SIGMOID_MAX_ERROR_LSB) units of `2^-15`.

use crate::Error;
use crate::kernels::int::{self, MAX_COLS};
use crate::model::Input;
use crate::model::infer::Infer;
use crate::model::normalize::Normalization;

/// The integer matrix-vector product a step runs on: [`int::matvec_requant`] (the target's
/// own), or, in tests, [`int::scalar::matvec_requant`] and [`int::packed::matvec_requant`].
pub type Matvec = fn(&[i8], &[i16], &[i32], &mut [i32]);

/// The input of one integer step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QInput<'a, const I: usize> {
    /// A token id (`< I`).
    Token(usize),
    /// A normalized dense sample in Q12 (`round(x · 2^12)`, see [`int::quantize_q12`]).
    Q12(&'a [i16; I]),
}

/// A quantized GRU with `I` inputs (token ids or sensor channels), `H ≤ 512` hidden units and `O`
/// outputs (see the module docs for the arithmetic).
///
/// Plain integer arrays, `#[repr(C)]`: it can live in a `static` ([`QGru::ZERO`], or
/// [`qformat::decode_gru_const`](crate::qformat::decode_gru_const) for weights in flash) and takes
/// [`QGru::SIZE`] bytes, a quarter of the f32 [`Gru`](crate::Gru).
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
pub struct QGru<const I: usize, const H: usize, const O: usize> {
    /// Scale of each input row (gate, unit), as `scale · 2^32`.
    pub x_multiplier: [[i32; H]; 3],
    /// Scale of each recurrent row (gate, unit), as `scale · 2^29`.
    pub h_multiplier: [[i32; H]; 3],
    /// Scale of each row of `w_hy`, as `scale · 2^17 / logit_scale`.
    pub hy_multiplier: [i32; O],
    /// Input-side gate biases (r, z, n), Q12.
    pub b_x: [[i32; H]; 3],
    /// Recurrent-side gate biases (r, z, n), Q12; `b_h[2]` is inside the reset product.
    pub b_h: [[i32; H]; 3],
    /// Output bias, in units of `logit_scale`.
    pub b_y: [i32; O],
    /// Input weights: `w_x[g][j]` holds the `I` weights into unit `j` of gate `g`.
    pub w_x: [[[i8; I]; H]; 3],
    /// Recurrent weights: `w_h[g][j]` holds the `H` weights into unit `j` of gate `g`.
    pub w_h: [[[i8; H]; H]; 3],
    /// Hidden-to-output weights: row `o` holds the weights into output `o`.
    pub w_hy: [[i8; H]; O],
    /// The raw dense inputs' per-channel normalization (identity for token models).
    pub normalization: Normalization<I>,
    /// The real value of one unit of an integer logit; used only to turn logits back into
    /// floats, never by the integer path.
    pub logit_scale: f32,
}

impl<const I: usize, const H: usize, const O: usize> QGru<I, H, O> {
    /// All parameters zero, identity normalization, `logit_scale` 0.
    pub const ZERO: Self = Self {
        x_multiplier: [[0; H]; 3],
        h_multiplier: [[0; H]; 3],
        hy_multiplier: [0; O],
        b_x: [[0; H]; 3],
        b_h: [[0; H]; 3],
        b_y: [0; O],
        w_x: [[[0; I]; H]; 3],
        w_h: [[[0; H]; H]; 3],
        w_hy: [[0; H]; O],
        normalization: Normalization::IDENTITY,
        logit_scale: 0.0,
    };

    /// Size of the struct in bytes.
    pub const SIZE: usize = core::mem::size_of::<Self>();

    /// Fails to compile for `H > MAX_COLS`.
    const HIDDEN_FITS: () = assert!(H <= MAX_COLS, "QGru: H must be at most 512");

    /// Advances the Q15 state by one token.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for a token `≥ I`; `hidden` is then unchanged.
    #[inline(never)]
    pub fn step_token(&self, token: usize, hidden: &mut [i16; H]) -> Result<(), Error> {
        let () = Self::HIDDEN_FITS;
        if token >= I {
            return Err(Error::TokenOutOfRange { token, limit: I });
        }
        int::gru_update(&self.weights(), int::GruInput::Token(token), hidden);
        Ok(())
    }

    /// Advances the Q15 state by one **raw** sample (the training files' units): normalized by
    /// [`QGru::normalization`], quantized to Q12, then the integer step.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `I > 512` (the dense product could overflow).
    #[inline(never)]
    pub fn step_sample(&self, sample: &[f32; I], hidden: &mut [i16; H]) -> Result<(), Error> {
        let x = self.quantize_sample(sample);
        self.step_q12(&x, hidden)
    }

    /// Advances the Q15 state by one sample already normalized and quantized to Q12 (see
    /// [`QGru::quantize_sample`]).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `I > 512` (the dense product could overflow); `hidden` is
    /// then unchanged.
    #[inline(never)]
    pub fn step_q12(&self, x: &[i16; I], hidden: &mut [i16; H]) -> Result<(), Error> {
        let () = Self::HIDDEN_FITS;
        super::dense::check_channels::<I>()?;
        int::gru_update(&self.weights(), int::GruInput::Q12(x), hidden);
        Ok(())
    }

    /// The parameters as the fused kernel [`int::gru_update`] takes them.
    pub fn weights(&self) -> int::GruWeights<'_, I, H> {
        int::GruWeights {
            w_x: &self.w_x,
            w_h: &self.w_h,
            x_multiplier: &self.x_multiplier,
            h_multiplier: &self.h_multiplier,
            b_x: &self.b_x,
            b_h: &self.b_h,
        }
    }

    /// A raw sample as the integer step sees it: [`dense::quantize_sample`](super::dense::quantize_sample)
    /// with the model's normalization.
    pub fn quantize_sample(&self, sample: &[f32; I]) -> [i16; I] {
        super::dense::quantize_sample(&self.normalization, sample)
    }

    /// The integer step over the product `matvec` (which must equal
    /// [`int::scalar::matvec_requant`]: the scalar reference and the `SMLAD` path both do), in
    /// separate passes: the products into buffers of `3H` pre-activations, then the gate math.
    /// The composable reference of [`QGru::step_token`] and [`QGru::step_q12`], which run the
    /// fused [`int::gru_update`] and equal this bit for bit.
    ///
    /// # Errors
    /// As [`QGru::step_token`] and [`QGru::step_sample`]; `hidden` is then unchanged.
    pub fn step_with(
        &self,
        input: QInput<'_, I>,
        hidden: &mut [i16; H],
        matvec: Matvec,
    ) -> Result<(), Error> {
        let () = Self::HIDDEN_FITS;
        let mut gx = [[0i32; H]; 3];
        match input {
            QInput::Token(token) => {
                if token >= I {
                    return Err(Error::TokenOutOfRange { token, limit: I });
                }
                let rows = self
                    .w_x
                    .iter()
                    .flatten()
                    .zip(self.x_multiplier.iter().flatten());
                for (out, (row, &m)) in gx.iter_mut().flatten().zip(rows) {
                    let w = row.get(token).copied().unwrap_or(0);
                    *out = int::requantize(i32::from(w) << 12, m);
                }
            }
            QInput::Q12(x) => {
                super::dense::check_channels::<I>()?;
                matvec(
                    self.w_x.as_flattened().as_flattened(),
                    x,
                    self.x_multiplier.as_flattened(),
                    gx.as_flattened_mut(),
                );
            }
        }
        let mut gh = [[0i32; H]; 3];
        matvec(
            self.w_h.as_flattened().as_flattened(),
            hidden,
            self.h_multiplier.as_flattened(),
            gh.as_flattened_mut(),
        );
        let ([x_r, x_z, x_n], [h_r, h_z, h_n]) = (&gx, &gh);
        let ([bx_r, bx_z, bx_n], [bh_r, bh_z, bh_n]) = (&self.b_x, &self.b_h);
        for j in 0..H {
            let at = |v: &[i32; H]| v.get(j).copied().unwrap_or(0);
            let gate = |x: &[i32; H], bx: &[i32; H], h: &[i32; H], bh: &[i32; H]| {
                at(x)
                    .saturating_add(at(bx))
                    .saturating_add(at(h))
                    .saturating_add(at(bh))
            };
            let r = int::sigmoid_q15(gate(x_r, bx_r, h_r, bh_r));
            let z = int::sigmoid_q15(gate(x_z, bx_z, h_z, bh_z));
            let recurrent = i64::from(at(h_n).saturating_add(at(bh_n)));
            let reset = ((recurrent * i64::from(r) + (1 << 14)) >> 15) as i32;
            let n = int::tanh_q15(at(x_n).saturating_add(at(bx_n)).saturating_add(reset));
            if let Some(h) = hidden.get_mut(j) {
                let (n, z, old) = (i32::from(n), i32::from(z), i32::from(*h));
                // |z·(old − n)| ≤ 32767·65534 + 2^14 < 2^31: no overflow.
                *h = int::saturate_i16(n + ((z * (old - n) + (1 << 14)) >> 15));
            }
        }
        Ok(())
    }

    /// Integer logits of a hidden state (padded classes included); real values are
    /// `logit · logit_scale`.
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

/// The int8 GRU: token inputs, or dense **raw** samples (normalized by the model itself, see the
/// module docs); greedy picks compare the integer logits, as firmware does.
impl<const I: usize, const H: usize, const O: usize> Infer<I> for QGru<I, H, O> {
    type Hidden = [i16; H];
    type Logits = [i16; O];
    type Carry = ();
    type RealLogits = [f32; O];
    const ZERO_REAL_LOGITS: [f32; O] = [0.0; O];
    const ZERO_HIDDEN: [i16; H] = [0; H];
    const ZERO_LOGITS: [i16; O] = [0; O];
    const ZERO_CARRY: () = ();
    const OUTPUTS: usize = O;

    fn step(&self, input: Input<'_, I>, hidden: &mut [i16; H]) -> Result<(), Error> {
        match input {
            Input::Token(token) => self.step_token(token, hidden),
            Input::Dense(sample) => self.step_sample(sample, hidden),
        }
    }

    fn logits(&self, hidden: &[i16; H], logits: &mut [i16; O]) {
        QGru::logits(self, hidden, logits);
    }

    fn argmax(&self, logits: &[i16; O], classes: usize) -> usize {
        int::argmax_i16(logits.get(..classes).unwrap_or(logits))
    }

    fn real_logits<'a>(&self, logits: &'a [i16; O], buffer: &'a mut [f32; O]) -> &'a [f32] {
        *buffer = super::dequantized_logits(logits, self.logit_scale);
        buffer
    }
}
