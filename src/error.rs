//! The one error type of the crate.

use core::fmt;

/// Everything that can go wrong because of data: a character the vocabulary does not hold, a
/// vocabulary over capacity, corrupt model bytes, a loss that is no longer finite.
///
/// Sizes that are wrong at compile time (a hidden state of the wrong length, say) are type errors
/// and never reach this enum.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A character that is not in the vocabulary.
    UnknownChar(char),
    /// A word that is not in the word vocabulary (which has no `<unk>` entry).
    UnknownWord {
        /// Position of the word in its text, counting words from 0.
        index: usize,
    },
    /// The text has more distinct characters (or words) than the vocabulary can hold.
    VocabularyFull {
        /// How many symbols the vocabulary can hold.
        capacity: usize,
    },
    /// A token id that is not below the number of inputs or classes of the model.
    TokenOutOfRange {
        /// The offending token id.
        token: usize,
        /// The number of valid ids.
        limit: usize,
    },
    /// A sequence that is empty, or longer than the buffer it must fit.
    BadLength {
        /// Its length.
        len: usize,
        /// The largest length allowed.
        capacity: usize,
    },
    /// Targets and inputs of different lengths.
    TargetsMismatch {
        /// The number of inputs.
        inputs: usize,
        /// The number of targets.
        targets: usize,
    },
    /// A setting out of its range (a learning rate ≤ 0, a class count above the model's outputs…).
    InvalidSetting(&'static str),
    /// The loss (or a gradient) became NaN or infinite: training diverged.
    NonFiniteLoss,
    /// The text is too short for one training chunk (`seq_len + 1` symbols are needed).
    CorpusTooShort {
        /// Symbols in the text.
        len: usize,
        /// Symbols needed.
        needed: usize,
    },
    /// Bytes that do not start with the micrornn magic: not a model file.
    NotAModel,
    /// A model file of a format version this build does not read.
    UnsupportedVersion(u16),
    /// A model file whose sizes differ from the model type it is decoded into.
    ShapeMismatch {
        /// What the file says, as (inputs, hidden, outputs).
        found: (usize, usize, usize),
        /// What the type expects.
        expected: (usize, usize, usize),
    },
    /// Bytes that end before the data they announce.
    Truncated,
    /// The checksum does not match: the bytes were damaged.
    ChecksumMismatch,
    /// A buffer too small to hold the encoding.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// Model bytes whose checksums match but whose content is impossible (a vocabulary entry
    /// that is not a character, a class count above the outputs…): written by another tool.
    CorruptModel(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::UnknownChar(c) => write!(f, "character {c:?} is not in the model's vocabulary"),
            Error::UnknownWord { index } => write!(
                f,
                "word {index} of the text (counting from 0) is not in the vocabulary"
            ),
            Error::VocabularyFull { capacity } => {
                write!(
                    f,
                    "more distinct symbols than the vocabulary holds ({capacity})"
                )
            }
            Error::TokenOutOfRange { token, limit } => {
                write!(
                    f,
                    "token id {token} is out of range (the model has {limit})"
                )
            }
            Error::BadLength { len, capacity } => {
                write!(f, "sequence length {len} is not in 1..={capacity}")
            }
            Error::TargetsMismatch { inputs, targets } => {
                write!(f, "{inputs} inputs but {targets} targets")
            }
            Error::InvalidSetting(what) => write!(f, "invalid setting: {what}"),
            Error::NonFiniteLoss => write!(f, "the loss is NaN or infinite: training diverged"),
            Error::CorpusTooShort { len, needed } => {
                write!(
                    f,
                    "the text has {len} symbols; at least {needed} are needed"
                )
            }
            Error::NotAModel => write!(f, "not a micrornn model (bad magic bytes)"),
            Error::UnsupportedVersion(v) => write!(f, "unsupported model format version {v}"),
            Error::ShapeMismatch { found, expected } => write!(
                f,
                "model shape (inputs, hidden, outputs) is {found:?}, expected {expected:?}"
            ),
            Error::Truncated => write!(f, "the model data is truncated"),
            Error::ChecksumMismatch => write!(f, "checksum mismatch: the model data is damaged"),
            Error::BufferTooSmall { needed } => {
                write!(f, "buffer too small: {needed} bytes needed")
            }
            Error::CorruptModel(what) => write!(f, "invalid model data: {what}"),
        }
    }
}

impl core::error::Error for Error {}
