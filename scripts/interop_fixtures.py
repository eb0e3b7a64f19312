#!/usr/bin/env python3
"""Fixtures for issues 19 and 17 (tests/interop.rs): Elman RNN and GRU models saved the way
PyTorch and Keras users save them, each trained for a moment on a short text with its vocabulary
in order of first appearance (min-char-rnn's ids), with the loss the framework itself computes on
that text.

    python3 -m venv target/venv && target/venv/bin/pip install numpy safetensors torch keras jax h5py
    target/venv/bin/python scripts/interop_fixtures.py              # rewrites tests/fixtures/interop/
    target/venv/bin/python scripts/interop_fixtures.py --check-export FILE.safetensors NAME

Writes, under tests/fixtures/interop/:
- text.txt and vocab.json (the characters in first-appearance order: the models' ids);
- torch_onehot.pt: nn.RNN(V, 32) + nn.Linear(32, V) (fields rnn, linear), torch.save(state_dict);
- torch_embedding_compiled.safetensors: PyTorch word_language_model names (encoder = nn.Embedding,
  rnn, decoder), state dict of torch.compile(model) (prefix _orig_mod.), safetensors.torch.save_file
  with no metadata;
- torch_embed_head_parallel.pt: fields embed, rnn, head, state dict of nn.DataParallel(model)
  (prefix module.), torch.save;
- torch_relu.safetensors: nn.RNN(nonlinearity='relu'), saved with no metadata (must be refused);
- keras_onehot.npz: SimpleRNN(32) + Dense(V) on one-hot input, np.savez(f, *model.get_weights());
- keras_embedding.npz: Embedding + SimpleRNN + Dense, np.savez(f, **{w.path: w.numpy()});
- torch_gru_onehot.pt: nn.GRU(V, 32) + nn.Linear(32, V) (fields rnn, linear), torch.save(state_dict);
- torch_gru_embedding.safetensors: fields embedding = nn.Embedding, gru = nn.GRU, fc = nn.Linear,
  safetensors.torch.save_file with no metadata;
- keras_gru_onehot.npz: GRU(32) (Keras 3's default reset_after=True) + Dense(V) on one-hot input,
  np.savez(f, *model.get_weights());
- keras_gru_embedding.npz: Embedding + GRU + Dense, np.savez(f, **{w.path: w.numpy()});
- refused/: tiny files of the formats import names and refuses: keras .weights.h5 and .keras,
  a legacy (non-zip) .pt, a TorchScript archive, a pickled whole module; and of the cells it
  refuses: torch_lstm.safetensors (nn.LSTM + nn.Linear), keras_lstm.npz (LSTM + Dense),
  keras_gru_reset_before.npz (GRU(reset_after=False) + Dense);
- expected.json: per model, the file, the framework, the cell, whether it has an embedding and the
  loss in nats/char the framework computes (its own cross-entropy, float32) over the text from a
  zero state; for the Keras GRUs also `reference_f64`, the loss of a float64 numpy implementation
  of Keras' GRU equations (reset_after=True, gates z, r, h) on the same weights.

--check-export loads a file written by `micrornn export` into nn.RNN(len(vocab), H) (or nn.GRU,
when weight_hh_l0 has 3H rows) + nn.Linear(H, classes) with load_state_dict(strict=True), rebuilds
the vocabulary from the metadata and prints PyTorch's loss on the text next to the expected loss
of model NAME.
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np
import torch
from safetensors.torch import load_file, save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "interop"
TEXT = (
    "the quick brown fox jumps over the lazy dog. a small recurrent network reads one "
    "character at a time and guesses the next; it keeps a hidden state of what it has seen. "
    "people save such models with torch.save or keras, in the order their characters first "
    "appeared, and expect them to load anywhere.\n"
)
VOCAB = list(dict.fromkeys(TEXT))  # first-appearance order, as min-char-rnn numbers them
V, H, D = len(VOCAB), 32, 16
IDS = [VOCAB.index(c) for c in TEXT]


class Char(torch.nn.Module):
    """An Elman RNN (or, with cell="gru", a GRU) language model with configurable field names."""

    def __init__(self, embed=None, rnn="rnn", out="linear", nonlinearity="tanh", cell="rnn"):
        super().__init__()
        self.embed_name, self.rnn_name, self.out_name = embed, rnn, out
        if embed:
            setattr(self, embed, torch.nn.Embedding(V, D))
        width = D if embed else V
        if cell == "gru":
            layer = torch.nn.GRU(width, H, batch_first=True)
        else:
            layer = torch.nn.RNN(width, H, nonlinearity=nonlinearity, batch_first=True)
        setattr(self, rnn, layer)
        setattr(self, out, torch.nn.Linear(H, V))

    def forward(self, ids):
        if self.embed_name:
            x = getattr(self, self.embed_name)(ids)
        else:
            x = torch.nn.functional.one_hot(ids, V).float()
        out, _ = getattr(self, self.rnn_name)(x.unsqueeze(0))
        return getattr(self, self.out_name)(out[0])


def torch_loss(model):
    """PyTorch's own cross-entropy of the text (predict t+1 from 0..t), from a zero state."""
    ids = torch.tensor(IDS)
    with torch.no_grad():
        return float(torch.nn.functional.cross_entropy(model(ids[:-1]), ids[1:]))


