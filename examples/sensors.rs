//! A sensor-series classifier: trains many-to-one on a `TRAIN.ts` (or `.csv`) file and reports
//! its accuracy on `TEST.ts`.
//!
//! ```sh
//! cargo run --release --example sensors -- TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64]
//!     [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|mean|mix] [--report-every N]
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
//! `--readout mean` is an experiment beside it, built on the public [`Cell`] interface (the
//! [`Classifier`] and the [`Tape`] are unchanged): the class is read from the mean hidden
//! state over the steps, `softmax(W_hy·h̄ + b_y)`, trained on that loss
//! ([`pooled_readout_gradient`]), with the same clip and Adam update. `--readout mix` reads it
//! from the average of the last state and the mean state, `(h_n + h̄)/2`, the same way.
//!
//! The last line printed is one `result …` line of `key=value` fields, for scripts.

use micrornn::classify::{Classifier, ClassifierConfig, Example, Metrics, Trained};
use micrornn::host::series::{self, Limits, SeriesSet};
use micrornn::model::cell::{Chunk, StepRecord};
use micrornn::model::normalize::Normalization;
use micrornn::{
    Adam, Cell, Classes, Clip, DefaultRng, Gru, Live, Optimizer, Rnn, Sequence, Tape, Zeroable,
    argmax, boxed_zeroed, live_sum_squares,
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
    /// The readout of the mean hidden state over the steps (= the mean of the step logits).
    Mean,
    /// The readout of the average of the last state and the mean state.
    Mix,
}

