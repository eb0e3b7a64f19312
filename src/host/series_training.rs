//! Training a many-to-one classifier on labelled series: the one loop that the `micrornn train
//! FILE.ts` command and the `sensors` example both run.
//!
//! A [`SeriesSet`](crate::host::series::SeriesSet) becomes normalized input vectors
//! ([`Prepared`], with the training set's
//! [`Normalization`](crate::model::normalize::Normalization)); [`train`] initializes a model of
//! any [`Cell`] from a seed, trains it with Adam and a clipped gradient norm, one update per
//! series (batch 1: every series is its own sequence, of its own length, from the zero state)
//! or per mini-batch (through the batched kernels, [`SHARD_STREAMS`] series a shard, each
//! masked past its own end), the training set shuffled every epoch, and returns it with its
//! training (and test) metrics and the seconds spent in the training epochs.
//!
//! ```
//! use micrornn::host::series::{Limits, parse_ts};
//! use micrornn::host::series_training::{Prepared, SeriesTraining, train};
//! use micrornn::{Gru, Readout};
//!
//! let text = "@classLabel true up down\n@data\n1,2,3:up\n3,2,1:down\n0,1,2:up\n2,1,0:down\n";
//! let set = parse_ts(text, "tiny.ts", &Limits::DEFAULT)?;
//! let normalization = set.normalization::<2>();
//! let data = Prepared::<2>::new(&set, &normalization);
//! let settings = SeriesTraining { epochs: 60, lr: 0.01, ..SeriesTraining::DEFAULT };
//! let trained = train::<Gru<2, 8, 2>, 2, 8, 2, 4>(
//!     &settings, 2, &data, None, Gru::init_uniform, |_| true,
//! )?;
//! assert_eq!(trained.train.accuracy(), 1.0);
//! assert_eq!((trained.epochs, trained.test), (60, None));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::Error;
use crate::host::boxed::{Zeroable, zeroed, zeroed_slice};
use crate::host::series_augment::{add_noise, stretch};
use crate::host::series_checkpoint::{self, Best, RunSettings, RunState};
pub use crate::host::series_setup::{Prepared, SeriesTraining};
use crate::kernels::math;
use crate::model::batch_cell::BatchCell;
use crate::model::init::unit;
use crate::model::{Cell, Classes, Params, Sequence};
use crate::workflows::batch_train::{Parallel, Sequential};
use crate::workflows::classify::{ClassifierConfig, Example, Metrics, evaluate, shuffle};
use crate::workflows::classify_batch::{SeriesShard, StreamShard, train_batch};
use crate::workflows::clip::Clip;
use crate::workflows::optim::Adam;
use rand_core::SeedableRng;
use std::time::Instant;

/// How many series of a mini-batch go through the batched kernels together, as the streams of
/// one [`StreamShard`] (a batch of `B > 1` series takes `⌈B / 4⌉` shards, which threads share).
pub const SHARD_STREAMS: usize = 4;

/// The shard of a mini-batch of series: [`SHARD_STREAMS`] streams of up to `T` steps.
pub type SeriesStreams<const I: usize, const H: usize, const O: usize, const T: usize, C> =
    StreamShard<I, H, O, SHARD_STREAMS, T, C>;

/// What one epoch measured, for a progress line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch just finished, from 1.
    pub epoch: usize,
    /// Training loss and accuracy over the epoch, each series measured before its update.
    pub train: Metrics,
    /// The validation slice after this epoch, when [`SeriesTraining::validation`] holds one.
    pub validation: Option<Metrics>,
    /// The test set after this epoch, when one is given and this epoch is a test epoch
    /// ([`SeriesTraining::test_every`]).
    pub test: Option<Metrics>,
    /// Seconds in the training epochs so far (evaluations not counted).
    pub seconds: f64,
}

/// A trained model and what it measured.
#[derive(Debug)]
pub struct TrainedSeries<C> {
    /// The model: the last epoch's, or with a validation slice the best validation epoch's.
    pub model: Box<C>,
    /// Epochs run (fewer than asked if the callback stopped the run).
    pub epochs: usize,
    /// The epoch whose model was returned (`epochs` without a validation slice).
    pub best_epoch: usize,
    /// The series trained on (all of the training set but the validation slice), evaluated
    /// with the returned model.
    pub train: Metrics,
    /// The validation slice, evaluated with the returned model, when one was held out.
    pub validation: Option<Metrics>,
    /// The test set, evaluated with the returned model, when one was given.
    pub test: Option<Metrics>,
    /// Seconds spent in the training epochs (evaluations not counted).
    pub seconds: f64,
}

