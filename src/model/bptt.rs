//! Truncated back-propagation through time over one chunk of a sequence.
//!
//! [`Tape::forward`] runs the model over up to `T` inputs from a given hidden state, records
//! what the backward pass needs, and returns the summed cross-entropy loss. [`Tape::backward`]
//! turns that record into gradients of every parameter, optionally letting each output's
//! gradient flow back at most `window` steps (notebook 000's truncation). The tape is written
//! once over [`Cell`]: the Elman [`Rnn`](crate::Rnn) records nothing besides its states, a
//! [`Gru`](crate::model::Gru) its gates.

use crate::Error;
use crate::model::cell::{Cell, Chunk, StepRecord};
use crate::model::readout;
use crate::model::{Classes, Sequence, Targets};

/// The record of one forward pass, owned by the caller and reused from chunk to chunk.
///
/// Holds the hidden state after each of up to `T` steps, the gradient of the loss with respect
/// to the live logits of each step (packed: `classes` floats a step, so a padded model's
/// backward pass never reads its padded classes), and room for the backward pass's gradient of each step's
/// pre-activation; for cells other than Elman, each step's [`Cell::Record`] `R` too (the
/// default `R = ()` is the Elman cell's), and the state its readout read last (the mean for
/// [`Targets::Mean`]). Takes [`Tape::SIZE`] bytes ≈ `4·(T·(2·H + O) + 2·H) + 24` plus `T`
/// records; for min-char-rnn (T = 25, H = 100, O = 65): 27,328 bytes on a 64-bit target
/// (aligned to 64 bytes there, as [`Rnn`](crate::Rnn) is). A `Gru`'s record is 4 `H`-vectors a
/// step, held twice: the forward pass's and the backward pass's scratch of the same shape (its
/// gate gradients).
#[derive(Clone, Debug)]
#[cfg_attr(target_pointer_width = "64", repr(align(64)))]
pub struct Tape<const T: usize, const H: usize, const O: usize, R: StepRecord = ()> {
    h_start: [f32; H],
    hidden: [[f32; H]; T],
    records: [R; T],
    d_logits: [[f32; O]; T],
    d_pre: [[f32; H]; T],
    d_records: [R; T],
    readout_state: [f32; H],
    len: usize,
    first_output: usize,
    classes: usize,
}

impl<const T: usize, const H: usize, const O: usize, R: StepRecord> Default for Tape<T, H, O, R> {
    fn default() -> Self {
        Self::ZERO
    }
}

impl<const T: usize, const H: usize, const O: usize, R: StepRecord> Tape<T, H, O, R> {
    /// An empty tape, usable in a `static`.
    pub const ZERO: Self = Self {
        h_start: [0.0; H],
        hidden: [[0.0; H]; T],
        records: [R::ZERO; T],
        d_logits: [[0.0; O]; T],
        d_pre: [[0.0; H]; T],
        d_records: [R::ZERO; T],
        readout_state: [0.0; H],
        len: 0,
        first_output: 0,
        classes: 0,
    };

    /// Size of the struct in bytes.
    pub const SIZE: usize = core::mem::size_of::<Self>();

    /// Number of steps recorded by the last successful forward pass (0 before any).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` if no forward pass has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The live classes of the last forward pass (the rows of `dW_hy` and `db_y` its backward
    /// pass writes); 0 before any.
    pub(crate) fn classes(&self) -> usize {
        self.classes
    }

    /// The state the readout of the last forward pass read for its last output: the mean of the
    /// states for [`Targets::Mean`], the last state otherwise (zeros before any pass).
    pub fn readout_state(&self) -> &[f32; H] {
        &self.readout_state
    }

    /// The hidden state after the last recorded step (the state to carry into the next chunk),
    /// or the starting state if nothing is recorded.
    pub fn last_hidden(&self) -> &[f32; H] {
        match self.len.checked_sub(1).and_then(|t| self.hidden.get(t)) {
            Some(h) => h,
            None => &self.h_start,
        }
    }

