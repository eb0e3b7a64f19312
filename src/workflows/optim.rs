//! Optimizers, written once over the list of parameter tensors of any cell.
//!
//! Parameters, gradients and optimizer memory share one type `M` ([`Params`]: an
//! [`Rnn`](crate::Rnn), a [`Gru`](crate::model::Gru), …), so every optimizer is a loop over the
//! tensor indices calling one kernel on `params.tensor(i)`, `grads.tensor(i)` and
//! `memory.tensor(i)`.

use crate::kernels::{self, AdamStep};
use crate::model::{Live, Params};
use crate::workflows::clip::Clip;

/// The `eps` of [`Adagrad::new`] and [`Adam::new`].
const DEFAULT_EPS: f32 = 1e-8;
/// The first-moment decay of [`Adam::new`].
const ADAM_BETA1: f32 = 0.9;
/// The second-moment decay of [`Adam::new`].
const ADAM_BETA2: f32 = 0.999;

/// An update rule: turns gradients into a parameter step, for parameters of type `M`.
pub trait Optimizer<M: Params> {
    /// Applies one update to the `live` rows of `params` from those of `grads`. The other rows
    /// of `grads` may hold anything and are not read (as if they were zero); the other rows of
    /// `params` are left as they are (a zero gradient changes nothing there: the optimizer's
    /// memory of those rows is zero too, as it only ever saw zero gradients). This is what a
    /// padded model's training loop calls.
    fn update_live(&mut self, params: &mut M, grads: &M, live: Live);

    /// Clips the `live` rows of `grads` in place, then applies [`Optimizer::update_live`].
    /// Optimizers may override it to do both in one pass over memory ([`Adagrad`] does for
    /// [`Clip::Value`]).
    fn clip_and_update_live(&mut self, params: &mut M, grads: &mut M, clip: Clip, live: Live) {
        clip.apply_live(grads, live);
        self.update_live(params, grads, live);
    }

    /// Applies one update to every row of `params` from `grads`.
    fn update(&mut self, params: &mut M, grads: &M) {
        self.update_live(params, grads, Live::ALL);
    }

    /// Clips `grads` in place, then applies one update to every row.
    fn clip_and_update(&mut self, params: &mut M, grads: &mut M, clip: Clip) {
        self.clip_and_update_live(params, grads, clip, Live::ALL);
    }
}

/// Plain stochastic gradient descent: `p -= lr·g` (notebooks 000 and 004).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
}

impl<M: Params> Optimizer<M> for Sgd {
    fn update_live(&mut self, params: &mut M, grads: &M, live: Live) {
        let k = kernels::active();
        for index in 0..M::TENSORS.len() {
            let (p, g) = (
                params.live_tensor_mut(index, live),
                grads.live_tensor(index, live),
            );
            (k.sgd)(p, g, self.lr);
        }
    }
}

/// SGD with momentum: `v = mu·v + g; p -= lr·v`. Holds one velocity of the parameters' type
/// `M` (an [`Rnn`](crate::Rnn), a [`Gru`](crate::model::Gru), …).
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum<M> {
    /// Learning rate.
    pub lr: f32,
    /// Momentum coefficient, usually 0.9.
    pub mu: f32,
    /// Velocity, one entry per parameter.
    pub velocity: M,
}

impl<M: Params> Momentum<M> {
    /// Every field zero, `lr` and `mu` included: a `static` of it lands in `.bss` (no flash
    /// image, no copy at start-up), where [`Momentum::new`]'s non-zero rates would put the whole
    /// struct, velocity included, in `.data`. Give it its rates with [`Momentum::init`] before
    /// training.
    pub const ZERO: Self = Self {
        lr: 0.0,
        mu: 0.0,
        velocity: M::ZERO,
    };

    /// Sets the rates of [`Momentum::new`] in place (for a [`Momentum::ZERO`] in a `static`),
    /// keeping the velocity.
    pub fn init(&mut self, lr: f32, mu: f32) {
        (self.lr, self.mu) = (lr, mu);
    }

