//! Back-propagation through time for `B` sequences at once, as matrix–matrix products.
//!
//! [`BatchTape::forward`] runs the model over one chunk of each of `B` token streams, each from
//! its own hidden state; every step is one product `W_hh·[h_1…h_B]` (a [`Kernels::gemm`]), the
//! output layer one product over all `T·B` states. [`BatchTape::backward`] turns the record into
//! the gradients of the summed loss times a scale (`1/B` averages over the batch), again as
//! products: `W_hyᵀ·dY`, `W_hhᵀ·[d_1…d_B]` per step, `dW_hy = dYᵀ·H`, `dW_hh = Dᵀ·H_prev`.
//!
//! Only the live classes are computed (as in [`crate::Tape`]); token inputs only; full BPTT.
//!
//! [`Kernels::gemm`]: crate::kernels::Kernels::gemm

use crate::Error;
use crate::kernels::{self, GemmShape};
use crate::model::{Live, Rnn};

/// The record of one forward pass over `B` streams of up to `T` steps, reused from chunk to
/// chunk. Holds each stream's starting state, the state after every step, the scaled gradient of
/// the loss with respect to the live logits (packed, `classes` floats per stream and step), the
/// pre-activation gradients of the backward pass, and the transposed `W_hh` and `W_hy` of the
/// forward pass. About `4·(T·B·(2·H + O) + B·H + H·(H + O))` bytes.
#[derive(Clone, Debug)]
#[cfg_attr(target_pointer_width = "64", repr(align(64)))]
pub struct BatchTape<const B: usize, const T: usize, const H: usize, const O: usize> {
    h_start: [[f32; H]; B],
    hidden: [[[f32; H]; B]; T],
    d_logits: [[[f32; O]; B]; T],
    d_pre: [[[f32; H]; B]; T],
    w_hh_t: [[f32; H]; H],
    w_hy_t: [[f32; O]; H],
    len: usize,
    classes: usize,
}

impl<const B: usize, const T: usize, const H: usize, const O: usize> BatchTape<B, T, H, O> {
    /// An empty tape, usable in a `static`.
    pub const ZERO: Self = Self {
        h_start: [[0.0; H]; B],
        hidden: [[[0.0; H]; B]; T],
        d_logits: [[[0.0; O]; B]; T],
        d_pre: [[[0.0; H]; B]; T],
        w_hh_t: [[0.0; H]; H],
        w_hy_t: [[0.0; O]; H],
        len: 0,
        classes: 0,
    };

    /// Steps recorded by the last successful forward pass (0 before any).
    pub fn len(&self) -> usize {
        self.len
    }

    /// `true` if no forward pass has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The state of each stream after the last recorded step (the states to carry into the next
    /// chunk), or the starting states if nothing is recorded.
    pub fn last_hidden(&self) -> &[[f32; H]; B] {
        match self.len.checked_sub(1).and_then(|t| self.hidden.get(t)) {
            Some(h) => h,
            None => &self.h_start,
        }
    }

