//! The batched path: [`BatchTape`] gradients (with and without dropout) against central finite
//! differences of a float64 loss written here, against the single-stream [`Tape`] (the batch is
//! the average of its streams), and [`BatchTrainer`] against [`Trainer`] for one stream.

use micrornn::batch::{BatchTape, BatchTrainer, Sequential, Shard};
use micrornn::model::batch::DropoutPass;
use micrornn::model::dropout::{Dropout, RowKey};
use micrornn::{Adagrad, Adam, Clip, Error, Rnn, Sequence, Tape, Targets, TrainConfig, Trainer};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

const I: usize = 5;
const H: usize = 6;
const O: usize = 5;
/// Output 4 (and input 4) is padding.
const CLASSES: usize = 4;
const B: usize = 3;
const T: usize = 4;

fn uniform(rng: &mut Xoshiro128PlusPlus) -> f32 {
    rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0
}

fn random_model(seed: u64) -> Rnn<I, H, O> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    let mut model = Rnn::ZERO;
    for tensor in model.tensors_mut() {
        tensor.iter_mut().for_each(|x| *x = uniform(&mut rng) * 0.8);
    }
    model
}

fn random_tokens(seed: u64, n: usize) -> Vec<usize> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(seed);
    (0..n).map(|_| rng.next_u32() as usize % CLASSES).collect()
}

/// `scale · Σ_b Σ_t -log softmax(y)[target]` in float64, over flat parameters in the order of
/// `Rnn::tensors`, with `y = W_hy·(m ⊙ h) + b_y` for the dropout mask `m` of each stream and
/// step (all ones without dropout).
fn loss64(
    p: &[f64],
    inputs: &[Vec<usize>],
    targets: &[Vec<usize>],
    h0: &[[f32; H]; B],
    masks: &[Vec<Vec<f64>>],
) -> f64 {
    let (w_hh, b_h, w_hy, b_y) = (
        I * H,
        I * H + H * H,
        I * H + H * H + H,
        I * H + H * H + H + O * H,
    );
    let mut total = 0.0;
    for (((xs, ts), h0), masks) in inputs.iter().zip(targets).zip(h0).zip(masks) {
        let mut h: Vec<f64> = h0.iter().map(|&x| f64::from(x)).collect();
        for ((&x, &target), mask) in xs.iter().zip(ts).zip(masks) {
            h = (0..H)
                .map(|j| {
                    let a = p[b_h + j]
                        + p[x * H + j]
                        + (0..H).map(|k| p[w_hh + j * H + k] * h[k]).sum::<f64>();
                    a.tanh()
                })
                .collect();
            let y: Vec<f64> = (0..CLASSES)
                .map(|o| {
                    p[b_y + o]
                        + (0..H)
                            .map(|j| p[w_hy + o * H + j] * mask[j] * h[j])
                            .sum::<f64>()
                })
                .collect();
            let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            total += max + y.iter().map(|v| (v - max).exp()).sum::<f64>().ln() - y[target];
        }
    }
    total / B as f64
}

#[test]
fn batched_gradients_match_finite_differences() {
    check_gradients(DropoutPass::NONE);
}

/// With dropout the gradient is that of the loss under the pass's masks (the masks are a
/// function of the key, so the loss is a function of the parameters to differentiate), and the
/// masks drop about the rate's share of the readout's input.
#[test]
fn dropout_gradients_match_finite_differences() {
    let dropout = DropoutPass {
        dropout: Dropout::new(0.4, 11).unwrap(),
        draw: 5,
        first_stream: 2,
    };
    let dropped = check_gradients(dropout);
    assert!(dropped > 0 && dropped < B * T * H / 2 + B * T, "{dropped}");
}

