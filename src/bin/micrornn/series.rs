//! What the sensor-series commands share: the compiled shapes of a series classifier (one
//! channel bucket, one class bucket, [`SERIES_HIDDEN`] × both cells), the dispatch onto them,
//! reading a series file within them, and a series model file decoded with its normalization,
//! readout and names.

use crate::{Fail, show};
use micrornn::classify::{self, Prediction};
use micrornn::format::{self, Header, VocabKind};
use micrornn::host::series::{self, Limits, SeriesSet};
use micrornn::model::QTensors;
use micrornn::model::normalize::Normalization;
use micrornn::workflows::quantized;
use micrornn::{
    Cell, CharVocab, DefaultRng, Gru, Infer, Input, QGru, QRnn, Readout, Rnn, Sequence, Zeroable,
    qformat,
};
use std::path::Path;

/// Input channels compiled in (a file's channels beyond it are refused; unused inputs stay 0).
pub const SERIES_INPUTS: usize = 16;

/// Outputs compiled in (a file's classes beyond it are refused; unused outputs are masked).
pub const SERIES_CLASSES: usize = 16;

/// Hidden sizes compiled in for series models, for each cell.
pub const SERIES_HIDDEN: [usize; 3] = [16, 32, 64];

/// Longest training series (the training tape's length).
pub const MAX_TRAIN_STEPS: usize = 512;

/// What `train` reads: the compiled buckets, series up to [`MAX_TRAIN_STEPS`].
pub const TRAIN_LIMITS: Limits = Limits {
    channels: SERIES_INPUTS,
    classes: SERIES_CLASSES,
    steps: MAX_TRAIN_STEPS,
    bytes: 64 << 20,
};

/// What `eval` and `classify` read: inference has no tape, so longer series are fine.
pub const RUN_LIMITS: Limits = Limits {
    steps: 1 << 16,
    ..TRAIN_LIMITS
};

/// Whether `path` names a series file (`.ts` or `.csv`, any case) rather than a text.
pub fn is_series_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("ts") || e.eq_ignore_ascii_case("csv"))
}

/// Reads a series file within `limits`; errors are the reader's one line (file and line).
pub fn read(path: &Path, limits: &Limits) -> Result<SeriesSet, Fail> {
    series::read(path, limits).map_err(|e| Fail::new(e.to_string()))
}

/// A cell the binary trains on series: its initialization and its Rust type's name.
pub trait SeriesCell {
    /// The type's name (`Rnn`, `Gru`), for the firmware's declaration.
    const TYPE_NAME: &'static str;
    /// The cell's uniform initialization (as PyTorch's).
    fn init(model: &mut Self, rng: &mut DefaultRng);
}

impl<const H: usize> SeriesCell for Rnn<SERIES_INPUTS, H, SERIES_CLASSES> {
    const TYPE_NAME: &'static str = "Rnn";
    fn init(model: &mut Self, rng: &mut DefaultRng) {
        model.init_uniform(rng);
    }
}

impl<const H: usize> SeriesCell for Gru<SERIES_INPUTS, H, SERIES_CLASSES> {
    const TYPE_NAME: &'static str = "Gru";
    fn init(model: &mut Self, rng: &mut DefaultRng) {
        model.init_uniform(rng);
    }
}

/// Calls `$f::<C, H>$args` for a compiled (cell, hidden size) pair, `C` the cell's type in the
/// series buckets, or evaluates to an error for any other.
macro_rules! dispatch_series {
    ($cell:expr, $hidden:expr, $f:ident $args:tt) => {{
                use $crate::series::{SERIES_CLASSES as O, SERIES_INPUTS as I};
        match ($cell, $hidden) {
            (micrornn::model::CellKind::Elman, 16) => $f::<micrornn::Rnn<I, 16, O>, 16> $args,
            (micrornn::model::CellKind::Elman, 32) => $f::<micrornn::Rnn<I, 32, O>, 32> $args,
            (micrornn::model::CellKind::Elman, 64) => $f::<micrornn::Rnn<I, 64, O>, 64> $args,
            (micrornn::model::CellKind::Gru, 16) => $f::<micrornn::Gru<I, 16, O>, 16> $args,
            (micrornn::model::CellKind::Gru, 32) => $f::<micrornn::Gru<I, 32, O>, 32> $args,
            (micrornn::model::CellKind::Gru, 64) => $f::<micrornn::Gru<I, 64, O>, 64> $args,
            (_, other) => Err($crate::Fail::new(format!(
                "hidden size {other} is not compiled in for series models; choose one of {}",
                $crate::list(&$crate::series::SERIES_HIDDEN)
            ))),
        }
    }};
}
pub(crate) use dispatch_series;

