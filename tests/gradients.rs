//! Every gradient of [`Tape::backward`] against central finite differences.
//!
//! The finite differences are taken of a float64 evaluation of the loss (the Elman step below,
//! the readout, targets, windows and the comparison in `common/finite_differences.rs`, shared
//! with the GRU's test), from the same f32 parameters. That float64 loss is tied to the crate: at
//! the unperturbed parameters it must equal [`Tape::forward`]'s f32 loss within 1e-5 relative.
//! The f32 forward is also checked directly, by a directional derivative along a random ±1
//! direction per tensor (`ε = 1e-3` on the f32 loss, tolerance 1e-2: a loose check that needs no
//! float64 copy). The f32 gradients are observed within ~1e-6 of the element-wise bound's scale,
//! so it has a wide margin, yet a wrong term (a missing transpose, an off-by-one step, an ignored
//! window) is off by far more.

#[path = "common/finite_differences.rs"]
mod finite_differences;

use finite_differences::check_cell;
use micrornn::{Input, Rnn, Sequence, Tape, Targets};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// The Elman step in float64 over flat parameters `[w_xh | w_hh | b_h | w_hy | b_y]` (the order
/// and layout of `Rnn::tensors`: `w_xh` is I rows of H): `h = tanh(W_xh·x + W_hh·h_prev + b_h)`.
fn elman_step<const I: usize>(
    h: usize,
    p: &[f64],
    input: Input<'_, I>,
    h_prev: &[f64],
) -> Vec<f64> {
    let (w_hh, b_h) = (I * h, I * h + h * h);
    let mut a: Vec<f64> = (0..h)
        .map(|j| p[b_h + j] + (0..h).map(|k| p[w_hh + j * h + k] * h_prev[k]).sum::<f64>())
        .collect();
    match input {
        Input::Token(id) => (0..h).for_each(|j| a[j] += p[id * h + j]),
        Input::Dense(x) => {
            for (i, &xi) in x.iter().enumerate() {
                (0..h).for_each(|j| a[j] += f64::from(xi) * p[i * h + j]);
            }
        }
    }
    a.iter().map(|v| v.tanh()).collect()
}

const NAMES: [&str; 5] = ["w_xh", "w_hh", "b_h", "w_hy", "b_y"];

fn random_model<const I: usize, const H: usize, const O: usize>(seed: u64) -> Rnn<I, H, O> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut model = Rnn::<I, H, O>::ZERO;
    model.init_gaussian(&mut rng, 0.5);
    // Non-zero biases, so that every term is exercised.
    for b in model.b_h.iter_mut().chain(model.b_y.iter_mut()) {
        *b = (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.4;
    }
    model
}

