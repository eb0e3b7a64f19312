//! The Elman cell's batched step and step back ([`BatchCell`]): `h_t = tanh(W_hh·h_{t-1} + b_h +
//! W_xh·x_t)` for every stream with one product per step (the input a token's row or a dense
//! vector's weighted rows, as in the single-stream step), `d_t = dh_t ⊙ (1 - h_t²)` in place,
//! and `dW_hh = Dᵀ·H_prev` over the chunk.

use crate::kernels::{self, GemmShape};
use crate::model::batch_cell::{BatchCell, BatchRecord};
use crate::model::{Input, Rnn};

/// The Elman cell keeps nothing beside `dh` (overwritten by its pre-activation gradient), and
/// reads `W_hhᵀ` in its forward product.
impl<const H: usize> BatchRecord<H> for () {
    type Gates = ();
    type Transposed = [[f32; H]; H];
}

impl<const I: usize, const H: usize, const O: usize> BatchCell<I, H, O> for Rnn<I, H, O> {
    fn transpose_recurrent(&self, w_t: &mut [[f32; H]; H]) {
        for (r, row) in self.w_hh.iter().enumerate() {
            for (column, &w) in w_t.iter_mut().zip(row) {
                if let Some(slot) = column.get_mut(r) {
                    *slot = w;
                }
            }
        }
    }

    fn forward_streams<const B: usize>(
        &self,
        w_t: &[[f32; H]; H],
        inputs: &[Option<Input<'_, I>>; B],
        h_prev: &[[f32; H]; B],
        h: &mut [[f32; H]; B],
        _: &mut [(); B],
        live: usize,
    ) {
        let k = kernels::active();
        let live = live.min(B);
        let shape = GemmShape {
            rows: live,
            depth: H,
            cols: H,
            a_row: H,
            a_col: 1,
        };
        h.iter_mut().take(live).for_each(|h| *h = self.b_h);
        (k.gemm)(
            h.as_flattened_mut(),
            h_prev.as_flattened(),
            w_t.as_flattened(),
            &shape,
        );
        for (h, input) in h.iter_mut().zip(inputs).take(live) {
            match input {
                Some(Input::Token(id)) if *id < I => {
                    let row = self.w_xh.get(*id).map_or(&[][..], |r| &r[..]);
                    (k.add_tanh)(row, h);
                }
                Some(Input::Dense(x)) => {
                    for (&xi, row) in x.iter().zip(&self.w_xh) {
                        if xi != 0.0 {
                            (k.axpy)(xi, row, h);
                        }
                    }
                    (k.tanh)(h);
                }
                _ => (k.tanh)(h),
            }
        }
    }

    /// `d = dh ⊙ (1 - h²)` in place, `db_h += d`, the input's share (a token's row `+= d`, a
    /// dense input's `dW_xh += x·dᵀ`), and `dh_prev += W_hhᵀ·d` as one product over the streams.
    fn backward_streams<const B: usize>(
        &self,
        inputs: &[Option<Input<'_, I>>; B],
        _: &[[f32; H]; B],
        h: &[[f32; H]; B],
        _: &[(); B],
        dh: &mut [[f32; H]; B],
        _: &mut [(); B],
        dh_prev: Option<&mut [[f32; H]; B]>,
        grads: &mut Self,
        live_inputs: usize,
        live: usize,
    ) {
        let k = kernels::active();
        let live = live.min(B);
        for ((d, h), input) in dh.iter_mut().zip(h).zip(inputs).take(live) {
            (k.tanh_backward)(h, d);
            (k.axpy)(1.0, d, &mut grads.b_h);
            match input {
                Some(Input::Token(id)) => {
                    if let Some(row) = grads.w_xh.get_mut(*id).filter(|_| *id < live_inputs) {
                        (k.axpy)(1.0, d, row);
                    }
                }
                Some(Input::Dense(x)) => (k.rank1)(grads.w_xh.as_flattened_mut(), &x[..], d),
                None => {}
            }
        }
        if let Some(d_prev) = dh_prev {
            let recur = GemmShape {
                rows: live,
                depth: H,
                cols: H,
                a_row: H,
                a_col: 1,
            };
            let (d_prev, d) = (d_prev.as_flattened_mut(), dh.as_flattened());
            (k.gemm)(d_prev, d, self.w_hh.as_flattened(), &recur);
        }
    }

    /// `dW_hh = Dᵀ·H_prev` as one product over steps `1..` and one for step 0 (whose previous
    /// states are the starts).
    fn recurrent_gradient<const B: usize>(
        d_pre: &[[[f32; H]; B]],
        _: &[[(); B]],
        h_start: &[[f32; H]; B],
        hidden: &[[[f32; H]; B]],
        grads: &mut Self,
    ) {
        let k = kernels::active();
        let n = d_pre.len();
        let dw_hh = |depth| GemmShape {
            rows: H,
            depth,
            cols: H,
            a_row: 1,
            a_col: H,
        };
        let g = grads.w_hh.as_flattened_mut();
        let (Some(later), Some(h_prevs), Some(d0)) = (
            d_pre.get(1..n),
            hidden.get(..n.saturating_sub(1)),
            d_pre.first(),
        ) else {
            return;
        };
        let (later, h_prevs) = (later.as_flattened(), h_prevs.as_flattened());
        (k.gemm)(
            g,
            later.as_flattened(),
            h_prevs.as_flattened(),
            &dw_hh(later.len()),
        );
        (k.gemm)(g, d0.as_flattened(), h_start.as_flattened(), &dw_hh(B));
    }
}
