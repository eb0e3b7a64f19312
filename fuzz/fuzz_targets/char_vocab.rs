//! Character vocabularies: `CharVocab::from_text`, `insert`, `encode`, `encode_into` and
//! `decode` on arbitrary (lossily decoded UTF-8) text, at three capacities.
//!
//! Checks: no panic; a vocabulary is sorted and distinct and holds exactly the text's characters;
//! `encode_into` then `decode` gives the text back; a too-short id buffer and a foreign
//! character are errors.
#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn::{CharVocab, Error};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check::<1>(&text);
    check::<8>(&text);
    check::<256>(&text);
});

fn check<const N: usize>(text: &str) {
    let mut distinct: Vec<char> = text.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    let vocab = match CharVocab::<N>::from_text(text) {
        Ok(vocab) => vocab,
        Err(e) => {
            assert_eq!(e, Error::VocabularyFull { capacity: N });
            assert!(distinct.len() > N);
            return;
        }
    };
    assert_eq!(vocab.chars(), distinct.as_slice());
    assert_eq!(vocab.len(), distinct.len());

    let count = text.chars().count();
    let mut ids = vec![usize::MAX; count + 1];
    assert_eq!(vocab.encode_into(text, &mut ids), Ok(count));
    assert_eq!(ids[count], usize::MAX, "wrote past the text");
    let back: String = ids[..count]
        .iter()
        .map(|&id| vocab.decode(id).expect("an id encode gave"))
        .collect();
    assert_eq!(back, text);
    assert_eq!(vocab.decode(vocab.len()), None);
    if count > 0 {
        assert_eq!(
            vocab.encode_into(text, &mut ids[..count - 1]),
            Err(Error::BadLength {
                len: count,
                capacity: count - 1
            })
        );
    }
    // A character the text does not hold is unknown, and inserting it keeps the order.
    if let Some(foreign) = ['\0', 'a', '\u{10FFFF}', '—']
        .into_iter()
        .find(|c| !distinct.contains(c))
    {
        assert_eq!(vocab.encode(foreign), Err(Error::UnknownChar(foreign)));
        let mut grown = vocab.clone();
        match grown.insert(foreign) {
            Ok(id) => {
                assert_eq!(grown.decode(id), Some(foreign));
                assert!(grown.chars().windows(2).all(|w| w[0] < w[1]));
                assert_eq!(grown.len(), vocab.len() + 1);
            }
            Err(e) => {
                assert_eq!(e, Error::VocabularyFull { capacity: N });
                assert_eq!(grown, vocab);
            }
        }
    }
}
