//! The Elman RNN: its parameters, their initialization, and one step of inference.
//!
//! ```text
//! h_t = tanh(W_xh·x_t + W_hh·h_{t-1} + b_h)
//! y_t = W_hy·h_t + b_y
//! ```

use crate::Error;
use crate::kernels;
use crate::model::cell::{Cell, CellKind, Chunk, Params, Rows, Step, TensorSpec};
use crate::model::init;
use crate::model::{Input, Live, elman_backward};
use rand_core::Rng;

/// An Elman RNN with `I` inputs, `H` hidden units and `O` outputs.
///
/// All parameters live inline: the struct is plain `f32` arrays, `#[repr(C)]`, with no pointers,
/// so it can sit in a `static` ([`Rnn::ZERO`]), on the stack, or in a `Box`. It takes
/// [`Rnn::SIZE`] bytes = `4 · (I·H + H·H + H + O·H + O)`, rounded up to a multiple of 64 on
/// 64-bit targets:
///
/// | (I, H, O) | bytes |
/// |---|---|
/// | (16, 16, 16) | 3,200 |
/// | (32, 32, 32) | 12,544 |
/// | (65, 128, 65) | 132,868 (132,928 on 64-bit targets) |
/// | (256, 512, 256) | 2,100,224 |
///
/// On 64-bit targets the struct is aligned to 64 bytes (a cache line): when `H` is a multiple
/// of 16, every row of every weight matrix then starts a cache line, so no 256- or 512-bit
/// load of the kernels straddles two lines (the README has what unaligned loads cost).
/// Microcontroller targets keep 4-byte alignment and no padding.
///
/// Gradients and optimizer memory have the same shape, so they are `Rnn`s too.
///
/// Storage: `w_xh[i]` is the row of `H` weights for input `i` (so a token is a row lookup: an
/// embedding table); `w_hh[j]` and `w_hy[o]` are the rows of `W_hh` and `W_hy` in the equations,
/// i.e. the weights *into* hidden unit `j` and output `o`.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_pointer_width = "64", repr(align(64)))]
pub struct Rnn<const I: usize, const H: usize, const O: usize> {
    /// Input-to-hidden weights, stored transposed: row `i` is input `i`'s column of `W_xh`.
    pub w_xh: [[f32; H]; I],
    /// Hidden-to-hidden weights: row `j` holds the weights into hidden unit `j`.
    pub w_hh: [[f32; H]; H],
    /// Hidden bias.
    pub b_h: [f32; H],
    /// Hidden-to-output weights: row `o` holds the weights into output `o`.
    pub w_hy: [[f32; H]; O],
    /// Output bias.
    pub b_y: [f32; O],
}

impl<const I: usize, const H: usize, const O: usize> Rnn<I, H, O> {
    /// All parameters zero. A `const`, so a model can be placed in a `static` without ever being
    /// built on the stack.
    pub const ZERO: Self = Self {
        w_xh: [[0.0; H]; I],
        w_hh: [[0.0; H]; H],
        b_h: [0.0; H],
        w_hy: [[0.0; H]; O],
        b_y: [0.0; O],
    };

    /// Size of the struct in bytes.
    pub const SIZE: usize = core::mem::size_of::<Self>();

    /// Number of parameters (`f32`s).
    pub const PARAMETERS: usize = I * H + H * H + H + O * H + O;

    /// The five parameter tensors as flat slices, in the order `w_xh, w_hh, b_h, w_hy, b_y`
    /// (the order of the model file and of every optimizer).
    pub fn tensors(&self) -> [&[f32]; 5] {
        [
            self.w_xh.as_flattened(),
            self.w_hh.as_flattened(),
            &self.b_h,
            self.w_hy.as_flattened(),
            &self.b_y,
        ]
    }

    /// The five parameter tensors as mutable flat slices, same order as [`Rnn::tensors`].
    pub fn tensors_mut(&mut self) -> [&mut [f32]; 5] {
        [
            self.w_xh.as_flattened_mut(),
            self.w_hh.as_flattened_mut(),
            &mut self.b_h,
            self.w_hy.as_flattened_mut(),
            &mut self.b_y,
        ]
    }

