//! Evaluating a quantized model ([`QRnn`], [`QGru`](crate::QGru); they generate through
//! [`crate::Generator`]): its integer logits times `logit_scale` are the float logits the float
//! workflows use. [`predict`] and [`evaluate`] classify whole sequences as firmware does: the
//! class is the largest **integer** logit.

use crate::Error;
use crate::kernels;
use crate::model::{Classes, Infer, QRnn, Readout, Sequence};
use crate::workflows::classify::{Example, Metrics, Prediction};
use crate::workflows::eval::Loss;

pub use crate::model::quant::dequantized_logits;

/// The mean of `steps` (≥ 1) Q15 states whose sums are `sum`, rounded half away from zero: the
/// state [`Readout::Mean`] reads out of an integer model.
#[must_use]
pub fn mean_q15<const H: usize>(sum: &[i64; H], steps: i64) -> [i16; H] {
    let steps = steps.max(1);
    sum.map(|sum| ((2 * sum + sum.signum() * steps) / (2 * steps)).clamp(-32767, 32767) as i16)
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

/// As [`cross_entropy`], for any int8 model ([`QRnn`], [`QGru`](crate::QGru)), starting from
/// `hidden` (a quantized file's stored state, say) instead of zeros, as
/// [`crate::eval::cross_entropy_from`] does for the f32 cells.
///
/// # Errors
/// As [`cross_entropy`].
pub fn cross_entropy_from<M, const I: usize, const H: usize, const O: usize>(
    q: &M,
    hidden: &[i16; H],
    tokens: &[usize],
    classes: usize,
) -> Result<Loss, Error>
where
    M: Infer<I, Hidden = [i16; H], Logits = [i16; O], RealLogits = [f32; O]>,
{
    crate::model::Classes::<O>::new(classes)?;
    let k = kernels::active();
    let mut hidden = *hidden;
    let mut logits_q = [0i16; O];
    let mut buffer = [0.0f32; O];
    let mut probs = [0.0f32; O];
    let mut loss = Loss::default();
    for pair in tokens.windows(2) {
        let [input, target] = [pair.first(), pair.get(1)].map(|x| x.copied().unwrap_or(usize::MAX));
        q.step(crate::model::Input::Token(input), &mut hidden)?;
        q.logits(&hidden, &mut logits_q);
        let logits = q.real_logits(&logits_q, &mut buffer);
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

/// The class of one sequence for an int8 model, from the zero state: after the last step
/// ([`Readout::Last`]), or from the mean of the Q15 states over the steps ([`Readout::Mean`],
/// rounded to Q15 in integers). The class is the largest integer logit among the first
/// `classes` (what firmware computes); the probabilities are the softmax of the dequantized
/// logits.
///
/// A dense [`QGru`](crate::QGru) takes **raw** samples (it normalizes them itself): pass the
/// series as read from the file, not normalized.
///
/// # Errors
/// [`Error::BadLength`] for an empty sequence, [`Error::InvalidSetting`] for `classes` outside
/// `1..=O`, and the step's errors.
pub fn predict<M, const I: usize, const H: usize, const O: usize>(
    model: &M,
    inputs: Sequence<'_, I>,
    classes: usize,
    readout: Readout,
) -> Result<Prediction<O>, Error>
where
    M: Infer<I, Hidden = [i16; H], Logits = [i16; O], RealLogits = [f32; O]>,
{
    predict_with_loss(model, inputs, classes, readout, None).map(|(prediction, _)| prediction)
}

/// Loss and accuracy of an int8 model over `examples` (each from the zero state), as
/// [`predict`] classifies them.
///
/// # Errors
/// As [`predict`], and [`Error::TokenOutOfRange`] for a label `≥ classes`.
pub fn evaluate<M, const I: usize, const H: usize, const O: usize>(
    model: &M,
    examples: &[Example<'_, I>],
    classes: usize,
    readout: Readout,
) -> Result<Metrics, Error>
where
    M: Infer<I, Hidden = [i16; H], Logits = [i16; O], RealLogits = [f32; O]>,
{
    let mut metrics = Metrics::default();
    for example in examples {
        let (prediction, loss) =
            predict_with_loss(model, example.inputs, classes, readout, Some(example.label))?;
        metrics.add(loss, prediction.class == example.label);
    }
    Ok(metrics)
}

/// [`predict`], and `-ln p(label)` from the dequantized logits (0 for no label).
fn predict_with_loss<M, const I: usize, const H: usize, const O: usize>(
    model: &M,
    inputs: Sequence<'_, I>,
    classes: usize,
    readout: Readout,
    label: Option<usize>,
) -> Result<(Prediction<O>, f32), Error>
where
    M: Infer<I, Hidden = [i16; H], Logits = [i16; O], RealLogits = [f32; O]>,
{
    let live = Classes::<O>::new(classes)?;
    if inputs.is_empty() {
        return Err(Error::BadLength {
            len: 0,
            capacity: usize::MAX,
        });
    }
    let mut hidden = [0i16; H];
    let mut sum = [0i64; H];
    let mean = readout == Readout::Mean;
    for t in 0..inputs.len() {
        if let Some(input) = inputs.get(t) {
            model.step(input, &mut hidden)?;
            if mean {
                for (sum, &h) in sum.iter_mut().zip(&hidden) {
                    *sum += i64::from(h);
                }
            }
        }
    }
    if mean {
        hidden = mean_q15(&sum, inputs.len() as i64);
    }
    let mut logits = [0i16; O];
    model.logits(&hidden, &mut logits);
    let class = model.argmax(&logits, classes);
    let mut buffer = [0.0f32; O];
    let real = model.real_logits(&logits, &mut buffer);
    let mut probs = [0.0f32; O];
    let live_logits = real.get(..classes).unwrap_or(real);
    let log_sum_exp = (kernels::active().softmax)(live_logits, live.of_mut(&mut probs));
    let loss = match label {
        None => 0.0,
        Some(label) => {
            let z = live_logits.get(label).ok_or(Error::TokenOutOfRange {
                token: label,
                limit: classes,
            })?;
            log_sum_exp - z
        }
    };
    Ok((Prediction { class, probs }, loss))
}
