# Sourced by the firmware steps (.ci/steps/30-firmware.sh, 32-sensor-firmware.sh): running a
# firmware under QEMU and the no-heap check, written once. The caller sets `root` (the
# repository) and `log` (a scratch directory).

# run_fw NAME TIMEOUT CARGO-ARGS...: `cargo run` in examples/firmware (cargo reads its
# .cargo/config.toml runner from the cwd: cd first) under `timeout`; the output goes to the file
# "$log/NAME.out" (never a pipe) and is printed; a failure exits the step.
run_fw() {
  local name=$1 limit=$2
  shift 2
  echo "--- $name: cargo run $*"
  if (cd "$root/examples/firmware" && timeout "$limit" cargo run -q "$@") >"$log/$name.out" 2>&1; then
    cat "$log/$name.out"
  else
    local rc=$?
    cat "$log/$name.out"
    echo "FAILED: $name (exit $rc)" >&2
    exit 1
  fi
}

# assert_no_allocator ELF...: no allocator symbol is linked into any of them.
assert_no_allocator() {
  local elf
  for elf in "$@"; do
    if arm-none-eabi-nm -C "$elf" | grep -E '__rust_alloc|__rg_alloc|__rust_no_alloc_shim|alloc::alloc'; then
      echo "FAILED: $elf links an allocator" >&2
      exit 1
    fi
  done
}