    /// The five tensors cut to the `live` rows (clamped to the model's), same order as
    /// [`Rnn::tensors`].
    pub fn live_tensors(&self, live: Live) -> [&[f32]; 5] {
        let (inputs, outputs) = (live.inputs.min(I), live.outputs.min(O));
        [
            self.w_xh.split_at(inputs).0.as_flattened(),
            self.w_hh.as_flattened(),
            &self.b_h,
            self.w_hy.split_at(outputs).0.as_flattened(),
            self.b_y.split_at(outputs).0,
        ]
    }

    /// The five tensors cut to the `live` rows, mutable, same order as [`Rnn::tensors`].
    pub fn live_tensors_mut(&mut self, live: Live) -> [&mut [f32]; 5] {
        let (inputs, outputs) = (live.inputs.min(I), live.outputs.min(O));
        [
            self.w_xh.split_at_mut(inputs).0.as_flattened_mut(),
            self.w_hh.as_flattened_mut(),
            &mut self.b_h,
            self.w_hy.split_at_mut(outputs).0.as_flattened_mut(),
            self.b_y.split_at_mut(outputs).0,
        ]
    }

    /// Sets every parameter to zero, in place.
    pub fn fill_zero(&mut self) {
        Params::fill_zero(self);
    }

    /// Initializes in place as notebook 000 does: each weight uniform in `±1/√fan_in`
    /// (`fan_in` = `I` for `w_xh`, `H` for `w_hh` and `w_hy`), biases zero.
    pub fn init_uniform<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let [w_xh, w_hh, b_h, w_hy, b_y] = self.tensors_mut();
        init::uniform(rng, w_xh, 1.0 / crate::kernels::math::sqrt(I.max(1) as f32));
        init::uniform(rng, w_hh, 1.0 / crate::kernels::math::sqrt(H.max(1) as f32));
        init::uniform(rng, w_hy, 1.0 / crate::kernels::math::sqrt(H.max(1) as f32));
        b_h.fill(0.0);
        b_y.fill(0.0);
    }

    /// Initializes in place as min-char-rnn (`scale` 0.01) and the classifier notebook (`scale`
    /// 0.001) do: each weight `N(0, 1)·scale`, biases zero.
    pub fn init_gaussian<R: Rng + ?Sized>(&mut self, rng: &mut R, scale: f32) {
        let [w_xh, w_hh, b_h, w_hy, b_y] = self.tensors_mut();
        for weights in [w_xh, w_hh, w_hy] {
            init::gaussian(rng, weights, scale);
        }
        b_h.fill(0.0);
        b_y.fill(0.0);
    }

    /// Advances the hidden state by one input: `hidden = tanh(W_xh·x + W_hh·hidden + b_h)`.
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for a token id `≥ I`; `hidden` is then left unchanged.
    ///
    /// # Examples
    /// ```
    /// use micrornn::{Input, Rnn};
    /// let mut rnn = Rnn::<4, 8, 4>::ZERO;
    /// rnn.b_h = [0.5; 8];
    /// let mut hidden = [0.0; 8];
    /// rnn.step(Input::Token(2), &mut hidden)?;
    /// assert!((hidden[0] - 0.5f32.tanh()).abs() < 1e-6);
    /// assert!(rnn.step(Input::Token(4), &mut hidden).is_err());
    /// # Ok::<(), micrornn::Error>(())
    /// ```
    pub fn step(&self, input: Input<'_, I>, hidden: &mut [f32; H]) -> Result<(), Error> {
        let mut next = [0.0f32; H];
        self.next_hidden(input, hidden, &mut next)?;
        *hidden = next;
        Ok(())
    }

    /// `h = tanh(W_xh·x + W_hh·h_prev + b_h)`, with the input row added and the activation
    /// applied in one pass for a token.
    pub(crate) fn next_hidden(
        &self,
        input: Input<'_, I>,
        h_prev: &[f32; H],
        h: &mut [f32; H],
    ) -> Result<(), Error> {
        let k = kernels::active();
        match input {
            Input::Token(token) => {
                let row = self.input_row(token)?;
                (k.matvec)(self.w_hh.as_flattened(), h_prev, &self.b_h, h);
                (k.add_tanh)(row, h);
            }
            Input::Dense(_) => {
                self.pre_activation(input, h_prev, h)?;
                (k.tanh)(h);
            }
        }
        Ok(())
    }

    /// `pre = W_xh·x + W_hh·h_prev + b_h`: the hidden pre-activation of one step.
    pub(crate) fn pre_activation(
        &self,
        input: Input<'_, I>,
        h_prev: &[f32; H],
        pre: &mut [f32; H],
    ) -> Result<(), Error> {
        let k = kernels::active();
        let row = match input {
            Input::Token(token) => Some(self.input_row(token)?),
            Input::Dense(_) => None,
        };
        (k.matvec)(self.w_hh.as_flattened(), h_prev, &self.b_h, pre);
        match (row, input) {
            (Some(row), _) => (k.axpy)(1.0, row, pre),
            (None, Input::Dense(x)) => {
                for (&xi, row) in x.iter().zip(&self.w_xh) {
                    if xi != 0.0 {
                        (k.axpy)(xi, row, pre);
                    }
                }
            }
            (None, Input::Token(_)) => {}
        }
        Ok(())
    }

    /// The row of `w_xh` of a token (its embedding).
    ///
    /// # Errors
    /// [`Error::TokenOutOfRange`] for a token `≥ I`.
    pub(crate) fn input_row(&self, token: usize) -> Result<&[f32; H], Error> {
        self.w_xh
            .get(token)
            .ok_or(Error::TokenOutOfRange { token, limit: I })
    }

    /// Output logits for a hidden state: `logits = W_hy·hidden + b_y`.
    pub fn logits(&self, hidden: &[f32; H], logits: &mut [f32; O]) {
        (kernels::active().matvec)(self.w_hy.as_flattened(), hidden, &self.b_y, logits);
    }
}

