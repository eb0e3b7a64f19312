//! Gradient clipping.

use crate::kernels;
use crate::model::{Live, Rnn};

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
    /// Applies the clipping to every tensor of `grads`, in place.
    pub fn apply<const I: usize, const H: usize, const O: usize>(self, grads: &mut Rnn<I, H, O>) {
        self.apply_live(grads, Live::all::<I, O>());
    }

    /// Applies the clipping to the `live` rows of `grads` only (the norm is theirs too).
    pub fn apply_live<const I: usize, const H: usize, const O: usize>(
        self,
        grads: &mut Rnn<I, H, O>,
        live: Live,
    ) {
        let k = kernels::active();
        match self {
            Clip::None => {}
            Clip::Value(limit) => {
                for tensor in grads.live_tensors_mut(live) {
                    (k.clip)(tensor, limit);
                }
            }
            Clip::Norm(max_norm) => {
                let norm = crate::kernels::math::sqrt(live_sum_squares(grads, live));
                if norm > max_norm {
                    let factor = max_norm / norm;
                    for tensor in grads.live_tensors_mut(live) {
                        (k.scale)(tensor, factor);
                    }
                }
            }
        }
    }
}

/// `Σ g²` over every tensor of `grads`: the squared global norm. NaN or infinite if any gradient
/// is.
pub fn global_sum_squares<const I: usize, const H: usize, const O: usize>(
    grads: &Rnn<I, H, O>,
) -> f32 {
    live_sum_squares(grads, Live::all::<I, O>())
}

/// `Σ g²` over the `live` rows of `grads`.
pub fn live_sum_squares<const I: usize, const H: usize, const O: usize>(
    grads: &Rnn<I, H, O>,
    live: Live,
) -> f32 {
    let k = kernels::active();
    grads
        .live_tensors(live)
        .iter()
        .map(|t| (k.sum_squares)(t))
        .sum()
}
