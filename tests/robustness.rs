//! Bad data is an error, never a panic: the core's entry points fed with out-of-range ids, wrong
//! lengths, bad settings and extreme values (the test profile has overflow checks on, so an
//! integer overflow would panic here too).

use micrornn::eval::cross_entropy;
use micrornn::{
    Adam, Clip, Error, Input, Optimizer, Rnn, Sampler, Sampling, Sequence, Tape, Targets,
};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

fn model() -> Rnn<6, 8, 5> {
    let mut model = Rnn::ZERO;
    model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(1), 0.5);
    model
}

#[test]
fn forward_rejects_bad_chunks_and_leaves_the_tape_empty() {
    let model = model();
    let mut tape = Tape::<4, 8, 5>::ZERO;
    let h = [0.0f32; 8];
    let ok = [1, 2, 3];
    let cases: [(Sequence<'_, 6>, Targets<'_>, usize, Error); 7] = [
        (
            Sequence::Tokens(&[]),
            Targets::Each(&[]),
            5,
            Error::BadLength {
                len: 0,
                capacity: 4,
            },
        ),
        (
            Sequence::Tokens(&[0; 5]),
            Targets::Each(&[0; 5]),
            5,
            Error::BadLength {
                len: 5,
                capacity: 4,
            },
        ),
        (
            Sequence::Tokens(&ok),
            Targets::Each(&[1, 2]),
            5,
            Error::TargetsMismatch {
                inputs: 3,
                targets: 2,
            },
        ),
        (
            Sequence::Tokens(&ok),
            Targets::Last(0),
            0,
            Error::InvalidSetting("classes must be in 1..=outputs"),
        ),
        (
            Sequence::Tokens(&ok),
            Targets::Last(0),
            6,
            Error::InvalidSetting("classes must be in 1..=outputs"),
        ),
        (
            Sequence::Tokens(&[1, usize::MAX, 2]),
            Targets::Last(0),
            5,
            Error::TokenOutOfRange {
                token: usize::MAX,
                limit: 6,
            },
        ),
        (
            Sequence::Tokens(&ok),
            Targets::Each(&[0, 3, 4]),
            3,
            Error::TokenOutOfRange { token: 3, limit: 3 },
        ),
    ];
    for (inputs, targets, classes, expected) in cases {
        // A successful pass first, so that "left empty" means something.
        tape.forward(&model, Sequence::Tokens(&ok), Targets::Last(1), &h, 5)
            .unwrap();
        assert_eq!(tape.len(), 3);
        assert_eq!(
            tape.forward(&model, inputs, targets, &h, classes),
            Err(expected)
        );
        assert!(tape.is_empty());
        assert_eq!(tape.last_hidden(), &h);
        let mut grads = Rnn::ZERO;
        assert!(
            tape.backward(&model, Sequence::Tokens(&ok), &mut grads, None)
                .is_err()
        );
    }
    // A NaN input or start state is a non-finite loss, not a panic.
    let nan = [[f32::NAN; 6]];
    assert_eq!(
        tape.forward(&model, Sequence::Dense(&nan), Targets::Last(0), &h, 5),
        Err(Error::NonFiniteLoss)
    );
    assert_eq!(
        tape.forward(
            &model,
            Sequence::Tokens(&ok),
            Targets::Last(0),
            &[f32::NAN; 8],
            5
        ),
        Err(Error::NonFiniteLoss)
    );
}

#[test]
fn step_rejects_out_of_range_tokens_without_touching_the_state() {
    let model = model();
    let mut hidden = [0.25f32; 8];
    for token in [6, 7, usize::MAX] {
        assert_eq!(
            model.step(Input::Token(token), &mut hidden),
            Err(Error::TokenOutOfRange { token, limit: 6 })
        );
        assert_eq!(hidden, [0.25; 8]);
    }
    model.step(Input::Token(5), &mut hidden).unwrap();
    assert_ne!(hidden, [0.25; 8]);
}

#[test]
fn evaluation_rejects_bad_tokens_and_settings() {
    let model = model();
    assert!(matches!(
        cross_entropy(&model, &[1, 2], 0, None),
        Err(Error::InvalidSetting(_))
    ));
    assert!(matches!(
        cross_entropy(&model, &[1, 2], 6, None),
        Err(Error::InvalidSetting(_))
    ));
    assert_eq!(
        cross_entropy(&model, &[9, 1, 2], 5, None),
        Err(Error::TokenOutOfRange { token: 9, limit: 6 })
    );
    assert_eq!(
        cross_entropy(&model, &[1, 5, 2], 5, None),
        Err(Error::TokenOutOfRange { token: 5, limit: 5 })
    );
    // Nothing to predict, and a reset period of 0, are fine.
    for tokens in [&[][..], &[3][..]] {
        assert_eq!(cross_entropy(&model, tokens, 5, Some(0)).unwrap().count, 0);
    }
    assert_eq!(
        cross_entropy(&model, &[0, 1, 2], 5, Some(0)).unwrap().count,
        2
    );
}

