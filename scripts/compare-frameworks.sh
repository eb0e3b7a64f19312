#!/usr/bin/env bash
# micrornn's binary vs JAX and PyTorch, min-char-rnn training chars/s, side by side in one run
# on this machine (tinyshakespeare, V = 65, seq 25, clip ±5, carried hidden state):
#   batch 1, H = 100, one core, Adagrad 0.1 (min-char-rnn): micrornn vs JAX (jit + lax.scan,
#     100 chunks per dispatch)
#   batch 32, H = 256 and 512, Adam 0.002, on one and two cores: micrornn vs PyTorch (nn.RNN +
#     nn.Linear, torch.set_num_threads) vs JAX
# Every process is pinned with taskset to the cores it may use (cpu 0, or cpus 0-1).
#
# usage: scripts/compare-frameworks.sh [CORPUS] [SECONDS_PER_MEASUREMENT]
#   defaults: ../shared/data/tinyshakespeare.txt, 10 s
# numpy, jax and torch come from a venv under target/ (created on first use, `pip install`).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-../shared/data/tinyshakespeare.txt}
seconds=${2:-10}

venv=target/venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import numpy, jax, torch' 2>/dev/null; then
  echo "creating $venv with numpy, jax and torch (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check numpy jax torch
fi
py="$venv/bin/python"
cargo build --quiet --release --bin micrornn
bin=target/release/micrornn
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# micrornn: train for the time budget; chars_per_sec from --json.
micrornn() { # cores batch hidden optimizer lr threads
  local cores=$1 batch=$2 hidden=$3 optimizer=$4 lr=$5 threads=$6
  taskset -c "$cores" "$bin" train "$corpus" --hidden "$hidden" --batch "$batch" \
    --threads "$threads" --optimizer "$optimizer" --lr "$lr" --time "$seconds" \
    --sample-every 0 --out "$tmp/m.mrnn" --json 2>/dev/null |
    "$py" -c 'import json, sys; print(round(json.load(sys.stdin)["chars_per_sec"]))'
}
jax() { # cores batch hidden optimizer
  taskset -c "$1" env XLA_FLAGS="--xla_force_host_platform_device_count=1" \
    "$py" scripts/bench_jax.py "$corpus" --batch "$2" --hidden "$3" --optimizer "$4" \
    --seconds "$seconds" 2>/dev/null | awk '{print $2}'
}
torch() { # cores batch hidden optimizer threads
  taskset -c "$1" "$py" scripts/bench_torch.py "$corpus" --batch "$2" --hidden "$3" \
    --optimizer "$4" --threads "$5" --seconds "$seconds" 2>/dev/null | awk '{print $2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(getconf _NPROCESSORS_ONLN) cores, load average $(cut -d' ' -f1 /proc/loadavg); $(date -u +%FT%TZ)"
echo "kernels: $("$bin" train "$corpus" --iters 1 --sample-every 0 --out "$tmp/k.mrnn" --json 2>/dev/null | "$py" -c 'import json, sys; print(json.load(sys.stdin)["kernels"])')"
printf '%-26s %14s %14s %14s %12s %12s\n' setting micrornn JAX PyTorch 'vs JAX' 'vs PyTorch'
m=$(micrornn 0 1 100 adagrad 0.1 1)
j=$(jax 0 1 100 adagrad)
printf '%-26s %14s %14s %14s %12s %12s\n' "B=1 H=100 1 core" "$m" "$j" - "$(ratio "$m" "$j")" -
for hidden in 256 512; do
  for cores in 1 2; do
    set_cores=$([ "$cores" = 1 ] && echo 0 || echo 0-1)
    m=$(micrornn "$set_cores" 32 "$hidden" adam 0.002 "$cores")
    j=$(jax "$set_cores" 32 "$hidden" adam)
    t=$(torch "$set_cores" 32 "$hidden" adam "$cores")
    printf '%-26s %14s %14s %14s %12s %12s\n' "B=32 H=$hidden $cores core(s)" "$m" "$j" "$t" \
      "$(ratio "$m" "$j")" "$(ratio "$m" "$t")"
  done
done
echo "load average at the end: $(cut -d' ' -f1 /proc/loadavg)"
