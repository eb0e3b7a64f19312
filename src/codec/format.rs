//! The model file format: a trained [`Rnn`] and its vocabulary as bytes, without `std` or a heap,
//! so firmware can `include_bytes!` a model trained on the host.
//!
//! All integers and floats are little-endian. For a model `Rnn<I, H, O>` the file is
//! [`encoded_len::<I, H, O>()`](encoded_len) bytes — its size depends only on the shape:
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `MRNN` ([`MAGIC`]) |
//! | 4 | 2 | format version, `u16` ([`VERSION`]) |
//! | 6 | 2 | flags, `u16`, 0 (reserved) |
//! | 8 | 4 × 5 | `inputs` I, `hidden` H, `outputs` O, live `classes` (`1..=O`), vocabulary length (`0..=I`), `u32` each |
//! | 28 | 4 | CRC-32 of bytes `0..28` (so a damaged size is caught before it is trusted) |
//! | 32 | 4 × I | vocabulary: one `u32` Unicode scalar value per input id, sorted; unused slots 0 |
//! | 32 + 4·I | 4 × [`Rnn::PARAMETERS`] | `f32` tensors in the order of [`Rnn::tensors`]: `w_xh` (I rows of H), `w_hh` (H × H), `b_h`, `w_hy` (O rows of H), `b_y` |
//! | end − 4 | 4 | CRC-32 (IEEE 802.3, as zlib's `crc32`) of every byte before it |
//!
//! Decoding checks, in order: magic ([`Error::NotAModel`]), version
//! ([`Error::UnsupportedVersion`]), header length and header checksum ([`Error::Truncated`],
//! [`Error::ChecksumMismatch`]), shape ([`Error::ShapeMismatch`]), total length
//! ([`Error::Truncated`]), checksum ([`Error::ChecksumMismatch`]) and finally the header's
//! values and the vocabulary ([`Error::CorruptModel`]). Nothing is written to the caller's model
//! or vocabulary unless every check passes. Bytes after the announced length are ignored, so a
//! model can be decoded from a larger buffer (a flash region, say).
//!
//! ```
//! use micrornn::{CharVocab, Rnn, format};
//! let vocab = CharVocab::<8>::from_text("hello")?;
//! let mut model = Rnn::<8, 16, 8>::ZERO;
//! model.b_y[1] = 0.5;
//!
//! let mut bytes = [0u8; format::encoded_len::<8, 16, 8>()];
//! let written = format::encode(&model, &vocab, vocab.len(), &mut bytes)?;
//! assert_eq!(written, bytes.len());
//!
//! let mut loaded = Rnn::<8, 16, 8>::ZERO;
//! let mut loaded_vocab = CharVocab::<8>::new();
//! let header = format::decode(&bytes, &mut loaded, &mut loaded_vocab)?;
//! assert_eq!((header.hidden, header.classes), (16, 4));
//! assert_eq!(loaded, model);
//! assert_eq!(loaded_vocab, vocab);
//!
//! // A damaged byte is refused, and the wrong shape too.
//! bytes[100] ^= 1;
//! assert_eq!(format::decode(&bytes, &mut loaded, &mut loaded_vocab), Err(micrornn::Error::ChecksumMismatch));
//! let mut other = Rnn::<8, 32, 8>::ZERO;
//! assert!(format::decode(&bytes, &mut other, &mut loaded_vocab).is_err());
//! # Ok::<(), micrornn::Error>(())
//! ```

use crate::Error;
use crate::codec::vocab::CharVocab;
use crate::model::Rnn;

/// The first four bytes of every model file.
pub const MAGIC: [u8; 4] = *b"MRNN";

/// The format version this build writes and reads.
pub const VERSION: u16 = 1;

/// Bytes before the vocabulary: magic, version, flags, five sizes and the header checksum.
pub const HEADER_LEN: usize = 32;

/// Offset of the header checksum (it covers bytes `0..HEADER_CRC_AT`).
const HEADER_CRC_AT: usize = 28;

/// Bytes of the encoding of an `Rnn<I, H, O>` and its vocabulary.
pub const fn encoded_len<const I: usize, const H: usize, const O: usize>() -> usize {
    body_len(I, Rnn::<I, H, O>::PARAMETERS)
}

/// Header + vocabulary + parameters + checksum, in bytes.
const fn body_len(inputs: usize, parameters: usize) -> usize {
    HEADER_LEN + 4 * inputs + 4 * parameters + 4
}

