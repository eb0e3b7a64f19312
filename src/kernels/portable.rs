//! Kernels for targets without SIMD (microcontrollers, RISC-V): the scalar reference, except
//! that `tanh` (and `sigmoid`, through it) is the rational approximation the SIMD variants use
//! instead of libm's `tanhf`.
//!
//! libm's `tanhf` goes through `expm1f`; the [13/6] rational form below needs no exponential
//! (the README has the cost of each on a Cortex-M4F), and is within [`super::TANH_MAX_ERROR`]
//! of `tanhf` (the kernel harness holds this table against [`super::SCALAR`] like every other
//! variant).

use super::{Kernels, scalar};

/// Clamp of the tanh approximation: beyond it `tanh` rounds to ±1 in `f32`.
pub(super) const TANH_CLAMP: f32 = 7.905_311;
/// Numerator coefficients (in `x²`, highest degree first) of the odd [13/6] rational `tanh`
/// (the form Eigen and tract use).
#[allow(clippy::excessive_precision)] // the published coefficients, rounded by the compiler
pub(super) const TANH_P: [f32; 7] = [
    -2.760_768_5e-16,
    2.000_187_9e-13,
    -8.604_671_5e-11,
    5.122_297e-8,
    1.485_722_4e-5,
    6.372_619_3e-4,
    4.893_524_6e-3,
];
/// Denominator coefficients (in `x²`, highest degree first).
pub(super) const TANH_Q: [f32; 4] = [1.198_258_4e-6, 1.185_347_1e-4, 2.268_434_6e-3, 4.893_525e-3];

/// The portable kernel table: [`scalar::KERNELS`] with the rational `tanh`.
pub const KERNELS: Kernels = Kernels {
    name: "portable",
    tanh,
    sigmoid,
    add_tanh,
    ..scalar::KERNELS
};

/// `tanh(x)` by the rational approximation: ±1 beyond `±TANH_CLAMP`, NaN for NaN.
#[inline]
pub fn tanh_rational(x: f32) -> f32 {
    if x.is_nan() {
        return x;
    }
    let x = x.clamp(-TANH_CLAMP, TANH_CLAMP);
    let x2 = x * x;
    let p = TANH_P.iter().fold(0.0, |p, &c| p * x2 + c);
    let q = TANH_Q.iter().fold(0.0, |q, &c| q * x2 + c);
    // Dividing before multiplying by `x` keeps tiny inputs out of the subnormal range.
    p / q * x
}

/// `x[i] = tanh(x[i])`.
pub fn tanh(x: &mut [f32]) {
    x.iter_mut().for_each(|x| *x = tanh_rational(*x));
}

/// `x[i] = σ(x[i]) = 0.5 + 0.5·tanh(x[i] / 2)`, with the rational `tanh`.
pub fn sigmoid(x: &mut [f32]) {
    x.iter_mut()
        .for_each(|x| *x = 0.5 * tanh_rational(0.5 * *x) + 0.5);
}

/// `y[i] = tanh(y[i] + x[i])`.
pub fn add_tanh(x: &[f32], y: &mut [f32]) {
    y.iter_mut()
        .zip(x)
        .for_each(|(y, x)| *y = tanh_rational(*y + x));
}
