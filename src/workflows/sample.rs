//! Text generation: categorical draws from the model's softmax, with temperature, top-k and
//! greedy decoding, driven by any seeded [`rand_core::Rng`].

use crate::Error;
use crate::kernels;
use crate::model::init::unit;
use crate::model::{Infer, Input, Rnn};
use rand_core::Rng;

/// How to turn logits into the next token.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampling {
    /// Divides the logits before the softmax. `0.0` means greedy (always the most likely
    /// token); `1.0` samples from the model's distribution; above 1 flattens it.
    pub temperature: f32,
    /// If non-zero, only the `top_k` most likely tokens can be drawn (ties at the k-th value are
    /// kept).
    pub top_k: usize,
}

impl Sampling {
    /// Always the most likely token (ties go to the lowest id).
    pub const GREEDY: Self = Self {
        temperature: 0.0,
        top_k: 0,
    };
    /// A draw from the model's own distribution.
    pub const FULL: Self = Self {
        temperature: 1.0,
        top_k: 0,
    };
    /// Classes [`Sampling::pick`] weighs at once, in a buffer on the stack: 128 (512 bytes) on
    /// 64-bit targets, where a character vocabulary then takes one block; 32 (128 bytes) on
    /// smaller ones, where every byte of stack counts (a micro:bit has 16 KB of RAM).
    pub const DRAW_BLOCK: usize = if cfg!(target_pointer_width = "64") {
        128
    } else {
        32
    };

    /// Picks the next token from `logits`, considering only ids `0..classes`.
    ///
    /// The same `rng` state gives the same token on every run and target. Works in blocks of
    /// [`Sampling::DRAW_BLOCK`] classes on the stack (`4·DRAW_BLOCK` bytes, no buffer of the model's
    /// size): up to that many classes are weighed once, more are weighed twice (for the total,
    /// then block by block until the drawn one).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for `classes` of 0 or above `logits.len()`, or a negative or
    /// NaN temperature.
    pub fn pick<R: Rng + ?Sized>(
        &self,
        logits: &[f32],
        classes: usize,
        rng: &mut R,
    ) -> Result<usize, Error> {
        let live = logits
            .get(..classes)
            .filter(|l| !l.is_empty())
            .ok_or(Error::InvalidSetting("classes must be in 1..=outputs"))?;
        if self.temperature.is_nan() || self.temperature < 0.0 {
            return Err(Error::InvalidSetting("temperature must be >= 0"));
        }
        if self.temperature == 0.0 {
            return Ok(argmax(live));
        }
        let weigh = Weights {
            threshold: self.top_k_threshold(live),
            // The largest logit always survives the top-k cut, so no filter is needed here.
            // A compare-and-select (NaN never wins) vectorizes; `f32::max` does not.
            max: lanes(live, f32::NEG_INFINITY, |m, z| if z > m { z } else { m }),
            inv_temperature: 1.0 / self.temperature,
        };
        let mut weights = [0.0f32; DRAW_BLOCK];
        let one_block = live.len() <= DRAW_BLOCK;
        let total = live
            .chunks(DRAW_BLOCK)
            .fold(0.0, |total, block| total + weigh.block(block, &mut weights));
        if !(total > 0.0 && total.is_finite()) {
            return Ok(argmax(live));
        }
        // Inverse CDF: whole blocks, then runs of 8 weights, are skipped with their sums.
        let mut remaining = unit(rng) * total;
        let mut last_weighty_block = 0;
        for (b, block) in live.chunks(DRAW_BLOCK).enumerate() {
            let block_sum = if one_block {
                total
            } else {
                weigh.block(block, &mut weights)
            };
            if block_sum > 0.0 {
                last_weighty_block = b;
            }
            if remaining >= block_sum {
                remaining -= block_sum;
                continue;
            }
            let weights = weights.get(..block.len()).unwrap_or(&[]);
            for (run, ws) in weights.chunks(8).enumerate() {
                let run_sum: f32 = ws.iter().sum();
                if remaining >= run_sum {
                    remaining -= run_sum;
                    continue;
                }
                for (i, &w) in ws.iter().enumerate() {
                    if remaining < w {
                        return Ok(b * DRAW_BLOCK + run * 8 + i);
                    }
                    remaining -= w;
                }
            }
        }
        // Rounding left `remaining` above the last weight: the last class that has one.
        let base = last_weighty_block * DRAW_BLOCK;
        let block = live.get(base..).unwrap_or(&[]);
        if !one_block {
            weigh.block(block, &mut weights);
        }
        let last = weights
            .get(..block.len().min(DRAW_BLOCK))
            .and_then(|ws| ws.iter().rposition(|&w| w > 0.0))
            .unwrap_or(0);
        Ok(base + last)
    }

