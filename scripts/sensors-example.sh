#!/usr/bin/env bash
# The sensors example on the five UCR/UEA sets of ../shared/data/uea, Elman and GRU, several
# seeds, one setting for every set: a markdown table of the median test accuracy (min–max over
# the seeds) and the median training seconds (1 thread), with the machine's load average.
#
# usage: scripts/sensors-example.sh [SEEDS] [-- EXTRA EXAMPLE OPTIONS...]
#   defaults: 5 seeds (0..4), the example's default settings; e.g.
#   scripts/sensors-example.sh 3 -- --readout mean --epochs 200
#   CELLS=gru scripts/sensors-example.sh 5 -- --validation 0.2   (one cell only)
# Every run's `result` line is kept in target/sensors/results.txt (or $RESULTS).
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-5}
shift $(( $# > 0 ? 1 : 0 )) || true
[ "${1:-}" = "--" ] && shift
extra=("$@")
read -r -a cells <<<"${CELLS:-elman gru}"
data=${UEA_DATA:-../shared/data/uea}
sets=(BasicMotions JapaneseVowels ItalyPowerDemand GunPoint PickupGestureWiimoteZ)
[ -n "${NO_BUILD:-}" ] || cargo build --quiet --release --example sensors
mkdir -p target/sensors
out=${RESULTS:-target/sensors/results.txt}
: >"$out"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores (1 used); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "settings: defaults ${extra[*]:-} ; seeds 0..$((seeds - 1))"
for set in "${sets[@]}"; do
  for cell in "${cells[@]}"; do
    for seed in $(seq 0 $((seeds - 1))); do
      target/release/examples/sensors "$data/${set}_TRAIN.ts" "$data/${set}_TEST.ts" \
        --cell "$cell" --seed "$seed" "${extra[@]}" | grep '^result' >>"$out"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    fields = dict(re.findall(r"(\w+)=(\S+)", line))
    runs.setdefault((fields["set"], fields["cell"]), []).append(fields)
present = [c for c in ("Elman", "Gru") if any(cell == c for _, cell in runs)]
names = {"Elman": "Elman", "Gru": "GRU"}
print("| set | " + " | ".join(f"{names[c]} accuracy" for c in present)
      + f" | train s ({' / '.join(names[c] for c in present)}) |")
print("|---|" + "---|" * (len(present) + 1))
sets = list(dict.fromkeys(s for s, _ in runs))
means = {c: [] for c in present}
for s in sets:
    cells = []
    seconds = []
    for cell in present:
        accs = [float(r["test_accuracy"]) for r in runs.get((s, cell), [])]
        means[cell].append(statistics.median(accs))
        secs = [float(r["train_seconds"]) for r in runs.get((s, cell), [])]
        cells.append(f"{statistics.median(accs):.3f} ({min(accs):.3f}–{max(accs):.3f})")
        seconds.append(f"{statistics.median(secs):.1f}")
    print(f"| {s} | {' | '.join(cells)} | {' / '.join(seconds)} |")
print("mean of the medians: " + ", ".join(f"{names[c]} {statistics.mean(m):.3f}" for c, m in means.items()))
PY
