//! `micrornn export MODEL --out FILE.safetensors`: a character language model as the state dict
//! of a PyTorch `nn.RNN` + `nn.Linear` (names in `micrornn::host::weights`), with the
//! vocabulary, live classes, initial state and metadata in the file's `__metadata__`.

use crate::generate::{check_language_model, check_shape, load};
use crate::{ExportArgs, Fail, dispatch, show};
use micrornn::host::{atomic, weights};
use micrornn::{CharVocab, Rnn, format};
use std::collections::HashMap;

/// `__metadata__` keys `micrornn import` reads back.
pub const VOCAB_KEY: &str = "micrornn_vocab";
/// Live classes.
pub const CLASSES_KEY: &str = "micrornn_classes";
/// Initial hidden state, as the hexadecimal bit patterns of its `f32`s (bit-exact).
pub const HIDDEN_KEY: &str = "micrornn_initial_hidden";
/// The model file's `key=value` metadata.
pub const METADATA_KEY: &str = "micrornn_metadata";

/// Runs `micrornn export`.
pub fn run(args: &ExportArgs) -> Result<(), Fail> {
    let (bytes, header) = load(&args.model)?;
    check_language_model(&args.model, &header)?;
    check_shape(&args.model, &header)?;
    dispatch!(header.hidden, header.inputs, export_model(args, &bytes))
}

fn export_model<const V: usize, const H: usize>(
    args: &ExportArgs,
    bytes: &[u8],
) -> Result<(), Fail> {
    let mut model = Rnn::<V, H, V>::boxed_zero();
    let mut vocab = CharVocab::<V>::new();
    let mut hidden = [0.0f32; H];
    let decoded = format::decode_contents(bytes, &mut model, &mut vocab, &mut hidden)
        .map_err(|e| Fail::new(format!("model {}: {e}", show(&args.model))))?;
    let symbols: Vec<String> = vocab.chars().iter().map(char::to_string).collect();
    let bits: Vec<String> = hidden
        .iter()
        .map(|h| format!("{:08x}", h.to_bits()))
        .collect();
    let metadata = HashMap::from([
        (
            VOCAB_KEY.to_string(),
            serde_json::json!(symbols).to_string(),
        ),
        (CLASSES_KEY.to_string(), decoded.header.classes.to_string()),
        (HIDDEN_KEY.to_string(), bits.join(" ")),
        (
            METADATA_KEY.to_string(),
            decoded.metadata.as_str().to_string(),
        ),
    ]);
    let out = weights::export(&*model, metadata).map_err(|e| Fail::new(format!("export: {e}")))?;
    atomic::write(&args.out, &out)
        .map_err(|e| Fail::new(format!("--out {}: {e}", show(&args.out))))?;
    eprintln!(
        "exported {} (inputs {V}, hidden {H}, outputs {V}, {} live classes) to {} as \
         rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, linear.weight, \
         linear.bias",
        show(&args.model),
        decoded.header.classes,
        show(&args.out)
    );
    Ok(())
}