/// Checks the gradients of one forward and backward pass with `dropout` against finite
/// differences; returns how many readout inputs the masks dropped.
fn check_gradients(dropout: DropoutPass) -> usize {
    let model = random_model(1);
    let data = random_tokens(2, B * (T + 1));
    let inputs: Vec<Vec<usize>> = (0..B).map(|b| data[b * (T + 1)..][..T].to_vec()).collect();
    let targets: Vec<Vec<usize>> = (0..B)
        .map(|b| data[b * (T + 1) + 1..][..T].to_vec())
        .collect();
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(3);
    let h0: [[f32; H]; B] =
        core::array::from_fn(|_| core::array::from_fn(|_| uniform(&mut rng) * 0.5));
    let mut tape = BatchTape::<B, T, H, O>::ZERO;
    let ins: [&[usize]; B] = core::array::from_fn(|b| &inputs[b][..]);
    let tgs: [&[usize]; B] = core::array::from_fn(|b| &targets[b][..]);
    let loss = tape
        .forward_dropped(&model, (ins, tgs), &h0, CLASSES, 1.0 / B as f32, dropout)
        .unwrap();
    let masks: Vec<Vec<Vec<f64>>> = (0..B)
        .map(|b| {
            (0..T)
                .map(|t| {
                    let key = RowKey {
                        draw: dropout.draw,
                        stream: dropout.first_stream + b as u64,
                        step: t as u64,
                    };
                    let factors = dropout.dropout.factors(key).take(H);
                    factors.map(f64::from).collect()
                })
                .collect()
        })
        .collect();
    let dropped = masks
        .iter()
        .flatten()
        .flatten()
        .filter(|&&m| m == 0.0)
        .count();
    let mut grads = Rnn::<I, H, O>::ZERO;
    // Padding rows of the gradient are not written: a sentinel stays.
    grads.b_y[CLASSES] = 7.0;
    tape.backward(&model, ins, &mut grads).unwrap();
    assert_eq!(grads.b_y[CLASSES], 7.0);
    assert!(grads.w_xh[CLASSES].iter().all(|&g| g == 0.0));

    let p: Vec<f64> = model
        .tensors()
        .concat()
        .iter()
        .map(|&x| f64::from(x))
        .collect();
    let l64 = loss64(&p, &inputs, &targets, &h0, &masks);
    assert!(
        ((f64::from(loss) / B as f64) - l64).abs() < 1e-5 * l64.abs(),
        "{loss} vs {l64}"
    );
    let eps = 1e-5;
    let g = grads.tensors().concat();
    let live = |i: usize| {
        let w_hy_padding = I * H + H * H + H + CLASSES * H..I * H + H * H + H + O * H;
        !w_hy_padding.contains(&i) && i != p.len() - 1
    };
    let mut checked = 0;
    for i in (0..p.len()).filter(|&i| live(i)) {
        let (mut plus, mut minus) = (p.clone(), p.clone());
        plus[i] += eps;
        minus[i] -= eps;
        let fd = (loss64(&plus, &inputs, &targets, &h0, &masks)
            - loss64(&minus, &inputs, &targets, &h0, &masks))
            / (2.0 * eps);
        let err = (f64::from(g[i]) - fd).abs();
        assert!(
            err <= 1e-4 * fd.abs().max(1e-2),
            "parameter {i}: {} vs {fd}",
            g[i]
        );
        checked += 1;
    }
    assert!(checked > 90);
    dropped
}

