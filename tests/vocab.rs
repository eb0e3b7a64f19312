//! `CharVocab`: Unicode characters, sorted ids, capacity and unknown-character errors.

use micrornn::{CharVocab, Error};

#[test]
fn a_multi_byte_char_is_one_symbol() {
    let text = "a—b — a";
    assert_eq!(text.len(), 11, "'—' is 3 bytes in UTF-8");
    let vocab = CharVocab::<8>::from_text(text).unwrap();
    assert_eq!(vocab.chars(), &[' ', 'a', 'b', '—']);
    assert_eq!(vocab.encode('—'), Ok(3));
    let mut ids = [usize::MAX; 16];
    let n = vocab.encode_into(text, &mut ids).unwrap();
    assert_eq!(n, 7, "one id per char, not per byte");
    assert_eq!(&ids[..n], &[1, 3, 2, 0, 3, 0, 1]);
    let decoded: String = ids[..n]
        .iter()
        .map(|&id| vocab.decode(id).unwrap())
        .collect();
    assert_eq!(decoded, text);
}

#[test]
fn ids_are_sorted_and_independent_of_text_order() {
    let a = CharVocab::<16>::from_text("hello, world").unwrap();
    let b = CharVocab::<16>::from_text("dlrow ,olleh").unwrap();
    assert_eq!(a, b);
    assert!(a.chars().windows(2).all(|w| w[0] < w[1]), "{:?}", a.chars());
    for (id, &c) in a.chars().iter().enumerate() {
        assert_eq!(a.encode(c), Ok(id));
        assert_eq!(a.decode(id), Some(c));
    }
    assert_eq!(a.decode(a.len()), None);
    assert_eq!(a.decode(usize::MAX), None);
    // Growing a vocabulary keeps it sorted and returns the new char's id.
    let mut v = CharVocab::<4>::new();
    assert!(v.is_empty());
    assert_eq!(v.insert('m'), Ok(0));
    assert_eq!(v.insert('c'), Ok(0));
    assert_eq!(v.insert('x'), Ok(2));
    assert_eq!(v.insert('m'), Ok(1));
    assert_eq!(v.chars(), &['c', 'm', 'x']);
}

#[test]
fn more_chars_than_capacity_is_an_error() {
    assert_eq!(
        CharVocab::<3>::from_text("abcd"),
        Err(Error::VocabularyFull { capacity: 3 })
    );
    let mut full = CharVocab::<3>::from_text("cabbac").unwrap();
    assert_eq!(full.len(), 3);
    // A known char is fine when full; a new one is refused and changes nothing.
    assert_eq!(full.insert('b'), Ok(1));
    assert_eq!(full.insert('—'), Err(Error::VocabularyFull { capacity: 3 }));
    assert_eq!(full.chars(), &['a', 'b', 'c']);
    assert!(CharVocab::<0>::from_text("").unwrap().is_empty());
    assert!(CharVocab::<0>::from_text("a").is_err());
}

#[test]
fn unknown_chars_and_short_buffers_are_errors() {
    let vocab = CharVocab::<8>::from_text("abc").unwrap();
    assert_eq!(vocab.encode('d'), Err(Error::UnknownChar('d')));
    assert_eq!(vocab.encode('—'), Err(Error::UnknownChar('—')));
    let mut ids = [0usize; 8];
    assert_eq!(
        vocab.encode_into("ab—c", &mut ids),
        Err(Error::UnknownChar('—'))
    );
    assert!(matches!(
        vocab.encode_into("abcabc", &mut ids[..5]),
        Err(Error::BadLength { .. })
    ));
    assert_eq!(vocab.encode_into("", &mut ids), Ok(0));
}

#[test]
fn errors_display_and_are_std_errors() {
    let errors = [
        Error::UnknownChar('—'),
        Error::VocabularyFull { capacity: 3 },
        Error::TokenOutOfRange { token: 9, limit: 4 },
        Error::NonFiniteLoss,
    ];
    for e in errors {
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert!(!boxed.to_string().is_empty());
    }
    assert!(Error::UnknownChar('—').to_string().contains('—'));
}
