//! One optimizer step over borrowed buffers: what the language-model [`Trainer`] and the
//! [`Classifier`] share.
//!
//! [`Trainer`]: crate::Trainer
//! [`Classifier`]: crate::classify::Classifier

use crate::Error;
use crate::model::bptt::{Sequence, Tape};
use crate::model::{Live, Rnn};
use crate::workflows::clip::{Clip, live_sum_squares};
use crate::workflows::optim::Optimizer;

/// The borrowed buffers of a training workflow: the model, a gradient buffer, a BPTT tape and an
/// optimizer with its memory.
///
/// They are borrowed, not owned, so the caller decides where each lives: in `static`s on a
/// microcontroller, on the stack, or on the heap under `std`.
pub struct Buffers<'a, const I: usize, const H: usize, const O: usize, const T: usize, P> {
    /// The parameters being trained.
    pub model: &'a mut Rnn<I, H, O>,
    /// Gradient buffer.
    pub grads: &'a mut Rnn<I, H, O>,
    /// BPTT record buffer.
    pub tape: &'a mut Tape<T, H, O>,
    /// Update rule and its memory.
    pub optimizer: &'a mut P,
}

impl<const I: usize, const H: usize, const O: usize, const T: usize, P> Buffers<'_, I, H, O, T, P>
where
    P: Optimizer<I, H, O>,
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
        if !live_sum_squares(self.grads, live).is_finite() {
            return Err(Error::NonFiniteLoss);
        }
        self.optimizer
            .clip_and_update_live(self.model, self.grads, clip, live);
        Ok(())
    }
}
