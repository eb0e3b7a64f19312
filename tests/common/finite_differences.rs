//! The float64 loss of a recurrent cell and the element-wise check of a crate's gradients
//! against its central finite differences, shared by the cells' gradient tests
//! (`tests/gradients.rs` for Elman, `tests/gru_gradients.rs` for the GRU). Each test writes its
//! cell's step in float64 from the equations; the readout, the targets (every step, last step,
//! mean state), BPTT windows and the comparison are here, once.
//!
//! With a BPTT window `k`, the crate's gradient is the exact gradient of a *truncated* loss: each
//! output `t` is recomputed by running steps `max(0, t-k)..=t` with the parameters, starting from
//! the hidden state before them frozen at the value recorded by the (unperturbed) forward pass.
//! For a mean readout each step's state is an output of weight `1/n`.
//!
//! Tolerance of the element-wise check: `|g - fd| ≤ 1e-4 · max(|fd|, 0.1 · max|fd over the
//! tensor|)`, where `g` is the crate's gradient (`ε = 1e-5`: truncation ~ε², round-off
//! ~1e-16/ε, both far below the f32 gradients' own error).

use micrornn::{Cell, Input, Sequence, Tape, Targets};

/// One step of a cell in float64: `(parameters, input, h_prev) -> h`.
pub type Step64<'a, const I: usize> = &'a dyn Fn(&[f64], Input<'_, I>, &[f64]) -> Vec<f64>;

/// A loss over flat float64 parameters (the crate's tensors one after the other).
pub struct Problem<'a, const I: usize> {
    /// Hidden units.
    pub h: usize,
    /// Inputs run.
    pub inputs: Sequence<'a, I>,
    /// What the outputs are scored against.
    pub targets: Targets<'a>,
    /// The state before the first step.
    pub h_start: Vec<f64>,
    /// Live classes.
    pub classes: usize,
    /// Where `w_hy` (O rows of H) starts in the parameters; `b_y` follows it.
    pub w_hy_at: usize,
    /// Rows of `w_hy` (the model's O).
    pub outputs: usize,
    /// The cell's step.
    pub step: Step64<'a, I>,
}

impl<const I: usize> Problem<'_, I> {
    /// `-log softmax(W_hy·h + b_y)[target]` over the live classes.
    fn output_loss(&self, p: &[f64], h_t: &[f64], target: usize) -> f64 {
        let b_y = self.w_hy_at + self.outputs * self.h;
        let y: Vec<f64> = (0..self.classes)
            .map(|o| {
                p[b_y + o]
                    + (0..self.h)
                        .map(|j| p[self.w_hy_at + o * self.h + j] * h_t[j])
                        .sum::<f64>()
            })
            .collect();
        let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + y.iter().map(|v| (v - max).exp()).sum::<f64>().ln() - y[target]
    }

    /// The states after every step.
    pub fn forward(&self, p: &[f64]) -> Vec<Vec<f64>> {
        let mut hs: Vec<Vec<f64>> = Vec::new();
        for t in 0..self.inputs.len() {
            let prev = hs.last().unwrap_or(&self.h_start).clone();
            hs.push((self.step)(
                p,
                self.inputs.get(t).expect("step in range"),
                &prev,
            ));
        }
        hs
    }

    /// The state at step `t` run from the frozen state before step `lo`.
    fn rerun(&self, p: &[f64], lo: usize, t: usize, frozen: &[Vec<f64>]) -> Vec<f64> {
        let mut h = if lo == 0 {
            self.h_start.clone()
        } else {
            frozen[lo - 1].clone()
        };
        for s in lo..=t {
            h = (self.step)(p, self.inputs.get(s).expect("step in range"), &h);
        }
        h
    }

    /// The full loss (`window: None`) or the truncated one, with the states before each window
    /// frozen at `frozen` (the states of the unperturbed forward pass).
    pub fn loss64(&self, p: &[f64], window: Option<usize>, frozen: &[Vec<f64>]) -> f64 {
        let n = self.inputs.len();
        let state = |t: usize, hs: &[Vec<f64>]| match window {
            None => hs[t].clone(),
            Some(k) => self.rerun(p, t.saturating_sub(k), t, frozen),
        };
        let hs = match window {
            None => self.forward(p),
            Some(_) => Vec::new(),
        };
        match self.targets {
            Targets::Each(ts) => (0..n)
                .map(|t| self.output_loss(p, &state(t, &hs), ts[t]))
                .sum(),
            Targets::Last(target) => self.output_loss(p, &state(n - 1, &hs), target),
            Targets::Mean(target) => {
                let mut mean = vec![0.0; self.h];
                for t in 0..n {
                    for (m, v) in mean.iter_mut().zip(state(t, &hs)) {
                        *m += v / n as f64;
                    }
                }
                self.output_loss(p, &mean, target)
            }
        }
    }
}

