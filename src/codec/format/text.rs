//! The text sections of a model file, borrowed from its bytes: a word vocabulary, class names
//! and `key=value` metadata, each one UTF-8 block whose entries are separated by `\n`.
//!
//! Decoding checks them once; afterwards they are plain `&str` slices of the caller's bytes, so
//! firmware reads the words of an `include_bytes!` model without copying them anywhere.

use crate::Error;

// core's `str::split` and `split_once` keep a slice-index panic that the optimizer does not
// remove (the link-time panic check found it), so the entries are cut here with `str::get`.

/// The pieces of `text` between the bytes `separator` (an ASCII byte, so every cut is on a
/// character boundary); one empty piece for an empty text, as `str::split` gives.
fn split_at_byte(text: &str, separator: u8) -> impl Iterator<Item = &str> {
    let mut start = Some(0usize);
    core::iter::from_fn(move || {
        let from = start?;
        let rest = text.as_bytes().get(from..).unwrap_or_default();
        match rest.iter().position(|&b| b == separator) {
            Some(offset) => {
                start = Some(from + offset + 1);
                text.get(from..from + offset)
            }
            None => {
                start = None;
                text.get(from..)
            }
        }
    })
}

/// `text` cut at its first byte `separator` (ASCII), without it.
fn split_once_at_byte(text: &str, separator: u8) -> Option<(&str, &str)> {
    let at = text.as_bytes().iter().position(|&b| b == separator)?;
    Some((text.get(..at)?, text.get(at + 1..)?))
}

/// The whitespace-separated words of `text` (as `str::split_whitespace`).
fn words_of(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    core::iter::from_fn(move || {
        let start = rest.char_indices().find(|(_, c)| !c.is_whitespace())?.0;
        let tail = rest.get(start..)?;
        let end = tail
            .char_indices()
            .find(|(_, c)| c.is_whitespace())
            .map_or(tail.len(), |(i, _)| i);
        let word = tail.get(..end)?;
        rest = tail.get(end..).unwrap_or_default();
        Some(word)
    })
}

/// Entries separated by `\n` in a checked UTF-8 block: the words of a word vocabulary (a word's
/// id is its index) or the names of a classifier's classes.
///
/// ```
/// use micrornn::format::TextList;
/// let words = TextList::words("bad\ngood\nnot", 3)?;
/// assert_eq!(words.get(1), Some("good"));
/// assert_eq!(words.id("not"), Some(2));
/// let mut ids = [0usize; 4];
/// assert_eq!(words.encode_into("not  good", &mut ids)?, 2);
/// assert_eq!(ids[..2], [2, 1]);
/// assert!(words.encode_into("not great", &mut ids).is_err());
/// assert!(TextList::words("good\nbad", 2).is_err()); // not sorted
/// # Ok::<(), micrornn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextList<'b> {
    text: &'b str,
    len: usize,
}

impl<'b> TextList<'b> {
    /// An empty list.
    pub const EMPTY: TextList<'static> = TextList { text: "", len: 0 };

    /// `len` words separated by `\n`: each non-empty, without whitespace, strictly increasing.
    ///
    /// # Errors
    /// [`Error::CorruptModel`] if `text` is not such a list.
    pub fn words(text: &'b str, len: usize) -> Result<Self, Error> {
        let list = Self::names(text, len)?;
        let mut previous: Option<&str> = None;
        for word in list.iter() {
            if word.chars().any(char::is_whitespace) {
                return Err(Error::CorruptModel("a word holds whitespace"));
            }
            if previous.is_some_and(|p| p >= word) {
                return Err(Error::CorruptModel("words are not sorted"));
            }
            previous = Some(word);
        }
        Ok(list)
    }

    /// `len` non-empty names separated by `\n`.
    ///
    /// # Errors
    /// [`Error::CorruptModel`] if `text` does not hold exactly `len` non-empty entries.
    pub fn names(text: &'b str, len: usize) -> Result<Self, Error> {
        let list = Self { text, len };
        if len == 0 {
            return if text.is_empty() {
                Ok(list)
            } else {
                Err(Error::CorruptModel("text where no entries are announced"))
            };
        }
        let mut count = 0usize;
        for entry in split_at_byte(text, b'\n') {
            if entry.is_empty() {
                return Err(Error::CorruptModel("an empty entry in a list"));
            }
            count += 1;
        }
        if count != len {
            return Err(Error::CorruptModel(
                "a list holds another number of entries",
            ));
        }
        Ok(list)
    }

    /// Number of entries.
    pub const fn len(&self) -> usize {
        self.len
    }

    /// `true` if there is no entry.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entries joined by `\n`, as stored.
    pub const fn as_str(&self) -> &'b str {
        self.text
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &'b str> + use<'b> {
        let text = self.text;
        split_at_byte(text, b'\n').filter(move |_| !text.is_empty())
    }

