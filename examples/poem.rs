//! Notebook 003: memorize a one-sentence poem repeated 100 times, then reproduce it by greedy
//! generation from its first letter.
//!
//! ```sh
//! cargo run --release --example poem [-- [--iterations N] [--seed S]]
//! ```
//!
//! Settings (as in the notebook): H = 64, chunks of 25 characters with the hidden state carried
//! from chunk to chunk, Adagrad lr 0.1, gradients clipped to ±5, 10,000 iterations, weights
//! N(0, 1)·0.01. The model is sized for up to 32 distinct characters; the poem has 22, and the
//! 10 spare outputs are masked (probability exactly 0).

#[path = "common/args.rs"]
mod args;

use micrornn::{
    Adagrad, CharVocab, DefaultRng, Rnn, Sampler, Sampling, Tape, TrainConfig, Trainer,
};
use rand_core::SeedableRng;
use std::error::Error;
use std::io::Write;

/// The first sentences of Emily Dickinson's "Hope is the thing with feathers", as in the notebook.
pub const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                        And sings the tune without the words and never stops at all. ";

/// Vocabulary capacity: inputs and outputs of the model.
const VOCAB: usize = 32;
/// Hidden units.
const HIDDEN: usize = 64;
/// Characters per chunk.
const SEQ_LEN: usize = 25;

/// What to run.
pub struct Options {
    /// Training iterations (one chunk each).
    pub iterations: u64,
    /// Report the loss and a sample every this many iterations.
    pub report_every: u64,
    /// Characters generated greedily at the end, after the seed `H`.
    pub generate: usize,
    /// Seed of the initialization and of the samples.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            iterations: 10_000,
            report_every: 1_000,
            generate: 200,
            seed: 0,
        }
    }
}

/// What the run printed, for tests.
pub struct Outcome {
    /// Distinct characters of the poem.
    pub vocab_size: usize,
    /// Smoothed loss at the end of training.
    pub smooth_loss: f32,
    /// The greedy generation, starting with the seed `H`.
    pub generated: String,
}

/// Trains as the notebook did, writing its report to `out`.
pub fn run(options: &Options, out: &mut dyn Write) -> Result<Outcome, Box<dyn Error>> {
    let text = POEM.repeat(100);
    let vocab = CharVocab::<VOCAB>::from_text(&text)?;
    let ids = text
        .chars()
        .map(|c| vocab.encode(c))
        .collect::<Result<Vec<usize>, _>>()?;
    writeln!(out, "target pattern: {POEM}")?;
    writeln!(
        out,
        "{} characters, {} distinct; H = {HIDDEN}, seq {SEQ_LEN}, Adagrad lr 0.1, clip ±5, seed {}\n",
        ids.len(),
        vocab.len(),
        options.seed
    )?;

    let mut rng = DefaultRng::seed_from_u64(options.seed);
    let mut model = Rnn::<VOCAB, HIDDEN, VOCAB>::ZERO;
    model.init_gaussian(&mut rng, 0.01);
    let mut grads = Rnn::ZERO;
    let mut tape = Tape::<SEQ_LEN, HIDDEN, VOCAB>::ZERO;
    let mut adagrad = Adagrad::new(0.1);
    let config = TrainConfig::min_char_rnn(vocab.len());
    let mut trainer = Trainer::new(&mut model, &mut grads, &mut tape, &mut adagrad, config)?;

    writeln!(
        out,
        "iteration   chunk loss   smoothed loss   sample (150 characters)"
    )?;
    for iteration in 0..options.iterations {
        let seed_char = ids.get(trainer.state.position).copied().unwrap_or(0);
        let report = trainer.train_chunk(&ids)?;
        if iteration % options.report_every.max(1) == 0 {
            let mut sampler = Sampler::new(trainer.buffers.model, vocab.len(), Sampling::FULL)?;
            sampler.feed(seed_char)?;
            let mut sample = String::new();
            sampler.generate(&mut rng, 150, |id| sample.extend(vocab.decode(id)))?;
            writeln!(
                out,
                "{iteration:>9}   {:>10.4}   {:>13.4}   {sample:?}",
                report.loss, trainer.state.smooth_loss
            )?;
        }
    }
    let smooth_loss = trainer.state.smooth_loss;

    let mut sampler = Sampler::new(&model, vocab.len(), Sampling::GREEDY)?;
    sampler.feed(vocab.encode('H')?)?;
    let mut generated = String::from("H");
    sampler.generate(&mut rng, options.generate, |id| {
        generated.extend(vocab.decode(id))
    })?;
    let expected: String = POEM
        .chars()
        .cycle()
        .take(generated.chars().count())
        .collect();
    writeln!(out, "\ngreedy generation from \"H\":\n{generated}")?;
    writeln!(
        out,
        "{}",
        if generated == expected {
            "= the poem, reproduced exactly"
        } else {
            "differs from the poem"
        }
    )?;
    Ok(Outcome {
        vocab_size: vocab.len(),
        smooth_loss,
        generated,
    })
}

fn main() -> Result<(), Box<dyn Error>> {
    const USAGE: &str = "usage: poem [--iterations N] [--seed S]";
    let mut options = Options::default();
    for arg in args::parse(USAGE)? {
        match arg {
            args::Arg::Option(o) => match o.name.as_str() {
                "--iterations" => options.iterations = o.parse()?,
                "--seed" => options.seed = o.parse()?,
                _ => return Err(o.unknown(USAGE).into()),
            },
            args::Arg::Positional(arg) => return Err(format!("{USAGE}; got {arg}").into()),
            args::Arg::Help => {
                println!("{USAGE}");
                return Ok(());
            }
        }
    }
    run(&options, &mut std::io::stdout().lock())?;
    Ok(())
}
