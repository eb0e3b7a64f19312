//! Finding the tensors of an Elman RNN or GRU language model by their roles and shapes, under
//! any module names and prefixes (`module.` from `DataParallel`, `_orig_mod.` from
//! `torch.compile`, word_language_model's `encoder`/`rnn`/`decoder`, `embed`/`head`, Keras layer
//! names):
//!
//! - the recurrent layer by its suffixes: PyTorch `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`,
//!   `bias_hh_l0`; Keras `kernel`, `recurrent_kernel`, `bias` under one prefix;
//! - the cell by the recurrent weights' shape: `H` rows of `weight_hh_l0` (`H` columns of
//!   `recurrent_kernel`) are an Elman RNN, `3H` a GRU, `4H` an LSTM (refused by name); a Keras
//!   GRU's bias is `[2, 3H]` (`reset_after=True`, Keras 3's default and PyTorch's equations),
//!   `[3H]` is `reset_after=False` (refused by name), and its gates z, r, h become PyTorch's
//!   r, z, n;
//! - the output layer as the one remaining 2-D weight of `H` inputs that has a bias beside it
//!   (`X.weight` + `X.bias`, Keras `X/kernel` + `X/bias`);
//! - the embedding as the one remaining 2-D table whose width is the recurrent layer's input
//!   width (an `nn.Embedding` has no bias, which tells it from a tied output layer).
//!
//! Anything left over, or a role two tensors could fill, is an error that lists what was found
//! and what is missing. `np.savez(f, *model.get_weights())` names its arrays `arr_0`, `arr_1`,
//! …: they are given Keras names in `get_weights()` order (and PyTorch names in
//! `model.parameters()` order when two 1-D biases follow the recurrent weights).

use super::weight_table::{Framework, Table, Weights, WeightsError};
use crate::model::CellKind;
use std::collections::HashMap;

/// A 2-D (or 1-D) `F32` tensor of a file.
pub(super) struct Tensor {
    pub(super) shape: Vec<usize>,
    pub(super) values: Vec<f32>,
}

impl Tensor {
    pub(super) fn rows(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    pub(super) fn cols(&self) -> usize {
        self.shape.get(1).copied().unwrap_or(1)
    }

    /// Entry `(r, c)` of a 2-D tensor.
    fn at(&self, r: usize, c: usize) -> f32 {
        self.values[r * self.cols() + c]
    }

    /// The transpose, as a row-major `Vec`.
    pub(super) fn transposed(&self) -> Vec<f32> {
        let (rows, cols) = (self.rows(), self.cols());
        (0..cols)
            .flat_map(|c| (0..rows).map(move |r| (r, c)))
            .map(|(r, c)| self.at(r, c))
            .collect()
    }
}

fn fail<T>(message: impl Into<String>) -> Result<T, WeightsError> {
    Err(WeightsError(message.into()))
}

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

/// Refuses a tensor whose shape is not `expected` (written as `what`).
fn expect_shape(
    name: &str,
    t: &Tensor,
    expected: &[usize],
    what: &str,
) -> Result<(), WeightsError> {
    if t.shape != expected {
        let hint = match (t.shape.as_slice(), expected) {
            ([r, c], [_, _]) if *r == 4 * c => " (an LSTM's; only an Elman RNN or a GRU is read)",
            ([r, c], [_, _]) if *c == 4 * r => {
                " (a Keras LSTM's; only a SimpleRNN or a GRU is read)"
            }
            _ => "",
        };
        return fail(format!(
            "tensor {name}: shape {:?}, expected {what} = {expected:?}{hint}",
            t.shape
        ));
    }
    Ok(())
}

/// The one name ending in `suffix`, if there is exactly one.
fn unique<'n>(names: &[&'n str], suffix: &str) -> Result<Option<&'n str>, WeightsError> {
    let found: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.ends_with(suffix))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        many => fail(format!(
            "several recurrent layers ({}): one is expected",
            many.join(", ")
        )),
    }
}

