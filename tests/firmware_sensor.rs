//! The sensor classifier that `examples/firmware/src/bin/sensor.rs` runs, checked on the host:
//! the same model bytes and the same integer samples must give the lines the firmware prints
//! (`examples/firmware/models/basicmotions-gru32.txt`; the firmware compares its own lines with
//! that file and fails on any difference, and CI's `.ci/steps/32-sensor-firmware.sh` compares
//! the printed lines once more).
//!
//! The firmware streams the samples one at a time (normalize, `Gru::step`); the host runs the
//! library's whole-series [`classify::predict`] on the same values, with the kernel table the
//! firmware uses (`portable`: scalar arithmetic and the rational tanh), so the probabilities are
//! bit for bit the same.
//!
//! `examples/firmware/models/make-sensor-model.sh` trains the model and runs the ignored
//! `write_firmware_files` below, which narrows it to the deployed shape, stores the 40 test
//! series of BasicMotions in the smallest integer form that keeps the float predictions, and
//! writes the expected lines.

#[path = "../examples/firmware/src/sensor_stream.rs"]
#[allow(dead_code)]
mod sensor_stream;
#[path = "common/shared_data.rs"]
mod shared_data;

use micrornn::format::{self, Contents};
use micrornn::host::model_file;
use micrornn::host::series::{self, Limits, SeriesSet};
use micrornn::model::normalize::Normalization;
use micrornn::{CharVocab, Gru, Infer, Input, QGru, Readout, Sequence, classify, qformat};
use sensor_stream::{Line, MAGIC, Samples};
use shared_data::data_file;
use std::path::Path;

/// Input channels of the deployed model: BasicMotions' 3 accelerometer and 3 gyroscope axes.
const CHANNELS: usize = 6;
/// Hidden units.
const HIDDEN: usize = 32;
/// Outputs: BasicMotions' 4 activities.
const CLASSES: usize = 4;
/// The deployed shape.
type Deployed = Gru<CHANNELS, HIDDEN, CLASSES>;
/// The shape `examples/sensors.rs` trains (its compiled buckets: 16 inputs, 16 outputs).
type Trained = Gru<16, HIDDEN, 16>;

const MODEL_FILE: &str = "examples/firmware/models/basicmotions-gru32.mrnn";
const SAMPLES_FILE: &str = "examples/firmware/models/basicmotions-test.samples";
const EXPECTED_FILE: &str = "examples/firmware/models/basicmotions-gru32.txt";
const MODEL_BYTES: &[u8] = include_bytes!("../examples/firmware/models/basicmotions-gru32.mrnn");
const SAMPLES_BYTES: &[u8] =
    include_bytes!("../examples/firmware/models/basicmotions-test.samples");
const EXPECTED: &str = include_str!("../examples/firmware/models/basicmotions-gru32.txt");
const Q8_FILE: &str = "examples/firmware/models/basicmotions-gru32.q8";
const Q8_EXPECTED_FILE: &str = "examples/firmware/models/basicmotions-gru32.q8.txt";
const Q8_BYTES: &[u8] = include_bytes!("../examples/firmware/models/basicmotions-gru32.q8");
const Q8_EXPECTED: &str = include_str!("../examples/firmware/models/basicmotions-gru32.q8.txt");

/// A decoded classifier: parameters, input normalization, class names.
struct Model<G> {
    gru: Box<G>,
    normalization: Normalization<CHANNELS>,
    class_names: Vec<String>,
    metadata: Vec<(String, String)>,
}

