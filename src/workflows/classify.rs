//! Many-to-one classification: one label for a whole sequence, read from the output after its
//! last step (notebook 004's sentiment classifier, or a sensor window's state).
//!
//! [`Classifier`] trains over borrowed buffers, like [`Trainer`](crate::Trainer): a model, a
//! gradient buffer, a BPTT [`Tape`] at least as long as the longest sequence, and an
//! [`Optimizer`]. The data is a slice of [`Example`]s, each a token or dense [`Sequence`] and a
//! label; no heap is needed anywhere, so the whole workflow also runs on a microcontroller.
//!
//! Inference needs only the model: [`predict`] and [`evaluate`] take a plain `&Rnn` (or any
//! other [`Cell`]).
//!
//! ```
//! use micrornn::classify::{Classifier, ClassifierConfig, Example};
//! use micrornn::{Clip, DefaultRng, Readout, Rnn, Sequence, Sgd, Tape};
//! use rand_core::SeedableRng;
//!
//! // Two tokens; the label says whether token 1 occurs in the sequence.
//! let (a, b, ab, ba, aa) = ([0], [1], [0, 1], [1, 0], [0, 0]);
//! let mut train = [
//!     Example::tokens(&a, 0),
//!     Example::tokens(&b, 1),
//!     Example::tokens(&ab, 1),
//!     Example::tokens(&ba, 1),
//!     Example::tokens(&aa, 0),
//! ];
//! let mut rng = DefaultRng::seed_from_u64(7);
//! let mut model = Rnn::<2, 8, 2>::ZERO;
//! model.init_gaussian(&mut rng, 0.1);
//! let (mut grads, mut tape, mut sgd) = (Rnn::ZERO, Tape::<4, 8, 2>::ZERO, Sgd { lr: 0.1 });
//! let config = ClassifierConfig { classes: 2, clip: Clip::Value(1.0), readout: Readout::Last };
//! let mut classifier = Classifier::new(&mut model, &mut grads, &mut tape, &mut sgd, config)?;
//! classifier.fit(&mut train, &mut rng, 200)?;
//!
//! assert_eq!(classifier.evaluate(&train)?.accuracy(), 1.0);
//! let prediction = classifier.predict(Sequence::Tokens(&[0, 1, 0]))?;
//! assert_eq!(prediction.class, 1);
//! assert!(prediction.probs[1] > 0.8);
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;
use crate::kernels;
use crate::model::{Cell, Classes, Live, Readout, Rnn};
use crate::model::{Sequence, Tape};
use crate::workflows::clip::Clip;
use crate::workflows::optim::Optimizer;
use crate::workflows::sample::argmax;
use crate::workflows::step::{Buffers, checked_update};
use rand_core::Rng;

/// One labelled sequence: its inputs (token ids or dense vectors) and its class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Example<'a, const I: usize> {
    /// The sequence, fed from a zero hidden state.
    pub inputs: Sequence<'a, I>,
    /// The class, in `0..classes`.
    pub label: usize,
}

impl<'a, const I: usize> Example<'a, I> {
    /// An example of token ids (each in `0..I`).
    ///
    /// # Examples
    /// ```
    /// use micrornn::{Sequence, classify::Example};
    /// let example = Example::<18>::tokens(&[3, 7, 5], 1);
    /// assert_eq!(example.inputs, Sequence::Tokens(&[3, 7, 5]));
    /// ```
    pub const fn tokens(ids: &'a [usize], label: usize) -> Self {
        Self {
            inputs: Sequence::Tokens(ids),
            label,
        }
    }

    /// An example of dense input vectors (a window of sensor samples, say).
    ///
    /// # Examples
    /// ```
    /// use micrornn::classify::Example;
    /// let window = [[0.1, 0.0], [0.2, 0.5]];
    /// assert_eq!(Example::dense(&window, 0).inputs.len(), 2);
    /// ```
    pub const fn dense(vectors: &'a [[f32; I]], label: usize) -> Self {
        Self {
            inputs: Sequence::Dense(vectors),
            label,
        }
    }
}

/// The model's answer for one sequence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction<const O: usize> {
    /// The most likely class (the lowest id on ties).
    pub class: usize,
    /// The softmax probability of each class; outputs at and above `classes` are exactly 0.
    pub probs: [f32; O],
}

/// Loss and accuracy summed over a set of examples.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Sum of the cross-entropies `-ln p(label)`, in nats.
    pub total_loss: f64,
    /// Examples whose most likely class is their label.
    pub correct: usize,
    /// Examples seen.
    pub count: usize,
}

