//! A sensor classifier of either cell trained on a series file, quantized with its own
//! normalization and calibrated on the training series, then compared with its f32 self on a
//! test file (also through the version-3 `.q8` file): what `tests/quantized_gru.rs` and
//! `tests/quantized_elman.rs` share. The including test declares `mod shared_data` beside it.

use super::shared_data::data_file;
use micrornn::classify::{Classifier, ClassifierConfig};
use micrornn::format::Contents;
use micrornn::host::series::{self, Limits, SeriesSet};
use micrornn::host::series_training::Prepared;
use micrornn::model::QTensors;
use micrornn::model::normalize::Normalization;
use micrornn::workflows::quantized;
use micrornn::{
    Adam, Cell, CharVocab, Clip, DefaultRng, Gru, Infer, QGru, QRnn, Readout, Rnn, Sequence, Tape,
    Zeroable, boxed_zeroed, qformat,
};
use rand_xoshiro::rand_core::SeedableRng;
use std::fmt::Debug;
use std::path::{Path, PathBuf};

/// Hidden units of the compared models.
pub const H: usize = 32;

/// The series files' limits (the binary's buckets).
pub const LIMITS: Limits = Limits {
    channels: 16,
    classes: 16,
    steps: 512,
    bytes: 64 << 20,
};

/// A file of `tests/data/series`.
pub fn repo_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/series")
        .join(name)
}

