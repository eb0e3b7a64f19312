//! The recurrent cells the binary trains and runs (`--cell`), and what it needs of a cell
//! beyond the library's [`Cell`] and [`BatchCell`]: its initialization. The commands are
//! written once over [`LmCell`]; [`dispatch!`](crate::dispatch) picks the cell from `--cell` or
//! a file's header.

use micrornn::host::boxed::Zeroable;
use micrornn::model::Gru;
use micrornn::model::batch_cell::{BatchCell, BatchRecord};
use micrornn::{Cell, DefaultRng, Infer, Rnn};

/// The Elman language model `Rnn<V, H, V>` of the binary.
pub type ElmanLm<const V: usize, const H: usize> = Rnn<V, H, V>;

/// The GRU language model `Gru<V, H, V>` of the binary.
pub type GruLm<const V: usize, const H: usize> = Gru<V, H, V>;

/// A character language model of `V` symbols and `H` units the binary trains (one stream or a
/// batch on threads), samples and evaluates.
pub trait LmCell<const V: usize, const H: usize>:
    Cell<V, H, V, Record: Zeroable + BatchRecord<H, Gates: Zeroable, Transposed: Zeroable>>
    + BatchCell<V, H, V>
    + Zeroable
    + Infer<V, Hidden = [f32; H]>
{
    /// The Rust type's name a firmware declares (`Rnn`, `Gru`).
    const TYPE_NAME: &'static str;

    /// Initializes a fresh model from the run's seed.
    fn init(&mut self, rng: &mut DefaultRng);
}

impl<const V: usize, const H: usize> LmCell<V, H> for ElmanLm<V, H> {
    const TYPE_NAME: &'static str = "Rnn";

    /// min-char-rnn's: every weight N(0, 1)·0.01, biases zero.
    fn init(&mut self, rng: &mut DefaultRng) {
        self.init_gaussian(rng, 0.01);
    }
}

impl<const V: usize, const H: usize> LmCell<V, H> for GruLm<V, H> {
    const TYPE_NAME: &'static str = "Gru";

    /// PyTorch's `nn.GRU` initialization: every weight and gate bias uniform in `±1/√H`.
    fn init(&mut self, rng: &mut DefaultRng) {
        self.init_uniform(rng);
    }
}
