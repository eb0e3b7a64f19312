#!/usr/bin/env bash
# Checks the insncount plugin's cycle model (tools/cycle_model.h) against hand-counted sequences
# (tools/cycle-model-test.S) run under QEMU: Cortex-M4F on mps2-an386, Cortex-M0 (ARMv6-M code)
# on mps2-an385. Needs arm-none-eabi-gcc, qemu-system-arm and tools/libinsncount.so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for entry in "m4|-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16|mps2-an386|CORE_M4" \
  "m0|-mcpu=cortex-m0|mps2-an385|CORE_M0"; do
  IFS='|' read -r core cpu machine define <<<"$entry"
  elf=$work/$core.elf
  # shellcheck disable=SC2086
  arm-none-eabi-gcc $cpu -mthumb -D"$define" -nostdlib -Wl,-Ttext=0 -Wl,-e,reset -o "$elf" "$here/cycle-model-test.S"
  expected=$((16#$(arm-none-eabi-nm "$elf" | awk '$3 == "EXPECTED" { print $1 }')))
  got=$(INSNCOUNT_CORE=$core "$here/qemu-insncount.sh" "$machine" "$elf" window_start window_stop |
    sed -n 's/^cycles: core=[a-z0-9]* window_estimated=\([0-9]*\)/\1/p')
  if [ "$got" = "$expected" ]; then
    echo "cycle model $core: $got cycles, as counted by hand"
  else
    echo "FAILED: cycle model $core: estimated ${got:-nothing}, hand count $expected" >&2
    status=1
  fi
done
exit $status
