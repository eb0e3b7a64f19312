//! Greedy text of a deployed model, as the firmware examples generate it, for the
//! `firmware_deploy*` tests: one helper over [`Infer`] for the f32 and int8 cells. A test
//! includes it with `#[path = "common/greedy.rs"] mod greedy;`.

use micrornn::{CharVocab, Generator, Infer, Sampling};

/// Greedy text of `len` characters starting with `first`, from `start` (the state the model
/// file stores: zeros when it stores none), through the crate's one [`Generator`].
pub fn greedy<M: Infer<32>>(
    model: &M,
    vocab: &CharVocab<32>,
    classes: usize,
    start: M::Hidden,
    first: char,
    len: usize,
) -> String {
    let mut generator = Generator::new(model, classes, Sampling::GREEDY).expect("classes");
    generator.set_hidden(start);
    let mut text = String::from(first);
    generator
        .feed(vocab.encode(first).expect("first char in vocabulary"))
        .expect("feed");
    for _ in 1..len {
        text.extend(vocab.decode(generator.greedy_next().expect("generate")));
    }
    text
}
