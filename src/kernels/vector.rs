//! The algorithms of the SIMD kernels, written once over a small vector trait.
//!
//! As in matrixmultiply's `sgemm_kernel.rs`, each operation is one `#[inline(always)]` generic
//! body; the ISA modules (`x86`, `aarch64`) implement [`Vector`] for their registers and wrap
//! each body in a `#[target_feature]` function, so the body is compiled once per ISA with that
//! ISA's instructions. Nothing here is ISA-specific.
//!
//! Every body first cuts its slices to a common length (so mismatched lengths never read or
//! write out of bounds, as documented on [`super::Kernels`]), walks full vectors with
//! `chunks_exact`, and finishes the tail with a partial (zero-padded) vector or the scalar
//! reference.
//!
//! The only precondition of the `unsafe fn`s in this file is that the CPU supports the ISA of
//! `V`; memory safety follows from the slice lengths that `chunks_exact` guarantees.

use super::scalar;
use super::{AdamStep, GemmShape};
use crate::kernels::math;

/// A safe wrapper around one shared body, compiled inside a `#[target_feature]` function.
macro_rules! wrap {
    ($vector:ty, $features:literal, $op:ident ( $($arg:ident : $ty:ty),* ) $(-> $ret:ty)?) => {
        pub(super) fn $op($($arg: $ty),*) $(-> $ret)? {
            #[target_feature(enable = $features)]
            unsafe fn inner($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: `inner` is only called by the wrapper below, on a CPU with `$features`.
                unsafe { vector::$op::<$vector>($($arg),*) }
            }
            // SAFETY: this function is only reachable through its module's table, which
            // `active()` and `variants()` hand out only if the CPU has `$features`.
            unsafe { inner($($arg),*) }
        }
    };
}

/// A module of safe wrappers around the shared bodies for one vector type and one
/// `target_feature` set, plus its kernel table.
#[allow(unused_macros)]
macro_rules! kernels_for {
    ($module:ident, $v:ty, $f:literal, $name:literal) => {
        mod $module {
            use super::*;
            use crate::kernels::{AdamStep, GemmShape, Kernels, vector};

            wrap!($v, $f, matvec(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32]));
            wrap!($v, $f, matvec_t(w: &[f32], x: &[f32], y: &mut [f32]));
            wrap!($v, $f, rank1(w: &mut [f32], a: &[f32], b: &[f32]));
            wrap!($v, $f, rank_k(w: &mut [f32], a: &[f32], b: &[f32], rows: usize, cols: usize));
            wrap!($v, $f, rank_k_set(w: &mut [f32], a: &[f32], b: &[f32], rows: usize, cols: usize));
            wrap!($v, $f, gemm(c: &mut [f32], a: &[f32], b: &[f32], shape: &GemmShape));
            wrap!($v, $f, axpy(alpha: f32, x: &[f32], y: &mut [f32]));
            wrap!($v, $f, tanh(x: &mut [f32]));
            wrap!($v, $f, sigmoid(x: &mut [f32]));
            wrap!($v, $f, exp(x: &[f32], out: &mut [f32], shift: f32, scale: f32) -> f32);
            wrap!($v, $f, add_tanh(x: &[f32], y: &mut [f32]));
            wrap!($v, $f, tanh_backward(h: &[f32], dh: &mut [f32]));
            wrap!($v, $f, softmax(logits: &[f32], probs: &mut [f32]) -> f32);
            wrap!($v, $f, clip(x: &mut [f32], limit: f32));
            wrap!($v, $f, sum_squares(x: &[f32]) -> f32);
            wrap!($v, $f, scale(x: &mut [f32], factor: f32));
            wrap!($v, $f, sgd(p: &mut [f32], g: &[f32], lr: f32));
            wrap!($v, $f, momentum(p: &mut [f32], g: &[f32], velocity: &mut [f32], lr: f32, mu: f32));
            wrap!($v, $f, adagrad(p: &mut [f32], g: &[f32], mem: &mut [f32], lr: f32, eps: f32));
            wrap!($v, $f, adagrad_clip(
                p: &mut [f32], g: &mut [f32], mem: &mut [f32], lr: f32, eps: f32, limit: f32
            ));
            wrap!($v, $f, adam(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], step: &AdamStep));

            /// The kernel table of this ISA.
            pub(crate) const KERNELS: Kernels = Kernels {
                name: $name,
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
        }
    };
}

/// One SIMD register of `f32` lanes.
///
/// # Safety
/// Implementors use the intrinsics of one ISA. Every method may only be called on a CPU that
/// supports that ISA (the methods are `unsafe fn` for that reason alone).
pub(crate) unsafe trait Vector: Copy {
    /// Number of `f32` lanes.
    const LANES: usize;

