//! The model, its gradients, the BPTT tape and the optimizer on the heap, restored from the
//! checkpoint being resumed or freshly initialized.

use super::plan::Plan;
use crate::{Fail, MAX_SEQ_LEN, show};
use micrornn::host::checkpoint::{self, Settings};
use micrornn::host::optimizer::AnyOptimizer;
use micrornn::{CharVocab, Clip, DefaultRng, Rnn, Tape, TrainConfig, TrainState, Trainer};
use rand_core::SeedableRng;

/// The trainer of an `Rnn<V, H, V>` in the binary.
pub type BinTrainer<'a, const V: usize, const H: usize> =
    Trainer<'a, V, H, V, MAX_SEQ_LEN, AnyOptimizer<V, H, V>>;

/// The corpus's vocabulary in the compiled bucket of `V` characters.
pub fn vocab<const V: usize>(plan: &Plan) -> Result<CharVocab<V>, Fail> {
    let mut vocab = CharVocab::<V>::new();
    for &c in plan.vocab.chars() {
        vocab
            .insert(c)
            .map_err(|e| Fail::new(format!("vocabulary: {e}")))?;
    }
    Ok(vocab)
}

/// Everything training an `Rnn<V, H, V>` writes to, on the heap (an H = 512 model is 1 MB).
pub struct Buffers<const V: usize, const H: usize> {
    model: Box<Rnn<V, H, V>>,
    grads: Box<Rnn<V, H, V>>,
    tape: Box<Tape<MAX_SEQ_LEN, H, V>>,
    optimizer: AnyOptimizer<V, H, V>,
}

impl<const V: usize, const H: usize> Buffers<V, H> {
    /// Zeroed buffers and the chosen optimizer.
    pub fn new(settings: &Settings) -> Self {
        Self {
            model: Rnn::boxed_zero(),
            grads: Rnn::boxed_zero(),
            tape: micrornn::boxed_zeroed(),
            optimizer: AnyOptimizer::new(settings.optimizer, settings.lr),
        }
    }

    /// Restores parameters, optimizer memory, training state and RNG from the checkpoint being
    /// resumed, or initializes the model from the seed (N(0,1)·0.01, min-char-rnn's init).
    pub fn restore_or_init(
        &mut self,
        plan: &Plan,
        vocab: &CharVocab<V>,
    ) -> Result<(TrainState<H>, DefaultRng), Fail> {
        let Some(resume) = &plan.resume else {
            let mut rng = DefaultRng::seed_from_u64(plan.settings.seed);
            self.model.init_gaussian(&mut rng, 0.01);
            return Ok((TrainState::start(&config(plan)), rng));
        };
        let mut stored_vocab = CharVocab::<V>::new();
        let restored = checkpoint::restore(
            &resume.bytes,
            &mut self.model,
            &mut stored_vocab,
            &mut self.optimizer,
        )
        .map_err(|e| Fail::new(format!("--resume {}: {e}", show(&resume.path))))?;
        if stored_vocab != *vocab {
            return Err(Fail::new(format!(
                "--resume {}: its vocabulary differs from the corpus's",
                show(&resume.path)
            )));
        }
        Ok(restored)
    }

    /// A trainer over these buffers, continuing from `state`.
    pub fn trainer(
        &mut self,
        plan: &Plan,
        state: TrainState<H>,
    ) -> Result<BinTrainer<'_, V, H>, Fail> {
        let mut trainer = Trainer::new(
            &mut self.model,
            &mut self.grads,
            &mut self.tape,
            &mut self.optimizer,
            config(plan),
        )
        .map_err(|e| Fail::new(format!("settings: {e}")))?;
        trainer.state = state;
        Ok(trainer)
    }
}

/// The trainer's configuration: min-char-rnn's carried hidden state, the plan's settings.
fn config(plan: &Plan) -> TrainConfig {
    let s = &plan.settings;
    TrainConfig {
        seq_len: s.seq_len,
        clip: if s.clip > 0.0 {
            Clip::Value(s.clip)
        } else {
            Clip::None
        },
        window: s.window,
        carry_hidden: true,
        classes: plan.vocab.len(),
    }
}
