//! Models saved as PyTorch and Keras users save them (issues 19 and 17;
//! `scripts/interop_fixtures.py` made the fixtures with real torch 2.15 and Keras 3 on JAX, each
//! model trained on a short text with its characters numbered in order of first appearance):
//! imported, micrornn's loss on the text is the framework's own within 1e-5 nats/char, for
//! Elman RNNs and GRUs; exported, the file has the live sizes and imports back to the same loss;
//! a relu model is never run as tanh; every format and cell that is not read names itself.

use micrornn::eval::cross_entropy_from;
use micrornn::format::{self, Header};
use micrornn::host::weights::{self, Framework, Nonlinearity, Weights};
use micrornn::model::{Cell, CellKind, Gru};
use micrornn::{CharVocab, Rnn, Zeroable};
use safetensors::SafeTensors;
use std::collections::HashMap;
use std::process::Command;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/interop/");

/// 31 characters, hidden 32: the binary's bucket of 32.
type Model = Rnn<32, 32, 32>;

/// The GRU of the same sizes.
type GruModel = Gru<32, 32, 32>;

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}{name}")).expect("fixture present")
}

fn text() -> String {
    String::from_utf8(read("text.txt")).unwrap()
}

/// The characters in the models' own id order (first appearance).
fn model_order() -> Vec<char> {
    let symbols: Vec<String> = serde_json::from_slice(&read("vocab.json")).unwrap();
    symbols.iter().map(|s| s.chars().next().unwrap()).collect()
}

/// `(name, file, framework, embedding, framework's loss)` of every tanh Elman model.
fn models() -> Vec<(String, String, Framework, bool, f64)> {
    models_of("elman")
}

