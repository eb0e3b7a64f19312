//! Back-propagation through time for `B` sequences at once, as matrix–matrix products, for any
//! [`BatchCell`] (the Elman [`Rnn`](crate::Rnn) and the [`Gru`](crate::model::Gru)).
//!
//! [`BatchTape::forward`] runs the model over one chunk of each of `B` token streams, each from
//! its own hidden state; every step's recurrent products are one product over the streams (a
//! [`Kernels::gemm`], [`BatchCell::forward_streams`]), the output layer one product over all
//! `T·B` states. [`BatchTape::backward`] turns the record into the gradients of the summed loss
//! times a scale (`1/B` averages over the batch), again as products: `W_hyᵀ·dY`, one step back
//! of every stream per step ([`BatchCell::backward_streams`]), `dW_hy = dYᵀ·H`, and the
//! recurrent weight gradient over the chunk ([`BatchCell::recurrent_gradient`]).
//!
//! Only the live classes are computed (as in [`crate::Tape`]); token inputs only; full BPTT.
//! [`BatchTape::forward_dropped`] trains with [`Dropout`] on the readout's input.
//!
//! [`Kernels::gemm`]: crate::kernels::Kernels::gemm

use crate::Error;
use crate::kernels::{self, GemmShape};
use crate::model::Live;
use crate::model::batch_cell::{BatchCell, BatchRecord, Gates, Transposed};
use crate::model::cell::StepRecord;
use crate::model::dropout::{Dropout, RowKey};

/// The dropout of one forward pass: the rate and seed, and the key of the pass's masks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutPass {
    /// The rate and seed ([`Dropout::NONE`]: no dropout).
    pub dropout: Dropout,
    /// The draw of this pass (a training run's update count).
    pub draw: u64,
    /// The index, in the whole batch, of this tape's first stream.
    pub first_stream: u64,
}

impl DropoutPass {
    /// No dropout.
    pub const NONE: Self = Self {
        dropout: Dropout::NONE,
        draw: 0,
        first_stream: 0,
    };

    /// The key of the mask of stream `b` of this tape at step `t`.
    fn key(&self, b: usize, t: usize) -> RowKey {
        RowKey {
            draw: self.draw,
            stream: self.first_stream.wrapping_add(b as u64),
            step: t as u64,
        }
    }
}

/// The record of one forward pass over `B` streams of up to `T` steps, reused from chunk to
/// chunk, for a cell whose per-step record is `R` (`()`, the default, for the Elman cell; the
/// GRU's [`GruRecord`](crate::model::gru::GruRecord)). Holds each stream's starting state, the
/// state and record after every step, the scaled gradient of the loss with respect to the live
/// logits (packed, `classes` floats per stream and step), the gradients reaching the states in
/// the backward pass with the cell's per-step gate gradients, and the transposed recurrent and
/// readout weights of the forward pass, and the readout's input after dropout. For the Elman cell
/// about `4·(T·B·(3·H + O) + B·H + H·(H + O))` bytes; a GRU adds `8·H` floats per step and stream
/// and `2·H²` floats.
#[derive(Clone, Debug)]
#[cfg_attr(target_pointer_width = "64", repr(align(64)))]
pub struct BatchTape<
    const B: usize,
    const T: usize,
    const H: usize,
    const O: usize,
    R: BatchRecord<H> = (),
> {
    h_start: [[f32; H]; B],
    hidden: [[[f32; H]; B]; T],
    records: [[R; B]; T],
    d_logits: [[[f32; O]; B]; T],
    d_hidden: [[[f32; H]; B]; T],
    gates: [[Gates<H, R>; B]; T],
    w_hh_t: Transposed<H, R>,
    w_hy_t: [[f32; O]; H],
    dropped: [[[f32; H]; B]; T],
    dropout: DropoutPass,
    len: usize,
    classes: usize,
}

