#!/usr/bin/env bash
# micrornn's binary vs JAX and PyTorch, min-char-rnn training chars/s, side by side in one run
# on this machine (tinyshakespeare, V = 65, seq 25, clip ±5, carried hidden state):
#   batch 1, H = 100, one core, Adagrad 0.1 (min-char-rnn): micrornn vs JAX (jit + lax.scan,
#     100 chunks per dispatch)
#   batch 32, H = 256 and 512, Adam 0.002, on one and two cores: micrornn vs PyTorch (nn.RNN +
#     nn.Linear, torch.set_num_threads) vs JAX
#   GRU (`--cell gru`, PyTorch's nn.GRU equations), H = 100 and 256: batch 1 on one core,
#     Adagrad 0.1, and batch 32, Adam 0.002, on one and two cores: micrornn vs JAX vs PyTorch
#     (nn.GRU + nn.Linear)
# Every process is pinned with taskset to the cores it may use (cpu 0, or cpus 0-1).
#
# usage: [MICRORNN_BIN=PATH] scripts/compare-frameworks.sh [CORPUS] [SECONDS_PER_MEASUREMENT] [CELLS]
#   defaults: ../shared/data/tinyshakespeare.txt, 10 s, "elman gru" (the rows of which cells)
# numpy, jax and torch come from a venv under target/ (created on first use, `pip install`).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/data/tinyshakespeare.txt}
seconds=${2:-10}
cells=${3:-elman gru}

venv=target/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import numpy, jax, torch' 2>/dev/null; then
  echo "creating $venv with numpy, jax and torch (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check numpy jax torch
fi
py="$venv/bin/python"
# MICRORNN_BIN: a micrornn binary already built from this tree (skips the release build).
bin=${MICRORNN_BIN:-target/release/micrornn}
[ -n "${MICRORNN_BIN:-}" ] || cargo build --quiet --release --bin micrornn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# micrornn: train for the time budget; chars_per_sec from --json.
micrornn() { # cores batch hidden optimizer lr threads [cell]
  local cores=$1 batch=$2 hidden=$3 optimizer=$4 lr=$5 threads=$6 cell=${7:-elman}
  taskset -c "$cores" "$bin" train "$corpus" --cell "$cell" --hidden "$hidden" --batch "$batch" \
    --threads "$threads" --optimizer "$optimizer" --lr "$lr" --time "$seconds" \
    --sample-every 0 --out "$tmp/m.mrnn" --json 2>/dev/null |
    "$py" -c 'import json, sys; print(round(json.load(sys.stdin)["chars_per_sec"]))'
}
jax() { # cores batch hidden optimizer [cell]
  taskset -c "$1" env XLA_FLAGS="--xla_force_host_platform_device_count=1" \
    "$py" scripts/bench_jax.py "$corpus" --batch "$2" --hidden "$3" --optimizer "$4" \
    --cell "${5:-elman}" --seconds "$seconds" 2>/dev/null | awk '{print $2}'
}
torch() { # cores batch hidden optimizer threads [cell]
  taskset -c "$1" env OMP_NUM_THREADS="$5" "$py" scripts/bench_torch.py "$corpus" --batch "$2" \
    --hidden "$3" --optimizer "$4" --threads "$5" --cell "${6:-elman}" --seconds "$seconds" \
    2>/dev/null | awk '{print $2}'
}
row() { # label micrornn JAX PyTorch
  printf '%-26s %14s %14s %14s %12s %12s\n' "$1" "$2" "$3" "$4" "$(ratio "$2" "$3")" \
    "$(ratio "$2" "$4")"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores, load average $(cut -d' ' -f1 /proc/loadavg); $(date -u +%FT%TZ)"
echo "kernels: $("$bin" train "$corpus" --iters 1 --sample-every 0 --out "$tmp/k.mrnn" --json 2>/dev/null | "$py" -c 'import json, sys; print(json.load(sys.stdin)["kernels"])')"
printf '%-26s %14s %14s %14s %12s %12s\n' setting micrornn JAX PyTorch 'vs JAX' 'vs PyTorch'
if [[ " $cells " == *" elman "* ]]; then
  row "B=1 H=100 1 core" "$(micrornn 0 1 100 adagrad 0.1 1)" "$(jax 0 1 100 adagrad)" -
  for hidden in 256 512; do
    for cores in 1 2; do
      set_cores=$([ "$cores" = 1 ] && echo 0 || echo 0-1)
      row "B=32 H=$hidden $cores core(s)" "$(micrornn "$set_cores" 32 "$hidden" adam 0.002 "$cores")" \
        "$(jax "$set_cores" 32 "$hidden" adam)" "$(torch "$set_cores" 32 "$hidden" adam "$cores")"
    done
  done
fi
if [[ " $cells " == *" gru "* ]]; then
  for hidden in 100 256; do
    row "GRU B=1 H=$hidden 1 core" "$(micrornn 0 1 "$hidden" adagrad 0.1 1 gru)" \
      "$(jax 0 1 "$hidden" adagrad gru)" "$(torch 0 1 "$hidden" adagrad 1 gru)"
    for cores in 1 2; do
      set_cores=$([ "$cores" = 1 ] && echo 0 || echo 0-1)
      row "GRU B=32 H=$hidden $cores core(s)" \
        "$(micrornn "$set_cores" 32 "$hidden" adam 0.002 "$cores" gru)" \
        "$(jax "$set_cores" 32 "$hidden" adam gru)" "$(torch "$set_cores" 32 "$hidden" adam "$cores" gru)"
    done
  done
fi
echo "load average at the end: $(cut -d' ' -f1 /proc/loadavg)"
