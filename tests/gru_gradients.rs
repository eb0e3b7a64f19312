//! Every gradient of the GRU's backward pass against central finite differences of an
//! independent float64 GRU written here from PyTorch's `nn.GRU` equations (gate order r, z, n;
//! `b_hn` inside the reset product):
//!
//! ```text
//! r = σ(W_xr·x + b_xr + W_hr·h + b_hr)
//! z = σ(W_xz·x + b_xz + W_hz·h + b_hz)
//! n = tanh(W_xn·x + b_xn + r ⊙ (W_hn·h + b_hn))
//! h' = (1 - z) ⊙ n + z ⊙ h
//! ```
//!
//! The harness (`common/finite_differences.rs`) is the one `tests/gradients.rs` uses for the
//! Elman cell: float64 central differences of the loss, the float64 loss tied to the crate's f32
//! loss within 1e-5 relative, and windowed gradients checked against the truncated loss. It also checks that the generic
//! backward pass (`through_time::backward_steps`, written once over `Cell::backward`) gives the
//! Elman cell the gradients of its own batched backward pass.

#[path = "common/finite_differences.rs"]
mod finite_differences;

use finite_differences::check_cell;
use micrornn::model::cell::{Chunk, Params, StepRecord};
use micrornn::model::{Gru, through_time};
use micrornn::{Cell, Input, Rnn, Sequence, Tape, Targets};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The GRU step in float64 over flat parameters in the order and layout of `Gru::tensor`:
/// `w_xh` (I rows of 3H), `w_hh` (3H rows of H), `b_xh` (3H), `b_hh` (3H), then the readout.
fn gru_step<const I: usize>(h: usize, p: &[f64], input: Input<'_, I>, h_prev: &[f64]) -> Vec<f64> {
    let w_hh = I * 3 * h;
    let b_xh = w_hh + 3 * h * h;
    let b_hh = b_xh + 3 * h;
    // gx[g·h + j] = b_x + W_x·x, gh[g·h + j] = b_h + W_h·h_prev, gates r, z, n.
    let mut gx: Vec<f64> = (0..3 * h).map(|c| p[b_xh + c]).collect();
    match input {
        Input::Token(id) => (0..3 * h).for_each(|c| gx[c] += p[id * 3 * h + c]),
        Input::Dense(x) => {
            for (i, &xi) in x.iter().enumerate() {
                (0..3 * h).for_each(|c| gx[c] += f64::from(xi) * p[i * 3 * h + c]);
            }
        }
    }
    let gh: Vec<f64> = (0..3 * h)
        .map(|c| p[b_hh + c] + (0..h).map(|k| p[w_hh + c * h + k] * h_prev[k]).sum::<f64>())
        .collect();
    (0..h)
        .map(|j| {
            let r = sigmoid(gx[j] + gh[j]);
            let z = sigmoid(gx[h + j] + gh[h + j]);
            let n = (gx[2 * h + j] + r * gh[2 * h + j]).tanh();
            (1.0 - z) * n + z * h_prev[j]
        })
        .collect()
}

fn uniform(rng: &mut Xoshiro128PlusPlus, scale: f32) -> f32 {
    (rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0) * scale
}

/// A GRU with every weight and bias random (biases too, so every term is exercised).
fn random_gru<const I: usize, const H: usize, const O: usize>(seed: u64) -> Gru<I, H, O> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut model = Gru::<I, H, O>::ZERO;
    for index in 0..Gru::<I, H, O>::TENSORS.len() {
        model
            .tensor_mut(index)
            .iter_mut()
            .for_each(|w| *w = uniform(&mut rng, 0.8));
    }
    model
}

fn random_hidden<const H: usize>(seed: u64) -> [f32; H] {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    core::array::from_fn(|_| uniform(&mut rng, 0.8))
}

/// Runs forward and backward, checks every gradient entry against float64 central differences;
/// returns the crate's gradients.
fn check<const I: usize, const H: usize, const O: usize, const T: usize>(
    label: &str,
    model: &Gru<I, H, O>,
    inputs: Sequence<'_, I>,
    targets: Targets<'_>,
    h_start: &[f32; H],
    classes: usize,
    window: Option<usize>,
) -> Gru<I, H, O> {
    let step = |p: &[f64], input: Input<'_, I>, h_prev: &[f64]| gru_step::<I>(H, p, input, h_prev);
    let (grads, _) = check_cell::<_, I, H, O, T>(
        label, model, inputs, targets, h_start, classes, window, &step,
    );
    grads
}

