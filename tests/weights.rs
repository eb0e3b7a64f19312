//! PyTorch and Keras weights (`scripts/torch_fixtures.py` made the fixtures, with the logits
//! numpy computes from them in float64): imported, the model gives the same logits over 100
//! tokens; every bad file is a clean one-line error naming what was expected.

use micrornn::host::weights::{self, Framework};
use micrornn::model::{CellKind, Gru};
use micrornn::{Input, Rnn};
use safetensors::{Dtype, tensor::TensorView};
use std::collections::HashMap;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");

type Model = Rnn<32, 32, 32>;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).expect("fixture present")
}

/// Imports a fixture into the binary's padded shape (20 live of 32 inputs and outputs).
fn import(name: &str) -> (Box<Model>, weights::Weights) {
    let weights = weights::import(&fixture(name)).expect("imports");
    let mut model = Box::new(Model::ZERO);
    weights.copy_into(&mut *model).expect("fits");
    (model, weights)
}

#[test]
fn imported_models_give_the_reference_logits_over_100_tokens() {
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture("torch_logits.json")).unwrap();
    let tokens: Vec<usize> = serde_json::from_value(expected["tokens"].clone()).unwrap();
    assert_eq!(tokens.len(), 100);
    for (name, framework, embedding) in [
        ("torch_rnn", Framework::PyTorch, false),
        ("torch_rnn_embedding", Framework::PyTorch, true),
        ("keras_rnn", Framework::Keras, false),
    ] {
        let (model, weights) = import(&format!("{name}.safetensors"));
        assert_eq!(
            (weights.framework, weights.embedding),
            (framework, embedding)
        );
        assert_eq!(
            (weights.inputs, weights.hidden, weights.outputs),
            (20, 32, 20)
        );
        let want: Vec<Vec<f64>> = serde_json::from_value(expected["logits"][name].clone()).unwrap();
        let mut hidden = [0.0f32; 32];
        let mut logits = [0.0f32; 32];
        let mut worst = 0.0f64;
        for (t, (&token, want)) in tokens.iter().zip(&want).enumerate() {
            model.step(Input::Token(token), &mut hidden).unwrap();
            model.logits(&hidden, &mut logits);
            for (k, (&got, &want)) in logits.iter().zip(want).enumerate() {
                let error = (f64::from(got) - want).abs() / want.abs().max(1.0);
                worst = worst.max(error);
                assert!(error <= 1e-5, "{name} step {t} logit {k}: {got} vs {want}");
            }
            // Padded outputs stay exactly 0 (and are masked as classes past 20).
            assert!(logits[20..].iter().all(|&l| l == 0.0));
        }
        println!("{name}: worst relative logit error {worst:.2e}");
    }
}

#[test]
fn keras_weights_saved_by_numpy_savez_import_as_the_safetensors_ones() {
    let (from_npz, weights) = import("keras_rnn.npz");
    assert_eq!(
        (weights.framework, weights.inputs, weights.outputs),
        (Framework::Keras, 20, 20)
    );
    let (from_safetensors, _) = import("keras_rnn.safetensors");
    assert_eq!(from_npz, from_safetensors);
    // A damaged archive is a clean error.
    let mut damaged = fixture("keras_rnn.npz");
    damaged.truncate(damaged.len() / 2);
    refused(&damaged, "a damaged zip archive (.npz or .pt)");
}

#[test]
fn export_then_import_is_bit_identical() {
    let (model, _) = import("torch_rnn.safetensors");
    let metadata = HashMap::from([("k".to_string(), "v".to_string())]);
    let bytes = weights::export(&*model, 32, 32, metadata).unwrap();
    let again = weights::import(&bytes).unwrap();
    assert_eq!((again.inputs, again.hidden, again.outputs), (32, 32, 32));
    assert_eq!(again.metadata.get("k").map(String::as_str), Some("v"));
    assert_eq!(
        again.metadata.get("nonlinearity").map(String::as_str),
        Some("tanh")
    );
    let mut back = Box::new(Model::ZERO);
    again.copy_into(&mut *back).unwrap();
    let bits = |m: &Model| {
        m.tensors()
            .iter()
            .flat_map(|t| t.iter().map(|v| v.to_bits()))
            .collect::<Vec<u32>>()
    };
    assert_eq!(bits(&back), bits(&model));
}

