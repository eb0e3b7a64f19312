#!/usr/bin/env bash
# Usage: qemu-insncount.sh MACHINE ELF START_SYMBOL STOP_SYMBOL [extra qemu args]
# Runs a firmware under QEMU with the insncount plugin (tools/insncount.c, built by
# tools/build-insncount-plugin.sh). It counts the instructions executed from the first instruction
# of START_SYMBOL to the first instruction of STOP_SYMBOL, summed over every such window, and
# prints `insncount: total=… window_insns=… windows=…` after the firmware's own output.
# The QEMU exit status is passed on. The marker symbols are arguments.
# INSNCOUNT_CORE=m4 or m0 also prints the window's estimated cycles on that core
# (`cycles: core=… window_estimated=…`, tools/cycle_model.h).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
machine=$1 elf=$2 start_sym=$3 stop_sym=$4
shift 4
sym() { arm-none-eabi-nm "$elf" | awk -v s="$1" '$3==s {print "0x"$1}'; }
start=$(sym "$start_sym") stop=$(sym "$stop_sym")
[ -n "$start" ] && [ -n "$stop" ] || { echo "no symbol $start_sym or $stop_sym in $elf" >&2; exit 2; }
log=$(mktemp)
rc=0
timeout 600 qemu-system-arm -machine "$machine" -nographic \
  -semihosting-config enable=on,target=native -icount shift=0,align=off,sleep=off \
  -plugin "$here/libinsncount.so,start=$start,stop=$stop${INSNCOUNT_CORE:+,core=$INSNCOUNT_CORE}" -d plugin -D "$log" \
  -kernel "$elf" "$@" || rc=$?
cat "$log"
rm -f "$log"
exit $rc
