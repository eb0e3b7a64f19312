//! PyTorch and Keras weights in and out (`safetensors`; `.npz` in, parsed in `src/host/npz.rs`): an `nn.RNN` (tanh, one layer) followed
//! by an `nn.Linear`, or a Keras `SimpleRNN` followed by a `Dense`, each with or without an
//! embedding in front.
//!
//! | framework | tensors (shapes; `D` = embedding width, `V` = vocabulary, `O` = outputs) | becomes |
//! |---|---|---|
//! | PyTorch | `[P]weight_ih_l0` (H × V, or H × D after an embedding) | `w_xh = weight_ih_l0ᵀ` (or `embedding.weight · weight_ih_l0ᵀ`) |
//! | | `[P]weight_hh_l0` (H × H) | `w_hh` |
//! | | `[P]bias_ih_l0`, `[P]bias_hh_l0` (H) | `b_h` = their sum |
//! | | `embedding.weight` (V × D), optional | folded into `w_xh` |
//! | | one more `weight` (O × H) and `bias` (O): the `nn.Linear` (e.g. `linear.weight`) | `w_hy`, `b_y` |
//! | Keras | `[P]kernel` (V × H or D × H), `[P]recurrent_kernel` (H × H), `[P]bias` (H) of the `SimpleRNN` | `w_xh`, `w_hh = recurrent_kernelᵀ`, `b_h` |
//! | | `[Q]embeddings` (V × D), optional | folded into `w_xh` |
//! | | one more `kernel` (H × O) and `bias` (O): the `Dense` | `w_hy = kernelᵀ`, `b_y` |
//!
//! Every tensor must be `F32`. A `nonlinearity` (PyTorch) or `activation` (Keras) entry in the
//! file's metadata other than `tanh` is refused; a second layer (`_l1`) or direction
//! (`_reverse`) too. [`export`] writes `rnn.weight_ih_l0`, `rnn.weight_hh_l0`, `rnn.bias_ih_l0`
//! (the bias), `rnn.bias_hh_l0` (zeros), `linear.weight` and `linear.bias`, the state dict of
//! a module with fields `rnn = nn.RNN(I, H)` and `linear = nn.Linear(H, O)`, so it loads with
//! `load_state_dict` unchanged; the vocabulary, live classes, initial state and metadata go in
//! the file's `__metadata__` so an import of an export gives back the same model file.

use super::bounded::Budget;
pub use super::weights_budget::{DEFAULT_BUDGET, MAX_HEADER_BYTES, budget_for};
use crate::Rnn;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
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

/// A 2-D (or 1-D) `F32` tensor of a file.
struct Tensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

impl Tensor {
    fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    fn cols(&self) -> usize {
        self.shape.get(1).copied().unwrap_or(1)
    }

    /// Entry `(r, c)` of a 2-D tensor.
    fn at(&self, r: usize, c: usize) -> f32 {
        self.values[r * self.cols() + c]
    }

    /// The transpose, as a row-major `Vec`.
    fn transposed(&self) -> Vec<f32> {
        let (rows, cols) = (self.rows(), self.cols());
        (0..cols)
            .flat_map(|c| (0..rows).map(move |r| (r, c)))
            .map(|(r, c)| self.at(r, c))
            .collect()
    }
}

/// A tensor as stored: its dtype's name, its shape, and its values if it is `F32`.
pub(super) struct Raw {
    pub(super) dtype: String,
    pub(super) shape: Vec<usize>,
    pub(super) values: Option<Vec<f32>>,
}

/// A file's tensors by name, whichever container they came in.
pub(super) type Table = HashMap<String, Raw>;

/// The file's tensor `name`, which must be `F32` of `rank` dimensions.
fn tensor(file: &Table, name: &str, rank: usize) -> Result<Tensor, WeightsError> {
    let raw = file
        .get(name)
        .ok_or_else(|| WeightsError(format!("tensor {name} is missing")))?;
    let Some(values) = &raw.values else {
        return fail(format!("tensor {name}: dtype {}, expected F32", raw.dtype));
    };
    if raw.shape.len() != rank {
        return fail(format!(
            "tensor {name}: shape {:?}, expected {rank} dimensions",
            raw.shape
        ));
    }
    Ok(Tensor {
        shape: raw.shape.clone(),
        values: values.clone(),
    })
}