/// Decodes a dense GRU classifier file of shape `(I, HIDDEN, O)`; its normalization's first
/// [`CHANNELS`] inputs.
fn decode<const I: usize, const O: usize>(bytes: &[u8]) -> Model<Gru<I, HIDDEN, O>> {
    let mut gru = Box::new(Gru::<I, HIDDEN, O>::ZERO);
    let mut hidden = [0.0f32; HIDDEN];
    let decoded =
        format::decode_contents(bytes, &mut *gru, &mut CharVocab::<1>::new(), &mut hidden)
            .expect("a valid model file");
    assert_eq!(hidden, [0.0; HIDDEN], "windows start from zeros");
    assert_eq!(decoded.channels.len(), CHANNELS);
    let full = decoded.normalization::<I>().expect("a dense classifier");
    let mut normalization = Normalization::<CHANNELS>::IDENTITY;
    normalization.mean.copy_from_slice(&full.mean[..CHANNELS]);
    normalization.std.copy_from_slice(&full.std[..CHANNELS]);
    Model {
        gru,
        normalization,
        class_names: decoded.class_names.iter().map(String::from).collect(),
        metadata: decoded
            .metadata
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// The kernel table of the firmware (no SIMD, the rational tanh), for the whole test binary.
fn firmware_kernels() {
    micrornn::kernels::select("portable").expect("every build has the portable table");
}

/// Predicted class and its probability for each series of `windows` (normalized samples).
fn predictions<const I: usize, const O: usize>(
    gru: &Gru<I, HIDDEN, O>,
    windows: &[Vec<[f32; I]>],
    classes: usize,
) -> Vec<(usize, f32)> {
    windows
        .iter()
        .map(|w| {
            let p = classify::predict(gru, Sequence::Dense(w), classes, Readout::Last)
                .expect("a valid series");
            (p.class, p.probs[p.class])
        })
        .collect()
}

/// The windows of a samples file as the firmware sees them: `integer × scale`, normalized.
fn integer_windows(samples: &Samples<'_>, norm: &Normalization<CHANNELS>) -> Vec<Vec<[f32; 6]>> {
    (0..samples.series)
        .map(|s| {
            (0..samples.steps)
                .map(|t| {
                    let mut x = samples.sample::<CHANNELS>(s, t).expect("inside the file");
                    norm.apply(&mut x);
                    x
                })
                .collect()
        })
        .collect()
}

/// The lines the firmware must print for `model_bytes` and `samples_bytes`.
fn host_lines(model_bytes: &[u8], samples_bytes: &[u8]) -> Vec<String> {
    firmware_kernels();
    let model = decode::<CHANNELS, CLASSES>(model_bytes);
    let samples = Samples::parse(samples_bytes).expect("a valid samples file");
    let windows = integer_windows(&samples, &model.normalization);
    let name = |class: usize| model.class_names[class].as_str();
    predictions(&model.gru, &windows, CLASSES)
        .into_iter()
        .enumerate()
        .map(|(s, (class, p))| {
            let label = samples.label(s).expect("a label per series");
            Line::result(s + 1, name(class), p, name(label))
                .as_str()
                .to_string()
        })
        .collect()
}

/// The deployed int8 shape.
type Quantized = QGru<CHANNELS, HIDDEN, CLASSES>;

/// Decodes the int8 classifier: the model (with its normalization), the state to start from,
/// the class names.
fn decode_q8(bytes: &[u8]) -> (Box<Quantized>, [i16; HIDDEN], Vec<String>) {
    let mut q = Box::new(Quantized::ZERO);
    let mut hidden = [0i16; HIDDEN];
    let decoded = qformat::decode_contents(bytes, &mut *q, &mut CharVocab::<1>::new(), &mut hidden)
        .expect("a valid int8 model file");
    let names = decoded.class_names.iter().map(String::from).collect();
    (q, hidden, names)
}

/// Class and probability of each window of `samples` by the int8 model, as `sensor_q8.rs`
/// computes them: raw samples in (the model normalizes them), the class from the integer
/// logits, the probability from the softmax of their real values.
fn q8_predictions(
    q: &Quantized,
    start: &[i16; HIDDEN],
    samples: &Samples<'_>,
) -> Vec<(usize, f32)> {
    (0..samples.series)
        .map(|s| {
            let mut hidden = *start;
            for t in 0..samples.steps {
                let sample = samples.sample::<CHANNELS>(s, t).expect("inside the file");
                Infer::step(q, Input::Dense(&sample), &mut hidden).expect("a valid sample");
            }
            let mut logits = [0i16; CLASSES];
            Infer::logits(q, &hidden, &mut logits);
            let class = Infer::argmax(q, &logits, CLASSES);
            let mut buffer = [0.0f32; CLASSES];
            let real = q.real_logits(&logits, &mut buffer);
            let mut probs = [0.0f32; CLASSES];
            (micrornn::kernels::active().softmax)(real, &mut probs);
            (class, probs[class])
        })
        .collect()
}

/// The lines `sensor_q8.rs` must print for `q8_bytes` and `samples_bytes`.
fn host_lines_q8(q8_bytes: &[u8], samples_bytes: &[u8]) -> Vec<String> {
    firmware_kernels();
    let (q, start, names) = decode_q8(q8_bytes);
    let samples = Samples::parse(samples_bytes).expect("a valid samples file");
    q8_predictions(&q, &start, &samples)
        .into_iter()
        .enumerate()
        .map(|(s, (class, p))| {
            let label = samples.label(s).expect("a label per series");
            Line::result(s + 1, &names[class], p, &names[label])
                .as_str()
                .to_string()
        })
        .collect()
}

#[test]
fn the_host_predicts_what_the_int8_firmware_prints() {
    let lines = host_lines_q8(Q8_BYTES, SAMPLES_BYTES);
    let expected: Vec<&str> = Q8_EXPECTED.lines().collect();
    assert_eq!(lines.len(), 40);
    assert_eq!(lines, expected);
    // At most one more error than the f32 model (the int8 goal).
    let errors = |text: &str| text.lines().filter(|l| !is_correct(l)).count();
    assert!(errors(Q8_EXPECTED) <= errors(EXPECTED) + 1);
}

/// Whether a result line's predicted class is its recorded class.
fn is_correct(line: &str) -> bool {
    let (predicted, recorded) = line
        .split_once(": ")
        .and_then(|(_, rest)| rest.split_once(" p="))
        .map(|(p, rest)| (p, rest.split_once("(recorded: ").map(|(_, r)| r)))
        .expect("a result line");
    recorded == Some(&format!("{predicted})"))
}

#[test]
fn the_host_predicts_what_the_firmware_prints() {
    let lines = host_lines(MODEL_BYTES, SAMPLES_BYTES);
    let expected: Vec<&str> = EXPECTED.lines().collect();
    assert_eq!(lines.len(), 40);
    assert_eq!(lines, expected);
}

#[test]
fn the_deployed_model_and_samples_are_basic_motions() {
    let model = decode::<CHANNELS, CLASSES>(MODEL_BYTES);
    assert_eq!(
        model.class_names,
        ["Standing", "Running", "Walking", "Badminton"]
    );
    let setting = |key: &str| {
        model
            .metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(setting("set"), Some("BasicMotions"));
    assert_eq!(setting("readout"), Some("Last"));
    let samples = Samples::parse(SAMPLES_BYTES).expect("a valid samples file");
    assert_eq!(
        (samples.series, samples.steps, samples.channels),
        (40, 100, 6)
    );
    // The recorded classes: 10 series of each activity.
    let mut counts = [0usize; CLASSES];
    for s in 0..samples.series {
        counts[samples.label(s).expect("a label")] += 1;
    }
    assert_eq!(counts, [10; CLASSES]);
    // The accuracy the firmware reaches, from its lines.
    let correct = EXPECTED.lines().filter(|line| is_correct(line)).count();
    assert!(correct >= 39, "{correct} of 40");
}

#[test]
fn a_damaged_samples_file_is_refused() {
    assert!(Samples::parse(&SAMPLES_BYTES[..SAMPLES_BYTES.len() - 1]).is_err());
    assert!(Samples::parse(&[]).is_err());
    let mut bad = SAMPLES_BYTES.to_vec();
    bad[0] = b'X';
    assert!(Samples::parse(&bad).is_err());
    let mut bad = SAMPLES_BYTES.to_vec();
    bad[4] = 3; // 3 bytes per value
    assert!(Samples::parse(&bad).is_err());
    let mut bad = SAMPLES_BYTES.to_vec();
    bad[12..16].copy_from_slice(&(-1.0f32).to_le_bytes()); // a negative scale
    assert!(Samples::parse(&bad).is_err());
}

/// What the reader accepts: BasicMotions' sizes.
fn limits() -> Limits {
    Limits {
        channels: CHANNELS,
        classes: CLASSES,
        steps: 100,
        bytes: 1 << 20,
    }
}

/// BasicMotions' test set with the model's class indices, if `../shared` is present.
fn basic_motions_test(class_names: &[String]) -> Option<SeriesSet> {
    let path = data_file("uea/BasicMotions_TEST.ts")?;
    let set = series::read(&path, &limits()).expect("BasicMotions reads");
    Some(
        set.with_classes(class_names, &path.display().to_string())
            .expect("the same classes"),
    )
}

/// The float windows of `set`, normalized.
fn float_windows(set: &SeriesSet, norm: &Normalization<CHANNELS>) -> Vec<Vec<[f32; 6]>> {
    set.series
        .iter()
        .map(|s| s.dense::<CHANNELS>(set.channels, norm))
        .collect()
}

#[test]
fn the_integer_samples_keep_the_float_predictions() {
    firmware_kernels();
    let model = decode::<CHANNELS, CLASSES>(MODEL_BYTES);
    let Some(set) = basic_motions_test(&model.class_names) else {
        return;
    };
    let samples = Samples::parse(SAMPLES_BYTES).expect("a valid samples file");
    let float = predictions(
        &model.gru,
        &float_windows(&set, &model.normalization),
        CLASSES,
    );
    let integer = predictions(
        &model.gru,
        &integer_windows(&samples, &model.normalization),
        CLASSES,
    );
    let classes = |p: &[(usize, f32)]| p.iter().map(|&(c, _)| c).collect::<Vec<_>>();
    assert_eq!(classes(&integer), classes(&float));
    for (s, series) in set.series.iter().enumerate() {
        assert_eq!(samples.label(s), Some(series.label));
    }
}

/// Stores `set` with `width` bytes per value (1: `i8`, 2: `i16`), one symmetric scale per
/// channel: the largest magnitude of the channel maps to the largest integer.
fn encode_samples(set: &SeriesSet, width: usize) -> Vec<u8> {
    let channels = set.channels;
    let steps = set.longest();
    let largest = if width == 1 { 127.0 } else { 32767.0 };
    let mut scales = vec![0.0f32; channels];
    for s in &set.series {
        assert_eq!(s.steps(channels), steps, "equal lengths only");
        for (i, v) in s.values.iter().enumerate() {
            scales[i % channels] = scales[i % channels].max(v.abs());
        }
    }
    for scale in &mut scales {
        *scale = if *scale > 0.0 { *scale / largest } else { 1.0 };
    }
    let mut bytes = MAGIC.to_vec();
    bytes.extend([width as u8, channels as u8]);
    bytes.extend((set.series.len() as u16).to_le_bytes());
    bytes.extend((steps as u16).to_le_bytes());
    bytes.extend([0, 0]);
    scales.iter().for_each(|s| bytes.extend(s.to_le_bytes()));
    bytes.extend(set.series.iter().map(|s| s.label as u8));
    for s in &set.series {
        for (i, v) in s.values.iter().enumerate() {
            let q = (v / scales[i % channels]).round().clamp(-largest, largest);
            if width == 1 {
                bytes.push(q as i8 as u8);
            } else {
                bytes.extend((q as i16).to_le_bytes());
            }
        }
    }
    bytes
}

/// The trained model narrowed to the deployed shape: the input rows of the live channels and
/// the output rows of the live classes (the others only ever see zeros or are masked).
fn narrowed(trained: &Trained) -> Box<Deployed> {
    let mut gru = Box::new(Deployed::ZERO);
    gru.w_xh.copy_from_slice(&trained.w_xh[..CHANNELS]);
    gru.w_hh = trained.w_hh;
    gru.b_xh = trained.b_xh;
    gru.b_hh = trained.b_hh;
    gru.w_hy.copy_from_slice(&trained.w_hy[..CLASSES]);
    gru.b_y.copy_from_slice(&trained.b_y[..CLASSES]);
    gru
}

/// Writes the firmware's model, samples and expected lines from a model trained by
/// `micrornn train TRAIN.ts --out` (`TRAINED_MODEL`); run by `make-sensor-model.sh`.
#[test]
#[ignore = "rewrites the firmware's files; run by examples/firmware/models/make-sensor-model.sh"]
fn write_firmware_files() {
    firmware_kernels();
    let path = std::env::var("TRAINED_MODEL").expect("TRAINED_MODEL names the trained model");
    let bytes = std::fs::read(&path).expect("the trained model reads");
    let trained = decode::<16, 16>(&bytes);
    let set = basic_motions_test(&trained.class_names).expect("../shared/data is present");

    // Narrowing changes no prediction of the float test series.
    let gru = narrowed(&trained.gru);
    let mut full = Normalization::<16>::IDENTITY;
    full.mean[..CHANNELS].copy_from_slice(&trained.normalization.mean);
    full.std[..CHANNELS].copy_from_slice(&trained.normalization.std);
    let padded_windows: Vec<Vec<[f32; 16]>> = set
        .series
        .iter()
        .map(|s| s.dense::<16>(set.channels, &full))
        .collect();
    let float = predictions(&gru, &float_windows(&set, &trained.normalization), CLASSES);
    assert_eq!(
        predictions(&trained.gru, &padded_windows, CLASSES),
        float,
        "the narrowed model predicts as the trained one"
    );
    let correct = float
        .iter()
        .zip(&set.series)
        .filter(|((c, _), s)| *c == s.label)
        .count();
    println!("float test accuracy: {correct}/40");

    // The smallest integer form that keeps every float prediction.
    let mut chosen = None;
    for width in [1, 2] {
        let encoded = encode_samples(&set, width);
        let samples = Samples::parse(&encoded).expect("the written file parses");
        let integer = predictions(
            &gru,
            &integer_windows(&samples, &trained.normalization),
            CLASSES,
        );
        let same = integer
            .iter()
            .zip(&float)
            .filter(|(a, b)| a.0 == b.0)
            .count();
        let largest_change = integer
            .iter()
            .zip(&float)
            .map(|(a, b)| (a.1 - b.1).abs())
            .fold(0.0f32, f32::max);
        println!(
            "{} bytes per value ({} bytes): {same}/40 predictions as with f32, probability of \
             the predicted class changed by at most {largest_change:.5}",
            width,
            encoded.len()
        );
        if same == float.len() && chosen.is_none() {
            chosen = Some(encoded);
        }
    }
    let samples_bytes = chosen.expect("i16 keeps the predictions");

    let names: Vec<&str> = trained.class_names.iter().map(String::as_str).collect();
    let channels: Vec<String> = (0..CHANNELS).map(|c| format!("dim_{c}")).collect();
    let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
    let mut metadata: Vec<String> = trained
        .metadata
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    metadata.push(format!(
        "deployed_shape=Gru<{CHANNELS}, {HIDDEN}, {CLASSES}>"
    ));
    let metadata = metadata.join("\n");
    let contents = Contents {
        metadata: &metadata,
        ..Contents::sensor_classifier(
            &channels,
            &trained.normalization.mean,
            &trained.normalization.std,
            &names,
        )
    };
    let model_bytes = model_file::contents_to_bytes(&*gru, &contents).expect("encodes");
    let lines = host_lines(&model_bytes, &samples_bytes);

    // The int8 model: calibrated on the normalized training series.
    let train_path = data_file("uea/BasicMotions_TRAIN.ts").expect("../shared/data is present");
    let train = series::read(&train_path, &limits()).expect("BasicMotions reads");
    let calibration_windows = float_windows(&train, &trained.normalization);
    let calibration: Vec<Sequence<'_, CHANNELS>> = calibration_windows
        .iter()
        .map(|w| Sequence::Dense(w))
        .collect();
    let q = Box::new(
        Quantized::quantize(
            &gru,
            &trained.normalization,
            Some((&[0.0; HIDDEN], &calibration)),
        )
        .expect("quantizes"),
    );
    let mut q8_bytes =
        vec![0u8; qformat::encoded_len_contents::<Quantized, CHANNELS, HIDDEN>(&contents)];
    qformat::encode_contents(&*q, &contents, &mut q8_bytes).expect("encodes");
    let q8_lines = host_lines_q8(&q8_bytes, &samples_bytes);
    let q8_correct = q8_lines.iter().filter(|l| is_correct(l)).count();
    let same = q8_lines
        .iter()
        .zip(&lines)
        .filter(|(a, b)| a.split(" p=").next() == b.split(" p=").next())
        .count();
    println!(
        "int8 test accuracy on the integer samples: {q8_correct}/40; {same}/40 classes as f32"
    );
    std::fs::write(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(Q8_FILE),
        &q8_bytes,
    )
    .expect("writes the int8 model");
    std::fs::write(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(Q8_EXPECTED_FILE),
        q8_lines.join("\n") + "\n",
    )
    .expect("writes the int8 lines");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(root.join(MODEL_FILE), &model_bytes).expect("writes the model");
    std::fs::write(root.join(SAMPLES_FILE), &samples_bytes).expect("writes the samples");
    std::fs::write(root.join(EXPECTED_FILE), lines.join("\n") + "\n").expect("writes the lines");
    println!("wrote {MODEL_FILE}, {SAMPLES_FILE}, {EXPECTED_FILE}, {Q8_FILE}, {Q8_EXPECTED_FILE}");
}
