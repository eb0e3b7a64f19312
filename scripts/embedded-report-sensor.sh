#!/usr/bin/env bash
# The sensor firmware rows of docs/microcontrollers.md and docs/sensors.md: the BasicMotions
# classifier (examples/firmware/src/bin/sensor.rs, f32, and sensor_q8.rs, int8) on the QEMU
# machines CI runs them on. Prints Markdown on stdout.
#
#   scripts/embedded-report-sensor.sh        # a few minutes on 2 cores (the M0 f32 run is long)
#
# Same tools and conventions as scripts/embedded-report.sh (run that once first, or
# tools/build-insncount-plugin.sh: the QEMU plugin): exact instruction counts between the
# firmware's markers, `sample_start`..`sample_stop` (read 6 integers, scale, normalize, one
# step) and `window_start`..`window_stop` (100 samples, then logits, softmax, argmax; printing
# excluded); estimated cycles from tools/cycle_model.h (zero wait states); flash = text + data
# of the ELF; RAM = .data + .bss + peak stack (stack painting).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fw=$root/examples/firmware
tools=$root/tools
export CARGO_TERM_COLOR=never
[ -f "$tools/libinsncount.so" ] || "$tools/build-insncount-plugin.sh" >&2

flash() { arm-none-eabi-size "$1" | awk 'NR==2 {print $1 + $2}'; }
static_ram() { arm-none-eabi-size "$1" | awk 'NR==2 {print $2 + $3}'; }
per() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", a / b}'; }
fmt() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }
# count MACHINE ELF START STOP [CORE] -> "instructions windows estimated_cycles" (+ the output in $out)
count() {
  INSNCOUNT_CORE=${5:-} "$tools/qemu-insncount.sh" "$1" "$2" "$3" "$4" >"$out"
  local insns windows cycles
  read -r insns windows < <(sed -n 's/^insncount: total=[0-9]* window_insns=\([0-9]*\) windows=\([0-9]*\)/\1 \2/p' "$out")
  cycles=$(sed -n 's/^cycles: core=[a-z0-9]* window_estimated=\([0-9]*\)/\1/p' "$out")
  echo "$insns $windows ${cycles:-0}"
}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "| firmware | target (QEMU machine) | instructions per sample | est. cycles per sample | instructions per 100-sample window | flash bytes | RAM bytes (static + peak stack) | est. time per sample at the clock → share of the 100 ms period (10 Hz) |"
echo "|---|---|---|---|---|---|---|---|"
# bin|label|target|machine|core|clock MHz
# The share of the period is the time in ms itself: the period is 100 ms.
for entry in "sensor|f32 Gru<6, 32, 4>|Cortex-M4F|thumbv7em-none-eabihf|mps2-an386|m4|25" \
  "sensor_q8|int8 QGru<6, 32, 4>|Cortex-M4F|thumbv7em-none-eabihf|mps2-an386|m4|25" \
  "sensor|f32 Gru<6, 32, 4> (soft float)|Cortex-M0|thumbv6m-none-eabi|microbit|m0|16" \
  "sensor_q8|int8 QGru<6, 32, 4>|Cortex-M0|thumbv6m-none-eabi|microbit|m0|16"; do
  IFS='|' read -r bin model label target machine core mhz <<<"$entry"
  (cd "$fw" && cargo build -q --release --bin "$bin" --target "$target") >&2
  elf=$fw/target/$target/release/$bin
  read -r sample_insns samples sample_cycles < <(count "$machine" "$elf" sample_start sample_stop "$core")
  grep -q '^OK: the same lines as the host' "$out" || { echo "$bin on $target did not match the host" >&2; exit 1; }
  stack=$(sed -n 's/^peak stack: \([0-9]*\) bytes/\1/p' "$out")
  read -r window_insns windows _ < <(count "$machine" "$elf" window_start window_stop)
  ram=$(static_ram "$elf")
  cycles=$(per "$sample_cycles" "$samples")
  ms=$(awk -v c="$cycles" -v f="$mhz" 'BEGIN {printf "%.2f ms at %d MHz → %.1f %%", c / (f * 1000), f, c / (f * 1000) }')
  echo "| $bin.rs, $model | $label ($machine) | $(fmt "$(per "$sample_insns" "$samples")") | $(fmt "$cycles") | $(fmt "$(per "$window_insns" "$windows")") | $(fmt "$(flash "$elf")") | $(fmt "$ram") + $(fmt "$stack") = $(fmt $((ram + stack))) | $ms |"
done
echo
echo "Measured with $(qemu-system-arm --version | head -1), $(rustc --version)."
