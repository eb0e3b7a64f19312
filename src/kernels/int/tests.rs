//! The integer kernels against their specification: the packed (SMLAD) algorithm bit-identical
//! to the scalar reference, saturation at the limits, the tanh table's error bound.

use super::{
    MAX_COLS, TANH_MAX_ERROR_LSB, elman, gru, packed, recurrent, requantize, saturate_i16, scalar,
    sigmoid_q15, tanh_q15,
};

/// xorshift32: deterministic test data without a dependency.
struct Lcg(u32);
impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }

    /// With `extreme` one of `limits` at random, else `random(self)`.
    fn limit_or<T>(
        &mut self,
        extreme: bool,
        limits: [T; 2],
        random: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let [low, high] = limits;
        if !extreme {
            random(self)
        } else if self.next() & 1 == 0 {
            low
        } else {
            high
        }
    }
}

fn random_case(
    rng: &mut Lcg,
    rows: usize,
    cols: usize,
    extreme: bool,
) -> (Vec<i8>, Vec<i16>, Vec<i32>) {
    let w = (0..rows * cols)
        .map(|_| {
            if extreme {
                if rng.next() & 1 == 0 { -128 } else { 127 }
            } else {
                rng.next() as i8
            }
        })
        .collect();
    let x = (0..cols)
        .map(|_| {
            if extreme {
                if rng.next() & 1 == 0 {
                    i16::MIN
                } else {
                    i16::MAX
                }
            } else {
                rng.next() as i16
            }
        })
        .collect();
    let m = (0..rows).map(|_| rng.next() as i32).collect();
    (w, x, m)
}

#[test]
fn packed_matvec_is_bit_identical_to_scalar_over_odd_shapes() {
    let mut rng = Lcg(0x1234_5678);
    for rows in [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 32, 33] {
        for cols in [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, MAX_COLS,
        ] {
            for extreme in [false, true] {
                let (w, x, m) = random_case(&mut rng, rows, cols, extreme);
                let mut want = vec![7i32; rows];
                let mut got = vec![7i32; rows];
                scalar::matvec_requant(&w, &x, &m, &mut want);
                packed::matvec_requant(&w, &x, &m, &mut got);
                assert_eq!(got, want, "rows {rows} cols {cols} extreme {extreme}");
                let mut active = vec![7i32; rows];
                super::matvec_requant(&w, &x, &m, &mut active);
                assert_eq!(active, want);
            }
        }
    }
}

/// `random_case` for an N × N matrix, as arrays: rows, a state, N multipliers.
fn square_case<const N: usize>(rng: &mut Lcg, extreme: bool) -> ([[i8; N]; N], [i16; N], Vec<i32>) {
    let (w, x, m) = random_case(rng, N, N, extreme);
    let mut rows = [[0i8; N]; N];
    for (row, w) in rows.iter_mut().zip(w.chunks_exact(N.max(1))) {
        row.copy_from_slice(w);
    }
    let mut old = [0i16; N];
    old.copy_from_slice(&x);
    (rows, old, m)
}

/// One square case of the in-place recurrent update: the packed path equals the scalar one, the
/// scalar one equals a dot product of every row with the OLD state, and `f` sees `j = 0..N` in
/// order.
fn recurrent_case<const N: usize>(rng: &mut Lcg, extreme: bool) {
    let (rows, old, m) = square_case::<N>(rng, extreme);
    let unit = |j: usize, acc: i32| saturate_i16(requantize(acc, m[j])) ^ (j as i16);
    let mut order = Vec::new();
    let mut want = old;
    recurrent::scalar(&rows, &mut want, |j, acc| {
        order.push(j);
        unit(j, acc)
    });
    assert_eq!(
        order,
        (0..N).collect::<Vec<_>>(),
        "N {N}: f in order, once per unit"
    );
    for (j, (&got, row)) in want.iter().zip(&rows).enumerate() {
        assert_eq!(got, unit(j, scalar::dot(row, &old)), "N {N} unit {j}");
    }
    let mut packed = old;
    recurrent::packed(&rows, &mut packed, unit);
    assert_eq!(packed, want, "N {N} extreme {extreme}");
    let mut active = old;
    super::recurrent_update(&rows, &mut active, unit);
    assert_eq!(active, want);
}

