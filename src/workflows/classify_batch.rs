//! Mini-batches of labelled sequences for a many-to-one classifier: one mechanism
//! ([`batch_gradient`], [`train_batch`]) over two kinds of [`ClassifierShard`].
//!
//! - **Through the batched kernels** ([`StreamShard`]): the batch's sequences, in consecutive
//!   groups of `S`, are the streams of one [`BatchTape`] per shard, each step of a group one
//!   matrix–matrix product; a sequence shorter than the group's longest is masked past its end
//!   (its state held, no input, no loss, no gradient), so it contributes what it would alone
//!   (the `streams_equal_the_mean_of_their_series` test holds this to 1e-5).
//! - **One tape per sequence** ([`SeriesShard`]): each sequence at its own length on its own
//!   single-sequence [`Tape`]. A batch of one is exactly
//!   [`Classifier::train_example`](crate::classify::Classifier::train_example)'s update, and a
//!   batch's gradient is the mean of its sequences' to the bit.
//!
//! Either way a [`Parallel`] runner may compute the shards on several threads; their gradients
//! are then summed in shard order, scaled by `1/n`, clipped and applied in one optimizer step,
//! so the model is the same bit for bit whatever the number of threads.
//!
//! No heap: the caller owns the shards (in `static`s on a device, a `Vec` under `std`).
//!
//! ```
//! use micrornn::batch::Sequential;
//! use micrornn::classify::{ClassifierConfig, Example};
//! use micrornn::classify_batch::{SeriesShard, StreamShard, train_batch};
//! use micrornn::{Adam, Clip, DefaultRng, Readout, Rnn, Sequence};
//! use rand_core::SeedableRng;
//!
//! // Rising and falling ramps of different lengths: class 0 rises, class 1 falls.
//! let (up, down, up3, down4) = ([[0.0], [1.0]], [[1.0], [0.0]], [[0.0], [0.5], [1.0]],
//!     [[1.0], [0.7], [0.3], [0.0]]);
//! let batch = [
//!     Example::dense(&up, 0), Example::dense(&down, 1),
//!     Example::dense(&up3, 0), Example::dense(&down4, 1),
//! ];
//! let mut model = Rnn::<1, 8, 2>::ZERO;
//! model.init_gaussian(&mut DefaultRng::seed_from_u64(3), 0.3);
//! let mut shards = [const { SeriesShard::<1, 8, 2, 4, Rnn<1, 8, 2>>::ZERO }; 4];
//! let mut adam = Adam::new(0.05);
//! let config = ClassifierConfig { classes: 2, clip: Clip::Norm(5.0), readout: Readout::Last };
//! for _ in 0..100 {
//!     train_batch(&mut model, &mut adam, &mut shards, &batch, config, &Sequential)?;
//! }
//! let metrics = train_batch(&mut model, &mut adam, &mut shards, &batch, config, &Sequential)?;
//! assert_eq!(metrics.correct, 4);
//! // The same batch as the 4 streams of one shard through the batched kernels.
//! let mut streams = [const { StreamShard::<1, 8, 2, 4, 4, Rnn<1, 8, 2>>::ZERO }; 1];
//! let metrics = train_batch(&mut model, &mut adam, &mut streams, &batch, config, &Sequential)?;
//! assert_eq!(metrics.correct, 4);
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;
use crate::kernels;
use crate::model::batch::{BatchTape, DropoutPass};
use crate::model::batch_cell::BatchCell;
use crate::model::{Cell, Classes, Live, Sequence, Tape};
use crate::workflows::batch_train::Parallel;
use crate::workflows::classify::{ClassifierConfig, Example, Metrics, live, sequence_gradient};
use crate::workflows::optim::Optimizer;
use crate::workflows::sample::argmax;
use crate::workflows::step::checked_update;

