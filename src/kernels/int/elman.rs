//! The quantized Elman update in place, every unit's work fused into the kernel:
//!
//! ```text
//! h[j] = tanh_q15(sat(sat(requantize(Σ_k w[j][k]·h_old[k], multipliers[j]) + biases[j]) + x_j))
//!  x_j = (input_row[j]·m + 2^7) >> 8,  m = input_multiplier clamped to ±INPUT_MULTIPLIER_LIMIT
//! ```
//!
//! what [`QRnn::step`](crate::QRnn::step) computes. [`scalar`] is the specification: the
//! closure of [`super::recurrent::scalar`] with [`unit()`]. [`packed`] on ARMv7E-M, for
//! `N % 4 == 0` and `N ≤ 64`, is one `asm!` block: the hidden state interleaved into its own
//! stack frame, then per four units the `SMLAD` sums (all columns unrolled), requantization by
//! `SMMULR`, the bias and the input row by `QADD` (the input weight as `w << 24` times the
//! multiplier by `SMMULR`, which rounds exactly as `+2^7 >> 8`; four weights from one word), the
//! clamp by `SSAT`, and the interpolated tanh from [`tanh_q15`]'s own table (the difference
//! times the fraction plus the rounding in one `SMLABB`); the loop's state lives in the frame,
//! so nothing crosses between Rust and assembly inside it. About 33 estimated cycles per unit
//! besides the sums, against 45 with a Rust closure, at H = 64
//! (docs/microcontrollers-cmsis.md). Bit-identical to [`scalar`]: on the host through the same
//! formulas in Rust, on the M4F by `deploy_q8`'s check and the state checksum of
//! `scripts/compare-cmsis-nn.sh`.

use super::recurrent;
use super::scalar::requantize;
use super::tanh::tanh_q15;

/// Right shift of the input row's product: `x_j = (w·m + 2^7) >> INPUT_SHIFT`.
pub const INPUT_SHIFT: u32 = 8;

/// The largest `|input_multiplier|` used (larger ones are clamped, once per update), so `w·m`
/// fits an `i32` and costs one 32-bit multiply on every core.
pub const INPUT_MULTIPLIER_LIMIT: i32 = (1 << 23) - 1;

/// The per-unit parameters of an Elman update besides the recurrent weights.
#[derive(Clone, Copy, Debug)]
pub struct ElmanUnits<'a, const N: usize> {
    /// Requantization multiplier of each row of the recurrent weights ([`requantize`]).
    pub multipliers: &'a [i32; N],
    /// Bias of each unit, Q12.
    pub biases: &'a [i32; N],
    /// This step's input weights (the token's row), one per unit.
    pub input_row: &'a [i8; N],
    /// The input row's multiplier: `x_j = (input_row[j]·m + 2^7) >> 8` with `m` this clamped
    /// to ±[`INPUT_MULTIPLIER_LIMIT`].
    pub input_multiplier: i32,
}

impl<const N: usize> ElmanUnits<'_, N> {
    /// The input multiplier as the update uses it: clamped to ±[`INPUT_MULTIPLIER_LIMIT`].
    #[inline(always)]
    pub fn clamped_input_multiplier(&self) -> i32 {
        clamp_input_multiplier(self.input_multiplier)
    }
}

/// An input multiplier clamped to ±[`INPUT_MULTIPLIER_LIMIT`], as the update uses it: for a
/// token's row here, for a dense sample's rows in `QRnn`'s input term.
#[inline(always)]
pub const fn clamp_input_multiplier(multiplier: i32) -> i32 {
    if multiplier > INPUT_MULTIPLIER_LIMIT {
        INPUT_MULTIPLIER_LIMIT
    } else if multiplier < -INPUT_MULTIPLIER_LIMIT {
        -INPUT_MULTIPLIER_LIMIT
    } else {
        multiplier
    }
}

/// One unit's new state from its recurrent sum `acc`: the specification of the fused update,
/// for `|input_multiplier| ≤` [`INPUT_MULTIPLIER_LIMIT`] (the kernels clamp it before; a larger
/// one wraps, it cannot panic).
#[inline(always)]
pub fn unit(acc: i32, multiplier: i32, bias: i32, input_weight: i8, input_multiplier: i32) -> i16 {
    // |w·m| ≤ 128·(2^23 − 1) < 2^30: exact.
    let x = i32::from(input_weight)
        .wrapping_mul(input_multiplier)
        .wrapping_add(1 << (INPUT_SHIFT - 1))
        >> INPUT_SHIFT;
    tanh_q15(
        requantize(acc, multiplier)
            .saturating_add(bias)
            .saturating_add(x),
    )
}

