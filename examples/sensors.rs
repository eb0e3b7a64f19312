//! A sensor-series classifier: trains many-to-one on a `TRAIN.ts` (or `.csv`) file and reports
//! its accuracy on `TEST.ts`.
//!
//! ```sh
//! cargo run --release --example sensors -- TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64]
//!     [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|each] [--report-every N]
//! ```
//!
//! Each series is normalized per channel with the mean and standard deviation of the training
//! series (never the test series), fed one sample a step from a zero hidden state, and
//! classified from the output after its last step (`--readout last`, the crate's
//! [`Classifier`]). The model has the compiled buckets of a sensor build: 16 input channels
//! (unused channels stay 0), 16 outputs (outputs past the file's classes are masked: probability
//! 0, no gradient) and series up to 512 steps. Training: Adam, gradient norm clipped, one update
//! per series, the training set shuffled every epoch.
//!
//! `--readout each` is an experiment beside it, built from the public tape and step API (the
//! [`Classifier`] is unchanged): the label is the target after *every* step (the summed
//! cross-entropy of all steps), and the prediction is the class of the mean of the step
//! logits, which is the linear readout of the mean hidden state over the steps.
//!
//! The last line printed is one `result …` line of `key=value` fields, for scripts.

use micrornn::classify::{Classifier, ClassifierConfig, Example, Metrics};
use micrornn::host::series::{self, Limits, SeriesSet};
use micrornn::model::normalize::Normalization;
use micrornn::{
    Adam, Cell, Classes, Clip, DefaultRng, Gru, Rnn, Sequence, Tape, Targets, Zeroable, argmax,
    boxed_zeroed,
};
use rand_core::SeedableRng;
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[path = "common/args.rs"]
mod args;

/// Input channels compiled in; a file's channels beyond it are refused.
pub const INPUTS: usize = 16;
/// Outputs compiled in; a file's classes beyond it are refused.
pub const OUTPUTS: usize = 16;
/// Longest series the training tape holds.
pub const MAX_STEPS: usize = 512;
/// What the reader accepts.
pub const LIMITS: Limits = Limits {
    channels: INPUTS,
    classes: OUTPUTS,
    steps: MAX_STEPS,
    bytes: 64 << 20,
};

/// The recurrent cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellChoice {
    /// The Elman [`Rnn`].
    Elman,
    /// The [`Gru`].
    Gru,
}

/// Where the class is read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readout {
    /// The output after the last step (the [`Classifier`]).
    Last,
    /// Trained on the label after every step; predicted from the mean of the step logits.
    Each,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Training series.
    pub train: PathBuf,
    /// Test series (their classes must be among the training file's).
    pub test: PathBuf,
    /// The cell.
    pub cell: CellChoice,
    /// Hidden units: 32 or 64.
    pub hidden: usize,
    /// Passes over the training set.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// Gradient norm limit.
    pub clip: f32,
    /// Seed of the initialization and the shuffles.
    pub seed: u64,
    /// The readout.
    pub readout: Readout,
    /// Print train and test metrics every this many epochs (0: only at the end).
    pub report_every: usize,
}

impl Options {
    /// The default settings, the same for every data set, on the given files.
    pub fn new(train: PathBuf, test: PathBuf) -> Self {
        Self {
            train,
            test,
            cell: CellChoice::Gru,
            hidden: 32,
            epochs: 100,
            lr: 0.003,
            clip: 5.0,
            seed: 0,
            readout: Readout::Last,
            report_every: 0,
        }
    }
}

/// What a run measured.
#[derive(Clone, Copy, Debug)]
pub struct Outcome {
    /// On the training set after training.
    pub train: Metrics,
    /// On the test set after training.
    pub test: Metrics,
    /// Seconds spent in the training epochs (without the evaluations).
    pub train_seconds: f64,
}

/// A set as normalized input vectors, with its labels.
struct Prepared {
    vectors: Vec<Vec<[f32; INPUTS]>>,
    labels: Vec<usize>,
}

impl Prepared {
    fn new(set: &SeriesSet, normalization: &Normalization<INPUTS>) -> Self {
        Self {
            vectors: set
                .series
                .iter()
                .map(|s| s.dense(set.channels, normalization))
                .collect(),
            labels: set.series.iter().map(|s| s.label).collect(),
        }
    }

    fn examples(&self) -> Vec<Example<'_, INPUTS>> {
        self.vectors
            .iter()
            .zip(&self.labels)
            .map(|(v, &label)| Example::dense(v, label))
            .collect()
    }
}