/// The tensors of a safetensors file and its `__metadata__`; every tensor's bytes are taken from
/// `budget` before it is converted.
fn read_safetensors(
    bytes: &[u8],
    budget: &mut Budget,
) -> Result<(Table, HashMap<String, String>), WeightsError> {
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| WeightsError(format!("not a safetensors file ({e})")))?;
    let metadata = SafeTensors::read_metadata(bytes)
        .ok()
        .and_then(|(_, m)| m.metadata().clone())
        .unwrap_or_default();
    let mut tensors = file.tensors();
    tensors.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut table = Table::new();
    for (name, view) in tensors {
        let what = format!("tensor {name}: shape {:?} {:?}", view.shape(), view.dtype());
        budget
            .take(&what, view.data().len() as u64)
            .map_err(WeightsError)?;
        let values = (view.dtype() == Dtype::F32).then(|| {
            view.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        });
        let raw = Raw {
            dtype: format!("{:?}", view.dtype()),
            shape: view.shape().to_vec(),
            values,
        };
        table.insert(name, raw);
    }
    Ok((table, metadata))
}

/// Refuses a tensor whose shape is not `expected` (written as `what`).
fn expect_shape(
    name: &str,
    t: &Tensor,
    expected: &[usize],
    what: &str,
) -> Result<(), WeightsError> {
    if t.shape != expected {
        return fail(format!(
            "tensor {name}: shape {:?}, expected {what} = {expected:?}",
            t.shape
        ));
    }
    Ok(())
}

/// The one name ending in `suffix`, if there is exactly one.
fn unique<'n>(
    names: &[&'n str],
    suffix: &str,
    exclude: &[&str],
) -> Result<Option<&'n str>, WeightsError> {
    let found: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.ends_with(suffix) && !exclude.contains(n))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => fail(format!(
            "several tensors end in {suffix}: {}",
            many.join(", ")
        )),
    }
}

/// Reads the weights of a `safetensors` file or a numpy `.npz` (PyTorch or Keras names, see the
/// module docs) within [`DEFAULT_BUDGET`].
///
/// # Errors
/// As [`import_within`].
pub fn import(bytes: &[u8]) -> Result<Weights, WeightsError> {
    import_within(bytes, DEFAULT_BUDGET)
}

/// Reads the weights of a `safetensors` file or a numpy `.npz` (PyTorch or Keras names, see the
/// module docs), refusing from its declared shape, before converting or inflating it, any tensor
/// larger than the budget's largest item or past its total ([`budget_for`]).
///
/// # Errors
/// A [`WeightsError`] naming what was expected: not a safetensors file, a file or tensor larger
/// than the budget, a missing tensor, a wrong dtype or shape, a non-tanh nonlinearity, more than
/// one layer or direction.
pub fn import_within(bytes: &[u8], mut budget: Budget) -> Result<Weights, WeightsError> {
    if bytes.starts_with(&crate::format::MAGIC) {
        return fail("this is a micrornn model file, not safetensors weights");
    }
    if bytes.len() as u64 > budget.total_bytes {
        return fail(format!(
            "{} bytes, more than the weights of the largest model this build can import hold \
             ({} bytes)",
            bytes.len(),
            budget.total_bytes
        ));
    }
    let (file, metadata) = if bytes.starts_with(b"PK\x03\x04") {
        (super::npz::read(bytes, &mut budget)?, HashMap::new())
    } else {
        read_safetensors(bytes, &mut budget)?
    };
    for key in ["nonlinearity", "activation"] {
        if let Some(value) = metadata.get(key).filter(|v| v.as_str() != "tanh") {
            return fail(format!(
                "{key} {value}: only tanh is supported ({key}=tanh expected)"
            ));
        }
    }
    let mut names: Vec<&str> = file.keys().map(String::as_str).collect();
    names.sort_unstable();
    if let Some(bad) = names
        .iter()
        .find(|n| n.contains("_l1") || n.contains("_reverse"))
    {
        return fail(format!(
            "tensor {bad}: one layer in one direction expected (only *_l0 tensors)"
        ));
    }
    let mut weights = if unique(&names, "weight_ih_l0", &[])?.is_some() {
        pytorch(&file, &names)?
    } else if unique(&names, "recurrent_kernel", &[])?.is_some() {
        keras(&file, &names)?
    } else {
        return fail(format!(
            "expected PyTorch nn.RNN tensors (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0) \
             or Keras SimpleRNN tensors (kernel, recurrent_kernel, bias); found {}",
            names.join(", ")
        ));
    };
    weights.metadata = metadata;
    Ok(weights)
}

