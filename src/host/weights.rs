//! PyTorch and Keras weights in and out: an `nn.RNN` (tanh, one layer) or an `nn.GRU` followed
//! by an `nn.Linear`, or a Keras `SimpleRNN` or `GRU` followed by a `Dense`, each with or
//! without an embedding in front. The user's guide is `docs/interop.md`.
//!
//! In: [`import`] reads safetensors, a numpy `.npz` (`npz`) or a PyTorch `.pt` zip
//! (`torch_zip`, `torch_pickle`), tells the formats apart and refuses the others by name
//! (`weight_files`), and finds the tensors by role under any names (`weight_roles`):
//!
//! | framework | tensors (shapes; `D` = embedding width, `V` = vocabulary, `O` = outputs) | becomes |
//! |---|---|---|
//! | PyTorch | `[P]weight_ih_l0` (H × V, or H × D after an embedding) | `w_xh = weight_ih_l0ᵀ` (or `embedding · weight_ih_l0ᵀ`) |
//! | | `[P]weight_hh_l0` (H × H) | `w_hh` |
//! | | `[P]bias_ih_l0`, `[P]bias_hh_l0` (H) | `b_h` = their sum |
//! | | an embedding table (V × D) with no bias, optional | folded into `w_xh` |
//! | | one more `X.weight` (O × H) with `X.bias` (O): the `nn.Linear` | `w_hy`, `b_y` |
//! | Keras | `[P]kernel` (V × H or D × H), `[P]recurrent_kernel` (H × H), `[P]bias` (H) of the `SimpleRNN` | `w_xh`, `w_hh = recurrent_kernelᵀ`, `b_h` |
//! | | an embedding table (V × D), optional | folded into `w_xh` |
//! | | one more `X/kernel` (H × O) with `X/bias` (O): the `Dense` | `w_hy = kernelᵀ`, `b_y` |
//!
//! A GRU ([`Weights::cell`] = [`CellKind::Gru`], told by its `3H` stacked gates) maps the same
//! way, gates in PyTorch's order r, z, n: `weight_ih_l0` (3H × V) → `w_xh` (V rows of 3H),
//! `weight_hh_l0` (3H × H) → `w_hh`, `bias_ih_l0` → `b_h`, `bias_hh_l0` → `b_hh` (kept apart:
//! `b_hn` sits inside the reset product). A Keras `GRU(reset_after=True)` (its default) has
//! `kernel` (V × 3H), `recurrent_kernel` (H × 3H) and `bias` (2 × 3H: input side, recurrent
//! side) with gates z, r, h: the first two blocks swap places, `recurrent_kernel` is transposed.
//! `reset_after=False` (a `[3H]` bias) and an LSTM (`4H`) are refused by name.
//!
//! Every tensor must be `F32`. A `nonlinearity` (PyTorch) or `activation` (Keras) entry in the
//! file's metadata other than `tanh` is refused; a second layer (`_l1`) or direction
//! (`_reverse`) too. Where the file records no nonlinearity, [`Weights::establish_nonlinearity`]
//! needs the user's word that it is tanh. [`Weights::reorder_vocabulary`] renumbers the
//! vocabulary from the model's id order to micrornn's.
//!
//! Out: [`export`] writes `rnn.weight_ih_l0`, `rnn.weight_hh_l0`, `rnn.bias_ih_l0` (the bias),
//! `rnn.bias_hh_l0` (zeros), `linear.weight` and `linear.bias` at the live sizes, the state dict
//! of a module with fields `rnn = nn.RNN(V, H)` and `linear = nn.Linear(H, classes)`, so it loads
//! with `load_state_dict(strict=True)` unchanged; a GRU the same names and `nn.GRU(V, H)`'s
//! shapes (`bias_hh_l0` its own); the vocabulary, classes, initial state and metadata go in the
//! file's `__metadata__` so an import of an export gives back the same model.

use super::bounded::Budget;
use super::weight_table::fail;
pub use super::weight_table::{Framework, Nonlinearity, Weights, WeightsError};
pub use super::weights_budget::{DEFAULT_BUDGET, MAX_HEADER_BYTES, budget_for};
use crate::model::{Cell, CellKind};
use safetensors::{Dtype, tensor::TensorView};
use std::collections::HashMap;

/// Reads the weights of a safetensors file, a numpy `.npz` or a PyTorch `.pt`/`.pth` zip
/// (tensors found by role, see `weight_roles`) within [`DEFAULT_BUDGET`]; other formats are
/// refused by name (see `weight_files`).
///
/// # Errors
/// As [`import_within`].
pub fn import(bytes: &[u8]) -> Result<Weights, WeightsError> {
    import_within(bytes, DEFAULT_BUDGET)
}

