//! Post-training quantization of a trained f32 [`Gru`] to a [`QGru`], with the same row
//! quantization, biases and logit scale as the Elman cell's ([`super::quantize`]); and back
//! ([`QGru::dequantize`]) to measure the error.
//!
//! Each row (gate, unit) of the input weights gets its own scale, as does each recurrent row
//! and readout row. The gates' pre-activations are Q12 in an `i32` and need no scale; the state
//! is Q15; a dense input is Q12 after the model's normalization (±8 standard deviations).

use super::qgru::QGru;
use super::quantize::{
    HH_UNIT, HY_UNIT, calibrated_logit_max, logit_scale, quantize_bias, quantize_readout,
    quantize_row,
};
use crate::Error;
use crate::model::normalize::Normalization;
use crate::model::{Gru, Sequence};

/// `s = m · X_UNIT` for a row of `w_x` (a Q12 input times `s` lands in Q12 after the
/// requantization's `2^-32`).
const X_UNIT: f64 = 1.0 / (1u64 << 32) as f64;

/// One unit of a Q12 bias.
const Q12: f64 = 1.0 / 4096.0;

impl<const I: usize, const H: usize, const O: usize> QGru<I, H, O> {
    /// Post-training quantization of a trained GRU whose dense inputs (if any) are normalized
    /// by `normalization` (the identity for token models). With `calibration` (sequences of the
    /// float model's own inputs — normalized samples, or tokens — each from `start`) the logit
    /// scale is fitted to the logits seen, else it is the worst case.
    ///
    /// ```
    /// use micrornn::model::{Gru, QGru, normalize::Normalization};
    /// use micrornn::{Cell, Input, Infer};
    /// let mut gru = Gru::<2, 4, 2>::ZERO;
    /// gru.b_xh[2] = [0.5; 4];
    /// gru.w_hy[1] = [1.0; 4];
    /// let q = QGru::quantize(&gru, &Normalization::IDENTITY, None)?;
    /// let (mut h, mut hq) = ([0.0f32; 4], [0i16; 4]);
    /// Cell::step(&gru, Input::Dense(&[0.0, 0.0]), &mut h)?;
    /// q.step_sample(&[0.0, 0.0], &mut hq)?;
    /// assert!((f32::from(hq[0]) / 32768.0 - h[0]).abs() < 1e-3);
    /// # Ok::<(), micrornn::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a non-finite parameter or a row too large for its
    /// multiplier (`max|w|` ≥ 63.5 in `w_xh`, ≥ 508 in `w_hh`); [`Error::TokenOutOfRange`]
    /// for a calibration token `≥ I`.
    pub fn quantize(
        gru: &Gru<I, H, O>,
        normalization: &Normalization<I>,
        calibration: Option<(&[f32; H], &[Sequence<'_, I>])>,
    ) -> Result<Self, Error> {
        let mut q = Self::ZERO;
        q.quantize_from(gru, normalization, calibration)?;
        Ok(q)
    }

    /// As [`QGru::quantize`], in place (for models too large for the stack). On error `self`
    /// may be partly overwritten.
    ///
    /// # Errors
    /// As [`QGru::quantize`].
    pub fn quantize_from(
        &mut self,
        gru: &Gru<I, H, O>,
        normalization: &Normalization<I>,
        calibration: Option<(&[f32; H], &[Sequence<'_, I>])>,
    ) -> Result<(), Error> {
        let calibrated_max = match calibration {
            Some((start, sequences)) => Some(calibrated_logit_max(gru, start, sequences)?),
            None => None,
        };
        let logit_scale = f64::from(logit_scale(&gru.w_hy, &gru.b_y, calibrated_max)? as f32);
        for g in 0..3 {
            for j in 0..H {
                let (Some(q_row), Some(m)) = (
                    self.w_x.get_mut(g).and_then(|rows| rows.get_mut(j)),
                    self.x_multiplier.get_mut(g).and_then(|m| m.get_mut(j)),
                ) else {
                    continue;
                };
                let column = gru.w_xh.iter().map(move |row| row[g][j]);
                *m = quantize_row(column, q_row, X_UNIT, i32::MAX)?;
            }
        }
        let rows = self.w_h.iter_mut().flatten().zip(gru.w_hh.iter().flatten());
        for ((q_row, w), m) in rows.zip(self.h_multiplier.iter_mut().flatten()) {
            *m = quantize_row(w.iter().copied(), q_row, HH_UNIT, i32::MAX)?;
        }
        let biases = [(&mut self.b_x, &gru.b_xh), (&mut self.b_h, &gru.b_hh)];
        for (q, b) in biases {
            for (q, &b) in q.iter_mut().flatten().zip(b.iter().flatten()) {
                *q = quantize_bias(b, Q12)?;
            }
        }
        quantize_readout(
            (&gru.w_hy, &gru.b_y),
            logit_scale,
            (&mut self.w_hy, &mut self.hy_multiplier, &mut self.b_y),
        )?;
        self.normalization = *normalization;
        self.logit_scale = logit_scale as f32;
        Ok(())
    }

    /// The real values the integers stand for, written into `gru` (to measure the
    /// quantization error, or to run the float kernels on quantized weights).
    pub fn dequantize(&self, gru: &mut Gru<I, H, O>) {
        for (g, (rows, multipliers)) in self.w_x.iter().zip(&self.x_multiplier).enumerate() {
            for (j, (row, &m)) in rows.iter().zip(multipliers).enumerate() {
                let scale = f64::from(m) * X_UNIT;
                for (input, &q) in gru.w_xh.iter_mut().zip(row) {
                    input[g][j] = (f64::from(q) * scale) as f32;
                }
            }
        }
        let rows = gru.w_hh.iter_mut().flatten().zip(self.w_h.iter().flatten());
        for ((row, q_row), &m) in rows.zip(self.h_multiplier.iter().flatten()) {
            let scale = f64::from(m) * HH_UNIT;
            for (w, &q) in row.iter_mut().zip(q_row) {
                *w = (f64::from(q) * scale) as f32;
            }
        }
        let logit_scale = f64::from(self.logit_scale);
        for ((row, q_row), &m) in gru.w_hy.iter_mut().zip(&self.w_hy).zip(&self.hy_multiplier) {
            let scale = f64::from(m) * HY_UNIT * logit_scale;
            for (w, &q) in row.iter_mut().zip(q_row) {
                *w = (f64::from(q) * scale) as f32;
            }
        }
        let biases = [(&mut gru.b_xh, &self.b_x), (&mut gru.b_hh, &self.b_h)];
        for (b, q) in biases {
            for (b, &q) in b.iter_mut().flatten().zip(q.iter().flatten()) {
                *b = (f64::from(q) * Q12) as f32;
            }
        }
        for (b, &q) in gru.b_y.iter_mut().zip(&self.b_y) {
            *b = (f64::from(q) * logit_scale) as f32;
        }
    }
}
