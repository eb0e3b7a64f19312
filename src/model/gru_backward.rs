//! The GRU's backward pass over a chunk, with its recurrent weight gradient batched: each
//! step's gate gradients are kept in the scratch, and `dW_hh = Σ_t b_t·h_{t-1}ᵀ` (3H × H) is
//! formed once per chunk as one matrix–matrix product, so each row of `dW_hh` is loaded and
//! stored once per chunk instead of once per step. The readout's `dW_hy` is one `Aᵀ·B` product
//! too (`readout::backward_outputs`). The generic
//! [`backward_steps`](crate::model::through_time::backward_steps) gives the same gradients (up
//! to the order of the float additions) one step at a time; with a BPTT window the GRU uses it.

use crate::kernels::{self, GemmShape};
use crate::model::cell::{Chunk, Live, Params};
use crate::model::gru::{GruRecord, add_bias_and_input_gradients, gate_gradients, gates_b};
use crate::model::{Gru, readout, through_time};

/// [`Cell::backward_chunk`](crate::Cell::backward_chunk) of the GRU. `dhs` holds each step's
/// `∂L/∂h` while it runs, `gates` each step's packed
/// [`gate_gradients`].
pub(crate) fn backward_chunk<const I: usize, const H: usize, const O: usize>(
    gru: &Gru<I, H, O>,
    chunk: Chunk<'_, I, H, GruRecord<H>>,
    dhs: &mut [[f32; H]],
    gates: &mut [GruRecord<H>],
    grads: &mut Gru<I, H, O>,
    window: Option<usize>,
    live_inputs: usize,
) {
    let n = chunk.len();
    let (None, Some(dhs), Some(gates)) = (window, dhs.get_mut(..n), gates.get_mut(..n)) else {
        through_time::backward_steps(gru, chunk, dhs, grads, window, live_inputs);
        return;
    };
    let k = kernels::active();
    grads.fill_live_zero(Live {
        inputs: live_inputs,
        outputs: chunk.classes,
    });
    let first = chunk.first_output.min(n);
    readout::backward_outputs(
        &gru.w_hy,
        &mut grads.w_hy,
        &mut grads.b_y,
        chunk
            .d_logits
            .get(first * chunk.classes..)
            .unwrap_or_default(),
        chunk.hidden,
        dhs,
        first,
        chunk.classes,
        false,
    );
    // From the last step back: step t's gate gradients from its total `dh` (the readout's share
    // plus what step t + 1 sent back), its bias and input-row gradients, and `dh_{t-1} +=
    // dh ⊙ z + W_hhᵀ·b`.
    let w_hh = gru.w_hh.as_flattened().as_flattened();
    for t in (0..n).rev() {
        let Some((earlier, rest)) = dhs.split_at_mut_checked(t) else {
            break;
        };
        let (Some(dh), Some(step), Some(slot)) = (rest.first(), chunk.step(t), gates.get_mut(t))
        else {
            break;
        };
        gate_gradients(step.record, dh, step.h_prev, slot);
        add_bias_and_input_gradients(grads, step.input, slot, live_inputs);
        if let Some(dh_prev) = earlier.last_mut() {
            let z = &step.record[1];
            for ((d, dh), z) in dh_prev.iter_mut().zip(dh).zip(z) {
                *d += dh * z;
            }
            (k.matvec_t)(w_hh, gates_b(slot), dh_prev);
        }
    }
    // dW_hh += Σ_t b_t·h_{t-1}ᵀ: steps t ≥ 1 read h_{t-1} from the tape in one product (A is
    // the steps' b vectors, read with a stride of one packed record); step 0 reads the
    // starting state.
    let g_w_hh = grads.w_hh.as_flattened_mut().as_flattened_mut();
    let packed = gates.as_flattened().as_flattened();
    let stride = 4 * H;
    if let (Some(later), Some(h_prevs)) = (
        packed.get(stride..),
        chunk.hidden.get(..n.saturating_sub(1)),
    ) {
        let shape = GemmShape {
            rows: 3 * H,
            depth: n.saturating_sub(1),
            cols: H,
            a_row: 1,
            a_col: stride,
        };
        (k.gemm)(g_w_hh, later, h_prevs.as_flattened(), &shape);
    }
    if let Some(b0) = packed.get(..3 * H) {
        (k.rank1)(g_w_hh, b0, chunk.h_start);
    }
}