/// `h[j] = unit(Σ_k w[j][k]·h_old[k], …)` for every unit: the specification.
#[inline(always)]
pub fn scalar<const N: usize>(w: &[[i8; N]; N], h: &mut [i16; N], units: ElmanUnits<'_, N>) {
    let input_multiplier = units.clamped_input_multiplier();
    recurrent::scalar(w, h, |j, acc| {
        match (
            units.multipliers.get(j),
            units.biases.get(j),
            units.input_row.get(j),
        ) {
            (Some(&m), Some(&b), Some(&w)) => unit(acc, m, b, w, input_multiplier),
            _ => 0,
        }
    });
}

/// As [`scalar`], bit for bit: on ARMv7E-M for `N % 4 == 0`, `N ≤ 64` the one `asm!` block of
/// the module docs; otherwise (`N % 4 == 0`) the `SMLAD` sums of [`recurrent`] and the same
/// per-unit formulas in Rust.
#[inline(always)]
pub fn packed<const N: usize>(w: &[[i8; N]; N], h: &mut [i16; N], units: ElmanUnits<'_, N>) {
    if !N.is_multiple_of(4) || N == 0 {
        return scalar(w, h, units);
    }
    #[cfg(micrornn_dsp)]
    if N <= recurrent::UNROLLED_COLS {
        return fused(w, h, units);
    }
    let input_multiplier = units.clamped_input_multiplier();
    let x = recurrent::interleave(h);
    let quads = w
        .chunks_exact(4)
        .zip(h.chunks_exact_mut(4))
        .zip(units.multipliers.chunks_exact(4))
        .zip(units.biases.chunks_exact(4))
        .zip(units.input_row.chunks_exact(4))
        .take(opaque(N / 4));
    for ((((rows, out), multipliers), biases), input) in quads {
        let (Ok(rows), Ok(out), Ok(multipliers), Ok(biases), Ok(input)) = (
            <&[[i8; N]; 4]>::try_from(rows),
            <&mut [i16; 4]>::try_from(out),
            <&[i32; 4]>::try_from(multipliers),
            <&[i32; 4]>::try_from(biases),
            <&[i8; 4]>::try_from(input),
        ) else {
            continue;
        };
        let sums = recurrent::mac_quad(rows, &x);
        quad(sums, multipliers, biases, input, input_multiplier, out);
    }
}

/// `n`, hidden from the optimizer: with a known trip count LLVM unrolls the loop over the quads
/// completely (it counts an `asm!` block as one instruction), 16 copies of the quad at H = 64
/// (27 KB of code for 1 % fewer cycles).
#[inline(always)]
fn opaque(n: usize) -> usize {
    #[cfg(target_arch = "arm")]
    {
        let mut n = n;
        // SAFETY: an empty template: `n` is returned unchanged.
        unsafe {
            core::arch::asm!("/* {n} */", n = inout(reg) n, options(pure, nomem, nostack, preserves_flags));
        }
        n
    }
    #[cfg(not(target_arch = "arm"))]
    n
}

/// One group of the `SMLAD` sums: four columns of four rows, `p` at row 0's next word, rows
/// 1..3 at `N`, `2N`, `3N` bytes further; the interleaved hidden words from `x`. All six loads
/// in one pipelined run. `$first` starts the sums (`smuad`) or adds to them (`smlad`).
#[cfg(micrornn_dsp)]
macro_rules! group {
    (start) => {
        group!(@ "smuad {a0}, {u}, {e}\n", "smuad {a1}, {u}, {e}\n",
               "smuad {a2}, {u}, {e}\n", "smuad {a3}, {u}, {e}\n")
    };
    (add) => {
        group!(@ "smlad {a0}, {u}, {e}, {a0}\n", "smlad {a1}, {u}, {e}, {a1}\n",
               "smlad {a2}, {u}, {e}, {a2}\n", "smlad {a3}, {u}, {e}, {a3}\n")
    };
    (@ $f0:literal, $f1:literal, $f2:literal, $f3:literal) => {
        concat!(
            "ldr {o}, [{x}, #4]\n",
            "ldr {e}, [{x}], #8\n",
            "ldr {t1}, [{p}, #{s1}]\n",
            "ldr {t2}, [{p}, #{s2}]\n",
            "ldr {t3}, [{p}, #{s3}]\n",
            "ldr {t0}, [{p}], #4\n",
            "sxtb16 {u}, {t0}\n",
            "sxtb16 {t0}, {t0}, ror #8\n",
            $f0,
            "smlad {a0}, {t0}, {o}, {a0}\n",
            "sxtb16 {u}, {t1}\n",
            "sxtb16 {t1}, {t1}, ror #8\n",
            $f1,
            "smlad {a1}, {t1}, {o}, {a1}\n",
            "sxtb16 {u}, {t2}\n",
            "sxtb16 {t2}, {t2}, ror #8\n",
            $f2,
            "smlad {a2}, {t2}, {o}, {a2}\n",
            "sxtb16 {u}, {t3}\n",
            "sxtb16 {t3}, {t3}, ror #8\n",
            $f3,
            "smlad {a3}, {t3}, {o}, {a3}\n",
        )
    };
}

