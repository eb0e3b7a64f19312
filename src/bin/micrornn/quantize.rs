//! `micrornn quantize`: a trained f32 model file to a quantized one (int8 weights, Q15 state;
//! `micrornn::qformat`), and `sample`/`eval` on quantized files.

use crate::series::QuantizedSeries;
use crate::{EvalArgs, Fail, Outcome, SampleArgs, dispatch, limits, show};
use clap::Args;
use micrornn::format::Contents;
use micrornn::format::{self, Header};
use micrornn::host::bounded::BoundedFile;
use micrornn::host::model_file::{self, ModelFileError};
use micrornn::host::series_training::Prepared;
use micrornn::host::{atomic, corpus};
use micrornn::model::CellKind;
use micrornn::workflows::quantized;
use micrornn::{
    CharVocab, DefaultRng, Generator, Gru, Infer, QGru, QRnn, Rnn, Sampling, Sequence, qformat,
};
use rand_core::SeedableRng;
use std::path::{Path, PathBuf};

/// `micrornn quantize`.
#[derive(Args)]
pub struct QuantizeArgs {
    /// Model file written by `micrornn train`.
    pub model: PathBuf,
    /// Where to write the quantized model.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// UTF-8 text to calibrate the logit scale on (the model's logits over it); for a series
    /// classifier, its training series (.ts or .csv) [default: the worst-case bound from the
    /// weights].
    #[arg(long, value_name = "FILE")]
    pub calibrate: Option<PathBuf>,
}

/// Reads a model file (at most [`limits::model_file`] bytes, its head first); a message naming
/// it on failure.
fn read(path: &Path) -> Result<Vec<u8>, Fail> {
    BoundedFile::open(path, limits::model_file())
        .map_err(ModelFileError::Io)
        .and_then(|mut file| model_file::read_at_most(&mut file))
        .map_err(|e| Fail::new(format!("model {}: {e}", show(path))))
}

/// Token ids of a text; a message naming the first character the vocabulary lacks.
fn encode_text<const V: usize>(vocab: &CharVocab<V>, path: &Path) -> Result<Vec<usize>, Fail> {
    let text = corpus::read_text(path).map_err(|e| Fail::new(format!("{}: {e}", show(path))))?;
    let mut ids = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let id = vocab.encode(c).map_err(|_| {
            let (line, column) = corpus::position_of_char(&text, i);
            Fail::new(format!(
                "{}: character {c:?} (line {line}, column {column}) is not in the model's vocabulary",
                show(path)
            ))
        })?;
        ids.push(id);
    }
    Ok(ids)
}

/// Checks that a shape is one this binary compiles (inputs = outputs, a known bucket).
fn check_shape(path: &Path, header: &Header) -> Result<(), Fail> {
    if header.inputs != header.outputs
        || !crate::VOCAB_BUCKETS.contains(&header.inputs)
        || !crate::HIDDEN_SIZES.contains(&header.hidden)
    {
        return Err(Fail::new(format!(
            "model {}: shape (inputs {}, hidden {}, outputs {}) is not compiled into this binary",
            show(path),
            header.inputs,
            header.hidden,
            header.outputs
        )));
    }
    Ok(())
}

/// Runs `micrornn quantize`.
pub fn run(args: &QuantizeArgs) -> Result<Outcome, Fail> {
    let bytes = read(&args.model)?;
    if qformat::is_quantized(&bytes) {
        return Err(Fail::new(format!(
            "model {} is already quantized",
            show(&args.model)
        )));
    }
    let header =
        Header::read(&bytes).map_err(|e| Fail::new(format!("model {}: {e}", show(&args.model))))?;
    if crate::series::is_series_model(&header) {
        crate::series::check_shape(&args.model, &header)?;
        crate::series::dispatch_quantized_series!(header, quantize_series(args, &bytes))?;
        return Ok(Outcome::Done);
    }
    check_shape(&args.model, &header)?;
    if header.vocab_kind != format::VocabKind::Chars {
        return Err(Fail::new(format!(
            "model {}: quantize takes character language models and series classifiers (a \
             word classifier is not supported)",
            show(&args.model)
        )));
    }
    match header.cell {
        CellKind::Gru => dispatch!(header.hidden, header.inputs, quantize_gru(args, &bytes))?,
        _ => dispatch!(header.hidden, header.inputs, quantize_model(args, &bytes))?,
    }
    Ok(Outcome::Done)
}

