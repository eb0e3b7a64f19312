"""min-char-rnn training throughput in JAX: jit + lax.scan, CHUNKS chunks per dispatch.

usage: bench_jax.py CORPUS --hidden H --batch B --seconds S [--optimizer adagrad|adam]
                    [--cell elman|gru]

Same model and settings as micrornn's: Elman RNN, tanh (or with `--cell gru` PyTorch's
`nn.GRU` equations, gates r, z, n, `b_hn` inside the reset product, every weight and gate bias
uniform in +-1/sqrt(H)), softmax over the corpus's characters, seq 25, clip +-5, carried hidden
state, B contiguous streams (B = 1: min-char-rnn), the loss summed over steps and averaged over
the batch. Prints `train_b{B}_h{H} CHARS_PER_SEC` (`gru_train_b{B}_h{H}` with `--cell gru`).
Threads: whatever the process is allowed (run under `taskset`; XLA's CPU backend uses the
cores it sees).
"""
import argparse
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

CHUNKS = 100


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--hidden", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq-len", type=int, default=25)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--optimizer", default="adagrad")
    ap.add_argument("--cell", choices=["elman", "gru"], default="elman")
    a = ap.parse_args()
    text = open(a.corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    v, h, b, t = len(chars), a.hidden, a.batch, a.seq_len
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in text], dtype=np.int32)
    part = len(data) // b
    streams = data[: part * b].reshape(b, part)

    rng = np.random.default_rng(42)
    if a.cell == "gru":
        bound = 1 / np.sqrt(h)
        uniform = lambda *shape: jnp.asarray(rng.uniform(-bound, bound, shape).astype(np.float32))
        params = {
            "w_xh": uniform(v, 3 * h),  # input x's weights into r, z, n
            "w_hh": uniform(h, 3 * h),  # weight_hh_l0 transposed
            "b_xh": uniform(3 * h),
            "b_hh": uniform(3 * h),
            "w_hy": uniform(h, v),
            "b_y": jnp.zeros(v, jnp.float32),
        }
    else:
        params = {
            "w_xh": jnp.asarray(rng.standard_normal((v, h), dtype=np.float32) * 0.01),
            "w_hh": jnp.asarray(rng.standard_normal((h, h), dtype=np.float32) * 0.01),
            "b_h": jnp.zeros(h, jnp.float32),
            "w_hy": jnp.asarray(rng.standard_normal((h, v), dtype=np.float32) * 0.01),
            "b_y": jnp.zeros(v, jnp.float32),
        }
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)

    def loss_fn(p, h0, xs, ys):
        def step(hprev, x):
            if a.cell == "gru":
                gx = p["w_xh"][x] + p["b_xh"]
                gh = hprev @ p["w_hh"] + p["b_hh"]
                r = jax.nn.sigmoid(gx[..., :h] + gh[..., :h])
                z = jax.nn.sigmoid(gx[..., h : 2 * h] + gh[..., h : 2 * h])
                n = jnp.tanh(gx[..., 2 * h :] + r * gh[..., 2 * h :])
                hn = (1 - z) * n + z * hprev
            else:
                hn = jnp.tanh(p["w_xh"][x] + hprev @ p["w_hh"].T + p["b_h"])
            return hn, hn

        hlast, hs = jax.lax.scan(step, h0, xs)  # xs: (t, b)
        logits = hs @ p["w_hy"] + p["b_y"]
        logp = jax.nn.log_softmax(logits)
        nll = -jnp.take_along_axis(logp, ys[..., None], axis=-1).sum()
        return nll / b, hlast

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)

    def update(state, chunk):
        p, m1, m2, k, h0 = state
        xs, ys = chunk[:, :-1].T, chunk[:, 1:].T
        (loss, hlast), g = grad_fn(p, h0, xs, ys)
        g = jax.tree_util.tree_map(lambda x: jnp.clip(x, -5, 5), g)
        k = k + 1
        if a.optimizer == "adagrad":
            m1 = jax.tree_util.tree_map(lambda m, g: m + g * g, m1, g)
            p = jax.tree_util.tree_map(lambda p, g, m: p - 0.1 * g / jnp.sqrt(m + 1e-8), p, g, m1)
        else:
            m1 = jax.tree_util.tree_map(lambda m, g: 0.9 * m + 0.1 * g, m1, g)
            m2 = jax.tree_util.tree_map(lambda m, g: 0.999 * m + 0.001 * g * g, m2, g)
            lr = 0.002 * jnp.sqrt(1 - 0.999**k) / (1 - 0.9**k)
            p = jax.tree_util.tree_map(lambda p, m, s: p - lr * m / (jnp.sqrt(s) + 1e-8), p, m1, m2)
        return (p, m1, m2, k, hlast), loss

    @jax.jit
    def train_many(state, chunks):
        return jax.lax.scan(update, state, chunks)

    def chunks_at(pos):
        idx = pos + np.arange(CHUNKS)[:, None] * t + np.arange(t + 1)[None, :]
        return jnp.asarray(streams[:, idx].transpose(1, 0, 2))  # (CHUNKS, b, t + 1)

    state = (params, zeros, zeros, jnp.float32(0), jnp.zeros((b, h), jnp.float32))
    per_dispatch = CHUNKS * t
    positions = list(range(0, part - per_dispatch - 1, per_dispatch))
    state, losses = train_many(state, chunks_at(positions[0]))  # compile
    losses.block_until_ready()
    start, done, i = time.perf_counter(), 0, 1
    while time.perf_counter() - start < a.seconds:
        state, losses = train_many(state, chunks_at(positions[i % len(positions)]))
        losses.block_until_ready()
        done += CHUNKS * t * b
        i += 1
    rate = done / (time.perf_counter() - start)
    prefix = "gru_" if a.cell == "gru" else ""
    print(f"{prefix}train_b{b}_h{h} {rate:.0f}")
    print(f"  (last chunk loss {float(losses[-1]) / t:.3f} nats/char)", file=sys.stderr)


if __name__ == "__main__":
    main()
