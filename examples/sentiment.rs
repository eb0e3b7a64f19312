//! Notebook 004: a word-level many-to-one sentiment classifier. Each sentence is fed word by
//! word; the output after the last word says positive or negative.
//!
//! ```sh
//! cargo run --release --example sentiment [-- [TRAIN.tsv TEST.tsv] [--epochs N] [--seed S]
//!     [--report-every N] [--save MODEL]]
//! ```
//!
//! `--save MODEL` writes a complete classifier file (format v2: the parameters, the word
//! vocabulary, the class names `negative`/`positive` and the settings as metadata), which
//! `micrornn classify MODEL "TEXT"` and `micrornn eval MODEL FILE.tsv` use on their own. The
//! file holds the model padded to 32 outputs (the `micrornn` binary's compiled shape
//! inputs = outputs); the 30 padded outputs are zero and masked (2 live classes), so its
//! predictions are the trained model's.
//!
//! Settings (as in the notebook): H = 64, weights N(0, 1)/1000, SGD lr 0.02, gradients clipped
//! to ±1, full back-propagation through the sentence, one update per sentence, training set
//! shuffled every epoch; train and test loss and accuracy every 100 epochs. The training
//! metrics are measured during the epoch, each sentence just before its own update, as in the
//! notebook. Unlike the notebook, the back-propagation uses `W_hhᵀ` and the word ids are sorted.

use micrornn::classify::{Classifier, ClassifierConfig, Example, Metrics};
use micrornn::host::model_file;
use micrornn::host::words::WordVocab;
use micrornn::{Clip, DefaultRng, Rnn, Sgd, Tape, format};
use rand_core::SeedableRng;
use std::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Vocabulary capacity (the model's inputs); the data has 18 words.
const MAX_WORDS: usize = 32;
/// Hidden units.
const HIDDEN: usize = 64;
/// Positive and negative.
const CLASSES: usize = 2;
/// Their names, by label.
const CLASS_NAMES: [&str; CLASSES] = ["negative", "positive"];
/// Longest sentence, in words.
const MAX_LEN: usize = 16;

/// What to run.
pub struct Options {
    /// Training sentences: a TSV file (`text<TAB>label` lines after a header), labels 0 or 1.
    pub train: PathBuf,
    /// Test sentences, same format; every word must occur in the training set.
    pub test: PathBuf,
    /// Passes over the training set.
    pub epochs: usize,
    /// Report every this many epochs.
    pub report_every: usize,
    /// Seed of the initialization and of the shuffles.
    pub seed: u64,
    /// Where to save the trained classifier file, if anywhere.
    pub save: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/");
        Self {
            train: PathBuf::from(format!("{data}sentiment-train.tsv")),
            test: PathBuf::from(format!("{data}sentiment-test.tsv")),
            epochs: 1000,
            report_every: 100,
            seed: 0,
            save: None,
        }
    }
}

/// Metrics at one report.
pub struct Report {
    /// Epochs completed.
    pub epoch: usize,
    /// Training loss and accuracy during that epoch.
    pub train: Metrics,
    /// Test loss and accuracy after it.
    pub test: Metrics,
}

/// What the run printed, for tests.
pub struct Outcome {
    /// The word vocabulary (sorted).
    pub vocab: WordVocab,
    /// One report every `report_every` epochs.
    pub reports: Vec<Report>,
}

/// Reads `text<TAB>label` lines after a header; labels are `0`/`1` (or `False`/`True`).
fn read_tsv(path: &Path) -> Result<Vec<(String, usize)>, Box<dyn Error>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || format!("{}:{}: expected `text<TAB>0|1`", path.display(), number + 1);
        let (sentence, label) = line.rsplit_once('\t').ok_or_else(bad)?;
        let label = match label.trim() {
            "0" | "False" | "false" => 0,
            "1" | "True" | "true" => 1,
            _ => return Err(bad().into()),
        };
        rows.push((sentence.to_string(), label));
    }
    Ok(rows)
}

/// A sentence as word ids, and its label.
type Labelled = (Vec<usize>, usize);

/// Encodes sentences into word ids.
fn encode(
    vocab: &WordVocab,
    rows: &[(String, usize)],
    path: &Path,
) -> Result<Vec<Labelled>, Box<dyn Error>> {
    rows.iter()
        .map(|(sentence, label)| {
            let ids = vocab
                .encode(sentence)
                .map_err(|e| format!("{}: {sentence:?}: {e}", path.display()))?;
            Ok((ids, *label))
        })
        .collect()
}

