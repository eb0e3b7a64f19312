//! Text generation: categorical draws from the model's softmax, with temperature, top-k and
//! greedy decoding, driven by any seeded [`rand_core::Rng`].

use crate::Error;
use crate::init::unit;
use crate::kernels;
use crate::model::{Input, Rnn};
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

    /// Picks the next token from `logits`, considering only ids `0..classes`.
    ///
    /// The same `rng` state gives the same token on every run and target.
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
        let threshold = self.top_k_threshold(live);
        if self.temperature == 0.0 {
            return Ok(argmax(live));
        }
        // Two passes without a buffer of the model's size: the total weight, then an
        // inverse-CDF walk that recomputes each weight.
        let max = live
            .iter()
            .copied()
            .filter(|&z| z >= threshold)
            .fold(f32::NEG_INFINITY, f32::max);
        let weight = |z: f32| {
            if z >= threshold {
                crate::math::exp((z - max) / self.temperature)
            } else {
                0.0
            }
        };
        let total: f32 = live.iter().map(|&z| weight(z)).sum();
        if !(total > 0.0 && total.is_finite()) {
            return Ok(argmax(live));
        }
        let mut remaining = unit(rng) * total;
        let mut last_possible = 0;
        for (id, &z) in live.iter().enumerate() {
            let w = weight(z);
            if w > 0.0 {
                last_possible = id;
                if remaining < w {
                    return Ok(id);
                }
                remaining -= w;
            }
        }
        Ok(last_possible)
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
    pub hidden: [f32; H],
    logits: [f32; O],
    classes: usize,
    /// How the next token is chosen.
    pub sampling: Sampling,
}

impl<'m, const I: usize, const H: usize, const O: usize> Sampler<'m, I, H, O> {
    /// A sampler from a zero hidden state over the first `classes` outputs.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] if `classes` is 0 or above `O`.
    pub fn new(rnn: &'m Rnn<I, H, O>, classes: usize, sampling: Sampling) -> Result<Self, Error> {
        if classes == 0 || classes > O {
            return Err(Error::InvalidSetting("classes must be in 1..=outputs"));
        }
        Ok(Self {
            rnn,
            hidden: [0.0; H],
            logits: [0.0; O],
            classes,
            sampling,
        })
    }

    /// Advances the hidden state by one token and computes the logits for the next.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for an id `≥ I`; the state is then unchanged.
    pub fn feed(&mut self, token: usize) -> Result<(), Error> {
        self.rnn.step(Input::Token(token), &mut self.hidden)?;
        self.rnn.logits(&self.hidden, &mut self.logits);
        Ok(())
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
