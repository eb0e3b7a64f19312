//! The batched path for the GRU ([`BatchTape`] and [`BatchTrainer`] over
//! `micrornn::model::batch_cell::BatchCell`): the batch's gradient is the average of its
//! streams' single-stream [`Tape`] gradients (which `tests/gru_gradients.rs` holds against
//! finite differences), padding rows are never written, one stream trains as the [`Trainer`]
//! does, and the number of threads never changes the model.

use micrornn::batch::{BatchTape, BatchTrainer, Sequential, Shard};
use micrornn::model::gru::GruRecord;
use micrornn::model::{Gru, Params};
use micrornn::{Adagrad, Adam, Clip, Error, Sequence, Tape, Targets, TrainConfig, Trainer};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

const I: usize = 5;
const H: usize = 6;
const O: usize = 5;
/// Output 4 (and input 4) is padding.
const CLASSES: usize = 4;
const B: usize = 3;
const T: usize = 4;

type Model = Gru<I, H, O>;

fn uniform(rng: &mut Xoshiro128PlusPlus) -> f32 {
    rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0
}

fn random_model(seed: u64) -> Model {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut model = Model::ZERO;
    for index in 0..Model::TENSORS.len() {
        for x in model.tensor_mut(index) {
            *x = uniform(&mut rng) * 0.8;
        }
    }
    model
}

fn random_tokens(seed: u64, n: usize) -> Vec<usize> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.next_u32() as usize % CLASSES).collect()
}

/// Every parameter, flat, in the model file's order.
fn flat(model: &Model) -> Vec<f32> {
    (0..Model::TENSORS.len())
        .flat_map(|i| model.tensor(i).to_vec())
        .collect()
}

/// The batch's gradient is the average of its streams' single-stream gradients (up to the
/// order of the float sums), its loss their sum, and its final states theirs; the padding rows
/// of the gradient are never written.
#[test]
fn a_gru_batch_is_the_average_of_its_streams() {
    let model = random_model(4);
    let data = random_tokens(5, B * (T + 1));
    let chunk = |b: usize| &data[b * (T + 1)..(b + 1) * (T + 1)];
    let h0 = [[0.1f32; H], [-0.2; H], [0.0; H]];
    let mut tape = BatchTape::<B, T, H, O, GruRecord<H>>::ZERO;
    let ins: [&[usize]; B] = core::array::from_fn(|b| &chunk(b)[..T]);
    let tgs: [&[usize]; B] = core::array::from_fn(|b| &chunk(b)[1..]);
    let loss = tape
        .forward(&model, ins, tgs, &h0, CLASSES, 1.0 / B as f32)
        .unwrap();
    let mut grads = Model::ZERO;
    // Padding rows of the gradient are not written: sentinels stay.
    grads.b_y[CLASSES] = 7.0;
    grads.w_xh[CLASSES] = [[3.0; H]; 3];
    tape.backward(&model, ins, &mut grads).unwrap();
    assert_eq!(grads.b_y[CLASSES], 7.0);
    assert_eq!(grads.w_xh[CLASSES], [[3.0; H]; 3]);
    grads.b_y[CLASSES] = 0.0;
    grads.w_xh[CLASSES] = [[0.0; H]; 3];

    let (mut sum_loss, mut sum) = (0.0f32, vec![0.0f32; Model::PARAMETER_COUNT]);
    for b in 0..B {
        let mut single = Tape::<T, H, O, GruRecord<H>>::ZERO;
        let inputs = Sequence::Tokens(ins[b]);
        sum_loss += single
            .forward(&model, inputs, Targets::Each(tgs[b]), &h0[b], CLASSES)
            .unwrap();
        let mut g = Model::ZERO;
        single.backward(&model, inputs, &mut g, None).unwrap();
        for (s, g) in sum.iter_mut().zip(flat(&g)) {
            *s += g / B as f32;
        }
        for (x, y) in tape.last_hidden()[b].iter().zip(single.last_hidden()) {
            assert!((x - y).abs() < 1e-6, "stream {b}: state {x} vs {y}");
        }
    }
    assert!(
        (loss - sum_loss).abs() < 1e-5 * sum_loss,
        "{loss} vs {sum_loss}"
    );
    let g = flat(&grads);
    assert!(g.iter().any(|&x| x != 0.0));
    for (i, (g, s)) in g.iter().zip(&sum).enumerate() {
        assert!(
            (g - s).abs() < 1e-5 * s.abs().max(1.0),
            "parameter {i}: {g} vs {s}"
        );
    }
    // A token past the live classes is refused, and the tape left empty.
    let bad: [&[usize]; B] = [&[0, 1, CLASSES, 2], ins[1], ins[2]];
    assert_eq!(
        tape.forward(&model, bad, tgs, &h0, CLASSES, 1.0),
        Err(Error::TokenOutOfRange {
            token: CLASSES,
            limit: CLASSES
        })
    );
    assert!(tape.is_empty());
}

