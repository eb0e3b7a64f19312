//! Link-time proof that the firmware paths of micrornn cannot panic.
//!
//! `_start` calls every path firmware uses, on inputs hidden behind [`black_box`] so that the
//! optimizer cannot see their values: the proof holds for all inputs, not for the ones written
//! here. The panic handler calls a function that does not exist, so if any panic survives
//! optimization, the link fails with
//! `undefined symbol: ERROR_panic_is_reachable_in_micrornn_see_examples_panic_check`.
//!
//! Covered: `Rnn::step` (token and dense inputs) and `Rnn::logits`; sampling (`Sampler::feed`,
//! `pick` greedy and with temperature and top-k, `generate`); one training chunk
//! (`Trainer::train_chunk`: forward, backward with and without a window, clipping by value and
//! by norm, each optimizer's update); model decoding from bytes (`format::decode`,
//! `format::decode_contents` for versions 1 and 2, `decode_const`, `decode_gru_const` and
//! `decode_texts`, and the
//! borrowed words, class names and metadata); the character vocabulary; the quantized model
//! (`QRnn::step`, `logits`, the shared `Generator`, `qformat::decode`, `decode_const`, `decode_vocab`
//! and `read_header`, the integer kernels); the quantized GRU (`QGru` token and raw dense-sample
//! steps, the fused Q12 step with 6 and 8 channels, the Q12 dense step over both integer products, logits, `quantized::predict` with both
//! readouts, the version-3 file's `decode_contents`, `decode_gru_const` and `decode_texts`: a
//! quantized sensor classifier's decode); the quantized Elman sensor classifier (`QRnn`'s raw
//! dense-sample step, its Q12 step over both fused updates, `quantized::predict` with both
//! readouts, its version-3 `decode_contents` and `decode_const`). Beyond those: the
//! many-to-one classifier (`classify`: one training
//! example, prediction, last and mean readouts; a mini-batch, `classify_batch::train_batch`, of
//! token and dense sequences of any lengths, on one tape each or through the batched kernels on
//! a `BatchTape`, for both cells)
//! and `eval::cross_entropy`. The GRU: its step
//! (token and dense), logits, a training chunk with SGD, Adagrad and Adam, and the classifier.
//!
//! To find a panicking call: `cargo build --release --features locate`, then list the callers of
//! `core::panicking` with `arm-none-eabi-objdump -d -C` (docs/microcontrollers.md).
#![no_std]
#![no_main]

use core::hint::black_box;
use micrornn::batch::Sequential;
use micrornn::classify::{Classifier, ClassifierConfig, Example};
use micrornn::classify_batch::{ClassifierShard, SeriesShard, StreamShard, train_batch};
use micrornn::{
    Adagrad, Adam, Cell, CharVocab, Clip, DefaultRng, Generator, Gru, Input, Momentum, Optimizer,
    QGru, QRnn, Rnn, Sampler, Sampling, Sequence, Sgd, Tape, TrainConfig, Trainer, classify, eval,
    format, qformat,
};
use rand_xoshiro::rand_core::SeedableRng;

unsafe extern "C" {
    /// Deliberately undefined: if the linker needs it, a panic is reachable.
    fn ERROR_panic_is_reachable_in_micrornn_see_examples_panic_check() -> !;
}

#[cfg(not(feature = "locate"))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    // SAFETY: never runs: the program only links if this call is unreachable.
    unsafe { ERROR_panic_is_reachable_in_micrornn_see_examples_panic_check() }
}

#[cfg(feature = "locate")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// The sizes of the firmware's training example.
const I: usize = 22;
const H: usize = 32;
const O: usize = 22;
const T: usize = 25;
type Model = Rnn<I, H, O>;

/// Inference: one step from a token, one from a dense vector, and the logits.
#[inline(never)]
fn inference(model: &Model) {
    let mut hidden = black_box([0.0f32; H]);
    black_box(model.step(Input::Token(black_box(5)), &mut hidden)).ok();
    let x = black_box([0.5f32; I]);
    black_box(model.step(Input::Dense(&x), &mut hidden)).ok();
    let mut logits = [0.0f32; O];
    model.logits(&hidden, &mut logits);
    black_box(&logits);
}