/// The sizes a model file announces, read by [`Header::read`] before the model's type is known
/// (the `micrornn` binary uses it to pick which compiled size to decode into).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version.
    pub version: u16,
    /// Inputs `I` (for a char model, the vocabulary bucket).
    pub inputs: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// Outputs `O`.
    pub outputs: usize,
    /// Live output classes; outputs `classes..O` are padding and masked.
    pub classes: usize,
    /// Characters in the stored vocabulary.
    pub vocab_len: usize,
}

impl Header {
    /// Reads and fully checks the header of `bytes`: magic, version, header checksum, total
    /// length and the checksum of the whole model. Does not need to know the model's type.
    ///
    /// # Errors
    /// [`Error::NotAModel`], [`Error::UnsupportedVersion`], [`Error::Truncated`],
    /// [`Error::ChecksumMismatch`] or [`Error::CorruptModel`].
    pub fn read(bytes: &[u8]) -> Result<Self, Error> {
        let header = Self::parse(bytes)?;
        header.verify(bytes)?;
        Ok(header)
    }

    /// Bytes of the whole encoding this header announces (`None` if that overflows `usize`).
    pub fn encoded_len(&self) -> Option<usize> {
        let parameters = self
            .inputs
            .checked_mul(self.hidden)?
            .checked_add(self.hidden.checked_mul(self.hidden)?)?
            .checked_add(self.hidden)?
            .checked_add(self.outputs.checked_mul(self.hidden)?)?
            .checked_add(self.outputs)?;
        HEADER_LEN
            .checked_add(self.inputs.checked_mul(4)?)?
            .checked_add(parameters.checked_mul(4)?)?
            .checked_add(4)
    }

    /// Magic, version, header length and header checksum; then the fields.
    fn parse(bytes: &[u8]) -> Result<Self, Error> {
        match bytes.get(..MAGIC.len()) {
            Some(magic) if magic == MAGIC => {}
            // A prefix of the magic (including no bytes at all) is a model cut short.
            None if MAGIC.starts_with(bytes) => return Err(Error::Truncated),
            _ => return Err(Error::NotAModel),
        }
        let version = u16::from_le_bytes(array_at(bytes, 4).ok_or(Error::Truncated)?);
        if version != VERSION {
            return Err(Error::UnsupportedVersion(version));
        }
        let header = bytes.get(..HEADER_LEN).ok_or(Error::Truncated)?;
        let (covered, stored) = header.split_at(HEADER_CRC_AT);
        if crc32(covered) != read_u32(stored, 0).ok_or(Error::Truncated)? {
            return Err(Error::ChecksumMismatch);
        }
        let field = |i: usize| read_u32(header, 8 + 4 * i).map(|v| v as usize);
        let (Some(inputs), Some(hidden), Some(outputs), Some(classes), Some(vocab_len)) =
            (field(0), field(1), field(2), field(3), field(4))
        else {
            return Err(Error::Truncated);
        };
        Ok(Self {
            version,
            inputs,
            hidden,
            outputs,
            classes,
            vocab_len,
        })
    }

    /// Total length and whole-file checksum; then the header's values.
    fn verify(&self, bytes: &[u8]) -> Result<(), Error> {
        let len = self
            .encoded_len()
            .ok_or(Error::CorruptModel("sizes too large"))?;
        let body = bytes.get(..len).ok_or(Error::Truncated)?;
        let (covered, stored) = body.split_at(len - 4);
        if crc32(covered) != read_u32(stored, 0).ok_or(Error::Truncated)? {
            return Err(Error::ChecksumMismatch);
        }
        if self.classes == 0 || self.classes > self.outputs {
            return Err(Error::CorruptModel("live classes must be in 1..=outputs"));
        }
        if self.vocab_len > self.inputs {
            return Err(Error::CorruptModel("vocabulary longer than the inputs"));
        }
        Ok(())
    }
}

