//! Optimizers, written once over the five parameter tensors.
//!
//! Parameters, gradients and optimizer memory are all [`Rnn`]-shaped, so every optimizer is a
//! loop over `zip(params.tensors_mut(), grads.tensors(), memory.tensors_mut())` calling one
//! kernel.

use crate::kernels::{self, AdamStep};
use crate::model::{Live, Rnn};
use crate::workflows::clip::Clip;

/// The `eps` of [`Adagrad::new`] and [`Adam::new`].
const DEFAULT_EPS: f32 = 1e-8;
/// The first-moment decay of [`Adam::new`].
const ADAM_BETA1: f32 = 0.9;
/// The second-moment decay of [`Adam::new`].
const ADAM_BETA2: f32 = 0.999;

/// An update rule: turns gradients into a parameter step.
pub trait Optimizer<const I: usize, const H: usize, const O: usize> {
    /// Applies one update to `params` from `grads`.
    fn update(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>);

    /// Clips `grads` in place, then applies one update: the same as `clip.apply(grads)`
    /// followed by [`Optimizer::update`]. Optimizers may override it to do both in one pass over
    /// memory ([`Adagrad`] does for [`Clip::Value`]).
    fn clip_and_update(&mut self, params: &mut Rnn<I, H, O>, grads: &mut Rnn<I, H, O>, clip: Clip) {
        clip.apply(grads);
        self.update(params, grads);
    }

    /// [`Optimizer::clip_and_update`] restricted to the `live` rows: the other rows of `grads`
    /// may hold anything and are not read (as if they were zero), the other rows of `params` are
    /// left as they are. This is what a padded model's training loop calls. The provided version
    /// zeroes the other rows of `grads` and calls [`Optimizer::clip_and_update`]; the crate's
    /// optimizers skip those rows altogether (where a zero gradient changes nothing: their
    /// memory of those rows is zero too, as it only ever saw zero gradients there).
    fn clip_and_update_live(
        &mut self,
        params: &mut Rnn<I, H, O>,
        grads: &mut Rnn<I, H, O>,
        clip: Clip,
        live: Live,
    ) {
        let (inputs, outputs) = (live.inputs.min(I), live.outputs.min(O));
        grads.w_xh[inputs..].fill([0.0; H]);
        grads.w_hy[outputs..].fill([0.0; H]);
        grads.b_y[outputs..].fill(0.0);
        self.clip_and_update(params, grads, clip);
    }
}

/// Plain stochastic gradient descent: `p -= lr·g` (notebooks 000 and 004).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f32,
}