/// Sampling: prime, pick (greedy or drawn, with top-k), generate.
#[inline(never)]
fn sampling(model: &Model) {
    let sampling = Sampling {
        temperature: black_box(0.8),
        top_k: black_box(5),
    };
    let Ok(mut sampler) = Sampler::new(model, black_box(O), sampling) else {
        return;
    };
    let mut rng = DefaultRng::seed_from_u64(black_box(7));
    let prefix = black_box([1usize, 2, 3]);
    black_box(sampler.prime(black_box(&prefix[..]))).ok();
    black_box(sampler.pick(&mut rng)).ok();
    sampler.sampling = black_box(Sampling::GREEDY);
    black_box(sampler.generate(&mut rng, black_box(10), |id| {
        black_box(id);
    }))
    .ok();
}

/// One training chunk of the cell `C` with the optimizer `P`.
#[inline(never)]
fn train<C: Cell<I, H, O>, P: Optimizer<C>>(optimizer: &mut P) {
    let mut model = C::ZERO;
    let mut grads = C::ZERO;
    let mut tape = Tape::<T, H, O, C::Record>::ZERO;
    black_box(&mut model);
    let config = black_box(TrainConfig {
        seq_len: 25,
        clip: Clip::Value(5.0),
        window: Some(5),
        carry_hidden: true,
        classes: O,
    });
    let mut data = [0usize; 64];
    black_box(&mut data);
    let data: &[usize] = black_box(&data[..]);
    if let Ok(mut trainer) = Trainer::new(&mut model, &mut grads, &mut tape, optimizer, config) {
        black_box(trainer.train_chunk(data)).ok();
        trainer.config.clip = black_box(Clip::Norm(1.0));
        trainer.config.window = black_box(None);
        black_box(trainer.train_chunk(data)).ok();
    }
    black_box(&model);
}

/// The GRU's inference step (token and dense inputs) and logits, and a many-to-one classifier
/// over it reading the mean state.
#[inline(never)]
fn gru() {
    let model = black_box(Gru::<I, H, O>::ZERO);
    let mut hidden = [0.0f32; H];
    black_box(model.step(Input::Token(black_box(3)), &mut hidden)).ok();
    let dense = black_box([0.5f32; I]);
    black_box(model.step(Input::Dense(&dense), &mut hidden)).ok();
    let mut logits = [0.0f32; O];
    model.logits(&hidden, &mut logits);
    black_box(&logits);
    let mut model = model;
    let (mut grads, mut tape, mut adam) = (
        Gru::<I, H, O>::ZERO,
        Tape::<T, H, O, _>::ZERO,
        Adam::new(0.01),
    );
    let windows = black_box([[0.25f32; I]; 12]);
    let example = Example::dense(black_box(&windows[..]), black_box(1));
    let config = black_box(ClassifierConfig {
        classes: 2,
        clip: Clip::Norm(1.0),
        readout: micrornn::Readout::Mean,
    });
    if let Ok(mut classifier) =
        Classifier::new(&mut model, &mut grads, &mut tape, &mut adam, config)
    {
        black_box(classifier.train_example(&example)).ok();
        black_box(classifier.predict(example.inputs)).ok();
    }
}

/// Model decoding (format versions 1 and 2) from bytes whose content and length the optimizer
/// cannot see.
#[inline(never)]
fn decoding() {
    let mut bytes = [0u8; format::max_char_model_len::<I, H, O>(64) + 16];
    black_box(&mut bytes);
    let bytes: &[u8] = black_box(&bytes[..]);
    let mut model = Model::ZERO;
    let mut vocab = CharVocab::<I>::new();
    let mut hidden = [0.0f32; H];
    black_box(format::decode(bytes, &mut model, &mut vocab, &mut hidden)).ok();
    black_box(format::Header::read(bytes)).ok();
    // The compile-time decoder called at run time (same checks), and the texts it leaves.
    black_box(format::decode_const::<I, H, O>(bytes).map(|m| m.initial_hidden)).ok();
    black_box(format::decode_gru_const::<I, H, O>(bytes).map(|m| m.initial_hidden)).ok();
    black_box(format::decode_texts(bytes, &mut vocab)).ok();
    // Version 2 with its borrowed texts: words, class names and metadata looked up.
    if let Ok(decoded) = format::decode_contents(bytes, &mut model, &mut vocab, &mut hidden) {
        black_box(decoded.words.id(black_box("good")));
        black_box(decoded.class_names.get(black_box(1)));
        black_box(decoded.metadata.get(black_box("lr")));
        let mut ids = [0usize; 8];
        black_box(decoded.words.encode_into(black_box("not good"), &mut ids)).ok();
    }
    black_box((&model, &vocab, &hidden));
}