impl Metrics {
    /// Mean cross-entropy per example, in nats (0 when there is no example).
    ///
    /// # Examples
    /// ```
    /// use micrornn::classify::Metrics;
    /// let metrics = Metrics { total_loss: 3.0, correct: 3, count: 4 };
    /// assert_eq!(metrics.loss(), 0.75);
    /// assert_eq!(metrics.accuracy(), 0.75);
    /// assert_eq!(Metrics::default().accuracy(), 0.0);
    /// ```
    pub fn loss(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_loss / self.count as f64
        }
    }

    /// Fraction of examples classified correctly (0 when there is no example).
    pub fn accuracy(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f64 / self.count as f64
        }
    }

    /// Adds `other`'s sums to these (a batch's metrics to an epoch's).
    ///
    /// # Examples
    /// ```
    /// use micrornn::classify::Metrics;
    /// let mut epoch = Metrics { total_loss: 1.0, correct: 1, count: 2 };
    /// epoch.absorb(&Metrics { total_loss: 2.0, correct: 2, count: 2 });
    /// assert_eq!(epoch, Metrics { total_loss: 3.0, correct: 3, count: 4 });
    /// ```
    pub fn absorb(&mut self, other: &Metrics) {
        self.total_loss += other.total_loss;
        self.correct += other.correct;
        self.count += other.count;
    }

    pub(crate) fn add(&mut self, loss: f32, correct: bool) {
        self.total_loss += f64::from(loss);
        self.correct += usize::from(correct);
        self.count += 1;
    }
}

/// What one training step measured on its example, before updating the model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trained {
    /// Cross-entropy `-ln p(label)`, in nats.
    pub loss: f32,
    /// `true` if the most likely class was the label.
    pub correct: bool,
}

/// Settings of a classifier.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassifierConfig {
    /// Number of classes; outputs at and above it are masked (probability 0, no gradient).
    pub classes: usize,
    /// Gradient clipping before each update (notebook 004: `Clip::Value(1.0)`).
    pub clip: Clip,
    /// The state the class is read from: the last one (notebook 004) or the mean over the
    /// sequence.
    pub readout: Readout,
}

/// Trains and runs a many-to-one classifier over borrowed model, gradient, tape and optimizer
/// [`Buffers`]: one optimizer step per example, with the loss on the output read from the last
/// state (or the mean state, see [`Readout`]) and full back-propagation through the sequence.
///
/// `T` bounds the length of a training sequence; prediction has no bound. See the
/// [module documentation](self) for an example.
pub struct Classifier<
    'a,
    const I: usize,
    const H: usize,
    const O: usize,
    const T: usize,
    P,
    C: Cell<I, H, O> = Rnn<I, H, O>,
> {
    /// The model, gradient, tape and optimizer buffers.
    pub buffers: Buffers<'a, I, H, O, T, P, C>,
    /// Settings.
    pub config: ClassifierConfig,
}

impl<'a, const I: usize, const H: usize, const O: usize, const T: usize, P, C>
    Classifier<'a, I, H, O, T, P, C>
