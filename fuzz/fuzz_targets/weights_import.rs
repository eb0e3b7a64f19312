//! `micrornn import`'s reader: `weights::import` on arbitrary bytes (safetensors, `.npz`, a
//! PyTorch `.pt` zip and its pickle, the refused formats), then, for what imports,
//! `establish_nonlinearity`, `reorder_vocabulary` with a reversed vocabulary and `copy_into`
//! (an Elman RNN's or a GRU's, as the file's shapes say).
//!
//! Checks: no panic; an error is one line; what imports has tensors of the sizes it reports.
#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn::Rnn;
use micrornn::host::weights::{self, Nonlinearity};
use micrornn::model::{CellKind, Gru};

fuzz_target!(|data: &[u8]| {
    let mut weights = match weights::import(data) {
        Ok(weights) => weights,
        Err(e) => {
            assert!(!e.to_string().contains('\n'), "one line: {e}");
            return;
        }
    };
    let gated = weights.gates() * weights.hidden;
    assert_eq!(weights.w_xh.len(), weights.inputs * gated);
    assert_eq!(weights.w_hh.len(), gated * weights.hidden);
    assert_eq!(weights.b_h.len(), gated);
    let recurrent_biases = if weights.cell == CellKind::Gru {
        gated
    } else {
        0
    };
    assert_eq!(weights.b_hh.len(), recurrent_biases);
    assert_eq!(weights.w_hy.len(), weights.outputs * weights.hidden);
    assert_eq!(weights.b_y.len(), weights.outputs);
    let _ = weights.establish_nonlinearity(Some(Nonlinearity::Tanh));
    let vocab: Vec<char> = ('a'..='z').rev().take(weights.inputs.min(26)).collect();
    let _ = weights.reorder_vocabulary(&vocab);
    if weights.cell == CellKind::Gru {
        let mut model = Box::new(Gru::<32, 32, 32>::ZERO);
        let _ = weights.copy_into(&mut *model);
    } else {
        let mut model = Box::new(Rnn::<32, 32, 32>::ZERO);
        let _ = weights.copy_into(&mut *model);
    }
});