/// Whether a model file holds a series classifier (dense inputs).
pub fn is_series_model(header: &Header) -> bool {
    header.vocab_kind == VocabKind::Dense
}

/// Checks that a series model's shape is one this binary compiles.
pub fn check_shape(path: &Path, header: &Header) -> Result<(), Fail> {
    if header.inputs != SERIES_INPUTS
        || header.outputs != SERIES_CLASSES
        || !SERIES_HIDDEN.contains(&header.hidden)
    {
        return Err(Fail::new(format!(
            "model {}: shape (inputs {}, hidden {}, outputs {}) is not compiled into this binary \
             (series models: {SERIES_INPUTS} inputs, {SERIES_CLASSES} outputs, hidden {})",
            show(path),
            header.inputs,
            header.hidden,
            header.outputs,
            crate::list(&SERIES_HIDDEN),
        )));
    }
    Ok(())
}

/// A series classifier decoded from a model file.
pub struct SeriesModel<C> {
    /// The model, on the heap.
    pub model: Box<C>,
    /// Live classes.
    pub classes: usize,
    /// One name per class.
    pub class_names: Vec<String>,
    /// One name per input channel of the training file.
    pub channel_names: Vec<String>,
    /// The training set's normalization of the inputs.
    pub normalization: Normalization<SERIES_INPUTS>,
    /// The readout it was trained with (metadata `readout`; `last` when absent).
    pub readout: Readout,
}

/// Decodes a series classifier of cell `C` from checked bytes.
pub fn decode<C, const H: usize>(path: &Path, bytes: &[u8]) -> Result<SeriesModel<C>, Fail>
where
    C: Cell<SERIES_INPUTS, H, SERIES_CLASSES> + Zeroable,
{
    let bad = |e: &dyn std::fmt::Display| Fail::new(format!("model {}: {e}", show(path)));
    let mut model = micrornn::boxed_zeroed::<C>();
    let decoded = format::decode_contents(
        bytes,
        &mut *model,
        &mut CharVocab::<0>::new(),
        &mut [0.0f32; H],
    )
    .map_err(|e| bad(&e))?;
    let normalization = decoded
        .normalization::<SERIES_INPUTS>()
        .ok_or_else(|| bad(&"no input normalization"))?;
    let readout = readout_of(path, &decoded.metadata)?;
    Ok(SeriesModel {
        model,
        classes: decoded.header.classes,
        class_names: decoded.class_names.iter().map(str::to_string).collect(),
        channel_names: decoded.channels.iter().map(str::to_string).collect(),
        normalization,
        readout,
    })
}

impl<C> SeriesModel<C> {
    /// Reads a series file for this model: the same channel count, its classes mapped onto the
    /// model's (a class the model does not know is an error naming it).
    pub fn read_set(&self, path: &Path) -> Result<SeriesSet, Fail> {
        let set = read(path, &RUN_LIMITS)?;
        if set.channels != self.channel_names.len() {
            return Err(Fail::new(format!(
                "{}: {} channels, but the model was trained on {} ({})",
                show(path),
                set.channels,
                self.channel_names.len(),
                self.channel_names.join(", ")
            )));
        }
        set.with_classes(&self.class_names, &show(path))
            .map_err(|e| {
                Fail::new(format!(
                    "{e} (the model's classes: {})",
                    self.class_names.join(", ")
                ))
            })
    }
}

/// What a stream calls after every sample: the step (from 1) and the live class probabilities.
pub type Emit<'a> = dyn FnMut(usize, &[f32]) -> Result<(), Fail> + 'a;

/// A series classifier the commands run: an f32 cell, fed normalized samples, or an int8 cell
/// of a `.q8` file, fed raw samples (it normalizes them itself: its [`SeriesModel`] carries the
/// identity normalization).
pub trait SeriesPredict {
    /// The class of a whole series (see [`classify::predict`], [`quantized::predict`]).
    fn predict(
        &self,
        vectors: &[[f32; SERIES_INPUTS]],
        classes: usize,
        readout: Readout,
    ) -> Result<Prediction<SERIES_CLASSES>, micrornn::Error>;

    /// Feeds `vectors` one at a time from the zero state and calls `emit` with the step (from 1)
    /// and the live class probabilities read as `readout` reads them after that step.
    fn stream(
        &self,
        vectors: &[[f32; SERIES_INPUTS]],
        classes: usize,
        readout: Readout,
        emit: &mut Emit<'_>,
    ) -> Result<(), Fail>;
}

