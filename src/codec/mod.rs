//! The codec layer: models and vocabularies as bytes and text, without `std` or a heap.
//!
//! Owns the model file format ([`format`](mod@format)) and the character vocabulary ([`vocab`]). It uses the
//! [`model`](crate::model) layer (it encodes an [`Rnn`](crate::Rnn)) and nothing above it, so
//! firmware can decode an `include_bytes!` model with the same code the host encodes it with.
//!
//! | module | what |
//! |---|---|
//! | [`bytes`] | [`ByteReader`](bytes::ByteReader) and [`ByteWriter`](bytes::ByteWriter): little-endian fields, no panic, shared by the format and the checkpoints |
//! | [`format`](mod@format) | the model file (version 2: parameters, initial state, char or word vocabulary, task, class names, metadata; version 1 still read): encode/decode `&[u8]` without allocation, CRC-32 checked |
//! | [`qformat`] | the quantized model file ([`QRnn`](crate::QRnn)): same magic and CRC-32, its own version |
//! | [`vocab`] | [`CharVocab<N>`](vocab::CharVocab): the sorted characters of a text |

// The decoders' checks are `const fn`s (a model in flash is checked by the compiler), where
// `?` is not allowed; these two macros stand in for it.

/// `?` for `Option`s in a `const fn` (where `?` is not allowed): the value, or returns `None`.
macro_rules! some {
    ($option:expr) => {
        match $option {
            Some(value) => value,
            None => return None,
        }
    };
}

/// `?` for `Result`s in a `const fn`: the value, or returns the error.
macro_rules! ok {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(error) => return Err(error),
        }
    };
}

pub mod bytes;
pub mod format;
pub mod qformat;
pub mod vocab;