/// Reads both files, trains, evaluates; writes progress and the `result` line to `out`.
///
/// # Errors
/// A file that cannot be read or is not a valid series file, a series longer than
/// [`MAX_STEPS`], a hidden size other than 32 or 64, or training that diverges.
pub fn run(options: &Options, out: &mut dyn Write) -> Result<Outcome, Box<dyn Error>> {
    let train_set = series::read(&options.train, &LIMITS)?;
    let test_set = series::read(&options.test, &LIMITS)?;
    if test_set.channels != train_set.channels {
        return Err(format!(
            "{}: {} channels, but the training file has {}",
            options.test.display(),
            test_set.channels,
            train_set.channels
        )
        .into());
    }
    let test_set =
        test_set.with_classes(&train_set.class_names, &options.test.display().to_string())?;
    let normalization = train_set.normalization::<INPUTS>();
    let train = Prepared::new(&train_set, &normalization);
    let test = Prepared::new(&test_set, &normalization);
    writeln!(
        out,
        "{}: {} training and {} test series, {} channels, {} classes, up to {} steps",
        train_set.problem_name,
        train.labels.len(),
        test.labels.len(),
        train_set.channels,
        train_set.class_names.len(),
        train_set.longest().max(test_set.longest())
    )?;
    let classes = train_set.class_names.len();
    let outcome = match (options.cell, options.hidden) {
        (CellChoice::Elman, 32) => train_cell::<Rnn<INPUTS, 32, OUTPUTS>, 32>(
            options,
            &train,
            &test,
            classes,
            out,
            Rnn::init_uniform,
        )?,
        (CellChoice::Elman, 64) => train_cell::<Rnn<INPUTS, 64, OUTPUTS>, 64>(
            options,
            &train,
            &test,
            classes,
            out,
            Rnn::init_uniform,
        )?,
        (CellChoice::Gru, 32) => train_cell::<Gru<INPUTS, 32, OUTPUTS>, 32>(
            options,
            &train,
            &test,
            classes,
            out,
            Gru::init_uniform,
        )?,
        (CellChoice::Gru, 64) => train_cell::<Gru<INPUTS, 64, OUTPUTS>, 64>(
            options,
            &train,
            &test,
            classes,
            out,
            Gru::init_uniform,
        )?,
        (_, hidden) => return Err(format!("--hidden {hidden}: 32 or 64 are compiled").into()),
    };
    writeln!(
        out,
        "result set={} cell={:?} hidden={} readout={:?} epochs={} lr={} clip={} seed={} \
         train_accuracy={:.4} test_accuracy={:.4} test_loss={:.4} train_seconds={:.2}",
        train_set.problem_name,
        options.cell,
        options.hidden,
        options.readout,
        options.epochs,
        options.lr,
        options.clip,
        options.seed,
        outcome.train.accuracy(),
        outcome.test.accuracy(),
        outcome.test.loss(),
        outcome.train_seconds
    )?;
    Ok(outcome)
}

/// Trains a model of cell `C` with `H` hidden units, initialized by `init`.
fn train_cell<C, const H: usize>(
    options: &Options,
    train: &Prepared,
    test: &Prepared,
    classes: usize,
    out: &mut dyn Write,
    init: fn(&mut C, &mut DefaultRng),
) -> Result<Outcome, Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS> + Zeroable,
    Tape<MAX_STEPS, H, OUTPUTS, C::Record>: Zeroable,
    Adam<C>: Zeroable,
{
    let mut rng = DefaultRng::seed_from_u64(options.seed);
    let mut model = boxed_zeroed::<C>();
    init(&mut model, &mut rng);
    let mut grads = boxed_zeroed::<C>();
    let mut tape = boxed_zeroed::<Tape<MAX_STEPS, H, OUTPUTS, C::Record>>();
    let mut adam = boxed_zeroed::<Adam<C>>();
    adam.init(options.lr);
    let config = ClassifierConfig {
        classes,
        clip: Clip::Norm(options.clip),
    };
    let mut classifier = Classifier::new(&mut *model, &mut *grads, &mut *tape, &mut *adam, config)?;
    let mut examples = train.examples();
    let test_examples = test.examples();
    let mut seconds = 0.0;
    for epoch in 1..=options.epochs {
        let started = Instant::now();
        let epoch_metrics = match options.readout {
            Readout::Last => classifier.fit_epoch(&mut examples, &mut rng)?,
            Readout::Each => fit_epoch_each(&mut classifier, &mut examples, &mut rng)?,
        };
        seconds += started.elapsed().as_secs_f64();
        if options.report_every > 0 && epoch % options.report_every == 0 {
            let test_metrics = evaluate(&classifier, &test_examples, options.readout)?;
            writeln!(
                out,
                "epoch {epoch:>4}  train loss {:.4} accuracy {:.3}  test loss {:.4} accuracy {:.3}",
                epoch_metrics.loss(),
                epoch_metrics.accuracy(),
                test_metrics.loss(),
                test_metrics.accuracy()
            )?;
        }
    }
    Ok(Outcome {
        train: evaluate(&classifier, &examples, options.readout)?,
        test: evaluate(&classifier, &test_examples, options.readout)?,
        train_seconds: seconds,
    })
}