/// The batch's gradient is the average of its streams' single-stream gradients.
#[test]
fn a_batch_is_the_average_of_its_streams() {
    let model = random_model(4);
    let data = random_tokens(5, B * (T + 1));
    let chunk = |b: usize| &data[b * (T + 1)..(b + 1) * (T + 1)];
    let h0 = [[0.1f32; H], [-0.2; H], [0.0; H]];
    let mut tape = BatchTape::<B, T, H, O>::ZERO;
    let ins: [&[usize]; B] = core::array::from_fn(|b| &chunk(b)[..T]);
    let tgs: [&[usize]; B] = core::array::from_fn(|b| &chunk(b)[1..]);
    let loss = tape
        .forward(&model, ins, tgs, &h0, CLASSES, 1.0 / B as f32)
        .unwrap();
    let mut grads = Rnn::<I, H, O>::ZERO;
    tape.backward(&model, ins, &mut grads).unwrap();

    let (mut sum_loss, mut sum) = (0.0f32, vec![0.0f32; Rnn::<I, H, O>::PARAMETERS]);
    for b in 0..B {
        let mut single = Tape::<T, H, O>::ZERO;
        let inputs = Sequence::Tokens(ins[b]);
        sum_loss += single
            .forward(&model, inputs, Targets::Each(tgs[b]), &h0[b], CLASSES)
            .unwrap();
        let mut g = Rnn::<I, H, O>::ZERO;
        single.backward(&model, inputs, &mut g, None).unwrap();
        for (s, g) in sum.iter_mut().zip(g.tensors().concat()) {
            *s += g / B as f32;
        }
        assert_eq!(tape.last_hidden()[b].len(), H);
    }
    assert!((loss - sum_loss).abs() < 1e-5 * sum_loss);
    for (i, (g, s)) in grads.tensors().concat().iter().zip(&sum).enumerate() {
        assert!(
            (g - s).abs() < 1e-5 * s.abs().max(1.0),
            "parameter {i}: {g} vs {s}"
        );
    }
}

/// One stream of one shard trains as [`Trainer`] does (up to rounding: the products sum in
/// another order), and errors leave everything as it was.
#[test]
fn one_stream_trains_as_the_trainer() {
    let data = random_tokens(6, 300);
    let config = TrainConfig {
        seq_len: T,
        clip: Clip::Value(5.0),
        ..TrainConfig::min_char_rnn(CLASSES)
    };
    let (mut a, mut b) = (random_model(7), random_model(7));
    let (mut opt_a, mut opt_b) = (Adagrad::new(0.1), Adagrad::new(0.1));
    let (mut grads, mut tape) = (Rnn::ZERO, Tape::<T, H, O>::ZERO);
    let mut trainer = Trainer::new(&mut a, &mut grads, &mut tape, &mut opt_a, config).unwrap();
    let mut shards = [Shard::<I, 1, T, H, O>::ZERO];
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
    for (x, y) in trainer
        .buffers
        .model
        .tensors()
        .concat()
        .iter()
        .zip(batched.model.tensors().concat())
    {
        assert!((x - y).abs() < 1e-3, "{x} vs {y}");
    }

    let before = (
        batched.model.clone(),
        batched.state,
        batched.shards[0].hidden,
    );
    let mut bad = data.clone();
    bad[batched.state.position + 1] = CLASSES;
    assert_eq!(
        batched.train_chunk(&bad, &Sequential),
        Err(Error::TokenOutOfRange {
            token: CLASSES,
            limit: CLASSES
        })
    );
    assert_eq!(
        batched.train_chunk(&data[..T], &Sequential),
        Err(Error::CorpusTooShort {
            len: T,
            needed: T + 1
        })
    );
    assert_eq!(
        (
            batched.model.clone(),
            batched.state,
            batched.shards[0].hidden
        ),
        before
    );
}

/// Streams are contiguous parts of the data, each carrying its own state: a batch of 2 shards of
/// 2 streams over 4 copies of a text learns it, and wraps after one part.
#[test]
fn streams_split_the_data_into_parts() {
    let part = random_tokens(8, 60);
    let data = part.repeat(4);
    let mut model = random_model(9);
    let mut adam = Adam::new(0.02);
    let mut shards = [Shard::<I, 2, T, H, O>::ZERO, Shard::ZERO];
    let config = TrainConfig {
        seq_len: T,
        ..TrainConfig::min_char_rnn(CLASSES)
    };
    let mut trainer = BatchTrainer::new(&mut model, &mut shards, &mut adam, config).unwrap();
    assert_eq!(trainer.streams(), 4);
    let first = trainer.train_chunk(&data, &Sequential).unwrap();
    assert_eq!(first.tokens, 4 * T);
    let mut wraps = 0;
    for _ in 0..(60 - 1) / T - 1 {
        wraps += usize::from(trainer.train_chunk(&data, &Sequential).unwrap().wrapped);
    }
    assert_eq!(wraps, 0);
    assert!(trainer.train_chunk(&data, &Sequential).unwrap().wrapped);
    // All four streams see the same text at the same offsets: their states agree.
    let h = trainer.shards[0].hidden[0];
    assert!(trainer.shards.iter().flat_map(|s| s.hidden).all(|x| x == h));
}

