//! Numeric kernels: the only place in the crate where speed is bought with `unsafe`.
//!
//! Every operation the model needs is a function over slices. The [`scalar`] module is the
//! specification: plain Rust, always built, used on every target without SIMD. The ISA modules
//! (`x86` for SSE2, AVX2+FMA and AVX-512F, `aarch64` for NEON) are optimizations that the test
//! suite holds against it, over odd lengths and random data.
//!
//! The variants are bundled as [`Kernels`] tables of function pointers. [`active`] picks the
//! table once: at compile time from `target_feature` without `std`, and on x86_64 with `std` at
//! run time (the widest the CPU has). The `force-scalar` feature makes [`active`] always
//! return [`SCALAR`].
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

/// The kernel table this build and CPU use: [`SCALAR`] with the `force-scalar` feature;
/// otherwise on x86_64 AVX-512F, else AVX2+FMA, else SSE2, whichever the CPU has first (checked
/// once at run time with `std`, from `target_feature` without); NEON on aarch64;
/// [`portable::KERNELS`] (scalar with a rational tanh) elsewhere.
///
/// On x86_64 with `std`, the environment variable `MICRORNN_KERNELS=sse2` or `=avx2+fma`
/// selects that slower table instead (read once, on the first call), for comparing them.
#[inline]
pub fn active() -> &'static Kernels {
    #[cfg(feature = "force-scalar")]
    {
        &SCALAR
    }
    #[cfg(all(not(feature = "force-scalar"), target_arch = "x86_64"))]
    {
        x86_active()
    }
    #[cfg(all(
        not(feature = "force-scalar"),
        target_arch = "aarch64",
        target_feature = "neon"
    ))]
    {
        &aarch64::NEON
    }
    #[cfg(all(
        not(feature = "force-scalar"),
        not(target_arch = "x86_64"),
        not(all(target_arch = "aarch64", target_feature = "neon"))
    ))]
    {
        &portable::KERNELS
    }
}

/// The x86_64 tables, slowest first; [`x86_best`] returns an index into it.
#[cfg(all(not(feature = "force-scalar"), target_arch = "x86_64"))]
static X86_TABLES: [&Kernels; 3] = [&x86::SSE2, &x86::AVX2, &x86::AVX512];

/// The best x86_64 table, decided once and cached in an atomic (one relaxed load per call).
#[cfg(all(not(feature = "force-scalar"), target_arch = "x86_64"))]
#[inline]
fn x86_active() -> &'static Kernels {
    #[cfg(feature = "std")]
    {
        use core::sync::atomic::{AtomicU8, Ordering};
        // 0: not decided yet, else 1 + the index into X86_TABLES.
        static CHOICE: AtomicU8 = AtomicU8::new(0);
        let choice = match CHOICE.load(Ordering::Relaxed) {
            0 => {
                let best = x86_best();
                CHOICE.store(best as u8 + 1, Ordering::Relaxed);
                best
            }
            cached => usize::from(cached - 1),
        };
        X86_TABLES.get(choice).copied().unwrap_or(&x86::SSE2)
    }
    #[cfg(not(feature = "std"))]
    {
        X86_TABLES.get(x86_best()).copied().unwrap_or(&x86::SSE2)
    }
}

/// The index in [`X86_TABLES`] of the fastest table this CPU runs. With `std`, the environment
/// variable `MICRORNN_KERNELS` (`sse2`, `avx2+fma` or `avx512f`) picks a slower table instead,
/// for comparing them; a name the CPU cannot run is ignored.
#[cfg(all(not(feature = "force-scalar"), target_arch = "x86_64"))]
fn x86_best() -> usize {
    #[cfg(feature = "std")]
    match std::env::var("MICRORNN_KERNELS").as_deref() {
        Ok("sse2") => return 0,
        Ok("avx2+fma") if x86::has_avx2_fma() => return 1,
        _ => {}
    }
    if x86::has_avx512f() {
        2
    } else if x86::has_avx2_fma() {
        1
    } else {
        0
    }
}

/// Every kernel table this build contains and this CPU can run, scalar first.
///
/// Lists the SIMD tables even with `force-scalar` (so their tests still run); tables whose
/// instructions the CPU lacks are never listed.
pub fn variants() -> impl Iterator<Item = &'static Kernels> {
    let scalar: Option<&'static Kernels> = Some(&SCALAR);
    #[cfg(target_arch = "x86_64")]
    let simd = [
        Some(&x86::SSE2),
        x86::has_avx2_fma().then_some(&x86::AVX2),
        x86::has_avx512f().then_some(&x86::AVX512),
    ];
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    let simd = [Some(&aarch64::NEON), None, None];
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", target_feature = "neon")
    )))]
    let simd: [Option<&'static Kernels>; 3] = [None, None, None];
    core::iter::once(scalar)
        .chain([Some(&portable::KERNELS)])
        .chain(simd)
        .flatten()
}

/// Names of every kernel table this build contains, including those this CPU cannot run (the
/// test harness reports those as skipped).
pub fn compiled_variants() -> &'static [&'static str] {
    #[cfg(target_arch = "x86_64")]
    {
        &["scalar", "portable", "sse2", "avx2+fma", "avx512f"]
    }
    #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
    {
        &["scalar", "portable", "neon"]
    }
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "aarch64", target_feature = "neon")
    )))]
    {
        &["scalar", "portable"]
    }
}

#[cfg(test)]
mod tests;
