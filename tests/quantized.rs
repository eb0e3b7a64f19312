//! Post-training quantization (`QRnn`): the per-tensor error bounds of quantize → dequantize,
//! saturation at the integer limits, and the quantized model against the float one it came from
//! (the trained model that the firmware deploys).

use micrornn::{CharVocab, DefaultRng, Error, Generator, Input, QRnn, Rnn, Sampling, format};
use rand_xoshiro::rand_core::SeedableRng;

const MODEL_BYTES: &[u8] = include_bytes!("../examples/firmware/models/poem-h32.mrnn");
const POEM: &str = "Hope is the thing with feathers that perches in the soul. \
                    And sings the tune without the words and never stops at all. ";

type Model = Rnn<32, 32, 32>;
/// The rows of one weight tensor of the random model.
type Rows = [[f32; 29]];

fn trained() -> (Box<Model>, CharVocab<32>, usize) {
    let mut model = Box::new(Model::ZERO);
    let mut vocab = CharVocab::<32>::new();
    // These tests compare f32 and int8 from the same (zero) state.
    let mut stored_state = [0.0f32; 32];
    let header =
        format::decode(MODEL_BYTES, &mut *model, &mut vocab, &mut stored_state).expect("decodes");
    (model, vocab, header.classes)
}

fn random_model(seed: u64) -> Box<Rnn<13, 29, 11>> {
    let mut rnn = Box::new(Rnn::<13, 29, 11>::ZERO);
    rnn.init_uniform(&mut DefaultRng::seed_from_u64(seed));
    for (i, b) in rnn.b_h.iter_mut().enumerate() {
        *b = (i as f32 - 14.0) * 0.37;
    }
    for (o, b) in rnn.b_y.iter_mut().enumerate() {
        *b = (o as f32 - 5.0) * 1.3;
    }
    rnn.w_hh[3] = [0.0; 29]; // an all-zero row
    rnn.w_xh[2][5] = 40.0; // one large weight in a row
    rnn
}

#[test]
fn quantize_then_dequantize_is_within_half_a_step_per_row_of_every_tensor() {
    let rnn = random_model(7);
    let q = QRnn::quantize(&rnn, None).expect("quantizes");
    let mut back = Box::new(Rnn::<13, 29, 11>::ZERO);
    q.dequantize(&mut back);
    let tensors: [(&Rows, &Rows); 3] = [
        (&rnn.w_xh, &back.w_xh),
        (&rnn.w_hh, &back.w_hh),
        (&rnn.w_hy, &back.w_hy),
    ];
    for (t, (want, got)) in tensors.into_iter().enumerate() {
        for (r, (want, got)) in want.iter().zip(got).enumerate() {
            let scale = q.row_scale(t, r).expect("row exists");
            let amax = want.iter().fold(0.0f64, |a, &w| a.max(f64::from(w).abs()));
            // the scale is the smallest on its grid that holds the row: no weight clips
            assert!(
                scale >= amax / 127.0 && scale <= amax / 127.0 + 1e-5,
                "tensor {t} row {r}"
            );
            for (&w, &d) in want.iter().zip(got) {
                let err = (f64::from(w) - f64::from(d)).abs();
                assert!(err <= scale / 2.0 + 1e-6, "tensor {t} row {r}: {w} vs {d}");
            }
        }
    }
    for (&b, &d) in rnn.b_h.iter().zip(&back.b_h) {
        assert!((b - d).abs() <= 0.5 / 4096.0 + 1e-7, "b_h {b} vs {d}");
    }
    for (&b, &d) in rnn.b_y.iter().zip(&back.b_y) {
        assert!(
            (b - d).abs() <= q.logit_scale / 2.0 + 1e-6,
            "b_y {b} vs {d}"
        );
    }
    assert!(back.w_hh[3].iter().all(|&w| w == 0.0));
}

#[test]
fn weights_beyond_the_multiplier_range_and_non_finite_ones_are_refused() {
    let mut rnn = random_model(1);
    rnn.w_hh[0][0] = 600.0;
    assert!(matches!(
        QRnn::quantize(&rnn, None),
        Err(Error::InvalidSetting(_))
    ));
    let mut rnn = random_model(1);
    rnn.b_y[0] = f32::NAN;
    assert!(matches!(
        QRnn::quantize(&rnn, None),
        Err(Error::InvalidSetting(_))
    ));
    let rnn = random_model(1);
    assert_eq!(
        QRnn::quantize(&rnn, Some(&[1, 13])),
        Err(Error::TokenOutOfRange {
            token: 13,
            limit: 13
        })
    );
}

#[test]
fn huge_sums_saturate_at_the_int_limits_instead_of_wrapping() {
    let mut rnn = Box::new(Rnn::<4, 8, 4>::ZERO);
    rnn.b_h = [500.0, -500.0, 3.0, -3.0, 0.0, 1e9, -1e9, 0.5];
    rnn.w_hy = [[100.0; 8], [-100.0; 8], [0.0; 8], [1.0; 8]];
    rnn.b_y = [1e6, -1e6, 0.0, 0.0];
    let mut q = QRnn::quantize(&rnn, Some(&[0])).expect("quantizes");
    // calibrated on logits of ±1e6·1.25; make the sums overflow the logit range anyway
    q.b_y[0] = i32::MAX;
    q.b_y[1] = i32::MIN;
    q.b_h[4] = i32::MAX;
    let mut hidden = [0i16; 8];
    q.step(1, &mut hidden).expect("token in range");
    assert_eq!(hidden[0], 32767);
    assert_eq!(hidden[1], -32767);
    assert_eq!(hidden[4], 32767);
    assert_eq!((hidden[5], hidden[6]), (32767, -32767));
    let mut logits = [0i16; 4];
    q.logits(&hidden, &mut logits);
    assert_eq!((logits[0], logits[1]), (i16::MAX, i16::MIN));
}