/// The same seed gives the same model whatever the number of threads: shards are summed in
/// shard order, never in the order threads finish.
#[test]
fn threads_do_not_change_the_model() {
    use micrornn::host::threads::Threads;
    let data = random_tokens(10, 400);
    let config = TrainConfig {
        seq_len: T,
        ..TrainConfig::min_char_rnn(CLASSES)
    };
    let train = |threads: usize, dropout: Dropout| {
        let mut model = random_model(11);
        let mut adam = Adam::new(0.01);
        let mut shards = vec![Shard::<I, 2, T, H, O>::ZERO; 3];
        let mut trainer = BatchTrainer::new(&mut model, &mut shards, &mut adam, config).unwrap();
        trainer.dropout = dropout;
        let losses: Vec<u32> = (0..30)
            .map(|_| {
                trainer
                    .train_chunk(&data, &Threads(threads))
                    .unwrap()
                    .loss
                    .to_bits()
            })
            .collect();
        let bits: Vec<u32> = model
            .tensors()
            .concat()
            .iter()
            .map(|x| x.to_bits())
            .collect();
        (losses, bits)
    };
    let one = train(1, Dropout::NONE);
    assert_eq!(train(2, Dropout::NONE), one);
    assert_eq!(train(3, Dropout::NONE), one);
    // Dropout's masks are drawn per update and per stream of the whole batch: no thread
    // changes them either, and they change the model.
    let dropout = Dropout::new(0.3, 4).unwrap();
    let dropped = train(1, dropout);
    assert_eq!(train(3, dropout), dropped);
    assert_ne!(dropped, one);
    assert_ne!(one.1, {
        let m = random_model(11);
        m.tensors()
            .concat()
            .iter()
            .map(|x| x.to_bits())
            .collect::<Vec<_>>()
    });
}

