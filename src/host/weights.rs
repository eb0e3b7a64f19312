//! PyTorch and Keras weights in and out: an `nn.RNN` (tanh, one layer) followed by an
//! `nn.Linear`, or a Keras `SimpleRNN` followed by a `Dense`, each with or without an embedding
//! in front. The user's guide is `docs/interop.md`.
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
//! Every tensor must be `F32`. A `nonlinearity` (PyTorch) or `activation` (Keras) entry in the
//! file's metadata other than `tanh` is refused; a second layer (`_l1`) or direction
//! (`_reverse`) too. Where the file records no nonlinearity, [`Weights::establish_nonlinearity`]
//! needs the user's word that it is tanh. [`Weights::reorder_vocabulary`] renumbers the
//! vocabulary from the model's id order to micrornn's.
//!
//! Out: [`export`] writes `rnn.weight_ih_l0`, `rnn.weight_hh_l0`, `rnn.bias_ih_l0` (the bias),
//! `rnn.bias_hh_l0` (zeros), `linear.weight` and `linear.bias` at the live sizes, the state dict
//! of a module with fields `rnn = nn.RNN(V, H)` and `linear = nn.Linear(H, classes)`, so it loads
//! with `load_state_dict(strict=True)` unchanged; the vocabulary, classes, initial state and
//! metadata go in the file's `__metadata__` so an import of an export gives back the same model.

use super::bounded::Budget;
pub use super::weights_budget::{DEFAULT_BUDGET, MAX_HEADER_BYTES, budget_for};
use crate::Rnn;
use safetensors::{Dtype, tensor::TensorView};
use std::collections::HashMap;
use std::fmt;

/// Why weights cannot be imported or exported: one line naming what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightsError(pub String);

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WeightsError {}

/// A failure with this message.
fn fail<T>(message: impl Into<String>) -> Result<T, WeightsError> {
    Err(WeightsError(message.into()))
}

/// The nonlinearity of an Elman RNN, as a user states it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `tanh`: PyTorch `nn.RNN`'s and Keras `SimpleRNN`'s default, micrornn's cell.
    Tanh,
    /// `relu`: not supported; stating it is refused rather than run as tanh.
    Relu,
}

/// Which layout a file was read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framework {
    /// `nn.RNN` + `nn.Linear` names.
    PyTorch,
    /// `SimpleRNN` + `Dense` names.
    Keras,
}

/// Weights of any shape, in micrornn's orientation (row-major, rows as in [`Rnn`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// Inputs (vocabulary size).
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Outputs.
    pub outputs: usize,
    /// `inputs` rows of `hidden`.
    pub w_xh: Vec<f32>,
    /// `hidden` rows of `hidden` (row `j`: into unit `j`).
    pub w_hh: Vec<f32>,
    /// `hidden`.
    pub b_h: Vec<f32>,
    /// `outputs` rows of `hidden`.
    pub w_hy: Vec<f32>,
    /// `outputs`.
    pub b_y: Vec<f32>,
    /// The layout the file had.
    pub framework: Framework,
    /// Whether an embedding was folded into `w_xh`.
    pub embedding: bool,
    /// The file's `__metadata__`.
    pub metadata: HashMap<String, String>,
}

/// A tensor as stored: its dtype's name, its shape, and its values if it is `F32`.
pub(super) struct Raw {
    pub(super) dtype: String,
    pub(super) shape: Vec<usize>,
    pub(super) values: Option<Vec<f32>>,
}

/// A file's tensors by name, whichever container they came in.
pub(super) type Table = HashMap<String, Raw>;

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