/// `(name, file, framework, embedding, framework's loss)` of every tanh model of `cell`.
fn models_of(cell: &str) -> Vec<(String, String, Framework, bool, f64)> {
    let expected: serde_json::Value = serde_json::from_slice(&read("expected.json")).unwrap();
    expected
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, m)| *name != "torch_relu" && m["cell"] == cell)
        .map(|(name, m)| {
            let framework = match m["framework"].as_str().unwrap() {
                "pytorch" => Framework::PyTorch,
                _ => Framework::Keras,
            };
            (
                name.clone(),
                m["file"].as_str().unwrap().to_string(),
                framework,
                m["embedding"].as_bool().unwrap(),
                m["loss"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Loss in nats/char of `model` (of any cell) on the text from a zero state, with `vocab[i]` as
/// id `i`: `workflows::eval`'s cross-entropy.
fn loss<C: Cell<32, 32, 32>>(model: &C, vocab: &[char]) -> f64 {
    let tokens: Vec<usize> = text()
        .chars()
        .map(|c| vocab.iter().position(|&v| v == c).unwrap())
        .collect();
    cross_entropy_from(model, &[0.0; 32], &tokens, vocab.len(), None)
        .unwrap()
        .per_symbol()
}

/// Imports `bytes` as the CLI does: tanh stated, vocabulary renumbered.
fn import(bytes: &[u8]) -> (Box<Model>, Vec<char>, Weights) {
    import_as(bytes)
}

/// [`import`] into a model of the cell `C`.
fn import_as<C: Cell<32, 32, 32> + Zeroable>(bytes: &[u8]) -> (Box<C>, Vec<char>, Weights) {
    let mut weights = weights::import(bytes).expect("imports");
    weights
        .establish_nonlinearity(Some(Nonlinearity::Tanh))
        .unwrap();
    let vocab = weights.reorder_vocabulary(&model_order()).unwrap();
    let mut model: Box<C> = micrornn::boxed_zeroed();
    weights.copy_into(&mut *model).unwrap();
    (model, vocab, weights)
}

/// Imports every model of `cell` into `C` as the CLI does and checks that micrornn's loss is the
/// framework's own within 1e-5 nats/char; returns `(name, framework, micrornn's loss)` of each.
fn scores_within_1e5<C: Cell<32, 32, 32> + Zeroable>(cell: &str) -> Vec<(String, Framework, f64)> {
    let mut scores = Vec::new();
    for (name, file, framework, embedding, want) in models_of(cell) {
        let (model, vocab, weights) = import_as::<C>(&read(&file));
        assert_eq!(
            (weights.cell, weights.framework, weights.embedding),
            (C::KIND, framework, embedding),
            "{name}"
        );
        assert_eq!(
            (weights.inputs, weights.hidden, weights.outputs),
            (31, 32, 31)
        );
        let got = loss(&*model, &vocab);
        let diff = (got - want).abs();
        println!(
            "{name}: micrornn {got:.7} vs {framework:?}'s {want:.7} nats/char, |diff| {diff:.1e}"
        );
        assert!(diff <= 1e-5, "{name}: {got} vs {want}");
        scores.push((name, framework, got));
    }
    scores
}

#[test]
fn every_framework_model_scores_the_frameworks_own_loss_within_1e5() {
    assert_eq!(scores_within_1e5::<Model>("elman").len(), 5);
}

#[test]
fn first_appearance_ids_are_renumbered_and_not_silently_misread() {
    let (name, file, _, _, want) = models().swap_remove(0);
    let bytes = read(&file);
    let (model, vocab, _) = import(&bytes);
    let mut sorted = model_order();
    sorted.sort_unstable();
    assert_eq!(vocab, sorted, "micrornn's ids are code-point order");
    assert!((loss(&*model, &vocab) - want).abs() <= 1e-5);
    // The finding: the same weights read as if their ids were sorted score far worse.
    let mut unordered = weights::import(&bytes).unwrap();
    unordered.reorder_vocabulary(&sorted).unwrap();
    let mut misread = Box::new(Model::ZERO);
    unordered.copy_into(&mut *misread).unwrap();
    let wrong = loss(&*misread, &sorted);
    println!("{name}: {wrong:.3} nats/char when the ids are taken as sorted, {want:.3} renumbered");
    assert!(wrong > want + 1.0);
    // A repeated character is refused, naming it.
    let mut twice = model_order();
    twice[3] = twice[0];
    let error = weights::import(&bytes)
        .unwrap()
        .reorder_vocabulary(&twice)
        .unwrap_err()
        .to_string();
    assert!(error.contains("appears twice"), "{error}");
}

#[test]
fn pytorch_to_micrornn_to_pytorch_keeps_the_loss_and_the_live_sizes() {
    for (name, file, framework, _, want) in models() {
        if framework != Framework::PyTorch {
            continue;
        }
        let (model, vocab, _) = import(&read(&file));
        let hidden = (0..32).map(|i| i as f32 / 64.0).collect::<Vec<f32>>();
        let metadata = HashMap::from([(
            "micrornn_initial_hidden".to_string(),
            serde_json::json!(hidden).to_string(),
        )]);
        let exported = weights::export(&*model, 31, 31, metadata).unwrap();
        let file = SafeTensors::deserialize(&exported).unwrap();
        let shape = |n: &str| file.tensor(n).unwrap().shape().to_vec();
        // nn.RNN(len(vocab), H) and nn.Linear(H, len(vocab)), not the padded bucket of 32.
        assert_eq!(shape("rnn.weight_ih_l0"), [32, 31], "{name}");
        assert_eq!(shape("rnn.weight_hh_l0"), [32, 32]);
        assert_eq!(shape("linear.weight"), [31, 32]);
        assert_eq!(shape("linear.bias"), [31]);
        let mut again = weights::import(&exported).unwrap();
        assert_eq!(
            again.establish_nonlinearity(None).unwrap(),
            "tanh, as the file's metadata states"
        );
        let text: Vec<f32> =
            serde_json::from_str(&again.metadata["micrornn_initial_hidden"]).unwrap();
        assert_eq!(text, hidden, "plain numbers, bit-exact");
        assert_eq!(again.reorder_vocabulary(&vocab).unwrap(), vocab);
        let mut back = Box::new(Model::ZERO);
        again.copy_into(&mut *back).unwrap();
        let got = loss(&*back, &vocab);
        assert_eq!(got, loss(&*model, &vocab), "{name}: the same model");
        assert!((got - want).abs() <= 1e-5);
    }
}

#[test]
fn a_relu_model_is_never_run_as_tanh() {
    let relu = weights::import(&read("torch_relu.safetensors")).unwrap();
    let error = relu.establish_nonlinearity(None).unwrap_err().to_string();
    assert!(
        error.contains("does not record the RNN's nonlinearity")
            && error.contains("--nonlinearity tanh"),
        "{error}"
    );
    let error = relu
        .establish_nonlinearity(Some(Nonlinearity::Relu))
        .unwrap_err()
        .to_string();
    assert!(error.contains("cannot run a relu RNN"), "{error}");
    // Keras .npz files record nothing either.
    let keras = weights::import(&read("keras_onehot.npz")).unwrap();
    assert!(keras.establish_nonlinearity(None).is_err());
    assert!(
        keras
            .establish_nonlinearity(Some(Nonlinearity::Tanh))
            .is_ok()
    );
}

#[track_caller]
fn refused(bytes: &[u8], expected: &[&str]) {
    let error = weights::import(bytes).expect_err("refused").to_string();
    assert!(!error.contains('\n'), "one line: {error}");
    for e in expected {
        assert!(error.contains(e), "{error:?} should mention {e:?}");
    }
}

#[test]
fn formats_that_are_not_read_name_themselves_and_the_conversion() {
    refused(
        &read("refused/model.weights.h5"),
        &[
            "HDF5 file",
            "save_weights",
            "np.savez(\"weights.npz\", *model.get_weights())",
        ],
    );
    refused(
        &read("refused/model.keras"),
        &["Keras .keras archive", "python3 -c", "get_weights()"],
    );
    refused(
        &read("refused/legacy.pt"),
        &[
            "legacy (pre-1.6, non-zip) PyTorch file",
            "python3 -c",
            "save_file(torch.load(",
        ],
    );
    refused(
        &read("refused/torchscript.pt"),
        &["TorchScript archive", "torch.jit.load", ".state_dict()"],
    );
    refused(
        &read("refused/whole_module.pt"),
        &[
            "PyTorch .pt file",
            "not a plain state dict",
            "save model.state_dict()",
        ],
    );
    refused(
        b"a text file, not weights\n",
        &[
            "not a weights file micrornn reads",
            "safetensors, numpy .npz, PyTorch .pt",
        ],
    );
    refused(b"", &["not a weights file micrornn reads"]);
    refused(
        b"\x80\x04}\x94.",
        &["a Python pickle", "torch.save(model.state_dict()"],
    );
    refused(
        b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'}",
        &["single numpy .npy array", "np.savez"],
    );
    // Found by fuzz/fuzz_targets/weights_import.rs: a zip entry named with a newline.
    refused(
        &read("refused/entry_name_with_newline.zip"),
        &["PyTorch .pt file"],
    );
    // A .pt cut short: clean errors.
    let pt = read("torch_onehot.pt");
    for cut in [pt.len() / 2, pt.len() - 30] {
        let error = weights::import(&pt[..cut])
            .expect_err("truncated")
            .to_string();
        assert!(!error.contains('\n') && !error.is_empty(), "{error}");
    }
}

/// The float64 reference loss `scripts/interop_fixtures.py` computed with Keras' GRU equations
/// for model `name`.
fn reference_f64(name: &str) -> f64 {
    let expected: serde_json::Value = serde_json::from_slice(&read("expected.json")).unwrap();
    expected[name]["reference_f64"].as_f64().unwrap()
}

#[test]
fn every_framework_gru_scores_the_frameworks_own_loss_within_1e5() {
    let scores = scores_within_1e5::<GruModel>("gru");
    assert_eq!(scores.len(), 4, "two PyTorch nn.GRU, two Keras GRU");
    for (name, framework, got) in scores {
        if framework == Framework::Keras {
            // Keras' equations in float64 (gates z, r, h), not Keras itself: the same loss.
            let reference = reference_f64(&name);
            println!(
                "{name}: float64 reference of Keras' equations {reference:.7}, |diff| {:.1e}",
                (got - reference).abs()
            );
            assert!((got - reference).abs() <= 1e-5, "{name}");
        }
    }
}

#[test]
fn an_nn_gru_needs_no_nonlinearity_and_a_keras_gru_needs_tanh_stated() {
    let torch = weights::import(&read("torch_gru_onehot.pt")).unwrap();
    assert_eq!(
        torch.establish_nonlinearity(None).unwrap(),
        "none needed: an nn.GRU (σ gates, tanh candidate)"
    );
    assert!(
        torch
            .establish_nonlinearity(Some(Nonlinearity::Relu))
            .is_err()
    );
    let keras = weights::import(&read("keras_gru_onehot.npz")).unwrap();
    let error = keras.establish_nonlinearity(None).unwrap_err().to_string();
    assert!(
        error.contains("Keras GRU's activations") && error.contains("--nonlinearity tanh"),
        "{error}"
    );
    assert!(
        keras
            .establish_nonlinearity(Some(Nonlinearity::Tanh))
            .is_ok()
    );
    // The gates really are reordered: read with Keras' order (z, r) as PyTorch's (r, z), the
    // same weights score far worse.
    let (model, vocab, mut weights) = import_as::<GruModel>(&read("keras_gru_onehot.npz"));
    let right = loss(&*model, &vocab);
    let h = weights.hidden;
    let swap = |values: &mut Vec<f32>, block: usize| {
        for run in values.chunks_exact_mut(3 * block) {
            let (z, r) = run.split_at_mut(block);
            z.swap_with_slice(&mut r[..block]);
        }
    };
    swap(&mut weights.w_xh, h);
    swap(&mut weights.w_hh, h * h);
    swap(&mut weights.b_h, h);
    swap(&mut weights.b_hh, h);
    let mut misread = Box::new(GruModel::ZERO);
    weights.copy_into(&mut *misread).unwrap();
    let wrong = loss(&*misread, &vocab);
    println!(
        "keras_gru_onehot: {wrong:.3} nats/char with Keras' gate order unconverted, {right:.3} converted"
    );
    assert!(wrong > right + 1.0);
}

#[test]
fn gru_export_has_pytorchs_names_and_live_sizes_and_imports_back_bit_for_bit() {
    for (name, file, framework, _, want) in models_of("gru") {
        let (model, vocab, original) = import_as::<GruModel>(&read(&file));
        let exported = weights::export(&*model, 31, 31, HashMap::new()).unwrap();
        let file = SafeTensors::deserialize(&exported).unwrap();
        let shape = |n: &str| file.tensor(n).unwrap().shape().to_vec();
        // nn.GRU(len(vocab), H) and nn.Linear(H, len(vocab)): the live sizes.
        assert_eq!(shape("rnn.weight_ih_l0"), [96, 31], "{name}");
        assert_eq!(shape("rnn.weight_hh_l0"), [96, 32]);
        assert_eq!(shape("rnn.bias_ih_l0"), [96]);
        assert_eq!(shape("rnn.bias_hh_l0"), [96]);
        assert_eq!(shape("linear.weight"), [31, 32]);
        assert_eq!(shape("linear.bias"), [31]);
        assert_eq!(file.len(), 6);
        let mut again = weights::import(&exported).unwrap();
        assert!(
            !again.metadata.contains_key("nonlinearity"),
            "a GRU has none"
        );
        assert_eq!(again.framework, Framework::PyTorch);
        assert_eq!(
            again.establish_nonlinearity(None).unwrap(),
            "none needed: an nn.GRU (σ gates, tanh candidate)"
        );
        assert_eq!(again.reorder_vocabulary(&vocab).unwrap(), vocab);
        // The tensors come back bit for bit (a Keras GRU's now in PyTorch's gate order).
        assert_eq!(
            (&again.w_xh, &again.w_hh, &again.b_h, &again.b_hh),
            (
                &original.w_xh,
                &original.w_hh,
                &original.b_h,
                &original.b_hh
            ),
            "{name}"
        );
        assert_eq!((&again.w_hy, &again.b_y), (&original.w_hy, &original.b_y));
        let mut back = Box::new(GruModel::ZERO);
        again.copy_into(&mut *back).unwrap();
        assert_eq!(*back, *model, "{name}: the same model");
        let got = loss(&*back, &vocab);
        assert!(
            (got - want).abs() <= 1e-5,
            "{name} ({framework:?}): {got} vs {want}"
        );
    }
}

#[test]
fn lstms_and_keras_reset_before_grus_are_refused_by_name() {
    refused(
        &read("refused/torch_lstm.safetensors"),
        &["rnn.weight_hh_l0: shape [16, 4] stacks 4 gates: an LSTM"],
    );
    refused(
        &read("refused/keras_lstm.npz"),
        &["recurrent_kernel: shape [4, 16] stacks 4 gates: an LSTM"],
    );
    refused(
        &read("refused/keras_gru_reset_before.npz"),
        &[
            "bias: shape [12]: a Keras GRU with reset_after=False",
            "reset_after=True",
        ],
    );
}

/// Runs the binary in `dir`.
fn micrornn(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_micrornn"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

#[test]
fn the_cli_imports_a_gru_as_a_gru_model_file_and_exports_it_as_nn_gru() {
    let dir = std::env::temp_dir().join(format!("micrornn-interop-gru-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = |name: &str| format!("{DIR}{name}");
    let vocab_json = fixture("vocab.json");
    for (name, file, framework, _, want) in models_of("gru") {
        let out = dir.join(format!("{name}.mrnn"));
        let out = out.to_str().unwrap();
        let input = fixture(&file);
        let mut args = vec!["import", &input, "--vocab", &vocab_json, "--out", out];
        if framework == Framework::Keras {
            // Without the user's word, a Keras GRU is refused and nothing is written.
            let refused = micrornn(&dir, &args);
            assert!(!refused.status.success());
            let stderr = String::from_utf8_lossy(&refused.stderr);
            assert!(stderr.contains("--nonlinearity tanh"), "{stderr}");
            assert!(!std::path::Path::new(out).exists());
            args.extend(["--nonlinearity", "tanh"]);
        }
        let run = micrornn(&dir, &args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{name}: {stderr}");
        assert!(
            stderr.contains(" gru") && stderr.contains("31 inputs, hidden 32, 31 outputs"),
            "{stderr}"
        );
        // The file says GRU in its header, and decodes into a Gru with the framework's loss.
        let bytes = std::fs::read(out).unwrap();
        let header = Header::read(&bytes).unwrap();
        assert_eq!(header.cell, CellKind::Gru);
        assert_eq!((header.inputs, header.hidden, header.classes), (32, 32, 31));
        let mut model = Box::new(GruModel::ZERO);
        let mut chars = CharVocab::<32>::new();
        let mut hidden = [1.0f32; 32];
        let decoded =
            format::decode_contents(&bytes, &mut *model, &mut chars, &mut hidden).unwrap();
        assert_eq!(hidden, [0.0; 32], "no stored state: zeros");
        assert!(decoded.metadata.as_str().contains("cell=gru"));
        let got = loss(&*model, chars.chars());
        println!("{name}: micrornn import (CLI) {got:.7} vs {want:.7}");
        assert!((got - want).abs() <= 1e-5, "{name}: {got} vs {want}");

        // export: nn.GRU's names and the live sizes; it imports back to the same model.
        let st = dir.join(format!("{name}.safetensors"));
        let run = micrornn(&dir, &["export", out, "--out", st.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{name}: {stderr}");
        assert!(
            stderr.contains("as nn.GRU(31, 32) + nn.Linear(32, 31)"),
            "{stderr}"
        );
        let exported = std::fs::read(&st).unwrap();
        let file = SafeTensors::deserialize(&exported).unwrap();
        assert_eq!(file.tensor("rnn.weight_ih_l0").unwrap().shape(), [96, 31]);
        let again = dir.join(format!("{name}-again.mrnn"));
        let run = micrornn(
            &dir,
            &[
                "import",
                st.to_str().unwrap(),
                "--out",
                again.to_str().unwrap(),
            ],
        );
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let mut back = Box::new(GruModel::ZERO);
        format::decode_contents(
            &std::fs::read(&again).unwrap(),
            &mut *back,
            &mut chars,
            &mut hidden,
        )
        .unwrap();
        assert_eq!(
            *back, *model,
            "{name}: export then import gives the same GRU"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
