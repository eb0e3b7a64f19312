//! Integration tests of the `micrornn` binary: the real executable, driven as a user would.
//!
//! Each bad input of issue 3 is a test: the command must fail with exit code 1 (not a panic's
//! 101, not a signal), print exactly one line on stderr that starts with `error: `, print nothing
//! on stdout, and leave every file in its directory as it was.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

#[path = "support/bomb.rs"]
mod bomb;
#[path = "common/cli_run.rs"]
mod cli_run;

use cli_run::{BIN, assert_refused_by, assert_success, run, scratch, stderr, stdout};

/// [`assert_refused_by`] the binary run in `dir` (the lines a command prints before it fails,
/// such as `train`'s announcement of the corpus, are allowed beside its one error line).
#[track_caller]
fn assert_refused(dir: &Path, args: &[&str], expected: &str) {
    assert_refused_by(run, dir, args, expected);
}

/// A small deterministic text with 20-odd distinct characters (the 32-character bucket).
fn small_corpus() -> String {
    let lines = [
        "the cat sat on the mat.",
        "a dog ran to the sun.",
        "we sang a song at noon.",
        "it is cold; go home now.",
    ];
    let mut text = String::new();
    for i in 0..120 {
        text.push_str(lines[(i * 7 + i / 3) % lines.len()]);
        text.push('\n');
    }
    text
}

/// Trains a small model `model.mrnn` (+ checkpoint and history) in `dir` on `corpus.txt`.
fn train_small(dir: &Path) {
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    let out = run(
        dir,
        &[
            "train",
            "corpus.txt",
            "--hidden",
            "32",
            "--iters",
            "300",
            "--sample-every",
            "100",
        ],
    );
    assert_success(&out);
}

/// Runs the binary in `dir` with at most `mib` MiB of address space (`ulimit -v`): a command that
/// tried to hold more (a whole 2 GiB file, an inflated bomb) would fail to allocate and abort.
fn run_within(mib: u64, dir: &Path, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mib * 1024))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("sh runs the micrornn binary")
}

