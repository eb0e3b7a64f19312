//! The model decoders: `format::Header::read`, `format::decode_contents` and `format::decode`
//! (versions 1 and 2) and, for a file with the quantized version, `qformat::read_header` and
//! `qformat::decode`, on arbitrary bytes, into small shapes and into the smallest shape the
//! binary writes (32 inputs/outputs, 32 hidden).
//!
//! Input: one mode byte, then the file. Mode bit 0 set: the checksums are rewritten first
//! (`reseal.rs`), so mutations reach the checks behind them.
//!
//! Checks: no panic; a decode succeeds only if the header read does, with the same header; a
//! refused file leaves the destination untouched; what decodes re-encodes (the `Contents` built
//! from the decoded task, words or characters, class names, initial state and metadata) to bytes
//! that decode to the same bits and texts (encode ∘ decode is a fixed point); a version-2 file
//! re-encodes to exactly its own bytes. The same for a GRU (`Gru<4, 3, 4>`): it decodes exactly
//! the files whose header reads as a GRU of its shape. A quantized version-3 file decodes into
//! `QGru<4, 3, 4>` and `QRnn<4, 3, 4>` exactly when its header reads as that cell and shape,
//! and re-encodes (`qformat::encode_contents`) to its own bytes; a quantized GRU also through
//! `qformat::decode_gru_const`.
#![no_main]

#[path = "reseal.rs"]
mod reseal;

use libfuzzer_sys::fuzz_target;
use micrornn::format::{self, Contents, Vocabulary};
use micrornn::model::CellKind;
use micrornn::model::QTensors;
use micrornn::{CharVocab, Gru, QGru, QRnn, Rnn, qformat};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut bytes = file.to_vec();
    if mode & 1 == 1 {
        reseal::model(&mut bytes);
    }
    if qformat::is_quantized(&bytes) {
        let header = qformat::read_header(&bytes);
        check_quantized::<4, 3, 4, 4>(&bytes, header);
        check_quantized::<4, 3, 4, 2>(&bytes, header);
        check_quantized::<32, 32, 32, 32>(&bytes, header);
        check_quantized_v3::<QGru<4, 3, 4>, 4, 3>(&bytes, header);
        check_quantized_v3::<QRnn<4, 3, 4>, 4, 3>(&bytes, header);
    } else {
        let header = format::Header::read(&bytes);
        check::<4, 3, 4, 4>(&bytes, header);
        check::<4, 3, 4, 2>(&bytes, header);
        check::<32, 32, 32, 32>(&bytes, header);
        check_gru::<4, 3, 4>(&bytes, header);
    }
});

/// Decodes into a `Gru<I, H, O>`: it succeeds exactly when the header reads as a GRU of that
/// shape, and a refused file leaves the model untouched; what decodes re-encodes to the same
/// bytes (a GRU file is version 2).
fn check_gru<const I: usize, const H: usize, const O: usize>(
    bytes: &[u8],
    header: Result<format::Header, micrornn::Error>,
) {
    let mut gru = Box::new(Gru::<I, H, O>::ZERO);
    let (mut vocab, mut hidden) = (CharVocab::<I>::new(), [0.0f32; H]);
    let decoded = format::decode_contents(bytes, &mut *gru, &mut vocab, &mut hidden);
    let fits = header
        .as_ref()
        .is_ok_and(|h| h.cell == CellKind::Gru && (h.inputs, h.hidden, h.outputs) == (I, H, O));
    let Ok(decoded) = decoded else {
        assert_eq!(*gru, Gru::ZERO, "a refused file wrote the model");
        assert!(!fits, "a GRU file of this shape was refused");
        return;
    };
    assert!(
        fits,
        "decoded a file whose header is not a GRU of this shape"
    );
    let h = decoded.header;
    // The compile-time decoder reads the same numbers.
    let embedded = format::decode_gru_const::<I, H, O>(bytes).expect("decode_gru_const agrees");
    assert_eq!(
        (&embedded.gru, embedded.initial_hidden, embedded.header),
        (&*gru, hidden, h)
    );
    assert_eq!(
        embedded.normalization,
        decoded
            .normalization::<I>()
            .unwrap_or(micrornn::model::normalize::Normalization::IDENTITY)
    );
    let chars: Vec<char> = vocab.chars().to_vec();
    let (words, names): (Vec<&str>, Vec<&str>) = (
        decoded.words.iter().collect(),
        decoded.class_names.iter().collect(),
    );
    let channels: Vec<&str> = decoded.channels.iter().collect();
    let normalization = decoded.normalization::<I>();
    let (mean, std) = live_normalization(&normalization, channels.len());
    let contents = Contents {
        task: h.task,
        vocab: match h.vocab_kind {
            format::VocabKind::Chars => Vocabulary::Chars(&chars),
            format::VocabKind::Words => Vocabulary::Words(&words),
            format::VocabKind::Dense => Vocabulary::Dense {
                channels: &channels,
                mean,
                std,
            },
        },
        classes: h.classes,
        class_names: &names,
        initial_hidden: Some(&hidden),
        metadata: decoded.metadata.as_str(),
    };
    let mut again = vec![0u8; format::encoded_len::<Gru<I, H, O>, H>(&contents)];
    format::encode_contents(&*gru, &contents, &mut again).expect("re-encode");
    assert_eq!(
        again,
        bytes[..again.len()],
        "a GRU file re-encodes to its own bytes"
    );
}