/// `$case::<N>(rng, extreme)` for every size the packed paths treat differently: empty, not a
/// multiple of 4, one quad, unrolled (≤ 64), looped (> 64, with one or two groups per pass),
/// the largest.
macro_rules! each_size {
    ($case:ident, $rng:expr, $extreme:expr) => {
        $case::<0>($rng, $extreme);
        $case::<1>($rng, $extreme);
        $case::<3>($rng, $extreme);
        $case::<4>($rng, $extreme);
        $case::<5>($rng, $extreme);
        $case::<8>($rng, $extreme);
        $case::<12>($rng, $extreme);
        $case::<16>($rng, $extreme);
        $case::<30>($rng, $extreme);
        $case::<32>($rng, $extreme);
        $case::<64>($rng, $extreme);
        $case::<68>($rng, $extreme);
        $case::<72>($rng, $extreme);
        $case::<MAX_COLS>($rng, $extreme);
    };
}

#[test]
fn recurrent_packed_is_bit_identical_to_scalar_over_sizes() {
    let mut rng = Lcg(0x9E37_79B9);
    for extreme in [false, true] {
        each_size!(recurrent_case, &mut rng, extreme);
    }
}

#[test]
fn the_dot_product_is_exact_at_the_int_limits() {
    // MAX_COLS products of -127·-32768: the largest sum fits an i32 exactly.
    let w = vec![-127i8; MAX_COLS];
    let x = vec![i16::MIN; MAX_COLS];
    let exact = 127 * 32768 * MAX_COLS as i64;
    assert!(exact < i64::from(i32::MAX));
    assert_eq!(i64::from(scalar::dot(&w, &x)), exact);
    let mut out = [0i32; 1];
    packed::matvec_requant(&w, &x, &[i32::MAX], &mut out);
    assert_eq!(
        i64::from(out[0]),
        (exact * i64::from(i32::MAX) + (1 << 31)) >> 32
    );
}

#[test]
fn mismatched_lengths_never_read_out_of_bounds() {
    let w = [1i8; 10];
    let x = [2i16; 4];
    let mut out = [9i32; 5];
    packed::matvec_requant(&w, &x, &[1 << 30; 5], &mut out);
    let mut want = [9i32; 5];
    scalar::matvec_requant(&w, &x, &[1 << 30; 5], &mut want);
    assert_eq!(out, want);
    assert_eq!(&out[2..], &[9, 9, 9], "rows without weights are untouched");
}

#[test]
fn requantize_rounds_and_cannot_overflow() {
    assert_eq!(requantize(6, 1 << 30), 2); // 1.5 rounds up
    assert_eq!(requantize(-6, 1 << 30), -1); // -1.5 rounds up too
    assert_eq!(requantize(-3, 1 << 30), -1); // -0.75 rounds to -1
    assert_eq!(requantize(i32::MIN, i32::MIN), 1 << 30);
    assert_eq!(requantize(i32::MAX, i32::MAX), (1 << 30) - 1);
    assert_eq!(requantize(i32::MIN, i32::MAX), -(1 << 30) + 1);
}

#[test]
fn saturation_clamps_instead_of_wrapping() {
    assert_eq!(saturate_i16(40_000), i16::MAX);
    assert_eq!(saturate_i16(-40_000), i16::MIN);
    assert_eq!(saturate_i16(i32::MAX), i16::MAX);
    assert_eq!(saturate_i16(i32::MIN), i16::MIN);
    assert_eq!(saturate_i16(-123), -123);
    assert_eq!(tanh_q15(i32::MAX), 32767);
    assert_eq!(tanh_q15(i32::MIN), -32767);
}

