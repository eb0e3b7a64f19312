/*
 * cycle_model.h: estimated cycles of Thumb/Thumb-2 instructions on a Cortex-M4 (ARMv7E-M, FPU)
 * and a Cortex-M0 (ARMv6-M), with zero wait states, from the cycle tables of their technical
 * reference manuals (Cortex-M4 TRM 100166 table 3-1 and its load/store pipelining notes;
 * Cortex-M0 TRM DDI 0432 table 3-1). Used by insncount.c (`core=m4` / `core=m0`).
 *
 * It is an ESTIMATE. What it models:
 *   - every instruction class's issue cycles (ALU 1, MUL/MLA/SMLAD/long multiplies 1 on the M4,
 *     MULS 1 on the M0 (the fast-multiplier option), loads/stores 2, LDRD/STRD 3, LDM/STM/PUSH/POP
 *     1+N, SDIV/UDIV 12 (the M4's worst case), VFP per class);
 *   - taken branches: 1 + P with the refill P = 2 on the M4 (the TRM gives 1..3), B/BX/BLX/POP pc
 *     as in the M0 table (B 3, BL 4, POP pc 3+N); a branch is "taken" when the next executed
 *     instruction is not the one after it;
 *   - on the M4, a single load or store right after a single LDR pipelines (1 cycle instead of 2),
 *     and STR with an immediate offset is 1 cycle (write buffer); nothing pipelines after a store,
 *     and LDRD/STRD/LDM/STM never pipeline.
 * What it leaves out: flash wait states and prefetch (real M4 parts at > ~30 MHz add them), bus
 * contention, the extra cycle of a load whose address comes from the instruction just before it,
 * the alignment-dependent part of P, divide early termination, interrupts, IT folding (IT counts 1).
 */
#ifndef MICRORNN_CYCLE_MODEL_H
#define MICRORNN_CYCLE_MODEL_H

#include <stddef.h>
#include <stdint.h>

enum cycle_core { CORE_M4, CORE_M0 };

/* What the neighbouring instruction needs to know about this one. */
enum cycle_kind {
    KIND_OTHER,
    KIND_LOAD,       /* single LDR/LDRB/LDRH/LDRSB/LDRSH (not PC-loading): the next load/store pipelines */
    KIND_STORE,      /* single STR/STRB/STRH, register offset: 2 cycles unless after a KIND_LOAD */
    KIND_STORE_IMM,  /* single STR/STRB/STRH with an immediate offset: 1 cycle (write buffer) */
    KIND_LOAD_BLOCK, /* single load that never pipelines (after a store, or into PC) */
};

struct cycle_timing {
    uint8_t base;  /* cycles when not taken and not pipelined */
    uint8_t taken; /* extra cycles when the next executed instruction is not at pc + size */
    uint8_t kind;  /* enum cycle_kind */
};

#define CYCLE_M4_REFILL 2 /* P of the M4 TRM (1..3) */
#define CYCLE_M4_DIVIDE 12

static inline unsigned cycle_popcount(uint32_t x)
{
    unsigned n = 0;
    for (; x; x &= x - 1) n++;
    return n;
}

static inline struct cycle_timing cycle_make(unsigned base, unsigned taken, unsigned kind)
{
    struct cycle_timing t = {(uint8_t)base, (uint8_t)taken, (uint8_t)kind};
    return t;
}

