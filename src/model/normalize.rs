//! Per-channel normalization of dense inputs: `x' = (x − mean) / std`, the mean and standard
//! deviation of each channel measured on the training series only ([`Moments`]) and then applied,
//! unchanged, to everything the model sees (training, test and device data alike).
//!
//! No heap and no `std`: a device applies the stored [`Normalization`] to each sample as it
//! arrives.
//!
//! ```
//! use micrornn::model::normalize::{Moments, Normalization};
//! let mut moments = Moments::<2>::ZERO;
//! for sample in [[1.0, 5.0], [3.0, 5.0]] {
//!     moments.add(&sample);
//! }
//! let normalization = moments.normalization();
//! assert_eq!(normalization.mean, [2.0, 5.0]);
//! assert_eq!(normalization.std, [1.0, 0.0]); // channel 1 is constant
//! let mut sample = [3.0, 7.0];
//! normalization.apply(&mut sample);
//! assert_eq!(sample, [1.0, 2.0]); // a zero std only centres
//! normalization.invert(&mut sample);
//! assert_eq!(sample, [3.0, 7.0]);
//! ```

use crate::kernels::math;

/// Per-channel mean and standard deviation of `C` input channels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization<const C: usize> {
    /// Mean of each channel over the training samples.
    pub mean: [f32; C],
    /// Standard deviation of each channel over the training samples (population, as numpy's
    /// `std`). A channel whose standard deviation is below [`Normalization::MIN_STD`] (constant,
    /// or not a finite number) is only centred, never divided.
    pub std: [f32; C],
}

impl<const C: usize> Normalization<C> {
    /// Mean 0 and standard deviation 1 everywhere: [`Normalization::apply`] changes nothing.
    pub const IDENTITY: Self = Self {
        mean: [0.0; C],
        std: [1.0; C],
    };

    /// Every mean and standard deviation 0: it changes nothing either (a standard deviation
    /// below [`Normalization::MIN_STD`] is taken as 1), and its bytes are all zero, so a
    /// `static` model holding it ([`QRnn::ZERO`](crate::QRnn::ZERO)) stays in `.bss`, not in
    /// flash.
    pub const ZERO: Self = Self {
        mean: [0.0; C],
        std: [0.0; C],
    };

    /// Standard deviations below this (or not finite) are taken as 1: dividing by them would
    /// blow a constant channel's rounding noise up to full scale.
    pub const MIN_STD: f32 = 1e-6;

    /// What one channel is divided by: its standard deviation, or 1 where that is unusable.
    fn divisor(std: f32) -> f32 {
        if std.is_finite() && std >= Self::MIN_STD {
            std
        } else {
            1.0
        }
    }

    /// Normalizes one sample in place: `x[c] = (x[c] − mean[c]) / std[c]`.
    pub fn apply(&self, sample: &mut [f32; C]) {
        for ((x, &mean), &std) in sample.iter_mut().zip(&self.mean).zip(&self.std) {
            *x = (*x - mean) / Self::divisor(std);
        }
    }

    /// Undoes [`Normalization::apply`] (up to rounding): `x[c] = x[c]·std[c] + mean[c]`.
    pub fn invert(&self, sample: &mut [f32; C]) {
        for ((x, &mean), &std) in sample.iter_mut().zip(&self.mean).zip(&self.std) {
            *x = *x * Self::divisor(std) + mean;
        }
    }
}

/// Running per-channel count, mean and sum of squared deviations (Welford's algorithm, in `f64`
/// so that long recordings do not lose precision), from which a [`Normalization`] is made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments<const C: usize> {
    count: u64,
    mean: [f64; C],
    squares: [f64; C],
}

impl<const C: usize> Moments<C> {
    /// No sample seen yet.
    pub const ZERO: Self = Self {
        count: 0,
        mean: [0.0; C],
        squares: [0.0; C],
    };