    /// All lanes `x`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn splat(x: f32) -> Self;
    /// Loads `s[..LANES]`.
    ///
    /// # Safety
    /// The CPU supports the ISA and `s.len() >= LANES`.
    unsafe fn load(s: &[f32]) -> Self;
    /// Stores to `s[..LANES]`.
    ///
    /// # Safety
    /// The CPU supports the ISA and `s.len() >= LANES`.
    unsafe fn store(self, s: &mut [f32]);
    /// Loads `s` (shorter than `LANES`) into the first lanes; the other lanes are 0.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    #[inline(always)]
    unsafe fn load_partial(s: &[f32]) -> Self {
        let mut buffer = [0.0f32; 16];
        buffer.iter_mut().zip(s).for_each(|(b, s)| *b = *s);
        // SAFETY: the buffer holds 16 ≥ LANES floats; the ISA is the caller's promise.
        unsafe { Self::load(&buffer) }
    }
    /// Stores the first `s.len()` (fewer than `LANES`) lanes to `s`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    #[inline(always)]
    unsafe fn store_partial(self, s: &mut [f32]) {
        let mut buffer = [0.0f32; 16];
        // SAFETY: the buffer holds 16 ≥ LANES floats; the ISA is the caller's promise.
        unsafe { self.store(&mut buffer) };
        s.iter_mut().zip(buffer).for_each(|(s, b)| *s = b);
    }
    /// Lane-wise `self + o`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn add(self, o: Self) -> Self;
    /// Lane-wise `self - o`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn sub(self, o: Self) -> Self;
    /// Lane-wise `self · o`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn mul(self, o: Self) -> Self;
    /// Lane-wise `self / o`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn div(self, o: Self) -> Self;
    /// Lane-wise `self · b + c` (fused where the ISA has FMA).
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn mul_add(self, b: Self, c: Self) -> Self;
    /// Lane-wise minimum; if a lane of `x` is NaN the result lane is NaN.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn min_of(limit: Self, x: Self) -> Self;
    /// Lane-wise maximum; if a lane of `x` is NaN the result lane is NaN.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn max_of(limit: Self, x: Self) -> Self;
    /// Lane-wise square root.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn sqrt(self) -> Self;
    /// Lane-wise `1 / sqrt(self)` to within [`super::RSQRT_MAX_REL_ERROR`] (relative), for
    /// positive finite lanes. The default divides by the exact root; ISAs with a reciprocal
    /// root estimate refine it with Newton steps instead, which is several times faster.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    #[inline(always)]
    unsafe fn rsqrt(self) -> Self {
        // SAFETY: the caller promises the ISA.
        unsafe { Self::splat(1.0).div(self.sqrt()) }
    }
    /// Lane-wise round to the nearest integer, for `|x| < 2³¹`.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn round(self) -> Self;
    /// `2^n` for integer-valued lanes `n` in `-127..=127` (`-127` gives 0).
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn pow2i(self) -> Self;
    /// Sum of the lanes.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn sum(self) -> f32;
    /// The lane sums of four vectors.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    #[inline(always)]
    unsafe fn sum4(v: [Self; 4]) -> [f32; 4] {
        // SAFETY: the caller promises the ISA.
        v.map(|v| unsafe { v.sum() })
    }
    /// Largest lane.
    ///
    /// # Safety
    /// The CPU supports the ISA.
    unsafe fn max_lane(self) -> f32;
}

/// Cuts two slices to their common length.
#[inline(always)]
fn common<'a, 'b>(a: &'a [f32], b: &'b mut [f32]) -> (&'a [f32], &'b mut [f32]) {
    let n = a.len().min(b.len());
    (a.split_at(n).0, b.split_at_mut(n).0)
}

// ---------------------------------------------------------------------------------------------
// Transcendentals.

// The tanh coefficients are shared with the portable (scalar) variant.
use super::portable::{TANH_CLAMP, TANH_P, TANH_Q};

/// `tanh` of every lane: a [13/6] odd rational approximation on `[-7.9, 7.9]` (the form Eigen
/// and tract use), ±1 beyond, NaN for NaN. Error: [`super::TANH_MAX_ERROR`].
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn tanh_v<V: Vector>(x: V) -> V {
    // SAFETY: the caller promises the ISA.
    unsafe {
        let x = V::max_of(V::splat(-TANH_CLAMP), V::min_of(V::splat(TANH_CLAMP), x));
        let x2 = x.mul(x);
        let mut p = V::splat(TANH_P[0]);
        for c in &TANH_P[1..] {
            p = p.mul_add(x2, V::splat(*c));
        }
        let mut q = V::splat(TANH_Q[0]);
        for c in &TANH_Q[1..] {
            q = q.mul_add(x2, V::splat(*c));
        }
        // Dividing before multiplying by `x` keeps tiny inputs out of the subnormal range.
        p.div(q).mul(x)
    }
}

const EXP_LOW: f32 = -88.0;
const EXP_HIGH: f32 = 88.3;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
/// Taylor-like minimax coefficients of `(exp(r) - 1 - r) / r²` on `|r| ≤ ln2/2` (Cephes
/// `expf`), highest degree first.
#[allow(clippy::excessive_precision)] // the published coefficients, rounded by the compiler
const EXP_P: [f32; 6] = [
    1.987_569_1e-4,
    1.398_199_9e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    5.000_000_1e-1,
];

/// `exp` of every lane (Cephes `expf`: `2^n · p(r)` with `x = n·ln2 + r`). Accurate to
/// [`super::EXP_MAX_REL_ERROR`] on `[-87, 88.3]`; below `-88` it returns 0 (the true value is
/// under `2⁻¹²⁶`); above 88.3 it saturates at `exp(88.3)`; NaN gives NaN.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn exp_v<V: Vector>(x: V) -> V {
    // SAFETY: the caller promises the ISA.
    unsafe {
        let x = V::max_of(V::splat(EXP_LOW), V::min_of(V::splat(EXP_HIGH), x));
        let n = x.mul(V::splat(core::f32::consts::LOG2_E)).round();
        let r = n.mul_add(V::splat(-LN2_HI), x);
        let r = n.mul_add(V::splat(-LN2_LO), r);
        let mut p = V::splat(EXP_P[0]);
        for c in &EXP_P[1..] {
            p = p.mul_add(r, V::splat(*c));
        }
        let r2 = r.mul(r);
        let e = p.mul_add(r2, r.add(V::splat(1.0)));
        e.mul(n.pow2i())
    }
}

/// `x[i] = tanh(x[i])`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn tanh<V: Vector>(x: &mut [f32]) {
    let mut chunks = x.chunks_exact_mut(V::LANES);
    for c in &mut chunks {
        // SAFETY: `c` holds LANES floats; the caller promises the ISA.
        unsafe { tanh_v(V::load(c)).store(c) };
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        // SAFETY: partial loads take any length; the caller promises the ISA.
        unsafe { tanh_v(V::load_partial(tail)).store_partial(tail) };
    }
}