    /// Sets the learning rate, keeping everything else (for a schedule).
    pub fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    /// Momentum SGD with zero velocity; `const`, so it can initialize a `static`.
    pub const fn new(lr: f32, mu: f32) -> Self {
        Self {
            lr,
            mu,
            velocity: M::ZERO,
        }
    }
}

impl<M: Params> Optimizer<M> for Momentum<M> {
    fn update_live(&mut self, params: &mut M, grads: &M, live: Live) {
        let k = kernels::active();
        for index in 0..M::TENSORS.len() {
            let (p, g) = (
                params.live_tensor_mut(index, live),
                grads.live_tensor(index, live),
            );
            let v = self.velocity.live_tensor_mut(index, live);
            (k.momentum)(p, g, v, self.lr, self.mu);
        }
    }
}

/// Adagrad: `mem += g²; p -= lr·g / sqrt(mem + eps)` (min-char-rnn; lr 0.1, eps 1e-8). Holds
/// one memory of the parameters' type `M`.
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad<M> {
    /// Learning rate.
    pub lr: f32,
    /// Added under the root, 1e-8 in the notebooks.
    pub eps: f32,
    /// Sum of squared gradients, one entry per parameter.
    pub memory: M,
}

impl<M: Params> Adagrad<M> {
    /// Every field zero, `lr` and `eps` included: a `static` of it lands in `.bss` (no flash
    /// image, no copy at start-up), where [`Adagrad::new`]'s non-zero settings would put the
    /// whole struct, memory included, in `.data`. Give it its settings with [`Adagrad::init`]
    /// before training.
    ///
    /// ```
    /// use micrornn::{Adagrad, Rnn};
    /// static mut ADAGRAD: Adagrad<Rnn<16, 32, 16>> = Adagrad::ZERO; // in .bss
    /// let mut adagrad = Adagrad::<Rnn<4, 8, 4>>::ZERO;
    /// adagrad.init(0.1);
    /// assert_eq!(adagrad, Adagrad::new(0.1));
    /// ```
    pub const ZERO: Self = Self {
        lr: 0.0,
        eps: 0.0,
        memory: M::ZERO,
    };

    /// Sets the learning rate and the settings of [`Adagrad::new`] (`eps = 1e-8`) in place (for
    /// an [`Adagrad::ZERO`] in a `static`), keeping the memory.
    pub fn init(&mut self, lr: f32) {
        (self.lr, self.eps) = (lr, DEFAULT_EPS);
    }

    /// Sets the learning rate, keeping everything else (for a schedule).
    pub fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    /// Adagrad with empty memory and `eps = 1e-8`; `const`, so it can initialize a `static`.
    pub const fn new(lr: f32) -> Self {
        Self {
            lr,
            eps: DEFAULT_EPS,
            memory: M::ZERO,
        }
    }
}

impl<M: Params> Optimizer<M> for Adagrad<M> {
    fn update_live(&mut self, params: &mut M, grads: &M, live: Live) {
        let k = kernels::active();
        for index in 0..M::TENSORS.len() {
            let (p, g) = (
                params.live_tensor_mut(index, live),
                grads.live_tensor(index, live),
            );
            let mem = self.memory.live_tensor_mut(index, live);
            (k.adagrad)(p, g, mem, self.lr, self.eps);
        }
    }

    fn clip_and_update_live(&mut self, params: &mut M, grads: &mut M, clip: Clip, live: Live) {
        let Clip::Value(limit) = clip else {
            clip.apply_live(grads, live);
            return self.update_live(params, grads, live);
        };
        let k = kernels::active();
        for index in 0..M::TENSORS.len() {
            let p = params.live_tensor_mut(index, live);
            let g = grads.live_tensor_mut(index, live);
            let mem = self.memory.live_tensor_mut(index, live);
            (k.adagrad_clip)(p, g, mem, self.lr, self.eps, limit);
        }
    }
}

/// Adam with bias correction. Holds two moment estimates of the parameters' type `M`.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<M> {
    /// Learning rate.
    pub lr: f32,
    /// First-moment decay, 0.9 by default.
    pub beta1: f32,
    /// Second-moment decay, 0.999 by default.
    pub beta2: f32,
    /// Added to the root of the second moment, 1e-8 by default.
    pub eps: f32,
    /// Number of updates applied so far.
    pub steps: u64,
    /// First moment.
    pub m: M,
    /// Second moment.
    pub v: M,
}

