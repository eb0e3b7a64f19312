//! The GRU trains through the same workflows as the Elman cell: the language-model `Trainer`
//! with every optimizer, the many-to-one `Classifier`, a model padded to a larger vocabulary
//! bucket (bit for bit the unpadded model's run), and the same run twice (bit for bit).

use micrornn::classify::{Classifier, ClassifierConfig, Example};
use micrornn::model::Gru;
use micrornn::model::cell::Params;
use micrornn::{
    Adagrad, Adam, Cell, Clip, DefaultRng, Generator, Input, Momentum, Optimizer, Sampling,
    Sequence, Sgd, Tape, TrainConfig, Trainer,
};
use rand_xoshiro::rand_core::{Rng, SeedableRng};

const V: usize = 7;
const H: usize = 20;

/// "abcdefg" repeated: every character predicts the next one.
fn corpus() -> Vec<usize> {
    (0..200).map(|i| i % V).collect()
}

fn fresh_model<const O: usize>(seed: u64) -> Gru<O, H, O> {
    let mut model = Gru::<O, H, O>::ZERO;
    model.init_uniform(&mut DefaultRng::seed_from_u64(seed));
    model
}

/// Trains `chunks` chunks of 10 and returns the model and the first and last chunk losses.
fn train<const O: usize, P: Optimizer<Gru<O, H, O>>>(
    mut optimizer: P,
    chunks: usize,
    clip: Clip,
) -> (Gru<O, H, O>, f32, f32) {
    let mut model = fresh_model::<O>(7);
    // The padded model starts as the small one in its live rows.
    let small = fresh_model::<V>(7);
    for index in 0..Gru::<O, H, O>::TENSORS.len() {
        let live = micrornn::Live {
            inputs: V,
            outputs: V,
        };
        let (dst, src) = (model.live_tensor_mut(index, live), small.tensor(index));
        dst.copy_from_slice(src);
    }
    let (mut grads, mut tape) = (Gru::ZERO, Tape::<10, H, O, _>::ZERO);
    let config = TrainConfig {
        seq_len: 10,
        clip,
        window: None,
        carry_hidden: true,
        classes: V,
    };
    let data = corpus();
    let mut trainer =
        Trainer::new(&mut model, &mut grads, &mut tape, &mut optimizer, config).expect("settings");
    let first = trainer.train_chunk(&data).expect("chunk").loss;
    let mut last = first;
    for _ in 1..chunks {
        last = trainer.train_chunk(&data).expect("chunk").loss;
    }
    (model, first, last)
}

#[test]
fn every_optimizer_trains_a_gru_language_model() {
    let runs: [(&str, (Gru<V, H, V>, f32, f32)); 4] = [
        ("sgd", train(Sgd { lr: 0.3 }, 300, Clip::Value(5.0))),
        (
            "momentum",
            train(Momentum::new(0.1, 0.9), 300, Clip::Norm(5.0)),
        ),
        ("adagrad", train(Adagrad::new(0.1), 300, Clip::Value(5.0))),
        ("adam", train(Adam::new(0.01), 300, Clip::None)),
    ];
    for (name, (model, first, last)) in runs {
        println!("{name}: chunk loss {first:.3} -> {last:.3}");
        assert!(
            last < first / 20.0,
            "{name}: loss {first} -> {last}, the GRU did not learn a cyclic text"
        );
        // The shared generator writes the cycle back greedily from the GRU.
        let mut generator = Generator::new(&model, V, Sampling::GREEDY).expect("generator");
        generator.feed(3).expect("feed");
        let mut text = vec![3];
        let mut rng = DefaultRng::seed_from_u64(0);
        generator
            .generate(&mut rng, 13, |id| text.push(id))
            .expect("generate");
        let cycle: Vec<usize> = (3..17).map(|i| i % V).collect();
        assert_eq!(text, cycle, "{name}: greedy text");
    }
}

