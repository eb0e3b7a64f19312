//! The output layer every cell shares, `y = W_hy·h + b_y` with a softmax over the live classes:
//! its loss and gradient for one state, and its share of the backward pass.

use crate::Error;
use crate::kernels;
use crate::model::Classes;

/// Computes the logits of hidden state `h` for the live classes (`d_logits.len()` of them: the
/// padded rows of `W_hy` are never read), writes `∂loss/∂logits = softmax - onehot(target)` to
/// `d_logits`, and returns the loss `-log p[target]`.
///
/// # Errors
/// [`Error::TokenOutOfRange`] for a target at or above the live classes;
/// [`Error::InvalidSetting`] for no live class or more than `O`.
pub(crate) fn output_gradient<const H: usize, const O: usize>(
    w_hy: &[[f32; H]; O],
    b_y: &[f32; O],
    h: &[f32; H],
    target: usize,
    d_logits: &mut [f32],
) -> Result<f32, Error> {
    let classes = d_logits.len();
    if target >= classes {
        return Err(Error::TokenOutOfRange {
            token: target,
            limit: classes,
        });
    }
    let k = kernels::active();
    let mut logits = [0.0f32; O];
    let live = Classes::<O>::new(classes)?;
    let (live_logits, w_hy, b_y) = (live.of_mut(&mut logits), live.of(w_hy), live.of(b_y));
    (k.matvec)(w_hy.as_flattened(), h, b_y, live_logits);
    let log_sum_exp = (k.softmax)(live_logits, d_logits);
    let (Some(p), Some(z)) = (d_logits.get_mut(target), live_logits.get(target)) else {
        return Err(Error::TokenOutOfRange {
            token: target,
            limit: classes,
        });
    };
    *p -= 1.0;
    Ok(log_sum_exp - z)
}

/// The readout's share of a full backward pass over `n = dh.len()` steps whose outputs start at
/// `first`: `dW_hy += Σ_t dy_t·h_tᵀ` and `db_y += Σ_t dy_t` over the live classes (one `Aᵀ·B`
/// product, so each row of `dW_hy` is loaded and stored once a chunk), and `dh_t = W_hyᵀ·dy_t`
/// (0 for the steps before `first`).
///
/// `dys` holds the steps' `∂loss/∂logits` from `first` on, `classes` floats a step. With
/// `overwrite` the live rows of `g_w_hy` are overwritten rather than added to (their previous
/// content is never read).
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward_outputs<const H: usize, const O: usize>(
    w_hy: &[[f32; H]; O],
    g_w_hy: &mut [[f32; H]; O],
    g_b_y: &mut [f32; O],
    dys: &[f32],
    hidden: &[[f32; H]],
    dh: &mut [[f32; H]],
    first: usize,
    classes: usize,
    overwrite: bool,
) {
    let k = kernels::active();
    let n = dh.len().min(hidden.len());
    let first = first.min(n);
    let classes = classes.min(O);
    let (Some(hs), Some(g_w_hy), Some(g_b_y)) = (
        hidden.get(first..n),
        g_w_hy.get_mut(..classes),
        g_b_y.get_mut(..classes),
    ) else {
        return;
    };
    let dys = dys.get(..(n - first) * classes).unwrap_or(dys);
    let rank_k = if overwrite { k.rank_k_set } else { k.rank_k };
    rank_k(
        g_w_hy.as_flattened_mut(),
        dys,
        hs.as_flattened(),
        classes,
        H,
    );
    for dy in dys.chunks_exact(classes.max(1)) {
        (k.axpy)(1.0, dy, g_b_y);
    }
    let (silent, speaking) = dh.split_at_mut(first);
    silent.iter_mut().for_each(|d| *d = [0.0; H]);
    for (d, dy) in speaking.iter_mut().zip(dys.chunks_exact(classes.max(1))) {
        *d = [0.0; H];
        (k.matvec_t)(w_hy.as_flattened(), dy, d);
    }
}

/// The readout's share of one step's gradient: `dW_hy += dy·hᵀ`, `db_y += dy`, `dh += W_hyᵀ·dy`
/// (`dy` is the live classes' `∂loss/∂logits`).
pub(crate) fn backward_output<const H: usize, const O: usize>(
    w_hy: &[[f32; H]; O],
    g_w_hy: &mut [[f32; H]; O],
    g_b_y: &mut [f32; O],
    dy: &[f32],
    h: &[f32; H],
    dh: &mut [f32; H],
) {
    let k = kernels::active();
    (k.rank1)(g_w_hy.as_flattened_mut(), dy, h);
    (k.axpy)(1.0, dy, g_b_y);
    (k.matvec_t)(w_hy.as_flattened(), dy, dh);
}
