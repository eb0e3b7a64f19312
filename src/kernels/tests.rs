//! One harness run against every kernel table (as matrixmultiply's `test_a_kernel`), one
//! `#[test]` per table: each operation against the scalar specification over lengths `0..=70`,
//! matrices of odd shapes and seeded random data, with the tolerances stated here; every
//! operation on slices of mismatched lengths (in bounds, results from the overlap only); the
//! error bounds of the tanh, exp and Adagrad-step approximations over their whole range.
//!
//! A table whose instructions the CPU lacks is skipped with a message; with `CI=true` a skipped
//! table whose features the CPU reports (`is_x86_feature_detected!`) fails the test instead, so
//! CI cannot pass without exercising every table its machine runs.

use super::*;
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

extern crate std;
use std::vec::Vec;
use std::{format, println};

mod bounds;
use bounds::mismatched_lengths_stay_in_bounds;

/// Relative tolerance of sums of products against the scalar reference, scaled by `Σ|terms|`
/// (different summation order and FMA).
const DOT_TOLERANCE: f32 = 2e-6;
/// Relative tolerance of element-wise updates (FMA vs separate multiply and add).
const ELEMENT_TOLERANCE: f32 = 1e-6;

const SHAPES: [(usize, usize); 17] = [
    (0, 0),
    (0, 5),
    (5, 0),
    (1, 1),
    (3, 7),
    (7, 3),
    (13, 17),
    (16, 16),
    (25, 33),
    (65, 100),
    (100, 65),
    (67, 71),
    (3, 115),
    (2, 120),
    // Wide enough for AVX-512's 16 lanes to reach every blocking path of `lincomb` (more
    // than 13 vectors; one and more 8-vector blocks before the remainder).
    (2, 230),
    (3, 300),
    (2, 529),
];

fn rng(seed: u64) -> Xoshiro128PlusPlus {
    Xoshiro128PlusPlus::seed_from_u64(seed)
}

fn random(rng: &mut Xoshiro128PlusPlus, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.next_u32() >> 8) as f32 / 16_777_216.0 * 2.0 - 1.0) * scale)
        .collect()
}

#[track_caller]
fn assert_close(what: &str, got: &[f32], want: &[f32], bound: impl Fn(usize) -> f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        assert!(
            err <= bound(i) || (g.is_nan() && w.is_nan()),
            "{what}: element {i}: got {g}, want {w} (error {err}, bound {})",
            bound(i)
        );
    }
}

/// Whether this CPU reports the instructions of the table `name`, asked independently of
/// [`variants`] (which is what is under test).
fn cpu_has(name: &str) -> bool {
    match name {
        "scalar" | "portable" => true,
        #[cfg(target_arch = "x86_64")]
        "sse2" => std::is_x86_feature_detected!("sse2"),
        #[cfg(target_arch = "x86_64")]
        "avx2+fma" => std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
        #[cfg(target_arch = "x86_64")]
        "avx512f" => {
            std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
        }
        // The NEON table is only compiled where the target guarantees NEON.
        "neon" => cfg!(all(target_arch = "aarch64", target_feature = "neon")),
        _ => false,
    }
}

fn on_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Runs every check of the harness against the table `name`, or says that it skips it; under
/// CI a skip of a table the CPU can run is a failure.
fn test_table(name: &str) {
    assert!(
        compiled_variants().contains(&name),
        "kernel table {name} is not compiled into this build"
    );
    let Some(k) = variants().find(|k| k.name == name) else {
        assert!(
            !(on_ci() && cpu_has(name)),
            "kernel table {name}: the CPU has its instructions but it was not exercised (CI=true)"
        );
        println!("skipping kernel table {name}: this CPU lacks its instructions");
        return;
    };
    println!("testing kernel table {name}");
    activations_match_scalar(k);
    element_ops_match_scalar(k);
    optimizers_match_scalar(k);
    matrices_match_scalar(k);
    gemm_matches_scalar(k);
    mismatched_lengths_stay_in_bounds(k);
    tanh_error_is_bounded_over_the_whole_range(k);
    sigmoid_error_is_bounded_over_the_whole_range(k);
    exp_error_is_bounded_over_the_whole_range(k);
    softmax_handles_extreme_logits(k);
    adagrad_step_error_is_bounded(k);
    gemm_matches_scalar(k);
}

