//! Mini-batch training: `S·B` streams over the data, as char-rnn splits its text into
//! contiguous parts, each with its carried hidden state; one optimizer step per chunk from the
//! gradient averaged over every stream.
//!
//! The streams are grouped in shards of `B` (each a [`Shard`]: a [`BatchTape`], a gradient
//! buffer and its streams' hidden states). Shards are independent until their gradients are
//! summed, always in shard order, so a [`Parallel`] runner may compute them on several threads
//! (the `host` layer's threads do) and the model is the same bit for bit whatever the number of
//! threads. Without `std`, [`Sequential`] runs them one after the other.

use crate::Error;
use crate::kernels;
use crate::model::batch::{BatchTape, DropoutPass};
use crate::model::batch_cell::BatchCell;
use crate::model::dropout::Dropout;
use crate::model::{Live, Rnn};
use crate::workflows::clip::live_sum_squares;
use crate::workflows::optim::Optimizer;
use crate::workflows::train::{ChunkReport, TrainConfig};

/// `B` streams' share of a batch: their tape, their gradient and their carried hidden states,
/// for the cell `C` (the Elman [`Rnn`] by default, or a [`Gru`](crate::model::Gru)).
#[derive(Clone, Debug)]
pub struct Shard<
    const I: usize,
    const B: usize,
    const T: usize,
    const H: usize,
    const O: usize,
    C: BatchCell<I, H, O> = Rnn<I, H, O>,
> {
    /// The streams' BPTT record.
    pub tape: BatchTape<B, T, H, O, C::Record>,
    /// The gradient of the streams' loss (scaled by one over the whole batch).
    pub grads: C,
    /// The hidden state each stream carries into its next chunk.
    pub hidden: [[f32; H]; B],
    /// The summed loss of the last chunk (NaN if its forward pass failed).
    pub loss: f32,
}

impl<
    const I: usize,
    const B: usize,
    const T: usize,
    const H: usize,
    const O: usize,
    C: BatchCell<I, H, O>,
> Shard<I, B, T, H, O, C>
{
    /// An empty shard, usable in a `static`.
    pub const ZERO: Self = Self {
        tape: BatchTape::ZERO,
        grads: C::ZERO,
        hidden: [[0.0; H]; B],
        loss: 0.0,
    };
}

/// Runs one function over every shard: sequentially, or spread over threads.
pub trait Parallel {
    /// Calls `f(i, &mut items[i])` once for every `i`, in any order or at the same time.
    fn for_each<S: Send, F: Fn(usize, &mut S) + Sync>(&self, items: &mut [S], f: F);
}

/// One shard after the other, on the calling thread.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sequential;

impl Parallel for Sequential {
    fn for_each<S: Send, F: Fn(usize, &mut S) + Sync>(&self, items: &mut [S], f: F) {
        for (i, item) in items.iter_mut().enumerate() {
            f(i, item);
        }
    }
}

/// What every shard's pass over a chunk shares but the dropout's first stream.
#[derive(Clone, Copy)]
struct ShardPass {
    /// Inputs per stream.
    seq_len: usize,
    /// Whether each stream starts from its carried state (else from zero).
    carry: bool,
    /// Live classes.
    classes: usize,
    /// The loss's scale (one over the streams of the batch).
    scale: f32,
    /// The shard's dropout.
    dropout: DropoutPass,
}

/// Where a batched run stands (the hidden states are in the shards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchState {
    /// Offset of the next chunk's first input inside every stream's part of the data.
    pub position: usize,
    /// Updates applied so far.
    pub iteration: u64,
    /// Completed passes over the data.
    pub epoch: u64,
    /// Smoothed chunk loss per stream: `0.999·s + 0.001·loss`, from `ln(classes)·seq_len`.
    pub smooth_loss: f32,
}