fn random_hidden<const H: usize>(seed: u64) -> [f32; H] {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    core::array::from_fn(|_| (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 1.6)
}

/// Runs forward and backward, checks every gradient entry against float64 central differences
/// and every tensor against an f32 directional derivative; returns the crate's gradients.
fn check<const I: usize, const H: usize, const O: usize, const T: usize>(
    label: &str,
    model: &Rnn<I, H, O>,
    inputs: Sequence<'_, I>,
    targets: Targets<'_>,
    h_start: &[f32; H],
    classes: usize,
    window: Option<usize>,
) -> Rnn<I, H, O> {
    let step =
        |p: &[f64], input: Input<'_, I>, h_prev: &[f64]| elman_step::<I>(H, p, input, h_prev);
    let (grads, _) = check_cell::<_, I, H, O, T>(
        label, model, inputs, targets, h_start, classes, window, &step,
    );
    let mut tape = Tape::<T, H, O>::ZERO;

    // Directional derivatives of the crate's own f32 loss (full BPTT only: the crate has no
    // truncated forward).
    if window.is_none() {
        let mut rng = Xoshiro128PlusPlus::seed_from_u64(99);
        for (n, name) in NAMES.iter().enumerate() {
            let g = grads.tensors()[n];
            let d: Vec<f32> = g
                .iter()
                .map(|_| if rng.next_u32() & 1 == 0 { 1.0 } else { -1.0 })
                .collect();
            let expected: f64 = g.iter().zip(&d).map(|(&g, &d)| f64::from(g * d)).sum();
            const EPS32: f32 = 1e-3;
            let mut loss_at = |sign: f32| {
                let mut probe = model.clone();
                for (p, &d) in probe.tensors_mut()[n].iter_mut().zip(&d) {
                    *p += sign * EPS32 * d;
                }
                tape.forward(&probe, inputs, targets, h_start, classes)
                    .unwrap()
            };
            let fd = f64::from(loss_at(1.0) - loss_at(-1.0)) / f64::from(2.0 * EPS32);
            let bound = 1e-2 * expected.abs().max(1.0);
            assert!(
                (fd - expected).abs() <= bound,
                "{label}/{name}: directional derivative {fd} vs backward {expected}"
            );
        }
    }
    grads
}

#[test]
fn language_model_loss_with_carried_hidden_state() {
    let model = random_model::<5, 6, 5>(1);
    let tokens = [0, 3, 1, 4, 4, 2, 0, 1, 3, 2];
    let targets = [3, 1, 4, 4, 2, 0, 1, 3, 2, 0];
    check::<5, 6, 5, 12>(
        "each",
        &model,
        Sequence::Tokens(&tokens),
        Targets::Each(&targets),
        &random_hidden(2),
        5,
        None,
    );
}

#[test]
fn final_target_loss() {
    let model = random_model::<5, 6, 3>(3);
    let tokens = [4, 0, 2, 2, 1, 3, 0];
    check::<5, 6, 3, 8>(
        "last",
        &model,
        Sequence::Tokens(&tokens),
        Targets::Last(2),
        &[0.0; 6],
        3,
        None,
    );
}

#[test]
fn dense_inputs_and_padded_outputs() {
    let model = random_model::<3, 6, 4>(4);
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(5);
    let dense: Vec<[f32; 3]> = (0..8)
        .map(|_| core::array::from_fn(|_| rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0))
        .collect();
    let targets = [0, 2, 1, 1, 0, 2, 2, 1];
    let grads = check::<3, 6, 4, 8>(
        "dense",
        &model,
        Sequence::Dense(&dense),
        Targets::Each(&targets),
        &random_hidden(6),
        3,
        None,
    );
    // Output 3 is masked (classes = 3): no gradient at all.
    assert_eq!(grads.b_y[3], 0.0);
    assert!(grads.w_hy[3].iter().all(|&g| g == 0.0));
}

#[test]
fn bptt_window_is_the_gradient_of_the_truncated_loss() {
    let model = random_model::<5, 6, 5>(7);
    let tokens = [1, 4, 0, 0, 3, 2, 4, 1, 2, 3, 0, 4];
    let targets = [4, 0, 0, 3, 2, 4, 1, 2, 3, 0, 4, 1];
    let h_start = random_hidden(8);
    let full = check::<5, 6, 5, 12>(
        "full",
        &model,
        Sequence::Tokens(&tokens),
        Targets::Each(&targets),
        &h_start,
        5,
        None,
    );
    for k in [5, 0, 1, 3] {
        let windowed = check::<5, 6, 5, 12>(
            &format!("window {k}"),
            &model,
            Sequence::Tokens(&tokens),
            Targets::Each(&targets),
            &h_start,
            5,
            Some(k),
        );
        assert_ne!(windowed.w_hh, full.w_hh, "window {k} changed nothing");
    }
    // A window on a many-to-one loss.
    check::<5, 6, 5, 12>(
        "last, window 2",
        &model,
        Sequence::Tokens(&tokens),
        Targets::Last(3),
        &h_start,
        5,
        Some(2),
    );
}

#[test]
fn mean_readout_with_and_without_a_window() {
    let model = random_model::<5, 6, 3>(14);
    let tokens = [4, 0, 2, 2, 1, 3, 0, 1];
    for window in [None, Some(2)] {
        check::<5, 6, 3, 8>(
            &format!("mean, window {window:?}"),
            &model,
            Sequence::Tokens(&tokens),
            Targets::Mean(1),
            &random_hidden(15),
            3,
            window,
        );
    }
}

#[test]
fn window_at_least_the_chunk_length_is_full_bptt() {
    let model = random_model::<5, 6, 5>(9);
    let tokens = [2, 2, 0, 1, 4, 3, 3, 0, 1];
    let targets = [2, 0, 1, 4, 3, 3, 0, 1, 4];
    let mut tape = Tape::<12, 6, 5>::ZERO;
    let seq = Sequence::Tokens(&tokens);
    tape.forward(&model, seq, Targets::Each(&targets), &random_hidden(10), 5)
        .unwrap();
    let mut full = Rnn::ZERO;
    tape.backward(&model, seq, &mut full, None).unwrap();
    // Window n-1 already reaches step 0 from the last output; n, T and beyond must change nothing.
    for k in [tokens.len() - 1, tokens.len(), 12, 1000, usize::MAX] {
        let mut windowed = Rnn::ZERO;
        tape.backward(&model, seq, &mut windowed, Some(k)).unwrap();
        // The two sweeps add the same terms in a different order: equal up to f32 rounding.
        for (n, (a, b)) in windowed
            .tensors()
            .into_iter()
            .zip(full.tensors())
            .enumerate()
        {
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-6 * scale,
                    "window {k}, {}: {x} vs {y}",
                    NAMES[n]
                );
            }
        }
    }
    // And a shorter window does differ, so the comparison above can fail.
    let mut short = Rnn::ZERO;
    tape.backward(&model, seq, &mut short, Some(tokens.len() - 2))
        .unwrap();
    let max_diff = short
        .w_hh
        .as_flattened()
        .iter()
        .zip(full.w_hh.as_flattened())
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(max_diff > 0.0);
}