/// The tanh of the unit in register `$p` (its clamped pre-activation `s`), stored at
/// `{u} + $off`: `|s| = 64·i + f`, `y = T[i] + ((T[i+1] − T[i])·f + 32 >> 6)` with one
/// `SMLABB`, the sign put back. `{t3}` holds the `i16` table's address, `{o}` 32; `{t0}`,
/// `{t1}`, `{t2}` are scratch.
#[cfg(micrornn_dsp)]
macro_rules! tanh_unit {
    ($p:literal, $off:literal) => {
        concat!(
            "eor {t0}, {",
            $p,
            "}, {",
            $p,
            "}, asr #31\n",
            "sub {t0}, {t0}, {",
            $p,
            "}, asr #31\n",
            "lsr {t1}, {t0}, #6\n",
            "and {t0}, {t0}, #63\n",
            "add {t1}, {t3}, {t1}, lsl #1\n",
            "ldrsh {t2}, [{t1}]\n",
            "ldrsh {t1}, [{t1}, #2]\n",
            "sub {t1}, {t1}, {t2}\n",
            "smlabb {t1}, {t1}, {t0}, {o}\n",
            "add {t2}, {t2}, {t1}, asr #6\n",
            "eor {t2}, {t2}, {",
            $p,
            "}, asr #31\n",
            "sub {t2}, {t2}, {",
            $p,
            "}, asr #31\n",
            "strh {t2}, [{u}, #",
            $off,
            "]\n",
        )
    };
}

