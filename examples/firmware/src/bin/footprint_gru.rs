//! The firmware behind the GRU rows of docs/microcontrollers.md (`scripts/embedded-report-gru.sh`):
//! a `Gru<32, H, 32>` (f32) or a `QGru<32, H, 32>` (int8 weights, Q15 state) running greedy
//! inference steps between the instruction-count markers of `common.rs`. `FW_HIDDEN` sets H
//! (default 32), `FW_WEIGHTS` = `f32` or `int8` (default) picks the model; only that one is
//! linked. `FW_INPUT=dense` feeds 32-channel samples (a full input product, as CMSIS-NN's LSTM
//! step computes) instead of token ids (a row lookup). Weights are random of the scale of PyTorch's initialization (uniform in ±1/√H), so
//! the gates' sigmoid and tanh see arguments of a trained model's order.
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
use micrornn::{Cell, DefaultRng, Error, Gru, Input, Params, QGru, argmax};
use rand_xoshiro::rand_core::{Rng as _, SeedableRng};

/// HIDDEN, INT8_WEIGHTS, DENSE_INPUT: from build.rs.
#[allow(dead_code)]
mod config {
    include!(concat!(env!("OUT_DIR"), "/config.rs"));
}
use config::{DENSE_INPUT, HIDDEN, INT8_WEIGHTS};
use scales::{inv_sqrt, multiplier};

/// Inputs (token ids) and outputs.
const IO: usize = 32;
/// Inference steps measured.
const STEPS: usize = 64;

#[entry]
fn main() -> ! {
    // `&'static mut` from cortex-m-rt, all zero: .bss only; the unused one is dropped.
    static mut QMODEL: QGru<IO, HIDDEN, IO> = QGru::ZERO;
    static mut MODEL: Gru<IO, HIDDEN, IO> = Gru::ZERO;

    let mut rng = DefaultRng::seed_from_u64(black_box(5));
    let result = if INT8_WEIGHTS {
        run_int8(QMODEL, &mut rng)
    } else {
        run_f32(MODEL, &mut rng)
    };
    match result {
        Ok((sum, states)) => hprintln!(
            "footprint {}<{}, {}, {}>: checksum {}, state checksum {}, peak stack {} bytes",
            if INT8_WEIGHTS { "QGru" } else { "Gru" },
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

/// A random int8 weight in `[-127, 127]`.
fn weight(rng: &mut DefaultRng) -> i8 {
    ((rng.next_u32() % 255) as i32 - 127) as i8
}

/// Adds `Σ_j (j + 1)·h[j]` (wrapping) to `states`: the state checksum.
fn checksum(states: u32, hidden: impl Iterator<Item = i32>) -> u32 {
    hidden.enumerate().fold(states, |sum, (j, h)| {
        sum.wrapping_add((j as u32 + 1).wrapping_mul(h as u32))
    })
}

/// The int8 GRU: random weights, then `STEPS` greedy tokens. Returns the sum of the tokens and
/// the state checksum.
fn run_int8(model: &mut QGru<IO, HIDDEN, IO>, rng: &mut DefaultRng) -> Result<(usize, u32), Error> {
    let weights = model.w_x.as_flattened_mut().as_flattened_mut().iter_mut();
    let weights = weights.chain(model.w_h.as_flattened_mut().as_flattened_mut());
    for w in weights.chain(model.w_hy.as_flattened_mut()) {
        *w = weight(rng);
    }
    // Token rows: `requantize(w << 12, m)` is Q12, so the row's scale is `m · 2^-32`.
    model.x_multiplier = [[multiplier(32, HIDDEN); HIDDEN]; 3];
    model.h_multiplier = [[multiplier(29, HIDDEN); HIDDEN]; 3];
    for bias in model
        .b_x
        .as_flattened_mut()
        .iter_mut()
        .chain(model.b_h.as_flattened_mut())
    {
        // Q12, uniform in about ±1/√H.
        *bias = (rng.next_u32() % 2049) as i32 - 1024;
    }
    // logit_scale 2^-10: the multiplier is `scale · 2^17 / 2^-10`
    model.hy_multiplier = [multiplier(27, HIDDEN); IO];
    model.logit_scale = 1.0 / 1024.0;
    // Dense samples: one per token, uniform in ±1.0 (Q12).
    let samples: [[i16; IO]; IO] =
        core::array::from_fn(|_| core::array::from_fn(|_| (rng.next_u32() % 8193) as i16 - 4096));
    let model: &QGru<IO, HIDDEN, IO> = model;
    let mut hidden = [0i16; HIDDEN];
    let mut logits = [0i16; IO];
    let mut token = black_box(3);
    let (mut sum, mut states) = (0, 0u32);
    for _ in 0..STEPS {
        common::infer_start();
        if DENSE_INPUT {
            let sample = samples
                .get(token)
                .ok_or(Error::TokenOutOfRange { token, limit: IO })?;
            model.step_q12(sample, &mut hidden)?;
        } else {
            model.step_token(token, &mut hidden)?;
        }
        common::step_stop();
        states = checksum(states, hidden.iter().map(|&h| i32::from(h)));
        model.logits(&hidden, &mut logits);
        token = int::argmax_i16(&logits);
        common::infer_stop();
        sum += token;
    }
    Ok((sum, states))
}

/// The f32 GRU: weights uniform in ±1/√H, then `STEPS` greedy tokens. Returns the sum of the
/// tokens and the checksum of the states scaled to Q15.
fn run_f32(model: &mut Gru<IO, HIDDEN, IO>, rng: &mut DefaultRng) -> Result<(usize, u32), Error> {
    // Filled here rather than by `init_uniform`, so that no square root or initializer of the
    // core is linked (a deployed model's weights come from elsewhere).
    const LIMIT: f32 = 2.0 * inv_sqrt(HIDDEN as f32);
    for index in 0..Gru::<IO, HIDDEN, IO>::TENSORS.len() {
        for w in model.tensor_mut(index) {
            *w = ((rng.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0) - 0.5) * LIMIT;
        }
    }
    // Dense samples: one per token, uniform in ±1.0.
    let samples: [[f32; IO]; IO] = core::array::from_fn(|_| {
        core::array::from_fn(|_| (rng.next_u32() >> 8) as f32 * (2.0 / 16_777_216.0) - 1.0)
    });
    let model: &Gru<IO, HIDDEN, IO> = model;
    let mut hidden = [0.0f32; HIDDEN];
    let mut logits = [0.0f32; IO];
    let mut token = black_box(3);
    let (mut sum, mut states) = (0, 0u32);
    for _ in 0..STEPS {
        common::infer_start();
        let input = match samples.get(token) {
            Some(sample) if DENSE_INPUT => Input::Dense(sample),
            _ => Input::Token(token),
        };
        Cell::step(model, input, &mut hidden)?;
        common::step_stop();
        states = checksum(states, hidden.iter().map(|&h| (h * 32768.0) as i32));
        Cell::logits(model, &hidden, &mut logits);
        token = argmax(&logits);
        common::infer_stop();
        sum += token;
    }
    Ok((sum, states))
}
