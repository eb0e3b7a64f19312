//! The interface every recurrent cell implements, and the parameter list everything above the
//! model walks over.
//!
//! Two traits split what the layers above need:
//!
//! - [`Params`]: a fixed list of flat `f32` tensors, each described by a [`TensorSpec`] (name,
//!   shape, which rows a padded model trains). Optimizers, clipping, the finite check and the
//!   codecs loop over it, so parameters, gradients and optimizer memory of any cell share one
//!   shape and one set of loops.
//! - [`Cell`]: one step forward (recording what backward needs in a per-step
//!   [`Cell::Record`]), one step backward, and the readout `y = W_hy·h + b_y`, which is the same
//!   for every cell. The BPTT [`Tape`](crate::Tape) and the trainers are written once over it.
//!
//! The Elman [`Rnn`](crate::Rnn) and the [`Gru`](crate::model::Gru) are its two implementations.
//! A third cell (an LSTM, say) is one more file in `model/` implementing both traits; an LSTM's
//! cell state would ride in its `Record` and a wider hidden vector.

use crate::Error;
use crate::model::{Input, Sequence};

/// The rows a run trains: the first `inputs` rows of `w_xh` and the first `outputs` rows of
/// `w_hy` and `b_y`. A model padded to a larger vocabulary bucket than its corpus has (the
/// binary's `Rnn<96, H, 96>` for 65 characters) never gets a gradient in the other rows, so the
/// training loop and the optimizers leave them out: a padded model trains as fast as an
/// unpadded one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Live {
    /// Rows of `w_xh` (input ids) that can receive a gradient.
    pub inputs: usize,
    /// Rows of `w_hy` and entries of `b_y` (output classes) that can receive a gradient.
    pub outputs: usize,
}

impl Live {
    /// Every row of any model (the counts are clamped to each tensor's rows).
    pub const ALL: Self = Self {
        inputs: usize::MAX,
        outputs: usize::MAX,
    };

    /// Every row of an `Rnn<I, _, O>`.
    pub const fn all<const I: usize, const O: usize>() -> Self {
        Self {
            inputs: I,
            outputs: O,
        }
    }
}

/// Which rows of a tensor a padded model trains (see [`Live`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rows {
    /// Row `i` belongs to input id `i`: only the first [`Live::inputs`] rows are live.
    Inputs,
    /// Row `o` belongs to output class `o`: only the first [`Live::outputs`] rows are live.
    Outputs,
    /// Every row is live.
    All,
}

/// One parameter tensor: a row-major matrix of `rows × row_len` `f32`s (a vector is one value a
/// row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// The name in the equations and in the model file (`w_xh`, `b_h`, …).
    pub name: &'static str,
    /// Number of rows.
    pub rows: usize,
    /// Floats a row.
    pub row_len: usize,
    /// Which rows are live in a padded model.
    pub live_rows: Rows,
}

impl TensorSpec {
    /// Number of floats.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.rows * self.row_len
    }

    /// `true` for a tensor of no floats.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of floats in the `live` rows (a prefix of the tensor).
    #[must_use]
    pub fn live_len(&self, live: Live) -> usize {
        let rows = match self.live_rows {
            Rows::Inputs => live.inputs.min(self.rows),
            Rows::Outputs => live.outputs.min(self.rows),
            Rows::All => self.rows,
        };
        rows * self.row_len
    }
}

/// A fixed list of flat parameter tensors: a model's parameters, its gradients, or an
/// optimizer's memory of them (all of one type).
///
/// Index `i` of [`Params::tensor`] is described by `Self::TENSORS[i]`; the order is the model
/// file's and every optimizer's.
pub trait Params: Clone {
    /// The tensors, in order.
    const TENSORS: &'static [TensorSpec];
    /// Every parameter zero; a `const`, so a buffer can sit in a `static`.
    const ZERO: Self;

    /// Tensor `index` as a flat slice; empty for an index past the list.
    fn tensor(&self, index: usize) -> &[f32];
    /// Tensor `index` as a flat mutable slice; empty for an index past the list.
    fn tensor_mut(&mut self, index: usize) -> &mut [f32];

    /// Tensor `index` cut to its `live` rows.
    fn live_tensor(&self, index: usize, live: Live) -> &[f32] {
        let len = Self::TENSORS.get(index).map_or(0, |s| s.live_len(live));
        let tensor = self.tensor(index);
        tensor.get(..len).unwrap_or(tensor)
    }

