//! The quantized GRU update in place, the three gates' products and every unit's gate math in
//! one pass (what [`QGru`](crate::QGru)'s steps compute; PyTorch `nn.GRU`'s equations, gate
//! order r, z, n):
//!
//! ```text
//! x_g[j] = requantize(Σ_i w_x[g][j][i]·x_i, x_multiplier[g][j])     (a token t: w_x[g][j][t] << 12)
//! h_g[j] = requantize(Σ_k w_h[g][j][k]·h_k, h_multiplier[g][j])
//! r_j    = sigmoid_q15(x_r[j] + b_x[r][j] + h_r[j] + b_h[r][j])
//! z_j    = sigmoid_q15(x_z[j] + b_x[z][j] + h_z[j] + b_h[z][j])
//! n_j    = tanh_q15(x_n[j] + b_x[n][j] + (r_j·(h_n[j] + b_h[n][j]) + 2^14) >> 15)
//! h'_j   = n_j + (z_j·(h_j − n_j) + 2^14) >> 15
//! ```
//!
//! every sum saturating, every product over the old `h`. [`scalar`] is the specification: the
//! dot products of [`super::scalar::dot`], then [`unit()`] per unit. [`packed`] is the same with
//! the sums of [`recurrent`]'s `SMLAD` kernel: for `H % 4 == 0` the state (and a dense input,
//! for `I % 4 == 0`) is interleaved once, then per four units the four rows of each gate (stride
//! `H`, or `I` for the input, known at compile time: immediate offsets, all columns unrolled up
//! to 64) go through one `mac_quad`, six per quad, and the four units' gate math follows while
//! the sums are in registers. No `i32` buffer of `3H` pre-activations, no per-row slicing, no
//! repack per product. On ARMv7E-M the sums are the `asm!` of [`recurrent`]; elsewhere the same
//! operations in Rust, so the host tests hold this exact algorithm to [`scalar`] bit for bit.

use super::recurrent::{self, Interleaved};
use super::scalar::{dot, requantize, saturate_i16};
use super::sigmoid::sigmoid_q15;
use super::tanh::tanh_q15;

/// The parameters of a GRU update besides the state: rows by gate (r, z, n) and unit.
#[derive(Clone, Copy, Debug)]
pub struct GruWeights<'a, const I: usize, const H: usize> {
    /// Input weights: `w_x[g][j]` holds the `I` weights into unit `j` of gate `g`.
    pub w_x: &'a [[[i8; I]; H]; 3],
    /// Recurrent weights: `w_h[g][j]` holds the `H` weights into unit `j` of gate `g`.
    pub w_h: &'a [[[i8; H]; H]; 3],
    /// Requantization multiplier of each input row ([`requantize`]).
    pub x_multiplier: &'a [[i32; H]; 3],
    /// Requantization multiplier of each recurrent row.
    pub h_multiplier: &'a [[i32; H]; 3],
    /// Input-side gate biases, Q12.
    pub b_x: &'a [[i32; H]; 3],
    /// Recurrent-side gate biases, Q12 (`b_h[2]` inside the reset product).
    pub b_h: &'a [[i32; H]; 3],
}

/// The input of one update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum GruInput<'a, const I: usize> {
    /// A token id: the input sum of row `(g, j)` is `w_x[g][j][token] << 12` (a one-hot input
    /// of 1.0 in Q12); 0 for a token `≥ I` (the caller rejects those).
    Token(usize),
    /// A dense sample in Q12.
    Q12(&'a [i16; I]),
}

/// The raw (not yet requantized) sums of one unit: input and recurrent, per gate r, z, n.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UnitSums {
    /// `Σ_i w_x[g][j][i]·x_i` (or the token's weight `<< 12`) for g = r, z, n.
    pub input: [i32; 3],
    /// `Σ_k w_h[g][j][k]·h_k` for g = r, z, n.
    pub recurrent: [i32; 3],
}

