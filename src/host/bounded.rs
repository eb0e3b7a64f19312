//! Reading untrusted files with bounded memory: look at the head first, never read or inflate
//! more than the largest thing the reader could hold.
//!
//! Model files, checkpoints and weights are shared between people, so they are untrusted input:
//! a 2 GB file that is not a model, or a 3 MB `.npz` of deflated zeros that declares a 3 GB
//! array, must be refused without the memory it claims. Every reader of those in
//! [`crate::host`] goes through this module (corpora and other texts are the user's data, read
//! whole; `docs/reliability.md` says what each command holds):
//!
//! - [`BoundedFile`]: a file opened with a byte limit the caller derives from the compiled sizes
//!   (for example [`crate::host::model_file::max_len`]). [`BoundedFile::head`] reads the first
//!   bytes (magic, version, header) so the caller can refuse a file that is not what it claims
//!   before reading the rest; [`BoundedFile::rest`] refuses a file longer than the limit from its
//!   length, then reads through a limit anyway (a pipe or `/proc` file has no length), so it never
//!   holds more than `limit + 1` bytes. [`BoundedFile::bytes_read`] counts what was read.
//! - [`read_entry`]: an entry of an archive (a zip entry, inflated as it is read), read through
//!   [`Read::take`] with a limit; an entry that is longer is an error, never silently cut.
//! - [`Budget`]: the largest single item (tensor) and the most bytes in all that a reader of many
//!   items (an `.npz`, a safetensors file) accepts.
//!
//! ```
//! use micrornn::host::bounded::{BoundedFile, ReadError};
//! let path = std::env::temp_dir().join(format!("bounded-doc-{}", std::process::id()));
//! std::fs::write(&path, b"MRNN and then far too much")?;
//! let mut file = BoundedFile::open(&path, 16)?;
//! let refused = file.checked(4, |head| if head == b"MRNN" { Ok(()) } else { Err("not a model") });
//! // The magic is right, but the file is longer than the limit: refused after its head.
//! assert!(matches!(refused, Err(ReadError::TooLarge { size: 26, limit: 16 })));
//! assert_eq!(file.bytes_read(), 4);
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Why a bounded read stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadError<E> {
    /// The file cannot be opened or read.
    Io(io::Error),
    /// The head says the file is not what the caller reads (the caller's own error).
    Head(E),
    /// The file (or entry) holds more bytes than the largest the caller can use.
    TooLarge {
        /// What the file declares or its length, in bytes (at least `limit + 1` when it was only
        /// found out by reading).
        size: u64,
        /// The most bytes the caller accepts.
        limit: u64,
    },
}

impl<E: fmt::Display> fmt::Display for ReadError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Head(e) => write!(f, "{e}"),
            ReadError::TooLarge { size, limit } => write!(
                f,
                "{size} bytes, more than the largest this build can use ({limit} bytes)"
            ),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for ReadError<E> {}

impl<E> From<io::Error> for ReadError<E> {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// A file read with a byte limit, counting the bytes it reads.
#[derive(Debug)]
pub struct BoundedFile {
    file: File,
    /// Length on disk when opened (0 for a pipe or a `/proc` file, which do not say).
    len: u64,
    limit: u64,
    /// Bytes read so far (the head included).
    read: u64,
    /// The head, kept so [`BoundedFile::rest`] returns the whole file.
    head: Vec<u8>,
}

impl BoundedFile {
    /// Opens `path` to read at most `limit` bytes of it.
    ///
    /// # Errors
    /// The [`io::Error`] of opening it.
    pub fn open(path: &Path, limit: u64) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            file,
            len,
            limit,
            read: 0,
            head: Vec::new(),
        })
    }

    /// Bytes read from the file so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The file's first `n` bytes (fewer if it is shorter), read once and kept. `n` is a header's
    /// length, chosen by the caller; the limit bounds [`BoundedFile::rest`].
    ///
    /// # Errors
    /// An [`io::Error`] reading the file.
    pub fn head(&mut self, n: usize) -> io::Result<&[u8]> {
        let wanted = (n.saturating_sub(self.head.len())) as u64;
        let got = (&mut self.file).take(wanted).read_to_end(&mut self.head)?;
        self.read += got as u64;
        Ok(&self.head)
    }

    /// The head, checked by `check`, then the whole file: refused from its length before reading
    /// the rest if that exceeds the limit, and read through the limit in any case.
    ///
    /// # Errors
    /// [`ReadError::Head`] with `check`'s error (only the head has been read),
    /// [`ReadError::TooLarge`] for a file longer than the limit, [`ReadError::Io`].
    pub fn checked<E>(
        &mut self,
        head_len: usize,
        check: impl FnOnce(&[u8]) -> Result<(), E>,
    ) -> Result<Vec<u8>, ReadError<E>> {
        check(self.head(head_len)?).map_err(ReadError::Head)?;
        self.rest().map_err(ReadError::widen)
    }

    /// The whole file (the head read before included); [`ReadError::TooLarge`] if it is longer
    /// than the limit, decided from its length before reading more when the length is known.
    ///
    /// # Errors
    /// [`ReadError::TooLarge`] or [`ReadError::Io`].
    pub fn rest(&mut self) -> Result<Vec<u8>, ReadError<std::convert::Infallible>> {
        let limit = self.limit;
        if self.len > limit {
            return Err(ReadError::TooLarge {
                size: self.len,
                limit,
            });
        }
        let mut bytes = std::mem::take(&mut self.head);
        // One byte past the limit tells a file that grew (or has no length) from one that fits.
        let allowance = (limit + 1).saturating_sub(bytes.len() as u64);
        let got = (&mut self.file).take(allowance).read_to_end(&mut bytes)?;
        self.read += got as u64;
        if bytes.len() as u64 > limit {
            return Err(ReadError::TooLarge {
                size: bytes.len() as u64,
                limit,
            });
        }
        Ok(bytes)
    }
}

