//! The RAM each operation needs, as `const fn`s of the model's sizes, so that firmware can
//! `const _: () = assert!(...)` that a setup fits its RAM, and a guide can print the numbers of
//! the target it runs on (the struct sizes differ between 32- and 64-bit targets: on 64-bit
//! ones [`Rnn`](crate::Rnn) is cache-line aligned).
//!
//! These count the buffers the caller places (in `static`s or on the stack); the peak stack of
//! the calls comes on top (measured in `docs/microcontrollers.md`).
//!
//! ```
//! use micrornn::workflows::footprint;
//! use micrornn::model::gru::GruRecord;
//! use micrornn::{Adagrad, Adam, Gru, QRnn, Rnn, Tape};
//! // Training Rnn<32, 32, 32> on chunks of 25 with Adagrad: model, gradients, Adagrad's memory
//! // and the tape.
//! let bytes = footprint::training::<Rnn<32, 32, 32>, 32, 32, 32, 25, Adagrad<Rnn<32, 32, 32>>>();
//! assert_eq!(bytes, 2 * Rnn::<32, 32, 32>::SIZE + size_of::<Adagrad<Rnn<32, 32, 32>>>() + Tape::<25, 32, 32>::SIZE);
//! // Any cell: a GRU's tape records its gates too.
//! let gru = footprint::training::<Gru<22, 32, 22>, 22, 32, 22, 25, Adam<Gru<22, 32, 22>>>();
//! assert_eq!(gru, 2 * Gru::<22, 32, 22>::SIZE + size_of::<Adam<Gru<22, 32, 22>>>()
//!     + Tape::<25, 32, 22, GruRecord<32>>::SIZE);
//! assert_eq!(footprint::inference::<Gru<22, 32, 22>, 22, 32, 22>(), Gru::<22, 32, 22>::SIZE + 4 * (32 + 22));
//! // Inference from a model kept in flash (`format::decode_const`): the state and the logits.
//! assert_eq!(footprint::inference_state::<32, 32>(), 4 * (32 + 32));
//! assert_eq!(footprint::quantized_inference_state::<32, 32>(), 2 * (32 + 32));
//! # let _ = QRnn::<1, 1, 1>::SIZE;
//! ```

use crate::model::{Cell, Tape};
use core::mem::size_of;

/// RAM of an f32 model of cell `C` (an [`Rnn`](crate::Rnn), a [`Gru`](crate::Gru)) whose
/// parameters are decoded at run time (into a `static`): the parameters, the state and the
/// logits. With `format::decode_const` the parameters stay in flash and only
/// [`inference_state`] is RAM.
pub const fn inference<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>() -> usize
{
    size_of::<C>() + inference_state::<H, O>()
}

/// RAM of f32 inference besides the parameters: the hidden state and the logits.
pub const fn inference_state<const H: usize, const O: usize>() -> usize {
    4 * (H + O)
}

/// RAM of int8 inference besides the parameters: the Q15 state and the i16 logits.
pub const fn quantized_inference_state<const H: usize, const O: usize>() -> usize {
    2 * (H + O)
}

/// RAM of on-device training of a model of cell `C`: the model, its gradients, the optimizer
/// `P` (`Sgd`, or the memory of `Momentum`, `Adagrad` — one model's worth — or `Adam` — two)
/// and a BPTT tape of `T` steps (with the cell's per-step record: the GRU's gates).
pub const fn training<
    C: Cell<I, H, O>,
    const I: usize,
    const H: usize,
    const O: usize,
    const T: usize,
    P,
>() -> usize {
    2 * size_of::<C>() + size_of::<P>() + size_of::<Tape<T, H, O, C::Record>>()
}
