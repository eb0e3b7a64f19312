//! Padding is free of side effects for every optimizer on every kernel table: a 65-class corpus
//! trained in a model of 128 outputs (and inputs) gives bit for bit the parameters and losses of
//! the model of exactly 65, and leaves the padded parameters untouched.
//!
//! With `H = 20`, the live part of every tensor except `w_hh` ends inside a vector of the small
//! model (65·20 = 1300 and 65 are not multiples of 16, 8 or 4) but in the body of the padded one,
//! so each kernel's tail must compute exactly what its body does.

use micrornn::{
    Adagrad, Adam, Clip, Momentum, Optimizer, Rnn, Sequence, Sgd, Tape, Targets, TrainConfig,
    Trainer,
};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};

const V: usize = 65;
const P: usize = 128;
const H: usize = 20;
const CHUNKS: usize = 30;

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|x| x.to_bits()).collect()
}

/// The live parameters of a `P`-class model, in the order of [`Rnn::tensors`] of the
/// `V`-class one.
fn live(big: &Rnn<P, H, P>) -> Vec<u32> {
    let w_xh = big.w_xh[..V].concat();
    let w_hy = big.w_hy[..V].concat();
    [
        &w_xh[..],
        &big.w_hh.concat(),
        &big.b_h,
        &w_hy,
        &big.b_y[..V],
    ]
    .concat()
    .iter()
    .map(|x| x.to_bits())
    .collect()
}

/// The padded parameters of a `P`-class model.
fn padding(big: &Rnn<P, H, P>) -> Vec<u32> {
    let w_xh = big.w_xh[V..].concat();
    let w_hy = big.w_hy[V..].concat();
    bits(&[&w_xh[..], &w_hy, &big.b_y[V..]].concat())
}

/// The `V`-class model and the same model padded to `P` classes, with random padding and huge
/// output biases on the padded classes (so that any leak would dominate).
fn models() -> (Rnn<V, H, V>, Rnn<P, H, P>) {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(65);
    let mut small = Rnn::<V, H, V>::ZERO;
    small.init_uniform(&mut rng);
    for b in small.b_h.iter_mut().chain(&mut small.b_y) {
        *b = (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.2;
    }
    let mut big = Rnn::<P, H, P>::ZERO;
    big.init_uniform(&mut rng);
    big.w_xh[..V].copy_from_slice(&small.w_xh);
    big.w_hh = small.w_hh;
    big.b_h = small.b_h;
    big.w_hy[..V].copy_from_slice(&small.w_hy);
    big.b_y[..V].copy_from_slice(&small.b_y);
    big.b_y[V..].fill(50.0);
    (small, big)
}

/// 1000 random token ids of the 65-class corpus.
fn corpus() -> Vec<usize> {
    let mut rng = Xoshiro128PlusPlus::seed_from_u64(66);
    (0..1000).map(|_| rng.next_u32() as usize % V).collect()
}

/// Trains `model` for [`CHUNKS`] chunks with the [`Trainer`] and `optimizer`; returns the chunk losses' bits.
fn train<const O: usize>(
    model: &mut Rnn<O, H, O>,
    optimizer: &mut impl Optimizer<Rnn<O, H, O>>,
) -> Vec<u32> {
    let data = corpus();
    let config = TrainConfig {
        seq_len: 25,
        ..TrainConfig::min_char_rnn(V)
    };
    let (mut grads, mut tape) = (Rnn::ZERO, Tape::<25, H, O>::ZERO);
    let mut trainer = Trainer::new(model, &mut grads, &mut tape, optimizer, config).unwrap();
    (0..CHUNKS)
        .map(|_| trainer.train_chunk(&data).unwrap().loss.to_bits())
        .collect()
}

/// Trains `model` for [`CHUNKS`] chunks without the [`Trainer`]: a full backward pass and
/// [`Optimizer::clip_and_update`] over every row, padded or not (the padded rows' gradients are
/// exactly 0); returns the chunk losses' bits.
fn train_every_row<const O: usize>(
    model: &mut Rnn<O, H, O>,
    optimizer: &mut impl Optimizer<Rnn<O, H, O>>,
) -> Vec<u32> {
    let data = corpus();
    let (mut grads, mut tape) = (Rnn::ZERO, Tape::<25, H, O>::ZERO);
    (0..CHUNKS)
        .map(|chunk| {
            let start = chunk * 25;
            let inputs = Sequence::Tokens(&data[start..start + 25]);
            let targets = Targets::Each(&data[start + 1..start + 26]);
            let loss = tape.forward(model, inputs, targets, &[0.0; H], V).unwrap();
            tape.backward(model, inputs, &mut grads, None).unwrap();
            optimizer.clip_and_update(model, &mut grads, Clip::Value(5.0));
            loss.to_bits()
        })
        .collect()
}

/// Trains both models, each with its optimizer, and checks they agree bit for bit.
fn check<Small, Big>(name: &str, small_optimizer: Small, big_optimizer: Big)
where
    Small: Optimizer<Rnn<V, H, V>> + Clone,
    Big: Optimizer<Rnn<P, H, P>> + Clone,
{
    type Run<'a, const O: usize, Opt> = &'a dyn Fn(&mut Rnn<O, H, O>, &mut Opt) -> Vec<u32>;
    let runs: [(&str, Run<V, Small>, Run<P, Big>); 2] = [
        ("trainer", &|m, o| train(m, o), &|m, o| train(m, o)),
        ("every row", &|m, o| train_every_row(m, o), &|m, o| {
            train_every_row(m, o)
        }),
    ];
    for (path, train_small, train_big) in runs {
        let name = format!("{name} ({path})");
        let (mut small, mut big) = models();
        let (before, padding_before) = (live(&big), padding(&big));
        let small_losses = train_small(&mut small, &mut small_optimizer.clone());
        let big_losses = train_big(&mut big, &mut big_optimizer.clone());
        assert_eq!(small_losses, big_losses, "{name}: losses");
        assert_eq!(
            bits(&small.tensors().concat()),
            live(&big),
            "{name}: live parameters"
        );
        assert_eq!(padding(&big), padding_before, "{name}: padding changed");
        assert_ne!(live(&big), before, "{name}: training changed nothing");
    }
}

/// On every kernel table this CPU runs (one `#[test]` in this file, so switching the active
/// table cannot disturb another test).
#[test]
fn every_optimizer_trains_a_padded_model_bit_identically() {
    for table in micrornn::kernels::variants() {
        micrornn::kernels::select(table.name).unwrap();
        let name = |optimizer: &str| format!("{} {optimizer}", table.name);
        check(&name("sgd"), Sgd { lr: 0.1 }, Sgd { lr: 0.1 });
        check(
            &name("momentum"),
            Momentum::new(0.02, 0.9),
            Momentum::new(0.02, 0.9),
        );
        check(&name("adagrad"), Adagrad::new(0.1), Adagrad::new(0.1));
        check(&name("adam"), Adam::new(0.01), Adam::new(0.01));
    }
}
