//! Model files on disk: the [`crate::format`] encoding, written atomically.

use crate::format::{self, Contents, Header};
use crate::{CharVocab, Error, Rnn};
use std::fmt;
use std::path::Path;

/// Why a model file cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum ModelFileError {
    /// The file cannot be read or written.
    Io(std::io::Error),
    /// The bytes are not a valid model (see [`crate::format::decode`]).
    Format(Error),
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFileError::Io(e) => write!(f, "{e}"),
            ModelFileError::Format(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ModelFileError {}

impl From<Error> for ModelFileError {
    fn from(e: Error) -> Self {
        ModelFileError::Format(e)
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

/// The model file's bytes for any [`Contents`].
///
/// # Errors
/// As [`crate::format::encode_contents`].
pub fn contents_to_bytes<const I: usize, const H: usize, const O: usize>(
    rnn: &Rnn<I, H, O>,
    contents: &Contents<'_, H>,
) -> Result<Vec<u8>, Error> {
    let mut bytes = vec![0u8; format::encoded_len::<I, H, O>(contents)];
    format::encode_contents(rnn, contents, &mut bytes)?;
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

/// Saves a model and its [`Contents`] (initial state, vocabulary of any kind, task, metadata) to
/// `path`, atomically.
///
/// # Errors
/// [`ModelFileError::Format`] for contents [`crate::format::encode_contents`] refuses,
/// [`ModelFileError::Io`] if the file cannot be written (the old file is then intact).
pub fn save_contents<const I: usize, const H: usize, const O: usize>(
    path: &Path,
    rnn: &Rnn<I, H, O>,
    contents: &Contents<'_, H>,
) -> Result<(), ModelFileError> {
    let bytes = contents_to_bytes(rnn, contents)?;
    super::atomic::write(path, &bytes).map_err(ModelFileError::Io)
}

/// Reads a model file and checks it whole (magic, version, length, checksum) without knowing its
/// shape; returns the bytes and the header, so the caller can pick a type of that shape and
/// [`crate::format::decode`] into it.
///
/// # Errors
/// [`ModelFileError::Io`] if the file cannot be read, [`ModelFileError::Format`] if the bytes
/// are not a valid model.
pub fn read(path: &Path) -> Result<(Vec<u8>, Header), ModelFileError> {
    let bytes = std::fs::read(path).map_err(ModelFileError::Io)?;
    let header = Header::read(&bytes)?;
    Ok((bytes, header))
}
