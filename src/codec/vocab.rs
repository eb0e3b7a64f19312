//! Character vocabulary without a heap: the sorted distinct characters of a text.

use crate::Error;
use heapless::Vec;

/// Up to `N` distinct characters (Unicode scalar values, so `—` is one symbol), kept sorted, so
/// the same text always gives the same ids on every run and machine.
///
/// ```
/// use micrornn::CharVocab;
/// let vocab = CharVocab::<8>::from_text("hello")?;
/// assert_eq!(vocab.chars(), &['e', 'h', 'l', 'o']);
/// assert_eq!(vocab.encode('l')?, 2);
/// assert_eq!(vocab.decode(3), Some('o'));
/// assert!(vocab.encode('z').is_err());
/// assert!(CharVocab::<3>::from_text("hello").is_err());
/// # Ok::<(), micrornn::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CharVocab<const N: usize> {
    chars: Vec<char, N>,
}

impl<const N: usize> CharVocab<N> {
    /// An empty vocabulary.
    pub const fn new() -> Self {
        Self { chars: Vec::new() }
    }

    /// The distinct characters of `text`, sorted.
    ///
    /// # Errors
    /// [`Error::VocabularyFull`] if `text` has more than `N` distinct characters.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let mut vocab = Self::new();
        for c in text.chars() {
            vocab.insert(c)?;
        }
        Ok(vocab)
    }

    /// Adds `c` if it is not there yet, keeping the order; returns its id.
    ///
    /// # Errors
    /// [`Error::VocabularyFull`] if `c` is new and the vocabulary already holds `N` characters.
    pub fn insert(&mut self, c: char) -> Result<usize, Error> {
        match self.chars.binary_search(&c) {
            Ok(id) => Ok(id),
            // `binary_search` returns `id <= len`; saying so lets the optimizer drop heapless's
            // "insertion index should be <= len" panic (link-time panic check, opt-level "s").
            Err(id) if id > self.chars.len() => Err(Error::VocabularyFull { capacity: N }),
            Err(id) => {
                self.chars
                    .insert(id, c)
                    .map_err(|_| Error::VocabularyFull { capacity: N })?;
                Ok(id)
            }
        }
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// `true` if the vocabulary holds no character.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The characters, sorted; a character's id is its index here.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The id of `c`.
    ///
    /// # Errors
    /// [`Error::UnknownChar`] if `c` is not in the vocabulary.
    pub fn encode(&self, c: char) -> Result<usize, Error> {
        self.chars
            .binary_search(&c)
            .map_err(|_| Error::UnknownChar(c))
    }

    /// Encodes `text` into `ids`, returning how many ids were written.
    ///
    /// # Errors
    /// [`Error::UnknownChar`] for a character not in the vocabulary;
    /// [`Error::BadLength`] if `ids` is too short for `text`.
    pub fn encode_into(&self, text: &str, ids: &mut [usize]) -> Result<usize, Error> {
        let mut slots = ids.iter_mut();
        let mut written = 0;
        for c in text.chars() {
            // Lazily: counting the text on every character made encoding quadratic.
            let slot = slots.next().ok_or_else(|| Error::BadLength {
                len: text.chars().count(),
                capacity: written,
            })?;
            *slot = self.encode(c)?;
            written += 1;
        }
        Ok(written)
    }

    /// The character with id `id`, if there is one.
    pub fn decode(&self, id: usize) -> Option<char> {
        self.chars.get(id).copied()
    }
}
