//! Text generation: categorical draws from the model's softmax, with temperature, top-k and
//! greedy decoding, driven by any seeded [`rand_core::Rng`].

use crate::Error;
use crate::kernels;
use crate::model::init::unit;
use crate::model::{Classes, Rnn};
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

/// Index of the largest value (the first one on ties; 0 for an empty slice).
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    let mut best_value = f32::NEG_INFINITY;
    for (i, &v) in values.iter().enumerate() {
        if v > best_value {
            best = i;
            best_value = v;
        }
    }
    best
}

/// Generates tokens from a model: feed a token, pick the next, feed it back.
///
/// ```
/// use micrornn::{Rnn, Sampler, Sampling};
/// use rand_xoshiro::{rand_core::SeedableRng, Xoshiro128PlusPlus};
/// let mut rnn = Rnn::<3, 4, 3>::ZERO;
/// rnn.b_y = [0.0, 5.0, 0.0]; // the model always predicts token 1
/// let mut sampler = Sampler::new(&rnn, 3, Sampling::GREEDY)?;
/// let mut rng = Xoshiro128PlusPlus::seed_from_u64(7);
/// sampler.feed(0)?;
/// assert_eq!(sampler.pick(&mut rng)?, 1);
/// # Ok::<(), micrornn::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Sampler<'m, const I: usize, const H: usize, const O: usize> {
    rnn: &'m Rnn<I, H, O>,
    /// The hidden state after the last fed token.
    hidden: [f32; H],
    /// `W_hh·hidden + b_h`: the next step's pre-activation before its input row.
    pre: [f32; H],
    /// `W_hy·hidden + b_y`.
    logits: [f32; O],
    /// Walk the weight matrices backwards in the next [`Sampler::feed`].
    backwards: bool,
    classes: usize,
    /// How the next token is chosen.
    pub sampling: Sampling,
}

/// Rows per kernel call when [`Sampler::feed`] walks a weight matrix: the unit of its
/// back-and-forth traversal.
const ROW_BLOCK: usize = 32;

/// `y = W·x + b`, [`ROW_BLOCK`] rows per kernel call, the last block first with `backwards`.
/// Every row's result is the same in either order.
fn matvec_blocks(w: &[f32], x: &[f32], b: &[f32], y: &mut [f32], backwards: bool) {
    let matvec = kernels::active().matvec;
    let cols = x.len();
    let blocks = w
        .chunks(ROW_BLOCK * cols.max(1))
        .zip(b.chunks(ROW_BLOCK))
        .zip(y.chunks_mut(ROW_BLOCK));
    if backwards {
        blocks.rev().for_each(|((w, b), y)| matvec(w, x, b, y));
    } else {
        blocks.for_each(|((w, b), y)| matvec(w, x, b, y));
    }
}

impl<'m, const I: usize, const H: usize, const O: usize> Sampler<'m, I, H, O> {
    /// A sampler from a zero hidden state over the first `classes` outputs.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `classes` is 0 or above `O`.
    pub fn new(rnn: &'m Rnn<I, H, O>, classes: usize, sampling: Sampling) -> Result<Self, Error> {
        let classes = Classes::<O>::new(classes)?.get();
        let mut sampler = Self {
            rnn,
            hidden: [0.0; H],
            pre: [0.0; H],
            logits: [0.0; O],
            backwards: false,
            classes,
            sampling,
        };
        sampler.set_hidden([0.0; H]);
        Ok(sampler)
    }

    /// The hidden state after the last fed token.
    pub fn hidden(&self) -> &[f32; H] {
        &self.hidden
    }

    /// Continues from `hidden` (for example a trainer's carried state), as if it had been
    /// reached by feeding tokens.
    pub fn set_hidden(&mut self, hidden: [f32; H]) {
        self.hidden = hidden;
        self.update_outputs();
    }

    /// The logits of the next token (`W_hy·hidden + b_y`; padded classes included).
    pub fn logits(&self) -> &[f32; O] {
        &self.logits
    }

    /// Advances the hidden state by one token and computes the logits for the next.
    ///
    /// Both products with the new state (the logits and the next step's `W_hh·h`) are taken
    /// here, and each call walks the two matrices in the opposite order of the last, so the
    /// rows read last, still in the L1 cache, are read first (the README has what this buys).
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for an id `≥ I`; the state is then unchanged.
    pub fn feed(&mut self, token: usize) -> Result<(), Error> {
        let row = self
            .rnn
            .w_xh
            .get(token)
            .ok_or(Error::TokenOutOfRange { token, limit: I })?;
        self.hidden = self.pre;
        (kernels::active().add_tanh)(row, &mut self.hidden);
        self.update_outputs();
        Ok(())
    }

    /// Recomputes `logits` and `pre` from `hidden`, walking the matrices back and forth.
    fn update_outputs(&mut self) {
        let rnn = self.rnn;
        let (w_hh, w_hy) = (rnn.w_hh.as_flattened(), rnn.w_hy.as_flattened());
        if self.backwards {
            matvec_blocks(w_hh, &self.hidden, &rnn.b_h, &mut self.pre, true);
            matvec_blocks(w_hy, &self.hidden, &rnn.b_y, &mut self.logits, true);
        } else {
            matvec_blocks(w_hy, &self.hidden, &rnn.b_y, &mut self.logits, false);
            matvec_blocks(w_hh, &self.hidden, &rnn.b_h, &mut self.pre, false);
        }
        self.backwards = !self.backwards;
    }

    /// Feeds every token of a prefix (priming), in order.
    ///
    /// # Errors
    /// As [`Sampler::feed`]; tokens before the bad one stay fed.
    pub fn prime(&mut self, tokens: &[usize]) -> Result<(), Error> {
        tokens.iter().try_for_each(|&t| self.feed(t))
    }

    /// Chooses the next token from the current logits (without feeding it).
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for a negative temperature.
    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> Result<usize, Error> {
        self.sampling.pick(&self.logits, self.classes, rng)
    }

    /// One greedy inference step, with no random number generator: picks the most likely next
    /// token (the argmax of the live logits, the lowest id on ties), feeds it, and returns it —
    /// what `pick` does with [`Sampling::GREEDY`], then [`Sampler::feed`].
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
        let token = argmax(Classes::<O>::new(self.classes)?.of(&self.logits));
        self.feed(token)?;
        Ok(token)
    }

    /// The softmax probabilities of the next token over the live classes (padded ones are 0).
    pub fn probabilities(&self, probs: &mut [f32; O]) {
        probs.fill(0.0);
        if let (Some(p), Some(z)) = (
            probs.get_mut(..self.classes),
            self.logits.get(..self.classes),
        ) {
            (kernels::active().softmax)(z, p);
        }
    }

    /// Picks and feeds `n` tokens, calling `emit` with each.
    ///
    /// # Errors
    /// As [`Sampler::pick`].
    pub fn generate<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        n: usize,
        mut emit: impl FnMut(usize),
    ) -> Result<(), Error> {
        for _ in 0..n {
            let token = self.pick(rng)?;
            emit(token);
            self.feed(token)?;
        }
        Ok(())
    }
}
