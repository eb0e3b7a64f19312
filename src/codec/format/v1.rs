//! Format version 1, still read: a language model with a character vocabulary, no initial
//! hidden state (it starts from zero), no class names, no metadata.
//!
//! | offset | bytes | field |
//! |---|---|---|
//! | 0 | 4 | magic `MRNN` |
//! | 4 | 2 | version 1 |
//! | 6 | 2 | flags, 0 |
//! | 8 | 4 × 5 | `inputs` I, `hidden` H, `outputs` O, live `classes`, vocabulary length, `u32` each |
//! | 28 | 4 | CRC-32 of bytes `0..28` |
//! | 32 | 4 × I | vocabulary: one `u32` Unicode scalar value per input id, sorted; unused slots 0 |
//! | 32 + 4·I | 4 × parameters | `f32` tensors in [`crate::Rnn::tensors`] order |
//! | end − 4 | 4 | CRC-32 of every byte before it |

use super::{Header, Task, VocabKind, checked_header};
use crate::Error;
use crate::codec::bytes::{ByteReader, sizes_at};
use crate::model::CellKind;

/// The version number of this layout.
pub(super) const VERSION: u16 = 1;

/// Bytes before the vocabulary.
pub(super) const HEADER_LEN: usize = 32;

/// Parses a version-1 header (magic and version already checked).
pub(super) const fn parse_header(bytes: &[u8]) -> Result<Header, Error> {
    let header = ok!(checked_header(bytes, HEADER_LEN));
    let Some([inputs, hidden, outputs, classes, vocab_len]) = sizes_at::<5>(header, 8) else {
        return Err(Error::Truncated);
    };
    Ok(Header {
        version: VERSION,
        inputs,
        hidden,
        outputs,
        classes,
        vocab_len,
        task: Task::LanguageModel,
        vocab_kind: VocabKind::Chars,
        cell: CellKind::Elman,
        vocab_bytes: 0,
        class_names_bytes: 0,
        metadata_bytes: 0,
    })
}

/// Offset of the parameters: after the header and one vocabulary slot per input.
pub(super) const fn parameters_at(header: &Header) -> Option<usize> {
    some!(header.inputs.checked_mul(4)).checked_add(HEADER_LEN)
}

/// Calls `visit` with each stored character, in order (slots past `vocab_len` are unused).
pub(super) fn visit_chars(
    bytes: &[u8],
    header: &Header,
    mut visit: impl FnMut(char) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut slots = ByteReader::at(bytes, HEADER_LEN);
    for _ in 0..header.vocab_len {
        let code = slots.u32()?;
        visit(char::from_u32(code).ok_or(Error::CorruptModel("vocabulary holds a non-char"))?)?;
    }
    Ok(())
}