/// Splits series (by their `labels`) into a training part and a stratified validation slice:
/// of each class with `n` series, `round(fraction·n)` drawn at random from `seed`, at least
/// one when `fraction > 0` and at most `n − 1` (a class with one series stays in training).
/// Returns the indices of both parts, each in ascending order.
pub fn stratified_split(labels: &[usize], fraction: f32, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = crate::DefaultRng::seed_from_u64(seed ^ SPLIT_SEED);
    let classes = labels.iter().max().map_or(0, |&c| c + 1);
    let mut held = vec![false; labels.len()];
    for class in 0..classes {
        let mut members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        let n = members.len();
        if fraction <= 0.0 || n < 2 {
            continue;
        }
        let take = ((fraction * n as f32).round() as usize).clamp(1, n - 1);
        shuffle(&mut members, &mut rng);
        for &i in &members[..take] {
            held[i] = true;
        }
    }
    (0..labels.len()).partition(|&i| !held[i])
}

/// Mixed into the seed for the validation split, so that it does not change
/// the initialization or the shuffles (the noise and the stretch have their own seeds too).
const SPLIT_SEED: u64 = 0x005e_71e5_5a1d;
/// Mixed into the seed for the input noise.
const NOISE_SEED: u64 = 0x0015_e5ee_d000;

/// Mixed into the seed for the time stretch.
const STRETCH_SEED: u64 = 0x0057_2e7c_4000;

/// Multiplies every parameter by `keep` (decoupled weight decay).
fn decay<C: Params>(model: &mut C, keep: f32) {
    for index in 0..C::TENSORS.len() {
        for p in model.tensor_mut(index) {
            *p *= keep;
        }
    }
}

/// Whether `candidate` beats `best` on validation: higher accuracy, or as accurate with a lower
/// loss.
fn better(candidate: &Metrics, best: Option<&Metrics>) -> bool {
    best.is_none_or(|best| {
        let (a, b) = (candidate.accuracy(), best.accuracy());
        a > b || (a == b && candidate.loss() < best.loss())
    })
}

/// Trains a classifier of cell `C` (inputs `I`, hidden `H`, outputs `O ≥ classes`, training
/// tape `T ≥` the longest series) on `train_set`: initialized by `init` from
/// [`SeriesTraining::seed`], then [`SeriesTraining::epochs`] shuffled epochs of Adam, one update
/// per mini-batch of [`SeriesTraining::batch`] series, with the weight decay, validation slice
/// and augmentation of `settings`, on the calling thread. After each epoch `on_epoch` sees its
/// [`EpochReport`] and returns whether to go on (`false` stops early, as Ctrl-C does in the
/// binary; the model trained so far — or the best validation epoch's — is returned).
///
/// [`train_with`] does the same on threads, from a checkpoint, and hands out checkpoints.
///
/// # Errors
/// As [`train_with`].
pub fn train<C, const I: usize, const H: usize, const O: usize, const T: usize>(
    settings: &SeriesTraining,
    classes: usize,
    train_set: &Prepared<I>,
    test_set: Option<&Prepared<I>>,
    init: fn(&mut C, &mut crate::DefaultRng),
    mut on_epoch: impl FnMut(&EpochReport) -> bool,
) -> Result<TrainedSeries<C>, Error>
where
    C: BatchCell<I, H, O> + Zeroable,
    SeriesShard<I, H, O, T, C>: Zeroable + Send,
    SeriesStreams<I, H, O, T, C>: Zeroable + Send,
    Adam<C>: Zeroable,
{
    let sets = Sets {
        classes,
        train: train_set,
        test: test_set,
    };
    train_with::<C, _, I, H, O, T>(settings, &sets, init, &Sequential, None, |report, _| {
        on_epoch(report)
    })
}

/// The data of a run: the number of classes, the training set and the test set, if any.
#[derive(Clone, Copy, Debug)]
pub struct Sets<'a, const I: usize> {
    /// Classes of the data (`1..=O`).
    pub classes: usize,
    /// The series to train on (the validation slice is drawn from them).
    pub train: &'a Prepared<I>,
    /// The series to test on, never used to choose anything.
    pub test: Option<&'a Prepared<I>>,
}

/// What `on_epoch` of [`train_with`] gets besides the report: the run as it stands after the
/// epoch, to save as a checkpoint.
pub struct Checkpoint<'a, C, const I: usize, const H: usize, const O: usize> {
    settings: &'a RunSettings,
    state: &'a RunState<C>,
}

