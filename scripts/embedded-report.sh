#!/usr/bin/env bash
# Measures micrornn on emulated microcontrollers for the README's "On a microcontroller" section:
# flash and RAM from the ELF, peak stack by stack painting, and exact instruction counts from a
# QEMU TCG plugin (tools/qemu-insncount.sh). Prints Markdown tables on stdout.
#
#   scripts/embedded-report.sh            # all of it: a few minutes on 2 cores
#
# Needs root on a fresh Debian 12 machine (installs qemu-system-arm, binutils-arm-none-eabi, the
# rustup targets, and builds tools/libinsncount.so from Debian's qemu source package).
#
# What is measured (examples/firmware/src/bin/footprint.rs, a Rnn<32, H, 32>):
# - "inference step": one `Rnn::step` (h = tanh(W_xh·x + W_hh·h + b_h), token input), and
#   "per token": step + logits + argmax (one generated token);
# - "per trained char": one `Trainer::train_chunk` (forward, backward, clip ±5, Adagrad) / 25;
# - flash = text + data of the ELF (vector table, code, read-only data, .data image);
#   RAM = .data + .bss + peak stack (painted by cortex-m-rt, scanned at the end of the run);
# - the core's share of flash: the same firmware built with training and inference, inference
#   only, or neither (`FW_MODE`), minus the `baseline`.
# - inference runs on weights uniform in ±1/√H: tanhf's cost depends on its argument, so the
#   examples' trained models (last table) cost more per step.
# Cortex-M0 code (thumbv6m-none-eabi) is counted on mps2-an385: the same ARMv6-M instructions, but
# RAM enough for models that do not fit the micro:bit's 16 KB. The examples CI runs (train.rs,
# deploy.rs) are measured on the machines they run on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fw=$root/examples/firmware
tools=$root/tools
export CARGO_TERM_COLOR=never

# --- install what is missing -------------------------------------------------------------------
need_apt=()
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
command -v arm-none-eabi-size >/dev/null || need_apt+=(binutils-arm-none-eabi)
command -v gcc >/dev/null || need_apt+=(gcc libc6-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null 2>&1
[ -f "$tools/libinsncount.so" ] || "$tools/build-insncount-plugin.sh" >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# build NAME TARGET PROFILE [VAR=VALUE ...] -> copies the footprint/train ELF to $work/NAME
build() {
  local name=$1 target=$2 profile=$3 bin=$4
  shift 4
  (cd "$fw" && env "$@" cargo build -q --profile "$profile" --bin "$bin" --target "$target") >&2
  cp "$fw/target/$target/$profile/$bin" "$work/$name"
}
flash() { arm-none-eabi-size "$1" | awk 'NR==2 {print $1 + $2}'; }
static_ram() { arm-none-eabi-size "$1" | awk 'NR==2 {print $2 + $3}'; }
# run MACHINE ELF -> the firmware's output (fails if the firmware fails)
run() { timeout 600 qemu-system-arm -machine "$1" -nographic -semihosting-config enable=on,target=native -kernel "$2"; }
peak_stack() { run "$1" "$2" | sed -n 's/.*peak stack:\{0,1\} \([0-9]*\) bytes.*/\1/p' | tail -1; }
# window MACHINE ELF START STOP -> "instructions windows"
window() {
  "$tools/qemu-insncount.sh" "$1" "$2" "$3" "$4" |
    sed -n 's/^insncount: total=[0-9]* window_insns=\([0-9]*\) windows=\([0-9]*\)/\1 \2/p'
}
per() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", a / b}'; }
fmt() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; } # 1234567 -> 1,234,567

targets=("Cortex-M4F|thumbv7em-none-eabihf|mps2-an386" "Cortex-M0|thumbv6m-none-eabi|mps2-an385")