/// The file's names, sorted, with positional `arr_N` names (an `np.savez(f, *arrays)`) renamed
/// by role.
pub(super) fn named(file: Table) -> Result<Table, WeightsError> {
    let positional = !file.is_empty()
        && file.keys().all(|n| {
            n.strip_prefix("arr_")
                .is_some_and(|i| i.parse::<usize>().is_ok())
        });
    if !positional {
        return Ok(file);
    }
    let mut arrays: Vec<(usize, _)> = file
        .into_iter()
        .filter_map(|(n, raw)| Some((n.strip_prefix("arr_")?.parse::<usize>().ok()?, raw)))
        .collect();
    arrays.sort_by_key(|(i, _)| *i);
    let ranks: Vec<usize> = arrays.iter().map(|(_, raw)| raw.shape.len()).collect();
    let names: &[&str] = match ranks.as_slice() {
        [2, 2, 1, 2, 1] => &KERAS_ORDER[1..],
        [2, 2, 2, 1, 2, 1] => &KERAS_ORDER,
        [2, 2, 2, 2, 1] => &KERAS_GRU_ORDER[1..],
        [2, 2, 2, 2, 2, 1] => &KERAS_GRU_ORDER,
        [2, 2, 1, 1, 2, 1] => &TORCH_ORDER[1..],
        [2, 2, 2, 1, 1, 2, 1] => &TORCH_ORDER,
        _ => {
            return fail(format!(
                "arrays arr_0..arr_{} of ranks {ranks:?} (np.savez of positional arrays): \
                 expected Keras get_weights() order (embedding?, kernel, recurrent kernel, bias, \
                 dense kernel, dense bias; a GRU's bias is 2-D) or PyTorch parameters() order",
                ranks.len().saturating_sub(1)
            ));
        }
    };
    Ok(names
        .iter()
        .zip(arrays)
        .map(|(name, (_, raw))| (name.to_string(), raw))
        .collect())
}

/// Keras `get_weights()` of `Embedding` + `SimpleRNN` + `Dense`, as named here.
const KERAS_ORDER: [&str; 6] = [
    "embedding/embeddings",
    "simple_rnn/kernel",
    "simple_rnn/recurrent_kernel",
    "simple_rnn/bias",
    "dense/kernel",
    "dense/bias",
];

/// Keras `get_weights()` of `Embedding` + `GRU` (`reset_after=True`: a `[2, 3H]` bias) +
/// `Dense`, as named here.
const KERAS_GRU_ORDER: [&str; 6] = [
    "embedding/embeddings",
    "gru/gru_cell/kernel",
    "gru/gru_cell/recurrent_kernel",
    "gru/gru_cell/bias",
    "dense/kernel",
    "dense/bias",
];

/// PyTorch `parameters()` of `nn.Embedding` + `nn.RNN` (or `nn.GRU`) + `nn.Linear`.
const TORCH_ORDER: [&str; 7] = [
    "embedding.weight",
    "rnn.weight_ih_l0",
    "rnn.weight_hh_l0",
    "rnn.bias_ih_l0",
    "rnn.bias_hh_l0",
    "linear.weight",
    "linear.bias",
];

/// The weights of `file`, whose tensors are found by role.
pub(super) fn find(file: &Table) -> Result<Weights, WeightsError> {
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
    if let Some(ih) = unique(&names, "weight_ih_l0")? {
        pytorch(file, &names, ih)
    } else if let Some(recurrent) = unique(&names, "recurrent_kernel")? {
        keras(file, &names, recurrent)
    } else {
        fail(format!(
            "no recurrent layer: expected PyTorch nn.RNN or nn.GRU tensors (weight_ih_l0, \
             weight_hh_l0, bias_ih_l0, bias_hh_l0) or Keras SimpleRNN or GRU tensors (kernel, \
             recurrent_kernel, bias); found {}",
            names.join(", ")
        ))
    }
}

/// The recurrent layer as micrornn holds it (gates in PyTorch's order).
struct Recurrent {
    cell: CellKind,
    hidden: usize,
    /// `[X, gates·H]`: one row per input (or embedding column).
    w_xh: Tensor,
    /// `gates·H` rows of `H`.
    w_hh: Vec<f32>,
    /// Elman: `b_ih + b_hh`; GRU: `b_ih` (`gates·H`).
    b_h: Vec<f32>,
    /// GRU: `b_hh` (`gates·H`); Elman: empty.
    b_hh: Vec<f32>,
}