/// One shuffled epoch of the `each` readout: every step's output is scored against the label.
/// The returned metrics hold the mean per-step loss and no accuracy.
fn fit_epoch_each<C, const H: usize>(
    classifier: &mut Classifier<'_, INPUTS, H, OUTPUTS, MAX_STEPS, Adam<C>, C>,
    examples: &mut [Example<'_, INPUTS>],
    rng: &mut DefaultRng,
) -> Result<Metrics, Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS>,
{
    micrornn::classify::shuffle(examples, rng);
    let mut metrics = Metrics::default();
    let mut targets = Vec::new();
    for example in examples.iter() {
        targets.clear();
        targets.resize(example.inputs.len(), example.label);
        let buffers = &mut classifier.buffers;
        let loss = buffers.tape.forward(
            buffers.model,
            example.inputs,
            Targets::Each(&targets),
            &[0.0; H],
            classifier.config.classes,
        )?;
        buffers.step(example.inputs, None, classifier.config.clip, INPUTS)?;
        metrics.total_loss += f64::from(loss) / targets.len().max(1) as f64;
        metrics.count += 1;
    }
    Ok(metrics)
}

/// Loss and accuracy with the given readout.
fn evaluate<C, const H: usize>(
    classifier: &Classifier<'_, INPUTS, H, OUTPUTS, MAX_STEPS, Adam<C>, C>,
    examples: &[Example<'_, INPUTS>],
    readout: Readout,
) -> Result<Metrics, Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS>,
{
    if readout == Readout::Last {
        return Ok(classifier.evaluate(examples)?);
    }
    let model = &*classifier.buffers.model;
    let live = Classes::<OUTPUTS>::new(classifier.config.classes)?;
    let mut metrics = Metrics::default();
    for example in examples {
        let logits = mean_logits(model, example.inputs)?;
        let live_logits = live.of(&logits);
        let class = argmax(live_logits);
        let max = live_logits.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
        let sum: f32 = live_logits.iter().map(|&z| (z - max).exp()).sum();
        let label_logit = live_logits.get(example.label).copied().unwrap_or(max);
        metrics.total_loss += f64::from(max + sum.ln() - label_logit);
        metrics.correct += usize::from(class == example.label);
        metrics.count += 1;
    }
    Ok(metrics)
}

/// The mean over the steps of `inputs` of the model's logits, from a zero hidden state.
fn mean_logits<C, const H: usize>(
    model: &C,
    inputs: Sequence<'_, INPUTS>,
) -> Result<[f32; OUTPUTS], Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS>,
{
    let mut hidden = [0.0f32; H];
    let mut sum = [0.0f32; OUTPUTS];
    let mut logits = [0.0f32; OUTPUTS];
    for t in 0..inputs.len() {
        if let Some(input) = inputs.get(t) {
            model.step(input, &mut hidden)?;
            model.logits(&hidden, &mut logits);
            sum.iter_mut().zip(&logits).for_each(|(s, z)| *s += z);
        }
    }
    let steps = inputs.len().max(1) as f32;
    Ok(sum.map(|s| s / steps))
}

fn main() -> Result<(), Box<dyn Error>> {
    const USAGE: &str = "usage: sensors TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64] \
                         [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|each] \
                         [--report-every N]";
    let mut files = Vec::new();
    let mut options = Options::new(PathBuf::new(), PathBuf::new());
    for arg in args::parse(USAGE)? {
        match arg {
            args::Arg::Help => {
                println!("{USAGE}");
                return Ok(());
            }
            args::Arg::Positional(file) => files.push(PathBuf::from(file)),
            args::Arg::Option(o) => match o.name.as_str() {
                "--cell" => {
                    options.cell = match o.parse::<String>()?.as_str() {
                        "elman" => CellChoice::Elman,
                        "gru" => CellChoice::Gru,
                        _ => return Err("--cell must be elman or gru".into()),
                    }
                }
                "--readout" => {
                    options.readout = match o.parse::<String>()?.as_str() {
                        "last" => Readout::Last,
                        "each" => Readout::Each,
                        _ => return Err("--readout must be last or each".into()),
                    }
                }
                "--hidden" => options.hidden = o.parse()?,
                "--epochs" => options.epochs = o.parse()?,
                "--lr" => options.lr = o.parse()?,
                "--clip" => options.clip = o.parse()?,
                "--seed" => options.seed = o.parse()?,
                "--report-every" => options.report_every = o.parse()?,
                _ => return Err(o.unknown(USAGE).into()),
            },
        }
    }
    let [train, test] = <[PathBuf; 2]>::try_from(files).map_err(|_| USAGE)?;
    (options.train, options.test) = (train, test);
    run(&options, &mut std::io::stdout().lock())?;
    Ok(())
}
