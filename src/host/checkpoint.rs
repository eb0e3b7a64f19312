//! Checkpoints: everything needed to continue a training run exactly where it stopped.
//!
//! A checkpoint holds the settings of the run (so a resume with other settings is refused), the
//! parameters and vocabulary (as an embedded [`crate::format`] model), the optimizer's memory,
//! the carried hidden state, the data position, iteration and epoch counters, the smoothed loss
//! and the RNG state. Resuming from it gives the same parameters, bit for bit, as never
//! stopping.
//!
//! Layout (little-endian): magic `MRCK`, version `u16`, flags `u16`, the [`Settings`], the
//! [`Progress`], the hidden state (`hidden` × `f32`), the model file's length (`u32`) and bytes,
//! the number of optimizer memories (`u32`) and each as `f32`s in the cell's
//! [`Params::TENSORS`](crate::Params::TENSORS) order, then a CRC-32 of everything before it.
//!
//! Any cell: bit 1 of the flags is set for a [`Gru`](crate::model::Gru) (clear for the Elman
//! [`Rnn`](crate::Rnn), as in every checkpoint written before the GRU, which therefore still resumes), and
//! the embedded model file records the cell too (its header byte 30).
//!
//! A run that keeps its best validated model ([`Settings::keep_best`]) sets bit 2; nothing else
//! changes (the best model is the run's model file, and its validation losses are in the run's
//! loss history).
//!
//! A run with dropout ([`Settings::dropout`] above 0) sets bit 3; its rate (`f32`) then follows
//! the progress (after the batch size, when there is one).
//!
//! A series classifier's run sets bit 4 and has its own section instead ([`super::series_checkpoint`]);
//! [`read`] refuses it.
//!
//! A mini-batch run (`batch > 1`) sets bit 0 of the flags; its batch size (`u32`) then follows
//! the progress, and every stream's hidden state (`batch × hidden × f32`, stream order) follows
//! the optimizer memories. The single hidden state is then the last stream's (the one that ends
//! where the validation text starts).

use super::bounded::{BoundedFile, ReadError};
use super::boxed::Zeroable;
use super::model_file::final_from_head;
use super::optimizer::{AnyOptimizer, OptimizerKind};
use crate::codec::bytes::{ByteReader, ByteWriter};
use crate::format::{self, crc32};
use crate::model::{Cell, CellKind};
use crate::{CharVocab, Error, TrainState};

/// Flag bit: a mini-batch run (its batch size and streams follow).
const FLAG_BATCHED: u16 = 1;
/// Flag bit: the cell is a GRU (clear: the Elman cell).
pub(crate) const FLAG_GRU: u16 = 2;
/// Flag bit: the run keeps the model of its best validation loss.
const FLAG_KEEP_BEST: u16 = 4;
/// Flag bit: the run trains with dropout (its rate follows the progress).
const FLAG_DROPOUT: u16 = 8;
/// Flag bit 4: a series classifier's run, whose section [`super::series_checkpoint`] reads
/// (clear in every language model's checkpoint; bits 0–3 are the language model's).
pub const FLAG_SERIES: u16 = 16;

/// The first four bytes of a checkpoint.
pub const MAGIC: [u8; 4] = *b"MRCK";

/// The checkpoint version this build writes and reads.
pub const VERSION: u16 = 1;

/// The settings a run must keep to be resumed: sizes, data, optimizer and schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Hidden units.
    pub hidden: usize,
    /// Inputs and outputs of the model (the vocabulary bucket).
    pub vocab_bucket: usize,
    /// Tokens per chunk.
    pub seq_len: usize,
    /// Update rule.
    pub optimizer: OptimizerKind,
    /// Learning rate.
    pub lr: f32,
    /// Element-wise gradient clip (0 = none).
    pub clip: f32,
    /// Learning-rate decay per epoch: epoch `e` trains with `lr · lr_decay^e` (1 = none).
    pub lr_decay: f32,
    /// BPTT window (`None` = the whole chunk).
    pub window: Option<usize>,
    /// Fraction of the corpus held out for validation.
    pub val_fraction: f32,
    /// Seed of the initialization.
    pub seed: u64,
    /// Characters in the corpus.
    pub corpus_chars: u64,
    /// [`super::corpus::fingerprint`] of the corpus.
    pub corpus_hash: u64,
    /// Streams trained together (1: min-char-rnn's single sequence).
    pub batch: usize,
    /// The recurrent cell.
    pub cell: CellKind,
    /// Whether the run's model file holds the model of the best validation loss measured so far
    /// (rather than the last one).
    pub keep_best: bool,
    /// Dropout on the readout's input while training ([`crate::model::dropout`]), in `[0, 1)`;
    /// 0: none.
    pub dropout: f32,
}