impl<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize> Checkpoint<'_, C, I, H, O> {
    /// The checkpoint's bytes ([`series_checkpoint::encode`]): `--resume` gives them back to
    /// [`train_with`].
    ///
    /// # Errors
    /// As [`series_checkpoint::encode`].
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        series_checkpoint::encode::<C, I, H, O>(self.settings, self.state)
    }
}

/// [`train`] with each mini-batch's series spread over `runner`'s threads (the model is the same
/// bit for bit whatever their number: the series' augmentation is drawn on the calling thread in
/// series order, the gradients are summed in series order) and, with `resume`, continuing the
/// run a checkpoint holds (made with the same settings and data, [`SeriesTraining::epochs`]
/// excepted) up to [`SeriesTraining::epochs`] in all: the result is the same, bit for bit, as a
/// run never stopped. `on_epoch` gets the [`Checkpoint`] of the run after each epoch too.
///
/// The model's [`TrainedSeries::epochs`] counts the epochs of the resumed run as well.
///
/// # Errors
/// [`Error::InvalidSetting`] for `classes` outside `1..=O`, a learning rate or clip limit that
/// is not a positive number, a batch of 0, a negative or non-finite weight decay or noise, a
/// validation share outside `[0, 1)`, or a checkpoint of other settings or data;
/// [`Error::BadLength`] for a series longer than `T` (or empty); [`Error::TokenOutOfRange`] for
/// a label `≥ classes`; [`Error::NonFiniteLoss`] if training diverges; the errors of
/// [`series_checkpoint::restore`] for a damaged checkpoint.
pub fn train_with<C, R, const I: usize, const H: usize, const O: usize, const T: usize>(
    settings: &SeriesTraining,
    sets: &Sets<'_, I>,
    init: fn(&mut C, &mut crate::DefaultRng),
    runner: &R,
    resume: Option<&[u8]>,
    mut on_epoch: impl FnMut(&EpochReport, &Checkpoint<'_, C, I, H, O>) -> bool,
) -> Result<TrainedSeries<C>, Error>
where
    C: BatchCell<I, H, O> + Zeroable,
    SeriesShard<I, H, O, T, C>: Zeroable + Send,
    SeriesStreams<I, H, O, T, C>: Zeroable + Send,
    Adam<C>: Zeroable,
    R: Parallel,
{
    check(settings)?;
    let (classes, train_set) = (sets.classes, sets.train);
    // Checked here, not only by the tape: a stretched series is cut to `T` steps.
    if let Some(len) = train_set
        .vectors
        .iter()
        .map(Vec::len)
        .find(|&n| n == 0 || n > T)
    {
        return Err(Error::BadLength { len, capacity: T });
    }
    Classes::<O>::new(classes)?;
    let config = ClassifierConfig {
        classes,
        clip: Clip::Norm(settings.clip).check()?,
        readout: settings.readout,
    };
    let all = train_set.examples();
    if let Some(bad) = all.iter().find(|e| e.label >= classes) {
        return Err(Error::TokenOutOfRange {
            token: bad.label,
            limit: classes,
        });
    }
    let (fit, held) = if settings.validation > 0.0 {
        stratified_split(&train_set.labels, settings.validation, settings.seed)
    } else {
        ((0..all.len()).collect(), Vec::new())
    };
    let key = RunSettings::new::<C, I, H, O, T>(settings, classes, train_set);
    let mut run = match resume {
        Some(bytes) => {
            let run = series_checkpoint::restore::<C, I, H, O>(bytes, &key)?;
            if run.order.len() != fit.len() {
                return Err(Error::CorruptModel(
                    "the checkpoint's order does not cover the training series",
                ));
            }
            run
        }
        None => start::<C, I, H, O>(settings, fit.len(), init),
    };
    let validation: Vec<Example<'_, I>> = held.iter().map(|&i| all[i]).collect();
    let test_examples = sets.test.map(Prepared::examples);
    let keep = 1.0 - settings.lr * settings.weight_decay;
    // A batch of one series runs on its own tape; a larger one through the batched kernels.
    let batch_size = settings.batch.min(fit.len()).max(1);
    let (series_shards, stream_shards) = match batch_size {
        1 => (1, 0),
        _ => (0, batch_size.div_ceil(SHARD_STREAMS)),
    };
    let mut shards = zeroed_slice::<SeriesShard<I, H, O, T, C>>(series_shards);
    let mut streams = zeroed_slice::<SeriesStreams<I, H, O, T, C>>(stream_shards);
    let mut augmented: Vec<Vec<[f32; I]>> = vec![Vec::new(); batch_size];
    let augment = settings.noise > 0.0 || settings.stretch > 0.0;
    // Stretch factors are drawn log-uniformly in [1/(1 + stretch), 1 + stretch].
    let span = math::ln(1.0 + settings.stretch);
    for epoch in run.epoch + 1..=settings.epochs {
        let started = Instant::now();
        shuffle(&mut run.order, &mut run.shuffle_rng);
        let mut train = Metrics::default();
        for batch in run.order.chunks(batch_size) {
            let series = batch
                .iter()
                .filter_map(|&k| fit.get(k).and_then(|&i| all.get(i)));
            // The augmentation of every series of the batch, drawn here in series order, so the
            // generators do not depend on the threads.
            let mut examples: Vec<Example<'_, I>> = if augment {
                for (example, out) in series.clone().zip(augmented.iter_mut()) {
                    let clean = match example.inputs {
                        Sequence::Dense(vectors) => vectors,
                        Sequence::Tokens(_) => &[],
                    };
                    let factor = if settings.stretch > 0.0 {
                        math::exp(span * (2.0 * unit(&mut run.stretch_rng) - 1.0))
                    } else {
                        1.0
                    };
                    stretch(clean, factor, T, out);
                    if settings.noise > 0.0 {
                        add_noise(out, train_set.channels, settings.noise, &mut run.noise_rng);
                    }
                }
                series
                    .zip(&augmented)
                    .map(|(example, out)| Example::dense(out, example.label))
                    .collect()
            } else {
                series.copied().collect()
            };
            // Longest first (a stable sort: ties keep the shuffled order), so each shard's
            // streams are alike in length and a shard of short series stops early.
            examples.sort_by_key(|example| core::cmp::Reverse(example.inputs.len()));
            let (model, adam) = (&mut *run.model, &mut *run.adam);
            let metrics = if streams.is_empty() {
                train_batch(model, adam, &mut shards, &examples, config, runner)?
            } else {
                train_batch(model, adam, &mut streams, &examples, config, runner)?
            };
            train.absorb(&metrics);
            if keep != 1.0 {
                decay(&mut *run.model, keep);
            }
        }
        run.seconds += started.elapsed().as_secs_f64();
        run.epoch = epoch;
        let validated = if validation.is_empty() {
            None
        } else {
            let metrics = evaluate(&*run.model, &validation, classes, settings.readout)?;
            if better(&metrics, run.best.as_ref().map(|b| &b.metrics)) {
                let mut snapshot = run.best.take().map_or_else(zeroed::<C>, |b| b.model);
                C::clone_from(&mut snapshot, &run.model);
                run.best = Some(Best {
                    model: snapshot,
                    metrics,
                    epoch,
                });
            }
            Some(metrics)
        };
        let test = match &test_examples {
            Some(test) if settings.test_every > 0 && epoch % settings.test_every == 0 => {
                Some(evaluate(&*run.model, test, classes, settings.readout)?)
            }
            _ => None,
        };
        let report = EpochReport {
            epoch,
            train,
            validation: validated,
            test,
            seconds: run.seconds,
        };
        let checkpoint = Checkpoint {
            settings: &key,
            state: &run,
        };
        if !on_epoch(&report, &checkpoint) {
            break;
        }
    }
    let epochs = run.epoch;
    let best_epoch = match &run.best {
        Some(best) => {
            C::clone_from(&mut run.model, &best.model);
            best.epoch
        }
        None => epochs,
    };
    let fitted: Vec<Example<'_, I>> = run
        .order
        .iter()
        .filter_map(|&k| fit.get(k).and_then(|&i| all.get(i)).copied())
        .collect();
    let train = evaluate(&*run.model, &fitted, classes, settings.readout)?;
    // The kept model was scored on the validation slice when it was kept.
    let validation = match &run.best {
        Some(best) => Some(best.metrics),
        None if validation.is_empty() => None,
        None => Some(evaluate(
            &*run.model,
            &validation,
            classes,
            settings.readout,
        )?),
    };
    let test = match &test_examples {
        Some(test) => Some(evaluate(&*run.model, test, classes, settings.readout)?),
        None => None,
    };
    Ok(TrainedSeries {
        model: run.model,
        epochs,
        best_epoch,
        train,
        validation,
        test,
        seconds: run.seconds,
    })
}