    /// Tensor `index` cut to its `live` rows, mutable.
    fn live_tensor_mut(&mut self, index: usize, live: Live) -> &mut [f32] {
        let len = Self::TENSORS.get(index).map_or(0, |s| s.live_len(live));
        let tensor = self.tensor_mut(index);
        let len = len.min(tensor.len());
        &mut tensor[..len]
    }

    /// Sets every parameter to zero, in place.
    fn fill_zero(&mut self) {
        for index in 0..Self::TENSORS.len() {
            self.tensor_mut(index).fill(0.0);
        }
    }

    /// Sets the `live` rows of every tensor to zero, in place.
    fn fill_live_zero(&mut self, live: Live) {
        for index in 0..Self::TENSORS.len() {
            self.live_tensor_mut(index, live).fill(0.0);
        }
    }

    /// Total number of parameters.
    const PARAMETER_COUNT: usize = {
        let mut total = 0;
        let mut index = 0;
        while index < Self::TENSORS.len() {
            total += Self::TENSORS[index].len();
            index += 1;
        }
        total
    };
}

/// The kind of a cell, as recorded in model files and checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CellKind {
    /// The Elman cell, `h = tanh(W_xh·x + W_hh·h + b_h)`: [`Rnn`](crate::Rnn).
    Elman,
    /// The gated recurrent unit of PyTorch's `nn.GRU`: [`Gru`](crate::model::Gru).
    Gru,
}

impl CellKind {
    /// The name the binary's `--cell` option and the docs use.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            CellKind::Elman => "elman",
            CellKind::Gru => "gru",
        }
    }

    /// Gate blocks of the cell's input and recurrent weights: 1 for Elman, 3 (r, z, n) for a GRU.
    #[must_use]
    pub const fn gates(self) -> usize {
        match self {
            CellKind::Elman => 1,
            CellKind::Gru => 3,
        }
    }

    /// [`Error::CellMismatch`] unless this cell is `expected`.
    ///
    /// # Errors
    /// [`Error::CellMismatch`] naming both cells.
    pub const fn expect(self, expected: CellKind) -> Result<(), Error> {
        if self as u8 == expected as u8 {
            Ok(())
        } else {
            Err(Error::CellMismatch {
                found: self.name(),
                expected: expected.name(),
            })
        }
    }
}

impl core::fmt::Display for CellKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A recurrent cell with `I` inputs, `H` hidden units and `O` outputs, followed by the readout
/// `y = W_hy·h + b_y` that every cell shares.
///
/// The hidden state is `[f32; H]`. A step is `forward`; training runs `forward` over a chunk,
/// keeping each step's [`Cell::Record`] and state in a [`Tape`](crate::Tape), then `backward`
/// from the last step to the first.
pub trait Cell<const I: usize, const H: usize, const O: usize>: Params {
    /// The cell's kind.
    const KIND: CellKind;
    /// What one step's backward pass needs besides the states before and after it: `()` for
    /// the Elman cell (its derivative is read off the new state), the gates for a GRU.
    type Record: StepRecord;

    /// The readout's weights: row `o` holds the weights into output `o`.
    fn w_hy(&self) -> &[[f32; H]; O];
    /// The readout's bias.
    fn b_y(&self) -> &[f32; O];
    /// The readout's weights and bias, mutable (a gradient buffer's, in training).
    fn readout_mut(&mut self) -> (&mut [[f32; H]; O], &mut [f32; O]);

    /// One step: `h` from `h_prev` and the input, with what [`Cell::backward`] needs written to
    /// `record`.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for a token id `≥ I`; `h` and `record` are then unspecified
    /// (the tape discards them).
    fn forward(
        &self,
        input: Input<'_, I>,
        h_prev: &[f32; H],
        h: &mut [f32; H],
        record: &mut Self::Record,
    ) -> Result<(), Error>;

    /// Advances `hidden` by one input (inference: the record is discarded).
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for a token id `≥ I`; `hidden` is then left unchanged.
    fn step(&self, input: Input<'_, I>, hidden: &mut [f32; H]) -> Result<(), Error> {
        let mut next = [0.0f32; H];
        let mut record = Self::Record::ZERO;
        self.forward(input, hidden, &mut next, &mut record)?;
        *hidden = next;
        Ok(())
    }

    /// Output logits for a hidden state: `logits = W_hy·hidden + b_y`.
    fn logits(&self, hidden: &[f32; H], logits: &mut [f32; O]) {
        let k = crate::kernels::active();
        (k.matvec)(self.w_hy().as_flattened(), hidden, self.b_y(), logits);
    }

