//! The quantized file: round trip, and every damage a clean error.

use super::{HEADER_CRC_AT, VERSION, decode, encode, encoded_len, is_quantized, read_header};
use crate::codec::format::{self, crc32};
use crate::{CharVocab, Error, QRnn, Rnn};

type Q = QRnn<6, 5, 6>;
const LEN: usize = encoded_len::<6, 5, 6>();

fn sample() -> (Q, CharVocab<8>, [u8; LEN]) {
    let mut rnn = Rnn::<6, 5, 6>::ZERO;
    for (k, w) in rnn.tensors_mut().into_iter().flatten().enumerate() {
        *w = ((k * 37 % 23) as f32 - 11.0) * 0.09;
    }
    let q = QRnn::quantize(&rnn, None).expect("quantizes");
    let vocab = CharVocab::<8>::from_text("abcé").expect("vocab");
    let mut bytes = [0u8; LEN];
    assert_eq!(encode(&q, &vocab, 4, &mut bytes), Ok(LEN));
    (q, vocab, bytes)
}

fn try_decode(bytes: &[u8]) -> Result<(Q, CharVocab<8>), Error> {
    let mut q = Q::ZERO;
    let mut vocab = CharVocab::<8>::new();
    decode(bytes, &mut q, &mut vocab)?;
    Ok((q, vocab))
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
    // 36 header + 24 vocab + 4·(6+10+12) words + 5·17 weights + 4 CRC
    assert_eq!(LEN, 36 + 24 + 112 + 85 + 4);
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
        format::decode(&bytes, &mut float, &mut v),
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
        decode(&bytes, &mut other, &mut v),
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
    edited[LEN - 5] = 0x80; // a weight of -128
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
    assert!(matches!(
        decode(&edited, &mut q, &mut v),
        Err(Error::CorruptModel(_))
    ));
    assert_eq!((q, v), (Q::ZERO, CharVocab::new()));
}

#[test]
fn encode_checks_its_arguments() {
    let (q, vocab, _) = sample();
    let mut short = [0u8; LEN - 1];
    assert_eq!(
        encode(&q, &vocab, 4, &mut short),
        Err(Error::BufferTooSmall { needed: LEN })
    );
    let mut out = [0u8; LEN];
    assert!(encode(&q, &vocab, 0, &mut out).is_err());
    assert!(encode(&q, &vocab, 7, &mut out).is_err());
    assert!(
        encode(&Q::ZERO, &vocab, 4, &mut out).is_err(),
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