#[test]
fn scalar_table() {
    test_table("scalar");
}

#[test]
fn portable_table() {
    test_table("portable");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn sse2_table() {
    test_table("sse2");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_fma_table() {
    test_table("avx2+fma");
}

#[cfg(target_arch = "x86_64")]
#[test]
fn avx512f_table() {
    test_table("avx512f");
}

#[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
#[test]
fn neon_table() {
    test_table("neon");
}

#[test]
fn every_compiled_table_has_a_test() {
    let tested: &[&str] = &[
        "scalar",
        "portable",
        #[cfg(target_arch = "x86_64")]
        "sse2",
        #[cfg(target_arch = "x86_64")]
        "avx2+fma",
        #[cfg(target_arch = "x86_64")]
        "avx512f",
        #[cfg(all(target_arch = "aarch64", target_feature = "neon"))]
        "neon",
    ];
    assert_eq!(compiled_variants(), tested);
}

/// The activations (tanh, exp, their derivative, softmax) against the scalar specification, on
/// vectors of every length `0..=70`.
fn activations_match_scalar(k: &Kernels) {
    let s = &SCALAR;
    let mut r = rng(0x5eed);
    for n in 0..=70 {
        let what = |op: &str| format!("{} {op} n={n}", k.name);
        let x = random(&mut r, n, 2.0);
        let y0 = random(&mut r, n, 2.0);
        let (mut a, mut b) = (x.clone(), x.clone());
        (k.tanh)(&mut a);
        (s.tanh)(&mut b);
        assert_close(&what("tanh"), &a, &b, |_| TANH_MAX_ERROR);

        let (mut a, mut b) = (random(&mut r, n, 12.0), vec![]);
        b.extend_from_slice(&a);
        (k.sigmoid)(&mut a);
        (s.sigmoid)(&mut b);
        assert_close(&what("sigmoid"), &a, &b, |_| SIGMOID_MAX_ERROR);

        let (mut a, mut b) = (y0.clone(), y0.clone());
        (k.add_tanh)(&x, &mut a);
        (s.add_tanh)(&x, &mut b);
        assert_close(&what("add_tanh"), &a, &b, |_| TANH_MAX_ERROR);

        // Plain, then shifted and scaled as a categorical draw uses it: exp((x - 1.5)·0.7).
        for (shift, scale) in [(0.0, 1.0), (1.5, 0.7)] {
            let (mut a, mut b) = (vec_of(n, 7.0), vec_of(n, 7.0));
            let sum_a = (k.exp)(&x, &mut a, shift, scale);
            let sum_b = (s.exp)(&x, &mut b, shift, scale);
            let what = |op: &str| what(&format!("{op} (x - {shift})·{scale}"));
            assert_close(&what("exp"), &a, &b, |i| EXP_MAX_REL_ERROR * b[i]);
            assert_close(&what("exp sum"), &[sum_a], &[sum_b], |_| {
                (EXP_MAX_REL_ERROR + 1e-5) * sum_b
            });
        }

        let h: Vec<f32> = x.iter().map(|x| x.tanh()).collect();
        let (mut a, mut b) = (y0.clone(), y0.clone());
        (k.tanh_backward)(&h, &mut a);
        (s.tanh_backward)(&h, &mut b);
        assert_close(&what("tanh_backward"), &a, &b, |i| {
            ELEMENT_TOLERANCE * b[i].abs()
        });

        let logits: Vec<f32> = random(&mut r, n, 8.0);
        let (mut a, mut b) = (vec_of(n, -1.0), vec_of(n, -1.0));
        let la = (k.softmax)(&logits, &mut a);
        let lb = (s.softmax)(&logits, &mut b);
        assert_close(&what("softmax"), &a, &b, |i| {
            SOFTMAX_MAX_ERROR * b[i] + 1e-30
        });
        if n == 0 {
            assert_eq!(la, f32::NEG_INFINITY, "{}", what("softmax of nothing"));
            assert_eq!(a, b);
        } else {
            assert!(
                (la - lb).abs() <= SOFTMAX_MAX_ERROR * lb.abs().max(1.0),
                "{}: log-sum-exp {la} vs {lb}",
                what("softmax")
            );
            let total: f32 = a.iter().sum();
            assert!(
                (total - 1.0).abs() < 1e-5,
                "{}: sums to {total}",
                what("softmax")
            );
        }
    }
}

/// The linear element-wise operations (axpy, clip, sum of squares, scale) against the scalar
/// specification, on vectors of every length `0..=70`.
fn element_ops_match_scalar(k: &Kernels) {
    let s = &SCALAR;
    let mut r = rng(0x5eee);
    for n in 0..=70 {
        let what = |op: &str| format!("{} {op} n={n}", k.name);
        let x = random(&mut r, n, 2.0);
        let y0 = random(&mut r, n, 2.0);
        let alpha = 0.75;
        let abs_sum: Vec<f32> = x
            .iter()
            .zip(&y0)
            .map(|(x, y)| (alpha * x).abs() + y.abs())
            .collect();

        let (mut a, mut b) = (y0.clone(), y0.clone());
        (k.axpy)(alpha, &x, &mut a);
        (s.axpy)(alpha, &x, &mut b);
        assert_close(&what("axpy"), &a, &b, |i| ELEMENT_TOLERANCE * abs_sum[i]);

        let (mut a, mut b) = (x.clone(), x.clone());
        (k.clip)(&mut a, 0.9);
        (s.clip)(&mut b, 0.9);
        assert_eq!(a, b, "{}", what("clip"));

        let (ssa, ssb) = ((k.sum_squares)(&x), (s.sum_squares)(&x));
        assert!(
            (ssa - ssb).abs() <= DOT_TOLERANCE * ssb,
            "{}: {ssa} vs {ssb}",
            what("sum_squares")
        );

        let (mut a, mut b) = (x.clone(), x.clone());
        (k.scale)(&mut a, -1.5);
        (s.scale)(&mut b, -1.5);
        assert_eq!(a, b, "{}", what("scale"));
    }
}

/// The optimizer updates against the scalar specification, on vectors of every length `0..=70`:
/// parameters `x`, gradients `y0`, memories positive.
fn optimizers_match_scalar(k: &Kernels) {
    let s = &SCALAR;
    let mut r = rng(0x5eef);
    for n in 0..=70 {
        let what = |op: &str| format!("{} {op} n={n}", k.name);
        let x = random(&mut r, n, 2.0);
        let y0 = random(&mut r, n, 2.0);
        let mem0: Vec<f32> = random(&mut r, n, 1.0).iter().map(|m| m.abs()).collect();
        let bound = |p: &[f32]| {
            let p = p.to_vec();
            move |i: usize| ELEMENT_TOLERANCE * (p[i].abs() + 1.0)
        };
        let (mut pa, mut pb) = (x.clone(), x.clone());
        (k.sgd)(&mut pa, &y0, 0.1);
        (s.sgd)(&mut pb, &y0, 0.1);
        assert_close(&what("sgd"), &pa, &pb, bound(&pb));

        let (mut pa, mut pb, mut va, mut vb) = (x.clone(), x.clone(), mem0.clone(), mem0.clone());
        (k.momentum)(&mut pa, &y0, &mut va, 0.1, 0.9);
        (s.momentum)(&mut pb, &y0, &mut vb, 0.1, 0.9);
        assert_close(&what("momentum p"), &pa, &pb, bound(&pb));
        assert_close(&what("momentum v"), &va, &vb, bound(&vb));

        let (mut pa, mut pb, mut ma, mut mb) = (x.clone(), x.clone(), mem0.clone(), mem0.clone());
        (k.adagrad)(&mut pa, &y0, &mut ma, 0.1, 1e-8);
        (s.adagrad)(&mut pb, &y0, &mut mb, 0.1, 1e-8);
        assert_close(&what("adagrad p"), &pa, &pb, bound(&pb));
        assert_close(&what("adagrad mem"), &ma, &mb, bound(&mb));

        let (mut pa, mut pb, mut ma, mut mb) = (x.clone(), x.clone(), mem0.clone(), mem0.clone());
        let (mut ga, mut gb) = (y0.clone(), y0.clone());
        (k.adagrad_clip)(&mut pa, &mut ga, &mut ma, 0.1, 1e-8, 0.5);
        (s.adagrad_clip)(&mut pb, &mut gb, &mut mb, 0.1, 1e-8, 0.5);
        assert_eq!(ga, gb, "{}", what("adagrad_clip g"));
        assert_close(&what("adagrad_clip p"), &pa, &pb, bound(&pb));
        assert_close(&what("adagrad_clip mem"), &ma, &mb, bound(&mb));
        // Fusing is the same as clipping, then Adagrad.
        let (mut pc, mut mc, mut gc) = (x.clone(), mem0.clone(), y0.clone());
        (s.clip)(&mut gc, 0.5);
        (s.adagrad)(&mut pc, &gc, &mut mc, 0.1, 1e-8);
        assert_eq!(
            (pb.clone(), mb.clone()),
            (pc, mc),
            "{}",
            what("scalar adagrad_clip")
        );

        let step = AdamStep {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        };
        let (mut pa, mut pb) = (x.clone(), x.clone());
        let (mut ma, mut mb, mut va, mut vb) = (y0.clone(), y0.clone(), mem0.clone(), mem0.clone());
        (k.adam)(&mut pa, &y0, &mut ma, &mut va, &step);
        (s.adam)(&mut pb, &y0, &mut mb, &mut vb, &step);
        assert_close(&what("adam p"), &pa, &pb, bound(&pb));
        assert_close(&what("adam m"), &ma, &mb, bound(&mb));
        assert_close(&what("adam v"), &va, &vb, bound(&vb));
    }
}

/// The matrix operations against the scalar specification, on matrices of the [`SHAPES`].
fn matrices_match_scalar(k: &Kernels) {
    let s = &SCALAR;
    let mut r = rng(0x5ef0);
    // Matrices of odd shapes.
    for (rows, cols) in SHAPES {
        let what = |op: &str| format!("{} {op} {rows}x{cols}", k.name);
        let w = random(&mut r, rows * cols, 1.0);
        let x = random(&mut r, cols, 1.0);
        let xr = random(&mut r, rows, 1.0);
        let bias = random(&mut r, rows, 1.0);
        let abs_w: Vec<f32> = w.iter().map(|w| w.abs()).collect();

        let (mut a, mut b) = (vec_of(rows, 9.0), vec_of(rows, 9.0));
        (k.matvec)(&w, &x, &bias, &mut a);
        (s.matvec)(&w, &x, &bias, &mut b);
        let mut mag = vec_of(rows, 0.0);
        (s.matvec)(&abs_w, &abs(&x), &abs(&bias), &mut mag);
        assert_close(&what("matvec"), &a, &b, |i| DOT_TOLERANCE * mag[i] + 1e-30);

        let y0 = random(&mut r, cols, 1.0);
        let (mut a, mut b) = (y0.clone(), y0.clone());
        (k.matvec_t)(&w, &xr, &mut a);
        (s.matvec_t)(&w, &xr, &mut b);
        let mut mag = abs(&y0);
        (s.matvec_t)(&abs_w, &abs(&xr), &mut mag);
        assert_close(&what("matvec_t"), &a, &b, |i| DOT_TOLERANCE * mag[i]);

        let (mut a, mut b) = (w.clone(), w.clone());
        (k.rank1)(&mut a, &xr, &x);
        (s.rank1)(&mut b, &xr, &x);
        let mut mag = abs_w.clone();
        (s.rank1)(&mut mag, &abs(&xr), &abs(&x));
        assert_close(&what("rank1"), &a, &b, |i| DOT_TOLERANCE * mag[i]);

        for steps in [0, 1, 5, 25] {
            let at = random(&mut r, steps * rows, 1.0);
            let bt = random(&mut r, steps * cols, 1.0);
            let (mut a, mut b) = (w.clone(), w.clone());
            (k.rank_k)(&mut a, &at, &bt, rows, cols);
            (s.rank_k)(&mut b, &at, &bt, rows, cols);
            let mut mag = abs_w.clone();
            (s.rank_k)(&mut mag, &abs(&at), &abs(&bt), rows, cols);
            assert_close(&what(&format!("rank_k k={steps}")), &a, &b, |i| {
                DOT_TOLERANCE * mag[i]
            });
            // rank_k_set: bit for bit rank_k onto zero, whatever `w` held before.
            let mut set = w.clone();
            (k.rank_k_set)(&mut set, &at, &bt, rows, cols);
            let mut onto_zero = vec_of(w.len(), 0.0);
            (k.rank_k)(&mut onto_zero, &at, &bt, rows, cols);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&set), bits(&onto_zero), "{}", what("rank_k_set"));
        }
    }
}