/// `x[i] = σ(x[i]) = 0.5 + 0.5·tanh(x[i] / 2)`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn sigmoid<V: Vector>(x: &mut [f32]) {
    // SAFETY: the caller promises the ISA.
    let half = unsafe { V::splat(0.5) };
    // SAFETY: the caller promises the ISA.
    let lanes = |v: V| unsafe { tanh_v(v.mul(half)).mul_add(half, half) };
    let mut chunks = x.chunks_exact_mut(V::LANES);
    for c in &mut chunks {
        // SAFETY: `c` holds LANES floats; the caller promises the ISA.
        unsafe { lanes(V::load(c)).store(c) };
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        // SAFETY: partial loads take any length; the caller promises the ISA.
        unsafe { lanes(V::load_partial(tail)).store_partial(tail) };
    }
}

/// `out[i] = exp((x[i] - shift)·scale)` over the common length; returns the sum of the results.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn exp<V: Vector>(x: &[f32], out: &mut [f32], shift: f32, scale: f32) -> f32 {
    let (x, out) = common(x, out);
    // SAFETY: every load and store reads a chunk of LANES floats or a partial tail; the caller
    // promises the ISA.
    unsafe {
        let (shift, scale) = (V::splat(shift), V::splat(scale));
        let mut sum = V::splat(0.0);
        let mut outs = out.chunks_exact_mut(V::LANES);
        let mut xs = x.chunks_exact(V::LANES);
        for (o, x) in (&mut outs).zip(&mut xs) {
            let e = exp_v(V::load(x).sub(shift).mul(scale));
            e.store(o);
            sum = sum.add(e);
        }
        let mut sum = sum.sum();
        let (o, x) = (outs.into_remainder(), xs.remainder());
        if !o.is_empty() {
            let e = exp_v(V::load_partial(x).sub(shift).mul(scale));
            e.store_partial(o);
            sum += o.iter().sum::<f32>();
        }
        sum
    }
}

/// `y[i] = tanh(y[i] + x[i])`: the step's input row added and the activation applied in one
/// pass.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn add_tanh<V: Vector>(x: &[f32], y: &mut [f32]) {
    let (x, y) = common(x, y);
    let mut ys = y.chunks_exact_mut(V::LANES);
    let mut xs = x.chunks_exact(V::LANES);
    for (y, x) in (&mut ys).zip(&mut xs) {
        // SAFETY: both chunks hold LANES floats; the caller promises the ISA.
        unsafe { tanh_v(V::load(y).add(V::load(x))).store(y) };
    }
    let (y, x) = (ys.into_remainder(), xs.remainder());
    if !y.is_empty() {
        // SAFETY: partial loads take any length; the caller promises the ISA.
        unsafe { tanh_v(V::load_partial(y).add(V::load_partial(x))).store_partial(y) };
    }
}

/// `dh[i] *= 1 - h[i]²`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn tanh_backward<V: Vector>(h: &[f32], dh: &mut [f32]) {
    let (h, dh) = common(h, dh);
    let mut ds = dh.chunks_exact_mut(V::LANES);
    let mut hs = h.chunks_exact(V::LANES);
    for (d, h) in (&mut ds).zip(&mut hs) {
        // SAFETY: both chunks hold LANES floats; the caller promises the ISA.
        unsafe {
            let h = V::load(h);
            let one_minus = h.mul(h).sub(V::splat(1.0));
            V::load(d).mul(V::splat(0.0).sub(one_minus)).store(d);
        }
    }
    scalar::tanh_backward(hs.remainder(), ds.into_remainder());
}

/// `probs = softmax(logits)`; returns `log Σ exp(logits)`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn softmax<V: Vector>(logits: &[f32], probs: &mut [f32]) -> f32 {
    if logits.is_empty() {
        return f32::NEG_INFINITY;
    }
    // SAFETY: every load reads a chunk of LANES floats or a partial tail; the caller promises
    // the ISA.
    unsafe {
        let mut chunks = logits.chunks_exact(V::LANES);
        let mut max = V::splat(f32::NEG_INFINITY);
        for c in &mut chunks {
            max = V::max_of(max, V::load(c));
        }
        let mut max = max.max_lane();
        for &z in chunks.remainder() {
            max = max.max(z);
        }
        let (logits, probs) = common(logits, probs);
        let shift = V::splat(max);
        let mut sum = V::splat(0.0);
        let mut ps = probs.chunks_exact_mut(V::LANES);
        let mut zs = logits.chunks_exact(V::LANES);
        for (p, z) in (&mut ps).zip(&mut zs) {
            let e = exp_v(V::load(z).sub(shift));
            e.store(p);
            sum = sum.add(e);
        }
        let (p, z) = (ps.into_remainder(), zs.remainder());
        let mut sum = sum.sum();
        if !p.is_empty() {
            let e = exp_v(V::load_partial(z).sub(shift));
            e.store_partial(p);
            let mut tail = [0.0f32; 16];
            e.store(&mut tail);
            sum += tail.iter().take(p.len()).sum::<f32>();
        }
        scale::<V>(probs, 1.0 / sum);
        max + math::ln(sum)
    }
}

// ---------------------------------------------------------------------------------------------
// Linear algebra.

