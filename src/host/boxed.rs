//! Heap placement of large zeroed structs, without building them on the stack first.

use crate::model::batch::BatchTape;
use crate::model::batch_cell::{BatchCell, BatchRecord};
use crate::model::cell::StepRecord;
use crate::model::{Gru, Rnn, Tape};
use crate::workflows::batch_train::Shard;
use crate::workflows::optim::{Adagrad, Adam, Momentum};
use std::boxed::Box;

/// Types for which the all-zero bit pattern is a valid value.
///
/// # Safety
/// Implement only for types made solely of `f32`, integer and array-of-those fields (no
/// references, no enums, no `bool`), for which all-zero bytes are a valid, meaningful value.
pub unsafe trait Zeroable {}

// SAFETY: `Rnn` is `#[repr(C)]` and holds only `f32` arrays.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for Rnn<I, H, O> {}
// SAFETY: `QRnn` is `#[repr(C)]` and holds only integer arrays and one `f32`.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for crate::QRnn<I, H, O> {}
// SAFETY: `QGru` is `#[repr(C)]` and holds only integer and `f32` arrays (its normalization: two
// `f32` arrays) and one `f32`; all zeros is a valid value of each.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for crate::QGru<I, H, O> {}
// SAFETY: `Gru` is `#[repr(C)]` and holds only `f32` arrays.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for Gru<I, H, O> {}
// SAFETY: `Tape` holds only `f32` arrays, `usize` fields and `T` records, zeroable themselves.
unsafe impl<const T: usize, const H: usize, const O: usize, R: StepRecord + Zeroable> Zeroable
    for Tape<T, H, O, R>
{
}
// SAFETY: the Elman cell's record holds nothing.
unsafe impl Zeroable for () {}
// SAFETY: an array of `f32` arrays (the GRU's record).
unsafe impl<const H: usize, const N: usize> Zeroable for [[f32; H]; N] {}

// SAFETY: an array of arrays of `f32` arrays (the GRU's transposed recurrent weights).
unsafe impl<const H: usize, const N: usize, const M: usize> Zeroable for [[[f32; H]; N]; M] {}

// SAFETY: `BatchTape` holds only `f32` arrays, `usize` and `bool` fields and arrays, and arrays of
// the cell's record, gate gradients and transposed weights, each zeroable itself (all-zero bytes
// are `0`, `0.0` and `false`).
unsafe impl<const B: usize, const T: usize, const H: usize, const O: usize, R> Zeroable
    for BatchTape<B, T, H, O, R>
where
    R: BatchRecord<H, Gates: Zeroable, Transposed: Zeroable> + Zeroable,
{
}
// SAFETY: `Shard` holds a `BatchTape` (zeroable for the cell's record), the cell's parameters
// (`C: Zeroable`), `f32` arrays and an `f32`.
unsafe impl<const I: usize, const B: usize, const T: usize, const H: usize, const O: usize, C>
    Zeroable for Shard<I, B, T, H, O, C>
where
    C: BatchCell<I, H, O> + Zeroable,
    BatchTape<B, T, H, O, C::Record>: Zeroable,
{
}

// SAFETY: `SeriesShard` holds a `Tape` (zeroable for the cell's record), the cell's parameters
// (`C: Zeroable`), an `f32` and a `usize`.
unsafe impl<const I: usize, const H: usize, const O: usize, const T: usize, C> Zeroable
    for crate::workflows::classify_batch::SeriesShard<I, H, O, T, C>
where
    C: crate::model::Cell<I, H, O> + Zeroable,
    Tape<T, H, O, C::Record>: Zeroable,
{
}

// SAFETY: `StreamShard` holds a `BatchTape` (zeroable for the cell's record), the cell's
// parameters (`C: Zeroable`) and a `Metrics` (an `f64` and two `usize`s).
unsafe impl<const I: usize, const H: usize, const O: usize, const S: usize, const T: usize, C>
    Zeroable for crate::workflows::classify_batch::StreamShard<I, H, O, S, T, C>
where
    C: BatchCell<I, H, O> + Zeroable,
    BatchTape<S, T, H, O, C::Record>: Zeroable,
{
}

/// A `Box<T>` whose bytes are all zero, allocated and zeroed in place on the heap.
pub fn zeroed<T: Zeroable>() -> Box<T> {
    let mut slot = Box::<T>::new_uninit();
    // SAFETY: the pointer comes from a live allocation of exactly one `T` (or is dangling and
    // well-aligned for a zero-sized `T`, where writing zero bytes is a no-op).
    unsafe { slot.as_mut_ptr().write_bytes(0, 1) };
    // SAFETY: `T: Zeroable` promises that all-zero bytes are a valid `T`, and all bytes were
    // just set to zero.
    unsafe { slot.assume_init() }
}
/// `n` zeroed `T`s on the heap, allocated and zeroed in place (a batch's shards).
pub fn zeroed_slice<T: Zeroable>(n: usize) -> Box<[T]> {
    let mut slots = Box::<[T]>::new_uninit_slice(n);
    // SAFETY: the pointer comes from a live allocation of exactly `n` `T`s (or is dangling and
    // well-aligned when nothing was allocated, where writing zero bytes is a no-op).
    unsafe { slots.as_mut_ptr().write_bytes(0, n) };
    // SAFETY: `T: Zeroable` promises that all-zero bytes are a valid `T`, and all bytes were
    // just set to zero.
    unsafe { slots.assume_init() }
}

// SAFETY: `Momentum`, `Adagrad` and `Adam` hold only `f32`, `u64` and parameter (`M: Zeroable`)
// fields; all-zero is a valid value of each (learning rates of 0, to be set by the caller).
unsafe impl<M: Zeroable> Zeroable for Momentum<M> {}
// SAFETY: as above.
unsafe impl<M: Zeroable> Zeroable for Adagrad<M> {}
// SAFETY: as above.
unsafe impl<M: Zeroable> Zeroable for Adam<M> {}

#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<const I: usize, const H: usize, const O: usize> Rnn<I, H, O> {
    /// A zeroed model on the heap, built in place: even a multi-megabyte model never passes
    /// through the stack.
    pub fn boxed_zero() -> Box<Self> {
        zeroed()
    }
}

impl<const I: usize, const H: usize, const O: usize> Gru<I, H, O> {
    /// A zeroed GRU on the heap, built in place (see [`Rnn::boxed_zero`]).
    pub fn boxed_zero() -> Box<Self> {
        zeroed()
    }
}
