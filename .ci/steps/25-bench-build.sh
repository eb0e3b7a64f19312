#!/usr/bin/env bash
# The criterion benches and the throughput example compile (running them is `cargo bench` and
# scripts/compare.sh, by hand: timings on a shared CI machine would mean nothing).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench --no-run --bench kernels --bench model
cargo build --release --example throughput