def train_torch(model, steps=150):
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    ids = torch.tensor(IDS)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(ids[:-1]), ids[1:]).backward()
        opt.step()
    return model


def keras_models(recurrent="SimpleRNN", prefix="keras"):
    """Two Keras models of the layer `recurrent` (one-hot and embedding input), trained on the
    text: {name: (model, Keras' own loss)}."""
    import keras

    keras.utils.set_random_seed(0)
    layer = getattr(keras.layers, recurrent)
    onehot = keras.Sequential([
        keras.Input((None, V)),
        layer(H, return_sequences=True),
        keras.layers.Dense(V),
    ])
    embedded = keras.Sequential([
        keras.Input((None,)),
        keras.layers.Embedding(V, D),
        layer(H, return_sequences=True),
        keras.layers.Dense(V),
    ])
    x_ids = np.array([IDS[:-1]])
    y = np.array([IDS[1:]])
    x_onehot = np.eye(V, dtype=np.float32)[x_ids]
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    out = {}
    for name, model, x in [(f"{prefix}_onehot", onehot, x_onehot), (f"{prefix}_embedding", embedded, x_ids)]:
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss)
        model.fit(x, y, epochs=150, verbose=0)
        out[name] = (model, float(loss(y, model(x))))
    return out


def keras_gru_reference(model, x):
    """Loss of a Keras GRU model (optional Embedding, GRU with reset_after=True, Dense) on the
    text, computed in float64 numpy from its weights with Keras' equations (gates z, r, h;
    h = z * h_prev + (1 - z) * hh): a check of the Keras loss that does not run Keras."""
    weights = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
    if len(weights) == 6:
        table, weights = weights[0], weights[1:]
        inputs = table[x[0]]
    else:
        inputs = x[0].astype(np.float64)
    kernel, recurrent, bias, dense, dense_bias = weights
    units = recurrent.shape[0]
    sigmoid = lambda v: 1.0 / (1.0 + np.exp(-v))
    h, total = np.zeros(units), 0.0
    for t, x_t in enumerate(inputs):
        gx = x_t @ kernel + bias[0]
        gh = h @ recurrent + bias[1]
        z = sigmoid(gx[:units] + gh[:units])
        r = sigmoid(gx[units:2 * units] + gh[units:2 * units])
        hh = np.tanh(gx[2 * units:] + r * gh[2 * units:])
        h = z * h + (1 - z) * hh
        logits = h @ dense + dense_bias
        top = logits.max()
        total += top + np.log(np.exp(logits - top).sum()) - logits[IDS[t + 1]]
    return total / len(inputs)


def tiny_refused(out):
    """Tiny files of each refused format, and of the cells import refuses."""
    import keras

    out.mkdir(parents=True, exist_ok=True)
    tiny = torch.nn.Sequential(torch.nn.Linear(2, 2))
    torch.save(tiny.state_dict(), out / "legacy.pt", _use_new_zipfile_serialization=False)
    torch.jit.save(torch.jit.script(tiny), out / "torchscript.pt")
    torch.save(tiny, out / "whole_module.pt")
    model = keras.Sequential([keras.Input((None, 3)), keras.layers.SimpleRNN(2), keras.layers.Dense(3)])
    model.save_weights(out / "model.weights.h5")
    model.save(out / "model.keras")
    tiny_cells(out)


