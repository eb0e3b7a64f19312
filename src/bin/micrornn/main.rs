//! `micrornn`: train a character-level RNN (Elman or GRU) on a text, sample from it, evaluate it.
//!
//! ```text
//! micrornn train [CORPUS] [--cell elman|gru] [--hidden N] [--seq-len T] [--lr F] [--optimizer adagrad|sgd|adam] …
//! micrornn sample MODEL [--len N] [--temperature F] [--top-k K] [--prime TEXT] [--seed N] [--zero-state]
//! micrornn eval MODEL FILE [--json] [--zero-state]
//! micrornn quantize MODEL --out MODEL.q8 [--calibrate FILE]
//! micrornn classify MODEL TEXT
//! micrornn train TRAIN.ts|.csv [--test TEST.ts] [--cell elman|gru] [--hidden N] [--readout last|mean] [--json]
//! micrornn eval MODEL TEST.ts [--json] [--svg FILE]
//! micrornn classify MODEL FILE.ts [--stream]
//! micrornn import FILE [--vocab VOCAB.json] [--nonlinearity tanh] --out MODEL
//! micrornn export MODEL --out FILE.safetensors
//! ```
//!
//! With no arguments it trains on the built-in corpus for a minute and prints samples.
//!
//! The model sizes are const generics, so the binary compiles a fixed set of them
//! ([`HIDDEN_SIZES`] × [`VOCAB_BUCKETS`]) and picks the smallest vocabulary bucket that holds the
//! corpus; the padded output classes are masked.

use clap::{Args, Parser, Subcommand, ValueEnum};
use micrornn::host::optimizer::OptimizerKind;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod cells;
mod classify;
mod classify_series;
mod confusion;
mod eval_series;
mod export;
mod generate;
mod import;
mod limits;
mod model_load;
mod quantize;
mod series;
mod train;
mod train_series;

/// Hidden sizes compiled into the binary.
pub const HIDDEN_SIZES: [usize; 6] = [32, 64, 100, 128, 256, 512];

/// Streams per shard of a batch (`--batch` is a multiple of it): each shard's steps are one
/// matrix–matrix product, and threads share the shards.
pub const SHARD: usize = 8;

/// The largest `--batch`.
pub const MAX_BATCH: usize = 256;

/// Vocabulary buckets (model inputs = outputs) compiled into the binary.
pub const VOCAB_BUCKETS: [usize; 5] = [32, 64, 96, 128, 256];

/// Longest `--seq-len` (the BPTT tape's capacity).
pub const MAX_SEQ_LEN: usize = 256;

/// Hidden sizes compiled for the GRU (a subset of [`HIDDEN_SIZES`]): every GRU shape is a
/// second copy of the training, sampling and evaluation code, so the binary compiles fewer of
/// them (docs/cells.md, "Cost of the dispatch").
pub const GRU_HIDDEN_SIZES: [usize; 5] = [32, 64, 100, 128, 256];

/// Vocabulary buckets compiled for the GRU (a subset of [`VOCAB_BUCKETS`]); a smaller
/// alphabet is padded to the first of them.
pub const GRU_VOCAB_BUCKETS: [usize; 3] = [32, 96, 128];

/// The hidden sizes and vocabulary buckets compiled for `cell`.
pub fn compiled_shapes(cell: micrornn::model::CellKind) -> (&'static [usize], &'static [usize]) {
    match cell {
        micrornn::model::CellKind::Gru => (&GRU_HIDDEN_SIZES, &GRU_VOCAB_BUCKETS),
        _ => (&HIDDEN_SIZES, &VOCAB_BUCKETS),
    }
}

