//! Dropout on the readout's input: while training, each hidden unit feeding `y = W_hy·h + b_y`
//! is zeroed with probability `rate` and the others are scaled by `1/(1 − rate)` ("inverted"
//! dropout, so the model needs no change at inference). The recurrence itself is untouched: the
//! state carried to the next step is the whole `h` (dropout only on non-recurrent connections,
//! as Zaremba et al. regularize recurrent networks; with one-hot inputs the readout is the one
//! such connection).
//!
//! The mask is not random state but a function of `(seed, draw, stream, step, unit)`: a
//! counter-based generator (SplitMix64 over the key). A training run uses its update count as
//! the draw and each stream's index in the whole batch, so the masks — and the trained model —
//! do not depend on how the batch is split over threads, and a resumed run draws exactly the
//! masks it would have drawn without stopping. The backward pass regenerates the mask instead
//! of storing it.
//!
//! ```
//! use micrornn::model::dropout::{Dropout, RowKey};
//! let dropout = Dropout::new(0.25, 7)?;
//! let hidden = [1.0f32; 64];
//! let mut readout_input = [0.0f32; 64];
//! let key = RowKey { draw: 3, stream: 5, step: 0 };
//! dropout.apply(key, &hidden, &mut readout_input);
//! let kept = readout_input.iter().filter(|&&v| v != 0.0).count();
//! assert!(kept > 32 && kept < 64);
//! assert!(readout_input.iter().all(|&v| v == 0.0 || v == 1.0 / 0.75));
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;

/// A dropout rate and the seed its masks are drawn from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    /// Probability that a unit is dropped, in `[0, 1)`; 0 turns dropout off.
    rate: f32,
    /// Seed of the masks.
    seed: u64,
    /// `rate` as a threshold on 16-bit draws: a unit is dropped when its draw is below it.
    threshold: u32,
    /// The factor of a kept unit: `1/(1 − rate)`.
    keep_scale: f32,
}

/// Which row of a mask: the draw (a training run's update count), the stream (its index in the
/// whole batch) and the step inside the chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowKey {
    /// The draw: a new mask for every value (a run uses its update count).
    pub draw: u64,
    /// The stream's index in the whole batch.
    pub stream: u64,
    /// The step inside the chunk.
    pub step: u64,
}

impl Dropout {
    /// No dropout.
    pub const NONE: Self = Self {
        rate: 0.0,
        seed: 0,
        threshold: 0,
        keep_scale: 1.0,
    };

    /// Dropout of `rate` with masks drawn from `seed`. The rate is applied in steps of
    /// `1/65536` (each unit's draw has 16 bits).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `rate` is not in `[0, 1)` or rounds to 1.
    pub fn new(rate: f32, seed: u64) -> Result<Self, Error> {
        if !(0.0..1.0).contains(&rate) {
            return Err(Error::InvalidSetting("the dropout rate must be in [0, 1)"));
        }
        let threshold = libm::roundf(rate * 65536.0) as u32;
        if threshold >= 65536 {
            return Err(Error::InvalidSetting("the dropout rate must be in [0, 1)"));
        }
        Ok(Self {
            rate,
            seed,
            threshold,
            keep_scale: 1.0 / (1.0 - rate),
        })
    }

    /// The rate given to [`Dropout::new`].
    pub fn rate(&self) -> f32 {
        self.rate
    }

    /// The seed given to [`Dropout::new`].
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Whether any unit can be dropped (a rate above 0).
    pub fn is_active(&self) -> bool {
        self.threshold > 0
    }

    /// The factor of every unit of one row: 0 (dropped) or `1/(1 − rate)` (kept), in unit
    /// order, as many as asked for.
    pub fn factors(&self, key: RowKey) -> impl Iterator<Item = f32> + '_ {
        let row = mix(mix(mix(self.seed ^ mix(key.draw)) ^ key.stream) ^ key.step);
        (0u64..).flat_map(move |block| {
            let bits = mix(row.wrapping_add(block));
            (0..4).map(move |lane| {
                let draw = ((bits >> (16 * lane)) & 0xffff) as u32;
                if draw < self.threshold {
                    0.0
                } else {
                    self.keep_scale
                }
            })
        })
    }

    /// `output = factors ⊙ input` for one row (the readout's input in the forward pass).
    pub fn apply(&self, key: RowKey, input: &[f32], output: &mut [f32]) {
        for ((out, &value), factor) in output.iter_mut().zip(input).zip(self.factors(key)) {
            *out = value * factor;
        }
    }

    /// `values ⊙= factors` for one row (the gradient reaching the state through the readout, in
    /// the backward pass).
    pub fn apply_in_place(&self, key: RowKey, values: &mut [f32]) {
        for (value, factor) in values.iter_mut().zip(self.factors(key)) {
            *value *= factor;
        }
    }
}

/// SplitMix64's output function: a bijection of `u64` that mixes every bit into every other.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(draw: u64, stream: u64, step: u64) -> RowKey {
        RowKey { draw, stream, step }
    }

    #[test]
    fn the_dropped_share_is_the_rate_and_kept_units_are_scaled() {
        for rate in [0.1f32, 0.25, 0.5] {
            let dropout = Dropout::new(rate, 42).unwrap();
            let (mut dropped, mut total) = (0usize, 0usize);
            for draw in 0..20 {
                for stream in 0..10 {
                    for factor in dropout.factors(key(draw, stream, 3)).take(500) {
                        total += 1;
                        if factor == 0.0 {
                            dropped += 1;
                        } else {
                            assert_eq!(factor, 1.0 / (1.0 - rate));
                        }
                    }
                }
            }
            let share = dropped as f64 / total as f64;
            assert!(
                (share - f64::from(rate)).abs() < 0.01,
                "rate {rate}: {share}"
            );
        }
    }

    #[test]
    fn masks_differ_by_every_part_of_the_key_and_repeat_for_the_same_key() {
        let dropout = Dropout::new(0.5, 1).unwrap();
        let mask = |k: RowKey| -> [f32; 64] {
            let mut out = [0.0; 64];
            dropout.apply(k, &[1.0; 64], &mut out);
            out
        };
        let base = mask(key(1, 2, 3));
        assert_eq!(base, mask(key(1, 2, 3)));
        for other in [key(2, 2, 3), key(1, 3, 3), key(1, 2, 4)] {
            assert_ne!(base, mask(other), "{other:?}");
        }
        let reseeded = Dropout::new(0.5, 2).unwrap();
        let mut out = [0.0; 64];
        reseeded.apply(key(1, 2, 3), &[1.0; 64], &mut out);
        assert_ne!(base, out);
    }

    #[test]
    fn the_backward_mask_is_the_forward_mask() {
        let dropout = Dropout::new(0.3, 9).unwrap();
        let input: [f32; 37] = core::array::from_fn(|i| i as f32 - 18.5);
        let mut forward = [0.0; 37];
        dropout.apply(key(5, 1, 0), &input, &mut forward);
        let mut backward = input;
        dropout.apply_in_place(key(5, 1, 0), &mut backward);
        assert_eq!(forward, backward);
    }

    #[test]
    fn rates_outside_0_to_1_are_refused_and_0_is_off() {
        for rate in [-0.1f32, 1.0, 0.999_999_9, f32::NAN, f32::INFINITY] {
            assert!(Dropout::new(rate, 0).is_err(), "{rate}");
        }
        let off = Dropout::new(0.0, 5).unwrap();
        assert!(!off.is_active() && !Dropout::NONE.is_active());
        assert!(off.factors(key(0, 0, 0)).take(100).all(|f| f == 1.0));
    }
}