#[test]
fn language_model_loss_from_a_carried_state() {
    let model = random_gru::<5, 6, 5>(1);
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
    let model = random_gru::<5, 6, 3>(3);
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
fn dense_inputs_and_masked_outputs() {
    let model = random_gru::<3, 6, 4>(4);
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(5);
    let dense: Vec<[f32; 3]> = (0..8)
        .map(|_| core::array::from_fn(|_| uniform(&mut rng, 1.0)))
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
    let model = random_gru::<5, 6, 5>(7);
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
    for k in [0, 1, 3] {
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
    let model = random_gru::<5, 6, 3>(14);
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

/// A cell's own `backward_chunk` (through the tape) gives the gradients of the generic backward
/// pass written once over `Cell::backward` (up to the order of the float additions), for each
/// of `cases` (targets, window), with every tensor receiving a gradient.
fn assert_chunk_backward_matches_generic<C, const I: usize, const H: usize, const O: usize>(
    cell: &C,
    inputs: Sequence<'_, I>,
    h_start: &[f32; H],
    cases: &[(Targets<'_>, Option<usize>)],
) where
    C: Cell<I, H, O>,
{
    const T: usize = 12;
    let n = inputs.len();
    for &(targets, window) in cases {
        let mut tape = Tape::<T, H, O, C::Record>::ZERO;
        tape.forward(cell, inputs, targets, h_start, O).unwrap();
        let mut batched = C::ZERO;
        tape.backward(cell, inputs, &mut batched, window).unwrap();

        // The same chunk through the generic pass: rebuild the record from the model.
        let mut hidden = vec![[0.0f32; H]; n];
        let mut records = vec![C::Record::ZERO; n];
        let mut h = *h_start;
        for t in 0..n {
            cell.forward(inputs.get(t).unwrap(), &h, &mut hidden[t], &mut records[t])
                .unwrap();
            h = hidden[t];
        }
        let first_output = match targets {
            Targets::Last(_) => n - 1,
            _ => 0,
        };
        let mut d_logits = vec![0.0f32; n * O];
        for t in first_output..n {
            let target = match targets {
                Targets::Each(ts) => ts[t],
                Targets::Last(target) | Targets::Mean(target) => target,
            };
            let mut logits = [0.0f32; O];
            cell.logits(&hidden[t], &mut logits);
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = logits.iter().map(|z| (z - max).exp()).sum();
            for (o, z) in logits.iter().enumerate() {
                d_logits[t * O + o] = (z - max).exp() / total - if o == target { 1.0 } else { 0.0 };
            }
        }
        let chunk = Chunk {
            inputs,
            h_start,
            hidden: &hidden,
            records: &records,
            d_logits: &d_logits,
            first_output,
            classes: O,
        };
        let mut generic = C::ZERO;
        let mut scratch = vec![[0.0f32; H]; n];
        through_time::backward_steps(cell, chunk, &mut scratch, &mut generic, window, I);
        for (index, spec) in C::TENSORS.iter().enumerate() {
            let (a, b) = (generic.tensor(index), batched.tensor(index));
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0, "{}: no gradient", spec.name);
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-5 * scale,
                    "{:?} {targets:?} window {window:?}, {}: generic {x} vs batched {y}",
                    C::KIND,
                    spec.name
                );
            }
        }
    }
}

/// The generic backward pass, written once over `Cell::backward`, gives the Elman cell the
/// gradients of its own batched backward pass (up to the order of the float additions), with a
/// window and without, per-step and final targets.
#[test]
fn the_generic_backward_pass_matches_the_elman_batched_one() {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(12);
    let mut rnn = Rnn::<5, 6, 5>::ZERO;
    rnn.init_gaussian(&mut rng, 0.5);
    rnn.b_h.iter_mut().for_each(|b| *b = uniform(&mut rng, 0.3));
    let tokens = [1, 4, 0, 0, 3, 2, 4, 1, 2];
    let targets = [4, 0, 0, 3, 2, 4, 1, 2, 3];
    assert_chunk_backward_matches_generic(
        &rnn,
        Sequence::Tokens(&tokens),
        &random_hidden::<6>(13),
        &[
            (Targets::Each(&targets), None),
            (Targets::Each(&targets), Some(2)),
            (Targets::Last(1), None),
        ],
    );
}

/// The GRU's own chunk backward (`gru_backward.rs`: gate gradients kept per step, `dW_hh` as one
/// product over the chunk) gives the gradients of the generic per-step pass: token and dense
/// inputs, per-step and final targets, with a window and without.
#[test]
fn the_generic_backward_pass_matches_the_gru_batched_one() {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(21);
    let gru = random_gru::<5, 7, 5>(21);
    let tokens = [1, 4, 0, 0, 3, 2, 4, 1, 2, 0, 3];
    let targets = [4, 0, 0, 3, 2, 4, 1, 2, 3, 1, 1];
    let cases = [
        (Targets::Each(&targets[..]), None),
        (Targets::Each(&targets[..]), Some(3)),
        (Targets::Last(2), None),
    ];
    let h_start = random_hidden::<7>(22);
    assert_chunk_backward_matches_generic(&gru, Sequence::Tokens(&tokens), &h_start, &cases);
    let dense: Vec<[f32; 5]> = (0..tokens.len())
        .map(|_| core::array::from_fn(|_| uniform(&mut rng, 1.0)))
        .collect();
    assert_chunk_backward_matches_generic(&gru, Sequence::Dense(&dense), &h_start, &cases);
}