impl Readout {
    /// The weight of step `t` of `n` in the state the class is read from (they sum to 1).
    pub fn weight(self, t: usize, n: usize) -> f32 {
        let mean = 1.0 / n.max(1) as f32;
        let last = if t + 1 == n { 1.0 } else { 0.0 };
        match self {
            Readout::Last => last,
            Readout::Mean => mean,
            Readout::Mix => 0.5 * (mean + last),
        }
    }
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

/// The Elman cell in the example's buckets.
type Elman<const H: usize> = Rnn<INPUTS, H, OUTPUTS>;
/// The GRU in the example's buckets.
type GruCell<const H: usize> = Gru<INPUTS, H, OUTPUTS>;

/// Both sets, prepared, and the number of classes.
struct Data {
    train: Prepared,
    test: Prepared,
    classes: usize,
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
    };
    let mut classifier = Classifier::new(&mut *model, &mut *grads, &mut *tape, &mut *adam, config)?;
    let mut examples = data.train.examples();
    let test_examples = data.test.examples();
    let mut seconds = 0.0;
    let mut work = PoolWork::default();
    for epoch in 1..=options.epochs {
        let started = Instant::now();
        let epoch_metrics = match options.readout {
            Readout::Last => classifier.fit_epoch(&mut examples, &mut rng)?,
            Readout::Mean | Readout::Mix => {
                let readout = options.readout;
                fit_epoch_pooled(&mut classifier, &mut examples, readout, &mut work, &mut rng)?
            }
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

/// The buffers of a pooled readout's forward and backward pass, one entry a step.
pub struct PoolWork<R, const H: usize> {
    hidden: Vec<[f32; H]>,
    records: Vec<R>,
    d_logits: Vec<f32>,
    scratch: Vec<[f32; H]>,
}

impl<R, const H: usize> Default for PoolWork<R, H> {
    fn default() -> Self {
        Self {
            hidden: Vec::new(),
            records: Vec::new(),
            d_logits: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

/// A pooled readout's loss on one example, `−ln softmax(W_hy·h̄ + b_y)[label]` with
/// `h̄ = Σ_t w_t·h_t` the states weighted by [`Readout::weight`] (the mean: `w_t = 1/n`), and
/// its gradient written to `grads` (live rows).
///
/// The readout is linear and the weights sum to 1, so `W_hy·h̄ + b_y = Σ_t w_t·(W_hy·h_t + b_y)`;
/// its gradient is `w_t·(p − onehot(label))` at each step's logits, which
/// [`Cell::backward_chunk`] back-propagates as it does a language model's per-step outputs.
///
/// # Errors
/// An empty sequence, an input the cell refuses, a label `≥ classes`, a non-finite loss.
pub fn pooled_readout_gradient<C, const H: usize>(
    model: &C,
    example: &Example<'_, INPUTS>,
    classes: usize,
    readout: Readout,
    work: &mut PoolWork<C::Record, H>,
    grads: &mut C,
) -> Result<Trained, Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS>,
{
    let inputs = example.inputs;
    let steps = inputs.len();
    if steps == 0 {
        return Err("an empty series".into());
    }
    let live = Classes::<OUTPUTS>::new(classes)?;
    work.hidden.clear();
    work.records.clear();
    let mut h_prev = [0.0f32; H];
    let mut h_pooled = [0.0f32; H];
    for t in 0..steps {
        let input = inputs.get(t).ok_or("a step without input")?;
        let (mut h, mut record) = ([0.0f32; H], C::Record::ZERO);
        model.forward(input, &h_prev, &mut h, &mut record)?;
        let w = readout.weight(t, steps);
        h_pooled.iter_mut().zip(&h).for_each(|(s, x)| *s += w * x);
        work.hidden.push(h);
        work.records.push(record);
        h_prev = h;
    }
    let mut logits = [0.0f32; OUTPUTS];
    model.logits(&h_pooled, &mut logits);
    let (loss, probs) = score(live, &logits, example.label)?;
    if !loss.is_finite() {
        return Err(micrornn::Error::NonFiniteLoss.into());
    }
    work.d_logits.clear();
    for t in 0..steps {
        let w = readout.weight(t, steps);
        for (c, p) in live.of(&probs).iter().enumerate() {
            let target = f32::from(u8::from(c == example.label));
            work.d_logits.push(w * (p - target));
        }
    }
    work.scratch.resize(steps, [0.0; H]);
    let chunk = Chunk {
        inputs,
        h_start: &[0.0; H],
        hidden: &work.hidden,
        records: &work.records,
        d_logits: &work.d_logits,
        first_output: 0,
        classes,
    };
    model.backward_chunk(chunk, &mut work.scratch, grads, None, INPUTS);
    Ok(Trained {
        loss,
        correct: argmax(live.of(&probs)) == example.label,
    })
}

/// The cross-entropy `−ln p(label)` of `logits` under a softmax over the `live` classes, and the
/// probabilities (0 past the live classes).
fn score(
    live: Classes<OUTPUTS>,
    logits: &[f32; OUTPUTS],
    label: usize,
) -> Result<(f32, [f32; OUTPUTS]), Box<dyn Error>> {
    let logits = live.of(logits);
    let label_logit = *logits.get(label).ok_or("a label outside the classes")?;
    let max = logits.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let mut probs = [0.0f32; OUTPUTS];
    let mut sum = 0.0f32;
    for (p, &z) in live.of_mut(&mut probs).iter_mut().zip(logits) {
        *p = (z - max).exp();
        sum += *p;
    }
    probs.iter_mut().for_each(|p| *p /= sum);
    Ok((max + sum.ln() - label_logit, probs))
}

/// One shuffled epoch of a pooled readout: for each series, [`pooled_readout_gradient`], then
/// the classifier's clip and Adam update.
fn fit_epoch_pooled<C, const H: usize>(
    classifier: &mut Classifier<'_, INPUTS, H, OUTPUTS, MAX_STEPS, Adam<C>, C>,
    examples: &mut [Example<'_, INPUTS>],
    readout: Readout,
    work: &mut PoolWork<C::Record, H>,
    rng: &mut DefaultRng,
) -> Result<Metrics, Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS>,
{
    micrornn::classify::shuffle(examples, rng);
    let (classes, clip) = (classifier.config.classes, classifier.config.clip);
    let live = Live {
        inputs: INPUTS,
        outputs: classes,
    };
    let buffers = &mut classifier.buffers;
    let mut metrics = Metrics::default();
    for example in examples.iter() {
        let trained = pooled_readout_gradient(
            buffers.model,
            example,
            classes,
            readout,
            work,
            buffers.grads,
        )?;
        if !live_sum_squares(buffers.grads, live).is_finite() {
            return Err(micrornn::Error::NonFiniteLoss.into());
        }
        buffers
            .optimizer
            .clip_and_update_live(buffers.model, buffers.grads, clip, live);
        metrics.total_loss += f64::from(trained.loss);
        metrics.correct += usize::from(trained.correct);
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
        let logits = pooled_logits(model, example.inputs, readout)?;
        let (loss, probs) = score(live, &logits, example.label)?;
        metrics.total_loss += f64::from(loss);
        metrics.correct += usize::from(argmax(live.of(&probs)) == example.label);
        metrics.count += 1;
    }
    Ok(metrics)
}

/// The logits of the pooled state `Σ_t w_t·h_t` of `inputs` ([`Readout::weight`]), from a zero
/// hidden state.
fn pooled_logits<C, const H: usize>(
    model: &C,
    inputs: Sequence<'_, INPUTS>,
    readout: Readout,
) -> Result<[f32; OUTPUTS], Box<dyn Error>>
where
    C: Cell<INPUTS, H, OUTPUTS>,
{
    let mut hidden = [0.0f32; H];
    let mut pooled = [0.0f32; H];
    let steps = inputs.len();
    for t in 0..steps {
        if let Some(input) = inputs.get(t) {
            model.step(input, &mut hidden)?;
            let w = readout.weight(t, steps);
            pooled
                .iter_mut()
                .zip(&hidden)
                .for_each(|(s, h)| *s += w * h);
        }
    }
    let mut logits = [0.0f32; OUTPUTS];
    model.logits(&pooled, &mut logits);
    Ok(logits)
}

fn main() -> Result<(), Box<dyn Error>> {
    const USAGE: &str = "usage: sensors TRAIN.ts TEST.ts [--cell elman|gru] [--hidden 32|64] \
                         [--epochs N] [--lr LR] [--clip NORM] [--seed S] [--readout last|mean|mix] \
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
                        "mean" => Readout::Mean,
                        "mix" => Readout::Mix,
                        _ => return Err("--readout must be last, mean or mix".into()),
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
