#!/usr/bin/env bash
# micrornn's quantized Elman step side by side with Arm's CMSIS-NN (issue 18), on emulated
# Cortex-M4F (opt 3 and opt "s") and Cortex-M0 (opt 3), H = 16, 32, 64. Prints a Markdown table.
#
#   scripts/compare-cmsis-nn.sh                      # everything: 1–2.5 min on 2 loaded cores
#   COMPARE_HIDDEN=32 COMPARE_CONFIGS=m4f-o3 scripts/compare-cmsis-nn.sh --check   # CI: fails if
#                                                    # micrornn is not ahead of CMSIS-NN
#
# CMSIS_NN_DIR: CMSIS-NN's source tree (default ../shared/third_party/CMSIS-NN beside the repo;
# commit 99f736a6, Apache-2.0). Only its files are compiled, never copied into this repo.
# Toolchain: Debian's gcc-arm-none-eabi + libnewlib-arm-none-eabi, qemu-system-arm, and the
# insncount plugin (tools/libinsncount.so, rebuilt when its sources are newer).
#
# Each side runs 64 steps of one model (I = O = 32, hidden H) between the markers `infer_start`
# and `step_stop`, with the same random int8 weights (Xoshiro128++ from seed 5):
#   micrornn      examples/firmware/src/bin/footprint_q8.rs: QRnn::step (Rust, SMLAD on the M4F);
#   micrornn C    tools/cmsis-nn/bench.c VARIANT_MICRORNN_C: the same algorithm in plain C; its
#                 state checksum must equal the Rust one (the script fails otherwise);
#   CMSIS-NN      the Elman step from CMSIS-NN's int16 kernels (input column, then
#                 arm_nn_vec_mat_mul_result_acc_s16 with one scale per matrix, then
#                 arm_nn_activation_s16 tanh);
#   LSTM s8 / s16 CMSIS-NN's whole LSTM step (arm_lstm_unidirectional_s8 / _s16, I = H).
# Every window includes the call into the step and its return. Estimated cycles come from the
# plugin's cycle model (tools/cycle_model.h: TRM timings, zero wait states; an estimate).
# MACs per step: H² for the Elman steps (the input is a row lookup), 8·H² for the LSTMs.
# Flash: bytes of the step's own code and tables (nm sizes of the functions and tables it runs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fw=$root/examples/firmware
tools=$root/tools
bench=$tools/cmsis-nn
cmsis=${CMSIS_NN_DIR:-$root/../shared/third_party/CMSIS-NN}
hiddens=${COMPARE_HIDDEN:-16 32 64}
configs=${COMPARE_CONFIGS:-m4f-o3 m4f-os m0-o3}
check=false
[ "${1:-}" = --check ] && check=true
export CARGO_TERM_COLOR=never
[ -f "$cmsis/Include/arm_nnfunctions.h" ] || { echo "no CMSIS-NN at $cmsis (set CMSIS_NN_DIR)" >&2; exit 1; }
cmsis=$(cd "$cmsis" && pwd)

# --- install what is missing -------------------------------------------------------------------
need_apt=()
command -v qemu-system-arm >/dev/null || need_apt+=(qemu-system-arm)
command -v arm-none-eabi-gcc >/dev/null || need_apt+=(gcc-arm-none-eabi binutils-arm-none-eabi)
[ -d /usr/lib/arm-none-eabi/newlib ] || need_apt+=(libnewlib-arm-none-eabi)
command -v gcc >/dev/null || need_apt+=(gcc libc6-dev)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
rustup target add thumbv7em-none-eabihf thumbv6m-none-eabi >/dev/null 2>&1
if [ ! -f "$tools/libinsncount.so" ] || [ "$tools/insncount.c" -nt "$tools/libinsncount.so" ] ||
  [ "$tools/cycle_model.h" -nt "$tools/libinsncount.so" ]; then
  "$tools/build-insncount-plugin.sh" >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# config -> rust target, cargo profile, gcc flags, QEMU machine, cycle model
target_of() { case $1 in m4f-*) echo thumbv7em-none-eabihf ;; m0-*) echo thumbv6m-none-eabi ;; esac; }
profile_of() { case $1 in *-os) echo release-s ;; *) echo release ;; esac; }
machine_of() { case $1 in m4f-*) echo mps2-an386 ;; m0-*) echo mps2-an385 ;; esac; }
core_of() { case $1 in m4f-*) echo m4 ;; m0-*) echo m0 ;; esac; }
cflags_of() {
  local cpu opt
  case $1 in m4f-*) cpu="-mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16" ;; m0-*) cpu="-mcpu=cortex-m0 -mfloat-abi=soft" ;; esac
  case $1 in *-os) opt=-Os ;; *) opt=-O3 ;; esac
  echo "$cpu -mthumb $opt -ffunction-sections -fdata-sections -ffp-contract=off -std=c11 -Wall"
}
label_of() { case $1 in m4f-o3) echo 'M4F opt 3' ;; m4f-os) echo 'M4F opt "s"' ;; m0-o3) echo 'M0 opt 3' ;; m0-os) echo 'M0 opt "s"' ;; esac; }

