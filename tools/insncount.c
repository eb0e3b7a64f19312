/*
 * insncount: QEMU TCG plugin that counts guest instructions executed
 *   - in total, and
 *   - between executions of a "start" and a "stop" address (summed over all windows),
 * and, with core=m4 or core=m0, also ESTIMATES the cycles of each window on that core
 * (cycle_model.h: the technical reference manuals' timings, zero wait states).
 * Uses only per-instruction exec callbacks, which exist with the same signature in
 * the QEMU 7.2 .. 10.x plugin APIs. Single vCPU assumed (Cortex-M).
 *
 * qemu-system-arm ... -plugin ./libinsncount.so,start=0x1234,stop=0x1240[,core=m4] -d plugin
 * prints `insncount: total=… window_insns=… windows=…` and, with core=, a second line
 * `cycles: core=m4 window_estimated=…`.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qemu-plugin.h>

#include "cycle_model.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t total, window_sum, window_start, windows;
static uint64_t start_pc = UINT64_MAX, stop_pc = UINT64_MAX;
static bool in_window;

static bool with_cycles;
static enum cycle_core core;
static struct cycle_state cycles;
static uint64_t window_cycle_start, window_cycles;

/* One translated instruction (kept for the life of the run: translation blocks are few). */
struct insn_info {
    uint64_t pc;
    unsigned size;
    struct cycle_timing timing;
};

static void on_insn(unsigned int vcpu, void *udata) { total++; }

static void on_start(unsigned int vcpu, void *udata)
{
    total++;
    window_start = total;
    in_window = true;
}

static void on_stop(unsigned int vcpu, void *udata)
{
    total++;
    if (in_window) {
        window_sum += total - window_start;
        windows++;
        in_window = false;
    }
}

static void on_insn_timed(unsigned int vcpu, void *udata)
{
    const struct insn_info *i = udata;
    cycle_enter(&cycles, i->pc);
    if (i->pc == start_pc) {
        window_cycle_start = cycles.cycles;
        on_start(vcpu, NULL);
    } else if (i->pc == stop_pc) {
        if (in_window) window_cycles += cycles.cycles - window_cycle_start;
        on_stop(vcpu, NULL);
    } else {
        total++;
    }
    cycle_issue(&cycles, core, i->timing, i->pc, i->size);
}

static struct insn_info *describe(struct qemu_plugin_insn *insn, uint64_t pc)
{
    struct insn_info *info = calloc(1, sizeof *info);
    if (!info) abort();
    uint8_t bytes[4] = {0};
    size_t size = qemu_plugin_insn_size(insn);
    size_t n = size < sizeof bytes ? size : sizeof bytes;
#if QEMU_PLUGIN_VERSION >= 3 /* QEMU 9.0: insn_data copies into a buffer */
    qemu_plugin_insn_data(insn, bytes, n);
#else
    memcpy(bytes, qemu_plugin_insn_data(insn), n);
#endif
    info->pc = pc;
    info->size = (unsigned)size;
    info->timing = cycle_classify(core, bytes, size);
    return info;
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        if (with_cycles) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn_timed, QEMU_PLUGIN_CB_NO_REGS, describe(insn, pc));
            continue;
        }
        void (*cb)(unsigned int, void *) = on_insn;
        if (pc == start_pc) cb = on_start;
        else if (pc == stop_pc) cb = on_stop;
        qemu_plugin_register_vcpu_insn_exec_cb(insn, cb, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

static void at_exit(qemu_plugin_id_t id, void *p)
{
    char buf[256];
    snprintf(buf, sizeof buf,
             "insncount: total=%" PRIu64 " window_insns=%" PRIu64 " windows=%" PRIu64 "\n",
             total, window_sum, windows);
    qemu_plugin_outs(buf);
    if (with_cycles) {
        snprintf(buf, sizeof buf, "cycles: core=%s window_estimated=%" PRIu64 "\n",
                 core == CORE_M4 ? "m4" : "m0", window_cycles);
        qemu_plugin_outs(buf);
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "start=", 6) == 0) start_pc = strtoull(argv[i] + 6, NULL, 0) & ~1ULL;
        else if (strncmp(argv[i], "stop=", 5) == 0) stop_pc = strtoull(argv[i] + 5, NULL, 0) & ~1ULL;
        else if (strcmp(argv[i], "core=m4") == 0) { with_cycles = true; core = CORE_M4; }
        else if (strcmp(argv[i], "core=m0") == 0) { with_cycles = true; core = CORE_M0; }
        else { fprintf(stderr, "insncount: unknown arg %s\n", argv[i]); return -1; }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