    /// Runs `rnn` over `inputs[b]` from `h_start[b]` for every stream `b`, with targets
    /// `targets[b]` (one per input), under a softmax over the first `classes` outputs. Returns
    /// the loss summed over every step of every stream (in nats); the recorded gradient is that
    /// of `scale ·` the loss (`scale = 1/B` averages over the batch).
    ///
    /// # Errors
    /// - [`Error::BadLength`]: the streams are empty or longer than `T`;
    /// - [`Error::TargetsMismatch`]: streams or targets of different lengths;
    /// - [`Error::InvalidSetting`]: `classes` is 0 or above `O`;
    /// - [`Error::TokenOutOfRange`]: an input or target `≥ classes` (or an input `≥ I`);
    /// - [`Error::NonFiniteLoss`]: the loss is NaN or infinite.
    ///
    /// On error the tape is left empty.
    pub fn forward<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
        inputs: [&[usize]; B],
        targets: [&[usize]; B],
        h_start: &[[f32; H]; B],
        classes: usize,
        scale: f32,
    ) -> Result<f32, Error> {
        self.len = 0;
        let n = check_streams(&inputs, &targets, T, classes.min(I), classes)?;
        crate::model::Classes::<O>::new(classes)?;
        self.h_start = *h_start;
        self.classes = classes;
        self.transpose_weights(rnn);
        self.recurrence(rnn, &inputs, n);
        let loss = self.output_layer(rnn, &targets, n, scale);
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        self.len = n;
        Ok(loss)
    }

    /// `w_hh_t = W_hhᵀ`, `w_hy_t = W_hyᵀ` (live classes, packed: `classes` floats a row).
    fn transpose_weights<const I: usize>(&mut self, rnn: &Rnn<I, H, O>) {
        for (r, row) in rnn.w_hh.iter().enumerate() {
            for (column, &w) in self.w_hh_t.iter_mut().zip(row) {
                if let Some(slot) = column.get_mut(r) {
                    *slot = w;
                }
            }
        }
        let classes = self.classes;
        let packed = self.w_hy_t.as_flattened_mut();
        for (o, row) in rnn.w_hy.iter().take(classes).enumerate() {
            for (c, &w) in row.iter().enumerate() {
                if let Some(slot) = packed.get_mut(c * classes + o) {
                    *slot = w;
                }
            }
        }
    }

    /// `h_t[b] = tanh(W_hh·h_{t-1}[b] + b_h + W_xh[x_t[b]])` for every stream, one product per
    /// step. Inputs are checked.
    fn recurrence<const I: usize>(&mut self, rnn: &Rnn<I, H, O>, inputs: &[&[usize]; B], n: usize) {
        let k = kernels::active();
        let shape = GemmShape {
            rows: B,
            depth: H,
            cols: H,
            a_row: H,
            a_col: 1,
        };
        for t in 0..n.min(T) {
            let Some((done, rest)) = self.hidden.split_at_mut_checked(t) else {
                break;
            };
            let Some(h) = rest.first_mut() else {
                break;
            };
            let h_prev = done.last().unwrap_or(&self.h_start);
            h.iter_mut().for_each(|h| *h = rnn.b_h);
            (k.gemm)(
                h.as_flattened_mut(),
                h_prev.as_flattened(),
                self.w_hh_t.as_flattened(),
                &shape,
            );
            for (h, stream) in h.iter_mut().zip(inputs) {
                let row = stream.get(t).and_then(|&id| rnn.w_xh.get(id));
                (k.add_tanh)(row.map_or(&[][..], |r| &r[..]), h);
            }
        }
    }

    /// The live logits of every step and stream in one product, then softmax, loss and
    /// `scale·(p - onehot)` in place.
    fn output_layer<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
        targets: &[&[usize]; B],
        n: usize,
        scale: f32,
    ) -> f32 {
        let k = kernels::active();
        let classes = self.classes;
        let rows = n * B;
        let (Some(d_logits), Some(hs), Some(b_y)) = (
            self.d_logits
                .as_flattened_mut()
                .as_flattened_mut()
                .get_mut(..rows * classes),
            self.hidden.as_flattened().get(..rows),
            rnn.b_y.get(..classes),
        ) else {
            return f32::NAN;
        };
        for row in d_logits.chunks_exact_mut(classes) {
            row.copy_from_slice(b_y);
        }
        let shape = GemmShape {
            rows,
            depth: H,
            cols: classes,
            a_row: H,
            a_col: 1,
        };
        (k.gemm)(
            d_logits,
            hs.as_flattened(),
            self.w_hy_t.as_flattened(),
            &shape,
        );
        let mut loss = 0.0f32;
        let mut logits = [0.0f32; O];
        for (i, row) in d_logits.chunks_exact_mut(classes).enumerate() {
            let target = targets
                .get(i % B)
                .and_then(|s| s.get(i / B))
                .copied()
                .unwrap_or(0);
            let Some(live) = logits.get_mut(..classes) else {
                return f32::NAN;
            };
            live.copy_from_slice(row);
            let log_sum_exp = (k.softmax)(live, row);
            loss += log_sum_exp - live.get(target).copied().unwrap_or(f32::NAN);
            if let Some(p) = row.get_mut(target) {
                *p -= 1.0;
            }
            (k.scale)(row, scale);
        }
        loss
    }

    /// Gradients of `scale ·` the last forward pass's loss with respect to every parameter,
    /// written to the live rows of `grads` (the first `classes` of `w_hy`/`b_y`, the first
    /// `classes` of `w_xh` as every input is below `classes`): those are overwritten, the other
    /// rows are not touched. `inputs` must be the streams given to [`BatchTape::forward`].
    ///
    /// # Errors
    /// [`Error::TargetsMismatch`] if `inputs` are not as long as the recorded pass.
    pub fn backward<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
        inputs: [&[usize]; B],
        grads: &mut Rnn<I, H, O>,
    ) -> Result<(), Error> {
        if let Some(stream) = inputs.iter().find(|s| s.len() != self.len) {
            return Err(Error::TargetsMismatch {
                inputs: stream.len(),
                targets: self.len,
            });
        }
        let live = Live {
            inputs: self.classes,
            outputs: self.classes,
        };
        for tensor in grads.live_tensors_mut(live) {
            tensor.fill(0.0);
        }
        self.output_backward(rnn, grads);
        self.hidden_backward(rnn, &inputs, grads);
        Ok(())
    }

    /// `dW_hy = dYᵀ·H`, `db_y = Σ dY`, and every step's `d_pre = W_hyᵀ·dy` (before the
    /// recurrence adds to it), each one product over all steps and streams.
    fn output_backward<const I: usize>(&mut self, rnn: &Rnn<I, H, O>, grads: &mut Rnn<I, H, O>) {
        let k = kernels::active();
        let (classes, rows) = (self.classes, self.len * B);
        let (Some(dys), Some(hs), Some(d_pres), Some(w_hy), Some(g_w_hy), Some(g_b_y)) = (
            self.d_logits
                .as_flattened()
                .as_flattened()
                .get(..rows * classes),
            self.hidden.as_flattened().get(..rows),
            self.d_pre.as_flattened_mut().get_mut(..rows),
            rnn.w_hy.get(..classes),
            grads.w_hy.get_mut(..classes),
            grads.b_y.get_mut(..classes),
        ) else {
            return;
        };
        let dw_hy = GemmShape {
            rows: classes,
            depth: rows,
            cols: H,
            a_row: 1,
            a_col: classes,
        };
        (k.gemm)(g_w_hy.as_flattened_mut(), dys, hs.as_flattened(), &dw_hy);
        for dy in dys.chunks_exact(classes.max(1)) {
            (k.axpy)(1.0, dy, g_b_y);
        }
        d_pres.fill([0.0; H]);
        let d_h = GemmShape {
            rows,
            depth: classes,
            cols: H,
            a_row: classes,
            a_col: 1,
        };
        (k.gemm)(d_pres.as_flattened_mut(), dys, w_hy.as_flattened(), &d_h);
    }

    /// From the last step back: `d_pre_t = (W_hyᵀ·dy_t + W_hhᵀ·d_pre_{t+1}) ⊙ (1 - h_t²)` (the
    /// second term one product per step), `db_h`, `dW_xh` rows, then `dW_hh = Dᵀ·H_prev` as one
    /// product over steps `1..` and one for step 0 (whose previous states are the starts).
    fn hidden_backward<const I: usize>(
        &mut self,
        rnn: &Rnn<I, H, O>,
        inputs: &[&[usize]; B],
        grads: &mut Rnn<I, H, O>,
    ) {
        let k = kernels::active();
        let n = self.len.min(T);
        let live_inputs = self.classes;
        let recur = GemmShape {
            rows: B,
            depth: H,
            cols: H,
            a_row: H,
            a_col: 1,
        };
        for t in (0..n).rev() {
            let Some((earlier, rest)) = self.d_pre.split_at_mut_checked(t) else {
                break;
            };
            let (Some(d_pre), Some(h)) = (rest.first_mut(), self.hidden.get(t)) else {
                break;
            };
            for ((d, h), stream) in d_pre.iter_mut().zip(h).zip(inputs) {
                (k.tanh_backward)(h, d);
                (k.axpy)(1.0, d, &mut grads.b_h);
                let id = stream.get(t).copied().unwrap_or(usize::MAX);
                if let Some(row) = grads.w_xh.get_mut(id).filter(|_| id < live_inputs) {
                    (k.axpy)(1.0, d, row);
                }
            }
            if let Some(d_prev) = earlier.last_mut() {
                let (d_prev, d) = (d_prev.as_flattened_mut(), d_pre.as_flattened());
                (k.gemm)(d_prev, d, rnn.w_hh.as_flattened(), &recur);
            }
        }
        let dw_hh = |depth| GemmShape {
            rows: H,
            depth,
            cols: H,
            a_row: 1,
            a_col: H,
        };
        let g = grads.w_hh.as_flattened_mut();
        let (Some(later), Some(h_prevs), Some(d0)) = (
            self.d_pre.get(1..n),
            self.hidden.get(..n.saturating_sub(1)),
            self.d_pre.first(),
        ) else {
            return;
        };
        let (later, h_prevs) = (later.as_flattened(), h_prevs.as_flattened());
        (k.gemm)(
            g,
            later.as_flattened(),
            h_prevs.as_flattened(),
            &dw_hh(later.len()),
        );
        (k.gemm)(g, d0.as_flattened(), self.h_start.as_flattened(), &dw_hh(B));
    }
}

/// The common length of the streams (all inputs and targets as long), in `1..=capacity`, with
/// every input below `input_limit` and every target below `classes`.
fn check_streams(
    inputs: &[&[usize]],
    targets: &[&[usize]],
    capacity: usize,
    input_limit: usize,
    classes: usize,
) -> Result<usize, Error> {
    let n = inputs.first().map_or(0, |s| s.len());
    if n == 0 || n > capacity {
        return Err(Error::BadLength { len: n, capacity });
    }
    for stream in inputs.iter().chain(targets) {
        if stream.len() != n {
            return Err(Error::TargetsMismatch {
                inputs: n,
                targets: stream.len(),
            });
        }
    }
    for (stream, limit) in inputs
        .iter()
        .map(|s| (s, input_limit))
        .chain(targets.iter().map(|s| (s, classes)))
    {
        if let Some(&token) = stream.iter().find(|&&id| id >= limit) {
            return Err(Error::TokenOutOfRange { token, limit });
        }
    }
    Ok(n)
}