impl Sgd {
    fn update_live<const I: usize, const H: usize, const O: usize>(
        &mut self,
        params: &mut Rnn<I, H, O>,
        grads: &Rnn<I, H, O>,
        live: Live,
    ) {
        let k = kernels::active();
        let tensors = params.live_tensors_mut(live).into_iter();
        for (p, g) in tensors.zip(grads.live_tensors(live)) {
            (k.sgd)(p, g, self.lr);
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Optimizer<I, H, O> for Sgd {
    fn update(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>) {
        self.update_live(params, grads, Live::all::<I, O>());
    }

    fn clip_and_update_live(
        &mut self,
        params: &mut Rnn<I, H, O>,
        grads: &mut Rnn<I, H, O>,
        clip: Clip,
        live: Live,
    ) {
        clip.apply_live(grads, live);
        self.update_live(params, grads, live);
    }
}

/// SGD with momentum: `v = mu·v + g; p -= lr·v`. Holds one [`Rnn`]-shaped velocity.
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum<const I: usize, const H: usize, const O: usize> {
    /// Learning rate.
    pub lr: f32,
    /// Momentum coefficient, usually 0.9.
    pub mu: f32,
    /// Velocity, one entry per parameter.
    pub velocity: Rnn<I, H, O>,
}

impl<const I: usize, const H: usize, const O: usize> Momentum<I, H, O> {
    /// Every field zero, `lr` and `mu` included: a `static` of it lands in `.bss` (no flash
    /// image, no copy at start-up), where [`Momentum::new`]'s non-zero rates would put the whole
    /// struct, velocity included, in `.data`. Give it its rates with [`Momentum::init`] before
    /// training.
    pub const ZERO: Self = Self {
        lr: 0.0,
        mu: 0.0,
        velocity: Rnn::ZERO,
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
            velocity: Rnn::ZERO,
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Momentum<I, H, O> {
    fn update_live(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>, live: Live) {
        let k = kernels::active();
        let tensors = params.live_tensors_mut(live).into_iter();
        let tensors = tensors.zip(grads.live_tensors(live));
        for ((p, g), v) in tensors.zip(self.velocity.live_tensors_mut(live)) {
            (k.momentum)(p, g, v, self.lr, self.mu);
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Optimizer<I, H, O> for Momentum<I, H, O> {
    fn update(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>) {
        self.update_live(params, grads, Live::all::<I, O>());
    }

    fn clip_and_update_live(
        &mut self,
        params: &mut Rnn<I, H, O>,
        grads: &mut Rnn<I, H, O>,
        clip: Clip,
        live: Live,
    ) {
        clip.apply_live(grads, live);
        self.update_live(params, grads, live);
    }
}

/// Adagrad: `mem += g²; p -= lr·g / sqrt(mem + eps)` (min-char-rnn; lr 0.1, eps 1e-8).
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad<const I: usize, const H: usize, const O: usize> {
    /// Learning rate.
    pub lr: f32,
    /// Added under the root, 1e-8 in the notebooks.
    pub eps: f32,
    /// Sum of squared gradients, one entry per parameter.
    pub memory: Rnn<I, H, O>,
}

impl<const I: usize, const H: usize, const O: usize> Adagrad<I, H, O> {
    /// Every field zero, `lr` and `eps` included: a `static` of it lands in `.bss` (no flash
    /// image, no copy at start-up), where [`Adagrad::new`]'s non-zero settings would put the
    /// whole struct, memory included, in `.data`. Give it its settings with [`Adagrad::init`]
    /// before training.
    ///
    /// ```
    /// use micrornn::Adagrad;
    /// static mut ADAGRAD: Adagrad<16, 32, 16> = Adagrad::ZERO; // in .bss
    /// let mut adagrad = Adagrad::<4, 8, 4>::ZERO;
    /// adagrad.init(0.1);
    /// assert_eq!(adagrad, Adagrad::new(0.1));
    /// ```
    pub const ZERO: Self = Self {
        lr: 0.0,
        eps: 0.0,
        memory: Rnn::ZERO,
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
            memory: Rnn::ZERO,
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Adagrad<I, H, O> {
    fn update_live(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>, live: Live) {
        let k = kernels::active();
        let tensors = params.live_tensors_mut(live).into_iter();
        let tensors = tensors.zip(grads.live_tensors(live));
        for ((p, g), mem) in tensors.zip(self.memory.live_tensors_mut(live)) {
            (k.adagrad)(p, g, mem, self.lr, self.eps);
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Optimizer<I, H, O> for Adagrad<I, H, O> {
    fn update(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>) {
        self.update_live(params, grads, Live::all::<I, O>());
    }

    fn clip_and_update(&mut self, params: &mut Rnn<I, H, O>, grads: &mut Rnn<I, H, O>, clip: Clip) {
        self.clip_and_update_live(params, grads, clip, Live::all::<I, O>());
    }

    fn clip_and_update_live(
        &mut self,
        params: &mut Rnn<I, H, O>,
        grads: &mut Rnn<I, H, O>,
        clip: Clip,
        live: Live,
    ) {
        let Clip::Value(limit) = clip else {
            clip.apply_live(grads, live);
            return self.update_live(params, grads, live);
        };
        let k = kernels::active();
        let tensors = params.live_tensors_mut(live).into_iter();
        let tensors = tensors.zip(grads.live_tensors_mut(live));
        for ((p, g), mem) in tensors.zip(self.memory.live_tensors_mut(live)) {
            (k.adagrad_clip)(p, g, mem, self.lr, self.eps, limit);
        }
    }
}

/// Adam with bias correction. Holds two [`Rnn`]-shaped moment estimates.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam<const I: usize, const H: usize, const O: usize> {
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
    pub m: Rnn<I, H, O>,
    /// Second moment.
    pub v: Rnn<I, H, O>,
}

impl<const I: usize, const H: usize, const O: usize> Adam<I, H, O> {
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
        m: Rnn::ZERO,
        v: Rnn::ZERO,
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
            m: Rnn::ZERO,
            v: Rnn::ZERO,
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Optimizer<I, H, O> for Adam<I, H, O> {
    fn update(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>) {
        self.update_live(params, grads, Live::all::<I, O>());
    }

    fn clip_and_update_live(
        &mut self,
        params: &mut Rnn<I, H, O>,
        grads: &mut Rnn<I, H, O>,
        clip: Clip,
        live: Live,
    ) {
        clip.apply_live(grads, live);
        self.update_live(params, grads, live);
    }
}

impl<const I: usize, const H: usize, const O: usize> Adam<I, H, O> {
    fn update_live(&mut self, params: &mut Rnn<I, H, O>, grads: &Rnn<I, H, O>, live: Live) {
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
        let tensors = params.live_tensors_mut(live).into_iter();
        let tensors = tensors.zip(grads.live_tensors(live));
        let moments = self.m.live_tensors_mut(live).into_iter();
        for ((p, g), (m, v)) in tensors.zip(moments.zip(self.v.live_tensors_mut(live))) {
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
        fn zero(scalars: &[f32], memories: &[&Rnn<3, 4, 3>]) -> bool {
            let tensors = memories.iter().flat_map(|m| m.tensors());
            scalars
                .iter()
                .chain(tensors.flatten())
                .all(|x| x.to_bits() == 0)
        }
        let mut momentum = Momentum::<3, 4, 3>::ZERO;
        let mut adagrad = Adagrad::<3, 4, 3>::ZERO;
        let mut adam = Adam::<3, 4, 3>::ZERO;
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
