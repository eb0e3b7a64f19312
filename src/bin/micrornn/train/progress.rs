//! The training loop: one chunk per iteration until the budget is spent or Ctrl-C, with the
//! progress bar, the loss history, and at every `--sample-every` a sample, the validation loss
//! and a checkpoint.

use super::plan::{Budget, Plan};
use super::report::{sample_text, save_history, save_model, validation, write_checkpoint};
use super::run::{Best, Run, human, smooth_per_char};
use super::setup::BinTrainer;
use crate::cells::LmCell;
use crate::{Fail, show};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use micrornn::host::history::{History, Record};
use micrornn::{CharVocab, ChunkReport, DefaultRng, Error};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Iterations between two rows of the loss history.
const LOG_EVERY: u64 = 100;

/// Trains until the budget is spent or Ctrl-C; a diverging loss is an error that saves nothing.
pub fn train_loop<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &mut BinTrainer<'_, V, H, C>,
    rng: &DefaultRng,
    vocab: &CharVocab<V>,
) -> Result<Run, Fail> {
    let mut run = Run {
        history: load_history(plan, trainer.state.iteration),
        seconds_before: 0.0,
        start_iteration: trainer.state.iteration,
        start: Instant::now(),
        train_time: Duration::ZERO,
        interval_loss: 0.0,
        interval_chars: 0,
        interrupted: false,
        best: None,
    };
    run.seconds_before = run.history.records.last().map_or(0.0, |r| r.seconds);
    if plan.settings.keep_best {
        run.best = best_in(&run.history);
    }
    let target = iteration_target(plan);
    let bar = progress_bar(plan.budget, target);
    if !plan.json {
        bar.suspend(|| announce::<V, H, C>(plan));
    }
    let mut last_good = plan.resume.as_ref().map(|r| (r.path.clone(), r.iteration));
    run.start = Instant::now();
    loop {
        if super::stop_requested() {
            run.interrupted = true;
            break;
        }
        if budget_spent(plan, target, &run, trainer.state.iteration) {
            break;
        }
        let report = step(plan, trainer, &mut run).map_err(|e| {
            bar.finish_and_clear();
            e.or_diverged(trainer.state.iteration + 1, last_good.as_ref())
        })?;
        run.interval_loss += f64::from(report.loss);
        run.interval_chars += report.tokens as u64;
        let iteration = trainer.state.iteration;
        if iteration.is_multiple_of(10) {
            update_bar(&bar, plan, trainer, &run);
        }
        let sample_now = plan.sample_every > 0 && iteration.is_multiple_of(plan.sample_every);
        if iteration.is_multiple_of(LOG_EVERY) || sample_now {
            let val = sample_now
                .then(|| validation(trainer.model, &trainer.state.hidden, plan, vocab.len()))
                .flatten();
            record(&mut run, trainer, plan, val);
            if sample_now {
                show_sample(&bar, plan, trainer, vocab, val);
                keep_if_best(plan, trainer, vocab, &mut run, val)?;
                write_checkpoint(plan, trainer, rng, vocab)?;
                last_good = Some((plan.checkpoint.clone(), iteration));
            }
        }
    }
    bar.finish_and_clear();
    Ok(run)
}

/// With `--keep-best`: saves the model (then the history, before the checkpoint: a resumed run
/// finds the best in the history) when `val` beats every validation loss of the run so far.
fn keep_if_best<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
    vocab: &CharVocab<V>,
    run: &mut Run,
    val: Option<f64>,
) -> Result<(), Fail> {
    let Some(val) = val.filter(|_| plan.settings.keep_best) else {
        return Ok(());
    };
    if run.best.is_some_and(|best| best.val <= val) {
        return Ok(());
    }
    save_model(plan, trainer, vocab, Some(val))?;
    run.best = Some(Best {
        val,
        iteration: trainer.state.iteration,
    });
    save_history::<H>(plan, run)
}