#[test]
fn tanh_q15_is_within_its_stated_error_everywhere() {
    let mut worst = 0.0f64;
    let mut previous = tanh_q15(-(1 << 16) - 1);
    for x in -(1i32 << 16)..=(1 << 16) {
        let got = tanh_q15(x);
        let want = (f64::from(x) / 4096.0).tanh() * 32768.0;
        worst = worst.max((f64::from(got) - want).abs());
        assert!(got >= previous, "monotone at {x}");
        assert_eq!(tanh_q15(-x), -got, "odd at {x}");
        previous = got;
    }
    eprintln!("tanh_q15 max error: {worst} LSB");
    assert!(worst <= TANH_MAX_ERROR_LSB, "max error {worst} LSB");
    assert!(worst > 0.25, "the bound is not vacuous: {worst}");
}

#[test]
fn argmax_takes_the_first_of_equals() {
    assert_eq!(scalar::argmax_i16(&[]), 0);
    assert_eq!(scalar::argmax_i16(&[i16::MIN, i16::MIN]), 0);
    assert_eq!(scalar::argmax_i16(&[1, 5, 5, -2]), 1);
}

/// One case of the fused Elman update: [`elman::packed`] (and the active path) equal
/// [`elman::scalar`], and the scalar one equals [`elman::unit`] on the dot product with the OLD
/// state. Random biases and multipliers over the whole `i32` range exercise every saturation.
fn elman_case<const N: usize>(rng: &mut Lcg, extreme: bool) {
    let (rows, old, m) = square_case::<N>(rng, extreme);
    let multipliers: [i32; N] = core::array::from_fn(|j| m[j] >> if j % 5 == 0 { 0 } else { 10 });
    let biases: [i32; N] = core::array::from_fn(|_| match rng.next() % 4 {
        0 => rng.next() as i32,
        _ => (rng.next() as i32) >> 16,
    });
    let input_row: [i8; N] = core::array::from_fn(|_| rng.next() as i8);
    // Mostly in tanh's live range, sometimes saturating.
    let input_multiplier = match rng.next() % 4 {
        0 => rng.next() as i32,
        _ => (rng.next() as i32) >> 18,
    };
    let units = elman::ElmanUnits {
        multipliers: &multipliers,
        biases: &biases,
        input_row: &input_row,
        input_multiplier,
    };
    let mut want = old;
    elman::scalar(&rows, &mut want, units);
    for (j, (&got, row)) in want.iter().zip(&rows).enumerate() {
        let unit = elman::unit(
            scalar::dot(row, &old),
            multipliers[j],
            biases[j],
            input_row[j],
            units.clamped_input_multiplier(),
        );
        assert_eq!(got, unit, "N {N} unit {j}");
    }
    let mut packed = old;
    elman::packed(&rows, &mut packed, units);
    assert_eq!(packed, want, "N {N} extreme {extreme}");
    let mut active = old;
    super::elman_update(&rows, &mut active, units);
    assert_eq!(active, want);
}

#[test]
fn elman_packed_is_bit_identical_to_scalar_over_sizes() {
    let mut rng = Lcg(0x2545_F491);
    for _ in 0..10 {
        for extreme in [false, true] {
            each_size!(elman_case, &mut rng, extreme);
        }
    }
}