/// The cell of a recurrent layer whose recurrent weights stack `gates` blocks of `H` (PyTorch's
/// `weight_hh_l0` rows, Keras' `recurrent_kernel` columns); `layer` names it in errors.
fn cell_of(gates: usize, layer: &str, shape: &[usize]) -> Result<CellKind, WeightsError> {
    match gates {
        1 => Ok(CellKind::Elman),
        3 => Ok(CellKind::Gru),
        4 => fail(format!(
            "tensor {layer}: shape {shape:?} stacks 4 gates: an LSTM, which micrornn does not \
             run (it reads an Elman RNN or a GRU: 1 or 3 blocks of H)"
        )),
        _ => fail(format!(
            "tensor {layer}: shape {shape:?} is not 1 (an Elman RNN) or 3 (a GRU) blocks of H"
        )),
    }
}

/// The cell, with its article, in errors.
fn cell_name(cell: CellKind) -> &'static str {
    match cell {
        CellKind::Elman => "an Elman RNN",
        CellKind::Gru => "a GRU",
    }
}

/// The output and embedding layers among `rest`, for the recurrent `layer` (found as `found`).
/// `bias_of(name)` gives the bias name of a weight name (or `None` when it cannot be an output
/// weight); `h_first` says the output weight is `[H, O]` (Keras).
fn output_and_embedding<'n>(
    file: &Table,
    rest: &[&'n str],
    layer: &Recurrent,
    bias_of: impl Fn(&str) -> Option<String>,
    h_first: bool,
    found: &str,
) -> Result<(&'n str, String, Option<&'n str>), WeightsError> {
    let (hidden, input_width) = (layer.hidden, layer.w_xh.rows());
    let shape = |n: &str| file.get(n).map(|raw| raw.shape.clone()).unwrap_or_default();
    let outputs: Vec<(&str, String)> = rest
        .iter()
        .filter_map(|&n| {
            let bias = bias_of(n)?;
            let (w, b) = (shape(n), shape(&bias));
            let fits = match (w.as_slice(), b.as_slice()) {
                ([o, h], [bo]) if !h_first => *h == hidden && o == bo,
                ([h, o], [bo]) if h_first => *h == hidden && o == bo,
                _ => false,
            };
            fits.then_some((n, bias))
        })
        .collect();
    let orientation = if h_first { "[H, O]" } else { "[O, H]" };
    let (output, bias) = match outputs.as_slice() {
        [one] => one.clone(),
        [] => {
            return fail(format!(
                "found {found}; missing the output layer: a {orientation} weight (H = {hidden}) with \
                 its [O] bias beside it; other tensors: {}",
                listed(rest, &shape)
            ));
        }
        many => {
            let list: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
            return fail(format!(
                "found {found}; several tensors could be the output layer: {}",
                list.join(", ")
            ));
        }
    };
    let left: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|&n| n != output && n != bias)
        .collect();
    let embeddings: Vec<&str> = left
        .iter()
        .copied()
        .filter(|&n| matches!(shape(n).as_slice(), [_, d] if *d == input_width))
        .collect();
    let embedding = match embeddings.as_slice() {
        [] => None,
        [one] => Some(*one),
        many => {
            return fail(format!(
                "found {found} and the output layer {output}; several tensors could be the \
                 embedding: {}",
                many.join(", ")
            ));
        }
    };
    let unexplained: Vec<&str> = left
        .iter()
        .copied()
        .filter(|&n| Some(n) != embedding)
        .collect();
    if !unexplained.is_empty() {
        return fail(format!(
            "found {found}, the output layer {output}{}; tensors with no role in {} \
             language model: {}",
            embedding.map_or(String::new(), |e| format!(" and the embedding {e}")),
            cell_name(layer.cell),
            listed(&unexplained, &shape)
        ));
    }
    Ok((output, bias, embedding))
}

