#!/usr/bin/env bash
# The kernel suite on aarch64 (NEON) under qemu-user: every NEON kernel against the scalar
# reference, and the tanh/exp error bounds. Needs the packages .ci/run installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
cargo test --target aarch64-unknown-linux-gnu --lib kernels -- --nocapture
