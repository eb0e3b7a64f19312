//! The language-model training loop of min-char-rnn and notebook 000: walk a token sequence in
//! chunks of `seq_len`, carry (or reset) the hidden state between chunks, take one optimizer step
//! per chunk, and keep a smoothed loss.

use crate::Error;
use crate::model::{Cell, Classes, Rnn};
use crate::model::{Sequence, Tape, Targets};
use crate::workflows::clip::Clip;
use crate::workflows::optim::Optimizer;
use crate::workflows::step::Buffers;

/// Settings of a training run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainConfig {
    /// Tokens per chunk (the BPTT length), at most the tape's `T`.
    pub seq_len: usize,
    /// Gradient clipping before each update.
    pub clip: Clip,
    /// `Some(k)`: each output's gradient flows back at most `k` steps (notebook 000: 5).
    pub window: Option<usize>,
    /// Carry the hidden state from chunk to chunk (min-char-rnn) instead of starting each chunk
    /// from zero (notebook 000). It is reset to zero when the data wraps around either way.
    pub carry_hidden: bool,
    /// Live output classes (the vocabulary size); outputs above are masked.
    pub classes: usize,
}

/// What one pass of [`Trainer::train_chunk`] over a text trains: chunks start at `0, seq_len,
/// 2·seq_len, …` and a chunk that does not fit before the end is not taken (the pass wraps to
/// the start), so the last `skipped` targets of every pass are never trained. For a short text
/// that is most of it: a 45-character line with `seq_len` 25 trains on its first 26 characters
/// only. [`TrainConfig::coverage`] says so before training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coverage {
    /// Chunks per pass.
    pub chunks: usize,
    /// Targets (predicted tokens) trained per pass: `chunks · seq_len`.
    pub trained: usize,
    /// Targets at the end of the text that no chunk covers: `len − 1 − trained`.
    pub skipped: usize,
}

impl TrainConfig {
    /// What a pass over `len` tokens trains with this `seq_len` (see [`Coverage`]).
    ///
    /// ```
    /// use micrornn::{TrainConfig, workflows::train::Coverage};
    /// let config = TrainConfig::min_char_rnn(20); // seq_len 25
    /// assert_eq!(config.coverage(45)?, Coverage { chunks: 1, trained: 25, skipped: 19 });
    /// assert_eq!(config.coverage(51)?.skipped, 0);
    /// assert!(config.coverage(25).is_err()); // not even one chunk
    /// # Ok::<(), micrornn::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::CorpusTooShort`] if `len < seq_len + 1` (what [`Trainer::train_chunk`] refuses);
    /// [`Error::InvalidSetting`] for `seq_len` 0.
    pub fn coverage(&self, len: usize) -> Result<Coverage, Error> {
        let seq_len = self.seq_len;
        if seq_len == 0 {
            return Err(Error::InvalidSetting("seq_len must be in 1..=T"));
        }
        let needed = seq_len.saturating_add(1);
        if len < needed {
            return Err(Error::CorpusTooShort { len, needed });
        }
        let chunks = (len - 1) / seq_len;
        let trained = chunks * seq_len;
        Ok(Coverage {
            chunks,
            trained,
            skipped: len - 1 - trained,
        })
    }

    /// min-char-rnn's settings: seq 25, clip ±5, full BPTT, carried hidden state.
    pub const fn min_char_rnn(classes: usize) -> Self {
        Self {
            seq_len: 25,
            clip: Clip::Value(5.0),
            window: None,
            carry_hidden: true,
            classes,
        }
    }
}

/// Where a run stands: everything besides parameters and optimizer memory that a checkpoint must
/// hold to resume exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainState<const H: usize> {
    /// Hidden state carried into the next chunk.
    pub hidden: [f32; H],
    /// Index of the next chunk's first input token.
    pub position: usize,
    /// Updates applied so far.
    pub iteration: u64,
    /// Completed passes over the data.
    pub epoch: u64,
    /// Exponentially smoothed chunk loss: `0.999·s + 0.001·loss`, starting at `ln(classes)·seq_len`.
    pub smooth_loss: f32,
}

impl<const H: usize> TrainState<H> {
    /// The state at the start of a run.
    pub fn start(config: &TrainConfig) -> Self {
        Self {
            hidden: [0.0; H],
            position: 0,
            iteration: 0,
            epoch: 0,
            smooth_loss: crate::kernels::math::ln(config.classes.max(1) as f32)
                * config.seq_len as f32,
        }
    }
}

/// The result of one chunk.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChunkReport {
    /// Summed cross-entropy of the chunk, in nats.
    pub loss: f32,
    /// Tokens predicted.
    pub tokens: usize,
    /// `true` if this chunk started a new pass over the data.
    pub wrapped: bool,
}

