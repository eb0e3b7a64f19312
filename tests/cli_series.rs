//! The `micrornn` binary on sensor series: `train TRAIN.ts|.csv`, `eval MODEL TEST.ts`,
//! `classify MODEL FILE.ts [--stream]`, on the repository's own files
//! (`tests/data/series/ramps_*.ts`, `ramps.csv`), their bad-file errors, and BasicMotions from
//! `../shared/data/uea/` when it is present (skipped with a message otherwise; a failure under
//! `CI=true`).

use cli_run::{assert_refused, assert_success, run, scratch, stdout};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

#[path = "common/cli_run.rs"]
mod cli_run;

#[path = "common/shared_data.rs"]
mod shared_data;

fn repo_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/series")
        .join(name)
        .display()
        .to_string()
}

fn json(out: &Output) -> serde_json::Value {
    assert_success(out);
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn train_eval_classify_round_trip() {
    let dir = scratch("round-trip");
    let (train, test) = (repo_file("ramps_TRAIN.ts"), repo_file("ramps_TEST.ts"));
    let trained = json(&run(
        &dir,
        &[
            "train",
            &train,
            "--test",
            &test,
            "--epochs",
            "30",
            "--hidden",
            "16",
            "--seed",
            "3",
            "--out",
            "ramps.mrnn",
            "--json",
        ],
    ));
    for key in [
        "task",
        "epochs",
        "seconds",
        "train_accuracy",
        "test_accuracy",
        "cell",
        "hidden",
        "lr",
        "clip",
        "seed",
        "readout",
    ] {
        assert!(trained.get(key).is_some(), "{key} missing: {trained}");
    }
    assert_eq!(trained["task"], "classifier");
    assert_eq!(trained["cell"], "gru", "the default cell for series");
    assert_eq!(
        (trained["epochs"].as_u64(), trained["hidden"].as_u64()),
        (Some(30), Some(16))
    );
    assert_eq!(
        trained["classes"],
        serde_json::json!(["rise", "fall", "wave"])
    );
    let test_accuracy = trained["test_accuracy"].as_f64().unwrap();
    // Chance is 1/3.
    assert!(test_accuracy >= 0.7, "{trained}");

    // eval reproduces the test accuracy of training, and writes the picture.
    let evaluated = json(&run(
        &dir,
        &["eval", "ramps.mrnn", &test, "--json", "--svg", "c.svg"],
    ));
    assert_eq!(evaluated["accuracy"].as_f64(), Some(test_accuracy));
    let loss = evaluated["loss"].as_f64().unwrap();
    assert!(
        (loss - trained["test_loss"].as_f64().unwrap()).abs() < 1e-3,
        "{evaluated}"
    );
    let confusion: Vec<Vec<u64>> = serde_json::from_value(evaluated["confusion"].clone()).unwrap();
    assert_eq!(confusion.len(), 3);
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 30);
    assert_eq!(
        confusion
            .iter()
            .map(|row| row.iter().sum::<u64>())
            .collect::<Vec<_>>(),
        [10, 10, 10]
    );
    let correct: u64 = (0..3).map(|c| confusion[c][c]).sum();
    assert_eq!(evaluated["correct"].as_u64(), Some(correct));
    assert!((correct as f64 / 30.0 - test_accuracy).abs() < 1e-12);
    let svg = std::fs::read_to_string(dir.join("c.svg")).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<rect x=").count(), 9, "one square per pair");
    let text = run(&dir, &["eval", "ramps.mrnn", &test]);
    assert_success(&text);
    assert!(
        stdout(&text).contains("precision  recall"),
        "{}",
        stdout(&text)
    );

    // classify: one line per series (after the header), predictions agree with eval.
    let classified = run(&dir, &["classify", "ramps.mrnn", &test]);
    assert_success(&classified);
    let lines: Vec<Vec<String>> = stdout(&classified)
        .lines()
        .skip(1)
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect();
    assert_eq!(lines.len(), 30);
    let hits = lines.iter().filter(|fields| fields[1] == fields[2]).count();
    assert_eq!(hits as u64, correct);

    // --stream: the probabilities after every sample; the last ones are classify's answer.
    let streamed = run(&dir, &["classify", "ramps.mrnn", &test, "--stream"]);
    assert_success(&streamed);
    let streamed = stdout(&streamed);
    let mut rows = streamed.lines();
    assert_eq!(
        rows.next(),
        Some("series\tstep\trise\tfall\twave\tpredicted")
    );
    let rows: Vec<Vec<&str>> = rows.map(|l| l.split('\t').collect()).collect();
    for (number, fields) in lines.iter().enumerate() {
        let of_series: Vec<&Vec<&str>> = rows
            .iter()
            .filter(|r| r[0] == (number + 1).to_string())
            .collect();
        assert!(of_series.len() >= 8, "ramps series have 8 to 16 steps");
        let last = of_series.last().unwrap();
        assert_eq!(last[1], of_series.len().to_string());
        assert_eq!(last[5], fields[2], "series {}", number + 1);
        let probs: Vec<f64> = last[2..5].iter().map(|p| p.parse().unwrap()).collect();
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-3);
        let probability: f64 = fields[3].parse().unwrap();
        assert!(
            probs.iter().any(|p| (p - probability).abs() < 2e-4),
            "{probs:?} {probability}"
        );
    }

    // The CSV file is the same kind of data: classified with the .ts model, classes by name.
    let csv = run(
        &dir,
        &["eval", "ramps.mrnn", &repo_file("ramps.csv"), "--json"],
    );
    assert_eq!(json(&csv)["series"], 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_csv_file_trains_with_its_channel_names_and_an_elman_mean_model() {
    let dir = scratch("csv");
    let trained = json(&run(
        &dir,
        &[
            "train",
            &repo_file("ramps.csv"),
            "--cell",
            "elman",
            "--readout",
            "mean",
            "--epochs",
            "5",
            "--out",
            "csv.mrnn",
            "--json",
        ],
    ));
    assert_eq!(
        (trained["cell"].as_str(), trained["readout"].as_str()),
        (Some("elman"), Some("mean"))
    );
    assert!(
        trained.get("test_accuracy").is_none(),
        "no --test, no test accuracy"
    );
    let bytes = std::fs::read(dir.join("csv.mrnn")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    // The header's channel names, the sorted CSV labels, the settings.
    for stored in [
        "x\nx_scaled",
        "readout=mean",
        "cell=elman",
        "ramps.csv",
        "fall\nrise\nwave",
    ] {
        assert!(text.contains(stored), "{stored:?} not in the model file");
    }
    let header = micrornn::format::Header::read(&bytes).unwrap();
    assert_eq!(header.vocab_kind, micrornn::format::VocabKind::Dense);
    // 64: the default hidden size of a series model.
    assert_eq!((header.inputs, header.hidden, header.classes), (16, 64, 3));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_series_files_and_options_are_refused() {
    let dir = scratch("bad");
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap();
        name.to_string()
    };
    let bad_number = write("number.ts", "@classLabel true a b\n@data\n1,2:a\n1,x:b\n");
    let missing = write("missing.ts", "@classLabel true a b\n@data\n1,2:a\n1,?:b\n");
    let undeclared = write("label.ts", "@classLabel true a b\n@data\n1,2:a\n1,2:c\n");
    let no_data = write("nodata.ts", "@classLabel true a b\n");
    let empty = write("empty.ts", "");
    let channels = write(
        "channels.ts",
        "@classLabel true a b\n@data\n1,2:a\n1,2:3,4:b\n",
    );
    let many = format!(
        "@classLabel true {}\n@data\n1:c0\n",
        (0..17)
            .map(|c| format!("c{c}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let too_many = write("classes.ts", &many);
    let csv = write("bad.csv", "series,label,x\ns1,a,1\ns1,b,2\n");
    for (file, expected) in [
        (&bad_number, "number.ts:4: \"x\" is not a number"),
        (&missing, "missing.ts:4: missing value"),
        (&undeclared, "label.ts:4: class \"c\" is not declared"),
        (&no_data, "nodata.ts: no @data line"),
        (&empty, "empty.ts"),
        (&channels, "channels.ts:4: 2 channels, but the file has 1"),
        (&too_many, "17 classes; at most 16"),
        (&csv, "bad.csv:3:"),
    ] {
        assert_refused(
            &dir,
            &["train", file, "--epochs", "1", "--out", "m.mrnn"],
            expected,
        );
    }
    let (train, test) = (repo_file("ramps_TRAIN.ts"), repo_file("ramps_TEST.ts"));
    assert_refused(
        &dir,
        &["train", &train, "--test", &bad_number, "--out", "m.mrnn"],
        "number.ts:4:",
    );
    assert_refused(
        &dir,
        &["train", &train, "--hidden", "48", "--epochs", "1"],
        "hidden size 48",
    );
    assert_refused(
        &dir,
        &["train", &train, "--batch", "65"],
        "--batch 65: series train 1 to 64 series per update",
    );
    assert_refused(
        &dir,
        &["train", &train, "--batch", "0"],
        "--batch 0: series train 1 to 64",
    );
    assert_refused(
        &dir,
        &["train", &train, "--seq-len", "8"],
        "--seq-len is not an option for series",
    );
    assert_refused(&dir, &["train", &train, "--lr", "0"], "--lr 0 must be > 0");
    let text = write("text.txt", "some text to learn from, long enough.\n");
    assert_refused(
        &dir,
        &["train", &text, "--test", &test],
        "--test is for series files",
    );

    // A model to evaluate with: a test file of other classes or channels is refused by name.
    assert_success(&run(
        &dir,
        &[
            "train", &train, "--epochs", "1", "--out", "m.mrnn", "--json",
        ],
    ));
    let other_class = write(
        "other.ts",
        "@classLabel true rise jump\n@data\n1,2:3,4:jump\n",
    );
    assert_refused(
        &dir,
        &["eval", "m.mrnn", &other_class],
        "class \"jump\" is not declared",
    );
    let one_channel = write("one.ts", "@classLabel true rise\n@data\n1,2:rise\n");
    assert_refused(
        &dir,
        &["classify", "m.mrnn", &one_channel],
        "1 channels, but the model was trained on 2",
    );
    assert_refused(
        &dir,
        &["eval", "m.mrnn", &missing, "--svg", "c.svg"],
        "missing.ts:4:",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_after_the_epoch_and_saves_the_model() {
    let dir = scratch("series-ctrlc");
    let mut child = Command::new(cli_run::BIN)
        .args([
            "train",
            &repo_file("ramps_TRAIN.ts"),
            "--epochs",
            "100000",
            "--hidden",
            "16",
            "--checkpoint",
            "run.ckpt",
        ])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first line on stderr comes after the handler is installed.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.contains("45 series, 2 channels, 3 classes"),
        "{first}"
    );
    // The shell's built-in `kill`, so no procps package is needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let _: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        stdout(&out).contains("interrupted after epoch"),
        "{}",
        stdout(&out)
    );
    // The model saved is whole and usable.
    assert_success(&run(
        &dir,
        &["eval", "model.mrnn", &repo_file("ramps_TEST.ts")],
    ));
    // The checkpoint of the interrupted epoch resumes: one more epoch.
    let stopped: u64 = stdout(&out)
        .split("interrupted after epoch ")
        .nth(1)
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or_else(|| panic!("no epoch in {}", stdout(&out)));
    let next = (stopped + 1).to_string();
    let resumed = json(&run(
        &dir,
        &[
            "train",
            &repo_file("ramps_TRAIN.ts"),
            "--epochs",
            &next,
            "--hidden",
            "16",
            "--resume",
            "run.ckpt",
            "--json",
        ],
    ));
    assert_eq!(resumed["epochs"].as_u64(), Some(stopped + 1), "{resumed}");
    assert_eq!(resumed["interrupted"], false);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--batch`, `--threads`, `--checkpoint` and `--resume` on series: 6 epochs in one run on one
/// thread, and 3 epochs on 3 threads then a resume to 6 on 2, give the same model file byte
/// for byte and the same accuracies; a resume with another setting, another training file, a
/// damaged checkpoint or a language model's is refused with one line, nothing written.
#[test]
fn mini_batches_threads_and_an_exact_resume() {
    let dir = scratch("series-resume");
    let (train, test) = (repo_file("ramps_TRAIN.ts"), repo_file("ramps_TEST.ts"));
    let args = |epochs: &'static str, threads: &'static str, out: &'static str| {
        vec![
            "train",
            train.as_str(),
            "--test",
            test.as_str(),
            "--hidden",
            "16",
            "--batch",
            "4",
            "--val-fraction",
            "0.2",
            "--seed",
            "3",
            "--epochs",
            epochs,
            "--threads",
            threads,
            "--out",
            out,
            "--json",
        ]
    };
    let whole = json(&run(&dir, &args("6", "1", "whole.mrnn")));
    assert_eq!(
        (whole["batch"].as_u64(), whole["threads"].as_u64()),
        (Some(4), Some(1))
    );
    let first = [
        args("3", "3", "part.mrnn"),
        vec!["--checkpoint", "run.ckpt"],
    ]
    .concat();
    let part = json(&run(&dir, &first));
    assert_eq!(part["epochs"], 3);
    let second = [
        args("6", "2", "resumed.mrnn"),
        vec!["--resume", "run.ckpt", "--checkpoint", "run.ckpt"],
    ]
    .concat();
    let resumed = json(&run(&dir, &second));
    assert_eq!(
        std::fs::read(dir.join("whole.mrnn")).unwrap(),
        std::fs::read(dir.join("resumed.mrnn")).unwrap(),
        "the resumed run's model file"
    );
    for key in [
        "epochs",
        "best_epoch",
        "train_accuracy",
        "train_loss",
        "val_accuracy",
        "val_loss",
        "test_accuracy",
        "test_loss",
    ] {
        assert_eq!(resumed[key], whole[key], "{key}");
    }
    let bytes = std::fs::read(dir.join("run.ckpt")).unwrap();
    let other_batch = [args("6", "1", "x.mrnn"), vec!["--resume", "run.ckpt"]].concat();
    let other_batch: Vec<&str> = other_batch
        .iter()
        .map(|&a| if a == "4" { "2" } else { a })
        .collect();
    assert_refused(
        &dir,
        &other_batch,
        "run.ckpt was made with --batch 4, not 2: a checkpoint resumes only with the settings",
    );
    let csv = repo_file("ramps.csv");
    let other_file: Vec<&str> = [args("6", "1", "x.mrnn"), vec!["--resume", "run.ckpt"]]
        .concat()
        .iter()
        .map(|&a| if a == train { csv.as_str() } else { a })
        .collect();
    assert_refused(
        &dir,
        &other_file,
        "run.ckpt was made on another training file",
    );
    std::fs::write(dir.join("short.ckpt"), &bytes[..bytes.len() / 2]).unwrap();
    let short = [args("6", "1", "x.mrnn"), vec!["--resume", "short.ckpt"]].concat();
    assert_refused(
        &dir,
        &short,
        "short.ckpt: the checkpoint is damaged or truncated",
    );
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elman-adam-130-older-build.ckpt")
        .display()
        .to_string();
    let language_model = [args("6", "1", "x.mrnn"), vec!["--resume", &fixture]].concat();
    assert_refused(
        &dir,
        &language_model,
        "a language model's checkpoint, not a series classifier's",
    );
    let text = dir.join("text.txt");
    std::fs::write(&text, "some text to learn from, long enough.\n").unwrap();
    assert_refused(
        &dir,
        &[
            "train",
            &text.display().to_string(),
            "--resume",
            "run.ckpt",
            "--iters",
            "1",
        ],
        "a series classifier's checkpoint, not a language model's",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The defaults reach the accuracy on BasicMotions (docs/sensors.md measured
/// 0.975–1.000 over five seeds); not a timed test.
#[test]
fn basic_motions_with_the_defaults() {
    let (Some(train), Some(test)) = (
        shared_data::data_file("uea/BasicMotions_TRAIN.ts"),
        shared_data::data_file("uea/BasicMotions_TEST.ts"),
    ) else {
        return;
    };
    let dir = scratch("basic-motions");
    let trained = json(&run(
        &dir,
        &[
            "train",
            train.to_str().unwrap(),
            "--test",
            test.to_str().unwrap(),
            "--json",
        ],
    ));
    let accuracy = trained["test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.9, "{trained}");
    assert_eq!(
        trained["classes"],
        serde_json::json!(["Standing", "Running", "Walking", "Badminton"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The regularization options: listed by `--help`, reported by `--json`, recorded in the model
/// file's metadata, checked, and refused on a text.
#[test]
fn regularization_options_are_listed_reported_recorded_and_checked() {
    let dir = scratch("regularization");
    let help = run(&dir, &["train", "--help"]);
    assert_success(&help);
    for option in ["--weight-decay", "--noise", "--stretch", "--val-fraction"] {
        assert!(stdout(&help).contains(option), "{option} not in --help");
    }
    let train = repo_file("ramps_TRAIN.ts");
    let trained = json(&run(
        &dir,
        &[
            "train",
            &train,
            "--epochs",
            "12",
            "--hidden",
            "16",
            "--weight-decay",
            "0.01",
            "--noise",
            "0.1",
            "--stretch",
            "0.25",
            "--val-fraction",
            "0.25",
            "--out",
            "r.mrnn",
            "--json",
        ],
    ));
    assert_eq!(trained["weight_decay"], 0.01);
    assert_eq!(
        (trained["noise"].as_f64(), trained["stretch"].as_f64()),
        (Some(0.1), Some(0.25))
    );
    assert_eq!(trained["val_fraction"], 0.25);
    let (series, held) = (
        trained["series"].as_u64().unwrap(),
        trained["val_series"].as_u64().unwrap(),
    );
    assert!(held > 0 && held < series, "{trained}");
    let best = trained["best_epoch"].as_u64().unwrap();
    assert!((1..=12).contains(&best), "{trained}");
    assert!(trained["val_accuracy"].as_f64().is_some(), "{trained}");
    let bytes = std::fs::read(dir.join("r.mrnn")).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for line in [
        "weight_decay=0.01",
        "noise=0.1",
        "stretch=0.25",
        "val_fraction=0.25",
        &format!("best_epoch={best}"),
    ] {
        assert!(
            text.contains(line),
            "{line} not in the model file's metadata"
        );
    }
    assert_refused(
        &dir,
        &["train", &train, "--noise=-1"],
        "--noise -1 must be ≥ 0",
    );
    assert_refused(
        &dir,
        &["train", &train, "--val-fraction", "1"],
        "--val-fraction 1 must be ≥ 0 and < 1",
    );
    assert_refused(
        &dir,
        &["train", &train, "--weight-decay", "400"],
        "lr·WD must be below 1",
    );
    let text_file = dir.join("text.txt");
    std::fs::write(&text_file, "some text to learn from, long enough.\n").unwrap();
    assert_refused(
        &dir,
        &[
            "train",
            &text_file.display().to_string(),
            "--stretch",
            "0.1",
        ],
        "--stretch is for series files",
    );
}