cmsis_sources=(
  NNSupportFunctions/arm_nn_vec_mat_mul_result_acc_s16.c
  ActivationFunctions/arm_nn_activation_s16.c
  NNSupportFunctions/arm_nntables.c
  LSTMFunctions/arm_lstm_unidirectional_s8.c
  LSTMFunctions/arm_lstm_unidirectional_s16.c
  NNSupportFunctions/arm_nn_lstm_step_s8.c
  NNSupportFunctions/arm_nn_lstm_step_s16.c
  NNSupportFunctions/arm_nn_lstm_calculate_gate_s8_s16.c
  NNSupportFunctions/arm_nn_lstm_calculate_gate_s16.c
  NNSupportFunctions/arm_nn_vec_mat_mul_result_acc_s8_s16.c
  BasicMathFunctions/arm_elementwise_mul_s16.c
  BasicMathFunctions/arm_elementwise_mul_acc_s16.c
  BasicMathFunctions/arm_elementwise_mul_s16_s8.c
  BasicMathFunctions/arm_elementwise_mul_s16_batch_offset.c
)
# The functions and tables each step runs (for its flash bytes).
elman_symbols='arm_nn_vec_mat_mul_result_acc_s16 arm_nn_activation_s16 sigmoid_table_uint16 step'
micrornn_c_symbols='step tanh_table'
lstm_symbols='arm_lstm_unidirectional_s8 arm_lstm_unidirectional_s16 arm_nn_lstm_step_s8 arm_nn_lstm_step_s16
  arm_nn_lstm_calculate_gate_s8_s16 arm_nn_lstm_calculate_gate_s16 arm_nn_vec_mat_mul_result_acc_s8_s16
  arm_nn_vec_mat_mul_result_acc_s16 arm_elementwise_mul_s16 arm_elementwise_mul_acc_s16 arm_elementwise_mul_s16_s8
  arm_elementwise_mul_s16_batch_offset arm_nn_activation_s16 sigmoid_table_uint16 memset memcpy step'

hex_awk='function hex(s,  i, v) { v = 0; s = tolower(s); for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }'
# symbol_bytes ELF "NAMES" -> summed nm sizes (gcc's clones such as step.constprop.0 count as step)
symbol_bytes() {
  arm-none-eabi-nm --size-sort -S "$1" |
    awk -v names="$2" "$hex_awk"' BEGIN { n = split(names, a, /[ \n]+/); for (i = 1; i <= n; i++) want[a[i]] = 1 }
      { name = $4; sub(/\..*/, "", name) } want[name] { sum += hex($2) } END { print sum + 0 }'
}
# Rust: QRnn::step and the tanh table (the matvec kernels are inlined into step).
rust_step_bytes() {
  arm-none-eabi-nm --size-sort -S -C "$1" |
    awk "$hex_awk"' /QRnn.*::step$/ || /kernels::int::tanh::TABLE/ || /tanh_q15/ { sum += hex($2) } END { print sum + 0 }'
}

