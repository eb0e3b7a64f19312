#!/usr/bin/env bash
# micrornn beside CMSIS-NN (issue 18): the insncount plugin's cycle model against hand-counted
# sequences, then the M4F opt-3 H = 32 comparison of scripts/compare-cmsis-nn.sh, which fails if
# the Rust and C steps disagree on the states or micrornn is no longer ahead of CMSIS-NN (fewer
# instructions and fewer estimated cycles). CMSIS-NN's source is ../shared/third_party/CMSIS-NN
# (CMSIS_NN_DIR); under CI=true its absence fails the step, elsewhere the step is skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cmsis=${CMSIS_NN_DIR:-$root/../shared/third_party/CMSIS-NN}
if [ ! -f "$cmsis/Include/arm_nnfunctions.h" ]; then
  if [ "${CI:-}" = true ]; then
    echo "FAILED: no CMSIS-NN source at $cmsis" >&2
    exit 1
  fi
  echo "skipping: no CMSIS-NN source at $cmsis (set CMSIS_NN_DIR)"
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  missing=()
  for pkg in gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi qemu-system-arm gcc pkg-config; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null 2>&1 ||
  rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi
tools=$root/tools
if [ ! -f "$tools/libinsncount.so" ] || [ "$tools/insncount.c" -nt "$tools/libinsncount.so" ] ||
  [ "$tools/cycle_model.h" -nt "$tools/libinsncount.so" ]; then
  "$tools/build-insncount-plugin.sh"
fi
"$tools/cycle-model-test.sh"
COMPARE_HIDDEN=32 COMPARE_CONFIGS=m4f-o3 CMSIS_NN_DIR=$cmsis "$root/scripts/compare-cmsis-nn.sh" --check
