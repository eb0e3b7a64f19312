//! Heap placement of large zeroed structs (`std` only), without building them on the stack first.

use std::boxed::Box;

/// Types for which the all-zero bit pattern is a valid value.
///
/// # Safety
/// Implement only for types made solely of `f32`, integer and array-of-those fields (no
/// references, no enums, no `bool`), for which all-zero bytes are a valid, meaningful value.
pub unsafe trait Zeroable {}

// SAFETY: `Rnn` is `#[repr(C)]` and holds only `f32` arrays.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for crate::Rnn<I, H, O> {}
// SAFETY: `QRnn` is `#[repr(C)]` and holds only integer arrays and one `f32`.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for crate::QRnn<I, H, O> {}
// SAFETY: `Tape` holds only `f32` arrays and `usize` fields.
unsafe impl<const T: usize, const H: usize, const O: usize> Zeroable for crate::Tape<T, H, O> {}

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
// SAFETY: `Momentum`, `Adagrad` and `Adam` hold only `f32`, `u64` and `Rnn` fields; all-zero is a
// valid value of each (learning rates of 0, to be set by the caller).
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for crate::Momentum<I, H, O> {}
// SAFETY: as above.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for crate::Adagrad<I, H, O> {}
// SAFETY: as above.
unsafe impl<const I: usize, const H: usize, const O: usize> Zeroable for crate::Adam<I, H, O> {}