/// The evaluation loop and the training forward pass compute the same cross-entropy.
#[test]
fn evaluation_agrees_with_the_training_forward_pass() {
    let model = model();
    let mut r = Xoshiro128PlusPlus::seed_from_u64(2);
    let tokens: Vec<usize> = (0..41).map(|_| r.next_u32() as usize % 5).collect();
    let mut tape = Tape::<8, 8, 5>::ZERO;
    let mut total = 0.0f64;
    let mut h = [0.0f32; 8];
    // Carried state: chunks of 8 continue from each other.
    for start in (0..40).step_by(8) {
        total += f64::from(
            tape.forward(
                &model,
                Sequence::Tokens(&tokens[start..start + 8]),
                Targets::Each(&tokens[start + 1..start + 9]),
                &h,
                5,
            )
            .unwrap(),
        );
        h = *tape.last_hidden();
    }
    let carried = cross_entropy(&model, &tokens, 5, None).unwrap();
    assert_eq!(carried.count, 40);
    assert!(
        (carried.total - total).abs() <= 1e-5 * total,
        "{carried:?} vs {total}"
    );
    // Reset every 8: each chunk from a zero state.
    let mut reset_total = 0.0f64;
    for start in (0..40).step_by(8) {
        reset_total += f64::from(
            tape.forward(
                &model,
                Sequence::Tokens(&tokens[start..start + 8]),
                Targets::Each(&tokens[start + 1..start + 9]),
                &[0.0; 8],
                5,
            )
            .unwrap(),
        );
    }
    let reset = cross_entropy(&model, &tokens, 5, Some(8)).unwrap();
    assert!((reset.total - reset_total).abs() <= 1e-5 * reset_total);
    assert!(
        (reset.total - carried.total).abs() > 1e-3,
        "the reset changed nothing"
    );
    assert!((reset.per_symbol() - reset.total / 40.0).abs() < 1e-12);
    assert!((reset.bits_per_symbol() - reset.per_symbol() / core::f64::consts::LN_2).abs() < 1e-12);
}

#[test]
fn optimizer_step_counter_saturates() {
    let mut params = model();
    let mut grads = Rnn::ZERO;
    grads.b_y = [1.0; 5];
    let mut adam = Adam::new(0.01);
    adam.steps = u64::MAX;
    let before = params.b_y;
    adam.update(&mut params, &grads);
    assert_eq!(adam.steps, u64::MAX);
    assert!(params.b_y.iter().zip(&before).all(|(a, b)| a < b));
}

/// Random garbage through every entry point: results are `Ok` with sane values or an `Err`,
/// never a panic.
#[test]
fn random_garbage_never_panics() {
    let model = model();
    let mut r = Xoshiro128PlusPlus::seed_from_u64(3);
    let id = |r: &mut Xoshiro128PlusPlus| match r.next_u32() % 4 {
        0 => usize::MAX - (r.next_u32() % 3) as usize,
        1 => (r.next_u32() % 8) as usize,
        _ => (r.next_u32() % 6) as usize,
    };
    let mut tape = Tape::<6, 8, 5>::ZERO;
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        let n = (r.next_u32() % 9) as usize;
        let inputs: Vec<usize> = (0..n).map(|_| id(&mut r)).collect();
        let targets: Vec<usize> = (0..(r.next_u32() % 9) as usize)
            .map(|_| id(&mut r))
            .collect();
        let classes = (r.next_u32() % 7) as usize;
        let window = match r.next_u32() % 3 {
            0 => None,
            1 => Some((r.next_u32() % 8) as usize),
            _ => Some(usize::MAX),
        };
        let targets = if r.next_u32() % 2 == 0 {
            Targets::Each(&targets)
        } else {
            Targets::Last(id(&mut r))
        };
        match tape.forward(
            &model,
            Sequence::Tokens(&inputs),
            targets,
            &[0.1; 8],
            classes,
        ) {
            Ok(loss) => {
                assert!(loss.is_finite() && loss >= 0.0);
                let mut grads = Rnn::ZERO;
                tape.backward(&model, Sequence::Tokens(&inputs), &mut grads, window)
                    .unwrap();
                let mut clipped = grads.clone();
                Clip::Norm(1.0).apply(&mut clipped);
                assert!(micrornn::global_sum_squares(&clipped) <= 1.0 + 1e-5);
                ok += 1;
            }
            Err(_) => {
                assert!(tape.is_empty());
                err += 1;
            }
        }
        let _ = cross_entropy(&model, &inputs, classes, window);
        if let Ok(mut sampler) = Sampler::new(
            &model,
            classes,
            Sampling {
                temperature: (r.next_u32() % 4) as f32 * 0.5,
                top_k: id(&mut r),
            },
        ) {
            let _ = sampler.prime(&inputs);
            if let Ok(token) = sampler.pick(&mut r) {
                assert!(token < classes);
            }
        }
    }
    assert!(
        ok > 50 && err > 50,
        "ok {ok}, err {err}: the generator misses a side"
    );
}
