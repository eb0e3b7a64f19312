/*
 * Hand-counted instruction sequences for the cycle model of the insncount plugin
 * (tools/cycle_model.h), run under QEMU by tools/cycle-model-test.sh. The plugin's estimate of
 * the window `window_start` .. `window_stop` must equal EXPECTED, counted by hand below from the
 * Cortex-M4 TRM (100166, table 3-1 and the load/store pipelining notes, refill P = 2) or the
 * Cortex-M0 TRM (DDI 0432, table 3-1).
 */
    .syntax unified
    .thumb
    .text
    .word 0x20010000          /* initial SP */
    .word reset + 1           /* reset vector (Thumb) */

    .thumb_func
    .global reset
reset:
#if defined(CORE_M4)
    ldr r0, =0xE000ED88       /* CPACR: enable the FPU (outside the window) */
    ldr r1, [r0]
    orr r1, r1, #(0xF << 20)
    str r1, [r0]
    dsb
    isb
    vmov.f32 s0, #1.0
    vmov.f32 s1, #2.0
#endif
    ldr r2, =0x20000000
    movs r3, #7
    str r3, [r2, #4]
    movs r4, #0
    b window_start

    .thumb_func
window_start:
#if defined(CORE_M4)
    .set EXPECTED, 79
    nop                       /*  1                                           total  1 */
    movs r0, #3               /*  1                                                  2 */
1:  ldr r1, [r2]              /*  2  \                                               */
    ldr r3, [r2, #4]          /*  1   | LDR after LDR pipelines                      */
    str r1, [r2, #8]          /*  1   | STR after LDR pipelines                      */
    smlad r4, r1, r3, r4      /*  1   | 7 per pass, + 2 refill for 2 taken passes    */
    subs r0, #1               /*  1   |                                              */
    bne 1b                    /*  1  /  3·7 + 2·2 = 25                               27 */
    ldrd r1, r3, [r2]         /*  3   LDRD never pipelines                          30 */
    str r1, [r2, r0]          /*  2   register offset, after LDRD                   32 */
    push {r4, r5}             /*  3   1 + N                                         35 */
    pop {r4, r5}              /*  3   1 + N                                         38 */
    sdiv r1, r1, r3           /* 12   the model's worst case                        50 */
    mul r1, r3, r1            /*  1                                                 51 */
    smull r5, r6, r1, r3      /*  1                                                 52 */
    vadd.f32 s2, s0, s1       /*  1                                                 53 */
    vmla.f32 s2, s0, s1       /*  3                                                 56 */
    vdiv.f32 s3, s1, s0       /* 14                                                 70 */
    bl 2f                     /*  1 + 2 (taken)                                     73 */
    b window_stop             /*  1 + 2, after the return                           79 */
2:  bx lr                     /*  1 + 2                                             76 */
#else
    .set EXPECTED, 47
    movs r0, #3               /*  1                                           total  1 */
1:  ldr r1, [r2]              /*  2  \                                               */
    ldr r3, [r2, #4]          /*  2   | no pipelining on the M0                      */
    str r1, [r2, #8]          /*  2   |                                              */
    muls r1, r3               /*  1   | 9 per pass, + 2 for 2 taken passes           */
    subs r0, #1               /*  1   |                                              */
    bne 1b                    /*  1  /  3·9 + 2·2 = 31                               32 */
    bl 2f                     /*  4                                                 36 */
    b window_stop             /*  3, after the return                               47 */
2:  push {r4, lr}             /*  3   1 + N                                         39 */
    pop {r4, pc}              /*  5   3 + N: returns                                44 */
#endif

    .thumb_func
window_stop:
    nop
    nop
    movs r0, #0x18            /* SYS_EXIT, ADP_Stopped_ApplicationExit */
    ldr r1, =0x20026
    bkpt 0xab
    .pool
