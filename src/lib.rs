//! # micrornn
//!
//! Small recurrent neural networks that train and run anywhere from a Cortex-M0 to a laptop.
//!
//! An Elman RNN with `I` inputs, `H` hidden units and `O` outputs:
//!
//! ```text
//! h_t = tanh(W_xh·x_t + W_hh·h_{t-1} + b_h)
//! y_t = W_hy·h_t + b_y          p_t = softmax(y_t)
//! ```
//!
//! The core is `no_std` with no heap: sizes are const generics ([`Rnn<I, H, O>`](Rnn),
//! [`Tape<T, H, O>`](Tape)), every buffer is a plain struct the caller places on the stack, in a
//! `static` or in a `Box`, and everything that depends on data returns [`Result`] with [`Error`].
//!
//! ## Example: learn a repeating text, then generate it
//!
//! ```
//! use micrornn::{Adagrad, CharVocab, Rnn, Sampler, Sampling, Tape, TrainConfig, Trainer};
//! use rand_xoshiro::{rand_core::SeedableRng, Xoshiro128PlusPlus};
//!
//! let text = "hello world. ".repeat(20);
//! let vocab = CharVocab::<16>::from_text(&text)?;
//! let mut ids = vec![0usize; text.len()];
//! vocab.encode_into(&text, &mut ids)?;
//!
//! // Model, gradients, BPTT tape (up to 25 steps) and Adagrad memory: caller-owned buffers.
//! let mut model = Rnn::<16, 32, 16>::ZERO;
//! model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(42), 0.01);
//! let mut grads = Rnn::ZERO;
//! let mut tape = Tape::<25, 32, 16>::ZERO;
//! let mut adagrad = Adagrad::new(0.1);
//! let config = TrainConfig::min_char_rnn(vocab.len());
//! let mut trainer = Trainer::new(&mut model, &mut grads, &mut tape, &mut adagrad, config)?;
//! for _ in 0..600 {
//!     trainer.train_chunk(&ids)?;
//! }
//!
//! // Greedy generation from 'h'.
//! let mut sampler = Sampler::new(&model, vocab.len(), Sampling::GREEDY)?;
//! let mut rng = Xoshiro128PlusPlus::seed_from_u64(0);
//! sampler.feed(vocab.encode('h')?)?;
//! let mut generated = String::from("h");
//! sampler.generate(&mut rng, 24, |id| generated.extend(vocab.decode(id)))?;
//! assert_eq!(generated, "hello world. hello world.");
//! # Ok::<(), micrornn::Error>(())
//! ```
//!
//! ## Layers
//!
//! The folders under `src/` are the layers, bottom to top; a layer uses only the layers below it.
//!
//! ```text
//!  bin        src/bin/micrornn/   the demo binary: train, sample, eval
//!  host       src/host/           (feature std) corpora, model files, checkpoints, loss history, words
//!  codec      src/codec/          the model file format and the character vocabulary, no_std
//!  workflows  src/workflows/      train, optimizers, clip, sample, classify, eval
//!  model      src/model/          Rnn<I, H, O> (parameters, init, step), Tape<T, H, O> (BPTT)
//!  kernels    src/kernels/        scalar reference + SIMD tables, the math shim
//! ```
//!
//! | layer | items |
//! |---|---|
//! | `host` (feature `std`) | corpora, atomic files, model files, checkpoints, the loss history, `host::words::WordVocab` |
//! | [`codec`] | [`format`](mod@format): the model file format, encoded and decoded without `std`; [`CharVocab`] |
//! | [`workflows`] | [`Trainer`], [`Sampler`], [`classify::Classifier`] and its mini-batches ([`classify_batch::train_batch`], on one tape per sequence or through the batched kernels), [`eval::cross_entropy`], [`Clip`], optimizers ([`Sgd`], [`Momentum`], [`Adagrad`], [`Adam`]) |
//! | [`model`] | [`Rnn`] (parameters, init, [`Rnn::step`]), [`Tape`] (BPTT) |
//! | [`kernels`] | scalar reference + SIMD variants behind one table |
//!
//! [`Error`] is shared by every layer. The most used items are re-exported at the crate root.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | heap placement of large models (`Rnn::boxed_zero`), run-time CPU feature detection, the `host` layer (corpora, model files, checkpoints, loss history) and the `micrornn` binary |
//! | `force-scalar` | no | uses the scalar reference kernels everywhere (to test the fallback) |
//!
//! ## Memory
//!
//! Every struct documents its size: [`Rnn::SIZE`] is `4·(I·H + H·H + H + O·H + O)` bytes
//! (12,544 for `Rnn<32, 32, 32>`; rounded up to a multiple of 64 on 64-bit targets, where the
//! model is cache-line aligned), [`Tape::SIZE`] about `4·T·(2·H + O)`. Training needs the model,
//! a gradient buffer of the same size, the optimizer memory (none for SGD, one model's worth for
//! Adagrad and momentum, two for Adam) and a tape.
//!
//! ## Placement: stack, `static` or heap
//!
//! Every buffer is a plain struct of arrays with a `const` zero value, so the caller chooses
//! where it lives (as with heapless's collections):
//!
//! ```
//! use micrornn::{Adagrad, Rnn, Tape};
//!
//! // On the stack: small models (a thread's stack is often 2 MB, a microcontroller's a few KB).
//! let mut on_stack = Rnn::<8, 16, 8>::ZERO;
//!
//! // In a `static`: all-zero `const`s, so they land in `.bss` (no flash image, nothing copied
//! // at start-up). `Adagrad::ZERO` has lr and eps 0 too; `init` sets them at run time.
//! // (On firmware, cortex-m-rt's `#[entry]` hands out `static mut`s as `&'static mut` safely.)
//! static MODEL: std::sync::Mutex<Rnn<16, 32, 16>> = std::sync::Mutex::new(Rnn::ZERO);
//! static ADAGRAD: std::sync::Mutex<Adagrad<Rnn<16, 32, 16>>> = std::sync::Mutex::new(Adagrad::ZERO);
//! ADAGRAD.lock().unwrap().init(0.1);
//!
//! // On the heap (feature `std`): zeroed in place, so a large model never passes through the
//! // stack.
//! let on_heap: Box<Rnn<256, 512, 256>> = Rnn::boxed_zero();
//! let tape: Box<Tape<64, 512, 256>> = micrornn::boxed_zeroed();
//! # let _ = (&mut on_stack, &MODEL, on_heap, tape);
//! ```
//!
//! ## Greedy inference without a random number generator
//!
//! [`Sampler::greedy_next`] is one inference step: the most likely next token, fed back.
//!
//! ```
//! use micrornn::{Rnn, Sampler, Sampling};
//! let mut model = Rnn::<4, 8, 4>::ZERO;
//! model.b_y = [0.0, 0.0, 3.0, 0.0];
//! let mut sampler = Sampler::new(&model, 4, Sampling::GREEDY)?;
//! sampler.feed(0)?;
//! let next: Vec<usize> = (0..3).map(|_| sampler.greedy_next()).collect::<Result<_, _>>()?;
//! assert_eq!(next, [2, 2, 2]);
//! # Ok::<(), micrornn::Error>(())
//! ```
//!
//! ## Classifying a sensor stream on a device, one sample at a time
//!
//! A classifier trained on the host (here a GRU trained on BasicMotions: 6 channels of a
//! smartwatch's accelerometer and gyroscope, 4 activities) is decoded by the compiler from its
//! model file into a `static`: the weights and the input normalization stay in flash. The device
//! keeps only the hidden state between samples; each sample is normalized and advances it by
//! one step; at the end of a window the readout gives the activity. No heap, nothing here needs
//! `std` (`examples/firmware/src/bin/sensor.rs` runs the same calls on a Cortex-M).
//!
//! ```
//! use micrornn::format::{self, EmbeddedGru};
//! use micrornn::{Cell, Error, Input, argmax, kernels};
//!
//! static MODEL: EmbeddedGru<6, 32, 4> = match format::decode_gru_const(include_bytes!(
//!     "../examples/firmware/models/basicmotions-gru32.mrnn"
//! )) {
//!     Ok(model) => model,
//!     Err(error) => panic!("{}", error.as_str()), // a damaged file is a compile error
//! };
//!
//! /// What the device keeps between samples: 128 bytes.
//! struct Window {
//!     hidden: [f32; 32],
//! }
//!
//! impl Window {
//!     fn new() -> Self {
//!         Self { hidden: MODEL.initial_hidden }
//!     }
//!
//!     /// One sample as the sensor delivers it: normalized with the training statistics the
//!     /// model file stores, then one step.
//!     fn push(&mut self, mut sample: [f32; 6]) -> Result<(), Error> {
//!         MODEL.normalization.apply(&mut sample);
//!         MODEL.gru.step(Input::Dense(&sample), &mut self.hidden)
//!     }
//!
//!     /// The end of the window: the most likely class and its probability.
//!     fn class(&self) -> (usize, f32) {
//!         let classes = MODEL.header.classes; // 4: Standing, Running, Walking, Badminton
//!         let (mut logits, mut probs) = ([0.0f32; 4], [0.0f32; 4]);
//!         MODEL.gru.logits(&self.hidden, &mut logits);
//!         (kernels::active().softmax)(&logits[..classes], &mut probs[..classes]);
//!         let class = argmax(&probs[..classes]);
//!         (class, probs[class])
//!     }
//! }
//! # // Test windows of BasicMotions as the firmware stores them (sensor_stream.rs): 6 `i8`
//! # // channels with an f32 scale each, after a 12-byte head; then 40 labels.
//! # let file = include_bytes!("../examples/firmware/models/basicmotions-test.samples");
//! # let scale = |c: usize| f32::from_le_bytes([file[12 + 4 * c], file[13 + 4 * c], file[14 + 4 * c], file[15 + 4 * c]]);
//! # let imu = |series: usize, t: usize| -> [f32; 6] {
//! #     core::array::from_fn(|c| f32::from(file[76 + (series * 100 + t) * 6 + c] as i8) * scale(c))
//! # };
//!
//! // A window of 100 samples (10 s at 10 Hz) recorded while running, as they arrive.
//! let mut window = Window::new();
//! for t in 0..100 {
//!     let sample: [f32; 6] = imu(10, t); // accelerometer x, y, z, gyroscope x, y, z
//!     window.push(sample)?;
//! }
//! let (class, probability) = window.class();
//! assert_eq!(class, 1); // Running
//! assert!(probability > 0.99);
//! # let mut window = Window::new();
//! # for t in 0..100 { window.push(imu(0, t))?; }
//! # assert_eq!(window.class().0, 0); // Standing
//! # Ok::<(), Error>(())
//! ```
//!
//! Measured speed and memory on x86_64 and on microcontrollers, with the commands that measure
//! them, are in the README.
#![cfg_attr(not(feature = "std"), no_std)]
// docs.rs (and `RUSTDOCFLAGS="--cfg docsrs"` on nightly) marks the std-only items.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod codec;
mod error;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod host;
pub mod kernels;
pub mod model;
pub mod workflows;

