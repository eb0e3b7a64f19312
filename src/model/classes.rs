//! The number of live output classes of a model, checked once.

use crate::Error;

/// A number of live output classes of a model with `O` outputs, known to be in `1..=O`.
///
/// A model may have more outputs than its vocabulary has classes (the binary pads a 65-character
/// corpus to a 96-output model); outputs `classes..O` are masked. Every function that takes a
/// `classes: usize` checks it once by building a `Classes`, and then cuts the live part of an
/// `O`-long array with [`Classes::of`] and [`Classes::of_mut`], which cannot fail.
///
/// # Examples
/// ```
/// use micrornn::Classes;
/// let classes = Classes::<4>::new(3)?;
/// assert_eq!(classes.get(), 3);
/// assert_eq!(classes.of(&[1.0, 2.0, 3.0, 9.0]), &[1.0, 2.0, 3.0]);
/// assert!(Classes::<4>::new(0).is_err());
/// assert!(Classes::<4>::new(5).is_err());
/// # Ok::<(), micrornn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classes<const O: usize>(usize);

impl<const O: usize> Classes<O> {
    /// `classes`, checked to be in `1..=O`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for 0 or more than `O`.
    pub const fn new(classes: usize) -> Result<Self, Error> {
        if classes == 0 || classes > O {
            Err(Error::InvalidSetting("classes must be in 1..=outputs"))
        } else {
            Ok(Self(classes))
        }
    }

    /// The number of classes.
    pub const fn get(self) -> usize {
        self.0
    }

    /// The live part of a per-output array: its first [`Classes::get`] entries.
    pub fn of<T>(self, per_output: &[T; O]) -> &[T] {
        // `self.0 <= O` by construction; the fallback is never taken, and has no panic path.
        per_output.get(..self.0).unwrap_or(per_output)
    }

    /// The live part of a per-output array, mutable.
    pub fn of_mut<T>(self, per_output: &mut [T; O]) -> &mut [T] {
        per_output
            .split_at_mut_checked(self.0)
            .map(|(live, _)| live)
            .unwrap_or_default()
    }
}