/// `SeriesPredict` for a cell: `$predict` over the whole series, `$stream` sample by sample.
macro_rules! series_predict {
    ($cell:ident, $predict:path, $($stream:ident)::+) => {
        impl<const H: usize> SeriesPredict for $cell<SERIES_INPUTS, H, SERIES_CLASSES> {
            fn predict(
                &self,
                vectors: &[[f32; SERIES_INPUTS]],
                classes: usize,
                readout: Readout,
            ) -> Result<Prediction<SERIES_CLASSES>, micrornn::Error> {
                $predict(self, Sequence::Dense(vectors), classes, readout)
            }

            fn stream(
                &self,
                vectors: &[[f32; SERIES_INPUTS]],
                classes: usize,
                readout: Readout,
                emit: &mut Emit<'_>,
            ) -> Result<(), Fail> {
                $($stream)::+::<Self, H>(self, vectors, classes, readout, emit)
            }
        }
    };
}
series_predict!(Rnn, classify::predict, stream_float);
series_predict!(Gru, classify::predict, stream_float);
series_predict!(QRnn, quantized::predict, stream_quantized);
series_predict!(QGru, quantized::predict, stream_quantized);

/// Feeds `vectors` (normalized samples) one at a time from the zero state and calls `emit` with
/// the step (from 1) and the live class probabilities read as `readout` reads them after that
/// step (the last state, or the mean of the states so far).
fn stream_float<C, const H: usize>(
    model: &C,
    vectors: &[[f32; SERIES_INPUTS]],
    classes: usize,
    readout: Readout,
    emit: &mut Emit<'_>,
) -> Result<(), Fail>
where
    C: Cell<SERIES_INPUTS, H, SERIES_CLASSES>,
{
    let (mut hidden, mut sum) = ([0.0f32; H], [0.0f32; H]);
    for (t, vector) in vectors.iter().enumerate() {
        model
            .step(Input::Dense(vector), &mut hidden)
            .map_err(|e| Fail::new(e.to_string()))?;
        let read = match readout {
            Readout::Last => hidden,
            Readout::Mean => {
                for (s, h) in sum.iter_mut().zip(&hidden) {
                    *s += h;
                }
                let scale = 1.0 / (t + 1) as f32;
                sum.map(|s| s * scale)
            }
        };
        let mut logits = [0.0f32; SERIES_CLASSES];
        model.logits(&read, &mut logits);
        emit(t + 1, &softmax(&logits[..classes.min(SERIES_CLASSES)]))?;
    }
    Ok(())
}