    /// Runs `model` over `inputs` from `h_start`, recording every step, and returns the summed
    /// cross-entropy (in nats) of the targets under a softmax over the first `classes` outputs.
    ///
    /// Outputs `classes..O` are masked: their probability is exactly 0 and they get no gradient,
    /// so a model padded to a larger `O` has the same loss as an unpadded one.
    ///
    /// # Errors
    /// - [`Error::BadLength`]: `inputs` is empty or longer than `T`;
    /// - [`Error::TargetsMismatch`]: `Targets::Each` of another length than `inputs`;
    /// - [`Error::InvalidSetting`]: `classes` is 0 or above `O`;
    /// - [`Error::TokenOutOfRange`]: an input id `≥ I` or a target `≥ classes`;
    /// - [`Error::NonFiniteLoss`]: the loss is NaN or infinite.
    ///
    /// On error the tape is left empty.
    pub fn forward<const I: usize, C: Cell<I, H, O, Record = R>>(
        &mut self,
        model: &C,
        inputs: Sequence<'_, I>,
        targets: Targets<'_>,
        h_start: &[f32; H],
        classes: usize,
    ) -> Result<f32, Error> {
        self.len = 0;
        let n = inputs.len();
        if n == 0 || n > T {
            return Err(Error::BadLength {
                len: n,
                capacity: T,
            });
        }
        let classes = Classes::<O>::new(classes)?.get();
        let (first_output, last_target) = match targets {
            Targets::Each(ts) if ts.len() != n => {
                return Err(Error::TargetsMismatch {
                    inputs: n,
                    targets: ts.len(),
                });
            }
            Targets::Each(_) => (0, None),
            Targets::Last(target) => (n - 1, Some(target)),
            Targets::Mean(target) => (0, Some(target)),
        };
        self.h_start = *h_start;
        // The recurrence first, then the output layer over every step: each loop keeps one
        // weight matrix hot in the cache (the cell's, then W_hy) instead of alternating.
        for t in 0..n {
            // `_checked`: at opt-level "s" LLVM does not see that `t < n <= T` (panic check).
            let Some((done, rest)) = self.hidden.split_at_mut_checked(t) else {
                break;
            };
            let (Some(h), Some(record), Some(input)) =
                (rest.first_mut(), self.records.get_mut(t), inputs.get(t))
            else {
                break;
            };
            let h_prev = done.last().unwrap_or(&self.h_start);
            model.forward(input, h_prev, h, record)?;
        }
        let loss = match targets {
            Targets::Mean(target) => self.mean_output(model, n, target, classes)?,
            _ => self.step_outputs(model, targets, last_target, first_output, n, classes)?,
        };
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        self.len = n;
        self.first_output = first_output;
        self.classes = classes;
        Ok(loss)
    }

    /// The readout of every step from `first_output` on: the summed loss, each step's
    /// `∂loss/∂logits` in the tape.
    fn step_outputs<const I: usize, C: Cell<I, H, O, Record = R>>(
        &mut self,
        model: &C,
        targets: Targets<'_>,
        last_target: Option<usize>,
        first_output: usize,
        n: usize,
        classes: usize,
    ) -> Result<f32, Error> {
        let mut loss = 0.0f32;
        for t in first_output..n {
            let target = match (targets, last_target) {
                (Targets::Each(ts), _) => ts.get(t).copied().unwrap_or(usize::MAX),
                (_, Some(target)) => target,
                _ => usize::MAX,
            };
            let d_logits = self.d_logits.as_flattened_mut();
            let (Some(h), Some(d_logits)) = (
                self.hidden.get(t),
                d_logits.get_mut(t * classes..(t + 1) * classes),
            ) else {
                break;
            };
            loss += readout::output_gradient(model.w_hy(), model.b_y(), h, target, d_logits)?;
        }
        if let Some(h) = n.checked_sub(1).and_then(|t| self.hidden.get(t)) {
            self.readout_state = *h;
        }
        Ok(loss)
    }