/// A shard of a classifier's mini-batch, run on one thread: up to
/// [`ClassifierShard::SEQUENCES`] sequences of up to [`ClassifierShard::STEPS`] steps each, the
/// gradient of their summed loss, and their loss and accuracy.
pub trait ClassifierShard<const I: usize, const H: usize, const O: usize>: Send {
    /// The classifier's cell.
    type Cell: Cell<I, H, O> + Sync;
    /// How many sequences of a batch the shard takes.
    const SEQUENCES: usize;
    /// The longest sequence it takes.
    const STEPS: usize;
    /// Forward and backward of `group` (checked sequences, at most
    /// [`ClassifierShard::SEQUENCES`]), each from a zero state: the gradient of their summed
    /// loss into [`ClassifierShard::grads`], their loss and accuracy before any update into
    /// [`ClassifierShard::metrics`] (a NaN loss if the pass failed).
    fn pass(&mut self, model: &Self::Cell, group: &[Example<'_, I>], config: &ClassifierConfig);
    /// The loss and accuracy of the last pass.
    fn metrics(&self) -> Metrics;
    /// The gradient of the last pass (the batch's mean gradient in the first shard after
    /// [`batch_gradient`]).
    fn grads(&self) -> &Self::Cell;
    /// The same, to write.
    fn grads_mut(&mut self) -> &mut Self::Cell;
}

/// Metrics with a NaN loss: a failed pass.
const FAILED: Metrics = Metrics {
    total_loss: f64::NAN,
    correct: 0,
    count: 0,
};

/// One sequence's share of a batch: its BPTT tape (up to `T` steps) and its gradient, for a
/// classifier of cell `C` with `I` inputs, `H` hidden units and `O` outputs.
#[derive(Clone, Debug)]
pub struct SeriesShard<const I: usize, const H: usize, const O: usize, const T: usize, C>
where
    C: Cell<I, H, O>,
{
    /// The sequence's BPTT record.
    pub tape: Tape<T, H, O, C::Record>,
    /// The gradient of the sequence's loss (unscaled); after [`batch_gradient`], the first
    /// shard's holds the batch's mean gradient.
    pub grads: C,
    /// The sequence's loss and accuracy before the update (a NaN loss if its pass failed).
    pub metrics: Metrics,
}

impl<const I: usize, const H: usize, const O: usize, const T: usize, C> SeriesShard<I, H, O, T, C>
where
    C: Cell<I, H, O>,
{
    /// An empty shard, usable in a `static`.
    pub const ZERO: Self = Self {
        tape: Tape::ZERO,
        grads: C::ZERO,
        metrics: Metrics {
            total_loss: 0.0,
            correct: 0,
            count: 0,
        },
    };
}

impl<const I: usize, const H: usize, const O: usize, const T: usize, C> ClassifierShard<I, H, O>
    for SeriesShard<I, H, O, T, C>
where
    C: Cell<I, H, O> + Sync,
    Self: Send,
{
    type Cell = C;
    const SEQUENCES: usize = 1;
    const STEPS: usize = T;

    fn pass(&mut self, model: &C, group: &[Example<'_, I>], config: &ClassifierConfig) {
        let Some(example) = group.first() else {
            self.metrics = FAILED;
            return;
        };
        self.metrics =
            match sequence_gradient(model, &mut self.tape, &mut self.grads, example, config) {
                Ok((loss, class)) => {
                    let mut metrics = Metrics::default();
                    metrics.add(loss, class == example.label);
                    metrics
                }
                Err(_) => FAILED,
            };
    }

    fn metrics(&self) -> Metrics {
        self.metrics
    }

    fn grads(&self) -> &C {
        &self.grads
    }

    fn grads_mut(&mut self) -> &mut C {
        &mut self.grads
    }
}

/// Up to `S` sequences of a batch as the streams of one [`BatchTape`] (up to `T` steps each), and
/// the gradient of their summed loss, for a classifier of cell `C`.
#[derive(Clone, Debug)]
pub struct StreamShard<
    const I: usize,
    const H: usize,
    const O: usize,
    const S: usize,
    const T: usize,
    C,
> where
    C: BatchCell<I, H, O>,
{
    /// The streams' BPTT record.
    pub tape: BatchTape<S, T, H, O, C::Record>,
    /// The gradient of the streams' summed loss; after [`batch_gradient`], the first shard's
    /// holds the batch's mean gradient.
    pub grads: C,
    /// The loss and accuracy of the shard's sequences before the update (a NaN loss if its pass
    /// failed).
    pub metrics: Metrics,
}

impl<const I: usize, const H: usize, const O: usize, const S: usize, const T: usize, C>
    StreamShard<I, H, O, S, T, C>
where
    C: BatchCell<I, H, O>,
{
    /// An empty shard, usable in a `static`.
    pub const ZERO: Self = Self {
        tape: BatchTape::ZERO,
        grads: C::ZERO,
        metrics: Metrics {
            total_loss: 0.0,
            correct: 0,
            count: 0,
        },
    };

    /// Forward and backward of `group` as the streams of the tape (a missing stream is empty):
    /// the gradient of their summed loss, and their loss and accuracy before any update.
    fn streams_gradient(
        &mut self,
        model: &C,
        group: &[Example<'_, I>],
        config: &ClassifierConfig,
    ) -> Result<Metrics, Error> {
        let inputs: [Sequence<'_, I>; S] =
            core::array::from_fn(|b| group.get(b).map_or(Sequence::Dense(&[]), |e| e.inputs));
        let targets =
            core::array::from_fn(|b| config.readout.targets(group.get(b).map_or(0, |e| e.label)));
        let zero = [[0.0; H]; S];
        let classes = config.classes;
        let loss = self.tape.forward_sequences(
            model,
            (inputs, targets),
            &zero,
            classes,
            1.0,
            DropoutPass::NONE,
        )?;
        let mut metrics = Metrics {
            total_loss: f64::from(loss),
            ..Metrics::default()
        };
        for (b, example) in group.iter().enumerate() {
            metrics.count += 1;
            metrics.correct += usize::from(argmax(self.tape.logits(b)) == example.label);
        }
        // Every input row is live (the inputs are not classes); the outputs are the classes.
        self.tape
            .backward_sequences(model, inputs, &mut self.grads, I)?;
        Ok(metrics)
    }
}

impl<const I: usize, const H: usize, const O: usize, const S: usize, const T: usize, C>
    ClassifierShard<I, H, O> for StreamShard<I, H, O, S, T, C>
where
    C: BatchCell<I, H, O>,
    Self: Send,
{
    type Cell = C;
    const SEQUENCES: usize = S;
    const STEPS: usize = T;

    fn pass(&mut self, model: &C, group: &[Example<'_, I>], config: &ClassifierConfig) {
        self.metrics = self
            .streams_gradient(model, group, config)
            .unwrap_or(FAILED);
    }

    fn metrics(&self) -> Metrics {
        self.metrics
    }

    fn grads(&self) -> &C {
        &self.grads
    }

    fn grads_mut(&mut self) -> &mut C {
        &mut self.grads
    }
}

/// Refuses what a pass could fail on, before any thread starts: no sequence, more sequences
/// than the shards take (`capacity`), an empty sequence or one longer than `steps`, an input id
/// `≥ I`, a label `≥ classes`, a class count outside `1..=O`, a clip limit that is not a
/// positive number.
fn check<const I: usize, const O: usize>(
    examples: &[Example<'_, I>],
    capacity: usize,
    steps: usize,
    config: &ClassifierConfig,
) -> Result<(), Error> {
    Classes::<O>::new(config.classes)?;
    config.clip.check()?;
    if examples.is_empty() || examples.len() > capacity {
        return Err(Error::InvalidSetting(
            "a batch needs 1 to (number of shards × sequences a shard takes) sequences",
        ));
    }
    for example in examples {
        let len = example.inputs.len();
        if len == 0 || len > steps {
            return Err(Error::BadLength {
                len,
                capacity: steps,
            });
        }
        if let Sequence::Tokens(ids) = example.inputs
            && let Some(&token) = ids.iter().find(|&&id| id >= I)
        {
            return Err(Error::TokenOutOfRange { token, limit: I });
        }
        if example.label >= config.classes {
            return Err(Error::TokenOutOfRange {
                token: example.label,
                limit: config.classes,
            });
        }
    }
    Ok(())
}

/// The mean gradient of a batch, without updating: `examples` in consecutive groups of
/// [`ClassifierShard::SEQUENCES`] (at most that many times `shards.len()` of them), group `g`
/// on shard `g`, the shards through `runner`; their gradients are summed in shard order into
/// the first shard's and scaled by `1/examples.len()`. Returns the batch's loss and accuracy,
/// each sequence measured before the update. The groups do not depend on the runner, so
/// neither does the gradient.
///
/// # Errors
/// [`Error::InvalidSetting`] for no example, more examples than the shards take, a bad class
/// count or clip limit; [`Error::BadLength`] for an empty sequence or one longer than
/// [`ClassifierShard::STEPS`]; [`Error::TokenOutOfRange`] for an input id `≥ I` or a label
/// `≥ classes`; [`Error::NonFiniteLoss`] if a loss or the gradient is NaN or infinite.
pub fn batch_gradient<Shard, R, const I: usize, const H: usize, const O: usize>(
    model: &Shard::Cell,
    shards: &mut [Shard],
    examples: &[Example<'_, I>],
    config: ClassifierConfig,
    runner: &R,
) -> Result<Metrics, Error>
where
    Shard: ClassifierShard<I, H, O>,
    R: Parallel,
{
    let per_shard = Shard::SEQUENCES.max(1);
    let capacity = shards.len().saturating_mul(per_shard);
    check::<I, O>(examples, capacity, Shard::STEPS, &config)?;
    let used = shards
        .get_mut(..examples.len().div_ceil(per_shard))
        .ok_or(Error::InvalidSetting("more sequences than the shards take"))?;
    runner.for_each(used, |index, shard: &mut Shard| {
        let group = examples.chunks(per_shard).nth(index).unwrap_or(&[]);
        shard.pass(model, group, &config);
    });
    let mut metrics = Metrics::default();
    for shard in used.iter() {
        let shard = shard.metrics();
        if !shard.total_loss.is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        metrics.absorb(&shard);
    }
    let Some((first, rest)) = used.split_first_mut() else {
        return Err(Error::InvalidSetting("a batch needs at least one sequence"));
    };
    let rest = rest.iter().map(|shard| shard.grads());
    mean_into(first.grads_mut(), rest, examples.len(), live::<I>(&config));
    Ok(metrics)
}

/// Adds the `rest` gradients, in order, to `first`'s live rows and scales the sum by `1/count`
/// (not at all for one gradient).
fn mean_into<'a, C, const I: usize, const H: usize, const O: usize>(
    first: &mut C,
    rest: impl Iterator<Item = &'a C>,
    count: usize,
    live: Live,
) where
    C: Cell<I, H, O> + 'a,
{
    let k = kernels::active();
    for grads in rest {
        for index in 0..C::TENSORS.len() {
            (k.axpy)(
                1.0,
                grads.live_tensor(index, live),
                first.live_tensor_mut(index, live),
            );
        }
    }
    if count > 1 {
        let scale = 1.0 / count as f32;
        for index in 0..C::TENSORS.len() {
            (k.scale)(first.live_tensor_mut(index, live), scale);
        }
    }
}

/// Trains on one mini-batch: [`batch_gradient`], then one clipped `optimizer` step of `model`
/// from the mean gradient. Returns the batch's loss and accuracy, measured before the update.
///
/// # Errors
/// As [`batch_gradient`]. On error the parameters and optimizer memory are unchanged.
pub fn train_batch<Shard, P, R, const I: usize, const H: usize, const O: usize>(
    model: &mut Shard::Cell,
    optimizer: &mut P,
    shards: &mut [Shard],
    examples: &[Example<'_, I>],
    config: ClassifierConfig,
    runner: &R,
) -> Result<Metrics, Error>
where
    Shard: ClassifierShard<I, H, O>,
    P: Optimizer<Shard::Cell>,
    R: Parallel,
{
    let metrics = batch_gradient(model, shards, examples, config, runner)?;
    let first = shards
        .first_mut()
        .ok_or(Error::InvalidSetting("a batch needs at least one sequence"))?;
    checked_update(
        model,
        first.grads_mut(),
        optimizer,
        config.clip,
        live::<I>(&config),
    )?;
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Readout;
    use crate::workflows::batch_train::Sequential;
    use crate::workflows::clip::Clip;
    use crate::{DefaultRng, Gru, Rnn};
    use rand_core::SeedableRng;

    const CONFIG: ClassifierConfig = ClassifierConfig {
        classes: 3,
        clip: Clip::Norm(5.0),
        readout: Readout::Last,
    };

    /// A sequence of `len` dense inputs made from `seed`.
    fn sequence(len: usize, seed: f32) -> Vec<[f32; 2]> {
        (0..len)
            .map(|t| [(t as f32 * 0.7 + seed).sin(), (t as f32 * 0.3 - seed).cos()])
            .collect()
    }

    /// The gradient of one example alone, by the tape itself (no shard involved).
    fn alone<C: Cell<2, 6, 3>>(model: &C, example: &Example<'_, 2>, readout: Readout) -> C {
        let mut tape = Tape::<12, 6, 3, C::Record>::ZERO;
        let mut grads = C::ZERO;
        tape.forward(
            model,
            example.inputs,
            readout.targets(example.label),
            &[0.0; 6],
            3,
        )
        .unwrap();
        tape.backward(model, example.inputs, &mut grads, None)
            .unwrap();
        grads
    }

    /// The gradient of a batch of two series of different lengths (3 and 11 steps) is the mean
    /// of the gradients each gives alone, to the bit: the batch adds the second shard's gradient
    /// to the first's (`a + b`, one rounding) and scales by 1/2 (exact, a power of two), which
    /// is what `(a + b)·0.5` computes here; for three, `(a + b + c)·(1/3)` in `f32`, the same
    /// operations in the same order (so no tolerance is needed: the kernels' `axpy` with
    /// factor 1 and `scale` round once per element, as the scalar expression does). Both cells,
    /// both readouts.
    fn mean_of_two<C: Cell<2, 6, 3> + Sync + Send>(init: fn(&mut C, &mut DefaultRng))
    where
        C::Record: Send,
    {
        let (short, long) = (sequence(3, 0.2), sequence(11, 1.3));
        let batch = [Example::dense(&short, 2), Example::dense(&long, 0)];
        for readout in [Readout::Last, Readout::Mean] {
            let config = ClassifierConfig { readout, ..CONFIG };
            let mut model = C::ZERO;
            init(&mut model, &mut DefaultRng::seed_from_u64(4));
            let (a, b) = (
                alone(&model, &batch[0], readout),
                alone(&model, &batch[1], readout),
            );
            let mut shards = vec![SeriesShard::<2, 6, 3, 12, C>::ZERO; 3];
            let metrics = batch_gradient(&model, &mut shards, &batch, config, &Sequential).unwrap();
            assert_eq!(metrics.count, 2);
            let live = live::<2>(&config);
            let mut differs = false;
            for index in 0..C::TENSORS.len() {
                let got = shards[0].grads.live_tensor(index, live);
                let (ga, gb) = (a.live_tensor(index, live), b.live_tensor(index, live));
                for ((g, x), y) in got.iter().zip(ga).zip(gb) {
                    assert_eq!(g.to_bits(), ((x + y) * 0.5).to_bits(), "tensor {index}");
                    differs |= x != y;
                }
            }
            assert!(differs, "the two series must give different gradients");
            // A smaller (last) batch, of 3 series on the same 3 shards: scaled by its own size.
            let middle = sequence(7, -0.4);
            let three = [batch[0], batch[1], Example::dense(&middle, 1)];
            let c = alone(&model, &three[2], readout);
            batch_gradient(&model, &mut shards, &three, config, &Sequential).unwrap();
            for index in 0..C::TENSORS.len() {
                let got = shards[0].grads.live_tensor(index, live);
                let (ga, gb, gc) = (
                    a.live_tensor(index, live),
                    b.live_tensor(index, live),
                    c.live_tensor(index, live),
                );
                for (((g, x), y), z) in got.iter().zip(ga).zip(gb).zip(gc) {
                    assert_eq!(g.to_bits(), ((x + y + z) * (1.0 / 3.0)).to_bits());
                }
            }
        }
    }

    #[test]
    fn a_batch_gradient_is_the_mean_of_its_series_gradients_whatever_their_lengths() {
        mean_of_two::<Rnn<2, 6, 3>>(|m, rng| m.init_gaussian(rng, 0.3));
        mean_of_two::<Gru<2, 6, 3>>(Gru::init_uniform);
    }

    /// Through the batched kernels, a batch's gradient is the mean of the gradients its series
    /// give alone on their own tapes, up to the order of the sums (1e-5 of each tensor's
    /// largest entry): series of 3, 11, 7, 1 and 5 steps, as streams of shards of 2 (the last
    /// shard half empty) and of one shard of 8 (three streams empty), so every series but the
    /// longest is padded, on shards that have just run a batch of long series; both cells,
    /// both readouts. Padding would change these gradients by
    /// far more than that: a series run on past its end moves its state, and its readout.
    fn streams_against_tapes<C: BatchCell<2, 6, 3>>(init: fn(&mut C, &mut DefaultRng)) {
        let data: Vec<Vec<[f32; 2]>> = [3, 11, 7, 1, 5]
            .iter()
            .zip([0.2, 1.3, -0.4, 0.9, 2.1])
            .map(|(&len, seed)| sequence(len, seed))
            .collect();
        let labels = [2, 0, 1, 1, 0];
        let batch: Vec<Example<'_, 2>> = data
            .iter()
            .zip(labels)
            .map(|(series, label)| Example::dense(series, label))
            .collect();
        for readout in [Readout::Last, Readout::Mean] {
            let config = ClassifierConfig { readout, ..CONFIG };
            let mut model = C::ZERO;
            init(&mut model, &mut DefaultRng::seed_from_u64(4));
            let alone: Vec<C> = batch.iter().map(|e| alone(&model, e, readout)).collect();
            // The shards first run a batch of long series, so what a later pass skips holds
            // that pass's values, not zeros.
            let long = [Example::dense(&data[1], 1); 8];
            let mut pairs = vec![StreamShard::<2, 6, 3, 2, 12, C>::ZERO; 4];
            batch_gradient(&model, &mut pairs, &long, config, &Sequential).unwrap();
            let by_pairs = batch_gradient(&model, &mut pairs, &batch, config, &Sequential);
            let mut eights = vec![StreamShard::<2, 6, 3, 8, 12, C>::ZERO; 1];
            batch_gradient(&model, &mut eights, &long, config, &Sequential).unwrap();
            let by_eight = batch_gradient(&model, &mut eights, &batch, config, &Sequential);
            let (by_pairs, by_eight) = (by_pairs.unwrap(), by_eight.unwrap());
            let mut tapes = Metrics::default();
            for example in &batch {
                let mut tape = Tape::<12, 6, 3, C::Record>::ZERO;
                let mut scratch = C::ZERO;
                let (loss, class) =
                    sequence_gradient(&model, &mut tape, &mut scratch, example, &config).unwrap();
                tapes.add(loss, class == example.label);
            }
            for metrics in [by_pairs, by_eight] {
                assert_eq!((metrics.count, metrics.correct), (5, tapes.correct));
                assert!((metrics.total_loss - tapes.total_loss).abs() < 1e-5 * tapes.total_loss);
            }
            let live = live::<2>(&config);
            for grads in [&pairs[0].grads, &eights[0].grads] {
                for index in 0..C::TENSORS.len() {
                    let mean: Vec<f32> = (0..grads.live_tensor(index, live).len())
                        .map(|i| {
                            let sum: f32 =
                                alone.iter().map(|g| g.live_tensor(index, live)[i]).sum();
                            sum / 5.0
                        })
                        .collect();
                    let largest = mean.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                    assert!(largest > 0.0, "tensor {index} has a gradient");
                    for (g, m) in grads.live_tensor(index, live).iter().zip(&mean) {
                        assert!(
                            (g - m).abs() <= 1e-5 * largest,
                            "tensor {index}: {g} vs {m}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn streams_equal_the_mean_of_their_series() {
        streams_against_tapes::<Rnn<2, 6, 3>>(|m, rng| m.init_gaussian(rng, 0.3));
        streams_against_tapes::<Gru<2, 6, 3>>(Gru::init_uniform);
    }

    /// The shards of a batch do not depend on the runner: on threads, the gradient is the same
    /// to the bit as on the calling thread.
    #[cfg(feature = "std")]
    #[test]
    fn streams_on_threads_give_the_same_gradient() {
        let data: Vec<Vec<[f32; 2]>> = (0..7).map(|i| sequence(2 + i * 3 % 10, i as f32)).collect();
        let batch: Vec<Example<'_, 2>> = data
            .iter()
            .enumerate()
            .map(|(i, series)| Example::dense(series, i % 3))
            .collect();
        let mut model = Gru::<2, 6, 3>::ZERO;
        Gru::init_uniform(&mut model, &mut DefaultRng::seed_from_u64(9));
        let mut alone = vec![StreamShard::<2, 6, 3, 2, 12, Gru<2, 6, 3>>::ZERO; 4];
        let mut threaded = alone.clone();
        let one = batch_gradient(&model, &mut alone, &batch, CONFIG, &Sequential).unwrap();
        let runner = crate::host::threads::Threads(3);
        let three = batch_gradient(&model, &mut threaded, &batch, CONFIG, &runner).unwrap();
        assert_eq!(one, three);
        assert_eq!(alone[0].grads, threaded[0].grads);
    }

    #[test]
    fn a_bad_stream_batch_is_refused_before_any_pass() {
        let mut model = Rnn::<2, 6, 3>::ZERO;
        model.init_gaussian(&mut DefaultRng::seed_from_u64(1), 0.3);
        let before = model.clone();
        let mut adam = crate::Adam::new(0.01);
        let mut shards = vec![StreamShard::<2, 6, 3, 2, 12, Rnn<2, 6, 3>>::ZERO; 2];
        let (ok, long) = (sequence(4, 0.0), sequence(13, 0.0));
        let bad: [&[Example<'_, 2>]; 5] = [
            &[],
            &[Example::dense(&ok, 0); 5],
            &[Example::dense(&ok, 0), Example::dense(&long, 0)],
            &[Example::dense(&ok, 3)],
            &[Example::dense(&ok, 1), Example::dense(&[], 0)],
        ];
        for batch in bad {
            let result = train_batch(
                &mut model,
                &mut adam,
                &mut shards,
                batch,
                CONFIG,
                &Sequential,
            );
            assert!(result.is_err(), "{batch:?}");
        }
        assert_eq!(model, before);
        let fine = [Example::dense(&ok, 0); 4];
        train_batch(
            &mut model,
            &mut adam,
            &mut shards,
            &fine,
            CONFIG,
            &Sequential,
        )
        .unwrap();
        assert_ne!(model, before);
    }

    #[test]
    fn a_bad_batch_is_refused_before_any_pass_and_leaves_the_model_alone() {
        let mut model = Rnn::<2, 6, 3>::ZERO;
        model.init_gaussian(&mut DefaultRng::seed_from_u64(1), 0.3);
        let before = model.clone();
        let mut adam = crate::Adam::new(0.01);
        let mut shards = vec![SeriesShard::<2, 6, 3, 12, Rnn<2, 6, 3>>::ZERO; 2];
        let (ok, long) = (sequence(4, 0.0), sequence(13, 0.0));
        let bad: [&[Example<'_, 2>]; 5] = [
            &[],
            &[Example::dense(&ok, 0); 3],
            &[Example::dense(&long, 0)],
            &[Example::dense(&ok, 3)],
            &[Example::dense(&[], 0)],
        ];
        for batch in bad {
            let result = train_batch(
                &mut model,
                &mut adam,
                &mut shards,
                batch,
                CONFIG,
                &Sequential,
            );
            assert!(result.is_err(), "{batch:?}");
        }
        assert_eq!(model, before);
    }
}