/// `Σ_c row[c]·x[c]` for four rows at once (each at least as long as `x`), with two
/// accumulators per row to hide the FMA latency. `x_tail` is `x`'s last partial vector (the
/// `x.len() % LANES` floats after its full vectors, zero-padded), loaded once by the caller.
/// Each row's result is the same sequence of operations whatever the other rows are.
///
/// Indexing is unchecked: at H = 100 the bounds checks and iterator set-up of a checked
/// version cost more instructions than the multiply-adds.
///
/// # Safety
/// The CPU supports the ISA of `V`, and every row is at least `x.len()` long.
#[inline(always)]
unsafe fn dot4<V: Vector>(rows: [&[f32]; 4], x: &[f32], x_tail: V) -> [f32; 4] {
    let cols = x.len();
    let lanes = V::LANES;
    // SAFETY: every full load reads `lanes` floats at `c` with `c + lanes <= cols`, inside `x`
    // and every row (at least `cols` long, the caller's promise); the partial loads read the
    // `cols % lanes` floats before `cols`; the caller promises the ISA.
    unsafe {
        let zero = V::splat(0.0);
        let mut acc = [[zero; 2]; 4];
        let mut c = 0;
        while c + 2 * lanes <= cols {
            let x0 = V::load(x.get_unchecked(c..));
            let x1 = V::load(x.get_unchecked(c + lanes..));
            for (row, acc) in rows.iter().zip(&mut acc) {
                acc[0] = V::load(row.get_unchecked(c..)).mul_add(x0, acc[0]);
                acc[1] = V::load(row.get_unchecked(c + lanes..)).mul_add(x1, acc[1]);
            }
            c += 2 * lanes;
        }
        let one_more = c + lanes <= cols;
        let x_more = if one_more {
            V::load(x.get_unchecked(c..))
        } else {
            zero
        };
        let tail_start = cols - cols % lanes;
        let mut sums = [zero; 4];
        for ((sum, acc), row) in sums.iter_mut().zip(acc).zip(rows) {
            let mut acc = acc[0].add(acc[1]);
            if one_more {
                acc = V::load(row.get_unchecked(c..)).mul_add(x_more, acc);
            }
            if tail_start < cols {
                let tail = row.get_unchecked(tail_start..cols);
                acc = V::load_partial(tail).mul_add(x_tail, acc);
            }
            *sum = acc;
        }
        V::sum4(sums)
    }
}

/// `y[r] = b[r] + Σ_c w[r·cols + c]·x[c]`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn matvec<V: Vector>(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32]) {
    let cols = x.len();
    if cols == 0 {
        y.iter_mut().zip(b).for_each(|(y, b)| *y = *b);
        return;
    }
    let rows = y.len().min(b.len()).min(w.len() / cols);
    let (y, b, w) = (
        y.split_at_mut(rows).0,
        b.split_at(rows).0,
        w.split_at(rows * cols).0,
    );
    // SAFETY: a partial load takes any length; the caller promises the ISA.
    let x_tail = unsafe { V::load_partial(x.get(cols - cols % V::LANES..).unwrap_or(&[])) };
    let mut ys = y.chunks_exact_mut(4);
    let mut bs = b.chunks_exact(4);
    let mut ws = w.chunks_exact(4 * cols);
    for ((y4, b4), w4) in (&mut ys).zip(&mut bs).zip(&mut ws) {
        let (r0, rest) = w4.split_at(cols);
        let (r1, rest) = rest.split_at(cols);
        let (r2, r3) = rest.split_at(cols);
        // SAFETY: each row holds `cols` floats; the caller promises the ISA.
        let dots = unsafe { dot4::<V>([r0, r1, r2, r3], x, x_tail) };
        for ((y, b), d) in y4.iter_mut().zip(b4).zip(dots) {
            *y = b + d;
        }
    }
    for ((y, b), row) in ys
        .into_remainder()
        .iter_mut()
        .zip(bs.remainder())
        .zip(ws.remainder().chunks_exact(cols))
    {
        // SAFETY: the row holds `cols` floats; the caller promises the ISA.
        let [d, ..] = unsafe { dot4::<V>([row, row, row, row], x, x_tail) };
        *y = b + d;
    }
}

/// `y[block] += Σ_k s_k · row_k[block]` for the `N` vectors of `y` starting at column `c0`
/// (and, with `PART`, the partial vector of all of `y`'s columns after them), with `y`'s block
/// held in registers across all terms. With `SET` the block starts from zero instead of `y`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
unsafe fn lincomb_block<'r, V: Vector, const N: usize, const SET: bool, const PART: bool>(
    y: &mut [f32],
    c0: usize,
    terms: impl Iterator<Item = (f32, &'r [f32])>,
) {
    let width = N * V::LANES;
    let Some(y) = y.get_mut(c0..) else {
        return;
    };
    let Some((y, y_tail)) = y.split_at_mut_checked(width) else {
        return;
    };
    let tail = if PART { y_tail.len().min(V::LANES) } else { 0 };
    let y_tail = y_tail.split_at_mut(tail).0;
    // SAFETY: every full load and store reads a chunk of LANES floats of a `width`-long block;
    // partial loads and stores take any length; the caller promises the ISA.
    unsafe {
        let mut acc = [V::splat(0.0); N];
        let mut acc_tail = V::splat(0.0);
        if !SET {
            for (a, c) in acc.iter_mut().zip(y.chunks_exact(V::LANES)) {
                *a = V::load(c);
            }
            if PART {
                acc_tail = V::load_partial(y_tail);
            }
        }
        for (s, row) in terms {
            if !PART {
                let Some(block) = row.get(c0..c0 + width) else {
                    continue;
                };
                let s = V::splat(s);
                for (a, c) in acc.iter_mut().zip(block.chunks_exact(V::LANES)) {
                    *a = V::load(c).mul_add(s, *a);
                }
                continue;
            }
            let Some((block, block_tail)) = row
                .get(c0..c0 + width + tail)
                .and_then(|r| r.split_at_checked(width))
            else {
                continue;
            };
            let s = V::splat(s);
            for (a, c) in acc.iter_mut().zip(block.chunks_exact(V::LANES)) {
                *a = V::load(c).mul_add(s, *a);
            }
            acc_tail = V::load_partial(block_tail).mul_add(s, acc_tail);
        }
        for (a, c) in acc.iter().zip(y.chunks_exact_mut(V::LANES)) {
            a.store(c);
        }
        if PART {
            acc_tail.store_partial(y_tail);
        }
    }
}

/// Calls `lincomb_block::<V, n, SET, PART>` for a run-time `n` in `0..=13`.
macro_rules! lincomb_block_n {
    ($v:ty, $set:ident, $part:literal, $n:expr, $y:expr, $c0:expr, $terms:expr; $($k:literal)*) => {
        match $n {
            $($k => {
                // SAFETY: the caller promises the ISA.
                unsafe { lincomb_block::<$v, $k, $set, $part>($y, $c0, $terms) }
            })*
            _ => {}
        }
    };
}

