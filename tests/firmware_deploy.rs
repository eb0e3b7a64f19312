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

use micrornn::{CharVocab, DefaultRng, Rnn, Sampler, Sampling, format};
use rand_xoshiro::rand_core::SeedableRng;

const TEXT_FILE: &str = "examples/firmware/models/poem-h32.txt";
const MODEL_BYTES: &[u8] = include_bytes!("../examples/firmware/models/poem-h32.mrnn");
const EXPECTED: &str = include_str!("../examples/firmware/models/poem-h32.txt");

/// The poem of notebook 003: 119 characters, 22 distinct.
const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                    And sings the tune without the words and never stops at all. ";

/// The binary's shape for this corpus: the vocabulary bucket of 32 inputs and outputs (22 live
/// classes), H = 32.
type Model = Rnn<32, 32, 32>;

/// Decodes the committed model.
fn load() -> (Box<Model>, CharVocab<32>, usize) {
    let mut model = Box::new(Model::ZERO);
    let mut vocab = CharVocab::<32>::new();
    let header = format::decode(MODEL_BYTES, &mut model, &mut vocab).expect("the model decodes");
    assert_eq!((header.inputs, header.hidden, header.outputs), (32, 32, 32));
    (model, vocab, header.classes)
}

/// Greedy text of `len` characters starting with `first`, as the firmware generates it.
fn greedy(model: &Model, vocab: &CharVocab<32>, classes: usize, first: char, len: usize) -> String {
    let mut sampler = Sampler::new(model, classes, Sampling::GREEDY).expect("valid classes");
    let mut rng = DefaultRng::seed_from_u64(0);
    let mut text = String::from(first);
    sampler
        .feed(vocab.encode(first).expect("first char in vocabulary"))
        .expect("feed");
    sampler
        .generate(&mut rng, len - 1, |id| text.extend(vocab.decode(id)))
        .expect("generate");
    text
}

#[test]
fn deployed_model_decodes_and_generates_the_firmware_text_on_the_host() {
    let (model, vocab, classes) = load();
    let first = EXPECTED.chars().next().expect("non-empty expected text");
    let text = greedy(&model, &vocab, classes, first, EXPECTED.chars().count());
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
    let (model, vocab, classes) = load();
    let text = greedy(&model, &vocab, classes, 'H', 2 * POEM.len());
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(format!("{root}/{TEXT_FILE}"), &text).expect("write text");
}
