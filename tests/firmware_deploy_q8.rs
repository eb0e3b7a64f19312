//! The quantized model that `examples/firmware/src/bin/deploy_q8.rs` embeds, checked on the
//! host: decoded from the same bytes, it must generate the same greedy text as the firmware does
//! under QEMU on the Cortex-M4F (SMLAD path) and the Cortex-M0 (scalar path): both compare
//! against `examples/firmware/models/poem-h32.q8.txt`.
//!
//! `poem-h32.q8` is `micrornn quantize models/poem-h32.mrnn --out models/poem-h32.q8`
//! (`tests/cli_quantize.rs` checks that the tool still makes exactly these bytes); the ignored
//! test below rewrites the text file from it:
//!
//! ```text
//! cargo test --release --test firmware_deploy_q8 -- --ignored write_expected_text
//! ```

use micrornn::{CharVocab, QRnn, qformat};

#[path = "common/greedy.rs"]
mod greedy;
use greedy::greedy;

const TEXT_FILE: &str = "examples/firmware/models/poem-h32.q8.txt";
const MODEL_BYTES: &[u8] = include_bytes!("../examples/firmware/models/poem-h32.q8");
const EXPECTED: &str = include_str!("../examples/firmware/models/poem-h32.q8.txt");
/// The float model's greedy text (`tests/firmware_deploy.rs`).
const FLOAT_TEXT: &str = include_str!("../examples/firmware/models/poem-h32.txt");

type Model = QRnn<32, 32, 32>;

fn load() -> (Box<Model>, CharVocab<32>, usize, [i16; 32]) {
    let mut model = Box::new(Model::ZERO);
    let mut vocab = CharVocab::<32>::new();
    let mut start = [0i16; 32];
    let header = qformat::decode(MODEL_BYTES, &mut model, &mut vocab, &mut start)
        .expect("the model decodes");
    assert_eq!((header.inputs, header.hidden, header.outputs), (32, 32, 32));
    assert_eq!(header.version, qformat::VERSION);
    (model, vocab, header.classes, start)
}

#[test]
fn deployed_quantized_model_generates_the_firmware_text_on_the_host() {
    let first = EXPECTED.chars().next().expect("non-empty expected text");
    let (model, vocab, classes, start) = load();
    let text = greedy(
        &*model,
        &vocab,
        classes,
        start,
        first,
        EXPECTED.chars().count(),
    );
    assert_eq!(text, EXPECTED);
}

#[test]
fn the_quantized_text_is_the_float_models_text() {
    assert_eq!(EXPECTED, FLOAT_TEXT);
}

#[test]
fn weights_take_one_byte_in_the_file() {
    // 36 header + 4·32 vocabulary + 4·(32 + 2·32 + 2·32) multipliers and biases + 32·96
    // weights + 2·32 initial state + 4 checksum, against 4 bytes per parameter in the f32 file.
    assert_eq!(MODEL_BYTES.len(), 36 + 128 + 640 + 3072 + 64 + 4);
}

/// Rewrites the expected text from the committed model.
#[test]
#[ignore = "rewrites a committed file"]
fn write_expected_text() {
    let (model, vocab, classes, start) = load();
    let text = greedy(
        &*model,
        &vocab,
        classes,
        start,
        'H',
        FLOAT_TEXT.chars().count(),
    );
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(format!("{root}/{TEXT_FILE}"), &text).expect("write text");
}