impl Weights {
    /// Checks that these weights may run as micrornn's tanh cell: the file states `tanh` (its
    /// `nonlinearity`/`activation` metadata), or it states nothing (a plain state dict, an
    /// `.npz`) and the user `stated` tanh. Returns where the nonlinearity came from, to tell
    /// the user.
    ///
    /// # Errors
    /// A [`WeightsError`] when nothing establishes the nonlinearity, or relu is stated: a relu
    /// model evaluated as tanh would be a different, silently wrong model.
    pub fn establish_nonlinearity(
        &self,
        stated: Option<Nonlinearity>,
    ) -> Result<&'static str, WeightsError> {
        let in_file = ["nonlinearity", "activation"]
            .iter()
            .find_map(|k| self.metadata.get(*k));
        match (in_file, stated) {
            (_, Some(Nonlinearity::Relu)) => fail(
                "--nonlinearity relu: micrornn's cell is tanh and cannot run a relu RNN \
                 (nn.RNN(nonlinearity='relu'), SimpleRNN(activation='relu')) without giving \
                 wrong results; retrain with tanh",
            ),
            (Some(_), _) => Ok("tanh, as the file's metadata states"),
            (None, Some(Nonlinearity::Tanh)) => {
                Ok("tanh, as --nonlinearity states (the file does not record it)")
            }
            (None, None) => fail(
                "the file does not record the RNN's nonlinearity (a plain state dict or .npz \
                 never does): pass --nonlinearity tanh if the model used tanh (nn.RNN's and \
                 SimpleRNN's default); relu models are not supported",
            ),
        }
    }

    /// Renumbers inputs and outputs from the model's ids (`model_order[i]` is the character of
    /// id `i`, in any order, e.g. first appearance) to micrornn's (characters sorted by code
    /// point), moving the rows of `w_xh`, `w_hy` and `b_y` with them. Returns the characters in
    /// micrornn's order.
    ///
    /// # Errors
    /// A [`WeightsError`] for a repeated character, more characters than inputs, or a
    /// reordering of a model whose outputs are not one per character.
    pub fn reorder_vocabulary(&mut self, model_order: &[char]) -> Result<Vec<char>, WeightsError> {
        let mut sorted: Vec<(char, usize)> = model_order.iter().copied().zip(0..).collect();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|w| w[0].0 == w[1].0) {
            return fail(format!(
                "character {:?} appears twice in the vocabulary (ids {} and {})",
                pair[0].0, pair[0].1, pair[1].1
            ));
        }
        if model_order.len() > self.inputs {
            return fail(format!(
                "a vocabulary of {} characters does not fit a model of {} inputs",
                model_order.len(),
                self.inputs
            ));
        }
        let old_ids: Vec<usize> = sorted.iter().map(|&(_, id)| id).collect();
        let identity = old_ids.iter().enumerate().all(|(new, &old)| new == old);
        if !identity {
            if self.outputs != model_order.len() {
                return fail(format!(
                    "the vocabulary is not sorted and the model has {} outputs for {} \
                     characters: only a model with one output per character can be renumbered",
                    self.outputs,
                    model_order.len()
                ));
            }
            let h = self.hidden;
            let permute = |rows: &mut Vec<f32>, width: usize| {
                let old = rows.clone();
                for (new, &from) in old_ids.iter().enumerate() {
                    rows[new * width..(new + 1) * width]
                        .copy_from_slice(&old[from * width..(from + 1) * width]);
                }
            };
            permute(&mut self.w_xh, h);
            permute(&mut self.w_hy, h);
            permute(&mut self.b_y, 1);
        }
        Ok(sorted.into_iter().map(|(c, _)| c).collect())
    }

    /// Copies the weights into `rnn`, padding inputs and outputs with zeros.
    ///
    /// # Errors
    /// A [`WeightsError`] if `H` differs from the weights' hidden size or they have more inputs
    /// or outputs than `I` or `O`.
    pub fn copy_into<const I: usize, const H: usize, const O: usize>(
        &self,
        rnn: &mut Rnn<I, H, O>,
    ) -> Result<(), WeightsError> {
        if self.hidden != H || self.inputs > I || self.outputs > O {
            return fail(format!(
                "weights of {} inputs, {} hidden, {} outputs do not fit a model of {I}, {H}, {O}",
                self.inputs, self.hidden, self.outputs
            ));
        }
        rnn.fill_zero();
        for (row, src) in rnn.w_xh.iter_mut().zip(self.w_xh.chunks_exact(H)) {
            row.copy_from_slice(src);
        }
        for (row, src) in rnn.w_hh.iter_mut().zip(self.w_hh.chunks_exact(H)) {
            row.copy_from_slice(src);
        }
        rnn.b_h.copy_from_slice(&self.b_h);
        for (row, src) in rnn.w_hy.iter_mut().zip(self.w_hy.chunks_exact(H)) {
            row.copy_from_slice(src);
        }
        rnn.b_y[..self.outputs].copy_from_slice(&self.b_y);
        Ok(())
    }
}

/// The PyTorch tensors of `rnn`'s live part (names in the module docs): the first `inputs`
/// input rows and the first `outputs` outputs, so the file loads into `nn.RNN(inputs, H)` and
/// `nn.Linear(H, outputs)`; `metadata` becomes the file's `__metadata__` (plus
/// `nonlinearity=tanh`).
///
/// # Errors
/// A [`WeightsError`] if `inputs` or `outputs` is 0 or more than the model has.
pub fn export<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
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
    let live_rows = &rnn.w_xh[..inputs];
    let w_ih: Vec<f32> = (0..H)
        .flat_map(|h| live_rows.iter().map(move |row| row[h]))
        .collect();
    let tensors: [(&str, Vec<usize>, Vec<u8>); 6] = [
        ("rnn.weight_ih_l0", vec![H, inputs], bytes(&w_ih)),
        (
            "rnn.weight_hh_l0",
            vec![H, H],
            bytes(rnn.w_hh.as_flattened()),
        ),
        ("rnn.bias_ih_l0", vec![H], bytes(&rnn.b_h)),
        ("rnn.bias_hh_l0", vec![H], bytes(&[0.0; H])),
        (
            "linear.weight",
            vec![outputs, H],
            bytes(rnn.w_hy[..outputs].as_flattened()),
        ),
        ("linear.bias", vec![outputs], bytes(&rnn.b_y[..outputs])),
    ];
    let views = tensors
        .iter()
        .map(|(name, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data).map(|view| (*name, view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WeightsError(format!("safetensors: {e}")))?;
    metadata.insert("nonlinearity".into(), "tanh".into());
    safetensors::serialize(views, Some(metadata))
        .map_err(|e| WeightsError(format!("safetensors: {e}")))
}
