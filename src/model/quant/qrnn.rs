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
//! Each sum after a requantization saturates (no wraparound anywhere). Real values: a row of
//! `w_hh` has the scale `hh_multiplier · 2^-29`, a row of `w_xh` `xh_multiplier · 2^-20`, a row
//! of `w_hy` `hy_multiplier · logit_scale · 2^-17`; `b_h` is Q12, `b_y` and the logits are in
//! units of `logit_scale`, the hidden state is `h / 2^15`.

use crate::Error;
use crate::kernels::int::{self, MAX_COLS};

/// Right shift of the input row's product (`x_j = (q·m + 2^7) >> 8`): the fused update's.
pub const XH_SHIFT: u32 = int::elman::INPUT_SHIFT;
/// The largest `|xh_multiplier|` used: larger ones (from a file written by another tool) are
/// clamped by the update, so `q·m` cannot overflow.
pub const XH_MULTIPLIER_LIMIT: i32 = int::elman::INPUT_MULTIPLIER_LIMIT;

/// A quantized Elman RNN with `I` inputs (token ids), `H ≤ 511` hidden units and `O` outputs.
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
    /// Input-to-hidden weights, row `i` = token `i`'s embedding (as in [`crate::Rnn::w_xh`]).
    pub w_xh: [[i8; H]; I],
    /// Hidden-to-hidden weights: row `j` holds the weights into hidden unit `j`.
    pub w_hh: [[i8; H]; H],
    /// Hidden-to-output weights: row `o` holds the weights into output `o`.
    pub w_hy: [[i8; H]; O],
    /// The real value of one unit of an integer logit (chosen by [`QRnn::quantize`]); used only
    /// to turn logits back into floats (probabilities, the loss), never by the integer path.
    pub logit_scale: f32,
}

impl<const I: usize, const H: usize, const O: usize> QRnn<I, H, O> {
    /// All parameters zero (and `logit_scale` 0).
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