fn vec_of(n: usize, value: f32) -> Vec<f32> {
    std::vec![value; n]
}

fn abs(x: &[f32]) -> Vec<f32> {
    x.iter().map(|x| x.abs()).collect()
}

/// The inputs of the approximation tests: a dense grid over `[-20, 20]`, every 4099th bit
/// pattern of `f32` (all magnitudes, both signs), and the special values.
fn whole_range() -> Vec<f32> {
    let mut xs: Vec<f32> = (-200_000..=200_000).map(|i| i as f32 * 1e-4).collect();
    xs.extend((0..=u32::MAX / 4099).map(|i| f32::from_bits(i * 4099)));
    xs.extend([
        0.0,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-40,
        -1e-40,
        1e-20,
        -1e-20,
        f32::EPSILON,
        7.9,
        -7.9,
        9.0,
        -9.0,
        88.0,
        -88.0,
        1e30,
        -1e30,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
    ]);
    xs
}

/// [`Kernels::sigmoid`] within [`SIGMOID_MAX_ERROR`] of `1 / (1 + expf(-x))` over the whole
/// range, in `[0, 1]`, NaN for NaN.
fn sigmoid_error_is_bounded_over_the_whole_range(k: &Kernels) {
    let xs = whole_range();
    let mut ys = xs.clone();
    (k.sigmoid)(&mut ys);
    let mut worst = (0.0f32, 0.0f32);
    for (&x, &y) in xs.iter().zip(&ys) {
        if x.is_nan() {
            assert!(y.is_nan(), "{}: sigmoid(NaN) = {y}", k.name);
            continue;
        }
        assert!((0.0..=1.0).contains(&y), "{}: sigmoid({x}) = {y}", k.name);
        let err = (y - 1.0 / (1.0 + libm::expf(-x))).abs();
        if err > worst.0 {
            worst = (err, x);
        }
    }
    println!(
        "{}: sigmoid max abs error {:e} at {}",
        k.name, worst.0, worst.1
    );
    assert!(worst.0 <= SIGMOID_MAX_ERROR, "{}: {worst:?}", k.name);
    let mut y = [f32::INFINITY, f32::NEG_INFINITY, 0.0];
    (k.sigmoid)(&mut y);
    let want = [1.0, 0.0, 0.5];
    assert!(
        y.iter()
            .zip(want)
            .all(|(y, w)| (y - w).abs() <= SIGMOID_MAX_ERROR),
        "{}: sigmoid(∞, -∞, 0) = {y:?}",
        k.name
    );
}