/// `name [shape]` for each name.
fn listed(names: &[&str], shape: &impl Fn(&str) -> Vec<usize>) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("{n} {:?}", shape(n)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `nn.Embedding`? + `nn.RNN` or `nn.GRU` + `nn.Linear`, under any names.
fn pytorch(file: &Table, names: &[&str], ih_name: &str) -> Result<Weights, WeightsError> {
    let prefix = ih_name.trim_end_matches("weight_ih_l0");
    let name = |n: &str| format!("{prefix}{n}");
    let w_hh = tensor(file, &name("weight_hh_l0"), 2)?;
    let hidden = w_hh.cols();
    if hidden == 0 || w_hh.rows() % hidden != 0 {
        return fail(format!(
            "tensor {}: shape {:?}, expected [H, H] (nn.RNN) or [3H, H] (nn.GRU) with H > 0",
            name("weight_hh_l0"),
            w_hh.shape
        ));
    }
    let cell = cell_of(w_hh.rows() / hidden, &name("weight_hh_l0"), &w_hh.shape)?;
    let gates = cell.gates();
    let rows = if gates == 1 { "H" } else { "3H" };
    let w_ih = tensor(file, ih_name, 2)?;
    let width = w_ih.cols();
    expect_shape(
        ih_name,
        &w_ih,
        &[gates * hidden, width],
        &format!("[{rows}, inputs]"),
    )?;
    let b_ih = tensor(file, &name("bias_ih_l0"), 1)?;
    let b_hh = tensor(file, &name("bias_hh_l0"), 1)?;
    let bias_shape = format!("[{rows}]");
    expect_shape(&name("bias_ih_l0"), &b_ih, &[gates * hidden], &bias_shape)?;
    expect_shape(&name("bias_hh_l0"), &b_hh, &[gates * hidden], &bias_shape)?;
    let (b_h, b_hh) = match cell {
        // b_h = b_ih + b_hh; a zero b_hh leaves b_ih's bits (and the sign of a zero) alone.
        CellKind::Elman => (
            b_ih.values
                .iter()
                .zip(&b_hh.values)
                .map(|(&a, &b)| if b == 0.0 { a } else { a + b })
                .collect(),
            Vec::new(),
        ),
        // b_hn sits inside the reset product: the two biases stay apart.
        CellKind::Gru => (b_ih.values, b_hh.values),
    };
    let layer = Recurrent {
        cell,
        hidden,
        w_xh: Tensor {
            shape: vec![width, gates * hidden],
            values: w_ih.transposed(),
        },
        w_hh: w_hh.values,
        b_h,
        b_hh,
    };
    let rnn_names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"].map(name);
    let rest: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !rnn_names.iter().any(|r| r == n))
        .collect();
    let found = format!(
        "the recurrent layer {prefix}*_l0 ({}, H = {hidden})",
        cell_name(cell)
    );
    let bias_of = |n: &str| n.strip_suffix("weight").map(|p| format!("{p}bias"));
    let (output, bias, embedding) =
        output_and_embedding(file, &rest, &layer, bias_of, false, &found)?;
    let w_hy = tensor(file, output, 2)?;
    let b_y = tensor(file, &bias, 1)?;
    let embedding = embedding.map(|e| tensor(file, e, 2)).transpose()?;
    Ok(assemble(
        layer,
        embedding,
        w_hy.values,
        b_y.values,
        Framework::PyTorch,
    ))
}

