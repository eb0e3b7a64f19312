//! `micrornn quantize` on sensor series classifiers: a GRU trained by the binary on the
//! repository's ramps files, quantized with `--calibrate TRAIN.ts`, then `eval` and `classify`
//! (also `--stream`) on the `.q8` file agree with the float model within one error, and the same
//! for an Elman series classifier (`QRnn`); a bad calibration file and a language-model command
//! on the `.q8` are refused.

#[path = "common/cli_run.rs"]
mod cli_run;

use cli_run::{assert_refused, assert_success, run, scratch, stdout};
use std::path::Path;
use std::process::Output;

fn repo_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/series")
        .join(name)
        .display()
        .to_string()
}

/// Asserts success; the standard output.
#[track_caller]
fn ok(out: &Output) -> String {
    assert_success(out);
    stdout(out)
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).unwrap()
}

/// Trains a `cell` series classifier on the ramps files, quantizes it, and checks that `eval`
/// and `classify` (also `--stream`) on the `.q8` agree with the float model; the firmware type
/// printed is `firmware_type`.
fn quantized_series_round_trip(cell: &str, firmware_type: &str) {
    let dir = scratch(cell);
    let (train, test) = (repo_file("ramps_TRAIN.ts"), repo_file("ramps_TEST.ts"));
    ok(&run(
        &dir,
        &[
            "train", &train, "--cell", cell, "--epochs", "40", "--out", "m.mrnn",
        ],
    ));
    let printed = ok(&run(
        &dir,
        &["quantize", "m.mrnn", "--out", "m.q8", "--calibrate", &train],
    ));
    assert!(printed.contains("calibrated on 45 series"), "{printed}");
    assert!(printed.contains(firmware_type), "{printed}");
    let float = json(&run(&dir, &["eval", "m.mrnn", &test, "--json"]));
    let int8 = json(&run(&dir, &["eval", "m.q8", &test, "--json"]));
    let correct = |v: &serde_json::Value| v["correct"].as_u64().unwrap();
    assert_eq!(int8["series"], 30);
    assert!(
        correct(&int8) + 1 >= correct(&float),
        "int8 {int8} vs float {float}"
    );
    assert_eq!(int8["classes"], float["classes"]);
    // classify: one line per series, mostly the float model's classes.
    let float_lines = ok(&run(&dir, &["classify", "m.mrnn", &test]));
    let int8_lines = ok(&run(&dir, &["classify", "m.q8", &test]));
    let classes = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .map(|l| l.split('\t').nth(2).unwrap().to_string())
            .collect()
    };
    let agree = classes(&float_lines)
        .iter()
        .zip(classes(&int8_lines))
        .filter(|(a, b)| **a == *b)
        .count();
    assert!(agree >= 28, "{agree}/30\n{float_lines}\n{int8_lines}");
    // --stream: the last step's prediction is the whole series' prediction.
    let stream = ok(&run(&dir, &["classify", "m.q8", &test, "--stream"]));
    let last_of_first = stream
        .lines()
        .rfind(|l| l.starts_with("1\t"))
        .unwrap()
        .rsplit('\t')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(last_of_first, classes(&int8_lines)[0]);
    // A language-model command on the series .q8, and a bad calibration file.
    assert_refused(&dir, &["sample", "m.q8"], "is a series classifier");
    std::fs::write(
        dir.join("bad.ts"),
        "@classLabel true rise\n@data\n1,x:0,0:rise\n",
    )
    .unwrap();
    assert_refused(
        &dir,
        &[
            "quantize",
            "m.mrnn",
            "--out",
            "n.q8",
            "--calibrate",
            "bad.ts",
        ],
        "bad.ts:3",
    );
    assert!(!dir.join("n.q8").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_quantized_series_gru_evaluates_and_classifies_like_the_float_one() {
    // 64: the default hidden size of a series model.
    quantized_series_round_trip("gru", "QGru<16, 64, 16> (qformat::decode_gru_const)");
}

#[test]
fn a_quantized_series_elman_cell_evaluates_and_classifies_like_the_float_one() {
    quantized_series_round_trip("elman", "QRnn<16, 64, 16> (qformat::decode_const)");
}

/// A GRU character model (made by the library: weights from a fixed pattern) quantized by the
/// binary: `sample` and `eval` read the version-3 `.q8`, and its loss is the float model's
/// within 0.02 nats per character.
#[test]
fn a_gru_language_model_quantizes_samples_and_evaluates() {
    use micrornn::format::{self, Contents};
    use micrornn::{CharVocab, Gru, Infer, Input, Params};
    let dir = scratch("gru-lm");
    let text = "the quick brown fox jumps over the lazy dog. the dog sleeps. ";
    let vocab = CharVocab::<32>::from_text(text).unwrap();
    let mut gru = Box::new(Gru::<32, 32, 32>::ZERO);
    let mut k = 0usize;
    for index in 0..6 {
        for w in gru.tensor_mut(index) {
            *w = ((k * 7919 % 61) as f32 - 30.0) / 60.0;
            k += 1;
        }
    }
    let contents = Contents::language_model(vocab.chars(), vocab.len());
    let mut bytes = vec![0u8; format::encoded_len::<Gru<32, 32, 32>, 32>(&contents)];
    format::encode_contents(&*gru, &contents, &mut bytes).unwrap();
    std::fs::write(dir.join("g.mrnn"), &bytes).unwrap();
    std::fs::write(dir.join("text.txt"), text).unwrap();
    let printed = ok(&run(
        &dir,
        &[
            "quantize",
            "g.mrnn",
            "--out",
            "g.q8",
            "--calibrate",
            "text.txt",
        ],
    ));
    assert!(printed.contains("QGru<32, 32, 32>"), "{printed}");
    let sampled = ok(&run(
        &dir,
        &[
            "sample",
            "g.q8",
            "--len",
            "40",
            "--temperature",
            "0",
            "--prime",
            "the ",
        ],
    ));
    assert!(sampled.starts_with("the "), "{sampled}");
    assert_eq!(
        sampled.trim_end_matches('\n').chars().count(),
        44,
        "{sampled}"
    );
    let int8 = json(&run(&dir, &["eval", "g.q8", "text.txt", "--json"]));
    // The float model's loss over the same text, from the zero state.
    let ids: Vec<usize> = text.chars().map(|c| vocab.encode(c).unwrap()).collect();
    let (mut hidden, mut logits, mut total) = ([0.0f32; 32], [0.0f32; 32], 0.0f64);
    for pair in ids.windows(2) {
        Infer::step(&*gru, Input::Token(pair[0]), &mut hidden).unwrap();
        Infer::logits(&*gru, &hidden, &mut logits);
        let live = &logits[..vocab.len()];
        let max = live.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = live.iter().map(|&z| f64::from(z - max).exp()).sum();
        total += sum.ln() + f64::from(max) - f64::from(live[pair[1]]);
    }
    let float = total / (ids.len() - 1) as f64;
    let quantized = int8["nats_per_char"].as_f64().unwrap();
    assert!(
        (quantized - float).abs() < 0.02,
        "int8 {quantized} float {float}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