echo "## Footprint: Rnn<32, H, 32>, training (Adagrad, seq 25) and inference linked"
echo
echo "| target | model (I, H, O) | profile | flash bytes (kernel + example) | RAM bytes (static + peak stack) | instructions per inference step (\`Rnn::step\`) | per generated token (step + logits + argmax) | instructions per trained char |"
echo "|---|---|---|---|---|---|---|---|"
for entry in "${targets[@]}"; do
  IFS='|' read -r label target machine <<<"$entry"
  for hidden in 16 32 64; do
    for profile in release release-s; do
      elf=$work/fp-$target-$hidden-$profile
      build "${elf##*/}" "$target" "$profile" footprint FW_MODE=train FW_HIDDEN="$hidden" FW_MEMORY=mps2
      read -r step_insns steps < <(window "$machine" "$elf" infer_start step_stop)
      read -r token_insns tokens < <(window "$machine" "$elf" infer_start infer_stop)
      read -r train_insns chunks < <(window "$machine" "$elf" train_start train_stop)
      stack=$(peak_stack "$machine" "$elf")
      ram_static=$(static_ram "$elf")
      opt=$([ "$profile" = release ] && echo 'opt 3' || echo 'opt "s"')
      echo "| $label | (32, $hidden, 32) | $opt | $(fmt "$(flash "$elf")") | $(fmt "$ram_static") + $(fmt "$stack") = $(fmt $((ram_static + stack))) | $(fmt "$(per "$step_insns" "$steps")") | $(fmt "$(per "$token_insns" "$tokens")") | $(fmt "$(per "$train_insns" $((chunks * 25)))") |"
    done
  done
done

echo
echo "## The core's share of flash (H = 32, bytes; the firmware minus the same firmware without the model)"
echo
echo "| target | profile | baseline firmware | inference only | inference + training | core, inference only | core, with training |"
echo "|---|---|---|---|---|---|---|"
for entry in "${targets[@]}"; do
  IFS='|' read -r label target machine <<<"$entry"
  for profile in release-s release; do
    for mode in baseline infer train; do
      build "share-$mode" "$target" "$profile" footprint FW_MODE="$mode" FW_HIDDEN=32 FW_MEMORY=mps2
      run "$machine" "$work/share-$mode" >/dev/null
    done
    base=$(flash "$work/share-baseline") infer=$(flash "$work/share-infer") train=$(flash "$work/share-train")
    opt=$([ "$profile" = release ] && echo 'opt 3' || echo 'opt "s"')
    echo "| $label | $opt | $(fmt "$base") | $(fmt "$infer") | $(fmt "$train") | **$(fmt $((infer - base)))** | **$(fmt $((train - base)))** |"
  done
done

echo
echo "## The examples CI runs, with trained models (opt 3)"
echo
echo "| example | target (QEMU machine) | model (I, H, O) | flash bytes | RAM bytes (static + peak stack) | instructions per inference step (\`Rnn::step\`) | per generated token | instructions per trained char |"
echo "|---|---|---|---|---|---|---|---|"
for entry in "train|Cortex-M4F|thumbv7em-none-eabihf|mps2-an386|(22, 32, 22)|25" \
  "train|Cortex-M0|thumbv6m-none-eabi|microbit|(19, 16, 19)|10" \
  "deploy|Cortex-M4F|thumbv7em-none-eabihf|mps2-an386|(32, 32, 32), 22 classes|" \
  "deploy|Cortex-M0|thumbv6m-none-eabi|microbit|(32, 32, 32), 22 classes|"; do
  IFS='|' read -r bin label target machine model seq <<<"$entry"
  elf=$work/$bin-$target
  build "${elf##*/}" "$target" release "$bin"
  read -r token_insns tokens < <(window "$machine" "$elf" infer_start infer_stop)
  if [ "$bin" = train ]; then
    step="— (\`Sampler::feed\`)" # train.rs samples through Sampler: step and logits in one call
    read -r train_insns chunks < <(window "$machine" "$elf" train_start train_stop)
    trained=$(fmt "$(per "$train_insns" $((chunks * seq)))")
  else
    read -r step_insns steps < <(window "$machine" "$elf" infer_start step_stop)
    step=$(fmt "$(per "$step_insns" "$steps")")
    trained="—"
  fi
  stack=$(peak_stack "$machine" "$elf")
  ram_static=$(static_ram "$elf")
  echo "| $bin.rs | $label ($machine) | $model | $(fmt "$(flash "$elf")") | $(fmt "$ram_static") + $(fmt "$stack") = $(fmt $((ram_static + stack))) | $step | $(fmt "$(per "$token_insns" "$tokens")") | $trained |"
done
echo
echo "Measured with $(qemu-system-arm --version | head -1), $(rustc --version)."