impl<const I: usize, const H: usize, const O: usize> Params for Rnn<I, H, O> {
    const TENSORS: &'static [TensorSpec] = &[
        TensorSpec {
            name: "w_xh",
            rows: I,
            row_len: H,
            live_rows: Rows::Inputs,
        },
        TensorSpec {
            name: "w_hh",
            rows: H,
            row_len: H,
            live_rows: Rows::All,
        },
        TensorSpec {
            name: "b_h",
            rows: H,
            row_len: 1,
            live_rows: Rows::All,
        },
        TensorSpec {
            name: "w_hy",
            rows: O,
            row_len: H,
            live_rows: Rows::Outputs,
        },
        TensorSpec {
            name: "b_y",
            rows: O,
            row_len: 1,
            live_rows: Rows::Outputs,
        },
    ];
    const ZERO: Self = Self::ZERO;

    fn tensor(&self, index: usize) -> &[f32] {
        self.tensors().get(index).copied().unwrap_or_default()
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [f32] {
        match index {
            0 => self.w_xh.as_flattened_mut(),
            1 => self.w_hh.as_flattened_mut(),
            2 => &mut self.b_h,
            3 => self.w_hy.as_flattened_mut(),
            4 => &mut self.b_y,
            _ => &mut [],
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Cell<I, H, O> for Rnn<I, H, O> {
    const KIND: CellKind = CellKind::Elman;
    type Record = ();

    fn w_hy(&self) -> &[[f32; H]; O] {
        &self.w_hy
    }

    fn b_y(&self) -> &[f32; O] {
        &self.b_y
    }

    fn readout_mut(&mut self) -> (&mut [[f32; H]; O], &mut [f32; O]) {
        (&mut self.w_hy, &mut self.b_y)
    }

    fn forward(
        &self,
        input: Input<'_, I>,
        h_prev: &[f32; H],
        h: &mut [f32; H],
        _record: &mut (),
    ) -> Result<(), Error> {
        self.next_hidden(input, h_prev, h)
    }

    /// `d_pre = dh ⊙ (1 - h²)`; `db_h += d_pre`, `dW_hh += d_pre·h_prevᵀ`, `dW_xh += d_pre·xᵀ`;
    /// `dh = W_hhᵀ·d_pre`.
    fn backward(
        &self,
        step: Step<'_, I, H, ()>,
        dh: &mut [f32; H],
        grads: &mut Self,
        live_inputs: usize,
    ) {
        let d_pre = elman_backward::step_backward(grads, step, *dh, live_inputs);
        *dh = [0.0; H];
        (kernels::active().matvec_t)(self.w_hh.as_flattened(), &d_pre, dh);
    }

    fn backward_chunk(
        &self,
        chunk: Chunk<'_, I, H, ()>,
        scratch: &mut [[f32; H]],
        _records: &mut [()],
        grads: &mut Self,
        window: Option<usize>,
        live_inputs: usize,
    ) {
        elman_backward::backward_chunk(self, chunk, scratch, grads, window, live_inputs);
    }
}