/// A float sensor cell and its int8 twin.
pub trait QuantizableCell<const I: usize, const O: usize>: Zeroable {
    /// The int8 cell.
    type Quantized: Infer<I, Hidden = [i16; H], Logits = [i16; O], RealLogits = [f32; O]>
        + QTensors<I>
        + Zeroable
        + PartialEq
        + Debug;
    /// The cell's uniform initialization.
    fn init(&mut self, rng: &mut DefaultRng);
    /// Post-training quantization with `normalization` inside, calibrated on `calibration`.
    fn quantize(
        &self,
        normalization: &Normalization<I>,
        calibration: &[Sequence<'_, I>],
    ) -> Box<Self::Quantized>;
}

macro_rules! quantizable_cell {
    ($float:ident, $quantized:ident, $quantize:ident) => {
        impl<const I: usize, const O: usize> QuantizableCell<I, O> for $float<I, H, O> {
            type Quantized = $quantized<I, H, O>;
            fn init(&mut self, rng: &mut DefaultRng) {
                self.init_uniform(rng);
            }
            fn quantize(
                &self,
                normalization: &Normalization<I>,
                calibration: &[Sequence<'_, I>],
            ) -> Box<$quantized<I, H, O>> {
                let mut q = boxed_zeroed::<$quantized<I, H, O>>();
                q.$quantize(self, normalization, Some((&[0.0; H], calibration)))
                    .unwrap();
                q
            }
        }
    };
}
quantizable_cell!(Gru, QGru, quantize_from);
quantizable_cell!(Rnn, QRnn, quantize_dense_from);

/// Trains a classifier of cell `C` (the sensor example's defaults: Adam 0.003, norm clip 5,
/// last-step readout) and returns it with the training set's normalization.
pub fn train<C: QuantizableCell<I, O> + Cell<I, H, O>, const I: usize, const O: usize>(
    train: &SeriesSet,
    epochs: usize,
) -> (Box<C>, Normalization<I>)
where
    Tape<512, H, O, <C as Cell<I, H, O>>::Record>: Zeroable,
{
    let normalization = train.normalization::<I>();
    let prepared = Prepared::new(train, &normalization);
    let mut train_examples = prepared.examples();
    let mut rng = DefaultRng::seed_from_u64(0);
    let mut model = boxed_zeroed::<C>();
    model.init(&mut rng);
    let mut grads = boxed_zeroed::<C>();
    let mut tape = boxed_zeroed::<Tape<512, H, O, <C as Cell<I, H, O>>::Record>>();
    let mut adam = boxed_zeroed::<Adam<C>>();
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

/// Float and int8 errors of cell `C` on `test` (the int8 model also through its `.q8` file),
/// and how many predictions the two share.
pub fn compare<C: QuantizableCell<I, O> + Cell<I, H, O>, const I: usize, const O: usize>(
    name: &str,
    train_set: &SeriesSet,
    test: &SeriesSet,
    epochs: usize,
) -> (usize, usize, usize)
where
    Tape<512, H, O, <C as Cell<I, H, O>>::Record>: Zeroable,
{
    let (float_model, normalization) = train::<C, I, O>(train_set, epochs);
    let classes = train_set.class_names.len();
    // Calibrated on the training series, as the float model sees them.
    let calibration_set = Prepared::new(train_set, &normalization);
    let calibration: Vec<Sequence<'_, I>> = calibration_set
        .vectors
        .iter()
        .map(|v| Sequence::Dense(v))
        .collect();
    let q = float_model.quantize(&normalization, &calibration);

    // The f32 model takes normalized samples, the int8 one raw samples (it normalizes itself).
    let normalized = Prepared::new(test, &normalization);
    let raw = Prepared::new(test, &Normalization::IDENTITY);
    let float = micrornn::classify::evaluate(
        &*float_model,
        &normalized.examples(),
        classes,
        Readout::Last,
    )
    .unwrap();
    let int8 = quantized::evaluate(&*q, &raw.examples(), classes, Readout::Last).unwrap();

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
    let mut bytes = vec![0u8; qformat::encoded_len_contents::<C::Quantized, I, H>(&contents)];
    qformat::encode_contents(&*q, &contents, &mut bytes).unwrap();
    let mut loaded = boxed_zeroed::<C::Quantized>();
    let decoded = qformat::decode_contents(
        &bytes,
        &mut *loaded,
        &mut CharVocab::<0>::new(),
        &mut [0; H],
    )
    .unwrap();
    assert_eq!(decoded.class_names.len(), classes);
    assert_eq!(loaded, q);

    let mut agree = 0;
    for (n, r) in normalized.vectors.iter().zip(&raw.vectors) {
        let f =
            micrornn::classify::predict(&*float_model, Sequence::Dense(n), classes, Readout::Last)
                .unwrap();
        let i = quantized::predict(&*loaded, Sequence::Dense(r), classes, Readout::Last).unwrap();
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

/// The repository's ramps files (60 epochs): the float model within 6 errors of 30, int8
/// within one error of it, at least 28 predictions the same.
pub fn check_ramps<C: QuantizableCell<2, 3> + Cell<2, H, 3>>()
where
    Tape<512, H, 3, <C as Cell<2, H, 3>>::Record>: Zeroable,
{
    let train_set = series::read(&repo_file("ramps_TRAIN.ts"), &LIMITS).unwrap();
    let test = series::read(&repo_file("ramps_TEST.ts"), &LIMITS).unwrap();
    let (float, int8, agree) = compare::<C, 2, 3>("ramps", &train_set, &test, 60);
    assert!(
        float <= 6,
        "the float model learned the set ({float} errors of 30)"
    );
    assert!(int8 <= float + 1, "int8 {int8} errors, float {float}");
    assert!(agree >= 28, "{agree}/30 predictions agree");
}

/// BasicMotions from `../shared` (100 epochs; skipped when absent, outside CI): the float model
/// within `float_errors` errors of 40, int8 within one error of it, at least 38 predictions the
/// same.
pub fn check_basic_motions<C: QuantizableCell<6, 4> + Cell<6, H, 4>>(float_errors: usize)
where
    Tape<512, H, 4, <C as Cell<6, H, 4>>::Record>: Zeroable,
{
    let (Some(train_path), Some(test_path)) = (
        data_file("uea/BasicMotions_TRAIN.ts"),
        data_file("uea/BasicMotions_TEST.ts"),
    ) else {
        return;
    };
    let train_set = series::read(&train_path, &LIMITS).unwrap();
    let test = series::read(&test_path, &LIMITS).unwrap();
    let (float, int8, agree) = compare::<C, 6, 4>("BasicMotions", &train_set, &test, 100);
    assert!(
        float <= float_errors,
        "the float model learned the set ({float} errors of 40)"
    );
    assert!(int8 <= float + 1, "int8 {int8} errors, float {float}");
    assert!(agree >= 38, "{agree}/40 predictions agree");
}