/// Calls `$f::<V, H>$args` for a compiled (hidden, vocabulary bucket) pair, or evaluates to an
/// error for any other. With a leading `cell KIND,` it calls `$f::<V, H, C>$args` with `C` the
/// language model of that [`CellKind`] (`ElmanLm<V, H>` or `GruLm<V, H>`, see [`cells`]); with a
/// leading `gru` it calls `$f::<V, H>$args` for the GRU's shapes only ([`GRU_HIDDEN_SIZES`] ×
/// [`GRU_VOCAB_BUCKETS`]).
///
/// [`CellKind`]: micrornn::model::CellKind
macro_rules! dispatch {
    (cell $kind:expr, $hidden:expr, $bucket:expr, $f:ident $args:tt) => {
        match $kind {
            micrornn::model::CellKind::Gru => dispatch!(gru $hidden, $bucket, $f $args; GruLm),
            _ => dispatch!($hidden, $bucket, $f $args; ElmanLm),
        }
    };
    (gru $hidden:expr, $bucket:expr, $f:ident $args:tt $(; $cell:ident)?) => {
        match $hidden {
            32 => dispatch!(@gru_vocab 32, $bucket, $f $args $(; $cell)?),
            64 => dispatch!(@gru_vocab 64, $bucket, $f $args $(; $cell)?),
            100 => dispatch!(@gru_vocab 100, $bucket, $f $args $(; $cell)?),
            128 => dispatch!(@gru_vocab 128, $bucket, $f $args $(; $cell)?),
            256 => dispatch!(@gru_vocab 256, $bucket, $f $args $(; $cell)?),
            other => Err($crate::Fail::new(format!(
                "hidden size {other} is not compiled in for the gru cell; choose one of {}",
                $crate::list(&$crate::GRU_HIDDEN_SIZES)
            ))),
        }
    };
    (@gru_vocab $h:literal, $bucket:expr, $f:ident $args:tt $(; $cell:ident)?) => {
        match $bucket {
            32 => $f::<32, $h $(, $crate::cells::$cell<32, $h>)?> $args,
            96 => $f::<96, $h $(, $crate::cells::$cell<96, $h>)?> $args,
            128 => $f::<128, $h $(, $crate::cells::$cell<128, $h>)?> $args,
            other => Err($crate::Fail::new(format!(
                "vocabulary bucket {other} is not compiled in for the gru cell (buckets: {})",
                $crate::list(&$crate::GRU_VOCAB_BUCKETS)
            ))),
        }
    };
    ($hidden:expr, $bucket:expr, $f:ident $args:tt $(; $cell:ident)?) => {
        match $hidden {
            32 => dispatch!(@vocab 32, $bucket, $f $args $(; $cell)?),
            64 => dispatch!(@vocab 64, $bucket, $f $args $(; $cell)?),
            100 => dispatch!(@vocab 100, $bucket, $f $args $(; $cell)?),
            128 => dispatch!(@vocab 128, $bucket, $f $args $(; $cell)?),
            256 => dispatch!(@vocab 256, $bucket, $f $args $(; $cell)?),
            512 => dispatch!(@vocab 512, $bucket, $f $args $(; $cell)?),
            other => Err($crate::Fail::new(format!(
                "hidden size {other} is not compiled in; choose one of {}",
                $crate::list(&$crate::HIDDEN_SIZES)
            ))),
        }
    };
    (@vocab $h:literal, $bucket:expr, $f:ident $args:tt $(; $cell:ident)?) => {
        match $bucket {
            32 => $f::<32, $h $(, $crate::cells::$cell<32, $h>)?> $args,
            64 => $f::<64, $h $(, $crate::cells::$cell<64, $h>)?> $args,
            96 => $f::<96, $h $(, $crate::cells::$cell<96, $h>)?> $args,
            128 => $f::<128, $h $(, $crate::cells::$cell<128, $h>)?> $args,
            256 => $f::<256, $h $(, $crate::cells::$cell<256, $h>)?> $args,
            other => Err($crate::Fail::new(format!(
                "vocabulary bucket {other} is not compiled in (buckets: {})",
                $crate::list(&$crate::VOCAB_BUCKETS)
            ))),
        }
    };
}
pub(crate) use dispatch;

#[derive(Parser)]
#[command(
    name = "micrornn",
    version,
    about = "Train a small character-level RNN on a text, sample from it, evaluate it.",
    long_about = "Train a small character-level Elman RNN on a text, sample from it, evaluate it.\n\n\
        With no arguments, trains on a built-in corpus (micrornn's own source code) for a minute \
        and prints samples."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "one command is parsed per run; boxing its arguments would save nothing"
)]
enum Command {
    /// Train a model on a text file (or, without one, the built-in corpus for 60 s), or a
    /// classifier on a series file (.ts or .csv).
    Train(TrainArgs),
    /// Generate text from a model.
    Sample(SampleArgs),
    /// Mean cross-entropy of a model on a text file, in nats and bits per character.
    Eval(EvalArgs),
    /// Quantize a trained model: int8 weights, Q15 hidden state (sample/eval read the result).
    Quantize(quantize::QuantizeArgs),
    /// Name the class of a text with a classifier model file (prints the class and its
    /// probability), or of every series of a .ts/.csv file with a series model.
    Classify(ClassifyArgs),
    /// Make a model file from PyTorch (nn.RNN + nn.Linear) or Keras (SimpleRNN + Dense)
    /// weights saved as safetensors, a numpy .npz or a PyTorch .pt state dict.
    Import(ImportArgs),
    /// Write a model's weights as a PyTorch nn.RNN + nn.Linear state dict (safetensors).
    Export(ExportArgs),
}