#[test]
fn train_then_sample_then_eval() {
    let dir = scratch("roundtrip");
    train_small(&dir);
    for file in [
        "model.mrnn",
        "model.ckpt",
        "model.loss.csv",
        "model.loss.svg",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let csv = std::fs::read_to_string(dir.join("model.loss.csv")).unwrap();
    assert!(csv.starts_with("iteration,"));
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let svg = std::fs::read_to_string(dir.join("model.loss.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polyline"));

    let out = run(
        &dir,
        &[
            "sample",
            "model.mrnn",
            "--len",
            "50",
            "--prime",
            "the ",
            "--seed",
            "3",
        ],
    );
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.starts_with("the "), "{text}");
    assert_eq!(text.trim_end_matches('\n').chars().count(), 54, "{text:?}");
    // Same seed, same text; greedy and top-k work.
    assert_eq!(
        stdout(&run(
            &dir,
            &[
                "sample",
                "model.mrnn",
                "--len",
                "50",
                "--prime",
                "the ",
                "--seed",
                "3"
            ]
        )),
        text
    );
    let out = run(
        &dir,
        &[
            "sample",
            "model.mrnn",
            "--temperature",
            "0",
            "--top-k",
            "3",
            "--len",
            "30",
        ],
    );
    assert_success(&out);

    let out = run(&dir, &["eval", "model.mrnn", "corpus.txt"]);
    assert_success(&out);
    assert!(stdout(&out).contains("nats/char"), "{}", stdout(&out));
    let out = run(&dir, &["eval", "model.mrnn", "corpus.txt", "--json"]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let nats = json["nats_per_char"].as_f64().unwrap();
    let bits = json["bits_per_char"].as_f64().unwrap();
    assert!(nats > 0.0 && nats < (20f64).ln(), "{json}");
    assert!((bits - nats / std::f64::consts::LN_2).abs() < 1e-9);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn json_prints_one_object_and_nothing_else() {
    let dir = scratch("json");
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    let out = run(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--hidden",
            "32",
            "--iters",
            "120",
            "--sample-every",
            "50",
            "--json",
        ],
    );
    assert_success(&out);
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "stdout: {text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for field in [
        "iterations",
        "chars",
        "seconds",
        "chars_per_sec",
        "smooth_loss",
        "val_loss_per_char",
        "val_bits_per_char",
        "hidden",
        "vocab",
    ] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    assert_eq!(json["iterations"], 120);
    assert_eq!(json["chars"], 120 * 25);
    assert_eq!(json["hidden"], 32);
    assert_eq!(json["vocab"], 20);
    assert!(json["val_loss_per_char"].as_f64().unwrap() > 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn resume_is_bit_identical_to_one_run() {
    let dir = scratch("resume");
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    let common = [
        "train",
        "corpus.txt",
        "--hidden",
        "32",
        "--sample-every",
        "100",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        common.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let run_owned = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&dir, &args);
        assert_success(&out);
    };
    // Adam with a per-epoch learning-rate decay: the split falls in the second of three epochs.
    for (optimizer, decay) in [("adagrad", "1"), ("adam", "0.8")] {
        run_owned(with(&[
            "--optimizer",
            optimizer,
            "--lr-decay",
            decay,
            "--iters",
            "300",
            "--out",
            "one.mrnn",
        ]));
        run_owned(with(&[
            "--optimizer",
            optimizer,
            "--lr-decay",
            decay,
            "--iters",
            "130",
            "--out",
            "two.mrnn",
        ]));
        // Resume takes the settings from the checkpoint.
        run_owned(with(&[
            "--iters", "170", "--resume", "two.ckpt", "--out", "two.mrnn",
        ]));
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        assert!(
            read("one.mrnn") == read("two.mrnn"),
            "{optimizer}: model files differ"
        );
        assert!(
            read("one.ckpt") == read("two.ckpt"),
            "{optimizer}: checkpoints differ"
        );
    }
    // The resumed history continues the first part's.
    let csv = std::fs::read_to_string(dir.join("two.loss.csv")).unwrap();
    let iterations: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(iterations, ["100", "130", "200", "300"], "{csv}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_saves_the_model_and_a_checkpoint() {
    let dir = scratch("ctrlc");
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    let mut child = Command::new(BIN)
        .args(["train", "corpus.txt", "--hidden", "32", "--time", "120"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training has started (the handler is installed before that line).
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let started = lines
        .by_ref()
        .take(2)
        .any(|l| l.map(|l| l.starts_with("model: hidden")).unwrap_or(false));
    assert!(started, "training did not start");
    std::thread::sleep(Duration::from_millis(300));
    // The shell's built-in `kill`, so no procps package is needed.
    let status = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        assert!(Instant::now() < deadline, "no exit after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(130), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("--resume")), "{rest:?}");
    assert!(dir.join("model.mrnn").is_file());
    assert!(dir.join("model.ckpt").is_file());
    // The checkpoint resumes.
    let out = run(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--resume",
            "model.ckpt",
            "--iters",
            "10",
        ],
    );
    assert_success(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_corpus_files_are_refused() {
    let dir = scratch("bad-corpus");
    std::fs::write(
        dir.join("model.mrnn"),
        b"an earlier model, not to be touched",
    )
    .unwrap();
    std::fs::create_dir(dir.join("folder")).unwrap();
    std::fs::write(dir.join("empty.txt"), b"").unwrap();
    std::fs::write(dir.join("short.txt"), b"too short for 25").unwrap();
    std::fs::write(dir.join("latin1.txt"), b"caf\xe9 au lait\n").unwrap();
    let wide: String = (0..300u32)
        .map(|i| char::from_u32(0x100 + i).unwrap())
        .collect();
    std::fs::write(dir.join("wide.txt"), wide).unwrap();
    std::fs::write(dir.join("ok.txt"), small_corpus()).unwrap();

    assert_refused(&dir, &["train", "missing.txt"], "missing.txt");
    assert_refused(&dir, &["train", "folder"], "folder");
    assert_refused(&dir, &["train", "empty.txt"], "empty");
    assert_refused(&dir, &["train", "short.txt"], "needs at least 26");
    assert_refused(
        &dir,
        &["train", "ok.txt", "--val-fraction", "0.999"],
        "needs at least 26",
    );
    assert_refused(&dir, &["train", "latin1.txt"], "UTF-8");
    assert_refused(&dir, &["train", "wide.txt"], "256");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `MICRORNN_KERNELS` picks the kernel table (the JSON summary names it); an unknown name is
/// refused before anything runs.
#[test]
fn kernels_variable_chooses_the_table() {
    let dir = scratch("kernels-variable");
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    let train = |kernels: &str| {
        Command::new(BIN)
            .args(["train", "corpus.txt", "--hidden", "32", "--iters", "20"])
            .args(["--sample-every", "0", "--json"])
            .env("MICRORNN_KERNELS", kernels)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .output()
            .expect("the micrornn binary runs")
    };
    for table in ["scalar", "sse2"] {
        let out = train(table);
        assert_success(&out);
        let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(json["kernels"], table);
    }
    let out = train("avx3");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error: MICRORNN_KERNELS=avx3: "),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_settings_and_paths_are_refused() {
    let dir = scratch("bad-settings");
    std::fs::write(dir.join("ok.txt"), small_corpus()).unwrap();
    assert_refused(
        &dir,
        &["train", "ok.txt", "--hidden", "200"],
        "not compiled in",
    );
    assert_refused(
        &dir,
        &["train", "ok.txt", "--out", "no/such/dir/m.mrnn"],
        "does not exist",
    );
    assert_refused(
        &dir,
        &["train", "ok.txt", "--checkpoint", "nowhere/c.ckpt"],
        "does not exist",
    );
    assert_refused(&dir, &["train", "ok.txt", "--lr=-1"], "--lr");
    assert_refused(&dir, &["train", "ok.txt", "--seq-len", "0"], "--seq-len");
    assert_refused(
        &dir,
        &["train", "ok.txt", "--lr-decay", "1.5"],
        "--lr-decay",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_model_files_are_refused() {
    let dir = scratch("bad-model");
    train_small(&dir);
    let model = std::fs::read(dir.join("model.mrnn")).unwrap();
    std::fs::write(dir.join("truncated.mrnn"), &model[..model.len() / 2]).unwrap();
    let mut flipped = model.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x04;
    std::fs::write(dir.join("flipped.mrnn"), &flipped).unwrap();
    std::fs::write(dir.join("text.mrnn"), small_corpus()).unwrap();

    for (file, expected) in [
        ("truncated.mrnn", "truncated"),
        ("flipped.mrnn", "checksum"),
        ("text.mrnn", "not a micrornn model"),
        ("missing.mrnn", "missing.mrnn"),
        ("model.ckpt", "checkpoint"),
    ] {
        assert_refused(&dir, &["sample", file], expected);
        assert_refused(&dir, &["eval", file, "corpus.txt"], expected);
    }
    assert_refused(
        &dir,
        &["sample", "model.mrnn", "--prime", "the Zebra"],
        "'Z' is not in the model's vocabulary",
    );
    assert_refused(
        &dir,
        &["sample", "model.mrnn", "--temperature=-1"],
        "temperature",
    );
    std::fs::write(dir.join("other.txt"), "the cat sat on the mat; Zebra").unwrap();
    assert_refused(
        &dir,
        &["eval", "model.mrnn", "other.txt"],
        "'Z' (line 1, column 25)",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn checkpoint_from_other_settings_is_refused() {
    let dir = scratch("bad-checkpoint");
    train_small(&dir);
    std::fs::write(dir.join("other.txt"), small_corpus().replace("cat", "bat")).unwrap();
    let resume = [
        "train",
        "corpus.txt",
        "--resume",
        "model.ckpt",
        "--iters",
        "5",
    ];
    let with =
        |extra: &[&'static str]| -> Vec<&str> { resume.iter().chain(extra).copied().collect() };
    assert_refused(&dir, &with(&["--hidden", "64"]), "--hidden 32, not 64");
    assert_refused(&dir, &with(&["--seq-len", "20"]), "--seq-len 25, not 20");
    assert_refused(
        &dir,
        &with(&["--optimizer", "adam"]),
        "--optimizer adagrad, not adam",
    );
    assert_refused(&dir, &with(&["--lr", "0.05"]), "--lr");
    assert_refused(&dir, &with(&["--lr-decay", "0.9"]), "--lr-decay 1, not 0.9");
    assert_refused(
        &dir,
        &["train", "other.txt", "--resume", "model.ckpt"],
        "another corpus",
    );
    assert_refused(
        &dir,
        &["train", "corpus.txt", "--resume", "corpus.txt"],
        "not a micrornn checkpoint",
    );
    let mut damaged = std::fs::read(dir.join("model.ckpt")).unwrap();
    let at = damaged.len() / 3;
    damaged[at] ^= 1;
    std::fs::write(dir.join("damaged.ckpt"), damaged).unwrap();
    assert_refused(
        &dir,
        &["train", "corpus.txt", "--resume", "damaged.ckpt"],
        "damaged",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn divergence_stops_and_keeps_the_last_good_checkpoint() {
    let dir = scratch("nan");
    train_small(&dir);
    // Resuming with a sane run leaves a good checkpoint; an absurd learning rate in a new run
    // into the same files must not replace any of them.
    assert_refused(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--hidden",
            "32",
            "--optimizer",
            "sgd",
            "--lr",
            "1e38",
            "--clip",
            "0",
            "--iters",
            "50",
        ],
        "NaN or infinite",
    );
    // Diverging after a resume names the checkpoint it resumed from as the last good one.
    let out = run(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--hidden",
            "32",
            "--optimizer",
            "sgd",
            "--lr",
            "1e38",
            "--clip",
            "0",
            "--iters",
            "0",
            "--out",
            "sgd.mrnn",
        ],
    );
    assert_success(&out);
    assert_refused(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--resume",
            "sgd.ckpt",
            "--out",
            "sgd.mrnn",
        ],
        "last good checkpoint sgd.ckpt (iteration 0)",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `../shared/data/tinyshakespeare.txt`, or `None` (with a message) when it is absent outside CI.
fn tinyshakespeare() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tinyshakespeare.txt");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing in CI",
        path.display()
    );
    eprintln!("skipped: {} is absent", path.display());
    None
}

#[test]
fn learns_tinyshakespeare() {
    let Some(path) = tinyshakespeare() else {
        return;
    };
    let dir = scratch("shakespeare");
    let out = run(
        &dir,
        &[
            "train",
            path.to_str().unwrap(),
            "--hidden",
            "64",
            "--iters",
            "1500",
            "--json",
        ],
    );
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["vocab"], 65);
    let val = json["val_loss_per_char"].as_f64().unwrap();
    // Uniform guessing is ln 65 = 4.17 nats/char; 1500 chunks already get well below 3.
    assert!(val < 3.0, "validation loss {val}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `eval --json` on `file`, with extra arguments: nats per char.
fn eval_nats(dir: &Path, model: &str, file: &str, extra: &[&str]) -> f64 {
    let mut args = vec!["eval", model, file, "--json"];
    args.extend_from_slice(extra);
    let out = run(dir, &args);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    json["nats_per_char"].as_f64().unwrap()
}

#[test]
fn the_model_file_stores_the_carried_state_and_eval_reproduces_the_validation_loss() {
    let dir = scratch("carried-state");
    let corpus = small_corpus();
    std::fs::write(dir.join("corpus.txt"), &corpus).unwrap();
    let args = [
        "train",
        "corpus.txt",
        "--hidden",
        "32",
        "--iters",
        "400",
        "--sample-every",
        "0",
        "--json",
    ];
    let out = run(&dir, &args);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let trained_val = json["val_loss_per_char"].as_f64().unwrap();

    // The file says what it was trained on; its metadata gives the validation split.
    let bytes = std::fs::read(dir.join("model.mrnn")).unwrap();
    let mut model = Box::new(micrornn::Rnn::<32, 32, 32>::ZERO);
    let mut vocab = micrornn::CharVocab::<32>::new();
    let mut hidden = [0.0f32; 32];
    let decoded =
        micrornn::format::decode_contents(&bytes, &mut *model, &mut vocab, &mut hidden).unwrap();
    assert_eq!(decoded.header.version, 2);
    assert!(
        hidden.iter().any(|&h| h != 0.0),
        "the carried state is stored"
    );
    let metadata = decoded.metadata;
    assert_eq!(metadata.get("hidden"), Some("32"));
    assert_eq!(metadata.get("optimizer"), Some("adagrad"));
    assert_eq!(metadata.get("iterations"), Some("400"));
    let train_chars: usize = metadata.get("train_chars").unwrap().parse().unwrap();
    let val_text: String = corpus.chars().skip(train_chars).collect();
    std::fs::write(dir.join("val.txt"), &val_text).unwrap();

    // Same state, same text: the same loss as printed at the end of training.
    let eval_val = eval_nats(&dir, "model.mrnn", "val.txt", &[]);
    assert!(
        (eval_val - trained_val).abs() <= 1e-4,
        "eval {eval_val} vs training's validation {trained_val}"
    );
    let stored: f64 = metadata.get("val_loss_per_char").unwrap().parse().unwrap();
    assert!((stored - trained_val).abs() <= 1e-6);
    // --zero-state is the old behaviour: another start, another loss.
    let zero = eval_nats(&dir, "model.mrnn", "val.txt", &["--zero-state"]);
    assert!(
        (zero - eval_val).abs() > 1e-6,
        "zero state {zero} vs stored {eval_val}"
    );

    // Sampling starts from the stored state too: greedy text differs from the zero state's
    // unless the two states lead to the same characters, and both succeed.
    let greedy = |extra: &[&str]| {
        let mut args = vec!["sample", "model.mrnn", "--temperature", "0", "--len", "60"];
        args.extend_from_slice(extra);
        let out = run(&dir, &args);
        assert_success(&out);
        stdout(&out)
    };
    let from_stored = greedy(&[]);
    assert_eq!(from_stored, greedy(&[]), "greedy sampling is deterministic");
    assert_eq!(from_stored.trim_end().chars().count(), 60);
    assert!(greedy(&["--zero-state"]).trim_end().chars().count() == 60);
}

/// The validation column of a loss history, as (iteration, loss) pairs.
fn history_val(dir: &Path, csv: &str) -> Vec<(u64, f64)> {
    std::fs::read_to_string(dir.join(csv))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let val = fields.last()?.parse().ok()?;
            Some((fields[0].parse().unwrap(), val))
        })
        .collect()
}

#[test]
fn keep_best_saves_the_best_validated_model_and_resumes_to_the_same_file() {
    let dir = scratch("keep-best");
    let corpus = small_corpus();
    std::fs::write(dir.join("corpus.txt"), &corpus).unwrap();
    // A learning rate so high that the validation loss goes up and down: the last model is
    // not the best one.
    let common = [
        "train",
        "corpus.txt",
        "--hidden",
        "32",
        "--optimizer",
        "adam",
        "--lr",
        "0.1",
        "--sample-every",
        "20",
        "--keep-best",
        "--json",
    ];
    let train = |extra: &[&str]| -> serde_json::Value {
        let args: Vec<&str> = common.iter().chain(extra).copied().collect();
        let out = run(&dir, &args);
        assert_success(&out);
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let json = train(&["--iters", "300", "--out", "one.mrnn"]);
    assert_eq!(json["keep_best"], true);
    let best = json["best_val_loss_per_char"].as_f64().unwrap();
    let best_iteration = json["best_iteration"].as_u64().unwrap();
    let last = json["val_loss_per_char"].as_f64().unwrap();

    // The history scored the whole validation text at every --sample-every and at the end; the
    // kept model is its lowest row, and the last model was worse.
    let scored = history_val(&dir, "one.loss.csv");
    assert_eq!(scored.len(), 300 / 20, "{scored:?}");
    let lowest = scored
        .iter()
        .copied()
        .fold((0, f64::INFINITY), |a, b| if b.1 < a.1 { b } else { a });
    assert_eq!(lowest, (best_iteration, best), "{scored:?}");
    assert_eq!(scored.last().map(|r| r.0), Some(300));
    assert!(
        last > best,
        "the last model ({last}) is the best ({best}): no choice was made"
    );

    // The file is the kept model: its metadata, and `eval` on the validation text reproduces it.
    let bytes = std::fs::read(dir.join("one.mrnn")).unwrap();
    let mut model = Box::new(micrornn::Rnn::<32, 32, 32>::ZERO);
    let mut vocab = micrornn::CharVocab::<32>::new();
    let mut hidden = [0.0f32; 32];
    let metadata = micrornn::format::decode_contents(&bytes, &mut *model, &mut vocab, &mut hidden)
        .unwrap()
        .metadata;
    assert_eq!(
        metadata.get("iterations"),
        Some(best_iteration.to_string().as_str())
    );
    let train_chars: usize = metadata.get("train_chars").unwrap().parse().unwrap();
    let val_text: String = corpus.chars().skip(train_chars).collect();
    std::fs::write(dir.join("val.txt"), &val_text).unwrap();
    let eval_val = eval_nats(&dir, "one.mrnn", "val.txt", &[]);
    assert!(
        (eval_val - best).abs() <= 1e-4,
        "eval {eval_val} vs the kept model's validation {best}"
    );

    // Stopped and resumed on either side of the best, it keeps the same model and checkpoint.
    train(&["--iters", "130", "--out", "two.mrnn"]);
    let resumed = train(&[
        "--iters", "170", "--resume", "two.ckpt", "--out", "two.mrnn",
    ]);
    assert_eq!(resumed["best_iteration"], json["best_iteration"]);
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert!(read("one.mrnn") == read("two.mrnn"), "model files differ");
    assert!(read("one.ckpt") == read("two.ckpt"), "checkpoints differ");
    // The checkpoint keeps the setting: a run without it does not resume as one with it.
    let plain = [
        "train",
        "corpus.txt",
        "--hidden",
        "32",
        "--iters",
        "20",
        "--out",
        "plain.mrnn",
    ];
    assert_success(&run(&dir, &plain));
    assert_refused(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--resume",
            "plain.ckpt",
            "--keep-best",
        ],
        "--keep-best",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

#[test]
fn import_export_round_trip_keeps_the_model_and_bad_weights_are_refused() {
    let dir = scratch("import-export");
    train_small(&dir);
    assert_success(&run(
        &dir,
        &["export", "model.mrnn", "--out", "model.safetensors"],
    ));
    // The live sizes: nn.RNN(len(vocab), 32) and nn.Linear(32, len(vocab)).
    let exported = std::fs::read(dir.join("model.safetensors")).unwrap();
    let file = safetensors::SafeTensors::deserialize(&exported).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&exported).unwrap();
    let metadata = metadata.metadata().clone().unwrap();
    let vocab: Vec<String> = serde_json::from_str(&metadata["micrornn_vocab"]).unwrap();
    let v = vocab.len();
    assert!(v < 32, "a corpus smaller than its bucket");
    assert_eq!(file.tensor("rnn.weight_ih_l0").unwrap().shape(), [32, v]);
    assert_eq!(file.tensor("linear.weight").unwrap().shape(), [v, 32]);
    assert_eq!(metadata["micrornn_classes"], v.to_string());
    let hidden: Vec<f32> = serde_json::from_str(&metadata["micrornn_initial_hidden"]).unwrap();
    assert_eq!(hidden.len(), 32);
    assert_eq!(metadata["nonlinearity"], "tanh");
    assert_success(&run(
        &dir,
        &["import", "model.safetensors", "--out", "again.mrnn"],
    ));
    // The same model (its padded rows, which no input or class reaches, are now zeros): the
    // same loss, from the same stored initial state, to the last bit printed.
    assert_eq!(
        eval_nats(&dir, "again.mrnn", "corpus.txt", &[]),
        eval_nats(&dir, "model.mrnn", "corpus.txt", &[])
    );
    assert_success(&run(
        &dir,
        &["export", "again.mrnn", "--out", "again.safetensors"],
    ));
    let again = std::fs::read(dir.join("again.safetensors")).unwrap();
    let (_, again_metadata) = safetensors::SafeTensors::read_metadata(&again).unwrap();
    assert_eq!(again_metadata.metadata().clone().unwrap(), metadata);
    let again = safetensors::SafeTensors::deserialize(&again).unwrap();
    for (name, tensor) in file.tensors() {
        let other = again.tensor(&name).unwrap();
        assert_eq!(
            (other.shape(), other.data()),
            (tensor.shape(), tensor.data()),
            "{name}"
        );
    }

    // A .pt state dict with first-appearance ids and no recorded nonlinearity: the framework's
    // loss (tests/fixtures/interop/expected.json) once --nonlinearity tanh is given.
    let interop = format!("{FIXTURES}interop/");
    let (pt, order) = (
        format!("{interop}torch_onehot.pt"),
        format!("{interop}vocab.json"),
    );
    let text = format!("{interop}text.txt");
    let import_pt = |extra: &[&str]| {
        let mut args = vec![
            "import",
            pt.as_str(),
            "--vocab",
            order.as_str(),
            "--out",
            "pt.mrnn",
        ];
        args.extend_from_slice(extra);
        run(&dir, &args)
    };
    assert_refused(
        &dir,
        &["import", &pt, "--vocab", &order, "--out", "pt.mrnn"],
        "pass --nonlinearity tanh",
    );
    let out = import_pt(&["--nonlinearity", "tanh"]);
    assert_success(&out);
    assert!(
        stderr(&out).contains("renumbered from the model's order"),
        "{}",
        stderr(&out)
    );
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(format!("{interop}expected.json")).unwrap()).unwrap();
    let want = expected["torch_onehot"]["loss"].as_f64().unwrap();
    let got = eval_nats(&dir, "pt.mrnn", &text, &[]);
    assert!((got - want).abs() <= 1e-5, "{got} vs PyTorch's {want}");
    let relu = format!("{interop}torch_relu.safetensors");
    for (extra, expected) in [
        (None, "does not record the RNN's nonlinearity"),
        (Some("relu"), "cannot run a relu RNN"),
    ] {
        let mut args = vec![
            "import",
            relu.as_str(),
            "--vocab",
            order.as_str(),
            "--out",
            "r.mrnn",
        ];
        args.extend(extra.map(|e| ["--nonlinearity", e]).into_iter().flatten());
        assert_refused(&dir, &args, expected);
    }

    // A PyTorch fixture imports, samples and evaluates like any model.
    let weights = format!("{FIXTURES}torch_rnn.safetensors");
    let vocab = format!("{FIXTURES}torch_vocab.json");
    assert_success(&run(
        &dir,
        &["import", &weights, "--vocab", &vocab, "--out", "torch.mrnn"],
    ));
    let out = run(
        &dir,
        &["sample", "torch.mrnn", "--len", "20", "--seed", "1"],
    );
    assert_success(&out);
    assert!(
        stdout(&out)
            .trim_end()
            .chars()
            .all(|c| c == ' ' || c.is_ascii_lowercase())
    );
    let keras = format!("{FIXTURES}keras_rnn.safetensors");
    assert_success(&run(
        &dir,
        &["import", &keras, "--vocab", &vocab, "--out", "keras.mrnn"],
    ));

    std::fs::write(dir.join("words.json"), r#"["good", "bad"]"#).unwrap();
    std::fs::write(dir.join("unsorted.json"), r#"["b", "a"]"#).unwrap();
    std::fs::write(dir.join("short.json"), r#"["a", "b"]"#).unwrap();
    std::fs::write(dir.join("garbage.safetensors"), b"not a tensor file").unwrap();
    let torch = |vocab: &str| {
        vec![
            "import".to_string(),
            weights.clone(),
            "--vocab".into(),
            vocab.into(),
            "--out".into(),
            "x.mrnn".into(),
        ]
    };
    for (args, expected) in [
        (torch("words.json"), "is not one character"),
        (
            torch("unsorted.json"),
            "one output per character can be renumbered",
        ),
        (torch("short.json"), "does not fit a model of 20 inputs"),
        (torch("missing.json"), "--vocab missing.json"),
        (
            vec![
                "import".into(),
                weights.clone(),
                "--out".into(),
                "x.mrnn".into(),
            ],
            "--vocab VOCAB.json is needed",
        ),
        (
            vec![
                "import".into(),
                "garbage.safetensors".into(),
                "--out".into(),
                "x.mrnn".into(),
            ],
            "not a weights file micrornn reads",
        ),
        (
            vec![
                "import".into(),
                "model.mrnn".into(),
                "--out".into(),
                "x.mrnn".into(),
            ],
            "micrornn model file, not weights to import",
        ),
        (
            vec![
                "export".into(),
                "garbage.safetensors".into(),
                "--out".into(),
                "x.safetensors".into(),
            ],
            "not a micrornn model",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_refused(&dir, &args, expected);
    }
}

#[test]
fn classify_reads_everything_from_the_file_and_refuses_what_it_cannot_use() {
    let dir = scratch("classify");
    let mut model = Box::new(micrornn::Rnn::<32, 32, 32>::ZERO);
    model.b_y[1] = 1.0; // always "yes", with probability e/(1+e)
    let contents = micrornn::format::Contents::<32>::classifier(&["a", "b"], &["no", "yes"]);
    micrornn::host::model_file::save_contents(&dir.join("c.mrnn"), &*model, &contents).unwrap();
    let out = run(&dir, &["classify", "c.mrnn", "a b a"]);
    assert_success(&out);
    let e = std::f64::consts::E;
    assert_eq!(stdout(&out).trim(), format!("yes {:.4}", e / (1.0 + e)));
    std::fs::write(
        dir.join("labelled.tsv"),
        "text\tlabel\na b\tyes\nb\tno\na\t1\n",
    )
    .unwrap();
    let out = run(&dir, &["eval", "c.mrnn", "labelled.tsv"]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("accuracy 0.6667 (2/3)"),
        "{}",
        stdout(&out)
    );

    train_small(&dir);
    std::fs::write(dir.join("bad.tsv"), "text\tlabel\na\tmaybe\n").unwrap();
    assert_refused(
        &dir,
        &["classify", "c.mrnn", "a c"],
        "word \"c\" is not in the model's vocabulary",
    );
    assert_refused(&dir, &["classify", "c.mrnn", "  "], "no words");
    assert_refused(
        &dir,
        &["classify", "model.mrnn", "a"],
        "is a language model, not a classifier",
    );
    assert_refused(&dir, &["sample", "c.mrnn"], "is a classifier");
    assert_refused(
        &dir,
        &["eval", "c.mrnn", "bad.tsv"],
        "label \"maybe\" is not a class",
    );
}

/// In `dir` (holding `corpus.txt`): a `--batch 16` run of the cell `cell` (with the options
/// `extra`) stopped at 13 of 30 iterations and resumed from its checkpoint on another number of
/// threads gives the model file and checkpoint of one uninterrupted run, byte for byte.
fn assert_batched_resume_is_bit_identical(dir: &Path, cell: &str, extra: &[&str]) {
    let common = [
        "train",
        "corpus.txt",
        "--cell",
        cell,
        "--hidden",
        "32",
        "--batch",
        "16",
        "--optimizer",
        "adam",
        "--sample-every",
        "10",
    ];
    let run_with = |more: &[&str]| {
        let args: Vec<&str> = common.iter().chain(extra).chain(more).copied().collect();
        assert_success(&run(dir, &args));
    };
    run_with(&["--iters", "30", "--threads", "1", "--out", "one.mrnn"]);
    run_with(&["--iters", "13", "--threads", "2", "--out", "two.mrnn"]);
    let resume = ["train", "corpus.txt", "--threads", "2", "--iters", "17"];
    let args: Vec<&str> = resume
        .iter()
        .chain(&["--resume", "two.ckpt", "--out", "two.mrnn"])
        .copied()
        .collect();
    assert_success(&run(dir, &args));
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert!(
        read("one.mrnn") == read("two.mrnn"),
        "{cell}: model files differ"
    );
    assert!(
        read("one.ckpt") == read("two.ckpt"),
        "{cell}: checkpoints differ"
    );
}

/// A mini-batch run resumed from its checkpoint (on another number of threads) is bit-identical
/// to one run; impossible batch settings are refused.
#[test]
fn batched_resume_is_bit_identical_to_one_run() {
    let dir = scratch("batch-resume");
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    assert_batched_resume_is_bit_identical(&dir, "elman", &[]);
    // With dropout: the masks of the resumed updates are the ones one run draws.
    let dropout = dir.join("dropout");
    std::fs::create_dir_all(&dropout).unwrap();
    std::fs::write(dropout.join("corpus.txt"), small_corpus()).unwrap();
    assert_batched_resume_is_bit_identical(&dropout, "elman", &["--dropout", "0.3"]);
    let read = |path: PathBuf| std::fs::read(path).unwrap();
    assert!(
        read(dir.join("one.mrnn")) != read(dropout.join("one.mrnn")),
        "dropout did not change the model"
    );
    let args = [
        "train",
        "corpus.txt",
        "--batch",
        "16",
        "--iters",
        "3",
        "--dropout",
        "0.25",
        "--out",
        "j.mrnn",
        "--json",
    ];
    let out = run(&dropout, &args);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["dropout"], 0.25);
    assert_refused(
        &dir,
        &["train", "corpus.txt", "--dropout", "0.2"],
        "--batch",
    );
    for rate in ["--dropout=1", "--dropout=-0.1", "--dropout=NaN"] {
        assert_refused(
            &dir,
            &["train", "corpus.txt", "--batch", "16", rate],
            "--dropout",
        );
    }
    assert_refused(
        &dropout,
        &[
            "train",
            "corpus.txt",
            "--resume",
            "two.ckpt",
            "--dropout",
            "0.1",
        ],
        "--dropout",
    );

    assert_refused(&dir, &["train", "corpus.txt", "--batch", "12"], "--batch");
    assert_refused(
        &dir,
        &["train", "corpus.txt", "--batch", "16", "--bptt-window", "5"],
        "--bptt-window",
    );
    assert_refused(&dir, &["train", "corpus.txt", "--batch", "256"], "streams");
    assert_refused(
        &dir,
        &["train", "corpus.txt", "--threads", "0"],
        "--threads",
    );
    assert_refused(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--batch",
            "8",
            "--resume",
            "two.ckpt",
        ],
        "--batch 16, not 8",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 20: untrusted files cannot take the machine down. Every command runs with 256 MiB of
/// address space: the `.npz` bomb (3 GiB declared per entry, 256 MiB of real zeros each), 2 GiB
/// files that are not models or checkpoints, and 2 GiB files that start like one, are refused
/// with the usual one-line error naming the file and declared against possible sizes.
#[test]
fn untrusted_files_are_refused_with_bounded_memory() {
    let dir = scratch("untrusted");
    train_small(&dir);
    // The 2 GiB files live beside `dir`, so the snapshot of `dir` does not read them.
    let big = scratch("untrusted-big");
    let text = big.join("text.bin");
    bomb::sparse_2gib(&text, b"not a model, then zeros");
    let model_head = &std::fs::read(dir.join("model.mrnn")).unwrap()[..48];
    let like_a_model = big.join("model.mrnn");
    bomb::sparse_2gib(&like_a_model, model_head);
    let like_a_checkpoint = big.join("model.ckpt");
    bomb::sparse_2gib(
        &like_a_checkpoint,
        &std::fs::read(dir.join("model.ckpt")).unwrap()[..8],
    );
    let (text, like_a_model, like_a_checkpoint) = (
        text.to_str().unwrap(),
        like_a_model.to_str().unwrap(),
        like_a_checkpoint.to_str().unwrap(),
    );
    let bounded = |dir: &Path, args: &[&str]| run_within(256, dir, args);
    // The limit leaves room for real work.
    assert_success(&bounded(
        &dir,
        &["sample", "model.mrnn", "--len", "10", "--seed", "1"],
    ));

    let size = 2u64 << 30;
    let too_long = format!("{size} bytes, longer than any model this build loads");
    for args in [
        vec!["sample", text],
        vec!["eval", text, "corpus.txt"],
        vec!["quantize", text, "--out", "q.mrnn"],
        vec!["export", text, "--out", "x.safetensors"],
        vec!["classify", text, "a b"],
    ] {
        assert_refused_by(bounded, &dir, &args, "not a micrornn model");
    }
    for args in [
        vec!["sample", like_a_model],
        vec!["quantize", like_a_model, "--out", "q.mrnn"],
    ] {
        assert_refused_by(bounded, &dir, &args, &too_long);
    }
    let resume = |checkpoint| {
        vec![
            "train",
            "corpus.txt",
            "--resume",
            checkpoint,
            "--iters",
            "1",
        ]
    };
    assert_refused_by(bounded, &dir, &resume(text), "not a micrornn checkpoint");
    assert_refused_by(
        bounded,
        &dir,
        &resume(like_a_checkpoint),
        &format!("{size} bytes, longer than any checkpoint this build resumes"),
    );
    assert_refused_by(
        bounded,
        &dir,
        &["import", text, "--out", "x.mrnn"],
        &format!("{size} bytes, more than the largest this build can use"),
    );

    std::fs::write(big.join("bomb.npz"), bomb::npz_bomb(256 << 20)).unwrap();
    std::fs::write(dir.join("vocab.json"), r#"["a", "b"]"#).unwrap();
    let bomb = big.join("bomb.npz");
    assert_refused_by(
        bounded,
        &dir,
        &[
            "import",
            bomb.to_str().unwrap(),
            "--vocab",
            "vocab.json",
            "--out",
            "x.mrnn",
        ],
        "tensor rnn.weight_ih_l0: shape [805306368] <f4 declares 3221225472 bytes; the largest tensor \
         this build can import has 6291456",
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&big);
}

/// Issue 21, findings 4 and 6: a text shorter than two chunks trains on its first chunk only,
/// and the run says so; every run names the Rust type a firmware declares for its model.
#[test]
fn a_short_text_warns_what_is_trained_and_the_firmware_type_is_printed() {
    let dir = scratch("short");
    // 45 characters, seq-len 25: one chunk (26 characters) per pass, 19 never trained.
    let line = "hope is the thing with feathers, it perches.\n";
    assert_eq!(line.len(), 45);
    std::fs::write(dir.join("line.txt"), line).unwrap();
    let args = [
        "train",
        "line.txt",
        "--hidden",
        "32",
        "--iters",
        "5",
        "--val-fraction",
        "0",
        "--sample-every",
        "0",
    ];
    let out = run(&dir, &args);
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("warning: each pass trains on the first 26 of the 45 training characters")
            && err.contains("the last 19 are never trained"),
        "{err}"
    );
    assert!(
        err.contains("firmware type: Rnn<32, 32, 32> (18 symbols padded to the bucket of 32"),
        "{err}"
    );
    // The same line four times over: 175 of 179 targets trained, no warning.
    std::fs::write(dir.join("line.txt"), line.repeat(4)).unwrap();
    let out = run(&dir, &args);
    assert_success(&out);
    assert!(
        !stderr(&out).contains("warning: each pass"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `train --cell gru` trains a GRU language model; `sample` and `eval` read the cell from the
/// file; a run stopped and resumed from its checkpoint (which records the cell) gives the same
/// model and checkpoint, bit for bit, as one run, with one stream and with a batch on threads;
/// the checkpoint refuses another `--cell`, and a shape not compiled for the GRU is refused by
/// name.
#[test]
fn a_gru_language_model_trains_samples_evaluates_and_resumes_bit_exactly() {
    let dir = scratch("gru-train");
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    let common = [
        "train",
        "corpus.txt",
        "--cell",
        "gru",
        "--hidden",
        "32",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--sample-every",
        "100",
    ];
    let train = |extra: &[&str]| {
        let args: Vec<&str> = common.iter().chain(extra).copied().collect();
        let out = run(&dir, &args);
        assert_success(&out);
        out
    };
    let one = train(&["--iters", "300", "--out", "one.mrnn", "--json"]);
    let summary: serde_json::Value = serde_json::from_str(stdout(&one).trim()).unwrap();
    let val = summary["val_loss_per_char"].as_f64().unwrap();
    // 20-odd characters: a uniform guess is ln 24 ≈ 3.2 nats; the GRU learns the four lines.
    assert!(val < 1.5, "GRU validation loss {val} nats/char");
    train(&["--iters", "130", "--out", "two.mrnn"]);
    let resumed = run(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--iters",
            "170",
            "--resume",
            "two.ckpt",
            "--out",
            "two.mrnn",
        ],
    );
    assert_success(&resumed);
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert!(read("one.mrnn") == read("two.mrnn"), "model files differ");
    assert!(read("one.ckpt") == read("two.ckpt"), "checkpoints differ");

    let sample = run(&dir, &["sample", "one.mrnn", "--len", "60", "--seed", "3"]);
    assert_success(&sample);
    assert!(
        stdout(&sample).trim_end().chars().count() >= 50,
        "{}",
        stdout(&sample)
    );
    let eval = run(&dir, &["eval", "one.mrnn", "corpus.txt", "--json"]);
    assert_success(&eval);
    let eval: serde_json::Value = serde_json::from_str(stdout(&eval).trim()).unwrap();
    let nats = eval["nats_per_char"].as_f64().unwrap();
    assert!(
        nats < 1.5,
        "eval of the GRU on its corpus: {nats} nats/char"
    );

    assert_refused(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--cell",
            "elman",
            "--resume",
            "one.ckpt",
        ],
        "was made with --cell gru, not elman",
    );
    // Batched (`--batch 16`, threads): resumed, bit-identical to one run.
    let batched = dir.join("batched");
    std::fs::create_dir_all(&batched).unwrap();
    std::fs::write(batched.join("corpus.txt"), small_corpus()).unwrap();
    assert_batched_resume_is_bit_identical(&batched, "gru", &["--dropout", "0.2"]);
    // The GRU is compiled for fewer shapes than the Elman cell (the binary's build time).
    assert_refused(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--cell",
            "gru",
            "--hidden",
            "512",
            "--iters",
            "1",
        ],
        "--hidden 512 is not compiled in for --cell gru; choose one of 32, 64, 100, 128, 256",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An Elman checkpoint written by a build from before the GRU (flags without the cell bit, the
/// optimizer memory in the Elman tensor order) resumes, and finishes the run exactly as that
/// build did without stopping (`tests/fixtures/elman-adam-*-older-build.*`: `small_corpus`,
/// hidden 32, Adam, 130 iterations of 300 in the checkpoint, the model after 300).
#[test]
fn an_elman_checkpoint_from_an_older_build_resumes_bit_exactly() {
    let dir = scratch("old-checkpoint");
    std::fs::write(dir.join("corpus.txt"), small_corpus()).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    std::fs::copy(
        fixtures.join("elman-adam-130-older-build.ckpt"),
        dir.join("old.ckpt"),
    )
    .unwrap();
    let out = run(
        &dir,
        &[
            "train",
            "corpus.txt",
            "--iters",
            "170",
            "--resume",
            "old.ckpt",
            "--out",
            "new.mrnn",
        ],
    );
    assert_success(&out);
    let expected = std::fs::read(fixtures.join("elman-adam-300-older-build.mrnn")).unwrap();
    let resumed = std::fs::read(dir.join("new.mrnn")).unwrap();
    // The fixtures were written with the AVX-512 kernels: with those the run is the older
    // build's byte for byte; another table (the force-scalar suite, an AVX2 machine) rounds
    // differently, so there the resumed model must only stay next to it (a checkpoint read in
    // the wrong order, or not at all, lands far away).
    if micrornn::kernels::active().name == "avx512f" {
        assert!(
            resumed == expected,
            "the resumed model differs from the older build's uninterrupted run"
        );
    } else {
        let parameters = |bytes: &[u8]| {
            let mut model = Box::new(micrornn::Rnn::<32, 32, 32>::ZERO);
            let (mut vocab, mut hidden) = (micrornn::CharVocab::<32>::new(), [0.0f32; 32]);
            micrornn::format::decode_contents(bytes, &mut *model, &mut vocab, &mut hidden).unwrap();
            model
                .tensors()
                .iter()
                .flat_map(|t| t.to_vec())
                .collect::<Vec<f32>>()
        };
        let (resumed, expected) = (parameters(&resumed), parameters(&expected));
        let worst = resumed
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst < 1e-3,
            "the resumed model is {worst} away from the older build's"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
