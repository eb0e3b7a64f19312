//! Training end to end: determinism, notebook 003's memorization workflow, errors that leave the
//! model untouched, and vocabulary padding.

use micrornn::{
    Adagrad, Adam, CharVocab, Clip, Error, Momentum, Optimizer, Rnn, Sampler, Sampling, Sequence,
    Sgd, Tape, Targets, TrainConfig, TrainState, Trainer,
};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

/// Every parameter's bit pattern (NaN-safe, and tells -0 from +0).
fn bits<const I: usize, const H: usize, const O: usize>(model: &Rnn<I, H, O>) -> Vec<u32> {
    model
        .tensors()
        .concat()
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

fn state_bits<const H: usize>(s: &TrainState<H>) -> (Vec<u32>, usize, u64, u64, u32) {
    (
        s.hidden.iter().map(|x| x.to_bits()).collect(),
        s.position,
        s.iteration,
        s.epoch,
        s.smooth_loss.to_bits(),
    )
}

fn random_tokens(seed: u64, n: usize, vocab: usize) -> Vec<usize> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.next_u32() as usize % vocab).collect()
}

const POEM: &str = "Hope is the thing with feathers that perches in the soul. And sings the tune without the words and never stops at all. ";

/// Trains a 12-symbol LM for `chunks` chunks from `seed` with optimizer `opt`; returns the
/// parameter bits, the optimizer after training and the final state.
fn train_run<P: Optimizer<Rnn<12, 16, 12>> + Clone>(
    seed: u64,
    mut opt: P,
    chunks: usize,
    config: TrainConfig,
) -> (Vec<u32>, P, TrainState<16>) {
    let data = random_tokens(100, 400, 12);
    let mut model = Rnn::<12, 16, 12>::ZERO;
    model.init_uniform(&mut Xoshiro128PlusPlus::seed_from_u64(seed));
    let (mut grads, mut tape) = (Rnn::ZERO, Tape::<25, 16, 12>::ZERO);
    let mut trainer = Trainer::new(&mut model, &mut grads, &mut tape, &mut opt, config).unwrap();
    for _ in 0..chunks {
        trainer.train_chunk(&data).unwrap();
    }
    let state = trainer.state;
    (bits(&model), opt, state)
}

#[test]
fn same_seed_trains_to_bit_identical_parameters() {
    let adagrad = TrainConfig::min_char_rnn(12);
    let notebook_000 = TrainConfig {
        clip: Clip::None,
        window: Some(5),
        carry_hidden: false,
        ..adagrad
    };
    let norm = TrainConfig {
        clip: Clip::Norm(1.0),
        ..adagrad
    };
    // 40 chunks of 25 over 400 tokens: the run wraps around the data twice.
    let (a, mem_a, state_a) = train_run(1, Adagrad::new(0.1), 40, adagrad);
    let (b, mem_b, state_b) = train_run(1, Adagrad::new(0.1), 40, adagrad);
    assert_eq!(a, b);
    assert_eq!(bits(&mem_a.memory), bits(&mem_b.memory));
    assert_eq!(state_bits(&state_a), state_bits(&state_b));
    assert_eq!(state_a.epoch, 2);

    let (c, ..) = train_run(1, Sgd { lr: 0.01 }, 40, notebook_000);
    let (d, ..) = train_run(1, Sgd { lr: 0.01 }, 40, notebook_000);
    assert_eq!(c, d);
    let (e, ..) = train_run(1, Adam::new(0.01), 40, norm);
    let (f, ..) = train_run(1, Adam::new(0.01), 40, norm);
    assert_eq!(e, f);
    let (g, ..) = train_run(1, Momentum::new(0.01, 0.9), 40, adagrad);
    let (h, ..) = train_run(1, Momentum::new(0.01, 0.9), 40, adagrad);
    assert_eq!(g, h);

    // The comparison can fail: another seed, or one more chunk, gives other bits.
    let (other_seed, ..) = train_run(2, Adagrad::new(0.1), 40, adagrad);
    assert_ne!(a, other_seed);
    let (longer, ..) = train_run(1, Adagrad::new(0.1), 41, adagrad);
    assert_ne!(a, longer);
}

