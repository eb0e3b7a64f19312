//! [`Infer`]: what text generation needs from a recurrent model, the same for the f32 [`Rnn`]
//! and the int8 [`QRnn`] (and for any other cell that implements it), so that one generator
//! ([`crate::workflows::sample::Generator`]) primes, steps, and picks greedy or sampled tokens
//! from either with the same calls.
//!
//! ```
//! use micrornn::{Infer, Input, QRnn, Rnn};
//!
//! /// The most likely next token after `prompt`, for any model.
//! fn next_after<M: Infer<4>>(model: &M, prompt: &[usize]) -> Result<usize, micrornn::Error> {
//!     let mut hidden = M::ZERO_HIDDEN;
//!     for &token in prompt {
//!         model.step(Input::Token(token), &mut hidden)?;
//!     }
//!     let mut logits = M::ZERO_LOGITS;
//!     model.logits(&hidden, &mut logits);
//!     Ok(model.argmax(&logits, 4))
//! }
//!
//! let mut rnn = Rnn::<4, 8, 4>::ZERO;
//! rnn.b_y[2] = 1.0;
//! let q = QRnn::quantize(&rnn, None)?;
//! assert_eq!(next_after(&rnn, &[0, 1])?, 2);
//! assert_eq!(next_after(&q, &[0, 1])?, 2);
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;
use crate::kernels::{self, int};
use crate::model::{Input, QRnn, Rnn};

/// One step of inference of a recurrent model with `I` inputs: its hidden state, a step from an
/// [`Input`], and the logits of the next token.
///
/// A generator keeps, besides the state and the logits, a [`Infer::Carry`]: what a model may
/// precompute for the next step (the f32 Elman cell keeps `W_hh·h + b_h`, computed together
/// with the logits while the state is in cache; other models carry nothing). [`Infer::advance`]
/// and [`Infer::restart`] maintain it; their defaults are [`Infer::step`] and
/// [`Infer::logits`].
pub trait Infer<const I: usize> {
    /// The hidden state: `[f32; H]` for [`Rnn`], Q15 `[i16; H]` for [`QRnn`].
    type Hidden: Copy;
    /// The logits of the next token: `[f32; O]`, or `[i16; O]` in units of
    /// [`QRnn::logit_scale`].
    type Logits: Copy;
    /// What a generator carries between steps besides the state and the logits.
    type Carry: Copy;
    /// A buffer for the logits as real numbers ([`Infer::real_logits`]): `[f32; 0]` when the
    /// logits are `f32` already, `[f32; O]` for integer logits.
    type RealLogits: Copy;
    /// The zero state (all units 0).
    const ZERO_HIDDEN: Self::Hidden;
    /// Zero logits (a buffer to fill).
    const ZERO_LOGITS: Self::Logits;
    /// An empty carry (made valid by [`Infer::restart`]).
    const ZERO_CARRY: Self::Carry;
    /// A zeroed real-logits buffer.
    const ZERO_REAL_LOGITS: Self::RealLogits;
    /// Number of outputs `O`.
    const OUTPUTS: usize;

    /// Advances `hidden` by one input.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for a token `≥ I`; [`Error::InvalidSetting`] for an input
    /// kind the model does not take. `hidden` is then unchanged.
    fn step(&self, input: Input<'_, I>, hidden: &mut Self::Hidden) -> Result<(), Error>;

    /// The logits of the next token after `hidden` (padded classes included).
    fn logits(&self, hidden: &Self::Hidden, logits: &mut Self::Logits);

    /// The index of the largest of the first `classes` logits (the lowest on ties), in the
    /// logits' own arithmetic (integers for [`QRnn`]: what firmware computes).
    fn argmax(&self, logits: &Self::Logits, classes: usize) -> usize;

    /// The logits as real numbers, for the softmax: `logits` themselves for f32, or written
    /// into `buffer` and returned from there.
    fn real_logits<'a>(
        &self,
        logits: &'a Self::Logits,
        buffer: &'a mut Self::RealLogits,
    ) -> &'a [f32];

    /// [`Infer::step`] then [`Infer::logits`], keeping `carry` up to date.
    ///
    /// # Errors
    /// As [`Infer::step`]; nothing changes then.
    fn advance(
        &self,
        input: Input<'_, I>,
        hidden: &mut Self::Hidden,
        carry: &mut Self::Carry,
        logits: &mut Self::Logits,
    ) -> Result<(), Error> {
        let _ = carry;
        self.step(input, hidden)?;
        self.logits(hidden, logits);
        Ok(())
    }

    /// Recomputes `logits` and `carry` for a state set from outside.
    fn restart(&self, hidden: &Self::Hidden, carry: &mut Self::Carry, logits: &mut Self::Logits) {
        let _ = carry;
        self.logits(hidden, logits);
    }
}

