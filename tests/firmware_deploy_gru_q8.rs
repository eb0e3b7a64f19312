//! The quantized GRU that `examples/firmware/src/bin/deploy_gru_q8.rs` embeds, checked on the
//! host: decoded from the same bytes, it must generate the same greedy text as the firmware does
//! under QEMU on the Cortex-M4F (SMLAD path) and the Cortex-M0 (scalar path): both compare
//! against `examples/firmware/models/poem-gru-h32.q8.txt`.
//!
//! `poem-gru-h32.q8` is a `Gru<32, 32, 32>` trained on the poem by the crate's `Trainer` (Adam,
//! the poem three times over), quantized by `QGru::quantize` calibrated on the poem, and written
//! as a version-3 quantized file by `qformat::encode_contents` (the binary trains GRUs on series
//! only). The ignored test below rewrites the model and the text:
//!
//! ```text
//! cargo test --release --test firmware_deploy_gru_q8 -- --ignored write_model_and_text
//! ```

use micrornn::format::Contents;
use micrornn::model::gru::GruRecord;
use micrornn::model::normalize::Normalization;
use micrornn::{
    Adam, CharVocab, Clip, DefaultRng, Gru, QGru, Sequence, Tape, TrainConfig, Trainer,
    boxed_zeroed, qformat,
};
use rand_xoshiro::rand_core::SeedableRng;

#[path = "common/greedy.rs"]
mod greedy;
use greedy::greedy;

const MODEL_FILE: &str = "examples/firmware/models/poem-gru-h32.q8";
const TEXT_FILE: &str = "examples/firmware/models/poem-gru-h32.q8.txt";
const MODEL_BYTES: &[u8] = include_bytes!("../examples/firmware/models/poem-gru-h32.q8");
const EXPECTED: &str = include_str!("../examples/firmware/models/poem-gru-h32.q8.txt");
/// The first verse of Emily Dickinson's "Hope is the thing with feathers" (notebook 003).
const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                    And sings the tune without the words and never stops at all. ";

type Model = QGru<32, 32, 32>;

/// The model, its vocabulary, its live classes and the state it stores (zeros when none).
fn load(bytes: &[u8]) -> (Box<Model>, CharVocab<32>, usize, [i16; 32]) {
    let mut model = Box::new(Model::ZERO);
    let mut vocab = CharVocab::<32>::new();
    let mut start = [0i16; 32];
    let decoded = qformat::decode_contents(bytes, &mut *model, &mut vocab, &mut start)
        .expect("the model decodes");
    let header = decoded.header;
    assert_eq!((header.inputs, header.hidden, header.outputs), (32, 32, 32));
    (model, vocab, header.classes, start)
}

#[test]
fn deployed_quantized_gru_generates_the_firmware_text_on_the_host() {
    let (model, vocab, classes, start) = load(MODEL_BYTES);
    let first = EXPECTED.chars().next().expect("non-empty expected text");
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
fn the_deployed_text_is_the_poem() {
    assert!(EXPECTED.starts_with(POEM), "{EXPECTED}");
}

/// Trains, quantizes and writes the model, then its greedy text.
#[test]
#[ignore = "rewrites committed files"]
fn write_model_and_text() {
    let poem3 = POEM.repeat(3);
    let vocab = CharVocab::<32>::from_text(&poem3).unwrap();
    let ids: Vec<usize> = poem3.chars().map(|c| vocab.encode(c).unwrap()).collect();
    let mut rng = DefaultRng::seed_from_u64(2026);
    let mut gru = boxed_zeroed::<Gru<32, 32, 32>>();
    gru.init_uniform(&mut rng);
    let mut grads = boxed_zeroed::<Gru<32, 32, 32>>();
    let mut tape = boxed_zeroed::<Tape<40, 32, 32, GruRecord<32>>>();
    let mut adam = boxed_zeroed::<Adam<Gru<32, 32, 32>>>();
    adam.init(0.01);
    let config = TrainConfig {
        seq_len: 40,
        clip: Clip::Norm(5.0),
        window: None,
        carry_hidden: true,
        classes: vocab.len(),
    };
    let mut trainer = Trainer::new(&mut *gru, &mut *grads, &mut *tape, &mut *adam, config).unwrap();
    for _ in 0..1500 {
        trainer.train_chunk(&ids).unwrap();
    }
    let q = QGru::quantize(
        &gru,
        &Normalization::IDENTITY,
        Some((&[0.0; 32], &[Sequence::Tokens(&ids)])),
    )
    .unwrap();
    let chars: Vec<char> = (0..vocab.len()).filter_map(|t| vocab.decode(t)).collect();
    let contents = Contents::language_model(&chars, vocab.len());
    let mut bytes = vec![0u8; qformat::encoded_len_contents::<Model, 32, 32>(&contents)];
    qformat::encode_contents(&q, &contents, &mut bytes).unwrap();
    let (model, decoded_vocab, classes, start) = load(&bytes);
    assert_eq!(*model, q);
    let text = greedy(&*model, &decoded_vocab, classes, start, 'H', 2 * POEM.len());
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(format!("{root}/{MODEL_FILE}"), &bytes).expect("write model");
    std::fs::write(format!("{root}/{TEXT_FILE}"), &text).expect("write text");
    assert!(text.starts_with(POEM), "{text}");
}
