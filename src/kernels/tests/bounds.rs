//! The promise of [`Kernels`] that slices of mismatched lengths never cause an out-of-bounds
//! access or a panic, the kernels working on the overlapping part only, checked for every kernel
//! of a table.
//!
//! Each argument is carved out of the middle of its own buffer, with [`GUARD`] floats on either
//! side. Every call runs twice, once with the guards holding NaN and once holding `1e30`, and:
//! 1. the guards are bit-identical afterwards (nothing is written outside the slices);
//! 2. both runs give bit-identical results (nothing outside the slices is read: a guard that
//!    was read would change the result, a NaN one poisoning it);
//! 3. the results are those of the scalar specification on the same slices (within a tolerance
//!    far below the effect of a missing or extra term), and bit-identical to the input wherever
//!    the specification leaves an element alone (beyond the overlap nothing is written).
//!
//! The data lies in `[0.05, 1.05]`, so no update leaves an element of the overlap unchanged by
//! coincidence (except clipping, which is exact in every table).

use super::*;

/// Floats on each side of a slice: more than a kernel could overrun by with one vector of the
/// widest table (16 lanes) at any offset.
const GUARD: usize = 64;

/// Base lengths of the element-wise checks: around every vector width and its multiples.
const LENGTHS: [usize; 18] = [
    0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100,
];

/// How much longer one argument is than the others (or the others than it).
const DELTAS: [usize; 5] = [1, 3, 8, 16, 17];

/// Shapes `(rows, cols)` of the matrix checks.
const MATRIX_SHAPES: [(usize, usize); 8] = [
    (1, 1),
    (3, 7),
    (4, 16),
    (5, 17),
    (13, 8),
    (7, 33),
    (9, 65),
    (2, 230),
];

/// A kernel call on slices: returns the kernel's return value (0 for kernels without one).
type Call<'a> = &'a dyn Fn(&Kernels, &mut [&mut [f32]]) -> f32;

/// The contents of every argument after a call, and the call's return value.
type Outcome = (Vec<Vec<f32>>, f32);

/// Runs `call` of `k` on copies of `inputs`, each in the middle of its own buffer whose guards
/// hold `guard`, and checks that the guards are untouched.
fn call_guarded(k: &Kernels, inputs: &[Vec<f32>], guard: f32, call: Call, what: &str) -> Outcome {
    let mut buffers: Vec<Vec<f32>> = inputs
        .iter()
        .map(|data| {
            let mut buffer = vec_of(GUARD, guard);
            buffer.extend_from_slice(data);
            buffer.extend(std::iter::repeat_n(guard, GUARD));
            buffer
        })
        .collect();
    let mut slices: Vec<&mut [f32]> = buffers
        .iter_mut()
        .zip(inputs)
        .map(|(buffer, data)| &mut buffer[GUARD..GUARD + data.len()])
        .collect();
    let returned = call(k, &mut slices);
    let mut outputs = Vec::new();
    for (i, (buffer, data)) in buffers.iter().zip(inputs).enumerate() {
        let (before, rest) = buffer.split_at(GUARD);
        let (inside, after) = rest.split_at(data.len());
        assert!(
            before
                .iter()
                .chain(after)
                .all(|x| x.to_bits() == guard.to_bits()),
            "{what}: {} wrote outside argument {i}",
            k.name
        );
        outputs.push(inside.to_vec());
    }
    (outputs, returned)
}

fn bits(outcome: &Outcome) -> (Vec<Vec<u32>>, u32) {
    let slices = outcome
        .0
        .iter()
        .map(|s| s.iter().map(|x| x.to_bits()).collect());
    (slices.collect(), outcome.1.to_bits())
}

fn close(got: f32, want: f32) -> bool {
    got.to_bits() == want.to_bits() || (got - want).abs() <= 1e-5 * (1.0 + want.abs())
}

/// Checks 1–3 of the module docs for one call of `k` on arguments of the lengths `lens`.
fn check(k: &Kernels, op: &str, lens: &[usize], call: Call) {
    let what = format!("{} {op} lengths {lens:?}", k.name);
    let seed = lens.iter().fold(0xb0_0d5, |h, &n| h * 31 + n as u64);
    let mut r = rng(seed);
    let inputs: Vec<Vec<f32>> = lens
        .iter()
        .map(|&n| random(&mut r, n, 0.5).iter().map(|x| x + 0.55).collect())
        .collect();
    let got = call_guarded(k, &inputs, f32::NAN, call, &what);
    let again = call_guarded(k, &inputs, 1e30, call, &what);
    assert_eq!(bits(&got), bits(&again), "{what}: reads outside the slices");
    let want = call_guarded(&SCALAR, &inputs, f32::NAN, call, &what);
    assert!(
        close(got.1, want.1),
        "{what}: returns {} not {}",
        got.1,
        want.1
    );
    for (i, ((got, want), input)) in got.0.iter().zip(&want.0).zip(&inputs).enumerate() {
        for (j, ((&g, &w), &x)) in got.iter().zip(want).zip(input).enumerate() {
            if w.to_bits() == x.to_bits() {
                assert_eq!(g.to_bits(), x.to_bits(), "{what}: writes argument {i}[{j}]");
            } else {
                assert!(close(g, w), "{what}: argument {i}[{j}] is {g} not {w}");
            }
        }
    }
}