/// Checks the crate's loss against the float64 one at `p0` (1e-5 relative) and every entry of
/// every gradient tensor against central differences of the float64 loss; `tensors` are the
/// tensors' names and the crate's gradients, in the order of the flat parameters.
pub fn check_gradients<const I: usize>(
    label: &str,
    problem: &Problem<'_, I>,
    p0: &[f64],
    window: Option<usize>,
    crate_loss: f32,
    tensors: &[(&str, &[f32])],
) {
    let frozen = problem.forward(p0);
    let loss0 = problem.loss64(p0, window, &frozen);
    assert!(
        (f64::from(crate_loss) - loss0).abs() <= 1e-5 * loss0.abs(),
        "{label}: crate loss {crate_loss} vs float64 loss {loss0}"
    );
    const EPS: f64 = 1e-5;
    let mut p = p0.to_vec();
    let mut at = 0;
    for (name, g) in tensors {
        let fd: Vec<f64> = (0..g.len())
            .map(|i| {
                let k = at + i;
                p[k] = p0[k] + EPS;
                let up = problem.loss64(&p, window, &frozen);
                p[k] = p0[k] - EPS;
                let down = problem.loss64(&p, window, &frozen);
                p[k] = p0[k];
                (up - down) / (2.0 * EPS)
            })
            .collect();
        at += g.len();
        let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 1e-3, "{label}/{name}: gradient too small to test");
        let mut worst = 0.0f64;
        for (i, (&g, &fd)) in g.iter().zip(&fd).enumerate() {
            let err = (f64::from(g) - fd).abs() / fd.abs().max(0.1 * scale);
            assert!(
                err <= 1e-4,
                "{label}/{name}[{i}]: backward {g} vs finite difference {fd} (error {err:.2e})"
            );
            worst = worst.max(err);
        }
        println!("{label}/{name}: worst error {worst:.1e}");
    }
    assert_eq!(at, p0.len(), "{label}: the tensors cover the parameters");
}

/// One chunk through any cell `C`: the crate's forward and backward passes (a tape of `T`
/// steps), then [`check_gradients`] against the float64 loss built with the cell's `step`.
/// Returns the crate's gradients and loss.
#[allow(clippy::too_many_arguments)]
pub fn check_cell<C, const I: usize, const H: usize, const O: usize, const T: usize>(
    label: &str,
    model: &C,
    inputs: Sequence<'_, I>,
    targets: Targets<'_>,
    h_start: &[f32; H],
    classes: usize,
    window: Option<usize>,
    step: Step64<'_, I>,
) -> (C, f32)
where
    C: Cell<I, H, O>,
{
    let mut tape = Tape::<T, H, O, C::Record>::ZERO;
    let loss = tape
        .forward(model, inputs, targets, h_start, classes)
        .unwrap();
    let mut grads = C::ZERO;
    tape.backward(model, inputs, &mut grads, window).unwrap();
    let specs = C::TENSORS;
    let p0: Vec<f64> = (0..specs.len())
        .flat_map(|index| model.tensor(index).to_vec())
        .map(f64::from)
        .collect();
    let problem = Problem {
        h: H,
        inputs,
        targets,
        h_start: h_start.iter().map(|&v| f64::from(v)).collect(),
        classes,
        // The readout (`w_hy`, `b_y`) is the last two tensors of every cell.
        w_hy_at: p0.len() - O * H - O,
        outputs: O,
        step,
    };
    let tensors: Vec<(&str, &[f32])> = specs
        .iter()
        .enumerate()
        .map(|(index, spec)| (spec.name, grads.tensor(index)))
        .collect();
    check_gradients(label, &problem, &p0, window, loss, &tensors);
    (grads, loss)
}
