//! The dual 16-bit multiply-accumulate path (Cortex-M4/M7 `SMLAD`), the algorithm of CMSIS-NN's
//! `arm_nn_mat_mult_nt_t_s8`-style kernels without their weight reordering.
//!
//! Four int8 weights are one 32-bit load `[w0 w1 w2 w3]`. `SXTB16` sign-extends bytes 0 and 2 to
//! the halfwords `(w0, w2)`; `SXTB16` of the word rotated by 8 gives `(w1, w3)`. The four hidden
//! values are two loads `(x0, x1)`, `(x2, x3)`, repacked by `PKHBT`/`PKHTB` into `(x0, x2)` and
//! `(x1, x3)` once for four rows. `SMLAD` then adds `w0·x0 + w2·x2` and `w1·x1 + w3·x3` to an
//! accumulator: four multiply-adds in two instructions. Rows go four at a time (one repack of
//! the hidden values feeds four rows); leftover rows and the last `cols % 4` columns take the
//! scalar path.
//!
//! Integer sums are exact, so this equals [`super::scalar::matvec_requant`] bit for bit. On
//! ARMv7E-M (cfg `micrornn_dsp`, set by the build script for `thumbv7em-*` targets) the four
//! primitives below are one instruction each via `asm!`; on every other target they are the
//! same operations written in Rust, so the host tests run this exact algorithm.

use super::scalar::{dot, requantize};

/// `acc + lo(a)·lo(b) + hi(a)·hi(b)` with signed 16-bit halves (`SMLAD`). Wraps like the
/// instruction (which only sets the Q flag); no sum of at most `MAX_COLS` terms can.
#[inline(always)]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    #[cfg(micrornn_dsp)]
    {
        let out: i32;
        // SAFETY: SMLAD reads three registers and writes one; it touches no memory and no
        // flag other than Q (sticky, read by nothing here). ARMv7E-M has the instruction.
        unsafe {
            core::arch::asm!(
                "smlad {out}, {a}, {b}, {acc}",
                out = lateout(reg) out, a = in(reg) a, b = in(reg) b, acc = in(reg) acc,
                options(pure, nomem, nostack)
            )
        };
        out
    }
    #[cfg(not(micrornn_dsp))]
    {
        let lo = i32::from(a as u16 as i16) * i32::from(b as u16 as i16);
        let hi = i32::from((a >> 16) as u16 as i16) * i32::from((b >> 16) as u16 as i16);
        acc.wrapping_add(lo).wrapping_add(hi)
    }
}

/// Bytes 0 and 2 of `x`, sign-extended to the low and high halfwords (`SXTB16`).
#[inline(always)]
fn sxtb16(x: u32) -> u32 {
    #[cfg(micrornn_dsp)]
    {
        let out: u32;
        // SAFETY: a register-to-register instruction of ARMv7E-M; no memory, no flags.
        unsafe {
            core::arch::asm!("sxtb16 {out}, {x}", out = lateout(reg) out, x = in(reg) x,
                options(pure, nomem, nostack, preserves_flags))
        };
        out
    }
    #[cfg(not(micrornn_dsp))]
    {
        let lo = x as u8 as i8 as i16 as u16 as u32;
        let hi = (x >> 16) as u8 as i8 as i16 as u16 as u32;
        lo | (hi << 16)
    }
}

/// Bytes 1 and 3 of `x`, sign-extended to the low and high halfwords (`SXTB16 …, ROR #8`).
#[inline(always)]
fn sxtb16_ror8(x: u32) -> u32 {
    #[cfg(micrornn_dsp)]
    {
        let out: u32;
        // SAFETY: as `sxtb16`.
        unsafe {
            core::arch::asm!("sxtb16 {out}, {x}, ror #8", out = lateout(reg) out, x = in(reg) x,
                options(pure, nomem, nostack, preserves_flags))
        };
        out
    }
    #[cfg(not(micrornn_dsp))]
    {
        sxtb16(x.rotate_right(8))
    }
}

/// `(lo(a), lo(b))` and `(hi(a), hi(b))` as halfword pairs (`PKHBT`, `PKHTB`): the hidden
/// values `(x0, x1)`, `(x2, x3)` become `(x0, x2)`, `(x1, x3)`.
#[inline(always)]
fn interleave(a: u32, b: u32) -> (u32, u32) {
    ((a & 0xFFFF) | (b << 16), (a >> 16) | (b & 0xFFFF_0000))
}

