//! Truncated back-propagation through time over one chunk of a sequence.
//!
//! [`Tape::forward`] runs the model over up to `T` inputs from a given hidden state, records
//! what the backward pass needs, and returns the summed cross-entropy loss. [`Tape::backward`]
//! turns that record into gradients of every parameter, optionally letting each output's
//! gradient flow back at most `window` steps (notebook 000's truncation).

use crate::Error;
use crate::kernels;
use crate::model::{Input, Live, Rnn};

/// The inputs of one chunk: token ids (one-hot) or dense vectors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sequence<'a, const I: usize> {
    /// Token ids, each in `0..I`.
    Tokens(&'a [usize]),
    /// Dense input vectors.
    Dense(&'a [[f32; I]]),
}

impl<'a, const I: usize> Sequence<'a, I> {
    /// Number of steps.
    pub fn len(&self) -> usize {
        match self {
            Sequence::Tokens(tokens) => tokens.len(),
            Sequence::Dense(vectors) => vectors.len(),
        }
    }

    /// `true` for a sequence of no steps.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The input of step `t`, if there is one.
    pub fn get(&self, t: usize) -> Option<Input<'a, I>> {
        match *self {
            Sequence::Tokens(tokens) => tokens.get(t).map(|&id| Input::Token(id)),
            Sequence::Dense(vectors) => vectors.get(t).map(Input::Dense),
        }
    }
}

/// What the loss compares the outputs against.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Targets<'a> {
    /// A target class after every step (a language model: the next token).
    Each(&'a [usize]),
    /// One target class after the last step only (a many-to-one classifier).
    Last(usize),
}

/// The record of one forward pass, owned by the caller and reused from chunk to chunk.
///
/// Holds the hidden state after each of up to `T` steps, the gradient of the loss with respect
/// to the live logits of each step (packed: `classes` floats a step, so a padded model's
/// backward pass never reads its padded classes), and room for the backward pass's gradient of each step's
/// pre-activation. Takes [`Tape::SIZE`] bytes ≈ `4·(T·(2·H + O) + H) + 16`; for min-char-rnn
/// (T = 25, H = 100, O = 65): 26,944 bytes on a 64-bit target (aligned to 64 bytes there, as
/// [`Rnn`] is).
#[derive(Clone, Debug)]
#[cfg_attr(target_pointer_width = "64", repr(align(64)))]
pub struct Tape<const T: usize, const H: usize, const O: usize> {
    h_start: [f32; H],
    hidden: [[f32; H]; T],
    d_logits: [[f32; O]; T],
    d_pre: [[f32; H]; T],
    len: usize,
    first_output: usize,
    classes: usize,
}

impl<const T: usize, const H: usize, const O: usize> Default for Tape<T, H, O> {
    fn default() -> Self {
        Self::ZERO
    }
}

