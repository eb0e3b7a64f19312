//! Integer tanh: a Q12 pre-activation in, a Q15 activation out, by table and linear
//! interpolation.
//!
//! The table holds `round(2^15 · tanh(i / 64))` for `i = 0..=512` (the inputs `0, 1/64, …, 8`),
//! clamped to 32767 (and one more entry, 32767, read only with a fraction 0): 1,028 bytes of flash, computed at compile time in `f64`. An input `x`
//! (Q12) is split into `|x| = 64·i + f`; the output is `T[i] + round((T[i+1] − T[i])·f / 64)`,
//! with the sign of `x` (tanh is odd, and so is this). Past `|x| ≥ 8` (`2^15` in Q12) the output
//! is 32767 (`tanh(8)·2^15` = 32767.99).
//!
//! On ARMv7E-M the same table is stored as pairs (`T[i]`, `T[i+1] − T[i]`) in one word per
//! segment (2,052 bytes instead of 1,028), for an interpolation by one load and one `SMLAD`
//! (`kernels::int::elman`); the outputs are the same for every input (tested).
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
static TABLE: [i16; SEGMENTS + 2] = table();

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

/// The table as pairs for the DSP path: entry `i` is `T[i]` in the top halfword and
/// `T[i+1] − T[i]` in the bottom one, for `i = 0..=512`, so one word load and one `SMLAD` with
/// `(64 << 16) | f` give `64·T[i] + (T[i+1] − T[i])·f` (2,052 bytes of flash; the `i16`
/// table is then not linked on ARMv7E-M).
pub(super) static PAIRS: [u32; SEGMENTS + 1] = pairs();

const fn pairs() -> [u32; SEGMENTS + 1] {
    let t = table();
    let mut p = [0u32; SEGMENTS + 1];
    let mut i = 0;
    while i <= SEGMENTS {
        let lo = t[i] as i32;
        let d = t[i + 1] as i32 - lo;
        p[i] = ((lo as u32) << 16) | (d as u16 as u32);
        i += 1;
    }
    p
}

/// [`tanh_q15`] on a clamped input `s` in `[-2^15, 2^15 - 1]` with the [`PAIRS`] table, the
/// form of the `SMLAD` kernel (`kernels::int::elman`): `|s| = 64·i + f`, `y = (SMLAD(P[i],
/// (64 << 16) | f) + 32) >> 6`, the sign put back. Equal to [`tanh_q15`] for every input
/// (`64·T[i] + d·f + 32 >> 6 = T[i] + (d·f + 32 >> 6)`, tested).
#[inline]
pub(super) fn tanh_q15_pairs(s: i32) -> i16 {
    let sign = s >> 31;
    let magnitude = (s ^ sign).wrapping_sub(sign) as u32;
    let pair = PAIRS
        .get((magnitude >> STEP_SHIFT) as usize)
        .copied()
        .unwrap_or(0x7fff_0000);
    let f = (magnitude & ((1 << STEP_SHIFT) - 1)) as i32;
    let y = (i32::from((pair >> 16) as i16) * STEPS_PER_UNIT
        + i32::from(pair as i16) * f
        + (1 << (STEP_SHIFT - 1)))
        >> STEP_SHIFT;
    ((y ^ sign) - sign) as i16
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
    if cfg!(micrornn_dsp) {
        tanh_q15_pairs(clamped)
    } else {
        tanh_q15_halfwords(clamped)
    }
}

/// [`tanh_q15`] on a clamped input `s` in `[-2^15, 2^15 - 1]` with the `i16` table: the
/// specification's form.
#[inline]
fn tanh_q15_halfwords(s: i32) -> i16 {
    let sign = s >> 31;
    let magnitude = s.unsigned_abs();
    let index = (magnitude >> STEP_SHIFT) as usize;
    let f = (magnitude & ((1 << STEP_SHIFT) - 1)) as i32;
    let lo = i32::from(TABLE.get(index).copied().unwrap_or(i16::MAX));
    let hi = i32::from(TABLE.get(index + 1).copied().unwrap_or(i16::MAX));
    let y = lo + (((hi - lo) * f + (1 << (STEP_SHIFT - 1))) >> STEP_SHIFT);
    ((y ^ sign) - sign) as i16
}

#[cfg(test)]
mod tests {
    use super::{SEGMENTS, TABLE, tanh_q15, tanh_q15_halfwords, tanh_q15_pairs};

    /// The clamp to `2^15 - 1` relies on the last two table entries being equal.
    #[test]
    fn the_table_is_flat_where_the_input_is_clamped() {
        assert_eq!(TABLE[SEGMENTS - 1], i16::MAX);
        assert_eq!(TABLE[SEGMENTS], i16::MAX);
        assert_eq!(TABLE[SEGMENTS + 1], i16::MAX);
    }

    /// The pair table's `SMLAD` form equals the halfword table's form for every clamped input.
    #[test]
    fn the_pair_table_form_equals_the_halfword_form() {
        for s in -(1 << 15)..(1 << 15) {
            assert_eq!(tanh_q15_pairs(s), tanh_q15_halfwords(s), "s = {s}");
        }
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