/// A batched training run over borrowed model, shards and optimizer, for any [`BatchCell`]
/// `C` (the Elman [`Rnn`] by default).
///
/// ```
/// use micrornn::batch::{BatchTrainer, Sequential, Shard};
/// use micrornn::{Adam, Rnn, TrainConfig};
/// use rand_xoshiro::{rand_core::SeedableRng, Xoshiro128PlusPlus};
/// let data: Vec<usize> = (0..400).map(|i| i % 4).collect();
/// let mut model = Rnn::<4, 8, 4>::ZERO;
/// model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(1), 0.1);
/// // 2 shards of 4 streams: a batch of 8.
/// let mut shards = [Shard::<4, 4, 10, 8, 4>::ZERO, Shard::ZERO];
/// let mut adam = Adam::new(0.01);
/// let config = TrainConfig { seq_len: 10, ..TrainConfig::min_char_rnn(4) };
/// let mut trainer = BatchTrainer::new(&mut model, &mut shards, &mut adam, config)?;
/// let first = trainer.train_chunk(&data, &Sequential)?.loss;
/// for _ in 0..300 {
///     trainer.train_chunk(&data, &Sequential)?;
/// }
/// assert!(trainer.train_chunk(&data, &Sequential)?.loss < first / 10.0);
/// # Ok::<(), micrornn::Error>(())
/// ```
pub struct BatchTrainer<
    'a,
    const I: usize,
    const B: usize,
    const T: usize,
    const H: usize,
    const O: usize,
    P,
    C: BatchCell<I, H, O> = Rnn<I, H, O>,
> {
    /// The parameters being trained.
    pub model: &'a mut C,
    /// The shards: `shards.len()·B` streams.
    pub shards: &'a mut [Shard<I, B, T, H, O, C>],
    /// Update rule and its memory.
    pub optimizer: &'a mut P,
    /// Settings (`window` must be `None`: batches use full BPTT).
    pub config: TrainConfig,
    /// Position, counters, smoothed loss.
    pub state: BatchState,
    /// Dropout on the readout's input ([`Dropout::NONE`] unless set): update `i` draws its
    /// masks with `i` and each stream's index in the batch, so the model does not depend on
    /// the runner's threads, and a resumed run draws the masks it would have drawn.
    pub dropout: Dropout,
}

impl<
    'a,
    const I: usize,
    const B: usize,
    const T: usize,
    const H: usize,
    const O: usize,
    P,
    C: BatchCell<I, H, O>,
