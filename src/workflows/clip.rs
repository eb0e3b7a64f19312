//! Gradient clipping.

use crate::kernels;
use crate::model::Rnn;

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
        let k = kernels::active();
        match self {
            Clip::None => {}
            Clip::Value(limit) => {
                for tensor in grads.tensors_mut() {
                    (k.clip)(tensor, limit);
                }
            }
            Clip::Norm(max_norm) => {
                let norm = crate::kernels::math::sqrt(global_sum_squares(grads));
                if norm > max_norm {
                    let factor = max_norm / norm;
                    for tensor in grads.tensors_mut() {
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
    let k = kernels::active();
    grads.tensors().iter().map(|t| (k.sum_squares)(t)).sum()
}
