//! Post-training quantization: a trained f32 [`Rnn`] to a [`QRnn`], and back for checking.
//!
//! Every weight row gets a symmetric scale `s ≥ max|w| / 127`, rounded *up* to the row's
//! fixed-point multiplier grid, so no weight clips: `q = round(w / s)` in `[-127, 127]` and
//! `|w − q·s| ≤ s / 2`. Biases become i32 (`b_h` in Q12, `b_y` in logit units). The hidden state
//! needs no scale (tanh is in `(-1, 1)`: Q15), nor does the pre-activation (Q12 in an i32; the
//! integer tanh saturates past ±8 anyway).
//!
//! The one activation scale to choose is that of the i16 logits, `logit_scale`. Without
//! calibration it is the worst case, `max_o (Σ_k |w_hy[o][k]| + |b_y[o]|) / 32767`, which no
//! logit can exceed. With a calibration sequence, the float model runs over it and the scale
//! covers 1.25 × the largest logit seen: finer logits, and a logit beyond that saturates at the
//! i16 limit instead of wrapping.

use super::qrnn::{QRnn, XH_MULTIPLIER_LIMIT};
use crate::Error;
use crate::model::normalize::Normalization;
use crate::model::{Infer, Rnn, Sequence};

/// `s = m · XH_UNIT` for a row of `w_xh`.
const XH_UNIT: f64 = 1.0 / (1u64 << 20) as f64;
/// `s = m · HH_UNIT` for a row of `w_hh`.
pub(super) const HH_UNIT: f64 = 1.0 / (1u64 << 29) as f64;
/// `s = m · logit_scale · HY_UNIT` for a row of `w_hy`.
pub(super) const HY_UNIT: f64 = 1.0 / (1u64 << 17) as f64;
/// Headroom of a calibrated logit scale over the largest logit seen.
const CALIBRATION_HEADROOM: f64 = 1.25;

/// Quantizes one row (its values in order) with the multiplier grid `unit` (`s = m·unit`);
/// returns `m`.
pub(super) fn quantize_row(
    w: impl Iterator<Item = f32> + Clone,
    q: &mut [i8],
    unit: f64,
    limit: i32,
) -> Result<i32, Error> {
    let mut amax = 0.0f64;
    for w in w.clone() {
        if !w.is_finite() {
            return Err(Error::InvalidSetting("a weight is not finite"));
        }
        amax = amax.max(f64::from(w).abs());
    }
    let m = libm::ceil(amax / 127.0 / unit);
    if m > f64::from(limit) {
        return Err(Error::InvalidSetting(
            "a weight is too large to quantize (row scale beyond the multiplier's range)",
        ));
    }
    let m = m.max(1.0) as i32;
    let scale = f64::from(m) * unit;
    for (q, w) in q.iter_mut().zip(w) {
        *q = libm::round(f64::from(w) / scale).clamp(-127.0, 127.0) as i8;
    }
    Ok(m)
}

/// A finite bias as a saturated integer in units of `unit`.
pub(super) fn quantize_bias(b: f32, unit: f64) -> Result<i32, Error> {
    if !b.is_finite() {
        return Err(Error::InvalidSetting("a bias is not finite"));
    }
    Ok(libm::round(f64::from(b) / unit) as i32)
}