# measure CONFIG ELF -> "insns_per_step cycles_per_step" (and the firmware output in $work/out)
measure() {
  local config=$1 elf=$2 log
  log=$(INSNCOUNT_CORE=$(core_of "$config") "$tools/qemu-insncount.sh" "$(machine_of "$config")" "$elf" infer_start step_stop)
  echo "$log" >"$work/out"
  awk '/^insncount:/ { split($3, a, "="); split($4, w, "="); insns = a[2]; steps = w[2] }
       /^cycles:/ { split($3, c, "="); cycles = c[2] }
       END { if (steps == 0) exit 1; printf "%.0f %.0f\n", insns / steps, cycles / steps }' "$work/out"
}
fmt() { echo "$1" | sed ':a; s/\B[0-9]\{3\}\>/,&/; ta'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo '| target, opt | H | micrornn (Rust): instructions / est. cycles per step, cycles per MAC | micrornn in plain C | CMSIS-NN Elman step (s16 kernels) | micrornn ahead by (CMSIS-NN ÷ micrornn: instructions / cycles) | CMSIS-NN LSTM s8 / s16: cycles per MAC | flash bytes of the step: micrornn / micrornn C / CMSIS-NN Elman / CMSIS-NN LSTM s8 |'
echo '|---|---|---|---|---|---|---|---|'
failed=0
for config in $configs; do
  target=$(target_of "$config") profile=$(profile_of "$config")
  read -r -a cflags <<<"$(cflags_of "$config")"
  mkdir -p "$work/$config"
  objs=()
  for src in "${cmsis_sources[@]}"; do
    obj=$work/$config/$(basename "$src" .c).o
    arm-none-eabi-gcc "${cflags[@]}" -I"$cmsis/Include" -c "$cmsis/Source/$src" -o "$obj"
    objs+=("$obj")
  done
  arm-none-eabi-gcc "${cflags[@]}" -c "$bench/startup.c" -o "$work/$config/startup.o"
  for hidden in $hiddens; do
    (cd "$fw" && env FW_MODE=infer FW_HIDDEN="$hidden" FW_MEMORY=mps2 \
      cargo build -q --profile "$profile" --bin footprint_q8 --target "$target") >&2
    rust_elf=$work/rust-$config-$hidden
    cp "$fw/target/$target/$profile/footprint_q8" "$rust_elf"
    read -r rust_insns rust_cycles < <(measure "$config" "$rust_elf")
    rust_sum=$(sed -n 's/.*state checksum \([0-9]*\),.*/\1/p' "$work/out")
    declare -A insns=() cycles=() bytes=()
    for variant in MICRORNN_C CMSIS_ELMAN CMSIS_LSTM_S8 CMSIS_LSTM_S16; do
      elf=$work/$config/$variant-$hidden.elf
      arm-none-eabi-gcc "${cflags[@]}" -I"$cmsis/Include" -I"$bench" -DHIDDEN="$hidden" -DVARIANT_$variant \
        "$bench/bench.c" "$work/$config/startup.o" "${objs[@]}" -T "$bench/link.ld" -nostartfiles \
        --specs=nano.specs --specs=nosys.specs -Wl,--gc-sections -o "$elf"
      read -r "insns[$variant]" "cycles[$variant]" < <(measure "$config" "$elf")
      case $variant in
        MICRORNN_C)
          c_sum=$(sed -n 's/.*state checksum \([0-9]*\)$/\1/p' "$work/out")
          if [ "$c_sum" != "$rust_sum" ]; then
            echo "FAILED: $config H=$hidden: state checksum Rust $rust_sum, C $c_sum" >&2
            exit 1
          fi
          bytes[$variant]=$(symbol_bytes "$elf" "$micrornn_c_symbols") ;;
        CMSIS_ELMAN) bytes[$variant]=$(symbol_bytes "$elf" "$elman_symbols") ;;
        CMSIS_LSTM_S8) bytes[$variant]=$(symbol_bytes "$elf" "$lstm_symbols") ;;
        *) ;;
      esac
    done
    macs=$((hidden * hidden))
    cell() { echo "$(fmt "$1") / $(fmt "$2"), $(ratio "$2" "$macs")"; }
    ins_ratio=$(ratio "${insns[CMSIS_ELMAN]}" "$rust_insns")
    cyc_ratio=$(ratio "${cycles[CMSIS_ELMAN]}" "$rust_cycles")
    echo "| $(label_of "$config") | $hidden | $(cell "$rust_insns" "$rust_cycles") | $(cell "${insns[MICRORNN_C]}" "${cycles[MICRORNN_C]}") | $(cell "${insns[CMSIS_ELMAN]}" "${cycles[CMSIS_ELMAN]}") | ${ins_ratio}× / ${cyc_ratio}× | $(ratio "${cycles[CMSIS_LSTM_S8]}" $((8 * macs))) / $(ratio "${cycles[CMSIS_LSTM_S16]}" $((8 * macs))) | $(fmt "$(rust_step_bytes "$rust_elf")") / $(fmt "${bytes[MICRORNN_C]}") / $(fmt "${bytes[CMSIS_ELMAN]}") / $(fmt "${bytes[CMSIS_LSTM_S8]}") |"
    if [ "$rust_insns" -ge "${insns[CMSIS_ELMAN]}" ] || [ "$rust_cycles" -ge "${cycles[CMSIS_ELMAN]}" ]; then
      echo "micrornn is not ahead of CMSIS-NN: $config H=$hidden" >&2
      failed=1
    fi
  done
done
echo
echo "State checksums of micrornn (Rust) and micrornn in plain C agree at every size and target."
echo "Measured with $(qemu-system-arm --version | head -1), $(arm-none-eabi-gcc --version | head -1), $(rustc --version); CMSIS-NN $(cat "$cmsis/COMMIT" 2>/dev/null | head -c 8)."
if $check && [ "$failed" = 1 ]; then exit 1; fi