/// Argument lengths of an element-wise kernel of `arity` slices: all `n`, then one argument at
/// a time longer, and shorter, than the others.
fn elementwise_lens(arity: usize) -> Vec<Vec<usize>> {
    let mut cases = Vec::new();
    for n in LENGTHS {
        cases.push(std::vec![n; arity]);
        for d in DELTAS {
            for i in 0..arity {
                let mut longer = std::vec![n; arity];
                longer[i] = n + d;
                let mut shorter = std::vec![n + d; arity];
                shorter[i] = n;
                cases.extend([longer, shorter]);
            }
        }
    }
    cases
}

/// Every element-wise kernel but the optimizers on [`elementwise_lens`].
fn elementwise_kernels_stay_in_bounds(k: &Kernels) {
    let cases: [(&str, usize, Call); 10] = [
        ("tanh", 1, &|k, s| {
            (k.tanh)(s[0]);
            0.0
        }),
        ("sigmoid", 1, &|k, s| {
            (k.sigmoid)(s[0]);
            0.0
        }),
        ("clip", 1, &|k, s| {
            (k.clip)(s[0], 0.5);
            0.0
        }),
        ("sum_squares", 1, &|k, s| (k.sum_squares)(s[0])),
        ("scale", 1, &|k, s| {
            (k.scale)(s[0], -1.5);
            0.0
        }),
        ("axpy", 2, &|k, s| {
            let [x, y] = s else { unreachable!() };
            (k.axpy)(0.75, x, y);
            0.0
        }),
        ("exp", 2, &|k, s| {
            let [x, out] = s else { unreachable!() };
            (k.exp)(x, out, 0.5, 0.7)
        }),
        ("add_tanh", 2, &|k, s| {
            let [x, y] = s else { unreachable!() };
            (k.add_tanh)(x, y);
            0.0
        }),
        ("tanh_backward", 2, &|k, s| {
            let [h, dh] = s else { unreachable!() };
            (k.tanh_backward)(h, dh);
            0.0
        }),
        ("softmax", 2, &|k, s| {
            let [logits, probs] = s else { unreachable!() };
            (k.softmax)(logits, probs)
        }),
    ];
    for (op, arity, call) in cases {
        for lens in elementwise_lens(arity) {
            check(k, op, &lens, call);
        }
    }
}

/// Every optimizer kernel on [`elementwise_lens`].
fn optimizers_stay_in_bounds(k: &Kernels) {
    let step = AdamStep {
        lr: 0.01,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
    };
    let cases: [(&str, usize, Call); 5] = [
        ("sgd", 2, &|k, s| {
            let [p, g] = s else { unreachable!() };
            (k.sgd)(p, g, 0.1);
            0.0
        }),
        ("momentum", 3, &|k, s| {
            let [p, g, v] = s else { unreachable!() };
            (k.momentum)(p, g, v, 0.1, 0.9);
            0.0
        }),
        ("adagrad", 3, &|k, s| {
            let [p, g, mem] = s else { unreachable!() };
            (k.adagrad)(p, g, mem, 0.1, 1e-8);
            0.0
        }),
        ("adagrad_clip", 3, &|k, s| {
            let [p, g, mem] = s else { unreachable!() };
            (k.adagrad_clip)(p, g, mem, 0.1, 1e-8, 0.5);
            0.0
        }),
        ("adam", 4, &|k, s| {
            let [p, g, m, v] = s else { unreachable!() };
            (k.adam)(p, g, m, v, &step);
            0.0
        }),
    ];
    for (op, arity, call) in cases {
        for lens in elementwise_lens(arity) {
            check(k, op, &lens, call);
        }
    }
}