/// The largest `|logit|` the float model produces over each of `sequences`, each from
/// `start`.
pub(super) fn calibrated_logit_max<M, const I: usize, const H: usize, const O: usize>(
    model: &M,
    start: &[f32; H],
    sequences: &[Sequence<'_, I>],
) -> Result<f64, Error>
where
    M: Infer<I, Hidden = [f32; H], Logits = [f32; O]>,
{
    let mut logits = [0.0f32; O];
    let mut max = 0.0f64;
    for sequence in sequences {
        let mut hidden = *start;
        for t in 0..sequence.len() {
            let input = sequence.get(t).ok_or(Error::InvalidSetting(
                "a calibration sequence is shorter than it says",
            ))?;
            model.step(input, &mut hidden)?;
            model.logits(&hidden, &mut logits);
            for &l in &logits {
                max = max.max(f64::from(l).abs());
            }
        }
    }
    if !max.is_finite() {
        return Err(Error::InvalidSetting("calibration logits are not finite"));
    }
    Ok(max)
}

/// The logit scale of a readout `w_hy`, `b_y`: worst case, or covering a calibrated largest
/// logit; never so small that a row multiplier of `w_hy` leaves the `i32` range.
pub(super) fn logit_scale<const H: usize, const O: usize>(
    w_hy: &[[f32; H]; O],
    b_y: &[f32; O],
    calibrated_max: Option<f64>,
) -> Result<f64, Error> {
    let mut bound = 0.0f64;
    let mut row_scale = 0.0f64;
    for (row, &b) in w_hy.iter().zip(b_y) {
        let abs_sum: f64 = row.iter().map(|&w| f64::from(w).abs()).sum();
        bound = bound.max(abs_sum + f64::from(b).abs());
        row_scale = row_scale.max(row.iter().fold(0.0f64, |a, &w| a.max(f64::from(w).abs())));
    }
    let covered = match calibrated_max {
        Some(max) => max * CALIBRATION_HEADROOM,
        None => bound,
    };
    // hy_multiplier = ceil(row_scale / 127 / (L · HY_UNIT)) must stay below 2^30.
    let floor = row_scale / 127.0 / HY_UNIT / f64::from(1 << 30);
    let scale = (covered / 32767.0)
        .max(floor)
        .max(f64::from(f32::MIN_POSITIVE));
    if !scale.is_finite() {
        return Err(Error::InvalidSetting("a weight or bias is not finite"));
    }
    Ok(scale)
}

/// The Q15 state of an f32 one: each value rounded to the nearest `1 / 2^15` and saturated to
/// `±32767` (NaN to 0).
pub fn quantize_state<const H: usize>(hidden: &[f32; H]) -> [i16; H] {
    hidden.map(|h| {
        let q = libm::round(f64::from(h) * 32768.0);
        if q.is_nan() {
            0
        } else {
            q.clamp(-32767.0, 32767.0) as i16
        }
    })
}

/// Quantizes the readout `w_hy`, `b_y` at `logit_scale` (rounded to the stored f32) into
/// `q_w_hy`, `hy_multiplier`, `q_b_y`.
pub(super) fn quantize_readout<const H: usize, const O: usize>(
    (w_hy, b_y): (&[[f32; H]; O], &[f32; O]),
    logit_scale: f64,
    (q_w_hy, hy_multiplier, q_b_y): (&mut [[i8; H]; O], &mut [i32; O], &mut [i32; O]),
) -> Result<(), Error> {
    for ((q, w), m) in q_w_hy.iter_mut().zip(w_hy).zip(hy_multiplier) {
        *m = quantize_row(w.iter().copied(), q, HY_UNIT * logit_scale, 1 << 30)?;
    }
    for (q, &b) in q_b_y.iter_mut().zip(b_y) {
        *q = quantize_bias(b, logit_scale)?;
    }
    Ok(())
}

impl<const I: usize, const H: usize, const O: usize> QRnn<I, H, O> {
    /// The Q15 hidden state of an f32 one: each value rounded to the nearest `1 / 2^15` and
    /// saturated to `±32767` (NaN to 0). `micrornn quantize` stores a model's initial state so.
    ///
    /// ```
    /// use micrornn::QRnn;
    /// assert_eq!(QRnn::<1, 3, 1>::quantize_state(&[0.5, -1.0, 1e-6]), [16384, -32767, 0]);
    /// ```
    pub fn quantize_state(hidden: &[f32; H]) -> [i16; H] {
        quantize_state(hidden)
    }

    /// Post-training quantization of a trained model; with `calibration` (token ids) the logit
    /// scale is fitted to the logits the model produces on it (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a non-finite parameter or a weight row too large for its
    /// multiplier (`max|w|` ≥ 508 in `w_hh`, ≥ 1016 in `w_xh`); [`Error::TokenOutOfRange`] for
    /// a calibration token `≥ I`.
    pub fn quantize(rnn: &Rnn<I, H, O>, calibration: Option<&[usize]>) -> Result<Self, Error> {
        let mut q = Self::ZERO;
        q.quantize_from(rnn, calibration)?;
        Ok(q)
    }

    /// As [`QRnn::quantize`], in place (for models too large for the stack). On error `self`
    /// may be partly overwritten.
    ///
    /// # Errors
    /// As [`QRnn::quantize`].
    pub fn quantize_from(
        &mut self,
        rnn: &Rnn<I, H, O>,
        calibration: Option<&[usize]>,
    ) -> Result<(), Error> {
        let tokens = calibration.map(|tokens| [Sequence::Tokens(tokens)]);
        self.quantize_dense_from(
            rnn,
            &Normalization::IDENTITY,
            tokens.as_ref().map(|sequences| (&[0.0; H], &sequences[..])),
        )
    }

    /// Post-training quantization of a trained model whose dense inputs are normalized by
    /// `normalization` (kept in the model: [`QRnn::step_sample`] takes raw samples), as
    /// [`QGru::quantize`](crate::QGru::quantize) does. With `calibration` (sequences of the
    /// float model's own inputs — normalized samples, or tokens — each from `start`) the logit
    /// scale is fitted to the logits seen, else it is the worst case.
    ///
    /// ```
    /// use micrornn::model::{QRnn, Rnn, normalize::Normalization};
    /// use micrornn::{Cell, Input};
    /// let mut rnn = Rnn::<2, 4, 2>::ZERO;
    /// rnn.w_xh = [[0.5; 4], [-0.25; 4]];
    /// rnn.w_hy[1] = [1.0; 4];
    /// let normalization = Normalization { mean: [1.0, 0.0], std: [2.0, 1.0] };
    /// let q = QRnn::quantize_dense(&rnn, &normalization, None)?;
    /// let (mut h, mut hq) = ([0.0f32; 4], [0i16; 4]);
    /// Cell::step(&rnn, Input::Dense(&[2.0, 0.5]), &mut h)?; // the float model: normalized
    /// q.step_sample(&[5.0, 0.5], &mut hq)?; // the int8 model: raw, (5 − 1) / 2 = 2
    /// assert!((f32::from(hq[0]) / 32768.0 - h[0]).abs() < 1e-3);
    /// # Ok::<(), micrornn::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`QRnn::quantize`].
    pub fn quantize_dense(
        rnn: &Rnn<I, H, O>,
        normalization: &Normalization<I>,
        calibration: Option<(&[f32; H], &[Sequence<'_, I>])>,
    ) -> Result<Self, Error> {
        let mut q = Self::ZERO;
        q.quantize_dense_from(rnn, normalization, calibration)?;
        Ok(q)
    }

    /// As [`QRnn::quantize_dense`], in place (for models too large for the stack). On error
    /// `self` may be partly overwritten.
    ///
    /// # Errors
    /// As [`QRnn::quantize`].
    pub fn quantize_dense_from(
        &mut self,
        rnn: &Rnn<I, H, O>,
        normalization: &Normalization<I>,
        calibration: Option<(&[f32; H], &[Sequence<'_, I>])>,
    ) -> Result<(), Error> {
        // Rounded to the f32 that is stored, so the multipliers match what the file holds.
        let calibrated_max = match calibration {
            Some((start, sequences)) => Some(calibrated_logit_max(rnn, start, sequences)?),
            None => None,
        };
        let logit_scale = f64::from(logit_scale(&rnn.w_hy, &rnn.b_y, calibrated_max)? as f32);
        let rows = self
            .w_xh
            .iter_mut()
            .zip(&rnn.w_xh)
            .zip(&mut self.xh_multiplier);
        for ((q, w), m) in rows {
            *m = quantize_row(w.iter().copied(), q, XH_UNIT, XH_MULTIPLIER_LIMIT)?;
        }
        let rows = self
            .w_hh
            .iter_mut()
            .zip(&rnn.w_hh)
            .zip(&mut self.hh_multiplier);
        for ((q, w), m) in rows {
            *m = quantize_row(w.iter().copied(), q, HH_UNIT, i32::MAX)?;
        }
        quantize_readout(
            (&rnn.w_hy, &rnn.b_y),
            logit_scale,
            (&mut self.w_hy, &mut self.hy_multiplier, &mut self.b_y),
        )?;
        for (q, &b) in self.b_h.iter_mut().zip(&rnn.b_h) {
            *q = quantize_bias(b, 1.0 / 4096.0)?;
        }
        self.normalization = *normalization;
        self.logit_scale = logit_scale as f32;
        Ok(())
    }

    /// The real values the integers stand for, written into `rnn` (to measure the
    /// quantization error, or to run the float kernels on quantized weights).
    pub fn dequantize(&self, rnn: &mut Rnn<I, H, O>) {
        let logit_scale = f64::from(self.logit_scale);
        let tensors = [
            (
                rnn.w_xh.as_mut_slice(),
                &self.w_xh[..],
                &self.xh_multiplier[..],
                XH_UNIT,
            ),
            (
                &mut rnn.w_hh[..],
                &self.w_hh[..],
                &self.hh_multiplier[..],
                HH_UNIT,
            ),
            (
                &mut rnn.w_hy[..],
                &self.w_hy[..],
                &self.hy_multiplier[..],
                HY_UNIT * logit_scale,
            ),
        ];
        for (rows, q_rows, multipliers, unit) in tensors {
            for ((row, q_row), &m) in rows.iter_mut().zip(q_rows).zip(multipliers) {
                let scale = f64::from(m) * unit;
                for (w, &q) in row.iter_mut().zip(q_row) {
                    *w = (f64::from(q) * scale) as f32;
                }
            }
        }
        for (b, &q) in rnn.b_h.iter_mut().zip(&self.b_h) {
            *b = (f64::from(q) / 4096.0) as f32;
        }
        for (b, &q) in rnn.b_y.iter_mut().zip(&self.b_y) {
            *b = (f64::from(q) * logit_scale) as f32;
        }
    }

    /// The scale of row `row` of tensor `tensor` (0 `w_xh`, 1 `w_hh`, 2 `w_hy`): the real value
    /// of one unit of its int8 weights; `None` past the end.
    pub fn row_scale(&self, tensor: usize, row: usize) -> Option<f64> {
        match tensor {
            0 => self.xh_multiplier.get(row).map(|&m| f64::from(m) * XH_UNIT),
            1 => self.hh_multiplier.get(row).map(|&m| f64::from(m) * HH_UNIT),
            2 => self
                .hy_multiplier
                .get(row)
                .map(|&m| f64::from(m) * HY_UNIT * f64::from(self.logit_scale)),
            _ => None,
        }
    }
}
