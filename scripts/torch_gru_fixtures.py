#!/usr/bin/env python3
"""Golden values for the GRU cell (tests/gru_golden.rs) from PyTorch's own nn.GRU, in float64.

    python3 -m venv target/venv && target/venv/bin/pip install torch
    target/venv/bin/python scripts/torch_gru_fixtures.py     # rewrites tests/fixtures/torch_gru.json

For each case: an nn.GRU(I, H) + nn.Linear(H, O) with random float32-representable weights (so
the crate's f32 parameters are exactly PyTorch's), a start state, the inputs (token ids fed as
one-hot vectors, or dense vectors), the targets (every step, or the last only), and what
PyTorch computes in float64: the hidden state after every step, the summed cross-entropy, and
the gradient of that loss with respect to every parameter (autograd). Tensors are stored in
PyTorch's layout and names (weight_ih_l0 is 3H x I, gates r, z, n); the test converts.
"""

import json
import pathlib

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "torch_gru.json"


def case(name, rng, i, h, o, steps, dense, last):
    torch.manual_seed(int(rng.integers(1 << 31)))
    gru = torch.nn.GRU(i, h).double()
    linear = torch.nn.Linear(h, o).double()
    with torch.no_grad():
        for p in list(gru.parameters()) + list(linear.parameters()):
            # float32-representable values, so the crate's f32 weights are exactly these.
            p.copy_(torch.from_numpy(rng.uniform(-0.6, 0.6, size=p.shape).astype(np.float32).astype(np.float64)))
    h0 = rng.uniform(-0.8, 0.8, size=h).astype(np.float32).astype(np.float64)
    if dense:
        x = rng.uniform(-1, 1, size=(steps, i)).astype(np.float32).astype(np.float64)
        inputs = {"dense": x.tolist()}
    else:
        tokens = rng.integers(0, i, size=steps)
        x = np.eye(i)[tokens]
        inputs = {"tokens": tokens.tolist()}
    targets = rng.integers(0, o, size=steps)
    out, _ = gru(torch.from_numpy(x).unsqueeze(1), torch.from_numpy(h0).view(1, 1, h))
    states = out.squeeze(1)
    logits = linear(states)
    if last:
        loss = torch.nn.functional.cross_entropy(logits[-1:], torch.from_numpy(targets[-1:]), reduction="sum")
        target_field = {"last": int(targets[-1])}
    else:
        loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(targets), reduction="sum")
        target_field = {"each": targets.tolist()}
    loss.backward()
    params = {
        "weight_ih_l0": gru.weight_ih_l0, "weight_hh_l0": gru.weight_hh_l0,
        "bias_ih_l0": gru.bias_ih_l0, "bias_hh_l0": gru.bias_hh_l0,
        "linear.weight": linear.weight, "linear.bias": linear.bias,
    }
    return {
        "name": name, "inputs_size": i, "hidden": h, "outputs": o,
        "h0": h0.tolist(), "inputs": inputs, "targets": target_field,
        "parameters": {k: v.detach().numpy().tolist() for k, v in params.items()},
        "states": states.detach().numpy().tolist(),
        "loss": float(loss.detach()),
        "gradients": {k: v.grad.numpy().tolist() for k, v in params.items()},
    }


def main():
    rng = np.random.default_rng(2026)
    cases = [
        case("tokens, every step", rng, 6, 5, 6, 9, dense=False, last=False),
        case("tokens, last step", rng, 6, 5, 3, 11, dense=False, last=True),
        case("dense, every step", rng, 3, 7, 4, 8, dense=True, last=False),
    ]
    OUT.write_text(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {OUT} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