/// The input row's term is `(w·m + 2^7) >> 8` exactly, with the multiplier clamped to
/// ±INPUT_MULTIPLIER_LIMIT; the asm's form (`SMMULR` of `w << 24`) agrees.
#[test]
fn elman_input_term_is_exact_and_clamped() {
    let limit = elman::INPUT_MULTIPLIER_LIMIT;
    for (w, m, used) in [
        (-128i8, i32::MIN, -limit),
        (127, i32::MAX, limit),
        (-128, limit, limit),
        (-1, 1, 1),
        (1, 127, 127),
        (3, -43, -43),
    ] {
        let want = (i64::from(w) * i64::from(used) + 128) >> 8;
        let smmulr = (i64::from(i32::from(w) << 24) * i64::from(used) + (1 << 31)) >> 32;
        assert_eq!(want, smmulr);
        let pre = want.clamp(-(1 << 15), (1 << 15) - 1) as i32;
        let row = [w; 4];
        let units = elman::ElmanUnits {
            multipliers: &[0; 4],
            biases: &[0; 4],
            input_row: &row,
            input_multiplier: m,
        };
        let mut h = [0i16; 4];
        elman::scalar(&[[0; 4]; 4], &mut h, units);
        assert_eq!(h, [tanh_q15(pre); 4], "w {w} m {m}");
        elman::packed(&[[0; 4]; 4], &mut h, units);
        assert_eq!(h, [tanh_q15(pre); 4], "w {w} m {m}");
    }
}

#[test]
fn sigmoid_q15_is_within_its_stated_error_everywhere() {
    use super::{SIGMOID_MAX_ERROR_LSB, sigmoid_q15};
    let mut worst = 0.0f64;
    let mut previous = sigmoid_q15(-(1 << 16) - 1);
    for x in -(1i32 << 16)..=(1 << 16) {
        let got = sigmoid_q15(x);
        let want = 32768.0 / (1.0 + (-f64::from(x) / 4096.0).exp());
        worst = worst.max((f64::from(got) - want).abs());
        assert!(got >= previous, "monotone at {x}");
        assert!((0..=32767).contains(&got));
        assert!(
            (i32::from(sigmoid_q15(-x)) + i32::from(got) - 32767).abs() <= 1,
            "{x}"
        );
        previous = got;
    }
    eprintln!("sigmoid_q15 max error: {worst} LSB");
    assert!(worst <= SIGMOID_MAX_ERROR_LSB, "max error {worst} LSB");
    assert!(worst > 0.5, "the bound is not vacuous: {worst}");
    assert_eq!(sigmoid_q15(i32::MAX), 32767);
    assert_eq!(sigmoid_q15(i32::MIN), 0);
    assert_eq!(sigmoid_q15(0), 16384);
}

/// Three `R × C` matrices of `byte()`, on the heap (the largest case is 786 KB).
fn random_matrices<const R: usize, const C: usize>(
    mut byte: impl FnMut() -> i8,
) -> Box<[[[i8; C]; R]; 3]> {
    let mut matrices = vec![[[0i8; C]; R]; 3];
    for w in matrices.as_flattened_mut().as_flattened_mut() {
        *w = byte();
    }
    matrices
        .into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| unreachable!("three matrices"))
}

/// Random GRU parameters (weights in `[-128, 127]`, every word any `i32`; with `extreme` only
/// the limits), a random state and sample: the packed update equals the scalar one for a dense
/// sample and for every token (one past the inputs too), and the scalar one equals a direct
/// evaluation of the module docs' equations.
fn gru_case<const I: usize, const H: usize>(rng: &mut Lcg, extreme: bool) {
    let byte = |rng: &mut Lcg| rng.limit_or(extreme, [-128, 127], |r| r.next() as i8);
    let word = |rng: &mut Lcg| {
        rng.limit_or(extreme, [i32::MIN, i32::MAX], |r| {
            r.next() as i32 >> (r.next() % 16)
        })
    };
    let half = |rng: &mut Lcg| rng.limit_or(extreme, [i16::MIN, i16::MAX], |r| r.next() as i16);
    let w_x = random_matrices::<H, I>(|| byte(rng));
    let w_h = random_matrices::<H, H>(|| byte(rng));
    let mut words = || [0; H].map(|_| word(rng));
    let (x_multiplier, h_multiplier) = ([(); 3].map(|()| words()), [(); 3].map(|()| words()));
    let (b_x, b_h) = ([(); 3].map(|()| words()), [(); 3].map(|()| words()));
    let weights = gru::GruWeights {
        w_x: &w_x,
        w_h: &w_h,
        x_multiplier: &x_multiplier,
        h_multiplier: &h_multiplier,
        b_x: &b_x,
        b_h: &b_h,
    };
    let old = [0i16; H].map(|_| half(rng));
    let sample = [0i16; I].map(|_| half(rng));
    let inputs = (0..=I)
        .map(gru::GruInput::Token)
        .chain([gru::GruInput::Q12(&sample)]);
    for input in inputs {
        let mut want = old;
        gru::scalar(&weights, input, &mut want);
        let mut got = old;
        gru::packed(&weights, input, &mut got);
        assert_eq!(got, want, "I {I} H {H} extreme {extreme} {input:?}");
        let mut active = old;
        super::gru_update(&weights, input, &mut active);
        assert_eq!(active, want);
        for (j, &new) in want.iter().enumerate() {
            assert_eq!(
                new,
                gru_equations(&weights, input, &old, j),
                "I {I} H {H} unit {j}"
            );
        }
    }
}