fn quantize_model<const V: usize, const H: usize>(
    args: &QuantizeArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    let model_error = |e: micrornn::Error| Fail::new(format!("model {}: {e}", show(&args.model)));
    let mut model = Rnn::<V, H, V>::boxed_zero();
    let mut vocab = CharVocab::<V>::new();
    let mut stored_state = [0.0f32; H];
    let header =
        format::decode(bytes, &mut *model, &mut vocab, &mut stored_state).map_err(model_error)?;
    let calibration = match &args.calibrate {
        Some(path) => Some(encode_text(&vocab, path)?),
        None => None,
    };
    let mut q = micrornn::boxed_zeroed::<QRnn<V, H, V>>();
    q.quantize_from(&model, calibration.as_deref())
        .map_err(model_error)?;
    let mut out = vec![0u8; qformat::encoded_len::<V, H, V>()];
    let state = QRnn::<V, H, V>::quantize_state(&stored_state);
    qformat::encode(&q, &vocab, header.classes, &state, &mut out).map_err(model_error)?;
    atomic::write(&args.out, &out).map_err(|e| Fail::new(format!("{}: {e}", show(&args.out))))?;
    println!(
        "quantized {} (hidden {H}, {} classes): {} -> {} bytes, logit scale {:e}{}; wrote {}",
        show(&args.model),
        header.classes,
        bytes.len(),
        out.len(),
        q.logit_scale,
        calibration.map_or(String::new(), |c| format!(
            " (calibrated on {} chars)",
            c.len()
        )),
        show(&args.out)
    );
    println!("{}", crate::rust_type("QRnn", V, H, header.vocab_len));
    Ok(())
}

/// `micrornn quantize` on a GRU character model: an int8 GRU, written as a version-3 `.q8`
/// file with its vocabulary, metadata and stored state (rounded to Q15).
fn quantize_gru<const V: usize, const H: usize>(
    args: &QuantizeArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    let model_error = |e: micrornn::Error| Fail::new(format!("model {}: {e}", show(&args.model)));
    let mut gru = micrornn::boxed_zeroed::<Gru<V, H, V>>();
    let mut vocab = CharVocab::<V>::new();
    let mut stored_state = [0.0f32; H];
    let decoded = format::decode_contents(bytes, &mut *gru, &mut vocab, &mut stored_state)
        .map_err(model_error)?;
    let calibration = match &args.calibrate {
        Some(path) => Some(encode_text(&vocab, path)?),
        None => None,
    };
    let sequences: Vec<Sequence<'_, V>> = calibration
        .iter()
        .map(|ids| Sequence::Tokens(ids))
        .collect();
    let mut q = micrornn::boxed_zeroed::<QGru<V, H, V>>();
    q.quantize_from(
        &gru,
        &micrornn::model::normalize::Normalization::IDENTITY,
        calibration
            .as_ref()
            .map(|_| (&stored_state, &sequences[..])),
    )
    .map_err(model_error)?;
    let classes = decoded.header.classes;
    let contents = Contents {
        initial_hidden: Some(&stored_state),
        metadata: decoded.metadata.as_str(),
        ..Contents::language_model(vocab.chars(), classes)
    };
    let mut out = vec![0u8; qformat::encoded_len_contents::<QGru<V, H, V>, V, H>(&contents)];
    qformat::encode_contents(&*q, &contents, &mut out).map_err(model_error)?;
    atomic::write(&args.out, &out).map_err(|e| Fail::new(format!("{}: {e}", show(&args.out))))?;
    println!(
        "quantized {} (GRU, hidden {H}, {classes} classes): {} -> {} bytes, logit scale {:e}{}; \
         wrote {}",
        show(&args.model),
        bytes.len(),
        out.len(),
        q.logit_scale,
        calibration.map_or(String::new(), |c| format!(
            " (calibrated on {} chars)",
            c.len()
        )),
        show(&args.out)
    );
    println!(
        "{}",
        crate::rust_type("QGru", V, H, decoded.header.vocab_len)
    );
    Ok(())
}

