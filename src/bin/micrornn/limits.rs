//! The largest files this binary reads, derived from its compiled sizes ([`HIDDEN_SIZES`] ×
//! [`VOCAB_BUCKETS`], [`MAX_BATCH`]) and the decoders' type parameters: a file longer than the
//! largest one any compiled shape can have is refused from its length, after its head only (see
//! `micrornn::host::bounded`).

use crate::{Fail, HIDDEN_SIZES, MAX_BATCH, VOCAB_BUCKETS, dispatch};
use micrornn::host::bounded::Budget;
use micrornn::host::{checkpoint, model_file, weights};

/// The widest embedding `micrornn import` folds into the input weights: twice the largest hidden
/// size (an embedding is usually narrower than the hidden layer it feeds).
pub const MAX_EMBEDDING_WIDTH: usize = 2 * HIDDEN_SIZES[HIDDEN_SIZES.len() - 1];

/// Bytes of a `--vocab` JSON array: 16 per character of the largest bucket (`"\ud83d\ude00", `
/// is 16) and 1 KiB of white space around them.
pub const VOCAB_JSON_BYTES: u64 = 16 * VOCAB_BUCKETS[VOCAB_BUCKETS.len() - 1] as u64 + 1024;

/// The largest value of `len` over every compiled (hidden, vocabulary bucket) pair.
fn largest(len: impl Fn(usize, usize) -> Result<usize, Fail>) -> u64 {
    HIDDEN_SIZES
        .iter()
        .flat_map(|&hidden| VOCAB_BUCKETS.iter().map(move |&bucket| (hidden, bucket)))
        .filter_map(|(hidden, bucket)| len(hidden, bucket).ok())
        .max()
        .unwrap_or(0) as u64
}

fn model_len<const V: usize, const H: usize>() -> Result<usize, Fail> {
    Ok(model_file::max_len::<V, H, V>())
}

fn checkpoint_len<const V: usize, const H: usize>() -> Result<usize, Fail> {
    Ok(checkpoint::max_len::<V, H, V>(MAX_BATCH))
}

/// The longest model file (f32 or quantized) of any compiled shape.
pub fn model_file() -> u64 {
    largest(|hidden, bucket| dispatch!(hidden, bucket, model_len()))
}

/// The longest checkpoint of any compiled shape (Adam's two memories, [`MAX_BATCH`] streams).
pub fn checkpoint() -> u64 {
    largest(|hidden, bucket| dispatch!(hidden, bucket, checkpoint_len()))
}

/// The longest series checkpoint: the largest compiled series model (GRU, the largest hidden
/// size) trained on as many series as a training file of [`TRAIN_LIMITS`] bytes can hold (each
/// at least 4 bytes: `1:a` and a line end).
///
/// [`TRAIN_LIMITS`]: crate::series::TRAIN_LIMITS
pub fn series_checkpoint() -> u64 {
    use crate::series::{SERIES_CLASSES, SERIES_HIDDEN, SERIES_INPUTS, TRAIN_LIMITS};
    const HIDDEN: usize = SERIES_HIDDEN[SERIES_HIDDEN.len() - 1];
    let most_series = (TRAIN_LIMITS.bytes / 4) as usize;
    micrornn::host::series_checkpoint::max_len::<SERIES_INPUTS, HIDDEN, SERIES_CLASSES>(most_series)
        as u64
}

/// What `micrornn import` reads of a weights file: tensors of the largest compiled shape with an
/// embedding up to [`MAX_EMBEDDING_WIDTH`] wide.
pub fn weights() -> Budget {
    let largest = |sizes: &[usize]| sizes.iter().copied().max().unwrap_or(0) as u64;
    let (bucket, hidden) = (largest(&VOCAB_BUCKETS), largest(&HIDDEN_SIZES));
    weights::budget_for(bucket, hidden, bucket, MAX_EMBEDDING_WIDTH as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The limits are a few MB: far below what would take a machine down, above every file of a
    /// compiled shape of either cell (the GRU's, three Elman cells' worth of parameters, sets
    /// them: a `Gru<256, 512, 256>` is 5.3 MB, 6.3 MB with the metadata allowance, its Adam
    /// checkpoint about 17.4 MB).
    #[test]
    fn the_limits_hold_the_largest_compiled_shape_and_stay_small() {
        let (model, checkpoint, weights) = (model_file(), checkpoint(), weights());
        assert_eq!(
            model,
            model_file::max_len::<256, 512, 256>() as u64,
            "the largest bucket and hidden size give the longest model"
        );
        let largest_gru = 3 * (256 * 512 + 512 * 512 + 2 * 512) + 256 * 512 + 256;
        assert!(model > 4 * largest_gru && model < 8 << 20, "{model}");
        assert_eq!(
            checkpoint,
            checkpoint::max_len::<256, 512, 256>(MAX_BATCH) as u64
        );
        assert!(
            checkpoint > 3 * 4 * largest_gru && checkpoint < 20 << 20,
            "{checkpoint}"
        );
        // A GRU's input weights (3 gates × 512 hidden) from a 1024-wide embedding.
        assert_eq!(weights.item_bytes, 4 * 3 * 512 * 1024);
        assert!(weights.total_bytes < 32 << 20, "{weights:?}");
    }
}
