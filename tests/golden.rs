//! Golden parity: loss and gradients of the Rust core against an independent float64 numpy
//! reference, `scripts/reference.py`, which wrote `tests/golden/*.json`.
//!
//! Regenerate the goldens (from the repository root):
//!
//! ```sh
//! python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy
//! /tmp/venv/bin/python scripts/reference.py
//! ```
//!
//! The script checks its own gradients against float64 central finite differences before it
//! writes anything. Each file holds the model's parameters as float32 values (the reference
//! computed with exactly those; loaded here from their bit patterns, `*_bits`), the inputs, the
//! start hidden state, the loss, the last hidden state and all five gradients.
//!
//! Tolerance: every value `a` computed here and its reference `b` must satisfy
//! `|a - b| ≤ 1e-5 · max(|b|, scale)`, where `scale` is the largest `|b|` of the same tensor
//! (for the loss, `scale = |loss|`): 1e-5 relative, with entries far below the tensor's largest
//! measured relative to that largest entry (f32 accumulates absolute, not relative, error there).
//!
//! Margin: with the scalar kernels the worst error over all cases is 5.4e-7, 20× inside the
//! bound. The bound also limits kernel approximations: perturbing the reference's tanh by an
//! absolute 2e-6 (the `TANH_MAX_ERROR` budget) moves the `notebook_004` gradients by up to
//! 1.8e-5 in this metric, because near saturation (|h| ≈ 0.9996 there) the factor `1 - h²` has
//! a large relative error. A vectorized tanh must stay within about 5e-7 of `tanhf` (measured:
//! 4.6e-6 worst case at 5e-7) for these goldens to hold.

use micrornn::{Rnn, Sequence, Tape, Targets};
use serde_json::Value;

const RTOL: f64 = 1e-5;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/golden/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        Value::Number(n) => vec![n.as_f64().expect("number")],
        other => panic!("expected numbers, found {other}"),
    }
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

/// Loads f32 values from their exact bit patterns (`bits`), checking them against the readable
/// decimals beside them (`decimals`; a JSON parser may be an f64 ulp off, which the rounding to
/// f32 absorbs).
fn fill(dst: &mut [f32], bits: &Value, decimals: &Value) {
    fn ints(v: &Value) -> Vec<u32> {
        match v {
            Value::Array(items) => items.iter().flat_map(ints).collect(),
            Value::Number(n) => vec![u32::try_from(n.as_u64().expect("bits")).expect("u32")],
            other => panic!("expected bit patterns, found {other}"),
        }
    }
    let bits = ints(bits);
    let decimals = floats(decimals);
    assert_eq!(dst.len(), bits.len(), "golden tensor has the wrong size");
    assert_eq!(
        dst.len(),
        decimals.len(),
        "golden tensor has the wrong size"
    );
    for ((d, &b), &v) in dst.iter_mut().zip(&bits).zip(&decimals) {
        *d = f32::from_bits(b);
        assert_eq!(*d, v as f32, "golden bits and decimal disagree");
    }
}

/// Largest `|a - b| / max(|b|, max|b|)` over a tensor; panics above [`RTOL`].
fn compare(case: &str, what: &str, actual: &[f32], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len(), "{case}/{what}: size");
    let scale = expected.iter().fold(0.0f64, |m, b| m.max(b.abs()));
    assert!(
        scale > 0.0,
        "{case}/{what}: an all-zero golden tests nothing"
    );
    let mut worst = 0.0f64;
    for (i, (&a, &b)) in actual.iter().zip(expected).enumerate() {
        let err = (f64::from(a) - b).abs() / b.abs().max(scale);
        assert!(
            err <= RTOL,
            "{case}/{what}[{i}]: rust {a} vs numpy {b} (relative error {err:.2e} > {RTOL:.0e})"
        );
        worst = worst.max(err);
    }
    worst
}

