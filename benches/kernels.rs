//! Every kernel of every variant this CPU runs, against scalar, over sizes 32…512.
//!
//! Throughput is in floating-point operations: criterion's "elem/s" reads as FLOP/s (a
//! multiply-add counts 2; tanh, exp and a parameter update count 1 per element).
//!
//! ```text
//! cargo bench --bench kernels                      # everything
//! cargo bench --bench kernels -- 'matvec/avx2'     # one kernel, one ISA
//! ```

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use micrornn::kernels::{self, Kernels};
use std::hint::black_box;

const SIZES: [usize; 5] = [32, 64, 100, 256, 512];

fn data(n: usize, seed: u32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 8) as f32 / 16_777_216.0 * 2.0 - 1.0
        })
        .collect()
}

fn bench_kernel(
    c: &mut Criterion,
    op: &str,
    flops: impl Fn(usize) -> u64,
    run: impl Fn(&Kernels, usize, &mut Bencher),
) {
    let mut group = c.benchmark_group(op);
    for k in kernels::variants() {
        for n in SIZES {
            group.throughput(Throughput::Elements(flops(n)));
            group.bench_function(BenchmarkId::new(k.name, n), |b| run(k, n, b));
        }
    }
    group.finish();
}

type Bencher<'a> = criterion::Bencher<'a>;

fn kernels(c: &mut Criterion) {
    bench_kernel(
        c,
        "matvec",
        |n| 2 * (n * n) as u64,
        |k, n, b| {
            let (w, x, bias, mut y) = (data(n * n, 1), data(n, 2), data(n, 3), vec![0.0; n]);
            b.iter(|| (k.matvec)(black_box(&w), black_box(&x), &bias, &mut y));
        },
    );
    bench_kernel(
        c,
        "matvec_t",
        |n| 2 * (n * n) as u64,
        |k, n, b| {
            let (w, x, mut y) = (data(n * n, 1), data(n, 2), vec![0.0; n]);
            b.iter(|| (k.matvec_t)(black_box(&w), black_box(&x), &mut y));
        },
    );
    bench_kernel(
        c,
        "rank1",
        |n| 2 * (n * n) as u64,
        |k, n, b| {
            let (mut w, x, y) = (data(n * n, 1), data(n, 2), data(n, 3));
            b.iter(|| (k.rank1)(&mut w, black_box(&x), black_box(&y)));
        },
    );
    bench_kernel(
        c,
        "rank_k25",
        |n| 2 * 25 * (n * n) as u64,
        |k, n, b| {
            let (mut w, a, bt) = (data(n * n, 1), data(25 * n, 2), data(25 * n, 3));
            b.iter(|| (k.rank_k)(&mut w, black_box(&a), black_box(&bt), n, n));
        },
    );
    bench_kernel(
        c,
        "tanh",
        |n| n as u64,
        |k, n, b| {
            let x = data(n, 1);
            let mut y = x.clone();
            b.iter(|| {
                y.copy_from_slice(&x);
                (k.tanh)(black_box(&mut y))
            });
        },
    );
    bench_kernel(
        c,
        "softmax",
        |n| n as u64,
        |k, n, b| {
            let (x, mut p) = (data(n, 1), vec![0.0; n]);
            b.iter(|| (k.softmax)(black_box(&x), &mut p));
        },
    );
    bench_kernel(
        c,
        "adagrad_clip",
        |n| (n * n) as u64,
        |k, n, b| {
            let (mut p, mut g, mut m) = (data(n * n, 1), data(n * n, 2), vec![1.0; n * n]);
            b.iter(|| (k.adagrad_clip)(&mut p, black_box(&mut g), &mut m, 1e-3, 1e-8, 5.0));
        },
    );
}

criterion_group!(benches, kernels);
criterion_main!(benches);
