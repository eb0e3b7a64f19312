//! The recurrent update in place: `h[j] = f(j, Σ_k w[j][k]·h[k])` for every unit `j`, every sum
//! taken over the old `h`, `f` called once per unit in order. [`QRnn::step`](crate::QRnn::step)
//! runs its requantization, input row, bias and tanh inside `f`, so each unit's sum goes from a
//! register straight to its new state (no `i32` pre-activation buffer, no second pass).
//!
//! [`scalar`] is the specification (a copy of `h`, then [`dot`] per row). [`packed`] is the
//! `SMLAD` algorithm of [`super::packed`] with the stride between rows a compile-time constant,
//! so one pointer and immediate offsets reach four rows. Up to [`UNROLLED_COLS`] columns the
//! columns are unrolled completely: per four columns one `LDRD` of the two interleaved hidden
//! words, four rows' words in one run of pipelined `LDR`s, then two `SXTB16` and two `SMLAD`
//! per row (21 instructions per 16 multiply-adds, no loop counter). Wider rows take a loop that
//! loads three rows' words in the run and the fourth after the first row is done (24 per 16;
//! with `N % 8 == 0` two groups per pass, 46 per 32). It covers `N % 4 == 0`; other sizes take
//! the scalar path. Both are bit-identical.

#[cfg(not(micrornn_dsp))]
use super::packed::{mac4, pair};
use super::scalar::dot;

/// `h[j] = f(j, dot(w[j], old h))` for `j = 0..N`, in order: the specification.
#[inline(always)]
pub fn scalar<const N: usize>(
    w: &[[i8; N]; N],
    h: &mut [i16; N],
    mut f: impl FnMut(usize, i32) -> i16,
) {
    let old = *h;
    for (j, (h, row)) in h.iter_mut().zip(w).enumerate() {
        *h = f(j, dot(row, &old));
    }
}

/// Up to this many columns the loop over columns is unrolled completely (no counter, one more
/// register for a fourth row word): 21 instructions per 16 multiply-adds, about 80 bytes of code
/// per four columns.
pub const UNROLLED_COLS: usize = 64;

/// The hidden vector in SMLAD order, 4-byte aligned: each four `x0 x1 x2 x3` stored as
/// `x0 x2 x1 x3`, so the words are `(x0, x2)`, `(x1, x3)` (little-endian halfwords).
#[repr(C, align(4))]
pub(super) struct Interleaved<const N: usize>([i16; N]);

#[inline(always)]
pub(super) fn interleave<const N: usize>(h: &[i16; N]) -> Interleaved<N> {
    #[cfg(micrornn_dsp)]
    if N.is_multiple_of(4) && N >= 4 {
        let mut out = core::mem::MaybeUninit::<Interleaved<N>>::uninit();
        // SAFETY: N/4 ≥ 1 passes, each reading 8 bytes of `h` (2N in all) and writing 8 bytes
        // of `out` (2N in all): every element of `out` is written once, so it is initialized
        // after the loop. LDR may be unaligned on ARMv7-M (`h` is 2-byte aligned); STRD
        // needs 4-byte alignment, which `Interleaved` has. PKHBT/PKHTB exist on ARMv7E-M.
        unsafe {
            core::arch::asm!(
                "2:",
                "ldr {a}, [{h}], #4",
                "ldr {b}, [{h}], #4",
                "pkhbt {e}, {a}, {b}, lsl #16",
                "pkhtb {o}, {b}, {a}, asr #16",
                "strd {e}, {o}, [{d}], #8",
                "subs {n}, {n}, #1",
                "bne 2b",
                h = inout(reg) h.as_ptr() => _,
                d = inout(reg) out.as_mut_ptr().cast::<u32>() => _,
                n = inout(reg) N / 4 => _,
                a = out(reg) _, b = out(reg) _, e = out(reg) _, o = out(reg) _,
                options(nostack)
            );
            return out.assume_init();
        }
    }
    Interleaved(core::array::from_fn(|i| {
        let source = (i & !3) + [0, 2, 1, 3][i & 3];
        h.get(source).copied().unwrap_or(0)
    }))
}