> BatchTrainer<'a, I, B, T, H, O, P, C>
where
    P: Optimizer<C>,
{
    /// A run from the start of the data, every stream from a zero state.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for no shards, `B = 0`, `seq_len` outside `1..=T`, `classes`
    /// outside `1..=min(I, O)`, a clip limit that is not `> 0`, or a BPTT window.
    pub fn new(
        model: &'a mut C,
        shards: &'a mut [Shard<I, B, T, H, O, C>],
        optimizer: &'a mut P,
        config: TrainConfig,
    ) -> Result<Self, Error> {
        let smooth_loss = kernels::math::ln(config.classes.max(1) as f32) * config.seq_len as f32;
        let start = BatchState {
            position: 0,
            iteration: 0,
            epoch: 0,
            smooth_loss,
        };
        let trainer = Self::resume(model, shards, optimizer, config, start)?;
        for shard in trainer.shards.iter_mut() {
            shard.hidden = [[0.0; H]; B];
        }
        Ok(trainer)
    }

    /// A run continuing from `state`, with the hidden states the shards hold.
    ///
    /// # Errors
    /// As [`BatchTrainer::new`].
    pub fn resume(
        model: &'a mut C,
        shards: &'a mut [Shard<I, B, T, H, O, C>],
        optimizer: &'a mut P,
        config: TrainConfig,
        state: BatchState,
    ) -> Result<Self, Error> {
        if shards.is_empty() || B == 0 {
            return Err(Error::InvalidSetting("a batch needs at least one stream"));
        }
        if config.seq_len == 0 || config.seq_len > T {
            return Err(Error::InvalidSetting("seq_len must be in 1..=T"));
        }
        crate::model::Classes::<O>::new(config.classes)?;
        // Targets are also inputs: every class needs an input row.
        if config.classes > I {
            return Err(Error::InvalidSetting("classes must be in 1..=outputs"));
        }
        config.clip.check()?;
        if config.window.is_some() {
            return Err(Error::InvalidSetting(
                "batched training uses full BPTT (no window)",
            ));
        }
        Ok(Self {
            model,
            shards,
            optimizer,
            config,
            state,
            dropout: Dropout::NONE,
        })
    }

    /// Number of streams: shards × `B`.
    pub fn streams(&self) -> usize {
        self.shards.len() * B
    }

    /// Trains on the next chunk of every stream of `data`: forward and backward of each shard
    /// (through `runner`), the gradients summed in shard order, clip, update.
    ///
    /// Stream `g` reads `data[g·L..(g + 1)·L]` with `L = data.len() / streams`; all streams
    /// advance together and wrap (with zero states) when a chunk no longer fits.
    ///
    /// # Errors
    /// - [`Error::CorpusTooShort`] if a stream's part has fewer than `seq_len + 1` tokens;
    /// - [`Error::TokenOutOfRange`] for a token `≥ classes` in a chunk;
    /// - [`Error::NonFiniteLoss`] if the loss or a gradient is NaN or infinite.
    ///
    /// On error the parameters, optimizer memory, hidden states and state are unchanged.
    pub fn train_chunk(
        &mut self,
        data: &[usize],
        runner: &impl Parallel,
    ) -> Result<ChunkReport, Error> {
        let (seq_len, classes, streams) =
            (self.config.seq_len, self.config.classes, self.streams());
        let needed = seq_len + 1;
        let part = data.len() / streams;
        if part < needed {
            return Err(Error::CorpusTooShort {
                len: data.len(),
                needed: needed * streams,
            });
        }
        let mut state = self.state;
        let wrapped = state.position.saturating_add(needed) > part;
        if wrapped {
            state.position = 0;
            state.epoch = state.epoch.saturating_add(1);
        }
        let start = state.position;
        let chunk = |g: usize| data.get(g * part + start..g * part + start + needed);
        for g in 0..streams {
            if let Some(&token) = chunk(g).unwrap_or(&[]).iter().find(|&&id| id >= classes) {
                return Err(Error::TokenOutOfRange {
                    token,
                    limit: classes,
                });
            }
        }
        let (model, carry) = (&*self.model, self.config.carry_hidden && !wrapped);
        let scale = 1.0 / streams as f32;
        let (dropout, draw) = (self.dropout, state.iteration);
        runner.for_each(self.shards, |index, shard: &mut Shard<I, B, T, H, O, C>| {
            let chunks: [&[usize]; B] =
                core::array::from_fn(|b| chunk(index * B + b).unwrap_or(&[]));
            let pass = ShardPass {
                seq_len,
                carry,
                classes,
                scale,
                dropout: DropoutPass {
                    dropout,
                    draw,
                    first_stream: (index * B) as u64,
                },
            };
            shard.loss = shard.run(model, chunks, &pass);
        });
        let mut loss = 0.0f32;
        for shard in self.shards.iter() {
            loss += shard.loss;
        }
        let live = Live {
            inputs: classes,
            outputs: classes,
        };
        let Some((first, rest)) = self.shards.split_first_mut() else {
            return Err(Error::InvalidSetting("a batch needs at least one stream"));
        };
        if !loss.is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        let k = kernels::active();
        for shard in rest.iter() {
            for index in 0..C::TENSORS.len() {
                let total = first.grads.live_tensor_mut(index, live);
                (k.axpy)(1.0, shard.grads.live_tensor(index, live), total);
            }
        }
        if !live_sum_squares(&first.grads, live).is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        self.optimizer
            .clip_and_update_live(self.model, &mut first.grads, self.config.clip, live);
        for shard in self.shards.iter_mut() {
            shard.hidden = *shard.tape.last_hidden();
        }
        let loss = loss * scale;
        state.position = start + seq_len;
        state.iteration = state.iteration.saturating_add(1);
        state.smooth_loss = 0.999 * state.smooth_loss + 0.001 * loss;
        self.state = state;
        Ok(ChunkReport {
            loss,
            tokens: seq_len * streams,
            wrapped,
        })
    }
}

impl<
    const I: usize,
    const B: usize,
    const T: usize,
    const H: usize,
    const O: usize,
    C: BatchCell<I, H, O>,
> Shard<I, B, T, H, O, C>
{
    /// Forward and backward over one chunk of each of the shard's streams (`chunks[b]`: the
    /// `seq_len` inputs and, one further, the targets); returns the summed loss, NaN on failure.
    fn run(&mut self, model: &C, chunks: [&[usize]; B], pass: &ShardPass) -> f32 {
        let ShardPass {
            seq_len,
            carry,
            classes,
            scale,
            dropout,
        } = *pass;
        let inputs = chunks.map(|c| c.get(..seq_len).unwrap_or(&[]));
        let targets = chunks.map(|c| c.get(1..).unwrap_or(&[]));
        let h_start = if carry { self.hidden } else { [[0.0; H]; B] };
        let streams = (inputs, targets);
        let Ok(loss) = self
            .tape
            .forward_dropped(model, streams, &h_start, classes, scale, dropout)
        else {
            return f32::NAN;
        };
        match self.tape.backward(model, inputs, &mut self.grads) {
            Ok(()) => loss,
            Err(_) => f32::NAN,
        }
    }
}
