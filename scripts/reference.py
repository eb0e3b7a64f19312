#!/usr/bin/env python3
"""Independent float64 numpy reference of micrornn's Elman RNN: loss and gradients.

Regenerate the goldens (from the repository root; numpy is the only dependency):

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy
    /tmp/venv/bin/python scripts/reference.py

This writes tests/golden/*.json, which tests/golden.rs checks the Rust core against. The goldens
are committed, so `cargo test` never runs Python.

Written for this repository (not taken from the notebooks in ../shared/seeds). The model:

    a_t = W_xh·x_t + W_hh·h_{t-1} + b_h      h_t = tanh(a_t)
    y_t = W_hy·h_t + b_y                     p_t = softmax(y_t[:classes])
    loss = Σ_{t in outputs} -log p_t[target_t]

with W_xh of shape H×I, W_hh H×H, W_hy O×H. Outputs `classes..O` are masked (probability 0, no
gradient). micrornn stores W_xh transposed (`w_xh[i]` is the row of H weights of input i), so
the files hold `w_xh` as I rows of H; `w_hh` and `w_hy` are stored as in the equations (row j =
weights into unit j).

Each case's parameters are drawn in float64 from a seeded numpy Generator and rounded to float32
*before* anything is computed, and those float32 values are what the file holds (as decimals and
as exact bit patterns, `*_bits`, which Rust loads), so Rust uses exactly the numbers the reference
used. All arithmetic below is float64.

Truncated BPTT (`window = k`): the gradient of output t flows back through steps t, t-1, ..., t-k
(at most k steps before t, as notebook 000's `max_bptt_steps`). It is the exact gradient of

    L_k(θ) = Σ_t ℓ_t( y_t ),  y_t computed by running steps max(0, t-k)..=t with θ
             from h_{max(0,t-k)-1} frozen at its recorded value.

The script computes the gradients with a per-output backward sweep (a different algorithm from
the Rust core's accumulated `dh_next` sweep), and checks every analytic gradient it writes against
float64 central finite differences of the loss (full or truncated) before writing anything.
"""

import json
import os

import numpy as np

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
REGENERATE = "/tmp/venv/bin/python scripts/reference.py  (numpy in a venv: python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy)"


def f32(a):
    """Round to float32 and back to float64: the values Rust will hold."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def one_hot_inputs(tokens, size):
    xs = np.zeros((len(tokens), size))
    xs[np.arange(len(tokens)), tokens] = 1.0
    return xs


class Model:
    """Parameters in the equations' shapes (W_xh is H×I)."""

    def __init__(self, W_xh, W_hh, b_h, W_hy, b_y):
        self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y = W_xh, W_hh, b_h, W_hy, b_y

    def tensors(self):
        return [self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y]

    def copy(self):
        return Model(*[t.copy() for t in self.tensors()])


def step(m, x, h_prev):
    return np.tanh(m.W_xh @ x + m.W_hh @ h_prev + m.b_h)


def log_softmax_live(y, classes):
    live = y[:classes]
    top = live.max()
    return live - (top + np.log(np.sum(np.exp(live - top))))


def output_loss(m, h, target, classes):
    return -log_softmax_live(m.W_hy @ h + m.b_y, classes)[target]


def forward(m, xs, h0):
    """Hidden states h_0..h_{T-1} (row t = after step t)."""
    hs = np.zeros((len(xs), len(h0)))
    h = h0
    for t, x in enumerate(xs):
        h = step(m, x, h)
        hs[t] = h
    return hs


def output_steps(targets, T):
    """[(t, target)] for every step that has an output."""
    if targets["kind"] == "each":
        return list(enumerate(targets["ids"]))
    return [(T - 1, targets["id"])]


def loss_full(m, xs, h0, targets, classes):
    hs = forward(m, xs, h0)
    return sum(output_loss(m, hs[t], y, classes) for t, y in output_steps(targets, len(xs)))


def loss_truncated(m, xs, h0, targets, classes, window, frozen):
    """L_k: each output t recomputed from h_{t-k-1} frozen at its recorded value `frozen`."""
    total = 0.0
    for t, y in output_steps(targets, len(xs)):
        lo = max(0, t - window)
        h = h0 if lo == 0 else frozen[lo - 1]
        for s in range(lo, t + 1):
            h = step(m, xs[s], h)
        total += output_loss(m, h, y, classes)
    return total


