//! The checkpoint decoder: `host::checkpoint::read` and `restore` on arbitrary bytes, into a small
//! shape (4 inputs/outputs, 3 hidden: small inputs keep the fuzzer fast; the code is the same
//! generic code at every size); what restores is re-encoded and restored again, and trains one
//! chunk. Batched checkpoints (flag bit 0) restore every stream's state, which must survive the
//! re-encode bit for bit.
//!
//! Input: one mode byte, then the checkpoint. Mode bit 0 set: the checksums (the embedded
//! model's and the whole checkpoint's) are rewritten first (`reseal.rs`).
#![no_main]

#[path = "reseal.rs"]
mod reseal;

use libfuzzer_sys::fuzz_target;
use micrornn::host::checkpoint;
use micrornn::host::optimizer::AnyOptimizer;
use micrornn::{CharVocab, Clip, Rnn, Tape, TrainConfig, Trainer};

const V: usize = 4;
const H: usize = 3;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut bytes = file.to_vec();
    if mode & 1 == 1 {
        reseal::checkpoint(&mut bytes);
    }
    let Ok((settings, progress)) = checkpoint::read(&bytes) else {
        return;
    };
    let mut model = Box::new(Rnn::<V, H, V>::ZERO);
    let mut vocab = CharVocab::<V>::new();
    let mut optimizer = AnyOptimizer::<V, H, V>::new(settings.optimizer, settings.lr);
    let mut streams: Vec<[f32; H]> = Vec::new();
    let Ok((state, rng)) = checkpoint::restore(
        &bytes,
        &mut *model,
        &mut vocab,
        &mut optimizer,
        &mut streams,
    ) else {
        return;
    };
    if settings.batch > 1 {
        assert_eq!(streams.len(), settings.batch);
    } else {
        assert!(streams.is_empty());
    }
    assert_eq!(state.iteration, progress.iteration);
    assert_eq!(state.position as u64, progress.position);
    // Only Adam counts its steps; the others ignore the stored count (and store 0).
    if settings.optimizer == micrornn::host::optimizer::OptimizerKind::Adam {
        assert_eq!(optimizer.steps(), progress.optimizer_steps);
    }
    let progress = checkpoint::Progress {
        optimizer_steps: optimizer.steps(),
        ..progress
    };

    // Re-encoding what was restored gives a checkpoint that reads and restores to the same.
    let classes = vocab.len().max(1);
    let again = checkpoint::encode(
        &settings, &state, &rng, &*model, &vocab, classes, &optimizer, &streams,
    )
    .expect("re-encode a restored checkpoint");
    let (settings2, progress2) = checkpoint::read(&again).expect("read a re-encoded checkpoint");
    assert_eq!(format!("{settings2:?}"), format!("{settings:?}"));
    assert_eq!(format!("{progress2:?}"), format!("{progress:?}"));
    let mut model2 = Box::new(Rnn::<V, H, V>::ZERO);
    let mut vocab2 = CharVocab::<V>::new();
    let mut optimizer2 = AnyOptimizer::<V, H, V>::new(settings.optimizer, settings.lr);
    let mut streams2: Vec<[f32; H]> = Vec::new();
    let (state2, _) = checkpoint::restore(
        &again,
        &mut *model2,
        &mut vocab2,
        &mut optimizer2,
        &mut streams2,
    )
    .expect("restore a re-encoded checkpoint");
    let stream_bits =
        |s: &[[f32; H]]| -> Vec<[u32; H]> { s.iter().map(|h| h.map(f32::to_bits)).collect() };
    assert_eq!(stream_bits(&streams2), stream_bits(&streams));
    assert_eq!(vocab2, vocab);
    assert_eq!(format!("{state2:?}"), format!("{state:?}"));

    // Training goes on from the restored state without panicking, whatever it holds.
    const T: usize = 4;
    let config = TrainConfig {
        seq_len: settings.seq_len.clamp(1, T),
        clip: if settings.clip > 0.0 {
            Clip::Value(settings.clip)
        } else {
            Clip::None
        },
        window: settings.window,
        carry_hidden: true,
        classes,
    };
    let mut grads = Box::new(Rnn::<V, H, V>::ZERO);
    let mut tape = Box::new(Tape::<T, H, V>::ZERO);
    let Ok(mut trainer) =
        Trainer::new(&mut *model, &mut *grads, &mut *tape, &mut optimizer, config)
    else {
        return;
    };
    trainer.state = state;
    let tokens: Vec<usize> = (0..3 * T).map(|i| i % classes).collect();
    let _ = trainer.train_chunk(&tokens);
});
