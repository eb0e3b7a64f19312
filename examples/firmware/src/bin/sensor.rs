//! A sensor classifier on the device: a GRU trained on the host on BasicMotions (smartwatch
//! accelerometer and gyroscope, 6 channels, 4 activities) classifies the set's 40 test series,
//! fed **one sample at a time** as an IMU delivers them: each sample arrives as 6 integers,
//! is scaled and normalized with the model's stored normalization, and advances the hidden
//! state by one `Gru::step`; at the end of each 100-sample window the firmware prints the
//! predicted activity and its probability.
//!
//! ```text
//! cd examples/firmware
//! cargo run --release --bin sensor                                # Cortex-M4F (mps2-an386)
//! cargo run --release --bin sensor --target thumbv6m-none-eabi    # Cortex-M0 (microbit), soft float
//! ```
//!
//! The model file is decoded by the compiler (`format::decode_gru_const`) into a `static` in
//! flash; the series are `include_bytes!`d in the integer form `sensor_stream.rs` describes.
//! Both files, and the lines the host predicts for them, are written by
//! `models/make-sensor-model.sh`; the firmware exits 0 only if it prints exactly those lines
//! (`tests/firmware_sensor.rs` checks the host's side).
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;
#[path = "../sensor_stream.rs"]
mod sensor_stream;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use micrornn::format::{self, EmbeddedGru};
use micrornn::{Cell, CharVocab, Error, Input, argmax};
use sensor_stream::{Line, Samples};

/// Input channels: 3 accelerometer and 3 gyroscope axes.
const CHANNELS: usize = 6;
/// Hidden units.
const HIDDEN: usize = 32;
/// Outputs: the 4 activities.
const CLASSES: usize = 4;

/// The model file, in flash.
static MODEL_BYTES: &[u8] = include_bytes!("../../models/basicmotions-gru32.mrnn");
/// Its parameters and input normalization, decoded at compile time: in flash, not RAM.
static MODEL: EmbeddedGru<CHANNELS, HIDDEN, CLASSES> = match format::decode_gru_const(MODEL_BYTES) {
    Ok(model) => model,
    Err(error) => panic!("{}", error.as_str()),
};
/// The 40 test series of BasicMotions as integers with a scale per channel.
static SAMPLES: &[u8] = include_bytes!("../../models/basicmotions-test.samples");
/// The lines the host predicts for them.
const EXPECTED: &str = include_str!("../../models/basicmotions-gru32.txt");

#[entry]
fn main() -> ! {
    let result = run();
    hprintln!("peak stack: {} bytes", common::stack_high_water());
    match result {
        Ok(ok) => common::exit(ok),
        Err(error) => {
            hprintln!("error {}: {}", error.code(), error.as_str());
            common::exit(false)
        }
    }
}

/// Classifies every window; `Ok(true)` if every line is the host's.
fn run() -> Result<bool, Error> {
    let decoded = format::decode_texts(MODEL_BYTES, &mut CharVocab::<1>::new())?;
    let names = decoded.class_names;
    let samples = match Samples::parse(SAMPLES) {
        Ok(samples) => samples,
        Err(reason) => {
            hprintln!("{}", reason);
            return Ok(false);
        }
    };
    hprintln!(
        "decoded a Gru<{}, {}, {}> ({} classes) from {} bytes of flash; {} series of {} samples \
         of {} channels, {} byte(s) per value",
        decoded.header.inputs,
        decoded.header.hidden,
        decoded.header.outputs,
        decoded.header.classes,
        MODEL_BYTES.len(),
        samples.series,
        samples.steps,
        samples.channels,
        samples.width
    );
    let classes = decoded.header.classes.min(CLASSES);
    let softmax = micrornn::kernels::active().softmax;
    let mut expected = EXPECTED.lines();
    let (mut matched, mut correct) = (true, 0);
    for s in 0..samples.series {
        window_start();
        // Each window starts from the state stored in the file (zeros).
        let mut hidden = MODEL.initial_hidden;
        for t in 0..samples.steps {
            sample_start();
            // As an IMU delivers it: integers, scaled, then the training normalization.
            let Some(mut sample) = samples.sample::<CHANNELS>(s, t) else {
                return Ok(false);
            };
            MODEL.normalization.apply(&mut sample);
            let stepped = MODEL.gru.step(Input::Dense(&sample), &mut hidden);
            sample_stop();
            stepped?;
        }
        let mut logits = [0.0f32; CLASSES];
        MODEL.gru.logits(&hidden, &mut logits);
        let mut probs = [0.0f32; CLASSES];
        softmax(&logits[..classes], &mut probs[..classes]);
        let class = argmax(&probs[..classes]);
        window_stop();

        let recorded = samples.label(s).unwrap_or(usize::MAX);
        correct += usize::from(class == recorded);
        let name = |c: usize| names.get(c).unwrap_or("?");
        let line = Line::result(s + 1, name(class), probs[class], name(recorded));
        hprintln!("{}", line.as_str());
        matched &= expected.next() == Some(line.as_str());
    }
    matched &= expected.next().is_none();
    hprintln!("accuracy: {}/{}", correct, samples.series);
    hprintln!(
        "{}",
        if matched {
            "OK: the same lines as the host"
        } else {
            "FAIL: the lines differ from the host's"
        }
    );
    Ok(matched)
}

// Markers for tools/qemu-insncount.sh: one sample (read, scale, normalize, step) is
// `sample_start`..`sample_stop`, one window (100 samples, logits, softmax, argmax) is
// `window_start`..`window_stop`. The bodies differ, or LLVM merges the functions.

/// Start of one sample.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn sample_start() {
    // SAFETY: a `nop` touches no memory, register or flag.
    unsafe { core::arch::asm!("nop", options(nomem, nostack, preserves_flags)) };
}

/// End of one sample.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn sample_stop() {
    // SAFETY: as above.
    unsafe { core::arch::asm!("nop", "nop", options(nomem, nostack, preserves_flags)) };
}

/// Start of one window.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn window_start() {
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

/// End of one window.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn window_stop() {
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