/// The carry of the f32 Elman cell: the next step's `W_hh·h + b_h`, and the direction to walk
/// the matrices in next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElmanCarry<const H: usize> {
    /// `W_hh·hidden + b_h`: the next step's pre-activation before its input row.
    pre: [f32; H],
    /// Walk the weight matrices backwards in the next update.
    backwards: bool,
}

/// Rows per kernel call when the f32 cell walks a weight matrix: the unit of its back-and-forth
/// traversal.
const ROW_BLOCK: usize = 32;

/// `y = W·x + b`, [`ROW_BLOCK`] rows per kernel call, the last block first with `backwards`.
/// Every row's result is the same in either order.
fn matvec_blocks(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32], backwards: bool) {
    let matvec = kernels::active().matvec;
    let cols = x.len();
    let blocks = w
        .chunks(ROW_BLOCK * cols.max(1))
        .zip(b.chunks(ROW_BLOCK))
        .zip(y.chunks_mut(ROW_BLOCK));
    if backwards {
        blocks.rev().for_each(|((w, b), y)| matvec(w, x, b, y));
    } else {
        blocks.for_each(|((w, b), y)| matvec(w, x, b, y));
    }
}

/// The f32 Elman cell. Its generator path computes both products with a new state (the logits
/// and the next step's `W_hh·h`) in one update, walking the two matrices in the opposite order
/// of the last, so the rows read last, still in the L1 cache, are read first (the README has
/// what this buys); a token step is then a row addition and a tanh.
impl<const I: usize, const H: usize, const O: usize> Infer<I> for Rnn<I, H, O> {
    type Hidden = [f32; H];
    type Logits = [f32; O];
    type Carry = ElmanCarry<H>;
    type RealLogits = [f32; 0];
    const ZERO_REAL_LOGITS: [f32; 0] = [];
    const ZERO_HIDDEN: [f32; H] = [0.0; H];
    const ZERO_LOGITS: [f32; O] = [0.0; O];
    const ZERO_CARRY: ElmanCarry<H> = ElmanCarry {
        pre: [0.0; H],
        backwards: false,
    };
    const OUTPUTS: usize = O;

    fn step(&self, input: Input<'_, I>, hidden: &mut [f32; H]) -> Result<(), Error> {
        Rnn::step(self, input, hidden)
    }

    fn logits(&self, hidden: &[f32; H], logits: &mut [f32; O]) {
        Rnn::logits(self, hidden, logits);
    }

    fn argmax(&self, logits: &[f32; O], classes: usize) -> usize {
        kernels::scalar::argmax(logits.get(..classes).unwrap_or(logits))
    }

    fn real_logits<'a>(&self, logits: &'a [f32; O], _: &'a mut [f32; 0]) -> &'a [f32] {
        logits
    }

    fn advance(
        &self,
        input: Input<'_, I>,
        hidden: &mut [f32; H],
        carry: &mut ElmanCarry<H>,
        logits: &mut [f32; O],
    ) -> Result<(), Error> {
        match input {
            Input::Token(token) => {
                let row = self.input_row(token)?;
                *hidden = carry.pre;
                (kernels::active().add_tanh)(row, hidden);
            }
            Input::Dense(_) => Rnn::step(self, input, hidden)?,
        }
        self.restart(hidden, carry, logits);
        Ok(())
    }

    fn restart(&self, hidden: &[f32; H], carry: &mut ElmanCarry<H>, logits: &mut [f32; O]) {
        let (w_hh, w_hy) = (self.w_hh.as_flattened(), self.w_hy.as_flattened());
        if carry.backwards {
            matvec_blocks(w_hh, hidden, &self.b_h, &mut carry.pre, true);
            matvec_blocks(w_hy, hidden, &self.b_y, logits, true);
        } else {
            matvec_blocks(w_hy, hidden, &self.b_y, logits, false);
            matvec_blocks(w_hh, hidden, &self.b_h, &mut carry.pre, false);
        }
        carry.backwards = !carry.backwards;
    }
}

/// The int8 Elman cell: token inputs, or dense **raw** samples (normalized by the model itself,
/// see [`QRnn::step_sample`]); greedy picks compare the integer logits (exactly
/// what firmware does), sampling uses them times `logit_scale`.
impl<const I: usize, const H: usize, const O: usize> Infer<I> for QRnn<I, H, O> {
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
            Input::Token(token) => QRnn::step(self, token, hidden),
            Input::Dense(sample) => self.step_sample(sample, hidden),
        }
    }

    fn logits(&self, hidden: &[i16; H], logits: &mut [i16; O]) {
        QRnn::logits(self, hidden, logits);
    }

    fn argmax(&self, logits: &[i16; O], classes: usize) -> usize {
        int::argmax_i16(logits.get(..classes).unwrap_or(logits))
    }

    fn real_logits<'a>(&self, logits: &'a [i16; O], buffer: &'a mut [f32; O]) -> &'a [f32] {
        *buffer = crate::model::quant::dequantized_logits(logits, self.logit_scale);
        buffer
    }
}