/// The quantized model: decoding from bytes the optimizer cannot see, then a step, the logits
/// and greedy tokens (whatever the decoded values are: decode may fail and leave zeros).
#[inline(never)]
fn quantized() {
    let mut bytes = [0u8; qformat::encoded_len::<I, H, O>() + 16];
    black_box(&mut bytes);
    let bytes: &[u8] = black_box(&bytes[..]);
    let mut model = QRnn::<I, H, O>::ZERO;
    let mut vocab = CharVocab::<I>::new();
    let mut hidden = [0i16; H];
    black_box(qformat::decode(bytes, &mut model, &mut vocab, &mut hidden)).ok();
    black_box(qformat::read_header(bytes)).ok();
    black_box(qformat::decode_const::<I, H, O>(bytes).map(|m| m.initial_hidden)).ok();
    black_box(qformat::decode_vocab::<I>(bytes)).ok();
    black_box(&mut model);
    let mut hidden = black_box(hidden);
    black_box(model.step(black_box(3), &mut hidden)).ok();
    let mut logits = [0i16; O];
    model.logits(&hidden, &mut logits);
    black_box(&logits);
    // The generator every model shares: greedy, and sampled with temperature and top-k.
    let sampling = black_box(Sampling {
        temperature: 0.7,
        top_k: 3,
    });
    if let Ok(mut generator) = Generator::new(&model, black_box(O), sampling) {
        generator.set_hidden(hidden);
        black_box(generator.prime(black_box(&[1, 2][..]))).ok();
        black_box(generator.greedy_next()).ok();
        let mut rng = DefaultRng::seed_from_u64(black_box(3));
        black_box(generator.generate(&mut rng, black_box(5), |t| {
            black_box(t);
        }))
        .ok();
    }
    let w = black_box([1i8; 40]);
    let x = black_box([2i16; 9]);
    let mut out = [0i32; 5];
    micrornn::kernels::int::matvec_requant(
        black_box(&w[..]),
        black_box(&x[..]),
        &[1, 2, 3],
        &mut out,
    );
    micrornn::kernels::int::scalar::matvec_requant(
        black_box(&w[..]),
        black_box(&x[..]),
        &[1, 2, 3],
        &mut out,
    );
    micrornn::kernels::int::packed::matvec_requant(
        black_box(&w[..]),
        black_box(&x[..]),
        &[1, 2, 3],
        &mut out,
    );
    black_box(micrornn::kernels::int::tanh_q15(black_box(12345)));
    black_box(&out);
}

/// A quantized sensor classifier's logits, and whole-series prediction with both readouts, on
/// values the optimizer cannot see.
#[inline(never)]
fn quantized_classifier<M>(model: &M, hidden: &[i16; H], sample: [f32; 6])
where
    M: micrornn::Infer<6, Hidden = [i16; H], Logits = [i16; 4], RealLogits = [f32; 4]>,
{
    let mut logits = [0i16; 4];
    model.logits(black_box(hidden), &mut logits);
    black_box(&logits);
    let series = black_box([sample; 5]);
    for readout in [micrornn::Readout::Last, micrornn::Readout::Mean] {
        black_box(micrornn::workflows::quantized::predict(
            model,
            Sequence::Dense(black_box(&series[..])),
            black_box(4),
            black_box(readout),
        ))
        .ok();
    }
}

