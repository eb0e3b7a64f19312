#!/usr/bin/env python3
"""Fixtures for `micrornn import` (tests/weights.rs): PyTorch and Keras RNN weights with random
values, saved as safetensors, and the logits they give over a 100-token sequence.

    python3 -m venv target/venv && target/venv/bin/pip install numpy safetensors torch
    target/venv/bin/python scripts/torch_fixtures.py            # rewrites tests/fixtures/
    target/venv/bin/python scripts/torch_fixtures.py --check-export FILE.safetensors

Writes, under tests/fixtures/:
- torch_rnn.safetensors: nn.RNN(20, 32, tanh) + nn.Linear(32, 20), names rnn.* and linear.*;
- torch_rnn_embedding.safetensors: nn.Embedding(20, 8) in front (embedding.weight);
- keras_rnn.safetensors: SimpleRNN(32) + Dense(20) as Keras names them
  (simple_rnn/kernel, simple_rnn/recurrent_kernel, simple_rnn/bias, dense/kernel, dense/bias);
- keras_rnn.npz: the same Keras tensors saved with numpy.savez;
- torch_vocab.json: the 20 characters, in id order;
- torch_logits.json: the token ids and, per file, the logits of every step from the zero state,
  computed in float64 with numpy from the float32 weights. Where torch is installed, its own
  float32 logits are checked against them (max abs difference printed).

--check-export loads a file written by `micrornn export` into a module with fields
rnn = nn.RNN(I, H) and linear = nn.Linear(H, O) with load_state_dict (strict) and checks that
its logits over the fixture tokens match the numpy ones of torch_rnn.safetensors.
"""

import json
import pathlib
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

try:
    import torch
except ImportError:  # the numpy fixtures are the same; only the torch cross-check is skipped
    torch = None

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures"
VOCAB = sorted(set(" abcdefghijklmnopqrs"))
V, H, D, T = len(VOCAB), 32, 8, 100


def reference_logits(w_xh, w_hh, b_h, w_hy, b_y, tokens):
    """h = tanh(w_xh[token] + w_hh h + b_h); logits = w_hy h + b_y, in float64."""
    w_xh, w_hh, b_h, w_hy, b_y = (np.asarray(a, dtype=np.float64) for a in (w_xh, w_hh, b_h, w_hy, b_y))
    h = np.zeros(w_hh.shape[0])
    out = []
    for t in tokens:
        h = np.tanh(w_xh[t] + w_hh @ h + b_h)
        out.append(w_hy @ h + b_y)
    return np.array(out)


def torch_tensors(rng):
    """nn.RNN + nn.Linear state dict (and the embedding variant), as float32 numpy arrays."""
    def u(*shape, scale=0.3):
        return rng.uniform(-scale, scale, size=shape).astype(np.float32)

    plain = {
        "rnn.weight_ih_l0": u(H, V), "rnn.weight_hh_l0": u(H, H),
        "rnn.bias_ih_l0": u(H), "rnn.bias_hh_l0": u(H),
        "linear.weight": u(V, H), "linear.bias": u(V),
    }
    embedded = {
        "embedding.weight": u(V, D, scale=1.0),
        "rnn.weight_ih_l0": u(H, D), "rnn.weight_hh_l0": u(H, H),
        "rnn.bias_ih_l0": u(H), "rnn.bias_hh_l0": u(H),
        "linear.weight": u(V, H), "linear.bias": u(V),
    }
    keras = {
        "simple_rnn/kernel": u(V, H), "simple_rnn/recurrent_kernel": u(H, H),
        "simple_rnn/bias": u(H), "dense/kernel": u(H, V), "dense/bias": u(V),
    }
    return plain, embedded, keras


