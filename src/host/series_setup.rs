//! What a series classifier's training run is made of before it starts, below both the loop
//! ([`super::series_training`], which re-exports these) and its checkpoints
//! ([`super::series_checkpoint`], which fingerprints them): the settings ([`SeriesTraining`])
//! and a set as normalized input vectors ([`Prepared`]).

use crate::host::series::SeriesSet;
use crate::model::Readout;
use crate::model::normalize::Normalization;
use crate::workflows::classify::Example;

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
    /// Decoupled weight decay (AdamW): after every update each parameter is multiplied by
    /// `1 − lr·weight_decay`. 0 turns it off.
    pub weight_decay: f32,
    /// The share of each class's training series held out as a validation slice (stratified,
    /// drawn from the seed; never the test file), in `[0, 1)`. When it is above 0 the model
    /// of the epoch with the best validation accuracy (ties: the lower validation loss) is the
    /// one returned. 0 trains on every series and returns the last epoch's model.
    pub validation: f32,
    /// Standard deviation of Gaussian noise added to every normalized input value of a
    /// training series, drawn anew for each update (augmentation). 0 turns it off.
    pub noise: f32,
    /// Time-stretch augmentation: each training series is resampled (linear interpolation) to
    /// its length times a factor drawn log-uniformly from `[1/(1+stretch), 1+stretch]`, anew
    /// for each update. 0 turns it off.
    pub stretch: f32,
    /// Series per update: their gradients averaged (through the batched kernels, each series
    /// masked past its own end, so at its own length); the last batch of an epoch may be
    /// smaller. 1: one update per series, on its own tape.
    pub batch: usize,
}

impl SeriesTraining {
    /// The defaults, the same for every data set (docs/sensors.md says how they were chosen,
    /// with a GRU of 64 hidden units): 100 epochs, Adam lr 0.003, gradient norm clipped to 5,
    /// seed 0, the last step's state read out, no test during training; every training series
    /// augmented anew for each update: stretched in time by up to 1.2× either way and with
    /// Gaussian noise of standard deviation 0.2 (normalized units) on every input value; no
    /// weight decay, no validation slice; one update per series (batch 1).
    pub const DEFAULT: Self = Self {
        epochs: 100,
        lr: 0.003,
        clip: 5.0,
        seed: 0,
        readout: Readout::Last,
        test_every: 0,
        weight_decay: 0.0,
        validation: 0.0,
        noise: 0.2,
        stretch: 0.2,
        batch: 1,
    };
}

/// A set as normalized input vectors of `I` entries, with its labels.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared<const I: usize> {
    /// One sequence of input vectors per series.
    pub vectors: Vec<Vec<[f32; I]>>,
    /// The class of each series.
    pub labels: Vec<usize>,
    /// The channels the file has (the first entries of each vector; the others stay 0).
    pub channels: usize,
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
            channels: set.channels.min(I),
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