/// `matvec` (`w`, `x`, `b`, `y`) and `matvec_t`/`rank1` (`w`, a row-length vector, a
/// column-length vector): `w` a partial row short or long, each vector short or long.
fn products_stay_in_bounds(k: &Kernels) {
    let matvec: Call = &|k, s| {
        let [w, x, b, y] = s else { unreachable!() };
        (k.matvec)(w, x, b, y);
        0.0
    };
    let matvec_t: Call = &|k, s| {
        let [w, x, y] = s else { unreachable!() };
        (k.matvec_t)(w, x, y);
        0.0
    };
    let rank1: Call = &|k, s| {
        let [w, a, b] = s else { unreachable!() };
        (k.rank1)(w, a, b);
        0.0
    };
    for (r, c) in MATRIX_SHAPES {
        let rc = r * c;
        for lens in [
            [rc, c, r, r],
            [rc - 1, c, r, r],
            [rc + c / 2 + 1, c, r, r],
            [rc + 2 * c, c, r, r],
            [rc, c, r - 1, r],
            [rc, c, r, r - 1],
            [rc, c, r + 5, r + 5],
            [rc, 0, r, r],
            [0, c, r, r],
            [rc, c, 0, r],
        ] {
            check(k, "matvec", &lens, matvec);
        }
        for lens in [
            [rc, r, c],
            [rc - 1, r, c],
            [rc + c / 2 + 1, r + 1, c],
            [rc, r - 1, c],
            [rc, r + 3, c],
            [rc, r, 0],
            [0, r, c],
            [rc, r, c - 1],
            [rc, r, c + 1],
        ] {
            check(k, "matvec_t", &lens, matvec_t);
            check(k, "rank1", &lens, rank1);
        }
    }
}

/// `rank_k` and `rank_k_set` (`w`, `a`, `b`): `w` short or long, `a` and `b` not whole numbers
/// of steps or of different step counts, and `rows` or `cols` zero.
fn rank_k_stays_in_bounds(k: &Kernels) {
    for (r, c) in MATRIX_SHAPES {
        let rank_k = |k: &Kernels, s: &mut [&mut [f32]]| {
            let [w, a, b] = s else { unreachable!() };
            (k.rank_k)(w, a, b, r, c);
            0.0
        };
        let rank_k_set = |k: &Kernels, s: &mut [&mut [f32]]| {
            let [w, a, b] = s else { unreachable!() };
            (k.rank_k_set)(w, a, b, r, c);
            0.0
        };
        let rc = r * c;
        for steps in [1, 3] {
            let (ka, kb) = (steps * r, steps * c);
            for lens in [
                [rc, ka, kb],
                [rc - 1, ka, kb],
                [rc + c + 1, ka, kb],
                [rc, ka - 1, kb],
                [rc, ka, kb - 1],
                [rc, ka + 2 * r, kb],
                [rc, ka, kb + 2 * c],
                [rc, 0, kb],
                [0, ka, kb],
            ] {
                check(k, "rank_k", &lens, &rank_k);
                check(k, "rank_k_set", &lens, &rank_k_set);
            }
        }
    }
    for (rows, cols) in [(0, 5), (5, 0), (0, 0)] {
        let rank_k = move |k: &Kernels, s: &mut [&mut [f32]]| {
            let [w, a, b] = s else { unreachable!() };
            (k.rank_k)(w, a, b, rows, cols);
            (k.rank_k_set)(w, a, b, rows, cols);
            0.0
        };
        check(k, "rank_k with an empty side", &[25, 10, 10], &rank_k);
    }
}

/// `gemm` (`c`, `a`, `b`): each slice a little short or long for the shape, `A` row-major and
/// transposed.
fn gemm_stays_in_bounds(k: &Kernels) {
    for (rows, depth, cols) in [(1, 1, 1), (3, 7, 5), (5, 9, 17), (9, 30, 33), (6, 3, 49)] {
        for transposed in [false, true] {
            let shape = GemmShape {
                rows,
                depth,
                cols,
                a_row: if transposed { 1 } else { depth },
                a_col: if transposed { rows } else { 1 },
            };
            let gemm = |k: &Kernels, s: &mut [&mut [f32]]| {
                let [c, a, b] = s else { unreachable!() };
                (k.gemm)(c, a, b, &shape);
                0.0
            };
            let (c, a, b) = (rows * cols, rows * depth, depth * cols);
            for lens in [
                [c, a, b],
                [c - 1, a, b],
                [c + cols + 1, a, b],
                [c, a - 1, b],
                [c, a + 5, b],
                [c, a, b - 1],
                [c, a, b + cols + 1],
                [0, a, b],
                [c, 0, b],
                [c, a, 0],
            ] {
                check(k, &format!("gemm transposed={transposed}"), &lens, &gemm);
            }
        }
    }
}

/// Every kernel of `k` on slices of mismatched lengths (the module docs say what is checked).
pub(super) fn mismatched_lengths_stay_in_bounds(k: &Kernels) {
    elementwise_kernels_stay_in_bounds(k);
    optimizers_stay_in_bounds(k);
    products_stay_in_bounds(k);
    rank_k_stays_in_bounds(k);
    gemm_stays_in_bounds(k);
}
