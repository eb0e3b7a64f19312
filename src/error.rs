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
    /// A model file holding another recurrent cell than the type it is decoded into (an Elman
    /// file into a GRU, say).
    CellMismatch {
        /// The file's cell (`"elman"`, `"gru"`).
        found: &'static str,
        /// The type's cell.
        expected: &'static str,
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

impl Error {
    /// A stable number for each kind of error (the variant; never its fields), for a log line,
    /// an exit code or an LED pattern: a `const fn` of a `match`, a few bytes of flash.
    ///
    /// ```
    /// use micrornn::Error;
    /// assert_eq!(Error::ChecksumMismatch.code(), 14);
    /// assert_eq!(Error::CorruptModel("anything").code(), 16);
    /// ```
    pub const fn code(&self) -> u16 {
        match self {
            Error::UnknownChar(_) => 1,
            Error::UnknownWord { .. } => 2,
            Error::VocabularyFull { .. } => 3,
            Error::TokenOutOfRange { .. } => 4,
            Error::BadLength { .. } => 5,
            Error::TargetsMismatch { .. } => 6,
            Error::InvalidSetting(_) => 7,
            Error::NonFiniteLoss => 8,
            Error::CorpusTooShort { .. } => 9,
            Error::NotAModel => 10,
            Error::UnsupportedVersion(_) => 11,
            Error::ShapeMismatch { .. } => 12,
            Error::Truncated => 13,
            Error::ChecksumMismatch => 14,
            Error::BufferTooSmall { .. } => 15,
            Error::CorruptModel(_) => 16,
            Error::CellMismatch { .. } => 17,
        }
    }

    /// A fixed English sentence for the error, without its numbers (the `&'static str` of
    /// [`Error::InvalidSetting`] and [`Error::CorruptModel`] is returned as it is).
    ///
    /// On a microcontroller this is the cheap way to report an error: it costs the strings and
    /// a `match`, while `{}` ([`core::fmt::Display`]) pulls in `core::fmt`'s integer and
    /// `char` formatting (+7.0 KB of flash in the minimal firmware of
    /// `docs/microcontrollers.md`, Cortex-M4F, opt 3) and `{:?}` (`Debug`) the derived debug
    /// printers too (+10.3 KB). A `const fn`, so a model file checked at compile time
    /// ([`crate::format::decode_const`]) names its problem in the compile error.
    ///
    /// ```
    /// use micrornn::Error;
    /// assert_eq!(Error::Truncated.as_str(), "the model data is truncated");
    /// assert_eq!(Error::InvalidSetting("lr must be > 0").as_str(), "lr must be > 0");
    /// ```
    pub const fn as_str(&self) -> &'static str {
        match self {
            Error::UnknownChar(_) => "a character is not in the model's vocabulary",
            Error::UnknownWord { .. } => "a word of the text is not in the vocabulary",
            Error::VocabularyFull { .. } => "more distinct symbols than the vocabulary holds",
            Error::TokenOutOfRange { .. } => "a token id is out of range",
            Error::BadLength { .. } => "a sequence is empty or longer than its buffer",
            Error::TargetsMismatch { .. } => "inputs and targets differ in length",
            Error::InvalidSetting(what) | Error::CorruptModel(what) => what,
            Error::NonFiniteLoss => "the loss is NaN or infinite: training diverged",
            Error::CorpusTooShort { .. } => "the text is too short for one training chunk",
            Error::NotAModel => "not a micrornn model (bad magic bytes)",
            Error::UnsupportedVersion(_) => "unsupported model format version",
            Error::ShapeMismatch { .. } => "the model file holds a model of another shape",
            Error::CellMismatch { .. } => "the model file holds another recurrent cell",
            Error::Truncated => "the model data is truncated",
            Error::ChecksumMismatch => "checksum mismatch: the model data is damaged",
            Error::BufferTooSmall { .. } => "buffer too small",
        }
    }
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
            Error::CellMismatch { found, expected } => write!(
                f,
                "the model file holds a {found} cell, expected {expected}"
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

#[cfg(test)]
mod tests {
    use super::Error;

    /// One of each variant.
    const ALL: [Error; 17] = [
        Error::UnknownChar('x'),
        Error::UnknownWord { index: 3 },
        Error::VocabularyFull { capacity: 4 },
        Error::TokenOutOfRange { token: 9, limit: 4 },
        Error::BadLength {
            len: 0,
            capacity: 5,
        },
        Error::TargetsMismatch {
            inputs: 2,
            targets: 3,
        },
        Error::InvalidSetting("lr must be positive"),
        Error::NonFiniteLoss,
        Error::CorpusTooShort { len: 3, needed: 26 },
        Error::NotAModel,
        Error::UnsupportedVersion(7),
        Error::ShapeMismatch {
            found: (1, 2, 3),
            expected: (4, 5, 6),
        },
        Error::Truncated,
        Error::ChecksumMismatch,
        Error::BufferTooSmall { needed: 10 },
        Error::CorruptModel("vocabulary is not sorted"),
        Error::CellMismatch {
            found: "elman",
            expected: "gru",
        },
    ];

    /// Evaluated by the compiler: both are usable where firmware reports an error from a
    /// `const` (a model checked at compile time).
    const CODE_OF_TRUNCATED: u16 = Error::Truncated.code();
    const TEXT_OF_TRUNCATED: &str = Error::Truncated.as_str();

    #[test]
    fn every_kind_has_its_own_code_and_a_sentence() {
        let mut codes: Vec<u16> = ALL.iter().map(Error::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(
            codes,
            (1..=17).collect::<Vec<_>>(),
            "distinct, stable 1..=17"
        );
        for error in ALL {
            assert!(!error.as_str().is_empty(), "{error:?}");
            // The fields are not part of the code or the sentence.
            assert!(
                !error.as_str().contains(|c: char| c.is_ascii_digit()),
                "{error:?}"
            );
        }
        assert_eq!(
            Error::CorruptModel("vocabulary is not sorted").as_str(),
            "vocabulary is not sorted"
        );
        assert_eq!(
            (CODE_OF_TRUNCATED, TEXT_OF_TRUNCATED),
            (13, "the model data is truncated")
        );
    }
}