/// `micrornn classify`.
#[derive(Args)]
pub struct ClassifyArgs {
    /// Classifier model file (e.g. written by the sentiment example).
    pub model: PathBuf,
    /// The text: words separated by whitespace; for a series model, a .ts or .csv file.
    pub text: String,
    /// Series models: print the class probabilities after every sample, as a device that
    /// receives one sample at a time sees them.
    #[arg(long)]
    pub stream: bool,
}

/// `micrornn import`.
#[derive(Args)]
pub struct ImportArgs {
    /// The weights: safetensors, a numpy .npz, or a PyTorch .pt/.pth state dict.
    pub file: PathBuf,
    /// The characters in the model's id order (any order), as a JSON array of one-character
    /// strings [default: from the file's metadata, as `micrornn export` writes it].
    #[arg(long, value_name = "VOCAB")]
    pub vocab: Option<PathBuf>,
    /// The RNN's nonlinearity, needed when the file does not record it (a plain state dict or
    /// .npz); only tanh can run.
    #[arg(long, value_enum)]
    pub nonlinearity: Option<NonlinearityArg>,
    /// Where to write the model file.
    #[arg(long, value_name = "MODEL")]
    pub out: PathBuf,
}

/// `micrornn export`.
#[derive(Args)]
pub struct ExportArgs {
    /// Model file.
    pub model: PathBuf,
    /// Where to write the safetensors file.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// Nonlinearities on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NonlinearityArg {
    /// tanh (nn.RNN's and SimpleRNN's default).
    Tanh,
    /// relu (refused: micrornn's cell is tanh).
    Relu,
}

impl From<NonlinearityArg> for micrornn::host::weights::Nonlinearity {
    fn from(arg: NonlinearityArg) -> Self {
        match arg {
            NonlinearityArg::Tanh => Self::Tanh,
            NonlinearityArg::Relu => Self::Relu,
        }
    }
}

/// Recurrent cells on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CellArg {
    /// The Elman cell, h = tanh(W_xh·x + W_hh·h + b_h) (min-char-rnn's).
    #[default]
    Elman,
    /// The gated recurrent unit of PyTorch's nn.GRU (gates r, z, n).
    Gru,
}

impl From<CellArg> for micrornn::model::CellKind {
    fn from(arg: CellArg) -> Self {
        match arg {
            CellArg::Elman => Self::Elman,
            CellArg::Gru => Self::Gru,
        }
    }
}

/// Readouts of a series classifier on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReadoutArg {
    /// The state after the last sample.
    Last,
    /// The mean of the states over the series.
    Mean,
}

/// Optimizers on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OptimizerArg {
    /// Adagrad (min-char-rnn; default lr 0.1).
    Adagrad,
    /// Plain SGD (default lr 0.01).
    Sgd,
    /// Adam (default lr 0.001).
    Adam,
}

impl From<OptimizerArg> for OptimizerKind {
    fn from(arg: OptimizerArg) -> Self {
        match arg {
            OptimizerArg::Adagrad => OptimizerKind::Adagrad,
            OptimizerArg::Sgd => OptimizerKind::Sgd,
            OptimizerArg::Adam => OptimizerKind::Adam,
        }
    }
}

