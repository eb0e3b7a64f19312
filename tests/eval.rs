//! `eval::cross_entropy_from`: scoring a sequence from a given hidden state.

use micrornn::eval::{cross_entropy, cross_entropy_from};
use micrornn::{Input, Rnn};
use rand_xoshiro::Xoshiro128PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

fn model() -> Rnn<7, 12, 7> {
    let mut model = Rnn::ZERO;
    model.init_gaussian(&mut Xoshiro128PlusPlus::seed_from_u64(5), 0.6);
    model
}

/// `-ln softmax(logits)[target]` in f64, from the model's own step and logits.
fn by_hand(model: &Rnn<7, 12, 7>, hidden: [f32; 12], tokens: &[usize]) -> f64 {
    let mut hidden = hidden;
    let mut logits = [0.0f32; 7];
    let mut total = 0.0;
    for pair in tokens.windows(2) {
        model.step(Input::Token(pair[0]), &mut hidden).unwrap();
        model.logits(&hidden, &mut logits);
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = logits.iter().map(|&z| f64::from(z - max).exp()).sum();
        total += f64::from(max) + sum.ln() - f64::from(logits[pair[1]]);
    }
    total
}

#[test]
fn scoring_from_a_state_is_stepping_from_that_state() {
    let model = model();
    let tokens = [3, 1, 4, 1, 5, 0, 2, 6, 5, 3, 5];
    let start = [
        0.3f32, -0.9, 0.5, 0.0, 0.99, -0.2, 0.1, 0.7, -0.6, 0.4, -0.95, 0.25,
    ];

    let from_start = cross_entropy_from(&model, &start, &tokens, 7, None).unwrap();
    assert_eq!(from_start.count, tokens.len() - 1);
    let want = by_hand(&model, start, &tokens);
    assert!(
        (from_start.total - want).abs() < 1e-4 * want,
        "{from_start:?} vs {want}"
    );

    // From zeros it is `cross_entropy`, and a different start gives a different loss.
    let from_zero = cross_entropy_from(&model, &[0.0; 12], &tokens, 7, None).unwrap();
    assert_eq!(from_zero, cross_entropy(&model, &tokens, 7, None).unwrap());
    assert!((from_zero.total - from_start.total).abs() > 1e-3);

    // A reset at every token returns to zero, whatever the start.
    assert_eq!(
        cross_entropy_from(&model, &start, &tokens, 7, Some(1)).unwrap(),
        cross_entropy(&model, &tokens, 7, Some(1)).unwrap()
    );
}
