//! The gated recurrent unit, with the equations and gate order of PyTorch's `nn.GRU`:
//!
//! ```text
//! r = σ(W_xr·x + b_xr + W_hr·h + b_hr)          reset gate
//! z = σ(W_xz·x + b_xz + W_hz·h + b_hz)          update gate
//! n = tanh(W_xn·x + b_xn + r ⊙ (W_hn·h + b_hn))  candidate
//! h' = (1 - z) ⊙ n + z ⊙ h
//! y = W_hy·h' + b_y
//! ```
//!
//! Gates are stored in the order r, z, n, as PyTorch's `weight_ih_l0`/`weight_hh_l0` stack
//! them; `b_hn` sits inside the reset product.

use crate::Error;
use crate::kernels;
use crate::model::cell::{Cell, CellKind, Chunk, Params, Rows, Step, TensorSpec};
use crate::model::infer::Infer;
use crate::model::{Input, gru_backward, init};
use rand_core::Rng;

/// A GRU with `I` inputs, `H` hidden units and `O` outputs.
///
/// Inference and training go through [`Cell`] (bring it into scope):
///
/// ```
/// use micrornn::{Cell, Input, model::Gru};
/// let mut gru = Gru::<4, 8, 4>::ZERO;
/// gru.b_xh[2] = [0.5; 8]; // the candidate's bias; r = z = σ(0) = 0.5
/// let mut hidden = [0.0; 8];
/// gru.step(Input::Token(2), &mut hidden)?;
/// assert!((hidden[0] - 0.5 * 0.5f32.tanh()).abs() < 1e-6);
/// assert!(gru.step(Input::Token(4), &mut hidden).is_err());
/// # Ok::<(), micrornn::Error>(())
/// ```
///
/// Plain `f32` arrays, `#[repr(C)]`, no pointers: it can sit in a `static` ([`Gru::ZERO`]), on
/// the stack or in a `Box`, like [`Rnn`](crate::Rnn). It holds `4·(3·I·H + 3·H·H + 6·H + O·H +
/// O)` bytes of parameters ([`Gru::SIZE`] with alignment): about three Elman cells' worth.
///
/// Storage: `w_xh[i]` holds input `i`'s weights into the three gates (r, z, n), `H` each, so a
/// token is one contiguous row lookup; `w_hh[g][j]` is the row of gate `g`'s recurrent weights
/// into unit `j` (flattened, `w_hh` is PyTorch's `weight_hh_l0`, `3H × H`); `b_xh` and `b_hh` are
/// PyTorch's `bias_ih_l0` and `bias_hh_l0`.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_pointer_width = "64", repr(align(64)))]
pub struct Gru<const I: usize, const H: usize, const O: usize> {
    /// Input weights, transposed: row `i` is input `i`'s weights into the r, z and n gates.
    pub w_xh: [[[f32; H]; 3]; I],
    /// Recurrent weights: `w_hh[g][j]` holds the weights into unit `j` of gate `g` (r, z, n).
    pub w_hh: [[[f32; H]; H]; 3],
    /// Input-side gate biases (r, z, n).
    pub b_xh: [[f32; H]; 3],
    /// Recurrent-side gate biases (r, z, n); `b_hh[2]` is inside the reset product.
    pub b_hh: [[f32; H]; 3],
    /// Hidden-to-output weights: row `o` holds the weights into output `o`.
    pub w_hy: [[f32; H]; O],
    /// Output bias.
    pub b_y: [f32; O],
}

/// What a GRU step records for its backward pass: the gates `r`, `z`, `n` and the recurrent
/// candidate term `W_hn·h + b_hn`, in that order.
pub type GruRecord<const H: usize> = [[f32; H]; 4];

impl<const I: usize, const H: usize, const O: usize> Gru<I, H, O> {
    /// All parameters zero; a `const`, so a model can be placed in a `static`.
    pub const ZERO: Self = Self {
        w_xh: [[[0.0; H]; 3]; I],
        w_hh: [[[0.0; H]; H]; 3],
        b_xh: [[0.0; H]; 3],
        b_hh: [[0.0; H]; 3],
        w_hy: [[0.0; H]; O],
        b_y: [0.0; O],
    };

    /// Size of the struct in bytes.
    pub const SIZE: usize = core::mem::size_of::<Self>();