impl<const B: usize, const T: usize, const H: usize, const O: usize, R: BatchRecord<H>>
    BatchTape<B, T, H, O, R>
{
    /// An empty tape, usable in a `static`.
    pub const ZERO: Self = Self {
        h_start: [[0.0; H]; B],
        hidden: [[[0.0; H]; B]; T],
        records: [[R::ZERO; B]; T],
        d_logits: [[[0.0; O]; B]; T],
        d_hidden: [[[0.0; H]; B]; T],
        gates: [[<Gates<H, R> as StepRecord>::ZERO; B]; T],
        w_hh_t: <Transposed<H, R> as StepRecord>::ZERO,
        w_hy_t: [[0.0; O]; H],
        dropped: [[[0.0; H]; B]; T],
        dropout: DropoutPass::NONE,
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

    /// Runs `cell` over `inputs[b]` from `h_start[b]` for every stream `b`, with targets
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
    pub fn forward<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        inputs: [&[usize]; B],
        targets: [&[usize]; B],
        h_start: &[[f32; H]; B],
        classes: usize,
        scale: f32,
    ) -> Result<f32, Error> {
        let streams = (inputs, targets);
        self.forward_dropped(cell, streams, h_start, classes, scale, DropoutPass::NONE)
    }

    /// [`BatchTape::forward`] with `dropout` on the readout's input: the logits of stream `b` at
    /// step `t` are `W_hy·(m ⊙ h) + b_y` with the mask `m` of [`DropoutPass`]'s key for `(b, t)`
    /// (the recurrence is unchanged). [`BatchTape::backward`] then differentiates that loss.
    ///
    /// # Errors
    /// As [`BatchTape::forward`].
    pub fn forward_dropped<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        (inputs, targets): ([&[usize]; B], [&[usize]; B]),
        h_start: &[[f32; H]; B],
        classes: usize,
        scale: f32,
        dropout: DropoutPass,
    ) -> Result<f32, Error> {
        self.len = 0;
        let n = check_streams(&inputs, &targets, T, classes.min(I), classes)?;
        crate::model::Classes::<O>::new(classes)?;
        self.h_start = *h_start;
        self.classes = classes;
        self.dropout = dropout;
        cell.transpose_recurrent(&mut self.w_hh_t);
        self.transpose_readout(cell);
        self.recurrence(cell, &inputs, n);
        let loss = self.output_layer(cell, &targets, n, scale);
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        self.len = n;
        Ok(loss)
    }

    /// `w_hy_t = W_hyᵀ` (live classes, packed: `classes` floats a row).
    fn transpose_readout<const I: usize, C: BatchCell<I, H, O, Record = R>>(&mut self, cell: &C) {
        let classes = self.classes;
        let packed = self.w_hy_t.as_flattened_mut();
        for (o, row) in cell.w_hy().iter().take(classes).enumerate() {
            for (c, &w) in row.iter().enumerate() {
                if let Some(slot) = packed.get_mut(c * classes + o) {
                    *slot = w;
                }
            }
        }
    }

    /// Every step of every stream ([`BatchCell::forward_streams`]). Inputs are checked.
    fn recurrence<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        inputs: &[&[usize]; B],
        n: usize,
    ) {
        for t in 0..n.min(T) {
            let Some((done, rest)) = self.hidden.split_at_mut_checked(t) else {
                break;
            };
            let (Some(h), Some(records)) = (rest.first_mut(), self.records.get_mut(t)) else {
                break;
            };
            let h_prev = done.last().unwrap_or(&self.h_start);
            let tokens = tokens_at(inputs, t);
            cell.forward_streams(&self.w_hh_t, &tokens, h_prev, h, records);
        }
    }

    /// With dropout, writes the masked states of the first `n` steps to `dropped`.
    fn drop_readout_input(&mut self, n: usize) {
        let dropout = self.dropout;
        if !dropout.dropout.is_active() {
            return;
        }
        for (t, (dropped, hidden)) in self
            .dropped
            .iter_mut()
            .zip(&self.hidden)
            .take(n)
            .enumerate()
        {
            for (b, (out, h)) in dropped.iter_mut().zip(hidden).enumerate() {
                dropout.dropout.apply(dropout.key(b, t), h, out);
            }
        }
    }

    /// The live logits of every step and stream in one product, then softmax, loss and
    /// `scale·(p - onehot)` in place.
    fn output_layer<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        targets: &[&[usize]; B],
        n: usize,
        scale: f32,
    ) -> f32 {
        let k = kernels::active();
        let classes = self.classes;
        let rows = n * B;
        self.drop_readout_input(n);
        let readout_input = readout_input(&self.dropout, &self.hidden, &self.dropped);
        let (Some(d_logits), Some(hs), Some(b_y)) = (
            self.d_logits
                .as_flattened_mut()
                .as_flattened_mut()
                .get_mut(..rows * classes),
            readout_input.as_flattened().get(..rows),
            cell.b_y().get(..classes),
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
    /// written to the live rows of `grads` (the first `classes` of the readout, the first
    /// `classes` input rows as every input is below `classes`): those are overwritten, the other
    /// rows are not touched. `inputs` must be the streams given to [`BatchTape::forward`].
    ///
    /// # Errors
    /// [`Error::TargetsMismatch`] if `inputs` are not as long as the recorded pass.
    pub fn backward<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        inputs: [&[usize]; B],
        grads: &mut C,
    ) -> Result<(), Error> {
        if let Some(stream) = inputs.iter().find(|s| s.len() != self.len) {
            return Err(Error::TargetsMismatch {
                inputs: stream.len(),
                targets: self.len,
            });
        }
        grads.fill_live_zero(Live {
            inputs: self.classes,
            outputs: self.classes,
        });
        self.output_backward(cell, grads);
        self.hidden_backward(cell, &inputs, grads);
        Ok(())
    }

    /// `dW_hy = dYᵀ·H`, `db_y = Σ dY`, and every step's `dh = W_hyᵀ·dy` (before the recurrence
    /// adds to it), each one product over all steps and streams.
    fn output_backward<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        grads: &mut C,
    ) {
        let k = kernels::active();
        let (classes, rows) = (self.classes, self.len * B);
        let (g_w_hy, g_b_y) = grads.readout_mut();
        let dropout = self.dropout;
        let readout_input = readout_input(&dropout, &self.hidden, &self.dropped);
        let (Some(dys), Some(hs), Some(d_hidden), Some(w_hy), Some(g_w_hy), Some(g_b_y)) = (
            self.d_logits
                .as_flattened()
                .as_flattened()
                .get(..rows * classes),
            readout_input.as_flattened().get(..rows),
            self.d_hidden.as_flattened_mut().get_mut(..rows),
            cell.w_hy().get(..classes),
            g_w_hy.get_mut(..classes),
            g_b_y.get_mut(..classes),
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
        d_hidden.fill([0.0; H]);
        let d_h = GemmShape {
            rows,
            depth: classes,
            cols: H,
            a_row: classes,
            a_col: 1,
        };
        (k.gemm)(d_hidden.as_flattened_mut(), dys, w_hy.as_flattened(), &d_h);
        if dropout.dropout.is_active() {
            for (i, dh) in d_hidden.iter_mut().enumerate() {
                let key = dropout.key(i % B, i / B);
                dropout.dropout.apply_in_place(key, dh);
            }
        }
    }

    /// From the last step back, one step of every stream ([`BatchCell::backward_streams`]),
    /// then the recurrent weight gradient over the chunk ([`BatchCell::recurrent_gradient`]).
    fn hidden_backward<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        inputs: &[&[usize]; B],
        grads: &mut C,
    ) {
        let n = self.len.min(T);
        let live_inputs = self.classes;
        for t in (0..n).rev() {
            let Some((earlier, rest)) = self.d_hidden.split_at_mut_checked(t) else {
                break;
            };
            let h_prev = match t.checked_sub(1) {
                Some(p) => self.hidden.get(p),
                None => Some(&self.h_start),
            };
            let (Some(dh), Some(h_prev), Some(h), Some(records), Some(gates)) = (
                rest.first_mut(),
                h_prev,
                self.hidden.get(t),
                self.records.get(t),
                self.gates.get_mut(t),
            ) else {
                break;
            };
            let tokens = tokens_at(inputs, t);
            cell.backward_streams(
                &tokens,
                h_prev,
                h,
                records,
                dh,
                gates,
                earlier.last_mut(),
                grads,
                live_inputs,
            );
        }
        let (Some(d_hidden), Some(gates), Some(hidden)) = (
            self.d_hidden.get(..n),
            self.gates.get(..n),
            self.hidden.get(..n),
        ) else {
            return;
        };
        C::recurrent_gradient(d_hidden, gates, &self.h_start, hidden, grads);
    }
}

/// The readout's input: the states, or with dropout the masked states.
fn readout_input<'t, Steps: ?Sized>(
    dropout: &DropoutPass,
    hidden: &'t Steps,
    dropped: &'t Steps,
) -> &'t Steps {
    if dropout.dropout.is_active() {
        dropped
    } else {
        hidden
    }
}

/// Each stream's token at step `t` (`usize::MAX`, which no model has a row for, past its end).
fn tokens_at<const B: usize>(inputs: &[&[usize]; B], t: usize) -> [usize; B] {
    core::array::from_fn(|b| {
        inputs
            .get(b)
            .and_then(|s| s.get(t))
            .copied()
            .unwrap_or(usize::MAX)
    })
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
