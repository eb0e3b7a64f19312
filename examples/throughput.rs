//! Training and sampling throughput of min-char-rnn on a text file, single thread.
//!
//! ```text
//! cargo run --release --example throughput -- [CORPUS] [--hidden 100|128|256] [--seconds S]
//!     [--chunks N]   # a fixed number of training chunks instead (for callgrind)
//! ```
//!
//! Settings as min-char-rnn: vocabulary of the corpus (at most 65 chars, tinyshakespeare has
//! exactly 65), seq 25, Adagrad lr 0.1, clip ±5, init N(0,1)·0.01, carried hidden state.
//! Prints one line per measurement, `name chars_per_second`, for `scripts/compare.sh`.
//! `MICRORNN_KERNELS=sse2|avx2+fma|…` in front runs another kernel table than the fastest.

#[path = "common/args.rs"]
mod args;

use micrornn::{
    Adagrad, CharVocab, DefaultRng, Rnn, Sampler, Sampling, Tape, TrainConfig, Trainer,
};
use rand_xoshiro::rand_core::SeedableRng;
use std::time::{Duration, Instant};

const V: usize = 65;

fn measure<const H: usize>(
    ids: &[usize],
    classes: usize,
    budget: Duration,
    chunks: Option<usize>,
) -> Result<(), micrornn::Error> {
    let mut model = Rnn::<V, H, V>::boxed_zero();
    model.init_gaussian(&mut DefaultRng::seed_from_u64(42), 0.01);
    let mut grads = Rnn::<V, H, V>::boxed_zero();
    let mut tape = Box::new(Tape::<25, H, V>::ZERO);
    let mut adagrad = Box::new(Adagrad::new(0.1));
    let config = TrainConfig::min_char_rnn(classes);
    let mut trainer = Trainer::new(&mut *model, &mut *grads, &mut *tape, &mut *adagrad, config)?;
    for _ in 0..200 {
        trainer.train_chunk(ids)?;
    }
    let (start, mut chars, mut loss) = (Instant::now(), 0usize, 0.0);
    if let Some(n) = chunks {
        for _ in 0..n {
            chars += trainer.train_chunk(ids)?.tokens;
        }
        println!("train_h{H} {chars} chars (fixed count)");
        return Ok(());
    }
    while start.elapsed() < budget {
        for _ in 0..100 {
            let report = trainer.train_chunk(ids)?;
            chars += report.tokens;
            loss = trainer.state.smooth_loss + 0.0 * report.loss;
        }
    }
    let rate = chars as f64 / start.elapsed().as_secs_f64();
    println!("train_h{H} {rate:.0}");
    eprintln!(
        "  (smoothed loss after {} chunks: {loss:.2})",
        trainer.state.iteration
    );

    let mut sampler = Sampler::new(&model, classes, Sampling::FULL)?;
    let mut rng = DefaultRng::seed_from_u64(7);
    sampler.feed(0)?;
    let (start, mut chars, mut checksum) = (Instant::now(), 0usize, 0usize);
    while start.elapsed() < budget {
        sampler.generate(&mut rng, 10_000, |id| checksum = checksum.wrapping_add(id))?;
        chars += 10_000;
    }
    let rate = chars as f64 / start.elapsed().as_secs_f64();
    println!("sample_h{H} {rate:.0}");
    eprintln!("  (checksum {checksum})");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micrornn::host::kernel_choice::select_from_env().map_err(|e| e.to_string())?;
    const USAGE: &str =
        "usage: throughput [CORPUS] [--hidden 100|128|256] [--seconds S] [--chunks N]";
    let (mut path, mut hidden, mut seconds) = (
        String::from("../shared/data/tinyshakespeare.txt"),
        vec![100usize, 128, 256],
        2.0f64,
    );
    let mut chunks = None;
    for arg in args::parse(USAGE)? {
        match arg {
            args::Arg::Option(o) => match o.name.as_str() {
                "--hidden" => hidden = vec![o.parse()?],
                "--chunks" => chunks = Some(o.parse()?),
                "--seconds" => seconds = o.parse()?,
                _ => return Err(o.unknown(USAGE).into()),
            },
            args::Arg::Positional(arg) => path = arg,
            args::Arg::Help => {
                println!("{USAGE}");
                return Ok(());
            }
        }
    }
    let text = std::fs::read_to_string(&path)?;
    let vocab = CharVocab::<V>::from_text(&text)?;
    let mut ids = vec![0usize; text.chars().count()];
    vocab.encode_into(&text, &mut ids)?;
    eprintln!(
        "{} chars, vocabulary {}, kernels {}",
        ids.len(),
        vocab.len(),
        micrornn::kernels::active().name
    );
    let budget = Duration::from_secs_f64(seconds);
    for h in hidden {
        match h {
            100 => measure::<100>(&ids, vocab.len(), budget, chunks)?,
            128 => measure::<128>(&ids, vocab.len(), budget, chunks)?,
            256 => measure::<256>(&ids, vocab.len(), budget, chunks)?,
            _ => return Err("--hidden must be 100, 128 or 256".into()),
        }
    }
    Ok(())
}
