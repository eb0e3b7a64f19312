//! The model decoder: `format::Header::read` and `format::decode` on arbitrary bytes, into a small
//! shape and into the smallest shape the binary writes (32 inputs/outputs, 32 hidden).
//!
//! Input: one mode byte, then the file. Mode bit 0 set: the checksums are rewritten first
//! (`reseal.rs`), so mutations reach the checks behind them.
//!
//! Checks: no panic; `decode` succeeds only if `Header::read` does, with the same header; what
//! decodes re-encodes to bytes that decode to the same bits (encode ∘ decode is a fixed point).
#![no_main]

#[path = "reseal.rs"]
mod reseal;

use libfuzzer_sys::fuzz_target;
use micrornn::{CharVocab, Rnn, format};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut bytes = file.to_vec();
    if mode & 1 == 1 {
        reseal::model(&mut bytes);
    }
    let header = format::Header::read(&bytes);
    check::<4, 3, 4, 4>(&bytes, header);
    check::<4, 3, 4, 2>(&bytes, header);
    check::<32, 32, 32, 32>(&bytes, header);
});

/// Decodes into `Rnn<I, H, O>` and `CharVocab<N>`; on success re-encodes and decodes again.
fn check<const I: usize, const H: usize, const O: usize, const N: usize>(
    bytes: &[u8],
    header: Result<format::Header, micrornn::Error>,
) {
    let mut rnn = Box::new(Rnn::<I, H, O>::ZERO);
    let mut vocab = CharVocab::<N>::new();
    let Ok(decoded) = format::decode(bytes, &mut rnn, &mut vocab) else {
        // A refused file leaves the destination untouched.
        assert!(
            rnn.tensors()
                .iter()
                .all(|t| t.iter().all(|v| v.to_bits() == 0))
        );
        assert!(vocab.is_empty());
        return;
    };
    assert_eq!(
        header,
        Ok(decoded),
        "decode accepted what Header::read refused"
    );
    assert_eq!((decoded.inputs, decoded.hidden, decoded.outputs), (I, H, O));
    assert!(decoded.classes >= 1 && decoded.classes <= O);
    assert_eq!(vocab.len(), decoded.vocab_len);
    assert!(vocab.chars().windows(2).all(|w| w[0] < w[1]));

    let mut again = vec![0u8; format::encoded_len::<I, H, O>()];
    let written = format::encode(&rnn, &vocab, decoded.classes, &mut again).expect("re-encode");
    assert_eq!(written, again.len());
    if decoded.version == 1 && format::VERSION == 1 {
        // Version 1 stores the parameters after the header and vocabulary: they are copied bit
        // for bit (NaN payloads, signed zeros, subnormals included).
        let params = format::HEADER_LEN + 4 * I..written - 4;
        assert_eq!(bytes[params.clone()], again[params]);
    }
    let mut rnn2 = Box::new(Rnn::<I, H, O>::ZERO);
    let mut vocab2 = CharVocab::<N>::new();
    assert_eq!(format::decode(&again, &mut rnn2, &mut vocab2), Ok(decoded));
    assert_eq!(vocab2, vocab);
    let bits = |r: &Rnn<I, H, O>| -> Vec<u32> {
        r.tensors()
            .iter()
            .flat_map(|t| t.iter().map(|v| v.to_bits()))
            .collect()
    };
    assert_eq!(bits(&rnn2), bits(&rnn));
}