/* 16-bit Thumb instruction `hw` (both cores). */
static inline struct cycle_timing cycle_thumb16(enum cycle_core core, uint16_t hw)
{
    const unsigned p = core == CORE_M4 ? CYCLE_M4_REFILL : 2; /* the M0 table: a taken branch is 3 */
    const unsigned load = 2;
    if ((hw >> 10) == 0x11 /* 010001: hi-register ops, BX, BLX */) {
        unsigned op = (hw >> 8) & 3;
        if (op == 3) return cycle_make(1, p, KIND_OTHER); /* BX/BLX */
        unsigned rd = (hw & 7) | ((hw >> 4) & 8);
        if (op != 1 && rd == 15) return cycle_make(1, p, KIND_OTHER); /* ADD/MOV pc */
        return cycle_make(1, 0, KIND_OTHER);
    }
    if ((hw >> 11) == 0x09) return cycle_make(load, 0, KIND_LOAD); /* LDR literal */
    if ((hw >> 12) == 0x5) {                                         /* load/store register offset */
        unsigned op = (hw >> 9) & 7;
        return op < 3 ? cycle_make(2, 0, KIND_STORE) : cycle_make(load, 0, KIND_LOAD);
    }
    if ((hw >> 13) == 0x3 || (hw >> 12) == 0x8 || (hw >> 12) == 0x9) { /* LDR/STR(B/H) imm, SP-relative */
        unsigned is_load = (hw >> 11) & 1;
        return is_load ? cycle_make(load, 0, KIND_LOAD) : cycle_make(core == CORE_M4 ? 1 : 2, 0, KIND_STORE_IMM);
    }
    if ((hw >> 12) == 0xB) { /* miscellaneous */
        if ((hw & 0x0500) == 0x0100) return cycle_make(1, p, KIND_OTHER); /* CBZ/CBNZ (M4 only) */
        if ((hw & 0x0E00) == 0x0400) {                                    /* PUSH */
            return cycle_make(1 + cycle_popcount(hw & 0x1FF), 0, KIND_OTHER);
        }
        if ((hw & 0x0E00) == 0x0C00) { /* POP; with pc it branches */
            unsigned n = cycle_popcount(hw & 0x1FF);
            if (hw & 0x100) return cycle_make(1 + n, core == CORE_M4 ? p : 2, KIND_OTHER);
            return cycle_make(1 + n, 0, KIND_OTHER);
        }
        return cycle_make(1, 0, KIND_OTHER); /* ADD/SUB sp, extend, REV, IT, hints, CPS, BKPT */
    }
    if ((hw >> 12) == 0xC) return cycle_make(1 + cycle_popcount(hw & 0xFF), 0, KIND_OTHER); /* LDM/STM */
    if ((hw >> 12) == 0xD) return cycle_make(1, p, KIND_OTHER); /* B<cond>, SVC, UDF */
    if ((hw >> 11) == 0x1C) return cycle_make(1, p, KIND_OTHER); /* B */
    return cycle_make(1, 0, KIND_OTHER); /* shifts, add/sub, mov/cmp imm, data processing (MULS 1), ADR */
}

