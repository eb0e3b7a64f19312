//! Quantized inference: [`QRnn<I, H, O>`](QRnn), an Elman RNN in integers, and
//! [`QGru<I, H, O>`](QGru), a GRU in integers, made from trained f32 models by post-training
//! quantization ([`QRnn::quantize`], [`QGru::quantize`]). Both run on the same integer kernels
//! ([`crate::kernels::int`]).
//!
//! | module | what |
//! |---|---|
//! | [`dense`] | the dense input both cells share: a raw sample normalized by the model's own normalization, then Q12 |
//! | [`qrnn`] | [`QRnn`]: the integer parameters, token and dense (raw sample) steps, [`QRnn::logits`] |
//! | [`qgru`] | [`QGru`]: the integer GRU, token and dense (raw sample) steps, [`QGru::logits`] |
//! | [`quantize`] | float → integer for the Elman cell ([`QRnn::quantize`], optional calibration) and back ([`QRnn::dequantize`]); the row, bias and logit-scale quantization both cells use |
//! | [`tensors`] | [`QTensors`]: each quantized cell's integers in file order, for the one file codec |
//! | [`quantize_gru`] | float → integer for the GRU ([`QGru::quantize`]) and back ([`QGru::dequantize`]) |

pub mod dense;
pub mod qgru;
pub mod qrnn;
pub mod quantize;
pub mod quantize_gru;
pub mod tensors;

pub use qgru::QGru;
pub use qrnn::QRnn;
pub use tensors::QTensors;

/// The float logits of integer logits: `logits[o] = logits_q[o] · scale` (what every quantized
/// cell's [`crate::Infer::real_logits`] gives).
pub fn dequantized_logits<const O: usize>(logits_q: &[i16; O], scale: f32) -> [f32; O] {
    logits_q.map(|l| f32::from(l) * scale)
}

#[cfg(test)]
mod dense_tests;
#[cfg(test)]
mod tests;