    /// Entry `id`, if there is one.
    pub fn get(&self, id: usize) -> Option<&'b str> {
        self.iter().nth(id)
    }

    /// The index of `entry`, if it is in the list.
    pub fn id(&self, entry: &str) -> Option<usize> {
        self.iter().position(|e| e == entry)
    }

    /// Encodes the whitespace-separated words of `text` into `ids`; returns how many were written.
    ///
    /// # Errors
    /// [`Error::UnknownWord`] for a word not in the list (with its position);
    /// [`Error::BadLength`] if `ids` is too short.
    pub fn encode_into(&self, text: &str, ids: &mut [usize]) -> Result<usize, Error> {
        let mut written = 0;
        for (index, word) in words_of(text).enumerate() {
            let id = self.id(word).ok_or(Error::UnknownWord { index })?;
            let slot = ids.get_mut(written).ok_or(Error::BadLength {
                len: words_of(text).count(),
                capacity: written,
            })?;
            *slot = id;
            written += 1;
        }
        Ok(written)
    }
}

/// Free-form `key=value` lines (the training settings, say), checked UTF-8 borrowed from the
/// model's bytes.
///
/// ```
/// use micrornn::format::Metadata;
/// let metadata = Metadata::new("lr=0.1\noptimizer=adagrad")?;
/// assert_eq!(metadata.get("optimizer"), Some("adagrad"));
/// assert_eq!(metadata.get("seed"), None);
/// assert_eq!(metadata.iter().count(), 2);
/// assert!(Metadata::new("no equals sign").is_err());
/// # Ok::<(), micrornn::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metadata<'b> {
    text: &'b str,
}

impl<'b> Metadata<'b> {
    /// Checks `text`: empty, or lines of `key=value` with a non-empty key.
    ///
    /// # Errors
    /// [`Error::CorruptModel`] for a line without `=` or with an empty key.
    pub fn new(text: &'b str) -> Result<Self, Error> {
        let metadata = Self { text };
        if !text.is_empty() {
            for line in split_at_byte(text, b'\n') {
                match split_once_at_byte(line, b'=') {
                    Some((key, _)) if !key.is_empty() => {}
                    _ => return Err(Error::CorruptModel("metadata line is not key=value")),
                }
            }
        }
        Ok(metadata)
    }

    /// The lines, as stored.
    pub const fn as_str(&self) -> &'b str {
        self.text
    }

    /// The `(key, value)` pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&'b str, &'b str)> + use<'b> {
        split_at_byte(self.text, b'\n').filter_map(|line| split_once_at_byte(line, b'='))
    }

    /// The value of the first line with this key.
    pub fn get(&self, key: &str) -> Option<&'b str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_splitters_agree_with_core() {
        for text in [
            "",
            "a",
            "\n",
            "a\nb",
            "a\n\nbé\n",
            "é—\nx",
            " a  b\tc \n",
            "  ",
        ] {
            let ours: Vec<&str> = split_at_byte(text, b'\n').collect();
            assert_eq!(ours, text.split('\n').collect::<Vec<_>>(), "{text:?}");
            let ours: Vec<&str> = words_of(text).collect();
            assert_eq!(
                ours,
                text.split_whitespace().collect::<Vec<_>>(),
                "{text:?}"
            );
            assert_eq!(
                split_once_at_byte(text, b'b'),
                text.split_once('b'),
                "{text:?}"
            );
        }
    }

    #[test]
    fn lists_check_their_entries() {
        assert_eq!(TextList::names("", 0).map(|l| l.iter().count()), Ok(0));
        assert!(TextList::names("", 1).is_err());
        assert!(TextList::names("a", 0).is_err());
        assert!(TextList::names("a\n\nb", 3).is_err());
        assert!(TextList::names("a\nb", 3).is_err());
        assert!(TextList::names("a\nb\n", 2).is_err());
        let names = TextList::names("very negative\npositive", 2).unwrap();
        assert_eq!(names.get(0), Some("very negative"));
        assert_eq!(names.get(2), None);
        assert!(TextList::words("very negative\npositive", 2).is_err());
        assert!(TextList::words("a\na", 2).is_err());
        assert!(TextList::words("a\tb", 1).is_err());
        assert_eq!(TextList::words("a\nb", 2).unwrap().id("b"), Some(1));
    }

    #[test]
    fn encode_into_reports_the_unknown_word_and_short_buffers() {
        let words = TextList::words("a\nb", 2).unwrap();
        let mut ids = [9usize; 2];
        assert_eq!(
            words.encode_into("a b c", &mut ids),
            Err(Error::UnknownWord { index: 2 })
        );
        assert_eq!(
            words.encode_into("a b a", &mut ids),
            Err(Error::BadLength {
                len: 3,
                capacity: 2
            })
        );
        assert_eq!(words.encode_into("", &mut ids), Ok(0));
    }

    #[test]
    fn metadata_is_key_value_lines() {
        assert_eq!(Metadata::new("").map(|m| m.iter().count()), Ok(0));
        assert!(Metadata::new("=x").is_err());
        assert!(Metadata::new("a=1\n").is_err());
        let m = Metadata::new("a=1\nb=x=y\na=2").unwrap();
        assert_eq!(m.get("a"), Some("1"));
        assert_eq!(m.get("b"), Some("x=y"));
    }
}