where
    C: Cell<I, H, O>,
    P: Optimizer<C>,
{
    /// A classifier over the given buffers.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] for `classes` outside `1..=O`, or a clip limit that is not a
    /// positive number.
    pub fn new(
        model: &'a mut C,
        grads: &'a mut C,
        tape: &'a mut Tape<T, H, O, C::Record>,
        optimizer: &'a mut P,
        config: ClassifierConfig,
    ) -> Result<Self, Error> {
        Classes::<O>::new(config.classes)?;
        config.clip.check()?;
        Ok(Self {
            buffers: Buffers {
                model,
                grads,
                tape,
                optimizer,
            },
            config,
        })
    }

    /// One update on one example: forward, backward, clip, optimizer step (a batch of one of
    /// [`train_batch`](crate::classify_batch::train_batch), on the classifier's own buffers).
    /// Returns the
    /// example's loss (in nats) and whether the model classified it correctly, both measured
    /// before the update (as notebook 004 reports its training metrics).
    ///
    /// # Errors
    /// - [`Error::BadLength`] for an empty sequence or one longer than `T`;
    /// - [`Error::TokenOutOfRange`] for an input id `≥ I` or a label `≥ classes`;
    /// - [`Error::NonFiniteLoss`] if the loss or a gradient is NaN or infinite.
    ///
    /// On error the parameters and optimizer memory are unchanged.
    pub fn train_example(&mut self, example: &Example<'_, I>) -> Result<Trained, Error> {
        let buffers = &mut self.buffers;
        let (loss, class) = sequence_gradient(
            buffers.model,
            buffers.tape,
            buffers.grads,
            example,
            &self.config,
        )?;
        checked_update(
            buffers.model,
            buffers.grads,
            buffers.optimizer,
            self.config.clip,
            live::<I>(&self.config),
        )?;
        Ok(Trained {
            loss,
            correct: class == example.label,
        })
    }

    /// One epoch: shuffles `examples` in place with `rng` (a uniform Fisher–Yates shuffle), then
    /// trains on each in turn. Returns the training loss and accuracy of the epoch, each example
    /// measured just before its own update.
    ///
    /// # Errors
    /// As [`Classifier::train_example`]; updates made before the failing example are kept.
    pub fn fit_epoch<R: Rng + ?Sized>(
        &mut self,
        examples: &mut [Example<'_, I>],
        rng: &mut R,
    ) -> Result<Metrics, Error> {
        shuffle(examples, rng);
        let mut metrics = Metrics::default();
        for example in examples.iter() {
            let trained = self.train_example(example)?;
            metrics.add(trained.loss, trained.correct);
        }
        Ok(metrics)
    }

    /// Trains for `epochs` shuffled epochs (see [`Classifier::fit_epoch`]) and returns the last
    /// epoch's training metrics (the default for `epochs == 0`).
    ///
    /// # Errors
    /// As [`Classifier::train_example`].
    pub fn fit<R: Rng + ?Sized>(
        &mut self,
        examples: &mut [Example<'_, I>],
        rng: &mut R,
        epochs: usize,
    ) -> Result<Metrics, Error> {
        let mut metrics = Metrics::default();
        for _ in 0..epochs {
            metrics = self.fit_epoch(examples, rng)?;
        }
        Ok(metrics)
    }

    /// The class and class probabilities of one sequence; see [`predict`].
    ///
    /// # Errors
    /// As [`predict`].
    pub fn predict(&self, inputs: Sequence<'_, I>) -> Result<Prediction<O>, Error> {
        predict(
            self.buffers.model,
            inputs,
            self.config.classes,
            self.config.readout,
        )
    }

    /// Mean loss and accuracy over `examples`, without training; see [`evaluate`].
    ///
    /// # Errors
    /// As [`evaluate`].
    pub fn evaluate(&self, examples: &[Example<'_, I>]) -> Result<Metrics, Error> {
        evaluate(
            self.buffers.model,
            examples,
            self.config.classes,
            self.config.readout,
        )
    }
}

/// Runs `rnn` over `inputs` from a zero hidden state and returns the most likely of the first
/// `classes` classes, read from the state `readout` names, with the softmax probabilities of all
/// of them.
///
/// # Errors
/// - [`Error::InvalidSetting`] for `classes` outside `1..=O`;
/// - [`Error::BadLength`] for an empty sequence;
/// - [`Error::TokenOutOfRange`] for an input id `≥ I`.
///
/// # Examples
/// ```
/// use micrornn::{Readout, Rnn, Sequence, classify::predict};
/// let mut rnn = Rnn::<4, 8, 3>::ZERO;
/// rnn.b_y = [0.0, 2.0, 9.0]; // class 2 is masked below
/// let prediction = predict(&rnn, Sequence::Tokens(&[0, 3]), 2, Readout::Last)?;
/// assert_eq!(prediction.class, 1);
/// assert!((prediction.probs[0] + prediction.probs[1] - 1.0).abs() < 1e-6);
/// assert_eq!(prediction.probs[2], 0.0);
/// # Ok::<(), micrornn::Error>(())
/// ```
pub fn predict<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    rnn: &C,
    inputs: Sequence<'_, I>,
    classes: usize,
    readout: Readout,
) -> Result<Prediction<O>, Error> {
    let (prediction, _) = predict_with_loss(rnn, inputs, classes, readout, None)?;
    Ok(prediction)
}

/// Loss and accuracy of `rnn` over `examples`, each run from a zero hidden state.
///
/// # Errors
/// As [`predict`], and [`Error::TokenOutOfRange`] for a label `≥ classes`.
///
/// # Examples
/// ```
/// use micrornn::{Readout, Rnn, classify::{Example, evaluate}};
/// let mut rnn = Rnn::<2, 4, 2>::ZERO;
/// rnn.b_y = [1.0, 0.0]; // always class 0
/// let examples = [Example::tokens(&[0], 0), Example::tokens(&[1, 1], 1)];
/// let metrics = evaluate(&rnn, &examples, 2, Readout::Last)?;
/// assert_eq!((metrics.correct, metrics.count), (1, 2));
/// # Ok::<(), micrornn::Error>(())
/// ```
pub fn evaluate<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    rnn: &C,
    examples: &[Example<'_, I>],
    classes: usize,
    readout: Readout,
) -> Result<Metrics, Error> {
    let mut metrics = Metrics::default();
    for example in examples {
        let (prediction, loss) =
            predict_with_loss(rnn, example.inputs, classes, readout, Some(example.label))?;
        metrics.add(loss, prediction.class == example.label);
    }
    Ok(metrics)
}

/// [`predict`], and the cross-entropy `-ln p(label)` computed from the logits (finite even where
/// the probability underflows to 0); 0 for no label.
fn predict_with_loss<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    rnn: &C,
    inputs: Sequence<'_, I>,
    classes: usize,
    readout: Readout,
    label: Option<usize>,
) -> Result<(Prediction<O>, f32), Error> {
    let live = Classes::<O>::new(classes)?;
    if inputs.is_empty() {
        return Err(Error::BadLength {
            len: 0,
            capacity: usize::MAX,
        });
    }
    let k = kernels::active();
    let (mut hidden, mut sum) = ([0.0f32; H], [0.0f32; H]);
    for t in 0..inputs.len() {
        if let Some(input) = inputs.get(t) {
            rnn.step(input, &mut hidden)?;
            if readout == Readout::Mean {
                (k.axpy)(1.0, &hidden, &mut sum);
            }
        }
    }
    if readout == Readout::Mean {
        hidden = sum;
        (k.scale)(&mut hidden, 1.0 / inputs.len() as f32);
    }
    let mut logits = [0.0f32; O];
    rnn.logits(&hidden, &mut logits);
    let mut probs = [0.0f32; O];
    let (live_logits, live_probs) = (live.of(&logits), live.of_mut(&mut probs));
    let log_sum_exp = (k.softmax)(live_logits, live_probs);
    let class = argmax(live_probs);
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

/// Shuffles `items` in place: a uniform Fisher–Yates shuffle driven by `rng`, the same order for
/// the same `rng` state on every target.
///
/// # Examples
/// ```
/// use micrornn::{DefaultRng, classify::shuffle};
/// use rand_core::SeedableRng;
/// let mut items = [1, 2, 3, 4, 5];
/// shuffle(&mut items, &mut DefaultRng::seed_from_u64(1));
/// items.sort();
/// assert_eq!(items, [1, 2, 3, 4, 5]);
/// ```
pub fn shuffle<T, R: Rng + ?Sized>(items: &mut [T], rng: &mut R) {
    for i in (1..items.len()).rev() {
        let j = below(rng, i + 1);
        // Swap items[j] and items[i] (j ≤ i), written without a panic path.
        if let Some((head, tail)) = items.split_at_mut_checked(i)
            && let (Some(a), Some(b)) = (head.get_mut(j), tail.first_mut())
        {
            core::mem::swap(a, b);
        }
    }
}

/// A uniform draw in `0..n` (0 for `n ≤ 1`), by Lemire's multiply-and-reject method, so without
/// modulo bias.
fn below<R: Rng + ?Sized>(rng: &mut R, n: usize) -> usize {
    let n = n as u64;
    // Draws whose low half falls below `2^64 mod n` would make some results more likely.
    let Some(reject_below) = n.wrapping_neg().checked_rem(n) else {
        return 0;
    };
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if m as u64 >= reject_below {
            return (m >> 64) as usize;
        }
    }
}

/// Forward and backward of one labelled sequence from a zero state, on `tape` into `grads` (its
/// live rows: every input row, the first `config.classes` output rows): the sequence's loss and
/// the class the model gave it, both before any update. The one per-sequence pass of the
/// classifier, single or batched.
///
/// # Errors
/// As [`Tape::forward`].
pub(crate) fn sequence_gradient<C, const I: usize, const H: usize, const O: usize, const T: usize>(
    model: &C,
    tape: &mut Tape<T, H, O, C::Record>,
    grads: &mut C,
    example: &Example<'_, I>,
    config: &ClassifierConfig,
) -> Result<(f32, usize), Error>
where
    C: Cell<I, H, O>,
{
    let classes = config.classes;
    let loss = tape.forward(
        model,
        example.inputs,
        config.readout.targets(example.label),
        &[0.0; H],
        classes,
    )?;
    let mut logits = [0.0f32; O];
    model.logits(tape.readout_state(), &mut logits);
    let class = argmax(logits.get(..classes).unwrap_or(&[]));
    // Every input row is live (the inputs are not classes); the outputs are the classes.
    tape.backward_live(model, example.inputs, grads, None, I)?;
    Ok((loss, class))
}

/// The rows a classifier's gradient holds: every input row, the output rows of the classes.
pub(crate) fn live<const I: usize>(config: &ClassifierConfig) -> Live {
    Live {
        inputs: I,
        outputs: config.classes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DefaultRng, Sgd};
    use rand_core::SeedableRng;

    #[test]
    fn shuffle_is_a_permutation_and_moves_things() {
        let mut rng = DefaultRng::seed_from_u64(3);
        let mut items = [0usize; 50];
        for (i, item) in items.iter_mut().enumerate() {
            *item = i;
        }
        shuffle(&mut items, &mut rng);
        let moved = items.iter().enumerate().filter(|&(i, &v)| i != v).count();
        assert!(moved > 40, "only {moved} of 50 moved");
        items.sort_unstable();
        assert!(items.iter().enumerate().all(|(i, &v)| i == v));
        shuffle(&mut items[..0], &mut rng);
        shuffle(&mut items[..1], &mut rng);
    }

    #[test]
    fn below_is_roughly_uniform() {
        let mut rng = DefaultRng::seed_from_u64(9);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[below(&mut rng, 3)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_500..10_500).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn bad_data_is_an_error_and_leaves_the_model_alone() {
        let mut model = Rnn::<3, 4, 2>::ZERO;
        model.init_gaussian(&mut DefaultRng::seed_from_u64(1), 0.1);
        let before = model.clone();
        let (mut grads, mut tape, mut sgd) = (Rnn::ZERO, Tape::<2, 4, 2>::ZERO, Sgd { lr: 0.1 });
        let config = ClassifierConfig {
            classes: 2,
            clip: Clip::None,
            readout: Readout::Last,
        };
        let mut c = Classifier::new(&mut model, &mut grads, &mut tape, &mut sgd, config).unwrap();
        let bad = [
            Example::tokens(&[], 0),
            Example::tokens(&[0, 1, 2], 0),
            Example::tokens(&[3], 0),
            Example::tokens(&[0], 2),
        ];
        for example in &bad {
            assert!(c.train_example(example).is_err(), "{example:?}");
        }
        assert!(c.evaluate(&bad[2..]).is_err());
        assert!(c.evaluate(&bad[3..]).is_err());
        assert!(c.predict(Sequence::Tokens(&[])).is_err());
        assert_eq!(*c.buffers.model, before);
        assert!(predict(&before, Sequence::Tokens(&[0]), 3, Readout::Last).is_err());
        let mut tape = Tape::<2, 4, 2>::ZERO;
        let config = ClassifierConfig {
            classes: 0,
            ..config
        };
        assert!(Classifier::new(&mut model, &mut grads, &mut tape, &mut sgd, config).is_err());
    }

    #[test]
    fn training_metrics_match_evaluation_before_the_update() {
        for readout in [Readout::Last, Readout::Mean] {
            let mut model = Rnn::<3, 4, 2>::ZERO;
            model.init_gaussian(&mut DefaultRng::seed_from_u64(2), 0.5);
            let example = Example::tokens(&[0, 2, 1], 1);
            let expected = evaluate(&model, &[example], 2, readout).unwrap();
            let (mut grads, mut tape, mut sgd) =
                (Rnn::ZERO, Tape::<3, 4, 2>::ZERO, Sgd { lr: 0.1 });
            let config = ClassifierConfig {
                classes: 2,
                clip: Clip::Value(1.0),
                readout,
            };
            let mut c =
                Classifier::new(&mut model, &mut grads, &mut tape, &mut sgd, config).unwrap();
            let trained = c.train_example(&example).unwrap();
            assert!((f64::from(trained.loss) - expected.total_loss).abs() < 1e-5);
            assert_eq!(trained.correct, expected.correct == 1);
            assert!(c.evaluate(&[example]).unwrap().total_loss < expected.total_loss);
        }
        // The two readouts read different states.
        let mut model = Rnn::<3, 4, 2>::ZERO;
        model.init_gaussian(&mut DefaultRng::seed_from_u64(2), 0.5);
        let example = [Example::tokens(&[0, 2, 1], 1)];
        let last = evaluate(&model, &example, 2, Readout::Last).unwrap();
        let mean = evaluate(&model, &example, 2, Readout::Mean).unwrap();
        assert_ne!(last.total_loss, mean.total_loss);
    }
}
