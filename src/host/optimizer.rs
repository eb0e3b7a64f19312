//! An optimizer chosen at run time, with its memory on the heap.

use super::boxed::Zeroable;
use crate::{Adagrad, Adam, Clip, Live, Optimizer, Params, Rnn, Sgd};
use std::boxed::Box;
use std::fmt;

/// Which update rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptimizerKind {
    /// [`Sgd`].
    Sgd,
    /// [`Adagrad`] (min-char-rnn's).
    Adagrad,
    /// [`Adam`].
    Adam,
}

impl OptimizerKind {
    /// All kinds, in the order of their codes.
    pub const ALL: [Self; 3] = [Self::Sgd, Self::Adagrad, Self::Adam];

    /// The lower-case name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sgd => "sgd",
            Self::Adagrad => "adagrad",
            Self::Adam => "adam",
        }
    }

    /// A small stable number, as stored in checkpoints.
    pub fn code(self) -> u8 {
        match self {
            Self::Sgd => 0,
            Self::Adagrad => 1,
            Self::Adam => 2,
        }
    }

    /// The kind with this [`OptimizerKind::code`].
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The learning rate used when none is given: min-char-rnn's 0.1 for Adagrad, 0.01 for SGD
    /// (with clipping), 0.001 for Adam (Kingma & Ba's default).
    pub fn default_lr(self) -> f32 {
        match self {
            Self::Sgd => 0.01,
            Self::Adagrad => 0.1,
            Self::Adam => 0.001,
        }
    }
}

impl fmt::Display for OptimizerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One of the crate's optimizers, chosen at run time, for the parameters `C` of any cell (the
/// Elman `Rnn<I, H, O>` by default, a [`Gru`](crate::model::Gru)); the memory of Adagrad and
/// Adam (shaped like the model) lives on the heap, zeroed in place (a 512-unit model's never
/// passes through the stack).
pub enum AnyOptimizer<const I: usize, const H: usize, const O: usize, C = Rnn<I, H, O>> {
    /// Plain SGD.
    Sgd(Sgd),
    /// Adagrad.
    Adagrad(Box<Adagrad<C>>),
    /// Adam.
    Adam(Box<Adam<C>>),
}

impl<const I: usize, const H: usize, const O: usize, C: Params + Zeroable>
    AnyOptimizer<I, H, O, C>
{
    /// A fresh optimizer of `kind` with learning rate `lr` and the crate's default
    /// hyper-parameters (exactly those of `Adagrad::new` and `Adam::new`).
    pub fn new(kind: OptimizerKind, lr: f32) -> Self {
        match kind {
            OptimizerKind::Sgd => Self::Sgd(Sgd { lr }),
            OptimizerKind::Adagrad => {
                let defaults = Adagrad::<Rnn<0, 0, 0>>::new(lr);
                let mut opt: Box<Adagrad<C>> = crate::boxed_zeroed();
                opt.lr = defaults.lr;
                opt.eps = defaults.eps;
                Self::Adagrad(opt)
            }
            OptimizerKind::Adam => {
                let defaults = Adam::<Rnn<0, 0, 0>>::new(lr);
                let mut opt: Box<Adam<C>> = crate::boxed_zeroed();
                opt.lr = defaults.lr;
                opt.beta1 = defaults.beta1;
                opt.beta2 = defaults.beta2;
                opt.eps = defaults.eps;
                opt.steps = defaults.steps;
                Self::Adam(opt)
            }
        }
    }

    /// Which kind this is.
    pub fn kind(&self) -> OptimizerKind {
        match self {
            Self::Sgd(_) => OptimizerKind::Sgd,
            Self::Adagrad(_) => OptimizerKind::Adagrad,
            Self::Adam(_) => OptimizerKind::Adam,
        }
    }

    /// The model-shaped memory: none for SGD, one for Adagrad, `m` then `v` for Adam.
    pub fn memory(&self) -> Vec<&C> {
        match self {
            Self::Sgd(_) => Vec::new(),
            Self::Adagrad(a) => vec![&a.memory],
            Self::Adam(a) => vec![&a.m, &a.v],
        }
    }

    /// The memory, mutable, in the order of [`AnyOptimizer::memory`].
    pub fn memory_mut(&mut self) -> Vec<&mut C> {
        match self {
            Self::Sgd(_) => Vec::new(),
            Self::Adagrad(a) => vec![&mut a.memory],
            Self::Adam(a) => vec![&mut a.m, &mut a.v],
        }
    }

    /// Sets the learning rate (for a schedule such as a per-epoch decay).
    pub fn set_lr(&mut self, lr: f32) {
        match self {
            Self::Sgd(o) => o.lr = lr,
            Self::Adagrad(o) => o.lr = lr,
            Self::Adam(o) => o.lr = lr,
        }
    }

    /// Updates applied so far, for optimizers that count them (Adam's bias correction).
    pub fn steps(&self) -> u64 {
        match self {
            Self::Adam(a) => a.steps,
            _ => 0,
        }
    }

    /// Sets the update count (when resuming).
    pub fn set_steps(&mut self, steps: u64) {
        if let Self::Adam(a) = self {
            a.steps = steps;
        }
    }
}