/// The quantized GRU of a sensor classifier (6 channels, 4 classes): its version-3 file decoded
/// from bytes the optimizer cannot see, raw-sample and token steps, the Q12 step over both
/// integer products, logits, and whole-series prediction with both readouts.
#[inline(never)]
fn quantized_gru() {
    type Q = QGru<6, H, 4>;
    let mut bytes = [0u8; 20_000];
    black_box(&mut bytes);
    let bytes: &[u8] = black_box(&bytes[..]);
    let mut model = Q::ZERO;
    let mut hidden = [0i16; H];
    black_box(qformat::decode_contents(
        bytes,
        &mut model,
        &mut CharVocab::<0>::new(),
        &mut hidden,
    ))
    .ok();
    black_box(qformat::decode_gru_const::<6, H, 4>(bytes).map(|m| m.initial_hidden)).ok();
    if let Ok(decoded) = qformat::decode_texts(bytes, &mut CharVocab::<0>::new()) {
        black_box(decoded.class_names.get(black_box(1)));
        black_box(decoded.normalization::<6>());
    }
    black_box(&mut model);
    let mut hidden = black_box(hidden);
    let sample = black_box([0.5f32, -1.0, 9.81, 0.0, f32::NAN, 1e30]);
    black_box(model.step_sample(&sample, &mut hidden)).ok();
    black_box(model.step_token(black_box(2), &mut hidden)).ok();
    let q12 = black_box([100i16, -32768, 32767, 0, 5, 7]);
    black_box(model.step_q12(&q12, &mut hidden)).ok();
    // Eight channels: the fused step's interleaved input sums (a multiple of four).
    static WIDE: QGru<8, H, 4> = QGru::ZERO;
    let wide: &QGru<8, H, 4> = black_box(&WIDE);
    black_box(wide.step_q12(&black_box([-32768i16; 8]), &mut hidden)).ok();
    black_box(wide.step_token(black_box(9), &mut hidden)).ok();
    let products: [micrornn::model::quant::qgru::Matvec; 2] = [
        micrornn::kernels::int::scalar::matvec_requant,
        micrornn::kernels::int::packed::matvec_requant,
    ];
    for product in products {
        black_box(model.step_with(
            micrornn::model::quant::qgru::QInput::Q12(&q12),
            &mut hidden,
            black_box(product),
        ))
        .ok();
    }
    quantized_classifier(&model, &hidden, sample);
    black_box(micrornn::kernels::int::sigmoid_q15(black_box(-12345)));
}

/// The quantized Elman cell of a sensor classifier (6 channels, 4 classes): its version-3 file
/// decoded from bytes the optimizer cannot see (at run time and by `decode_const`), the
/// raw-sample step, the Q12 step over both fused updates, logits, and whole-series prediction
/// with both readouts.
#[inline(never)]
fn quantized_elman_dense() {
    type Q = QRnn<6, H, 4>;
    let mut bytes = [0u8; 8_000];
    black_box(&mut bytes);
    let bytes: &[u8] = black_box(&bytes[..]);
    let mut model = Q::ZERO;
    let mut hidden = [0i16; H];
    black_box(qformat::decode_contents(
        bytes,
        &mut model,
        &mut CharVocab::<0>::new(),
        &mut hidden,
    ))
    .ok();
    black_box(qformat::decode_const::<6, H, 4>(bytes).map(|m| m.qrnn.normalization)).ok();
    black_box(&mut model);
    let mut hidden = black_box(hidden);
    let sample = black_box([0.5f32, -1.0, 9.81, 0.0, f32::NAN, 1e30]);
    black_box(model.step_sample(&sample, &mut hidden)).ok();
    let q12 = black_box([100i16, -32768, 32767, 0, 5, 7]);
    let updates: [micrornn::model::quant::qrnn::ElmanUpdate<H>; 2] = [
        micrornn::kernels::int::elman::scalar,
        micrornn::kernels::int::elman::packed,
    ];
    for update in updates {
        black_box(model.step_q12_with(&q12, &mut hidden, black_box(update))).ok();
    }
    quantized_classifier(&model, &hidden, sample);
}