#[test]
fn backward_rejects_inputs_of_another_length() {
    let model = random_model::<5, 6, 5>(11);
    let mut tape = Tape::<12, 6, 5>::ZERO;
    let tokens = [1, 2, 3];
    tape.forward(
        &model,
        Sequence::Tokens(&tokens),
        Targets::Last(0),
        &[0.0; 6],
        5,
    )
    .unwrap();
    let mut grads = Rnn::ZERO;
    assert!(
        tape.backward(&model, Sequence::Tokens(&tokens[..2]), &mut grads, None)
            .is_err()
    );
}

#[test]
fn backward_overwrites_whatever_the_gradients_held() {
    let model = random_model::<5, 6, 5>(13);
    let dense: Vec<[f32; 5]> = (0..9u64).map(|s| random_hidden::<5>(100 + s)).collect();
    let tokens = [2, 2, 0, 1, 4, 3, 3, 0, 1];
    let targets = [2, 0, 1, 4, 3, 3, 0, 1, 4];
    let mut garbage = random_model::<5, 6, 5>(14);
    garbage.b_h[1] = f32::NAN;
    garbage.w_hh[2][3] = f32::INFINITY;
    let bits = |m: &Rnn<5, 6, 5>| -> Vec<u32> {
        m.tensors().concat().into_iter().map(f32::to_bits).collect()
    };
    // Lengths below, at and above one block of the batched backward pass.
    for n in [1, 2, 8, 9] {
        for seq in [Sequence::Tokens(&tokens[..n]), Sequence::Dense(&dense[..n])] {
            for targets in [Targets::Each(&targets[..n]), Targets::Last(3)] {
                let mut tape = Tape::<12, 6, 5>::ZERO;
                tape.forward(&model, seq, targets, &random_hidden(15), 5)
                    .unwrap();
                for window in [None, Some(2)] {
                    let mut clean = Rnn::ZERO;
                    tape.backward(&model, seq, &mut clean, window).unwrap();
                    let mut dirty = garbage.clone();
                    tape.backward(&model, seq, &mut dirty, window).unwrap();
                    assert_eq!(
                        bits(&clean),
                        bits(&dirty),
                        "n {n}, {seq:?}, {targets:?}, window {window:?}"
                    );
                }
            }
        }
    }
}
