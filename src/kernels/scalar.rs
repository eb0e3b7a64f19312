//! Scalar reference kernels: the specification of every operation in [`super::Kernels`].
//!
//! Written with iterators only, so no index can go out of bounds and no panic is reachable.

use super::{AdamStep, GemmShape, Kernels};
use crate::kernels::math;

/// The scalar kernel table.
pub const KERNELS: Kernels = Kernels {
    name: "scalar",
    matvec,
    matvec_t,
    rank1,
    rank_k,
    rank_k_set,
    gemm,
    axpy,
    tanh,
    sigmoid,
    exp,
    add_tanh,
    tanh_backward,
    softmax,
    clip,
    sum_squares,
    scale,
    sgd,
    momentum,
    adagrad,
    adagrad_clip,
    adam,
};

/// `Σ a[i]·b[i]`.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `y[r] = b[r] + Σ_c w[r·cols + c]·x[c]`.
pub fn matvec(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32]) {
    let cols = x.len();
    if cols == 0 {
        y.iter_mut().zip(b).for_each(|(y, b)| *y = *b);
        return;
    }
    for ((y, row), b) in y.iter_mut().zip(w.chunks_exact(cols)).zip(b) {
        *y = b + dot(row, x);
    }
}

/// `y[c] += Σ_r w[r·cols + c]·x[r]`.
pub fn matvec_t(w: &[f32], x: &[f32], y: &mut [f32]) {
    let cols = y.len();
    if cols == 0 {
        return;
    }
    for (row, &x) in w.chunks_exact(cols).zip(x) {
        axpy(x, row, y);
    }
}

/// `w[r·cols + c] += a[r]·b[c]`.
pub fn rank1(w: &mut [f32], a: &[f32], b: &[f32]) {
    let cols = b.len();
    if cols == 0 {
        return;
    }
    for (row, &a) in w.chunks_exact_mut(cols).zip(a) {
        axpy(a, b, row);
    }
}

/// `w[r·cols + c] += Σ_t a[t·rows + r]·b[t·cols + c]`: one rank-1 update per `t`, in order.
pub fn rank_k(w: &mut [f32], a: &[f32], b: &[f32], rows: usize, cols: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    let w = w.split_at_mut((rows * cols).min(w.len())).0;
    for (a, b) in a.chunks_exact(rows).zip(b.chunks_exact(cols)) {
        rank1(w, a, b);
    }
}

/// `w[r·cols + c] = Σ_t a[t·rows + r]·b[t·cols + c]`: the first `rows` rows of `w` zeroed, then
/// [`rank_k`].
pub fn rank_k_set(w: &mut [f32], a: &[f32], b: &[f32], rows: usize, cols: usize) {
    if rows == 0 || cols == 0 {
        return;
    }
    w.chunks_exact_mut(cols)
        .take(rows)
        .for_each(|row| row.fill(0.0));
    rank_k(w, a, b, rows, cols);
}

/// `C += A·B` over the shape cut by [`GemmShape::fit`]: one `axpy` of a row of `B` into a row of
/// `C` per element of `A`, in order.
pub fn gemm(c: &mut [f32], a: &[f32], b: &[f32], shape: &GemmShape) {
    let Some(s) = shape.fit(c.len(), a.len(), b.len()) else {
        return;
    };
    for (i, c_row) in c.chunks_exact_mut(s.cols).take(s.rows).enumerate() {
        for (p, b_row) in b.chunks_exact(s.cols).take(s.depth).enumerate() {
            let x = a.get(i * s.a_row + p * s.a_col).copied().unwrap_or(0.0);
            axpy(x, b_row, c_row);
        }
    }
}

/// `y[i] += alpha·x[i]`.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += alpha * x);
}

/// `x[i] = tanh(x[i])`.
pub fn tanh(x: &mut [f32]) {
    x.iter_mut().for_each(|x| *x = math::tanh(*x));
}

/// `x[i] = 1 / (1 + exp(-x[i]))`.
pub fn sigmoid(x: &mut [f32]) {
    x.iter_mut().for_each(|x| *x = 1.0 / (1.0 + math::exp(-*x)));
}

