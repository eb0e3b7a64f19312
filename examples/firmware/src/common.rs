//! What every firmware example shares: exit codes through semihosting, a panic handler and a
//! HardFault handler that fail the run instead of hanging QEMU, the instruction-count markers of
//! `tools/qemu-insncount.sh`, and the stack high-water mark.

use core::panic::PanicInfo;
use cortex_m as _; // links the critical-section implementation that semihosting printing needs
use cortex_m_rt::{ExceptionFrame, exception};
use cortex_m_semihosting::{debug, hprintln};

/// Ends the QEMU run: exit status 0 if `ok`, 1 otherwise.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    hprintln!("PANIC: {}", info);
    exit(false)
}

/// A fault (bad memory access, stack overflow into a hole, an FPU instruction on a core without
/// one) fails the run instead of spinning forever.
#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("HARDFAULT at pc={:#010x}", frame.pc());
    exit(false)
}

// Markers for the QEMU instruction-count plugin (tools/insncount.c): it counts the instructions
// executed from the first instruction of a `*_start` to the first instruction of the matching
// `*_stop`, summed over every window. The bodies differ, or LLVM merges the functions.

/// Start of one inference step (token in, next token out).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn infer_start() {
    // SAFETY: a `nop` touches no memory, register or flag.
    unsafe { core::arch::asm!("nop", options(nomem, nostack, preserves_flags)) };
}

/// End of one inference step.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn infer_stop() {
    // SAFETY: as above.
    unsafe { core::arch::asm!("nop", "nop", options(nomem, nostack, preserves_flags)) };
}

/// End of the `Rnn::step` part of an inference step (the window `infer_start`..`step_stop`).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn step_stop() {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "nop",
            "nop",
            "nop",
            "nop",
            "nop",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// Start of one training chunk (forward, backward, clip, update).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn train_start() {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "nop",
            "nop",
            "nop",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// End of one training chunk.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn train_stop() {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "nop",
            "nop",
            "nop",
            "nop",
            options(nomem, nostack, preserves_flags)
        )
    };
}

/// cortex-m-rt's `paint-stack` feature fills the stack region with this before `main`.
const PAINT: u32 = 0xCCCC_CCCC;

unsafe extern "C" {
    /// Lowest address of the stack region (cortex-m-rt linker symbol).
    static _stack_end: u32;
    /// Initial stack pointer, the top of RAM (cortex-m-rt linker symbol).
    static _stack_start: u32;
}

/// Deepest the stack has been since reset, in bytes: the first word above the bottom of the
/// stack region that no longer holds the paint.
pub fn stack_high_water() -> usize {
    let bottom = core::ptr::addr_of!(_stack_end) as usize;
    let top = core::ptr::addr_of!(_stack_start) as usize;
    let mut p = bottom;
    // SAFETY: `p` stays word-aligned inside [_stack_end, _stack_start), RAM owned by the stack,
    // and only words below the current stack pointer (unused, never borrowed) are read.
    while p < top && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    top - p
}