#[test]
fn a_padded_gru_trains_bit_identically_to_the_unpadded_one() {
    const P: usize = 16;
    let (small, ..) = train::<V, _>(Adam::new(0.01), 40, Clip::Value(5.0));
    let (big, ..) = train::<P, _>(Adam::new(0.01), 40, Clip::Value(5.0));
    let live = micrornn::Live {
        inputs: V,
        outputs: V,
    };
    for (index, spec) in Gru::<V, H, V>::TENSORS.iter().enumerate() {
        let bits = |x: &[f32]| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(big.live_tensor(index, live)),
            bits(small.tensor(index)),
            "{}: live rows differ",
            spec.name
        );
        // The padded rows stay as initialized.
        let fresh = fresh_model::<P>(7);
        let (tail, fresh_tail) = (
            &big.tensor(index)[big.live_tensor(index, live).len()..],
            &fresh.tensor(index)[fresh.live_tensor(index, live).len()..],
        );
        assert_eq!(
            bits(tail),
            bits(fresh_tail),
            "{}: padding changed",
            spec.name
        );
    }
}

#[test]
fn the_same_run_twice_is_bit_identical() {
    let (a, ..) = train::<V, _>(Adagrad::new(0.1), 30, Clip::Value(5.0));
    let (b, ..) = train::<V, _>(Adagrad::new(0.1), 30, Clip::Value(5.0));
    assert_eq!(a, b);
    let (c, ..) = train::<V, _>(Adagrad::new(0.05), 30, Clip::Value(5.0));
    assert_ne!(a, c, "the comparison can fail");
}

/// A many-to-one task that needs memory: the label is the first token of a 24-step sequence
/// whose other tokens are noise. The GRU's update gate can hold it; the classifier workflow is
/// the Elman cell's, unchanged.
#[test]
fn a_gru_classifier_remembers_the_first_token_of_a_long_sequence() {
    const LEN: usize = 24;
    let mut rng = DefaultRng::seed_from_u64(3);
    let sequences: Vec<Vec<usize>> = (0..160)
        .map(|i| {
            let mut s: Vec<usize> = (0..LEN)
                .map(|_| 2 + (rng.next_u32() % 2) as usize)
                .collect();
            s[0] = i % 2;
            s
        })
        .collect();
    let (train_seqs, test_seqs) = sequences.split_at(128);
    let mut train: Vec<Example<'_, 4>> = train_seqs
        .iter()
        .map(|s| Example::tokens(s, s[0]))
        .collect();
    let test: Vec<Example<'_, 4>> = test_seqs.iter().map(|s| Example::tokens(s, s[0])).collect();
    let mut model = Gru::<4, 16, 2>::ZERO;
    model.init_uniform(&mut rng);
    let (mut grads, mut tape) = (Gru::ZERO, Tape::<LEN, 16, 2, _>::ZERO);
    let mut adam = Adam::new(0.01);
    let config = ClassifierConfig {
        classes: 2,
        clip: Clip::Norm(1.0),
        readout: micrornn::Readout::Last,
    };
    let mut classifier =
        Classifier::new(&mut model, &mut grads, &mut tape, &mut adam, config).expect("settings");
    classifier.fit(&mut train, &mut rng, 30).expect("training");
    let accuracy = classifier.evaluate(&test).expect("evaluation").accuracy();
    println!("GRU test accuracy on the first-token task: {accuracy}");
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
    // Inference from the trained model alone, with the cell's own step.
    let mut hidden = [0.0f32; 16];
    for &id in &test_seqs[0] {
        model.step(Input::Token(id), &mut hidden).expect("step");
    }
    let mut logits = [0.0f32; 2];
    model.logits(&hidden, &mut logits);
    let predicted = usize::from(logits[1] > logits[0]);
    let expected = micrornn::classify::predict(
        &model,
        Sequence::Tokens(&test_seqs[0]),
        2,
        micrornn::Readout::Last,
    )
    .expect("predict")
    .class;
    assert_eq!(predicted, expected);
}