/// The live channels' means and standard deviations of a dense model's normalization (empty
/// slices for a model of symbols).
fn live_normalization<const I: usize>(
    normalization: &Option<micrornn::model::normalize::Normalization<I>>,
    channels: usize,
) -> (&[f32], &[f32]) {
    match normalization {
        Some(n) => (&n.mean[..channels], &n.std[..channels]),
        None => (&[], &[]),
    }
}

fn bits<const I: usize, const H: usize, const O: usize>(r: &Rnn<I, H, O>) -> Vec<u32> {
    r.tensors()
        .iter()
        .flat_map(|t| t.iter().map(|v| v.to_bits()))
        .collect()
}

/// Decodes into `Rnn<I, H, O>`, `CharVocab<N>` and a state; on success re-encodes the decoded
/// contents and decodes again.
fn check<const I: usize, const H: usize, const O: usize, const N: usize>(
    bytes: &[u8],
    header: Result<format::Header, micrornn::Error>,
) {
    let mut rnn = Box::new(Rnn::<I, H, O>::ZERO);
    let mut vocab = CharVocab::<N>::new();
    let mut hidden = [0.0f32; H];
    let plain = {
        let mut rnn = Box::new(Rnn::<I, H, O>::ZERO);
        let mut vocab = CharVocab::<N>::new();
        let mut state = [0.0f32; H];
        format::decode(bytes, &mut *rnn, &mut vocab, &mut state).map(|h| (h, bits(&rnn), vocab))
    };
    let Ok(decoded) = format::decode_contents(bytes, &mut *rnn, &mut vocab, &mut hidden) else {
        // A refused file leaves the destination untouched.
        assert!(bits(&rnn).iter().all(|&b| b == 0));
        assert!(hidden.iter().all(|v| v.to_bits() == 0));
        assert!(vocab.is_empty());
        assert!(
            plain.is_err(),
            "decode accepted what decode_contents refused"
        );
        return;
    };
    let h = decoded.header;
    assert_eq!(header, Ok(h), "decode accepted what Header::read refused");
    assert_eq!(plain, Ok((h, bits(&rnn), vocab.clone())));
    // The compile-time decoder reads the same numbers (it leaves the texts to decode_texts).
    let embedded = format::decode_const::<I, H, O>(bytes).expect("decode_const agrees");
    assert_eq!(bits(&embedded.rnn), bits(&rnn));
    assert_eq!(
        embedded.initial_hidden.map(f32::to_bits),
        hidden.map(f32::to_bits)
    );
    assert_eq!((h.inputs, h.hidden, h.outputs), (I, H, O));
    assert!(h.classes >= 1 && h.classes <= O);
    assert!(hidden.iter().all(|v| (-1.0..=1.0).contains(v)));
    let words: Vec<&str> = decoded.words.iter().collect();
    let class_names: Vec<&str> = decoded.class_names.iter().collect();
    assert_eq!(class_names.len(), decoded.class_names.len());
    let vocab_entries = match h.vocab_kind {
        format::VocabKind::Chars => {
            assert!(words.is_empty());
            assert!(vocab.chars().windows(2).all(|w| w[0] < w[1]));
            vocab.len()
        }
        format::VocabKind::Words => {
            assert!(vocab.is_empty());
            assert!(words.windows(2).all(|w| w[0] < w[1]));
            words.len()
        }
        format::VocabKind::Dense => {
            assert!(vocab.is_empty() && words.is_empty());
            let normalization = decoded
                .normalization::<I>()
                .expect("a dense file's normalization");
            assert!(normalization.std.iter().all(|s| *s > 0.0 && s.is_finite()));
            assert_eq!(embedded.normalization, normalization);
            decoded.channels.len()
        }
    };
    let channels: Vec<&str> = decoded.channels.iter().collect();
    let normalization = decoded.normalization::<I>();
    let (mean, std) = live_normalization(&normalization, channels.len());
    assert_eq!(vocab_entries, h.vocab_len);
    for (key, value) in decoded.metadata.iter() {
        assert_eq!(decoded.metadata.get(key).is_some(), true, "{key}={value}");
    }

    let contents = Contents {
        task: h.task,
        vocab: match h.vocab_kind {
            format::VocabKind::Chars => Vocabulary::Chars(vocab.chars()),
            format::VocabKind::Words => Vocabulary::Words(&words),
            format::VocabKind::Dense => Vocabulary::Dense {
                channels: &channels,
                mean,
                std,
            },
        },
        classes: h.classes,
        class_names: &class_names,
        initial_hidden: Some(&hidden),
        metadata: decoded.metadata.as_str(),
    };
    let len = format::encoded_len::<Rnn<I, H, O>, H>(&contents);
    let mut again = vec![0u8; len];
    let written = format::encode_contents(&*rnn, &contents, &mut again).expect("re-encode");
    assert_eq!(written, len);
    if h.version == 2 {
        assert_eq!(h.encoded_len(), Some(len));
        assert_eq!(
            again[..],
            bytes[..len],
            "a v2 file re-encodes to its own bytes"
        );
    }
    let mut rnn2 = Box::new(Rnn::<I, H, O>::ZERO);
    let mut vocab2 = CharVocab::<N>::new();
    let mut hidden2 = [0.0f32; H];
    let decoded2 = format::decode_contents(&again, &mut *rnn2, &mut vocab2, &mut hidden2)
        .expect("decode a re-encoded model");
    assert_eq!(decoded2.header.version, format::VERSION);
    assert_eq!(
        format::Header {
            version: h.version,
            vocab_bytes: h.vocab_bytes,
            ..decoded2.header
        },
        h
    );
    assert_eq!(vocab2, vocab);
    assert_eq!(decoded2.words.iter().collect::<Vec<_>>(), words);
    assert_eq!(decoded2.class_names.iter().collect::<Vec<_>>(), class_names);
    assert_eq!(decoded2.metadata.as_str(), decoded.metadata.as_str());
    assert_eq!(hidden2.map(f32::to_bits), hidden.map(f32::to_bits));
    assert_eq!(bits(&rnn2), bits(&rnn));
}