impl<E> ReadError<E> {
    /// The same error with the head's error converted by `f`.
    pub fn map_head<F>(self, f: impl FnOnce(E) -> F) -> ReadError<F> {
        match self {
            ReadError::Io(e) => ReadError::Io(e),
            ReadError::Head(e) => ReadError::Head(f(e)),
            ReadError::TooLarge { size, limit } => ReadError::TooLarge { size, limit },
        }
    }
}

impl ReadError<std::convert::Infallible> {
    /// The same error, typed for any head error (a read without a head check has none).
    pub fn widen<E>(self) -> ReadError<E> {
        self.map_head(|never| match never {})
    }
}

/// Reads `path` whole if it has at most `limit` bytes (a text the caller keeps small, such as a
/// vocabulary).
///
/// # Errors
/// [`ReadError::TooLarge`] or [`ReadError::Io`].
pub fn read_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError<std::convert::Infallible>> {
    BoundedFile::open(path, limit)?.rest()
}

/// Reads `entry` to its end if it holds at most `limit` bytes, appending to `out`; an entry that
/// holds more is [`ReadError::TooLarge`] after reading `limit + 1` bytes, never cut short
/// silently. Returns the bytes read.
///
/// # Errors
/// [`ReadError::TooLarge`] or [`ReadError::Io`] (a damaged deflate stream, say).
pub fn read_entry(
    entry: impl Read,
    limit: u64,
    out: &mut Vec<u8>,
) -> Result<u64, ReadError<std::convert::Infallible>> {
    let got = entry.take(limit.saturating_add(1)).read_to_end(out)? as u64;
    if got > limit {
        return Err(ReadError::TooLarge { size: got, limit });
    }
    Ok(got)
}

/// What a reader of many items (tensors) accepts: the largest item and the most bytes in all,
/// and what it has taken so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Bytes of the largest single item.
    pub item_bytes: u64,
    /// Bytes of all items together (and of the file that holds them).
    pub total_bytes: u64,
    /// Bytes taken by the items read so far.
    used: u64,
}

impl Budget {
    /// A budget of items of at most `item_bytes`, `total_bytes` in all.
    pub const fn new(item_bytes: u64, total_bytes: u64) -> Self {
        Self {
            item_bytes,
            total_bytes,
            used: 0,
        }
    }

    /// Bytes still free.
    pub fn left(&self) -> u64 {
        self.total_bytes - self.used
    }

    /// Takes `bytes` of an item from the budget, or says why it does not fit (`what` names the
    /// item, e.g. `tensor rnn.weight_ih_l0: shape [805306368] F32`).
    ///
    /// # Errors
    /// A one-line message: declared bytes against the largest item or the bytes left.
    pub fn take(&mut self, what: &str, bytes: u64) -> Result<(), String> {
        if bytes > self.item_bytes {
            return Err(format!(
                "{what} declares {bytes} bytes; the largest tensor this build can import has {}",
                self.item_bytes
            ));
        }
        if bytes > self.left() {
            return Err(format!(
                "{what} declares {bytes} bytes, more than the {} left of the {} the tensors of \
                 the largest model this build can import hold",
                self.left(),
                self.total_bytes
            ));
        }
        self.used += bytes;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("micrornn-bounded-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn a_file_within_the_limit_is_read_whole_head_included() {
        let path = temp_file("small", b"MAGIC and the rest");
        let mut file = BoundedFile::open(&path, 18).unwrap();
        assert_eq!(file.head(5).unwrap(), b"MAGIC");
        assert_eq!(file.bytes_read(), 5);
        assert_eq!(file.rest().unwrap(), b"MAGIC and the rest");
        assert_eq!(file.bytes_read(), 18);
    }

    #[test]
    fn a_longer_file_is_refused_after_its_head_only() {
        let path = temp_file("long", b"MAGIC and the rest");
        let mut file = BoundedFile::open(&path, 17).unwrap();
        file.head(5).unwrap();
        let error = file.rest().unwrap_err();
        assert!(matches!(
            error,
            ReadError::TooLarge {
                size: 18,
                limit: 17
            }
        ));
        assert_eq!(file.bytes_read(), 5);
        let mut file = BoundedFile::open(&path, 100).unwrap();
        let refused = file.checked(5, |head| {
            if head == b"OTHER" {
                Ok(())
            } else {
                Err("not OTHER")
            }
        });
        assert!(matches!(refused, Err(ReadError::Head("not OTHER"))));
        assert_eq!(file.bytes_read(), 5);
    }

    #[test]
    fn an_entry_past_its_limit_is_an_error_not_a_cut() {
        let mut out = Vec::new();
        assert_eq!(read_entry(&[7u8; 10][..], 10, &mut out).unwrap(), 10);
        let mut out = Vec::new();
        let error = read_entry(io::repeat(0), 1000, &mut out).unwrap_err();
        assert!(matches!(
            error,
            ReadError::TooLarge {
                size: 1001,
                limit: 1000
            }
        ));
        assert_eq!(out.len(), 1001);
    }

    #[test]
    fn a_budget_refuses_an_item_too_large_and_a_sum_too_large() {
        let mut budget = Budget::new(10, 15);
        assert!(
            budget
                .take("a", 11)
                .unwrap_err()
                .contains("declares 11 bytes")
        );
        budget.take("a", 10).unwrap();
        assert!(budget.take("b", 6).is_err());
        budget.take("b", 5).unwrap();
        assert_eq!(budget.left(), 0);
    }
}