/// `micrornn train`.
#[derive(Args, Default)]
pub struct TrainArgs {
    /// UTF-8 text to learn, or a series file (.ts or .csv) to train a classifier on. Without
    /// it: the built-in corpus, for 60 seconds.
    pub corpus: Option<PathBuf>,
    /// Series files: a test set, whose accuracy is printed during and after training.
    #[arg(long, value_name = "TEST")]
    pub test: Option<PathBuf>,
    /// Recurrent cell [default: elman for text (a resumed run's is the checkpoint's), gru for
    /// series].
    #[arg(long, value_enum)]
    pub cell: Option<CellArg>,
    /// Series files: read the class from the last state or the mean state [default: last].
    #[arg(long, value_enum)]
    pub readout: Option<ReadoutArg>,
    /// Series files: decoupled weight decay (AdamW): every parameter is multiplied by 1 − lr·WD
    /// after each update [default: 0, off].
    #[arg(long, value_name = "WD")]
    pub weight_decay: Option<f32>,
    /// Series files: add Gaussian noise of this standard deviation (in normalized units) to
    /// every training sample, drawn anew for each update [default: 0.2].
    #[arg(long, value_name = "STD")]
    pub noise: Option<f32>,
    /// Series files: resample each training series to its length times a factor drawn from
    /// [1/(1+S), 1+S], anew for each update [default: 0.2].
    #[arg(long, value_name = "S")]
    pub stretch: Option<f32>,
    /// Hidden units: 32, 64, 100, 128, 256 or 512 [default: 100]; series: 16, 32 or 64
    /// [default: 64].
    #[arg(long)]
    pub hidden: Option<usize>,
    /// Characters per training chunk (BPTT length), 1..=256 [default: 25].
    #[arg(long)]
    pub seq_len: Option<usize>,
    /// Learning rate [default: 0.1 for adagrad, 0.01 for sgd, 0.001 for adam; series: 0.003].
    #[arg(long)]
    pub lr: Option<f32>,
    /// Multiply the learning rate by F after every pass over the data (epoch e trains with
    /// lr·F^e) [default: 1, no decay].
    #[arg(long, value_name = "F")]
    pub lr_decay: Option<f32>,
    /// Update rule [default: adagrad].
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerArg>,
    /// Clip every gradient element to ±F; 0 turns clipping off [default: 5]. Series: the
    /// gradient's norm is clipped to F [default: 5].
    #[arg(long)]
    pub clip: Option<f32>,
    /// Let each output's gradient flow back at most K steps [default: the whole chunk].
    #[arg(long, value_name = "K")]
    pub bptt_window: Option<usize>,
    /// Train B streams at once (contiguous parts of the text, the gradient averaged over them):
    /// 1, or a multiple of 8 up to 256 [default: 1]. Series: B series per update, each at its
    /// own length, the gradient averaged over them, 1 to 64 [default: 1].
    #[arg(long, value_name = "B")]
    pub batch: Option<usize>,
    /// Threads sharing a batch's streams (series: a batch's series); the model is the same for
    /// any number [default: the cores available, at most 2; series: 1].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Stop after N iterations (chunks) in this run.
    #[arg(long, value_name = "N", conflicts_with_all = ["epochs", "time"])]
    pub iters: Option<u64>,
    /// Stop after N passes over the training text in this run [series: default 100].
    #[arg(long, value_name = "N", conflicts_with = "time")]
    pub epochs: Option<u64>,
    /// Stop after SECS seconds [default: 60 for the built-in corpus; a corpus file trains until
    /// Ctrl-C].
    #[arg(long, value_name = "SECS")]
    pub time: Option<f64>,
    /// Seed of the initialization [default: 42; series: 0, also of the shuffles].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fraction of the text (its end) held out for validation [default: 0.1]. Series: the share
    /// of each class's training series held out (stratified, drawn from the seed), the model of
    /// the best validation epoch kept [default: 0, off].
    #[arg(long, value_name = "F")]
    pub val_fraction: Option<f32>,
    /// Print a sample, the validation loss, and save a checkpoint every N iterations; 0: never.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub sample_every: u64,
    /// Keep the best model: at every --sample-every, score the whole validation text, and save
    /// the model (to --out) only when it beats every model scored before; the end of the run
    /// saves the last model only if it is the best. Without it, --out is the last model.
    #[arg(long)]
    pub keep_best: bool,
    /// Dropout on the readout's input while training: each hidden unit feeding the output layer
    /// is zeroed with probability P (the others scaled by 1/(1−P)); the recurrence and the saved
    /// model are unchanged. Needs --batch ≥ 8 [default: 0, none].
    #[arg(long, value_name = "P")]
    pub dropout: Option<f32>,
    /// Where to save the model. The loss history goes beside it (MODEL.loss.csv, .loss.svg).
    #[arg(long, value_name = "MODEL", default_value = "model.mrnn")]
    pub out: PathBuf,
    /// Where to save checkpoints [default: MODEL with the extension .ckpt]. Series: after every
    /// epoch and on Ctrl-C, only when given.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// Continue the run saved in this checkpoint, exactly where it stopped (series: with the
    /// same training file and settings, up to --epochs in all).
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Print one JSON object with the results at the end, and nothing else, on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `micrornn sample`.
#[derive(Args)]
pub struct SampleArgs {
    /// Model file written by `micrornn train`.
    pub model: PathBuf,
    /// Characters to generate.
    #[arg(long, default_value_t = 200)]
    pub len: usize,
    /// Softmax temperature: 0 is greedy, 1 the model's distribution, above 1 flatter.
    #[arg(long, default_value_t = 1.0)]
    pub temperature: f32,
    /// Draw only from the K most likely characters; 0: all.
    #[arg(long, value_name = "K", default_value_t = 0)]
    pub top_k: usize,
    /// Text to start from (printed, then continued).
    #[arg(long)]
    pub prime: Option<String>,
    /// Seed of the draws [default: from the clock].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Start from the zero hidden state instead of the one stored in the model file (the
    /// carried state at the end of training).
    #[arg(long)]
    pub zero_state: bool,
}

/// `micrornn eval`.
#[derive(Args)]
pub struct EvalArgs {
    /// Model file written by `micrornn train`.
    pub model: PathBuf,
    /// UTF-8 text to evaluate on (for a classifier: `text<TAB>label` lines; prints accuracy;
    /// for a series model: a .ts or .csv file).
    pub file: PathBuf,
    /// Series models: write the confusion matrix as an SVG picture to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Print one JSON object instead of a sentence.
    #[arg(long)]
    pub json: bool,
    /// Start from the zero hidden state instead of the one stored in the model file.
    #[arg(long)]
    pub zero_state: bool,
}

/// A failure: one line for the user.
#[derive(Debug)]
pub struct Fail(String);

impl Fail {
    /// A failure with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Fail(message.into())
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a command ended, when it did not fail.
pub enum Outcome {
    /// Done.
    Done,
    /// Stopped by Ctrl-C after saving its work.
    Interrupted,
}

/// `32, 64, 128`.
pub fn list(values: &[usize]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Rust type a firmware declares for a model of this binary (`type_name` `Rnn` or `QRnn`,
/// bucket, hidden size), and why its vocabulary is a bucket rather than the exact size: the
/// sizes are const generics, so the binary compiles one copy of the code per bucket.
pub fn rust_type(type_name: &str, bucket: usize, hidden: usize, symbols: usize) -> String {
    let mut line = format!("firmware type: {type_name}<{bucket}, {hidden}, {bucket}>");
    if symbols < bucket {
        let padded = bucket - symbols;
        let bytes_per_value = if type_name == "QRnn" { 1 } else { 4 };
        line += &format!(
            " ({symbols} symbols padded to the bucket of {bucket}: the binary compiles the \
             buckets {buckets:?}, not every size; the {padded} padded input and output rows \
             are zeros and never trained, {} bytes of weights)",
            bytes_per_value * 2 * padded * hidden,
            buckets = VOCAB_BUCKETS,
        );
    }
    line
}

/// A path for messages.
pub fn show(path: &Path) -> String {
    path.display().to_string()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(error) = micrornn::host::kernel_choice::select_from_env() {
        eprintln!("error: {error}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        None => train::run(TrainArgs {
            out: PathBuf::from("model.mrnn"),
            sample_every: 1000,
            ..TrainArgs::default()
        }),
        Some(Command::Train(args))
            if args.corpus.as_deref().is_some_and(series::is_series_file) =>
        {
            train_series::run(args)
        }
        Some(Command::Train(args)) => {
            train_series::refuse_series_options(&args).and_then(|()| train::run(args))
        }
        Some(Command::Sample(args)) => generate::sample(&args).map(|()| Outcome::Done),
        Some(Command::Eval(args)) => generate::eval(&args).map(|()| Outcome::Done),
        Some(Command::Quantize(args)) => quantize::run(&args),
        Some(Command::Classify(args)) => classify::run(&args).map(|()| Outcome::Done),
        Some(Command::Import(args)) => import::run(&args).map(|()| Outcome::Done),
        Some(Command::Export(args)) => export::run(&args).map(|()| Outcome::Done),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Interrupted) => ExitCode::from(130),
        Err(fail) => {
            eprintln!("error: {}", fail.0.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}
