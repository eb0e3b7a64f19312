#!/usr/bin/env bash
# A short fuzz of the decoders and vocabularies (issue 13): 25 s per target, of the weights
# readers (issue 20: .npz and safetensors, seeded with bombs, under -rss_limit_mb=512) and the
# sensor series parser and the series checkpoint (issue 16) 15 s each: 160 s of fuzzing in all (the build of the fuzz crate
# comes on top). A crash, a failed assertion in a target, an input past the memory limit or a
# build error fails CI; the crashing input is left in fuzz/artifacts/. The long runs are
# `scripts/fuzz.sh` with more time (see the README's Reliability section).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cargo fmt --check --manifest-path "$root/fuzz/Cargo.toml"
FUZZ_TARGETS="model_decode checkpoint_decode char_vocab word_vocab" bash "$root/scripts/fuzz.sh" 25
FUZZ_TARGETS="npz_import safetensors_import series_parse series_checkpoint" bash "$root/scripts/fuzz.sh" 15
