//! Every bad file is a clean error that writes nothing; good ones round-trip in both versions.

use super::*;
use rand_core::SeedableRng;

type Model = Rnn<6, 5, 6>;

/// A char language model with a warm state and metadata, as the trainer writes it.
fn sample() -> (Model, CharVocab<8>, [f32; 5], Vec<u8>) {
    let mut rnn = Model::ZERO;
    rnn.init_gaussian(&mut crate::DefaultRng::seed_from_u64(3), 0.5);
    rnn.b_h[2] = -1.25;
    rnn.b_y[5] = 7.0;
    let vocab = CharVocab::<8>::from_text("ab—\n").unwrap();
    let hidden = [0.5, -0.25, 1.0, -1.0, 0.0];
    let contents = Contents {
        initial_hidden: Some(&hidden),
        metadata: "lr=0.1\nseed=3",
        ..Contents::language_model(vocab.chars(), 4)
    };
    let mut bytes = vec![0u8; encoded_len::<Rnn<6, 5, 6>, _>(&contents)];
    assert_eq!(
        encode_contents(&rnn, &contents, &mut bytes),
        Ok(bytes.len())
    );
    (rnn, vocab, hidden, bytes)
}

/// A word classifier with two named classes.
fn classifier() -> (Model, Vec<u8>) {
    let mut rnn = Model::ZERO;
    rnn.init_gaussian(&mut crate::DefaultRng::seed_from_u64(4), 0.5);
    let contents = Contents::<5>::classifier(&["bad", "good", "not"], &["negative", "positive"]);
    let mut bytes = vec![0u8; encoded_len::<Rnn<6, 5, 6>, _>(&contents)];
    encode_contents(&rnn, &contents, &mut bytes).unwrap();
    (rnn, bytes)
}

