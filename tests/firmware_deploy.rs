//! The model that `examples/firmware/src/bin/deploy.rs` embeds, checked on the host: decoded from
//! the same bytes, it must generate the same greedy text as the firmware does under QEMU (both
//! compare against `examples/firmware/models/poem-h32.txt`).
//!
//! The model was trained on the host by the `micrornn` binary
//! (`examples/firmware/models/make-model.sh`); the ignored test below rewrites the text file from
//! it:
//!
//! ```text
//! cargo test --release --test firmware_deploy -- --ignored write_expected_text
//! ```
//!
//! The file is format version 2; `tests/fixtures/poem-h32-v1.mrnn` is the same model as the
//! version-1 file the first format wrote, and must decode to the same parameters.

use micrornn::{CharVocab, Rnn, format};
use std::path::Path;

#[path = "common/greedy.rs"]
mod greedy;
use greedy::greedy;

const TEXT_FILE: &str = "examples/firmware/models/poem-h32.txt";
const MODEL_FILE: &str = "examples/firmware/models/poem-h32.mrnn";
const V1_BYTES: &[u8] = include_bytes!("fixtures/poem-h32-v1.mrnn");
const MODEL_BYTES: &[u8] = include_bytes!("../examples/firmware/models/poem-h32.mrnn");
const EXPECTED: &str = include_str!("../examples/firmware/models/poem-h32.txt");

/// The poem of notebook 003: 119 characters, 22 distinct.
const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                    And sings the tune without the words and never stops at all. ";

/// The binary's shape for this corpus: the vocabulary bucket of 32 inputs and outputs (22 live
/// classes), H = 32.
type Model = Rnn<32, 32, 32>;

/// A decoded model: parameters, vocabulary, live classes and initial hidden state.
type Loaded = (Box<Model>, CharVocab<32>, usize, [f32; 32]);

/// Decodes model bytes of the deployed shape.
fn decode(bytes: &[u8]) -> Loaded {
    let mut model = Box::new(Model::ZERO);
    let mut vocab = CharVocab::<32>::new();
    let mut hidden = [0.0f32; 32];
    let decoded = format::decode_contents(bytes, &mut *model, &mut vocab, &mut hidden)
        .expect("the model decodes");
    let header = decoded.header;
    assert_eq!((header.inputs, header.hidden, header.outputs), (32, 32, 32));
    (model, vocab, header.classes, hidden)
}

/// Decodes the committed model.
fn load() -> Loaded {
    decode(MODEL_BYTES)
}

#[test]
fn deployed_model_decodes_and_generates_the_firmware_text_on_the_host() {
    let loaded = load();
    let first = EXPECTED.chars().next().expect("non-empty expected text");
    let (model, vocab, classes, start) = &loaded;
    let text = greedy(
        &**model,
        vocab,
        *classes,
        *start,
        first,
        EXPECTED.chars().count(),
    );
    assert_eq!(text, EXPECTED);
}

#[test]
fn deployed_model_has_learned_the_poem() {
    assert_eq!(EXPECTED, POEM.repeat(2));
}

/// Rewrites the expected text from the committed model (after `make-model.sh`).
#[test]
#[ignore = "rewrites a committed file"]
fn write_expected_text() {
    let (model, vocab, classes, start) = load();
    let text = greedy(&*model, &vocab, classes, start, 'H', 2 * POEM.len());
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(format!("{root}/{TEXT_FILE}"), &text).expect("write text");
}

#[test]
fn deployed_model_is_format_version_2_with_its_settings() {
    let header = format::Header::read(MODEL_BYTES).expect("a valid model");
    assert_eq!(header.version, format::VERSION);
    let (mut model, mut vocab, mut hidden) =
        (Box::new(Model::ZERO), CharVocab::<32>::new(), [0.0; 32]);
    let decoded =
        format::decode_contents(MODEL_BYTES, &mut *model, &mut vocab, &mut hidden).unwrap();
    assert_eq!(decoded.metadata.get("hidden"), Some("32"));
}

#[test]
fn the_version_1_file_of_the_same_model_decodes_to_the_same_parameters() {
    assert_eq!(format::Header::read(V1_BYTES).map(|h| h.version), Ok(1));
    let (v1_model, v1_vocab, v1_classes, v1_hidden) = decode(V1_BYTES);
    let (model, vocab, classes, _) = load();
    assert_eq!(
        (&v1_model, &v1_vocab, v1_classes),
        (&model, &vocab, classes)
    );
    assert_eq!(v1_hidden, [0.0; 32]);
}

/// Converts the version-1 fixture into the committed version-2 model (the same parameters,
/// with make-model.sh's settings as metadata).
#[test]
#[ignore = "rewrites a committed file"]
fn write_v2_model_from_v1() {
    let (model, vocab, classes, _) = decode(V1_BYTES);
    let contents = format::Contents {
        metadata: "trained_by=micrornn train (examples/firmware/models/make-model.sh)\n\
                   corpus=the poem of notebook 003, three times\nhidden=32\niters=3000\n\
                   seed=2026\nval_fraction=0\noptimizer=adagrad\nlr=0.1\nseq_len=25\nclip=5",
        ..format::Contents::language_model(vocab.chars(), classes)
    };
    let bytes = micrornn::host::model_file::contents_to_bytes(&*model, &contents).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(Path::new(root).join(MODEL_FILE), bytes).expect("write model");
}
