//! Checkpoints of a series classifier's training run ([`series_training`]), in the container of
//! the language model's checkpoints ([`checkpoint`]): everything needed to continue the run
//! exactly where it stopped, so that `k` epochs and a resume to `N` give the model of `N`
//! epochs in one run, bit for bit.
//!
//! Layout (little-endian): magic `MRCK`, version `u16` ([`checkpoint::VERSION`]), flags `u16`
//! (bit 4 set: a series run, which a language model's resume refuses; bit 1: a GRU, as in the
//! language model's checkpoints), then the series section and a CRC-32 of everything before it:
//!
//! - the [`RunSettings`]: inputs, hidden, outputs, tape steps, classes, batch (`u32` each),
//!   lr, clip (`f32`), seed (`u64`), readout (`u8`: 0 last, 1 mean), weight decay, validation
//!   share, noise, stretch (`f32`), series (`u32`) and the data's fingerprint (`u64`);
//! - the progress: epochs done (`u64`), seconds so far (`f64`), the states of the shuffle
//!   (and initialization), noise and stretch generators (16 bytes each), Adam's update count
//!   (`u64`);
//! - the order of the training series (`u32` count, `u32` each): each epoch shuffles the last
//!   one's order;
//! - the best validation epoch (`u64`, 0 for none) and, when there is one, its metrics
//!   (summed loss `f64`, correct and count `u64`) and model;
//! - the model, then Adam's first and second moments, each as `f32`s in the cell's
//!   [`Params::TENSORS`] order.
//!
//! [`series_training`]: super::series_training

use super::boxed::{Zeroable, zeroed};
use super::checkpoint::{self, FLAG_GRU, FLAG_SERIES, MAGIC};
use super::series_setup::{Prepared, SeriesTraining};
use crate::codec::bytes::{ByteReader, ByteWriter};
use crate::format::crc32;
use crate::model::{Cell, CellKind, Params, Readout};
use crate::workflows::classify::Metrics;
use crate::workflows::optim::Adam;
use crate::{DefaultRng, Error};
use rand_core::SeedableRng;

/// The settings a series run must keep to be resumed: the model's shape, every training setting
/// but the number of epochs, and the training data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RunSettings {
    /// The recurrent cell.
    pub cell: CellKind,
    /// Input entries of the model.
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Outputs of the model.
    pub outputs: usize,
    /// The training tape's length (a stretched series is cut to it).
    pub steps: usize,
    /// Classes of the data.
    pub classes: usize,
    /// Series per update.
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f32,
    /// The gradient norm's limit.
    pub clip: f32,
    /// Seed of the initialization, shuffles, augmentation and validation split.
    pub seed: u64,
    /// The state the class is read from.
    pub readout: Readout,
    /// Decoupled weight decay.
    pub weight_decay: f32,
    /// The validation share.
    pub validation: f32,
    /// Input noise.
    pub noise: f32,
    /// Time stretch.
    pub stretch: f32,
    /// Series in the training data.
    pub series: usize,
    /// [`fingerprint`] of the training data.
    pub fingerprint: u64,
}

impl RunSettings {
    /// The settings of a run of cell `C` (inputs `I`, hidden `H`, outputs `O`, tape `T`) on
    /// `data` with `classes` classes.
    pub fn new<C, const I: usize, const H: usize, const O: usize, const T: usize>(
        settings: &SeriesTraining,
        classes: usize,
        data: &Prepared<I>,
    ) -> Self
    where
        C: Cell<I, H, O>,
    {
        Self {
            cell: C::KIND,
            inputs: I,
            hidden: H,
            outputs: O,
            steps: T,
            classes,
            batch: settings.batch,
            lr: settings.lr,
            clip: settings.clip,
            seed: settings.seed,
            readout: settings.readout,
            weight_decay: settings.weight_decay,
            validation: settings.validation,
            noise: settings.noise,
            stretch: settings.stretch,
            series: data.labels.len(),
            fingerprint: fingerprint(data),
        }
    }