pub use codec::format;
pub use codec::qformat;
pub use codec::vocab::CharVocab;
pub use error::Error;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use host::boxed::{Zeroable, zeroed as boxed_zeroed};
pub use model::init;
pub use model::{
    Cell, Classes, Gru, Infer, Input, Live, Params, QGru, QRnn, Readout, Rnn, Sequence, Tape,
    Targets,
};
pub use workflows::clip::{Clip, global_sum_squares, live_sum_squares};
pub use workflows::optim::{Adagrad, Adam, Momentum, Optimizer, Sgd};
pub use workflows::sample::{Generator, Sampler, Sampling, argmax};
pub use workflows::train::{ChunkReport, TrainConfig, TrainState, Trainer};
pub use workflows::{classify, classify_batch, eval};

/// Mini-batch training: [`batch::BatchTrainer`], its [`batch::Shard`]s, [`batch::BatchTape`].
pub mod batch {
    pub use crate::model::batch::BatchTape;
    pub use crate::workflows::batch_train::{
        BatchState, BatchTrainer, Parallel, Sequential, Shard,
    };
}

/// The random-number traits ([`rand_core::Rng`], [`rand_core::SeedableRng`]) of the version
/// this crate uses, so that seeding [`DefaultRng`] or passing your own generator to
/// [`Sampler::generate`] needs no second dependency to keep in step:
/// `use micrornn::rand_core::SeedableRng;`.
pub use rand_core;

/// The random number generator of the examples and the binary: small, fast, 32-bit friendly, and
/// reproducible from a `u64` seed on every target.
pub use rand_xoshiro::Xoshiro128PlusPlus as DefaultRng;

/// The README's code blocks, compiled and run as doctests so the README cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