/// Trains as the notebook did, writing its report to `out`.
pub fn run(options: &Options, out: &mut dyn Write) -> Result<Outcome, Box<dyn Error>> {
    let train_rows = read_tsv(&options.train)?;
    let test_rows = read_tsv(&options.test)?;
    let vocab = WordVocab::from_texts(train_rows.iter().map(|(s, _)| s.as_str()));
    if vocab.len() > MAX_WORDS {
        return Err(format!("{} words; this example holds {MAX_WORDS}", vocab.len()).into());
    }
    let train_ids = encode(&vocab, &train_rows, &options.train)?;
    let test_ids = encode(&vocab, &test_rows, &options.test)?;
    let mut train: Vec<Example<MAX_WORDS>> = train_ids
        .iter()
        .map(|(ids, label)| Example::tokens(ids, *label))
        .collect();
    let test: Vec<Example<MAX_WORDS>> = test_ids
        .iter()
        .map(|(ids, label)| Example::tokens(ids, *label))
        .collect();
    writeln!(
        out,
        "{} training and {} test sentences, {} distinct words: {}",
        train.len(),
        test.len(),
        vocab.len(),
        vocab.words().join(" ")
    )?;
    writeln!(
        out,
        "H = {HIDDEN}, init N(0,1)/1000, SGD lr 0.02, clip ±1, shuffled epochs, seed {}\n",
        options.seed
    )?;

    let mut rng = DefaultRng::seed_from_u64(options.seed);
    let mut model = Rnn::<MAX_WORDS, HIDDEN, CLASSES>::ZERO;
    model.init_gaussian(&mut rng, 0.001);
    let mut grads = Rnn::ZERO;
    let mut tape = Tape::<MAX_LEN, HIDDEN, CLASSES>::ZERO;
    let mut sgd = Sgd { lr: 0.02 };
    let config = ClassifierConfig {
        classes: CLASSES,
        clip: Clip::Value(1.0),
        readout: micrornn::Readout::Last,
    };
    let mut classifier = Classifier::new(&mut model, &mut grads, &mut tape, &mut sgd, config)?;

    writeln!(out, "epoch   train loss  accuracy   test loss  accuracy")?;
    let mut reports = Vec::new();
    for epoch in 1..=options.epochs {
        let train_metrics = classifier.fit_epoch(&mut train, &mut rng)?;
        if epoch % options.report_every.max(1) == 0 || epoch == options.epochs {
            let test_metrics = classifier.evaluate(&test)?;
            writeln!(
                out,
                "{epoch:>5}   {:>10.3}  {:>8.3}   {:>9.3}  {:>8.3}",
                train_metrics.loss(),
                train_metrics.accuracy(),
                test_metrics.loss(),
                test_metrics.accuracy()
            )?;
            reports.push(Report {
                epoch,
                train: train_metrics,
                test: test_metrics,
            });
        }
    }

    let mut wrong = Vec::new();
    for ((sentence, label), example) in test_rows.iter().zip(&test) {
        let prediction = classifier.predict(example.inputs)?;
        if prediction.class != *label {
            wrong.push(format!(
                "  {sentence:?} (label {label}): p(positive) = {:.3}",
                prediction.probs[1]
            ));
        }
    }
    match wrong.len() {
        0 => writeln!(out, "\nevery test sentence is classified correctly")?,
        n => writeln!(
            out,
            "\n{n} test sentence(s) misclassified:\n{}",
            wrong.join("\n")
        )?,
    }
    if let Some(path) = &options.save {
        save(path, &model, &vocab, options)?;
        writeln!(out, "saved the classifier to {}", path.display())?;
    }
    Ok(Outcome { vocab, reports })
}

/// Saves a complete classifier file, padded to the binary's shape `Rnn<32, 64, 32>`.
fn save(
    path: &Path,
    model: &Rnn<MAX_WORDS, HIDDEN, CLASSES>,
    vocab: &WordVocab,
    options: &Options,
) -> Result<(), Box<dyn Error>> {
    let mut padded = Rnn::<MAX_WORDS, HIDDEN, MAX_WORDS>::boxed_zero();
    padded.w_xh = model.w_xh;
    padded.w_hh = model.w_hh;
    padded.b_h = model.b_h;
    padded.w_hy[..CLASSES].copy_from_slice(&model.w_hy);
    padded.b_y[..CLASSES].copy_from_slice(&model.b_y);
    let words: Vec<&str> = vocab.words().iter().map(String::as_str).collect();
    let metadata = format!(
        "trained_by=examples/sentiment.rs\ntrain={}\nhidden={HIDDEN}\noptimizer=sgd\nlr=0.02\n\
         clip=1\ninit_scale=0.001\nepochs={}\nseed={}\noutputs_trained={CLASSES}",
        options.train.display().to_string().replace('\n', " "),
        options.epochs,
        options.seed
    );
    let contents = format::Contents {
        metadata: &metadata,
        ..format::Contents::classifier(&words, &CLASS_NAMES)
    };
    model_file::save_contents(path, &*padded, &contents)?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut options = Options::default();
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--epochs" => options.epochs = value()?.parse()?,
            "--seed" => options.seed = value()?.parse()?,
            "--report-every" => options.report_every = value()?.parse()?,
            "--save" => options.save = Some(PathBuf::from(value()?)),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    match <[PathBuf; 2]>::try_from(files) {
        Ok([train, test]) => (options.train, options.test) = (train, test),
        Err(files) if files.is_empty() => {}
        Err(_) => {
            return Err("usage: sentiment [TRAIN.tsv TEST.tsv] [--epochs N] [--seed S]".into());
        }
    }
    run(&options, &mut std::io::stdout().lock())?;
    Ok(())
}
