#!/usr/bin/env bash
# The GRU rows of docs/microcontrollers.md: one inference step of a QGru<32, H, 32> (int8
# weights, Q15 state; SMLAD path on the M4F, scalar on the M0) and of an f32 Gru<32, H, 32>, for
# H = 16, 32, 64: instructions and estimated cycles per step and per MAC (3·H·(I + H) MACs a
# step, the token's input products counted although a token is a row lookup; the `dense` rows
# feed 32-channel samples instead, a full input product as CMSIS-NN's LSTM step computes), flash
# and RAM.
#
#   scripts/embedded-report-gru.sh          # prints Markdown on stdout; GRU_HIDDEN="32" for one size
#
# Same tools and conventions as scripts/embedded-report-q8.sh (run scripts/embedded-report.sh once
# first: it installs QEMU and binutils; tools/build-insncount-plugin.sh builds the plugin):
# flash = text + data of the whole ELF; RAM = .data + .bss + peak stack (stack painting); exact
# instruction counts from the QEMU TCG plugin between `infer_start` and `step_stop`; estimated
# cycles from tools/cycle_model.h (the reference manuals' timings, zero wait states: an
# estimate). The firmware is examples/firmware/src/bin/footprint_gru.rs (random weights of the
# scale of ±1/√H). CMSIS-NN's LSTM step beside it comes from scripts/compare-cmsis-nn.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fw=$root/examples/firmware
tools=$root/tools
export CARGO_TERM_COLOR=never
[ -f "$tools/libinsncount.so" ] || "$tools/build-insncount-plugin.sh" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # TARGET PROFILE WEIGHTS INPUT HIDDEN -> path of a copy of the ELF
  local target=$1 profile=$2 weights=$3 input=$4 hidden=$5 out=$work/$1-$2-$3-$4-$5
  (cd "$fw" && FW_WEIGHTS=$weights FW_INPUT=$input FW_HIDDEN=$hidden FW_MEMORY=mps2 \
    cargo build -q --profile "$profile" --bin footprint_gru --target "$target") >&2
  cp "$fw/target/$target/$profile/footprint_gru" "$out"
  echo "$out"
}
flash() { arm-none-eabi-size "$1" | awk 'NR==2 {print $1 + $2}'; }
static_ram() { arm-none-eabi-size "$1" | awk 'NR==2 {print $2 + $3}'; }
# measure MACHINE CORE ELF -> "insns_per_step cycles_per_step peak_stack"
measure() {
  INSNCOUNT_CORE=$2 "$tools/qemu-insncount.sh" "$1" "$3" infer_start step_stop >"$work/out"
  awk '/^insncount:/ { split($3, a, "="); split($4, w, "="); insns = a[2]; steps = w[2] }
       /^cycles:/ { split($3, c, "="); cycles = c[2] }
       /peak stack/ { sub(/.*peak stack /, ""); stack = $1 }
       END { if (steps == 0) exit 1; printf "%.0f %.0f %d\n", insns / steps, cycles / steps, stack }' "$work/out"
}
fmt() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo '| target, opt | weights, input | (I, H, O) | instructions / est. cycles per step | per MAC: instructions / est. cycles | flash bytes | RAM bytes (static + peak stack) |'
echo '|---|---|---|---|---|---|---|'
# Each configuration: label|opt|target|profile|machine|cycle model|WEIGHTS:INPUT ...
for config in "Cortex-M4F|opt 3|thumbv7em-none-eabihf|release|mps2-an386|m4|int8:token int8:dense f32:token" \
  "Cortex-M4F|opt \"s\"|thumbv7em-none-eabihf|release-s|mps2-an386|m4|int8:token f32:token" \
  "Cortex-M0|opt 3|thumbv6m-none-eabi|release|mps2-an385|m0|int8:token int8:dense"; do
  IFS='|' read -r label opt target profile machine core kinds <<<"$config"
  for hidden in ${GRU_HIDDEN:-16 32 64}; do
    for kind in $kinds; do
      weights=${kind%:*} input=${kind#*:}
      elf=$(build "$target" "$profile" "$weights" "$input" "$hidden")
      read -r insns cycles stack < <(measure "$machine" "$core" "$elf")
      macs=$((3 * hidden * (32 + hidden)))
      echo "| $label, $opt | $weights, $input | (32, $hidden, 32) | $(fmt "$insns") / $(fmt "$cycles") | $(ratio "$insns" "$macs") / $(ratio "$cycles" "$macs") | $(fmt "$(flash "$elf")") | $(fmt "$(static_ram "$elf")") + $(fmt "$stack") |"
    done
  done
done
echo
echo "MACs per step = 3·H·(I + H). Measured with $(qemu-system-arm --version | head -1), $(rustc --version)."
