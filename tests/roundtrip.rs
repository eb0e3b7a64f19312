//! Property tests: encode → decode → equal, for the model format (several shapes, any `f32` bit
//! pattern, random vocabularies and class counts), the checkpoint (every optimizer, random
//! settings, state and memory) and both vocabularies.
//!
//! Floats are compared by their bits, so NaN payloads, negative zero and subnormals must survive.

use micrornn::host::checkpoint::{self, Settings};
use micrornn::host::optimizer::{AnyOptimizer, OptimizerKind};
use micrornn::host::words::WordVocab;
use micrornn::{CharVocab, DefaultRng, Rnn, TrainState, format};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// Any `f32`, weighted towards the awkward ones: subnormals, signed zeros, infinities, NaNs.
fn any_weight() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => any::<u32>().prop_map(f32::from_bits),
        1 => (0u32..0x0080_0000, any::<bool>())
            .prop_map(|(m, neg)| f32::from_bits(m | if neg { 0x8000_0000 } else { 0 })),
        1 => Just(-0.0f32),
        1 => prop::sample::select(vec![f32::INFINITY, f32::NEG_INFINITY, f32::NAN, f32::MIN_POSITIVE]),
        2 => -10.0f32..10.0,
    ]
}

/// Any finite `f32` bit pattern (subnormals and `-0` included): a model file refuses non-finite
/// parameters (`a_non_finite_parameter_is_refused`).
fn any_finite_weight() -> impl Strategy<Value = f32> {
    any_weight().prop_filter("finite", |w| w.is_finite())
}

/// A model of shape `<I, H, O>` with weights from [`any_finite_weight`].
fn any_model<const I: usize, const H: usize, const O: usize>()
-> impl Strategy<Value = Box<Rnn<I, H, O>>> {
    vec(any_finite_weight(), Rnn::<I, H, O>::PARAMETERS).prop_map(|values| {
        let mut rnn = Box::new(Rnn::<I, H, O>::ZERO);
        let mut values = values.into_iter();
        for tensor in rnn.tensors_mut() {
            for (slot, value) in tensor.iter_mut().zip(&mut values) {
                *slot = value;
            }
        }
        rnn
    })
}

/// A vocabulary of up to `max` distinct characters (any Unicode scalar value).
fn any_vocab<const N: usize>(max: usize) -> impl Strategy<Value = CharVocab<N>> {
    btree_set(any::<char>(), 0..=max.min(N)).prop_map(|chars| {
        let mut vocab = CharVocab::<N>::new();
        for c in chars {
            vocab.insert(c).expect("at most N characters");
        }
        vocab
    })
}

/// Every parameter's bits, in [`Rnn::tensors`] order.
fn bits<const I: usize, const H: usize, const O: usize>(rnn: &Rnn<I, H, O>) -> Vec<u32> {
    rnn.tensors()
        .iter()
        .flat_map(|t| t.iter().map(|v| v.to_bits()))
        .collect()
}