/// The lowest validation loss of a history (the first of equals), and its iteration.
fn best_in(history: &History) -> Option<Best> {
    history
        .records
        .iter()
        .filter_map(|r| {
            r.val_loss_per_char.map(|val| Best {
                val,
                iteration: r.iteration,
            })
        })
        .fold(None, |best: Option<Best>, r| match best {
            Some(b) if b.val <= r.val => Some(b),
            _ => Some(r),
        })
}

/// Why a step failed: the loss diverged, or another error.
enum StepError {
    Diverged,
    Other(Error),
}

impl StepError {
    /// The one-line message: a diverged run names the last good checkpoint it kept.
    fn or_diverged(self, iteration: u64, last_good: Option<&(PathBuf, u64)>) -> Fail {
        match self {
            StepError::Other(e) => Fail::new(format!("training: {e}")),
            StepError::Diverged => {
                let kept = match last_good {
                    Some((path, at)) => format!(
                        "kept the last good checkpoint {} (iteration {at})",
                        show(path)
                    ),
                    None => "no checkpoint had been written yet, and none was".to_string(),
                };
                Fail::new(format!(
                    "training diverged at iteration {iteration}: the loss is NaN or infinite \
                     (try a smaller --lr, or --clip); nothing was saved, {kept}"
                ))
            }
        }
    }
}

/// One chunk at this epoch's learning rate, timed.
fn step<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &mut BinTrainer<'_, V, H, C>,
    run: &mut Run,
) -> Result<ChunkReport, StepError> {
    let s = &plan.settings;
    // The learning rate of this epoch: a function of the epoch counter only, so a resumed run
    // uses exactly the rates it would have used without stopping.
    let epoch = i32::try_from(trainer.state.epoch).unwrap_or(i32::MAX);
    trainer.optimizer.set_lr(s.lr * s.lr_decay.powi(epoch));
    let t0 = Instant::now();
    let report = trainer.train_chunk(plan.split().0).map_err(|e| match e {
        Error::NonFiniteLoss => StepError::Diverged,
        e => StepError::Other(e),
    })?;
    run.train_time += t0.elapsed();
    Ok(report)
}

/// The number of iterations this run does, if the budget counts them.
fn iteration_target(plan: &Plan) -> Option<u64> {
    let part = plan.split().0.len() / plan.settings.batch;
    let chunks_per_epoch = ((part - 1) / plan.settings.seq_len) as u64;
    match plan.budget {
        Budget::Iters(n) => Some(n),
        Budget::Epochs(n) => Some(n.saturating_mul(chunks_per_epoch)),
        Budget::Seconds(_) | Budget::UntilInterrupted => None,
    }
}

/// Whether the run has done its iterations or used its time.
fn budget_spent(plan: &Plan, target: Option<u64>, run: &Run, iteration: u64) -> bool {
    let done = iteration - run.start_iteration;
    match plan.budget {
        Budget::Seconds(limit) => run.start.elapsed().as_secs_f64() >= limit,
        _ => target.is_some_and(|t| done >= t),
    }
}

/// The first lines of a run: the corpus, its split and the model.
fn announce<const V: usize, const H: usize, C: LmCell<V, H>>(plan: &Plan) {
    let s = &plan.settings;
    let (train_ids, val_ids) = plan.split();
    eprintln!(
        "training on {} ({} characters, {} distinct; {} for training, {} for validation)\n\
         model: hidden {H}, vocabulary bucket {V}, {} cell, {} parameters; {} lr {}, seq-len {}",
        plan.corpus_name,
        plan.ids.len(),
        plan.vocab.len(),
        train_ids.len(),
        val_ids.len(),
        C::KIND,
        C::PARAMETER_COUNT,
        s.optimizer,
        s.lr,
        s.seq_len
    );
    eprintln!("{}", crate::rust_type(C::TYPE_NAME, V, H, plan.vocab.len()));
    // Issue 21: a short text trains on its first chunks only; say so (the library's coverage).
    let config = micrornn::TrainConfig {
        seq_len: s.seq_len,
        ..micrornn::TrainConfig::min_char_rnn(plan.vocab.len())
    };
    if s.batch == 1
        && let Ok(c) = config.coverage(train_ids.len())
        && c.skipped > 0
        && c.skipped * 20 >= train_ids.len()
    {
        eprintln!(
            "warning: each pass trains on the first {} of the {} training characters only ({} \
             chunk(s) of --seq-len {}; a chunk never crosses the end); the last {} are never \
             trained. Repeat the text, or use a --seq-len that divides {}",
            c.trained + 1,
            train_ids.len(),
            c.chunks,
            s.seq_len,
            c.skipped,
            train_ids.len() - 1
        );
    }
}

