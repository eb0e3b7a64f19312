#!/usr/bin/env bash
# Issue 17's quality runs: a GRU and an Elman language model on tinyshakespeare, the same time
# budget (300 s of wall time on this machine's cores, validation included), the same mechanism:
# batch 32 on 2 threads, Adam with a per-epoch learning-rate decay, and --keep-best (the whole
# held-out 10 % scored every --sample-every iterations; the model of the lowest loss is kept).
# Prints, per cell, the kept model's validation loss, the last model's, iterations and chars/s,
# and the load average before and after; each run's JSON and loss history stay in target/quality/.
#
# usage: [MICRORNN_BIN=PATH] scripts/quality.sh [CORPUS] [SECONDS] [CELLS]
#   defaults: ../shared/data/tinyshakespeare.txt, 300, "gru elman"
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/data/tinyshakespeare.txt}
seconds=${2:-300}
cells=${3:-gru elman}
bin=${MICRORNN_BIN:-target/release/micrornn}
[ -n "${MICRORNN_BIN:-}" ] || cargo build --quiet --release --bin micrornn
out=target/quality
mkdir -p "$out"

# The settings of each cell: the same mechanism and sizes (H = 256 is the largest GRU the binary
# compiles); Adam 0.003 for the GRU, 0.002 (the rate of the issue's run) for the Elman cell;
# dropout 0.25 on the GRU's readout input (it loses at every iteration for the Elman cell:
# docs/cells.md, "Dropout").
settings() {
  case $1 in
  gru) echo "--hidden 256 --batch 32 --seq-len 50 --optimizer adam --lr 0.003 --lr-decay 0.9 --dropout 0.25 --sample-every 500" ;;
  elman) echo "--hidden 256 --batch 32 --seq-len 50 --optimizer adam --lr 0.002 --lr-decay 0.9 --sample-every 500" ;;
  esac
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores; $(date -u +%FT%TZ)"
printf '%-6s %-105s %10s %10s %10s %12s %10s\n' cell settings kept last iters chars/s load
for cell in $cells; do
  load_before=$(cut -d' ' -f1 /proc/loadavg)
  # shellcheck disable=SC2046
  "$bin" train "$corpus" --cell "$cell" $(settings "$cell") --keep-best --threads 2 \
    --time "$seconds" --out "$out/$cell.mrnn" --json 2>"$out/$cell.log" >"$out/$cell.json"
  load_after=$(cut -d' ' -f1 /proc/loadavg)
  python3 - "$out/$cell.json" "$cell" "$(settings "$cell")" "$load_before" "$load_after" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]:<6} {sys.argv[3]:<105} {j['best_val_loss_per_char']:>10.4f} "
      f"{j['val_loss_per_char']:>10.4f} {j['iterations']:>10} {round(j['chars_per_sec']):>12} "
      f"{sys.argv[4]}→{sys.argv[5]:>5}")
print(f"       kept model: iteration {j['best_iteration']} of {j['iterations']}, "
      f"{j['seconds']:.1f} s of wall time")
PY
done