    /// The readout of the mean state: its loss, and `1/n` of its `∂loss/∂logits` recorded as
    /// every step's (the mean's gradient reaches each state as `W_hyᵀ·dy/n`, and `dW_hy =
    /// Σ_t (dy/n)·h_tᵀ = dy·meanᵀ`), so the backward passes need no special case.
    fn mean_output<const I: usize, C: Cell<I, H, O, Record = R>>(
        &mut self,
        model: &C,
        n: usize,
        target: usize,
        classes: usize,
    ) -> Result<f32, Error> {
        let k = crate::kernels::active();
        let states = self.hidden.get(..n).unwrap_or_default();
        let mut mean = [0.0f32; H];
        for h in states {
            (k.axpy)(1.0, h, &mut mean);
        }
        (k.scale)(&mut mean, 1.0 / n.max(1) as f32);
        self.readout_state = mean;
        let rows = self.d_logits.as_flattened_mut();
        let Some((first, rest)) = rows
            .get_mut(..n * classes)
            .and_then(|r| r.split_at_mut_checked(classes))
        else {
            return Err(Error::BadLength {
                len: n,
                capacity: T,
            });
        };
        let loss = readout::output_gradient(model.w_hy(), model.b_y(), &mean, target, first)?;
        (k.scale)(first, 1.0 / n.max(1) as f32);
        for row in rest.chunks_exact_mut(classes.max(1)) {
            row.iter_mut().zip(first.iter()).for_each(|(d, s)| *d = *s);
        }
        Ok(loss)
    }

    /// Gradients of the last forward pass's loss with respect to every parameter, written to
    /// `grads` (overwritten, not accumulated). `inputs` must be the sequence given to
    /// [`Tape::forward`].
    ///
    /// With `window: Some(k)` the gradient of each step's output flows back through at most `k`
    /// earlier steps (the step itself and `k` before it, as notebook 000's `max_bptt_steps`);
    /// `None` is full back-propagation through the chunk.
    ///
    /// # Errors
    /// [`Error::TargetsMismatch`] if `inputs` is not as long as the recorded pass.
    pub fn backward<const I: usize, C: Cell<I, H, O, Record = R>>(
        &mut self,
        model: &C,
        inputs: Sequence<'_, I>,
        grads: &mut C,
        window: Option<usize>,
    ) -> Result<(), Error> {
        if inputs.len() != self.len {
            return Err(Error::TargetsMismatch {
                inputs: inputs.len(),
                targets: self.len,
            });
        }
        let (w_hy, b_y) = grads.readout_mut();
        if let (Some(w_hy), Some(b_y)) = (w_hy.get_mut(self.classes..), b_y.get_mut(self.classes..))
        {
            w_hy.fill([0.0; H]);
            b_y.fill(0.0);
        }
        self.backward_live(model, inputs, grads, window, I)
    }

    /// [`Tape::backward`] that writes only the live rows of `grads`: the first `live_inputs`
    /// rows of the input tensors and the first `classes` (of the last forward pass) of the
    /// output tensors; the other rows keep whatever they held. A token input at or above
    /// `live_inputs` gets no input-weight gradient.
    ///
    /// # Errors
    /// [`Error::TargetsMismatch`] if `inputs` is not as long as the recorded pass.
    pub(crate) fn backward_live<const I: usize, C: Cell<I, H, O, Record = R>>(
        &mut self,
        model: &C,
        inputs: Sequence<'_, I>,
        grads: &mut C,
        window: Option<usize>,
        live_inputs: usize,
    ) -> Result<(), Error> {
        let n = self.len.min(T);
        if inputs.len() != n {
            return Err(Error::TargetsMismatch {
                inputs: inputs.len(),
                targets: self.len,
            });
        }
        let chunk = Chunk {
            inputs,
            h_start: &self.h_start,
            hidden: self.hidden.get(..n).unwrap_or_default(),
            records: self.records.get(..n).unwrap_or_default(),
            d_logits: self.d_logits.as_flattened(),
            first_output: self.first_output,
            classes: self.classes,
        };
        model.backward_chunk(
            chunk,
            &mut self.d_pre,
            &mut self.d_records,
            grads,
            window,
            live_inputs,
        );
        Ok(())
    }
}