/// Position and message of the progress bar.
fn update_bar<const V: usize, const H: usize, C: LmCell<V, H>>(
    bar: &ProgressBar,
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
    run: &Run,
) {
    let iteration = trainer.state.iteration;
    match plan.budget {
        Budget::Seconds(_) => bar.set_position(run.start.elapsed().as_millis() as u64),
        _ => bar.set_position(iteration - run.start_iteration),
    }
    let chars = (iteration - run.start_iteration) as f64
        * (plan.settings.seq_len * plan.settings.batch) as f64;
    bar.set_message(format!(
        "iter {iteration} · loss {:.3} nats/char · {} chars/s",
        smooth_per_char(plan, trainer),
        human(chars / run.train_time.as_secs_f64())
    ));
}

/// A row of the loss history: the mean chunk loss since the last row, the smoothed loss and the
/// validation loss (if measured).
fn record<const V: usize, const H: usize, C: LmCell<V, H>>(
    run: &mut Run,
    trainer: &BinTrainer<'_, V, H, C>,
    plan: &Plan,
    val: Option<f64>,
) {
    run.history.records.push(Record {
        iteration: trainer.state.iteration,
        epoch: trainer.state.epoch,
        seconds: run.seconds_before + run.start.elapsed().as_secs_f64(),
        loss_per_char: run.interval_loss / run.interval_chars.max(1) as f64,
        smooth_loss_per_char: smooth_per_char(plan, trainer),
        val_loss_per_char: val,
    });
    (run.interval_loss, run.interval_chars) = (0.0, 0);
}

/// Prints a sample (on stderr with `--json`, which keeps stdout for the JSON object).
fn show_sample<const V: usize, const H: usize, C: LmCell<V, H>>(
    bar: &ProgressBar,
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
    vocab: &CharVocab<V>,
    val: Option<f64>,
) {
    let iteration = trainer.state.iteration;
    let text = sample_text(
        trainer.model,
        &trainer.state.hidden,
        vocab,
        plan,
        iteration,
        0,
    );
    let val = val.map_or(String::new(), |v| format!(" · validation {v:.3}"));
    let header = format!(
        "----- iteration {iteration} · smoothed loss {:.3} nats/char{val} -----",
        smooth_per_char(plan, trainer)
    );
    bar.suspend(|| {
        if plan.json {
            eprintln!("{header}\n{text}\n");
        } else {
            println!("{header}\n{text}\n");
        }
    });
}

/// The loss history of the run being resumed (rows up to its iteration), or an empty one.
fn load_history(plan: &Plan, iteration: u64) -> History {
    if plan.resume.is_none() {
        return History::default();
    }
    let mut history = std::fs::read_to_string(&plan.history_csv)
        .map(|csv| History::from_csv(&csv))
        .unwrap_or_default();
    history.records.retain(|r| r.iteration <= iteration);
    history
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
fn progress_bar(budget: Budget, target: Option<u64>) -> ProgressBar {
    let (len, template) = match (budget, target) {
        (Budget::Seconds(s), _) => (
            (s * 1000.0) as u64,
            "{spinner} [{elapsed_precise}] {bar:30} {msg} · ETA {eta}",
        ),
        (_, Some(n)) => (
            n,
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} · {msg} · ETA {eta}",
        ),
        _ => (
            0,
            "{spinner} [{elapsed_precise}] {msg} · Ctrl-C saves and stops",
        ),
    };
    let bar = if len > 0 {
        ProgressBar::new(len)
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
