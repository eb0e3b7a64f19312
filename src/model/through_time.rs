//! The backward pass over a recorded chunk, written once over [`Cell::backward`]: the readout's
//! gradient for every step with an output, then the cell's steps from the last to the first
//! (or, with a BPTT window, back from each output through at most `k` earlier steps).

use crate::kernels;
use crate::model::cell::{Cell, Chunk, Live};
use crate::model::readout;

/// [`Cell::backward_chunk`] for any cell: overwrites the live rows of `grads` with the chunk's
/// gradient (see there).
pub fn backward_steps<C, const I: usize, const H: usize, const O: usize>(
    cell: &C,
    chunk: Chunk<'_, I, H, C::Record>,
    scratch: &mut [[f32; H]],
    grads: &mut C,
    window: Option<usize>,
    live_inputs: usize,
) where
    C: Cell<I, H, O>,
{
    let live = Live {
        inputs: live_inputs,
        outputs: chunk.classes,
    };
    for index in 0..C::TENSORS.len() {
        grads.live_tensor_mut(index, live).fill(0.0);
    }
    let n = chunk.len();
    match window {
        None => {
            let Some(dh_steps) = scratch.get_mut(..n) else {
                return;
            };
            let (g_w_hy, g_b_y) = grads.readout_mut();
            let first = chunk.first_output;
            let dys = chunk
                .d_logits
                .get(first * chunk.classes..)
                .unwrap_or_default();
            readout::backward_outputs(
                cell.w_hy(),
                g_w_hy,
                g_b_y,
                dys,
                chunk.hidden,
                dh_steps,
                first,
                chunk.classes,
                false,
            );
            let k = kernels::active();
            for t in (0..n).rev() {
                let Some((earlier, rest)) = dh_steps.split_at_mut_checked(t) else {
                    break;
                };
                let (Some(dh), Some(step)) = (rest.first_mut(), chunk.step(t)) else {
                    break;
                };
                cell.backward(step, dh, grads, live_inputs);
                if let Some(dh_prev) = earlier.last_mut() {
                    (k.axpy)(1.0, dh, dh_prev);
                }
            }
        }
        Some(window) => {
            for t in chunk.first_output..n {
                let (Some(dy), Some(h)) = (chunk.d_logits(t), chunk.hidden.get(t)) else {
                    continue;
                };
                let mut dh = [0.0f32; H];
                let (g_w_hy, g_b_y) = grads.readout_mut();
                readout::backward_output(cell.w_hy(), g_w_hy, g_b_y, dy, h, &mut dh);
                for s in (t.saturating_sub(window)..=t).rev() {
                    if let Some(step) = chunk.step(s) {
                        cell.backward(step, &mut dh, grads, live_inputs);
                    }
                }
            }
        }
    }
}
