//! Scalar integer reference kernels: the specification of the integer path.
//!
//! Iterators only, so no index can go out of bounds; every operation that could overflow is
//! either bounded by [`MAX_COLS`](super::MAX_COLS) or saturates.

/// `Σ w[i]·x[i]` over the common length, accumulated in `i32`.
///
/// Exact (cannot overflow) for up to [`MAX_COLS`](super::MAX_COLS) terms.
#[inline]
pub fn dot(w: &[i8], x: &[i16]) -> i32 {
    w.iter().zip(x).fold(0i32, |acc, (&w, &x)| {
        acc.wrapping_add(i32::from(w) * i32::from(x))
    })
}

/// `round(acc · multiplier / 2^32)`: a dot product rescaled by a fixed-point multiplier
/// (rounding half up). The result is below `2^30` in magnitude, so the caller's sums of a few
/// such terms can saturate instead of wrap.
#[inline]
pub fn requantize(acc: i32, multiplier: i32) -> i32 {
    let product = i64::from(acc) * i64::from(multiplier);
    ((product + (1i64 << 31)) >> 32) as i32
}

/// `x` clamped to the `i16` range (saturation, never wraparound).
#[inline]
pub fn saturate_i16(x: i32) -> i16 {
    x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// `out[r] = requantize(dot(row r of w, x), multipliers[r])`, `cols = x.len()`.
pub fn matvec_requant(w: &[i8], x: &[i16], multipliers: &[i32], out: &mut [i32]) {
    let cols = x.len();
    if cols == 0 {
        out.iter_mut()
            .zip(multipliers)
            .for_each(|(out, &m)| *out = requantize(0, m));
        return;
    }
    for ((out, row), &m) in out.iter_mut().zip(w.chunks_exact(cols)).zip(multipliers) {
        *out = requantize(dot(row, x), m);
    }
}

/// Index of the largest value (the first of equals); 0 for an empty slice.
pub fn argmax_i16(values: &[i16]) -> usize {
    let mut best = 0;
    let mut best_value = i16::MIN;
    for (i, &v) in values.iter().enumerate() {
        if i == 0 || v > best_value {
            best = i;
            best_value = v;
        }
    }
    best
}
