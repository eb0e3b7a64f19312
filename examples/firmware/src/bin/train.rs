//! On-device training: a character model learns a poem inside the firmware, then must write it
//! back greedily. All state is in `static`s or on the stack; there is no heap.
//!
//! ```text
//! cd examples/firmware
//! cargo run --release --bin train                                # Cortex-M4F (mps2-an386)
//! FW_CELL=gru cargo run --release --bin train                    # the same with a GRU
//! cargo run --release --bin train --target thumbv6m-none-eabi    # Cortex-M0 (microbit, 16 KB RAM)
//! ```
//!
//! `FW_CELL=gru` trains a [`Gru`](micrornn::Gru) instead of the Elman
//! [`Rnn`](micrornn::Rnn): the same code, generic over the crate's `Cell`.
//!
//! The QEMU exit status is the result: 0 if the sample reproduces the text, 1 if it does not,
//! on an error, a panic or a HardFault.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use micrornn::{
    Adagrad, Cell, CharVocab, DefaultRng, Error, Generator, Sampling, Tape, TrainConfig, Trainer,
};
use rand_xoshiro::rand_core::SeedableRng;

/// HIDDEN, SEQ_LEN, ITERATIONS, CHECK, FIRST_LINE_ONLY, CellOf: chosen per target by build.rs.
#[allow(dead_code)]
mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}
use config::{CHECK, CellOf, FIRST_LINE_ONLY, HIDDEN, ITERATIONS, SEQ_LEN};

/// The first verse of Emily Dickinson's "Hope is the thing with feathers" (notebook 003).
const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                    And sings the tune without the words and never stops at all. ";
/// Its first line, for the Cortex-M0: 16 KB of RAM hold only H = 16, too few units to learn the
/// whole verse reliably.
const FIRST_LINE: &str = "Hope is the thing with feathers that perches in the soul. ";
/// The text the firmware learns.
const TEXT: &str = if FIRST_LINE_ONLY { FIRST_LINE } else { POEM };
/// Its distinct characters (22 in the poem, 19 in the first line): the model's inputs and
/// outputs.
const VOCAB: usize = if FIRST_LINE_ONLY { 19 } else { 22 };
/// Characters in the text (it is ASCII).
const LEN: usize = TEXT.len();
/// The training data: the text, then its first `SEQ_LEN + 1` characters again, so that every
/// pass over the data trains every transition, including the one from the end back to "Hope".
const DATA_LEN: usize = LEN + SEQ_LEN + 1;

/// The cell trained: `Rnn` or `Gru` (`FW_CELL`).
type Model = CellOf<VOCAB, HIDDEN, VOCAB>;
/// The training tape, with the cell's per-step record.
type ModelTape = Tape<SEQ_LEN, HIDDEN, VOCAB, <Model as Cell<VOCAB, HIDDEN, VOCAB>>::Record>;

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these into `&'static mut` references, handed out once: no `unsafe`.
    static mut MODEL: Model = Model::ZERO;
    static mut GRADS: Model = Model::ZERO;
    static mut TAPE: ModelTape = Tape::ZERO;
    // All zero, so it lands in .bss; `Adagrad::new(0.1)` here would put the whole struct in
    // .data, costing its size twice: once in flash and once in RAM. `run` calls `init`.
    static mut ADAGRAD: Adagrad<Model> = Adagrad::ZERO;
    static mut IDS: [usize; DATA_LEN] = [0; DATA_LEN];

    let result = run(MODEL, GRADS, TAPE, ADAGRAD, IDS);
    hprintln!("peak stack: {} bytes", common::stack_high_water());
    match result {
        Ok(true) => common::exit(true),
        Ok(false) => common::exit(!CHECK),
        Err(error) => {
            hprintln!("error: {}", error);
            common::exit(false)
        }
    }
}

/// Trains, then samples; `Ok(true)` if the sample is the text.
fn run(
    model: &mut Model,
    grads: &mut Model,
    tape: &mut ModelTape,
    adagrad: &mut Adagrad<Model>,
    ids: &mut [usize; DATA_LEN],
) -> Result<bool, Error> {
    let vocab = CharVocab::<VOCAB>::from_text(TEXT)?;
    let (text, wrap) = ids.split_at_mut(LEN);
    vocab.encode_into(TEXT, text)?;
    vocab.encode_into(TEXT, wrap).ok(); // fills all of `wrap`, then reports the rest does not fit
    hprintln!(
        "training {:?}<{}, {}, {}> on {} chars: {} chunks of {} ({} bytes of model, {} of tape)",
        Model::KIND,
        VOCAB,
        HIDDEN,
        VOCAB,
        LEN,
        ITERATIONS,
        SEQ_LEN,
        Model::SIZE,
        ModelTape::SIZE
    );

    adagrad.init(0.1); // min-char-rnn's settings
    model.init_gaussian(&mut DefaultRng::seed_from_u64(1), 0.01);
    let config = TrainConfig {
        seq_len: SEQ_LEN,
        ..TrainConfig::min_char_rnn(vocab.len())
    };
    {
        let mut trainer = Trainer::new(model, grads, tape, adagrad, config)?;
        for i in 1..=ITERATIONS {
            common::train_start();
            let report = trainer.train_chunk(ids);
            common::train_stop();
            let report = report?;
            if i % (ITERATIONS / 5).max(1) == 0 {
                hprintln!(
                    "chunk {}: loss {} millinats/char",
                    i,
                    (report.loss * 1000.0 / SEQ_LEN as f32) as u32
                );
            }
        }
    } // the trainer's borrow of the model ends here

    // Greedy generation from the first character, as long as the text.
    let mut sampler = Generator::new(model, vocab.len(), Sampling::GREEDY)?;
    let mut rng = DefaultRng::seed_from_u64(0); // greedy decoding never draws from it
    let mut sample = [b'?'; LEN];
    let mut token = ids[0];
    let mut matched = true;
    for (out, &expected) in sample.iter_mut().zip(ids.iter()) {
        *out = vocab
            .decode(token)
            .filter(char::is_ascii)
            .map_or(b'?', |c| c as u8);
        matched &= token == expected;
        common::infer_start();
        let next = sampler.feed(token).and_then(|()| sampler.pick(&mut rng));
        common::infer_stop();
        token = next?;
    }
    hprintln!(
        "sample: {}",
        core::str::from_utf8(&sample).unwrap_or("(not UTF-8)")
    );
    hprintln!(
        "{}",
        if matched {
            "OK: the sample reproduces the text"
        } else {
            "FAIL: the sample differs from the text"
        }
    );
    Ok(matched)
}
