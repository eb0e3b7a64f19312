//! `micrornn import FILE [--vocab VOCAB.json] [--nonlinearity tanh] --out MODEL.mrnn`: PyTorch
//! or Keras RNN or GRU weights (safetensors, `.npz`, `.pt`; see `micrornn::host::weights`) as a
//! micrornn character language model of that cell (the model file's header records it).
//!
//! The vocabulary is a JSON array of the model's characters in the model's id order (any
//! order: the weights are renumbered to micrornn's code-point order); without `--vocab` it
//! comes from the file's `__metadata__` (a file written by `micrornn export`). A file that does
//! not record its nonlinearity needs `--nonlinearity tanh`. The model is padded to the binary's
//! compiled sizes: inputs and outputs to the smallest vocabulary bucket that holds them (padded
//! classes masked); the hidden size must be one of the compiled ones.

use crate::export::{CLASSES_KEY, HIDDEN_KEY, METADATA_KEY, VOCAB_KEY};
use crate::{Fail, HIDDEN_SIZES, ImportArgs, VOCAB_BUCKETS, dispatch, limits, list, show};
use micrornn::format::Contents;
use micrornn::host::{atomic, bounded, model_file, weights};
use micrornn::model::{Cell, CellKind, Gru};
use micrornn::{Rnn, Zeroable};
use weights::Weights;

/// Runs `micrornn import`.
pub fn run(args: &ImportArgs) -> Result<(), Fail> {
    let budget = limits::weights();
    let file_error = |e: &dyn std::fmt::Display| Fail::new(format!("{}: {e}", show(&args.file)));
    let bytes = bounded::read_file(&args.file, budget.total_bytes).map_err(|e| file_error(&e))?;
    let in_file = |e: weights::WeightsError| Fail::new(format!("{}: {e}", show(&args.file)));
    let mut weights = weights::import_within(&bytes, budget).map_err(in_file)?;
    let nonlinearity = weights
        .establish_nonlinearity(args.nonlinearity.map(Into::into))
        .map_err(in_file)?;
    let model_order = vocabulary(args, &weights)?;
    let vocab = weights.reorder_vocabulary(&model_order).map_err(in_file)?;
    eprintln!("nonlinearity: {nonlinearity}");
    if vocab != model_order {
        eprintln!(
            "vocabulary: {} characters renumbered from the model's order to code-point order",
            vocab.len()
        );
    }
    let classes = match weights.metadata.get(CLASSES_KEY) {
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|&c| (1..=weights.outputs).contains(&c))
            .ok_or_else(|| {
                Fail::new(format!("{}: bad {CLASSES_KEY} {text:?}", show(&args.file)))
            })?,
        None => weights.outputs,
    };
    if vocab.len() > weights.inputs || classes > vocab.len() {
        return Err(Fail::new(format!(
            "{}: a vocabulary of {} characters does not fit a model of {} inputs and {classes} \
             outputs (expected as many characters as outputs, at most one per input)",
            show(&args.file),
            vocab.len(),
            weights.inputs
        )));
    }
    if !HIDDEN_SIZES.contains(&weights.hidden) {
        return Err(Fail::new(format!(
            "{}: hidden size {} is not compiled in; expected one of {}",
            show(&args.file),
            weights.hidden,
            list(&HIDDEN_SIZES)
        )));
    }
    let needed = weights.inputs.max(weights.outputs);
    let bucket = VOCAB_BUCKETS
        .iter()
        .copied()
        .find(|&b| b >= needed)
        .ok_or_else(|| {
            Fail::new(format!(
                "{}: {needed} inputs/outputs exceed the largest vocabulary bucket ({})",
                show(&args.file),
                list(&VOCAB_BUCKETS)
            ))
        })?;
    match weights.cell {
        CellKind::Gru => dispatch!(
            weights.hidden,
            bucket,
            save_gru(args, &weights, &vocab, classes)
        ),
        CellKind::Elman => dispatch!(
            weights.hidden,
            bucket,
            save_elman(args, &weights, &vocab, classes)
        ),
        other => Err(Fail::new(format!(
            "{}: a {} model cannot be written by this build",
            show(&args.file),
            other.name()
        ))),
    }
}

