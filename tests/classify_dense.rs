//! The classifier on dense inputs: a small synthetic sensor task. Each example is a window of
//! noisy samples of a sine wave of random frequency and phase; the class says whether the wave
//! is rising or falling at the end of the window.

use micrornn::classify::{Classifier, ClassifierConfig, Example, evaluate, predict};
use micrornn::init::unit;
use micrornn::{Adam, Clip, DefaultRng, Rnn, Sequence, Tape};
use rand_core::SeedableRng;
use std::f32::consts::PI;

/// Samples per window.
const WINDOW: usize = 12;
/// Sensor channels per sample.
const CHANNELS: usize = 1;
const FALLING: usize = 0;
const RISING: usize = 1;

/// `count` windows with their labels. Windows whose end is too close to a peak or trough
/// (where noise would make the label a coin toss) are not drawn.
fn windows(rng: &mut DefaultRng, count: usize) -> Vec<([[f32; CHANNELS]; WINDOW], usize)> {
    let mut data = Vec::with_capacity(count);
    while data.len() < count {
        let omega = 0.2 + 0.6 * unit(rng); // radians per sample
        let phase = 2.0 * PI * unit(rng);
        let amplitude = 0.5 + unit(rng);
        let slope_at_end = (omega * (WINDOW - 1) as f32 + phase).cos();
        if slope_at_end.abs() < 0.2 {
            continue;
        }
        let mut window = [[0.0; CHANNELS]; WINDOW];
        for (t, sample) in window.iter_mut().enumerate() {
            let noise = 0.05 * (unit(rng) - 0.5);
            sample[0] = amplitude * (omega * t as f32 + phase).sin() + noise;
        }
        let label = if slope_at_end > 0.0 { RISING } else { FALLING };
        data.push((window, label));
    }
    data
}

#[test]
fn dense_classifier_tells_rising_from_falling_sine_windows() {
    let mut rng = DefaultRng::seed_from_u64(11);
    let train_windows = windows(&mut rng, 400);
    let test_windows = windows(&mut rng, 200);
    let mut train: Vec<Example<CHANNELS>> = train_windows
        .iter()
        .map(|(w, label)| Example::dense(w, *label))
        .collect();
    let test: Vec<Example<CHANNELS>> = test_windows
        .iter()
        .map(|(w, label)| Example::dense(w, *label))
        .collect();
    let rising = test.iter().filter(|e| e.label == RISING).count();
    assert!(
        (60..=140).contains(&rising),
        "unbalanced test set: {rising} rising"
    );

    let mut model = Rnn::<CHANNELS, 16, 2>::ZERO;
    model.init_uniform(&mut rng);
    let before = evaluate(&model, &test, 2, micrornn::Readout::Last).unwrap();
    let (mut grads, mut tape, mut adam) =
        (Rnn::ZERO, Tape::<WINDOW, 16, 2>::ZERO, Adam::new(0.003));
    let config = ClassifierConfig {
        classes: 2,
        clip: Clip::Norm(5.0),
        readout: micrornn::Readout::Last,
    };
    let mut classifier =
        Classifier::new(&mut model, &mut grads, &mut tape, &mut adam, config).unwrap();
    let mut history = Vec::new();
    for _ in 0..40 {
        let train_metrics = classifier.fit_epoch(&mut train, &mut rng).unwrap();
        history.push((
            train_metrics.accuracy(),
            classifier.evaluate(&test).unwrap().accuracy(),
        ));
    }
    let after = classifier.evaluate(&test).unwrap();
    assert!(
        after.accuracy() >= 0.95,
        "test accuracy {} (before training {}); (train, test) accuracy per epoch: {history:?}",
        after.accuracy(),
        before.accuracy()
    );
    assert!(after.loss() < before.loss());

    // The trained model answers one window at a time, from the model alone, and agrees with
    // the evaluation.
    let mut correct = 0;
    for (window, label) in &test_windows {
        let prediction =
            predict(&model, Sequence::Dense(window), 2, micrornn::Readout::Last).unwrap();
        assert!((prediction.probs.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        correct += usize::from(prediction.class == *label);
    }
    assert_eq!(correct, after.correct);
}
