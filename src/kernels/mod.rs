//! Numeric kernels: the only place in the crate where speed is bought with `unsafe`.
//!
//! Every operation the model needs is a function over slices. The [`scalar`] module is the
//! specification: plain Rust, always built, used on every target without SIMD. The ISA modules
//! (`x86` for SSE2 and AVX2+FMA, `aarch64` for NEON) are optimizations that the test suite holds
//! against it, over odd lengths and random data.
//!
//! The variants are bundled as [`Kernels`] tables of function pointers. [`active`] picks the
//! table once: at compile time from `target_feature` without `std`, and on x86_64 with `std` at
//! run time (AVX2+FMA when the CPU has it). The `force-scalar` feature makes [`active`] always
//! return [`SCALAR`].
//!
//! Matrices are flat row-major slices: `w[r * cols + c]`. The number of rows and columns is
//! implied by the vector lengths, as documented on each field. Slices of mismatched lengths never
//! cause a panic or an out-of-bounds access; the kernels then work on the overlapping part only
//! (the typed [`crate::Rnn`] shell makes mismatches impossible).

pub mod scalar;

/// Hyper-parameters of one Adam update, with the bias correction of the current step folded into
/// `lr` by the caller.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Step size, already multiplied by `sqrt(1 - beta2^t) / (1 - beta1^t)`.
    pub lr: f32,
    /// Decay of the first moment.
    pub beta1: f32,
    /// Decay of the second moment.
    pub beta2: f32,
    /// Added to the root of the second moment.
    pub eps: f32,
}

/// Signature of [`Kernels::matvec`]: `(w, x, b, y)`.
pub type MatvecFn = fn(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32]);
/// Signature of [`Kernels::adam`]: `(p, g, m, v, step)`.
pub type AdamFn = fn(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], step: &AdamStep);

/// One instruction set's implementation of every kernel.
///
/// The function pointers are safe to call: a table whose instructions the CPU lacks is never
/// handed out (see [`variants`]).
#[derive(Clone, Copy)]
pub struct Kernels {
    /// Name of the instruction set, for test and bench output.
    pub name: &'static str,
    /// `y[r] = b[r] + Σ_c w[r·cols + c]·x[c]` with `rows = y.len()`, `cols = x.len()`.
    pub matvec: MatvecFn,
    /// `y[c] += Σ_r w[r·cols + c]·x[r]` (accumulates `Wᵀ·x`) with `rows = x.len()`, `cols = y.len()`.
    pub matvec_t: fn(w: &[f32], x: &[f32], y: &mut [f32]),
    /// `w[r·cols + c] += a[r]·b[c]` (rank-1 update `W += a·bᵀ`) with `rows = a.len()`, `cols = b.len()`.
    pub rank1: fn(w: &mut [f32], a: &[f32], b: &[f32]),
    /// `y[i] += alpha·x[i]`.
    pub axpy: fn(alpha: f32, x: &[f32], y: &mut [f32]),
    /// `x[i] = tanh(x[i])`, within [`TANH_MAX_ERROR`] of libm's `tanhf`.
    pub tanh: fn(x: &mut [f32]),
    /// `dh[i] *= 1 - h[i]²`: back-propagation through `h = tanh(a)`.
    pub tanh_backward: fn(h: &[f32], dh: &mut [f32]),
    /// `probs = softmax(logits)` (max subtracted first); returns `log Σ exp(logits)`.
    /// Returns `-inf` and leaves `probs` untouched for empty input.
    pub softmax: fn(logits: &[f32], probs: &mut [f32]) -> f32,
    /// `x[i] = clamp(x[i], -limit, limit)`.
    pub clip: fn(x: &mut [f32], limit: f32),
    /// `Σ x[i]²`.
    pub sum_squares: fn(x: &[f32]) -> f32,
    /// `x[i] *= factor`.
    pub scale: fn(x: &mut [f32], factor: f32),
    /// SGD: `p -= lr·g`.
    pub sgd: fn(p: &mut [f32], g: &[f32], lr: f32),
    /// SGD with momentum: `v = mu·v + g; p -= lr·v`.
    pub momentum: fn(p: &mut [f32], g: &[f32], velocity: &mut [f32], lr: f32, mu: f32),
    /// Adagrad: `mem += g²; p -= lr·g / sqrt(mem + eps)` (the notebooks' form).
    pub adagrad: fn(p: &mut [f32], g: &[f32], mem: &mut [f32], lr: f32, eps: f32),
    /// Adam: `m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; p -= lr·m / (sqrt(v) + eps)`.
    pub adam: AdamFn,
}

impl core::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Kernels").field("name", &self.name).finish()
    }
}

/// Largest absolute difference between [`Kernels::tanh`] of any variant and libm's `tanhf`,
/// over all finite `f32` inputs (tested exhaustively over a dense grid in the kernel tests).
pub const TANH_MAX_ERROR: f32 = 2e-6;

/// The scalar reference kernels: the specification every other variant is tested against.
pub const SCALAR: Kernels = scalar::KERNELS;

/// The kernel table this build and CPU use.
#[inline]
pub fn active() -> &'static Kernels {
    &SCALAR
}

/// Every kernel table this build contains and this CPU can run, scalar first.
pub fn variants() -> impl Iterator<Item = &'static Kernels> {
    [Some(&SCALAR)].into_iter().flatten()
}