/// The characters, in the model's id order, from `--vocab` or the file's metadata.
fn vocabulary(args: &ImportArgs, weights: &Weights) -> Result<Vec<char>, Fail> {
    let (text, source) = match &args.vocab {
        Some(path) => (
            bounded::read_file(path, limits::VOCAB_JSON_BYTES)
                .map_err(|e| e.to_string())
                .and_then(|bytes| String::from_utf8(bytes).map_err(|e| e.to_string()))
                .map_err(|e| Fail::new(format!("--vocab {}: {e}", show(path))))?,
            show(path),
        ),
        None => (
            weights.metadata.get(VOCAB_KEY).cloned().ok_or_else(|| {
                Fail::new(format!(
                    "{}: --vocab VOCAB.json is needed (a JSON array of the characters in id order)",
                    show(&args.file)
                ))
            })?,
            format!("{} metadata", show(&args.file)),
        ),
    };
    let symbols: Vec<String> = serde_json::from_str(&text).map_err(|e| {
        Fail::new(format!(
            "{source}: expected a JSON array of one-character strings ({e})"
        ))
    })?;
    let mut chars = Vec::with_capacity(symbols.len());
    for symbol in &symbols {
        let mut it = symbol.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => chars.push(c),
            _ => {
                return Err(Fail::new(format!(
                    "{source}: {symbol:?} is not one character (a character model is expected)"
                )));
            }
        }
    }
    Ok(chars)
}

/// The initial hidden state stored by `micrornn export` (a JSON array of numbers; files of
/// earlier versions hold hexadecimal bit patterns), or zeros.
fn initial_hidden<const H: usize>(weights: &Weights) -> Result<[f32; H], Fail> {
    let mut hidden = [0.0f32; H];
    if let Some(text) = weights.metadata.get(HIDDEN_KEY) {
        let values: Vec<f32> = if text.trim_start().starts_with('[') {
            serde_json::from_str(text).map_err(|e| {
                Fail::new(format!(
                    "{HIDDEN_KEY}: expected a JSON array of {H} numbers ({e})"
                ))
            })?
        } else {
            text.split_whitespace()
                .map(|w| u32::from_str_radix(w, 16).map(f32::from_bits))
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    Fail::new(format!(
                        "{HIDDEN_KEY}: expected a JSON array of {H} numbers"
                    ))
                })?
        };
        if values.len() != H {
            return Err(Fail::new(format!(
                "{HIDDEN_KEY}: {} values, expected {H}",
                values.len()
            )));
        }
        hidden.copy_from_slice(&values);
    }
    Ok(hidden)
}

fn save_elman<const V: usize, const H: usize>(
    args: &ImportArgs,
    weights: &Weights,
    vocab: &[char],
    classes: usize,
) -> Result<(), Fail> {
    save::<Rnn<V, H, V>, V, H>(args, weights, vocab, classes)
}

fn save_gru<const V: usize, const H: usize>(
    args: &ImportArgs,
    weights: &Weights,
    vocab: &[char],
    classes: usize,
) -> Result<(), Fail> {
    save::<Gru<V, H, V>, V, H>(args, weights, vocab, classes)
}

/// Writes `weights` as a model file of the cell `C`.
fn save<C: Cell<V, H, V> + Zeroable, const V: usize, const H: usize>(
    args: &ImportArgs,
    weights: &Weights,
    vocab: &[char],
    classes: usize,
) -> Result<(), Fail> {
    let mut model: Box<C> = micrornn::boxed_zeroed();
    weights
        .copy_into(&mut *model)
        .map_err(|e| Fail::new(format!("{}: {e}", show(&args.file))))?;
    let hidden = initial_hidden::<H>(weights)?;
    let metadata = weights
        .metadata
        .get(METADATA_KEY)
        .cloned()
        .unwrap_or_else(|| {
            format!(
                "imported_from={}\nframework={:?}\ncell={}\nembedding_folded={}",
                args.file.display().to_string().replace('\n', " "),
                weights.framework,
                weights.cell.name(),
                weights.embedding
            )
        });
    let contents = Contents {
        initial_hidden: Some(&hidden),
        metadata: &metadata,
        ..Contents::language_model(vocab, classes)
    };
    let out = |e: &dyn std::fmt::Display| Fail::new(format!("--out {}: {e}", show(&args.out)));
    let bytes = model_file::contents_to_bytes(&*model, &contents).map_err(|e| out(&e))?;
    atomic::write(&args.out, &bytes).map_err(|e| out(&e))?;
    eprintln!(
        "imported {} ({:?} {}{}, {} inputs, hidden {H}, {} outputs) as {} (vocabulary bucket {V})",
        show(&args.file),
        weights.framework,
        C::KIND.name(),
        if weights.embedding {
            " with an embedding"
        } else {
            ""
        },
        weights.inputs,
        weights.outputs,
        show(&args.out)
    );
    Ok(())
}