    /// The first setting in which `self` (a checkpoint's) differs from `given` (a run's), as
    /// its name (the binary's option where there is one, `training data` first) and both
    /// values; `None` if they agree.
    pub fn difference(&self, given: &Self) -> Option<(&'static str, String, String)> {
        type Shown = fn(&RunSettings) -> String;
        let settings: [(&'static str, Shown); 16] = [
            ("training data", |s| {
                format!("{} series, fingerprint {:016x}", s.series, s.fingerprint)
            }),
            ("--cell", |s| s.cell.name().into()),
            ("--hidden", |s| s.hidden.to_string()),
            ("model inputs", |s| s.inputs.to_string()),
            ("model outputs", |s| s.outputs.to_string()),
            ("tape steps", |s| s.steps.to_string()),
            ("classes", |s| s.classes.to_string()),
            ("--batch", |s| s.batch.to_string()),
            ("--lr", |s| s.lr.to_string()),
            ("--clip", |s| s.clip.to_string()),
            ("--seed", |s| s.seed.to_string()),
            ("--readout", |s| s.readout.name().into()),
            ("--weight-decay", |s| s.weight_decay.to_string()),
            ("--val-fraction", |s| s.validation.to_string()),
            ("--noise", |s| s.noise.to_string()),
            ("--stretch", |s| s.stretch.to_string()),
        ];
        settings
            .into_iter()
            .map(|(name, shown)| (name, shown(self), shown(given)))
            .find(|(_, stored, given)| stored != given)
    }
}

/// FNV-1a (64-bit) of a prepared training set: every label and every input value's bits, so a
/// checkpoint refuses another training file (or the same file normalized differently).
pub fn fingerprint<const I: usize>(data: &Prepared<I>) -> u64 {
    let mut hash = super::corpus::extend_fingerprint(
        super::corpus::FINGERPRINT_START,
        &(data.labels.len() as u64).to_le_bytes(),
    );
    for (vectors, &label) in data.vectors.iter().zip(&data.labels) {
        hash = super::corpus::extend_fingerprint(hash, &(label as u64).to_le_bytes());
        hash = super::corpus::extend_fingerprint(hash, &(vectors.len() as u64).to_le_bytes());
        for value in vectors.iter().flatten() {
            hash = super::corpus::extend_fingerprint(hash, &value.to_bits().to_le_bytes());
        }
    }
    hash
}

/// The model of the best validation epoch so far, with its validation metrics.
#[derive(Clone, Debug)]
pub struct Best<C> {
    /// The model after that epoch.
    pub model: Box<C>,
    /// Its metrics on the validation slice.
    pub metrics: Metrics,
    /// The epoch, from 1.
    pub epoch: usize,
}

/// Everything a series run carries from epoch to epoch.
#[derive(Debug)]
pub struct RunState<C> {
    /// The parameters.
    pub model: Box<C>,
    /// Adam's moments and update count.
    pub adam: Box<Adam<C>>,
    /// The generator of the initialization, then of every epoch's shuffle.
    pub shuffle_rng: DefaultRng,
    /// The generator of the input noise.
    pub noise_rng: DefaultRng,
    /// The generator of the time stretch.
    pub stretch_rng: DefaultRng,
    /// The training series (indices into the training part) in the last epoch's order.
    pub order: Vec<usize>,
    /// The best validation epoch's model so far, when a validation slice is held out.
    pub best: Option<Best<C>>,
    /// Epochs done.
    pub epoch: usize,
    /// Seconds spent in the training epochs so far.
    pub seconds: f64,
}

/// Bytes of the settings part (after magic, version and flags).
const SETTINGS_LEN: usize = 6 * 4 + 2 * 4 + 8 + 1 + 4 * 4 + 4 + 8;
/// Bytes of the progress part.
const PROGRESS_LEN: usize = 8 + 8 + 3 * 16 + 8;
/// Bytes before the order: magic, version, flags, settings, progress.
const HEAD_LEN: usize = MAGIC.len() + 4 + SETTINGS_LEN + PROGRESS_LEN;
/// Bytes of the best epoch's metrics.
const METRICS_LEN: usize = 8 + 8 + 8;

/// The length of a checkpoint of a model with `parameters` parameters and `order` series, with
/// or without a best model.
const fn encoded_len(parameters: usize, order: usize, best: bool) -> usize {
    let best_len = if best {
        METRICS_LEN + 4 * parameters
    } else {
        0
    };
    HEAD_LEN + 4 + 4 * order + 8 + best_len + 3 * 4 * parameters + 4
}

/// The longest checkpoint of a model `<I, H, O>` trained on at most `max_series` series.
pub const fn max_len<const I: usize, const H: usize, const O: usize>(max_series: usize) -> usize {
    encoded_len(crate::format::max_parameters::<I, H, O>(), max_series, true)
}

/// Encodes a checkpoint of `state`, a run with `settings`.
///
/// # Errors
/// [`Error::CellMismatch`] if `settings.cell` is not `C`'s; [`Error::InvalidSetting`] for a
/// size that does not fit the format.
pub fn encode<C, const I: usize, const H: usize, const O: usize>(
    settings: &RunSettings,
    state: &RunState<C>,
) -> Result<Vec<u8>, Error>
where
    C: Cell<I, H, O>,
{
    settings.cell.expect(C::KIND)?;
    let len = encoded_len(C::PARAMETER_COUNT, state.order.len(), state.best.is_some());
    let mut out = vec![0u8; len];
    let mut w = ByteWriter::new(&mut out);
    checkpoint::put_head(&mut w, settings.cell, FLAG_SERIES)?;
    for v in [
        settings.inputs,
        settings.hidden,
        settings.outputs,
        settings.steps,
        settings.classes,
        settings.batch,
    ] {
        w.put_size(v)?;
    }
    w.put_f32(settings.lr)?;
    w.put_f32(settings.clip)?;
    w.put_u64(settings.seed)?;
    w.put_u8(match settings.readout {
        Readout::Last => 0,
        Readout::Mean => 1,
    })?;
    for v in [
        settings.weight_decay,
        settings.validation,
        settings.noise,
        settings.stretch,
    ] {
        w.put_f32(v)?;
    }
    w.put_size(settings.series)?;
    w.put_u64(settings.fingerprint)?;
    w.put_u64(state.epoch as u64)?;
    w.put_u64(state.seconds.to_bits())?;
    for rng in [&state.shuffle_rng, &state.noise_rng, &state.stretch_rng] {
        w.put(&rng.state())?;
    }
    w.put_u64(state.adam.steps)?;
    w.put_size(state.order.len())?;
    for &i in &state.order {
        w.put_size(i)?;
    }
    match &state.best {
        Some(best) => {
            w.put_u64(best.epoch as u64)?;
            w.put_u64(best.metrics.total_loss.to_bits())?;
            w.put_u64(best.metrics.correct as u64)?;
            w.put_u64(best.metrics.count as u64)?;
            put_params(&mut w, &*best.model)?;
        }
        None => w.put_u64(0)?,
    }
    for params in [&*state.model, &state.adam.m, &state.adam.v] {
        put_params(&mut w, params)?;
    }
    w.put_u32(crc32(w.written()))?;
    debug_assert_eq!(w.position(), len);
    Ok(out)
}

/// Appends every tensor of `params`.
fn put_params<M: Params>(w: &mut ByteWriter<'_>, params: &M) -> Result<(), Error> {
    for index in 0..M::TENSORS.len() {
        w.put_f32s(params.tensor(index))?;
    }
    Ok(())
}

/// Reads every tensor of `params`.
fn read_params<M: Params>(r: &mut ByteReader<'_>, params: &mut M) -> Result<(), Error> {
    for index in 0..M::TENSORS.len() {
        r.f32s_into(params.tensor_mut(index))?;
    }
    Ok(())
}

/// Reads the settings of a series checkpoint after checking its magic, version, checksum and
/// flags; returns a reader at the progress part.
///
/// # Errors
/// [`Error::NotAModel`], [`Error::UnsupportedVersion`], [`Error::Truncated`],
/// [`Error::ChecksumMismatch`]; [`Error::CorruptModel`] for a language model's checkpoint or
/// a bad field.
fn read_head(bytes: &[u8]) -> Result<(RunSettings, ByteReader<'_>), Error> {
    let flags = checkpoint::check_container(bytes, HEAD_LEN)?;
    if flags & FLAG_SERIES == 0 {
        return Err(Error::CorruptModel(
            "a language model's checkpoint, not a series classifier's",
        ));
    }
    if flags & !(FLAG_SERIES | FLAG_GRU) != 0 {
        return Err(Error::CorruptModel("unknown checkpoint flags"));
    }
    let mut r = ByteReader::at(bytes, MAGIC.len() + 4);
    let (inputs, hidden, outputs, steps, classes, batch) = (
        r.size()?,
        r.size()?,
        r.size()?,
        r.size()?,
        r.size()?,
        r.size()?,
    );
    let (lr, clip, seed) = (r.f32()?, r.f32()?, r.u64()?);
    let readout = match r.u8()? {
        0 => Readout::Last,
        1 => Readout::Mean,
        _ => return Err(Error::CorruptModel("unknown readout")),
    };
    let settings = RunSettings {
        cell: if flags & FLAG_GRU != 0 {
            CellKind::Gru
        } else {
            CellKind::Elman
        },
        inputs,
        hidden,
        outputs,
        steps,
        classes,
        batch,
        lr,
        clip,
        seed,
        readout,
        weight_decay: r.f32()?,
        validation: r.f32()?,
        noise: r.f32()?,
        stretch: r.f32()?,
        series: r.size()?,
        fingerprint: r.u64()?,
    };
    Ok((settings, r))
}

/// The settings of a series checkpoint (checked as [`restore`] checks them, the rest not read).
///
/// # Errors
/// As `restore`, but for what comes after the settings.
pub fn read_settings(bytes: &[u8]) -> Result<RunSettings, Error> {
    read_head(bytes).map(|(settings, _)| settings)
}

/// A generator from a stored state; xoshiro never reaches the all-zero state.
fn generator(r: &mut ByteReader<'_>) -> Result<DefaultRng, Error> {
    let state: [u8; 16] = r.array()?;
    if state == [0; 16] {
        return Err(Error::CorruptModel("RNG state is all zero"));
    }
    Ok(DefaultRng::from_seed(state))
}

/// Restores the run a checkpoint holds, which must have been made with `expected` settings.
///
/// # Errors
/// As [`read_settings`]; [`Error::CellMismatch`] or [`Error::ShapeMismatch`] for a checkpoint
/// of another cell or shape than `C<I, H, O>`; [`Error::InvalidSetting`] if its settings are not
/// `expected` (use [`RunSettings::difference`] to say which); [`Error::CorruptModel`] for an
/// inconsistent part (an order that is not a permutation, a best epoch after the last one, …);
/// [`Error::Truncated`] for a short file.
pub fn restore<C, const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
    expected: &RunSettings,
) -> Result<RunState<C>, Error>
where
    C: Cell<I, H, O> + Zeroable,
    Adam<C>: Zeroable,
{
    let (settings, mut r) = read_head(bytes)?;
    settings.cell.expect(C::KIND)?;
    if (settings.inputs, settings.hidden, settings.outputs) != (I, H, O) {
        return Err(Error::ShapeMismatch {
            found: (settings.inputs, settings.hidden, settings.outputs),
            expected: (I, H, O),
        });
    }
    if settings != *expected {
        return Err(Error::InvalidSetting(
            "the checkpoint was made with other settings or another training file",
        ));
    }
    let epoch = usize::try_from(r.u64()?).map_err(|_| Error::CorruptModel("epoch too large"))?;
    let seconds = f64::from_bits(r.u64()?);
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(Error::CorruptModel("seconds are not a time"));
    }
    let (shuffle_rng, noise_rng, stretch_rng) =
        (generator(&mut r)?, generator(&mut r)?, generator(&mut r)?);
    let steps = r.u64()?;
    let count = r.size()?;
    if count > settings.series {
        return Err(Error::CorruptModel(
            "more series in the order than the data",
        ));
    }
    // Each entry takes 4 bytes: a count the file cannot hold allocates nothing (found by
    // fuzzing: a count of billions asked for gigabytes before the first entry was read).
    if count > bytes.len().saturating_sub(r.position()) / 4 {
        return Err(Error::CorruptModel("the order is longer than the file"));
    }
    let mut order = Vec::with_capacity(count);
    let mut seen = vec![false; count];
    for _ in 0..count {
        let i = r.size()?;
        match seen.get_mut(i) {
            Some(slot) if !*slot => *slot = true,
            _ => return Err(Error::CorruptModel("the order is not a permutation")),
        }
        order.push(i);
    }
    let best_epoch =
        usize::try_from(r.u64()?).map_err(|_| Error::CorruptModel("epoch too large"))?;
    let best = if best_epoch == 0 {
        None
    } else {
        if best_epoch > epoch {
            return Err(Error::CorruptModel("the best epoch is after the last one"));
        }
        let total_loss = f64::from_bits(r.u64()?);
        let (correct, count) = (r.u64()?, r.u64()?);
        let (Ok(correct), Ok(count)) = (usize::try_from(correct), usize::try_from(count)) else {
            return Err(Error::CorruptModel("metrics too large"));
        };
        if correct > count || !total_loss.is_finite() {
            return Err(Error::CorruptModel("inconsistent validation metrics"));
        }
        let mut model = zeroed::<C>();
        read_params(&mut r, &mut *model)?;
        Some(Best {
            model,
            metrics: Metrics {
                total_loss,
                correct,
                count,
            },
            epoch: best_epoch,
        })
    };
    let mut model = zeroed::<C>();
    read_params(&mut r, &mut *model)?;
    let mut adam = zeroed::<Adam<C>>();
    adam.init(settings.lr);
    read_params(&mut r, &mut adam.m)?;
    read_params(&mut r, &mut adam.v)?;
    adam.steps = steps;
    if r.position() + 4 != bytes.len() {
        return Err(Error::CorruptModel("trailing bytes"));
    }
    Ok(RunState {
        model,
        adam,
        shuffle_rng,
        noise_rng,
        stretch_rng,
        order,
        best,
        epoch,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gru;

    type Small = Gru<2, 3, 2>;

    /// A run of `Small` with a best model, and its settings.
    fn run() -> (RunSettings, RunState<Small>) {
        let settings = RunSettings {
            cell: CellKind::Gru,
            inputs: 2,
            hidden: 3,
            outputs: 2,
            steps: 8,
            classes: 2,
            batch: 2,
            lr: 0.01,
            clip: 5.0,
            seed: 7,
            readout: Readout::Mean,
            weight_decay: 0.1,
            validation: 0.25,
            noise: 0.2,
            stretch: 0.2,
            series: 4,
            fingerprint: 0x1234,
        };
        let mut model = zeroed::<Small>();
        let mut rng = DefaultRng::seed_from_u64(3);
        model.init_uniform(&mut rng);
        let mut adam = zeroed::<Adam<Small>>();
        adam.init(settings.lr);
        adam.steps = 6;
        adam.m.b_y[1] = 0.5;
        adam.v.w_hy[1][2] = 0.25;
        let mut best = zeroed::<Small>();
        best.b_y[0] = -1.5;
        let state = RunState {
            model,
            adam,
            shuffle_rng: rng,
            noise_rng: DefaultRng::seed_from_u64(4),
            stretch_rng: DefaultRng::seed_from_u64(5),
            order: vec![2, 0, 1],
            best: Some(Best {
                model: best,
                metrics: Metrics {
                    total_loss: 0.75,
                    correct: 1,
                    count: 1,
                },
                epoch: 2,
            }),
            epoch: 3,
            seconds: 1.25,
        };
        (settings, state)
    }

    /// Rewrites the CRC-32 at the end after an edit.
    fn reseal(bytes: &mut [u8]) {
        let end = bytes.len() - 4;
        let crc = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }

    #[test]
    fn a_run_restores_as_it_was_and_encodes_to_the_same_bytes() {
        let (settings, state) = run();
        let bytes = encode::<Small, 2, 3, 2>(&settings, &state).unwrap();
        assert_eq!(read_settings(&bytes).unwrap(), settings);
        let restored = restore::<Small, 2, 3, 2>(&bytes, &settings).unwrap();
        assert_eq!(*restored.model, *state.model);
        assert_eq!(*restored.adam, *state.adam);
        assert_eq!(restored.order, state.order);
        assert_eq!((restored.epoch, restored.seconds), (3, 1.25));
        let best = restored.best.as_ref().unwrap();
        assert_eq!((best.epoch, best.metrics.total_loss), (2, 0.75));
        assert_eq!(*best.model, *state.best.as_ref().unwrap().model);
        assert_eq!(
            encode::<Small, 2, 3, 2>(&settings, &restored).unwrap(),
            bytes
        );
        // Another cell or shape is refused.
        let elman = restore::<crate::Rnn<2, 3, 2>, 2, 3, 2>(&bytes, &settings);
        assert!(matches!(elman, Err(Error::CellMismatch { .. })));
        let wider = restore::<Gru<2, 4, 2>, 2, 4, 2>(&bytes, &settings);
        assert!(matches!(wider, Err(Error::ShapeMismatch { .. })));
    }

    /// Fuzzing found an order count of billions, which allocated gigabytes before reading the
    /// first entry; a count longer than the file is refused now.
    #[test]
    fn an_order_longer_than_the_file_is_refused_before_allocating() {
        let (mut settings, state) = run();
        settings.series = u32::MAX as usize;
        let mut bytes = encode::<Small, 2, 3, 2>(&settings, &state).unwrap();
        let at = HEAD_LEN;
        assert_eq!(bytes[at..at + 4], 3u32.to_le_bytes(), "the order's count");
        bytes[at..at + 4].copy_from_slice(&(u32::MAX - 1).to_le_bytes());
        reseal(&mut bytes);
        // (Reading the entries would end in `Truncated` too, but only after the allocation.)
        assert_eq!(
            restore::<Small, 2, 3, 2>(&bytes, &settings).err(),
            Some(Error::CorruptModel("the order is longer than the file"))
        );
    }
}