/// A safetensors file of `tensors` (name, dtype, shape) filled with small values.
fn file(tensors: &[(&str, Dtype, &[usize])], metadata: &[(&str, &str)]) -> Vec<u8> {
    let data: Vec<Vec<u8>> = tensors
        .iter()
        .map(|(_, dtype, shape)| vec![0u8; shape.iter().product::<usize>() * dtype.bitsize() / 8])
        .collect();
    let views: Vec<(&str, TensorView<'_>)> = tensors
        .iter()
        .zip(&data)
        .map(|((name, dtype, shape), d)| {
            (*name, TensorView::new(*dtype, shape.to_vec(), d).unwrap())
        })
        .collect();
    let metadata = metadata
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    safetensors::serialize(views, Some(metadata)).unwrap()
}

/// The tensors of an nn.RNN(20, 32) + nn.Linear(32, 20), with `change` applied.
fn torch_like(change: impl Fn(&mut Vec<(&'static str, Dtype, Vec<usize>)>)) -> Vec<u8> {
    let mut tensors = vec![
        ("rnn.weight_ih_l0", Dtype::F32, vec![32, 20]),
        ("rnn.weight_hh_l0", Dtype::F32, vec![32, 32]),
        ("rnn.bias_ih_l0", Dtype::F32, vec![32]),
        ("rnn.bias_hh_l0", Dtype::F32, vec![32]),
        ("linear.weight", Dtype::F32, vec![20, 32]),
        ("linear.bias", Dtype::F32, vec![20]),
    ];
    change(&mut tensors);
    let refs: Vec<(&str, Dtype, &[usize])> = tensors
        .iter()
        .map(|(n, d, s)| (*n, *d, s.as_slice()))
        .collect();
    file(&refs, &[])
}

#[track_caller]
fn refused(bytes: &[u8], expected: &str) {
    let error = weights::import(bytes)
        .expect_err("must be refused")
        .to_string();
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(
        error.contains(expected),
        "{error:?} should mention {expected:?}"
    );
}

/// The tensors of a PyTorch model under `names` (embedding, rnn prefix, output), plus `extra`.
fn named(embedding: Option<&str>, rnn: &str, output: &str, extra: &[(&str, &[usize])]) -> Vec<u8> {
    let w = |suffix: &str| format!("{rnn}{suffix}");
    let (ih, hh, bih, bhh) = (
        w("weight_ih_l0"),
        w("weight_hh_l0"),
        w("bias_ih_l0"),
        w("bias_hh_l0"),
    );
    let (out_w, out_b) = (format!("{output}weight"), format!("{output}bias"));
    let emb = embedding.map(|e| format!("{e}weight"));
    let ih_shape = [32, if embedding.is_some() { 8 } else { 20 }];
    let mut tensors: Vec<(&str, Dtype, &[usize])> = vec![
        (&ih, Dtype::F32, &ih_shape),
        (&hh, Dtype::F32, &[32, 32]),
        (&bih, Dtype::F32, &[32]),
        (&bhh, Dtype::F32, &[32]),
        (&out_w, Dtype::F32, &[20, 32]),
        (&out_b, Dtype::F32, &[20]),
    ];
    if let Some(e) = &emb {
        tensors.push((e, Dtype::F32, &[20, 8]));
    }
    tensors.extend(extra.iter().map(|(n, s)| (*n, Dtype::F32, *s)));
    file(&tensors, &[])
}

#[test]
fn tensors_are_found_by_role_under_any_names_and_ambiguity_is_listed() {
    for (embedding, rnn, output) in [
        (Some("encoder."), "rnn.", "decoder."),
        (
            Some("_orig_mod.encoder."),
            "_orig_mod.rnn.",
            "_orig_mod.decoder.",
        ),
        (Some("module.embed."), "module.rnn.", "module.head."),
        (Some("model.tok_emb."), "model.core.cell.", "model.lm_head."),
        (None, "module._orig_mod.rnn.", "module._orig_mod.fc."),
    ] {
        let weights = weights::import(&named(embedding, rnn, output, &[])).unwrap();
        assert_eq!(
            (weights.inputs, weights.outputs, weights.embedding),
            (20, 20, embedding.is_some()),
            "{rnn}"
        );
    }
    // A tied embedding of the output's shape has no bias: still told apart.
    let tied = named(Some("encoder."), "rnn.", "decoder.", &[]);
    assert!(weights::import(&tied).unwrap().embedding);
    refused(
        &named(
            None,
            "rnn.",
            "decoder.",
            &[("head.weight", &[20, 32]), ("head.bias", &[20])],
        ),
        "several tensors could be the output layer: decoder.weight, head.weight",
    );
    refused(
        &named(Some("a."), "rnn.", "out.", &[("b.weight", &[20, 8])]),
        "several tensors could be the embedding: a.weight, b.weight",
    );
    refused(
        &named(None, "rnn.", "out.", &[("norm.weight", &[32])]),
        "tensors with no role in an Elman RNN language model: norm.weight [32]",
    );
    refused(
        &named(None, "a.rnn.", "out.", &[("b.rnn.weight_ih_l0", &[32, 20])]),
        "several recurrent layers (a.rnn.weight_ih_l0, b.rnn.weight_ih_l0)",
    );
    // A GRU is told by its stacked recurrent weights; the rest must be stacked alike.
    refused(
        &torch_like(|t| t[1].2 = vec![96, 32]),
        "rnn.weight_ih_l0: shape [32, 20], expected [3H, inputs] = [96, 20]",
    );
    // An LSTM's say what they are.
    refused(
        &torch_like(|t| t[1].2 = vec![128, 32]),
        "rnn.weight_hh_l0: shape [128, 32] stacks 4 gates: an LSTM",
    );
}

/// The tensors of an nn.GRU(20, 32) + nn.Linear(32, 20), with `change` applied.
fn gru_like(change: impl Fn(&mut Vec<(&'static str, Dtype, Vec<usize>)>)) -> Vec<u8> {
    torch_like(|t| {
        for (_, _, shape) in t.iter_mut().take(4) {
            shape[0] *= 3;
        }
        change(t);
    })
}

/// A Keras GRU(32) + Dense(20) on 20 inputs, as `np.savez(f, **{w.path: …})` names it, with
/// `change` applied.
fn keras_gru_like(change: impl Fn(&mut Vec<(&'static str, Dtype, Vec<usize>)>)) -> Vec<u8> {
    let mut tensors = vec![
        ("gru/gru_cell/kernel", Dtype::F32, vec![20, 96]),
        ("gru/gru_cell/recurrent_kernel", Dtype::F32, vec![32, 96]),
        ("gru/gru_cell/bias", Dtype::F32, vec![2, 96]),
        ("dense/kernel", Dtype::F32, vec![32, 20]),
        ("dense/bias", Dtype::F32, vec![20]),
    ];
    change(&mut tensors);
    let refs: Vec<(&str, Dtype, &[usize])> = tensors
        .iter()
        .map(|(n, d, s)| (*n, *d, s.as_slice()))
        .collect();
    file(&refs, &[])
}

#[test]
fn gru_shape_mismatches_are_listed_against_the_grus_shapes() {
    let gru = weights::import(&gru_like(|_| {})).unwrap();
    assert_eq!(
        (gru.cell, gru.inputs, gru.hidden, gru.outputs),
        (CellKind::Gru, 20, 32, 20)
    );
    assert_eq!((gru.w_xh.len(), gru.w_hh.len()), (20 * 96, 96 * 32));
    assert_eq!((gru.b_h.len(), gru.b_hh.len()), (96, 96));
    for (file, expected) in [
        (
            gru_like(|t| t[0].2 = vec![32, 20]),
            "rnn.weight_ih_l0: shape [32, 20], expected [3H, inputs] = [96, 20]",
        ),
        (
            gru_like(|t| t[3].2 = vec![32]),
            "rnn.bias_hh_l0: shape [32], expected [3H] = [96]",
        ),
        (
            gru_like(|t| t[1].2 = vec![96, 31]),
            "rnn.weight_hh_l0: shape [96, 31], expected [H, H] (nn.RNN) or [3H, H] (nn.GRU)",
        ),
        (
            gru_like(|t| t[1].2 = vec![0, 0]),
            "rnn.weight_hh_l0: shape [0, 0], expected [H, H] (nn.RNN) or [3H, H] (nn.GRU) with \
             H > 0",
        ),
        (
            gru_like(|t| t.push(("ln.weight", Dtype::F32, vec![32]))),
            "found the recurrent layer rnn.*_l0 (a GRU, H = 32), the output layer linear.weight; \
             tensors with no role in a GRU language model: ln.weight [32]",
        ),
        (
            gru_like(|t| t[4].2 = vec![20, 96]),
            "missing the output layer: a [O, H] weight (H = 32)",
        ),
        (
            keras_gru_like(|t| t[2].2 = vec![96]),
            "gru/gru_cell/bias: shape [96]: a Keras GRU with reset_after=False",
        ),
        (
            keras_gru_like(|t| t[2].2 = vec![3, 96]),
            "gru/gru_cell/bias: shape [3, 96], expected [2, 3H] (reset_after=True) = [2, 96]",
        ),
        (
            keras_gru_like(|t| t[0].2 = vec![20, 32]),
            "gru/gru_cell/kernel: shape [20, 32], expected [inputs, 3H] = [20, 96]",
        ),
        (
            keras_gru_like(|t| t[1].2 = vec![32, 128]),
            "gru/gru_cell/recurrent_kernel: shape [32, 128] stacks 4 gates: an LSTM",
        ),
    ] {
        refused(&file, expected);
    }
    // An embedding folds into a GRU's input weights as into an Elman RNN's.
    let embedded = gru_like(|t| {
        t[0].2 = vec![96, 8];
        t.push(("embedding.weight", Dtype::F32, vec![20, 8]));
    });
    let embedded = weights::import(&embedded).unwrap();
    assert_eq!((embedded.inputs, embedded.embedding), (20, true));
    assert_eq!(embedded.w_xh.len(), 20 * 96);

    let keras = weights::import(&keras_gru_like(|_| {})).unwrap();
    assert_eq!(
        (keras.cell, keras.framework, keras.inputs, keras.hidden),
        (CellKind::Gru, Framework::Keras, 20, 32)
    );
    // A GRU's weights go into a GRU only.
    let mut elman = Box::new(Model::ZERO);
    let error = gru.copy_into(&mut *elman).unwrap_err().to_string();
    assert!(
        error.contains("weights of the gru cell do not fit a model of the elman cell"),
        "{error}"
    );
    let mut small = Box::new(Gru::<16, 32, 16>::ZERO);
    assert!(gru.copy_into(&mut *small).is_err());
    let mut fits = Box::new(Gru::<32, 32, 32>::ZERO);
    gru.copy_into(&mut *fits).unwrap();
}

#[test]
fn bad_files_are_clean_errors_naming_what_was_expected() {
    assert!(weights::import(&torch_like(|_| {})).is_ok());
    refused(
        &torch_like(|t| t[1].2 = vec![32, 31]),
        "weight_hh_l0: shape [32, 31], expected [H, H] (nn.RNN) or [3H, H] (nn.GRU)",
    );
    refused(
        &torch_like(|t| t[2].2 = vec![31]),
        "bias_ih_l0: shape [31], expected [H]",
    );
    refused(
        &torch_like(|t| t[4].2 = vec![20, 16]),
        "missing the output layer: a [O, H] weight (H = 32) with its [O] bias beside it; other \
         tensors: linear.bias [20], linear.weight [20, 16]",
    );
    refused(
        &torch_like(|t| t[1].1 = Dtype::F64),
        "weight_hh_l0: dtype F64, expected F32",
    );
    refused(
        &torch_like(|t| t[0].1 = Dtype::F16),
        "dtype F16, expected F32",
    );
    refused(
        &torch_like(|t| t[3].0 = "rnn.bias_hh"),
        "rnn.bias_hh_l0 is missing",
    );
    refused(
        &torch_like(|t| {
            t.remove(5);
        }),
        "its [O] bias beside it; other tensors: linear.weight [20, 32]",
    );
    refused(
        &torch_like(|t| {
            t.remove(4);
            t.remove(4);
        }),
        "missing the output layer: a [O, H] weight (H = 32) with its [O] bias",
    );
    refused(
        &torch_like(|t| t.push(("rnn.weight_ih_l1", Dtype::F32, vec![32, 32]))),
        "one layer in one direction",
    );
    refused(
        &torch_like(|t| t.push(("rnn.weight_hh_l0_reverse", Dtype::F32, vec![32, 32]))),
        "one layer",
    );
    refused(
        &torch_like(|t| t.retain(|(n, ..)| !n.starts_with("rnn"))),
        "no recurrent layer: expected PyTorch nn.RNN or nn.GRU tensors",
    );
    let relu = file(
        &[("rnn.weight_ih_l0", Dtype::F32, &[32, 20])],
        &[("nonlinearity", "relu")],
    );
    refused(&relu, "nonlinearity relu: only tanh is supported");
    let keras_relu = file(&[("a", Dtype::F32, &[1])], &[("activation", "relu")]);
    refused(&keras_relu, "activation relu");
    let keras = [
        ("simple_rnn/kernel", Dtype::F32, &[20usize, 32][..]),
        ("simple_rnn/recurrent_kernel", Dtype::F32, &[32, 32][..]),
        ("simple_rnn/bias", Dtype::F32, &[32][..]),
        ("dense/kernel", Dtype::F32, &[32, 20][..]),
        ("dense/bias", Dtype::F32, &[20][..]),
    ];
    assert!(weights::import(&file(&keras, &[])).is_ok());
    // A GRU's recurrent kernel is H × 3H, and its kernel must be too.
    let mut gru = keras;
    gru[1].2 = &[32, 96];
    refused(
        &file(&gru, &[]),
        "simple_rnn/kernel: shape [20, 32], expected [inputs, 3H] = [20, 96]",
    );
    refused(
        &file(&keras[..3], &[]),
        "found the recurrent layer simple_rnn/* (an Elman RNN, H = 32); missing the output layer: a [H, O]",
    );
    // Foreign bytes.
    refused(b"", "not a weights file micrornn reads");
    refused(
        b"hello world, not weights",
        "not a weights file micrornn reads",
    );
    refused(
        &fixture("poem-h32-v1.mrnn"),
        "micrornn model file, not weights to import",
    );
    let mut truncated = fixture("torch_rnn.safetensors");
    truncated.truncate(truncated.len() - 10);
    refused(&truncated, "not a valid safetensors file");
    // Shapes that do not fit the destination.
    let weights = weights::import(&fixture("torch_rnn.safetensors")).unwrap();
    let mut small = Box::new(Rnn::<16, 32, 16>::ZERO);
    assert!(
        weights
            .copy_into(&mut *small)
            .unwrap_err()
            .to_string()
            .contains("do not fit")
    );
    let mut other_hidden = Box::new(Rnn::<32, 64, 32>::ZERO);
    assert!(weights.copy_into(&mut *other_hidden).is_err());
}
