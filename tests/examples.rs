//! The four reference workflows, run through the examples' own code (`run` in each example file)
//! and checked for the outcome each notebook showed.
//!
//! The data comes from `../shared/data/`. Where a file is absent the test says so on stderr and
//! passes, except under `CI=true`, where the data is always present and its absence is a failure.

#![cfg(feature = "std")]
// Each example includes the shared `examples/common/args.rs` as its own `args` module.
#![allow(clippy::duplicate_mod)]

// Each example is compiled here as a module; its `main` (the command-line entry point) is unused.
#[allow(dead_code)]
#[path = "../examples/min_char_rnn.rs"]
mod min_char_rnn;
#[allow(dead_code)]
#[path = "../examples/poem.rs"]
mod poem;
#[allow(dead_code)]
#[path = "../examples/sentiment.rs"]
mod sentiment;
#[allow(dead_code)]
#[path = "../examples/shakespeare_sgd.rs"]
mod shakespeare_sgd;

#[path = "common/shared_data.rs"]
mod shared_data;

use shared_data::data_file;
use std::io::Write;
use std::path::PathBuf;

/// Runs an example into a buffer; returns its outcome and what it printed.
fn run_captured<T>(
    run: impl FnOnce(&mut dyn Write) -> Result<T, Box<dyn std::error::Error>>,
) -> (T, String) {
    let mut printed = Vec::new();
    let outcome = run(&mut printed).unwrap_or_else(|e| panic!("the example failed: {e}"));
    (outcome, String::from_utf8(printed).expect("UTF-8 output"))
}

#[test]
fn shakespeare_sgd_cost_falls_every_epoch_to_notebook_level() {
    let Some(path) = data_file("tinyshakespeare.txt") else {
        return;
    };
    let options = shakespeare_sgd::Options {
        path,
        ..shakespeare_sgd::Options::default()
    };
    let (outcome, printed) = run_captured(|out| shakespeare_sgd::run(&options, out));
    let costs = &outcome.costs;
    assert_eq!(outcome.vocab_size, 65);
    assert_eq!(costs.len(), 11, "{printed}");
    assert!(
        (costs[0] - 65f64.ln()).abs() < 0.05,
        "untrained cost {}",
        costs[0]
    );
    for (epoch, pair) in costs.windows(2).enumerate() {
        assert!(
            pair[1] < pair[0],
            "epoch {} did not lower the cost: {printed}",
            epoch + 1
        );
    }
    assert!(costs[10] <= 2.75, "epoch-10 cost {}: {printed}", costs[10]);
    assert!(
        printed.contains(&format!("   10   {:.4}", costs[10])),
        "{printed}"
    );
}

#[test]
fn min_char_rnn_smoothed_loss_falls_30_percent_in_2000_iterations() {
    let Some(path) = data_file("tinyshakespeare.txt") else {
        return;
    };
    let options = min_char_rnn::Options {
        path: Some(path),
        iterations: 2000,
        ..min_char_rnn::Options::default()
    };
    let (outcome, printed) = run_captured(|out| min_char_rnn::run(&options, out));
    assert_eq!(outcome.vocab_size, 65);
    let expected_start = 65f32.ln() * 25.0;
    assert!((outcome.start_loss - expected_start).abs() < 1e-3);
    let iterations: Vec<u64> = outcome.losses.iter().map(|&(i, _)| i).collect();
    assert_eq!(iterations, [0, 1000, 2000]);
    let (_, last) = outcome.losses[2];
    assert!(
        last <= 0.7 * expected_start,
        "smoothed loss {last} after 2000 iterations, start {expected_start}: {printed}"
    );
    assert!(outcome.samples.iter().all(|s| s.chars().count() == 200));
    assert!(printed.contains("iter 2000, smoothed loss"), "{printed}");
}

#[test]
fn min_char_rnn_runs_on_the_builtin_corpus() {
    let options = min_char_rnn::Options {
        iterations: 300,
        report_every: 100,
        sample_len: 50,
        ..min_char_rnn::Options::default()
    };
    let (outcome, printed) = run_captured(|out| min_char_rnn::run(&options, out));
    assert!(printed.starts_with("the built-in corpus: "), "{printed}");
    assert!(
        outcome.vocab_size > 64,
        "the corpus should need the 128 bucket"
    );
    assert_eq!(outcome.losses.len(), 4);
    assert!(outcome.losses[3].1 < outcome.start_loss);
}

