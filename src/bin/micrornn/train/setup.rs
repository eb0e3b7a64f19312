//! The model, its gradients, the BPTT tape and the optimizer on the heap, restored from the
//! checkpoint being resumed or freshly initialized.

use super::plan::Plan;
use crate::cells::LmCell;
use crate::{Fail, MAX_SEQ_LEN, SHARD, show};
use micrornn::batch::{BatchState, BatchTrainer, Shard};
use micrornn::host::checkpoint::{self, Settings};
use micrornn::host::optimizer::AnyOptimizer;
use micrornn::host::threads::Threads;
use micrornn::model::dropout::Dropout;
use micrornn::{
    CharVocab, ChunkReport, Clip, DefaultRng, Error, Tape, TrainConfig, TrainState, Trainer,
};
use rand_core::SeedableRng;

/// Mixed into the run's seed for the dropout masks, so that they are not the initialization's
/// draws.
const DROPOUT_SEED: u64 = 0x00d2_0900_0000;

/// A shard of a batch of the cell `C` in the binary: [`SHARD`] streams.
pub type BinShard<const V: usize, const H: usize, C> = Shard<V, SHARD, MAX_SEQ_LEN, H, V, C>;

/// The trainer of a language model of the cell `C` in the binary: min-char-rnn's [`Trainer`]
/// for one stream, the [`BatchTrainer`] on [`Threads`] for a batch (both written once over the
/// cell). `state.hidden` is the last stream's state (the one that ends where the validation
/// text starts).
pub struct BinTrainer<'a, const V: usize, const H: usize, C: LmCell<V, H>> {
    /// The parameters being trained.
    pub model: &'a mut C,
    /// Update rule and its memory.
    pub optimizer: &'a mut AnyOptimizer<V, H, V, C>,
    /// Position, counters, smoothed loss and the carried state.
    pub state: TrainState<H>,
    engine: Engine<'a, V, H, C>,
    config: TrainConfig,
}

/// What a [`BinTrainer`] trains with.
enum Engine<'a, const V: usize, const H: usize, C: LmCell<V, H>> {
    Single {
        grads: &'a mut C,
        tape: &'a mut Tape<MAX_SEQ_LEN, H, V, C::Record>,
    },
    Batched {
        shards: &'a mut [BinShard<V, H, C>],
        threads: Threads,
        dropout: Dropout,
    },
}

impl<const V: usize, const H: usize, C: LmCell<V, H>> BinTrainer<'_, V, H, C> {
    /// Trains on the next chunk (of every stream).
    pub fn train_chunk(&mut self, data: &[usize]) -> Result<ChunkReport, Error> {
        match &mut self.engine {
            Engine::Single { grads, tape } => {
                let (model, optimizer) = (&mut *self.model, &mut *self.optimizer);
                let mut t = Trainer::new(model, grads, tape, optimizer, self.config)?;
                t.state = self.state;
                let report = t.train_chunk(data)?;
                self.state = t.state;
                Ok(report)
            }
            Engine::Batched {
                shards,
                threads,
                dropout,
            } => {
                let state = BatchState {
                    position: self.state.position,
                    iteration: self.state.iteration,
                    epoch: self.state.epoch,
                    smooth_loss: self.state.smooth_loss,
                };
                let (model, optimizer) = (&mut *self.model, &mut *self.optimizer);
                let mut trainer =
                    BatchTrainer::resume(model, shards, optimizer, self.config, state)?;
                trainer.dropout = *dropout;
                let report = trainer.train_chunk(data, threads)?;
                let state = trainer.state;
                self.state = TrainState {
                    hidden: self.streams().last().copied().unwrap_or([0.0; H]),
                    position: state.position,
                    iteration: state.iteration,
                    epoch: state.epoch,
                    smooth_loss: state.smooth_loss,
                };
                Ok(report)
            }
        }
    }

    /// Every stream's carried state, in stream order (none for a single stream: it is
    /// `state.hidden`).
    pub fn streams(&self) -> Vec<[f32; H]> {
        match &self.engine {
            Engine::Single { .. } => Vec::new(),
            Engine::Batched { shards, .. } => shards.iter().flat_map(|s| s.hidden).collect(),
        }
    }
}

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

/// Everything training a model of the cell `C` writes to, on the heap (an Elman H = 512 model
/// is 1 MB, a GRU three times that).
pub struct Buffers<const V: usize, const H: usize, C: LmCell<V, H>> {
    model: Box<C>,
    grads: Box<C>,
    tape: Box<Tape<MAX_SEQ_LEN, H, V, C::Record>>,
    shards: Box<[BinShard<V, H, C>]>,
    optimizer: AnyOptimizer<V, H, V, C>,
}

impl<const V: usize, const H: usize, C: LmCell<V, H>> Buffers<V, H, C> {
    /// Zeroed buffers and the chosen optimizer.
    pub fn new(settings: &Settings) -> Self {
        Self {
            model: micrornn::boxed_zeroed(),
            grads: micrornn::boxed_zeroed(),
            tape: micrornn::boxed_zeroed(),
            shards: micrornn::host::boxed::zeroed_slice(if settings.batch > 1 {
                settings.batch / SHARD
            } else {
                0
            }),
            optimizer: AnyOptimizer::new(settings.optimizer, settings.lr),
        }
    }

    /// Restores parameters, optimizer memory, training state and RNG from the checkpoint being
    /// resumed, or initializes the model from the seed ([`LmCell::init`]).
    pub fn restore_or_init(
        &mut self,
        plan: &Plan,
        vocab: &CharVocab<V>,
    ) -> Result<(TrainState<H>, DefaultRng), Fail> {
        let Some(resume) = &plan.resume else {
            let mut rng = DefaultRng::seed_from_u64(plan.settings.seed);
            self.model.init(&mut rng);
            return Ok((TrainState::start(&config(plan)), rng));
        };
        let mut stored_vocab = CharVocab::<V>::new();
        let mut streams = Vec::new();
        let restored = checkpoint::restore(
            &resume.bytes,
            &mut *self.model,
            &mut stored_vocab,
            &mut self.optimizer,
            &mut streams,
        )
        .map_err(|e| Fail::new(format!("--resume {}: {e}", show(&resume.path))))?;
        let mut stored = streams.into_iter();
        for shard in &mut self.shards {
            for (hidden, stored) in shard.hidden.iter_mut().zip(&mut stored) {
                *hidden = stored;
            }
        }
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
    ) -> Result<BinTrainer<'_, V, H, C>, Fail> {
        let config = config(plan);
        let engine = if self.shards.is_empty() {
            // Checks the settings once (the trainer is rebuilt for each chunk).
            Trainer::new(
                &mut *self.model,
                &mut *self.grads,
                &mut *self.tape,
                &mut self.optimizer,
                config,
            )
            .map_err(|e| Fail::new(format!("settings: {e}")))?;
            Engine::Single {
                grads: &mut *self.grads,
                tape: &mut *self.tape,
            }
        } else {
            let s = &plan.settings;
            Engine::Batched {
                shards: &mut self.shards,
                threads: Threads(plan.threads),
                dropout: Dropout::new(s.dropout, s.seed ^ DROPOUT_SEED)
                    .map_err(|e| Fail::new(format!("--dropout {}: {e}", s.dropout)))?,
            }
        };
        Ok(BinTrainer {
            model: &mut *self.model,
            optimizer: &mut self.optimizer,
            state,
            engine,
            config,
        })
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
