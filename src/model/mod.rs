//! The model layer: the recurrent cells, their parameters and what computes with them.
//!
//! Owns the [`Cell`] interface with its two implementations, the Elman
//! [`Rnn<I, H, O>`](Rnn) and the [`Gru<I, H, O>`](Gru), and the [`Tape<T, H, O>`](Tape) (the
//! BPTT forward pass over a chunk and its backward pass), written once over [`Cell`]. It uses
//! only the [`kernels`](crate::kernels) below it and the crate's [`Error`](crate::Error); it
//! knows nothing of optimizers, training loops, files or vocabularies.
//!
//! | module | what |
//! |---|---|
//! | [`cell`] | [`Cell`] and [`Params`]: the interface of a cell and its list of parameter tensors |
//! | [`input`] | [`Input`], [`Sequence`], [`Targets`], [`Readout`]: what a model reads and is scored against |
//! | [`rnn`] | [`Rnn`]: the Elman cell's parameters, [`Rnn::step`], [`Rnn::logits`] |
//! | [`gru`] | [`Gru`]: the gated recurrent unit of PyTorch's `nn.GRU` |
//! | [`init`] | random initialization (uniform, Gaussian) written with `libm` |
//! | [`infer`] | [`Infer`]: hidden state, step, logits — the inference interface of `Rnn` and `QRnn` that generation uses |
//! | [`normalize`] | [`normalize::Normalization`]: per-channel mean and standard deviation of dense inputs, from the training set |
//! | [`classes`] | [`Classes`]: a number of live output classes, checked once to be in `1..=O` |
//! | [`bptt`] | [`Tape`]: truncated back-propagation through time over one chunk, for any cell |
//! | [`readout`] | the output layer `y = W_hy·h + b_y` every cell shares: loss and its gradients |
//! | [`through_time`] | the backward pass over a chunk written once over [`Cell::backward`] |
//! | [`elman_backward`] | the Elman cell's backward pass with its weight gradients batched over the chunk |
//! | [`gru_backward`] | the GRU's backward pass with its recurrent weight gradient batched over the chunk |
//! | [`batch`] | [`batch::BatchTape`]: BPTT over `B` streams at once, as matrix–matrix products, for any [`batch_cell::BatchCell`] |
//! | [`dropout`] | [`dropout::Dropout`]: dropout on the readout's input while training, masks drawn from a counter-based generator |
//! | [`batch_cell`] | [`batch_cell::BatchCell`]: what a cell adds to be trained on `B` streams at once |
//! | [`elman_batch`] | the Elman cell's batched step and step back |
//! | [`gru_batch`] | the GRU's batched step and step back |
//! | [`quant`] | [`QRnn`]: the quantized model (int8 weights, Q15 state) and post-training quantization |

pub mod batch;
pub mod batch_cell;
pub mod bptt;
pub mod cell;
pub mod classes;
pub mod dropout;
pub mod elman_backward;
pub mod elman_batch;
pub mod gru;
pub mod gru_backward;
pub mod gru_batch;
pub mod infer;
pub mod init;
pub mod input;
pub mod normalize;
pub mod quant;
pub mod readout;
pub mod rnn;
pub mod through_time;

pub use bptt::Tape;
pub use cell::{Cell, CellKind, Live, Params, Rows, TensorSpec};
pub use classes::Classes;
pub use gru::Gru;
pub use infer::Infer;
pub use input::{Input, Readout, Sequence, Targets};
pub use quant::{QGru, QRnn, QTensors};
pub use rnn::Rnn;
