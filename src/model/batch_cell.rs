//! What a cell adds to [`Cell`] to be trained on `B` streams at once by the
//! [`BatchTape`](crate::batch::BatchTape): one step of every stream as matrix–matrix products, one
//! step back of every stream, and the recurrent weight gradient over the chunk as one product.
//!
//! The tape is written once over [`BatchCell`]; the Elman [`Rnn`](crate::Rnn)
//! (`elman_batch.rs`) and the [`Gru`](crate::model::Gru) (`gru_batch.rs`) implement it. The tape
//! keeps, per step and stream, the state, the cell's [`Cell::Record`], the gradient reaching the
//! state (`dh`) and the cell's [`BatchRecord::Gates`] (what the recurrent weight gradient reads);
//! and once per chunk the transposed recurrent weights ([`BatchRecord::Transposed`]).

use crate::model::Input;
use crate::model::cell::{Cell, StepRecord};

/// The batched buffers of a cell, named by its per-step record type (which the tape already
/// carries as a type parameter): `()` for the Elman cell, the GRU's `[[f32; H]; 4]`.
///
/// Everything is `Send + Sync` (plain `f32` arrays), so shards of a batch may run on threads.
pub trait BatchRecord<const H: usize>: StepRecord + Send + Sync {
    /// What one step back keeps per stream for [`BatchCell::recurrent_gradient`]: nothing for
    /// the Elman cell (its pre-activation gradient overwrites `dh` in place), the packed gate
    /// gradients for the GRU.
    type Gates: StepRecord + Send + Sync;
    /// The recurrent weights transposed, as the batched step's product reads them: `W_hhᵀ`
    /// (`H × H`) for the Elman cell, the GRU's `H × 3H`.
    type Transposed: StepRecord + Send + Sync;
}

/// The transposed recurrent weights of a cell whose record is `R`.
pub type Transposed<const H: usize, R> = <R as BatchRecord<H>>::Transposed;

/// The per-stream gate gradients of a cell whose record is `R`.
pub type Gates<const H: usize, R> = <R as BatchRecord<H>>::Gates;

/// A cell the [`BatchTape`](crate::batch::BatchTape) trains on `B` streams at once, of token ids
/// or dense vectors.
///
/// Every method takes the `B` streams of one step, `inputs[b]` the input of stream `b` (token
/// ids are checked by the tape before; `None`, for a stream past its end, adds no input), and
/// `live`: the streams from `live` on are past their end, and the cell skips them (the tape
/// holds their states, and their gradients are zero).
pub trait BatchCell<const I: usize, const H: usize, const O: usize>:
    Cell<I, H, O, Record: BatchRecord<H>> + Send + Sync
{
    /// Writes the recurrent weights transposed into `w_t`, once per chunk.
    fn transpose_recurrent(&self, w_t: &mut Transposed<H, Self::Record>);

    /// One step of every stream: `h[b]` from `h_prev[b]` and input `inputs[b]`, the recurrent
    /// products of all `B` streams as one [`gemm`](crate::kernels::Kernels::gemm) with `w_t`
    /// (from [`BatchCell::transpose_recurrent`]); each stream's record in `records[b]`.
    fn forward_streams<const B: usize>(
        &self,
        w_t: &Transposed<H, Self::Record>,
        inputs: &[Option<Input<'_, I>>; B],
        h_prev: &[[f32; H]; B],
        h: &mut [[f32; H]; B],
        records: &mut [Self::Record; B],
        live: usize,
    );

    /// One step back of every stream: `dh[b]` is the total gradient reaching the state after
    /// the step (the readout's share plus what the next step sent back). Adds the step's bias
    /// and input gradients to `grads` (token rows below `live_inputs`), keeps what
    /// [`BatchCell::recurrent_gradient`] needs in `dh` and `gates`, and adds the gradient that
    /// flows to the previous states into `dh_prev` (`None` at the first step).
    #[allow(clippy::too_many_arguments)]
    fn backward_streams<const B: usize>(
        &self,
        inputs: &[Option<Input<'_, I>>; B],
        h_prev: &[[f32; H]; B],
        h: &[[f32; H]; B],
        records: &[Self::Record; B],
        dh: &mut [[f32; H]; B],
        gates: &mut [Gates<H, Self::Record>; B],
        dh_prev: Option<&mut [[f32; H]; B]>,
        grads: &mut Self,
        live_inputs: usize,
        live: usize,
    );

    /// Adds the recurrent weight gradient of the whole chunk to `grads`, as products over every
    /// step and stream: `dh` and `gates` as [`BatchCell::backward_streams`] left them, `hidden`
    /// the states after every step, `h_start` the states before the first.
    fn recurrent_gradient<const B: usize>(
        dh: &[[[f32; H]; B]],
        gates: &[[Gates<H, Self::Record>; B]],
        h_start: &[[f32; H]; B],
        hidden: &[[[f32; H]; B]],
        grads: &mut Self,
    );
}
