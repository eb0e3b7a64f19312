/*
 * Minimal start-up of the C comparison firmware (tools/cmsis-nn): vector table, .data/.bss
 * set-up, FPU enable on the M4F, and ARM semihosting (print a string, exit) as QEMU implements
 * it. No newlib I/O: bench.c formats its own numbers.
 */
#include <stdint.h>

#include "semihost.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

static int semihost(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* SYS_OPEN(":tt", "w") is the host's stdout (SYS_WRITE0 would go to QEMU's stderr). */
void sh_print(const char *text)
{
    static int handle = -1;
    if (handle < 0) {
        const void *open_args[3] = {":tt", (const void *)4, (const void *)3};
        handle = semihost(0x01 /* SYS_OPEN */, open_args);
    }
    uint32_t len = 0;
    while (text[len]) len++;
    const void *write_args[3] = {(const void *)handle, text, (const void *)len};
    semihost(0x05 /* SYS_WRITE */, write_args);
}

void sh_exit(int ok)
{
    /* SYS_EXIT: ADP_Stopped_ApplicationExit (QEMU exits 0) or RunTimeErrorUnknown (exits 1). */
    semihost(0x18, (const void *)(ok ? 0x20026 : 0x20023));
    for (;;) {
    }
}

void reset_handler(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) *dst++ = *src++;
    for (uint32_t *dst = &_sbss; dst < &_ebss;) *dst++ = 0;
#if defined(__ARM_FP)
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
    sh_exit(main() == 0);
}

static void fault_handler(void)
{
    sh_print("HARDFAULT\n");
    sh_exit(0);
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack, reset_handler, fault_handler, fault_handler, fault_handler, fault_handler,
    fault_handler,
};