    /// Initializes in place as PyTorch does for `nn.GRU`: every weight and gate bias uniform in
    /// `±1/√H`; the readout's weights uniform in `±1/√H`, its bias zero.
    pub fn init_uniform<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let bound = 1.0 / kernels::math::sqrt(H.max(1) as f32);
        for index in 0..5 {
            init::uniform(rng, self.tensor_mut(index), bound);
        }
        self.b_y.fill(0.0);
    }

    /// Initializes in place with each weight `N(0, 1)·scale` and every bias zero (as
    /// [`Rnn::init_gaussian`](crate::Rnn::init_gaussian)).
    pub fn init_gaussian<R: Rng + ?Sized>(&mut self, rng: &mut R, scale: f32) {
        for index in [0, 1, 4] {
            init::gaussian(rng, self.tensor_mut(index), scale);
        }
        for index in [2, 3, 5] {
            self.tensor_mut(index).fill(0.0);
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Params for Gru<I, H, O> {
    const TENSORS: &'static [TensorSpec] = &[
        TensorSpec {
            name: "w_xh",
            rows: I,
            row_len: 3 * H,
            live_rows: Rows::Inputs,
        },
        TensorSpec {
            name: "w_hh",
            rows: 3 * H,
            row_len: H,
            live_rows: Rows::All,
        },
        TensorSpec {
            name: "b_xh",
            rows: 3 * H,
            row_len: 1,
            live_rows: Rows::All,
        },
        TensorSpec {
            name: "b_hh",
            rows: 3 * H,
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
        match index {
            0 => self.w_xh.as_flattened().as_flattened(),
            1 => self.w_hh.as_flattened().as_flattened(),
            2 => self.b_xh.as_flattened(),
            3 => self.b_hh.as_flattened(),
            4 => self.w_hy.as_flattened(),
            5 => &self.b_y,
            _ => &[],
        }
    }

    fn tensor_mut(&mut self, index: usize) -> &mut [f32] {
        match index {
            0 => self.w_xh.as_flattened_mut().as_flattened_mut(),
            1 => self.w_hh.as_flattened_mut().as_flattened_mut(),
            2 => self.b_xh.as_flattened_mut(),
            3 => self.b_hh.as_flattened_mut(),
            4 => self.w_hy.as_flattened_mut(),
            5 => &mut self.b_y,
            _ => &mut [],
        }
    }
}

impl<const I: usize, const H: usize, const O: usize> Cell<I, H, O> for Gru<I, H, O> {
    const KIND: CellKind = CellKind::Gru;
    type Record = GruRecord<H>;

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
        record: &mut GruRecord<H>,
    ) -> Result<(), Error> {
        let k = kernels::active();
        // Input side: gx = W_x·x + b_x, all three gates at once.
        let mut gx = self.b_xh;
        match input {
            Input::Token(token) => {
                let row = self
                    .w_xh
                    .get(token)
                    .ok_or(Error::TokenOutOfRange { token, limit: I })?;
                (k.axpy)(1.0, row.as_flattened(), gx.as_flattened_mut());
            }
            Input::Dense(x) => {
                for (&xi, row) in x.iter().zip(&self.w_xh) {
                    if xi != 0.0 {
                        (k.axpy)(xi, row.as_flattened(), gx.as_flattened_mut());
                    }
                }
            }
        }
        // Recurrent side: gh = W_h·h_prev + b_h, one product over the 3H rows.
        let mut gh = [[0.0f32; H]; 3];
        (k.matvec)(
            self.w_hh.as_flattened().as_flattened(),
            h_prev,
            self.b_hh.as_flattened(),
            gh.as_flattened_mut(),
        );
        gates_from(&gx, &gh, h_prev, h, record);
        Ok(())
    }

    /// With `a` the gradients of the input-side pre-activations (r, z, n) and `b` those of the
    /// recurrent side (the same but `b_n = a_n ⊙ r`): `db_x += a`, `dW_x += x·aᵀ`, `db_h += b`,
    /// `dW_h += b·h_prevᵀ`, and `dh = dh ⊙ z + W_hᵀ·b`.
    fn backward(
        &self,
        step: Step<'_, I, H, GruRecord<H>>,
        dh: &mut [f32; H],
        grads: &mut Self,
        live_inputs: usize,
    ) {
        let k = kernels::active();
        let mut gates = [[0.0f32; H]; 4];
        gate_gradients(step.record, dh, step.h_prev, &mut gates);
        let b = gates_b(&gates);
        add_bias_and_input_gradients(grads, step.input, &gates, live_inputs);
        (k.rank1)(
            grads.w_hh.as_flattened_mut().as_flattened_mut(),
            b,
            step.h_prev,
        );
        for (d, z) in dh.iter_mut().zip(&step.record[1]) {
            *d *= z;
        }
        (k.matvec_t)(self.w_hh.as_flattened().as_flattened(), b, dh);
    }

    fn backward_chunk(
        &self,
        chunk: Chunk<'_, I, H, GruRecord<H>>,
        scratch: &mut [[f32; H]],
        records: &mut [GruRecord<H>],
        grads: &mut Self,
        window: Option<usize>,
        live_inputs: usize,
    ) {
        gru_backward::backward_chunk(self, chunk, scratch, records, grads, window, live_inputs);
    }
}

/// The gates and the new state of one step from its input-side pre-activations `gx = W_x·x +
/// b_x` and recurrent-side ones `gh = W_h·h_prev + b_h` (r, z, n each): `record = [r, z, n,
/// gh_n]` and `h = (1 - z) ⊙ n + z ⊙ h_prev`.
pub(crate) fn gates_from<const H: usize>(
    gx: &[[f32; H]; 3],
    gh: &[[f32; H]; 3],
    h_prev: &[f32; H],
    h: &mut [f32; H],
    record: &mut GruRecord<H>,
) {
    let k = kernels::active();
    let [r, z, n, gh_n] = record;
    let ([x_r, x_z, x_n], [h_r, h_z, h_n]) = (gx, gh);
    for (out, (x, hh)) in [(&mut *r, (x_r, h_r)), (&mut *z, (x_z, h_z))] {
        for ((o, x), hh) in out.iter_mut().zip(x).zip(hh) {
            *o = x + hh;
        }
        (k.sigmoid)(out);
    }
    *gh_n = *h_n;
    for (((n, x), r), hh) in n.iter_mut().zip(x_n).zip(r.iter()).zip(h_n) {
        *n = x + r * hh;
    }
    (k.tanh)(n);
    for (((h, n), z), p) in h.iter_mut().zip(n.iter()).zip(z.iter()).zip(h_prev) {
        *h = n + z * (p - n);
    }
}

/// One step's gate gradients, given `dh = ∂L/∂h` after it: `gates = [b_r, b_z, b_n, a_n]`, with
/// `a` the gradients of the input-side pre-activations (r, z, n) and `b` those of the recurrent
/// side (`b_r = a_r`, `b_z = a_z`, `b_n = a_n ⊙ r`). Packed so `b` is contiguous (`dW_hh`'s
/// product reads it) and the whole fits a [`GruRecord`].
pub(crate) fn gate_gradients<const H: usize>(
    record: &GruRecord<H>,
    dh: &[f32; H],
    h_prev: &[f32; H],
    gates: &mut GruRecord<H>,
) {
    let [r, z, n, gh_n] = record;
    let [b_r, b_z, b_n, a_n] = gates;
    let outputs = b_r
        .iter_mut()
        .zip(b_z.iter_mut())
        .zip(b_n.iter_mut().zip(a_n));
    let inputs = r.iter().zip(z).zip(n).zip(gh_n).zip(dh.iter().zip(h_prev));
    for (((b_r, b_z), (b_n, a_n)), ((((r, z), n), gh_n), (dh, h_prev))) in outputs.zip(inputs) {
        let d_n = dh * (1.0 - z) * (1.0 - n * n);
        *a_n = d_n;
        *b_n = d_n * r;
        *b_z = dh * (h_prev - n) * z * (1.0 - z);
        *b_r = d_n * gh_n * r * (1.0 - r);
    }
}

/// The recurrent-side gradient `b = [b_r, b_z, b_n]` of packed [`gate_gradients`].
pub(crate) fn gates_b<const H: usize>(gates: &GruRecord<H>) -> &[f32] {
    let packed = gates.as_flattened();
    packed.get(..3 * H).unwrap_or(packed)
}

/// A step's share of the bias and input-weight gradients from its packed [`gate_gradients`]:
/// `db_h += b`, `db_x += a`, and `dW_x += x·aᵀ` (a row for a token below `live_inputs`).
pub(crate) fn add_bias_and_input_gradients<const I: usize, const H: usize, const O: usize>(
    grads: &mut Gru<I, H, O>,
    input: Option<Input<'_, I>>,
    gates: &GruRecord<H>,
    live_inputs: usize,
) {
    let k = kernels::active();
    let [b_r, b_z, _, a_n] = gates;
    let a = [*b_r, *b_z, *a_n];
    (k.axpy)(1.0, gates_b(gates), grads.b_hh.as_flattened_mut());
    (k.axpy)(1.0, a.as_flattened(), grads.b_xh.as_flattened_mut());
    match input {
        Some(Input::Token(id)) => {
            if let Some(row) = grads.w_xh.get_mut(id).filter(|_| id < live_inputs) {
                (k.axpy)(1.0, a.as_flattened(), row.as_flattened_mut());
            }
        }
        Some(Input::Dense(x)) => (k.rank1)(
            grads.w_xh.as_flattened_mut().as_flattened_mut(),
            x,
            a.as_flattened(),
        ),
        None => {}
    }
}

/// Generation from a GRU: the cell's own step and readout, nothing carried between steps, so the
/// one [`Generator`](crate::Generator) primes, steps and samples a GRU as it does the Elman
/// cells.
impl<const I: usize, const H: usize, const O: usize> Infer<I> for Gru<I, H, O> {
    type Hidden = [f32; H];
    type Logits = [f32; O];
    type Carry = ();
    type RealLogits = [f32; 0];
    const ZERO_HIDDEN: [f32; H] = [0.0; H];
    const ZERO_LOGITS: [f32; O] = [0.0; O];
    const ZERO_CARRY: () = ();
    const ZERO_REAL_LOGITS: [f32; 0] = [];
    const OUTPUTS: usize = O;

    fn step(&self, input: Input<'_, I>, hidden: &mut [f32; H]) -> Result<(), Error> {
        Cell::step(self, input, hidden)
    }

    fn logits(&self, hidden: &[f32; H], logits: &mut [f32; O]) {
        Cell::logits(self, hidden, logits);
    }

    fn argmax(&self, logits: &[f32; O], classes: usize) -> usize {
        kernels::scalar::argmax(logits.get(..classes).unwrap_or(logits))
    }

    fn real_logits<'a>(&self, logits: &'a [f32; O], _: &'a mut [f32; 0]) -> &'a [f32] {
        logits
    }
}
