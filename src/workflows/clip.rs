//! Gradient clipping.

use crate::Error;
use crate::kernels;
use crate::model::{Live, Params};

/// How to limit gradients before an optimizer step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clip {
    /// Leave gradients as they are (notebook 000).
    None,
    /// Clamp every element to `±limit` (min-char-rnn: 5, the classifier notebook: 1).
    Value(f32),
    /// Scale all gradients together so that their global L2 norm is at most `max_norm`.
    Norm(f32),
}

impl Clip {
    /// `self`, unless a limit is not a positive number: a limit of 0, a negative one (which
    /// flips or overwrites every gradient) or NaN would train silently wrong.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for such a limit.
    pub(crate) fn check(self) -> Result<Self, Error> {
        match self {
            Clip::Value(limit) | Clip::Norm(limit) if limit.is_nan() || limit <= 0.0 => {
                Err(Error::InvalidSetting("clip limit must be > 0"))
            }
            _ => Ok(self),
        }
    }

    /// Applies the clipping to every tensor of `grads`, in place.
    pub fn apply<M: Params>(self, grads: &mut M) {
        self.apply_live(grads, Live::ALL);
    }

    /// Applies the clipping to the `live` rows of `grads` only (the norm is theirs too).
    pub fn apply_live<M: Params>(self, grads: &mut M, live: Live) {
        let k = kernels::active();
        match self {
            Clip::None => {}
            Clip::Value(limit) => {
                for index in 0..M::TENSORS.len() {
                    (k.clip)(grads.live_tensor_mut(index, live), limit);
                }
            }
            Clip::Norm(max_norm) => {
                let norm = crate::kernels::math::sqrt(live_sum_squares(grads, live));
                if norm > max_norm {
                    let factor = max_norm / norm;
                    for index in 0..M::TENSORS.len() {
                        (k.scale)(grads.live_tensor_mut(index, live), factor);
                    }
                }
            }
        }
    }
}

/// `Σ g²` over every tensor of `grads`: the squared global norm. NaN or infinite if any gradient
/// is.
pub fn global_sum_squares<M: Params>(grads: &M) -> f32 {
    live_sum_squares(grads, Live::ALL)
}

/// `Σ g²` over the `live` rows of `grads`.
pub fn live_sum_squares<M: Params>(grads: &M, live: Live) -> f32 {
    let k = kernels::active();
    (0..M::TENSORS.len())
        .map(|index| (k.sum_squares)(grads.live_tensor(index, live)))
        .sum()
}
