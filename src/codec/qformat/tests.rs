//! The quantized file: round trip, and every damage a clean error.

use super::{
    HEADER_CRC_AT, VERSION, VERSION_1, decode, decode_const, decode_vocab, encode, encoded_len,
    is_quantized, read_header,
};
use crate::codec::format::{self, crc32};
use crate::{CharVocab, Error, QRnn, Rnn};

type Q = QRnn<6, 5, 6>;
const LEN: usize = encoded_len::<6, 5, 6>();

/// The initial state `sample` stores.
const STATE: [i16; 5] = [-32767, -5, 0, 1200, 32767];

fn sample() -> (Q, CharVocab<8>, [u8; LEN]) {
    let mut rnn = Rnn::<6, 5, 6>::ZERO;
    for (k, w) in rnn.tensors_mut().into_iter().flatten().enumerate() {
        *w = ((k * 37 % 23) as f32 - 11.0) * 0.09;
    }
    let q = QRnn::quantize(&rnn, None).expect("quantizes");
    let vocab = CharVocab::<8>::from_text("abcé").expect("vocab");
    let mut bytes = [0u8; LEN];
    assert_eq!(encode(&q, &vocab, 4, &STATE, &mut bytes), Ok(LEN));
    (q, vocab, bytes)
}

fn try_decode(bytes: &[u8]) -> Result<(Q, CharVocab<8>), Error> {
    try_decode_state(bytes).map(|(q, vocab, _)| (q, vocab))
}

fn try_decode_state(bytes: &[u8]) -> Result<(Q, CharVocab<8>, [i16; 5]), Error> {
    let mut q = Q::ZERO;
    let mut vocab = CharVocab::<8>::new();
    let mut state = [7i16; 5];
    decode(bytes, &mut q, &mut vocab, &mut state)?;
    Ok((q, vocab, state))
}

/// The version-1 file of the same model: no state, the older version number.
fn version_1(bytes: &[u8]) -> Vec<u8> {
    let state_at = LEN - 4 - 2 * 5;
    let mut v1 = bytes[..state_at].to_vec();
    v1.extend_from_slice(&[0; 4]);
    v1[4..6].copy_from_slice(&VERSION_1.to_le_bytes());
    reseal(&mut v1);
    v1
}

