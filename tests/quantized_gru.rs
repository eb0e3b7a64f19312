//! The int8 GRU against the f32 GRU it was quantized from, on sensor classifiers (the repo's
//! ramps set always; BasicMotions from `../shared` when present) and on a character model, and
//! through the version-3 quantized file.

#[path = "common/shared_data.rs"]
mod shared_data;

#[path = "common/quantized_series.rs"]
mod quantized_series;

use micrornn::model::normalize::Normalization;
use micrornn::{
    Adam, CharVocab, Clip, DefaultRng, Generator, Gru, QGru, Sampling, Sequence, Tape, TrainConfig,
    Trainer, boxed_zeroed,
};
use quantized_series::H;
use rand_xoshiro::rand_core::SeedableRng;

#[test]
fn int8_matches_float_on_the_repository_ramps() {
    quantized_series::check_ramps::<Gru<2, H, 3>>();
}

#[test]
fn int8_is_within_one_error_of_float_on_basic_motions() {
    quantized_series::check_basic_motions::<Gru<6, H, 4>>(4);
}

/// A character GRU trained on a short text (tokens, the Trainer): the int8 model's greedy text
/// from the same prime follows the float model's.
#[test]
fn the_int8_gru_writes_the_float_grus_text() {
    const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                        And sings the tune without the words and never stops at all. ";
    let vocab = CharVocab::<32>::from_text(POEM).unwrap();
    let ids: Vec<usize> = POEM.chars().map(|c| vocab.encode(c).unwrap()).collect();
    let mut rng = DefaultRng::seed_from_u64(3);
    let mut gru = boxed_zeroed::<Gru<32, H, 32>>();
    gru.init_uniform(&mut rng);
    let mut grads = boxed_zeroed::<Gru<32, H, 32>>();
    let mut tape = boxed_zeroed::<Tape<64, H, 32, micrornn::model::gru::GruRecord<H>>>();
    let mut adam = boxed_zeroed::<Adam<Gru<32, H, 32>>>();
    adam.init(0.01);
    let config = TrainConfig {
        seq_len: 40,
        clip: Clip::Norm(5.0),
        window: None,
        carry_hidden: true,
        classes: vocab.len(),
    };
    let mut trainer = Trainer::new(&mut *gru, &mut *grads, &mut *tape, &mut *adam, config).unwrap();
    for _ in 0..600 {
        trainer.train_chunk(&ids).unwrap();
    }
    let q = QGru::quantize(
        &gru,
        &Normalization::IDENTITY,
        Some((&[0.0; H], &[Sequence::Tokens(&ids)])),
    )
    .unwrap();
    let greedy = Sampling {
        temperature: 0.0,
        top_k: 0,
    };
    let prime = &ids[..4];
    let text = |tokens: Vec<usize>| {
        tokens
            .iter()
            .flat_map(|&t| vocab.decode(t))
            .collect::<String>()
    };
    let mut float_tokens = Vec::new();
    let mut float = Generator::new(&*gru, vocab.len(), greedy).unwrap();
    float.prime(prime).unwrap();
    float
        .generate(&mut rng, 100, |t| float_tokens.push(t))
        .unwrap();
    let mut int8_tokens = Vec::new();
    let mut int8 = Generator::new(&q, vocab.len(), greedy).unwrap();
    int8.prime(prime).unwrap();
    int8.generate(&mut rng, 100, |t| int8_tokens.push(t))
        .unwrap();
    let shared = float_tokens
        .iter()
        .zip(&int8_tokens)
        .take_while(|(a, b)| a == b)
        .count();
    let (float_text, int8_text) = (text(float_tokens), text(int8_tokens));
    eprintln!("float: {float_text:?}\nint8:  {int8_text:?}\nthe same for {shared} characters");
    assert!(
        float_text.starts_with(" is the thing with feathers"),
        "the float model learned the poem: {float_text:?}"
    );
    assert!(shared >= 60, "{shared} characters the same");
}
