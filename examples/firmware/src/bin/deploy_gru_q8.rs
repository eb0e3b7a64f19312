//! The quantized GRU deploy example: `models/poem-gru-h32.q8` (a `QGru<32, 32, 32>`, made by
//! `tests/firmware_deploy_gru_q8.rs`) embedded with `include_bytes!`, decoded by the compiler
//! (`qformat::decode_gru_const`) into a `static` that stays in flash, generating text greedily in
//! integers only.
//!
//! ```text
//! cd examples/firmware
//! cargo run --release --bin deploy_gru_q8                                # Cortex-M4F (SMLAD path)
//! cargo run --release --bin deploy_gru_q8 --target thumbv6m-none-eabi    # Cortex-M0 (scalar path)
//! ```
//!
//! Every step it also runs the GRU step over the scalar reference product and requires the same
//! state, bit for bit. `tests/firmware_deploy_gru_q8.rs` checks that the host, decoding the same
//! bytes, generates `models/poem-gru-h32.q8.txt`; this firmware exits 0 only if it generates
//! that same text.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;
#[path = "../verdict.rs"]
mod verdict;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use micrornn::kernels::int::{self, scalar};
use micrornn::model::quant::qgru::QInput;
use micrornn::{CharVocab, Error, qformat};

/// The quantized model file, in flash.
static MODEL_BYTES: &[u8] = include_bytes!("../../models/poem-gru-h32.q8");
/// Its parameters, decoded at compile time: in flash (`.rodata`), not RAM.
static MODEL: qformat::EmbeddedGru<O, H, O> = match qformat::decode_gru_const(MODEL_BYTES) {
    Ok(model) => model,
    Err(error) => panic!("{}", error.as_str()),
};
/// What the host generates from it, starting with its first character.
const EXPECTED: &str = include_str!("../../models/poem-gru-h32.q8.txt");
/// Characters to generate (the expected text is ASCII).
const LEN: usize = EXPECTED.len();

/// Inputs and outputs: a vocabulary bucket of 32 (22 live classes).
const O: usize = 32;
/// Hidden units.
const H: usize = 32;

#[entry]
fn main() -> ! {
    verdict::finish(run());
}

/// Decodes the vocabulary and generates; `Ok(true)` if the text is the host's and every step
/// of the active kernel equals the scalar reference's.
fn run() -> Result<bool, Error> {
    let mut vocab = CharVocab::<O>::new();
    qformat::decode_texts(MODEL_BYTES, &mut vocab)?;
    let header = MODEL.header;
    hprintln!(
        "decoded a QGru<{}, {}, {}> ({} classes) from {} bytes of flash",
        header.inputs,
        header.hidden,
        header.outputs,
        header.classes,
        MODEL_BYTES.len()
    );
    let model = &MODEL.qgru;
    let classes = header.classes.min(O);
    let mut hidden = MODEL.initial_hidden;
    let mut logits = [0i16; O];
    let mut text = [b'?'; LEN];
    let mut expected = EXPECTED.chars();
    let mut token = vocab.encode(expected.next().unwrap_or('?'))?;
    let (mut matched, mut identical) = (true, true);
    for (i, out) in text.iter_mut().enumerate() {
        let c = vocab.decode(token).unwrap_or('?');
        *out = if c.is_ascii() { c as u8 } else { b'?' };
        if i > 0 {
            matched &= expected.next() == Some(c);
        }
        // The scalar reference's step from the same state, outside the measured window.
        let mut reference = hidden;
        model.step_with(QInput::Token(token), &mut reference, scalar::matvec_requant)?;
        common::infer_start();
        let stepped = model.step_token(token, &mut hidden);
        common::step_stop();
        model.logits(&hidden, &mut logits);
        token = int::argmax_i16(logits.get(..classes).unwrap_or(&logits));
        common::infer_stop();
        stepped?;
        identical &= reference == hidden;
    }
    hprintln!(
        "integer GRU step ({}) vs scalar reference: {}",
        int::ACTIVE,
        if identical {
            "bit-identical"
        } else {
            "DIFFERENT"
        }
    );
    verdict::print_text(&text, matched);
    Ok(matched && identical)
}