/// Recomputes both checksums after an edit, so that a value check is reached.
fn reseal(bytes: &mut [u8]) {
    let crc = crc32(&bytes[..HEADER_CRC_AT]);
    bytes[HEADER_CRC_AT..HEADER_CRC_AT + 4].copy_from_slice(&crc.to_le_bytes());
    let end = bytes.len() - 4;
    let crc = crc32(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn round_trip_is_exact_and_weights_take_one_byte() {
    let (q, vocab, bytes) = sample();
    assert_eq!(try_decode(&bytes), Ok((q, vocab)));
    assert!(is_quantized(&bytes));
    let header = read_header(&bytes).expect("header");
    assert_eq!(
        (header.inputs, header.hidden, header.outputs, header.classes),
        (6, 5, 6, 4)
    );
    // 36 header + 24 vocab + 4·(6+10+12) words + 5·17 weights + 2·5 state + 4 CRC
    assert_eq!(LEN, 36 + 24 + 112 + 85 + 10 + 4);
}

#[test]
fn the_initial_state_is_stored_and_a_version_1_file_starts_from_zeros() {
    let (q, vocab, bytes) = sample();
    assert_eq!(
        try_decode_state(&bytes),
        Ok((q.clone(), vocab.clone(), STATE))
    );
    let v1 = version_1(&bytes);
    assert!(is_quantized(&v1));
    assert_eq!(read_header(&v1).map(|h| h.version), Ok(VERSION_1));
    // A version-1 file decodes, and the caller's state is set to zeros, not left as it was.
    assert_eq!(try_decode_state(&v1), Ok((q, vocab, [0; 5])));
    assert_eq!(read_header(&bytes).map(|h| h.version), Ok(VERSION));
}

/// A model checked and decoded by the compiler: the same model and state as [`decode`]'s.
#[test]
fn decode_const_equals_decode_and_runs_at_compile_time() {
    const FILE: &[u8] = include_bytes!("../../../examples/firmware/models/poem-h32.q8");
    static MODEL: super::Embedded<32, 32, 32> = match decode_const(FILE) {
        Ok(model) => model,
        Err(error) => panic!("{}", error.as_str()),
    };
    let mut q = Box::new(QRnn::<32, 32, 32>::ZERO);
    let mut vocab = CharVocab::<32>::new();
    let mut state = [1i16; 32];
    let header = decode(FILE, &mut q, &mut vocab, &mut state).expect("decodes");
    assert_eq!(
        (&MODEL.qrnn, MODEL.initial_hidden, MODEL.header),
        (&*q, state, header)
    );
    assert_eq!(decode_vocab::<32>(FILE), Ok(vocab));

    let (q, _, bytes) = sample();
    let embedded = decode_const::<6, 5, 6>(&bytes).expect("decodes");
    assert_eq!((embedded.qrnn, embedded.initial_hidden), (q, STATE));
    for at in [0, 4, 9, 30, 40, 100, LEN - 7, LEN - 1] {
        let mut damaged = bytes;
        damaged[at] ^= 0x10;
        assert!(decode_const::<6, 5, 6>(&damaged).is_err(), "flip at {at}");
    }
    assert!(matches!(
        decode_const::<6, 6, 6>(&bytes),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn truncated_bytes_are_refused_at_every_length() {
    let (_, _, bytes) = sample();
    for len in 0..LEN {
        let result = try_decode(&bytes[..len]);
        assert!(
            matches!(result, Err(Error::Truncated | Error::ChecksumMismatch)),
            "length {len}: {result:?}"
        );
        assert!(read_header(&bytes[..len]).is_err());
    }
}

#[test]
fn every_flipped_byte_is_refused() {
    let (_, _, bytes) = sample();
    for at in 0..LEN {
        let mut damaged = bytes;
        damaged[at] ^= 0x10;
        assert!(try_decode(&damaged).is_err(), "flip at {at}");
        assert!(read_header(&damaged).is_err(), "flip at {at}");
    }
}

#[test]
fn the_f32_and_quantized_decoders_refuse_each_others_files() {
    let (_, vocab, bytes) = sample();
    let mut float = Rnn::<6, 5, 6>::ZERO;
    let mut v = CharVocab::<8>::new();
    assert_eq!(
        format::decode(&bytes, &mut float, &mut v, &mut [0.0; 5]),
        Err(Error::UnsupportedVersion(VERSION))
    );
    assert_eq!(
        format::Header::read(&bytes),
        Err(Error::UnsupportedVersion(VERSION))
    );
    let mut f32_bytes = [0u8; format::max_char_model_len::<6, 5, 6>(0)];
    format::encode(&float, &vocab, 4, &mut f32_bytes).expect("encodes");
    assert_eq!(
        try_decode(&f32_bytes),
        Err(Error::UnsupportedVersion(format::VERSION))
    );
    assert!(!is_quantized(&f32_bytes));
    assert_eq!(
        try_decode(b"PK\x03\x04 a zip file, not a model"),
        Err(Error::NotAModel)
    );
    assert_eq!(try_decode(b"MRN"), Err(Error::Truncated));
}

#[test]
fn wrong_shape_is_refused() {
    let (_, _, bytes) = sample();
    let mut other = QRnn::<6, 6, 6>::ZERO;
    let mut v = CharVocab::<8>::new();
    assert_eq!(
        decode(&bytes, &mut other, &mut v, &mut [0; 6]),
        Err(Error::ShapeMismatch {
            found: (6, 5, 6),
            expected: (6, 6, 6)
        })
    );
}

#[test]
fn impossible_values_with_valid_checksums_are_corrupt_and_change_nothing() {
    let (_, _, bytes) = sample();
    for (at, value) in [(28, f32::NAN.to_le_bytes()), (28, (-1.0f32).to_le_bytes())] {
        let mut edited = bytes;
        edited[at..at + 4].copy_from_slice(&value);
        reseal(&mut edited);
        assert!(matches!(try_decode(&edited), Err(Error::CorruptModel(_))));
    }
    let mut edited = bytes;
    edited[LEN - 5 - 10] = 0x80; // a weight of -128 (the last 10 bytes before the CRC: the state)
    reseal(&mut edited);
    assert!(matches!(try_decode(&edited), Err(Error::CorruptModel(_))));
    let mut edited = bytes;
    edited[20..24].copy_from_slice(&0u32.to_le_bytes()); // classes 0
    reseal(&mut edited);
    assert!(matches!(read_header(&edited), Err(Error::CorruptModel(_))));
    let mut edited = bytes;
    edited[36..40].copy_from_slice(&u32::from('z').to_le_bytes()); // unsorted vocabulary
    reseal(&mut edited);
    let mut q = Q::ZERO;
    let mut v = CharVocab::<8>::new();
    let mut state = [3i16; 5];
    assert!(matches!(
        decode(&edited, &mut q, &mut v, &mut state),
        Err(Error::CorruptModel(_))
    ));
    assert_eq!((q, v, state), (Q::ZERO, CharVocab::new(), [3; 5]));
}

#[test]
fn encode_checks_its_arguments() {
    let (q, vocab, _) = sample();
    let mut short = [0u8; LEN - 1];
    assert_eq!(
        encode(&q, &vocab, 4, &STATE, &mut short),
        Err(Error::BufferTooSmall { needed: LEN })
    );
    let mut out = [0u8; LEN];
    assert!(encode(&q, &vocab, 0, &STATE, &mut out).is_err());
    assert!(encode(&q, &vocab, 7, &STATE, &mut out).is_err());
    assert!(
        encode(&Q::ZERO, &vocab, 4, &STATE, &mut out).is_err(),
        "logit scale 0"
    );
}

/// Found by fuzzing (fuzz/ model_decode): a file whose unused vocabulary slots held junk decoded
/// (the junk dropped), so it was not the file `encode` writes for that model.
#[test]
fn a_nonzero_unused_vocabulary_slot_is_corrupt() {
    let (_, _, bytes) = sample();
    // "abcé" fills slots 0..4 of 6; slot 4 is unused.
    let mut edited = bytes;
    edited[36 + 16..36 + 20].copy_from_slice(&u32::from('z').to_le_bytes());
    reseal(&mut edited);
    assert_eq!(
        try_decode(&edited),
        Err(Error::CorruptModel("an unused vocabulary slot is not 0"))
    );
    assert!(try_decode(&bytes).is_ok());
}

/// Found by fuzzing (fuzz/ model_decode): non-zero reserved flags were accepted and dropped.
#[test]
fn nonzero_reserved_flags_are_corrupt() {
    let (_, _, bytes) = sample();
    let mut edited = bytes;
    edited[7] = 8;
    reseal(&mut edited);
    assert_eq!(
        read_header(&edited),
        Err(Error::CorruptModel("reserved flags are not 0"))
    );
    assert!(try_decode(&edited).is_err());
}
