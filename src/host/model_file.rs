//! Model files on disk: the [`crate::format`] encoding, written atomically, read with bounded
//! memory (see [`max_len`] and [`read_at_most`]).

use super::bounded::{BoundedFile, ReadError};
use crate::format::{self, Contents, Header};
use crate::{Cell, CharVocab, Error, Rnn, qformat};
use std::fmt;
use std::path::Path;

/// The most bytes of text (vocabulary, class names and metadata together) a model file read by
/// the host may hold. The format allows up to 4 GiB each; micrornn writes a few KiB (a character
/// vocabulary is at most 4 bytes per input, a word vocabulary of 256 words a few KiB, the
/// training settings a dozen lines), so 1 MiB leaves ample room while bounding what a file can
/// make a reader hold.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Bytes of a model file's head read before the rest: the longest header (format version 2).
pub const HEAD_LEN: usize = format::HEADER_LEN;

/// The longest model file of shape `<I, H, O>` the host reads: an f32 file (either version) with
/// [`MAX_TEXT_BYTES`] of text, or a quantized one, whichever is longer (the f32 one, for any
/// `H` ≥ 4: int8 weights take a quarter of the bytes).
pub const fn max_len<const I: usize, const H: usize, const O: usize>() -> usize {
    let f32_len = format::max_char_model_len::<I, H, O>(MAX_TEXT_BYTES);
    let quantized_len = qformat::encoded_len::<I, H, O>();
    if f32_len > quantized_len {
        f32_len
    } else {
        quantized_len
    }
}

/// Whether `error`, met reading a file's head, is final: the magic or the version is wrong, which
/// no later byte changes (a head is otherwise only too short to say more).
pub(super) fn final_from_head(error: &Error) -> bool {
    matches!(error, Error::NotAModel | Error::UnsupportedVersion(_))
}

/// Why a model file cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum ModelFileError {
    /// The file cannot be read or written.
    Io(std::io::Error),
    /// The bytes are not a valid model (see [`crate::format::decode`]).
    Format(Error),
    /// The file is longer than the largest model the reader can load (nothing past its head was
    /// read).
    TooLarge {
        /// Its length in bytes.
        size: u64,
        /// The longest model file the reader loads.
        limit: u64,
    },
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFileError::Io(e) => write!(f, "{e}"),
            ModelFileError::Format(e) => write!(f, "{e}"),
            ModelFileError::TooLarge { size, limit } => write!(
                f,
                "{size} bytes, longer than any model this build loads (at most {limit} bytes)"
            ),
        }
    }
}

impl std::error::Error for ModelFileError {}

impl From<Error> for ModelFileError {
    fn from(e: Error) -> Self {
        ModelFileError::Format(e)
    }
}

impl From<ReadError<Error>> for ModelFileError {
    fn from(e: ReadError<Error>) -> Self {
        match e {
            ReadError::Io(e) => ModelFileError::Io(e),
            ReadError::Head(e) => ModelFileError::Format(e),
            ReadError::TooLarge { size, limit } => ModelFileError::TooLarge { size, limit },
        }
    }
}

/// The model file's bytes for a character language model starting from zeros.
///
/// # Errors
/// As [`crate::format::encode`].
pub fn to_bytes<const I: usize, const H: usize, const O: usize, const N: usize>(
    rnn: &Rnn<I, H, O>,
    vocab: &CharVocab<N>,
    classes: usize,
) -> Result<Vec<u8>, Error> {
    contents_to_bytes(rnn, &Contents::language_model(vocab.chars(), classes))
}

/// The model file's bytes of any cell (an [`Rnn`], a [`Gru`](crate::Gru), …) with any
/// [`Contents`].
///
/// # Errors
/// As [`crate::format::encode_contents`].
pub fn contents_to_bytes<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    model: &C,
    contents: &Contents<'_, H>,
) -> Result<Vec<u8>, Error> {
    let mut bytes = vec![0u8; format::encoded_len::<C, H>(contents)];
    format::encode_contents(model, contents, &mut bytes)?;
    Ok(bytes)
}

/// Saves a character language model (starting from zeros) and its vocabulary to `path`,
/// atomically.
///
/// # Errors
/// [`ModelFileError::Format`] for arguments [`crate::format::encode`] refuses,
/// [`ModelFileError::Io`] if the file cannot be written (the old file is then intact).
pub fn save<const I: usize, const H: usize, const O: usize, const N: usize>(
    path: &Path,
    rnn: &Rnn<I, H, O>,
    vocab: &CharVocab<N>,
    classes: usize,
) -> Result<(), ModelFileError> {
    save_contents(path, rnn, &Contents::language_model(vocab.chars(), classes))
}

/// Saves a model of any cell and its [`Contents`] (initial state, vocabulary of any kind, task, metadata) to
/// `path`, atomically.
///
/// # Errors
/// [`ModelFileError::Format`] for contents [`crate::format::encode_contents`] refuses,
/// [`ModelFileError::Io`] if the file cannot be written (the old file is then intact).
pub fn save_contents<C: Cell<I, H, O>, const I: usize, const H: usize, const O: usize>(
    path: &Path,
    rnn: &C,
    contents: &Contents<'_, H>,
) -> Result<(), ModelFileError> {
    let bytes = contents_to_bytes(rnn, contents)?;
    super::atomic::write(path, &bytes).map_err(ModelFileError::Io)
}

/// Reads a model file, f32 or quantized, of at most `file`'s limit (derive it from the sizes the
/// reader can decode with [`max_len`]): its head first, so a file that is not a model (wrong
/// magic or version) is refused after [`HEAD_LEN`] bytes, and a longer one from its length
/// without reading the rest. The bytes are not checked further.
///
/// # Errors
/// [`ModelFileError::Format`] ([`Error::NotAModel`], [`Error::UnsupportedVersion`]),
/// [`ModelFileError::TooLarge`] or [`ModelFileError::Io`].
pub fn read_at_most(file: &mut BoundedFile) -> Result<Vec<u8>, ModelFileError> {
    let bytes = file.checked(HEAD_LEN, |head| {
        if qformat::is_quantized(head) {
            return Ok(());
        }
        match Header::read(head) {
            Err(e) if final_from_head(&e) => Err(e),
            _ => Ok(()),
        }
    })?;
    Ok(bytes)
}

/// Reads an f32 model file of at most `limit` bytes ([`read_at_most`]) and checks it whole (magic,
/// version, length, checksum) without knowing its shape; returns the bytes and the header, so the
/// caller can pick a type of that shape and [`crate::format::decode`] into it.
///
/// # Errors
/// [`ModelFileError::Io`] if the file cannot be read, [`ModelFileError::TooLarge`] if it is
/// longer than `limit`, [`ModelFileError::Format`] if the bytes are not a valid model.
pub fn read(path: &Path, limit: u64) -> Result<(Vec<u8>, Header), ModelFileError> {
    let mut file = BoundedFile::open(path, limit).map_err(ModelFileError::Io)?;
    let bytes = read_at_most(&mut file)?;
    let header = Header::read(&bytes)?;
    Ok((bytes, header))
}