/// Four int8 weights as one little-endian word.
#[inline(always)]
fn weights(w: &[i8]) -> u32 {
    match *w {
        [a, b, c, d] => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
        _ => 0,
    }
}

/// Four Q15 values as the two repacked words `(x0, x2)`, `(x1, x3)`.
#[inline(always)]
fn hidden_pairs(x: &[i16]) -> (u32, u32) {
    match *x {
        [a, b, c, d] => interleave(
            u32::from(a as u16) | (u32::from(b as u16) << 16),
            u32::from(c as u16) | (u32::from(d as u16) << 16),
        ),
        _ => (0, 0),
    }
}

/// `acc + Σ` over four weights of one row and the repacked hidden pair.
#[inline(always)]
fn mac4(w: &[i8], even: u32, odd: u32, acc: i32) -> i32 {
    let w = weights(w);
    smlad(sxtb16_ror8(w), odd, smlad(sxtb16(w), even, acc))
}

/// Dot products of four rows with `x`, four columns per step, the tail by the scalar path.
#[inline(always)]
fn dot4(rows: [&[i8]; 4], x: &[i16]) -> [i32; 4] {
    let body = x.len() & !3;
    let (x_body, x_tail) = x.split_at(body);
    let mut acc = [0i32; 4];
    let [r0, r1, r2, r3] = rows.map(|r| r.split_at(body.min(r.len())));
    let columns = x_body
        .chunks_exact(4)
        .zip(r0.0.chunks_exact(4))
        .zip(r1.0.chunks_exact(4))
        .zip(r2.0.chunks_exact(4))
        .zip(r3.0.chunks_exact(4));
    for ((((x4, w0), w1), w2), w3) in columns {
        let (even, odd) = hidden_pairs(x4);
        acc[0] = mac4(w0, even, odd, acc[0]);
        acc[1] = mac4(w1, even, odd, acc[1]);
        acc[2] = mac4(w2, even, odd, acc[2]);
        acc[3] = mac4(w3, even, odd, acc[3]);
    }
    for (acc, tail) in acc.iter_mut().zip([r0.1, r1.1, r2.1, r3.1]) {
        *acc = acc.wrapping_add(dot(tail, x_tail));
    }
    acc
}

/// Dot product of one row with `x` by the same pairing.
#[inline(always)]
fn dot1(row: &[i8], x: &[i16]) -> i32 {
    let body = x.len() & !3;
    let (x_body, x_tail) = x.split_at(body);
    let (row_body, row_tail) = row.split_at(body.min(row.len()));
    let mut acc = 0i32;
    for (x4, w) in x_body.chunks_exact(4).zip(row_body.chunks_exact(4)) {
        let (even, odd) = hidden_pairs(x4);
        acc = mac4(w, even, odd, acc);
    }
    acc.wrapping_add(dot(row_tail, x_tail))
}

/// As [`super::scalar::matvec_requant`], bit for bit: `out[r] = requantize(dot(row r, x),
/// multipliers[r])`.
pub fn matvec_requant(w: &[i8], x: &[i16], multipliers: &[i32], out: &mut [i32]) {
    let cols = x.len();
    if cols == 0 {
        super::scalar::matvec_requant(w, x, multipliers, out);
        return;
    }
    let blocks = out
        .chunks_mut(4)
        .zip(multipliers.chunks(4))
        .zip(w.chunks(4 * cols));
    for ((out, m), w) in blocks {
        let mut rows = w.chunks_exact(cols);
        match (out, m, rows.next(), rows.next(), rows.next(), rows.next()) {
            ([o0, o1, o2, o3], [m0, m1, m2, m3], Some(r0), Some(r1), Some(r2), Some(r3)) => {
                let [a0, a1, a2, a3] = dot4([r0, r1, r2, r3], x);
                *o0 = requantize(a0, *m0);
                *o1 = requantize(a1, *m1);
                *o2 = requantize(a2, *m2);
                *o3 = requantize(a3, *m3);
            }
            (out, m, ..) => {
                for ((out, &m), row) in out.iter_mut().zip(m).zip(w.chunks_exact(cols)) {
                    *out = requantize(dot1(row, x), m);
                }
            }
        }
    }
}