/// A training run over borrowed model, gradient, tape and optimizer [`Buffers`].
///
/// The large buffers are borrowed, not owned, so the caller decides where each lives: in
/// `static`s on a microcontroller, on the heap under `std`.
///
/// ```
/// use micrornn::{Adagrad, CharVocab, Rnn, Tape, TrainConfig, Trainer};
/// use rand_xoshiro::{rand_core::SeedableRng, Xoshiro128PlusPlus};
/// let text = "abcabcabcabcabcabcabcabc";
/// let vocab = CharVocab::<4>::from_text(text)?;
/// let mut ids = [0usize; 24];
/// vocab.encode_into(text, &mut ids)?;
///
/// let mut model = Rnn::<4, 8, 4>::ZERO;
/// model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(1), 0.1);
/// let (mut grads, mut tape, mut adagrad) = (Rnn::ZERO, Tape::<5, 8, 4>::ZERO, Adagrad::new(0.1));
/// let config = TrainConfig { seq_len: 5, ..TrainConfig::min_char_rnn(vocab.len()) };
/// let mut trainer = Trainer::new(&mut model, &mut grads, &mut tape, &mut adagrad, config)?;
/// let first = trainer.train_chunk(&ids)?.loss;
/// for _ in 0..300 {
///     trainer.train_chunk(&ids)?;
/// }
/// assert!(trainer.train_chunk(&ids)?.loss < first / 10.0);
/// # Ok::<(), micrornn::Error>(())
/// ```
pub struct Trainer<
    'a,
    const I: usize,
    const H: usize,
    const O: usize,
    const T: usize,
    P,
    C: Cell<I, H, O> = Rnn<I, H, O>,
> {
    /// The model, gradient, tape and optimizer buffers.
    pub buffers: Buffers<'a, I, H, O, T, P, C>,
    /// Settings.
    pub config: TrainConfig,
    /// Position, hidden state, counters, smoothed loss.
    pub state: TrainState<H>,
}

impl<'a, const I: usize, const H: usize, const O: usize, const T: usize, P, C>
    Trainer<'a, I, H, O, T, P, C>
where
    C: Cell<I, H, O>,
    P: Optimizer<C>,
{
    /// A run from the start of the data.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for `seq_len` outside `1..=T`, `classes` outside `1..=O`, or a
    /// clip limit that is not `> 0`.
    pub fn new(
        model: &'a mut C,
        grads: &'a mut C,
        tape: &'a mut Tape<T, H, O, C::Record>,
        optimizer: &'a mut P,
        config: TrainConfig,
    ) -> Result<Self, Error> {
        if config.seq_len == 0 || config.seq_len > T {
            return Err(Error::InvalidSetting("seq_len must be in 1..=T"));
        }
        Classes::<O>::new(config.classes)?;
        config.clip.check()?;
        let state = TrainState::start(&config);
        Ok(Self {
            buffers: Buffers {
                model,
                grads,
                tape,
                optimizer,
            },
            config,
            state,
        })
    }

    /// Trains on the next chunk of `data` (token ids): forward, backward, clip, update.
    ///
    /// # Errors
    /// - [`Error::CorpusTooShort`] if `data` has fewer than `seq_len + 1` tokens;
    /// - [`Error::TokenOutOfRange`] for an input id `≥ I` (limit `I`), an input id in
    ///   `classes..I` or a target `≥ classes` (limit `classes`);
    /// - [`Error::NonFiniteLoss`] if the loss or a gradient is NaN or infinite.
    ///
    /// On error the parameters, optimizer memory and state are unchanged.
    ///
    /// Only the live rows are computed and updated (the first `classes` rows of `w_xh`, `w_hy`
    /// and `b_y`): a model padded to a larger vocabulary bucket trains exactly, and as fast, as
    /// the unpadded model, and its padded rows are never read or written (in `grads` either).
    pub fn train_chunk(&mut self, data: &[usize]) -> Result<ChunkReport, Error> {
        let seq_len = self.config.seq_len;
        let Some(needed) = seq_len.checked_add(1) else {
            return Err(Error::InvalidSetting("seq_len must be in 1..=T"));
        };
        if data.len() < needed {
            return Err(Error::CorpusTooShort {
                len: data.len(),
                needed,
            });
        }
        let mut state = self.state;
        // `position` is a public field (restored from checkpoints): saturate rather than overflow.
        let wrapped = state.position.saturating_add(needed) > data.len();
        if wrapped {
            state.position = 0;
            state.hidden = [0.0; H];
            state.epoch = state.epoch.saturating_add(1);
        }
        let start = state.position;
        let (Some(inputs), Some(targets)) = (
            data.get(start..start + seq_len),
            data.get(start + 1..start + needed),
        ) else {
            return Err(Error::CorpusTooShort {
                len: data.len(),
                needed,
            });
        };
        let h_start = if self.config.carry_hidden {
            state.hidden
        } else {
            [0.0; H]
        };
        let classes = self.config.classes;
        // An id the model has no row for is the forward pass's error (limit I).
        if let Some(&token) = inputs.iter().find(|&&id| id >= classes && id < I) {
            return Err(Error::TokenOutOfRange {
                token,
                limit: classes,
            });
        }
        let inputs = Sequence::Tokens(inputs);
        let buffers = &mut self.buffers;
        let loss = buffers.tape.forward(
            buffers.model,
            inputs,
            Targets::Each(targets),
            &h_start,
            classes,
        )?;
        buffers.step(inputs, self.config.window, self.config.clip, classes)?;

        state.hidden = *self.buffers.tape.last_hidden();
        state.position = start + seq_len;
        state.iteration = state.iteration.saturating_add(1);
        state.smooth_loss = 0.999 * state.smooth_loss + 0.001 * loss;
        self.state = state;
        Ok(ChunkReport {
            loss,
            tokens: seq_len,
            wrapped,
        })
    }
}