    /// The smallest logit that survives the top-k cut (`-inf` when there is no cut).
    fn top_k_threshold(&self, live: &[f32]) -> f32 {
        if self.top_k == 0 || self.top_k >= live.len() {
            return f32::NEG_INFINITY;
        }
        // The k-th largest value (counting repeated values as many times as they occur): walk
        // the distinct values downwards until at least k values are kept. O(n·k) without a
        // buffer; n is a vocabulary size, so this stays small.
        let mut threshold = f32::INFINITY;
        let mut kept = 0;
        while kept < self.top_k {
            let next = live
                .iter()
                .copied()
                .filter(|&z| z < threshold)
                .fold(f32::NEG_INFINITY, f32::max);
            if next == f32::NEG_INFINITY {
                break;
            }
            threshold = next;
            kept += live.iter().filter(|&&z| z == next).count();
        }
        threshold
    }
}

/// Classes weighed at once by [`Sampling::pick`], in a buffer on the stack.
const DRAW_BLOCK: usize = Sampling::DRAW_BLOCK;

/// The unnormalized probability of each class: `exp((z - max) / T)`, 0 below the top-k cut.
struct Weights {
    threshold: f32,
    max: f32,
    inv_temperature: f32,
}

impl Weights {
    /// Writes the weights of `logits` (at most [`DRAW_BLOCK`]) to the front of `weights` with
    /// the vectorized exp, and returns their sum.
    fn block(&self, logits: &[f32], weights: &mut [f32; DRAW_BLOCK]) -> f32 {
        let Some(weights) = weights.get_mut(..logits.len().min(DRAW_BLOCK)) else {
            return 0.0;
        };
        let sum = (kernels::active().exp)(logits, weights, self.max, self.inv_temperature);
        if self.threshold == f32::NEG_INFINITY {
            return sum;
        }
        // Below the top-k cut: no weight.
        for (w, &z) in weights.iter_mut().zip(logits) {
            if z < self.threshold {
                *w = 0.0;
            }
        }
        lanes(weights, 0.0, |a, b| a + b)
    }
}

/// Reduces `values` with `op` in eight independent lanes, then the lanes together.
fn lanes(values: &[f32], init: f32, op: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [init; 8];
    let mut chunks = values.chunks_exact(8);
    for c in &mut chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = op(*a, v);
        }
    }
    for (a, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *a = op(*a, v);
    }
    acc.into_iter().fold(init, op)
}

pub use crate::kernels::scalar::argmax;

/// Generates tokens from any model that implements [`Infer`] — the f32 [`Rnn`] and the int8
/// [`QRnn`](crate::QRnn) alike, with the same calls: feed a token, pick the next (greedy, or
/// sampled with temperature and top-k), feed it back.
///
/// [`Sampler`] is the name of a generator over an [`Rnn`].
///
/// ```
/// use micrornn::{Generator, QRnn, Rnn, Sampler, Sampling};
/// use rand_xoshiro::{rand_core::SeedableRng, Xoshiro128PlusPlus};
/// let mut rnn = Rnn::<3, 4, 3>::ZERO;
/// rnn.b_y = [0.0, 5.0, 0.0]; // the model always predicts token 1
/// let mut sampler = Sampler::new(&rnn, 3, Sampling::GREEDY)?;
/// let mut rng = Xoshiro128PlusPlus::seed_from_u64(7);
/// sampler.feed(0)?;
/// assert_eq!(sampler.pick(&mut rng)?, 1);
///
/// // The quantized model, with the same calls (and temperature sampling too).
/// let q = QRnn::quantize(&rnn, None)?;
/// let mut generator = Generator::new(&q, 3, Sampling { temperature: 0.5, top_k: 2 })?;
/// generator.prime(&[2, 0])?;
/// assert_eq!(generator.next(&mut rng)?, 1);
/// assert_eq!(generator.greedy_next()?, 1);
/// # Ok::<(), micrornn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Generator<'m, M: Infer<I>, const I: usize> {
    model: &'m M,
    /// The hidden state after the last fed token.
    hidden: M::Hidden,
    /// What the model precomputes for the next step.
    carry: M::Carry,
    /// The logits of the next token.
    logits: M::Logits,
    classes: usize,
    /// How the next token is chosen.
    pub sampling: Sampling,
}

/// A [`Generator`] over the f32 [`Rnn`] (its name before the generator served every model).
pub type Sampler<'m, const I: usize, const H: usize, const O: usize> =
    Generator<'m, Rnn<I, H, O>, I>;

impl<'m, M: Infer<I>, const I: usize> Generator<'m, M, I> {
    /// A generator from the zero hidden state over the first `classes` outputs. To start from a
    /// model file's stored state, [`Generator::set_hidden`] it.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `classes` is 0 or above the model's outputs.
    pub fn new(model: &'m M, classes: usize, sampling: Sampling) -> Result<Self, Error> {
        if classes == 0 || classes > M::OUTPUTS {
            return Err(Error::InvalidSetting("classes must be in 1..=outputs"));
        }
        let mut generator = Self {
            model,
            hidden: M::ZERO_HIDDEN,
            carry: M::ZERO_CARRY,
            logits: M::ZERO_LOGITS,
            classes,
            sampling,
        };
        generator.set_hidden(M::ZERO_HIDDEN);
        Ok(generator)
    }

