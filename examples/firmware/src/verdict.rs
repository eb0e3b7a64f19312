//! How the deploy examples end: the generated text and whether it is the host's, the peak stack,
//! and the QEMU exit status (0 only if the run checked out).

use cortex_m_semihosting::hprintln;
use micrornn::Error;

/// Prints the generated text and whether it is the host's.
#[allow(dead_code)] // the sensor firmwares print windows, not text
pub fn print_text(text: &[u8], matched: bool) {
    hprintln!(
        "generated: {}",
        core::str::from_utf8(text).unwrap_or("(not UTF-8)")
    );
    hprintln!(
        "{}",
        if matched {
            "OK: the same text as the host"
        } else {
            "FAIL: the text differs from the host's"
        }
    );
}

/// Prints the peak stack, then exits: status 0 for `Ok(true)`, 1 for `Ok(false)` or an error
/// (printed with its code).
pub fn finish(result: Result<bool, Error>) -> ! {
    hprintln!("peak stack: {} bytes", super::common::stack_high_water());
    match result {
        Ok(ok) => super::common::exit(ok),
        Err(error) => {
            hprintln!("error {}: {}", error.code(), error.as_str());
            super::common::exit(false)
        }
    }
}