    /// Adds one sample.
    pub fn add(&mut self, sample: &[f32; C]) {
        self.count += 1;
        let n = self.count as f64;
        for ((&x, mean), squares) in sample.iter().zip(&mut self.mean).zip(&mut self.squares) {
            let x = f64::from(x);
            let delta = x - *mean;
            *mean += delta / n;
            *squares += delta * (x - *mean);
        }
    }

    /// Samples added.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean and (population) standard deviation of the samples added;
    /// [`Normalization::IDENTITY`] when there was none.
    pub fn normalization(&self) -> Normalization<C> {
        if self.count == 0 {
            return Normalization::IDENTITY;
        }
        let mut normalization = Normalization::IDENTITY;
        let n = self.count as f64;
        for c in 0..C {
            if let (Some(mean), Some(std), Some(&m), Some(&s)) = (
                normalization.mean.get_mut(c),
                normalization.std.get_mut(c),
                self.mean.get(c),
                self.squares.get(c),
            ) {
                *mean = m as f32;
                *std = math::sqrt((s / n).max(0.0) as f32);
            }
        }
        normalization
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator of test samples (no dependency on an RNG crate here).
    fn samples(seed: u32, count: usize) -> impl Iterator<Item = [f32; 3]> {
        let mut state = seed;
        core::iter::repeat_with(move || {
            let mut sample = [0.0f32; 3];
            for (c, x) in sample.iter_mut().enumerate() {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let unit = (state >> 8) as f32 / (1u32 << 24) as f32;
                *x = 100.0 * c as f32 + (c as f32 + 0.5) * 8.0 * (unit - 0.5);
            }
            sample
        })
        .take(count)
    }

    #[test]
    fn normalized_training_data_has_zero_mean_and_unit_std() {
        let mut moments = Moments::<3>::ZERO;
        for sample in samples(1, 500) {
            moments.add(&sample);
        }
        assert_eq!(moments.count(), 500);
        let normalization = moments.normalization();
        let mut again = Moments::<3>::ZERO;
        for mut sample in samples(1, 500) {
            normalization.apply(&mut sample);
            again.add(&sample);
        }
        let normalized = again.normalization();
        for c in 0..3 {
            assert!(normalized.mean[c].abs() < 1e-5, "{normalized:?}");
            assert!((normalized.std[c] - 1.0).abs() < 1e-5, "{normalized:?}");
        }
    }

    #[test]
    fn round_trip_restores_the_sample() {
        let mut moments = Moments::<3>::ZERO;
        samples(2, 100).for_each(|s| moments.add(&s));
        let normalization = moments.normalization();
        for original in samples(3, 100) {
            let mut sample = original;
            normalization.apply(&mut sample);
            assert_ne!(sample, original);
            normalization.invert(&mut sample);
            for (a, b) in sample.iter().zip(&original) {
                assert!(
                    (a - b).abs() <= 1e-4 * b.abs().max(1.0),
                    "{sample:?} {original:?}"
                );
            }
        }
    }

    #[test]
    fn applying_it_to_test_data_never_changes_it() {
        let mut moments = Moments::<3>::ZERO;
        samples(4, 50).for_each(|s| moments.add(&s));
        let normalization = moments.normalization();
        let before = normalization;
        for mut sample in samples(5, 200) {
            normalization.apply(&mut sample);
        }
        assert_eq!(normalization, before);
    }

    #[test]
    fn zero_or_unusable_std_only_centres() {
        let normalization = Normalization {
            mean: [1.0, 2.0, 3.0],
            std: [0.0, f32::NAN, 1e-9],
        };
        let mut sample = [1.5, 2.5, 3.5];
        normalization.apply(&mut sample);
        assert_eq!(sample, [0.5, 0.5, 0.5]);
        normalization.invert(&mut sample);
        assert_eq!(sample, [1.5, 2.5, 3.5]);
        assert_eq!(Moments::<2>::ZERO.normalization(), Normalization::IDENTITY);
        let mut constant = Moments::<1>::ZERO;
        (0..10).for_each(|_| constant.add(&[7.0]));
        assert_eq!(constant.normalization().std, [0.0]);
    }
}