/// Widest block of [`lincomb`], in vectors (counting a partial one): `N + 1` accumulators, the
/// splat factor and a mask fit the 16 registers of SSE2 and AVX2.
const MAX_BLOCK: usize = 13;

/// `y += Σ_k s_k · row_k` over all columns of `y` (`y = Σ_k s_k · row_k` with `SET`): blocks of
/// 8 vectors, then the remaining full vectors and the partial one in a single block of up to
/// [`MAX_BLOCK`] vectors (so a narrow remainder is never a lone, latency-bound chain of FMAs);
/// `terms` is called once per block. Each element's sum is the same sequence of FMAs whatever
/// the blocking.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
unsafe fn lincomb<'r, V: Vector, It: Iterator<Item = (f32, &'r [f32])>, const SET: bool>(
    y: &mut [f32],
    terms: impl Fn() -> It,
) {
    let cols = y.len();
    let mut c0 = 0;
    while cols - c0 >= 16 * V::LANES {
        // SAFETY: the caller promises the ISA.
        unsafe { lincomb_block::<V, 8, SET, false>(y, c0, terms()) };
        c0 += 8 * V::LANES;
    }
    let mut n = (cols - c0) / V::LANES;
    let part = !(cols - c0).is_multiple_of(V::LANES);
    if n + usize::from(part) > MAX_BLOCK {
        // SAFETY: the caller promises the ISA.
        unsafe { lincomb_block::<V, 8, SET, false>(y, c0, terms()) };
        c0 += 8 * V::LANES;
        n -= 8;
    }
    if part {
        lincomb_block_n!(V, SET, true, n, y, c0, terms(); 0 1 2 3 4 5 6 7 8 9 10 11 12);
    } else {
        lincomb_block_n!(V, SET, false, n, y, c0, terms(); 1 2 3 4 5 6 7 8 9 10 11 12 13);
    }
}

/// `y[c] += Σ_r w[r·cols + c]·x[r]`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn matvec_t<V: Vector>(w: &[f32], x: &[f32], y: &mut [f32]) {
    let cols = y.len();
    if cols == 0 {
        return;
    }
    // SAFETY: the caller promises the ISA.
    unsafe { lincomb::<V, _, false>(y, || x.iter().copied().zip(w.chunks_exact(cols))) };
}

/// `w[r·cols + c] += Σ_t a[t·rows + r]·b[t·cols + c]` (`W += Aᵀ·B`: the sum of `k` rank-1
/// updates, each row of `W` held in registers across all of them).
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn rank_k<V: Vector>(
    w: &mut [f32],
    a: &[f32],
    b: &[f32],
    rows: usize,
    cols: usize,
) {
    // SAFETY: the caller promises the ISA.
    unsafe { rank_k_into::<V, false>(w, a, b, rows, cols) };
}

/// `w[r·cols + c] = Σ_t a[t·rows + r]·b[t·cols + c]` (`W = Aᵀ·B`): as [`rank_k`] onto a zero
/// `W`, bit for bit, without reading `W`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn rank_k_set<V: Vector>(
    w: &mut [f32],
    a: &[f32],
    b: &[f32],
    rows: usize,
    cols: usize,
) {
    // SAFETY: the caller promises the ISA.
    unsafe { rank_k_into::<V, true>(w, a, b, rows, cols) };
}

/// [`rank_k`] (`SET = false`) or [`rank_k_set`] (`SET = true`).
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
unsafe fn rank_k_into<V: Vector, const SET: bool>(
    w: &mut [f32],
    a: &[f32],
    b: &[f32],
    rows: usize,
    cols: usize,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    for (r, w_row) in w.chunks_exact_mut(cols).take(rows).enumerate() {
        let terms = || {
            a.chunks_exact(rows)
                .map(move |a_t| a_t.get(r).copied().unwrap_or(0.0))
                .zip(b.chunks_exact(cols))
        };
        // SAFETY: the caller promises the ISA.
        unsafe { lincomb::<V, _, SET>(w_row, terms) };
    }
}

/// `w[r·cols + c] += a[r]·b[c]`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn rank1<V: Vector>(w: &mut [f32], a: &[f32], b: &[f32]) {
    let cols = b.len();
    if cols == 0 {
        return;
    }
    for (row, &a) in w.chunks_exact_mut(cols).zip(a) {
        // SAFETY: the caller promises the ISA.
        unsafe { axpy::<V>(a, b, row) };
    }
}

/// Rows of `B` per pass of [`gemm`]: a `KC × 3·LANES` panel of `B` (24 KB with AVX-512) stays in
/// L1 while every block of rows of `C` walks it.
const GEMM_DEPTH_BLOCK: usize = 128;

/// `C += A·B` (see [`GemmShape`]): `C` in blocks of 4 rows × 3 vectors held in registers (12
/// accumulators, 3 loads of `B` and a broadcast of `A` per 12 multiply-adds), over panels of
/// [`GEMM_DEPTH_BLOCK`] rows of `B`. Each `C[i][j]` is the same sequence of FMAs over `p` whatever
/// the blocking.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn gemm<V: Vector>(c: &mut [f32], a: &[f32], b: &[f32], shape: &GemmShape) {
    let Some(s) = shape.fit(c.len(), a.len(), b.len()) else {
        return;
    };
    let lanes = V::LANES;
    let part = !s.cols.is_multiple_of(lanes);
    let mut p0 = 0;
    while p0 < s.depth {
        let p1 = (p0 + GEMM_DEPTH_BLOCK).min(s.depth);
        let mut j0 = 0;
        // SAFETY: `s` fits the slices (`GemmShape::fit`); every panel lies inside `s.cols` (full
        // vectors while they fit, then the rest with at most a partial one); the caller
        // promises the ISA.
        unsafe {
            while j0 + 3 * lanes <= s.cols {
                gemm_panel::<V, 3, false>(c, a, b, &s, j0, p0, p1);
                j0 += 3 * lanes;
            }
            match ((s.cols - j0) / lanes, part) {
                (0, true) => gemm_panel::<V, 0, true>(c, a, b, &s, j0, p0, p1),
                (1, false) => gemm_panel::<V, 1, false>(c, a, b, &s, j0, p0, p1),
                (1, true) => gemm_panel::<V, 1, true>(c, a, b, &s, j0, p0, p1),
                (2, false) => gemm_panel::<V, 2, false>(c, a, b, &s, j0, p0, p1),
                (2, true) => gemm_panel::<V, 2, true>(c, a, b, &s, j0, p0, p1),
                _ => {}
            }
        }
        p0 = p1;
    }
}

