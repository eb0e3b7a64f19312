#!/usr/bin/env bash
# Trains the sensor classifier that sensor.rs embeds and writes the firmware's three files:
#   basicmotions-gru32.mrnn     the GRU (the sensor defaults before the augmentation: H = 32,
#                               Adam 0.003, clip 5, 100 epochs, seed 0, no input noise, no time
#                               stretch) trained on BasicMotions' training series,
#                               narrowed from the binary's series buckets (16 inputs, 16 outputs) to
#                               the deployed Gru<6, 32, 4>, with the training normalization
#   basicmotions-test.samples   the 40 test series in the smallest integer form that keeps every
#                               float prediction (i8 or i16 per value, one scale per channel)
#   basicmotions-gru32.txt      the line the host predicts for each window
#   basicmotions-gru32.q8       the same GRU in int8 (QGru, calibrated on the training series)
#   basicmotions-gru32.q8.txt   the line the host predicts for each window with it
# (tests/firmware_sensor.rs, `write_firmware_files`), then checks them. Needs ../shared/data/uea
# beside the clone (or UEA_DATA). Run from anywhere.
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
data=${UEA_DATA:-$root/../shared/data/uea}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
cargo run -q --release --bin micrornn -- train "$data/BasicMotions_TRAIN.ts" \
  --test "$data/BasicMotions_TEST.ts" --cell gru --hidden 32 --lr 0.003 --clip 5 --epochs 100 \
  --noise 0 --stretch 0 --seed 0 --out "$work/trained.mrnn"
TRAINED_MODEL="$work/trained.mrnn" cargo test -q --release --test firmware_sensor -- --ignored \
  write_firmware_files --nocapture
cargo test -q --release --test firmware_sensor
