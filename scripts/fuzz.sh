#!/usr/bin/env bash
# Fuzzes the decoders and vocabularies with cargo-fuzz (libFuzzer): the model file decoders (f32
# versions 1 and 2, and the quantized format), the
# checkpoint decoder, CharVocab and WordVocab, the weights readers (.npz and safetensors, seeded
# with bombs), the sensor series parser and the series checkpoint (targets in fuzz/fuzz_targets/). Every target runs
# with -rss_limit_mb=512 (and so -malloc_limit_mb=512): an input that makes a reader hold more
# memory is a crash.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      default 60; each target runs that long
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 0      each target runs that many executions instead
#   FUZZ_TARGETS="model_decode" scripts/fuzz.sh 30    only these targets
#   scripts/fuzz.sh --cmin                    merge what the runs found into the committed seeds
#                                             (fuzz/corpus/TARGET), minimized by `cargo fuzz cmin`
#
# Installs what it needs: the nightly toolchain (minimal profile; libFuzzer's instrumentation
# needs it) and cargo-fuzz (built with the stable toolchain). No sanitizer (`-s none`): the
# decoders and vocabularies are safe Rust (bounds-checked), and AddressSanitizer ran them 5-7x
# slower; panics, failed assertions (debug assertions are on) and overflow are what is caught. The committed seeds in
# fuzz/corpus/TARGET are only read; new inputs go to fuzz/target/corpus/TARGET. A crash stops the
# script with a non-zero status and leaves the input in fuzz/artifacts/TARGET/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"
targets=${FUZZ_TARGETS:-model_decode checkpoint_decode char_vocab word_vocab npz_import safetensors_import series_parse series_checkpoint}

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

if [ "${1:-}" = "--cmin" ]; then
  for target in $targets; do
    mkdir -p "target/corpus/$target"
    cp -n "corpus/$target"/* "target/corpus/$target/" 2>/dev/null || true
    cargo +nightly fuzz cmin -O -s none "$target" "target/corpus/$target"
    rm -rf "corpus/$target" && cp -r "target/corpus/$target" "corpus/$target"
    echo "$target: $(ls "corpus/$target" | wc -l) seeds, $(du -sk "corpus/$target" | cut -f1) KB"
  done
  exit 0
fi

seconds=${1:-60}
limit=(-max_total_time="$seconds")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
cargo +nightly fuzz build -O -s none
summary=()
for target in $targets; do
  mkdir -p "target/corpus/$target" "artifacts/$target" target/logs
  log="target/logs/$target.log"
  echo "--- fuzz $target (${limit[*]})"
  # Texts longer than this find nothing more (the vocabularies are sorted sets; 1 KiB holds 257
  # distinct 2-byte characters, past the largest capacity fuzzed) and slow every execution.
  case $target in
    char_vocab) max_len=1024 ;;
    word_vocab) max_len=512 ;;
    # The PyTorch and Keras fixtures among the seeds are 9-11 KB.
    npz_import | safetensors_import) max_len=16384 ;;
    series_parse) max_len=2048 ;;
    *) max_len=4096 ;;
  esac
  status=0
  cargo +nightly fuzz run -O -s none "$target" "target/corpus/$target" "corpus/$target" -- \
    "${limit[@]}" -max_len="$max_len" -timeout=20 -rss_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="artifacts/$target/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  line="$target: ${execs:-?} executions, ${rate:-?} exec/s, exit $status"
  echo "$line"
  summary+=("$line")
  if [ "$status" != 0 ]; then
    tail -60 "$log"
    echo "FAILED: $target crashed (input in fuzz/artifacts/$target/, log $root/fuzz/$log)" >&2
    exit 1
  fi
done
printf '%s\n' "--- fuzz summary" "${summary[@]}"
