#!/usr/bin/env bash
# micrornn vs the repository's own numpy min-char-rnn, on one core, same corpus and settings
# (tinyshakespeare, V = 65, seq 25, Adagrad lr 0.1, clip ±5): training and sampling chars/s
# and their ratio.
#
# usage: scripts/compare.sh [CORPUS] [SECONDS_PER_MEASUREMENT] [HIDDEN...]
#   defaults: ../shared/data/tinyshakespeare.txt, 5 s, H = 100 128
# numpy comes from a venv under target/ (created on first use with `pip install numpy`).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/data/tinyshakespeare.txt}
seconds=${2:-5}
shift $(( $# > 2 ? 2 : $# )) || true
hidden=("$@")
[ ${#hidden[@]} -gt 0 ] || hidden=(100 128)

venv=target/numpy-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import numpy' 2>/dev/null; then
  echo "creating $venv with numpy (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check numpy
fi

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
cargo build --quiet --release --example throughput
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores (1 used), load average $(cut -d" " -f1 /proc/loadavg)"
printf '%-10s %-6s %16s %16s %8s\n' what H 'micrornn chars/s' 'numpy chars/s' ratio
for h in "${hidden[@]}"; do
  rust=$(target/release/examples/throughput "$corpus" --hidden "$h" --seconds "$seconds" 2>/dev/null)
  py=$("$venv/bin/python" scripts/min_char_rnn_numpy.py "$corpus" --hidden "$h" --seconds "$seconds" 2>/dev/null)
  for what in train sample; do
    r=$(awk -v k="${what}_h$h" '$1 == k {print $2}' <<<"$rust")
    p=$(awk -v k="${what}_h$h" '$1 == k {print $2}' <<<"$py")
    ratio=$(awk -v r="$r" -v p="$p" 'BEGIN {printf "%.1fx", r / p}')
    printf '%-10s %-6s %16s %16s %8s\n' "$what" "$h" "$r" "$p" "$ratio"
  done
done
