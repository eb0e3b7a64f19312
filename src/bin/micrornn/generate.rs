//! `micrornn sample` and `micrornn eval`: load a model file, then generate or score text.

use crate::cells::LmCell;
use crate::model_load::{check_shape, load};
use crate::{EvalArgs, Fail, SampleArgs, dispatch, show};
use micrornn::format::{self, Header};
use micrornn::host::corpus;
use micrornn::{CharVocab, DefaultRng, Generator, Sampling, eval};
use rand_core::SeedableRng;
use std::io::Write;
use std::path::Path;

/// A character language model of the cell `C` decoded from checked bytes, on the heap.
struct Decoded<const V: usize, const H: usize, C> {
    model: Box<C>,
    vocab: CharVocab<V>,
    classes: usize,
    /// The state to start from: the file's, or zeros with `--zero-state` (or a version-1 file).
    hidden: [f32; H],
}

/// Decodes a character language model of the cell `C` (the file's, which the caller dispatched
/// on); `zero_state` ignores the stored initial state.
fn decode<const V: usize, const H: usize, C: LmCell<V, H>>(
    path: &Path,
    bytes: &[u8],
    zero_state: bool,
) -> Result<Decoded<V, H, C>, Fail> {
    let mut model: Box<C> = micrornn::boxed_zeroed();
    let mut vocab = CharVocab::<V>::new();
    let mut hidden = [0.0f32; H];
    let decoded = format::decode_contents(bytes, &mut *model, &mut vocab, &mut hidden)
        .map_err(|e| Fail::new(format!("model {}: {e}", show(path))))?;
    if zero_state {
        hidden = [0.0; H];
    }
    Ok(Decoded {
        model,
        vocab,
        classes: decoded.header.classes,
        hidden,
    })
}

/// Refuses a classifier where a character language model is needed.
pub(crate) fn check_language_model(path: &Path, header: &Header) -> Result<(), Fail> {
    if header.task != format::Task::LanguageModel || header.vocab_kind != format::VocabKind::Chars {
        return Err(Fail::new(format!(
            "model {} is a classifier, not a character language model: use `micrornn classify`",
            show(path)
        )));
    }
    Ok(())
}

/// Runs `micrornn sample`.
pub fn sample(args: &SampleArgs) -> Result<(), Fail> {
    if !(args.temperature.is_finite() && args.temperature >= 0.0) {
        return Err(Fail::new(format!(
            "--temperature {} must be ≥ 0 (0 is greedy)",
            args.temperature
        )));
    }
    if let Some(quantized) = crate::quantize::sample_if_quantized(args) {
        return quantized;
    }
    let (bytes, header) = load(&args.model)?;
    check_language_model(&args.model, &header)?;
    check_shape(&args.model, &header)?;
    dispatch!(cell header.cell, header.hidden, header.inputs, sample_model(args, &bytes))
}

fn sample_model<const V: usize, const H: usize, C: LmCell<V, H>>(
    args: &SampleArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    let Decoded {
        model,
        vocab,
        classes,
        hidden,
    } = decode::<V, H, C>(&args.model, bytes, args.zero_state)?;
    let prime = args.prime.clone().unwrap_or_default();
    let mut prime_ids = Vec::new();
    for c in prime.chars() {
        let id = vocab.encode(c).map_err(|_| {
            Fail::new(format!(
                "--prime: character {c:?} is not in the model's vocabulary ({} characters: {:?})",
                vocab.len(),
                vocab.chars().iter().collect::<String>()
            ))
        })?;
        prime_ids.push(id);
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
    let mut sampler = Generator::new(&*model, classes, sampling)
        .map_err(|e| Fail::new(format!("model {}: {e}", show(&args.model))))?;
    sampler.set_hidden(hidden);
    if prime_ids.is_empty() {
        // No prime: start as after a line break (or from the first character).
        sampler
            .feed(vocab.encode('\n').unwrap_or(0))
            .map_err(|e| Fail::new(e.to_string()))?;
    } else {
        sampler
            .prime(&prime_ids)
            .map_err(|e| Fail::new(e.to_string()))?;
    }
    let mut text = prime;
    sampler
        .generate(&mut rng, args.len, |id| text.extend(vocab.decode(id)))
        .map_err(|e| Fail::new(e.to_string()))?;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}");
    Ok(())
}

/// Runs `micrornn eval`.
pub fn eval(args: &EvalArgs) -> Result<(), Fail> {
    if let Some(quantized) = crate::quantize::eval_if_quantized(args) {
        return quantized;
    }
    let (bytes, header) = load(&args.model)?;
    if crate::series::is_series_model(&header) {
        return crate::eval_series::run(args, &bytes, &header);
    }
    if let Some(svg) = &args.svg {
        return Err(Fail::new(format!(
            "--svg {}: a confusion matrix needs a series classifier (model {} is not one)",
            show(svg),
            show(&args.model)
        )));
    }
    if header.task == format::Task::Classifier {
        return crate::classify::eval(args, &bytes, &header);
    }
    check_language_model(&args.model, &header)?;
    check_shape(&args.model, &header)?;
    let text = corpus::read_text(&args.file)
        .map_err(|e| Fail::new(format!("{}: {e}", show(&args.file))))?;
    dispatch!(
        cell header.cell,
        header.hidden,
        header.inputs,
        eval_model(args, &bytes, &text)
    )
}

fn eval_model<const V: usize, const H: usize, C: LmCell<V, H>>(
    args: &EvalArgs,
    bytes: &[u8],
    text: &str,
) -> Result<(), Fail> {
    let Decoded {
        model,
        vocab,
        classes,
        hidden,
    } = decode::<V, H, C>(&args.model, bytes, args.zero_state)?;
    let mut ids = Vec::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        let id = vocab.encode(c).map_err(|_| {
            let (line, column) = corpus::position_of_char(text, i);
            Fail::new(format!(
                "{}: character {c:?} (line {line}, column {column}) is not in the model's vocabulary",
                show(&args.file)
            ))
        })?;
        ids.push(id);
    }
    if ids.len() < 2 {
        return Err(Fail::new(format!(
            "{}: at least 2 characters are needed to predict one",
            show(&args.file)
        )));
    }
    let loss = eval::cross_entropy_from(&*model, &hidden, &ids, classes, None)
        .map_err(|e| Fail::new(format!("eval: {e}")))?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "chars": ids.len(),
                "predictions": loss.count,
                "nats_per_char": loss.per_symbol(),
                "bits_per_char": loss.bits_per_symbol(),
                "hidden": H,
                "vocab": classes,
            })
        );
    } else {
        println!(
            "{}: {:.4} nats/char, {:.4} bits/char over {} predictions",
            show(&args.file),
            loss.per_symbol(),
            loss.bits_per_symbol(),
            loss.count
        );
    }
    Ok(())
}