/// Where the run stands (besides parameters, optimizer memory and hidden state).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Updates applied.
    pub iteration: u64,
    /// Completed passes over the data.
    pub epoch: u64,
    /// Next chunk's first token.
    pub position: u64,
    /// Smoothed chunk loss.
    pub smooth_loss: f32,
    /// State of the run's RNG ([`crate::DefaultRng::state`]).
    pub rng: [u8; 16],
    /// The optimizer's own update count (Adam's bias correction).
    pub optimizer_steps: u64,
}

/// Byte offset of the hidden state.
const FIXED_LEN: usize = 8 + 60 + 52;

/// Optimizer memories a checkpoint holds at most (Adam's `m` and `v`).
const MAX_MEMORIES: usize = 2;

/// The longest checkpoint of a model `<I, H, O>` trained with at most `max_batch` streams: the
/// fixed part, the batch size, the dropout rate, the hidden state, the longest model file
/// ([`super::model_file::max_len`]), two optimizer memories (Adam's), every stream's state
/// and the checksum.
pub const fn max_len<const I: usize, const H: usize, const O: usize>(max_batch: usize) -> usize {
    FIXED_LEN
        + 4
        + 4
        + 4 * H
        + 4
        + super::model_file::max_len::<I, H, O>()
        + 4
        + MAX_MEMORIES * 4 * format::max_parameters::<I, H, O>()
        + 4 * max_batch * H
        + 4
}

/// Reads a checkpoint file of at most `file`'s limit (derive it with [`max_len`]): its head
/// first, so a file that is not a checkpoint (wrong magic or version) is refused after 8 bytes,
/// and a longer one from its length without reading the rest. The bytes are not checked
/// further ([`read`] does).
///
/// # Errors
/// [`ReadError::Head`] with [`Error::NotAModel`] or [`Error::UnsupportedVersion`],
/// [`ReadError::TooLarge`] or [`ReadError::Io`].
pub fn read_at_most(file: &mut BoundedFile) -> Result<Vec<u8>, ReadError<Error>> {
    file.checked(MAGIC.len() + 4, |head| match read(head) {
        Err(e) if final_from_head(&e) => Err(e),
        _ => Ok(()),
    })
}