/// A fresh run over `series` training series: the model initialized by `init` from the seed
/// (whose generator then shuffles), Adam at its start, the series in their order.
fn start<C, const I: usize, const H: usize, const O: usize>(
    settings: &SeriesTraining,
    series: usize,
    init: fn(&mut C, &mut crate::DefaultRng),
) -> RunState<C>
where
    C: Cell<I, H, O> + Zeroable,
    Adam<C>: Zeroable,
{
    let mut shuffle_rng = crate::DefaultRng::seed_from_u64(settings.seed);
    let mut model = zeroed::<C>();
    init(&mut model, &mut shuffle_rng);
    let mut adam = zeroed::<Adam<C>>();
    adam.init(settings.lr);
    RunState {
        model,
        adam,
        shuffle_rng,
        noise_rng: crate::DefaultRng::seed_from_u64(settings.seed ^ NOISE_SEED),
        stretch_rng: crate::DefaultRng::seed_from_u64(settings.seed ^ STRETCH_SEED),
        order: (0..series).collect(),
        best: None,
        epoch: 0,
        seconds: 0.0,
    }
}

/// Refuses settings [`train`] cannot use.
fn check(settings: &SeriesTraining) -> Result<(), Error> {
    if !(settings.lr.is_finite() && settings.lr > 0.0) {
        return Err(Error::InvalidSetting(
            "the learning rate must be a positive number",
        ));
    }
    if !(settings.weight_decay.is_finite() && settings.weight_decay >= 0.0)
        || settings.lr * settings.weight_decay >= 1.0
    {
        return Err(Error::InvalidSetting(
            "the weight decay must be ≥ 0 and lr·weight decay below 1",
        ));
    }
    if !(settings.validation >= 0.0 && settings.validation < 1.0) {
        return Err(Error::InvalidSetting(
            "the validation share must be in [0, 1)",
        ));
    }
    if !(settings.stretch.is_finite() && settings.stretch >= 0.0) {
        return Err(Error::InvalidSetting("the time stretch must be ≥ 0"));
    }
    if !(settings.noise.is_finite() && settings.noise >= 0.0) {
        return Err(Error::InvalidSetting("the input noise must be ≥ 0"));
    }
    if settings.batch == 0 {
        return Err(Error::InvalidSetting("a batch needs at least one series"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::threads::Threads;
    use crate::model::Tape;
    use crate::workflows::classify::Classifier;
    use crate::{DefaultRng, Gru};

    type Small = Gru<2, 4, 2>;

    /// Series of two input entries of which only the first carries data (the second is a
    /// padding channel, always 0): class 0 rises, class 1 falls, with some jitter.
    fn ramps(count: usize) -> Prepared<2> {
        let mut vectors = Vec::new();
        let mut labels = Vec::new();
        for i in 0..count {
            let label = i % 2;
            let steps = 5 + i % 4;
            let sign = if label == 0 { 1.0 } else { -1.0 };
            let jitter = (i as f32 * 0.37).sin() * 0.3;
            vectors.push(
                (0..steps)
                    .map(|t| [sign * (t as f32 * 0.4 - 1.0) + jitter, 0.0])
                    .collect(),
            );
            labels.push(label);
        }
        Prepared {
            vectors,
            labels,
            channels: 1,
        }
    }

    fn run(
        settings: &SeriesTraining,
        train_set: &Prepared<2>,
        test: Option<&Prepared<2>>,
    ) -> TrainedSeries<Small> {
        train::<Small, 2, 4, 2, 16>(settings, 2, train_set, test, Small::init_uniform, |_| true)
            .expect("training the ramps")
    }

    /// The per-series loop `train` ran before mini-batches (kept here as the reference): every
    /// epoch shuffles the series, then each is stretched and noised and trained on alone with
    /// [`Classifier::train_example`], then the weights decay.
    fn old_per_series_loop(settings: &SeriesTraining, data: &Prepared<2>) -> Box<Small> {
        let mut rng = DefaultRng::seed_from_u64(settings.seed);
        let mut noise_rng = DefaultRng::seed_from_u64(settings.seed ^ NOISE_SEED);
        let mut stretch_rng = DefaultRng::seed_from_u64(settings.seed ^ STRETCH_SEED);
        let mut model = zeroed::<Small>();
        Small::init_uniform(&mut model, &mut rng);
        let (mut grads, mut tape) = (zeroed::<Small>(), zeroed::<Tape<16, 4, 2, _>>());
        let mut adam = zeroed::<Adam<Small>>();
        adam.init(settings.lr);
        let config = ClassifierConfig {
            classes: 2,
            clip: Clip::Norm(settings.clip),
            readout: settings.readout,
        };
        let mut classifier =
            Classifier::new(&mut *model, &mut *grads, &mut *tape, &mut *adam, config).unwrap();
        let mut examples = data.examples();
        let span = math::ln(1.0 + settings.stretch);
        let keep = 1.0 - settings.lr * settings.weight_decay;
        let mut augmented = Vec::new();
        for _ in 0..settings.epochs {
            shuffle(&mut examples, &mut rng);
            for example in &examples {
                let Sequence::Dense(clean) = example.inputs else {
                    unreachable!("dense series")
                };
                let factor = math::exp(span * (2.0 * unit(&mut stretch_rng) - 1.0));
                stretch(clean, factor, 16, &mut augmented);
                add_noise(&mut augmented, 1, settings.noise, &mut noise_rng);
                classifier
                    .train_example(&Example::dense(&augmented, example.label))
                    .unwrap();
                decay(&mut *classifier.buffers.model, keep);
            }
        }
        model
    }

    #[test]
    fn batch_one_is_the_old_per_series_loop_bit_for_bit() {
        let data = ramps(10);
        let settings = SeriesTraining {
            epochs: 3,
            lr: 0.01,
            seed: 5,
            weight_decay: 0.5,
            ..SeriesTraining::DEFAULT
        };
        assert_eq!(settings.batch, 1, "the default batch");
        let new = run(&settings, &data, None);
        assert_eq!(*new.model, *old_per_series_loop(&settings, &data));
        let batched = run(
            &SeriesTraining {
                batch: 3,
                ..settings
            },
            &data,
            None,
        );
        assert_ne!(*batched.model, *new.model, "a batch of 3 trains otherwise");
    }

    /// `train_with` on `runner`, from `resume`, keeping the checkpoint of epoch `save_at`.
    fn run_on(
        settings: &SeriesTraining,
        data: &Prepared<2>,
        runner: &impl Parallel,
        resume: Option<&[u8]>,
        save_at: usize,
    ) -> Result<(TrainedSeries<Small>, Option<Vec<u8>>), Error> {
        let test = ramps(6);
        let sets = Sets {
            classes: 2,
            train: data,
            test: Some(&test),
        };
        let mut saved = None;
        let trained = train_with::<Small, _, 2, 4, 2, 16>(
            settings,
            &sets,
            Small::init_uniform,
            runner,
            resume,
            |report, checkpoint| {
                if report.epoch == save_at {
                    saved = Some(checkpoint.encode().unwrap());
                }
                true
            },
        )?;
        Ok((trained, saved))
    }

    /// Everything a run returns but its seconds.
    fn outcome(t: &TrainedSeries<Small>) -> impl PartialEq + core::fmt::Debug + '_ {
        (
            &*t.model,
            t.epochs,
            t.best_epoch,
            t.train,
            t.validation,
            t.test,
        )
    }

    #[test]
    fn the_model_is_the_same_bit_for_bit_on_any_number_of_threads() {
        let data = ramps(14);
        let settings = SeriesTraining {
            epochs: 4,
            lr: 0.02,
            seed: 2,
            batch: 4, // 14 series: three batches of 4, then one of 2
            ..SeriesTraining::DEFAULT
        };
        let (one, _) = run_on(&settings, &data, &Threads(1), None, 0).unwrap();
        let (three, _) = run_on(&settings, &data, &Threads(3), None, 0).unwrap();
        let (sequential, _) = run_on(&settings, &data, &Sequential, None, 0).unwrap();
        assert_eq!(outcome(&one), outcome(&three));
        assert_eq!(outcome(&one), outcome(&sequential));
    }

    #[test]
    fn a_resumed_run_is_the_run_never_stopped() {
        let data = ramps(14);
        let settings = SeriesTraining {
            epochs: 7,
            lr: 0.03,
            seed: 4,
            batch: 3,
            validation: 0.25,
            weight_decay: 0.1,
            ..SeriesTraining::DEFAULT
        };
        let (whole, at_3) = run_on(&settings, &data, &Sequential, None, 3).unwrap();
        let at_3 = at_3.expect("a checkpoint after epoch 3");
        // Resumed on another number of threads, stopped again after epoch 5, resumed again.
        let first = SeriesTraining {
            epochs: 5,
            ..settings
        };
        let (part, at_5) = run_on(&first, &data, &Threads(2), Some(&at_3), 5).unwrap();
        assert_eq!(part.epochs, 5);
        let (resumed, _) = run_on(&settings, &data, &Sequential, at_5.as_deref(), 0).unwrap();
        assert_eq!(outcome(&resumed), outcome(&whole));
        assert!(whole.validation.is_some() && whole.test.is_some());
        // A checkpoint of the last epoch resumes to the same end without training further.
        let (_, at_7) = run_on(&settings, &data, &Sequential, None, 7).unwrap();
        let (again, _) = run_on(&settings, &data, &Sequential, at_7.as_deref(), 0).unwrap();
        assert_eq!(outcome(&again), outcome(&whole));
    }

    #[test]
    fn a_checkpoint_of_other_settings_or_data_or_damaged_is_refused() {
        let data = ramps(8);
        let settings = SeriesTraining {
            epochs: 2,
            lr: 0.01,
            batch: 2,
            ..SeriesTraining::DEFAULT
        };
        let (_, saved) = run_on(&settings, &data, &Sequential, None, 1).unwrap();
        let bytes = saved.unwrap();
        assert!(run_on(&settings, &data, &Sequential, Some(&bytes), 0).is_ok());
        let other_settings = [
            SeriesTraining {
                lr: 0.02,
                ..settings
            },
            SeriesTraining {
                batch: 1,
                ..settings
            },
            SeriesTraining {
                seed: 1,
                ..settings
            },
            SeriesTraining {
                noise: 0.1,
                ..settings
            },
        ];
        for other in other_settings {
            let refused = run_on(&other, &data, &Sequential, Some(&bytes), 0);
            assert!(
                matches!(refused, Err(Error::InvalidSetting(_))),
                "{other:?}"
            );
        }
        let mut other_data = ramps(8);
        other_data.vectors[3][1][0] += 0.5;
        let refused = run_on(&settings, &other_data, &Sequential, Some(&bytes), 0);
        assert!(matches!(refused, Err(Error::InvalidSetting(_))));
        let stored = series_checkpoint::read_settings(&bytes).unwrap();
        let given = RunSettings::new::<Small, 2, 4, 2, 16>(&settings, 2, &other_data);
        assert_eq!(
            stored.difference(&given).map(|d| d.0),
            Some("training data")
        );
        // Every truncation and every flipped byte is an error, never a panic or a wrong run.
        for len in 0..bytes.len() {
            let result = run_on(&settings, &data, &Sequential, Some(&bytes[..len]), 0);
            assert!(result.is_err(), "truncated to {len} bytes");
        }
        for at in (0..bytes.len()).step_by(97) {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x10;
            assert!(run_on(&settings, &data, &Sequential, Some(&flipped), 0).is_err());
        }
        // A language model's reader refuses a series checkpoint, and the other way round.
        assert_eq!(
            crate::host::checkpoint::read(&bytes).err(),
            Some(Error::CorruptModel(
                "a series classifier's checkpoint, not a language model's"
            ))
        );
        let lm = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/elman-adam-130-older-build.ckpt"
        ))
        .unwrap();
        assert!(
            crate::host::checkpoint::read(&lm).is_ok(),
            "old LM checkpoints still load"
        );
        assert_eq!(
            series_checkpoint::read_settings(&lm).err(),
            Some(Error::CorruptModel(
                "a language model's checkpoint, not a series classifier's"
            ))
        );
    }

    #[test]
    fn stratified_split_holds_out_each_class_share_and_never_a_whole_class() {
        let labels: Vec<usize> = [vec![0; 10], vec![1; 5], vec![2; 1], vec![3; 2]].concat();
        let (fit, held) = stratified_split(&labels, 0.2, 7);
        let count = |part: &[usize], class| part.iter().filter(|&&i| labels[i] == class).count();
        assert_eq!(
            (
                count(&held, 0),
                count(&held, 1),
                count(&held, 2),
                count(&held, 3)
            ),
            (2, 1, 0, 1)
        );
        let mut all = [fit.clone(), held.clone()].concat();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..labels.len()).collect::<Vec<_>>(),
            "a partition of the series"
        );
        assert_eq!(
            stratified_split(&labels, 0.2, 7),
            (fit, held.clone()),
            "the seed decides"
        );
        let others = (8..20).map(|seed| stratified_split(&labels, 0.2, seed).1);
        assert!(
            others.into_iter().any(|h| h != held),
            "the seed changes the slice"
        );
        assert_eq!(stratified_split(&labels, 0.0, 7).1, Vec::<usize>::new());
        let most = stratified_split(&labels, 0.99, 7).0;
        assert_eq!(
            (0..4).map(|c| count(&most, c)).collect::<Vec<_>>(),
            [1, 1, 1, 1]
        );
    }

    #[test]
    fn weight_decay_shrinks_a_weight_whose_gradient_is_zero() {
        let data = ramps(4);
        let mut initial = Small::ZERO;
        initial.init_uniform(&mut DefaultRng::seed_from_u64(3));
        let base = SeriesTraining {
            epochs: 3,
            lr: 0.01,
            seed: 3,
            ..SeriesTraining::DEFAULT
        };
        // The padding input (entry 1) is always 0: its weights get a zero gradient.
        let plain = run(&base, &data, None);
        assert_eq!(plain.model.w_xh[1], initial.w_xh[1], "no decay: untouched");
        assert_ne!(
            plain.model.w_xh[0], initial.w_xh[0],
            "the data channel trains"
        );
        let decayed = run(
            &SeriesTraining {
                weight_decay: 2.0,
                ..base
            },
            &data,
            None,
        );
        let keep = (1.0f32 - 0.01 * 2.0).powi(12); // 3 epochs × 4 updates
        for (got, start) in decayed.model.w_xh[1]
            .iter()
            .flatten()
            .zip(initial.w_xh[1].iter().flatten())
        {
            assert!(
                (got - start * keep).abs() <= 1e-5 * start.abs().max(1e-3),
                "{got} vs {start}·{keep}"
            );
        }
    }

    #[test]
    fn the_model_returned_is_the_best_validation_epochs_and_the_test_set_never_chooses_it() {
        // Every fifth label flipped: the model learns the ramps, then memorizes the flips,
        // which the validation slice punishes.
        let mut data = ramps(40);
        for label in data.labels.iter_mut().skip(4).step_by(5) {
            *label = 1 - *label;
        }
        let test = ramps(9);
        let settings = SeriesTraining {
            epochs: 30,
            lr: 0.05,
            seed: 1,
            validation: 0.25,
            ..SeriesTraining::DEFAULT
        };
        let mut seen = Vec::new();
        let trained = train::<Small, 2, 4, 2, 16>(
            &settings,
            2,
            &data,
            Some(&test),
            Small::init_uniform,
            |r| {
                seen.push(r.validation.expect("a validation slice"));
                true
            },
        )
        .expect("training the ramps");
        assert_eq!(seen.len(), 30);
        assert_eq!(seen[0].count, 10, "a quarter of each class's 20 series");
        let best = trained.best_epoch;
        assert!(
            best < 30,
            "the test needs a run whose last epoch is not its best"
        );
        assert_eq!(
            trained.validation,
            Some(seen[best - 1]),
            "the kept model measures as it did"
        );
        assert!(
            seen.iter()
                .all(|m| !better(m, Some(&seen[best - 1])) || std::ptr::eq(m, &seen[best - 1]))
        );
        assert_eq!(trained.train.count, 30);
        // The same run without a test file: the same model (the test set chose nothing).
        let blind = run(&settings, &data, None);
        assert_eq!((blind.best_epoch, &*blind.model), (best, &*trained.model));
    }

    #[test]
    fn bad_regularization_settings_are_refused() {
        let data = ramps(4);
        for settings in [
            SeriesTraining {
                weight_decay: -1.0,
                ..SeriesTraining::DEFAULT
            },
            SeriesTraining {
                weight_decay: 1000.0,
                ..SeriesTraining::DEFAULT
            },
            SeriesTraining {
                validation: 1.0,
                ..SeriesTraining::DEFAULT
            },
            SeriesTraining {
                validation: f32::NAN,
                ..SeriesTraining::DEFAULT
            },
            SeriesTraining {
                noise: f32::INFINITY,
                ..SeriesTraining::DEFAULT
            },
            SeriesTraining {
                stretch: -0.1,
                ..SeriesTraining::DEFAULT
            },
        ] {
            let result =
                train::<Small, 2, 4, 2, 16>(&settings, 2, &data, None, Small::init_uniform, |_| {
                    true
                });
            assert!(
                matches!(result, Err(Error::InvalidSetting(_))),
                "{settings:?}"
            );
        }
        // A series longer than the tape is refused, stretched or not (not cut to fit).
        let mut long = ramps(2);
        long.vectors[1] = vec![[0.5, 0.0]; 17];
        for stretch in [0.0, 0.2] {
            let settings = SeriesTraining {
                stretch,
                ..SeriesTraining::DEFAULT
            };
            let result =
                train::<Small, 2, 4, 2, 16>(&settings, 2, &long, None, Small::init_uniform, |_| {
                    true
                });
            assert!(
                matches!(
                    result,
                    Err(Error::BadLength {
                        len: 17,
                        capacity: 16
                    })
                ),
                "{result:?}"
            );
        }
    }
}