/// `micrornn quantize` on a series classifier of either cell: its int8 twin `Q` with the
/// model's normalization inside, written as a version-3 `.q8` file with the channel and class
/// names and the readout.
fn quantize_series<Q: QuantizedSeries<H>, const H: usize>(
    args: &QuantizeArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    use crate::series::{SERIES_CLASSES as O, SERIES_INPUTS as I};
    let model = crate::series::decode::<Q::Float, H>(&args.model, bytes)?;
    let model_error = |e: micrornn::Error| Fail::new(format!("model {}: {e}", show(&args.model)));
    let calibration = match &args.calibrate {
        Some(path) => {
            let set = model.read_set(path)?;
            Some(Prepared::new(&set, &model.normalization))
        }
        None => None,
    };
    let sequences: Vec<Sequence<'_, I>> = calibration
        .iter()
        .flat_map(|data| data.vectors.iter().map(|v| Sequence::Dense(v)))
        .collect();
    let mut q = micrornn::boxed_zeroed::<Q>();
    q.quantize_from(
        &model.model,
        &model.normalization,
        calibration.as_ref().map(|_| &sequences[..]),
    )
    .map_err(model_error)?;
    let channels = model.channel_names.len();
    let channel_names: Vec<&str> = model.channel_names.iter().map(String::as_str).collect();
    let class_names: Vec<&str> = model.class_names.iter().map(String::as_str).collect();
    let metadata = format!("readout={}", model.readout.name());
    let contents = Contents {
        metadata: &metadata,
        ..Contents::sensor_classifier(
            &channel_names,
            &model.normalization.mean[..channels.min(I)],
            &model.normalization.std[..channels.min(I)],
            &class_names,
        )
    };
    let mut out = vec![0u8; qformat::encoded_len_contents::<Q, I, H>(&contents)];
    qformat::encode_contents(&*q, &contents, &mut out).map_err(model_error)?;
    atomic::write(&args.out, &out).map_err(|e| Fail::new(format!("{}: {e}", show(&args.out))))?;
    println!(
        "quantized {} ({} series classifier, hidden {H}, {channels} channels, {} classes): {} \
         -> {} bytes, logit scale {:e}{}; wrote {}",
        show(&args.model),
        Q::KIND.name(),
        model.classes,
        bytes.len(),
        out.len(),
        q.logit_scale(),
        if sequences.is_empty() {
            String::new()
        } else {
            format!(" (calibrated on {} series)", sequences.len())
        },
        show(&args.out)
    );
    println!(
        "firmware type: {}<{I}, {H}, {O}> ({})",
        Q::TYPE_NAME,
        Q::DECODER
    );
    Ok(())
}

/// A quantized model decoded from `bytes`, on the heap, with its vocabulary, classes and the
/// state to start from.
struct Loaded<M, const V: usize, const H: usize> {
    q: Box<M>,
    vocab: CharVocab<V>,
    classes: usize,
    /// The file's stored state, or zeros with `--zero-state` (or a version-1 file).
    hidden: [i16; H],
}

/// A quantized character model of either cell, read by [`decode`].
trait QuantizedLm<const V: usize, const H: usize>:
    Infer<V, Hidden = [i16; H], Logits = [i16; V], RealLogits = [f32; V]> + Sized
{
    /// Decodes the model, its vocabulary and stored state; returns the live classes.
    fn decode_into(
        bytes: &[u8],
        vocab: &mut CharVocab<V>,
        hidden: &mut [i16; H],
    ) -> Result<(Box<Self>, usize), micrornn::Error>;
}