/// One panel of [`gemm`]: columns `j0..j0 + N·LANES` (and, with `PART`, the partial vector up to
/// `s.cols`) of every row of `C`, over rows `p0..p1` of `B`; rows of `C` four at a time, then one
/// at a time.
///
/// # Safety
/// The CPU supports the ISA of `V`; `s` fits the slices; `j0 + N·LANES <= s.cols`, and with
/// `PART` the columns after them are fewer than `LANES`; `p0 < p1 <= s.depth`.
#[inline(always)]
unsafe fn gemm_panel<V: Vector, const N: usize, const PART: bool>(
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    s: &GemmShape,
    j0: usize,
    p0: usize,
    p1: usize,
) {
    let mut i = 0;
    while i + 4 <= s.rows {
        // SAFETY: rows `i..i + 4` are rows of `C`; the rest is the caller's promise.
        unsafe { gemm_block::<V, 4, N, PART>(c, a, b, s, i, j0, p0, p1) };
        i += 4;
    }
    while i < s.rows {
        // SAFETY: row `i` is a row of `C`; the rest is the caller's promise.
        unsafe { gemm_block::<V, 1, N, PART>(c, a, b, s, i, j0, p0, p1) };
        i += 1;
    }
}

/// `R` rows × (`N` vectors + the partial one with `PART`) of `C`, in registers across rows
/// `p0..p1` of `B`.
///
/// # Safety
/// As [`gemm_panel`], and `i0 + R <= s.rows`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_block<V: Vector, const R: usize, const N: usize, const PART: bool>(
    c: &mut [f32],
    a: &[f32],
    b: &[f32],
    s: &GemmShape,
    i0: usize,
    j0: usize,
    p0: usize,
    p1: usize,
) {
    let lanes = V::LANES;
    let (cols, tail_start) = (s.cols, j0 + N * lanes);
    // SAFETY: `C[i][j]` for `i < s.rows`, `j < cols` is at `i·cols + j < c.len()`, `B[p][j]` for
    // `p < s.depth` at `p·cols + j < b.len()`, and `A[i][p]` at `i·a_row + p·a_col < a.len()`
    // (`GemmShape::fit`); full loads and stores cover `j0 + v·LANES .. + LANES <= tail_start`,
    // partial ones `tail_start .. cols`; the caller promises the ISA.
    unsafe {
        let zero = V::splat(0.0);
        let mut acc = [[zero; N]; R];
        let mut acc_tail = [zero; R];
        for (r, (acc, acc_tail)) in acc.iter_mut().zip(&mut acc_tail).enumerate() {
            let row = (i0 + r) * cols;
            for (v, acc) in acc.iter_mut().enumerate() {
                *acc = V::load(c.get_unchecked(row + j0 + v * lanes..));
            }
            if PART {
                *acc_tail = V::load_partial(c.get_unchecked(row + tail_start..row + cols));
            }
        }
        for p in p0..p1 {
            let b_row = p * cols;
            let mut bv = [zero; N];
            for (v, bv) in bv.iter_mut().enumerate() {
                *bv = V::load(b.get_unchecked(b_row + j0 + v * lanes..));
            }
            let b_tail = if PART {
                V::load_partial(b.get_unchecked(b_row + tail_start..b_row + cols))
            } else {
                zero
            };
            for (r, (acc, acc_tail)) in acc.iter_mut().zip(&mut acc_tail).enumerate() {
                let x = V::splat(*a.get_unchecked((i0 + r) * s.a_row + p * s.a_col));
                for (acc, bv) in acc.iter_mut().zip(bv) {
                    *acc = bv.mul_add(x, *acc);
                }
                if PART {
                    *acc_tail = b_tail.mul_add(x, *acc_tail);
                }
            }
        }
        for (r, (acc, acc_tail)) in acc.iter().zip(acc_tail).enumerate() {
            let row = (i0 + r) * cols;
            for (v, acc) in acc.iter().enumerate() {
                acc.store(c.get_unchecked_mut(row + j0 + v * lanes..));
            }
            if PART {
                acc_tail.store_partial(c.get_unchecked_mut(row + tail_start..row + cols));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Element-wise operations.

/// `y[i] += alpha·x[i]`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn axpy<V: Vector>(alpha: f32, x: &[f32], y: &mut [f32]) {
    let (x, y) = common(x, y);
    let mut ys = y.chunks_exact_mut(V::LANES);
    let mut xs = x.chunks_exact(V::LANES);
    // SAFETY: the caller promises the ISA.
    let a = unsafe { V::splat(alpha) };
    for (y, x) in (&mut ys).zip(&mut xs) {
        // SAFETY: both chunks hold LANES floats; the caller promises the ISA.
        unsafe { V::load(x).mul_add(a, V::load(y)).store(y) };
    }
    let (y, x) = (ys.into_remainder(), xs.remainder());
    if !y.is_empty() {
        // SAFETY: partial loads take any length; the caller promises the ISA.
        unsafe {
            V::load_partial(x)
                .mul_add(a, V::load_partial(y))
                .store_partial(y)
        };
    }
}

/// `x[i] = clamp(x[i], -limit, limit)`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn clip<V: Vector>(x: &mut [f32], limit: f32) {
    let mut xs = x.chunks_exact_mut(V::LANES);
    // SAFETY: the caller promises the ISA.
    let (lo, hi) = unsafe { (V::splat(-limit), V::splat(limit)) };
    for c in &mut xs {
        // SAFETY: the chunk holds LANES floats; the caller promises the ISA.
        unsafe { V::min_of(hi, V::max_of(lo, V::load(c))).store(c) };
    }
    scalar::clip(xs.into_remainder(), limit);
}

/// `Σ x[i]²`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn sum_squares<V: Vector>(x: &[f32]) -> f32 {
    let mut xs = x.chunks_exact(2 * V::LANES);
    // SAFETY: every load reads a chunk of 2·LANES floats; the caller promises the ISA.
    unsafe {
        let mut acc = [V::splat(0.0); 2];
        for c in &mut xs {
            let (v0, v1) = (V::load(c), V::load(&c[V::LANES..]));
            acc[0] = v0.mul_add(v0, acc[0]);
            acc[1] = v1.mul_add(v1, acc[1]);
        }
        acc[0].add(acc[1]).sum() + scalar::sum_squares(xs.remainder())
    }
}

/// `x[i] *= factor`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn scale<V: Vector>(x: &mut [f32], factor: f32) {
    let mut xs = x.chunks_exact_mut(V::LANES);
    // SAFETY: the caller promises the ISA.
    let f = unsafe { V::splat(factor) };
    for c in &mut xs {
        // SAFETY: the chunk holds LANES floats; the caller promises the ISA.
        unsafe { V::load(c).mul(f).store(c) };
    }
    scalar::scale(xs.into_remainder(), factor);
}

