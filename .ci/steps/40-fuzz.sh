#!/usr/bin/env bash
# A short fuzz of the decoders and vocabularies (issue 13): 25 s per target, 125 s of fuzzing in
# all (the build of the fuzz crate comes on top). A crash, a failed assertion in a target or a
# build error fails CI; the crashing input is left in fuzz/artifacts/. The long runs are
# `scripts/fuzz.sh` with more time (see the README's Reliability section).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo fmt --check --manifest-path "$root/fuzz/Cargo.toml"
bash "$root/scripts/fuzz.sh" 25