impl<const V: usize, const H: usize> QuantizedLm<V, H> for QRnn<V, H, V> {
    fn decode_into(
        bytes: &[u8],
        vocab: &mut CharVocab<V>,
        hidden: &mut [i16; H],
    ) -> Result<(Box<Self>, usize), micrornn::Error> {
        let mut q = micrornn::boxed_zeroed::<Self>();
        let header = qformat::decode(bytes, &mut q, vocab, hidden)?;
        Ok((q, header.classes))
    }
}

impl<const V: usize, const H: usize> QuantizedLm<V, H> for QGru<V, H, V> {
    fn decode_into(
        bytes: &[u8],
        vocab: &mut CharVocab<V>,
        hidden: &mut [i16; H],
    ) -> Result<(Box<Self>, usize), micrornn::Error> {
        let mut q = micrornn::boxed_zeroed::<Self>();
        let decoded = qformat::decode_contents(bytes, &mut *q, vocab, hidden)?;
        Ok((q, decoded.header.classes))
    }
}

fn decode<M: QuantizedLm<V, H>, const V: usize, const H: usize>(
    path: &Path,
    bytes: &[u8],
    zero_state: bool,
) -> Result<Loaded<M, V, H>, Fail> {
    let mut vocab = CharVocab::<V>::new();
    let mut hidden = [0i16; H];
    let (q, classes) = M::decode_into(bytes, &mut vocab, &mut hidden)
        .map_err(|e| Fail::new(format!("model {}: {e}", show(path))))?;
    if zero_state {
        hidden = [0; H];
    }
    Ok(Loaded {
        q,
        vocab,
        classes,
        hidden,
    })
}

/// If `path` is a quantized model (from its head), reads it (at most [`limits::model_file`]
/// bytes), checks it and returns its bytes and header.
fn quantized_file(path: &Path) -> Option<Result<(Vec<u8>, Header), Fail>> {
    let mut file = BoundedFile::open(path, limits::model_file()).ok()?;
    if !qformat::is_quantized(file.head(qformat::HEADER_LEN).ok()?) {
        return None;
    }
    let model_error = |e: &dyn std::fmt::Display| Fail::new(format!("model {}: {e}", show(path)));
    Some(
        file.rest()
            .map_err(|e| model_error(&ModelFileError::from(e.widen())))
            .and_then(|bytes| {
                qformat::read_header(&bytes)
                    .map(|header| (bytes, header))
                    .map_err(|e| model_error(&e))
            }),
    )
}

/// A quantized file read by [`quantized_file`], for a language model: its shape checked, and a
/// series classifier refused.
fn quantized_language_model(path: &Path) -> Option<Result<(Vec<u8>, Header), Fail>> {
    let loaded = quantized_file(path)?;
    Some(loaded.and_then(|(bytes, header)| {
        if crate::series::is_series_model(&header) {
            return Err(Fail::new(format!(
                "model {} is a series classifier: use `micrornn classify` or `micrornn eval` \
                 with a .ts or .csv file",
                show(path)
            )));
        }
        check_shape(path, &header).map(|()| (bytes, header))
    }))
}

/// `micrornn classify` on a quantized file (a series classifier); `None` if the file is not
/// one.
pub fn classify_if_quantized(args: &crate::ClassifyArgs) -> Option<Result<(), Fail>> {
    let loaded = quantized_file(&args.model)?;
    Some(loaded.and_then(|(bytes, header)| {
        if !crate::series::is_series_model(&header) {
            return Err(Fail::new(format!(
                "model {}: `classify` reads quantized series classifiers only",
                show(&args.model)
            )));
        }
        crate::classify_series::run_quantized(args, &bytes, &header)
    }))
}

/// `micrornn sample` on a quantized file; `None` if the file is not one.
pub fn sample_if_quantized(args: &SampleArgs) -> Option<Result<(), Fail>> {
    let loaded = quantized_language_model(&args.model)?;
    Some(loaded.and_then(|(bytes, header)| match header.cell {
        CellKind::Gru => dispatch!(header.hidden, header.inputs, sample_gru(args, &bytes)),
        _ => dispatch!(header.hidden, header.inputs, sample_elman(args, &bytes)),
    }))
}

