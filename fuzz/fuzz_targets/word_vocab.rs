//! Word vocabularies: `WordVocab::from_texts`, `with_unknown`, `encode`, `decode`, `to_lines` and
//! `from_lines` on arbitrary text.
//!
//! Checks: no panic; the words are sorted, distinct and free of whitespace; every word of the
//! texts encodes and decodes back; the stored form reads back equal; `from_lines` on the raw
//! input either refuses it or gives a vocabulary that stores and reads back equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn::host::words::WordVocab;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let texts: Vec<&str> = text.split('\n').collect();
    let vocab = WordVocab::from_texts(texts.iter().copied());
    check(&vocab, &texts);
    let with_unknown = vocab.clone().with_unknown();
    check(&with_unknown, &texts);
    assert!(with_unknown.id(WordVocab::UNKNOWN).is_some());
    assert_eq!(
        with_unknown.encode("\u{1}never\u{2}").map(|ids| ids.len()),
        Ok(1)
    );

    if let Ok(read) = WordVocab::from_lines(&text) {
        assert_eq!(WordVocab::from_lines(&read.to_lines()), Ok(read.clone()));
        assert!(read.words().windows(2).all(|w| w[0] < w[1]));
    }
});

fn check(vocab: &WordVocab, texts: &[&str]) {
    assert!(vocab.words().windows(2).all(|w| w[0] < w[1]));
    assert!(
        vocab
            .words()
            .iter()
            .all(|w| !w.is_empty() && !w.contains(char::is_whitespace))
    );
    for text in texts {
        let ids = vocab.encode(text).expect("a word of the texts is known");
        let back: Vec<&str> = ids
            .iter()
            .map(|&id| vocab.decode(id).expect("a known id"))
            .collect();
        let words: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(back, words);
    }
    assert_eq!(WordVocab::from_lines(&vocab.to_lines()), Ok(vocab.clone()));
}