/// `Embedding`? + `SimpleRNN` or `GRU` + `Dense`, under any names.
fn keras(file: &Table, names: &[&str], recurrent_name: &str) -> Result<Weights, WeightsError> {
    let prefix = recurrent_name.trim_end_matches("recurrent_kernel");
    let (kernel_name, bias_name) = (format!("{prefix}kernel"), format!("{prefix}bias"));
    let recurrent = tensor(file, recurrent_name, 2)?;
    let hidden = recurrent.rows();
    if hidden == 0 || recurrent.cols() % hidden != 0 {
        return fail(format!(
            "tensor {recurrent_name}: shape {:?}, expected [H, H] (SimpleRNN) or [H, 3H] (GRU) \
             with H > 0",
            recurrent.shape
        ));
    }
    let cell = cell_of(recurrent.cols() / hidden, recurrent_name, &recurrent.shape)?;
    let gates = cell.gates();
    let kernel = tensor(file, &kernel_name, 2)?;
    let columns = if gates == 1 { "H" } else { "3H" };
    expect_shape(
        &kernel_name,
        &kernel,
        &[kernel.rows(), gates * hidden],
        &format!("[inputs, {columns}]"),
    )?;
    let layer = match cell {
        CellKind::Elman => {
            let bias = tensor(file, &bias_name, 1)?;
            expect_shape(&bias_name, &bias, &[hidden], "[H]")?;
            Recurrent {
                cell,
                hidden,
                w_xh: kernel,
                w_hh: recurrent.transposed(),
                b_h: bias.values,
                b_hh: Vec::new(),
            }
        }
        CellKind::Gru => {
            let raw_bias = file
                .get(&bias_name)
                .ok_or_else(|| WeightsError(format!("tensor {bias_name} is missing")))?;
            if raw_bias.shape == [3 * hidden] {
                return fail(format!(
                    "tensor {bias_name}: shape {:?}: a Keras GRU with reset_after=False, whose \
                     candidate resets the state before the recurrent product; micrornn runs \
                     PyTorch's GRU, which is Keras' reset_after=True (the default since \
                     TensorFlow 2): retrain with GRU(units) or GRU(units, reset_after=True)",
                    raw_bias.shape
                ));
            }
            let bias = tensor(file, &bias_name, 2)?;
            expect_shape(
                &bias_name,
                &bias,
                &[2, 3 * hidden],
                "[2, 3H] (reset_after=True)",
            )?;
            let (input_bias, recurrent_bias) = bias.values.split_at(3 * hidden);
            Recurrent {
                cell,
                hidden,
                w_xh: Tensor {
                    values: keras_gates_to_pytorch(&kernel.values, hidden),
                    shape: kernel.shape,
                },
                w_hh: keras_gates_to_pytorch(&recurrent.transposed(), hidden * hidden),
                b_h: keras_gates_to_pytorch(input_bias, hidden),
                b_hh: keras_gates_to_pytorch(recurrent_bias, hidden),
            }
        }
    };
    let rest: Vec<&str> = names
        .iter()
        .copied()
        .filter(|&n| n != kernel_name && n != bias_name && n != recurrent_name)
        .collect();
    let found = format!(
        "the recurrent layer {prefix}* ({}, H = {hidden})",
        cell_name(cell)
    );
    let bias_of = |n: &str| n.strip_suffix("kernel").map(|p| format!("{p}bias"));
    let (output, dense_bias, embedding) =
        output_and_embedding(file, &rest, &layer, bias_of, true, &found)?;
    let w_hy = tensor(file, output, 2)?;
    let b_y = tensor(file, &dense_bias, 1)?;
    let embedding = embedding.map(|e| tensor(file, e, 2)).transpose()?;
    Ok(assemble(
        layer,
        embedding,
        w_hy.transposed(),
        b_y.values,
        Framework::Keras,
    ))
}

/// Keras' GRU gate order (z, r, h) as PyTorch's (r, z, n): in every run of three `block`-long
/// blocks of `values`, the first two swap places. A kernel row has blocks of `H`, the
/// transposed recurrent kernel one run of blocks of `H·H`, a bias blocks of `H`.
fn keras_gates_to_pytorch(values: &[f32], block: usize) -> Vec<f32> {
    let mut out = values.to_vec();
    if block > 0 {
        for run in out.chunks_exact_mut(3 * block) {
            let (z, r) = run.split_at_mut(block);
            z.swap_with_slice(&mut r[..block]);
        }
    }
    out
}

/// The weights, with `embedding` (V × D) folded into the input rows.
fn assemble(
    recurrent: Recurrent,
    embedding: Option<Tensor>,
    w_hy: Vec<f32>,
    b_y: Vec<f32>,
    framework: Framework,
) -> Weights {
    let rows = recurrent.w_xh.rows();
    let (w_xh, inputs) = match &embedding {
        Some(table) => (fold_embedding(table, &recurrent.w_xh), table.rows()),
        None => (recurrent.w_xh.values, rows),
    };
    Weights {
        cell: recurrent.cell,
        inputs,
        hidden: recurrent.hidden,
        outputs: b_y.len(),
        w_xh,
        w_hh: recurrent.w_hh,
        b_h: recurrent.b_h,
        b_hh: recurrent.b_hh,
        w_hy,
        b_y,
        framework,
        embedding: embedding.is_some(),
        metadata: HashMap::new(),
    }
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