/// Encodes `rnn`, its vocabulary and its number of live output `classes` (for a char model,
/// `vocab.len()`) into the start of `out`; returns the number of bytes written,
/// [`encoded_len::<I, H, O>()`](encoded_len).
///
/// # Errors
/// - [`Error::BufferTooSmall`] if `out` is shorter than [`encoded_len`];
/// - [`Error::InvalidSetting`] if `classes` is not in `1..=O`;
/// - [`Error::VocabularyFull`] if the vocabulary has more than `I` characters.
pub fn encode<const I: usize, const H: usize, const O: usize, const N: usize>(
    rnn: &Rnn<I, H, O>,
    vocab: &CharVocab<N>,
    classes: usize,
    out: &mut [u8],
) -> Result<usize, Error> {
    let len = encoded_len::<I, H, O>();
    let out = out
        .get_mut(..len)
        .ok_or(Error::BufferTooSmall { needed: len })?;
    crate::model::Classes::<O>::new(classes)?;
    if vocab.len() > I {
        return Err(Error::VocabularyFull { capacity: I });
    }
    let mut writer = Writer { out, at: 0 };
    writer.put(&MAGIC);
    writer.put(&VERSION.to_le_bytes());
    writer.put(&0u16.to_le_bytes());
    for size in [I, H, O, classes, vocab.len()] {
        writer.put_u32(size as u32);
    }
    let header_crc = crc32(writer.out.get(..HEADER_CRC_AT).unwrap_or_default());
    writer.put_u32(header_crc);
    let mut chars = vocab.chars().iter().map(|&c| u32::from(c));
    for _ in 0..I {
        writer.put_u32(chars.next().unwrap_or(0));
    }
    for tensor in rnn.tensors() {
        for value in tensor {
            writer.put(&value.to_le_bytes());
        }
    }
    let crc = crc32(writer.out.get(..len - 4).unwrap_or_default());
    writer.put_u32(crc);
    Ok(writer.at)
}

/// Decodes a model written by [`encode`] into the caller's `rnn` and `vocab` (no allocation:
/// a multi-megabyte model can be decoded straight into a `static` or a `Box`). Returns the
/// header, whose `classes` the caller passes on to [`crate::Sampler`] and
/// [`crate::workflows::eval::cross_entropy`].
///
/// On error, `rnn` and `vocab` are unchanged.
///
/// # Errors
/// - [`Error::NotAModel`]: the bytes do not start with [`MAGIC`];
/// - [`Error::UnsupportedVersion`]: another format version;
/// - [`Error::ShapeMismatch`]: the file holds a model of another `(I, H, O)`;
/// - [`Error::Truncated`]: fewer bytes than the header announces;
/// - [`Error::ChecksumMismatch`]: the bytes were damaged;
/// - [`Error::VocabularyFull`]: the vocabulary does not fit a `CharVocab<N>`;
/// - [`Error::CorruptModel`]: checksums match but a value is impossible (not a char, unsorted
///   vocabulary, classes out of range) — a file written by another tool.
pub fn decode<const I: usize, const H: usize, const O: usize, const N: usize>(
    bytes: &[u8],
    rnn: &mut Rnn<I, H, O>,
    vocab: &mut CharVocab<N>,
) -> Result<Header, Error> {
    let header = Header::parse(bytes)?;
    let found = (header.inputs, header.hidden, header.outputs);
    if found != (I, H, O) {
        return Err(Error::ShapeMismatch {
            found,
            expected: (I, H, O),
        });
    }
    header.verify(bytes)?;
    let vocab_bytes = bytes
        .get(HEADER_LEN..HEADER_LEN + 4 * I)
        .ok_or(Error::Truncated)?;
    let mut decoded_vocab = CharVocab::<N>::new();
    let mut previous = None;
    for raw in vocab_bytes.chunks_exact(4).take(header.vocab_len) {
        let code = read_u32(raw, 0).ok_or(Error::Truncated)?;
        let c = char::from_u32(code).ok_or(Error::CorruptModel("vocabulary holds a non-char"))?;
        if previous.is_some_and(|p| p >= c) {
            return Err(Error::CorruptModel("vocabulary is not sorted"));
        }
        previous = Some(c);
        decoded_vocab.insert(c)?;
    }
    let parameters = bytes
        .get(HEADER_LEN + 4 * I..encoded_len::<I, H, O>() - 4)
        .ok_or(Error::Truncated)?;
    let mut values = parameters.chunks_exact(4);
    for tensor in rnn.tensors_mut() {
        for (slot, raw) in tensor.iter_mut().zip(&mut values) {
            *slot = f32::from_le_bytes(array_at(raw, 0).ok_or(Error::Truncated)?);
        }
    }
    *vocab = decoded_vocab;
    Ok(header)
}

/// Sequential little-endian writes into a buffer whose length was checked up front.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if let Some(dst) = self.out.get_mut(self.at..self.at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
        self.at += bytes.len();
    }

    fn put_u32(&mut self, value: u32) {
        self.put(&value.to_le_bytes());
    }
}

/// `N` bytes starting at `at`, if there are that many.
fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The little-endian `u32` at `at`.
fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    array_at(bytes, at).map(u32::from_le_bytes)
}

/// CRC-32 (IEEE 802.3, reflected, polynomial `0xEDB88320`), the checksum of zlib and PNG.
///
/// ```
/// assert_eq!(micrornn::format::crc32(b"123456789"), 0xCBF4_3926);
/// ```
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32_update(0, bytes)
}