/// `nn.Embedding`? + `nn.RNN` + `nn.Linear`.
fn pytorch(file: &Table, names: &[&str]) -> Result<Weights, WeightsError> {
    let ih_name = unique(names, "weight_ih_l0", &[])?.unwrap_or_default();
    let prefix = ih_name.trim_end_matches("weight_ih_l0");
    let name = |n: &str| format!("{prefix}{n}");
    let w_ih = tensor(file, ih_name, 2)?;
    let hidden = w_ih.rows();
    let w_hh = tensor(file, &name("weight_hh_l0"), 2)?;
    expect_shape(&name("weight_hh_l0"), &w_hh, &[hidden, hidden], "[H, H]")?;
    let b_ih = tensor(file, &name("bias_ih_l0"), 1)?;
    let b_hh = tensor(file, &name("bias_hh_l0"), 1)?;
    expect_shape(&name("bias_ih_l0"), &b_ih, &[hidden], "[H]")?;
    expect_shape(&name("bias_hh_l0"), &b_hh, &[hidden], "[H]")?;
    // b_h = b_ih + b_hh; a zero b_hh leaves b_ih's bits (and the sign of a zero) alone.
    let b_h = b_ih
        .values
        .iter()
        .zip(&b_hh.values)
        .map(|(&a, &b)| if b == 0.0 { a } else { a + b })
        .collect();
    let embedding_name = names.iter().copied().find(|n| *n == "embedding.weight");
    let (w_xh, inputs) = match embedding_name {
        Some(e) => {
            let table = tensor(file, e, 2)?;
            expect_shape(
                ih_name,
                &w_ih,
                &[hidden, table.cols()],
                "[H, embedding width]",
            )?;
            (
                fold_embedding(
                    &table,
                    &Tensor {
                        shape: vec![w_ih.cols(), hidden],
                        values: w_ih.transposed(),
                    },
                ),
                table.rows(),
            )
        }
        None => (w_ih.transposed(), w_ih.cols()),
    };
    let rnn_names: Vec<String> = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        .map(name)
        .to_vec();
    let mut exclude: Vec<&str> = rnn_names.iter().map(String::as_str).collect();
    exclude.extend(embedding_name);
    let linear = unique(names, "weight", &exclude)?.ok_or_else(|| {
        WeightsError("expected the nn.Linear after the RNN: a tensor named weight (e.g. linear.weight) and its bias".into())
    })?;
    let bias_name = format!("{}bias", linear.trim_end_matches("weight"));
    let w_hy = tensor(file, linear, 2)?;
    let outputs = w_hy.rows();
    expect_shape(linear, &w_hy, &[outputs, hidden], "[O, H]")?;
    let b_y = tensor(file, &bias_name, 1)?;
    expect_shape(&bias_name, &b_y, &[outputs], "[O]")?;
    Ok(Weights {
        inputs,
        hidden,
        outputs,
        w_xh,
        w_hh: w_hh.values,
        b_h,
        w_hy: w_hy.values,
        b_y: b_y.values,
        framework: Framework::PyTorch,
        embedding: embedding_name.is_some(),
        metadata: HashMap::new(),
    })
}

