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
//! Only the live classes are computed (as in [`crate::Tape`]); full BPTT.
//! [`BatchTape::forward_dropped`] trains with [`Dropout`] on the readout's input.
//!
//! [`BatchTape::forward_sequences`] takes any [`Sequence`]s (token ids or dense vectors) and
//! many-to-one [`Targets`] (a class per stream, read from its last state or the mean of its
//! states): the streams may then differ in length. A stream past its end is masked: its state is
//! held (so the gradient reaching it flows back unchanged to the stream's last real step), it
//! gets no input and no loss, and it adds nothing to any gradient, so a short sequence padded
//! in a batch with long ones has the gradient it has alone.
//!
//! [`Kernels::gemm`]: crate::kernels::Kernels::gemm

use crate::Error;
use crate::kernels::{self, GemmShape};
use crate::model::batch_cell::{BatchCell, BatchRecord, Gates, Transposed};
use crate::model::cell::StepRecord;
use crate::model::dropout::{Dropout, RowKey};
use crate::model::{Input, Live, Readout, Sequence, Targets};

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
/// readout weights of the forward pass, and the readout's input after dropout; for many-to-one
/// targets each stream's length, label, readout state and logits. For the Elman cell about
/// `4·(T·B·(3·H + O) + B·(3·H + 2·O) + H·(H + O))` bytes; a GRU adds `8·H` floats per step and
/// stream and `2·H²` floats.
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
    lens: [usize; B],
    many_to_one: bool,
    labels: [usize; B],
    mean_readout: [bool; B],
    read: [[f32; H]; B],
    d_read: [[f32; H]; B],
    class_logits: [[f32; O]; B],
    d_class: [[f32; O]; B],
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
        lens: [0; B],
        many_to_one: false,
        labels: [0; B],
        mean_readout: [false; B],
        read: [[0.0; H]; B],
        d_read: [[0.0; H]; B],
        class_logits: [[0.0; O]; B],
        d_class: [[0.0; O]; B],
    };

    /// Steps recorded by the last successful forward pass (its longest stream; 0 before any).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Each stream's readout and label, after a many-to-one forward pass.
    fn class_targets(&self) -> Option<[(Readout, usize); B]> {
        self.many_to_one.then(|| {
            core::array::from_fn(|b| {
                let mean = self.mean_readout.get(b).copied().unwrap_or(false);
                let readout = if mean { Readout::Mean } else { Readout::Last };
                (readout, self.labels.get(b).copied().unwrap_or(0))
            })
        })
    }

    /// The live logits of stream `stream` after a many-to-one
    /// [`BatchTape::forward_sequences`] (`classes` of them; empty otherwise, or for an empty
    /// stream's).
    pub fn logits(&self, stream: usize) -> &[f32] {
        let classes = self.classes;
        let live = self.many_to_one && self.lens.get(stream).is_some_and(|&n| n > 0);
        let start = stream.saturating_mul(classes);
        match self.class_logits.as_flattened().get(start..start + classes) {
            Some(logits) if live => logits,
            _ => &[],
        }
    }

    /// `true` if no forward pass has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The state of each stream after the last recorded step (the states to carry into the next
    /// chunk; a stream shorter than the pass holds the state of its own last step), or the
    /// starting states if nothing is recorded.
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
        let streams = (inputs.map(Sequence::Tokens), targets.map(Targets::Each));
        self.forward_sequences(cell, streams, h_start, classes, scale, dropout)
    }

    /// Runs `cell` over `inputs[b]` (token ids or dense vectors) from `h_start[b]` for every
    /// stream `b`, scored against `targets[b]`, under a softmax over the first `classes` outputs;
    /// returns the summed loss (in nats) and records the gradient of `scale ·` the loss, as
    /// [`BatchTape::forward_dropped`].
    ///
    /// The targets are either all [`Targets::Each`] (a class after every step: every stream as
    /// long as the first, token inputs below `classes`, as [`BatchTape::forward_dropped`]), or
    /// all many-to-one ([`Targets::Last`] or [`Targets::Mean`], stream by stream): then the
    /// streams may differ in length (one of them may be empty: it adds nothing), token inputs
    /// are below `I`, and there is no dropout. Past its end a stream is masked (see the module
    /// docs).
    ///
    /// # Errors
    /// - [`Error::BadLength`]: no stream has a step, or one is longer than `T` (with per-step
    ///   targets: the first stream is empty or too long);
    /// - [`Error::TargetsMismatch`]: per-step targets and streams of different lengths;
    /// - [`Error::InvalidSetting`]: `classes` is 0 or above `O`; per-step and per-sequence
    ///   targets in one batch; dropout with per-sequence targets;
    /// - [`Error::TokenOutOfRange`]: an input or target out of range;
    /// - [`Error::NonFiniteLoss`]: the loss is NaN or infinite.
    ///
    /// On error the tape is left empty.
    pub fn forward_sequences<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        (inputs, targets): ([Sequence<'_, I>; B], [Targets<'_>; B]),
        h_start: &[[f32; H]; B],
        classes: usize,
        scale: f32,
        dropout: DropoutPass,
    ) -> Result<f32, Error> {
        self.len = 0;
        self.lens = [0; B];
        crate::model::Classes::<O>::new(classes)?;
        let (n, many_to_one) = check_sequences(&inputs, &targets, T, classes)?;
        if many_to_one.is_some() && dropout.dropout.is_active() {
            return Err(Error::InvalidSetting(
                "dropout is for per-step targets, not a class per sequence",
            ));
        }
        self.h_start = *h_start;
        self.classes = classes;
        self.dropout = dropout;
        self.many_to_one = many_to_one.is_some();
        for (b, (readout, label)) in many_to_one.into_iter().flatten().enumerate() {
            if let (Some(mean), Some(slot)) = (self.mean_readout.get_mut(b), self.labels.get_mut(b))
            {
                (*mean, *slot) = (readout == Readout::Mean, label);
            }
        }
        for (len, stream) in self.lens.iter_mut().zip(&inputs) {
            *len = stream.len();
        }
        cell.transpose_recurrent(&mut self.w_hh_t);
        self.transpose_readout(cell);
        self.recurrence(cell, &inputs, n);
        let loss = match many_to_one {
            Some(labels) => self.class_layer(cell, &labels, scale),
            None => {
                let each = targets.map(|t| match t {
                    Targets::Each(ids) => ids,
                    Targets::Last(_) | Targets::Mean(_) => &[],
                });
                self.output_layer(cell, &each, n, scale)
            }
        };
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

    /// Every step of every stream ([`BatchCell::forward_streams`]); a stream past its end keeps
    /// its state. Inputs are checked.
    fn recurrence<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        inputs: &[Sequence<'_, I>; B],
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
            let step = inputs_at(inputs, t);
            let live = live_prefix(&self.lens, t);
            cell.forward_streams(&self.w_hh_t, &step, h_prev, h, records, live);
            for ((h, h_prev), &len) in h.iter_mut().zip(h_prev).zip(&self.lens) {
                if t >= len {
                    *h = *h_prev;
                }
            }
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
        readout_logits(hs, self.w_hy_t.as_flattened(), b_y, d_logits);
        let mut loss = 0.0f32;
        let mut logits = [0.0f32; O];
        for (i, row) in d_logits.chunks_exact_mut(classes.max(1)).enumerate() {
            let target = targets
                .get(i % B)
                .and_then(|s| s.get(i / B))
                .copied()
                .unwrap_or(0);
            let Some(live) = logits.get_mut(..classes) else {
                return f32::NAN;
            };
            live.iter_mut()
                .zip(row.iter())
                .for_each(|(slot, &z)| *slot = z);
            loss += softmax_gradient(live, target, scale, row);
        }
        loss
    }

    /// Many-to-one: each stream's readout state (its last state, or the mean of its states),
    /// the live logits of all `B` in one product, then softmax, loss and `scale·(p - onehot)`
    /// (0 for an empty stream).
    fn class_layer<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        labels: &[(Readout, usize); B],
        scale: f32,
    ) -> f32 {
        let k = kernels::active();
        let classes = self.classes;
        for (b, (read, &(readout, _))) in self.read.iter_mut().zip(labels).enumerate() {
            let len = self.lens.get(b).copied().unwrap_or(0);
            *read = [0.0; H];
            match readout {
                Readout::Last => {
                    let last = len.checked_sub(1).and_then(|t| self.hidden.get(t));
                    if let Some(h) = last.and_then(|step| step.get(b)) {
                        *read = *h;
                    }
                }
                Readout::Mean if len > 0 => {
                    let states = self.hidden.iter().take(len).filter_map(|step| step.get(b));
                    states.for_each(|h| (k.axpy)(1.0, h, read));
                    (k.scale)(read, 1.0 / len as f32);
                }
                Readout::Mean => {}
            }
        }
        let (Some(logits), Some(d_class), Some(b_y)) = (
            self.class_logits.as_flattened_mut().get_mut(..B * classes),
            self.d_class.as_flattened_mut().get_mut(..B * classes),
            cell.b_y().get(..classes),
        ) else {
            return f32::NAN;
        };
        readout_logits(&self.read, self.w_hy_t.as_flattened(), b_y, logits);
        let mut loss = 0.0f32;
        let rows = logits
            .chunks_exact(classes.max(1))
            .zip(d_class.chunks_exact_mut(classes.max(1)));
        for ((row, d), (&len, &(_, label))) in rows.zip(self.lens.iter().zip(labels)) {
            if len == 0 {
                d.fill(0.0);
                continue;
            }
            loss += softmax_gradient(row, label, scale, d);
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
        let live_inputs = self.classes;
        self.backward_sequences(cell, inputs.map(Sequence::Tokens), grads, live_inputs)
    }

    /// [`BatchTape::backward`] after [`BatchTape::forward_sequences`]: `inputs` must be the
    /// streams given to it, and the first `live_inputs` input rows of `grads` are overwritten
    /// (`classes` for a language model's tokens, `I` for a classifier; every row when a stream
    /// is dense, whatever `live_inputs`).
    ///
    /// # Errors
    /// [`Error::TargetsMismatch`] if a stream is not as long as the recorded one.
    pub fn backward_sequences<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        inputs: [Sequence<'_, I>; B],
        grads: &mut C,
        live_inputs: usize,
    ) -> Result<(), Error> {
        if let Some((stream, &len)) = inputs.iter().zip(&self.lens).find(|(s, n)| s.len() != **n) {
            return Err(Error::TargetsMismatch {
                inputs: stream.len(),
                targets: len,
            });
        }
        // A dense input reaches every input row.
        let dense = inputs.iter().any(|s| matches!(s, Sequence::Dense(_)));
        let live_inputs = if dense { I } else { live_inputs };
        grads.fill_live_zero(Live {
            inputs: live_inputs,
            outputs: self.classes,
        });
        match self.class_targets() {
            Some(labels) => self.class_backward(cell, &labels, grads),
            None => self.output_backward(cell, grads),
        }
        self.hidden_backward(cell, &inputs, grads, live_inputs);
        Ok(())
    }

    /// Many-to-one: `dW_hy = dYᵀ·Read`, `db_y = Σ dY` and `dRead = dY·W_hy`, each one product
    /// over the streams; then each stream's `dRead` to the states its readout read (the last
    /// one, or `1/n` of it to each of its `n` states), 0 to every other state.
    fn class_backward<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        labels: &[(Readout, usize); B],
        grads: &mut C,
    ) {
        let k = kernels::active();
        let classes = self.classes;
        let (g_w_hy, g_b_y) = grads.readout_mut();
        let (Some(dys), Some(w_hy), Some(g_w_hy), Some(g_b_y)) = (
            self.d_class.as_flattened().get(..B * classes),
            cell.w_hy().get(..classes),
            g_w_hy.get_mut(..classes),
            g_b_y.get_mut(..classes),
        ) else {
            return;
        };
        let states = (&self.read[..], &mut self.d_read[..]);
        readout_backward(w_hy, (g_w_hy, g_b_y), dys, states);
        let n = self.len.min(T);
        self.d_hidden
            .iter_mut()
            .take(n)
            .for_each(|d| d.fill([0.0; H]));
        for (b, (d_read, &(readout, _))) in self.d_read.iter().zip(labels).enumerate() {
            let len = self.lens.get(b).copied().unwrap_or(0);
            match readout {
                Readout::Last => {
                    let last = len.checked_sub(1).and_then(|t| self.d_hidden.get_mut(t));
                    if let Some(dh) = last.and_then(|step| step.get_mut(b)) {
                        *dh = *d_read;
                    }
                }
                Readout::Mean => {
                    let share = 1.0 / len.max(1) as f32;
                    let states = self.d_hidden.iter_mut().take(len);
                    let states = states.filter_map(|step| step.get_mut(b));
                    states.for_each(|dh| (k.axpy)(share, d_read, dh));
                }
            }
        }
    }

    /// `dW_hy = dYᵀ·H`, `db_y = Σ dY`, and every step's `dh = W_hyᵀ·dy` (before the recurrence
    /// adds to it), each one product over all steps and streams.
    fn output_backward<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        grads: &mut C,
    ) {
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
        readout_backward(w_hy, (g_w_hy, g_b_y), dys, (hs, d_hidden));
        if dropout.dropout.is_active() {
            for (i, dh) in d_hidden.iter_mut().enumerate() {
                let key = dropout.key(i % B, i / B);
                dropout.dropout.apply_in_place(key, dh);
            }
        }
    }

    /// From the last step back, one step of every stream ([`BatchCell::backward_streams`]),
    /// then the recurrent weight gradient over the chunk ([`BatchCell::recurrent_gradient`]).
    /// A stream past its end holds its state, so the gradient reaching it there goes on,
    /// unchanged, to its previous state, and the cell's step back sees 0 for it (adding nothing).
    fn hidden_backward<const I: usize, C: BatchCell<I, H, O, Record = R>>(
        &mut self,
        cell: &C,
        inputs: &[Sequence<'_, I>; B],
        grads: &mut C,
        live_inputs: usize,
    ) {
        let n = self.len.min(T);
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
            let mut dh_prev = earlier.last_mut();
            for (b, &len) in self.lens.iter().enumerate() {
                let Some(d) = dh.get_mut(b).filter(|_| t >= len) else {
                    continue;
                };
                if let Some(prev) = dh_prev.as_deref_mut().and_then(|p| p.get_mut(b)) {
                    prev.iter_mut().zip(d.iter()).for_each(|(p, d)| *p += d);
                }
                *d = [0.0; H];
                if let Some(slot) = gates.get_mut(b) {
                    *slot = <Gates<H, R> as StepRecord>::ZERO;
                }
            }
            let step = inputs_at(inputs, t);
            cell.backward_streams(
                &step,
                h_prev,
                h,
                records,
                dh,
                gates,
                dh_prev,
                grads,
                live_inputs,
                live_prefix(&self.lens, t),
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

/// `logits[r] = b_y + W_hy·states[r]` for every state, over the live classes (`b_y.len()` of
/// them, as many floats a row of `logits`), as one product with `w_hy_t` (`W_hyᵀ` packed the
/// same way).
fn readout_logits<const H: usize>(
    states: &[[f32; H]],
    w_hy_t: &[f32],
    b_y: &[f32],
    logits: &mut [f32],
) {
    let k = kernels::active();
    let classes = b_y.len();
    for row in logits.chunks_exact_mut(classes.max(1)) {
        row.iter_mut().zip(b_y).for_each(|(slot, &b)| *slot = b);
    }
    let shape = GemmShape {
        rows: states.len(),
        depth: H,
        cols: classes,
        a_row: H,
        a_col: 1,
    };
    (k.gemm)(logits, states.as_flattened(), w_hy_t, &shape);
}

/// `d = scale·(softmax(logits) - onehot(target))`; returns the loss `-ln softmax(logits)[target]`.
fn softmax_gradient(logits: &[f32], target: usize, scale: f32, d: &mut [f32]) -> f32 {
    let k = kernels::active();
    let log_sum_exp = (k.softmax)(logits, d);
    if let Some(p) = d.get_mut(target) {
        *p -= 1.0;
    }
    (k.scale)(d, scale);
    log_sum_exp - logits.get(target).copied().unwrap_or(f32::NAN)
}

/// The readout's step back over many states at once (`dys` holds their `∂loss/∂logits`, one row
/// of `w_hy.len()` live classes each): `dW_hy += dYᵀ·X` and `db_y += Σ dY` into `g_readout`,
/// and `d_states = dY·W_hy` (overwritten), each one product.
fn readout_backward<const H: usize>(
    w_hy: &[[f32; H]],
    (g_w_hy, g_b_y): (&mut [[f32; H]], &mut [f32]),
    dys: &[f32],
    (states, d_states): (&[[f32; H]], &mut [[f32; H]]),
) {
    let k = kernels::active();
    let (classes, rows) = (w_hy.len(), states.len());
    let dw_hy = GemmShape {
        rows: classes,
        depth: rows,
        cols: H,
        a_row: 1,
        a_col: classes,
    };
    (k.gemm)(
        g_w_hy.as_flattened_mut(),
        dys,
        states.as_flattened(),
        &dw_hy,
    );
    for dy in dys.chunks_exact(classes.max(1)) {
        (k.axpy)(1.0, dy, g_b_y);
    }
    d_states.fill([0.0; H]);
    let d_h = GemmShape {
        rows,
        depth: classes,
        cols: H,
        a_row: classes,
        a_col: 1,
    };
    (k.gemm)(d_states.as_flattened_mut(), dys, w_hy.as_flattened(), &d_h);
}

/// The streams a step must compute: up to the last one still running at step `t` (all of them
/// when the streams are sorted longest first and equally long; a shorter prefix as they end).
fn live_prefix(lens: &[usize], t: usize) -> usize {
    lens.iter()
        .rposition(|&len| len > t)
        .map_or(0, |last| last + 1)
}

/// Each stream's input at step `t` (`None` past its end).
fn inputs_at<'a, const I: usize, const B: usize>(
    inputs: &[Sequence<'a, I>; B],
    t: usize,
) -> [Option<Input<'a, I>>; B] {
    core::array::from_fn(|b| inputs.get(b).and_then(|s| s.get(t)))
}

/// Checks a pass's streams and returns the number of steps to run and, for many-to-one
/// targets, each stream's readout and label (see [`BatchTape::forward_sequences`]).
#[allow(clippy::type_complexity)]
fn check_sequences<const I: usize, const B: usize>(
    inputs: &[Sequence<'_, I>; B],
    targets: &[Targets<'_>; B],
    capacity: usize,
    classes: usize,
) -> Result<(usize, Option<[(Readout, usize); B]>), Error> {
    let per_step = targets.iter().all(|t| matches!(t, Targets::Each(_)));
    let (n, token_limit, many_to_one) = if per_step {
        let n = inputs.first().map_or(0, Sequence::len);
        if n == 0 || n > capacity {
            return Err(Error::BadLength { len: n, capacity });
        }
        let lengths = inputs
            .iter()
            .map(Sequence::len)
            .chain(targets.iter().map(|t| match t {
                Targets::Each(ids) => ids.len(),
                Targets::Last(_) | Targets::Mean(_) => 0,
            }));
        if let Some(len) = lengths.into_iter().find(|&len| len != n) {
            return Err(Error::TargetsMismatch {
                inputs: n,
                targets: len,
            });
        }
        (n, classes.min(I), None)
    } else {
        let n = inputs.iter().map(Sequence::len).max().unwrap_or(0);
        if n == 0 || n > capacity {
            return Err(Error::BadLength { len: n, capacity });
        }
        let mut labels = [(Readout::Last, 0); B];
        for (slot, target) in labels.iter_mut().zip(targets) {
            *slot = match *target {
                Targets::Last(label) => (Readout::Last, label),
                Targets::Mean(label) => (Readout::Mean, label),
                Targets::Each(_) => {
                    return Err(Error::InvalidSetting(
                        "a batch mixes per-step and per-sequence targets",
                    ));
                }
            };
        }
        (n, I, Some(labels))
    };
    for stream in inputs {
        if let Sequence::Tokens(ids) = stream
            && let Some(&token) = ids.iter().find(|&&id| id >= token_limit)
        {
            return Err(Error::TokenOutOfRange {
                token,
                limit: token_limit,
            });
        }
    }
    let labels = targets.iter().flat_map(|t| match t {
        Targets::Each(ids) => ids,
        Targets::Last(label) | Targets::Mean(label) => core::slice::from_ref(label),
    });
    if let Some(&token) = labels.into_iter().find(|&&label| label >= classes) {
        return Err(Error::TokenOutOfRange {
            token,
            limit: classes,
        });
    }
    Ok((n, many_to_one))
}
