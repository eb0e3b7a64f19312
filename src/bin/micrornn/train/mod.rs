//! `micrornn train`: check everything and resolve every setting ([`plan`]), build or restore the
//! model ([`setup`]), run the training loop ([`progress`]), then save and report ([`report`]).

mod plan;
mod progress;
mod report;
mod run;
pub(crate) mod setup;

pub(crate) use plan::check_writable;

use crate::cells::LmCell;
use crate::{Fail, Outcome, TrainArgs, dispatch};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by Ctrl-C; the training loop stops, saves, and exits.
static STOP: AtomicBool = AtomicBool::new(false);

/// Runs `micrornn train`.
pub fn run(args: TrainArgs) -> Result<Outcome, Fail> {
    let plan = plan::plan(args)?;
    let bucket = plan.settings.vocab_bucket;
    dispatch!(cell plan.settings.cell, plan.settings.hidden, bucket, train(&plan))
}

/// Trains a language model of the cell `C` (`Rnn<V, H, V>` or `Gru<V, H, V>`): restore or
/// initialize, loop, save, report.
fn train<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &plan::Plan,
) -> Result<Outcome, Fail> {
    let vocab = setup::vocab::<V>(plan)?;
    let mut buffers = setup::Buffers::<V, H, C>::new(&plan.settings);
    let (state, rng) = buffers.restore_or_init(plan, &vocab)?;
    let mut trainer = buffers.trainer(plan, state)?;
    stop_on_ctrl_c();
    let run = progress::train_loop(plan, &mut trainer, &rng, &vocab)?;
    report::finish(plan, &mut trainer, &rng, &vocab, run)
}

/// Ctrl-C: the first stops the loop (which then saves); a second one exits at once (files are
/// replaced atomically, so nothing is left half-written).
fn stop_on_ctrl_c() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
}

/// Whether Ctrl-C asked the run to stop.
fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