/// Notebook 003: H = 64, seq 25, Adagrad lr 0.1, clip ±5, hidden state carried between chunks,
/// N(0,1)·0.01 init, the sentence ×100. The notebook reaches a loss of 0.18 by iteration 3000.
#[test]
fn notebook_003_memorizes_the_poem() {
    let text = POEM.repeat(100);
    let vocab = CharVocab::<32>::from_text(&text).unwrap();
    assert_eq!(vocab.len(), 22);
    let mut ids = vec![0usize; text.chars().count()];
    vocab.encode_into(&text, &mut ids).unwrap();

    let mut model = Rnn::<22, 64, 22>::ZERO;
    model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(3), 0.01);
    let (mut grads, mut tape, mut adagrad) = (
        Rnn::ZERO,
        Tape::<25, 64, 22>::ZERO,
        Adagrad::<Rnn<22, 64, 22>>::new(0.1),
    );
    let config = TrainConfig::min_char_rnn(vocab.len());
    let mut trainer =
        Trainer::new(&mut model, &mut grads, &mut tape, &mut adagrad, config).unwrap();
    let first = trainer.train_chunk(&ids).unwrap().loss;
    let mut last = first;
    for i in 1..ITERATIONS {
        last = trainer.train_chunk(&ids).unwrap().loss;
        if i % 1000 == 0 {
            println!(
                "iteration {i}: loss {last:.3}, smoothed {:.3}",
                trainer.state.smooth_loss
            );
        }
    }
    assert!(
        first > 70.0,
        "an untrained model's chunk loss is 25·ln 22 ≈ 77, got {first}"
    );
    assert!(
        last < 0.5,
        "chunk loss {last} after {ITERATIONS} iterations"
    );

    // Greedy generation from 'H' writes the sentence, twice over.
    let mut sampler = Sampler::new(&model, vocab.len(), Sampling::GREEDY).unwrap();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(0);
    sampler.feed(vocab.encode('H').unwrap()).unwrap();
    let mut generated = String::from("H");
    let n = 2 * POEM.chars().count() - 1;
    sampler
        .generate(&mut rng, n, |id| generated.extend(vocab.decode(id)))
        .unwrap();
    assert_eq!(generated, POEM.repeat(2));
}

/// The notebook's 10,000 iterations (~21 passes over the data). Fewer are not enough for every
/// seed: greedy generation starts from a zero hidden state, which training meets only once per
/// pass, and "Hope is the " is followed by both "thing" and "tune". At 5,000 iterations one of 16
/// seeds tried wrote "Hope is the tune…" (chunk loss 0.07); at 10,000 all 16 (seeds 0..16)
/// reproduce the poem twice over with chunk losses 0.01–0.08.
const ITERATIONS: usize = 10_000;

/// Runs `train_chunk` on `data`, expecting `expected`, and checks that parameters, optimizer
/// memory and state are bit for bit what they were.
fn assert_error_changes_nothing<const I: usize, const O: usize>(
    trainer: &mut Trainer<'_, I, 16, O, 25, Adagrad<Rnn<I, 16, O>>>,
    data: &[usize],
    expected: Error,
) {
    let model = bits(trainer.buffers.model);
    let memory = bits(&trainer.buffers.optimizer.memory);
    let state = state_bits(&trainer.state);
    assert_eq!(trainer.train_chunk(data), Err(expected));
    assert_eq!(bits(trainer.buffers.model), model, "parameters changed");
    assert_eq!(
        bits(&trainer.buffers.optimizer.memory),
        memory,
        "optimizer memory changed"
    );
    assert_eq!(state_bits(&trainer.state), state, "training state changed");
}

