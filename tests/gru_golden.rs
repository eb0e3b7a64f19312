//! The GRU against PyTorch's own `nn.GRU` + `nn.Linear`, computed in float64 by
//! `scripts/torch_gru_fixtures.py` (fixtures in `tests/fixtures/torch_gru.json`; the test needs
//! no Python): the hidden state after every step, the summed cross-entropy, and the gradient of
//! every tensor. The crate computes in f32 from the same (f32-representable) weights: states
//! within 1e-5, the loss within 1e-5 relative, each gradient within 1e-4 of its tensor's largest
//! entry.

use micrornn::{Cell, Gru, Params, Sequence, Tape, Targets};
use serde_json::Value;

/// The model's input and output sizes: each case's live sizes are at most these (the rest is
/// padding: zero inputs, masked classes).
const I: usize = 6;
const O: usize = 6;

fn floats(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(floats).collect(),
        other => vec![other.as_f64().expect("a number")],
    }
}

#[test]
fn the_gru_matches_pytorch_in_states_loss_and_gradients() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_gru.json");
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON");
    let cases = fixture["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 3);
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let size = |key: &str| case[key].as_u64().expect("size") as usize;
        let (i, h, o) = (size("inputs_size"), size("hidden"), size("outputs"));
        assert!(i <= I && o <= O, "{name}: sizes");
        // The hidden size is the model's own (every unit is live).
        match h {
            5 => check::<5>(case, name, i, o),
            7 => check::<7>(case, name, i, o),
            other => panic!("{name}: no instance for hidden size {other}"),
        }
    }
}

fn check<const HH: usize>(case: &Value, name: &str, i: usize, o: usize) {
    let model: Gru<I, HH, O> = to_crate_sized::<HH>(&case["parameters"], i, o);
    let expected_grads: Gru<I, HH, O> = to_crate_sized::<HH>(&case["gradients"], i, o);
    let h0: [f32; HH] = core::array::from_fn(|j| floats(&case["h0"])[j] as f32);
    let tokens: Vec<usize>;
    let dense: Vec<[f32; I]>;
    let inputs = if let Some(ids) = case["inputs"].get("tokens") {
        tokens = ids
            .as_array()
            .expect("ids")
            .iter()
            .map(|v| v.as_u64().expect("id") as usize)
            .collect();
        Sequence::Tokens(&tokens)
    } else {
        let rows = case["inputs"]["dense"].as_array().expect("dense");
        dense = rows
            .iter()
            .map(|row| {
                let row = floats(row);
                core::array::from_fn(|c| row.get(c).map_or(0.0, |&v| v as f32))
            })
            .collect();
        Sequence::Dense(&dense)
    };
    let each: Vec<usize>;
    let targets = if let Some(ts) = case["targets"].get("each") {
        each = ts
            .as_array()
            .expect("targets")
            .iter()
            .map(|v| v.as_u64().expect("target") as usize)
            .collect();
        Targets::Each(&each)
    } else {
        Targets::Last(case["targets"]["last"].as_u64().expect("last") as usize)
    };

    // States, step by step with the cell's own inference step.
    let states = case["states"].as_array().expect("states");
    let mut hidden = h0;
    for (t, want) in states.iter().enumerate() {
        model
            .step(inputs.get(t).expect("input"), &mut hidden)
            .expect("step");
        for (got, want) in hidden.iter().zip(floats(want)) {
            assert!(
                (f64::from(*got) - want).abs() <= 1e-5,
                "{name}: state {t}: {got} vs PyTorch {want}"
            );
        }
    }

    let mut tape = Tape::<16, HH, O, _>::ZERO;
    let loss = tape
        .forward(&model, inputs, targets, &h0, o)
        .expect("forward");
    let want = case["loss"].as_f64().expect("loss");
    assert!(
        (f64::from(loss) - want).abs() <= 1e-5 * want.abs(),
        "{name}: loss {loss} vs PyTorch {want}"
    );
    let mut grads = Gru::ZERO;
    tape.backward(&model, inputs, &mut grads, None)
        .expect("backward");
    for (index, spec) in Gru::<I, HH, O>::TENSORS.iter().enumerate() {
        let (got, want) = (grads.tensor(index), expected_grads.tensor(index));
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "{name}/{}: no gradient", spec.name);
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-4 * scale,
                "{name}/{}[{k}]: {g} vs PyTorch {w}",
                spec.name
            );
        }
        println!("{name}/{}: matches PyTorch", spec.name);
    }
}

/// PyTorch's tensors (or their gradients) as a `Gru<I, HH, O>`: `weight_ih_l0` (3H × I, gate
/// rows r, z, n) transposed into `w_xh`, the rest in place.
fn to_crate_sized<const HH: usize>(tensors: &Value, i: usize, o: usize) -> Gru<I, HH, O> {
    let get = |name: &str| floats(&tensors[name]);
    let (w_ih, w_hh, b_ih, b_hh, w_y, b_y) = (
        get("weight_ih_l0"),
        get("weight_hh_l0"),
        get("bias_ih_l0"),
        get("bias_hh_l0"),
        get("linear.weight"),
        get("linear.bias"),
    );
    let h = HH;
    let mut gru = Gru::<I, HH, O>::ZERO;
    for gate in 0..3 {
        for j in 0..h {
            let row = gate * h + j; // PyTorch's rows are gate-major: r, z, n
            for input in 0..i {
                gru.w_xh[input][gate][j] = w_ih[row * i + input] as f32;
            }
            for k in 0..h {
                gru.w_hh[gate][j][k] = w_hh[row * h + k] as f32;
            }
            gru.b_xh[gate][j] = b_ih[row] as f32;
            gru.b_hh[gate][j] = b_hh[row] as f32;
        }
    }
    for out in 0..o {
        for j in 0..h {
            gru.w_hy[out][j] = w_y[out * h + j] as f32;
        }
        gru.b_y[out] = b_y[out] as f32;
    }
    gru
}
