//! The int8 GRU against the f32 GRU it was quantized from, on sensor classifiers (the repo's
//! ramps set always; BasicMotions from `../shared` when present) and on a character model, and
//! through the version-3 quantized file.

#[path = "common/shared_data.rs"]
mod shared_data;

use micrornn::classify::{Classifier, ClassifierConfig};
use micrornn::format::Contents;
use micrornn::host::series::{self, Limits, SeriesSet};
use micrornn::host::series_training::Prepared;
use micrornn::model::normalize::Normalization;
use micrornn::workflows::quantized;
use micrornn::{
    Adam, CharVocab, Clip, DefaultRng, Generator, Gru, QGru, Readout, Sampling, Sequence, Tape,
    TrainConfig, Trainer, boxed_zeroed, qformat,
};
use rand_xoshiro::rand_core::SeedableRng;
use shared_data::data_file;
use std::path::{Path, PathBuf};

const H: usize = 32;
const LIMITS: Limits = Limits {
    channels: 16,
    classes: 16,
    steps: 512,
    bytes: 64 << 20,
};

fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/series")
        .join(name)
}

/// Trains a GRU classifier (the sensor example's defaults: Adam 0.003, norm clip 5, last-step
/// readout) and returns it with the training set's normalization.
fn train<const I: usize, const O: usize>(
    train: &SeriesSet,
    epochs: usize,
) -> (Box<Gru<I, H, O>>, Normalization<I>) {
    let normalization = train.normalization::<I>();
    let prepared = Prepared::new(train, &normalization);
    let mut train_examples = prepared.examples();
    let mut rng = DefaultRng::seed_from_u64(0);
    let mut model = boxed_zeroed::<Gru<I, H, O>>();
    model.init_uniform(&mut rng);
    let mut grads = boxed_zeroed::<Gru<I, H, O>>();
    let mut tape = boxed_zeroed::<Tape<512, H, O, micrornn::model::gru::GruRecord<H>>>();
    let mut adam = boxed_zeroed::<Adam<Gru<I, H, O>>>();
    adam.init(0.003);
    let config = ClassifierConfig {
        classes: train.class_names.len(),
        clip: Clip::Norm(5.0),
        readout: Readout::Last,
    };
    let mut classifier =
        Classifier::new(&mut *model, &mut *grads, &mut *tape, &mut *adam, config).unwrap();
    classifier
        .fit(&mut train_examples, &mut rng, epochs)
        .unwrap();
    (model, normalization)
}

/// Float and int8 errors on `test` (the int8 model also through its `.q8` file), and how many
/// predictions the two share.
fn compare<const I: usize, const O: usize>(
    name: &str,
    train_set: &SeriesSet,
    test: &SeriesSet,
    epochs: usize,
) -> (usize, usize, usize) {
    let (gru, normalization) = train::<I, O>(train_set, epochs);
    let classes = train_set.class_names.len();
    // Calibrated on the training series, as the float model sees them.
    let calibration_set = Prepared::new(train_set, &normalization);
    let calibration: Vec<Sequence<'_, I>> = calibration_set
        .vectors
        .iter()
        .map(|v| Sequence::Dense(v))
        .collect();
    let q = QGru::quantize(&gru, &normalization, Some((&[0.0; H], &calibration))).unwrap();

    // The f32 model takes normalized samples, the int8 one raw samples (it normalizes itself).
    let normalized = Prepared::new(test, &normalization);
    let raw = Prepared::new(test, &Normalization::IDENTITY);
    let float = micrornn::classify::evaluate(&*gru, &normalized.examples(), classes, Readout::Last)
        .unwrap();
    let int8 = quantized::evaluate(&q, &raw.examples(), classes, Readout::Last).unwrap();

    // Through the file: the same predictions.
    let channels: Vec<String> = (0..test.channels).map(|c| format!("c{c}")).collect();
    let channel_names: Vec<&str> = channels.iter().map(String::as_str).collect();
    let class_names: Vec<&str> = train_set.class_names.iter().map(String::as_str).collect();
    let contents = Contents::sensor_classifier(
        &channel_names,
        &normalization.mean[..test.channels],
        &normalization.std[..test.channels],
        &class_names,
    );
    let mut bytes = vec![0u8; qformat::encoded_len_contents::<QGru<I, H, O>, I, H>(&contents)];
    qformat::encode_contents(&q, &contents, &mut bytes).unwrap();
    let mut loaded = QGru::<I, H, O>::ZERO;
    let decoded =
        qformat::decode_contents(&bytes, &mut loaded, &mut CharVocab::<0>::new(), &mut [0; H])
            .unwrap();
    assert_eq!(decoded.class_names.len(), classes);
    assert_eq!(loaded, q);

    let mut agree = 0;
    for (n, r) in normalized.vectors.iter().zip(&raw.vectors) {
        let f =
            micrornn::classify::predict(&*gru, Sequence::Dense(n), classes, Readout::Last).unwrap();
        let i = quantized::predict(&loaded, Sequence::Dense(r), classes, Readout::Last).unwrap();
        agree += usize::from(f.class == i.class);
    }
    let errors = |m: micrornn::classify::Metrics| m.count - m.correct;
    eprintln!(
        "{name}: float accuracy {:.4} ({} errors), int8 accuracy {:.4} ({} errors), {agree}/{} predictions agree",
        float.accuracy(),
        errors(float),
        int8.accuracy(),
        errors(int8),
        float.count
    );
    (errors(float), errors(int8), agree)
}

#[test]
fn int8_matches_float_on_the_repository_ramps() {
    let train_set = series::read(&repo_file("ramps_TRAIN.ts"), &LIMITS).unwrap();
    let test = series::read(&repo_file("ramps_TEST.ts"), &LIMITS).unwrap();
    let (float, int8, agree) = compare::<2, 3>("ramps", &train_set, &test, 60);
    assert!(
        float <= 6,
        "the float model learned the set ({float} errors of 30)"
    );
    assert!(int8 <= float + 1, "int8 {int8} errors, float {float}");
    assert!(agree >= 28, "{agree}/30 predictions agree");
}

#[test]
fn int8_is_within_one_error_of_float_on_basic_motions() {
    let (Some(train_path), Some(test_path)) = (
        data_file("uea/BasicMotions_TRAIN.ts"),
        data_file("uea/BasicMotions_TEST.ts"),
    ) else {
        return;
    };
    let train_set = series::read(&train_path, &LIMITS).unwrap();
    let test = series::read(&test_path, &LIMITS).unwrap();
    let (float, int8, _) = compare::<6, 4>("BasicMotions", &train_set, &test, 100);
    assert!(
        float <= 4,
        "the float model learned the set ({float} errors of 40)"
    );
    assert!(int8 <= float + 1, "int8 {int8} errors, float {float}");
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