/// The softmax of `logits` (shifted by their maximum).
fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|z| (z - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// Feeds a quantized series classifier `vectors` (raw samples) one at a time from the zero
/// state and calls `emit` after each with the live class probabilities read as `readout` reads
/// them: [`SeriesPredict::stream`] of either int8 cell.
fn stream_quantized<Q, const H: usize>(
    model: &Q,
    vectors: &[[f32; SERIES_INPUTS]],
    classes: usize,
    readout: Readout,
    emit: &mut Emit<'_>,
) -> Result<(), Fail>
where
    Q: Infer<
            SERIES_INPUTS,
            Hidden = [i16; H],
            Logits = [i16; SERIES_CLASSES],
            RealLogits = [f32; SERIES_CLASSES],
        >,
{
    let (mut hidden, mut sum) = ([0i16; H], [0i64; H]);
    for (t, vector) in vectors.iter().enumerate() {
        model
            .step(Input::Dense(vector), &mut hidden)
            .map_err(|e| Fail::new(e.to_string()))?;
        let steps = (t + 1) as i64;
        for (s, &h) in sum.iter_mut().zip(&hidden) {
            *s += i64::from(h);
        }
        let read = match readout {
            Readout::Last => hidden,
            Readout::Mean => quantized::mean_q15(&sum, steps),
        };
        let mut logits = [0i16; SERIES_CLASSES];
        model.logits(&read, &mut logits);
        let mut real = [0.0f32; SERIES_CLASSES];
        let real = model.real_logits(&logits, &mut real);
        emit(t + 1, &softmax(&real[..classes.min(SERIES_CLASSES)]))?;
    }
    Ok(())
}

/// An int8 series cell with `H` hidden units: the quantized twin of a float series cell, read
/// from and written to a `.q8` file (both take raw samples: the normalization is inside).
pub trait QuantizedSeries<const H: usize>:
    QTensors<SERIES_INPUTS> + SeriesPredict + Zeroable
{
    /// The float cell it quantizes.
    type Float: Cell<SERIES_INPUTS, H, SERIES_CLASSES> + Zeroable;
    /// The type's name (`QRnn`, `QGru`), for the firmware's declaration.
    const TYPE_NAME: &'static str;
    /// The firmware's compile-time decoder of it.
    const DECODER: &'static str;
    /// Post-training quantization of `float` in place (`QRnn::quantize_dense_from`,
    /// `QGru::quantize_from`), calibrated on `calibration` (normalized series, each from the
    /// zero state) when given.
    fn quantize_from(
        &mut self,
        float: &Self::Float,
        normalization: &Normalization<SERIES_INPUTS>,
        calibration: Option<&[Sequence<'_, SERIES_INPUTS>]>,
    ) -> Result<(), micrornn::Error>;
}

macro_rules! quantized_series {
    ($cell:ident, $float:ident, $quantize:ident, $decoder:literal) => {
        impl<const H: usize> QuantizedSeries<H> for $cell<SERIES_INPUTS, H, SERIES_CLASSES> {
            type Float = $float<SERIES_INPUTS, H, SERIES_CLASSES>;
            const TYPE_NAME: &'static str = stringify!($cell);
            const DECODER: &'static str = $decoder;
            fn quantize_from(
                &mut self,
                float: &Self::Float,
                normalization: &Normalization<SERIES_INPUTS>,
                calibration: Option<&[Sequence<'_, SERIES_INPUTS>]>,
            ) -> Result<(), micrornn::Error> {
                let start = [0.0f32; H];
                let calibration = calibration.map(|sequences| (&start, sequences));
                self.$quantize(float, normalization, calibration)
            }
        }
    };
}
quantized_series!(QRnn, Rnn, quantize_dense_from, "qformat::decode_const");
quantized_series!(QGru, Gru, quantize_from, "qformat::decode_gru_const");

/// The readout a model file's metadata names (`last` when absent).
fn readout_of(path: &Path, metadata: &format::Metadata<'_>) -> Result<Readout, Fail> {
    match metadata.get("readout") {
        None => Ok(Readout::Last),
        Some(name) => Readout::from_name(name).ok_or_else(|| {
            Fail::new(format!(
                "model {}: unknown readout {name:?} in the metadata",
                show(path)
            ))
        }),
    }
}

/// Decodes a quantized series classifier (a `.q8` file of either int8 cell). Its
/// normalization is inside the model, so the [`SeriesModel`]'s is the identity: the commands
/// feed it raw samples.
pub fn decode_quantized<Q: QuantizedSeries<H>, const H: usize>(
    path: &Path,
    bytes: &[u8],
) -> Result<SeriesModel<Q>, Fail> {
    let bad = |e: &dyn std::fmt::Display| Fail::new(format!("model {}: {e}", show(path)));
    let mut model = micrornn::boxed_zeroed::<Q>();
    let decoded = qformat::decode_contents(
        bytes,
        &mut *model,
        &mut CharVocab::<0>::new(),
        &mut [0i16; H],
    )
    .map_err(|e| bad(&e))?;
    Ok(SeriesModel {
        model,
        classes: decoded.header.classes,
        class_names: decoded.class_names.iter().map(str::to_string).collect(),
        channel_names: decoded.channels.iter().map(str::to_string).collect(),
        normalization: Normalization::IDENTITY,
        readout: readout_of(path, &decoded.metadata)?,
    })
}

/// Calls `$f::<Q, H>$args` for a compiled (cell, hidden size) pair of a quantized series file,
/// `Q` the int8 cell's type, or evaluates to an error for any other.
macro_rules! dispatch_quantized_series {
    ($header:expr, $f:ident $args:tt) => {{
        use $crate::series::{SERIES_CLASSES as O, SERIES_INPUTS as I};
        use micrornn::model::CellKind;
        match ($header.cell, $header.hidden) {
            (CellKind::Elman, 16) => $f::<micrornn::QRnn<I, 16, O>, 16> $args,
            (CellKind::Elman, 32) => $f::<micrornn::QRnn<I, 32, O>, 32> $args,
            (CellKind::Elman, 64) => $f::<micrornn::QRnn<I, 64, O>, 64> $args,
            (CellKind::Gru, 16) => $f::<micrornn::QGru<I, 16, O>, 16> $args,
            (CellKind::Gru, 32) => $f::<micrornn::QGru<I, 32, O>, 32> $args,
            (CellKind::Gru, 64) => $f::<micrornn::QGru<I, 64, O>, 64> $args,
            (_, other) => Err($crate::Fail::new(format!(
                "hidden size {other} is not compiled in for series models; choose one of {}",
                $crate::list(&$crate::series::SERIES_HIDDEN)
            ))),
        }
    }};
}
pub(crate) use dispatch_quantized_series;