fn tanh_error_is_bounded_over_the_whole_range(k: &Kernels) {
    let xs = whole_range();
    let mut ys = xs.clone();
    (k.tanh)(&mut ys);
    let mut worst = (0.0f32, 0.0f32);
    for (&x, &y) in xs.iter().zip(&ys) {
        let want = libm::tanhf(x);
        if x.is_nan() {
            assert!(y.is_nan(), "{}: tanh(NaN) = {y}", k.name);
            continue;
        }
        assert!((-1.0..=1.0).contains(&y), "{}: tanh({x}) = {y}", k.name);
        let err = (y - want).abs();
        if err > worst.0 {
            worst = (err, x);
        }
        // Accurate relative to tiny normal inputs; zero and subnormals stay tiny.
        if x.abs() < f32::MIN_POSITIVE {
            assert!(y.abs() <= f32::MIN_POSITIVE, "{}: tanh({x}) = {y}", k.name);
        } else if x.abs() < 1e-3 {
            assert!(
                (y - x).abs() <= 1e-6 * x.abs(),
                "{}: tanh({x}) = {y}",
                k.name
            );
        }
    }
    println!(
        "{}: tanh max abs error {:e} at {}",
        k.name, worst.0, worst.1
    );
    assert!(worst.0 <= TANH_MAX_ERROR, "{}: {worst:?}", k.name);
    for x in [f32::INFINITY, f32::MAX, 20.0] {
        let mut y = [x, -x];
        (k.tanh)(&mut y);
        assert!(
            (y[0] - 1.0).abs() <= TANH_MAX_ERROR && y[1] == -y[0],
            "{}: tanh(±{x}) = {y:?}",
            k.name
        );
    }
}

