//! Version 3 of the quantized file: both cells round trip with their task, vocabulary kind,
//! class names and normalization; the run-time and compile-time decoders agree; every damage
//! and mismatch is a clean error.

use super::{
    VERSION_3, decode, decode_const, decode_contents, decode_gru_const, decode_texts,
    encode_contents, encoded_len_contents, read_header,
};
use crate::codec::format::{self, Contents, Task, VocabKind};
use crate::model::normalize::Normalization;
use crate::{CharVocab, Error, Gru, QGru, QRnn, Rnn};

type G = QGru<3, 4, 5>;
const CHANNELS: [&str; 2] = ["accel x", "gyro z"];
const CLASSES: [&str; 3] = ["walk", "run", "rest"];
const MEAN: [f32; 2] = [9.81, -0.5];
const STD: [f32; 2] = [2.0, 0.25];

fn sensor_gru() -> (G, Vec<u8>) {
    let mut gru = Gru::<3, 4, 5>::ZERO;
    let mut k = 0usize;
    for index in 0..6 {
        for w in crate::Params::tensor_mut(&mut gru, index) {
            *w = ((k * 41 % 29) as f32 - 14.0) * 0.05;
            k += 1;
        }
    }
    let normalization = Normalization {
        mean: [MEAN[0], MEAN[1], 0.0],
        std: [STD[0], STD[1], 1.0],
    };
    let q = QGru::quantize(&gru, &normalization, None).expect("quantizes");
    let contents = Contents {
        initial_hidden: Some(&[0.5, -0.25, 0.0, 1.0]),
        metadata: "cell=gru",
        ..Contents::sensor_classifier(&CHANNELS, &MEAN, &STD, &CLASSES)
    };
    let len = encoded_len_contents::<G, 3, 4>(&contents);
    let mut bytes = vec![0u8; len + 7];
    assert_eq!(encode_contents(&q, &contents, &mut bytes), Ok(len));
    bytes.truncate(len);
    (q, bytes)
}

#[test]
fn a_quantized_sensor_gru_round_trips_with_its_texts_and_normalization() {
    let (q, bytes) = sensor_gru();
    let header = read_header(&bytes).expect("header");
    assert_eq!(header.version, VERSION_3);
    assert_eq!(header.task, Task::Classifier);
    assert_eq!(header.vocab_kind, VocabKind::Dense);
    assert_eq!(header.cell, crate::model::CellKind::Gru);
    assert_eq!(
        (header.inputs, header.hidden, header.outputs, header.classes),
        (3, 4, 5, 3)
    );
    let mut loaded = G::ZERO;
    let mut chars = CharVocab::<4>::new();
    let mut state = [9i16; 4];
    let decoded = decode_contents(&bytes, &mut loaded, &mut chars, &mut state).expect("decodes");
    assert_eq!(loaded, q);
    assert_eq!(state, [16384, -8192, 0, 32767]);
    assert_eq!(decoded.channels.iter().collect::<Vec<_>>(), CHANNELS);
    assert_eq!(decoded.class_names.iter().collect::<Vec<_>>(), CLASSES);
    assert_eq!(decoded.metadata.get("cell"), Some("gru"));
    assert_eq!(decoded.normalization::<3>(), Some(q.normalization));
    // The compile-time decoder reads the same numbers.
    let embedded = decode_gru_const::<3, 4, 5>(&bytes).expect("decodes");
    assert_eq!((&embedded.qgru, embedded.initial_hidden), (&q, state));
    let texts = decode_texts(&bytes, &mut CharVocab::<1>::new()).expect("texts");
    assert_eq!(texts.class_names.iter().nth(2), Some("rest"));
    // Re-encoding the decoded model gives the same bytes.
    let contents = Contents {
        initial_hidden: Some(&[0.5, -0.25, 0.0, 1.0]),
        metadata: "cell=gru",
        ..Contents::sensor_classifier(&CHANNELS, &MEAN, &STD, &CLASSES)
    };
    let mut again = vec![0u8; bytes.len()];
    encode_contents(&loaded, &contents, &mut again).expect("encodes");
    assert_eq!(again, bytes);
}

