//! The recurrent cells the binary trains and runs (`--cell`), and what it needs of a cell
//! beyond the library's [`Cell`]: its initialization and its batched engine. The commands are
//! written once over [`LmCell`]; [`dispatch!`](crate::dispatch) picks the cell from `--cell` or
//! a file's header.

use crate::train::setup::BinShard;
use micrornn::batch::{BatchState, BatchTrainer};
use micrornn::host::boxed::Zeroable;
use micrornn::host::optimizer::AnyOptimizer;
use micrornn::host::threads::Threads;
use micrornn::model::Gru;
use micrornn::{Cell, ChunkReport, DefaultRng, Error, Infer, Rnn, TrainConfig};

/// The Elman language model `Rnn<V, H, V>` of the binary.
pub type ElmanLm<const V: usize, const H: usize> = Rnn<V, H, V>;

/// The GRU language model `Gru<V, H, V>` of the binary.
pub type GruLm<const V: usize, const H: usize> = Gru<V, H, V>;

/// A character language model of `V` symbols and `H` units the binary trains, samples and
/// evaluates.
pub trait LmCell<const V: usize, const H: usize>:
    Cell<V, H, V, Record: Zeroable> + Zeroable + Infer<V, Hidden = [f32; H]>
{
    /// The Rust type's name a firmware declares (`Rnn`, `Gru`).
    const TYPE_NAME: &'static str;

    /// Initializes a fresh model from the run's seed.
    fn init(&mut self, rng: &mut DefaultRng);

    /// One chunk of every stream of a mini-batch, shared by `threads`; returns the report and
    /// the new counters.
    ///
    /// # Errors
    /// As [`BatchTrainer::train_chunk`]; [`Error::InvalidSetting`] for a cell without a batched
    /// engine.
    #[allow(clippy::too_many_arguments)]
    fn train_batched(
        model: &mut Self,
        shards: &mut [BinShard<V, H>],
        optimizer: &mut AnyOptimizer<V, H, V, Self>,
        config: TrainConfig,
        state: BatchState,
        data: &[usize],
        threads: Threads,
    ) -> Result<(ChunkReport, BatchState), Error>;
}

impl<const V: usize, const H: usize> LmCell<V, H> for ElmanLm<V, H> {
    const TYPE_NAME: &'static str = "Rnn";

    /// min-char-rnn's: every weight N(0, 1)·0.01, biases zero.
    fn init(&mut self, rng: &mut DefaultRng) {
        self.init_gaussian(rng, 0.01);
    }

    fn train_batched(
        model: &mut Self,
        shards: &mut [BinShard<V, H>],
        optimizer: &mut AnyOptimizer<V, H, V, Self>,
        config: TrainConfig,
        state: BatchState,
        data: &[usize],
        threads: Threads,
    ) -> Result<(ChunkReport, BatchState), Error> {
        let mut trainer = BatchTrainer::resume(model, shards, optimizer, config, state)?;
        let report = trainer.train_chunk(data, &threads)?;
        Ok((report, trainer.state))
    }
}

impl<const V: usize, const H: usize> LmCell<V, H> for GruLm<V, H> {
    const TYPE_NAME: &'static str = "Gru";

    /// PyTorch's `nn.GRU` initialization: every weight and gate bias uniform in `±1/√H`.
    fn init(&mut self, rng: &mut DefaultRng) {
        self.init_uniform(rng);
    }

    fn train_batched(
        _: &mut Self,
        _: &mut [BinShard<V, H>],
        _: &mut AnyOptimizer<V, H, V, Self>,
        _: TrainConfig,
        _: BatchState,
        _: &[usize],
        _: Threads,
    ) -> Result<(ChunkReport, BatchState), Error> {
        Err(Error::InvalidSetting(GRU_BATCH))
    }
}

/// Why `--cell gru` takes no `--batch` above 1.
pub const GRU_BATCH: &str =
    "batched training (--batch above 1) is Elman-only so far; train a GRU with --batch 1";