/// One unit's new state from its sums and its old state `old`: the specification of the gate
/// math (the module docs' equations).
#[inline(always)]
pub fn unit<const I: usize, const H: usize>(
    weights: &GruWeights<'_, I, H>,
    j: usize,
    sums: UnitSums,
    old: i16,
) -> i16 {
    let at = |v: &[i32; H]| v.get(j).copied().unwrap_or(0);
    let ([mx_r, mx_z, mx_n], [mh_r, mh_z, mh_n]) = (weights.x_multiplier, weights.h_multiplier);
    let ([bx_r, bx_z, bx_n], [bh_r, bh_z, bh_n]) = (weights.b_x, weights.b_h);
    let ([sx_r, sx_z, sx_n], [sh_r, sh_z, sh_n]) = (sums.input, sums.recurrent);
    let gate = |sx: i32, mx: &[i32; H], bx: &[i32; H], sh: i32, mh: &[i32; H], bh: &[i32; H]| {
        requantize(sx, at(mx))
            .saturating_add(at(bx))
            .saturating_add(requantize(sh, at(mh)))
            .saturating_add(at(bh))
    };
    let r = sigmoid_q15(gate(sx_r, mx_r, bx_r, sh_r, mh_r, bh_r));
    let z = sigmoid_q15(gate(sx_z, mx_z, bx_z, sh_z, mh_z, bh_z));
    let recurrent = i64::from(requantize(sh_n, at(mh_n)).saturating_add(at(bh_n)));
    // |recurrent·r| < 2^31·2^15: exact in i64; the shifted result fits an i32.
    let reset = ((recurrent * i64::from(r) + (1 << 14)) >> 15) as i32;
    let n = tanh_q15(
        requantize(sx_n, at(mx_n))
            .saturating_add(at(bx_n))
            .saturating_add(reset),
    );
    let (n, z, old) = (i32::from(n), i32::from(z), i32::from(old));
    // |z·(old − n)| ≤ 32767·65534 + 2^14 < 2^31: no overflow.
    saturate_i16(n + ((z * (old - n) + (1 << 14)) >> 15))
}

/// The input sum of row `(g, j)` for a token: its weight `<< 12`, 0 past the row.
#[inline(always)]
fn token_sum<const I: usize>(row: &[i8; I], token: usize) -> i32 {
    i32::from(row.get(token).copied().unwrap_or(0)) << 12
}

/// `out[r] = dot(w[r], x)` for every row. Not inlined, one copy per width `C`: inlined into
/// [`scalar`], LLVM keeps the state's values across rows in spilled registers, and with a
/// run-time width it unrolls by four with spills too, both costly on ARMv6-M (no immediate
/// offsets for `LDRSB`/`LDRSH`): at (32, 32) on the M0 a dense step took 62,806 instructions
/// inlined and 58,416 with a run-time width, against 49,416 so.
#[inline(never)]
fn dot_rows<const C: usize>(w: &[[i8; C]], x: &[i16; C], out: &mut [i32]) {
    for (out, row) in out.iter_mut().zip(w) {
        *out = dot(row, x);
    }
}

/// The update by dot products over the old state, then [`unit()`] per unit: the specification.
#[inline(always)]
pub fn scalar<const I: usize, const H: usize>(
    weights: &GruWeights<'_, I, H>,
    input: GruInput<'_, I>,
    h: &mut [i16; H],
) {
    let (mut input_sums, mut recurrent_sums) = ([[0i32; H]; 3], [[0i32; H]; 3]);
    for (out, w) in input_sums.iter_mut().zip(weights.w_x) {
        match input {
            GruInput::Token(token) => {
                for (out, row) in out.iter_mut().zip(w) {
                    *out = token_sum(row, token);
                }
            }
            GruInput::Q12(x) => dot_rows(w, x, out),
        }
    }
    for (out, w) in recurrent_sums.iter_mut().zip(weights.w_h) {
        dot_rows(w, h, out);
    }
    let ([x_r, x_z, x_n], [h_r, h_z, h_n]) = (&input_sums, &recurrent_sums);
    for (j, h) in h.iter_mut().enumerate() {
        let at = |v: &[i32; H]| v.get(j).copied().unwrap_or(0);
        let sums = UnitSums {
            input: [at(x_r), at(x_z), at(x_n)],
            recurrent: [at(h_r), at(h_z), at(h_n)],
        };
        *h = unit(weights, j, sums, *h);
    }
}

