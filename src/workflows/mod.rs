//! The workflows layer: what a user does with a model — train it, sample from it, classify with
//! it, evaluate it.
//!
//! Owns the training loop ([`Trainer`](train::Trainer)), gradient clipping, the optimizers,
//! generation ([`Generator`](sample::Generator), [`Sampler`](sample::Sampler) for `Rnn`), many-to-one classification and evaluation. It uses
//! the [`model`](crate::model) and [`kernels`](crate::kernels) layers below it; it works on token
//! ids and knows nothing of vocabularies, file formats or the operating system.
//!
//! | module | what |
//! |---|---|
//! | [`batch_train`] | [`BatchTrainer`](batch_train::BatchTrainer): mini-batches of streams, shards that threads may share |
//! | [`train`] | [`Trainer`](train::Trainer): chunking, carried hidden state, smoothed loss |
//! | [`step`] | [`Buffers`](step::Buffers): the buffers both training workflows borrow, and their one optimizer step |
//! | [`optim`] | SGD, momentum, Adagrad, Adam, written once over the parameter tensors |
//! | [`clip`] | gradient clipping |
//! | [`sample`] | [`Generator`](sample::Generator): priming, greedy and sampled generation (temperature, top-k) from any [`Infer`](crate::Infer) model, f32 or int8; one categorical draw |
//! | [`classify`] | many-to-one fit / predict / evaluate |
//! | [`classify_batch`] | many-to-one mini-batches: one shard per sequence at its own length, threads may share them |
//! | [`footprint`] | the RAM of inference, int8 inference and training with each optimizer, as `const fn`s |
//! | [`eval`] | the cross-entropy of a model on a token sequence |
//! | [`quantized`] | the cross-entropy of a quantized [`QRnn`](crate::QRnn) (it generates through [`Generator`](sample::Generator)) |

pub mod batch_train;
pub mod classify;
pub mod classify_batch;
pub mod clip;
pub mod eval;
pub mod footprint;
pub mod optim;
pub mod quantized;
pub mod sample;
pub mod step;
pub mod train;