/// The whole update in one `asm!` for `4 ≤ N ≤ UNROLLED_COLS`, `N % 4 == 0`: the hidden state
/// interleaved into the block's own stack frame, then per four units the `SMLAD` sums (all
/// columns unrolled) and the per-unit work of [`quad`], the loop's state in the frame. No
/// value crosses between Rust and assembly inside the loop, so nothing is spilled.
#[cfg(micrornn_dsp)]
#[inline(always)]
fn fused<const N: usize>(w: &[[i8; N]; N], h: &mut [i16; N], units: ElmanUnits<'_, N>) {
    if N < 4 || !N.is_multiple_of(4) {
        return scalar(w, h, units);
    }
    // SAFETY: the frame is `FRAME + 2N` bytes below `sp` (8-aligned), popped at the end; `sp`
    // is not otherwise moved. Reads: `h` (2N bytes, LDR may be unaligned on ARMv7-M), the
    // N·N weights (per quad rows `p + k·N` for k = 0..4, 4 bytes per group while `p` advances
    // N: the last byte read is the matrix's last), 4N bytes of `multipliers` and of `biases`,
    // N of `input_row`, two halfwords of the tanh table per unit at indices `|s| >> 6 ≤ 512`
    // and one more (s clamped by SSAT; the table has 514 entries). Writes: the frame, and 2 bytes per unit at `h` (N/4 quads,
    // 8 bytes each). The sums read the interleaved copy, so writing `h` in place is sound.
    // SXTB16, SMUAD, SMLAD, SMMULR, QADD, SSAT, SMLABB, PKHBT/PKHTB exist on ARMv7E-M; QADD/SSAT
    // may set the sticky Q flag and CMP sets NZCV: flags are not preserved.
    unsafe {
        core::arch::asm!(
            "sub sp, sp, #{frame_all}",
            "str {e}, [sp, #0]",
            "str {o}, [sp, #4]",
            "str {t0}, [sp, #8]",
            "str {t1}, [sp, #12]",
            "str {t2}, [sp, #16]",
            "str {t3}, [sp, #20]",
            "add {t3}, {t3}, #{h_bytes}",
            "str {t3}, [sp, #24]",
            // interleave h into the frame: (x0, x2), (x1, x3) per four
            "ldr {t3}, [sp, #20]",
            "add {x}, sp, #{frame}",
            "mov {a0}, #{quads}",
            "3:",
            "ldr {t0}, [{t3}], #4",
            "ldr {t1}, [{t3}], #4",
            "pkhbt {e}, {t0}, {t1}, lsl #16",
            "pkhtb {o}, {t1}, {t0}, asr #16",
            "strd {e}, {o}, [{x}], #8",
            "subs {a0}, {a0}, #1",
            "bne 3b",
            "2:",
            "add {x}, sp, #{frame}",
            group!(start),
            ".rept {quads} - 1",
            group!(add),
            ".endr",
            "add {p}, {p}, #{s3}",
            // requantize, + bias, + input row (saturating), clamp: S = e, B = o, W = t3, M = u
            "ldr {e}, [sp, #0]",
            "ldr {o}, [sp, #4]",
            "ldr {t3}, [sp, #8]",
            "ldr {u}, [sp, #12]",
            "ldr {t0}, [{e}], #16",
            "ldr {t1}, [{e}, #-12]",
            "ldr {t2}, [{e}, #-8]",
            "ldr {x}, [{e}, #-4]",
            "smmulr {a0}, {a0}, {t0}",
            "smmulr {a1}, {a1}, {t1}",
            "smmulr {a2}, {a2}, {t2}",
            "smmulr {a3}, {a3}, {x}",
            "ldr {t0}, [{o}], #16",
            "ldr {t1}, [{o}, #-12]",
            "ldr {t2}, [{o}, #-8]",
            "ldr {x}, [{o}, #-4]",
            "qadd {a0}, {a0}, {t0}",
            "qadd {a1}, {a1}, {t1}",
            "qadd {a2}, {a2}, {t2}",
            "qadd {a3}, {a3}, {x}",
            "ldr {t2}, [{t3}], #4",
            "str {e}, [sp, #0]",
            "str {o}, [sp, #4]",
            "str {t3}, [sp, #8]",
            "lsl {t0}, {t2}, #24",
            "lsl {t1}, {t2}, #16",
            "smmulr {t0}, {t0}, {u}",
            "and {t1}, {t1}, #0xff000000",
            "smmulr {t1}, {t1}, {u}",
            "qadd {a0}, {a0}, {t0}",
            "qadd {a1}, {a1}, {t1}",
            "lsl {x}, {t2}, #8",
            "and {t2}, {t2}, #0xff000000",
            "and {x}, {x}, #0xff000000",
            "smmulr {t2}, {t2}, {u}",
            "smmulr {x}, {x}, {u}",
            "qadd {a3}, {a3}, {t2}",
            "qadd {a2}, {a2}, {x}",
            "ssat {a0}, #16, {a0}",
            "ssat {a1}, #16, {a1}",
            "ssat {a2}, #16, {a2}",
            "ssat {a3}, #16, {a3}",
            // tanh from the i16 table: T = t3, OUT = u, C = o
            "ldr {t3}, [sp, #16]",
            "ldr {u}, [sp, #20]",
            "mov {o}, #32",
            tanh_unit!("a0", "0"),
            tanh_unit!("a1", "2"),
            tanh_unit!("a2", "4"),
            tanh_unit!("a3", "6"),
            "add {u}, {u}, #8",
            "str {u}, [sp, #20]",
            "ldr {t0}, [sp, #24]",
            "cmp {u}, {t0}",
            "bne 2b",
            "add sp, sp, #{frame_all}",
            frame = const 32,
            frame_all = const 32 + 2 * N,
            h_bytes = const 2 * N,
            quads = const N / 4,
            s1 = const N, s2 = const 2 * N, s3 = const 3 * N,
            x = out(reg) _,
            p = inout(reg) w.as_ptr().cast::<i8>() => _,
            e = inout(reg) units.multipliers.as_ptr() => _,
            o = inout(reg) units.biases.as_ptr() => _,
            t0 = inout(reg) units.input_row.as_ptr() => _,
            t1 = inout(reg) units.clamped_input_multiplier() => _,
            t2 = inout(reg) super::tanh::TABLE.as_ptr() => _,
            t3 = inout(reg) h.as_mut_ptr() => _,
            u = out(reg) _,
            a0 = out(reg) _, a1 = out(reg) _, a2 = out(reg) _, a3 = out(reg) _,
        );
    }
}

/// The four units of one quad from their sums: the formulas of [`fused`]'s `asm!` in Rust (for
/// `N > 64` on ARMv7E-M, and on the host so that its tests cover them).
#[inline(always)]
fn quad(
    sums: [i32; 4],
    multipliers: &[i32; 4],
    biases: &[i32; 4],
    input: &[i8; 4],
    input_multiplier: i32,
    out: &mut [i16; 4],
) {
    for k in 0..4 {
        // SMMULR of (w << 24) and m: round(w·m·2^24 / 2^32).
        let x = ((i64::from(i32::from(input[k]) << 24) * i64::from(input_multiplier) + (1 << 31))
            >> 32) as i32;
        let s = requantize(sums[k], multipliers[k])
            .saturating_add(biases[k])
            .saturating_add(x)
            .clamp(-(1 << 15), (1 << 15) - 1);
        out[k] = tanh_q15(s);
    }
}
