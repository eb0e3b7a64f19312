//! Training and sampling throughput of min-char-rnn on a text file, single thread.
//!
//! ```text
//! cargo run --release --example throughput -- [CORPUS] [--hidden 100|128|256] [--seconds S]
//!     [--chunks N]   # a fixed number of training chunks instead (for callgrind)
//!     [--cell elman|gru]
//! ```
//!
//! Settings as min-char-rnn: vocabulary of the corpus (at most 65 chars, tinyshakespeare has
//! exactly 65), seq 25, Adagrad lr 0.1, clip ±5, init N(0,1)·0.01, carried hidden state.
//! Prints one line per measurement, `name chars_per_second`, for `scripts/compare.sh`. With
//! `--cell gru` the same training loop runs a GRU (`gru_train_hH`; training only: sampling goes
//! through the Elman `Sampler` today), init uniform in ±1/√H as PyTorch's `nn.GRU`.
//! `MICRORNN_KERNELS=sse2|avx2+fma|…` in front runs another kernel table than the fastest.

#[path = "common/args.rs"]
mod args;

use micrornn::{
    Adagrad, Cell, CharVocab, DefaultRng, Gru, Rnn, Sampler, Sampling, Tape, TrainConfig, Trainer,
    Zeroable, boxed_zeroed,
};
use rand_xoshiro::rand_core::SeedableRng;
use std::time::{Duration, Instant};

const V: usize = 65;

/// Trains `model` (any cell) as min-char-rnn does and prints `{name}_h{H} chars_per_second`
/// (or, with `chunks`, the chars of that many chunks).
fn train_rate<C, const H: usize>(
    name: &str,
    model: &mut C,
    ids: &[usize],
    classes: usize,
    budget: Duration,
    chunks: Option<usize>,
) -> Result<(), micrornn::Error>
where
    C: Cell<V, H, V> + Zeroable,
    C::Record: Zeroable,
{
    let mut grads = boxed_zeroed::<C>();
    let mut tape = boxed_zeroed::<Tape<25, H, V, C::Record>>();
    let mut adagrad = boxed_zeroed::<Adagrad<C>>();
    adagrad.init(0.1);
    let config = TrainConfig::min_char_rnn(classes);
    let mut trainer = Trainer::new(model, &mut *grads, &mut *tape, &mut *adagrad, config)?;
    for _ in 0..200 {
        trainer.train_chunk(ids)?;
    }
    let (start, mut chars, mut loss) = (Instant::now(), 0usize, 0.0);
    if let Some(n) = chunks {
        for _ in 0..n {
            chars += trainer.train_chunk(ids)?.tokens;
        }
        println!("{name}_h{H} {chars} chars (fixed count)");
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
    println!("{name}_h{H} {rate:.0}");
    eprintln!(
        "  (smoothed loss after {} chunks: {loss:.2})",
        trainer.state.iteration
    );
    Ok(())
}

fn measure<const H: usize>(
    ids: &[usize],
    classes: usize,
    budget: Duration,
    chunks: Option<usize>,
) -> Result<(), micrornn::Error> {
    let mut model = Rnn::<V, H, V>::boxed_zero();
    model.init_gaussian(&mut DefaultRng::seed_from_u64(42), 0.01);
    train_rate("train", &mut *model, ids, classes, budget, chunks)?;
    if chunks.is_some() {
        return Ok(());
    }
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

/// GRU training chars/s (sampling goes through the Elman `Sampler` today).
fn measure_gru<const H: usize>(
    ids: &[usize],
    classes: usize,
    budget: Duration,
    chunks: Option<usize>,
) -> Result<(), micrornn::Error> {
    let mut model = Gru::<V, H, V>::boxed_zero();
    model.init_uniform(&mut DefaultRng::seed_from_u64(42));
    train_rate("gru_train", &mut *model, ids, classes, budget, chunks)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    micrornn::host::kernel_choice::select_from_env().map_err(|e| e.to_string())?;
    const USAGE: &str = "usage: throughput [CORPUS] [--hidden 100|128|256] [--seconds S] [--chunks N] [--cell elman|gru]";
    let (mut path, mut hidden, mut seconds) = (
        String::from("../shared/data/tinyshakespeare.txt"),
        vec![100usize, 128, 256],
        2.0f64,
    );
    let (mut chunks, mut gru) = (None, false);
    for arg in args::parse(USAGE)? {
        match arg {
            args::Arg::Option(o) => match o.name.as_str() {
                "--hidden" => hidden = vec![o.parse()?],
                "--chunks" => chunks = Some(o.parse()?),
                "--seconds" => seconds = o.parse()?,
                "--cell" => {
                    gru = match o.parse::<String>()?.as_str() {
                        "gru" => true,
                        "elman" => false,
                        _ => return Err("--cell must be elman or gru".into()),
                    }
                }
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
        match (h, gru) {
            (100, false) => measure::<100>(&ids, vocab.len(), budget, chunks)?,
            (128, false) => measure::<128>(&ids, vocab.len(), budget, chunks)?,
            (256, false) => measure::<256>(&ids, vocab.len(), budget, chunks)?,
            (100, true) => measure_gru::<100>(&ids, vocab.len(), budget, chunks)?,
            (128, true) => measure_gru::<128>(&ids, vocab.len(), budget, chunks)?,
            (256, true) => measure_gru::<256>(&ids, vocab.len(), budget, chunks)?,
            _ => return Err("--hidden must be 100, 128 or 256".into()),
        }
    }
    Ok(())
}
