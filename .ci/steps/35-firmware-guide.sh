#!/usr/bin/env bash
# The firmware guide (issue 21), checked the way a user meets it:
# 1. the no_std API documentation for a Cortex-M target builds without warnings;
# 2. the five files of docs/microcontrollers.md's minimal firmware are copied out of the page
#    into a new crate beside a `micrornn` directory (a link to this repository), which it
#    depends on by path; it is built and run under QEMU (the exit status is its verdict);
# 3. the same crate with one byte of its model flipped must fail to COMPILE (the model is
#    decoded by the compiler), naming the checksum.
# Needs qemu-system-arm (installed here if missing) and the thumbv7em target.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rustup target add thumbv7em-none-eabihf >/dev/null 2>&1 || rustup target add thumbv7em-none-eabihf
if ! command -v qemu-system-arm >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-system-arm >/dev/null
fi

echo "--- cargo doc --no-default-features --target thumbv7em-none-eabihf (warnings are errors)"
(cd "$root" && RUSTDOCFLAGS="-D warnings" cargo doc -q --no-deps --no-default-features --target thumbv7em-none-eabihf)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
crate=$work/my-firmware
ln -s "$root" "$work/micrornn"
mkdir -p "$crate/src" "$crate/.cargo"
# Each file is the fenced block after a `<!-- file: PATH -->` line.
for file in Cargo.toml .cargo/config.toml memory.x build.rs src/main.rs; do
  awk -v want="<!-- file: $file -->" '
    $0 == want { found = 1; next }
    found && /^```/ { if (inside) exit; inside = 1; next }
    inside { print }
  ' "$root/docs/microcontrollers.md" >"$crate/$file"
  if [ ! -s "$crate/$file" ]; then
    echo "FAILED: docs/microcontrollers.md has no block for $file" >&2
    exit 1
  fi
done
cp "$root/examples/firmware/models/poem-h32.q8" "$crate/model.q8"
# The example firmware's lock file: the same dependency versions (and a warm cache) as step 30.
cp "$root/examples/firmware/Cargo.lock" "$crate/Cargo.lock"
export CARGO_TARGET_DIR=$root/target/firmware-guide

echo "--- the guide's minimal firmware, as a separate crate: cargo run --release (QEMU mps2-an386)"
if (cd "$crate" && timeout 300 cargo run -q --release) >"$work/run.out" 2>&1; then
  cat "$work/run.out"
else
  cat "$work/run.out"
  echo "FAILED: the guide's firmware (exit $?)" >&2
  exit 1
fi
grep -q "^Hope is the thing with feathers" "$work/run.out"

echo "--- a damaged model is a compile error"
printf '\xff' | dd of="$crate/model.q8" bs=1 seek=200 conv=notrunc status=none
if (cd "$crate" && cargo build -q --release) >"$work/bad.out" 2>&1; then
  echo "FAILED: a damaged model compiled" >&2
  exit 1
fi
grep -q "checksum mismatch" "$work/bad.out"
echo "damaged model refused at compile time: $(grep -m1 -o 'checksum mismatch[^"]*' "$work/bad.out")"
echo "firmware guide: all OK"
