//! Numeric kernels: the only place in the crate where speed is bought with `unsafe`.
//!
//! Every operation the model needs is a function over slices. The [`scalar`] module is the
//! specification: plain Rust, always built, used on every target without SIMD. The ISA modules
//! (`x86` for SSE2, AVX2+FMA and AVX-512F, `aarch64` for NEON) are optimizations that the test
//! suite holds against it, over odd lengths and random data.
//!
//! The variants are bundled as [`Kernels`] tables of function pointers. [`active`] is the table
//! in use: without `std` the one chosen at compile time from `target_feature`; with `std` the
//! widest the CPU has (detected once, at run time), unless [`select`] chose another by name (the
//! host layer's `MICRORNN_KERNELS` does, for comparing tables). The `force-scalar` feature
//! makes [`SCALAR`] the default choice.
//!
//! Matrices are flat row-major slices: `w[r * cols + c]`. The number of rows and columns is
//! implied by the vector lengths, as documented on each field. Slices of mismatched lengths never
//! cause a panic or an out-of-bounds access; the kernels then work on the overlapping part only
//! (the typed [`crate::Rnn`] shell makes mismatches impossible).

#[cfg(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_feature = "neon")
))]
#[macro_use]
mod vector;
#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
mod aarch64;
mod choice;
pub mod int;
pub(crate) mod math;
pub mod portable;
pub mod scalar;
#[cfg(target_arch = "x86_64")]
mod x86;

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

pub use choice::{Unavailable, active, compiled_variants, select, variants};

/// The shape of one [`Kernels::gemm`]: `C (rows × cols) += A (rows × depth) · B (depth ×
/// cols)`, with `C` and `B` row-major (`c[i·cols + j]`, `b[p·cols + j]`) and `A` read through
/// strides, `A[i][p] = a[i·a_row + p·a_col]`: `a_row = depth, a_col = 1` is a row-major `A`,
/// `a_row = 1, a_col = rows` is the transpose of a row-major `depth × rows` matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GemmShape {
    /// Rows of `C` and `A`.
    pub rows: usize,
    /// Columns of `A`, rows of `B`: the length of each sum.
    pub depth: usize,
    /// Columns of `C` and `B`.
    pub cols: usize,
    /// Distance in `a` between `A[i][p]` and `A[i + 1][p]`.
    pub a_row: usize,
    /// Distance in `a` between `A[i][p]` and `A[i][p + 1]`.
    pub a_col: usize,
}

impl GemmShape {
    /// The shape cut to what the slices hold: `rows` to the rows of `c`, `depth` to the rows of
    /// `b`; `None` (compute nothing) for an empty product or an `a` too short for the cut shape.
    pub fn fit(&self, c_len: usize, a_len: usize, b_len: usize) -> Option<Self> {
        if self.cols == 0 {
            return None;
        }
        let rows = self.rows.min(c_len / self.cols);
        let depth = self.depth.min(b_len / self.cols);
        if rows == 0 || depth == 0 {
            return None;
        }
        let last = (rows - 1)
            .checked_mul(self.a_row)?
            .checked_add((depth - 1).checked_mul(self.a_col)?)?;
        (last < a_len).then_some(Self {
            rows,
            depth,
            ..*self
        })
    }
}

/// Signature of [`Kernels::gemm`]: `(c, a, b, shape)`.
pub type GemmFn = fn(c: &mut [f32], a: &[f32], b: &[f32], shape: &GemmShape);

