//! The quantized GRU against its specification: the step over the `SMLAD` algorithm
//! bit-identical to the scalar reference (odd sizes, random and extreme data, token and dense
//! inputs), and against the f32 GRU it was quantized from.

use super::QGru;
use super::qgru::QInput;
use crate::kernels::int::{gru, packed, scalar};
use crate::model::normalize::Normalization;
use crate::model::{Cell, Gru, Infer, Input};

/// xorshift32: deterministic test data without a dependency.
pub(super) struct Lcg(pub(super) u32);
impl Lcg {
    pub(super) fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    pub(super) fn weight(&mut self, extreme: bool) -> i8 {
        if extreme {
            if self.next() & 1 == 0 { -127 } else { 127 }
        } else {
            (self.next() % 255) as i8
        }
    }
    pub(super) fn word(&mut self, extreme: bool) -> i32 {
        if extreme {
            if self.next() & 1 == 0 {
                i32::MIN
            } else {
                i32::MAX
            }
        } else {
            self.next() as i32 >> (self.next() % 8)
        }
    }
    pub(super) fn state(&mut self, extreme: bool) -> i16 {
        if extreme {
            if self.next() & 1 == 0 { -32767 } else { 32767 }
        } else {
            self.next() as i16
        }
    }
    /// A value in [-1, 1).
    pub(super) fn unit(&mut self) -> f32 {
        (self.next() >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }
}

/// A QGru with every integer random (or at the limits, with `extreme`).
fn random_qgru<const I: usize, const H: usize, const O: usize>(
    rng: &mut Lcg,
    extreme: bool,
) -> Box<QGru<I, H, O>> {
    let mut q = Box::new(QGru::<I, H, O>::ZERO);
    for w in q.w_x.iter_mut().flatten().flatten() {
        *w = rng.weight(extreme);
    }
    for w in q.w_h.iter_mut().flatten().flatten() {
        *w = rng.weight(extreme);
    }
    for w in q.w_hy.iter_mut().flatten() {
        *w = rng.weight(extreme);
    }
    let words = [
        q.x_multiplier.as_flattened_mut(),
        q.h_multiplier.as_flattened_mut(),
        q.b_x.as_flattened_mut(),
        q.b_h.as_flattened_mut(),
        &mut q.hy_multiplier[..],
        &mut q.b_y[..],
    ];
    for tensor in words {
        for v in tensor {
            *v = rng.word(extreme);
        }
    }
    q
}

/// Steps of a random QGru over the scalar and the packed product are equal, for token and Q12
/// inputs, over several steps (the state feeding back).
fn bit_identity_case<const I: usize, const H: usize, const O: usize>(rng: &mut Lcg) {
    for extreme in [false, true] {
        let q = random_qgru::<I, H, O>(rng, extreme);
        let mut want = [0i16; H].map(|_| rng.state(extreme));
        let mut got = want;
        for step in 0..6 {
            let x = [0i16; I].map(|_| rng.state(extreme));
            let token = rng.next() as usize % I.max(1);
            let input = if step % 2 == 0 {
                QInput::Q12(&x)
            } else {
                QInput::Token(token)
            };
            q.step_with(input, &mut want, scalar::matvec_requant)
                .expect("steps");
            q.step_with(input, &mut got, packed::matvec_requant)
                .expect("steps");
            assert_eq!(got, want, "I {I} H {H} O {O} step {step} extreme {extreme}");
            let mut active = got;
            let mut reference = got;
            q.step_with(input, &mut active, crate::kernels::int::matvec_requant)
                .expect("steps");
            q.step_with(input, &mut reference, scalar::matvec_requant)
                .expect("steps");
            assert_eq!(active, reference);
            // The fused kernel, both paths and the step the target runs, equals the step over
            // the separate products.
            let fused_input = match input {
                QInput::Q12(x) => gru::GruInput::Q12(x),
                QInput::Token(token) => gru::GruInput::Token(token),
            };
            let (mut fused_scalar, mut fused_packed, mut stepped) = (got, got, got);
            gru::scalar(&q.weights(), fused_input, &mut fused_scalar);
            gru::packed(&q.weights(), fused_input, &mut fused_packed);
            match input {
                QInput::Q12(x) => q.step_q12(x, &mut stepped),
                QInput::Token(token) => q.step_token(token, &mut stepped),
            }
            .expect("steps");
            assert_eq!(
                fused_scalar, reference,
                "I {I} H {H} step {step} extreme {extreme}"
            );
            assert_eq!(
                fused_packed, reference,
                "I {I} H {H} step {step} extreme {extreme}"
            );
            assert_eq!(
                stepped, reference,
                "I {I} H {H} step {step} extreme {extreme}"
            );
        }
    }
}

#[test]
fn the_packed_step_is_bit_identical_to_the_scalar_one_over_odd_sizes() {
    let mut rng = Lcg(0x2545_F491);
    bit_identity_case::<1, 1, 1>(&mut rng);
    bit_identity_case::<3, 5, 2>(&mut rng);
    bit_identity_case::<6, 4, 4>(&mut rng);
    bit_identity_case::<6, 32, 4>(&mut rng);
    bit_identity_case::<7, 13, 3>(&mut rng);
    bit_identity_case::<12, 32, 10>(&mut rng);
    bit_identity_case::<9, 33, 9>(&mut rng);
    bit_identity_case::<32, 64, 32>(&mut rng);
    bit_identity_case::<17, 68, 5>(&mut rng);
    bit_identity_case::<8, 72, 3>(&mut rng);
    bit_identity_case::<68, 8, 3>(&mut rng);
}

#[test]
fn a_token_is_a_one_hot_sample_of_value_one() {
    let mut rng = Lcg(0xDEAD_BEEF);
    let q = random_qgru::<5, 8, 3>(&mut rng, false);
    let start = [0i16; 8].map(|_| rng.state(false));
    for token in 0..5 {
        let (mut by_token, mut by_sample) = (start, start);
        let mut one_hot = [0i16; 5];
        one_hot[token] = 4096;
        q.step_with(QInput::Token(token), &mut by_token, scalar::matvec_requant)
            .expect("steps");
        q.step_with(
            QInput::Q12(&one_hot),
            &mut by_sample,
            scalar::matvec_requant,
        )
        .expect("steps");
        assert_eq!(by_token, by_sample, "token {token}");
    }
    let mut hidden = start;
    assert!(q.step_token(5, &mut hidden).is_err());
    assert_eq!(hidden, start, "a refused token changes nothing");
}

/// The largest state and logit errors of the int8 `q` against the f32 `float` it was quantized
/// from over 100 raw samples (`float` fed them normalized, `q` raw).
pub(super) fn worst_errors<F, Q, const I: usize, const H: usize, const O: usize>(
    float: &F,
    q: &Q,
    normalization: &Normalization<I>,
    rng: &mut Lcg,
) -> (f32, f32)
where
    F: Cell<I, H, O>,
    Q: Infer<I, Hidden = [i16; H], Logits = [i16; O], RealLogits = [f32; O]>,
{
    let (mut h, mut hq) = ([0.0f32; H], [0i16; H]);
    let (mut logits, mut logits_q, mut real) = ([0.0f32; O], [0i16; O], [0.0f32; O]);
    let mut worst_state = 0.0f32;
    let mut worst_logit = 0.0f32;
    for t in 0..100 {
        let raw: [f32; I] = core::array::from_fn(|c| {
            normalization.mean[c]
                + normalization.std[c] * (rng.unit() * 2.0 + (t as f32 / 9.0).sin())
        });
        let mut normalized = raw;
        normalization.apply(&mut normalized);
        Cell::step(float, Input::Dense(&normalized), &mut h).expect("steps");
        Infer::step(q, Input::Dense(&raw), &mut hq).expect("steps");
        for (&f, &i) in h.iter().zip(&hq) {
            worst_state = worst_state.max((f - f32::from(i) / 32768.0).abs());
        }
        Cell::logits(float, &h, &mut logits);
        Infer::logits(q, &hq, &mut logits_q);
        let real = q.real_logits(&logits_q, &mut real);
        for (&f, &i) in logits.iter().zip(real) {
            worst_logit = worst_logit.max((f - i).abs());
        }
    }
    (worst_state, worst_logit)
}

/// A random trained-looking f32 GRU (weights ±`scale`).
fn random_gru<const I: usize, const H: usize, const O: usize>(
    rng: &mut Lcg,
    scale: f32,
) -> Box<Gru<I, H, O>> {
    let mut gru = Box::new(Gru::<I, H, O>::ZERO);
    for w in gru.w_xh.iter_mut().flatten().flatten() {
        *w = rng.unit() * scale;
    }
    for w in gru.w_hh.iter_mut().flatten().flatten() {
        *w = rng.unit() * scale / 2.0;
    }
    for b in gru.b_xh.iter_mut().chain(gru.b_hh.iter_mut()).flatten() {
        *b = rng.unit() * 0.5;
    }
    for w in gru.w_hy.iter_mut().flatten() {
        *w = rng.unit();
    }
    for b in &mut gru.b_y {
        *b = rng.unit() * 0.2;
    }
    gru
}

/// The int8 GRU tracks the f32 GRU over 100 raw samples: each state within 0.02, each logit
/// within 2% of the logits' range.
#[test]
fn the_quantized_gru_tracks_the_float_one_on_raw_samples() {
    let mut rng = Lcg(0x0BAD_CAFE);
    let gru = random_gru::<6, 32, 4>(&mut rng, 0.6);
    let normalization = Normalization {
        mean: [1.0, -2.0, 0.0, 9.81, 0.5, 0.0],
        std: [2.0, 0.5, 1.0, 3.0, 0.1, 1.0],
    };
    let q = QGru::quantize(&gru, &normalization, None).expect("quantizes");
    let (worst_state, worst_logit) = worst_errors(&*gru, &q, &normalization, &mut rng);
    eprintln!("worst state error {worst_state}, worst logit error {worst_logit}");
    assert!(worst_state < 0.02, "state error {worst_state}");
    assert!(worst_logit < 0.1, "logit error {worst_logit}");
    assert!(worst_state > 0.0, "the comparison is not vacuous");
}

#[test]
fn dequantized_weights_are_within_half_a_step_of_the_float_ones() {
    let mut rng = Lcg(0x1357_9BDF);
    let gru = random_gru::<5, 7, 3>(&mut rng, 1.0);
    let q = QGru::quantize(&gru, &Normalization::IDENTITY, None).expect("quantizes");
    let mut back = Box::new(Gru::<5, 7, 3>::ZERO);
    q.dequantize(&mut back);
    for (i, (a, b)) in gru.w_xh.iter().zip(&back.w_xh).enumerate() {
        for g in 0..3 {
            for j in 0..7 {
                let step = q.x_multiplier[g][j] as f32 / 2f32.powi(32);
                assert!(
                    (a[g][j] - b[g][j]).abs() <= step / 2.0 + 1e-7,
                    "w_xh {i} {g} {j}"
                );
            }
        }
    }
    for (a, b) in gru.b_hh.iter().flatten().zip(back.b_hh.iter().flatten()) {
        assert!((a - b).abs() <= 0.5 / 4096.0 + 1e-7);
    }
    let mut huge = gru.clone();
    huge.w_xh[0][0][0] = 100.0;
    assert!(QGru::quantize(&huge, &Normalization::IDENTITY, None).is_err());
    huge.w_xh[0][0][0] = f32::NAN;
    assert!(QGru::quantize(&huge, &Normalization::IDENTITY, None).is_err());
}