/// Runs the case through `Tape::forward`/`backward` and compares everything with the golden.
/// Returns the Rust gradients.
fn check<const I: usize, const H: usize, const O: usize, const T: usize>(
    name: &str,
) -> Rnn<I, H, O> {
    let g = load(name);
    assert_eq!(g["name"], name);
    let sizes = ["inputs", "hidden", "outputs", "steps"].map(|k| g[k].as_u64().unwrap() as usize);
    assert_eq!(sizes, [I, H, O, T], "{name}: sizes");

    let mut model = Box::new(Rnn::<I, H, O>::ZERO);
    for (tensor, key) in model
        .tensors_mut()
        .into_iter()
        .zip(["w_xh", "w_hh", "b_h", "w_hy", "b_y"])
    {
        fill(tensor, &g["params_bits"][key], &g["params"][key]);
    }
    let mut h_start = [0.0f32; H];
    fill(&mut h_start, &g["h_start_bits"], &g["h_start"]);

    let tokens;
    let mut dense = vec![[0.0f32; I]; 0];
    let inputs = if let Some(t) = g["sequence"].get("tokens") {
        tokens = usizes(t);
        Sequence::Tokens(&tokens)
    } else {
        dense.resize(T, [0.0; I]);
        fill(
            dense.as_flattened_mut(),
            &g["sequence"]["dense_bits"],
            &g["sequence"]["dense"],
        );
        Sequence::Dense(&dense)
    };
    let each;
    let targets = if let Some(t) = g["targets"].get("each") {
        each = usizes(t);
        Targets::Each(&each)
    } else {
        Targets::Last(g["targets"]["last"].as_u64().unwrap() as usize)
    };
    let classes = g["classes"].as_u64().unwrap() as usize;
    let window = g["window"].as_u64().map(|w| w as usize);

    let mut tape = Box::new(Tape::<T, H, O>::ZERO);
    let loss = tape
        .forward(&*model, inputs, targets, &h_start, classes)
        .unwrap();
    let mut grads = Box::new(Rnn::<I, H, O>::ZERO);
    tape.backward(&*model, inputs, &mut *grads, window).unwrap();

    let expected = &g["expected"];
    let mut report = vec![(
        "loss",
        compare(name, "loss", &[loss], &[expected["loss"].as_f64().unwrap()]),
    )];
    report.push((
        "last_hidden",
        compare(
            name,
            "last_hidden",
            tape.last_hidden(),
            &floats(&expected["last_hidden"]),
        ),
    ));
    for (tensor, key) in grads
        .tensors()
        .into_iter()
        .zip(["w_xh", "w_hh", "b_h", "w_hy", "b_y"])
    {
        report.push((key, compare(name, key, tensor, &floats(&expected[key]))));
    }
    println!("{name}: worst relative errors {report:?}");
    *grads
}

#[test]
fn min_char_rnn_chunk_with_carried_hidden_state() {
    let grads = check::<13, 10, 13, 25>("min_char_rnn");
    // The carried state matters: the golden's start state is far from zero.
    let g = load("min_char_rnn");
    assert!(floats(&g["h_start"]).iter().any(|h| h.abs() > 0.5));
    assert!(grads.w_hh.as_flattened().iter().any(|&x| x != 0.0));
}

#[test]
fn notebook_000_chunk_with_bptt_window_5() {
    let windowed = check::<11, 16, 11, 25>("notebook_000_window5");
    let full = check::<11, 16, 11, 25>("notebook_000_full");
    // Same model and data: the window must change the recurrent gradients (far beyond the
    // tolerance), and leave the output layer's alone (up to summation order).
    let differs = windowed
        .w_hh
        .as_flattened()
        .iter()
        .zip(full.w_hh.as_flattened())
        .any(|(a, b)| (a - b).abs() > 1e-3 * b.abs().max(1e-2));
    assert!(differs, "window 5 gave the full-BPTT gradient");
    let output_layer = |g: &Rnn<11, 16, 11>| [g.w_hy.as_flattened(), &g.b_y[..]].concat();
    for (a, b) in output_layer(&windowed).iter().zip(output_layer(&full)) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn notebook_004_many_to_one_classifier() {
    check::<18, 16, 2, 6>("notebook_004");
}

#[test]
fn dense_inputs_with_padded_outputs() {
    let grads = check::<4, 6, 5, 9>("dense_padded");
    // Outputs 3 and 4 are padding: exactly no gradient.
    assert_eq!(&grads.b_y[3..], &[0.0, 0.0]);
    assert!(grads.w_hy[3..].iter().flatten().all(|&x| x == 0.0));
}