/// Signature of [`Kernels::matvec`]: `(w, x, b, y)`.
pub type MatvecFn = fn(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32]);
/// Signature of [`Kernels::adagrad_clip`]: `(p, g, mem, lr, eps, limit)`.
pub type AdagradClipFn =
    fn(p: &mut [f32], g: &mut [f32], mem: &mut [f32], lr: f32, eps: f32, limit: f32);
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
    /// `w[r·cols + c] += Σ_t a[t·rows + r]·b[t·cols + c]` (`W += Aᵀ·B`, the sum of `k` rank-1
    /// updates `a_t·b_tᵀ`) with `k = min(a.len() / rows, b.len() / cols)`; `w` has `rows` rows.
    pub rank_k: fn(w: &mut [f32], a: &[f32], b: &[f32], rows: usize, cols: usize),
    /// `w[r·cols + c] = Σ_t a[t·rows + r]·b[t·cols + c]` (`W = Aᵀ·B`): as [`Kernels::rank_k`]
    /// onto the first `rows` rows of `w` zeroed (all-zero rows for `k = 0`), bit for bit, without
    /// reading `w`.
    pub rank_k_set: fn(w: &mut [f32], a: &[f32], b: &[f32], rows: usize, cols: usize),
    /// `C += A·B` (a matrix–matrix product, see [`GemmShape`]): each `C[i][j]` adds
    /// `A[i][p]·B[p][j]` for `p = 0, 1, …` in order. The shape is first cut by
    /// [`GemmShape::fit`]; with `None`, `c` is left unchanged. The batched training pass is
    /// made of these (`W·[h_1…h_B]`, `Wᵀ·[d_1…d_B]`, `Σ d·hᵀ`).
    pub gemm: GemmFn,
    /// `y[i] += alpha·x[i]`.
    pub axpy: fn(alpha: f32, x: &[f32], y: &mut [f32]),
    /// `x[i] = tanh(x[i])`, within [`TANH_MAX_ERROR`] of libm's `tanhf`.
    pub tanh: fn(x: &mut [f32]),
    /// `x[i] = σ(x[i]) = 1 / (1 + exp(-x[i]))`, within [`SIGMOID_MAX_ERROR`] of the same
    /// formula with libm's `expf` (the GRU's gates).
    pub sigmoid: fn(x: &mut [f32]),
    /// `out[i] = exp((x[i] - shift)·scale)` over the common length, within [`EXP_MAX_REL_ERROR`]
    /// of libm's `expf` of the same argument (relative) for arguments in `[-87, 88]`; SIMD
    /// variants flush results under `2⁻¹²⁶` to 0 and saturate above 88.3. Returns the sum of the
    /// results (the total weight of a categorical draw).
    pub exp: fn(x: &[f32], out: &mut [f32], shift: f32, scale: f32) -> f32,
    /// `y[i] = tanh(y[i] + x[i])`, within [`TANH_MAX_ERROR`] of libm's `tanhf` of the sum.
    pub add_tanh: fn(x: &[f32], y: &mut [f32]),
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
    /// Adagrad: `mem += g²; p -= lr·g / sqrt(mem + eps)` (the notebooks' form); the SIMD
    /// variants' step is within [`RSQRT_MAX_REL_ERROR`] of it (relative).
    pub adagrad: fn(p: &mut [f32], g: &[f32], mem: &mut [f32], lr: f32, eps: f32),
    /// Clip then Adagrad in one pass: `g = clamp(g, -limit, limit)` (written back to `g`), then
    /// as [`Kernels::adagrad`].
    pub adagrad_clip: AdagradClipFn,
    /// Adam: `m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; p -= lr·m / (sqrt(v) + eps)`.
    pub adam: AdamFn,
}

impl core::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Kernels").field("name", &self.name).finish()
    }
}

/// Largest absolute difference between [`Kernels::tanh`] of any variant and libm's `tanhf`,
/// over all `f32` inputs (tested over a dense grid, 0, ±tiny, ±large, ±inf; NaN stays NaN).
pub const TANH_MAX_ERROR: f32 = 5e-7;

/// Largest absolute difference between [`Kernels::sigmoid`] of any variant and `1 / (1 +
/// expf(-x))`, over all `f32` inputs. The SIMD and portable variants compute `σ(x) = 0.5 +
/// 0.5·tanh(x / 2)` with their `tanh`, so half of [`TANH_MAX_ERROR`] plus the rounding of the
/// affine step bounds it.
pub const SIGMOID_MAX_ERROR: f32 = 3e-7;

/// Largest relative difference between [`Kernels::exp`] of any variant (and the exponentials
/// inside [`Kernels::softmax`]) and libm's `expf`, for `x` in `[-87, 88]`. Below, results under
/// `2⁻¹²⁶` may flush to 0; above 88.3 the SIMD variants saturate at `exp(88.3)`.
pub const EXP_MAX_REL_ERROR: f32 = 3e-7;

/// Largest difference between [`Kernels::softmax`] of any variant and the scalar reference:
/// each probability within `SOFTMAX_MAX_ERROR` relative (plus `1e-30` absolute, for
/// probabilities that underflow), the returned `log Σ exp` within `SOFTMAX_MAX_ERROR` relative
/// to `max(1, |log Σ exp|)`.
pub const SOFTMAX_MAX_ERROR: f32 = 2e-6;

/// Largest relative difference between the step `lr·g / sqrt(mem + eps)` of the SIMD
/// [`Kernels::adagrad`] / [`Kernels::adagrad_clip`] (which use a refined reciprocal-root
/// estimate instead of a root and a division) and the scalar reference's.
pub const RSQRT_MAX_REL_ERROR: f32 = 5e-7;

/// The scalar reference kernels: the specification every other variant is tested against.
pub const SCALAR: Kernels = scalar::KERNELS;

#[cfg(test)]
mod tests;
