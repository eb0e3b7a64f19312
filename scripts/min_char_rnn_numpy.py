#!/usr/bin/env python3
"""min-char-rnn in numpy: this repository's reference for throughput comparisons.

The same model and settings as micrornn's `examples/throughput.rs`: a vanilla (Elman) RNN
character model, vocabulary = the sorted distinct characters of the corpus, seq 25, Adagrad
lr 0.1 (eps 1e-8), gradients clipped to +-5, weights N(0,1)*0.01, hidden state carried from
chunk to chunk and reset when the data wraps around. float64 as numpy's default (pass
--float32 to compare like with like). Single thread: run it with OMP_NUM_THREADS=1 and
OPENBLAS_NUM_THREADS=1 (scripts/compare.sh does).

Prints `train_h{H} CHARS_PER_SECOND` and `sample_h{H} CHARS_PER_SECOND`, the same lines as
the Rust example, so scripts/compare.sh can read both.

usage: min_char_rnn_numpy.py CORPUS [--hidden 100] [--seconds 5] [--float32]
"""
import argparse
import sys
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--hidden", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--float32", action="store_true")
    args = parser.parse_args()

    dtype = np.float32 if args.float32 else np.float64
    text = open(args.corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int64)
    V, H, T = len(chars), args.hidden, 25
    lr, clip = 0.1, 5.0

    rng = np.random.default_rng(42)
    Wxh = (rng.standard_normal((H, V)) * 0.01).astype(dtype)
    Whh = (rng.standard_normal((H, H)) * 0.01).astype(dtype)
    Why = (rng.standard_normal((V, H)) * 0.01).astype(dtype)
    bh = np.zeros((H, 1), dtype)
    by = np.zeros((V, 1), dtype)
    params = [Wxh, Whh, Why, bh, by]
    memory = [np.zeros_like(p) for p in params]

    def loss_and_grads(inputs, targets, hprev):
        xs, hs, ps = {}, {-1: hprev}, {}
        loss = 0.0
        for t in range(len(inputs)):
            # A one-hot input times Wxh is a column lookup.
            hs[t] = np.tanh(Wxh[:, inputs[t] : inputs[t] + 1] + Whh @ hs[t - 1] + bh)
            y = Why @ hs[t] + by
            e = np.exp(y - y.max())
            ps[t] = e / e.sum()
            loss -= np.log(ps[t][targets[t], 0])
        dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
        dbh, dby = np.zeros_like(bh), np.zeros_like(by)
        dhnext = np.zeros_like(hprev)
        for t in reversed(range(len(inputs))):
            dy = ps[t].copy()
            dy[targets[t]] -= 1
            dWhy += dy @ hs[t].T
            dby += dy
            dh = Why.T @ dy + dhnext
            dpre = (1 - hs[t] * hs[t]) * dh
            dbh += dpre
            dWxh[:, inputs[t] : inputs[t] + 1] += dpre
            dWhh += dpre @ hs[t - 1].T
            dhnext = Whh.T @ dpre
        grads = [dWxh, dWhh, dWhy, dbh, dby]
        for g in grads:
            np.clip(g, -clip, clip, out=g)
        return loss, grads, hs[len(inputs) - 1]

    def train(seconds):
        p, h, chars_done, chunks = 0, np.zeros((H, 1), dtype), 0, 0
        smooth = -np.log(1.0 / V) * T
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            if p + T + 1 > len(data):
                p, h = 0, np.zeros((H, 1), dtype)
            inputs, targets = data[p : p + T], data[p + 1 : p + T + 1]
            loss, grads, h = loss_and_grads(inputs, targets, h)
            for param, g, mem in zip(params, grads, memory):
                mem += g * g
                param -= lr * g / np.sqrt(mem + 1e-8)
            smooth = 0.999 * smooth + 0.001 * loss
            p += T
            chars_done += T
            chunks += 1
        elapsed = time.perf_counter() - start
        print(f"  (smoothed loss after {chunks} chunks: {smooth:.2f})", file=sys.stderr)
        return chars_done / elapsed

    def sample(seconds):
        h, token, n = np.zeros((H, 1), dtype), 0, 0
        sampler = np.random.default_rng(7)
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(1000):
                h = np.tanh(Wxh[:, token : token + 1] + Whh @ h + bh)
                y = Why @ h + by
                e = np.exp(y - y.max())
                probs = (e / e.sum()).ravel()
                token = int(np.searchsorted(np.cumsum(probs), sampler.random() * probs.sum()))
                token = min(token, V - 1)
            n += 1000
        return n / (time.perf_counter() - start)

    print(f"{len(data)} chars, vocabulary {V}, numpy {np.__version__}, {np.dtype(dtype).name}", file=sys.stderr)
    print(f"train_h{H} {train(args.seconds):.0f}")
    print(f"sample_h{H} {sample(args.seconds):.0f}")


if __name__ == "__main__":
    main()