/// Encodes a checkpoint of a run of any cell (`settings.cell` must be `C`'s).
///
/// # Errors
/// As [`crate::format::encode`]; [`Error::CellMismatch`] if `settings.cell` is not `C`'s.
#[allow(clippy::too_many_arguments)]
pub fn encode<C, const I: usize, const H: usize, const O: usize, const N: usize>(
    settings: &Settings,
    state: &TrainState<H>,
    rng: &crate::DefaultRng,
    model: &C,
    vocab: &CharVocab<N>,
    classes: usize,
    optimizer: &AnyOptimizer<I, H, O, C>,
    streams: &[[f32; H]],
) -> Result<Vec<u8>, Error>
where
    C: Cell<I, H, O> + Zeroable,
{
    settings.cell.expect(C::KIND)?;
    let contents = format::Contents::language_model(vocab.chars(), classes);
    let model_bytes = super::model_file::contents_to_bytes(model, &contents)?;
    let memories = optimizer.memory();
    let batched = settings.batch > 1;
    let dropout = settings.dropout != 0.0;
    let len = FIXED_LEN
        + 4 * H
        + 4
        + model_bytes.len()
        + 4
        + memories.len() * 4 * C::PARAMETER_COUNT
        + if batched {
            4 + 4 * settings.batch * H
        } else {
            0
        }
        + if dropout { 4 } else { 0 }
        + 4;
    let mut out = vec![0u8; len];
    let mut w = ByteWriter::new(&mut out);
    let keep_best = if settings.keep_best {
        FLAG_KEEP_BEST
    } else {
        0
    };
    let dropout_flag = if dropout { FLAG_DROPOUT } else { 0 };
    put_head(
        &mut w,
        settings.cell,
        if batched { FLAG_BATCHED } else { 0 } | keep_best | dropout_flag,
    )?;
    for v in [settings.hidden, settings.vocab_bucket, settings.seq_len] {
        w.put_size(v)?;
    }
    w.put_u32(u32::from(settings.optimizer.code()))?;
    for v in [settings.lr, settings.clip, settings.lr_decay] {
        w.put_f32(v)?;
    }
    w.put_u32(settings.window.map_or(u32::MAX, |w| w as u32))?;
    w.put_f32(settings.val_fraction)?;
    for v in [settings.seed, settings.corpus_chars, settings.corpus_hash] {
        w.put_u64(v)?;
    }
    for v in [state.iteration, state.epoch, state.position as u64] {
        w.put_u64(v)?;
    }
    w.put_f32(state.smooth_loss)?;
    w.put(&rng.state())?;
    w.put_u64(optimizer.steps())?;
    debug_assert_eq!(w.position(), FIXED_LEN);
    if batched {
        w.put_size(settings.batch)?;
    }
    if dropout {
        w.put_f32(settings.dropout)?;
    }
    w.put_f32s(&state.hidden)?;
    w.put_size(model_bytes.len())?;
    w.put(&model_bytes)?;
    w.put_size(memories.len())?;
    for memory in memories {
        for index in 0..C::TENSORS.len() {
            w.put_f32s(memory.tensor(index))?;
        }
    }
    if batched {
        let zero = [0.0f32; H];
        for b in 0..settings.batch {
            w.put_f32s(streams.get(b).unwrap_or(&zero))?;
        }
    }
    w.put_u32(crc32(w.written()))?;
    debug_assert_eq!(w.position(), len);
    Ok(out)
}

/// Reads the settings and progress of a checkpoint and checks its checksum, without knowing the
/// model's shape (which the settings give).
///
/// # Errors
/// [`Error::NotAModel`] if the bytes are not a checkpoint, [`Error::UnsupportedVersion`],
/// [`Error::Truncated`], [`Error::ChecksumMismatch`], [`Error::CorruptModel`].
pub fn read(bytes: &[u8]) -> Result<(Settings, Progress), Error> {
    let flags = check_container(bytes, FIXED_LEN)?;
    if flags & FLAG_SERIES != 0 {
        return Err(Error::CorruptModel(
            "a series classifier's checkpoint, not a language model's",
        ));
    }
    let mut r = ByteReader::at(bytes, MAGIC.len() + 4);
    let hidden = r.size()?;
    let vocab_bucket = r.size()?;
    let seq_len = r.size()?;
    let optimizer = u8::try_from(r.u32()?)
        .ok()
        .and_then(OptimizerKind::from_code)
        .ok_or(Error::CorruptModel("unknown optimizer"))?;
    let lr = r.f32()?;
    let clip = r.f32()?;
    let lr_decay = r.f32()?;
    let window = Some(r.u32()?)
        .filter(|&w| w != u32::MAX)
        .map(|w| w as usize);
    let val_fraction = r.f32()?;
    let settings = Settings {
        hidden,
        vocab_bucket,
        seq_len,
        optimizer,
        lr,
        clip,
        lr_decay,
        window,
        val_fraction,
        seed: r.u64()?,
        corpus_chars: r.u64()?,
        corpus_hash: r.u64()?,
        batch: 1,
        cell: if flags & FLAG_GRU != 0 {
            CellKind::Gru
        } else {
            CellKind::Elman
        },
        keep_best: flags & FLAG_KEEP_BEST != 0,
        dropout: 0.0,
    };
    let iteration = r.u64()?;
    let epoch = r.u64()?;
    let position = r.u64()?;
    let smooth_loss = r.f32()?;
    let rng: [u8; 16] = r.array()?;
    // xoshiro never reaches the all-zero state, and seeding from it gives another generator:
    // the run could not resume as it was (found by fuzzing).
    if rng == [0; 16] {
        return Err(Error::CorruptModel("RNG state is all zero"));
    }
    let progress = Progress {
        iteration,
        epoch,
        position,
        smooth_loss,
        rng,
        optimizer_steps: r.u64()?,
    };
    if flags & !(FLAG_BATCHED | FLAG_GRU | FLAG_KEEP_BEST | FLAG_DROPOUT) != 0 {
        return Err(Error::CorruptModel("unknown checkpoint flags"));
    }
    let batched = flags & FLAG_BATCHED != 0;
    let batch = if batched { r.size()? } else { 1 };
    // A batched checkpoint has at least 2 streams (`encode` sets the flag only then); with 0 or
    // 1 its layout would be read as an unbatched one (found by fuzzing).
    if batch < 2 && batched {
        return Err(Error::CorruptModel(
            "batched checkpoint with fewer than 2 streams",
        ));
    }
    let dropout = if flags & FLAG_DROPOUT != 0 {
        let rate = r.f32()?;
        // `encode` sets the flag only for a rate above 0.
        if !(rate > 0.0 && rate < 1.0) {
            return Err(Error::CorruptModel("dropout rate outside (0, 1)"));
        }
        rate
    } else {
        0.0
    };
    Ok((
        Settings {
            batch,
            dropout,
            ..settings
        },
        progress,
    ))
}