/// `Embedding`? + `SimpleRNN` + `Dense`.
fn keras(file: &Table, names: &[&str]) -> Result<Weights, WeightsError> {
    let recurrent_name = unique(names, "recurrent_kernel", &[])?.unwrap_or_default();
    let prefix = recurrent_name.trim_end_matches("recurrent_kernel");
    let (kernel_name, bias_name) = (format!("{prefix}kernel"), format!("{prefix}bias"));
    let recurrent = tensor(file, recurrent_name, 2)?;
    let hidden = recurrent.rows();
    expect_shape(recurrent_name, &recurrent, &[hidden, hidden], "[H, H]")?;
    let kernel = tensor(file, &kernel_name, 2)?;
    expect_shape(
        &kernel_name,
        &kernel,
        &[kernel.rows(), hidden],
        "[inputs, H]",
    )?;
    let bias = tensor(file, &bias_name, 1)?;
    expect_shape(&bias_name, &bias, &[hidden], "[H]")?;
    let embedding_name = unique(names, "embeddings", &[])?;
    let (w_xh, inputs) = match embedding_name {
        Some(e) => {
            let table = tensor(file, e, 2)?;
            expect_shape(
                &kernel_name,
                &kernel,
                &[table.cols(), hidden],
                "[embedding width, H]",
            )?;
            (fold_embedding(&table, &kernel), table.rows())
        }
        None => (kernel.values.clone(), kernel.rows()),
    };
    let exclude = [kernel_name.as_str(), recurrent_name];
    let dense = unique(names, "kernel", &exclude)?.ok_or_else(|| {
        WeightsError("expected the Dense after the SimpleRNN: a tensor named kernel (e.g. dense/kernel) and its bias".into())
    })?;
    let dense_bias = format!("{}bias", dense.trim_end_matches("kernel"));
    let w_hy = tensor(file, dense, 2)?;
    let outputs = w_hy.cols();
    expect_shape(dense, &w_hy, &[hidden, outputs], "[H, O]")?;
    let b_y = tensor(file, &dense_bias, 1)?;
    expect_shape(&dense_bias, &b_y, &[outputs], "[O]")?;
    Ok(Weights {
        inputs,
        hidden,
        outputs,
        w_xh,
        w_hh: recurrent.transposed(),
        b_h: bias.values,
        w_hy: w_hy.transposed(),
        b_y: b_y.values,
        framework: Framework::Keras,
        embedding: embedding_name.is_some(),
        metadata: HashMap::new(),
    })
}

/// `table · kernel`: (V × D) · (D × H), the input rows an embedding followed by a dense input
/// layer amounts to.
fn fold_embedding(table: &Tensor, kernel: &Tensor) -> Vec<f32> {
    let (v, d, h) = (table.rows(), table.cols(), kernel.cols());
    let mut out = vec![0.0f32; v * h];
    for (row, out_row) in out.chunks_exact_mut(h.max(1)).enumerate().take(v) {
        for k in 0..d {
            let e = table.at(row, k);
            for (o, &w) in out_row.iter_mut().zip(&kernel.values[k * h..(k + 1) * h]) {
                *o += e * w;
            }
        }
    }
    out
}

impl Weights {
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

/// The PyTorch tensors of `rnn` (names in the module docs) with `metadata` as the file's
/// `__metadata__` (plus `nonlinearity=tanh`).
///
/// # Errors
/// A [`WeightsError`] if `safetensors` refuses to serialize (it does not for these shapes).
pub fn export<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
    mut metadata: HashMap<String, String>,
) -> Result<Vec<u8>, WeightsError> {
    let bytes = |values: &[f32]| {
        values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let w_ih: Vec<f32> = (0..H)
        .flat_map(|h| rnn.w_xh.iter().map(move |row| row[h]))
        .collect();
    let tensors: [(&str, Vec<usize>, Vec<u8>); 6] = [
        ("rnn.weight_ih_l0", vec![H, I], bytes(&w_ih)),
        (
            "rnn.weight_hh_l0",
            vec![H, H],
            bytes(rnn.w_hh.as_flattened()),
        ),
        ("rnn.bias_ih_l0", vec![H], bytes(&rnn.b_h)),
        ("rnn.bias_hh_l0", vec![H], bytes(&[0.0; H])),
        ("linear.weight", vec![O, H], bytes(rnn.w_hy.as_flattened())),
        ("linear.bias", vec![O], bytes(&rnn.b_y)),
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