/// Unit `j`'s new state by the module docs' equations, written out separately from the kernel.
fn gru_equations<const I: usize, const H: usize>(
    weights: &gru::GruWeights<'_, I, H>,
    input: gru::GruInput<'_, I>,
    old: &[i16; H],
    j: usize,
) -> i16 {
    let x = |g: usize| {
        let row = &weights.w_x[g][j];
        let sum = match input {
            gru::GruInput::Token(t) => row.get(t).map_or(0, |&w| i32::from(w) * 4096),
            gru::GruInput::Q12(x) => scalar::dot(row, x),
        };
        requantize(sum, weights.x_multiplier[g][j])
    };
    let h = |g: usize| {
        requantize(
            scalar::dot(&weights.w_h[g][j], old),
            weights.h_multiplier[g][j],
        )
    };
    let gate = |g: usize| {
        x(g).saturating_add(weights.b_x[g][j])
            .saturating_add(h(g))
            .saturating_add(weights.b_h[g][j])
    };
    let (r, z) = (
        i64::from(sigmoid_q15(gate(0))),
        i64::from(sigmoid_q15(gate(1))),
    );
    let hn = i64::from(h(2).saturating_add(weights.b_h[2][j]));
    let reset = ((hn * r + (1 << 14)) >> 15) as i32;
    let n = i64::from(tanh_q15(
        x(2).saturating_add(weights.b_x[2][j]).saturating_add(reset),
    ));
    let new = n + ((z * (i64::from(old[j]) - n) + (1 << 14)) >> 15);
    saturate_i16(new as i32)
}

#[test]
fn gru_packed_is_bit_identical_to_scalar_over_sizes() {
    let mut rng = Lcg(0x0BAD_F00D);
    for extreme in [false, true] {
        // H: empty, not a multiple of 4, one quad, unrolled (≤ 64), looped (> 64, one or two
        // groups per pass), the largest; I: the same kinds (a dense input with I % 4 != 0
        // takes plain dot products).
        gru_case::<0, 0>(&mut rng, extreme);
        gru_case::<0, 4>(&mut rng, extreme);
        gru_case::<1, 1>(&mut rng, extreme);
        gru_case::<3, 4>(&mut rng, extreme);
        gru_case::<4, 3>(&mut rng, extreme);
        gru_case::<5, 8>(&mut rng, extreme);
        gru_case::<4, 12>(&mut rng, extreme);
        gru_case::<32, 16>(&mut rng, extreme);
        gru_case::<30, 30>(&mut rng, extreme);
        gru_case::<32, 32>(&mut rng, extreme);
        gru_case::<6, 32>(&mut rng, extreme);
        gru_case::<32, 64>(&mut rng, extreme);
        gru_case::<68, 4>(&mut rng, extreme);
        gru_case::<72, 68>(&mut rng, extreme);
        gru_case::<9, 72>(&mut rng, extreme);
        gru_case::<MAX_COLS, 8>(&mut rng, extreme);
        gru_case::<4, MAX_COLS>(&mut rng, extreme);
    }
}