#[test]
fn errors_leave_model_optimizer_and_state_unchanged() {
    let data = random_tokens(5, 300, 8);
    let mut model = Rnn::<8, 16, 8>::ZERO;
    model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(5), 0.1);
    let (mut grads, mut tape, mut adagrad) = (Rnn::ZERO, Tape::ZERO, Adagrad::new(0.1));
    let config = TrainConfig {
        classes: 7,
        ..TrainConfig::min_char_rnn(8)
    };
    let clean: Vec<usize> = data.iter().map(|&t| t % 7).collect();
    let mut trainer =
        Trainer::new(&mut model, &mut grads, &mut tape, &mut adagrad, config).unwrap();
    // Some training first, so that optimizer memory and hidden state are not trivial.
    for _ in 0..5 {
        trainer.train_chunk(&clean).unwrap();
    }

    // Too little data for one chunk of 25 inputs and 25 targets.
    assert_error_changes_nothing(
        &mut trainer,
        &clean[..25],
        Error::CorpusTooShort {
            len: 25,
            needed: 26,
        },
    );
    // An input id the model has no row for; a target outside the live classes.
    let mut bad_input = clean.clone();
    bad_input[trainer.state.position] = 8;
    assert_error_changes_nothing(
        &mut trainer,
        &bad_input,
        Error::TokenOutOfRange { token: 8, limit: 8 },
    );
    let mut bad_target = clean.clone();
    bad_target[trainer.state.position + 25] = 7;
    assert_error_changes_nothing(
        &mut trainer,
        &bad_target,
        Error::TokenOutOfRange { token: 7, limit: 7 },
    );
    // A poisoned parameter makes the loss NaN.
    let saved = trainer.buffers.model.w_hh[3][5];
    trainer.buffers.model.w_hh[3][5] = f32::NAN;
    assert_error_changes_nothing(&mut trainer, &clean, Error::NonFiniteLoss);
    trainer.buffers.model.w_hh[3][5] = saved;
    trainer.buffers.model.b_y[2] = f32::INFINITY;
    assert_error_changes_nothing(&mut trainer, &clean, Error::NonFiniteLoss);
    trainer.buffers.model.b_y[2] = 0.0;
    // Still trains afterwards.
    trainer.train_chunk(&clean).unwrap();

    // A public field set out of range is an error or a wrap-around, never an overflow panic.
    trainer.config.seq_len = usize::MAX;
    assert!(trainer.train_chunk(&clean).is_err());
    trainer.config.seq_len = 25;
    trainer.state.position = usize::MAX;
    let report = trainer.train_chunk(&clean).unwrap();
    assert!(report.wrapped);
    assert_eq!(trainer.state.position, 25);
}

#[test]
fn a_huge_learning_rate_diverges_into_an_error_that_changes_nothing() {
    let data = random_tokens(6, 300, 8);
    let mut model = Rnn::<8, 16, 8>::ZERO;
    model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(6), 0.1);
    // Momentum SGD with the largest finite rate: after the first chunk every parameter whose
    // gradient exceeds 1 in magnitude (the output biases of the most frequent targets, at least)
    // becomes infinite, so the next forward pass is NaN on every kernel table. (Adagrad at 1e36
    // diverged only through rounding luck: its step is bounded by the rate.)
    let (mut grads, mut tape, mut momentum) = (
        Rnn::ZERO,
        Tape::<25, 16, 8>::ZERO,
        Momentum::new(f32::MAX, 0.9),
    );
    let config = TrainConfig {
        clip: Clip::None,
        ..TrainConfig::min_char_rnn(8)
    };
    let mut trainer =
        Trainer::new(&mut model, &mut grads, &mut tape, &mut momentum, config).unwrap();
    let mut diverged = false;
    for _ in 0..20 {
        let model = bits(trainer.buffers.model);
        let memory = bits(&trainer.buffers.optimizer.velocity);
        let state = state_bits(&trainer.state);
        match trainer.train_chunk(&data) {
            Ok(report) => assert!(report.loss.is_finite()),
            Err(e) => {
                assert_eq!(e, Error::NonFiniteLoss);
                assert_eq!(bits(trainer.buffers.model), model);
                assert_eq!(bits(&trainer.buffers.optimizer.velocity), memory);
                assert_eq!(state_bits(&trainer.state), state);
                diverged = true;
                break;
            }
        }
    }
    assert!(
        diverged,
        "a learning rate of f32::MAX should blow the loss up"
    );
}

#[test]
fn trainer_rejects_bad_settings() {
    let mut model = Rnn::<8, 16, 8>::ZERO;
    let (mut grads, mut tape, mut sgd) = (Rnn::ZERO, Tape::<25, 16, 8>::ZERO, Sgd { lr: 0.1 });
    let good = TrainConfig::min_char_rnn(8);
    for config in [
        TrainConfig { seq_len: 0, ..good },
        TrainConfig {
            seq_len: 26,
            ..good
        },
        TrainConfig { classes: 0, ..good },
        TrainConfig { classes: 9, ..good },
        TrainConfig {
            clip: Clip::Value(-5.0),
            ..good
        },
        TrainConfig {
            clip: Clip::Norm(0.0),
            ..good
        },
        TrainConfig {
            clip: Clip::Value(f32::NAN),
            ..good
        },
    ] {
        assert!(matches!(
            Trainer::new(&mut model, &mut grads, &mut tape, &mut sgd, config),
            Err(Error::InvalidSetting(_))
        ));
    }
    for clip in [Clip::None, Clip::Value(1e-3), Clip::Norm(f32::INFINITY)] {
        let config = TrainConfig { clip, ..good };
        assert!(Trainer::new(&mut model, &mut grads, &mut tape, &mut sgd, config).is_ok());
    }
}

