"""PyTorch peer of `micrornn train TRAIN.ts --test TEST.ts` with its default settings.

The same architecture and schedule as the binary: nn.GRU (or nn.RNN, tanh) + nn.Linear, hidden
size H, PyTorch's default uniform initialization, per-channel z-score from the training series
only (population standard deviation; one below 1e-6 is taken as 1), Adam, the gradient's norm
clipped, one update per series (batch 1, each series its own length, from the zero state), the
training set shuffled every epoch, the class read from the last state (or the mean state), one
thread; and the same regularization as `SeriesTraining`: decoupled weight decay (AdamW; PyTorch
decays before the Adam step, micrornn after it: a difference of order lr²·wd), Gaussian noise
on the normalized inputs and a random time stretch (linear interpolation, the factor
log-uniform in [1/(1+S), 1+S]) drawn anew for each update, and optionally a stratified
validation slice of the training file whose best epoch's model is kept. Only the training
epochs are timed.

usage: python scripts/sensors_torch.py TRAIN.ts TEST.ts [--cell gru|elman] [--hidden 64]
           [--epochs 100] [--lr 0.003] [--clip 5] [--seed 0] [--readout last|mean]
           [--weight-decay 0] [--noise 0.2] [--stretch 0.2] [--val-fraction 0]
(the defaults are micrornn's, `SeriesTraining::DEFAULT`)
Prints one JSON object: set, seed, train_accuracy, test_accuracy, test_loss, train_seconds,
best_epoch.
"""

import argparse
import copy
import json
import math
import random
import time

import torch

# micrornn's defaults (`SeriesTraining::DEFAULT`), the same for every data set.
NOISE = 0.2
STRETCH = 0.2


def read_ts(path):
    """(problem name, class names, series) of a .ts file; a series is (values[T][C], label)."""
    name, classes, series, data = "", [], [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not data:
                key, _, rest = line.partition(" ")
                key = key.lower()
                if key == "@problemname":
                    name = rest.strip()
                elif key == "@classlabel":
                    classes = rest.split()[1:]
                elif key == "@data":
                    data = True
                continue
            *channels, label = line.split(":")
            columns = [[float(v) for v in c.split(",")] for c in channels]
            steps = list(zip(*columns))
            series.append((steps, classes.index(label.strip())))
    return name, classes, series


def normalization(series, channels):
    """Per-channel mean and population standard deviation over every sample."""
    n, mean, m2 = 0, [0.0] * channels, [0.0] * channels
    for steps, _ in series:
        for sample in steps:
            n += 1
            for c, x in enumerate(sample):
                delta = x - mean[c]
                mean[c] += delta / n
                m2[c] += delta * (x - mean[c])
    std = [math.sqrt(v / n) for v in m2]
    std = [s if s >= 1e-6 and math.isfinite(s) else 1.0 for s in std]
    return mean, std


def tensors(series, mean, std):
    mean, std = torch.tensor(mean), torch.tensor(std)
    return [((torch.tensor(steps, dtype=torch.float32) - mean) / std, label) for steps, label in series]


class Model(torch.nn.Module):
    def __init__(self, cell, channels, hidden, classes, readout):
        super().__init__()
        rnn = torch.nn.GRU if cell == "gru" else torch.nn.RNN
        self.rnn = rnn(channels, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, classes)
        self.readout = readout

    def forward(self, x):
        states, last = self.rnn(x.unsqueeze(0))
        state = states[0].mean(0) if self.readout == "mean" else last[0, 0]
        return self.out(state)


def stratified_split(labels, fraction, rng):
    """Indices (train, validation): round(fraction·n) of each class's n series held out, at
    least 1 when fraction > 0, at most n − 1."""
    held = set()
    for c in sorted(set(labels)):
        members = [i for i, label in enumerate(labels) if label == c]
        n = len(members)
        if fraction <= 0 or n < 2:
            continue
        take = min(max(round(fraction * n), 1), n - 1)
        rng.shuffle(members)
        held.update(members[:take])
    return [i for i in range(len(labels)) if i not in held], sorted(held)


def augment(x, noise, stretch, generator):
    """The series x (steps × channels) stretched in time and with Gaussian noise added."""
    if stretch > 0:
        span = math.log1p(stretch)
        factor = math.exp(span * (2 * torch.rand(1, generator=generator).item() - 1))
        n = x.shape[0]
        m = max(1, round(n * factor))
        if n >= 2 and m != n:
            x = torch.nn.functional.interpolate(
                x.T.unsqueeze(0), size=m, mode="linear", align_corners=True)[0].T
    if noise > 0:
        x = x + noise * torch.randn(x.shape, generator=generator)
    return x


def evaluate(model, data):
    correct, loss = 0, 0.0
    with torch.no_grad():
        for x, label in data:
            logits = model(x)
            correct += int(logits.argmax().item() == label)
            loss += torch.nn.functional.cross_entropy(logits.unsqueeze(0), torch.tensor([label])).item()
    return correct / len(data), loss / len(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("train")
    parser.add_argument("test")
    parser.add_argument("--cell", default="gru", choices=["gru", "elman"])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.003)
    parser.add_argument("--clip", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--readout", default="last", choices=["last", "mean"])
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--noise", type=float, default=NOISE)
    parser.add_argument("--stretch", type=float, default=STRETCH)
    parser.add_argument("--val-fraction", type=float, default=0.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    name, classes, train_series = read_ts(args.train)
    _, test_classes, test_series = read_ts(args.test)
    # The test file's labels mapped onto the training file's classes.
    test_series = [(s, classes.index(test_classes[label])) for s, label in test_series]
    channels = len(train_series[0][0][0])
    mean, std = normalization(train_series, channels)
    train, test = tensors(train_series, mean, std), tensors(test_series, mean, std)

    model = Model(args.cell, channels, args.hidden, len(classes), args.readout)
    if args.weight_decay > 0:
        optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    fit, held = stratified_split([label for _, label in train], args.val_fraction, random.Random(args.seed))
    train, validation = [train[i] for i in fit], [train[i] for i in held]
    generator = torch.Generator().manual_seed(args.seed)
    seconds, best, best_epoch = 0.0, None, args.epochs
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        random.shuffle(train)
        for x, label in train:
            optimizer.zero_grad()
            x = augment(x, args.noise, args.stretch, generator)
            loss = torch.nn.functional.cross_entropy(model(x).unsqueeze(0), torch.tensor([label]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            optimizer.step()
        seconds += time.perf_counter() - started
        if validation:
            accuracy, loss = evaluate(model, validation)
            if best is None or (accuracy, -loss) > best[0]:
                best = ((accuracy, -loss), copy.deepcopy(model.state_dict()))
                best_epoch = epoch
    if best is not None:
        model.load_state_dict(best[1])
    train_accuracy, _ = evaluate(model, train)
    test_accuracy, test_loss = evaluate(model, test)
    print(json.dumps({
        "set": name,
        "seed": args.seed,
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "train_seconds": seconds,
        "best_epoch": best_epoch,
    }))


if __name__ == "__main__":
    main()