/// The many-to-one classifier (train one example, predict) and the language-model loss.
#[inline(never)]
fn classification() {
    let mut model = Model::ZERO;
    let (mut grads, mut tape, mut adagrad) =
        (Model::ZERO, Tape::<T, H, O>::ZERO, Adagrad::new(0.1));
    black_box(&mut model);
    let mut ids = [0usize; 40];
    black_box(&mut ids);
    let ids: &[usize] = black_box(&ids[..]);
    let example = Example::tokens(ids, black_box(1));
    let config = black_box(ClassifierConfig {
        classes: 2,
        clip: Clip::Value(1.0),
        readout: black_box(micrornn::Readout::Last),
    });
    if let Ok(mut classifier) =
        Classifier::new(&mut model, &mut grads, &mut tape, &mut adagrad, config)
    {
        black_box(classifier.train_example(&example)).ok();
        black_box(classifier.predict(example.inputs)).ok();
    }
    black_box(classify::predict(
        &model,
        Sequence::Tokens(ids),
        black_box(2),
        black_box(micrornn::Readout::Mean),
    ))
    .ok();
    black_box(eval::cross_entropy(
        &model,
        ids,
        black_box(O),
        black_box(Some(25)),
    ))
    .ok();
}

/// The character vocabulary: build, encode, decode.
#[inline(never)]
fn vocabulary() {
    let text: &str = black_box("hello world");
    if let Ok(vocab) = CharVocab::<16>::from_text(text) {
        let mut ids = [0usize; 32];
        black_box(vocab.encode_into(black_box("hello"), &mut ids)).ok();
        black_box(vocab.decode(black_box(3)));
        black_box(vocab.encode(black_box('o'))).ok();
    }
}

/// A mini-batch of the many-to-one classifier (`classify_batch::train_batch`): a token sequence
/// and two dense series of any lengths, on shards of one sequence each or as the streams of a
/// `BatchTape` (masking, both readouts).
#[inline(never)]
fn batched_classification<Shard>(shards: &mut [Shard])
where
    Shard: ClassifierShard<4, 8, 3>,
    Adam<Shard::Cell>: Optimizer<Shard::Cell>,
{
    let mut model = <Shard::Cell as micrornn::Params>::ZERO;
    let mut adam = Adam::new(0.01);
    black_box(&mut model);
    black_box(&mut *shards);
    let mut samples = [[0.0f32; 4]; 12];
    let mut ids = [0usize; 12];
    black_box(&mut samples);
    black_box(&mut ids);
    let series: [&[[f32; 4]]; 2] = black_box([&samples[..], &samples[..]]);
    let tokens: &[usize] = black_box(&ids[..]);
    let examples = [
        Example::tokens(tokens, black_box(1)),
        Example::dense(series[0], black_box(0)),
        Example::dense(series[1], black_box(2)),
    ];
    let config = black_box(ClassifierConfig {
        classes: black_box(3),
        clip: Clip::Norm(5.0),
        readout: black_box(micrornn::Readout::Mean),
    });
    let batch: &[Example<'_, 4>] = black_box(&examples[..]);
    black_box(train_batch(
        &mut model,
        &mut adam,
        shards,
        batch,
        config,
        &Sequential,
    ))
    .ok();
}

#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    let mut model = Model::ZERO;
    black_box(&mut model);
    inference(&model);
    sampling(&model);
    batched_classification(&mut [const { SeriesShard::<4, 8, 3, 12, Rnn<4, 8, 3>>::ZERO }; 3]);
    batched_classification(&mut [const { StreamShard::<4, 8, 3, 2, 12, Rnn<4, 8, 3>>::ZERO }; 2]);
    batched_classification(&mut [const { StreamShard::<4, 8, 3, 2, 12, Gru<4, 8, 3>>::ZERO }; 2]);
    train::<Model, _>(&mut black_box(Sgd { lr: 0.1 }));
    train::<Model, _>(&mut black_box(Momentum::new(0.1, 0.9)));
    train::<Model, _>(&mut black_box(Adagrad::new(0.1)));
    train::<Model, _>(&mut black_box(Adam::new(0.01)));
    train::<Gru<I, H, O>, _>(&mut black_box(Sgd { lr: 0.1 }));
    train::<Gru<I, H, O>, _>(&mut black_box(Adagrad::new(0.1)));
    train::<Gru<I, H, O>, _>(&mut black_box(Adam::new(0.01)));
    gru();
    vocabulary();
    decoding();
    quantized();
    quantized_gru();
    quantized_elman_dense();
    classification();
    #[cfg(feature = "demo-panic")]
    {
        let values = black_box([1u8; 4]);
        black_box(values[black_box(7usize)]); // may panic: the link must fail
    }
    #[allow(clippy::empty_loop)]
    loop {}
}