/// Encodes a model (version 2: with an initial state and metadata), decodes it into a fresh one
/// and checks that everything came back; then the same through the plain [`format::encode`].
fn model_round_trip<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
    vocab: &CharVocab<I>,
    classes: usize,
    hidden: &[f32; H],
    seed: u64,
) -> Result<(), TestCaseError> {
    let metadata = format!("seed={seed}\nnote=a b=c");
    let contents = format::Contents {
        initial_hidden: Some(hidden),
        metadata: &metadata,
        ..format::Contents::language_model(vocab.chars(), classes)
    };
    let mut bytes = vec![0u8; format::encoded_len::<Rnn<I, H, O>, H>(&contents)];
    let written = format::encode_contents(rnn, &contents, &mut bytes).expect("valid arguments");
    prop_assert_eq!(written, bytes.len());
    let header = format::Header::read(&bytes).expect("own encoding");
    let mut decoded = Box::new(Rnn::<I, H, O>::ZERO);
    let mut decoded_vocab = CharVocab::<I>::new();
    let mut decoded_hidden = [0.0f32; H];
    let read = format::decode_contents(
        &bytes,
        &mut *decoded,
        &mut decoded_vocab,
        &mut decoded_hidden,
    )
    .expect("own encoding");
    prop_assert_eq!(read.header, header);
    prop_assert_eq!((header.inputs, header.hidden, header.outputs), (I, H, O));
    prop_assert_eq!((header.classes, header.vocab_len), (classes, vocab.len()));
    let seed_text = seed.to_string();
    prop_assert_eq!(read.metadata.get("seed"), Some(seed_text.as_str()));
    prop_assert_eq!(read.metadata.get("note"), Some("a b=c"));
    prop_assert_eq!(&decoded_vocab, vocab);
    prop_assert_eq!(bits(&decoded), bits(rnn));
    let hidden_bits = |h: &[f32; H]| h.map(f32::to_bits);
    prop_assert_eq!(hidden_bits(&decoded_hidden), hidden_bits(hidden));
    // And the encoding is a function of the content: re-encoding gives the same bytes.
    let again_contents = format::Contents {
        initial_hidden: Some(&decoded_hidden),
        metadata: &metadata,
        ..format::Contents::language_model(decoded_vocab.chars(), classes)
    };
    let mut again = vec![0u8; bytes.len()];
    format::encode_contents(&*decoded, &again_contents, &mut again).expect("valid arguments");
    prop_assert_eq!(again, bytes);
    // The plain encoding (zero state, no metadata) decodes through `format::decode`.
    let mut plain = vec![0u8; format::max_char_model_len::<I, H, O>(0)];
    let written = format::encode(rnn, vocab, classes, &mut plain).expect("valid arguments");
    let mut decoded = Box::new(Rnn::<I, H, O>::ZERO);
    let mut decoded_vocab = CharVocab::<I>::new();
    let mut state = [1.0f32; H];
    let header = format::decode(
        &plain[..written],
        &mut *decoded,
        &mut decoded_vocab,
        &mut state,
    )
    .expect("own");
    prop_assert_eq!(state, [0.0; H]);
    prop_assert_eq!(header.classes, classes);
    prop_assert_eq!(bits(&decoded), bits(rnn));
    Ok(())
}

/// A model file refuses a non-finite parameter, at encoding.
#[test]
fn a_non_finite_parameter_is_refused() {
    let vocab = CharVocab::<4>::from_text("abcd").expect("4 chars");
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut rnn = Box::new(Rnn::<4, 3, 4>::ZERO);
        rnn.w_hh[1][2] = bad;
        let mut bytes = vec![0u8; format::max_char_model_len::<4, 3, 4>(0)];
        assert!(
            matches!(
                format::encode(&rnn, &vocab, 4, &mut bytes),
                Err(micrornn::Error::InvalidSetting(_))
            ),
            "{bad} accepted"
        );
    }
}

/// One property test per model shape.
macro_rules! model_round_trips {
    ($($name:ident: <$i:literal, $h:literal, $o:literal>,)*) => {$(
        proptest! {
            #![proptest_config(Config::with_cases(64))]
            #[test]
            fn $name(
                rnn in any_model::<$i, $h, $o>(),
                vocab in any_vocab::<$i>($i),
                classes in 1..=$o as usize,
                hidden in vec(-1.0f32..=1.0, $h),
                seed in any::<u64>(),
            ) {
                let hidden: [f32; $h] = hidden.try_into().expect("H values");
                model_round_trip(&rnn, &vocab, classes, &hidden, seed)?;
            }
        }
    )*};
}

model_round_trips! {
    model_1x1x1: <1, 1, 1>,
    model_4x3x4: <4, 3, 4>,
    model_5x7x3: <5, 7, 3>,
    model_16x8x16: <16, 8, 16>,
    model_32x32x32: <32, 32, 32>,
}

