//! The int8 twin of `sensor.rs`: the same BasicMotions classifier quantized (`QGru`: int8
//! weights with a scale per row, Q15 state; calibrated on the training series) classifies the
//! 40 test series one sample at a time. A raw sample (6 integers, scaled) goes to
//! `QGru::step_sample`, which normalizes it with the model's stored normalization, rounds it to
//! Q12 and runs the integer step (SMLAD on the Cortex-M4F, the scalar integer path on the M0);
//! at the end of each window the class is the largest integer logit, and its probability the
//! softmax of the real logits.
//!
//! ```text
//! cd examples/firmware
//! cargo run --release --bin sensor_q8                                # Cortex-M4F (mps2-an386)
//! cargo run --release --bin sensor_q8 --target thumbv6m-none-eabi    # Cortex-M0 (microbit)
//! ```
//!
//! `models/basicmotions-gru32.q8` and the lines the host predicts for it
//! (`models/basicmotions-gru32.q8.txt`) are written by `models/make-sensor-model.sh`; the
//! firmware exits 0 only if it prints exactly those lines (`tests/firmware_sensor.rs` checks the
//! host's side).
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;
#[path = "../sensor_run.rs"]
mod sensor_run;
#[path = "../sensor_stream.rs"]
mod sensor_stream;
#[path = "../verdict.rs"]
mod verdict;

use cortex_m_rt::entry;
use micrornn::qformat::{self, EmbeddedGru};
use micrornn::{CharVocab, Error};
use sensor_run::{CHANNELS, CLASSES, Deployed, HIDDEN};

/// The int8 model file, in flash.
static MODEL_BYTES: &[u8] = include_bytes!("../../models/basicmotions-gru32.q8");
/// Its parameters and input normalization, decoded at compile time: in flash, not RAM.
static MODEL: EmbeddedGru<CHANNELS, HIDDEN, CLASSES> = match qformat::decode_gru_const(MODEL_BYTES)
{
    Ok(model) => model,
    Err(error) => panic!("{}", error.as_str()),
};
/// The 40 test series of BasicMotions as integers with a scale per channel.
static SAMPLES: &[u8] = include_bytes!("../../models/basicmotions-test.samples");

#[entry]
fn main() -> ! {
    verdict::finish(run())
}

/// Classifies every window; `Ok(true)` if every line is the host's.
fn run() -> Result<bool, Error> {
    let decoded = qformat::decode_texts(MODEL_BYTES, &mut CharVocab::<1>::new())?;
    let header = decoded.header;
    sensor_run::announce("QGru", &header, MODEL_BYTES.len());
    let deployed = Deployed {
        model: &MODEL.qgru,
        start: MODEL.initial_hidden,
        // The model normalizes raw samples itself (its normalization is folded in).
        prepare: |_| {},
        class_names: decoded.class_names,
        classes: header.classes,
        expected: include_str!("../../models/basicmotions-gru32.q8.txt"),
    };
    sensor_run::classify_windows(&deployed, SAMPLES)
}