/// [`import`], refusing from its declared shape, before converting or inflating it, any tensor
/// larger than the budget's largest item or past its total ([`budget_for`]).
///
/// # Errors
/// A [`WeightsError`] naming what was expected: a format that is not read (with the conversion
/// to run), a file or tensor larger than the budget, a missing or ambiguous tensor (listing
/// what was found), a wrong dtype or shape, a non-tanh nonlinearity stated in the metadata,
/// more than one layer or direction.
pub fn import_within(bytes: &[u8], mut budget: Budget) -> Result<Weights, WeightsError> {
    read_weights(bytes, &mut budget).map_err(|e| {
        // Names come from the file (zip entries, tensor names): keep the error on one line.
        let text = e.0.chars().map(|c| if c.is_control() { ' ' } else { c });
        WeightsError(text.collect())
    })
}

fn read_weights(bytes: &[u8], budget: &mut Budget) -> Result<Weights, WeightsError> {
    if bytes.len() as u64 > budget.total_bytes && !bytes.starts_with(&crate::format::MAGIC) {
        return fail(format!(
            "{} bytes, more than the weights of the largest model this build can import hold \
             ({} bytes)",
            bytes.len(),
            budget.total_bytes
        ));
    }
    let (file, metadata) = super::weight_files::read(bytes, budget)?;
    for key in ["nonlinearity", "activation"] {
        if let Some(value) = metadata.get(key).filter(|v| v.as_str() != "tanh") {
            return fail(format!(
                "{key} {value}: only tanh is supported ({key}=tanh expected)"
            ));
        }
    }
    let file = super::weight_roles::named(file)?;
    let mut weights = super::weight_roles::find(&file)?;
    weights.metadata = metadata;
    Ok(weights)
}

/// The PyTorch tensors of `model`'s live part (names in the module docs): the first `inputs`
/// input rows and the first `outputs` outputs, so the file loads into `nn.RNN(inputs, H)` (an
/// [`Rnn`](crate::Rnn)) or `nn.GRU(inputs, H)` (a [`Gru`](crate::model::Gru)) and
/// `nn.Linear(H, outputs)`; `metadata` becomes the file's `__metadata__` (plus
/// `nonlinearity=tanh` for an Elman RNN).
///
/// # Errors
/// A [`WeightsError`] if `inputs` or `outputs` is 0 or more than the model has.
pub fn export<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    model: &C,
    inputs: usize,
    outputs: usize,
    mut metadata: HashMap<String, String>,
) -> Result<Vec<u8>, WeightsError> {
    if !(1..=I).contains(&inputs) || !(1..=O).contains(&outputs) {
        return fail(format!(
            "{inputs} live inputs and {outputs} live outputs do not fit a model of {I} inputs \
             and {O} outputs"
        ));
    }
    let bytes = |values: &[f32]| {
        values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let tensor = |name: &str| {
        C::TENSORS
            .iter()
            .position(|spec| spec.name == name)
            .map_or(&[][..], |index| model.tensor(index))
    };
    let gh = C::KIND.gates() * H;
    // w_xh's live rows (`inputs` of `gh`), transposed to PyTorch's [gh, inputs].
    let live_rows = &tensor("w_xh")[..inputs * gh];
    let w_ih: Vec<f32> = (0..gh)
        .flat_map(|g| live_rows.chunks_exact(gh).map(move |row| row[g]))
        .collect();
    let (b_ih, b_hh) = match C::KIND {
        // The Elman cell's one bias; nn.RNN's second is zero.
        CellKind::Elman => (bytes(tensor("b_h")), bytes(&[0.0; H])),
        CellKind::Gru => (bytes(tensor("b_xh")), bytes(tensor("b_hh"))),
    };
    let tensors: [(&str, Vec<usize>, Vec<u8>); 6] = [
        ("rnn.weight_ih_l0", vec![gh, inputs], bytes(&w_ih)),
        ("rnn.weight_hh_l0", vec![gh, H], bytes(tensor("w_hh"))),
        ("rnn.bias_ih_l0", vec![gh], b_ih),
        ("rnn.bias_hh_l0", vec![gh], b_hh),
        (
            "linear.weight",
            vec![outputs, H],
            bytes(model.w_hy()[..outputs].as_flattened()),
        ),
        ("linear.bias", vec![outputs], bytes(&model.b_y()[..outputs])),
    ];
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data).map(|view| (*name, view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WeightsError(format!("safetensors: {e}")))?;
    if C::KIND == CellKind::Elman {
        metadata.insert("nonlinearity".into(), "tanh".into());
    }
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| WeightsError(format!("safetensors: {e}")))
}