    /// The hidden state after the last fed token.
    pub fn hidden(&self) -> &M::Hidden {
        &self.hidden
    }

    /// Continues from `hidden` (a model file's stored state, a trainer's carried state), as if
    /// it had been reached by feeding tokens.
    pub fn set_hidden(&mut self, hidden: M::Hidden) {
        self.hidden = hidden;
        self.model
            .restart(&self.hidden, &mut self.carry, &mut self.logits);
    }

    /// The logits of the next token (padded classes included), in the model's arithmetic.
    pub fn logits(&self) -> &M::Logits {
        &self.logits
    }

    /// Advances the hidden state by one input and computes the logits of the next token.
    ///
    /// # Errors
    /// As [`Infer::step`]; the state is then unchanged.
    pub fn step(&mut self, input: Input<'_, I>) -> Result<(), Error> {
        self.model
            .advance(input, &mut self.hidden, &mut self.carry, &mut self.logits)
    }

    /// Advances the hidden state by one token: [`Generator::step`] with [`Input::Token`].
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for an id `≥ I`; the state is then unchanged.
    pub fn feed(&mut self, token: usize) -> Result<(), Error> {
        self.step(Input::Token(token))
    }

    /// Feeds every token of a prefix (priming), in order: afterwards [`Generator::pick`] gives
    /// the token that follows the whole prefix.
    ///
    /// # Errors
    /// As [`Generator::feed`]; tokens before the bad one stay fed.
    pub fn prime(&mut self, tokens: &[usize]) -> Result<(), Error> {
        tokens.iter().try_for_each(|&t| self.feed(t))
    }

    /// Chooses the next token from the current logits with [`Generator::sampling`] (without
    /// feeding it). Greedy ([`Sampling::GREEDY`]) compares the logits in the model's own
    /// arithmetic (integers for `QRnn`, as firmware does); otherwise the softmax of the real
    /// logits is sampled ([`Sampling::pick`]).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a negative or NaN temperature.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> Result<usize, Error> {
        if self.sampling.temperature == 0.0 {
            return Ok(self.model.argmax(&self.logits, self.classes));
        }
        let mut buffer = M::ZERO_REAL_LOGITS;
        let real = self.model.real_logits(&self.logits, &mut buffer);
        self.sampling.pick(real, self.classes, rng)
    }

    /// Picks the next token ([`Generator::pick`]), feeds it, and returns it.
    ///
    /// # Errors
    /// As [`Generator::pick`] and [`Generator::feed`].
    pub fn next<R: Rng + ?Sized>(&mut self, rng: &mut R) -> Result<usize, Error> {
        let token = self.pick(rng)?;
        self.feed(token)?;
        Ok(token)
    }

    /// One greedy inference step, with no random number generator: picks the most likely next
    /// token (the argmax of the live logits, the lowest id on ties), feeds it, and returns it —
    /// what [`Generator::next`] does with [`Sampling::GREEDY`], whatever
    /// [`Generator::sampling`] is.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] if the picked class has no input row (a model with more
    /// classes than inputs); the state is then unchanged.
    ///
    /// # Examples
    /// ```
    /// use micrornn::{Rnn, Sampler, Sampling};
    /// let mut rnn = Rnn::<3, 4, 3>::ZERO;
    /// rnn.b_y = [0.0, 2.0, 1.0]; // class 1 is always the most likely
    /// let mut sampler = Sampler::new(&rnn, 3, Sampling::GREEDY)?;
    /// sampler.feed(0)?;
    /// assert_eq!(sampler.greedy_next()?, 1);
    /// assert_eq!(sampler.greedy_next()?, 1);
    /// # Ok::<(), micrornn::Error>(())
    /// ```
    pub fn greedy_next(&mut self) -> Result<usize, Error> {
        let token = self.model.argmax(&self.logits, self.classes);
        self.feed(token)?;
        Ok(token)
    }

    /// The softmax probabilities of the next token over the live classes, into the first
    /// `classes` values of `probs` (padded ones and any beyond are 0; a shorter `probs` gets
    /// nothing).
    pub fn probabilities(&self, probs: &mut [f32]) {
        let mut buffer = M::ZERO_REAL_LOGITS;
        let real = self.model.real_logits(&self.logits, &mut buffer);
        probs.fill(0.0);
        if let (Some(p), Some(z)) = (probs.get_mut(..self.classes), real.get(..self.classes)) {
            (kernels::active().softmax)(z, p);
        }
    }

    /// Picks and feeds `n` tokens, calling `emit` with each.
    ///
    /// # Errors
    /// As [`Generator::next`].
    pub fn generate<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        n: usize,
        mut emit: impl FnMut(usize),
    ) -> Result<(), Error> {
        for _ in 0..n {
            emit(self.next(rng)?);
        }
        Ok(())
    }
}
