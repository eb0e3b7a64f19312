//! Notebook 000: a character-level RNN on the first 10,000 characters of tinyshakespeare, trained
//! with plain SGD and a BPTT window of 5 steps, reporting the mean cost per character each epoch.
//!
//! ```sh
//! cargo run --release --example shakespeare_sgd [-- [FILE] [--epochs N] [--seed S]]
//! ```
//!
//! Settings (as in the notebook): H = 128, chunks of 25 characters with the hidden state reset to
//! zero at the start of each, SGD lr 0.001, no clipping, each output's gradient flowing back at
//! most 5 steps, weights uniform in ±1/√fan_in. The cost is the notebook's: the mean
//! cross-entropy per character (nats) over the same chunks, hidden state reset per chunk.

#[path = "common/args.rs"]
mod args;

use micrornn::eval::cross_entropy;
use micrornn::{CharVocab, Clip, DefaultRng, Rnn, Sgd, Tape, TrainConfig, Trainer};
use rand_core::SeedableRng;
use std::error::Error;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Distinct characters of tinyshakespeare: the model's inputs and outputs.
const VOCAB: usize = 65;
/// Hidden units.
const HIDDEN: usize = 128;
/// Characters per chunk.
const SEQ_LEN: usize = 25;

/// What to run.
pub struct Options {
    /// The text; its distinct characters form the vocabulary (at most 65).
    pub path: PathBuf,
    /// Characters predicted per epoch (the notebook's `training_examples`).
    pub chars: usize,
    /// Passes over those characters.
    pub epochs: usize,
    /// Seed of the weight initialization.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            path: PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/data/tinyshakespeare.txt"
            )),
            chars: 10_000,
            epochs: 10,
            seed: 0,
        }
    }
}

/// What the run printed, for tests.
pub struct Outcome {
    /// Distinct characters in the file.
    pub vocab_size: usize,
    /// Mean cost per character before training (`costs[0]`) and after each epoch.
    pub costs: Vec<f64>,
}

/// Trains as the notebook did, writing its report to `out`.
pub fn run(options: &Options, out: &mut dyn Write) -> Result<Outcome, Box<dyn Error>> {
    // The default path goes through `..`; show it resolved.
    let path = std::fs::canonicalize(&options.path).unwrap_or_else(|_| options.path.clone());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let vocab = CharVocab::<VOCAB>::from_text(&text).map_err(|e| {
        format!(
            "{}: {e} (this example is sized for tinyshakespeare)",
            path.display()
        )
    })?;
    let ids = text
        .chars()
        .take(options.chars + 1)
        .map(|c| vocab.encode(c))
        .collect::<Result<Vec<usize>, _>>()?;
    let chunks = (ids.len() - 1) / SEQ_LEN;
    let classes = vocab.len();
    writeln!(
        out,
        "{}: {} characters, {classes} distinct; training on the first {} \
         ({chunks} chunks of {SEQ_LEN})",
        path.display(),
        text.chars().count(),
        ids.len() - 1,
    )?;
    writeln!(
        out,
        "H = {HIDDEN}, SGD lr 0.001, no clipping, BPTT window 5, hidden reset per chunk, \
         init U(±1/√fan_in), seed {}\n",
        options.seed
    )?;

    let mut model = Rnn::<VOCAB, HIDDEN, VOCAB>::boxed_zero();
    model.init_uniform(&mut DefaultRng::seed_from_u64(options.seed));
    let mut grads = Rnn::boxed_zero();
    let mut tape = Tape::<SEQ_LEN, HIDDEN, VOCAB>::ZERO;
    let mut sgd = Sgd { lr: 0.001 };
    let config = TrainConfig {
        seq_len: SEQ_LEN,
        clip: Clip::None,
        window: Some(5),
        carry_hidden: false,
        classes,
    };
    let mut trainer = Trainer::new(&mut *model, &mut *grads, &mut tape, &mut sgd, config)?;

    let cost = |model: &Rnn<VOCAB, HIDDEN, VOCAB>| -> Result<f64, micrornn::Error> {
        Ok(cross_entropy(model, &ids, classes, Some(SEQ_LEN))?.per_symbol())
    };
    let mut costs = vec![cost(trainer.buffers.model)?];
    writeln!(out, "epoch   cost/char (nats)")?;
    writeln!(
        out,
        "{:>5}   {:.4}   untrained (ln {classes} = {:.4})",
        0,
        costs[0],
        (classes as f64).ln()
    )?;
    let started = Instant::now();
    for epoch in 1..=options.epochs {
        for _ in 0..chunks {
            trainer.train_chunk(&ids)?;
        }
        costs.push(cost(trainer.buffers.model)?);
        writeln!(out, "{epoch:>5}   {:.4}", costs[epoch])?;
    }
    let seconds = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "\n{} epochs in {seconds:.1} s ({:.0} characters trained per second)",
        options.epochs,
        (options.epochs * chunks * SEQ_LEN) as f64 / seconds
    )?;
    Ok(Outcome {
        vocab_size: classes,
        costs,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    const USAGE: &str = "usage: shakespeare_sgd [FILE] [--epochs N] [--seed S] [--chars N]";
    let mut options = Options::default();
    for arg in args::parse(USAGE)? {
        match arg {
            args::Arg::Option(o) => match o.name.as_str() {
                "--epochs" => options.epochs = o.parse()?,
                "--seed" => options.seed = o.parse()?,
                "--chars" => options.chars = o.parse()?,
                _ => return Err(o.unknown(USAGE).into()),
            },
            args::Arg::Positional(path) => options.path = PathBuf::from(path),
            args::Arg::Help => {
                println!("{USAGE}");
                return Ok(());
            }
        }
    }
    run(&options, &mut std::io::stdout().lock())?;
    Ok(())
}