fn exp_error_is_bounded_over_the_whole_range(k: &Kernels) {
    let xs = whole_range();
    let mut ys = vec_of(xs.len(), 0.0);
    (k.exp)(&xs, &mut ys, 0.0, 1.0);
    let mut worst = (0.0f32, 0.0f32);
    for (&x, &y) in xs.iter().zip(&ys) {
        let want = libm::expf(x);
        if x.is_nan() {
            assert!(y.is_nan(), "{}: exp(NaN) = {y}", k.name);
        } else if (-87.0..=88.0).contains(&x) {
            let err = (y - want).abs() / want;
            if err > worst.0 {
                worst = (err, x);
            }
        } else if x < -87.0 {
            assert!(
                (0.0..=2.0 * f32::MIN_POSITIVE).contains(&y),
                "{}: exp({x}) = {y}",
                k.name
            );
        } else {
            assert!(y >= 1.6e38, "{}: exp({x}) = {y}", k.name);
        }
    }
    println!("{}: exp max rel error {:e} at {}", k.name, worst.0, worst.1);
    assert!(worst.0 <= EXP_MAX_REL_ERROR, "{}: {worst:?}", k.name);
    let mut y = [7.0; 2];
    (k.exp)(&[0.0, f32::NEG_INFINITY], &mut y, 0.0, 1.0);
    assert_eq!(y, [1.0, 0.0], "{}: exp(0), exp(-inf)", k.name);
}

