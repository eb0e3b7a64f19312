//! Quantized inference: [`QRnn<I, H, O>`](QRnn), an Elman RNN in integers, made from a trained
//! f32 [`Rnn`](crate::Rnn) by post-training quantization ([`QRnn::quantize`]).
//!
//! | module | what |
//! |---|---|
//! | [`qrnn`] | [`QRnn`]: the integer parameters, [`QRnn::step`], [`QRnn::logits`], greedy generation |
//! | [`quantize`] | float → integer ([`QRnn::quantize`], optional calibration) and back ([`QRnn::dequantize`]) |

pub mod qrnn;
pub mod quantize;

pub use qrnn::QRnn;