/// Writes the head every checkpoint shares (a language model's or a series classifier's): the
/// magic, the version and `flags` with the GRU bit set for `cell`'s.
///
/// # Errors
/// [`Error::Truncated`] if `w` has no room for it.
pub(crate) fn put_head(w: &mut ByteWriter<'_>, cell: CellKind, flags: u16) -> Result<(), Error> {
    w.put(&MAGIC)?;
    w.put_u16(VERSION)?;
    let gru = if cell == CellKind::Gru { FLAG_GRU } else { 0 };
    w.put_u16(flags | gru)
}

/// Checks the container every checkpoint shares (a language model's or a series classifier's,
/// [`super::series_checkpoint`]): the magic, the version, a length of at least `head` bytes and
/// the checksum, and the CRC-32 of everything before the checksum. Returns the flags.
///
/// # Errors
/// [`Error::NotAModel`], [`Error::UnsupportedVersion`], [`Error::Truncated`],
/// [`Error::ChecksumMismatch`].
pub(crate) fn check_container(bytes: &[u8], head: usize) -> Result<u16, Error> {
    match bytes.get(..4) {
        Some(m) if m == MAGIC => {}
        None if MAGIC.starts_with(bytes) => return Err(Error::Truncated),
        _ => return Err(Error::NotAModel),
    }
    let mut r = ByteReader::at(bytes, MAGIC.len());
    let version = r.u16()?;
    if version != VERSION {
        return Err(Error::UnsupportedVersion(version));
    }
    let (covered, stored) = bytes
        .len()
        .checked_sub(4)
        .filter(|&n| n >= head.max(MAGIC.len() + 4))
        .map(|n| bytes.split_at(n))
        .ok_or(Error::Truncated)?;
    if crc32(covered) != ByteReader::new(stored).u32()? {
        return Err(Error::ChecksumMismatch);
    }
    r.u16()
}

