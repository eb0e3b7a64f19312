//! Word vocabulary (`std`): the sorted distinct words of a training set, for word-level models
//! such as notebook 004's sentiment classifier.

use crate::Error;
use std::string::String;
use std::vec::Vec;

/// The distinct words of a set of texts, sorted, so the same texts give the same ids on every
/// run and machine (a word's id is its index in [`WordVocab::words`]).
///
/// Words are split on whitespace and compared exactly (no case folding, punctuation is part of
/// the word). Unknown words are handled one of two documented ways:
/// - by default they are an error, [`Error::UnknownWord`] with the word's position;
/// - after [`WordVocab::with_unknown`], the vocabulary holds the explicit word
///   [`WordVocab::UNKNOWN`] (`<unk>`, sorted in with the others) and every unknown word maps to
///   its id.
///
/// The vocabulary is part of the model: store it beside the parameters with
/// [`WordVocab::to_lines`] and read it back with [`WordVocab::from_lines`].
///
/// # Examples
/// ```
/// use micrornn::host::words::WordVocab;
/// let vocab = WordVocab::from_texts(["i am good", "i am not good"]);
/// assert_eq!(vocab.words(), ["am", "good", "i", "not"]);
/// assert_eq!(vocab.encode("i am good")?, [2, 0, 1]);
/// assert!(vocab.encode("i am great").is_err());
///
/// let vocab = vocab.with_unknown();
/// assert_eq!(vocab.words(), ["<unk>", "am", "good", "i", "not"]);
/// assert_eq!(vocab.encode("i am great")?, [3, 1, 0]);
/// # Ok::<(), micrornn::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WordVocab {
    words: Vec<String>,
    unknown: Option<usize>,
}

impl WordVocab {
    /// The word that unknown words map to after [`WordVocab::with_unknown`].
    pub const UNKNOWN: &'static str = "<unk>";

