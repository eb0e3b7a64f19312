//! Models saved as PyTorch and Keras users save them (issue 19; `scripts/interop_fixtures.py`
//! made the fixtures with real torch 2.15 and Keras 3 on JAX, each model trained on a short text
//! with its characters numbered in order of first appearance): imported, micrornn's loss on
//! the text is the framework's own within 1e-5 nats/char; exported, the file has the live
//! sizes and imports back to the same loss; a relu model is never run as tanh; every format
//! that is not read names itself.

use micrornn::Rnn;
use micrornn::eval::cross_entropy;
use micrornn::host::weights::{self, Framework, Nonlinearity, Weights};
use safetensors::SafeTensors;
use std::collections::HashMap;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/interop/");

/// 31 characters, hidden 32: the binary's bucket of 32.
type Model = Rnn<32, 32, 32>;

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

/// `(name, file, framework, embedding, framework's loss)` of every tanh model.
fn models() -> Vec<(String, String, Framework, bool, f64)> {
    let expected: serde_json::Value = serde_json::from_slice(&read("expected.json")).unwrap();
    expected
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| *name != "torch_relu")
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

/// Loss in nats/char of `model` on the text, with `vocab[i]` as id `i`.
fn loss(model: &Model, vocab: &[char]) -> f64 {
    let tokens: Vec<usize> = text()
        .chars()
        .map(|c| vocab.iter().position(|&v| v == c).unwrap())
        .collect();
    cross_entropy(model, &tokens, vocab.len(), None)
        .unwrap()
        .per_symbol()
}

/// Imports `bytes` as the CLI does: tanh stated, vocabulary renumbered.
fn import(bytes: &[u8]) -> (Box<Model>, Vec<char>, Weights) {
    let mut weights = weights::import(bytes).expect("imports");
    weights
        .establish_nonlinearity(Some(Nonlinearity::Tanh))
        .unwrap();
    let vocab = weights.reorder_vocabulary(&model_order()).unwrap();
    let mut model = Box::new(Model::ZERO);
    weights.copy_into(&mut *model).unwrap();
    (model, vocab, weights)
}

#[test]
fn every_framework_model_scores_the_frameworks_own_loss_within_1e5() {
    let models = models();
    assert_eq!(models.len(), 5);
    for (name, file, framework, embedding, want) in models {
        let (model, vocab, weights) = import(&read(&file));
        assert_eq!(
            (weights.framework, weights.embedding),
            (framework, embedding),
            "{name}"
        );
        assert_eq!(
            (weights.inputs, weights.hidden, weights.outputs),
            (31, 32, 31)
        );
        let got = loss(&model, &vocab);
        let diff = (got - want).abs();
        println!(
            "{name}: micrornn {got:.7} vs {framework:?}'s {want:.7} nats/char, |diff| {diff:.1e}"
        );
        assert!((got - want).abs() <= 1e-5, "{name}: {got} vs {want}");
    }
}

#[test]
fn first_appearance_ids_are_renumbered_and_not_silently_misread() {
    let (name, file, _, _, want) = models().swap_remove(0);
    let bytes = read(&file);
    let (model, vocab, _) = import(&bytes);
    let mut sorted = model_order();
    sorted.sort_unstable();
    assert_eq!(vocab, sorted, "micrornn's ids are code-point order");
    assert!((loss(&model, &vocab) - want).abs() <= 1e-5);
    // The finding: the same weights read as if their ids were sorted score far worse.
    let mut unordered = weights::import(&bytes).unwrap();
    unordered.reorder_vocabulary(&sorted).unwrap();
    let mut misread = Box::new(Model::ZERO);
    unordered.copy_into(&mut *misread).unwrap();
    let wrong = loss(&misread, &sorted);
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
        let got = loss(&back, &vocab);
        assert_eq!(got, loss(&model, &vocab), "{name}: the same model");
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