impl<const T: usize, const H: usize, const O: usize> Tape<T, H, O> {
    /// An empty tape, usable in a `static`.
    pub const ZERO: Self = Self {
        h_start: [0.0; H],
        hidden: [[0.0; H]; T],
        d_logits: [[0.0; O]; T],
        d_pre: [[0.0; H]; T],
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

    /// The hidden state after the last recorded step (the state to carry into the next chunk),
    /// or the starting state if nothing is recorded.
    pub fn last_hidden(&self) -> &[f32; H] {
        match self.len.checked_sub(1).and_then(|t| self.hidden.get(t)) {
            Some(h) => h,
            None => &self.h_start,
        }
    }

    /// Runs `rnn` over `inputs` from `h_start`, recording every step, and returns the summed
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
    pub fn forward<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
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
        if classes == 0 || classes > O {
            return Err(Error::InvalidSetting("classes must be in 1..=outputs"));
        }
        let (first_output, last_target) = match targets {
            Targets::Each(ts) if ts.len() != n => {
                return Err(Error::TargetsMismatch {
                    inputs: n,
                    targets: ts.len(),
                });
            }
            Targets::Each(_) => (0, None),
            Targets::Last(target) => (n - 1, Some(target)),
        };
        self.h_start = *h_start;
        // The recurrence first, then the output layer over every step: each loop keeps one
        // weight matrix hot in the cache (W_hh, then W_hy) instead of alternating between them.
        for t in 0..n {
            // `_checked`: at opt-level "s" LLVM does not see that `t < n <= T` (panic check).
            let Some((done, rest)) = self.hidden.split_at_mut_checked(t) else {
                break;
            };
            let (Some(h), Some(input)) = (rest.first_mut(), inputs.get(t)) else {
                break;
            };
            let h_prev = done.last().unwrap_or(&self.h_start);
            rnn.next_hidden(input, h_prev, h)?;
        }
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
            loss += output_gradient(rnn, h, target, d_logits)?;
        }
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        self.len = n;
        self.first_output = first_output;
        self.classes = classes;
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
    /// Full back-propagation batches the weight gradients (`dW_hy` and `dW_hh` each as one
    /// product over the whole chunk), keeping the gradient of every step's pre-activation in
    /// the tape; it needs no stack beyond a few pointers.
    ///
    /// # Errors
    /// [`Error::TargetsMismatch`] if `inputs` is not as long as the recorded pass.
    pub fn backward<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
        inputs: Sequence<'_, I>,
        grads: &mut Rnn<I, H, O>,
        window: Option<usize>,
    ) -> Result<(), Error> {
        if inputs.len() != self.len {
            return Err(Error::TargetsMismatch {
                inputs: inputs.len(),
                targets: self.len,
            });
        }
        if let (Some(w_hy), Some(b_y)) = (
            grads.w_hy.get_mut(self.classes..),
            grads.b_y.get_mut(self.classes..),
        ) {
            w_hy.fill([0.0; H]);
            b_y.fill(0.0);
        }
        self.backward_live(rnn, inputs, grads, window, I)
    }

    /// [`Tape::backward`] that writes only the live rows of `grads`: the first `live_inputs`
    /// rows of `dW_xh` and the first `classes` (of the last forward pass) of `dW_hy` and
    /// `db_y`; the other rows keep whatever they held. A token input at or above `live_inputs`
    /// gets no `dW_xh` gradient.
    ///
    /// # Errors
    /// [`Error::TargetsMismatch`] if `inputs` is not as long as the recorded pass.
    pub(crate) fn backward_live<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
        inputs: Sequence<'_, I>,
        grads: &mut Rnn<I, H, O>,
        window: Option<usize>,
        live_inputs: usize,
    ) -> Result<(), Error> {
        if inputs.len() != self.len {
            return Err(Error::TargetsMismatch {
                inputs: inputs.len(),
                targets: self.len,
            });
        }
        let k = kernels::active();
        let live = Live {
            inputs: live_inputs,
            outputs: self.classes,
        };
        match window {
            // Full back-propagation with an output at every step overwrites `dW_hy` and `dW_hh`
            // with its first contribution, so only the rest needs zeroing.
            None if self.first_output == 0 => {
                let [w_xh, _, b_h, _, b_y] = grads.live_tensors_mut(live);
                for tensor in [w_xh, b_h, b_y] {
                    tensor.fill(0.0);
                }
                self.backward_full(rnn, inputs, grads, true, live_inputs);
            }
            None => {
                for tensor in grads.live_tensors_mut(live) {
                    tensor.fill(0.0);
                }
                self.backward_full(rnn, inputs, grads, false, live_inputs);
            }
            Some(window) => {
                for tensor in grads.live_tensors_mut(live) {
                    tensor.fill(0.0);
                }
                for t in self.first_output..self.len {
                    let mut dh = [0.0f32; H];
                    self.output_backward(rnn, grads, t, &mut dh);
                    let oldest = t.saturating_sub(window);
                    for s in (oldest..=t).rev() {
                        let d_pre = self.step_backward(grads, inputs, s, dh, live_inputs);
                        if s > oldest {
                            dh = [0.0; H];
                            (k.matvec_t)(rnn.w_hh.as_flattened(), &d_pre, &mut dh);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Full back-propagation through the chunk, with the weight gradients batched: `dW_hy` and
    /// `dW_hh` each as one `Aᵀ·B` product over all steps, so each row of a gradient matrix is
    /// loaded and stored once per chunk instead of once per step. The output layer's share of
    /// every step's gradient (`W_hyᵀ·dy_t`) is computed for all steps before the recurrence, so
    /// each loop keeps one weight matrix hot in the cache.
    ///
    /// With `overwrite`, `grads.w_hy` and `grads.w_hh` may hold anything on entry: their first
    /// contribution overwrites them (requires an output at every step, `first_output == 0`).
    /// The other live tensors must be zero on entry; rows of `dW_hy`/`db_y` past the live
    /// classes and of `dW_xh` past `live_inputs` are not touched.
    fn backward_full<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
        inputs: Sequence<'_, I>,
        grads: &mut Rnn<I, H, O>,
        overwrite: bool,
        live_inputs: usize,
    ) {
        let k = kernels::active();
        let n = self.len.min(T);
        let first = self.first_output.min(n);
        let classes = self.classes.min(O);
        // Output layer: dW_hy += Σ_t dy_t·h_tᵀ, db_y += Σ_t dy_t, d_pre_t = W_hyᵀ·dy_t, over the
        // live classes only (dy_t is packed, `classes` floats a step).
        let (Some(dys), Some(hs), Some(d_pres), Some(w_hy), Some(b_y)) = (
            self.d_logits
                .as_flattened()
                .get(first * classes..n * classes),
            self.hidden.get(first..n),
            self.d_pre.get_mut(..n),
            grads.w_hy.get_mut(..classes),
            grads.b_y.get_mut(..classes),
        ) else {
            return;
        };
        let rank_k = if overwrite { k.rank_k_set } else { k.rank_k };
        rank_k(w_hy.as_flattened_mut(), dys, hs.as_flattened(), classes, H);
        for dy in dys.chunks_exact(classes.max(1)) {
            (k.axpy)(1.0, dy, b_y);
        }
        let (silent, speaking) = d_pres.split_at_mut(first);
        silent.iter_mut().for_each(|d| *d = [0.0; H]);
        for (d_pre, dy) in speaking.iter_mut().zip(dys.chunks_exact(classes.max(1))) {
            *d_pre = [0.0; H];
            (k.matvec_t)(rnn.w_hy.as_flattened(), dy, d_pre);
        }
        // Hidden layer, from the last step back: d_pre_t = (W_hyᵀ·dy_t + W_hhᵀ·d_pre_{t+1}) ⊙
        // (1 - h_t²), the second term accumulated into step t's slot by step t + 1.
        for t in (0..n).rev() {
            let Some((earlier, rest)) = d_pres.split_at_mut_checked(t) else {
                break;
            };
            let (Some(d_pre), Some(h)) = (rest.first_mut(), self.hidden.get(t)) else {
                break;
            };
            (k.tanh_backward)(h, d_pre);
            (k.axpy)(1.0, d_pre, &mut grads.b_h);
            input_backward(grads, inputs.get(t), d_pre, live_inputs);
            if let Some(d_prev) = earlier.last_mut() {
                (k.matvec_t)(rnn.w_hh.as_flattened(), d_pre, d_prev);
            }
        }
        // dW_hh += Σ_t d_pre_t·h_{t-1}ᵀ: steps t ≥ 1 read h_{t-1} from the tape in one product;
        // step 0 reads the starting state.
        let (Some(later), Some(h_prevs), Some(d0)) = (
            d_pres.get(1..),
            self.hidden.get(..n.saturating_sub(1)),
            d_pres.first(),
        ) else {
            // No steps recorded: the gradient is zero.
            grads.w_hh.as_flattened_mut().fill(0.0);
            return;
        };
        let rank_k = if overwrite { k.rank_k_set } else { k.rank_k };
        rank_k(
            grads.w_hh.as_flattened_mut(),
            later.as_flattened(),
            h_prevs.as_flattened(),
            H,
            H,
        );
        (k.rank1)(grads.w_hh.as_flattened_mut(), d0, &self.h_start);
    }

    /// Output layer of step `t`: `dW_hy += dy·h_tᵀ`, `db_y += dy`, `dh += W_hyᵀ·dy`.
    fn output_backward<const I: usize>(
        &self,
        rnn: &Rnn<I, H, O>,
        grads: &mut Rnn<I, H, O>,
        t: usize,
        dh: &mut [f32; H],
    ) {
        if t < self.first_output {
            return;
        }
        let classes = self.classes;
        let dys = self.d_logits.as_flattened();
        let (Some(dy), Some(h)) = (dys.get(t * classes..(t + 1) * classes), self.hidden.get(t))
        else {
            return;
        };
        let k = kernels::active();
        (k.rank1)(grads.w_hy.as_flattened_mut(), dy, h);
        (k.axpy)(1.0, dy, &mut grads.b_y);
        (k.matvec_t)(rnn.w_hy.as_flattened(), dy, dh);
    }

    /// Hidden layer of step `t` given `dh = ∂L/∂h_t`: returns `d_pre = dh ⊙ (1 - h_t²)` after
    /// adding its contributions to `db_h`, `dW_xh` and `dW_hh`.
    fn step_backward<const I: usize>(
        &self,
        grads: &mut Rnn<I, H, O>,
        inputs: Sequence<'_, I>,
        t: usize,
        dh: [f32; H],
        live_inputs: usize,
    ) -> [f32; H] {
        let k = kernels::active();
        let mut d_pre = dh;
        let Some(h) = self.hidden.get(t) else {
            return d_pre;
        };
        let h_prev = match t.checked_sub(1).and_then(|p| self.hidden.get(p)) {
            Some(h_prev) => h_prev,
            None => &self.h_start,
        };
        (k.tanh_backward)(h, &mut d_pre);
        (k.axpy)(1.0, &d_pre, &mut grads.b_h);
        (k.rank1)(grads.w_hh.as_flattened_mut(), &d_pre, h_prev);
        input_backward(grads, inputs.get(t), &d_pre, live_inputs);
        d_pre
    }
}

/// `dW_xh += d_pre·xᵀ` for one step's input: a row update for a token below `live_inputs`, a
/// rank-1 update for a dense vector.
fn input_backward<const I: usize, const H: usize, const O: usize>(
    grads: &mut Rnn<I, H, O>,
    input: Option<Input<'_, I>>,
    d_pre: &[f32; H],
    live_inputs: usize,
) {
    let k = kernels::active();
    match input {
        Some(Input::Token(id)) => {
            if let Some(row) = grads.w_xh.get_mut(id).filter(|_| id < live_inputs) {
                (k.axpy)(1.0, d_pre, row);
            }
        }
        Some(Input::Dense(x)) => (k.rank1)(grads.w_xh.as_flattened_mut(), x, d_pre),
        None => {}
    }
}

/// Computes the logits of hidden state `h` for the live classes (`d_logits.len()` of them: the
/// padded rows of `W_hy` are never read), writes `∂loss/∂logits = softmax - onehot(target)` to
/// `d_logits`, and returns the loss `-log p[target]`.
fn output_gradient<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
    h: &[f32; H],
    target: usize,
    d_logits: &mut [f32],
) -> Result<f32, Error> {
    let classes = d_logits.len();
    if target >= classes {
        return Err(Error::TokenOutOfRange {
            token: target,
            limit: classes,
        });
    }
    let k = kernels::active();
    let mut logits = [0.0f32; O];
    let (Some(live_logits), Some(w_hy), Some(b_y)) = (
        logits.get_mut(..classes),
        rnn.w_hy.get(..classes),
        rnn.b_y.get(..classes),
    ) else {
        return Err(Error::InvalidSetting("classes must be in 1..=outputs"));
    };
    (k.matvec)(w_hy.as_flattened(), h, b_y, live_logits);
    let log_sum_exp = (k.softmax)(live_logits, d_logits);
    let (Some(p), Some(z)) = (d_logits.get_mut(target), live_logits.get(target)) else {
        return Err(Error::TokenOutOfRange {
            token: target,
            limit: classes,
        });
    };
    *p -= 1.0;
    Ok(log_sum_exp - z)
}
