//! The GRU's forward and backward passes on every kernel table this CPU runs, against the
//! scalar reference table: the loss within 1e-5 relative, every gradient within 1e-4 of its
//! tensor's largest entry (the tables differ only in the rounding of their sums and in the
//! stated error of their `tanh` and `sigmoid`).
//!
//! In its own test binary: it switches the process-wide kernel table.

use micrornn::model::cell::Params;
use micrornn::{DefaultRng, Gru, Sequence, Tape, Targets};
use rand_xoshiro::rand_core::{Rng, SeedableRng};

const I: usize = 5;
const H: usize = 19; // odd: every kernel's tail runs
const O: usize = 7;

fn run(model: &Gru<I, H, O>, dense: &[[f32; I]]) -> (f32, Gru<I, H, O>) {
    let targets: Vec<usize> = (0..dense.len()).map(|t| (t * 3) % 6).collect();
    let inputs = Sequence::Dense(dense);
    let mut tape = Tape::<13, H, O, _>::ZERO;
    let loss = tape
        .forward(model, inputs, Targets::Each(&targets), &[0.1; H], 6)
        .expect("forward");
    let mut grads = Gru::ZERO;
    tape.backward(model, inputs, &mut grads, None)
        .expect("backward");
    (loss, grads)
}

#[test]
fn every_kernel_table_runs_the_gru_as_the_scalar_reference_does() {
    let mut rng = DefaultRng::seed_from_u64(17);
    let mut model = Gru::<I, H, O>::ZERO;
    for index in 0..Gru::<I, H, O>::TENSORS.len() {
        for w in model.tensor_mut(index) {
            *w = (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 1.5;
        }
    }
    let dense: Vec<[f32; I]> = (0..13)
        .map(|_| core::array::from_fn(|_| rng.next_u32() as f32 / u32::MAX as f32 * 2.0 - 1.0))
        .collect();
    micrornn::kernels::select("scalar").expect("scalar table");
    let (loss0, grads0) = run(&model, &dense);
    let mut tested = 0;
    for table in micrornn::kernels::variants() {
        micrornn::kernels::select(table.name).expect("listed table");
        let (loss, grads) = run(&model, &dense);
        assert!(
            (loss - loss0).abs() <= 1e-5 * loss0.abs(),
            "{}: loss {loss} vs scalar {loss0}",
            table.name
        );
        for (index, spec) in Gru::<I, H, O>::TENSORS.iter().enumerate() {
            let (a, b) = (grads.tensor(index), grads0.tensor(index));
            let scale = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(scale > 0.0, "{}: no gradient", spec.name);
            for (x, y) in a.iter().zip(b) {
                assert!(
                    (x - y).abs() <= 1e-4 * scale,
                    "{} {}: {x} vs scalar {y}",
                    table.name,
                    spec.name
                );
            }
        }
        println!("{}: GRU matches the scalar table", table.name);
        tested += 1;
    }
    assert!(tested >= 1);
}
