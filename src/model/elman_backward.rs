//! The Elman cell's backward pass over a chunk, with its weight gradients batched: `dW_hy` and
//! `dW_hh` each as one `Aᵀ·B` product over the whole chunk, so each row of a gradient matrix is
//! loaded and stored once per chunk instead of once per step. The generic
//! [`backward_steps`](crate::model::through_time::backward_steps) would give the same gradients
//! (up to the order of the float additions) one step at a time.

use crate::kernels;
use crate::model::cell::{Chunk, Live, Params, Step};
use crate::model::{Input, Rnn, readout};

/// [`Cell::backward_chunk`](crate::Cell::backward_chunk) of the Elman cell. `d_pres` holds the
/// gradient of each step's pre-activation while it runs.
pub(crate) fn backward_chunk<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
    chunk: Chunk<'_, I, H, ()>,
    d_pres: &mut [[f32; H]],
    grads: &mut Rnn<I, H, O>,
    window: Option<usize>,
    live_inputs: usize,
) {
    let k = kernels::active();
    let live = Live {
        inputs: live_inputs,
        outputs: chunk.classes,
    };
    match window {
        // Full back-propagation with an output at every step overwrites `dW_hy` and `dW_hh`
        // with its first contribution, so only the rest needs zeroing.
        None if chunk.first_output == 0 => {
            let [w_xh, _, b_h, _, b_y] = grads.live_tensors_mut(live);
            for tensor in [w_xh, b_h, b_y] {
                tensor.fill(0.0);
            }
            backward_full(rnn, chunk, d_pres, grads, true, live_inputs);
        }
        None => {
            grads.fill_live_zero(live);
            backward_full(rnn, chunk, d_pres, grads, false, live_inputs);
        }
        Some(window) => {
            grads.fill_live_zero(live);
            for t in chunk.first_output..chunk.len() {
                let (Some(dy), Some(h)) = (chunk.d_logits(t), chunk.hidden.get(t)) else {
                    continue;
                };
                let mut dh = [0.0f32; H];
                readout::backward_output(
                    &rnn.w_hy,
                    &mut grads.w_hy,
                    &mut grads.b_y,
                    dy,
                    h,
                    &mut dh,
                );
                let oldest = t.saturating_sub(window);
                for s in (oldest..=t).rev() {
                    let Some(step) = chunk.step(s) else {
                        break;
                    };
                    let d_pre = step_backward(grads, step, dh, live_inputs);
                    if s > oldest {
                        dh = [0.0; H];
                        (k.matvec_t)(rnn.w_hh.as_flattened(), &d_pre, &mut dh);
                    }
                }
            }
        }
    }
}

/// Full back-propagation through the chunk. The output layer's share of every step's gradient
/// (`W_hyᵀ·dy_t`) is computed for all steps before the recurrence, so each loop keeps one weight
/// matrix hot in the cache.
///
/// With `overwrite`, `grads.w_hy` and `grads.w_hh` may hold anything on entry: their first
/// contribution overwrites them (requires an output at every step). The other live tensors
/// must be zero on entry; rows of `dW_hy`/`db_y` past the live classes and of `dW_xh` past
/// `live_inputs` are not touched.
fn backward_full<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
    chunk: Chunk<'_, I, H, ()>,
    d_pres: &mut [[f32; H]],
    grads: &mut Rnn<I, H, O>,
    overwrite: bool,
    live_inputs: usize,
) {
    let k = kernels::active();
    let n = chunk.len();
    let first = chunk.first_output.min(n);
    let Some(d_pres) = d_pres.get_mut(..n) else {
        return;
    };
    let dys = chunk.d_logits.get(first * chunk.classes..);
    readout::backward_outputs(
        &rnn.w_hy,
        &mut grads.w_hy,
        &mut grads.b_y,
        dys.unwrap_or_default(),
        chunk.hidden,
        d_pres,
        first,
        chunk.classes,
        overwrite,
    );
    // Hidden layer, from the last step back: d_pre_t = (W_hyᵀ·dy_t + W_hhᵀ·d_pre_{t+1}) ⊙
    // (1 - h_t²), the second term accumulated into step t's slot by step t + 1.
    for t in (0..n).rev() {
        let Some((earlier, rest)) = d_pres.split_at_mut_checked(t) else {
            break;
        };
        let (Some(d_pre), Some(h)) = (rest.first_mut(), chunk.hidden.get(t)) else {
            break;
        };
        (k.tanh_backward)(h, d_pre);
        (k.axpy)(1.0, d_pre, &mut grads.b_h);
        input_backward(grads, chunk.inputs.get(t), d_pre, live_inputs);
        if let Some(d_prev) = earlier.last_mut() {
            (k.matvec_t)(rnn.w_hh.as_flattened(), d_pre, d_prev);
        }
    }
    // dW_hh += Σ_t d_pre_t·h_{t-1}ᵀ: steps t ≥ 1 read h_{t-1} from the tape in one product;
    // step 0 reads the starting state.
    let (Some(later), Some(h_prevs), Some(d0)) = (
        d_pres.get(1..),
        chunk.hidden.get(..n.saturating_sub(1)),
        d_pres.first(),
    ) else {
        // No steps recorded: the gradient is zero.
        grads.w_hh.as_flattened_mut().fill(0.0);
        return;
    };
    let rank_k = if overwrite { k.rank_k_set } else { k.rank_k };
    rank_k(
        grads.w_hh.as_flattened_mut(),
        later.as_flattened(),
        h_prevs.as_flattened(),
        H,
        H,
    );
    (k.rank1)(grads.w_hh.as_flattened_mut(), d0, chunk.h_start);
}

/// The hidden layer of one step given `dh = ∂L/∂h`: returns `d_pre = dh ⊙ (1 - h²)` after
/// adding its contributions to `db_h`, `dW_xh` and `dW_hh`.
pub(crate) fn step_backward<const I: usize, const H: usize, const O: usize>(
    grads: &mut Rnn<I, H, O>,
    step: Step<'_, I, H, ()>,
    dh: [f32; H],
    live_inputs: usize,
) -> [f32; H] {
    let mut d_pre = dh;
    let k = kernels::active();
    (k.tanh_backward)(step.h, &mut d_pre);
    (k.axpy)(1.0, &d_pre, &mut grads.b_h);
    (k.rank1)(grads.w_hh.as_flattened_mut(), &d_pre, step.h_prev);
    input_backward(grads, step.input, &d_pre, live_inputs);
    d_pre
}

/// `dW_xh += d_pre·xᵀ` for one step's input: a row update for a token below `live_inputs`, a
/// rank-1 update for a dense vector.
fn input_backward<const I: usize, const H: usize, const O: usize>(
    grads: &mut Rnn<I, H, O>,
    input: Option<Input<'_, I>>,
    d_pre: &[f32; H],
    live_inputs: usize,
) {
    let k = kernels::active();
    match input {
        Some(Input::Token(id)) => {
            if let Some(row) = grads.w_xh.get_mut(id).filter(|_| id < live_inputs) {
                (k.axpy)(1.0, d_pre, row);
            }
        }
        Some(Input::Dense(x)) => (k.rank1)(grads.w_xh.as_flattened_mut(), x, d_pre),
        None => {}
    }
}