def gradients(m, xs, h0, targets, classes, window):
    """Analytic gradients by a per-output backward sweep (window None = all the way back)."""
    T = len(xs)
    hs = forward(m, xs, h0)
    g = Model(*[np.zeros_like(t) for t in m.tensors()])
    for t, y in output_steps(targets, T):
        logits = m.W_hy @ hs[t] + m.b_y
        dy = np.zeros_like(logits)
        dy[:classes] = np.exp(log_softmax_live(logits, classes))
        dy[y] -= 1.0
        g.W_hy += np.outer(dy, hs[t])
        g.b_y += dy
        delta = m.W_hy.T @ dy  # ∂ℓ_t/∂h_t
        lo = 0 if window is None else max(0, t - window)
        for s in range(t, lo - 1, -1):
            da = delta * (1.0 - hs[s] ** 2)  # ∂ℓ_t/∂a_s
            h_prev = h0 if s == 0 else hs[s - 1]
            g.W_hh += np.outer(da, h_prev)
            g.W_xh += np.outer(da, xs[s])
            g.b_h += da
            delta = m.W_hh.T @ da  # ∂ℓ_t/∂h_{s-1}: needs W_hhᵀ (notebook 004 uses W_hh)
    return g


def check_by_finite_differences(m, g, loss_fn, eps=1e-6):
    """Asserts every analytic gradient entry equals the float64 central difference."""
    worst = 0.0
    for ti, (param, grad) in enumerate(zip(m.tensors(), g.tensors())):
        scale = max(np.abs(grad).max(), 1e-12)
        for idx in np.ndindex(param.shape):
            probe = m.copy()
            p = probe.tensors()[ti]
            p[idx] = param[idx] + eps
            up = loss_fn(probe)
            p[idx] = param[idx] - eps
            down = loss_fn(probe)
            fd = (up - down) / (2 * eps)
            err = abs(fd - grad[idx]) / max(abs(fd), scale)
            worst = max(worst, err)
    assert worst < 1e-6, f"reference gradients disagree with finite differences: {worst:.3e}"
    return worst


def f32_bits(a):
    """The IEEE-754 bit patterns of float32 values, as integers: exact through any JSON parser."""
    return np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.int64).tolist()


def case(name, about, m, inputs, h0, targets, classes, window, dense=False):
    I = m.W_xh.shape[1]
    xs = np.asarray(inputs, dtype=np.float64) if dense else one_hot_inputs(inputs, I)
    T = len(xs)
    hs = forward(m, xs, h0)
    if window is None:
        loss = loss_full(m, xs, h0, targets, classes)
        loss_fn = lambda probe: loss_full(probe, xs, h0, targets, classes)  # noqa: E731
    else:
        loss = loss_truncated(m, xs, h0, targets, classes, window, hs)
        assert np.isclose(loss, loss_full(m, xs, h0, targets, classes), rtol=1e-13)
        loss_fn = lambda probe: loss_truncated(probe, xs, h0, targets, classes, window, hs)  # noqa: E731
    g = gradients(m, xs, h0, targets, classes, window)
    worst = check_by_finite_differences(m, g, loss_fn)
    print(f"{name}: loss {loss:.6f}, reference vs float64 finite differences: {worst:.2e}")
    return {
        "name": name,
        "about": about,
        "inputs": I,
        "hidden": m.W_hh.shape[0],
        "outputs": m.W_hy.shape[0],
        "steps": T,
        "classes": classes,
        "window": window,
        "sequence": (
            {"dense": xs.tolist(), "dense_bits": f32_bits(xs)}
            if dense
            else {"tokens": [int(i) for i in inputs]}
        ),
        "targets": (
            {"each": [int(i) for i in targets["ids"]]}
            if targets["kind"] == "each"
            else {"last": int(targets["id"])}
        ),
        "h_start": h0.tolist(),
        "h_start_bits": f32_bits(h0),
        # The float32 parameters twice: readable decimals, and exact bit patterns (what Rust loads).
        "params_bits": {
            "w_xh": f32_bits(m.W_xh.T),
            "w_hh": f32_bits(m.W_hh),
            "b_h": f32_bits(m.b_h),
            "w_hy": f32_bits(m.W_hy),
            "b_y": f32_bits(m.b_y),
        },
        "params": {
            "w_xh": m.W_xh.T.tolist(),
            "w_hh": m.W_hh.tolist(),
            "b_h": m.b_h.tolist(),
            "w_hy": m.W_hy.tolist(),
            "b_y": m.b_y.tolist(),
        },
        "expected": {
            "loss": float(loss),
            "last_hidden": hs[-1].tolist(),
            "w_xh": g.W_xh.T.tolist(),
            "w_hh": g.W_hh.tolist(),
            "b_h": g.b_h.tolist(),
            "w_hy": g.W_hy.tolist(),
            "b_y": g.b_y.tolist(),
        },
    }


