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

/// `n` floats starting on a 64-byte boundary, as the rows of a model are (see `Rnn`): from an
/// unaligned buffer a kernel would be measured with split cache-line loads (a 256x256 matvec
/// takes 1.6-1.8x as long).
struct Aligned {
    storage: Vec<f32>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn zeros(len: usize) -> Self {
        let storage = vec![0.0; len + 16];
        let start = storage.as_ptr().align_offset(64).min(16);
        Self {
            storage,
            start,
            len,
        }
    }
}

impl std::ops::Deref for Aligned {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.storage[self.start..self.start + self.len]
    }
}

impl std::ops::DerefMut for Aligned {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// `n` pseudo-random floats in [-1, 1), 64-byte aligned.
fn data(n: usize, seed: u32) -> Aligned {
    let mut state = seed.wrapping_mul(2_654_435_761).max(1);
    let mut out = Aligned::zeros(n);
    for v in out.iter_mut() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        *v = (state >> 8) as f32 / 16_777_216.0 * 2.0 - 1.0;
    }
    out
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
            let (w, x, bias, mut y) = (data(n * n, 1), data(n, 2), data(n, 3), Aligned::zeros(n));
            b.iter(|| (k.matvec)(black_box(&w), black_box(&x), &bias, &mut y));
        },
    );
    bench_kernel(
        c,
        "matvec_t",
        |n| 2 * (n * n) as u64,
        |k, n, b| {
            let (w, x, mut y) = (data(n * n, 1), data(n, 2), Aligned::zeros(n));
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
            let (x, mut y) = (data(n, 1), Aligned::zeros(n));
            b.iter(|| {
                y.copy_from_slice(&x);
                (k.tanh)(black_box(&mut y))
            });
        },
    );
    bench_kernel(
        c,
        "exp",
        |n| n as u64,
        |k, n, b| {
            let (x, mut y) = (data(n, 1), Aligned::zeros(n));
            b.iter(|| (k.exp)(black_box(&x), &mut y, 0.5, 1.0));
        },
    );
    bench_kernel(
        c,
        "softmax",
        |n| n as u64,
        |k, n, b| {
            let (x, mut p) = (data(n, 1), Aligned::zeros(n));
            b.iter(|| (k.softmax)(black_box(&x), &mut p));
        },
    );
    bench_kernel(
        c,
        "adagrad_clip",
        |n| (n * n) as u64,
        |k, n, b| {
            let (mut p, mut g, mut m) = (data(n * n, 1), data(n * n, 2), Aligned::zeros(n * n));
            m.fill(1.0);
            b.iter(|| (k.adagrad_clip)(&mut p, black_box(&mut g), &mut m, 1e-3, 1e-8, 5.0));
        },
    );
}

criterion_group!(benches, kernels);
criterion_main!(benches);