/* 32-bit Thumb-2 instruction `hw1:hw2`. */
static inline struct cycle_timing cycle_thumb32(enum cycle_core core, uint16_t hw1, uint16_t hw2)
{
    const unsigned p = core == CORE_M4 ? CYCLE_M4_REFILL : 2;
    if (core == CORE_M0) { /* ARMv6-M has only BL, MSR/MRS and barriers as 32-bit instructions */
        if ((hw1 >> 11) == 0x1E && (hw2 & 0xD000) == 0xD000) return cycle_make(1, 3, KIND_OTHER); /* BL: 4 */
        return cycle_make(4, 0, KIND_OTHER);                                                     /* MRS/MSR/DMB/DSB/ISB */
    }
    unsigned top = hw1 >> 11;
    if (top == 0x1D) {
        if ((hw1 & 0x0600) == 0) {   /* load/store multiple, dual, exclusive, table branch */
            if (!(hw1 & 0x0040)) { /* LDM/STM (incl. PUSH.W/POP.W) */
                unsigned n = cycle_popcount(hw2);
                if ((hw1 & 0x0010) && (hw2 & 0x8000)) return cycle_make(1 + n, p, KIND_OTHER);
                return cycle_make(1 + n, 0, KIND_OTHER);
            }
            if ((hw1 & 0xFFF0) == 0xE8D0 && (hw2 & 0xFFE0) == 0xF000)
                return cycle_make(3, 3, KIND_OTHER); /* TBB/TBH: 2 (load) + 1 (add) + refill 3 */
            if ((hw1 & 0xFFE0) == 0xE840) return cycle_make(2, 0, (hw1 & 0x0010) ? KIND_LOAD : KIND_STORE); /* LDREX/STREX */
            return cycle_make(3, 0, KIND_OTHER); /* LDRD/STRD */
        }
        if ((hw1 & 0x0600) == 0x0200) return cycle_make(1, 0, KIND_OTHER); /* data processing (shifted register) */
        /* coprocessor: the FPU */
        if ((hw1 & 0xFE00) == 0xEC00) { /* 0xEC.., 0xED..: VLDR/VSTR/VLDM/VSTM, VMOV pairs */
            unsigned pu_w = (hw1 >> 5) & 0xF; /* P U D W */
            if ((hw1 & 0xFFE0) == 0xEC40) return cycle_make(2, 0, KIND_OTHER);       /* VMOV two core registers */
            if ((pu_w & 0x9) == 0x8) return cycle_make(2, 0, (hw1 & 0x10) ? KIND_LOAD : KIND_STORE_IMM); /* VLDR/VSTR */
            return cycle_make(1 + (hw2 & 0xFF), 0, KIND_OTHER);                         /* VLDM/VSTM/VPUSH/VPOP: 1+N words */
        }
        if ((hw1 & 0xFF00) == 0xEE00) {
            if (hw2 & 0x0010) return cycle_make(1, 0, KIND_OTHER); /* VMOV core<->single, VMRS/VMSR */
            unsigned opc1 = ((hw1 >> 4) & 0x3) | ((hw1 >> 5) & 0x4);
            if (opc1 == 0x4) return cycle_make(14, 0, KIND_OTHER);                                           /* VDIV */
            if (opc1 == 0x7 && (hw1 & 0xF) == 0x1 && (hw2 & 0x00C0) == 0x00C0) return cycle_make(14, 0, KIND_OTHER); /* VSQRT */
            if (opc1 <= 1 || opc1 == 5 || opc1 == 6) return cycle_make(3, 0, KIND_OTHER);                   /* VMLA/VNMLA/VFMA/VFNMA */
            return cycle_make(1, 0, KIND_OTHER);
        }
        return cycle_make(1, 0, KIND_OTHER);
    }
    if (top == 0x1E) {
        if (!(hw2 & 0x8000)) return cycle_make(1, 0, KIND_OTHER); /* data processing, immediate */
        if ((hw2 & 0x5000) != 0 || ((hw1 >> 6) & 0xE) != 0xE) return cycle_make(1, p, KIND_OTHER); /* B.W, B<c>.W, BL */
        return cycle_make(1, 0, KIND_OTHER); /* MSR/MRS, hints, barriers (B = 0) */
    }
    /* top == 0x1F */
    if ((hw1 & 0xFE00) == 0xF800) { /* load/store single */
        unsigned is_load = (hw1 >> 4) & 1;
        unsigned rt = hw2 >> 12;
        if (!is_load) {
            int imm = (hw1 & 0x0080) || (hw2 & 0x0800); /* imm12, or imm8 forms; else register offset */
            return cycle_make(imm ? 1 : 2, 0, imm ? KIND_STORE_IMM : KIND_STORE);
        }
        if (rt == 15 && ((hw1 >> 5) & 3) == 2) return cycle_make(2, 3, KIND_LOAD_BLOCK); /* LDR pc */
        return cycle_make(2, 0, KIND_LOAD);
    }
    if (((hw1 & 0xFFF0) == 0xFB90 || (hw1 & 0xFFF0) == 0xFBB0) && (hw2 & 0x00F0) == 0x00F0)
        return cycle_make(CYCLE_M4_DIVIDE, 0, KIND_OTHER); /* SDIV (op1 001) / UDIV (op1 011) */
    return cycle_make(1, 0, KIND_OTHER); /* data processing (register), multiplies, long multiplies, DSP */
}

/* Timing of the instruction whose first bytes (little-endian halfwords) are `bytes`. */
static inline struct cycle_timing cycle_classify(enum cycle_core core, const uint8_t *bytes, size_t size)
{
    uint16_t hw1 = (uint16_t)(bytes[0] | (bytes[1] << 8));
    if (size >= 4) {
        uint16_t hw2 = (uint16_t)(bytes[2] | (bytes[3] << 8));
        return cycle_thumb32(core, hw1, hw2);
    }
    return cycle_thumb16(core, hw1);
}

/* Running estimate: for every executed instruction, in order, cycle_enter (charges the previous
   instruction's branch refill if this one is not the next in memory), then cycle_issue. */
struct cycle_state {
    uint64_t cycles;
    uint64_t next_pc; /* pc + size of the previous instruction */
    struct cycle_timing prev;
    int has_prev;
};

static inline void cycle_enter(struct cycle_state *s, uint64_t pc)
{
    if (s->has_prev && pc != s->next_pc) s->cycles += s->prev.taken;
}

static inline void cycle_issue(struct cycle_state *s, enum cycle_core core, struct cycle_timing t, uint64_t pc,
                               unsigned size)
{
    unsigned c = t.base;
    if (core == CORE_M4 && s->has_prev && s->prev.kind == KIND_LOAD &&
        (t.kind == KIND_LOAD || t.kind == KIND_STORE || t.kind == KIND_STORE_IMM))
        c = 1;
    s->cycles += c;
    s->prev = t;
    s->next_pc = pc + size;
    s->has_prev = 1;
}

#endif