def gaussian_model(rng, I, H, O, scale, bias_scale):
    return Model(
        f32(rng.standard_normal((H, I)) * scale),
        f32(rng.standard_normal((H, H)) * scale),
        f32(rng.standard_normal(H) * bias_scale),
        f32(rng.standard_normal((O, H)) * scale),
        f32(rng.standard_normal(O) * bias_scale),
    )


def min_char_rnn():
    # A chunk in the middle of a min-char-rnn run: hidden state carried in from the previous
    # chunk (non-zero), V = 13 chars, H = 10, seq 25, full BPTT. Weights N(0,1)·0.3 rather than
    # 0.01, so that tanh saturation and the recurrent path both matter.
    rng = np.random.default_rng(1)
    V, H, T = 13, 10, 25
    m = gaussian_model(rng, V, H, V, 0.3, 0.1)
    h0 = f32(np.tanh(rng.standard_normal(H)))
    tokens = rng.integers(0, V, T + 1)
    targets = {"kind": "each", "ids": tokens[1:]}
    return case("min_char_rnn", "min-char-rnn chunk, carried non-zero start hidden state, full BPTT",
                m, tokens[:T], h0, targets, V, None)


def notebook_000(window):
    # Notebook 000: uniform ±1/√fan_in init, hidden reset to zero each chunk, seq 25, BPTT window
    # 5. V = 11, H = 16. Biases are small non-zero values so that their gradients matter too.
    rng = np.random.default_rng(0)
    V, H, T = 11, 16, 25
    m = Model(
        f32(rng.uniform(-1, 1, (H, V)) / np.sqrt(V)),
        f32(rng.uniform(-1, 1, (H, H)) / np.sqrt(H)),
        f32(rng.uniform(-0.1, 0.1, H)),
        f32(rng.uniform(-1, 1, (V, H)) / np.sqrt(H)),
        f32(rng.uniform(-0.1, 0.1, V)),
    )
    tokens = rng.integers(0, V, T + 1)
    targets = {"kind": "each", "ids": tokens[1:]}
    name = "notebook_000_window5" if window is not None else "notebook_000_full"
    return case(name, f"notebook-000 chunk from a zero hidden state, window {window}",
                m, tokens[:T], np.zeros(H), targets, V, window)


def notebook_004():
    # Notebook 004: a many-to-one classifier over 18 words, 2 classes, one output after the last
    # word. H = 16. Weights N(0,1)·0.5 instead of the notebook's /1000 so that a W_hh-for-W_hhᵀ
    # slip (the notebook's) changes the gradients far beyond the tolerance.
    rng = np.random.default_rng(4)
    V, H = 18, 16
    m = gaussian_model(rng, V, H, 2, 0.5, 0.1)
    words = rng.integers(0, V, 6)
    return case("notebook_004", "many-to-one classifier: 6 word ids, one target after the last",
                m, words, np.zeros(H), {"kind": "last", "id": 1}, 2, None)


def dense_padded():
    # Dense inputs (a sensor stream) and a padded output layer: O = 5 outputs, 3 live classes.
    rng = np.random.default_rng(7)
    I, H, O, T = 4, 6, 5, 9
    m = gaussian_model(rng, I, H, O, 0.6, 0.2)
    xs = f32(rng.standard_normal((T, I)))
    targets = {"kind": "each", "ids": rng.integers(0, 3, T)}
    return case("dense_padded", "dense inputs, 5 outputs of which 3 are live classes, full BPTT",
                m, xs, f32(np.tanh(rng.standard_normal(H))), targets, 3, None, dense=True)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for c in [min_char_rnn(), notebook_000(5), notebook_000(None), notebook_004(), dense_padded()]:
        c = {
            "generated_by": "scripts/reference.py (float64 numpy reference)",
            "regenerate": REGENERATE,
            **c,
        }
        with open(os.path.join(OUT_DIR, c["name"] + ".json"), "w") as f:
            json.dump(c, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
