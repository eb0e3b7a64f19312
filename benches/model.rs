//! Whole-model throughput at min-char-rnn settings (V = 65, seq 25, Adagrad lr 0.1, clip ±5):
//! one forward step, one training chunk (chars/s: criterion's "elem/s" counts characters) for
//! H = 100, 128, 256, and sampling at H = 100.
//!
//! ```text
//! cargo bench --bench model
//! MICRORNN_KERNELS=avx2+fma cargo bench --bench model   # another kernel table
//! ```

use criterion::{Criterion, Throughput, criterion_group};
use micrornn::{Adagrad, DefaultRng, Input, Rnn, Sampler, Sampling, Tape, TrainConfig, Trainer};
use rand_xoshiro::rand_core::SeedableRng;
use std::hint::black_box;

const V: usize = 65;
const SEQ: usize = 25;

/// A token stream with the statistics of text: a pseudo-random walk over 65 ids.
fn tokens(n: usize) -> Vec<usize> {
    let mut state = 0x9e37_79b9u32;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % V as u32) as usize
        })
        .collect()
}

fn model<const H: usize>() -> Box<Rnn<V, H, V>> {
    let mut model = Rnn::<V, H, V>::boxed_zero();
    model.init_gaussian(&mut DefaultRng::seed_from_u64(1), 0.01);
    model
}

fn train<const H: usize>(c: &mut Criterion) {
    let ids = tokens(100_000);
    let mut model = model::<H>();
    let mut grads = Rnn::<V, H, V>::boxed_zero();
    let mut tape = Box::new(Tape::<SEQ, H, V>::ZERO);
    let mut adagrad = Box::new(Adagrad::<Rnn<V, H, V>>::new(0.1));
    let config = TrainConfig::min_char_rnn(V);
    let mut trainer = Trainer::new(&mut *model, &mut *grads, &mut tape, &mut *adagrad, config)
        .expect("valid settings");
    let mut group = c.benchmark_group("train_chunk");
    group.throughput(Throughput::Elements(SEQ as u64));
    group.bench_function(format!("H={H}"), |b| {
        b.iter(|| trainer.train_chunk(black_box(&ids)).expect("finite loss"))
    });
    group.finish();
}

fn forward_step(c: &mut Criterion) {
    let model = model::<100>();
    let mut hidden = [0.0f32; 100];
    let mut logits = [0.0f32; V];
    let mut group = c.benchmark_group("forward_step");
    group.throughput(Throughput::Elements(1));
    group.bench_function("H=100", |b| {
        b.iter(|| {
            model
                .step(Input::Token(black_box(7)), &mut hidden)
                .expect("token in range");
            model.logits(&hidden, &mut logits);
        })
    });
    group.finish();
}

fn sample(c: &mut Criterion) {
    let model = model::<100>();
    let mut sampler = Sampler::new(&model, V, Sampling::FULL).expect("valid settings");
    let mut rng = DefaultRng::seed_from_u64(7);
    sampler.feed(0).expect("token in range");
    let mut group = c.benchmark_group("sample");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("H=100", |b| {
        b.iter(|| {
            sampler.generate(&mut rng, 1000, |id| {
                black_box(id);
            })
        })
    });
    group.finish();
}

fn training(c: &mut Criterion) {
    train::<100>(c);
    train::<128>(c);
    train::<256>(c);
}

criterion_group!(benches, forward_step, training, sample);

/// `criterion_main!`, after choosing the kernel table from `MICRORNN_KERNELS` (unset: the fastest
/// the CPU runs).
fn main() {
    match micrornn::host::kernel_choice::select_from_env() {
        Ok(table) => eprintln!("kernels {}", table.name),
        Err(error) => panic!("{error}"),
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