/// Decodes a quantized file into `QRnn<I, H, O>` and `CharVocab<N>`; on success re-encodes and
/// decodes again.
fn check_quantized<const I: usize, const H: usize, const O: usize, const N: usize>(
    bytes: &[u8],
    header: Result<format::Header, micrornn::Error>,
) {
    let mut q = Box::new(QRnn::<I, H, O>::ZERO);
    let mut vocab = CharVocab::<N>::new();
    let mut state = [0i16; H];
    let Ok(decoded) = qformat::decode(bytes, &mut q, &mut vocab, &mut state) else {
        assert!(
            *q == QRnn::<I, H, O>::ZERO,
            "a refused file changed the model"
        );
        assert!(vocab.is_empty());
        assert_eq!(state, [0; H], "a refused file changed the state");
        return;
    };
    assert_eq!(
        header,
        Ok(decoded),
        "decode accepted what read_header refused"
    );
    assert_eq!((decoded.inputs, decoded.hidden, decoded.outputs), (I, H, O));
    assert!(decoded.classes >= 1 && decoded.classes <= O);
    assert_eq!(vocab.len(), decoded.vocab_len);
    let mut again = vec![0u8; qformat::encoded_len::<I, H, O>()];
    let written =
        qformat::encode(&q, &vocab, decoded.classes, &state, &mut again).expect("re-encode");
    assert_eq!(written, again.len());
    if decoded.version == qformat::VERSION {
        assert_eq!(
            again[..],
            bytes[..written],
            "a quantized file re-encodes to its own bytes"
        );
    }
    let mut q2 = Box::new(QRnn::<I, H, O>::ZERO);
    let mut vocab2 = CharVocab::<N>::new();
    let mut state2 = [1i16; H];
    let again_decoded = qformat::decode(&again, &mut q2, &mut vocab2, &mut state2);
    assert_eq!(again_decoded.map(|h| h.classes), Ok(decoded.classes));
    assert_eq!(vocab2, vocab);
    assert_eq!(state2, state);
    assert!(*q2 == *q);
    // The compile-time decoder accepts exactly what the run-time one does, with the same result.
    let embedded = qformat::decode_const::<I, H, O>(bytes).expect("decode_const agrees");
    assert!(embedded.qrnn == *q && embedded.initial_hidden == state);
}

