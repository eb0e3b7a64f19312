#!/usr/bin/env bash
# Trains the model that deploy.rs embeds, with the `micrornn` binary, on the poem of notebook 003
# (three times over, so the carried hidden state learns to go on after the last line), and
# rewrites the expected greedy text from it (tests/firmware_deploy.rs). Run from anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
poem="Hope is the thing with feathers that perches in the soul. And sings the tune without the words and never stops at all. "
printf '%s%s%s' "$poem" "$poem" "$poem" >"$work/poem.txt"
cd "$root"
cargo run -q --release --bin micrornn -- train "$work/poem.txt" --hidden 32 --iters 3000 \
  --seed 2026 --val-fraction 0 --sample-every 0 --out "$work/poem-h32.mrnn"
cp "$work/poem-h32.mrnn" examples/firmware/models/poem-h32.mrnn
cargo test -q --release --test firmware_deploy -- --ignored write_expected_text
cargo test -q --release --test firmware_deploy
