//! Training a many-to-one classifier on labelled series: the one loop that the `micrornn train
//! FILE.ts` command and the `sensors` example both run.
//!
//! A [`SeriesSet`] becomes normalized input vectors ([`Prepared`], with the training set's
//! [`Normalization`]); [`train`] initializes a model of any [`Cell`] from a seed, trains it with
//! Adam and a clipped gradient norm, one update per series (batch 1: every series is its own
//! sequence, of its own length, from the zero state), the training set shuffled every epoch, and
//! returns it with its training (and test) metrics and the seconds spent in the training epochs.
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
use crate::host::boxed::{Zeroable, zeroed};
use crate::host::series::SeriesSet;
use crate::model::normalize::Normalization;
use crate::model::{Cell, Readout, Tape};
use crate::workflows::classify::{Classifier, ClassifierConfig, Example, Metrics};
use crate::workflows::clip::Clip;
use crate::workflows::optim::Adam;
use rand_core::SeedableRng;
use std::time::Instant;

/// The training settings besides the model's type (cell and hidden size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeriesTraining {
    /// Passes over the training set.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// The largest gradient norm (the whole gradient is scaled down to it).
    pub clip: f32,
    /// Seed of the initialization and of the shuffles.
    pub seed: u64,
    /// The state the class is read from.
    pub readout: Readout,
    /// Evaluate the test set after every this many epochs (0: only at the end).
    pub test_every: usize,
}

impl SeriesTraining {
    /// The defaults, the same for every data set (docs/sensors.md says how they were chosen,
    /// with a GRU of 32 hidden units): 100 epochs, Adam lr 0.003, gradient norm clipped to 5,
    /// seed 0, the last step's state read out, no test during training.
    pub const DEFAULT: Self = Self {
        epochs: 100,
        lr: 0.003,
        clip: 5.0,
        seed: 0,
        readout: Readout::Last,
        test_every: 0,
    };
}

/// A set as normalized input vectors of `I` entries, with its labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared<const I: usize> {
    /// One sequence of input vectors per series.
    pub vectors: Vec<Vec<[f32; I]>>,
    /// The class of each series.
    pub labels: Vec<usize>,
}

impl<const I: usize> Prepared<I> {
    /// The series of `set`, each sample normalized by `normalization` (the training set's).
    pub fn new(set: &SeriesSet, normalization: &Normalization<I>) -> Self {
        Self {
            vectors: set
                .series
                .iter()
                .map(|s| s.dense(set.channels, normalization))
                .collect(),
            labels: set.series.iter().map(|s| s.label).collect(),
        }
    }

    /// The series as classifier examples, borrowing the vectors.
    pub fn examples(&self) -> Vec<Example<'_, I>> {
        self.vectors
            .iter()
            .zip(&self.labels)
            .map(|(v, &label)| Example::dense(v, label))
            .collect()
    }
}

/// What one epoch measured, for a progress line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// The epoch just finished, from 1.
    pub epoch: usize,
    /// Training loss and accuracy over the epoch, each series measured before its update.
    pub train: Metrics,
    /// The test set after this epoch, when one is given and this epoch is a test epoch
    /// ([`SeriesTraining::test_every`]).
    pub test: Option<Metrics>,
    /// Seconds in the training epochs so far (evaluations not counted).
    pub seconds: f64,
}

/// A trained model and what it measured.
#[derive(Debug)]
pub struct TrainedSeries<C> {
    /// The model.
    pub model: Box<C>,
    /// Epochs run (fewer than asked if the callback stopped the run).
    pub epochs: usize,
    /// The training set, evaluated after training.
    pub train: Metrics,
    /// The test set, evaluated after training, when one was given.
    pub test: Option<Metrics>,
    /// Seconds spent in the training epochs (evaluations not counted).
    pub seconds: f64,
}

/// Trains a classifier of cell `C` (inputs `I`, hidden `H`, outputs `O ≥ classes`, training
/// tape `T ≥` the longest series) on `train_set`: initialized by `init` from
/// [`SeriesTraining::seed`], then [`SeriesTraining::epochs`] shuffled epochs of Adam, one update
/// per series. After each epoch `on_epoch` sees its [`EpochReport`] and returns whether to go on
/// (`false` stops early, as Ctrl-C does in the binary; the model trained so far is returned).
///
/// # Errors
/// [`Error::InvalidSetting`] for `classes` outside `1..=O`, a learning rate or clip limit that
/// is not a positive number; [`Error::BadLength`] for a series longer than `T` (or empty);
/// [`Error::TokenOutOfRange`] for a label `≥ classes`; [`Error::NonFiniteLoss`] if training
/// diverges.
pub fn train<C, const I: usize, const H: usize, const O: usize, const T: usize>(
    settings: &SeriesTraining,
    classes: usize,
    train_set: &Prepared<I>,
    test_set: Option<&Prepared<I>>,
    init: fn(&mut C, &mut crate::DefaultRng),
    mut on_epoch: impl FnMut(&EpochReport) -> bool,
) -> Result<TrainedSeries<C>, Error>
where
    C: Cell<I, H, O> + Zeroable,
    Tape<T, H, O, C::Record>: Zeroable,
    Adam<C>: Zeroable,
{
    if !(settings.lr.is_finite() && settings.lr > 0.0) {
        return Err(Error::InvalidSetting(
            "the learning rate must be a positive number",
        ));
    }
    let mut rng = crate::DefaultRng::seed_from_u64(settings.seed);
    let mut model = zeroed::<C>();
    init(&mut model, &mut rng);
    let mut grads = zeroed::<C>();
    let mut tape = zeroed::<Tape<T, H, O, C::Record>>();
    let mut adam = zeroed::<Adam<C>>();
    adam.init(settings.lr);
    let config = ClassifierConfig {
        classes,
        clip: Clip::Norm(settings.clip),
        readout: settings.readout,
    };
    let mut classifier = Classifier::new(&mut *model, &mut *grads, &mut *tape, &mut *adam, config)?;
    let mut examples = train_set.examples();
    let test_examples = test_set.map(Prepared::examples);
    let (mut seconds, mut epochs) = (0.0, 0);
    for epoch in 1..=settings.epochs {
        let started = Instant::now();
        let train = classifier.fit_epoch(&mut examples, &mut rng)?;
        seconds += started.elapsed().as_secs_f64();
        epochs = epoch;
        let test = match &test_examples {
            Some(test) if settings.test_every > 0 && epoch % settings.test_every == 0 => {
                Some(classifier.evaluate(test)?)
            }
            _ => None,
        };
        let report = EpochReport {
            epoch,
            train,
            test,
            seconds,
        };
        if !on_epoch(&report) {
            break;
        }
    }
    let train = classifier.evaluate(&examples)?;
    let test = match &test_examples {
        Some(test) => Some(classifier.evaluate(test)?),
        None => None,
    };
    Ok(TrainedSeries {
        model,
        epochs,
        train,
        test,
        seconds,
    })
}
