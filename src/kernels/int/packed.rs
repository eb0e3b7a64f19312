//! The dual 16-bit multiply-accumulate path (Cortex-M4/M7 `SMLAD`), the algorithm of CMSIS-NN's
//! `arm_nn_mat_mult_nt_t_s8`-style kernels without their weight reordering.
//!
//! Four int8 weights are one 32-bit load `[w0 w1 w2 w3]`. `SXTB16` sign-extends bytes 0 and 2 to
//! the halfwords `(w0, w2)`; `SXTB16` of the word rotated by 8 gives `(w1, w3)`. The hidden
//! values are repacked once per call (in blocks of [`BLOCK`] columns, on the stack): each four
//! `(x0, x1)`, `(x2, x3)` become the words `(x0, x2)`, `(x1, x3)`. `SMLAD` then adds
//! `w0·x0 + w2·x2` and `w1·x1 + w3·x3` to an accumulator: four multiply-adds in two
//! instructions. Rows go four at a time (one `LDRD` of the hidden words feeds all four), in one
//! `asm!` loop of 23 instructions per 16 multiply-adds on ARMv7E-M; the last `rows % 4` rows
//! go two at a time (13 instructions per 8) and one, and the last `cols % 4` columns take the
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
pub(super) fn smlad(a: u32, b: u32, acc: i32) -> i32 {
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
pub(super) fn sxtb16(x: u32) -> u32 {
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
pub(super) fn sxtb16_ror8(x: u32) -> u32 {
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

/// Columns of the hidden vector repacked at a time (a 128-byte stack buffer).
pub const BLOCK: usize = 64;

/// Four int8 weights as one little-endian word.
#[inline(always)]
fn weights(w: &[i8]) -> u32 {
    match *w {
        [a, b, c, d] => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
        _ => 0,
    }
}

/// Two adjacent i16 as one word, the first in the low half.
#[inline(always)]
pub(super) fn pair(lo: i16, hi: i16) -> u32 {
    u32::from(lo as u16) | (u32::from(hi as u16) << 16)
}

/// `acc + Σ` over four weights of one row and the repacked hidden words `(x0, x2)`, `(x1, x3)`.
#[inline(always)]
pub(super) fn mac4(w: &[i8], even: u32, odd: u32, acc: i32) -> i32 {
    let w = weights(w);
    smlad(sxtb16_ror8(w), odd, smlad(sxtb16(w), even, acc))
}

/// `Σ_c r0[c]·x[c]` and `Σ_c r1[c]·x[c]` over the first `4·n` columns, `n = words.len() / 2`
/// (fewer if a row is shorter), from the repacked hidden `words`.
///
/// On ARMv7E-M one `asm!` loop: per four columns one `LDRD` of the hidden words, and for each
/// row one `LDR`, two `SXTB16`, two `SMLAD` (13 instructions for 8 multiply-adds, with the loop
/// counter). Elsewhere the same operations in Rust.
#[inline(always)]
fn mac_rows2(r0: &[i8], r1: &[i8], words: &[u32]) -> (i32, i32) {
    let n = (words.len() / 2).min(r0.len() / 4).min(r1.len() / 4);
    #[cfg(micrornn_dsp)]
    {
        let (mut a0, mut a1) = (0i32, 0i32);
        if n > 0 {
            // SAFETY: the loop runs `n ≥ 1` times and reads 8·n bytes from `words` and 4·n bytes
            // from each row, all within the slices (`n` is bounded by each length above); memory
            // is only read. SMLAD, SXTB16 and LDRD exist on ARMv7E-M; the loop counter's flags
            // are clobbered (no `preserves_flags`).
            unsafe {
                core::arch::asm!(
                    "2:",
                    "ldrd {e}, {o}, [{x}], #8",
                    "ldr {t}, [{p0}], #4",
                    "sxtb16 {u}, {t}",
                    "sxtb16 {t}, {t}, ror #8",
                    "smlad {a0}, {u}, {e}, {a0}",
                    "smlad {a0}, {t}, {o}, {a0}",
                    "ldr {t}, [{p1}], #4",
                    "sxtb16 {u}, {t}",
                    "sxtb16 {t}, {t}, ror #8",
                    "smlad {a1}, {u}, {e}, {a1}",
                    "smlad {a1}, {t}, {o}, {a1}",
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    x = inout(reg) words.as_ptr() => _,
                    p0 = inout(reg) r0.as_ptr() => _,
                    p1 = inout(reg) r1.as_ptr() => _,
                    n = inout(reg) n => _,
                    a0 = inout(reg) a0,
                    a1 = inout(reg) a1,
                    e = out(reg) _,
                    o = out(reg) _,
                    t = out(reg) _,
                    u = out(reg) _,
                    options(nostack, readonly)
                );
            }
        }
        (a0, a1)
    }
    #[cfg(not(micrornn_dsp))]
    {
        let (mut a0, mut a1) = (0i32, 0i32);
        let columns = words
            .chunks_exact(2)
            .zip(r0.chunks_exact(4))
            .zip(r1.chunks_exact(4));
        for ((p, w0), w1) in columns.take(n) {
            let (even, odd) = match *p {
                [even, odd] => (even, odd),
                _ => (0, 0),
            };
            a0 = mac4(w0, even, odd, a0);
            a1 = mac4(w1, even, odd, a1);
        }
        (a0, a1)
    }
}

/// `Σ_c r[c]·x[c]` for four rows `r = rows[0..4]`, each `stride` bytes after the previous one
/// (`rows` holds at least `3·stride + 4·n` bytes), over the first `4·n` columns,
/// `n = words.len() / 2` (fewer if `rows` is shorter), from the repacked hidden `words`.
///
/// On ARMv7E-M one `asm!` loop: per four columns one `LDRD` of the hidden words shared by the
/// four rows, and for each row one `LDR`, two `SXTB16`, two `SMLAD` (23 instructions for 16
/// multiply-adds, with the loop counter). Elsewhere the same operations in Rust.
#[inline(always)]
fn mac_rows4(rows: &[i8], stride: usize, words: &[u32]) -> [i32; 4] {
    let n = (words.len() / 2).min(rows.len().saturating_sub(3 * stride) / 4);
    #[cfg(micrornn_dsp)]
    {
        let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
        if n > 0 {
            // SAFETY: the loop runs `n ≥ 1` times and reads 8·n bytes from `words` and, for
            // row k in 0..4, 4·n bytes at `rows + k·stride`: the last byte read is at
            // `3·stride + 4·n − 1 < rows.len()` by the bound on `n` above, so every read is
            // within the slices; memory is only read. `p1 = rows + stride`, and rows 2 and 3
            // are `p0 + 2·stride`, `p1 + 2·stride` (register offset, LSL #1). SMLAD, SXTB16 and
            // LDRD exist on ARMv7E-M; the loop counter's flags are clobbered.
            unsafe {
                core::arch::asm!(
                    "2:",
                    "ldrd {e}, {o}, [{x}], #8",
                    "ldr {t}, [{p0}, {s}, lsl #1]",
                    "sxtb16 {u}, {t}",
                    "sxtb16 {t}, {t}, ror #8",
                    "smlad {a2}, {u}, {e}, {a2}",
                    "smlad {a2}, {t}, {o}, {a2}",
                    "ldr {t}, [{p1}, {s}, lsl #1]",
                    "sxtb16 {u}, {t}",
                    "sxtb16 {t}, {t}, ror #8",
                    "smlad {a3}, {u}, {e}, {a3}",
                    "smlad {a3}, {t}, {o}, {a3}",
                    "ldr {t}, [{p0}], #4",
                    "sxtb16 {u}, {t}",
                    "sxtb16 {t}, {t}, ror #8",
                    "smlad {a0}, {u}, {e}, {a0}",
                    "smlad {a0}, {t}, {o}, {a0}",
                    "ldr {t}, [{p1}], #4",
                    "sxtb16 {u}, {t}",
                    "sxtb16 {t}, {t}, ror #8",
                    "smlad {a1}, {u}, {e}, {a1}",
                    "smlad {a1}, {t}, {o}, {a1}",
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    x = inout(reg) words.as_ptr() => _,
                    p0 = inout(reg) rows.as_ptr() => _,
                    p1 = inout(reg) rows.as_ptr().wrapping_add(stride) => _,
                    s = in(reg) stride,
                    n = inout(reg) n => _,
                    a0 = inout(reg) a0,
                    a1 = inout(reg) a1,
                    a2 = inout(reg) a2,
                    a3 = inout(reg) a3,
                    e = out(reg) _,
                    o = out(reg) _,
                    t = out(reg) _,
                    u = out(reg) _,
                    options(nostack, readonly)
                );
            }
        }
        [a0, a1, a2, a3]
    }
    #[cfg(not(micrornn_dsp))]
    {
        let mut acc = [0i32; 4];
        for (k, acc) in acc.iter_mut().enumerate() {
            let row = rows.get(k * stride..).unwrap_or_default();
            for (p, w) in words.chunks_exact(2).zip(row.chunks_exact(4)).take(n) {
                if let [even, odd] = *p {
                    *acc = mac4(w, even, odd, *acc);
                }
            }
        }
        acc
    }
}

/// `acc[r] += Σ_c rows[r][c]·x[c]` for two rows: `permuted` holds the first `4·k` hidden values
/// repacked, `x_tail` the rest in order.
#[inline(always)]
fn dot2(acc: &mut [i32; 2], rows: [&[i8]; 2], permuted: &[u32], x_tail: &[i16]) {
    let body = 2 * permuted.len();
    let [r0, r1] = rows.map(|r| r.split_at(body.min(r.len())));
    let (s0, s1) = mac_rows2(r0.0, r1.0, permuted);
    *acc = [
        acc[0].wrapping_add(s0).wrapping_add(dot(r0.1, x_tail)),
        acc[1].wrapping_add(s1).wrapping_add(dot(r1.1, x_tail)),
    ];
}

/// `acc[r] += Σ_c row_r[c]·x[c]` for four rows of `cols` weights starting at `w` (the block's
/// columns `start..start + x.len()`): the first `4·k` by [`mac_rows4`] on the repacked `permuted`
/// values, the rest in order from `x_tail`.
#[inline(always)]
fn dot4(acc: &mut [i32; 4], w: &[i8], cols: usize, start: usize, permuted: &[u32], x_tail: &[i16]) {
    let body = 2 * permuted.len();
    let sums = mac_rows4(w.get(start..).unwrap_or_default(), cols, permuted);
    let tail_start = start + body;
    for (k, (acc, s)) in acc.iter_mut().zip(sums).enumerate() {
        let row_tail = w
            .get(k * cols + tail_start..k * cols + start + body + x_tail.len())
            .unwrap_or_default();
        *acc = acc.wrapping_add(s).wrapping_add(dot(row_tail, x_tail));
    }
}

/// `acc += Σ_c row[c]·x[c]` by the same pairing.
#[inline(always)]
fn dot1(acc: &mut i32, row: &[i8], permuted: &[u32], x_tail: &[i16]) {
    let body = 2 * permuted.len();
    let (row_body, row_tail) = row.split_at(body.min(row.len()));
    let mut a = *acc;
    for (p, w) in permuted.chunks_exact(2).zip(row_body.chunks_exact(4)) {
        let (even, odd) = match *p {
            [even, odd] => (even, odd),
            _ => (0, 0),
        };
        a = mac4(w, even, odd, a);
    }
    *acc = a.wrapping_add(dot(row_tail, x_tail));
}

/// `x` (at most [`BLOCK`] values) repacked, four values `x0..x3` to the two words
/// `(x0, x2)`, `(x1, x3)`; returns the buffer and the number of columns repacked (a multiple of
/// 4; the rest is the scalar tail).
#[inline(always)]
fn repack(x: &[i16]) -> ([u32; BLOCK / 2], usize) {
    let body = x.len().min(BLOCK) & !3;
    // Word i of the buffer is `(x[k], x[k + 2])` with `k = 4·(i / 2) + i % 2`; built in place
    // (no zeroing pass first), zero past the body.
    let words = core::array::from_fn(|i| {
        let k = 4 * (i / 2) + (i & 1);
        match (x.get(k), x.get(k + 2)) {
            (Some(&lo), Some(&hi)) if k < body => pair(lo, hi),
            _ => 0,
        }
    });
    (words, body)
}

/// Adds one block of columns (`start..start + x.len()`) of every row to `acc`.
#[inline(always)]
fn accumulate_block(acc: &mut [i32], w: &[i8], cols: usize, start: usize, x: &[i16]) {
    let (permuted, body) = repack(x);
    let (permuted, x_tail) = (
        permuted.get(..body / 2).unwrap_or_default(),
        x.get(body..).unwrap_or_default(),
    );
    let mut quads = acc.chunks_exact_mut(4);
    let mut quad_start = 0;
    for acc4 in &mut quads {
        let w4 = w.get(quad_start..).unwrap_or_default();
        if let Ok(acc4) = <&mut [i32; 4]>::try_from(acc4) {
            dot4(acc4, w4, cols, start, permuted, x_tail);
        }
        quad_start += 4 * cols;
    }
    let (acc, w) = (
        quads.into_remainder(),
        w.get(quad_start..).unwrap_or_default(),
    );
    let end = start + x.len();
    let mut rows = w
        .chunks_exact(cols)
        .map(|row| row.get(start..end).unwrap_or_default());
    for acc in acc.chunks_mut(2) {
        if let Ok(acc2) = <&mut [i32; 2]>::try_from(&mut *acc) {
            let (Some(r0), Some(r1)) = (rows.next(), rows.next()) else {
                return;
            };
            dot2(acc2, [r0, r1], permuted, x_tail);
        } else {
            for (acc, row) in acc.iter_mut().zip(&mut rows) {
                dot1(acc, row, permuted, x_tail);
            }
        }
    }
}

/// As [`super::scalar::matvec_requant`], bit for bit: `out[r] = requantize(dot(row r, x),
/// multipliers[r])`.
#[inline(always)]
pub fn matvec_requant(w: &[i8], x: &[i16], multipliers: &[i32], out: &mut [i32]) {
    let cols = x.len();
    if cols == 0 {
        super::scalar::matvec_requant(w, x, multipliers, out);
        return;
    }
    let rows = out.len().min(multipliers.len()).min(w.len() / cols);
    let Some(out) = out.get_mut(..rows) else {
        return;
    };
    out.fill(0);
    for (block, x) in x.chunks(BLOCK).enumerate() {
        accumulate_block(out, w, cols, block * BLOCK, x);
    }
    for (out, &m) in out.iter_mut().zip(multipliers) {
        *out = requantize(*out, m);
    }
}
