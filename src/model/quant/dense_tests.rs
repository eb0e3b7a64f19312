//! The quantized Elman cell's dense (raw sample) step against its specification: the same
//! integers over the scalar and the `SMLAD` fused update (odd sizes, random and extreme data), a
//! one-hot sample of 1.0 equal to its token, and against the f32 Elman cell it was quantized
//! from.

use super::QTensors;
use super::qrnn::{ElmanUpdate, QRnn};
use super::tests::{Lcg, worst_errors};
use crate::Error;
use crate::kernels::int::elman;
use crate::model::normalize::Normalization;
use crate::model::{Infer, Input, Rnn};

/// A QRnn with every integer random (or at the limits, with `extreme`).
fn random_qrnn<const I: usize, const H: usize, const O: usize>(
    rng: &mut Lcg,
    extreme: bool,
) -> Box<QRnn<I, H, O>> {
    let mut q = Box::new(QRnn::<I, H, O>::ZERO);
    for index in 0..<QRnn<I, H, O> as QTensors<I>>::WEIGHT_TENSORS {
        for w in q.weights_mut(index) {
            *w = rng.weight(extreme);
        }
    }
    for index in 0..<QRnn<I, H, O> as QTensors<I>>::WORD_TENSORS {
        for v in q.words_mut(index) {
            *v = rng.word(extreme);
        }
    }
    q
}

/// Dense steps of a random QRnn over the scalar and the packed fused update are equal.
fn bit_identity_case<const I: usize, const H: usize, const O: usize>(rng: &mut Lcg) {
    let updates: [ElmanUpdate<H>; 2] = [elman::scalar, elman::packed];
    for extreme in [false, true] {
        let q = random_qrnn::<I, H, O>(rng, extreme);
        let mut hidden = [0i16; H].map(|_| rng.state(extreme));
        for step in 0..12 {
            let x: [i16; I] = core::array::from_fn(|_| match step % 3 {
                0 => rng.state(true),
                1 => rng.next() as i16,
                _ => (rng.next() % 8192) as i16 - 4096,
            });
            let states = updates.map(|update| {
                let mut h = hidden;
                q.step_q12_with(&x, &mut h, update).expect("steps");
                h
            });
            assert_eq!(
                states[0], states[1],
                "I={I} H={H} extreme={extreme} step {step}"
            );
            hidden = states[1];
        }
    }
}

#[test]
fn the_packed_dense_step_is_bit_identical_to_the_scalar_one_over_odd_sizes() {
    let mut rng = Lcg(0x1234_5678);
    bit_identity_case::<1, 4, 2>(&mut rng);
    bit_identity_case::<2, 8, 3>(&mut rng);
    bit_identity_case::<6, 32, 4>(&mut rng);
    bit_identity_case::<7, 13, 3>(&mut rng);
    bit_identity_case::<3, 33, 2>(&mut rng);
    bit_identity_case::<16, 64, 16>(&mut rng);
    bit_identity_case::<5, 68, 5>(&mut rng);
}

#[test]
fn a_one_hot_sample_of_one_is_its_token() {
    let mut rng = Lcg(0xDEAD_BEEF);
    for extreme in [false, true] {
        let q = random_qrnn::<5, 12, 3>(&mut rng, extreme);
        let start = [0i16; 12].map(|_| rng.state(false));
        for token in 0..5 {
            let (mut by_token, mut by_sample) = (start, start);
            let mut one_hot = [0i16; 5];
            one_hot[token] = 4096;
            q.step(token, &mut by_token).expect("steps");
            q.step_q12_with(&one_hot, &mut by_sample, elman::scalar)
                .expect("steps");
            assert_eq!(by_token, by_sample, "token {token} extreme {extreme}");
        }
    }
}

#[test]
fn the_raw_sample_step_normalizes_with_the_models_normalization() {
    let mut rng = Lcg(0x5EED_0001);
    let mut q = random_qrnn::<3, 8, 2>(&mut rng, false);
    q.normalization = Normalization {
        mean: [1.0, -2.0, 100.0],
        std: [2.0, 0.5, 10.0],
    };
    let raw = [2.0f32, -2.25, 80.0];
    assert_eq!(q.quantize_sample(&raw), [2048, -2048, -8192]);
    let start = [0i16; 8].map(|_| rng.state(false));
    let (mut by_raw, mut by_q12, mut by_infer) = (start, start, start);
    q.step_sample(&raw, &mut by_raw).expect("steps");
    q.step_q12_with(&[2048, -2048, -8192], &mut by_q12, elman::scalar)
        .expect("steps");
    Infer::step(&*q, Input::Dense(&raw), &mut by_infer).expect("steps");
    assert_eq!(by_raw, by_q12);
    assert_eq!(by_raw, by_infer);
}

#[test]
fn more_than_512_channels_are_refused_and_leave_the_state() {
    let q = Box::new(QRnn::<513, 4, 2>::ZERO);
    let mut hidden = [7i16; 4];
    assert!(matches!(
        q.step_sample(&[0.0; 513], &mut hidden),
        Err(Error::InvalidSetting(_))
    ));
    assert_eq!(hidden, [7; 4]);
}

/// The int8 Elman cell tracks the f32 one over 100 raw samples: each state within 0.02, each
/// logit within 0.1.
#[test]
fn the_quantized_elman_cell_tracks_the_float_one_on_raw_samples() {
    let mut rng = Lcg(0x0BAD_CAFE);
    let mut rnn = Box::new(Rnn::<6, 32, 4>::ZERO);
    for w in rnn.w_xh.iter_mut().flatten() {
        *w = rng.unit() * 0.6;
    }
    for w in rnn.w_hh.iter_mut().flatten() {
        *w = rng.unit() * 0.25;
    }
    for b in &mut rnn.b_h {
        *b = rng.unit() * 0.5;
    }
    for w in rnn.w_hy.iter_mut().flatten() {
        *w = rng.unit();
    }
    for b in &mut rnn.b_y {
        *b = rng.unit() * 0.2;
    }
    let normalization = Normalization {
        mean: [1.0, -2.0, 0.0, 9.81, 0.5, 0.0],
        std: [2.0, 0.5, 1.0, 3.0, 0.1, 1.0],
    };
    let q = QRnn::quantize_dense(&rnn, &normalization, None).expect("quantizes");
    assert_eq!(q.normalization, normalization);
    let (worst_state, worst_logit) = worst_errors(&*rnn, &q, &normalization, &mut rng);
    eprintln!("worst state error {worst_state}, worst logit error {worst_logit}");
    assert!(worst_state < 0.02, "state error {worst_state}");
    assert!(worst_logit < 0.1, "logit error {worst_logit}");
    assert!(worst_state > 0.0, "the comparison is not vacuous");
}