def tiny_cells(out):
    """An LSTM of each framework and a Keras GRU with reset_after=False (4 units, 5 symbols)."""
    import keras

    torch.manual_seed(5)
    lstm = torch.nn.ModuleDict({"rnn": torch.nn.LSTM(5, 4), "linear": torch.nn.Linear(4, 5)})
    save_file(lstm.state_dict(), out / "torch_lstm.safetensors")
    keras.utils.set_random_seed(5)
    for name, layer in [("keras_lstm", keras.layers.LSTM(4)),
                        ("keras_gru_reset_before", keras.layers.GRU(4, reset_after=False))]:
        model = keras.Sequential([keras.Input((None, 5)), layer, keras.layers.Dense(5)])
        np.savez(out / f"{name}.npz", *model.get_weights())


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "text.txt").write_text(TEXT)
    (OUT / "vocab.json").write_text(json.dumps(VOCAB) + "\n")
    expected = {}

    def record(name, file, framework, embedding, loss, cell="elman", **extra):
        expected[name] = {"file": file, "framework": framework, "cell": cell, "embedding": embedding,
                          "loss": loss, **extra}
        print(f"{name}: {framework} {cell} loss {loss:.7f} nats/char -> {file} {extra or ''}")

    torch.manual_seed(1)
    onehot = train_torch(Char())
    torch.save(onehot.state_dict(), OUT / "torch_onehot.pt")
    record("torch_onehot", "torch_onehot.pt", "pytorch", False, torch_loss(onehot))

    torch.manual_seed(2)
    wlm = train_torch(Char(embed="encoder", rnn="rnn", out="decoder"))
    compiled = torch.compile(wlm)  # state dict keys gain _orig_mod.; nothing is compiled until called
    save_file(compiled.state_dict(), OUT / "torch_embedding_compiled.safetensors")
    record("torch_embedding_compiled", "torch_embedding_compiled.safetensors", "pytorch", True, torch_loss(wlm))

    torch.manual_seed(3)
    head = train_torch(Char(embed="embed", rnn="rnn", out="head"))
    torch.save(torch.nn.DataParallel(head).state_dict(), OUT / "torch_embed_head_parallel.pt")
    record("torch_embed_head_parallel", "torch_embed_head_parallel.pt", "pytorch", True, torch_loss(head))

    torch.manual_seed(4)
    relu = train_torch(Char(nonlinearity="relu"))
    save_file(relu.state_dict(), OUT / "torch_relu.safetensors")
    record("torch_relu", "torch_relu.safetensors", "pytorch", False, torch_loss(relu))

    for name, (model, loss) in keras_models().items():
        if name == "keras_onehot":
            np.savez(OUT / f"{name}.npz", *model.get_weights())
        else:
            np.savez(OUT / f"{name}.npz", **{w.path: np.asarray(w.numpy()) for w in model.weights})
        record(name, f"{name}.npz", "keras", name.endswith("embedding"), loss)

    gru_fixtures(record)
    tiny_refused(OUT / "refused")
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


def gru_fixtures(record):
    """The GRU models: two PyTorch, two Keras (reset_after=True), each with its own loss."""
    torch.manual_seed(6)
    onehot = train_torch(Char(cell="gru"))
    torch.save(onehot.state_dict(), OUT / "torch_gru_onehot.pt")
    record("torch_gru_onehot", "torch_gru_onehot.pt", "pytorch", False, torch_loss(onehot), "gru")

    torch.manual_seed(7)
    embedded = train_torch(Char(embed="embedding", rnn="gru", out="fc", cell="gru"))
    save_file(embedded.state_dict(), OUT / "torch_gru_embedding.safetensors")
    record("torch_gru_embedding", "torch_gru_embedding.safetensors", "pytorch", True,
           torch_loss(embedded), "gru")

    x_ids = np.array([IDS[:-1]])
    for name, (model, loss) in keras_models("GRU", "keras_gru").items():
        embedding = name.endswith("embedding")
        x = x_ids if embedding else np.eye(V, dtype=np.float32)[x_ids]
        reference = keras_gru_reference(model, x)
        if embedding:
            np.savez(OUT / f"{name}.npz", **{w.path: np.asarray(w.numpy()) for w in model.weights})
        else:
            np.savez(OUT / f"{name}.npz", *model.get_weights())
        record(name, f"{name}.npz", "keras", embedding, loss, "gru", reference_f64=reference)


def check_export(path, name):
    """Loads an export into nn.RNN(len(vocab), H) or nn.GRU(len(vocab), H), + nn.Linear(H,
    classes), and scores the text."""
    from safetensors import safe_open

    with safe_open(path, "pt") as f:
        meta = f.metadata()
    tensors = load_file(path)
    vocab = json.loads(meta["micrornn_vocab"])
    hidden0 = torch.tensor(json.loads(meta["micrornn_initial_hidden"]))
    classes = int(meta["micrornn_classes"])
    h = tensors["rnn.weight_hh_l0"].shape[1]
    cell = torch.nn.GRU if tensors["rnn.weight_hh_l0"].shape[0] == 3 * h else torch.nn.RNN
    model = torch.nn.ModuleDict({"rnn": cell(len(vocab), h), "linear": torch.nn.Linear(h, classes)})
    model.load_state_dict(tensors, strict=True)
    ids = torch.tensor([vocab.index(c) for c in TEXT])
    with torch.no_grad():
        x = torch.nn.functional.one_hot(ids[:-1], len(vocab)).float()
        out, _ = model["rnn"](x, torch.zeros(1, h))
        loss = float(torch.nn.functional.cross_entropy(model["linear"](out), ids[1:]))
    want = json.loads((OUT / "expected.json").read_text())[name]["loss"]
    print(f"{path}: nn.{cell.__name__}({len(vocab)}, {h}) + nn.Linear({h}, {classes}), strict load; "
          f"initial state of {hidden0.numel()} numbers; PyTorch loss {loss:.7f}, the original "
          f"framework's {want:.7f}, |diff| = {abs(loss - want):.2e}")
    sys.exit(0 if abs(loss - want) <= 1e-5 else 1)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check-export":
        check_export(sys.argv[2], sys.argv[3])
    else:
        main()
