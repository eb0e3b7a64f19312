#!/usr/bin/env bash
# Firmware (issue 6): train and sample on emulated Cortex-M4F and Cortex-M0, run the deployed
# model, prove the firmware paths panic-free at link time, and build for riscv32imac.
# Needs qemu-system-arm and binutils-arm-none-eabi (installed by .ci/run). The QEMU exit status
# is each example's verdict. Every QEMU run is under `timeout`; output goes to a file, never a pipe.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi thumbv7m-none-eabi riscv32imac-unknown-none-elf >/dev/null 2>&1 ||
  rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi thumbv7m-none-eabi riscv32imac-unknown-none-elf
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# shellcheck source=../firmware.sh
source "$root/.ci/firmware.sh"

echo "--- formatting of the firmware crates"
for crate in firmware panic-check; do
  cargo fmt --check --manifest-path "$root/examples/$crate/Cargo.toml"
done

echo "--- clippy on the firmware crates"
(cd "$root/examples/firmware" && cargo clippy -q --release --bins -- -D warnings &&
  cargo clippy -q --release --bins --target thumbv6m-none-eabi -- -D warnings)
(cd "$root/examples/panic-check" && cargo clippy -q --release -- -D warnings)

echo "--- panic-freedom: must link (a reachable panic is an undefined symbol)"
(
  cd "$root/examples/panic-check"
  for args in "--release" "--profile release-s" "--release --target thumbv6m-none-eabi" \
    "--release --target riscv32imac-unknown-none-elf"; do
    # shellcheck disable=SC2086
    cargo build -q $args
    echo "panic-free: $args"
  done
  # The check must be able to fail: a runtime index must break the link.
  if cargo build -q --release --features demo-panic >"$log/demo-panic.out" 2>&1; then
    echo "FAILED: the panic check linked a program with a reachable panic" >&2
    exit 1
  fi
  grep -q 'undefined symbol: ERROR_panic_is_reachable' "$log/demo-panic.out"
  echo "panic check rejects a reachable panic, as it should"
)

# The same firmware over a Gru<22, 32, 22> (the Trainer is generic over the cell): no heap either.
FW_CELL=gru run_fw "train GRU (Cortex-M4F, mps2-an386)" 240 --release --bin train
cp "$root/examples/firmware/target/thumbv7em-none-eabihf/release/train" "$log/train_gru"
run_fw "train (Cortex-M4F, mps2-an386)" 180 --release --bin train
run_fw "train (Cortex-M0, microbit, 16 KB RAM)" 240 --release --bin train --target thumbv6m-none-eabi
run_fw "deploy (Cortex-M4F, mps2-an386)" 60 --release --bin deploy
run_fw "deploy (Cortex-M0, microbit)" 60 --release --bin deploy --target thumbv6m-none-eabi
# The quantized deploy model: integer kernels (SMLAD on the M4F) checked against the scalar
# reference inside the firmware, then the host's quantized greedy text (tests/firmware_deploy_q8.rs).
run_fw "deploy_q8 (Cortex-M4F, mps2-an386)" 60 --release --bin deploy_q8
run_fw "deploy_q8 (Cortex-M0, microbit)" 60 --release --bin deploy_q8 --target thumbv6m-none-eabi
smlad=$(arm-none-eabi-objdump -d "$root/examples/firmware/target/thumbv7em-none-eabihf/release/deploy_q8" | grep -c 'smlad' || true)
if [ "$smlad" -eq 0 ]; then
  echo "FAILED: the Cortex-M4F quantized firmware has no SMLAD" >&2
  exit 1
fi
echo "deploy_q8 (Cortex-M4F): $smlad SMLAD instructions"
# The quantized GRU: each step against the scalar reference's, then the host's greedy text
# (tests/firmware_deploy_gru_q8.rs).
run_fw "deploy_gru_q8 (Cortex-M4F, mps2-an386)" 60 --release --bin deploy_gru_q8
run_fw "deploy_gru_q8 (Cortex-M0, microbit)" 60 --release --bin deploy_gru_q8 --target thumbv6m-none-eabi
smlad=$(arm-none-eabi-objdump -d "$root/examples/firmware/target/thumbv7em-none-eabihf/release/deploy_gru_q8" | grep -c 'smlad' || true)
if [ "$smlad" -eq 0 ]; then
  echo "FAILED: the Cortex-M4F quantized GRU firmware has no SMLAD" >&2
  exit 1
fi
echo "deploy_gru_q8 (Cortex-M4F): $smlad SMLAD instructions"
# (the host half of the deploy check, tests/firmware_deploy.rs, runs in `cargo test`)

echo "--- no heap: no allocator symbol in any firmware ELF"
assert_no_allocator "$root"/examples/firmware/target/{thumbv7em-none-eabihf,thumbv6m-none-eabi}/release/{train,deploy,deploy_q8,deploy_gru_q8} "$log/train_gru"
echo "no allocator linked"

echo "--- riscv32imac-unknown-none-elf: the core builds (panic check above links for it too)"
(cd "$root" && cargo build -q --release --lib --no-default-features --target riscv32imac-unknown-none-elf)

echo "firmware: all OK"
