//! What a training run carries from the loop ([`super::progress`]) to the report
//! ([`super::report`]): the run's record and best model, the smoothed loss per character, and
//! the short number format both print.

use super::plan::Plan;
use super::setup::BinTrainer;
use crate::cells::LmCell;
use micrornn::host::history::History;
use std::time::{Duration, Instant};

/// What the loop leaves for the report.
pub struct Run {
    /// The loss history, with the rows of the run being resumed.
    pub history: History,
    /// Wall time of the runs before this one (from the resumed history).
    pub seconds_before: f64,
    /// The iteration this run started at.
    pub start_iteration: u64,
    /// When this run's loop started.
    pub start: Instant,
    /// Time spent inside training steps (what chars/s counts).
    pub train_time: Duration,
    /// Summed chunk loss since the last history row.
    pub interval_loss: f64,
    /// Characters since the last history row.
    pub interval_chars: u64,
    /// Whether Ctrl-C stopped the run.
    pub interrupted: bool,
    /// With `--keep-best`: the best validated model so far (the one in the model file).
    pub best: Option<Best>,
}

/// The model kept by `--keep-best`: its validation loss and iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Best {
    /// Validation loss per char, nats.
    pub val: f64,
    /// The iteration it was scored at.
    pub iteration: u64,
}

/// The smoothed loss per character.
pub fn smooth_per_char<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
) -> f64 {
    f64::from(trainer.state.smooth_loss) / plan.settings.seq_len as f64
}

/// `123456.0` → `123.5k`.
pub fn human(x: f64) -> String {
    if !x.is_finite() {
        "-".to_string()
    } else if x >= 1e6 {
        format!("{:.2}M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1}k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
