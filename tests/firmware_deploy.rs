//! The model that `examples/firmware/src/bin/deploy.rs` embeds, checked on the host: decoded from
//! the same bytes, it must generate the same greedy text as the firmware does under QEMU (both
//! compare against `examples/firmware/models/poem-h32.txt`).
//!
//! The model was trained on the host and written with `micrornn::format::encode` by the ignored
//! test below; to retrain it (the text file is rewritten too):
//!
//! ```text
//! cargo test --release --test firmware_deploy -- --ignored regenerate
//! ```

use micrornn::{
    Adagrad, CharVocab, DefaultRng, Rnn, Sampler, Sampling, Tape, TrainConfig, Trainer, format,
};
use rand_xoshiro::rand_core::SeedableRng;

const MODEL_FILE: &str = "examples/firmware/models/poem-h32.mrnn";
const TEXT_FILE: &str = "examples/firmware/models/poem-h32.txt";
const MODEL_BYTES: &[u8] = include_bytes!("../examples/firmware/models/poem-h32.mrnn");
const EXPECTED: &str = include_str!("../examples/firmware/models/poem-h32.txt");

/// The poem of notebook 003: 119 characters, 22 distinct.
const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                    And sings the tune without the words and never stops at all. ";

type Model = Rnn<22, 32, 22>;

/// Greedy text of `len` characters starting with `first`, as the firmware generates it.
fn greedy(model: &Model, vocab: &CharVocab<22>, classes: usize, first: char, len: usize) -> String {
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
    let mut model = Model::ZERO;
    let mut vocab = CharVocab::<22>::new();
    let header =
        format::decode(MODEL_BYTES, &mut model, &mut vocab).expect("the committed model decodes");
    assert_eq!((header.inputs, header.hidden, header.outputs), (22, 32, 22));
    let first = EXPECTED.chars().next().expect("non-empty expected text");
    let text = greedy(
        &model,
        &vocab,
        header.classes,
        first,
        EXPECTED.chars().count(),
    );
    assert_eq!(text, EXPECTED);
}

/// Trains the deployed model on the host and rewrites the model and text files.
#[test]
#[ignore = "rewrites the committed model files"]
fn regenerate() {
    let vocab = CharVocab::<22>::from_text(POEM).expect("22 distinct chars");
    // The poem, then its start again, so every transition (also end -> start) is trained.
    let data = format!("{POEM}{}", &POEM[..26]);
    let mut ids = vec![0usize; data.len()];
    vocab.encode_into(&data, &mut ids).expect("known chars");

    let mut model = Model::ZERO;
    model.init_gaussian(&mut DefaultRng::seed_from_u64(2026), 0.01);
    let (mut grads, mut tape, mut adagrad) =
        (Model::ZERO, Tape::<25, 32, 22>::ZERO, Adagrad::new(0.1));
    let config = TrainConfig::min_char_rnn(vocab.len());
    let mut trainer = Trainer::new(&mut model, &mut grads, &mut tape, &mut adagrad, config)
        .expect("valid config");
    for _ in 0..3000 {
        trainer.train_chunk(&ids).expect("training");
    }

    let mut bytes = vec![0u8; format::encoded_len::<22, 32, 22>()];
    format::encode(&model, &vocab, vocab.len(), &mut bytes).expect("encode");
    let text = greedy(&model, &vocab, vocab.len(), 'H', 2 * POEM.len());
    assert_eq!(text, POEM.repeat(2), "the model has not learned the poem");
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(format!("{root}/{MODEL_FILE}"), &bytes).expect("write model");
    std::fs::write(format!("{root}/{TEXT_FILE}"), &text).expect("write text");
}
