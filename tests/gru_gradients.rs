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
//! The harness is the one `tests/gradients.rs` uses for the Elman cell: float64 central
//! differences (`ε = 1e-5`) of the loss, tolerance `|g - fd| ≤ 1e-4 · max(|fd|, 0.1 · max|fd|)`,
//! the float64 loss tied to the crate's f32 loss within 1e-5 relative, and the windowed
//! gradient checked against the truncated loss (each output recomputed from the state before its
//! window, frozen at the unperturbed forward pass's value). It also checks that the generic
//! backward pass (`through_time::backward_steps`, written once over `Cell::backward`) gives the
//! Elman cell the gradients of its own batched backward pass.

use micrornn::model::cell::{Chunk, Params};
use micrornn::model::{Gru, through_time};
use micrornn::{Cell, Input, Rnn, Sequence, Tape, Targets};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// The loss in float64 over flat parameters in the order and layout of `Gru::tensor`:
/// `w_xh` (I rows of 3H), `w_hh` (3H rows of H), `b_xh` (3H), `b_hh` (3H), `w_hy` (O rows of
/// H), `b_y` (O).
struct Problem<'a, const I: usize> {
    h: usize,
    o: usize,
    inputs: Sequence<'a, I>,
    targets: Targets<'a>,
    h_start: Vec<f64>,
    classes: usize,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl<const I: usize> Problem<'_, I> {
    fn offsets(&self) -> [usize; 6] {
        let (h, o) = (self.h, self.o);
        let w_hh = I * 3 * h;
        let b_xh = w_hh + 3 * h * h;
        let b_hh = b_xh + 3 * h;
        let w_hy = b_hh + 3 * h;
        let b_y = w_hy + o * h;
        [0, w_hh, b_xh, b_hh, w_hy, b_y]
    }

    fn step(&self, p: &[f64], t: usize, h_prev: &[f64]) -> Vec<f64> {
        let [_, w_hh, b_xh, b_hh, _, _] = self.offsets();
        let h = self.h;
        // gx[g·h + j] = b_x + W_x·x, gh[g·h + j] = b_h + W_h·h_prev.
        let mut gx: Vec<f64> = (0..3 * h).map(|c| p[b_xh + c]).collect();
        match self.inputs.get(t).expect("step in range") {
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

    fn output_loss(&self, p: &[f64], h_t: &[f64], target: usize) -> f64 {
        let [_, _, _, _, w_hy, b_y] = self.offsets();
        let y: Vec<f64> = (0..self.classes)
            .map(|o| {
                p[b_y + o]
                    + (0..self.h)
                        .map(|j| p[w_hy + o * self.h + j] * h_t[j])
                        .sum::<f64>()
            })
            .collect();
        let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + y.iter().map(|v| (v - max).exp()).sum::<f64>().ln() - y[target]
    }

    fn outputs(&self) -> Vec<(usize, usize)> {
        let n = self.inputs.len();
        match self.targets {
            Targets::Each(ts) => ts.iter().copied().enumerate().collect(),
            Targets::Last(target) => vec![(n - 1, target)],
        }
    }

    fn forward(&self, p: &[f64]) -> Vec<Vec<f64>> {
        let mut hs: Vec<Vec<f64>> = Vec::new();
        for t in 0..self.inputs.len() {
            let prev = hs.last().unwrap_or(&self.h_start).clone();
            hs.push(self.step(p, t, &prev));
        }
        hs
    }

    fn loss64(&self, p: &[f64], window: Option<usize>, frozen: &[Vec<f64>]) -> f64 {
        match window {
            None => {
                let hs = self.forward(p);
                self.outputs()
                    .into_iter()
                    .map(|(t, y)| self.output_loss(p, &hs[t], y))
                    .sum()
            }
            Some(k) => self
                .outputs()
                .into_iter()
                .map(|(t, y)| {
                    let lo = t.saturating_sub(k);
                    let mut h = if lo == 0 {
                        self.h_start.clone()
                    } else {
                        frozen[lo - 1].clone()
                    };
                    for s in lo..=t {
                        h = self.step(p, s, &h);
                    }
                    self.output_loss(p, &h, y)
                })
                .sum(),
        }
    }
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
    let mut tape = Tape::<T, H, O, _>::ZERO;
    let loss = tape
        .forward(model, inputs, targets, h_start, classes)
        .unwrap();
    let mut grads = Gru::ZERO;
    tape.backward(model, inputs, &mut grads, window).unwrap();

    let problem = Problem {
        h: H,
        o: O,
        inputs,
        targets,
        h_start: h_start.iter().map(|&v| f64::from(v)).collect(),
        classes,
    };
    let tensors = Gru::<I, H, O>::TENSORS;
    let p0: Vec<f64> = (0..tensors.len())
        .flat_map(|index| model.tensor(index).to_vec())
        .map(f64::from)
        .collect();
    let frozen = problem.forward(&p0);
    let loss0 = problem.loss64(&p0, window, &frozen);
    assert!(
        (f64::from(loss) - loss0).abs() <= 1e-5 * loss0.abs(),
        "{label}: crate loss {loss} vs float64 loss {loss0}"
    );

    const EPS: f64 = 1e-5;
    let offsets = problem.offsets();
    let mut p = p0.clone();
    for (n, spec) in tensors.iter().enumerate() {
        let g = grads.tensor(n);
        assert_eq!(g.len(), spec.len(), "{label}/{}: length", spec.name);
        let fd: Vec<f64> = (0..g.len())
            .map(|i| {
                let at = offsets[n] + i;
                p[at] = p0[at] + EPS;
                let up = problem.loss64(&p, window, &frozen);
                p[at] = p0[at] - EPS;
                let down = problem.loss64(&p, window, &frozen);
                p[at] = p0[at];
                (up - down) / (2.0 * EPS)
            })
            .collect();
        let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(
            scale > 1e-3,
            "{label}/{}: gradient too small to test",
            spec.name
        );
        let mut worst = 0.0f64;
        for (i, (&g, &fd)) in g.iter().zip(&fd).enumerate() {
            let err = (f64::from(g) - fd).abs() / fd.abs().max(0.1 * scale);
            assert!(
                err <= 1e-4,
                "{label}/{}[{i}]: backward {g} vs finite difference {fd} (error {err:.2e})",
                spec.name
            );
            worst = worst.max(err);
        }
        println!("{label}/{}: worst error {worst:.1e}", spec.name);
    }
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
    let h_start = random_hidden::<6>(13);
    for (targets, window) in [
        (Targets::Each(&targets), None),
        (Targets::Each(&targets), Some(2)),
        (Targets::Last(1), None),
    ] {
        let inputs = Sequence::Tokens(&tokens);
        let mut tape = Tape::<9, 6, 5>::ZERO;
        tape.forward(&rnn, inputs, targets, &h_start, 5).unwrap();
        let mut batched = Rnn::ZERO;
        tape.backward(&rnn, inputs, &mut batched, window).unwrap();

        // The same chunk through the generic pass: rebuild the record from the model.
        let mut hidden = [[0.0f32; 6]; 9];
        let mut h = h_start;
        for (t, &id) in tokens.iter().enumerate() {
            rnn.step(Input::Token(id), &mut h).unwrap();
            hidden[t] = h;
        }
        let classes = 5;
        let first_output = match targets {
            Targets::Each(_) => 0,
            Targets::Last(_) => tokens.len() - 1,
        };
        let mut d_logits = vec![0.0f32; tokens.len() * classes];
        for t in first_output..tokens.len() {
            let target = match targets {
                Targets::Each(ts) => ts[t],
                Targets::Last(target) => target,
            };
            let mut logits = [0.0f32; 5];
            Cell::logits(&rnn, &hidden[t], &mut logits);
            let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let total: f32 = logits.iter().map(|z| (z - max).exp()).sum();
            for (o, z) in logits.iter().enumerate() {
                d_logits[t * classes + o] =
                    (z - max).exp() / total - if o == target { 1.0 } else { 0.0 };
            }
        }
        let chunk = Chunk {
            inputs,
            h_start: &h_start,
            hidden: &hidden,
            records: &[(); 9],
            d_logits: &d_logits,
            first_output,
            classes,
        };
        let mut generic = Rnn::ZERO;
        let mut scratch = [[0.0f32; 6]; 9];
        through_time::backward_steps(&rnn, chunk, &mut scratch, &mut generic, window, 5);
        for (n, spec) in Rnn::<5, 6, 5>::TENSORS.iter().enumerate() {
            let (a, b) = (generic.tensor(n), batched.tensor(n));
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0, "{}: no gradient", spec.name);
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-5 * scale,
                    "{:?} window {window:?}, {}: generic {x} vs batched {y}",
                    targets,
                    spec.name
                );
            }
        }
    }
}
