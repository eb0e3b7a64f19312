/*
 * insncount: QEMU TCG plugin that counts guest instructions executed
 *   - in total, and
 *   - between executions of a "start" and a "stop" address (summed over all windows).
 * Uses only per-instruction exec callbacks, which exist with the same signature in
 * the QEMU 7.2 .. 10.x plugin APIs. Single vCPU assumed (Cortex-M).
 *
 * qemu-system-arm ... -plugin ./libinsncount.so,start=0x1234,stop=0x1240 -d plugin
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t total, window_sum, window_start, windows;
static uint64_t start_pc = UINT64_MAX, stop_pc = UINT64_MAX;
static bool in_window;

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

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
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
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "start=", 6) == 0) start_pc = strtoull(argv[i] + 6, NULL, 0) & ~1ULL;
        else if (strncmp(argv[i], "stop=", 5) == 0) stop_pc = strtoull(argv[i] + 5, NULL, 0) & ~1ULL;
        else { fprintf(stderr, "insncount: unknown arg %s\n", argv[i]); return -1; }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
