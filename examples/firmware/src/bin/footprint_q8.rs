//! The firmware behind the quantized rows of the README's footprint table
//! (`scripts/embedded-report-q8.sh`): a `QRnn<32, H, 32>` with random int8 weights of the scale
//! of a model initialized uniform in ±1/√H, running inference steps between the
//! instruction-count markers of `common.rs`. `FW_HIDDEN` sets H (default 32). `FW_INPUT=dense`
//! feeds 32-channel Q12 samples (`QRnn::step_q12_with`: the dense input terms, then the fused
//! kernel), as `footprint_gru` does.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;
#[path = "../scales.rs"]
mod scales;

use core::hint::black_box;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use micrornn::kernels::int;
use micrornn::{DefaultRng, Error, QRnn};
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

/// HIDDEN, DENSE_INPUT: from build.rs.
#[allow(dead_code)]
mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}
use config::{DENSE_INPUT, HIDDEN};
use scales::multiplier;

/// Inputs (token ids) and outputs.
const IO: usize = 32;
/// Inference steps measured.
const STEPS: usize = 64;

type Model = QRnn<IO, HIDDEN, IO>;

#[entry]
fn main() -> ! {
    // `&'static mut` from cortex-m-rt, all zero: .bss only.
    static mut MODEL: Model = QRnn::ZERO;

    let result = run(MODEL);
    match result {
        Ok((sum, states)) => hprintln!(
            "footprint QRnn<{}, {}, {}>: checksum {}, state checksum {}, peak stack {} bytes",
            IO,
            HIDDEN,
            IO,
            black_box(sum),
            states,
            common::stack_high_water()
        ),
        Err(_) => {
            hprintln!("error");
            common::exit(false)
        }
    }
    common::exit(true)
}

/// Fills the model with random weights, then runs `STEPS` greedy tokens. Returns the sum of the
/// tokens and the state checksum `Σ_steps Σ_j (j + 1)·h[j]` (wrapping `u32`), which
/// `tools/cmsis-nn/bench.c` prints for the same steps in C (`scripts/compare-cmsis-nn.sh`).
fn run(model: &mut Model) -> Result<(usize, u32), Error> {
    let mut rng = DefaultRng::seed_from_u64(black_box(5));
    for row in model
        .w_xh
        .iter_mut()
        .chain(&mut model.w_hh)
        .chain(&mut model.w_hy)
    {
        for w in row {
            *w = ((rng.next_u32() % 255) as i32 - 127) as i8;
        }
    }
    model.xh_multiplier = [multiplier(20, IO); IO];
    model.hh_multiplier = [multiplier(29, HIDDEN); HIDDEN];
    // logit_scale 2^-10: the multiplier is `scale · 2^17 / 2^-10`
    model.hy_multiplier = [multiplier(27, HIDDEN); IO];
    model.logit_scale = 1.0 / 1024.0;
    // Dense samples: one per token, uniform in ±1.0 (Q12); none for tokens, which keeps that
    // firmware as it was.
    let mut samples = [[0i16; IO]; IO];
    if DENSE_INPUT {
        for x in samples.as_flattened_mut() {
            *x = (rng.next_u32() % 8193) as i16 - 4096;
        }
    }
    let model: &Model = model;
    let mut hidden = [0i16; HIDDEN];
    let mut logits = [0i16; IO];
    let mut token = black_box(3);
    let mut sum = 0;
    let mut states = 0u32;
    for _ in 0..STEPS {
        common::infer_start();
        if DENSE_INPUT {
            let sample = samples
                .get(token)
                .ok_or(Error::TokenOutOfRange { token, limit: IO })?;
            model.step_q12_with(sample, &mut hidden, int::elman_update)?;
        } else {
            model.step(token, &mut hidden)?;
        }
        common::step_stop();
        for (j, &h) in hidden.iter().enumerate() {
            states = states.wrapping_add((j as u32 + 1).wrapping_mul(i32::from(h) as u32));
        }
        model.logits(&hidden, &mut logits);
        token = int::argmax_i16(&logits);
        common::infer_stop();
        sum += token;
    }
    Ok((sum, states))
}