#[test]
fn a_quantized_gru_file_refuses_the_wrong_reader_and_every_damage() {
    let (_, bytes) = sensor_gru();
    let mut chars = CharVocab::<4>::new();
    // Another cell, another shape, the f32 decoder, the Elman const decoder.
    let mut elman = QRnn::<3, 4, 5>::ZERO;
    assert!(matches!(
        decode_contents(&bytes, &mut elman, &mut chars, &mut [0; 4]),
        Err(Error::CellMismatch { .. })
    ));
    let mut wider = QGru::<3, 4, 6>::ZERO;
    assert!(matches!(
        decode_contents(&bytes, &mut wider, &mut chars, &mut [0; 4]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(decode_const::<3, 4, 5>(&bytes).is_err());
    assert!(decode(&bytes, &mut elman, &mut chars, &mut [0; 4]).is_err());
    let mut float = Gru::<3, 4, 5>::ZERO;
    assert!(format::decode_contents(&bytes, &mut float, &mut chars, &mut [0.0; 4]).is_err());
    // Every truncation and every flipped byte is refused (the checksums), and nothing is
    // written into the model.
    for len in 0..bytes.len() {
        let mut q = G::ZERO;
        assert!(decode_contents(&bytes[..len], &mut q, &mut chars, &mut [0; 4]).is_err());
        assert!(decode_gru_const::<3, 4, 5>(&bytes[..len]).is_err());
        assert_eq!(q, G::ZERO);
    }
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x10;
        let mut q = G::ZERO;
        assert!(
            decode_contents(&damaged, &mut q, &mut chars, &mut [0; 4]).is_err(),
            "{at}"
        );
        assert_eq!(q, G::ZERO);
    }
}

#[test]
fn the_elman_cell_writes_version_3_and_every_reader_takes_it() {
    let mut rnn = Rnn::<6, 5, 6>::ZERO;
    for (k, w) in rnn.tensors_mut().into_iter().flatten().enumerate() {
        *w = ((k * 37 % 23) as f32 - 11.0) * 0.09;
    }
    let q = QRnn::quantize(&rnn, None).expect("quantizes");
    let vocab = CharVocab::<8>::from_text("abcé").expect("vocab");
    let contents = Contents::language_model(vocab.chars(), 4);
    let len = encoded_len_contents::<QRnn<6, 5, 6>, 6, 5>(&contents);
    let mut bytes = vec![0u8; len];
    encode_contents(&q, &contents, &mut bytes).expect("encodes");
    let (mut loaded, mut chars, mut state) =
        (QRnn::<6, 5, 6>::ZERO, CharVocab::<8>::new(), [1i16; 5]);
    decode(&bytes, &mut loaded, &mut chars, &mut state).expect("decodes");
    assert_eq!((&loaded, &chars, state), (&q, &vocab, [0; 5]));
    let embedded = decode_const::<6, 5, 6>(&bytes).expect("decodes");
    assert_eq!(embedded.qrnn, q);
    assert_eq!(super::decode_vocab::<8>(&bytes), Ok(vocab));
    // A dense Elman classifier: its own normalization is written, and both readers restore it.
    let mut dense_q = q.clone();
    dense_q.normalization.mean[0] = 2.5;
    dense_q.normalization.std[0] = 0.5;
    let dense = Contents::<5>::sensor_classifier(&["a"], &[2.5], &[0.5], &["x", "y"]);
    let mut out = vec![0u8; encoded_len_contents::<QRnn<6, 5, 6>, 6, 5>(&dense)];
    encode_contents(&dense_q, &dense, &mut out).expect("encodes");
    let mut loaded = QRnn::<6, 5, 6>::ZERO;
    decode_contents(&out, &mut loaded, &mut CharVocab::<0>::new(), &mut [0; 5]).expect("decodes");
    assert_eq!(loaded, dense_q);
    assert_eq!(
        decode_const::<6, 5, 6>(&out).expect("decodes").qrnn,
        dense_q
    );
    // A normalization other than the model's is refused, for either cell.
    assert!(matches!(
        encode_contents(&q, &dense, &mut out),
        Err(Error::InvalidSetting(_))
    ));
    let (g, _) = sensor_gru();
    let other = Contents::<4>::sensor_classifier(&CHANNELS, &[0.0, 0.0], &STD, &CLASSES);
    let mut out = vec![0u8; 4096];
    assert!(matches!(
        encode_contents(&g, &other, &mut out),
        Err(Error::InvalidSetting(_))
    ));
}