/// Continues a CRC-32 over more bytes: `crc32_update(crc32(a), b) == crc32(a ++ b)`.
pub fn crc32_update(crc: u32, bytes: &[u8]) -> u32 {
    let mut crc = !crc;
    for &byte in bytes {
        let index = ((crc ^ u32::from(byte)) & 0xFF) as usize;
        crc = (crc >> 8) ^ CRC_TABLE.get(index).copied().unwrap_or(0);
    }
    !crc
}

/// The 256-entry lookup table of the reflected CRC-32, built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    const LEN: usize = encoded_len::<6, 5, 6>();

    fn sample() -> (Rnn<6, 5, 6>, CharVocab<8>, [u8; LEN]) {
        let mut rnn = Rnn::<6, 5, 6>::ZERO;
        rnn.init_gaussian(&mut crate::DefaultRng::seed_from_u64(3), 0.5);
        rnn.b_h[2] = -1.25;
        rnn.b_y[5] = 7.0;
        let vocab = CharVocab::<8>::from_text("ab—\n").unwrap();
        let mut bytes = [0u8; LEN];
        assert_eq!(encode(&rnn, &vocab, 4, &mut bytes), Ok(LEN));
        (rnn, vocab, bytes)
    }

    fn try_decode(bytes: &[u8]) -> Result<(Rnn<6, 5, 6>, CharVocab<8>, Header), Error> {
        let mut rnn = Rnn::ZERO;
        let mut vocab = CharVocab::new();
        let header = decode(bytes, &mut rnn, &mut vocab)?;
        Ok((rnn, vocab, header))
    }

    /// Rewrites the checksum after a deliberate edit, to reach the checks behind it.
    fn reseal(bytes: &mut [u8]) {
        let header_crc = crc32(&bytes[..HEADER_CRC_AT]);
        bytes[HEADER_CRC_AT..HEADER_LEN].copy_from_slice(&header_crc.to_le_bytes());
        let end = bytes.len() - 4;
        let crc = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32_update(crc32(b"1234"), b"56789"), 0xCBF4_3926);
    }

    #[test]
    fn round_trip_is_bit_exact() {
        let (rnn, vocab, bytes) = sample();
        assert_eq!(LEN, 32 + 4 * 6 + 4 * (6 * 5 + 25 + 5 + 6 * 5 + 6) + 4);
        let (decoded, decoded_vocab, header) = try_decode(&bytes).unwrap();
        assert_eq!(decoded, rnn);
        assert_eq!(decoded_vocab, vocab);
        let expected = Header {
            version: VERSION,
            inputs: 6,
            hidden: 5,
            outputs: 6,
            classes: 4,
            vocab_len: 4,
        };
        assert_eq!(header, expected);
        assert_eq!(Header::read(&bytes), Ok(expected));
        assert_eq!(header.encoded_len(), Some(LEN));
    }

    #[test]
    fn layout_is_little_endian_as_documented() {
        let (rnn, _, bytes) = sample();
        assert_eq!(&bytes[..4], b"MRNN");
        assert_eq!(&bytes[4..8], &[1, 0, 0, 0]);
        assert_eq!(&bytes[8..12], &[6, 0, 0, 0]);
        assert_eq!(&bytes[20..24], &[4, 0, 0, 0]);
        // Vocabulary: '\n', 'a', 'b', '—' (U+2014), then two empty slots.
        assert_eq!(&bytes[32..36], &[10, 0, 0, 0]);
        assert_eq!(&bytes[44..48], &[0x14, 0x20, 0, 0]);
        let first_weight = 32 + 4 * 6;
        assert_eq!(
            &bytes[first_weight..first_weight + 4],
            &rnn.w_xh[0][0].to_le_bytes()
        );
        let b_y_last = LEN - 8;
        assert_eq!(&bytes[b_y_last..b_y_last + 4], &7.0f32.to_le_bytes());
    }

    #[test]
    fn truncated_bytes_are_refused_at_every_length() {
        let (_, _, bytes) = sample();
        for len in 0..LEN {
            assert_eq!(
                try_decode(&bytes[..len]).err(),
                Some(Error::Truncated),
                "len {len}"
            );
            assert_eq!(Header::read(&bytes[..len]).err(), Some(Error::Truncated));
        }
    }

    #[test]
    fn every_flipped_byte_is_refused() {
        let (_, _, bytes) = sample();
        for at in 0..LEN {
            let mut damaged = bytes;
            damaged[at] ^= 0x10;
            let err = try_decode(&damaged).err();
            let expected = match at {
                0..4 => Error::NotAModel,
                4..6 => Error::UnsupportedVersion(u16::from_le_bytes([damaged[4], damaged[5]])),
                _ => Error::ChecksumMismatch,
            };
            assert_eq!(err, Some(expected), "byte {at}");
        }
    }

    #[test]
    fn wrong_magic_is_not_a_model() {
        assert_eq!(try_decode(b"hello world").err(), Some(Error::NotAModel));
        assert_eq!(try_decode(&[0u8; LEN]).err(), Some(Error::NotAModel));
        assert_eq!(try_decode(b"MR").err(), Some(Error::Truncated));
        assert_eq!(try_decode(b"").err(), Some(Error::Truncated));
    }

    #[test]
    fn wrong_version_is_refused() {
        let (_, _, mut bytes) = sample();
        bytes[4] = 2;
        reseal(&mut bytes);
        assert_eq!(try_decode(&bytes).err(), Some(Error::UnsupportedVersion(2)));
    }

    #[test]
    fn wrong_shape_is_refused_before_anything_else_is_trusted() {
        let (_, _, bytes) = sample();
        let mut rnn = Rnn::<6, 7, 6>::ZERO;
        let mut vocab = CharVocab::<8>::new();
        assert_eq!(
            decode(&bytes, &mut rnn, &mut vocab),
            Err(Error::ShapeMismatch {
                found: (6, 5, 6),
                expected: (6, 7, 6)
            })
        );
        assert_eq!(rnn, Rnn::ZERO);
    }

    #[test]
    fn failed_decode_leaves_the_destination_unchanged() {
        let (_, _, mut bytes) = sample();
        bytes[LEN - 10] ^= 1;
        let mut rnn = Rnn::<6, 5, 6>::ZERO;
        rnn.b_h = [3.0; 5];
        let mut vocab = CharVocab::<8>::from_text("z").unwrap();
        assert!(decode(&bytes, &mut rnn, &mut vocab).is_err());
        assert_eq!(rnn.b_h, [3.0; 5]);
        assert_eq!(vocab.chars(), &['z']);
    }

    #[test]
    fn impossible_values_with_valid_checksums_are_corrupt() {
        let (_, _, original) = sample();
        let mut bytes = original;
        bytes[20..24].copy_from_slice(&0u32.to_le_bytes()); // classes 0
        reseal(&mut bytes);
        assert!(matches!(try_decode(&bytes), Err(Error::CorruptModel(_))));

        let mut bytes = original;
        bytes[24..28].copy_from_slice(&7u32.to_le_bytes()); // vocabulary longer than inputs
        reseal(&mut bytes);
        assert!(matches!(try_decode(&bytes), Err(Error::CorruptModel(_))));

        let mut bytes = original;
        bytes[36..40].copy_from_slice(&0xD800u32.to_le_bytes()); // a surrogate is not a char
        reseal(&mut bytes);
        assert!(matches!(try_decode(&bytes), Err(Error::CorruptModel(_))));

        let mut bytes = original;
        bytes[32..36].copy_from_slice(&u32::from('z').to_le_bytes()); // unsorted
        reseal(&mut bytes);
        assert!(matches!(try_decode(&bytes), Err(Error::CorruptModel(_))));

        let mut bytes = original;
        bytes[8..12].copy_from_slice(&u32::MAX.to_le_bytes()); // absurd size
        reseal(&mut bytes);
        assert!(Header::read(&bytes).is_err());
    }

    #[test]
    fn vocabulary_must_fit_the_destination() {
        let (_, _, bytes) = sample();
        let mut rnn = Rnn::<6, 5, 6>::ZERO;
        let mut small = CharVocab::<2>::new();
        assert_eq!(
            decode(&bytes, &mut rnn, &mut small),
            Err(Error::VocabularyFull { capacity: 2 })
        );
    }

    #[test]
    fn encode_checks_its_arguments() {
        let (rnn, vocab, _) = sample();
        let mut short = [0u8; LEN - 1];
        assert_eq!(
            encode(&rnn, &vocab, 4, &mut short),
            Err(Error::BufferTooSmall { needed: LEN })
        );
        let mut bytes = [0u8; LEN + 8];
        assert!(encode(&rnn, &vocab, 0, &mut bytes).is_err());
        assert!(encode(&rnn, &vocab, 7, &mut bytes).is_err());
        let big = CharVocab::<8>::from_text("abcdefg").unwrap();
        assert_eq!(
            encode(&rnn, &big, 6, &mut bytes),
            Err(Error::VocabularyFull { capacity: 6 })
        );
        // A longer buffer is fine, and so is decoding from one.
        assert_eq!(encode(&rnn, &vocab, 4, &mut bytes), Ok(LEN));
        assert_eq!(try_decode(&bytes).unwrap().0, rnn);
    }
}