    /// One step back: given `dh = ∂L/∂h` (the total gradient reaching the state after this
    /// step), adds this step's share to the gradients of the cell's tensors in `grads` (input
    /// rows only below `live_inputs`; never the readout's) and overwrites `dh` with
    /// `∂L/∂h_prev` through this step.
    fn backward(
        &self,
        step: Step<'_, I, H, Self::Record>,
        dh: &mut [f32; H],
        grads: &mut Self,
        live_inputs: usize,
    );

    /// The backward pass over a recorded chunk: overwrites the live rows of `grads` (the first
    /// `live_inputs` rows of input tensors, the chunk's live classes of output tensors) with the
    /// gradient of the chunk's loss; the other rows keep what they held. `scratch` holds one
    /// `H`-vector a step and `records` one record-sized scratch a step (each at least the
    /// chunk's length; contents unspecified on entry and exit). With `window: Some(k)`
    /// each output's gradient flows back through at most `k` earlier steps.
    ///
    /// Cells implement it by calling [`backward_steps`](crate::model::through_time::backward_steps),
    /// which is written once over [`Cell::backward`]; a cell may instead batch its weight
    /// gradients over the chunk (both cells do: `elman_backward.rs`, `gru_backward.rs`).
    fn backward_chunk(
        &self,
        chunk: Chunk<'_, I, H, Self::Record>,
        scratch: &mut [[f32; H]],
        records: &mut [Self::Record],
        grads: &mut Self,
        window: Option<usize>,
        live_inputs: usize,
    );
}

/// A per-step record that has an all-zero value, so a tape of it can sit in a `static`.
pub trait StepRecord: Copy + core::fmt::Debug {
    /// The all-zero record.
    const ZERO: Self;
}

impl StepRecord for () {
    const ZERO: Self = ();
}

impl<const H: usize, const N: usize> StepRecord for [[f32; H]; N] {
    const ZERO: Self = [[0.0; H]; N];
}

impl<const H: usize, const N: usize, const M: usize> StepRecord for [[[f32; H]; N]; M] {
    const ZERO: Self = [[[0.0; H]; N]; M];
}

/// A recorded chunk, as the [`Tape`](crate::Tape) hands it to [`Cell::backward_chunk`]: the
/// `n` steps' inputs, states and records, the gradient of the loss with respect to their live
/// logits.
#[derive(Clone, Copy, Debug)]
pub struct Chunk<'a, const I: usize, const H: usize, R> {
    /// The `n` inputs.
    pub inputs: Sequence<'a, I>,
    /// The state before the first step.
    pub h_start: &'a [f32; H],
    /// The state after each of the `n` steps.
    pub hidden: &'a [[f32; H]],
    /// Each step's record (`n` of them).
    pub records: &'a [R],
    /// `∂loss/∂logits` of every step from `first_output` on, `classes` floats a step, packed:
    /// step `t`'s at `t·classes..(t + 1)·classes`.
    pub d_logits: &'a [f32],
    /// The first step with an output (0 for a language model, `n - 1` for a classifier).
    pub first_output: usize,
    /// Live classes.
    pub classes: usize,
}

impl<'a, const I: usize, const H: usize, R> Chunk<'a, I, H, R> {
    /// Number of steps.
    #[must_use]
    pub fn len(&self) -> usize {
        self.hidden.len()
    }

    /// `true` for a chunk of no steps.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hidden.is_empty()
    }

    /// Step `t` as [`Cell::backward`] reads it.
    #[must_use]
    pub fn step(&self, t: usize) -> Option<Step<'a, I, H, R>> {
        let h = self.hidden.get(t)?;
        let h_prev = match t.checked_sub(1) {
            Some(p) => self.hidden.get(p)?,
            None => self.h_start,
        };
        Some(Step {
            input: self.inputs.get(t),
            h_prev,
            h,
            record: self.records.get(t)?,
        })
    }

    /// `∂loss/∂logits` of step `t` (its live classes), if the step has an output.
    #[must_use]
    pub fn d_logits(&self, t: usize) -> Option<&'a [f32]> {
        if t < self.first_output {
            return None;
        }
        self.d_logits.get(t * self.classes..(t + 1) * self.classes)
    }
}

/// One recorded step, as [`Cell::backward`] reads it.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a, const I: usize, const H: usize, R> {
    /// The step's input (`None` only for a sequence shorter than the record, which the tape
    /// never passes).
    pub input: Option<Input<'a, I>>,
    /// The state before the step.
    pub h_prev: &'a [f32; H],
    /// The state after the step.
    pub h: &'a [f32; H],
    /// What the forward pass recorded.
    pub record: &'a R,
}