/// The version-1 layout, as the first format wrote it (`v1` module docs).
fn encode_v1(rnn: &Model, vocab: &CharVocab<8>, classes: usize) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"MRNN\x01\x00\x00\x00");
    for size in [6, 5, 6, classes, vocab.len()] {
        out.extend_from_slice(&(size as u32).to_le_bytes());
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    for slot in 0..6 {
        let c = vocab.chars().get(slot).map_or(0, |&c| u32::from(c));
        out.extend_from_slice(&c.to_le_bytes());
    }
    for tensor in rnn.tensors() {
        tensor
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
    }
    let crc = crc32(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// What a decode into fresh (sentinel-filled) buffers gives, and whether they were left alone
/// on error.
fn try_decode(bytes: &[u8]) -> Result<(Model, CharVocab<8>, [f32; 5]), Error> {
    let mut rnn = Model::ZERO;
    rnn.b_h = [3.0; 5];
    let mut vocab = CharVocab::from_text("z").unwrap();
    let mut hidden = [9.0f32; 5];
    match decode_contents(bytes, &mut rnn, &mut vocab, &mut hidden) {
        Ok(_) => Ok((rnn, vocab, hidden)),
        Err(e) => {
            assert_eq!(rnn.b_h, [3.0; 5], "a failed decode wrote the model ({e:?})");
            assert_eq!(rnn.w_xh, Model::ZERO.w_xh);
            assert_eq!(
                vocab.chars(),
                &['z'],
                "a failed decode wrote the vocabulary"
            );
            assert_eq!(hidden, [9.0; 5], "a failed decode wrote the state");
            Err(e)
        }
    }
}

/// Rewrites both checksums after a deliberate edit, to reach the checks behind them.
fn reseal(bytes: &mut [u8]) {
    let header_len = if bytes[4] == 1 { 32 } else { HEADER_LEN };
    let header_crc = crc32(&bytes[..header_len - 4]);
    bytes[header_len - 4..header_len].copy_from_slice(&header_crc.to_le_bytes());
    let end = bytes.len() - 4;
    let crc = crc32(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
}

/// `bytes` with `edit` applied and the checksums made right again.
fn edited(bytes: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    edit(&mut bytes);
    reseal(&mut bytes);
    bytes
}

#[test]
fn crc32_matches_the_standard_check_value() {
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc32(b""), 0);
    assert_eq!(crc32_update(crc32(b"1234"), b"56789"), 0xCBF4_3926);
}

#[test]
fn round_trip_keeps_state_vocabulary_and_metadata() {
    let (rnn, vocab, hidden, bytes) = sample();
    let (decoded_rnn, decoded_vocab, decoded_hidden) = try_decode(&bytes).unwrap();
    assert_eq!(
        (decoded_rnn, decoded_vocab, decoded_hidden),
        (rnn, vocab, hidden)
    );
    let header = Header::read(&bytes).unwrap();
    assert_eq!(
        (
            header.version,
            header.task,
            header.vocab_kind,
            header.classes
        ),
        (2, Task::LanguageModel, VocabKind::Chars, 4)
    );
    let (mut r, mut v, mut h) = (Model::ZERO, CharVocab::<8>::new(), [0.0; 5]);
    let decoded = decode_contents(&bytes, &mut r, &mut v, &mut h).unwrap();
    assert_eq!(decoded.metadata.get("lr"), Some("0.1"));
    assert!(decoded.words.is_empty() && decoded.class_names.is_empty());
}

#[test]
fn layout_is_as_documented() {
    let (rnn, _, hidden, bytes) = sample();
    assert_eq!(&bytes[..4], b"MRNN");
    assert_eq!(&bytes[4..8], &[2, 0, 0, 0]);
    assert_eq!(&bytes[8..12], &[6, 0, 0, 0]);
    assert_eq!(&bytes[20..24], &[4, 0, 0, 0]);
    assert_eq!(&bytes[24..28], &[4, 0, 0, 0]);
    assert_eq!(&bytes[28..32], &[0, 0, 0, 0]);
    // '\n', 'a', 'b' are one byte each, '—' three; no class names; 13 bytes of metadata.
    assert_eq!(&bytes[32..44], &[6, 0, 0, 0, 0, 0, 0, 0, 13, 0, 0, 0]);
    assert_eq!(&bytes[48..52], &hidden[0].to_le_bytes());
    let first_weight = HEADER_LEN + 4 * 5;
    assert_eq!(
        &bytes[first_weight..first_weight + 4],
        &rnn.w_xh[0][0].to_le_bytes()
    );
    let texts = first_weight + 4 * Model::PARAMETERS;
    assert_eq!(&bytes[texts - 4..texts], &7.0f32.to_le_bytes());
    assert_eq!(&bytes[texts..texts + 6], "\nab—".as_bytes());
    assert_eq!(&bytes[texts + 6..texts + 19], b"lr=0.1\nseed=3");
    assert_eq!(bytes.len(), texts + 19 + 4);
}

#[test]
fn a_classifier_file_holds_its_words_and_class_names() {
    let (rnn, bytes) = classifier();
    let (mut r, mut chars, mut h) = (
        Model::ZERO,
        CharVocab::<8>::from_text("x").unwrap(),
        [1.0; 5],
    );
    let decoded = decode_contents(&bytes, &mut r, &mut chars, &mut h).unwrap();
    assert_eq!(r, rnn);
    assert!(chars.is_empty());
    assert_eq!(h, [0.0; 5]);
    assert_eq!(
        (decoded.header.task, decoded.header.vocab_kind),
        (Task::Classifier, VocabKind::Words)
    );
    assert_eq!(
        decoded.words.iter().collect::<Vec<_>>(),
        ["bad", "good", "not"]
    );
    assert_eq!(decoded.class_names.get(1), Some("positive"));
    // The words are slices of the input bytes, not copies.
    let word = decoded.words.get(0).unwrap();
    assert!(bytes.as_ptr_range().contains(&word.as_ptr()));
}

#[test]
fn version_1_files_still_decode_from_the_zero_state() {
    let (rnn, vocab, _, _) = sample();
    let v1 = encode_v1(&rnn, &vocab, 4);
    let (decoded_rnn, decoded_vocab, hidden) = try_decode(&v1).unwrap();
    assert_eq!((decoded_rnn, decoded_vocab, hidden), (rnn, vocab, [0.0; 5]));
    let header = Header::read(&v1).unwrap();
    assert_eq!(
        (header.version, header.classes, header.encoded_len()),
        (1, 4, Some(v1.len()))
    );
}

#[test]
fn truncated_bytes_are_refused_at_every_length() {
    let (rnn, vocab, _, v2) = sample();
    let (_, words) = classifier();
    for bytes in [v2, words, encode_v1(&rnn, &vocab, 4)] {
        for len in 0..bytes.len() {
            assert_eq!(
                try_decode(&bytes[..len]).err(),
                Some(Error::Truncated),
                "len {len}"
            );
            assert_eq!(Header::read(&bytes[..len]).err(), Some(Error::Truncated));
        }
    }
}

#[test]
fn every_flipped_byte_is_refused() {
    let (rnn, vocab, _, v2) = sample();
    for bytes in [v2, encode_v1(&rnn, &vocab, 4)] {
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            let expected = match at {
                0..4 => Error::NotAModel,
                4..6 => Error::UnsupportedVersion(u16::from_le_bytes([damaged[4], damaged[5]])),
                _ => Error::ChecksumMismatch,
            };
            assert_eq!(try_decode(&damaged).err(), Some(expected), "byte {at}");
            assert_eq!(Header::read(&damaged).err(), Some(expected), "byte {at}");
        }
    }
}

#[test]
fn foreign_bytes_are_not_a_model() {
    assert_eq!(try_decode(b"hello world").err(), Some(Error::NotAModel));
    assert_eq!(try_decode(&[0u8; 600]).err(), Some(Error::NotAModel));
    assert_eq!(
        try_decode(b"\x89PNG\r\n\x1a\n....").err(),
        Some(Error::NotAModel)
    );
    // A safetensors file starts with its header length and JSON.
    let safetensors = b"\x40\x00\x00\x00\x00\x00\x00\x00{\"weight\":{\"dtype\":\"F32\"";
    assert_eq!(try_decode(safetensors).err(), Some(Error::NotAModel));
    assert_eq!(try_decode(b"MRCK\x01\x00").err(), Some(Error::NotAModel));
    assert_eq!(try_decode(b"MR").err(), Some(Error::Truncated));
    assert_eq!(try_decode(b"").err(), Some(Error::Truncated));
}

#[test]
fn other_versions_are_refused() {
    let (_, _, _, bytes) = sample();
    for version in [0u8, 3, 255] {
        let bytes = edited(&bytes, |b| b[4] = version);
        assert_eq!(
            try_decode(&bytes).err(),
            Some(Error::UnsupportedVersion(version.into()))
        );
    }
}

#[test]
fn wrong_shape_is_refused_before_anything_else_is_trusted() {
    let (_, _, _, bytes) = sample();
    let mut rnn = Rnn::<6, 7, 6>::ZERO;
    let (mut vocab, mut hidden) = (CharVocab::<8>::new(), [0.0; 7]);
    assert_eq!(
        decode_contents(&bytes, &mut rnn, &mut vocab, &mut hidden),
        Err(Error::ShapeMismatch {
            found: (6, 5, 6),
            expected: (6, 7, 6)
        })
    );
    assert_eq!(rnn, Rnn::ZERO);
    // A header announcing another shape with resealed checksums is still another shape.
    let bytes = edited(&bytes, |b| b[12] = 7);
    assert!(matches!(
        try_decode(&bytes),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn impossible_values_with_valid_checksums_are_corrupt() {
    let (_, _, _, lm) = sample();
    let (_, words) = classifier();
    let texts = HEADER_LEN + 4 * 5 + 4 * Model::PARAMETERS;
    let nan = f32::NAN.to_le_bytes();
    let cases: [(&str, Vec<u8>); 16] = [
        ("classes 0", edited(&lm, |b| b[20] = 0)),
        ("classes > outputs", edited(&lm, |b| b[20] = 7)),
        ("vocabulary > inputs", edited(&lm, |b| b[24] = 7)),
        ("vocabulary count", edited(&lm, |b| b[24] = 3)),
        ("unknown task", edited(&lm, |b| b[28] = 2)),
        ("unknown vocabulary kind", edited(&lm, |b| b[29] = 9)),
        ("reserved", edited(&lm, |b| b[31] = 1)),
        ("unknown cell", edited(&lm, |b| b[30] = 2)),
        ("flags", edited(&lm, |b| b[6] = 1)),
        ("unsorted chars", edited(&lm, |b| b.swap(texts, texts + 1))),
        ("not UTF-8", edited(&lm, |b| b[texts + 3] = 0xFF)),
        (
            "metadata not key=value",
            edited(&lm, |b| b[texts + 8] = b'_'),
        ),
        (
            "NaN parameter",
            edited(&lm, |b| {
                b[HEADER_LEN + 20..HEADER_LEN + 24].copy_from_slice(&nan)
            }),
        ),
        (
            "hidden outside [-1, 1]",
            edited(&lm, |b| b[48..52].copy_from_slice(&2.0f32.to_le_bytes())),
        ),
        (
            "unsorted words",
            edited(&words, |b| b.swap(texts, texts + 4)),
        ), // "bad\ngood" -> "gad\nbood"
        ("a class name missing", edited(&words, |b| b[20] = 3)),
    ];
    for (what, bytes) in &cases {
        assert!(
            matches!(try_decode(bytes), Err(Error::CorruptModel(_))),
            "{what}: {:?}",
            try_decode(bytes).err()
        );
        assert!(
            matches!(Header::read(bytes), Err(Error::CorruptModel(_))),
            "{what}"
        );
    }
    let absurd = edited(&lm, |b| b[8..12].copy_from_slice(&u32::MAX.to_le_bytes()));
    assert!(Header::read(&absurd).is_err());
    let v1 = edited(&encode_v1(&sample().0, &sample().1, 4), |b| {
        b[36..40].copy_from_slice(&0xD800u32.to_le_bytes())
    });
    assert!(matches!(try_decode(&v1), Err(Error::CorruptModel(_))));
}

#[test]
fn vocabulary_must_fit_the_destination() {
    let (_, _, _, bytes) = sample();
    let (mut rnn, mut small, mut hidden) = (Model::ZERO, CharVocab::<2>::new(), [0.0; 5]);
    assert_eq!(
        decode_contents(&bytes, &mut rnn, &mut small, &mut hidden),
        Err(Error::VocabularyFull { capacity: 2 })
    );
    assert_eq!((rnn, hidden), (Model::ZERO, [0.0; 5]));
}

#[test]
fn encode_checks_its_arguments() {
    let (rnn, vocab, _, bytes) = sample();
    let mut out = vec![0u8; bytes.len() + 64];
    let needed = encoded_len::<Rnn<6, 5, 6>, 5>(&Contents::language_model(vocab.chars(), 4));
    assert_eq!(
        encode(&rnn, &vocab, 4, &mut out[..needed - 1]),
        Err(Error::BufferTooSmall { needed })
    );
    assert!(encode(&rnn, &vocab, 0, &mut out).is_err());
    assert!(encode(&rnn, &vocab, 7, &mut out).is_err());
    let big = CharVocab::<8>::from_text("abcdefg").unwrap();
    assert_eq!(
        encode(&rnn, &big, 6, &mut out),
        Err(Error::VocabularyFull { capacity: 6 })
    );
    let refused = |contents: Contents<'_, 5>| {
        matches!(
            encode_contents(&rnn, &contents, &mut out.clone()),
            Err(Error::InvalidSetting(_))
        )
    };
    assert!(refused(Contents::language_model(&['b', 'a'], 2)));
    assert!(refused(Contents::classifier(&["good", "bad"], &["n", "p"])));
    assert!(refused(Contents::classifier(&["a b"], &["n", "p"])));
    assert!(refused(Contents::classifier(&["a"], &["n", ""])));
    assert!(refused(Contents {
        classes: 3,
        ..Contents::classifier(&["a"], &["n", "p"])
    }));
    assert!(refused(Contents {
        metadata: "x",
        ..Contents::language_model(&['a'], 1)
    }));
    assert!(refused(Contents {
        initial_hidden: Some(&[0.0, 0.0, 1.5, 0.0, 0.0]),
        ..Contents::language_model(&['a'], 1)
    }));
    let mut nan = rnn.clone();
    nan.b_y[0] = f32::NAN;
    assert!(matches!(
        encode(&nan, &vocab, 4, &mut out),
        Err(Error::InvalidSetting(_))
    ));
    // A longer buffer is fine, and so is decoding from one.
    assert_eq!(encode(&rnn, &vocab, 4, &mut out), Ok(needed));
    assert_eq!(try_decode(&out).unwrap().0, rnn);
    assert!(max_char_model_len::<6, 5, 6>(0) >= needed);
}

/// A model checked and decoded by the compiler: the same parameters and state as
/// `decode_contents`', the same vocabulary and texts from `decode_texts`.
#[test]
fn decode_const_equals_decode_contents_and_runs_at_compile_time() {
    const FILE: &[u8] = include_bytes!("../../../examples/firmware/models/poem-h32.mrnn");
    static MODEL: super::Embedded<32, 32, 32> = match super::decode_const(FILE) {
        Ok(model) => model,
        Err(error) => panic!("{}", error.as_str()),
    };
    let mut rnn = Box::new(Rnn::<32, 32, 32>::ZERO);
    let mut vocab = CharVocab::<32>::new();
    let mut state = [2.0f32; 32];
    let decoded = decode_contents(FILE, &mut *rnn, &mut vocab, &mut state).expect("decodes");
    assert_eq!(
        (&MODEL.rnn, MODEL.initial_hidden, MODEL.header),
        (&*rnn, state, decoded.header)
    );
    // A warm stored state comes through too.
    let (_, _, hidden, bytes) = sample();
    assert_eq!(
        super::decode_const::<6, 5, 6>(&bytes).map(|m| m.initial_hidden),
        Ok(hidden)
    );
    let mut texts_vocab = CharVocab::<32>::new();
    assert_eq!(super::decode_texts(FILE, &mut texts_vocab), Ok(decoded));
    assert_eq!(texts_vocab, vocab);

    let mut damaged = FILE.to_vec();
    for at in [0, 5, 20, 47, 48, 400, FILE.len() - 1] {
        damaged[at] ^= 0x04;
        assert!(
            super::decode_const::<32, 32, 32>(&damaged).is_err(),
            "flip at {at}"
        );
        damaged[at] ^= 0x04;
    }
    assert!(matches!(
        super::decode_const::<32, 16, 32>(FILE),
        Err(Error::ShapeMismatch { .. })
    ));
}

/// A GRU model file: the cell in header byte 30, the GRU's six tensors; it round-trips with its
/// state and metadata, and a decoder of the other cell refuses it (and an Elman file into a
/// GRU) with `CellMismatch`, writing nothing.
#[test]
fn a_gru_round_trips_and_the_cell_is_checked() {
    use crate::model::Gru;
    let mut gru = Gru::<6, 5, 6>::ZERO;
    gru.init_uniform(&mut crate::DefaultRng::seed_from_u64(8));
    let vocab = CharVocab::<8>::from_text("ab—\n").unwrap();
    let hidden = [0.5, -0.25, 1.0, -1.0, 0.0];
    let contents = Contents {
        initial_hidden: Some(&hidden),
        metadata: "cell=gru",
        ..Contents::language_model(vocab.chars(), 4)
    };
    let mut bytes = vec![0u8; encoded_len::<Gru<6, 5, 6>, _>(&contents)];
    assert_eq!(
        encode_contents(&gru, &contents, &mut bytes),
        Ok(bytes.len())
    );
    assert_eq!(bytes[30], 1, "the cell code");
    let header = Header::read(&bytes).unwrap();
    assert_eq!(header.cell, CellKind::Gru);
    assert_eq!(header.encoded_len(), Some(bytes.len()));

    let (mut loaded, mut loaded_vocab, mut state) =
        (Gru::<6, 5, 6>::ZERO, CharVocab::<8>::new(), [0.0f32; 5]);
    let decoded = decode_contents(&bytes, &mut loaded, &mut loaded_vocab, &mut state).unwrap();
    assert_eq!((&loaded, &loaded_vocab, state), (&gru, &vocab, hidden));
    assert_eq!(decoded.metadata.get("cell"), Some("gru"));
    // The compile-time decoder reads the same numbers (weights in flash).
    let embedded = decode_gru_const::<6, 5, 6>(&bytes).unwrap();
    assert_eq!(
        (&embedded.gru, embedded.initial_hidden, embedded.header),
        (&gru, hidden, header)
    );

    // The other cell's decoders refuse it and write nothing.
    let mut rnn = Model::ZERO;
    let mut chars = CharVocab::<8>::new();
    let mut untouched = [0.25f32; 5];
    assert_eq!(
        decode(&bytes, &mut rnn, &mut chars, &mut untouched),
        Err(Error::CellMismatch {
            found: "gru",
            expected: "elman"
        })
    );
    assert_eq!((rnn, chars.len(), untouched), (Model::ZERO, 0, [0.25; 5]));
    assert!(matches!(
        decode_const::<6, 5, 6>(&bytes),
        Err(Error::CellMismatch { .. })
    ));
    let (_, _, _, elman) = sample();
    let mut into_gru = Gru::<6, 5, 6>::ZERO;
    assert_eq!(
        decode(
            &elman,
            &mut into_gru,
            &mut CharVocab::<8>::new(),
            &mut [0.0; 5]
        ),
        Err(Error::CellMismatch {
            found: "elman",
            expected: "gru"
        })
    );
    assert_eq!(into_gru, Gru::ZERO);
    assert!(matches!(
        decode_gru_const::<6, 5, 6>(&elman),
        Err(Error::CellMismatch {
            found: "elman",
            expected: "gru"
        })
    ));
    let mut damaged = bytes.clone();
    damaged[100] ^= 1;
    assert_eq!(
        decode_gru_const::<6, 5, 6>(&damaged).map(|_| ()),
        Err(Error::ChecksumMismatch)
    );
    // An Elman file of the same shape is shorter: the cell decides the parameter count.
    assert!(elman.len() < bytes.len());
}

/// A GRU sensor classifier with 2 live channels of 6 inputs, and its file.
fn sensor_classifier() -> (crate::model::Gru<6, 5, 6>, Vec<u8>) {
    let mut gru = crate::model::Gru::<6, 5, 6>::ZERO;
    gru.init_uniform(&mut crate::DefaultRng::seed_from_u64(9));
    let contents = Contents {
        metadata: "epochs=100",
        ..Contents::sensor_classifier(
            &["ax", "gyro z"],
            &[0.5, -3.0],
            &[2.0, 0.125],
            &["walking", "running", "sitting"],
        )
    };
    let mut bytes = vec![0u8; encoded_len::<crate::model::Gru<6, 5, 6>, _>(&contents)];
    assert_eq!(
        encode_contents(&gru, &contents, &mut bytes),
        Ok(bytes.len())
    );
    (gru, bytes)
}

#[test]
fn a_sensor_classifier_keeps_its_channels_classes_and_normalization() {
    use crate::model::Gru;
    use crate::model::normalize::Normalization;
    let (gru, bytes) = sensor_classifier();
    let header = Header::read(&bytes).unwrap();
    assert_eq!(
        (
            header.task,
            header.vocab_kind,
            header.vocab_len,
            header.classes
        ),
        (Task::Classifier, VocabKind::Dense, 2, 3)
    );
    assert_eq!(bytes[29], 2, "the vocabulary kind code");
    let (mut loaded, mut chars, mut state) =
        (Gru::<6, 5, 6>::ZERO, CharVocab::<8>::new(), [1.0; 5]);
    let decoded = decode_contents(&bytes, &mut loaded, &mut chars, &mut state).unwrap();
    assert_eq!((&loaded, chars.len(), state), (&gru, 0, [0.0; 5]));
    assert_eq!(
        decoded.channels.iter().collect::<Vec<_>>(),
        ["ax", "gyro z"]
    );
    assert!(decoded.words.is_empty());
    assert_eq!(decoded.class_names.get(2), Some("sitting"));
    let expected = Normalization::<6> {
        mean: [0.5, -3.0, 0.0, 0.0, 0.0, 0.0],
        std: [2.0, 0.125, 1.0, 1.0, 1.0, 1.0],
    };
    assert_eq!(decoded.normalization::<6>(), Some(expected));
    assert_eq!(decoded.normalization::<5>(), None, "another input count");
    // The compile-time decoder reads the same normalization (identity for symbol models).
    let embedded = decode_gru_const::<6, 5, 6>(&bytes).unwrap();
    assert_eq!((&embedded.gru, embedded.normalization), (&gru, expected));
    let (_, _, _, chars_file) = sample();
    assert_eq!(
        decode_const::<6, 5, 6>(&chars_file).unwrap().normalization,
        Normalization::IDENTITY
    );
    let (mut rnn, mut vocab, mut h) = (Model::ZERO, CharVocab::<8>::new(), [0.0; 5]);
    assert_eq!(
        decode_contents(&chars_file, &mut rnn, &mut vocab, &mut h)
            .unwrap()
            .normalization::<6>(),
        None
    );
    // Every length short of the whole file is refused.
    for len in 0..bytes.len() {
        assert!(Header::read(&bytes[..len]).is_err(), "length {len}");
    }
}

#[test]
fn a_bad_normalization_is_refused_on_both_sides() {
    use crate::model::Gru;
    let (_, bytes) = sensor_classifier();
    // Where the normalization starts: after the header, the state and the parameters.
    let at = HEADER_LEN + 4 * 5 + 4 * Gru::<6, 5, 6>::PARAMETER_COUNT;
    assert_eq!(&bytes[at..at + 4], &0.5f32.to_le_bytes());
    // A NaN mean, a zero and a negative standard deviation, an infinite one, and padding inputs
    // (past the 2 channels) that are not mean 0, standard deviation 1.
    for (offset, value) in [
        (0, f32::NAN),
        (4 * 6, 0.0),
        (4 * 7, -1.0),
        (4 * 11, f32::INFINITY),
        (4 * 2, 0.5),
        (4 * 8, 2.0),
    ] {
        let bad = edited(&bytes, |b| {
            b[at + offset..at + offset + 4].copy_from_slice(&value.to_le_bytes())
        });
        assert!(
            matches!(Header::read(&bad), Err(Error::CorruptModel(_))),
            "{value} at {offset}"
        );
        assert!(decode_gru_const::<6, 5, 6>(&bad).is_err());
        let mut untouched = Gru::<6, 5, 6>::ZERO;
        assert!(
            decode_contents(
                &bad,
                &mut untouched,
                &mut CharVocab::<8>::new(),
                &mut [0.0; 5]
            )
            .is_err()
        );
        assert_eq!(untouched, Gru::ZERO);
    }
    let gru = Gru::<6, 5, 6>::ZERO;
    let mut out = vec![0u8; 4096];
    let encode = |mean: &[f32], std: &[f32], out: &mut [u8]| {
        encode_contents(
            &gru,
            &Contents::sensor_classifier(&["a", "b"], mean, std, &["x", "y"]),
            out,
        )
    };
    assert!(encode(&[0.0, 0.0], &[1.0, 1.0], &mut out).is_ok());
    assert!(matches!(
        encode(&[0.0], &[1.0, 1.0], &mut out),
        Err(Error::InvalidSetting(_))
    ));
    assert!(matches!(
        encode(&[0.0, 0.0], &[1.0, 0.0], &mut out),
        Err(Error::InvalidSetting(_))
    ));
    assert!(matches!(
        encode(&[f32::NAN, 0.0], &[1.0, 1.0], &mut out),
        Err(Error::InvalidSetting(_))
    ));
}
