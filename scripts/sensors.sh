#!/usr/bin/env bash
# micrornn's binary beside PyTorch on the five UCR/UEA sets of ../shared/data/uea, in one run,
# with the same default settings for every set (GRU H = 64, Adam lr 0.003, gradient norm
# clipped to 5, 100 epochs, one update per series, z-score per channel from the training file,
# class read after the last step, each training series stretched in time by up to 1.2× and
# with Gaussian noise of std 0.2 added, anew for each update), each process pinned to one core
# with one thread:
#   micrornn: `micrornn train TRAIN.ts --test TEST.ts --seed S --json`, SEEDS seeds;
#   int8:     `micrornn quantize MODEL --calibrate TRAIN.ts` + `micrornn eval MODEL.q8 TEST.ts`
#             (either cell: `-- --cell elman` gives the Elman rows; "n/a" if quantization fails);
#   PyTorch:  scripts/sensors_torch.py (nn.GRU + nn.Linear, the same schedule), TORCH_SEEDS seeds.
# Prints the markdown table of docs/sensors.md: median test accuracy (min–max over the seeds),
# median training seconds (training epochs only), and the load average before and after.
#
# usage: scripts/sensors.sh [SEEDS] [TORCH_SEEDS] [-- EXTRA TRAIN OPTIONS...]
#        scripts/sensors.sh --table    (the table of the results kept from the last run)
#   defaults: 5 and 5 seeds (0..N-1); TORCH_SEEDS=0 skips PyTorch. Data: $UEA_DATA or
#   ../shared/data/uea. Every run's JSON is kept in target/sensors/results.jsonl.
# torch comes from a venv under target/ (created on first use, `pip install`).
set -euo pipefail
cd "$(dirname "$0")/.."
table_only=false
if [ "${1:-}" = "--table" ]; then table_only=true; shift; fi
seeds=${1:-5}
torch_seeds=${2:-5}
shift $(( $# > 1 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
extra=("$@")
data=${UEA_DATA:-../shared/data/uea}
sets=(BasicMotions JapaneseVowels ItalyPowerDemand GunPoint PickupGestureWiimoteZ)

out=target/sensors/results.jsonl
if ! $table_only; then
venv=target/venv
if [ "$torch_seeds" -gt 0 ] && { [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import torch' 2>/dev/null; }; then
  echo "creating $venv with torch (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check torch
fi
cargo build --quiet --release --bin micrornn
bin=target/release/micrornn
mkdir -p target/sensors
: >"$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores (1 used per run); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "settings: defaults ${extra[*]:-}; micrornn seeds 0..$((seeds - 1)), PyTorch seeds 0..$((torch_seeds - 1))"
for set in "${sets[@]}"; do
  train="$data/${set}_TRAIN.ts" test="$data/${set}_TEST.ts"
  for seed in $(seq 0 $((seeds - 1))); do
    model="$tmp/$set-$seed.mrnn"
    run=$(taskset -c 0 "$bin" train "$train" --test "$test" --seed "$seed" --out "$model" \
      --json "${extra[@]}")
    q8=null
    if "$bin" quantize "$model" --calibrate "$train" --out "$model.q8" >/dev/null 2>&1; then
      q8=$("$bin" eval "$model.q8" "$test" --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["accuracy"])')
    fi
    python3 -c 'import json, sys; r = json.loads(sys.argv[1]); r.update(tool="micrornn", set=sys.argv[2], int8_accuracy=json.loads(sys.argv[3])); print(json.dumps(r))' \
      "$run" "$set" "$q8" >>"$out"
  done
done
echo "micrornn done; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# PyTorch after every micrornn run, seed by seed, so that an interrupted run still has all of
# micrornn's and whole seeds of PyTorch's (`scripts/sensors.sh --table` prints them).
for seed in $(seq 0 $((torch_seeds - 1))); do
  for set in "${sets[@]}"; do
    train="$data/${set}_TRAIN.ts" test="$data/${set}_TEST.ts"
    taskset -c 0 "$venv/bin/python" scripts/sensors_torch.py "$train" "$test" --seed "$seed" |
      python3 -c 'import json, sys; r = json.load(sys.stdin); r.update(tool="torch", set=sys.argv[1]); print(json.dumps(r))' \
        "$set" >>"$out"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
python3 - "$out" "${sets[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
published = {  # the data's README: best published test accuracy
    "BasicMotions": "1.000", "JapaneseVowels": "0.993", "ItalyPowerDemand": "0.971",
    "GunPoint": "1.000", "PickupGestureWiimoteZ": "0.940",
}
def accuracy(values):
    if not values:
        return "–"
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"
def seconds(values):
    return f"{statistics.median(values):.1f}" if values else "–"
print("| set | micrornn float accuracy | int8 accuracy | train s | PyTorch accuracy | PyTorch train s | speed-up | best published |")
print("|---|---|---|---|---|---|---|---|")
for s in sys.argv[2:]:
    ours = [r for r in runs if r["set"] == s and r["tool"] == "micrornn"]
    torch = [r for r in runs if r["set"] == s and r["tool"] == "torch"]
    int8 = [r["int8_accuracy"] for r in ours if r.get("int8_accuracy") is not None]
    our_s = [r["seconds"] for r in ours]
    torch_s = [r["train_seconds"] for r in torch]
    speedup = f"{statistics.median(torch_s) / statistics.median(our_s):.0f}×" if our_s and torch_s else "–"
    print(f"| {s} | {accuracy([r['test_accuracy'] for r in ours])} | {accuracy(int8) if int8 else 'n/a'} "
          f"| {seconds(our_s)} | {accuracy([r['test_accuracy'] for r in torch])} | {seconds(torch_s)} "
          f"| {speedup} | {published.get(s, '–')} |")
PY
