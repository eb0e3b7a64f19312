//! Evaluating a quantized model ([`QRnn`]; it generates through [`crate::Generator`]): its integer logits times
//! `logit_scale` are the float logits the float workflows use.

use crate::Error;
use crate::kernels;
use crate::model::QRnn;
use crate::workflows::eval::Loss;

/// The float logits of integer logits: `logits[o] = logits_q[o] · scale`.
pub fn dequantized_logits<const O: usize>(logits_q: &[i16; O], scale: f32) -> [f32; O] {
    logits_q.map(|l| f32::from(l) * scale)
}

/// As [`crate::eval::cross_entropy`] with `reset_every: None`, for a quantized model: the
/// cross-entropy of predicting `tokens[t + 1]` from `tokens[..=t]` over the first `classes`
/// outputs, from a zero hidden state, the softmax taken over the dequantized logits.
///
/// # Errors
/// [`Error::TokenOutOfRange`] for an input `≥ I` or a target `≥ classes`;
/// [`Error::InvalidSetting`] for `classes` outside `1..=O`.
pub fn cross_entropy<const I: usize, const H: usize, const O: usize>(
    q: &QRnn<I, H, O>,
    tokens: &[usize],
    classes: usize,
) -> Result<Loss, Error> {
    cross_entropy_from(q, &[0; H], tokens, classes)
}

/// As [`cross_entropy`], starting from `hidden` (a quantized file's stored state, say) instead
/// of zeros, as [`crate::eval::cross_entropy_from`] does for `Rnn`.
///
/// # Errors
/// As [`cross_entropy`].
pub fn cross_entropy_from<const I: usize, const H: usize, const O: usize>(
    q: &QRnn<I, H, O>,
    hidden: &[i16; H],
    tokens: &[usize],
    classes: usize,
) -> Result<Loss, Error> {
    crate::model::Classes::<O>::new(classes)?;
    let k = kernels::active();
    let mut hidden = *hidden;
    let mut logits_q = [0i16; O];
    let mut probs = [0.0f32; O];
    let mut loss = Loss::default();
    for pair in tokens.windows(2) {
        let [input, target] = [pair.first(), pair.get(1)].map(|x| x.copied().unwrap_or(usize::MAX));
        q.step(input, &mut hidden)?;
        q.logits(&hidden, &mut logits_q);
        let logits = dequantized_logits(&logits_q, q.logit_scale);
        let (Some(z), Some(p)) = (logits.get(..classes), probs.get_mut(..classes)) else {
            return Err(Error::InvalidSetting("classes must be in 1..=outputs"));
        };
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
