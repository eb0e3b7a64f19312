//! Notebook 001 (Karpathy's min-char-rnn): a character-level language model trained with
//! Adagrad on any text, printing the smoothed loss and a 200-character sample every 1000
//! iterations.
//!
//! ```sh
//! cargo run --release --example min_char_rnn [-- [FILE] [--iterations N] [--seed S]]
//! ```
//!
//! Settings (as in the notebook): chunks of 25 characters, the hidden state carried from chunk to
//! chunk and reset at the end of the data, Adagrad lr 0.1, gradients clipped to ±5, weights
//! N(0, 1)·0.01, smoothed loss `0.999·s + 0.001·loss` starting at `ln(V)·25`. H = 64 (the
//! notebook's 83 was its vocabulary size, the original script used 100): the smaller model
//! learns faster over the first few thousand iterations (on tinyshakespeare, the smoothed loss
//! after 2000 iterations is 64.7–70.6 over seeds 0–9 with H = 64, 68.1–76.7 with H = 100).
//! Samples are drawn from the model's distribution, continuing from the current hidden state.
//!
//! The model is compiled for three vocabulary sizes, 64, 128 and 256 characters; a text runs in
//! the smallest that holds its distinct characters, with the spare outputs masked. Without a
//! file, the text is a built-in corpus: some of this crate's own source files.

#[path = "common/args.rs"]
mod args;

use micrornn::{
    Adagrad, CharVocab, DefaultRng, Rnn, Sampler, Sampling, Tape, TrainConfig, Trainer,
};
use rand_core::SeedableRng;
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;

/// Hidden units.
const HIDDEN: usize = 64;
/// Characters per chunk.
const SEQ_LEN: usize = 25;
/// The largest vocabulary the example is compiled for.
const MAX_VOCAB: usize = 256;

/// What to run.
pub struct Options {
    /// The text file, or `None` for the crate's built-in corpus ([`micrornn::host::corpus::BUILTIN`]).
    pub path: Option<PathBuf>,
    /// Training iterations (one chunk each).
    pub iterations: u64,
    /// Report the smoothed loss and a sample every this many iterations.
    pub report_every: u64,
    /// Characters per sample.
    pub sample_len: usize,
    /// Seed of the initialization and of the samples.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            path: None,
            iterations: 20_000,
            report_every: 1_000,
            sample_len: 200,
            seed: 0,
        }
    }
}

/// What the run printed, for tests.
pub struct Outcome {
    /// Distinct characters of the text.
    pub vocab_size: usize,
    /// The smoothed loss before training: `ln(vocab_size)·25`.
    pub start_loss: f32,
    /// `(iteration, smoothed loss)` at every report, the last one after the final iteration.
    pub losses: Vec<(u64, f32)>,
    /// The samples printed, one per report.
    pub samples: Vec<String>,
}

/// Trains as the notebook did, writing its report to `out`.
pub fn run(options: &Options, out: &mut dyn Write) -> Result<Outcome, Box<dyn Error>> {
    let (name, text) = match &options.path {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        ),
        None => (
            "the built-in corpus".to_string(),
            micrornn::host::corpus::BUILTIN.to_string(),
        ),
    };
    let vocab = CharVocab::<MAX_VOCAB>::from_text(&text).map_err(|e| format!("{name}: {e}"))?;
    let ids = text
        .chars()
        .map(|c| vocab.encode(c))
        .collect::<Result<Vec<usize>, _>>()?;
    writeln!(
        out,
        "{name}: {} characters, {} distinct",
        ids.len(),
        vocab.len()
    )?;
    match vocab.len() {
        0..=64 => train::<64>(options, &vocab, &ids, out),
        65..=128 => train::<128>(options, &vocab, &ids, out),
        _ => train::<MAX_VOCAB>(options, &vocab, &ids, out),
    }
}

/// The training loop for a model with `V` inputs and outputs.
fn train<const V: usize>(
    options: &Options,
    vocab: &CharVocab<MAX_VOCAB>,
    ids: &[usize],
    out: &mut dyn Write,
) -> Result<Outcome, Box<dyn Error>> {
    writeln!(
        out,
        "H = {HIDDEN}, seq {SEQ_LEN}, Adagrad lr 0.1, clip ±5, model sized for {V} characters, \
         seed {}",
        options.seed
    )?;
    let mut rng = DefaultRng::seed_from_u64(options.seed);
    let mut model = Rnn::<V, HIDDEN, V>::boxed_zero();
    model.init_gaussian(&mut rng, 0.01);
    let mut grads = Rnn::boxed_zero();
    let mut tape = Tape::<SEQ_LEN, HIDDEN, V>::ZERO;
    let mut adagrad = Box::new(Adagrad::new(0.1));
    let config = TrainConfig::min_char_rnn(vocab.len());
    let mut trainer = Trainer::new(&mut *model, &mut *grads, &mut tape, &mut *adagrad, config)?;
    let start_loss = trainer.state.smooth_loss;

    let mut losses = Vec::new();
    let mut samples = Vec::new();
    let every = options.report_every.max(1);
    for iteration in 0..=options.iterations {
        if iteration % every == 0 || iteration == options.iterations {
            // Continue the text from where training stands: the carried hidden state, fed the
            // next chunk's first character.
            let mut sampler = Sampler::new(&*trainer.buffers.model, vocab.len(), Sampling::FULL)?;
            sampler.set_hidden(trainer.state.hidden);
            sampler.feed(ids.get(trainer.state.position).copied().unwrap_or(0))?;
            let mut sample = String::new();
            sampler.generate(&mut rng, options.sample_len, |id| {
                sample.extend(vocab.decode(id))
            })?;
            let smooth = trainer.state.smooth_loss;
            writeln!(
                out,
                "\niter {iteration}, smoothed loss {smooth:.3}\n----\n{sample}\n----"
            )?;
            losses.push((iteration, smooth));
            samples.push(sample);
        }
        if iteration < options.iterations {
            trainer.train_chunk(ids)?;
        }
    }
    Ok(Outcome {
        vocab_size: vocab.len(),
        start_loss,
        losses,
        samples,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    const USAGE: &str = "usage: min_char_rnn [FILE] [--iterations N] [--seed S]";
    let mut options = Options::default();
    for arg in args::parse(USAGE)? {
        match arg {
            args::Arg::Option(o) => match o.name.as_str() {
                "--iterations" => options.iterations = o.parse()?,
                "--seed" => options.seed = o.parse()?,
                _ => return Err(o.unknown(USAGE).into()),
            },
            args::Arg::Positional(path) => options.path = Some(PathBuf::from(path)),
            args::Arg::Help => {
                println!("{USAGE}");
                return Ok(());
            }
        }
    }
    run(&options, &mut std::io::stdout().lock())?;
    Ok(())
}
