//! `micrornn quantize` on sensor series classifiers: a GRU trained by the binary on the
//! repository's ramps files, quantized with `--calibrate TRAIN.ts`, then `eval` and `classify`
//! (also `--stream`) on the `.q8` file agree with the float model within one error; an Elman
//! series model, a bad calibration file and a language-model command on the `.q8` are refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_micrornn");

fn repo_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/series")
        .join(name)
        .display()
        .to_string()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("micrornn-q8-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the micrornn binary runs")
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[track_caller]
fn refused(out: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(expected), "{stderr:?} lacks {expected:?}");
    assert!(out.stdout.is_empty());
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out)).unwrap()
}

#[test]
fn a_quantized_series_gru_evaluates_and_classifies_like_the_float_one() {
    let dir = scratch("gru");
    let (train, test) = (repo_file("ramps_TRAIN.ts"), repo_file("ramps_TEST.ts"));
    ok(&run(
        &dir,
        &["train", &train, "--epochs", "40", "--out", "m.mrnn"],
    ));
    let printed = ok(&run(
        &dir,
        &["quantize", "m.mrnn", "--out", "m.q8", "--calibrate", &train],
    ));
    assert!(printed.contains("calibrated on 45 series"), "{printed}");
    assert!(printed.contains("QGru<16, 32, 16>"), "{printed}");
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
        .filter(|l| l.starts_with("1\t"))
        .last()
        .unwrap()
        .rsplit('\t')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(last_of_first, classes(&int8_lines)[0]);
    // A language-model command on the series .q8, and a bad calibration file.
    refused(&run(&dir, &["sample", "m.q8"]), "is a series classifier");
    std::fs::write(
        dir.join("bad.ts"),
        "@classLabel true rise\n@data\n1,x:0,0:rise\n",
    )
    .unwrap();
    refused(
        &run(
            &dir,
            &[
                "quantize",
                "m.mrnn",
                "--out",
                "n.q8",
                "--calibrate",
                "bad.ts",
            ],
        ),
        "bad.ts:3",
    );
    assert!(!dir.join("n.q8").exists(), "nothing written");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_elman_series_model_is_refused_by_quantize() {
    let dir = scratch("elman");
    let train = repo_file("ramps_TRAIN.ts");
    ok(&run(
        &dir,
        &[
            "train", &train, "--cell", "elman", "--epochs", "1", "--out", "e.mrnn",
        ],
    ));
    refused(
        &run(&dir, &["quantize", "e.mrnn", "--out", "e.q8"]),
        "must be a GRU",
    );
    assert!(!dir.join("e.q8").exists());
    let _ = std::fs::remove_dir_all(&dir);
}