/// Restores a checkpoint's parameters, vocabulary, optimizer memory and training state into the
/// caller's buffers, for a model of any cell. `optimizer` must be of the checkpoint's kind
/// (build it from the [`Settings`] returned by [`read`]).
///
/// # Errors
/// As [`read`], plus [`Error::CellMismatch`] if the checkpoint holds another cell than `C`,
/// [`Error::ShapeMismatch`] if the buffers have another shape than the checkpoint and
/// [`Error::CorruptModel`] if its parts are inconsistent.
pub fn restore<C, const I: usize, const H: usize, const O: usize, const N: usize>(
    bytes: &[u8],
    model: &mut C,
    vocab: &mut CharVocab<N>,
    optimizer: &mut AnyOptimizer<I, H, O, C>,
    streams: &mut Vec<[f32; H]>,
) -> Result<(TrainState<H>, crate::DefaultRng), Error>
where
    C: Cell<I, H, O> + Zeroable,
{
    use rand_core::SeedableRng;
    let (settings, progress) = read(bytes)?;
    settings.cell.expect(C::KIND)?;
    if (settings.vocab_bucket, settings.hidden) != (I, H) || I != O {
        return Err(Error::ShapeMismatch {
            found: (
                settings.vocab_bucket,
                settings.hidden,
                settings.vocab_bucket,
            ),
            expected: (I, H, O),
        });
    }
    if optimizer.kind() != settings.optimizer {
        return Err(Error::CorruptModel("optimizer kind differs"));
    }
    let batched = settings.batch > 1;
    let after_progress = if batched { 4 } else { 0 } + if settings.dropout != 0.0 { 4 } else { 0 };
    let mut r = ByteReader::at(bytes, FIXED_LEN + after_progress);
    let mut hidden = [0.0f32; H];
    r.f32s_into(&mut hidden)?;
    let model_len = r.size()?;
    // Training resumes from the carried state read above, not the model file's stored one.
    let mut file_state = [0.0f32; H];
    let header = format::decode(r.take(model_len)?, model, vocab, &mut file_state)?;
    let memories = r.size()?;
    let mut slots = optimizer.memory_mut();
    if memories != slots.len() {
        return Err(Error::CorruptModel("optimizer memory count differs"));
    }
    for memory in &mut slots {
        for index in 0..C::TENSORS.len() {
            r.f32s_into(memory.tensor_mut(index))?;
        }
    }
    streams.clear();
    if batched {
        for _ in 0..settings.batch {
            let mut stream = [0.0f32; H];
            r.f32s_into(&mut stream)?;
            streams.push(stream);
        }
    }
    optimizer.set_steps(progress.optimizer_steps);
    let state = TrainState {
        hidden,
        position: usize::try_from(progress.position)
            .map_err(|_| Error::CorruptModel("position out of range"))?,
        iteration: progress.iteration,
        epoch: progress.epoch,
        smooth_loss: progress.smooth_loss,
    };
    let _ = header;
    Ok((state, crate::DefaultRng::from_seed(progress.rng)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DefaultRng, Rnn, TrainConfig};
    use rand_core::{Rng, SeedableRng};

    #[test]
    fn round_trip_restores_everything() {
        let vocab = CharVocab::<8>::from_text("abc").unwrap();
        let mut model = Rnn::<8, 4, 8>::ZERO;
        let mut rng = DefaultRng::seed_from_u64(5);
        model.init_gaussian(&mut rng, 0.1);
        let mut optimizer = AnyOptimizer::<8, 4, 8>::new(OptimizerKind::Adam, 0.01);
        if let AnyOptimizer::Adam(a) = &mut optimizer {
            a.m.b_h[1] = 0.25;
            a.v.b_y[2] = 0.5;
            a.steps = 17;
        }
        let mut state = TrainState::<4>::start(&TrainConfig::min_char_rnn(3));
        state.hidden[3] = -0.5;
        state.position = 75;
        state.iteration = 3;
        let settings = Settings {
            hidden: 4,
            vocab_bucket: 8,
            seq_len: 25,
            optimizer: OptimizerKind::Adam,
            lr: 0.01,
            clip: 5.0,
            lr_decay: 0.97,
            window: Some(5),
            val_fraction: 0.1,
            seed: 9,
            corpus_chars: 100,
            corpus_hash: 77,
            batch: 1,
            cell: CellKind::Elman,
            keep_best: true,
            dropout: 0.25,
        };
        let bytes = encode(&settings, &state, &rng, &model, &vocab, 3, &optimizer, &[]).unwrap();
        let (read_settings, progress) = read(&bytes).unwrap();
        assert_eq!(read_settings, settings);
        assert_eq!(progress.iteration, 3);

        let mut model2 = Rnn::<8, 4, 8>::ZERO;
        let mut vocab2 = CharVocab::<8>::new();
        let mut optimizer2 = AnyOptimizer::<8, 4, 8>::new(OptimizerKind::Adam, 0.01);
        let mut streams = vec![[1.0; 4]];
        let (state2, mut rng2) = restore(
            &bytes,
            &mut model2,
            &mut vocab2,
            &mut optimizer2,
            &mut streams,
        )
        .unwrap();
        assert!(streams.is_empty());
        assert_eq!((&model2, &vocab2, &state2), (&model, &vocab, &state));
        let (AnyOptimizer::Adam(a), AnyOptimizer::Adam(b)) = (&optimizer, &optimizer2) else {
            panic!("not adam");
        };
        assert_eq!(a, b);
        assert_eq!(rng2.next_u32(), rng.next_u32());

        let mut damaged = bytes.clone();
        damaged[40] ^= 4;
        assert_eq!(read(&damaged), Err(Error::ChecksumMismatch));
        assert_eq!(read(&bytes[..50]), Err(Error::Truncated));
        assert_eq!(
            read(&bytes[..bytes.len() - 1]),
            Err(Error::ChecksumMismatch)
        );
        assert_eq!(read(b"MRNN...."), Err(Error::NotAModel));
        let mut wrong = AnyOptimizer::<8, 4, 8>::new(OptimizerKind::Adagrad, 0.01);
        assert!(restore(&bytes, &mut model2, &mut vocab2, &mut wrong, &mut streams).is_err());

        // A batched run: its batch size and every stream's state come back.
        let batched = Settings {
            batch: 3,
            ..settings
        };
        let states = [[0.5; 4], [-0.25; 4], [0.125; 4]];
        let bytes = encode(
            &batched, &state, &rng, &model, &vocab, 3, &optimizer, &states,
        )
        .unwrap();
        assert_eq!(read(&bytes).unwrap().0, batched);
        let (state3, _) = restore(
            &bytes,
            &mut model2,
            &mut vocab2,
            &mut optimizer2,
            &mut streams,
        )
        .unwrap();
        assert_eq!((state3, &streams[..]), (state, &states[..]));
    }

    /// A GRU checkpoint records its cell (flag bit 1) and restores parameters and Adagrad
    /// memory of the GRU's tensors; restoring it into an Elman model (or an Elman checkpoint
    /// into a GRU) is refused by name.
    #[test]
    fn a_gru_checkpoint_round_trips_and_refuses_another_cell() {
        use crate::model::Gru;
        let vocab = CharVocab::<8>::from_text("abc").unwrap();
        let mut rng = DefaultRng::seed_from_u64(3);
        let mut model = Gru::<8, 4, 8>::ZERO;
        model.init_uniform(&mut rng);
        let mut optimizer = AnyOptimizer::<8, 4, 8, Gru<8, 4, 8>>::new(OptimizerKind::Adagrad, 0.1);
        if let AnyOptimizer::Adagrad(a) = &mut optimizer {
            a.memory.w_hh[2][3][1] = 0.75;
            a.memory.b_hh[1][0] = 0.5;
        }
        let mut state = TrainState::<4>::start(&TrainConfig::min_char_rnn(3));
        state.hidden[1] = 0.25;
        state.iteration = 9;
        let settings = Settings {
            hidden: 4,
            vocab_bucket: 8,
            optimizer: OptimizerKind::Adagrad,
            cell: CellKind::Gru,
            ..small_settings(1)
        };
        let bytes = encode(&settings, &state, &rng, &model, &vocab, 3, &optimizer, &[]).unwrap();
        assert_eq!(read(&bytes).unwrap().0, settings);
        let mut model2 = Gru::<8, 4, 8>::ZERO;
        let mut vocab2 = CharVocab::<8>::new();
        let mut optimizer2 =
            AnyOptimizer::<8, 4, 8, Gru<8, 4, 8>>::new(OptimizerKind::Adagrad, 0.1);
        let mut streams = Vec::new();
        let (state2, _) = restore(
            &bytes,
            &mut model2,
            &mut vocab2,
            &mut optimizer2,
            &mut streams,
        )
        .unwrap();
        assert_eq!((&model2, &vocab2, &state2), (&model, &vocab, &state));
        let (AnyOptimizer::Adagrad(a), AnyOptimizer::Adagrad(b)) = (&optimizer, &optimizer2) else {
            panic!("not adagrad");
        };
        assert_eq!(a, b);

        let gru_into_elman = Error::CellMismatch {
            found: "gru",
            expected: "elman",
        };
        let mut elman = Rnn::<8, 4, 8>::ZERO;
        let mut elman_optimizer = AnyOptimizer::<8, 4, 8>::new(OptimizerKind::Adagrad, 0.1);
        let restored = restore(
            &bytes,
            &mut elman,
            &mut vocab2,
            &mut elman_optimizer,
            &mut streams,
        );
        assert_eq!(restored.err(), Some(gru_into_elman));
        let elman_settings = Settings {
            cell: CellKind::Elman,
            ..settings
        };
        let elman_bytes = encode(
            &elman_settings,
            &state,
            &rng,
            &elman,
            &vocab,
            3,
            &elman_optimizer,
            &[],
        )
        .unwrap();
        let restored = restore(
            &elman_bytes,
            &mut model2,
            &mut vocab2,
            &mut optimizer2,
            &mut streams,
        );
        assert!(matches!(restored, Err(Error::CellMismatch { .. })));
        // Settings that name another cell than the model are refused when encoding too.
        assert!(
            encode(
                &settings,
                &state,
                &rng,
                &elman,
                &vocab,
                3,
                &elman_optimizer,
                &[]
            )
            .is_err()
        );
    }

    /// The settings of a small Elman SGD run of `batch` streams.
    fn small_settings(batch: usize) -> Settings {
        Settings {
            hidden: 3,
            vocab_bucket: 4,
            seq_len: 4,
            optimizer: OptimizerKind::Sgd,
            lr: 0.1,
            clip: 5.0,
            lr_decay: 1.0,
            window: None,
            val_fraction: 0.1,
            seed: 1,
            corpus_chars: 10,
            corpus_hash: 2,
            batch,
            cell: CellKind::Elman,
            keep_best: false,
            dropout: 0.0,
        }
    }

    /// A small SGD checkpoint with `batch` streams holding `streams`.
    fn small_checkpoint(batch: usize, streams: &[[f32; 3]]) -> Vec<u8> {
        let vocab = CharVocab::<4>::from_text("ab").unwrap();
        let model = Rnn::<4, 3, 4>::ZERO;
        let optimizer = AnyOptimizer::<4, 3, 4>::new(OptimizerKind::Sgd, 0.1);
        let state = TrainState::<3>::start(&TrainConfig::min_char_rnn(2));
        let settings = small_settings(batch);
        let rng = DefaultRng::seed_from_u64(1);
        encode(
            &settings, &state, &rng, &model, &vocab, 2, &optimizer, streams,
        )
        .unwrap()
    }

    /// Rewrites the whole-file CRC after an edit.
    fn reseal(bytes: &mut [u8]) {
        let end = bytes.len() - 4;
        let crc = crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }

    /// Fuzzing found a checkpoint with an all-zero RNG state (which xoshiro cannot reach) that
    /// restored into a differently seeded generator; it is refused now.
    #[test]
    fn an_all_zero_rng_state_is_refused() {
        let mut bytes = small_checkpoint(1, &[]);
        assert!(read(&bytes).is_ok());
        // The RNG state sits just before the optimizer's step count, at the end of the fixed part.
        bytes[FIXED_LEN - 24..FIXED_LEN - 8].fill(0);
        reseal(&mut bytes);
        assert_eq!(
            read(&bytes),
            Err(Error::CorruptModel("RNG state is all zero"))
        );
    }

    /// Fuzzing found a checkpoint flagged as batched with a batch size of 0: it read as batch 0,
    /// restored with the unbatched layout and re-encoded as another checkpoint; a batched flag
    /// with fewer than 2 streams is refused now.
    #[test]
    fn a_batched_flag_with_fewer_than_two_streams_is_refused() {
        let bytes = small_checkpoint(2, &[[0.5; 3], [-0.5; 3]]);
        assert_eq!(read(&bytes).unwrap().0.batch, 2);
        for batch in [0u32, 1] {
            let mut edited = bytes.clone();
            edited[FIXED_LEN..FIXED_LEN + 4].copy_from_slice(&batch.to_le_bytes());
            reseal(&mut edited);
            assert_eq!(
                read(&edited),
                Err(Error::CorruptModel(
                    "batched checkpoint with fewer than 2 streams"
                ))
            );
        }
    }
}
