//! A sensor-series classifier: trains many-to-one on a `TRAIN.ts` (or `.csv`) file and reports
//! its accuracy on `TEST.ts`.
//!
//! ```sh
//! cargo run --release --example sensors -- TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64]
//!     [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|mean] [--report-every N]
//!     [--out MODEL.mrnn]
//! ```
//!
//! Each series is normalized per channel with the mean and standard deviation of the training
//! series (never the test series), fed one sample a step from a zero hidden state, and
//! classified by the crate's [`Classifier`] from the output after its last step (`--readout
//! last`) or from the mean hidden state over the steps (`--readout mean`, [`Readout::Mean`]). The
//! model has the compiled buckets of a sensor build: 16 input channels (unused channels stay 0),
//! 16 outputs (outputs past the file's classes are masked: probability 0, no gradient) and
//! series up to 512 steps. Training: Adam, gradient norm clipped, one update per series, the
//! training set shuffled every epoch.
//!
//! The last line printed is one `result …` line of `key=value` fields, for scripts.
//!
//! `--out MODEL.mrnn` saves the trained model as a dense classifier model file
//! ([`Contents::sensor_classifier`]) in the example's buckets: the channel names `dim_0`, `dim_1`,
//! …, the training normalization, the class names and the settings as metadata.
//! `examples/firmware/models/make-sensor-model.sh` trains the firmware's classifier with it.

use micrornn::classify::{Classifier, ClassifierConfig, Example, Metrics};
use micrornn::format::Contents;
use micrornn::host::model_file;
use micrornn::host::series::{self, Limits, SeriesSet};
use micrornn::model::normalize::Normalization;
use micrornn::{Adam, Cell, Clip, DefaultRng, Gru, Readout, Rnn, Tape, Zeroable, boxed_zeroed};
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
    /// Where to save the trained model (`--out`), if anywhere.
    pub out: Option<PathBuf>,
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
            out: None,
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

/// The Elman cell in the example's buckets.
type Elman<const H: usize> = Rnn<INPUTS, H, OUTPUTS>;
/// The GRU in the example's buckets.
type GruCell<const H: usize> = Gru<INPUTS, H, OUTPUTS>;

/// Both sets, prepared, and what a saved model records of them.
struct Data {
    train: Prepared,
    test: Prepared,
    classes: usize,
    class_names: Vec<String>,
    channels: usize,
    normalization: Normalization<INPUTS>,
    problem_name: String,
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
    let data = Data {
        train,
        test,
        classes: train_set.class_names.len(),
        class_names: train_set.class_names.clone(),
        channels: train_set.channels,
        normalization,
        problem_name: train_set.problem_name.clone(),
    };
    let outcome = match (options.cell, options.hidden) {
        (CellChoice::Elman, 32) => {
            train_cell::<Elman<32>, 32>(options, &data, out, Rnn::init_uniform)?
        }
        (CellChoice::Elman, 64) => {
            train_cell::<Elman<64>, 64>(options, &data, out, Rnn::init_uniform)?
        }
        (CellChoice::Gru, 32) => {
            train_cell::<GruCell<32>, 32>(options, &data, out, Gru::init_uniform)?
        }
        (CellChoice::Gru, 64) => {
            train_cell::<GruCell<64>, 64>(options, &data, out, Gru::init_uniform)?
        }
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

/// Trains a model of cell `C` with `H` hidden units, initialized by `init`, on `data`.
fn train_cell<C, const H: usize>(
    options: &Options,
    data: &Data,
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
        classes: data.classes,
        clip: Clip::Norm(options.clip),
        readout: options.readout,
    };
    let mut classifier = Classifier::new(&mut *model, &mut *grads, &mut *tape, &mut *adam, config)?;
    let mut examples = data.train.examples();
    let test_examples = data.test.examples();
    let mut seconds = 0.0;
    for epoch in 1..=options.epochs {
        let started = Instant::now();
        let epoch_metrics = classifier.fit_epoch(&mut examples, &mut rng)?;
        seconds += started.elapsed().as_secs_f64();
        if options.report_every > 0 && epoch % options.report_every == 0 {
            let test_metrics = classifier.evaluate(&test_examples)?;
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
    let outcome = Outcome {
        train: classifier.evaluate(&examples)?,
        test: classifier.evaluate(&test_examples)?,
        train_seconds: seconds,
    };
    if let Some(path) = &options.out {
        save(path, &*model, options, data)?;
        writeln!(out, "saved the model to {}", path.display())?;
    }
    Ok(outcome)
}

/// Writes `model` to `path` as a dense classifier model file with `data`'s channels, classes
/// and training normalization, and `options` as metadata.
fn save<C, const H: usize>(
    path: &std::path::Path,
    model: &C,
    options: &Options,
    data: &Data,
) -> Result<(), Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS>,
{
    let channels: Vec<String> = (0..data.channels).map(|c| format!("dim_{c}")).collect();
    let channels: Vec<&str> = channels.iter().map(String::as_str).collect();
    let class_names: Vec<&str> = data.class_names.iter().map(String::as_str).collect();
    let norm = &data.normalization;
    let metadata = format!(
        "trained_by=examples/sensors.rs\nset={}\ncell={:?}\nreadout={:?}\nepochs={}\nlr={}\n\
         clip={}\nseed={}",
        data.problem_name,
        options.cell,
        options.readout,
        options.epochs,
        options.lr,
        options.clip,
        options.seed
    );
    let contents = Contents {
        metadata: &metadata,
        ..Contents::sensor_classifier(
            &channels,
            &norm.mean[..data.channels],
            &norm.std[..data.channels],
            &class_names,
        )
    };
    let bytes = model_file::contents_to_bytes(model, &contents)?;
    micrornn::host::atomic::write(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    const USAGE: &str = "usage: sensors TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64] \
                         [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|mean] \
                         [--report-every N] [--out MODEL.mrnn]";
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
                        "mean" => Readout::Mean,
                        _ => return Err("--readout must be last or mean".into()),
                    }
                }
                "--hidden" => options.hidden = o.parse()?,
                "--epochs" => options.epochs = o.parse()?,
                "--lr" => options.lr = o.parse()?,
                "--clip" => options.clip = o.parse()?,
                "--seed" => options.seed = o.parse()?,
                "--report-every" => options.report_every = o.parse()?,
                "--out" => options.out = Some(PathBuf::from(o.parse::<String>()?)),
                _ => return Err(o.unknown(USAGE).into()),
            },
        }
    }
    let [train, test] = <[PathBuf; 2]>::try_from(files).map_err(|_| USAGE)?;
    (options.train, options.test) = (train, test);
    run(&options, &mut std::io::stdout().lock())?;
    Ok(())
}