    /// The distinct whitespace-separated words of `texts`, sorted.
    pub fn from_texts<'t>(texts: impl IntoIterator<Item = &'t str>) -> Self {
        let mut words: Vec<String> = texts
            .into_iter()
            .flat_map(str::split_whitespace)
            .map(String::from)
            .collect();
        words.sort_unstable();
        words.dedup();
        Self {
            words,
            unknown: None,
        }
    }

    /// The same vocabulary with the explicit word [`WordVocab::UNKNOWN`] added (if it is not
    /// there yet); from now on every unknown word encodes to its id instead of being an error.
    /// The ids of the other words may shift, so call this before training.
    pub fn with_unknown(mut self) -> Self {
        let id = match self
            .words
            .binary_search_by(|w| w.as_str().cmp(Self::UNKNOWN))
        {
            Ok(id) => id,
            Err(id) => {
                self.words.insert(id, String::from(Self::UNKNOWN));
                id
            }
        };
        self.unknown = Some(id);
        self
    }

    /// Number of words (including `<unk>` if present): the number of inputs a model needs.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// `true` if the vocabulary holds no word.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The words, sorted; a word's id is its index here.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The id of `word` if it is in the vocabulary (`<unk>` mapping not applied).
    ///
    /// # Examples
    /// ```
    /// use micrornn::host::words::WordVocab;
    /// let vocab = WordVocab::from_texts(["b a"]);
    /// assert_eq!(vocab.id("b"), Some(1));
    /// assert_eq!(vocab.id("c"), None);
    /// ```
    pub fn id(&self, word: &str) -> Option<usize> {
        self.words.binary_search_by(|w| w.as_str().cmp(word)).ok()
    }

    /// The word with id `id`, if there is one.
    pub fn decode(&self, id: usize) -> Option<&str> {
        self.words.get(id).map(String::as_str)
    }

    /// The ids of the whitespace-separated words of `text`.
    ///
    /// # Errors
    /// [`Error::UnknownWord`] for a word not in the vocabulary, unless it has `<unk>`.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, Error> {
        text.split_whitespace()
            .enumerate()
            .map(|(index, word)| {
                self.id(word)
                    .or(self.unknown)
                    .ok_or(Error::UnknownWord { index })
            })
            .collect()
    }

    /// The vocabulary as text to store beside a model: one word per line, in id order, with a
    /// first line `words <n>` or `words <n> unk` (when unknown words map to `<unk>`).
    ///
    /// # Examples
    /// ```
    /// use micrornn::host::words::WordVocab;
    /// let vocab = WordVocab::from_texts(["not bad"]).with_unknown();
    /// let stored = vocab.to_lines();
    /// assert_eq!(stored, "words 3 unk\n<unk>\nbad\nnot\n");
    /// assert_eq!(WordVocab::from_lines(&stored)?, vocab);
    /// # Ok::<(), micrornn::Error>(())
    /// ```
    pub fn to_lines(&self) -> String {
        let mut text = format!("words {}", self.words.len());
        if self.unknown.is_some() {
            text.push_str(" unk");
        }
        text.push('\n');
        for word in &self.words {
            text.push_str(word);
            text.push('\n');
        }
        text
    }

    /// Reads a vocabulary written by [`WordVocab::to_lines`].
    ///
    /// # Errors
    /// [`Error::Truncated`] if there are fewer words than the header says;
    /// [`Error::NotAModel`] for a bad header, words out of order or repeated, or a word with
    /// whitespace.
    pub fn from_lines(text: &str) -> Result<Self, Error> {
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
        let (count, unk) = match header.as_slice() {
            ["words", n] => (n, false),
            ["words", n, "unk"] => (n, true),
            _ => return Err(Error::NotAModel),
        };
        let count: usize = count.parse().map_err(|_| Error::NotAModel)?;
        let mut words = Vec::with_capacity(count.min(1 << 16));
        for _ in 0..count {
            let word = lines.next().ok_or(Error::Truncated)?;
            if word.is_empty() || word.contains(char::is_whitespace) {
                return Err(Error::NotAModel);
            }
            if words
                .last()
                .is_some_and(|last: &String| last.as_str() >= word)
            {
                return Err(Error::NotAModel);
            }
            words.push(String::from(word));
        }
        let vocab = Self {
            words,
            unknown: None,
        };
        if unk {
            let id = vocab.id(Self::UNKNOWN).ok_or(Error::NotAModel)?;
            return Ok(Self {
                unknown: Some(id),
                ..vocab
            });
        }
        Ok(vocab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_do_not_depend_on_text_order() {
        let a = WordVocab::from_texts(["this is good", "i am sad"]);
        let b = WordVocab::from_texts(["i am sad", "good is this"]);
        assert_eq!(a, b);
        assert_eq!(a.words(), ["am", "good", "i", "is", "sad", "this"]);
    }

    #[test]
    fn unknown_word_error_says_where() {
        let vocab = WordVocab::from_texts(["a b c"]);
        assert_eq!(vocab.encode("a  x b"), Err(Error::UnknownWord { index: 1 }));
        assert_eq!(vocab.encode(""), Ok(vec![]));
    }

    #[test]
    fn with_unknown_is_idempotent_and_round_trips() {
        let vocab = WordVocab::from_texts(["<unk> z"])
            .with_unknown()
            .with_unknown();
        assert_eq!(vocab.words(), ["<unk>", "z"]);
        assert_eq!(vocab.encode("q z").unwrap(), [0, 1]);
        assert_eq!(WordVocab::from_lines(&vocab.to_lines()).unwrap(), vocab);
    }

    #[test]
    fn bad_stored_vocabularies_are_refused() {
        for bad in [
            "",
            "words\n",
            "word 1\na\n",
            "words x\n",
            "words 2\nb\na\n",
            "words 2\na\na\n",
            "words 1\na b\n",
            "words 1 unk\na\n",
        ] {
            assert!(WordVocab::from_lines(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            WordVocab::from_lines("words 3\na\nb\n"),
            Err(Error::Truncated)
        );
    }
}
