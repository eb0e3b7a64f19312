//! The firmware behind the footprint table of the README (`scripts/embedded-report.sh`): a
//! `Rnn<32, H, 32>` that trains on a few chunks of random tokens and then runs inference steps,
//! between the instruction-count markers of `common.rs`.
//!
//! `FW_MODE` (read by build.rs) picks what is linked: `train` (training and inference), `infer`
//! (inference only) or `baseline` (neither: only the runtime, printing and exit), so that the
//! core's share of flash is the difference to the `baseline` build. `FW_HIDDEN` sets H.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;
#[path = "../scales.rs"]
mod scales;

use core::hint::black_box;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use micrornn::{Adagrad, DefaultRng, Error, Input, Rnn, Tape, TrainConfig, Trainer, argmax};
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

/// HIDDEN, WITH_INFERENCE, WITH_TRAINING: from build.rs.
#[allow(dead_code)]
mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}
use config::{HIDDEN, WITH_INFERENCE, WITH_TRAINING};
use scales::inv_sqrt;

/// Inputs (a one-hot token, i.e. a row lookup) and outputs.
const IO: usize = 32;
/// Tokens per training chunk.
const SEQ_LEN: usize = 25;
/// Training chunks measured (the count is per character, so a few suffice).
const CHUNKS: usize = 8;
/// Inference steps measured.
const STEPS: usize = 64;
/// Random training tokens; the trainer wraps around them.
const DATA_LEN: usize = 64;

type Model = Rnn<IO, HIDDEN, IO>;

#[entry]
fn main() -> ! {
    // cortex-m-rt turns these into `&'static mut` references, handed out once: no `unsafe`.
    // All zero, so they are .bss only; unused ones are dropped by the linker.
    static mut MODEL: Model = Rnn::ZERO;
    static mut GRADS: Model = Rnn::ZERO;
    static mut TAPE: Tape<SEQ_LEN, HIDDEN, IO> = Tape::ZERO;
    static mut ADAGRAD: Adagrad<Rnn<IO, HIDDEN, IO>> = Adagrad::ZERO;
    static mut IDS: [usize; DATA_LEN] = [0; DATA_LEN];

    let mut rng = DefaultRng::seed_from_u64(black_box(3));
    for id in IDS.iter_mut() {
        *id = rng.next_u32() as usize % IO;
    }
    let mut checksum = IDS.iter().sum::<usize>();
    let result = if WITH_INFERENCE {
        run(MODEL, GRADS, TAPE, ADAGRAD, IDS, &mut rng)
    } else {
        Ok(0)
    };
    match result {
        Ok(sum) => checksum += sum,
        Err(_) => {
            // Not formatted: `Error`'s Display would add its messages to every build measured.
            hprintln!("error");
            common::exit(false)
        }
    }
    hprintln!(
        "footprint Rnn<{}, {}, {}>: checksum {}, peak stack {} bytes",
        IO,
        HIDDEN,
        IO,
        black_box(checksum),
        common::stack_high_water()
    );
    common::exit(true)
}

/// Trains (if linked) and runs inference steps; returns the sum of the generated tokens.
fn run(
    model: &mut Model,
    grads: &mut Model,
    tape: &mut Tape<SEQ_LEN, HIDDEN, IO>,
    adagrad: &mut Adagrad<Rnn<IO, HIDDEN, IO>>,
    ids: &[usize; DATA_LEN],
    rng: &mut DefaultRng,
) -> Result<usize, Error> {
    if WITH_TRAINING {
        model.init_gaussian(rng, 0.1);
        adagrad.init(0.1);
        let config = TrainConfig {
            seq_len: SEQ_LEN,
            ..TrainConfig::min_char_rnn(IO)
        };
        let mut trainer = Trainer::new(model, grads, tape, adagrad, config)?;
        for _ in 0..CHUNKS {
            common::train_start();
            let report = trainer.train_chunk(black_box(ids));
            common::train_stop();
            report?;
        }
    }
    // Inference runs on fresh weights, uniform in ±1/√H (notebook 000's initialization), in every
    // mode: tanhf's cost depends on its argument, so the count needs weights of a known scale.
    // Filled here rather than by `init_uniform`, so the inference-only build links no
    // initializer of the core (a deployed model's weights come from elsewhere: see deploy.rs).
    const LIMIT: f32 = 2.0 * inv_sqrt(HIDDEN as f32);
    for tensor in model.tensors_mut() {
        for w in tensor {
            *w = ((rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0) - 0.5) * LIMIT;
        }
    }
    // Inference: step, then logits and the most likely next token, fed back.
    let mut hidden = [0.0f32; HIDDEN];
    let mut logits = [0.0f32; IO];
    let mut token = black_box(ids[0]);
    let mut sum = 0;
    for _ in 0..STEPS {
        common::infer_start();
        model.step(Input::Token(token), &mut hidden)?;
        common::step_stop();
        model.logits(&hidden, &mut logits);
        token = argmax(&logits);
        common::infer_stop();
        sum += token;
    }
    Ok(sum)
}