/// `Σ_c rows[k][c]·x[c]` for the four rows `k = 0..4`, over all `N` columns (`N % 4 == 0`).
#[inline(always)]
pub(super) fn mac_quad<const N: usize>(rows: &[[i8; N]; 4], x: &Interleaved<N>) -> [i32; 4] {
    #[cfg(micrornn_dsp)]
    {
        let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
        // One group: four columns of the four rows. `p` points at row 0's next word; rows 1..3
        // are `N`, `2N`, `3N` bytes further (immediate offsets, at most 3·511 < 4096).
        macro_rules! group {
            () => {
                concat!(
                    "ldr {o}, [{x}, #4]\n",
                    "ldr {e}, [{x}], #8\n",
                    "ldr {t1}, [{p}, #{s1}]\n",
                    "ldr {t2}, [{p}, #{s2}]\n",
                    "ldr {t3}, [{p}, #{s3}]\n",
                    "sxtb16 {u}, {t1}\n",
                    "sxtb16 {t1}, {t1}, ror #8\n",
                    "smlad {a1}, {u}, {e}, {a1}\n",
                    "smlad {a1}, {t1}, {o}, {a1}\n",
                    "ldr {t1}, [{p}], #4\n",
                    "sxtb16 {u}, {t2}\n",
                    "sxtb16 {t2}, {t2}, ror #8\n",
                    "smlad {a2}, {u}, {e}, {a2}\n",
                    "smlad {a2}, {t2}, {o}, {a2}\n",
                    "sxtb16 {u}, {t3}\n",
                    "sxtb16 {t3}, {t3}, ror #8\n",
                    "smlad {a3}, {u}, {e}, {a3}\n",
                    "smlad {a3}, {t3}, {o}, {a3}\n",
                    "sxtb16 {u}, {t1}\n",
                    "sxtb16 {t1}, {t1}, ror #8\n",
                    "smlad {a0}, {u}, {e}, {a0}\n",
                    "smlad {a0}, {t1}, {o}, {a0}\n",
                )
            };
        }
        if N <= UNROLLED_COLS && N >= 4 {
            // SAFETY: N/4 ≥ 1 copies of the group, each reading 8 bytes of `x` (2N bytes in all)
            // and 4 bytes at `p + k·N` for k = 0..4 while `p` advances 4 bytes: the last byte
            // read is at 3N + N − 1 < 4N, inside `rows`. LDRD needs 4-byte alignment, which
            // `Interleaved` has. Memory is only read; SMLAD, SXTB16, LDR and LDRD exist on
            // ARMv7E-M; no flag is written.
            unsafe {
                core::arch::asm!(
                    ".rept {groups}",
                    "ldrd {e}, {o}, [{x}], #8",
                    "ldr {t1}, [{p}, #{s1}]",
                    "ldr {t2}, [{p}, #{s2}]",
                    "ldr {t3}, [{p}, #{s3}]",
                    "ldr {t0}, [{p}], #4",
                    "sxtb16 {u}, {t0}",
                    "sxtb16 {t0}, {t0}, ror #8",
                    "smlad {a0}, {u}, {e}, {a0}",
                    "smlad {a0}, {t0}, {o}, {a0}",
                    "sxtb16 {u}, {t1}",
                    "sxtb16 {t1}, {t1}, ror #8",
                    "smlad {a1}, {u}, {e}, {a1}",
                    "smlad {a1}, {t1}, {o}, {a1}",
                    "sxtb16 {u}, {t2}",
                    "sxtb16 {t2}, {t2}, ror #8",
                    "smlad {a2}, {u}, {e}, {a2}",
                    "smlad {a2}, {t2}, {o}, {a2}",
                    "sxtb16 {u}, {t3}",
                    "sxtb16 {t3}, {t3}, ror #8",
                    "smlad {a3}, {u}, {e}, {a3}",
                    "smlad {a3}, {t3}, {o}, {a3}",
                    ".endr",
                    groups = const N / 4,
                    x = inout(reg) x.0.as_ptr() => _,
                    p = inout(reg) rows.as_ptr().cast::<i8>() => _,
                    s1 = const N, s2 = const 2 * N, s3 = const 3 * N,
                    a0 = inout(reg) a0, a1 = inout(reg) a1, a2 = inout(reg) a2, a3 = inout(reg) a3,
                    e = out(reg) _, o = out(reg) _, t0 = out(reg) _, t1 = out(reg) _,
                    t2 = out(reg) _, t3 = out(reg) _, u = out(reg) _,
                    options(nostack, readonly, preserves_flags)
                );
            }
        } else if N >= 4 {
            // Two groups per pass when N % 8 == 0, else one.
            const fn per_pass(n: usize) -> usize {
                if n.is_multiple_of(8) { 2 } else { 1 }
            }
            // SAFETY: the loop runs N/(4·g) ≥ 1 times (g groups per pass), each pass reading
            // 8·g bytes of `x` (2N bytes in all) and 4·g bytes at `p + k·N` for k = 0..4 while
            // `p` advances 4·g bytes: the last byte read is at 3N + N − 1 < 4N, inside `rows`.
            // Memory is only read; SMLAD, SXTB16 and LDR exist on ARMv7E-M; the counter's flags
            // are clobbered.
            unsafe {
                core::arch::asm!(
                    "2:",
                    ".rept {groups}",
                    group!(),
                    ".endr",
                    "subs {n}, {n}, #1",
                    "bne 2b",
                    groups = const per_pass(N),
                    x = inout(reg) x.0.as_ptr() => _,
                    p = inout(reg) rows.as_ptr().cast::<i8>() => _,
                    n = inout(reg) N / (4 * per_pass(N)) => _,
                    s1 = const N, s2 = const 2 * N, s3 = const 3 * N,
                    a0 = inout(reg) a0, a1 = inout(reg) a1, a2 = inout(reg) a2, a3 = inout(reg) a3,
                    e = out(reg) _, o = out(reg) _, t1 = out(reg) _, t2 = out(reg) _,
                    t3 = out(reg) _, u = out(reg) _,
                    options(nostack, readonly)
                );
            }
        }
        [a0, a1, a2, a3]
    }
    #[cfg(not(micrornn_dsp))]
    {
        let mut acc = [0i32; 4];
        for (acc, row) in acc.iter_mut().zip(rows) {
            for (w, x) in row.chunks_exact(4).zip(x.0.chunks_exact(4)) {
                if let [x0, x2, x1, x3] = *x {
                    *acc = mac4(w, pair(x0, x2), pair(x1, x3), *acc);
                }
            }
        }
        acc
    }
}

/// As [`scalar`], bit for bit, with the `SMLAD` loop for `N % 4 == 0`.
#[inline(always)]
pub fn packed<const N: usize>(
    w: &[[i8; N]; N],
    h: &mut [i16; N],
    mut f: impl FnMut(usize, i32) -> i16,
) {
    if !N.is_multiple_of(4) {
        return scalar(w, h, f);
    }
    let x = interleave(h);
    for (q, (rows, out)) in w.chunks_exact(4).zip(h.chunks_exact_mut(4)).enumerate() {
        if let Ok(rows) = <&[[i8; N]; 4]>::try_from(rows) {
            for (k, (h, sum)) in out.iter_mut().zip(mac_quad(rows, &x)).enumerate() {
                *h = f(4 * q + k, sum);
            }
        }
    }
}
