//! `micrornn export MODEL --out FILE.safetensors`: a character language model as the state dict
//! of a PyTorch `nn.RNN(len(vocab), H)` (or, for a GRU model, `nn.GRU(len(vocab), H)`) +
//! `nn.Linear(H, classes)` (names in `micrornn::host::weights`; the live sizes, not the padded
//! bucket), with the vocabulary, live classes, initial state and metadata in the file's
//! `__metadata__` (keys below, documented in `docs/interop.md`).

use crate::generate::check_language_model;
use crate::model_load::{check_shape, load};
use crate::{ExportArgs, Fail, dispatch, show};
use micrornn::host::{atomic, weights};
use micrornn::model::{Cell, CellKind, Gru};
use micrornn::{CharVocab, Rnn, Zeroable, format};
use std::collections::HashMap;

/// `__metadata__` keys `micrornn import` reads back.
pub const VOCAB_KEY: &str = "micrornn_vocab";
/// Live classes.
pub const CLASSES_KEY: &str = "micrornn_classes";
/// Initial hidden state, as a JSON array of numbers (shortest round-trip decimals: bit-exact).
pub const HIDDEN_KEY: &str = "micrornn_initial_hidden";
/// The model file's `key=value` metadata.
pub const METADATA_KEY: &str = "micrornn_metadata";

/// Runs `micrornn export`.
pub fn run(args: &ExportArgs) -> Result<(), Fail> {
    let (bytes, header) = load(&args.model)?;
    check_language_model(&args.model, &header)?;
    check_shape(&args.model, &header)?;
    match header.cell {
        CellKind::Elman => dispatch!(header.hidden, header.inputs, export_elman(args, &bytes)),
        CellKind::Gru => dispatch!(header.hidden, header.inputs, export_gru(args, &bytes)),
        other => Err(Fail::new(format!(
            "model {}: a {} model cannot be exported by this build",
            show(&args.model),
            other.name()
        ))),
    }
}

fn export_elman<const V: usize, const H: usize>(
    args: &ExportArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    export_model::<Rnn<V, H, V>, V, H>(args, bytes, "RNN")
}

fn export_gru<const V: usize, const H: usize>(args: &ExportArgs, bytes: &[u8]) -> Result<(), Fail> {
    export_model::<Gru<V, H, V>, V, H>(args, bytes, "GRU")
}

/// Exports a model file of the cell `C`, which PyTorch calls `nn.{module}`.
fn export_model<C: Cell<V, H, V> + Zeroable, const V: usize, const H: usize>(
    args: &ExportArgs,
    bytes: &[u8],
    module: &str,
) -> Result<(), Fail> {
    let mut model: Box<C> = micrornn::boxed_zeroed();
    let mut vocab = CharVocab::<V>::new();
    let mut hidden = [0.0f32; H];
    let decoded = format::decode_contents(bytes, &mut *model, &mut vocab, &mut hidden)
        .map_err(|e| Fail::new(format!("model {}: {e}", show(&args.model))))?;
    let symbols: Vec<String> = vocab.chars().iter().map(char::to_string).collect();
    let metadata = HashMap::from([
        (
            VOCAB_KEY.to_string(),
            serde_json::json!(symbols).to_string(),
        ),
        (CLASSES_KEY.to_string(), decoded.header.classes.to_string()),
        (
            HIDDEN_KEY.to_string(),
            serde_json::json!(hidden.as_slice()).to_string(),
        ),
        (
            METADATA_KEY.to_string(),
            decoded.metadata.as_str().to_string(),
        ),
    ]);
    let (inputs, classes) = (symbols.len(), decoded.header.classes);
    let out = weights::export(&*model, inputs, classes, metadata)
        .map_err(|e| Fail::new(format!("export: {e}")))?;
    atomic::write(&args.out, &out)
        .map_err(|e| Fail::new(format!("--out {}: {e}", show(&args.out))))?;
    eprintln!(
        "exported {} to {} as nn.{module}({inputs}, {H}) + nn.Linear({H}, {classes}): \
         rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, linear.weight, \
         linear.bias",
        show(&args.model),
        show(&args.out)
    );
    Ok(())
}