#[test]
fn poem_is_reproduced_by_greedy_generation() {
    let options = poem::Options::default();
    let (outcome, printed) = run_captured(|out| poem::run(&options, out));
    assert_eq!(outcome.vocab_size, 22);
    let expected: String = poem::POEM.chars().cycle().take(201).collect();
    assert_eq!(outcome.generated, expected, "{printed}");
    assert!(
        outcome.smooth_loss < 1.0,
        "smoothed loss {}",
        outcome.smooth_loss
    );
    assert!(printed.contains("= the poem, reproduced exactly"));
}

/// Runs the sentiment example with `seed`, reporting every `report_every` epochs; returns its
/// outcome and printout.
fn sentiment_run(seed: u64, report_every: usize) -> Option<(sentiment::Outcome, String)> {
    let train = data_file("sentiment-train.tsv")?;
    let test = data_file("sentiment-test.tsv")?;
    let options = sentiment::Options {
        train,
        test,
        seed,
        report_every,
        ..sentiment::Options::default()
    };
    Some(run_captured(|out| sentiment::run(&options, out)))
}

#[test]
fn sentiment_reaches_full_test_accuracy_with_the_default_seed() {
    // Test accuracy after every epoch, to see whether it reaches 1.0 within 1000 epochs.
    let seed = sentiment::Options::default().seed;
    let Some((outcome, printed)) = sentiment_run(seed, 1) else {
        return;
    };
    assert_eq!(outcome.vocab.len(), 18);
    assert_eq!(outcome.reports.len(), 1000);
    assert!(
        outcome.reports.iter().any(|r| r.test.accuracy() == 1.0),
        "test accuracy never reached 1.0 in 1000 epochs: {printed}"
    );
    let last = outcome.reports.last().expect("reports");
    assert_eq!(last.train.accuracy(), 1.0, "{printed}");
    assert!(last.train.loss() < 0.01, "{printed}");
}

#[test]
fn sentiment_generalizes_for_five_other_seeds() {
    for seed in 1..=5 {
        let Some((outcome, printed)) = sentiment_run(seed, 100) else {
            return;
        };
        let epochs: Vec<usize> = outcome.reports.iter().map(|r| r.epoch).collect();
        assert_eq!(epochs, (1..=10).map(|i| i * 100).collect::<Vec<_>>());
        let last = outcome.reports.last().expect("reports");
        assert!(last.test.accuracy() >= 0.9, "seed {seed}: {printed}");
    }
}

#[test]
fn sentiment_saves_a_complete_classifier_that_the_binary_uses_alone() {
    let dir = std::env::temp_dir().join(format!("micrornn-sentiment-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("sentiment.mrnn");
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let test_tsv = format!("{data}sentiment-test.tsv");
    let options = sentiment::Options {
        train: PathBuf::from(format!("{data}sentiment-train.tsv")),
        test: PathBuf::from(&test_tsv),
        epochs: 300,
        report_every: 300,
        save: Some(model.clone()),
        ..sentiment::Options::default()
    };
    let (outcome, _) = run_captured(|out| sentiment::run(&options, out));
    let trained = outcome.reports.last().unwrap().test;

    let bin = env!("CARGO_BIN_EXE_micrornn");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(bin).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let path = model.to_str().unwrap();
    // `eval` on the labelled test set: the example's own test accuracy and loss.
    let json: serde_json::Value =
        serde_json::from_str(&run(&["eval", path, &test_tsv, "--json"])).unwrap();
    assert_eq!(json["examples"], 20);
    assert_eq!(json["accuracy"].as_f64().unwrap(), trained.accuracy());
    assert!(
        (json["loss"].as_f64().unwrap() - trained.loss()).abs() < 1e-4,
        "{json} vs {}",
        trained.loss()
    );
    // `classify` names the class from the file alone, with its probability.
    let answer = run(&["classify", path, "i am not good"]);
    let (class, probability) = answer.trim().split_once(' ').unwrap();
    assert!(["negative", "positive"].contains(&class), "{answer}");
    let probability: f64 = probability.parse().unwrap();
    assert!((0.5..=1.0).contains(&probability), "{answer}");
    assert_eq!(
        run(&["classify", path, "i am good"]).split(' ').next(),
        Some("positive")
    );
    // The file holds the vocabulary and the class names.
    let bytes = std::fs::read(&model).unwrap();
    let header = micrornn::format::Header::read(&bytes).unwrap();
    assert_eq!(
        (header.task, header.vocab_kind, header.classes),
        (
            micrornn::format::Task::Classifier,
            micrornn::format::VocabKind::Words,
            2
        )
    );
    assert_eq!(header.vocab_len, outcome.vocab.len());
    std::fs::remove_dir_all(&dir).unwrap();
}
