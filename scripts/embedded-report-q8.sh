#!/usr/bin/env bash
# The quantized rows of the README's microcontroller table: QRnn<32, H, 32> (int8 weights, Q15
# state) for H = 16, 32, 64 on Cortex-M4F (SMLAD path) and Cortex-M0 (scalar path), with the f32
# Rnn<32, H, 32> of the same firmware family measured in the same run for comparison.
#
#   scripts/embedded-report-q8.sh          # ~5 min on 2 cores; prints Markdown on stdout
#   Q8_INPUTS="token dense" Q8_HIDDEN=32 scripts/embedded-report-q8.sh
#                                          # also the dense-input step (32-channel Q12 samples,
#                                          # QRnn::step_q12_with) beside the token one, H = 32 only
#
# Same tools and conventions as scripts/embedded-report.sh (run that once first: it installs
# QEMU, binutils and builds tools/libinsncount.so): flash = text + data of the ELF; RAM = .data +
# .bss + peak stack (stack painting); exact instruction counts from the QEMU TCG plugin between
# the markers of examples/firmware/src/common.rs. Cortex-M0 code runs on mps2-an385 (the same
# ARMv6-M instructions, RAM enough for every size). The quantized firmware is
# examples/firmware/src/bin/footprint_q8.rs (random int8 weights of the scale of ±1/√H); the f32
# one is footprint.rs with FW_MODE=infer (inference only, weights uniform in ±1/√H).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fw=$root/examples/firmware
tools=$root/tools
export CARGO_TERM_COLOR=never
[ -f "$tools/libinsncount.so" ] || { echo "run scripts/embedded-report.sh first (builds the plugin)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() { # NAME TARGET PROFILE BIN [VAR=VALUE ...]
  local name=$1 target=$2 profile=$3 bin=$4
  shift 4
  (cd "$fw" && env "$@" cargo build -q --profile "$profile" --bin "$bin" --target "$target") >&2
  cp "$fw/target/$target/$profile/$bin" "$work/$name"
}
flash() { arm-none-eabi-size "$1" | awk 'NR==2 {print $1 + $2}'; }
static_ram() { arm-none-eabi-size "$1" | awk 'NR==2 {print $2 + $3}'; }
run() { timeout 600 qemu-system-arm -machine "$1" -nographic -semihosting-config enable=on,target=native -kernel "$2"; }
peak_stack() { run "$1" "$2" | sed -n 's/.*peak stack:\{0,1\} \([0-9]*\) bytes.*/\1/p' | tail -1; }
window() {
  "$tools/qemu-insncount.sh" "$1" "$2" "$3" "$4" |
    sed -n 's/^insncount: total=[0-9]* window_insns=\([0-9]*\) windows=\([0-9]*\)/\1 \2/p'
}
per() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", a / b}'; }
fmt() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }

echo "| target | model (I, H, O) | weights | flash bytes, opt \"s\" / opt 3 | RAM bytes (static + peak stack), opt 3 | instructions per inference step, opt 3 | per generated token (step + logits + argmax), opt 3 | instructions per MAC (step) |"
echo "|---|---|---|---|---|---|---|---|"
for entry in "Cortex-M4F|thumbv7em-none-eabihf|mps2-an386" "Cortex-M0|thumbv6m-none-eabi|mps2-an385"; do
  IFS='|' read -r label target machine <<<"$entry"
  for hidden in ${Q8_HIDDEN:-16 32 64}; do
    for kind in f32 $(for input in ${Q8_INPUTS:-token}; do echo "int8-$input"; done); do
      if [ "$kind" = f32 ]; then bin=footprint; else bin=footprint_q8; fi
      input=${kind#int8-}
      [ "$kind" = f32 ] && input=token
      build s "$target" release-s "$bin" FW_MODE=infer FW_HIDDEN="$hidden" FW_MEMORY=mps2 FW_INPUT="$input"
      build o3 "$target" release "$bin" FW_MODE=infer FW_HIDDEN="$hidden" FW_MEMORY=mps2 FW_INPUT="$input"
      read -r step_insns steps < <(window "$machine" "$work/o3" infer_start step_stop)
      read -r token_insns tokens < <(window "$machine" "$work/o3" infer_start infer_stop)
      stack=$(peak_stack "$machine" "$work/o3")
      ram=$(static_ram "$work/o3")
      step=$(per "$step_insns" "$steps")
      mac=$(awk -v a="$step" -v b="$((hidden * hidden))" 'BEGIN {printf "%.2f", a / b}')
      weights=$kind
      [ "$kind" = int8-token ] && [ -z "${Q8_INPUTS:-}" ] && weights=int8
      echo "| $label | (32, $hidden, 32) | $weights | $(fmt "$(flash "$work/s")") / $(fmt "$(flash "$work/o3")") | $(fmt "$ram") + $(fmt "$stack") | $(fmt "$step") | $(fmt "$(per "$token_insns" "$tokens")") | $mac |"
    done
  done
done
echo
echo "Instructions per MAC = instructions per step / H² (the W_hh·h products; the token input is a row lookup; int8-dense adds the 32 × H input products)."
echo "Measured with $(qemu-system-arm --version | head -1), $(rustc --version)."