/// Checkpoint shape: 8 inputs and outputs, 5 hidden.
const V: usize = 8;
const H: usize = 5;

fn any_kind() -> impl Strategy<Value = OptimizerKind> {
    prop::sample::select(vec![
        OptimizerKind::Sgd,
        OptimizerKind::Adagrad,
        OptimizerKind::Adam,
    ])
}

prop_compose! {
    fn any_settings()(
        seq_len in 1usize..=256,
        optimizer in any_kind(),
        lr in any_weight(),
        clip in any_weight(),
        lr_decay in any_weight(),
        window in prop::option::of(1usize..1000),
        val_fraction in any_weight(),
        seed in any::<u64>(),
        corpus_chars in any::<u64>(),
        corpus_hash in any::<u64>(),
        batch in 1usize..4,
        keep_best in any::<bool>(),
        dropout in prop_oneof![Just(0.0f32), 0.01f32..0.99],
    ) -> Settings {
        Settings {
            hidden: H, vocab_bucket: V, seq_len, optimizer, lr, clip, lr_decay, window,
            val_fraction, seed, corpus_chars, corpus_hash, batch,
            cell: micrornn::model::CellKind::Elman, keep_best, dropout,
        }
    }
}

prop_compose! {
    fn any_state()(
        hidden in vec(any_weight(), H),
        position in any::<u32>(),
        iteration in any::<u64>(),
        epoch in any::<u64>(),
        smooth_loss in any_weight(),
    ) -> TrainState<H> {
        let mut state = TrainState {
            hidden: [0.0; H],
            position: position as usize,
            iteration,
            epoch,
            smooth_loss,
        };
        state.hidden.copy_from_slice(&hidden);
        state
    }
}

