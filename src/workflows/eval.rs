//! Evaluation: the cross-entropy of a model on a token sequence.

use crate::Error;
use crate::kernels;
use crate::model::{Cell, Classes, Input, Rnn};

/// Total cross-entropy over a sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Loss {
    /// Sum of `-ln p(target)` in nats.
    pub total: f64,
    /// Number of predictions.
    pub count: usize,
}

impl Loss {
    /// Mean cross-entropy per prediction in nats (0 when nothing was predicted).
    pub fn per_symbol(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total / self.count as f64
        }
    }

    /// Mean cross-entropy per prediction in bits.
    pub fn bits_per_symbol(&self) -> f64 {
        self.per_symbol() / core::f64::consts::LN_2
    }
}

/// The cross-entropy of predicting `tokens[t + 1]` from `tokens[..=t]`, over the first `classes`
/// outputs, starting from a zero hidden state.
///
/// With `reset_every: Some(n)` the hidden state returns to zero at the start of every `n`-token
/// chunk (notebook 000's cost); with `None` it is carried through the whole sequence.
///
/// # Errors
/// [`Error::TokenOutOfRange`] for an input id `≥ I` or a target `≥ classes`;
/// [`Error::InvalidSetting`] for `classes` outside `1..=O`.
pub fn cross_entropy<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
    tokens: &[usize],
    classes: usize,
    reset_every: Option<usize>,
) -> Result<Loss, Error> {
    cross_entropy_from(rnn, &[0.0; H], tokens, classes, reset_every)
}

/// As [`cross_entropy`], starting from `hidden` instead of a zero state (a reset still goes to
/// zero).
///
/// Scoring a held-out text from the state a model is in while training (min-char-rnn's `hprev`)
/// measures the model where it was trained: a zero state is a state it saw once, at the start,
/// and some trained models fall from it into a saturated fixed point that predicts nothing
/// (see the README's note on validation).
///
/// # Errors
/// As [`cross_entropy`].
pub fn cross_entropy_from<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    rnn: &C,
    hidden: &[f32; H],
    tokens: &[usize],
    classes: usize,
    reset_every: Option<usize>,
) -> Result<Loss, Error> {
    let live = Classes::<O>::new(classes)?;
    let k = kernels::active();
    let mut hidden = *hidden;
    let mut logits = [0.0f32; O];
    let mut probs = [0.0f32; O];
    let mut loss = Loss::default();
    for (t, pair) in tokens.windows(2).enumerate() {
        let [input, target] = [pair.first(), pair.get(1)].map(|x| x.copied().unwrap_or(usize::MAX));
        if reset_every.is_some_and(|n| n > 0 && t % n == 0) {
            hidden = [0.0; H];
        }
        rnn.step(Input::Token(input), &mut hidden)?;
        rnn.logits(&hidden, &mut logits);
        let (z, p) = (live.of(&logits), live.of_mut(&mut probs));
        let log_sum_exp = (k.softmax)(z, p);
        let z_target = z.get(target).ok_or(Error::TokenOutOfRange {
            token: target,
            limit: classes,
        })?;
        loss.total += f64::from(log_sum_exp - z_target);
        loss.count += 1;
    }
    Ok(loss)
}
