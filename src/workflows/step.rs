//! One optimizer step over borrowed buffers: what the language-model [`Trainer`] and the
//! [`Classifier`] share.
//!
//! [`Trainer`]: crate::Trainer
//! [`Classifier`]: crate::classify::Classifier

use crate::Error;
use crate::model::{Cell, Live, Params, Rnn};
use crate::model::{Sequence, Tape};
use crate::workflows::clip::{Clip, live_sum_squares};
use crate::workflows::optim::Optimizer;

/// The borrowed buffers of a training workflow: the model (any [`Cell`] `C`, the Elman [`Rnn`]
/// by default), a gradient buffer, a BPTT tape and an optimizer with its memory.
///
/// They are borrowed, not owned, so the caller decides where each lives: in `static`s on a
/// microcontroller, on the stack, or on the heap under `std`.
pub struct Buffers<
    'a,
    const I: usize,
    const H: usize,
    const O: usize,
    const T: usize,
    P,
    C: Cell<I, H, O> = Rnn<I, H, O>,
> {
    /// The parameters being trained.
    pub model: &'a mut C,
    /// Gradient buffer.
    pub grads: &'a mut C,
    /// BPTT record buffer.
    pub tape: &'a mut Tape<T, H, O, C::Record>,
    /// Update rule and its memory.
    pub optimizer: &'a mut P,
}

impl<const I: usize, const H: usize, const O: usize, const T: usize, P, C>
    Buffers<'_, I, H, O, T, P, C>
where
    C: Cell<I, H, O>,
    P: Optimizer<C>,
{
    /// The step after a forward pass ([`Tape::forward`] of `inputs` on `model`): back-propagates
    /// into `grads` (the first `live_inputs` rows of `dW_xh` and the forward pass's live
    /// classes, see [`Live`]), refuses a non-finite gradient, then clips and updates those rows
    /// of the model in one call, [`Optimizer::clip_and_update_live`] (one fused pass over memory
    /// for Adagrad with [`Clip::Value`]).
    ///
    /// # Errors
    /// - [`Error::TargetsMismatch`] if `inputs` is not as long as the recorded pass;
    /// - [`Error::NonFiniteLoss`] if a gradient is NaN or infinite.
    ///
    /// On error the parameters and optimizer memory are unchanged.
    pub fn step(
        &mut self,
        inputs: Sequence<'_, I>,
        window: Option<usize>,
        clip: Clip,
        live_inputs: usize,
    ) -> Result<(), Error> {
        self.tape
            .backward_live(self.model, inputs, self.grads, window, live_inputs)?;
        let live = Live {
            inputs: live_inputs,
            outputs: self.tape.classes(),
        };
        checked_update(self.model, self.grads, self.optimizer, clip, live)
    }
}

/// Refuses a non-finite gradient, then clips the `live` rows of `grads` and updates those of
/// `model` in one call, [`Optimizer::clip_and_update_live`]: the update every training workflow
/// ends with.
///
/// # Errors
/// [`Error::NonFiniteLoss`] if a live gradient is NaN or infinite; then the parameters and
/// optimizer memory are unchanged.
pub(crate) fn checked_update<M: Params, P: Optimizer<M>>(
    model: &mut M,
    grads: &mut M,
    optimizer: &mut P,
    clip: Clip,
    live: Live,
) -> Result<(), Error> {
    if !live_sum_squares(grads, live).is_finite() {
        return Err(Error::NonFiniteLoss);
    }
    optimizer.clip_and_update_live(model, grads, clip, live);
    Ok(())
}