impl<const I: usize, const H: usize, const O: usize, C: Params> Optimizer<C>
    for AnyOptimizer<I, H, O, C>
{
    fn update_live(&mut self, params: &mut C, grads: &C, live: Live) {
        match self {
            Self::Sgd(o) => o.update_live(params, grads, live),
            Self::Adagrad(o) => o.update_live(params, grads, live),
            Self::Adam(o) => o.update_live(params, grads, live),
        }
    }

    fn clip_and_update_live(&mut self, params: &mut C, grads: &mut C, clip: Clip, live: Live) {
        match self {
            Self::Sgd(o) => o.clip_and_update_live(params, grads, clip, live),
            Self::Adagrad(o) => o.clip_and_update_live(params, grads, clip, live),
            Self::Adam(o) => o.clip_and_update_live(params, grads, clip, live),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_optimizers_match_the_const_constructors() {
        let AnyOptimizer::Adagrad(a) = AnyOptimizer::<3, 4, 3>::new(OptimizerKind::Adagrad, 0.1)
        else {
            panic!("not adagrad");
        };
        assert_eq!(*a, Adagrad::new(0.1));
        let AnyOptimizer::Adam(a) = AnyOptimizer::<3, 4, 3>::new(OptimizerKind::Adam, 0.01) else {
            panic!("not adam");
        };
        assert_eq!(*a, Adam::new(0.01));
        for kind in OptimizerKind::ALL {
            assert_eq!(OptimizerKind::from_code(kind.code()), Some(kind));
        }
    }

    /// `AnyOptimizer::clip_and_update` is the wrapped optimizer's (for Adagrad with a value
    /// clip, the fused kernel), bit for bit in parameters, clipped gradients and memory.
    #[test]
    fn clip_and_update_is_forwarded() {
        use crate::DefaultRng;
        use rand_core::SeedableRng;
        let mut rng = DefaultRng::seed_from_u64(5);
        let mut params = Rnn::<3, 4, 3>::ZERO;
        params.init_uniform(&mut rng);
        let mut grads = Rnn::<3, 4, 3>::ZERO;
        grads.init_uniform(&mut rng);
        grads
            .tensors_mut()
            .iter_mut()
            .for_each(|t| t.iter_mut().for_each(|g| *g *= 9.0));
        let bits = |m: &Rnn<3, 4, 3>| -> Vec<u32> {
            m.tensors().concat().iter().map(|x| x.to_bits()).collect()
        };
        for clip in [Clip::None, Clip::Value(2.0), Clip::Norm(3.0)] {
            for kind in OptimizerKind::ALL {
                let mut any = AnyOptimizer::<3, 4, 3>::new(kind, 0.1);
                let (mut p_any, mut g_any) = (params.clone(), grads.clone());
                let (mut p_own, mut g_own) = (params.clone(), grads.clone());
                for _ in 0..3 {
                    any.clip_and_update(&mut p_any, &mut g_any, clip);
                }
                let memory: Vec<Vec<u32>> = match kind {
                    OptimizerKind::Sgd => {
                        let mut own = Sgd { lr: 0.1 };
                        (0..3).for_each(|_| own.clip_and_update(&mut p_own, &mut g_own, clip));
                        Vec::new()
                    }
                    OptimizerKind::Adagrad => {
                        let mut own = Adagrad::new(0.1);
                        (0..3).for_each(|_| own.clip_and_update(&mut p_own, &mut g_own, clip));
                        vec![bits(&own.memory)]
                    }
                    OptimizerKind::Adam => {
                        let mut own = Adam::new(0.1);
                        (0..3).for_each(|_| own.clip_and_update(&mut p_own, &mut g_own, clip));
                        vec![bits(&own.m), bits(&own.v)]
                    }
                };
                let what = format!("{kind} {clip:?}");
                assert_eq!(bits(&p_any), bits(&p_own), "{what}: parameters");
                assert_eq!(bits(&g_any), bits(&g_own), "{what}: gradients");
                let any_memory: Vec<Vec<u32>> = any.memory().into_iter().map(bits).collect();
                assert_eq!(any_memory, memory, "{what}: memory");
                assert_ne!(bits(&p_any), bits(&params), "{what}: nothing changed");
            }
        }
    }
}