#[test]
fn a_token_out_of_range_is_an_error_and_leaves_the_state() {
    let q = QRnn::quantize(&random_model(3), None).expect("quantizes");
    let mut hidden = [5i16; 29];
    assert_eq!(
        q.step(13, &mut hidden),
        Err(Error::TokenOutOfRange {
            token: 13,
            limit: 13
        })
    );
    assert_eq!(hidden, [5; 29]);
    assert!(Generator::new(&q, 0, Sampling::GREEDY).is_err());
    assert!(Generator::new(&q, 12, Sampling::GREEDY).is_err());
    let mut generator = Generator::new(&q, 11, Sampling::GREEDY).expect("classes");
    generator.set_hidden(hidden);
    assert!(generator.feed(13).is_err());
    assert_eq!(generator.hidden(), &[5; 29]);
    // A dense one-hot sample of 1.0 (identity normalization) is exactly its token.
    let mut one_hot = [0.0f32; 13];
    one_hot[7] = 1.0;
    generator.step(Input::Dense(&one_hot)).expect("dense step");
    let mut by_token = [5i16; 29];
    q.step(7, &mut by_token).expect("token in range");
    assert_eq!(generator.hidden(), &by_token);
    assert_ne!(by_token, [5; 29]);
}

/// Largest logit errors over the poem (all three models fed the same text): (float vs its
/// dequantized weights run in f32 — the cost of int8 weights; that dequantized model vs the
/// integer path — the cost of integer arithmetic; the largest |float logit|).
fn logit_errors(model: &Model, q: &QRnn<32, 32, 32>, vocab: &CharVocab<32>) -> (f32, f32, f32) {
    let mut deq = Box::new(Model::ZERO);
    q.dequantize(&mut deq);
    let (mut h, mut hd, mut hq) = ([0.0f32; 32], [0.0f32; 32], [0i16; 32]);
    let (mut l, mut ld, mut lq) = ([0.0f32; 32], [0.0f32; 32], [0i16; 32]);
    let (mut weights, mut arithmetic, mut largest) = (0.0f32, 0.0f32, 0.0f32);
    for c in POEM.repeat(2).chars() {
        let token = vocab.encode(c).expect("poem char");
        model.step(Input::Token(token), &mut h).expect("step");
        deq.step(Input::Token(token), &mut hd).expect("step");
        q.step(token, &mut hq).expect("step");
        model.logits(&h, &mut l);
        deq.logits(&hd, &mut ld);
        q.logits(&hq, &mut lq);
        for ((&l, &ld), &lq) in l.iter().zip(&ld).zip(&lq) {
            weights = weights.max((l - ld).abs());
            arithmetic = arithmetic.max((ld - f32::from(lq) * q.logit_scale).abs());
            largest = largest.max(l.abs());
        }
    }
    (weights, arithmetic, largest)
}

#[test]
fn quantized_logits_follow_the_trained_float_model() {
    let (model, vocab, _) = trained();
    let tokens: Vec<usize> = POEM
        .chars()
        .map(|c| vocab.encode(c).expect("char"))
        .collect();
    let plain = QRnn::quantize(&model, None).expect("quantizes");
    let calibrated = QRnn::quantize(&model, Some(&tokens)).expect("quantizes");
    assert!(
        calibrated.logit_scale < plain.logit_scale,
        "calibration narrows the logit range"
    );
    for q in [&plain, &calibrated] {
        let (weights, arithmetic, largest) = logit_errors(&model, q, &vocab);
        eprintln!(
            "logit scale {:e}: max |logit error| from int8 weights {weights}, from integer \
             arithmetic {arithmetic}, largest |logit| {largest}",
            q.logit_scale
        );
        // the integer path computes what its dequantized weights compute in f32
        assert!(arithmetic < 0.02, "integer arithmetic error {arithmetic}");
        // and the int8 weights cost at most 5% of the logit range on this trained model
        assert!(
            weights + arithmetic < 0.05 * largest,
            "{weights} + {arithmetic} vs {largest}"
        );
    }
}

#[test]
fn quantized_greedy_text_equals_the_float_greedy_text() {
    let (model, vocab, classes) = trained();
    let q = QRnn::quantize(&model, None).expect("quantizes");
    let mut text = String::from("H");
    let mut generator = Generator::new(&q, classes, Sampling::GREEDY).expect("classes");
    generator
        .feed(vocab.encode('H').expect("H"))
        .expect("feeds");
    for _ in 1..2 * POEM.len() {
        text.extend(vocab.decode(generator.greedy_next().expect("generates")));
    }
    assert_eq!(text, POEM.repeat(2));
    // The f32 model through the same generator calls gives the same text.
    let mut float_text = String::from("H");
    let mut sampler = Generator::new(&*model, classes, Sampling::GREEDY).expect("classes");
    sampler
        .prime(&[vocab.encode('H').expect("H")])
        .expect("feeds");
    for _ in 1..2 * POEM.len() {
        float_text.extend(vocab.decode(sampler.greedy_next().expect("generates")));
    }
    assert_eq!(float_text, text);
}
