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
//! (`tests/firmware_sensor.rs` checks the host's side). `sensor_q8.rs` is the int8 twin.
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
use micrornn::format::{self, EmbeddedGru};
use micrornn::{CharVocab, Error};
use sensor_run::{CHANNELS, CLASSES, Deployed, HIDDEN};

/// The model file, in flash.
static MODEL_BYTES: &[u8] = include_bytes!("../../models/basicmotions-gru32.mrnn");
/// Its parameters and input normalization, decoded at compile time: in flash, not RAM.
static MODEL: EmbeddedGru<CHANNELS, HIDDEN, CLASSES> = match format::decode_gru_const(MODEL_BYTES) {
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
    let decoded = format::decode_texts(MODEL_BYTES, &mut CharVocab::<1>::new())?;
    let header = decoded.header;
    sensor_run::announce("Gru", &header, MODEL_BYTES.len());
    let deployed = Deployed {
        model: &MODEL.gru,
        start: MODEL.initial_hidden,
        // The training normalization the file stores, then the f32 step.
        prepare: |sample| MODEL.normalization.apply(sample),
        class_names: decoded.class_names,
        classes: header.classes,
        expected: include_str!("../../models/basicmotions-gru32.txt"),
    };
    sensor_run::classify_windows(&deployed, SAMPLES)
}