/// `p -= lr·g`.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn sgd<V: Vector>(p: &mut [f32], g: &[f32], lr: f32) {
    // SAFETY: the caller promises the ISA.
    unsafe { axpy::<V>(-lr, g, p) };
}

/// `v = mu·v + g; p -= lr·v`.
///
/// The tail goes through the same vector arithmetic as the body (partial loads), so each
/// element's result does not depend on its position: a padded model trains bit-identically.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn momentum<V: Vector>(
    p: &mut [f32],
    g: &[f32],
    velocity: &mut [f32],
    lr: f32,
    mu: f32,
) {
    let n = p.len().min(g.len()).min(velocity.len());
    let (p, g, v) = (
        p.split_at_mut(n).0,
        g.split_at(n).0,
        velocity.split_at_mut(n).0,
    );
    let mut ps = p.chunks_exact_mut(V::LANES);
    let mut gs = g.chunks_exact(V::LANES);
    let mut vs = v.chunks_exact_mut(V::LANES);
    // SAFETY: the caller promises the ISA.
    let (lr_v, mu_v) = unsafe { (V::splat(-lr), V::splat(mu)) };
    for ((p, g), v) in (&mut ps).zip(&mut gs).zip(&mut vs) {
        // SAFETY: the chunks hold LANES floats; the caller promises the ISA.
        unsafe {
            let (p_new, v_new) = momentum_lanes(V::load(p), V::load(g), V::load(v), lr_v, mu_v);
            v_new.store(v);
            p_new.store(p);
        }
    }
    let (p, g, v) = (ps.into_remainder(), gs.remainder(), vs.into_remainder());
    if !p.is_empty() {
        // SAFETY: partial loads and stores take any length; the caller promises the ISA.
        unsafe {
            let (p_new, v_new) = momentum_lanes(
                V::load_partial(p),
                V::load_partial(g),
                V::load_partial(v),
                lr_v,
                mu_v,
            );
            v_new.store_partial(v);
            p_new.store_partial(p);
        }
    }
}

/// One vector of momentum SGD (`minus_lr` is `-lr`): returns the new parameters and velocity.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
unsafe fn momentum_lanes<V: Vector>(p: V, g: V, v: V, minus_lr: V, mu: V) -> (V, V) {
    // SAFETY: the caller promises the ISA.
    unsafe {
        let velocity = v.mul_add(mu, g);
        (velocity.mul_add(minus_lr, p), velocity)
    }
}

/// `mem += g²; p -= lr·g / sqrt(mem + eps)`.
///
/// The tail goes through the same vector arithmetic as the body (partial loads), so each
/// element's result does not depend on its position: a padded model trains bit-identically.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn adagrad<V: Vector>(
    p: &mut [f32],
    g: &[f32],
    mem: &mut [f32],
    lr: f32,
    eps: f32,
) {
    let n = p.len().min(g.len()).min(mem.len());
    let (p, g, mem) = (p.split_at_mut(n).0, g.split_at(n).0, mem.split_at_mut(n).0);
    let mut ps = p.chunks_exact_mut(V::LANES);
    let mut gs = g.chunks_exact(V::LANES);
    let mut ms = mem.chunks_exact_mut(V::LANES);
    // SAFETY: the caller promises the ISA.
    let (lr_v, eps_v) = unsafe { (V::splat(lr), V::splat(eps)) };
    for ((p, g), m) in (&mut ps).zip(&mut gs).zip(&mut ms) {
        // SAFETY: the chunks hold LANES floats; the caller promises the ISA.
        unsafe {
            let (p_new, m_new) = adagrad_lanes(V::load(p), V::load(g), V::load(m), lr_v, eps_v);
            m_new.store(m);
            p_new.store(p);
        }
    }
    let (p, g, m) = (ps.into_remainder(), gs.remainder(), ms.into_remainder());
    if !p.is_empty() {
        // SAFETY: partial loads and stores take any length; the caller promises the ISA.
        unsafe {
            let (p_new, m_new) = adagrad_lanes(
                V::load_partial(p),
                V::load_partial(g),
                V::load_partial(m),
                lr_v,
                eps_v,
            );
            m_new.store_partial(m);
            p_new.store_partial(p);
        }
    }
}

