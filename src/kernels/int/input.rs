//! Dense inputs in integers: a normalized f32 sample value as a Q12 `i16` (`x · 2^12`, rounded,
//! saturated to ±8 standard deviations), the form in which a sensor sample meets the int8 input
//! weights through [`matvec_requant`](super::matvec_requant).

/// `round(x · 2^12)` saturated to `[-32767, 32767]` (±8.0); NaN becomes 0. Every target
/// computes the same integer (one IEEE f32 multiply, exact; the rounding is done on it).
///
/// ```
/// use micrornn::kernels::int::quantize_q12;
/// assert_eq!(quantize_q12(1.0), 4096);
/// assert_eq!(quantize_q12(-0.5), -2048);
/// assert_eq!(quantize_q12(100.0), 32767);
/// assert_eq!(quantize_q12(f32::NAN), 0);
/// ```
#[inline]
pub fn quantize_q12(x: f32) -> i16 {
    // x · 4096 is exact in f32 (a power of two), and 32767.5 bounds are representable; adding
    // ±0.5 and truncating rounds half away from zero. `as` saturates and maps NaN to 0.
    let scaled = (x * 4096.0).clamp(-32767.0, 32767.0);
    let rounded = if scaled < 0.0 {
        scaled - 0.5
    } else {
        scaled + 0.5
    };
    rounded as i16
}