/// Decodes a version-3 quantized file into the cell `M` (`QGru` or `QRnn` of shape `(I, H, 4)`):
/// it succeeds exactly when the header reads as that cell and shape; a refused file leaves the
/// model untouched; what decodes re-encodes to its own bytes.
fn check_quantized_v3<M, const I: usize, const H: usize>(
    bytes: &[u8],
    header: Result<format::Header, micrornn::Error>,
) where
    M: QTensors<I> + Clone + PartialEq + core::fmt::Debug + micrornn::Zeroable,
{
    let mut q = micrornn::boxed_zeroed::<M>();
    let zero = q.clone();
    let (mut chars, mut state) = (CharVocab::<I>::new(), [0i16; H]);
    let decoded = qformat::decode_contents(bytes, &mut *q, &mut chars, &mut state);
    // `read_header` checks the numbers; the texts are checked by `decode_texts`.
    let texts_ok = qformat::decode_texts(bytes, &mut CharVocab::<I>::new()).is_ok();
    let fits = texts_ok
        && header.as_ref().is_ok_and(|h| {
            h.version == qformat::VERSION_3
                && h.cell == M::KIND
                && (h.inputs, h.hidden, h.outputs) == (I, H, M::OUTPUTS)
        });
    let Ok(decoded) = decoded else {
        assert_eq!(q, zero, "a refused file wrote the model");
        assert!(!fits, "a file of this cell and shape was refused");
        return;
    };
    assert!(
        fits,
        "decoded a file whose header is not this cell and shape"
    );
    assert_eq!(header, Ok(decoded.header));
    let h = decoded.header;
    let chars_list: Vec<char> = chars.chars().to_vec();
    let (words, names): (Vec<&str>, Vec<&str>) = (
        decoded.words.iter().collect(),
        decoded.class_names.iter().collect(),
    );
    let channels: Vec<&str> = decoded.channels.iter().collect();
    let normalization = decoded.normalization::<I>();
    let (mean, std) = live_normalization(&normalization, channels.len());
    let hidden = state.map(|s| f32::from(s) / 32768.0);
    let contents = Contents {
        task: h.task,
        vocab: match h.vocab_kind {
            format::VocabKind::Chars => Vocabulary::Chars(&chars_list),
            format::VocabKind::Words => Vocabulary::Words(&words),
            format::VocabKind::Dense => Vocabulary::Dense {
                channels: &channels,
                mean,
                std,
            },
        },
        classes: h.classes,
        class_names: &names,
        initial_hidden: Some(&hidden),
        metadata: decoded.metadata.as_str(),
    };
    let mut again = vec![0u8; qformat::encoded_len_contents::<M, I, H>(&contents)];
    qformat::encode_contents(&*q, &contents, &mut again).expect("re-encode");
    assert_eq!(
        again,
        bytes[..again.len()],
        "a version-3 file re-encodes to its own bytes"
    );
    if M::KIND == CellKind::Gru {
        let embedded =
            qformat::decode_gru_const::<I, H, 4>(bytes).expect("decode_gru_const agrees");
        assert_eq!(embedded.initial_hidden, state);
        assert_eq!(embedded.header, h);
    }
}