/// One vector of Adagrad: returns the new parameters and memory.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
unsafe fn adagrad_lanes<V: Vector>(p: V, g: V, m: V, lr: V, eps: V) -> (V, V) {
    // SAFETY: the caller promises the ISA.
    unsafe {
        let mem = g.mul_add(g, m);
        let step = lr.mul(g).mul(mem.add(eps).rsqrt());
        (p.sub(step), mem)
    }
}

/// Clip then Adagrad in one pass: `g = clamp(g, ±limit)` (written back), then [`adagrad`].
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn adagrad_clip<V: Vector>(
    p: &mut [f32],
    g: &mut [f32],
    mem: &mut [f32],
    lr: f32,
    eps: f32,
    limit: f32,
) {
    let n = p.len().min(g.len()).min(mem.len());
    let (p, g, mem) = (
        p.split_at_mut(n).0,
        g.split_at_mut(n).0,
        mem.split_at_mut(n).0,
    );
    let mut ps = p.chunks_exact_mut(V::LANES);
    let mut gs = g.chunks_exact_mut(V::LANES);
    let mut ms = mem.chunks_exact_mut(V::LANES);
    // SAFETY: the caller promises the ISA.
    let (lr_v, eps_v, lo, hi) = unsafe {
        (
            V::splat(lr),
            V::splat(eps),
            V::splat(-limit),
            V::splat(limit),
        )
    };
    for ((p, gc), m) in (&mut ps).zip(&mut gs).zip(&mut ms) {
        // SAFETY: the chunks hold LANES floats; the caller promises the ISA.
        unsafe {
            let g = V::min_of(hi, V::max_of(lo, V::load(gc)));
            g.store(gc);
            let (p_new, m_new) = adagrad_lanes(V::load(p), g, V::load(m), lr_v, eps_v);
            m_new.store(m);
            p_new.store(p);
        }
    }
    let (p, gc, m) = (
        ps.into_remainder(),
        gs.into_remainder(),
        ms.into_remainder(),
    );
    if !p.is_empty() {
        // SAFETY: partial loads and stores take any length; the caller promises the ISA.
        unsafe {
            let g = V::min_of(hi, V::max_of(lo, V::load_partial(gc)));
            g.store_partial(gc);
            let (p_new, m_new) =
                adagrad_lanes(V::load_partial(p), g, V::load_partial(m), lr_v, eps_v);
            m_new.store_partial(m);
            p_new.store_partial(p);
        }
    }
}

/// `m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; p -= lr·m / (sqrt(v) + eps)`.
///
/// The tail goes through the same vector arithmetic as the body (partial loads), so each
/// element's result does not depend on its position: a padded model trains bit-identically.
///
/// # Safety
/// The CPU supports the ISA of `V`.
#[inline(always)]
pub(crate) unsafe fn adam<V: Vector>(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    step: &AdamStep,
) {
    let n = p.len().min(g.len()).min(m.len()).min(v.len());
    let (p, g, m, v) = (
        p.split_at_mut(n).0,
        g.split_at(n).0,
        m.split_at_mut(n).0,
        v.split_at_mut(n).0,
    );
    let mut ps = p.chunks_exact_mut(V::LANES);
    let mut gs = g.chunks_exact(V::LANES);
    let mut mss = m.chunks_exact_mut(V::LANES);
    let mut vs = v.chunks_exact_mut(V::LANES);
    // SAFETY: the caller promises the ISA.
    let consts = unsafe { AdamLanes::<V>::new(step) };
    for (((p, g), mc), vc) in (&mut ps).zip(&mut gs).zip(&mut mss).zip(&mut vs) {
        // SAFETY: the chunks hold LANES floats; the caller promises the ISA.
        unsafe {
            let (p_new, m_new, v_new) =
                consts.update(V::load(p), V::load(g), V::load(mc), V::load(vc));
            m_new.store(mc);
            v_new.store(vc);
            p_new.store(p);
        }
    }
    let (p, g) = (ps.into_remainder(), gs.remainder());
    let (mc, vc) = (mss.into_remainder(), vs.into_remainder());
    if !p.is_empty() {
        // SAFETY: partial loads and stores take any length; the caller promises the ISA.
        unsafe {
            let (p_new, m_new, v_new) = consts.update(
                V::load_partial(p),
                V::load_partial(g),
                V::load_partial(mc),
                V::load_partial(vc),
            );
            m_new.store_partial(mc);
            v_new.store_partial(vc);
            p_new.store_partial(p);
        }
    }
}

/// The hyper-parameters of one Adam update, splat into vectors.
#[derive(Clone, Copy)]
struct AdamLanes<V> {
    beta1: V,
    one_minus_beta1: V,
    beta2: V,
    one_minus_beta2: V,
    lr: V,
    eps: V,
}

impl<V: Vector> AdamLanes<V> {
    /// # Safety
    /// The CPU supports the ISA of `V`.
    #[inline(always)]
    unsafe fn new(step: &AdamStep) -> Self {
        // SAFETY: the caller promises the ISA.
        unsafe {
            Self {
                beta1: V::splat(step.beta1),
                one_minus_beta1: V::splat(1.0 - step.beta1),
                beta2: V::splat(step.beta2),
                one_minus_beta2: V::splat(1.0 - step.beta2),
                lr: V::splat(step.lr),
                eps: V::splat(step.eps),
            }
        }
    }

    /// One vector of Adam: returns the new parameters and moments. The same operations in the
    /// same order as the scalar reference (no fused multiply-adds).
    ///
    /// # Safety
    /// The CPU supports the ISA of `V`.
    #[inline(always)]
    unsafe fn update(self, p: V, g: V, m: V, v: V) -> (V, V, V) {
        // SAFETY: the caller promises the ISA.
        unsafe {
            let m = self.beta1.mul(m).add(self.one_minus_beta1.mul(g));
            let v = self.beta2.mul(v).add(self.one_minus_beta2.mul(g).mul(g));
            let step = self.lr.mul(m).div(v.sqrt().add(self.eps));
            (p.sub(step), m, v)
        }
    }
}
