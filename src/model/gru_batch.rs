//! The GRU's batched step and step back ([`BatchCell`]): the recurrent side of all three gates
//! of every stream is one product per step, `[h_1…h_B]·W_hhᵀ` (`B × H` by `H × 3H`); going back,
//! the gradient reaching the previous states is one product `[b_1…b_B]·W_hh` per step, and the
//! chunk's `dW_hh = Σ_{t,b} b_{t,b}·h_{t-1,b}ᵀ` (3H × H) one product over every step and stream,
//! as in the single-stream `gru_backward.rs`.

use crate::kernels::{self, GemmShape};
use crate::model::Input;
use crate::model::batch_cell::{BatchCell, BatchRecord};
use crate::model::gru::{Gru, GruRecord, add_bias_and_input_gradients, gate_gradients, gates_from};

/// The GRU keeps each stream's packed gate gradients `[b_r, b_z, b_n, a_n]` (the record's
/// shape), and reads `W_hhᵀ` as `H` rows of the three gates' `3H` weights.
impl<const H: usize> BatchRecord<H> for GruRecord<H> {
    type Gates = GruRecord<H>;
    type Transposed = [[[f32; H]; 3]; H];
}

impl<const I: usize, const H: usize, const O: usize> BatchCell<I, H, O> for Gru<I, H, O> {
    fn transpose_recurrent(&self, w_t: &mut [[[f32; H]; 3]; H]) {
        for (g, gate) in self.w_hh.iter().enumerate() {
            for (j, row) in gate.iter().enumerate() {
                for (column, &w) in w_t.iter_mut().zip(row) {
                    if let Some(slot) = column.get_mut(g).and_then(|c| c.get_mut(j)) {
                        *slot = w;
                    }
                }
            }
        }
    }

    /// `gh[b] = W_hh·h_prev[b] + b_hh` for every stream in one product, then each stream's gates
    /// from its input (a token's row, a dense vector's weighted rows; as [`Cell::forward`](crate::Cell::forward), which gives the
    /// same state up to the order of the recurrent sums).
    fn forward_streams<const B: usize>(
        &self,
        w_t: &[[[f32; H]; 3]; H],
        inputs: &[Option<Input<'_, I>>; B],
        h_prev: &[[f32; H]; B],
        h: &mut [[f32; H]; B],
        records: &mut [GruRecord<H>; B],
        live: usize,
    ) {
        let k = kernels::active();
        let live = live.min(B);
        // The three gates' recurrent pre-activations of each stream, `3H` floats a row.
        let mut gh = [self.b_hh; B];
        let shape = GemmShape {
            rows: live,
            depth: H,
            cols: 3 * H,
            a_row: H,
            a_col: 1,
        };
        (k.gemm)(
            gh.as_flattened_mut().as_flattened_mut(),
            h_prev.as_flattened(),
            w_t.as_flattened().as_flattened(),
            &shape,
        );
        let streams = h.iter_mut().zip(records.iter_mut()).zip(h_prev.iter());
        let streams = streams.zip(gh.iter().zip(inputs)).take(live);
        for (((h, record), h_prev), (gh, input)) in streams {
            let mut gx = self.b_xh;
            match input {
                Some(Input::Token(id)) => {
                    if let Some(row) = self.w_xh.get(*id) {
                        (k.axpy)(1.0, row.as_flattened(), gx.as_flattened_mut());
                    }
                }
                Some(Input::Dense(x)) => {
                    for (&xi, row) in x.iter().zip(&self.w_xh) {
                        if xi != 0.0 {
                            (k.axpy)(xi, row.as_flattened(), gx.as_flattened_mut());
                        }
                    }
                }
                None => {}
            }
            gates_from(&gx, gh, h_prev, h, record);
        }
    }

    /// Each stream's gate gradients (`gate_gradients`, as in the single-stream pass) with its
    /// bias and input-row shares, then `dh_prev[b] += dh[b] ⊙ z[b]` and `dh_prev += [b_1…b_B]·W_hh`
    /// in one product.
    fn backward_streams<const B: usize>(
        &self,
        inputs: &[Option<Input<'_, I>>; B],
        h_prev: &[[f32; H]; B],
        _: &[[f32; H]; B],
        records: &[GruRecord<H>; B],
        dh: &mut [[f32; H]; B],
        gates: &mut [GruRecord<H>; B],
        dh_prev: Option<&mut [[f32; H]; B]>,
        grads: &mut Self,
        live_inputs: usize,
        live: usize,
    ) {
        let k = kernels::active();
        let live = live.min(B);
        let streams = records.iter().zip(dh.iter()).zip(h_prev.iter());
        let streams = streams.zip(gates.iter_mut().zip(inputs)).take(live);
        for (((record, dh), h_prev), (slot, input)) in streams {
            gate_gradients(record, dh, h_prev, slot);
            add_bias_and_input_gradients(grads, *input, slot, live_inputs);
        }
        let Some(dh_prev) = dh_prev else {
            return;
        };
        for ((d_prev, dh), record) in dh_prev.iter_mut().zip(dh.iter()).zip(records).take(live) {
            for ((d, dh), z) in d_prev.iter_mut().zip(dh).zip(&record[1]) {
                *d += dh * z;
            }
        }
        let shape = GemmShape {
            rows: live,
            depth: 3 * H,
            cols: H,
            a_row: 4 * H,
            a_col: 1,
        };
        (k.gemm)(
            dh_prev.as_flattened_mut(),
            gates.as_flattened().as_flattened(),
            self.w_hh.as_flattened().as_flattened(),
            &shape,
        );
    }

    /// `dW_hh += Σ b·h_prevᵀ`: steps `1..` in one product (the `b` vectors read with a stride
    /// of one packed record), step 0 against the starting states.
    fn recurrent_gradient<const B: usize>(
        _: &[[[f32; H]; B]],
        gates: &[[GruRecord<H>; B]],
        h_start: &[[f32; H]; B],
        hidden: &[[[f32; H]; B]],
        grads: &mut Self,
    ) {
        let k = kernels::active();
        let n = gates.len();
        let g_w_hh = grads.w_hh.as_flattened_mut().as_flattened_mut();
        let shape = |depth| GemmShape {
            rows: 3 * H,
            depth,
            cols: H,
            a_row: 1,
            a_col: 4 * H,
        };
        let (Some(later), Some(h_prevs), Some(first)) = (
            gates.get(1..n),
            hidden.get(..n.saturating_sub(1)),
            gates.first(),
        ) else {
            return;
        };
        let later = later.as_flattened();
        (k.gemm)(
            g_w_hh,
            later.as_flattened().as_flattened(),
            h_prevs.as_flattened().as_flattened(),
            &shape(later.len()),
        );
        (k.gemm)(
            g_w_hh,
            first.as_flattened().as_flattened(),
            h_start.as_flattened(),
            &shape(B),
        );
    }
}