fn sample_elman<const V: usize, const H: usize>(
    args: &SampleArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    sample_model::<QRnn<V, H, V>, V, H>(args, bytes)
}

fn sample_gru<const V: usize, const H: usize>(args: &SampleArgs, bytes: &[u8]) -> Result<(), Fail> {
    sample_model::<QGru<V, H, V>, V, H>(args, bytes)
}

fn sample_model<M: QuantizedLm<V, H>, const V: usize, const H: usize>(
    args: &SampleArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    let Loaded {
        q,
        vocab,
        classes,
        hidden,
    } = decode::<M, V, H>(&args.model, bytes, args.zero_state)?;
    let prime = args.prime.clone().unwrap_or_default();
    let mut ids = Vec::new();
    for c in prime.chars() {
        ids.push(vocab.encode(c).map_err(|_| {
            Fail::new(format!(
                "--prime: character {c:?} is not in the model's vocabulary"
            ))
        })?);
    }
    if ids.is_empty() {
        ids.push(vocab.encode('\n').unwrap_or(0));
    }
    let seed = args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let mut rng = DefaultRng::seed_from_u64(seed);
    let sampling = Sampling {
        temperature: args.temperature,
        top_k: args.top_k,
    };
    let fail = |e: micrornn::Error| Fail::new(e.to_string());
    // The same generator as the f32 path (generate.rs): the stored state, the prime, then picks.
    let mut generator = Generator::new(&*q, classes, sampling).map_err(fail)?;
    generator.set_hidden(hidden);
    generator.prime(&ids).map_err(fail)?;
    let mut text = prime;
    generator
        .generate(&mut rng, args.len, |token| text.extend(vocab.decode(token)))
        .map_err(fail)?;
    println!("{text}");
    Ok(())
}

/// `micrornn eval` on a quantized file; `None` if the file is not one.
pub fn eval_if_quantized(args: &EvalArgs) -> Option<Result<(), Fail>> {
    let loaded = quantized_file(&args.model)?;
    Some(loaded.and_then(|(bytes, header)| {
        if crate::series::is_series_model(&header) {
            return crate::eval_series::run_quantized(args, &bytes, &header);
        }
        check_shape(&args.model, &header)?;
        match header.cell {
            CellKind::Gru => dispatch!(header.hidden, header.inputs, eval_gru(args, &bytes)),
            _ => dispatch!(header.hidden, header.inputs, eval_elman(args, &bytes)),
        }
    }))
}

fn eval_elman<const V: usize, const H: usize>(args: &EvalArgs, bytes: &[u8]) -> Result<(), Fail> {
    eval_model::<QRnn<V, H, V>, V, H>(args, bytes)
}

fn eval_gru<const V: usize, const H: usize>(args: &EvalArgs, bytes: &[u8]) -> Result<(), Fail> {
    eval_model::<QGru<V, H, V>, V, H>(args, bytes)
}

fn eval_model<M: QuantizedLm<V, H>, const V: usize, const H: usize>(
    args: &EvalArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    let Loaded {
        q,
        vocab,
        classes,
        hidden,
    } = decode::<M, V, H>(&args.model, bytes, args.zero_state)?;
    let ids = encode_text(&vocab, &args.file)?;
    if ids.len() < 2 {
        return Err(Fail::new(format!(
            "{}: at least 2 characters are needed to predict one",
            show(&args.file)
        )));
    }
    let loss = quantized::cross_entropy_from(&*q, &hidden, &ids, classes)
        .map_err(|e| Fail::new(format!("eval: {e}")))?;
    if args.json {
        println!(
            "{{\"chars\":{},\"predictions\":{},\"nats_per_char\":{},\"bits_per_char\":{},\"hidden\":{H},\"vocab\":{classes},\"quantized\":true}}",
            ids.len(),
            loss.count,
            loss.per_symbol(),
            loss.bits_per_symbol()
        );
    } else {
        println!(
            "{}: {:.4} nats/char, {:.4} bits/char over {} predictions (quantized model)",
            show(&args.file),
            loss.per_symbol(),
            loss.bits_per_symbol(),
            loss.count
        );
    }
    Ok(())
}
