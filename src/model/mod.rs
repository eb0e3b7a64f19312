//! The model layer: the Elman RNN's parameters and what computes with them.
//!
//! Owns [`Rnn<I, H, O>`](Rnn) (parameters, initialization, one inference step) and
//! [`Tape<T, H, O>`](Tape) (the BPTT forward pass over a chunk and its backward pass). It uses
//! only the [`kernels`](crate::kernels) below it and the crate's [`Error`](crate::Error); it
//! knows nothing of optimizers, training loops, files or vocabularies.
//!
//! | module | what |
//! |---|---|
//! | [`rnn`] | [`Rnn`]: the parameters, [`Rnn::step`], [`Rnn::logits`] |
//! | [`init`] | random initialization (uniform, Gaussian) written with `libm` |
//! | [`infer`] | [`Infer`]: hidden state, step, logits — the inference interface of `Rnn` and `QRnn` that generation uses |
//! | [`classes`] | [`Classes`]: a number of live output classes, checked once to be in `1..=O` |
//! | [`bptt`] | [`Tape`]: truncated back-propagation through time over one chunk |
//! | [`batch`] | [`batch::BatchTape`]: BPTT over `B` streams at once, as matrix–matrix products |
//! | [`quant`] | [`QRnn`]: the quantized model (int8 weights, Q15 state) and post-training quantization |

pub mod batch;
pub mod bptt;
pub mod classes;
pub mod infer;
pub mod init;
pub mod quant;
pub mod rnn;

pub use bptt::{Sequence, Tape, Targets};
pub use classes::Classes;
pub use infer::Infer;
pub use quant::QRnn;
pub use rnn::{Input, Live, Rnn};