/// The input as the packed path reads it: a token, or the sample interleaved for `SMLAD`
/// (`I % 4 == 0`), or as it is (other `I`: plain dot products).
enum PackedInput<'a, const I: usize> {
    Token(usize),
    Interleaved(Interleaved<I>),
    Plain(&'a [i16; I]),
}

impl<const I: usize> PackedInput<'_, I> {
    /// The input sums of four rows (four units of one gate).
    #[inline(always)]
    fn sums(&self, rows: &[[i8; I]; 4]) -> [i32; 4] {
        match self {
            Self::Token(token) => rows.each_ref().map(|row| token_sum(row, *token)),
            Self::Interleaved(x) => recurrent::mac_quad(rows, x),
            Self::Plain(x) => rows.each_ref().map(|row| dot(row, *x)),
        }
    }
}

/// Rows `4q..4q + 4` of an `H × N` matrix as one array, if they exist.
#[inline(always)]
fn quad_rows<const N: usize, const H: usize>(w: &[[i8; N]; H], q: usize) -> Option<&[[i8; N]; 4]> {
    w.get(4 * q..4 * q + 4)
        .and_then(|rows| <&[[i8; N]; 4]>::try_from(rows).ok())
}

/// The input and recurrent sums of units `4q..4q + 4` of one gate (its rows `w_x`, `w_h`).
/// Inlined: called, the three calls per quad cost about 40 instructions each around the sums.
#[inline(always)]
fn quad_sums<const I: usize, const H: usize>(
    input: &PackedInput<'_, I>,
    state: &Interleaved<H>,
    w_x: &[[i8; I]; H],
    w_h: &[[i8; H]; H],
    q: usize,
) -> ([i32; 4], [i32; 4]) {
    let x = quad_rows(w_x, q).map_or([0; 4], |rows| input.sums(rows));
    let h = quad_rows(w_h, q).map_or([0; 4], |rows| recurrent::mac_quad(rows, state));
    (x, h)
}

/// As [`scalar`], bit for bit, with the `SMLAD` sums of [`recurrent`] for `H % 4 == 0`, four
/// units a time (the module docs); other `H` take [`scalar`].
#[inline(always)]
pub fn packed<const I: usize, const H: usize>(
    weights: &GruWeights<'_, I, H>,
    input: GruInput<'_, I>,
    h: &mut [i16; H],
) {
    if !H.is_multiple_of(4) || H == 0 {
        return scalar(weights, input, h);
    }
    let input = match input {
        GruInput::Token(token) => PackedInput::Token(token),
        GruInput::Q12(x) if I.is_multiple_of(4) && I > 0 => {
            PackedInput::Interleaved(recurrent::interleave(x))
        }
        GruInput::Q12(x) => PackedInput::Plain(x),
    };
    let state = recurrent::interleave(h);
    for (q, out) in h.chunks_exact_mut(4).enumerate() {
        let ([wx_r, wx_z, wx_n], [wh_r, wh_z, wh_n]) = (weights.w_x, weights.w_h);
        let r = quad_sums(&input, &state, wx_r, wh_r, q);
        let z = quad_sums(&input, &state, wx_z, wh_z, q);
        let n = quad_sums(&input, &state, wx_n, wh_n, q);
        for (k, out) in out.iter_mut().enumerate() {
            let sums = UnitSums {
                input: [r.0[k], z.0[k], n.0[k]],
                recurrent: [r.1[k], z.1[k], n.1[k]],
            };
            *out = unit(weights, 4 * q + k, sums, *out);
        }
    }
}
