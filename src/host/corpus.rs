//! Text corpora: the built-in one, reading one from a file, and the train/validation split.

use std::fmt;
use std::path::Path;

/// A corpus that ships inside the crate: micrornn's own source code (the model, BPTT, training,
/// sampling, optimizer, vocabulary and file-format modules, about 60 K characters of Rust and
/// English). `micrornn train` with no corpus learns it, so a fresh clone can train without a
/// download; examples use it for the same reason.
///
/// ```
/// let text = micrornn::host::corpus::BUILTIN;
/// assert!(text.contains("pub struct Rnn"));
/// assert!(micrornn::CharVocab::<128>::from_text(text).is_ok());
/// ```
pub const BUILTIN: &str = concat!(
    include_str!("../model/rnn.rs"),
    include_str!("../model/bptt.rs"),
    include_str!("../workflows/train.rs"),
    include_str!("../workflows/sample.rs"),
    include_str!("../workflows/optim.rs"),
    include_str!("../codec/vocab.rs"),
    include_str!("../codec/format.rs"),
);

/// Why a text file cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum TextError {
    /// The file cannot be read.
    Io(std::io::Error),
    /// The bytes are not UTF-8; the position of the first bad byte.
    NotUtf8 {
        /// 1-based line.
        line: usize,
        /// 1-based byte column in that line.
        column: usize,
    },
    /// The file holds no text.
    Empty,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Io(e) => write!(f, "{e}"),
            TextError::NotUtf8 { line, column } => {
                write!(f, "not valid UTF-8 text (line {line}, byte {column})")
            }
            TextError::Empty => write!(f, "the file is empty"),
        }
    }
}

impl std::error::Error for TextError {}

/// Reads a UTF-8 text file.
///
/// # Errors
/// [`TextError::Io`] if it cannot be read, [`TextError::NotUtf8`] with the position of the first
/// invalid byte, [`TextError::Empty`] for an empty file.
pub fn read_text(path: &Path) -> Result<String, TextError> {
    let bytes = std::fs::read(path).map_err(TextError::Io)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let before = e.as_bytes().get(..bad).unwrap_or_default();
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        TextError::NotUtf8 {
            line,
            column: bad - line_start + 1,
        }
    })?;
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    Ok(text)
}

/// The 1-based (line, column) of the `index`-th character of `text`, for error messages.
pub fn position_of_char(text: &str, index: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in text.chars().take(index) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}

/// Splits token ids into a training part and a validation part: the last `val_fraction` of the
/// text (rounded down) is held out. The split is a single cut, so both parts are contiguous text.
///
/// ```
/// let ids: Vec<usize> = (0..100).collect();
/// let (train, val) = micrornn::host::corpus::split(&ids, 0.1);
/// assert_eq!((train.len(), val.len()), (90, 10));
/// assert_eq!(val[0], 90);
/// ```
pub fn split(ids: &[usize], val_fraction: f32) -> (&[usize], &[usize]) {
    let fraction = f64::from(val_fraction).clamp(0.0, 1.0);
    let held_out = (ids.len() as f64 * fraction) as usize;
    ids.split_at(ids.len() - held_out.min(ids.len()))
}

/// FNV-1a (64-bit) of `text`: a fingerprint that lets a checkpoint refuse to resume on another
/// corpus.
pub fn fingerprint(text: &str) -> u64 {
    extend_fingerprint(FINGERPRINT_START, text.as_bytes())
}

/// The FNV-1a offset basis: the fingerprint of nothing.
pub const FINGERPRINT_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The FNV-1a fingerprint `hash` continued over `bytes` (`fingerprint(a + b)` is
/// `extend_fingerprint(fingerprint(a), b)`).
pub fn extend_fingerprint(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_position_of_invalid_utf8() {
        let dir = std::env::temp_dir().join(format!("micrornn-corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.txt");
        std::fs::write(&path, b"ok\nab\xffc").unwrap();
        let err = read_text(&path).unwrap_err();
        assert!(
            matches!(err, TextError::NotUtf8 { line: 2, column: 3 }),
            "{err:?}"
        );
        std::fs::write(&path, b"").unwrap();
        assert!(matches!(read_text(&path), Err(TextError::Empty)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn char_positions_count_lines() {
        assert_eq!(position_of_char("ab\ncd", 4), (2, 2));
        assert_eq!(position_of_char("—x", 1), (1, 2));
    }
}