def micrornn_view(name, t):
    """The tensors in micrornn's orientation: w_xh (V×H), w_hh, b_h, w_hy (O×H), b_y."""
    if name == "keras_rnn":
        return (t["simple_rnn/kernel"], t["simple_rnn/recurrent_kernel"].T, t["simple_rnn/bias"],
                t["dense/kernel"].T, t["dense/bias"])
    w_ih = t["rnn.weight_ih_l0"].astype(np.float64)
    w_xh = w_ih.T if "embedding.weight" not in t else t["embedding.weight"].astype(np.float64) @ w_ih.T
    b_h = t["rnn.bias_ih_l0"].astype(np.float64) + t["rnn.bias_hh_l0"]
    return w_xh, t["rnn.weight_hh_l0"], b_h, t["linear.weight"], t["linear.bias"]


class CharRnn(torch.nn.Module if torch else object):
    """The module whose state dict `micrornn export` writes."""

    def __init__(self, inputs, hidden, outputs, embedding=None):
        super().__init__()
        if embedding:
            self.embedding = torch.nn.Embedding(inputs, embedding)
        self.rnn = torch.nn.RNN(embedding or inputs, hidden, nonlinearity="tanh", batch_first=True)
        self.linear = torch.nn.Linear(hidden, outputs)
        self.inputs = inputs

    def forward(self, tokens):
        if hasattr(self, "embedding"):
            x = self.embedding(tokens)
        else:
            x = torch.nn.functional.one_hot(tokens, self.inputs).float()
        out, _ = self.rnn(x.unsqueeze(0))
        return self.linear(out[0])


def torch_logits(tensors, tokens, embedding=None):
    model = CharRnn(V, H, V, embedding)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    with torch.no_grad():
        return model(torch.tensor(tokens)).numpy()


def main():
    rng = np.random.default_rng(2026)
    tokens = rng.integers(0, V, size=T).tolist()
    files = dict(zip(["torch_rnn", "torch_rnn_embedding", "keras_rnn"], torch_tensors(rng)))
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {"tokens": tokens, "logits": {}}
    for name, tensors in files.items():
        meta = {"activation": "tanh"} if name.startswith("keras") else {"nonlinearity": "tanh"}
        save_file(tensors, str(OUT / f"{name}.safetensors"), metadata=meta)
        if name.startswith("keras"):  # the same weights as numpy.savez writes them
            np.savez(OUT / f"{name}.npz", **tensors)
        logits = reference_logits(*micrornn_view(name, tensors), tokens)
        expected["logits"][name] = [[float(f"{x:.9g}") for x in row] for row in logits]
        if torch is not None and name.startswith("torch"):
            got = torch_logits(tensors, tokens, D if "embedding" in name else None)
            print(f"{name}: torch float32 vs numpy float64 logits, max |diff| = {np.abs(got - logits).max():.2e}")
    (OUT / "torch_vocab.json").write_text(json.dumps(VOCAB) + "\n")
    (OUT / "torch_logits.json").write_text(json.dumps(expected) + "\n")
    print(f"wrote {OUT}: {', '.join(files)}; torch {'available' if torch else 'NOT installed'}")


def check_export(path):
    if torch is None:
        sys.exit("--check-export needs torch")
    tensors = load_file(path)
    inputs = tensors["rnn.weight_ih_l0"].shape[1]
    hidden, outputs = tensors["rnn.weight_hh_l0"].shape[0], tensors["linear.weight"].shape[0]
    model = CharRnn(inputs, hidden, outputs)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)
    expected = json.loads((OUT / "torch_logits.json").read_text())
    with torch.no_grad():
        got = model(torch.tensor(expected["tokens"])).numpy()[:, :V]
    want = np.array(expected["logits"]["torch_rnn"])
    diff = np.abs(got - want).max()
    print(f"{path}: load_state_dict(strict=True) into nn.RNN({inputs}, {hidden}) + "
          f"nn.Linear({hidden}, {outputs}); logits vs the fixture's, max |diff| = {diff:.2e}")
    sys.exit(0 if diff <= 1e-5 * max(1.0, np.abs(want).max()) else 1)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check-export":
        check_export(sys.argv[2])
    else:
        main()
