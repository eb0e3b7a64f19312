//! The quantized deploy example: `models/poem-h32.q8` (made from `models/poem-h32.mrnn` by
//! `micrornn quantize`) embedded with `include_bytes!`, decoded by the compiler
//! (`qformat::decode_const`) into a `static` that stays in flash, generating text greedily in
//! integers only.
//!
//! ```text
//! cd examples/firmware
//! cargo run --release --bin deploy_q8                                # Cortex-M4F (SMLAD path)
//! cargo run --release --bin deploy_q8 --target thumbv6m-none-eabi    # Cortex-M0 (scalar path)
//! ```
//!
//! Before generating, it holds the integer matrix-vector kernel this target uses (on the M4F
//! the `SMLAD` path, `asm!`) against the scalar reference on random data of odd shapes, bit for
//! bit. `tests/firmware_deploy_q8.rs` checks that the host, decoding the same bytes, generates
//! `models/poem-h32.q8.txt`; this firmware exits 0 only if it generates that same text.
#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;
#[path = "../verdict.rs"]
mod verdict;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use micrornn::kernels::int::{self, packed, scalar};
use micrornn::{Error, qformat};

/// The quantized model file, in flash.
static MODEL_BYTES: &[u8] = include_bytes!("../../models/poem-h32.q8");
/// Its parameters and initial state, decoded at compile time: in flash (`.rodata`), not RAM.
static MODEL: qformat::Embedded<O, 32, O> = match qformat::decode_const(MODEL_BYTES) {
    Ok(model) => model,
    Err(error) => panic!("{}", error.as_str()),
};
/// What the host generates from it, starting with its first character.
const EXPECTED: &str = include_str!("../../models/poem-h32.q8.txt");
/// Characters to generate (the expected text is ASCII).
const LEN: usize = EXPECTED.len();

/// Inputs and outputs: the binary's vocabulary bucket of 32 (22 live classes).
const O: usize = 32;

#[entry]
fn main() -> ! {
    let kernels_ok = kernel_matches_reference();
    hprintln!(
        "integer kernel ({}) vs scalar reference: {}",
        int::ACTIVE,
        if kernels_ok {
            "bit-identical"
        } else {
            "DIFFERENT"
        }
    );
    verdict::finish(run().map(|ok| ok && kernels_ok));
}

/// The active integer matvec (and the packed algorithm) equal the scalar reference on xorshift
/// data of every shape up to 11 × 37, extreme values included; so does the fused Elman update.
fn kernel_matches_reference() -> bool {
    let mut state = 0x9E37_79B9u32;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state
    };
    let mut w = [0i8; 11 * 37];
    let mut x = [0i16; 37];
    let mut m = [0i32; 11];
    let mut ok = true;
    for rows in 0..=11 {
        for cols in [0, 1, 3, 4, 5, 7, 8, 13, 16, 31, 32, 37] {
            w.iter_mut().for_each(|v| *v = (next() as i8).max(-127));
            x.iter_mut().for_each(|v| *v = next() as i16);
            m.iter_mut().for_each(|v| *v = next() as i32);
            let (w, x, m) = (&w[..rows * cols], &x[..cols], &m[..rows]);
            let (mut want, mut got, mut active) = ([1i32; 11], [1i32; 11], [1i32; 11]);
            scalar::matvec_requant(w, x, m, &mut want[..rows]);
            packed::matvec_requant(w, x, m, &mut got[..rows]);
            int::matvec_requant(w, x, m, &mut active[..rows]);
            ok &= want == got && want == active;
        }
    }
    ok & elman_matches_reference::<4>(&mut next)
        & elman_matches_reference::<12>(&mut next)
        & elman_matches_reference::<32>(&mut next)
}

/// The fused Elman update (on the M4F the `asm!` of `kernels::int::elman`) equals its scalar
/// specification on xorshift data, biases and multipliers over the whole `i32` range (every
/// saturation), most units in tanh's live range, 16 draws per size.
fn elman_matches_reference<const N: usize>(next: &mut impl FnMut() -> u32) -> bool {
    let mut ok = true;
    for _ in 0..16 {
        let mut w = [[0i8; N]; N];
        w.iter_mut()
            .flatten()
            .for_each(|v| *v = (next() as i8).max(-127));
        let h: [i16; N] = core::array::from_fn(|_| next() as i16);
        // Most units in tanh's live range (multipliers about 2^20), some saturating.
        let multipliers: [i32; N] =
            core::array::from_fn(|j| next() as i32 >> if j % 5 == 0 { 0 } else { 9 + j % 4 });
        let biases: [i32; N] = core::array::from_fn(|j| (next() as i32) >> (18 - 14 * (j % 3 / 2)));
        let input_row: [i8; N] = core::array::from_fn(|_| next() as i8);
        let units = int::ElmanUnits {
            multipliers: &multipliers,
            biases: &biases,
            input_row: &input_row,
            input_multiplier: next() as i32 >> [0, 17, 18, 19, 20, 21, 22, 23][next() as usize % 8],
        };
        let (mut want, mut got) = (h, h);
        int::elman::scalar(&w, &mut want, units);
        int::elman_update(&w, &mut got, units);
        ok &= want == got;
    }
    ok
}

/// Decodes the model and generates; `Ok(true)` if the text is the host's.
fn run() -> Result<bool, Error> {
    let vocab = qformat::decode_vocab::<O>(MODEL_BYTES)?;
    let header = MODEL.header;
    hprintln!(
        "decoded a QRnn<{}, {}, {}> ({} classes) from {} bytes of flash",
        header.inputs,
        header.hidden,
        header.outputs,
        header.classes,
        MODEL_BYTES.len()
    );
    let model = &MODEL.qrnn;
    let classes = header.classes.min(O);
    let mut hidden = MODEL.initial_hidden;
    let mut logits = [0i16; O];
    let mut text = [b'?'; LEN];
    let mut expected = EXPECTED.chars();
    let mut token = vocab.encode(expected.next().unwrap_or('?'))?;
    let mut matched = true;
    for (i, out) in text.iter_mut().enumerate() {
        let c = vocab.decode(token).unwrap_or('?');
        *out = if c.is_ascii() { c as u8 } else { b'?' };
        if i > 0 {
            matched &= expected.next() == Some(c);
        }
        // One generated token: step, logits, argmax of the live classes (`Generator::greedy_next`, with
        // the step's end marked for the instruction count).
        common::infer_start();
        let stepped = model.step(token, &mut hidden);
        common::step_stop();
        model.logits(&hidden, &mut logits);
        token = int::argmax_i16(logits.get(..classes).unwrap_or(&logits));
        common::infer_stop();
        stepped?;
    }
    verdict::print_text(&text, matched);
    Ok(matched)
}
