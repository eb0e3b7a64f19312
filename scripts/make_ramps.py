#!/usr/bin/env python3
"""Writes tests/data/series/ramps_TRAIN.ts, ramps_TEST.ts and ramps.csv: a small synthetic sensor
set the repository owns, for the series reader's and the sensors example's tests.

Channel 1 rises, falls or waves (two periods of a sine) over 8-16 steps, with a random offset
and amplitude and a little noise; channel 2 is the same movement as another sensor on another
scale would see it (1000 + 50·x, its own noise), so a model needs the per-channel
normalization. Seeded: rerunning it rewrites the same files.

    python3 scripts/make_ramps.py
"""
import math
import os
import random

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "series")
LABELS = ["rise", "fall", "wave"]
HEADER = (
    "# Ramps: a small synthetic sensor set owned by the repository (tests/data/series/).\n"
    "# Channel 1 rises, falls or waves over 8-16 steps; channel 2 is channel 1 on another scale (1000 + 50x).\n"
    "# Written by scripts/make_ramps.py (seeded).\n"
)


def series(label, n):
    amp = 0.5 + random.random()
    off = random.uniform(-0.3, 0.3)
    phase = random.uniform(0, 2 * math.pi)
    xs, ys = [], []
    for t in range(n):
        u = t / (n - 1)
        if label == "rise":
            x = off + amp * u
        elif label == "fall":
            x = off + amp * (1 - u)
        else:
            x = off + amp * math.sin(2 * math.pi * 2 * u + phase)
        xs.append(x + random.gauss(0, 0.03))
        ys.append(1000 + 50 * x + random.gauss(0, 2))
    return xs, ys


def write_ts(name, count):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(HEADER)
        f.write(
            "@problemName Ramps\n@timeStamps false\n@missing false\n@univariate false\n"
            "@dimensions 2\n@equalLength false\n@classLabel true rise fall wave\n@data\n"
        )
        for i in range(count):
            label = LABELS[i % 3]
            xs, ys = series(label, random.randint(8, 16))
            f.write(",".join(f"{v:.3f}" for v in xs) + ":")
            f.write(",".join(f"{v:.1f}" for v in ys) + ":" + label + "\n")


def write_csv(name, count):
    with open(os.path.join(OUT, name), "w") as f:
        f.write("series,label,x,x_scaled\n")
        for i in range(count):
            label = LABELS[i % 3]
            xs, ys = series(label, 10)
            for x, y in zip(xs, ys):
                f.write(f"s{i},{label},{x:.3f},{y:.1f}\n")


random.seed(16)
os.makedirs(OUT, exist_ok=True)
write_ts("ramps_TRAIN.ts", 45)
write_ts("ramps_TEST.ts", 30)
write_csv("ramps.csv", 6)