proptest! {
    #![proptest_config(Config::with_cases(64))]
    #[test]
    fn checkpoint_round_trip(
        settings in any_settings(),
        state in any_state(),
        rng_seed in any::<u64>(),
        model in any_model::<V, H, V>(),
        vocab in any_vocab::<V>(V),
        classes in 1..=V,
        memory in vec(any_weight(), 1..64),
        steps in any::<u64>(),
    ) {
        use rand_core::SeedableRng;
        let rng = DefaultRng::seed_from_u64(rng_seed);
        let optimizer = checkpoint_optimizer(settings.optimizer, &memory, steps);
        // A batched run's streams: the state, negated for every other stream.
        let streams: Vec<[f32; H]> = (0..settings.batch)
            .map(|b| state.hidden.map(|x| if b % 2 == 1 { -x } else { x }))
            .collect();
        let bytes = checkpoint::encode(
            &settings, &state, &rng, &*model, &vocab, classes, &optimizer, &streams,
        )
        .expect("valid arguments");
        let (read_settings, progress) = checkpoint::read(&bytes).expect("own encoding");
        // Settings hold floats: compare them by their bits (through Debug, which prints NaN as NaN
        // and keeps -0), and the floats themselves by bits.
        prop_assert_eq!(format!("{read_settings:?}"), format!("{settings:?}"));
        for (a, b) in [
            (read_settings.lr, settings.lr),
            (read_settings.clip, settings.clip),
            (read_settings.lr_decay, settings.lr_decay),
            (read_settings.val_fraction, settings.val_fraction),
        ] {
            prop_assert_eq!(a.to_bits(), b.to_bits());
        }
        prop_assert_eq!(progress.rng, rng.state());

        let mut model2 = Box::new(Rnn::<V, H, V>::ZERO);
        let mut vocab2 = CharVocab::<V>::new();
        let mut optimizer2 = AnyOptimizer::<V, H, V>::new(settings.optimizer, 1.0);
        let mut streams2 = Vec::new();
        let (state2, rng2) = checkpoint::restore(
            &bytes, &mut *model2, &mut vocab2, &mut optimizer2, &mut streams2,
        )
        .expect("own encoding");
        let stream_bits = |s: &[[f32; H]]| -> Vec<[u32; H]> {
            s.iter().map(|h| h.map(f32::to_bits)).collect()
        };
        let expected = if settings.batch > 1 { stream_bits(&streams) } else { Vec::new() };
        prop_assert_eq!(stream_bits(&streams2), expected);
        prop_assert_eq!(bits(&model2), bits(&model));
        prop_assert_eq!(&vocab2, &vocab);
        prop_assert_eq!(state2.hidden.map(f32::to_bits), state.hidden.map(f32::to_bits));
        prop_assert_eq!(
            (state2.position, state2.iteration, state2.epoch, state2.smooth_loss.to_bits()),
            (state.position, state.iteration, state.epoch, state.smooth_loss.to_bits())
        );
        prop_assert_eq!(rng2.state(), rng.state());
        prop_assert_eq!(optimizer2.steps(), optimizer.steps());
        let memories = |o: &AnyOptimizer<V, H, V>| -> Vec<Vec<u32>> {
            o.memory().iter().map(|m| bits(m)).collect()
        };
        prop_assert_eq!(memories(&optimizer2), memories(&optimizer));
    }

    #[test]
    fn char_vocab_round_trip(text in any::<String>(), extra in any::<char>()) {
        let vocab = CharVocab::<256>::from_text(&text).expect("at most 256 distinct chars");
        let mut ids = vec![0usize; text.chars().count()];
        prop_assert_eq!(vocab.encode_into(&text, &mut ids), Ok(ids.len()));
        let back: String = ids.iter().map(|&id| vocab.decode(id).expect("an encoded id")).collect();
        prop_assert_eq!(&back, &text);
        prop_assert!(vocab.chars().windows(2).all(|w| w[0] < w[1]));
        prop_assert_eq!(vocab.encode(extra).is_ok(), text.contains(extra));
        // The model format keeps the vocabulary too.
        let rnn = Box::new(Rnn::<256, 1, 256>::ZERO);
        let mut stored = CharVocab::<256>::new();
        let mut bytes = vec![0u8; format::max_char_model_len::<256, 1, 256>(0)];
        format::encode(&rnn, &vocab, vocab.len().max(1), &mut bytes).expect("valid arguments");
        let mut decoded = Box::new(Rnn::<256, 1, 256>::ZERO);
        format::decode(&bytes, &mut *decoded, &mut stored, &mut [0.0; 1]).expect("own encoding");
        prop_assert_eq!(stored, vocab);
    }

    #[test]
    fn word_vocab_round_trip(texts in vec("[a-c<>]{0,4}( [a-c<>]{0,4}){0,5}", 0..6), unknown in any::<bool>()) {
        let mut vocab = WordVocab::from_texts(texts.iter().map(String::as_str));
        if unknown {
            vocab = vocab.with_unknown();
        }
        prop_assert_eq!(WordVocab::from_lines(&vocab.to_lines()), Ok(vocab.clone()));
        for text in &texts {
            let ids = vocab.encode(text).expect("a word of the texts");
            let back: Vec<&str> = ids.iter().map(|&id| vocab.decode(id).expect("an encoded id")).collect();
            prop_assert_eq!(back, text.split_whitespace().collect::<Vec<_>>());
        }
    }
}

/// An optimizer of the checkpoint's shape, `<V, H, V>`, holding `memory` (cycled).
fn checkpoint_optimizer(kind: OptimizerKind, memory: &[f32], steps: u64) -> AnyOptimizer<V, H, V> {
    let mut optimizer = AnyOptimizer::<V, H, V>::new(kind, 0.1);
    let mut values = memory.iter().copied().cycle();
    for slot in optimizer.memory_mut() {
        for tensor in slot.tensors_mut() {
            for v in tensor {
                *v = values.next().unwrap_or(0.0);
            }
        }
    }
    optimizer.set_steps(steps);
    optimizer
}
