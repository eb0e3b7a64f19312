//! A sensor-series classifier: trains many-to-one on a `TRAIN.ts` (or `.csv`) file and reports
//! its accuracy on `TEST.ts`.
//!
//! ```sh
//! cargo run --release --example sensors -- TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64]
//!     [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|mean] [--report-every N]
//! ```
//!
//! Each series is normalized per channel with the mean and standard deviation of the training
//! series (never the test series), fed one sample a step from a zero hidden state, and
//! classified by the crate's [`Classifier`] from the output after its last step (`--readout
//! last`) or from the mean hidden state over the steps (`--readout mean`, [`Readout::Mean`]). The
//! model has the compiled buckets of a sensor build: 16 input channels (unused channels stay 0),
//! 16 outputs (outputs past the file's classes are masked: probability 0, no gradient) and
//! series up to 512 steps. Training is the library's loop, [`series_training::train`] (the
//! one `micrornn train FILE.ts` runs): Adam, gradient norm clipped, one update per series, the
//! training set shuffled every epoch.
//!
//! The last line printed is one `result …` line of `key=value` fields, for scripts.

use micrornn::classify::Metrics;
use micrornn::classify_batch::SeriesShard;
use micrornn::host::series::{self, Limits};
use micrornn::host::series_training::{self, Prepared, SeriesStreams, SeriesTraining};
use micrornn::model::batch_cell::BatchCell;
use micrornn::{Adam, DefaultRng, Gru, Readout, Rnn, Zeroable};
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;

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
    /// Decoupled weight decay ([`SeriesTraining::weight_decay`]).
    pub weight_decay: f32,
    /// Validation share ([`SeriesTraining::validation`]).
    pub validation: f32,
    /// Input noise ([`SeriesTraining::noise`]).
    pub noise: f32,
    /// Time stretch ([`SeriesTraining::stretch`]).
    pub stretch: f32,
}

impl Options {
    /// The default settings, the same for every data set ([`SeriesTraining::DEFAULT`], a GRU
    /// of 64 hidden units, as `micrornn train`), on the given files.
    pub fn new(train: PathBuf, test: PathBuf) -> Self {
        let defaults = SeriesTraining::DEFAULT;
        Self {
            train,
            test,
            cell: CellChoice::Gru,
            hidden: 64,
            epochs: defaults.epochs,
            lr: defaults.lr,
            clip: defaults.clip,
            seed: defaults.seed,
            readout: defaults.readout,
            report_every: defaults.test_every,
            weight_decay: defaults.weight_decay,
            validation: defaults.validation,
            noise: defaults.noise,
            stretch: defaults.stretch,
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
    /// The epoch whose model was kept.
    pub best_epoch: usize,
}

/// The Elman cell in the example's buckets.
type Elman<const H: usize> = Rnn<INPUTS, H, OUTPUTS>;
/// The GRU in the example's buckets.
type GruCell<const H: usize> = Gru<INPUTS, H, OUTPUTS>;

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
    let settings = SeriesTraining {
        epochs: options.epochs,
        lr: options.lr,
        clip: options.clip,
        seed: options.seed,
        readout: options.readout,
        test_every: options.report_every,
        weight_decay: options.weight_decay,
        validation: options.validation,
        noise: options.noise,
        stretch: options.stretch,
        batch: 1,
    };
    let classes = train_set.class_names.len();
    let data = (&settings, classes, &train, &test);
    let outcome = match (options.cell, options.hidden) {
        (CellChoice::Elman, 32) => train_cell::<Elman<32>, 32>(data, out, Rnn::init_uniform)?,
        (CellChoice::Elman, 64) => train_cell::<Elman<64>, 64>(data, out, Rnn::init_uniform)?,
        (CellChoice::Gru, 32) => train_cell::<GruCell<32>, 32>(data, out, Gru::init_uniform)?,
        (CellChoice::Gru, 64) => train_cell::<GruCell<64>, 64>(data, out, Gru::init_uniform)?,
        (_, hidden) => return Err(format!("--hidden {hidden}: 32 or 64 are compiled").into()),
    };
    writeln!(
        out,
        "result set={} cell={:?} hidden={} readout={:?} epochs={} lr={} clip={} seed={} \
         weight_decay={} validation={} noise={} stretch={} best_epoch={} train_accuracy={:.4} \
         test_accuracy={:.4} test_loss={:.4} train_seconds={:.2}",
        train_set.problem_name,
        options.cell,
        options.hidden,
        options.readout,
        options.epochs,
        options.lr,
        options.clip,
        options.seed,
        options.weight_decay,
        options.validation,
        options.noise,
        options.stretch,
        outcome.best_epoch,
        outcome.train.accuracy(),
        outcome.test.accuracy(),
        outcome.test.loss(),
        outcome.train_seconds
    )?;
    Ok(outcome)
}

/// Trains a model of cell `C` with `H` hidden units, initialized by `init`, with the library's
/// loop ([`series_training::train`]), printing the metrics of every test epoch.
fn train_cell<C, const H: usize>(
    (settings, classes, train, test): (
        &SeriesTraining,
        usize,
        &Prepared<INPUTS>,
        &Prepared<INPUTS>,
    ),
    out: &mut dyn Write,
    init: fn(&mut C, &mut DefaultRng),
) -> Result<Outcome, Box<dyn Error>>
where
    C: BatchCell<INPUTS, H, OUTPUTS> + Zeroable,
    SeriesShard<INPUTS, H, OUTPUTS, MAX_STEPS, C>: Zeroable + Send,
    SeriesStreams<INPUTS, H, OUTPUTS, MAX_STEPS, C>: Zeroable + Send,
    Adam<C>: Zeroable,
{
    let mut printed = Ok(());
    let trained = series_training::train::<C, INPUTS, H, OUTPUTS, MAX_STEPS>(
        settings,
        classes,
        train,
        Some(test),
        init,
        |report| {
            if let Some(test) = report.test {
                printed = writeln!(
                    out,
                    "epoch {:>4}  train loss {:.4} accuracy {:.3}  test loss {:.4} accuracy {:.3}",
                    report.epoch,
                    report.train.loss(),
                    report.train.accuracy(),
                    test.loss(),
                    test.accuracy()
                );
            }
            printed.is_ok()
        },
    )?;
    printed?;
    Ok(Outcome {
        train: trained.train,
        test: trained.test.unwrap_or_default(),
        train_seconds: trained.seconds,
        best_epoch: trained.best_epoch,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    const USAGE: &str = "usage: sensors TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64] \
                         [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|mean] \
                         [--report-every N] [--weight-decay WD] [--validation SHARE] [--noise STD] [--stretch S]";
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
                    options.readout = Readout::from_name(&o.parse::<String>()?)
                        .ok_or("--readout must be last or mean")?
                }
                "--hidden" => options.hidden = o.parse()?,
                "--epochs" => options.epochs = o.parse()?,
                "--lr" => options.lr = o.parse()?,
                "--clip" => options.clip = o.parse()?,
                "--seed" => options.seed = o.parse()?,
                "--report-every" => options.report_every = o.parse()?,
                "--weight-decay" => options.weight_decay = o.parse()?,
                "--validation" => options.validation = o.parse()?,
                "--noise" => options.noise = o.parse()?,
                "--stretch" => options.stretch = o.parse()?,
                _ => return Err(o.unknown(USAGE).into()),
            },
        }
    }
    let [train, test] = <[PathBuf; 2]>::try_from(files).map_err(|_| USAGE)?;
    (options.train, options.test) = (train, test);
    run(&options, &mut std::io::stdout().lock())?;
    Ok(())
}
