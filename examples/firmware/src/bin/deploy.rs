//! Deploying a model trained on the host: the model file is embedded with `include_bytes!` and
//! decoded by the compiler (`format::decode_const`) into a `static` that stays in flash — no RAM
//! for the parameters, and a damaged file is a compile error — then generates text greedily.
//!
//! ```text
//! cd examples/firmware
//! cargo run --release --bin deploy                                # Cortex-M4F (mps2-an386)
//! cargo run --release --bin deploy --target thumbv6m-none-eabi    # Cortex-M0 (microbit)
//! ```
//!
//! `models/poem-h32.mrnn` was trained on the host by the `micrornn` binary
//! (`models/make-model.sh`) and is a format-version-2 file: the parameters, the character
//! vocabulary, the hidden state to start from and the training settings as `key=value` metadata
//! (read here as `&str` slices of the flash bytes, not copied); `tests/firmware_deploy.rs` checks that the host, decoding the same
//! bytes, generates `models/poem-h32.txt`. This firmware exits 0 only if it generates that same
//! text.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;
#[path = "../verdict.rs"]
mod verdict;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use micrornn::{CharVocab, Error, Input, argmax, format};

/// The model file, in flash.
static MODEL_BYTES: &[u8] = include_bytes!("../../models/poem-h32.mrnn");
/// Its parameters and initial state, decoded at compile time: in flash (`.rodata`), not RAM.
static MODEL: format::Embedded<O, 32, O> = match format::decode_const(MODEL_BYTES) {
    Ok(model) => model,
    Err(error) => panic!("{}", error.as_str()),
};
/// What the host generates from it, starting with its first character.
const EXPECTED: &str = include_str!("../../models/poem-h32.txt");
/// Characters to generate (the expected text is ASCII).
const LEN: usize = EXPECTED.len();

/// Inputs and outputs of the model: the binary's vocabulary bucket of 32 (22 live classes).
const O: usize = 32;

#[entry]
fn main() -> ! {
    verdict::finish(run());
}

/// Decodes the model and generates; `Ok(true)` if the text is the host's.
fn run() -> Result<bool, Error> {
    // The vocabulary and the metadata (checked here) stay in the file's bytes; only the
    // characters are copied (into 132 bytes of stack).
    let mut vocab = CharVocab::<O>::new();
    let decoded = format::decode_texts(MODEL_BYTES, &mut vocab)?;
    let header = decoded.header;
    hprintln!(
        "decoded a Rnn<{}, {}, {}> ({} classes, format version {}) from {} bytes of flash",
        header.inputs,
        header.hidden,
        header.outputs,
        header.classes,
        header.version,
        MODEL_BYTES.len()
    );
    for (key, value) in decoded.metadata.iter() {
        hprintln!("  {} = {}", key, value);
    }

    let model = &MODEL.rnn;
    let mut hidden = MODEL.initial_hidden;
    // Greedy generation with the model's own calls: `step` (the hidden state), `logits`, and the
    // most likely of the live classes (what `Sampler` with `Sampling::GREEDY` does).
    // The hidden state starts from the one stored in the file (copied into RAM above).
    let classes = header.classes.min(O);
    let mut logits = [0.0f32; O];
    let mut text = [b'?'; LEN];
    let mut expected = EXPECTED.chars();
    let mut token = vocab.encode(expected.next().unwrap_or('?'))?;
    let mut matched = true;
    for (i, out) in text.iter_mut().enumerate() {
        let c = vocab.decode(token).unwrap_or('?');
        *out = if c.is_ascii() { c as u8 } else { b'?' };
        if i > 0 {
            matched &= expected.next() == Some(c);
        }
        common::infer_start();
        let stepped = model.step(Input::Token(token), &mut hidden);
        common::step_stop();
        model.logits(&hidden, &mut logits);
        token = argmax(logits.get(..classes).unwrap_or(&logits));
        common::infer_stop();
        stepped?;
    }
    verdict::print_text(&text, matched);
    Ok(matched)
}