/// One stream of one shard trains as [`Trainer`] does (up to rounding: the products sum in
/// another order).
#[test]
fn one_gru_stream_trains_as_the_trainer() {
    let data = random_tokens(6, 300);
    let config = TrainConfig {
        seq_len: T,
        clip: Clip::Value(5.0),
        ..TrainConfig::min_char_rnn(CLASSES)
    };
    let (mut a, mut b) = (random_model(7), random_model(7));
    let (mut opt_a, mut opt_b) = (Adagrad::new(0.1), Adagrad::new(0.1));
    let (mut grads, mut tape) = (Model::ZERO, Tape::<T, H, O, GruRecord<H>>::ZERO);
    let mut trainer = Trainer::new(&mut a, &mut grads, &mut tape, &mut opt_a, config).unwrap();
    let mut shards = [Shard::<I, 1, T, H, O, Model>::ZERO];
    let mut batched = BatchTrainer::new(&mut b, &mut shards, &mut opt_b, config).unwrap();
    for _ in 0..100 {
        let (x, y) = (
            trainer.train_chunk(&data).unwrap(),
            batched.train_chunk(&data, &Sequential).unwrap(),
        );
        assert!(
            (x.loss - y.loss).abs() < 1e-3 * x.loss,
            "{} vs {}",
            x.loss,
            y.loss
        );
        assert_eq!((x.tokens, x.wrapped), (y.tokens, y.wrapped));
    }
    assert_eq!(trainer.state.epoch, batched.state.epoch);
    for (x, y) in flat(trainer.buffers.model).iter().zip(flat(batched.model)) {
        assert!((x - y).abs() < 1e-3, "{x} vs {y}");
    }
}

/// A batch of 2 shards of 2 GRU streams over 4 copies of a periodic text learns it; the same seed gives
/// the same model bit for bit whatever the number of threads.
#[test]
fn a_gru_batch_learns_and_threads_do_not_change_it() {
    use micrornn::host::threads::Threads;
    // 0 1 2 3 2 1 0 1 …: after a 1 or a 2 the next token depends on the one before, so the
    // cell's memory is needed.
    let part: Vec<usize> = (0..60).map(|i| [0, 1, 2, 3, 2, 1][i % 6]).collect();
    let data = part.repeat(4);
    let config = TrainConfig {
        seq_len: T,
        ..TrainConfig::min_char_rnn(CLASSES)
    };
    let train = |threads: usize| {
        let mut model = random_model(9);
        let mut adam = Adam::new(0.02);
        let mut shards = vec![Shard::<I, 2, T, H, O, Model>::ZERO; 2];
        let mut trainer = BatchTrainer::new(&mut model, &mut shards, &mut adam, config).unwrap();
        assert_eq!(trainer.streams(), 4);
        let losses: Vec<f32> = (0..400)
            .map(|_| trainer.train_chunk(&data, &Threads(threads)).unwrap().loss)
            .collect();
        let bits: Vec<u32> = flat(&model).iter().map(|x| x.to_bits()).collect();
        (losses, bits)
    };
    let (losses, bits) = train(1);
    let (first, last) = (losses[0], losses[losses.len() - 1]);
    // A uniform guess costs ln 4 ≈ 1.39 nats a step; the text is learnt.
    assert!(first > 0.8 * T as f32 * 4f32.ln(), "first chunk {first}");
    assert!(last < 0.25 * first, "loss {first} → {last}");
    let bits_of = |l: &[f32]| l.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    for threads in [2, 3] {
        let (l, b) = train(threads);
        assert_eq!(bits_of(&l), bits_of(&losses), "{threads} threads: losses");
        assert_eq!(b, bits, "{threads} threads: model");
    }
}
