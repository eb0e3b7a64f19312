//! Weights as read from a file, before they become a model: the tensors by name as stored
//! ([`Table`] of [`Raw`]), the recurrent layer they were found to be ([`Weights`], its
//! [`Framework`] and stated [`Nonlinearity`]), their checks and their copy into a cell, and the
//! one error type ([`WeightsError`]). The readers of each container (`npz`, `torch_zip`,
//! `weight_files`), the role finder (`weight_roles`) and `weights` (import and export) build on
//! it; `weights` re-exports the public types.

use crate::model::{Cell, CellKind, Live};
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
pub(super) fn fail<T>(message: impl Into<String>) -> Result<T, WeightsError> {
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

/// Weights of any shape, in micrornn's orientation (row-major, rows as in
/// [`Rnn`](crate::Rnn) and [`Gru`](crate::model::Gru); `gates` is 1 for an Elman RNN, 3 for a
/// GRU: [`Weights::gates`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// The cell: an Elman RNN or a GRU, told from the recurrent weights' shape.
    pub cell: CellKind,
    /// Inputs (vocabulary size).
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Outputs.
    pub outputs: usize,
    /// `inputs` rows of `gates · hidden`: input `i`'s weights into each gate (GRU: r, z, n).
    pub w_xh: Vec<f32>,
    /// `gates · hidden` rows of `hidden` (row `g·H + j`: into unit `j` of gate `g`).
    pub w_hh: Vec<f32>,
    /// `gates · hidden` input-side biases: an Elman RNN's one bias (PyTorch's two summed); a
    /// GRU's `bias_ih_l0`.
    pub b_h: Vec<f32>,
    /// A GRU's recurrent-side biases `bias_hh_l0` (`3 · hidden`; `b_hn` sits inside the reset
    /// product, so they cannot be summed into `b_h`); empty for an Elman RNN.
    pub b_hh: Vec<f32>,
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

impl Weights {
    /// Gate blocks of these weights' recurrent layer: 1 for an Elman RNN, 3 (r, z, n) for a
    /// GRU.
    #[must_use]
    pub const fn gates(&self) -> usize {
        self.cell.gates()
    }

    /// Checks that these weights may run as micrornn's cell. An Elman RNN must be tanh: the
    /// file states `tanh` (its `nonlinearity`/`activation` metadata), or it states nothing (a
    /// plain state dict, an `.npz`) and the user `stated` tanh. A PyTorch `nn.GRU` has no
    /// choice to make (σ gates, tanh candidate); a Keras `GRU`'s `activation` is not in an
    /// `.npz` either, so it needs `stated` tanh too (Keras' defaults, `activation='tanh'`,
    /// `recurrent_activation='sigmoid'`). Returns where the nonlinearity came from, to tell
    /// the user.
    ///
    /// # Errors
    /// A [`WeightsError`] when nothing establishes the nonlinearity, or relu is stated: a relu
    /// model evaluated as tanh would be a different, silently wrong model.
    pub fn establish_nonlinearity(
        &self,
        stated: Option<Nonlinearity>,
    ) -> Result<&'static str, WeightsError> {
        if self.cell == CellKind::Gru && self.framework == Framework::PyTorch {
            return match stated {
                Some(Nonlinearity::Relu) => fail(
                    "--nonlinearity relu: this is an nn.GRU, whose candidate is always tanh; \
                     leave the option out",
                ),
                _ => Ok("none needed: an nn.GRU (σ gates, tanh candidate)"),
            };
        }
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
            (None, None) if self.cell == CellKind::Gru => fail(
                "the .npz does not record the Keras GRU's activations: pass --nonlinearity tanh \
                 if the model used Keras' defaults (activation='tanh', \
                 recurrent_activation='sigmoid'); other activations are not supported",
            ),
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
            let (h, gh) = (self.hidden, self.gates() * self.hidden);
            let permute = |rows: &mut Vec<f32>, width: usize| {
                let old = rows.clone();
                for (new, &from) in old_ids.iter().enumerate() {
                    rows[new * width..(new + 1) * width]
                        .copy_from_slice(&old[from * width..(from + 1) * width]);
                }
            };
            permute(&mut self.w_xh, gh);
            permute(&mut self.w_hy, h);
            permute(&mut self.b_y, 1);
        }
        Ok(sorted.into_iter().map(|(c, _)| c).collect())
    }

    /// The weights of tensor `name` of a cell (its [`TensorSpec`](crate::model::TensorSpec)
    /// name), at the live sizes.
    fn tensor(&self, name: &str) -> Option<&[f32]> {
        match name {
            "w_xh" => Some(&self.w_xh),
            "w_hh" => Some(&self.w_hh),
            "b_h" | "b_xh" => Some(&self.b_h),
            "b_hh" => Some(&self.b_hh),
            "w_hy" => Some(&self.w_hy),
            "b_y" => Some(&self.b_y),
            _ => None,
        }
    }

    /// Copies the weights into `model`, an [`Rnn`](crate::Rnn) or a
    /// [`Gru`](crate::model::Gru) as [`Weights::cell`] says, padding inputs and outputs with
    /// zeros.
    ///
    /// # Errors
    /// A [`WeightsError`] if the model is another cell, `H` differs from the weights' hidden
    /// size or they have more inputs or outputs than `I` or `O`.
    pub fn copy_into<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
        &self,
        model: &mut C,
    ) -> Result<(), WeightsError> {
        if C::KIND != self.cell {
            return fail(format!(
                "weights of the {} cell do not fit a model of the {} cell",
                self.cell.name(),
                C::KIND.name()
            ));
        }
        if self.hidden != H || self.inputs > I || self.outputs > O {
            return fail(format!(
                "weights of {} inputs, {} hidden, {} outputs do not fit a model of {I}, {H}, {O}",
                self.inputs, self.hidden, self.outputs
            ));
        }
        let live = Live {
            inputs: self.inputs,
            outputs: self.outputs,
        };
        // Check every tensor before writing any, so a failure leaves `model` as it was.
        let mut sources = Vec::with_capacity(C::TENSORS.len());
        for spec in C::TENSORS {
            match self.tensor(spec.name) {
                Some(values) if values.len() == spec.live_len(live) => sources.push(values),
                found => {
                    return fail(format!(
                        "tensor {} of the {}: {} values, expected {}",
                        spec.name,
                        self.cell.name(),
                        found.map_or(0, <[f32]>::len),
                        spec.live_len(live)
                    ));
                }
            }
        }
        model.fill_zero();
        for (index, values) in sources.into_iter().enumerate() {
            model.tensor_mut(index)[..values.len()].copy_from_slice(values);
        }
        Ok(())
    }
}