fn softmax_handles_extreme_logits(k: &Kernels) {
    let logits = [1e30, 0.0, -1e30, 80.0, -80.0, 1e30];
    let mut p = [0.0; 6];
    let lse = (k.softmax)(&logits, &mut p);
    assert_close(
        &format!("{} extreme softmax", k.name),
        &p,
        &[0.5, 0.0, 0.0, 0.0, 0.0, 0.5],
        |_| 1e-6,
    );
    assert!(
        (lse - (1e30 + 2f32.ln())).abs() <= 1e24,
        "{}: {lse}",
        k.name
    );
    let mut p = [0.0; 3];
    let lse = (k.softmax)(&[f32::NAN, 0.0, 1.0], &mut p);
    assert!(
        lse.is_nan() || p.iter().any(|p| p.is_nan()),
        "{}: NaN logit",
        k.name
    );
}

#[test]
fn variants_start_with_scalar_and_contain_active() {
    let names: Vec<&str> = variants().map(|k| k.name).collect();
    assert_eq!(names.first(), Some(&"scalar"));
    assert!(names.contains(&active().name), "{names:?}");
    #[cfg(feature = "force-scalar")]
    assert_eq!(active().name, "scalar");
    // Nothing in the library tests calls `select`: the default is in use.
    #[cfg(all(not(feature = "force-scalar"), target_arch = "x86_64", feature = "std"))]
    {
        assert_eq!(
            active().name,
            if std::is_x86_feature_detected!("avx512f")
                && std::is_x86_feature_detected!("avx2")
                && std::is_x86_feature_detected!("fma")
            {
                "avx512f"
            } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
            {
                "avx2+fma"
            } else {
                "sse2"
            }
        );
    }
    #[cfg(all(not(feature = "force-scalar"), target_arch = "aarch64"))]
    assert_eq!(active().name, "neon");
}