impl<M: Params> Adam<M> {
    /// Every field zero, the rates included: a `static` of it lands in `.bss` (no flash image,
    /// no copy at start-up), where [`Adam::new`]'s non-zero settings would put the whole struct,
    /// both moments included, in `.data`. Give it its settings with [`Adam::init`] before
    /// training.
    pub const ZERO: Self = Self {
        lr: 0.0,
        beta1: 0.0,
        beta2: 0.0,
        eps: 0.0,
        steps: 0,
        m: M::ZERO,
        v: M::ZERO,
    };

    /// Sets the learning rate and the settings of [`Adam::new`] (0.9, 0.999, 1e-8) in place (for
    /// an [`Adam::ZERO`] in a `static`), keeping the moments and the step count.
    pub fn init(&mut self, lr: f32) {
        (self.lr, self.beta1, self.beta2, self.eps) = (lr, ADAM_BETA1, ADAM_BETA2, DEFAULT_EPS);
    }

    /// Sets the learning rate, keeping everything else (for a schedule).
    pub fn set_lr(&mut self, lr: f32) {
        self.lr = lr;
    }

    /// Adam with the usual defaults (0.9, 0.999, 1e-8) and zero moments; `const`.
    pub const fn new(lr: f32) -> Self {
        Self {
            lr,
            beta1: ADAM_BETA1,
            beta2: ADAM_BETA2,
            eps: DEFAULT_EPS,
            steps: 0,
            m: M::ZERO,
            v: M::ZERO,
        }
    }
}

impl<M: Params> Optimizer<M> for Adam<M> {
    fn update_live(&mut self, params: &mut M, grads: &M, live: Live) {
        // `steps` is public (restored from checkpoints): saturate rather than overflow.
        self.steps = self.steps.saturating_add(1);
        let t = self.steps as f32;
        let correction1 = 1.0 - crate::kernels::math::pow(self.beta1, t);
        let correction2 = 1.0 - crate::kernels::math::pow(self.beta2, t);
        let step = AdamStep {
            lr: self.lr * crate::kernels::math::sqrt(correction2) / correction1,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
        };
        let k = kernels::active();
        for index in 0..M::TENSORS.len() {
            let (p, g) = (
                params.live_tensor_mut(index, live),
                grads.live_tensor(index, live),
            );
            let m = self.m.live_tensor_mut(index, live);
            let v = self.v.live_tensor_mut(index, live);
            (k.adam)(p, g, m, v, &step);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field of a `ZERO` optimizer is zero bits (so a `static` of it lands in `.bss`),
    /// and `init` gives it exactly the settings of `new`.
    #[test]
    fn zero_optimizers_are_all_zero_and_init_to_new() {
        use crate::Rnn;
        fn zero(scalars: &[f32], memories: &[&Rnn<3, 4, 3>]) -> bool {
            let tensors = memories.iter().flat_map(|m| m.tensors());
            scalars
                .iter()
                .chain(tensors.flatten())
                .all(|x| x.to_bits() == 0)
        }
        let mut momentum = Momentum::<Rnn<3, 4, 3>>::ZERO;
        let mut adagrad = Adagrad::<Rnn<3, 4, 3>>::ZERO;
        let mut adam = Adam::<Rnn<3, 4, 3>>::ZERO;
        assert!(zero(&[momentum.lr, momentum.mu], &[&momentum.velocity]));
        assert!(zero(&[adagrad.lr, adagrad.eps], &[&adagrad.memory]));
        let adam_rates = [adam.lr, adam.beta1, adam.beta2, adam.eps];
        assert!(zero(&adam_rates, &[&adam.m, &adam.v]) && adam.steps == 0);
        momentum.init(0.02, 0.9);
        adagrad.init(0.1);
        adam.init(0.01);
        assert_eq!(momentum, Momentum::new(0.02, 0.9));
        assert_eq!(adagrad, Adagrad::new(0.1));
        assert_eq!(adam, Adam::new(0.01));
        adam.set_lr(0.5);
        assert_eq!(adam.lr, 0.5);
    }
}
