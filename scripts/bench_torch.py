"""min-char-rnn training throughput in PyTorch (CPU): nn.RNN (or nn.GRU) + nn.Linear.

usage: bench_torch.py CORPUS --hidden H --batch B --threads N --seconds S [--optimizer adam|adagrad]
                      [--cell elman|gru]

Same settings as micrornn's: Elman RNN (tanh), one-hot inputs, softmax over the corpus's
characters, seq 25, clip +-5, carried hidden state over B contiguous streams, the loss summed
over steps and averaged over the batch. torch.set_num_threads(N). Prints
`train_b{B}_h{H} CHARS_PER_SEC` (`gru_train_b{B}_h{H}` with `--cell gru`).
"""
import argparse
import sys
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=25)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--optimizer", default="adam")
    ap.add_argument("--cell", choices=["elman", "gru"], default="elman")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    text = open(a.corpus, encoding="utf-8").read()
    chars = sorted(set(text))
    v, h, b, t = len(chars), a.hidden, a.batch, a.seq_len
    index = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    part = len(data) // b
    streams = data[: part * b].view(b, part)

    rnn = torch.nn.GRU(v, h) if a.cell == "gru" else torch.nn.RNN(v, h, nonlinearity="tanh")
    out = torch.nn.Linear(h, v)
    params = list(rnn.parameters()) + list(out.parameters())
    if a.optimizer == "adagrad":
        opt = torch.optim.Adagrad(params, lr=0.1)
    else:
        opt = torch.optim.Adam(params, lr=0.002)
    hidden = torch.zeros(1, b, h)

    def step(pos, hidden):
        chunk = streams[:, pos : pos + t + 1].T  # (t + 1, b)
        x = F.one_hot(chunk[:-1], v).float()
        hs, hidden = rnn(x, hidden)
        logits = out(hs)
        loss = F.cross_entropy(logits.reshape(-1, v), chunk[1:].reshape(-1), reduction="sum") / b
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_value_(params, 5.0)
        opt.step()
        return loss, hidden.detach()

    pos = 0
    for _ in range(20):  # warm-up
        loss, hidden = step(pos, hidden)
        pos = pos + t if pos + 2 * t + 1 < part else 0
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < a.seconds:
        for _ in range(10):
            loss, hidden = step(pos, hidden)
            pos = pos + t if pos + 2 * t + 1 < part else 0
            done += t * b
    rate = done / (time.perf_counter() - start)
    prefix = "gru_" if a.cell == "gru" else ""
    print(f"{prefix}train_b{b}_h{h} {rate:.0f}")
    print(f"  (last chunk loss {float(loss) / t:.3f} nats/char)", file=sys.stderr)


if __name__ == "__main__":
    main()
