//! The series checkpoint decoder: `host::series_checkpoint::read_settings` and `restore` on
//! arbitrary bytes, into the binary's smallest series shapes (16 inputs, 16 hidden, 16 outputs;
//! Elman or GRU as the flags say). What restores must encode back to the very same bytes (the
//! layout has one encoding of each run), so nothing is lost or invented on the way.
//!
//! Input: one mode byte, then the checkpoint. Mode bit 0 set: the CRC-32 at the end is
//! rewritten first, so that mutations reach the checks behind it. Seeds: checkpoints written by
//! `micrornn train tests/data/series/ramps_TRAIN.ts --hidden 16 --checkpoint …`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn::format::crc32;
use micrornn::host::series_checkpoint::{self, RunSettings};
use micrornn::model::CellKind;
use micrornn::{Cell, Gru, Rnn};

const N: usize = 16;

/// Restores into `C` and checks that the run encodes back to `bytes`.
fn round_trip<C: Cell<N, N, N> + micrornn::Zeroable>(bytes: &[u8], settings: &RunSettings)
where
    micrornn::Adam<C>: micrornn::Zeroable,
{
    let Ok(state) = series_checkpoint::restore::<C, N, N, N>(bytes, settings) else {
        return;
    };
    let again = series_checkpoint::encode::<C, N, N, N>(settings, &state)
        .expect("re-encode a restored checkpoint");
    assert_eq!(again, bytes, "a restored checkpoint encodes to its bytes");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut bytes = file.to_vec();
    if mode & 1 == 1 && bytes.len() >= 4 {
        let end = bytes.len() - 4;
        let crc = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }
    let Ok(settings) = series_checkpoint::read_settings(&bytes) else {
        return;
    };
    match settings.cell {
        CellKind::Elman => round_trip::<Rnn<N, N, N>>(&bytes, &settings),
        // A GRU, or a cell of a later build: `restore` refuses the latter.
        _ => round_trip::<Gru<N, N, N>>(&bytes, &settings),
    }
});