fn adagrad_step_error_is_bounded(k: &Kernels) {
    // p = 0, so the new p is minus the step; memories from 1e-8 to 1e8.
    let n = 4096;
    let g: Vec<f32> = (0..n).map(|i| ((i % 17) as f32 - 8.0) * 0.37).collect();
    let mem: Vec<f32> = (0..n)
        .map(|i| 10f32.powf(i as f32 / n as f32 * 16.0 - 8.0))
        .collect();
    let mut worst = 0.0f32;
    for clipped in [false, true] {
        let (mut pa, mut pb) = (vec_of(n, 0.0), vec_of(n, 0.0));
        let (mut ma, mut mb) = (mem.clone(), mem.clone());
        if clipped {
            let (mut ga, mut gb) = (g.clone(), g.clone());
            (k.adagrad_clip)(&mut pa, &mut ga, &mut ma, 0.1, 1e-8, 2.0);
            (SCALAR.adagrad_clip)(&mut pb, &mut gb, &mut mb, 0.1, 1e-8, 2.0);
        } else {
            (k.adagrad)(&mut pa, &g, &mut ma, 0.1, 1e-8);
            (SCALAR.adagrad)(&mut pb, &g, &mut mb, 0.1, 1e-8);
        }
        let memory_ok = ma
            .iter()
            .zip(&mb)
            .all(|(a, b)| (a - b).abs() <= ELEMENT_TOLERANCE * b);
        assert!(
            memory_ok,
            "{}: memory differs beyond {ELEMENT_TOLERANCE}",
            k.name
        );
        for (a, b) in pa.iter().zip(&pb) {
            if *b != 0.0 {
                worst = worst.max((a - b).abs() / b.abs());
            } else {
                assert_eq!(*a, 0.0, "{}: zero gradient moves p", k.name);
            }
        }
    }
    println!("{}: adagrad step max rel error {worst:e}", k.name);
    assert!(worst <= RSQRT_MAX_REL_ERROR, "{}: {worst:e}", k.name);
}

/// `gemm` against the scalar reference over odd shapes (every blocking path: 4-row blocks and
/// single rows, 3-vector panels, 1 or 2 vectors with and without a partial one, more than one
/// depth panel), with `A` row-major and transposed, onto a non-zero `C`; and slices too short
/// for the shape, which compute exactly what the scalar reference computes (the fitted part).
fn gemm_matches_scalar(k: &Kernels) {
    let mut r = rng(0x6e11);
    for (rows, depth, cols) in [
        (1, 1, 1),
        (3, 7, 5),
        (4, 1, 16),
        (5, 9, 17),
        (9, 130, 33),
        (8, 25, 48),
        (6, 3, 49),
        (7, 140, 65),
        (32, 100, 100),
        (2, 3, 150),
    ] {
        for transposed in [false, true] {
            let shape = GemmShape {
                rows,
                depth,
                cols,
                a_row: if transposed { 1 } else { depth },
                a_col: if transposed { rows } else { 1 },
            };
            let a = random(&mut r, rows * depth, 1.0);
            let b = random(&mut r, depth * cols, 1.0);
            let c0 = random(&mut r, rows * cols, 1.0);
            let (mut got, mut want) = (c0.clone(), c0.clone());
            (k.gemm)(&mut got, &a, &b, &shape);
            (SCALAR.gemm)(&mut want, &a, &b, &shape);
            let mut magnitude = abs(&c0);
            (SCALAR.gemm)(&mut magnitude, &abs(&a), &abs(&b), &shape);
            let what = format!(
                "{} gemm {rows}x{depth}x{cols} transposed={transposed}",
                k.name
            );
            assert_close(&what, &got, &want, |i| DOT_TOLERANCE * magnitude[i]);
            // Short slices: the same fitted part (or nothing) as the reference.
            for (c_len, a_len, b_len) in [
                (rows * cols - 1, rows * depth, depth * cols),
                (rows * cols, rows * depth - 1, depth * cols),
                (rows * cols, rows * depth, depth * cols - 1),
            ] {
                let (mut got, mut want) = (c0[..c_len].to_vec(), c0[..c_len].to_vec());
                (k.gemm)(&mut got, &a[..a_len], &b[..b_len], &shape);
                (SCALAR.gemm)(&mut want, &a[..a_len], &b[..b_len], &shape);
                assert_close(&format!("{what} short"), &got, &want, |_| {
                    DOT_TOLERANCE * 4.0 * depth as f32
                });
            }
        }
    }
}
