#!/usr/bin/env bash
# The sensor classifier firmware (issue 16): the GRU trained on BasicMotions, f32 (sensor.rs)
# and int8 (sensor_q8.rs), classifies the 40 test series one sample at a time on an emulated
# Cortex-M4F (mps2-an386) and Cortex-M0 (microbit, 16 KB RAM). Each firmware compares its lines
# with the host's (examples/firmware/models/basicmotions-gru32{,.q8}.txt, checked on the host by
# tests/firmware_sensor.rs in `cargo test`) and exits 1 on a difference; this step compares the
# printed lines with those files once more, exactly, and checks that no allocator is linked.
# Installs what it needs. Every QEMU run is under `timeout`; output goes to a file, never a pipe.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
fw=$root/examples/firmware
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null 2>&1 ||
  rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi
need_apt=()
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
command -v arm-none-eabi-nm >/dev/null || need_apt+=(binutils-arm-none-eabi)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
# shellcheck source=../firmware.sh
source "$root/.ci/firmware.sh"
# run_sensor NAME BIN TARGET EXPECTED: build (outside the run's timeout), run under QEMU, then
# compare the window lines.
run_sensor() {
  local name=$1 bin=$2 target=$3 expected=$fw/models/$4
  (cd "$fw" && cargo build -q --release --bin "$bin" --target "$target")
  run_fw "$name" 120 --release --bin "$bin" --target "$target"
  grep '^window ' "$log/$name.out" >"$log/$bin-$target.lines" || true
  if ! diff -u "$expected" "$log/$bin-$target.lines"; then
    echo "FAILED: $name printed other lines than the host's ($expected)" >&2
    exit 1
  fi
  echo "$name: the 40 lines are the host's"
  assert_no_allocator "$fw/target/$target/release/$bin"
}

run_sensor "sensor f32 (Cortex-M4F, mps2-an386)" sensor thumbv7em-none-eabihf basicmotions-gru32.txt
run_sensor "sensor f32 (Cortex-M0, microbit, soft float)" sensor thumbv6m-none-eabi basicmotions-gru32.txt
run_sensor "sensor int8 (Cortex-M4F, mps2-an386)" sensor_q8 thumbv7em-none-eabihf basicmotions-gru32.q8.txt
run_sensor "sensor int8 (Cortex-M0, microbit)" sensor_q8 thumbv6m-none-eabi basicmotions-gru32.q8.txt
smlad=$(arm-none-eabi-objdump -d "$fw/target/thumbv7em-none-eabihf/release/sensor_q8" | grep -c 'smlad' || true)
if [ "$smlad" -eq 0 ]; then
  echo "FAILED: the Cortex-M4F int8 sensor firmware has no SMLAD" >&2
  exit 1
fi
echo "sensor_q8 (Cortex-M4F): $smlad SMLAD instructions"
echo "sensor firmware: all OK"