/// `out[i] = exp((x[i] - shift)·scale)` over the common length; returns `Σ out[i]`.
pub fn exp(x: &[f32], out: &mut [f32], shift: f32, scale: f32) -> f32 {
    out.iter_mut().zip(x).fold(0.0, |sum, (out, x)| {
        *out = math::exp((x - shift) * scale);
        sum + *out
    })
}

/// `y[i] = tanh(y[i] + x[i])`.
pub fn add_tanh(x: &[f32], y: &mut [f32]) {
    y.iter_mut()
        .zip(x)
        .for_each(|(y, x)| *y = math::tanh(*y + x));
}

/// `dh[i] *= 1 - h[i]²`.
pub fn tanh_backward(h: &[f32], dh: &mut [f32]) {
    dh.iter_mut().zip(h).for_each(|(d, h)| *d *= 1.0 - h * h);
}

/// `probs = softmax(logits)`; returns `log Σ exp(logits)`.
pub fn softmax(logits: &[f32], probs: &mut [f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if logits.is_empty() {
        return f32::NEG_INFINITY;
    }
    // Only the overlap is written: the normalization below must not reach further.
    let probs = probs.split_at_mut(logits.len().min(probs.len())).0;
    let mut sum = 0.0;
    for (p, &z) in probs.iter_mut().zip(logits) {
        *p = math::exp(z - max);
        sum += *p;
    }
    let inv = 1.0 / sum;
    probs.iter_mut().for_each(|p| *p *= inv);
    max + math::ln(sum)
}

/// `x[i] = clamp(x[i], -limit, limit)`.
pub fn clip(x: &mut [f32], limit: f32) {
    x.iter_mut().for_each(|x| *x = x.max(-limit).min(limit));
}

/// `Σ x[i]²`.
pub fn sum_squares(x: &[f32]) -> f32 {
    dot(x, x)
}

/// `x[i] *= factor`.
pub fn scale(x: &mut [f32], factor: f32) {
    x.iter_mut().for_each(|x| *x *= factor);
}

/// `p -= lr·g`.
pub fn sgd(p: &mut [f32], g: &[f32], lr: f32) {
    axpy(-lr, g, p);
}

/// `v = mu·v + g; p -= lr·v`.
pub fn momentum(p: &mut [f32], g: &[f32], velocity: &mut [f32], lr: f32, mu: f32) {
    for ((p, g), v) in p.iter_mut().zip(g).zip(velocity.iter_mut()) {
        *v = mu * *v + g;
        *p -= lr * *v;
    }
}

/// `mem += g²; p -= lr·g / sqrt(mem + eps)`.
pub fn adagrad(p: &mut [f32], g: &[f32], mem: &mut [f32], lr: f32, eps: f32) {
    for ((p, g), m) in p.iter_mut().zip(g).zip(mem.iter_mut()) {
        *m += g * g;
        *p -= lr * g / math::sqrt(*m + eps);
    }
}

/// `g = clamp(g, ±limit)`, then `mem += g²; p -= lr·g / sqrt(mem + eps)`.
pub fn adagrad_clip(p: &mut [f32], g: &mut [f32], mem: &mut [f32], lr: f32, eps: f32, limit: f32) {
    for ((p, g), m) in p.iter_mut().zip(g.iter_mut()).zip(mem.iter_mut()) {
        *g = g.max(-limit).min(limit);
        *m += *g * *g;
        *p -= lr * *g / math::sqrt(*m + eps);
    }
}

/// `m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; p -= lr·m / (sqrt(v) + eps)`.
pub fn adam(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], step: &AdamStep) {
    for (((p, g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = step.beta1 * *m + (1.0 - step.beta1) * g;
        *v = step.beta2 * *v + (1.0 - step.beta2) * g * g;
        *p -= step.lr * *m / (math::sqrt(*v) + step.eps);
    }
}

/// Index of the largest value (the first one on ties; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    let mut best_value = f32::NEG_INFINITY;
    for (i, &v) in values.iter().enumerate() {
        if v > best_value {
            best = i;
            best_value = v;
        }
    }
    best
}