/// A 65-symbol corpus run in a 128-output bucket: same loss, same gradients, same training as a
/// model of exactly 65 outputs, and padded classes never appear.
#[test]
fn padded_vocabulary_is_exactly_the_unpadded_model() {
    const V: usize = 65;
    const P: usize = 128;
    const H: usize = 16;
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(65);
    let mut small = Rnn::<V, H, V>::ZERO;
    small.init_uniform(&mut rng);
    for b in small.b_h.iter_mut().chain(&mut small.b_y) {
        *b = (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.2;
    }
    // The padded model: the same live weights; random padding, with huge output biases on the
    // padded classes so that any leak would dominate.
    let mut big = Rnn::<P, H, P>::ZERO;
    big.init_uniform(&mut rng);
    big.w_xh[..V].copy_from_slice(&small.w_xh);
    big.w_hh = small.w_hh;
    big.b_h = small.b_h;
    big.w_hy[..V].copy_from_slice(&small.w_hy);
    big.b_y[..V].copy_from_slice(&small.b_y);
    big.b_y[V..].fill(50.0);

    let data = random_tokens(66, 1000, V);
    let (inputs, inputs_b) = (Sequence::Tokens(&data[..25]), Sequence::Tokens(&data[..25]));
    let targets = Targets::Each(&data[1..26]);
    let h_start = [0.3f32; H];
    let (mut tape_s, mut tape_b) = (Tape::<25, H, V>::ZERO, Tape::<25, H, P>::ZERO);
    let loss_s = tape_s
        .forward(&small, inputs, targets, &h_start, V)
        .unwrap();
    let loss_b = tape_b
        .forward(&big, inputs_b, targets, &h_start, V)
        .unwrap();
    assert_eq!(loss_s, loss_b);
    let (mut g_s, mut g_b) = (Rnn::<V, H, V>::ZERO, Rnn::<P, H, P>::ZERO);
    for window in [None, Some(5)] {
        tape_s.backward(&small, inputs, &mut g_s, window).unwrap();
        tape_b.backward(&big, inputs_b, &mut g_b, window).unwrap();
        assert_eq!(g_s.w_xh[..], g_b.w_xh[..V]);
        assert_eq!(g_s.w_hh, g_b.w_hh);
        assert_eq!(g_s.b_h, g_b.b_h);
        assert_eq!(g_s.w_hy[..], g_b.w_hy[..V]);
        assert_eq!(g_s.b_y[..], g_b.b_y[..V]);
        assert!(g_b.w_xh[V..].iter().flatten().all(|&g| g == 0.0));
        assert!(g_b.w_hy[V..].iter().flatten().all(|&g| g == 0.0));
        assert!(g_b.b_y[V..].iter().all(|&g| g == 0.0));
    }

    // Training: the live parameters stay equal, the padded ones untouched.
    let padding_before = (big.w_hy[V..].to_vec(), big.b_y[V..].to_vec());
    let w_hh_before = small.w_hh;
    let mut small_losses = Vec::new();
    let config = TrainConfig {
        seq_len: 25,
        ..TrainConfig::min_char_rnn(V)
    };
    {
        let (mut grads, mut tape, mut opt) = (Rnn::ZERO, Tape::<25, H, V>::ZERO, Adagrad::new(0.1));
        let mut t = Trainer::new(&mut small, &mut grads, &mut tape, &mut opt, config).unwrap();
        for _ in 0..30 {
            small_losses.push(t.train_chunk(&data).unwrap().loss);
        }
    }
    let mut big_losses = Vec::new();
    {
        let (mut grads, mut tape, mut opt) = (Rnn::ZERO, Tape::<25, H, P>::ZERO, Adagrad::new(0.1));
        let mut t = Trainer::new(&mut big, &mut grads, &mut tape, &mut opt, config).unwrap();
        for _ in 0..30 {
            big_losses.push(t.train_chunk(&data).unwrap().loss);
        }
    }
    assert_eq!(small.w_xh[..], big.w_xh[..V]);
    assert_eq!(small.w_hh, big.w_hh);
    assert_eq!(small.b_h, big.b_h);
    assert_eq!(small.w_hy[..], big.w_hy[..V]);
    assert_eq!(small.b_y[..], big.b_y[..V]);
    assert_eq!(
        (big.w_hy[V..].to_vec(), big.b_y[V..].to_vec()),
        padding_before
    );
    assert_eq!(small_losses, big_losses);
    assert_ne!(small.w_hh, w_hh_before, "training changed nothing");

    // Sampling: padded classes have probability exactly 0 and are never drawn.
    let mut draws = Xoshiro128PlusPlus::seed_from_u64(67);
    for sampling in [
        Sampling::FULL,
        Sampling {
            temperature: 5.0,
            top_k: 0,
        },
        Sampling {
            temperature: 100.0,
            top_k: 70,
        },
        Sampling {
            temperature: 5.0,
            top_k: 10,
        },
        Sampling::GREEDY,
    ] {
        let mut sampler = Sampler::new(&big, V, sampling).unwrap();
        sampler.prime(&data[..10]).unwrap();
        let mut probs = [1.0f32; P];
        sampler.probabilities(&mut probs);
        assert!(probs[V..].iter().all(|&p| p == 0.0));
        assert!((probs[..V].iter().sum::<f32>() - 1.0).abs() < 1e-5);
        let mut seen = [false; V];
        sampler
            .generate(&mut draws, 5000, |id| {
                assert!(id < V, "padded class {id} drawn");
                seen[id] = true;
            })
            .unwrap();
        if sampling.temperature >= 5.0 && (sampling.top_k == 0 || sampling.top_k >= V) {
            // Flat enough that the draws cover most live classes: the sampler does draw.
            assert!(seen.iter().filter(|&&s| s).count() > V / 2);
        }
    }
}

/// The training loop of a padded model never reads or writes the padded rows, of the
/// parameters, the gradients or the optimizer memory (that is what makes padding free): NaN
/// there would poison the loss or the gradient check if anything read it. Every optimizer trains
/// the live rows exactly as the unpadded model.
#[test]
fn padded_rows_are_never_touched_by_training() {
    const V: usize = 11;
    const P: usize = 32;
    const H: usize = 16;
    let data = random_tokens(12, 400, V);
    let config = TrainConfig {
        seq_len: 25,
        clip: Clip::Norm(1.0),
        ..TrainConfig::min_char_rnn(V)
    };
    let mut small = Rnn::<V, H, V>::ZERO;
    small.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(3), 0.1);
    let poison = |model: &mut Rnn<P, H, P>| {
        model.w_xh[V..].fill([f32::NAN; H]);
        model.w_hy[V..].fill([f32::NAN; H]);
        model.b_y[V..].fill(f32::NAN);
    };
    let mut big = Rnn::<P, H, P>::ZERO;
    big.w_xh[..V].copy_from_slice(&small.w_xh);
    big.w_hh = small.w_hh;
    big.w_hy[..V].copy_from_slice(&small.w_hy);
    poison(&mut big);
    let (mut opt_s, mut opt_b) = (
        Adam::<Rnn<V, H, V>>::new(0.01),
        Adam::<Rnn<P, H, P>>::new(0.01),
    );
    poison(&mut opt_b.m);
    poison(&mut opt_b.v);
    let (mut g_s, mut g_b) = (Rnn::<V, H, V>::ZERO, Rnn::<P, H, P>::ZERO);
    poison(&mut g_b);
    let (mut tape_s, mut tape_b) = (Tape::<25, H, V>::ZERO, Tape::<25, H, P>::ZERO);
    let mut ts = Trainer::new(&mut small, &mut g_s, &mut tape_s, &mut opt_s, config).unwrap();
    let mut tb = Trainer::new(&mut big, &mut g_b, &mut tape_b, &mut opt_b, config).unwrap();
    for _ in 0..20 {
        assert_eq!(
            ts.train_chunk(&data).unwrap(),
            tb.train_chunk(&data).unwrap()
        );
    }
    assert_eq!(ts.buffers.model.w_xh[..], tb.buffers.model.w_xh[..V]);
    assert_eq!(ts.buffers.model.w_hh, tb.buffers.model.w_hh);
    assert_eq!(ts.buffers.model.w_hy[..], tb.buffers.model.w_hy[..V]);
    assert_eq!(ts.buffers.model.b_y[..], tb.buffers.model.b_y[..V]);
    assert!(tb.buffers.model.b_y[V..].iter().all(|b| b.is_nan()));
    assert!(
        tb.buffers.grads.w_hy[V..]
            .iter()
            .flatten()
            .all(|g| g.is_nan())
    );
    assert!(
        tb.buffers.optimizer.v.w_xh[V..]
            .iter()
            .flatten()
            .all(|v| v.is_nan())
    );
}
