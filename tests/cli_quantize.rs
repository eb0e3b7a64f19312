//! `micrornn quantize` and `sample`/`eval` on quantized files, driven as a user would: the
//! committed deploy model in, a quantized file out; bad inputs fail with exit code 1 and one
//! `error: ` line, and leave no output file.

use std::path::{Path, PathBuf};
use std::process::Output;

#[path = "common/cli_run.rs"]
mod cli_run;
use cli_run::{run, scratch, stderr, stdout};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                    And sings the tune without the words and never stops at all. ";

#[track_caller]
fn assert_fails_cleanly(out: &Output, mentions: &str) {
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(mentions),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

fn float_model() -> String {
    format!("{ROOT}/examples/firmware/models/poem-h32.mrnn")
}

#[test]
fn quantize_writes_the_committed_deploy_file_and_sample_eval_read_it() {
    let dir = scratch("roundtrip");
    let out = run(&dir, &["quantize", &float_model(), "--out", "poem.q8"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let float_bytes = std::fs::metadata(float_model()).expect("float model").len();
    assert!(
        stdout(&out).contains(&format!("{float_bytes} -> 3944 bytes")),
        "{}",
        stdout(&out)
    );
    let written = std::fs::read(dir.join("poem.q8")).expect("written");
    let committed =
        std::fs::read(format!("{ROOT}/examples/firmware/models/poem-h32.q8")).expect("committed");
    assert_eq!(
        written, committed,
        "the committed file is what the tool makes"
    );

    let out = run(
        &dir,
        &[
            "sample",
            "poem.q8",
            "--temperature",
            "0",
            "--prime",
            "H",
            "--len",
            "237",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim_end_matches('\n'), POEM.repeat(2));

    std::fs::write(dir.join("poem.txt"), POEM).expect("write");
    let out = run(&dir, &["eval", "poem.q8", "poem.txt", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["quantized"], true);
    let nats = json["nats_per_char"].as_f64().expect("number");
    assert!(
        nats > 0.0 && nats < 0.05,
        "the trained poem is predicted well: {nats}"
    );
}

#[test]
fn calibration_on_a_text_changes_the_logit_scale() {
    let dir = scratch("calibrate");
    std::fs::write(dir.join("poem.txt"), POEM).expect("write");
    let plain = run(&dir, &["quantize", &float_model(), "--out", "a.q8"]);
    let calibrated = run(
        &dir,
        &[
            "quantize",
            &float_model(),
            "--out",
            "b.q8",
            "--calibrate",
            "poem.txt",
        ],
    );
    assert!(plain.status.success() && calibrated.status.success());
    assert!(stdout(&calibrated).contains("calibrated on 119 chars"));
    let (a, b) = (
        std::fs::read(dir.join("a.q8")).unwrap(),
        std::fs::read(dir.join("b.q8")).unwrap(),
    );
    assert_eq!(a.len(), b.len());
    assert_ne!(a[28..32], b[28..32], "a different logit scale");
}

#[test]
fn bad_inputs_fail_cleanly_and_write_nothing() {
    let dir = scratch("bad");
    std::fs::write(dir.join("notes.txt"), "not a model").expect("write");
    std::fs::write(dir.join("odd.txt"), "Hope ~ §").expect("write");
    let out = run(&dir, &["quantize", "missing.mrnn", "--out", "x.q8"]);
    assert_fails_cleanly(&out, "missing.mrnn");
    let out = run(&dir, &["quantize", "notes.txt", "--out", "x.q8"]);
    assert_fails_cleanly(&out, "not a micrornn model");
    let out = run(
        &dir,
        &[
            "quantize",
            &float_model(),
            "--out",
            "x.q8",
            "--calibrate",
            "odd.txt",
        ],
    );
    assert_fails_cleanly(&out, "not in the model's vocabulary");
    assert!(!dir.join("x.q8").exists());

    let q8 = format!("{ROOT}/examples/firmware/models/poem-h32.q8");
    let out = run(&dir, &["quantize", &q8, "--out", "x.q8"]);
    assert_fails_cleanly(&out, "already quantized");
    let mut bytes = std::fs::read(&q8).expect("committed");
    bytes.truncate(bytes.len() - 10);
    std::fs::write(dir.join("cut.q8"), &bytes).expect("write");
    let out = run(&dir, &["sample", "cut.q8", "--len", "5"]);
    assert_fails_cleanly(&out, "truncated");
    let mut bytes = std::fs::read(&q8).expect("committed");
    bytes[1000] ^= 4;
    std::fs::write(dir.join("flip.q8"), &bytes).expect("write");
    let out = run(&dir, &["eval", "flip.q8", "notes.txt"]);
    assert_fails_cleanly(&out, "checksum");
    assert!(!dir.join("x.q8").exists());
}

/// A model whose next character is decided by its hidden state alone: zero state → 'a', the
/// stored state (kept alive by `W_hh = 2·I`) → 'b'. Encoded as `micrornn train` writes it
/// (bucket 32, hidden 32), with that state stored.
fn state_driven_model(dir: &Path) -> PathBuf {
    use micrornn::{CharVocab, Rnn, format};
    let vocab = CharVocab::<32>::from_text("ab").expect("vocab");
    let mut rnn = Box::new(Rnn::<32, 32, 32>::ZERO);
    for (j, row) in rnn.w_hh.iter_mut().enumerate() {
        row[j] = 2.0;
    }
    rnn.b_y[0] = 1.0; // 'a' from the zero state
    rnn.w_hy[1] = [0.25; 32]; // 'b' once the state is warm (logit 0.25·32·0.95 ≈ 7.6)
    let state = [0.9f32; 32];
    let contents = format::Contents {
        initial_hidden: Some(&state),
        ..format::Contents::language_model(vocab.chars(), vocab.len())
    };
    let mut bytes = vec![0u8; format::encoded_len::<Rnn<32, 32, 32>, _>(&contents)];
    format::encode_contents(&*rnn, &contents, &mut bytes).expect("encodes");
    let path = dir.join("state.mrnn");
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Issue 21, finding 3: the `.q8` file keeps the f32 file's initial state, so both start from
/// the same state, and `--zero-state` means the same on both.
#[test]
fn the_quantized_file_keeps_the_initial_state_and_zero_state_works_on_it() {
    let dir = scratch("state");
    let mrnn = state_driven_model(&dir);
    let out = run(
        &dir,
        &[
            "quantize",
            mrnn.to_str().expect("utf-8"),
            "--out",
            "state.q8",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for model in ["state.mrnn", "state.q8"] {
        let sample = |extra: &[&str]| {
            let mut args = vec![
                "sample",
                model,
                "--temperature",
                "0",
                "--prime",
                "a",
                "--len",
                "4",
            ];
            args.extend_from_slice(extra);
            let out = run(&dir, &args);
            assert!(out.status.success(), "{model}: {}", stderr(&out));
            stdout(&out).trim_end().to_string()
        };
        assert_eq!(sample(&[]), "abbbb", "{model} starts from its stored state");
        assert_eq!(
            sample(&["--zero-state"]),
            "aaaaa",
            "{model} with --zero-state"
        );
    }
}