/// Dense many-to-one streams of 1, 4 and 2 steps on one tape: each stream's state is held past
/// its end (the tape's last states are each stream's own last state, as the single-stream tape
/// computes it), each has its logits, and the loss is the sum of the three alone.
#[test]
fn short_streams_hold_their_state_past_their_end() {
    let model = random_model(4);
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(5);
    let series: Vec<Vec<[f32; I]>> = [1, 4, 2]
        .iter()
        .map(|&len| {
            (0..len)
                .map(|_| core::array::from_fn(|_| uniform(&mut rng)))
                .collect()
        })
        .collect();
    let inputs: [Sequence<'_, I>; B] = core::array::from_fn(|b| Sequence::Dense(&series[b]));
    let targets: [Targets<'_>; B] = core::array::from_fn(|b| Targets::Last(b % CLASSES));
    let mut tape = BatchTape::<B, T, H, O>::ZERO;
    let loss = tape
        .forward_sequences(
            &model,
            (inputs, targets),
            &[[0.0; H]; B],
            CLASSES,
            1.0,
            DropoutPass::NONE,
        )
        .unwrap();
    assert_eq!(tape.len(), T);
    let mut alone_loss = 0.0;
    for b in 0..B {
        let mut single = Tape::<T, H, O>::ZERO;
        alone_loss += single
            .forward(&model, inputs[b], targets[b], &[0.0; H], CLASSES)
            .unwrap();
        for (x, y) in tape.last_hidden()[b].iter().zip(single.last_hidden()) {
            assert!((x - y).abs() < 1e-6, "stream {b}: {x} vs {y}");
        }
        assert_eq!(tape.logits(b).len(), CLASSES);
    }
    assert!(
        (loss - alone_loss).abs() < 1e-5 * alone_loss,
        "{loss} vs {alone_loss}"
    );
}

/// What a many-to-one pass refuses, leaving the tape empty.
#[test]
fn a_bad_many_to_one_pass_is_refused() {
    let model = random_model(6);
    let (short, long) = ([[0.5f32; I]; 2], [[0.5f32; I]; T + 1]);
    let ids = [0usize, 1];
    let last = [Targets::Last(0); B];
    let h0 = [[0.0f32; H]; B];
    let cases: Vec<([Sequence<'_, I>; B], [Targets<'_>; B], DropoutPass)> = vec![
        // No stream has a step.
        ([Sequence::Dense(&[]); B], last, DropoutPass::NONE),
        // A stream longer than the tape.
        (
            [
                Sequence::Dense(&short),
                Sequence::Dense(&long),
                Sequence::Dense(&short),
            ],
            last,
            DropoutPass::NONE,
        ),
        // Per-step and per-sequence targets in one pass.
        (
            [Sequence::Tokens(&ids); B],
            [Targets::Each(&ids), Targets::Last(0), Targets::Last(1)],
            DropoutPass::NONE,
        ),
        // A label at or above the classes.
        (
            [Sequence::Dense(&short); B],
            [Targets::Last(0), Targets::Mean(CLASSES), Targets::Last(1)],
            DropoutPass::NONE,
        ),
        // Dropout with a class per sequence.
        (
            [Sequence::Dense(&short); B],
            last,
            DropoutPass {
                dropout: Dropout::new(0.5, 1).unwrap(),
                draw: 0,
                first_stream: 0,
            },
        ),
    ];
    let mut tape = BatchTape::<B, T, H, O>::ZERO;
    for (inputs, targets, dropout) in cases {
        let result = tape.forward_sequences(&model, (inputs, targets), &h0, CLASSES, 1.0, dropout);
        assert!(result.is_err(), "{inputs:?} {targets:?}");
        assert!(tape.is_empty());
        assert!(tape.logits(0).is_empty());
    }
    let past_inputs = [
        Sequence::Tokens(&[I]),
        Sequence::Dense(&short),
        Sequence::Dense(&short),
    ];
    let result = tape.forward_sequences(
        &model,
        (past_inputs, last),
        &h0,
        CLASSES,
        1.0,
        DropoutPass::NONE,
    );
    assert_eq!(result, Err(Error::TokenOutOfRange { token: I, limit: I }));
}

/// With dense inputs every input row of the gradient is written, whatever `live_inputs` says
/// (a dense input reaches every row): stale values in the gradient buffer do not survive.
#[test]
fn dense_streams_write_every_input_row() {
    let model = random_model(8);
    let samples: Vec<[f32; I]> = (0..T)
        .map(|t| core::array::from_fn(|i| ((t * I + i) as f32 * 0.37).sin()))
        .collect();
    let targets: Vec<usize> = (0..T).map(|t| t % CLASSES).collect();
    let inputs = [Sequence::Dense(&samples); B];
    let each = [Targets::Each(&targets); B];
    let h0 = [[0.0f32; H]; B];
    let mut tape = BatchTape::<B, T, H, O>::ZERO;
    let mut fresh = Rnn::<I, H, O>::ZERO;
    let mut stale = Rnn::<I, H, O>::ZERO;
    stale.w_xh.iter_mut().flatten().for_each(|w| *w = 7.0);
    tape.forward_sequences(&model, (inputs, each), &h0, CLASSES, 1.0, DropoutPass::NONE)
        .unwrap();
    tape.backward_sequences(&model, inputs, &mut fresh, I)
        .unwrap();
    tape.backward_sequences(&model, inputs, &mut stale, 1)
        .unwrap();
    assert_eq!(fresh.w_xh, stale.w_xh);
    assert!(fresh.w_xh[I - 1].iter().any(|&g| g != 0.0));
}
