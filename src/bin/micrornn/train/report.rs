//! The end of a run: the validation loss on the whole held-out text, the model, checkpoint and
//! loss history saved, and the summary (text, or one JSON object with `--json`).

use super::plan::Plan;
use super::run::{Best, Run, human, smooth_per_char};
use super::setup::BinTrainer;
use crate::cells::LmCell;
use crate::{Fail, Outcome, show};
use micrornn::host::history::Record;
use micrornn::host::{atomic, checkpoint, model_file};
use micrornn::{CharVocab, DefaultRng, Generator, Sampling, eval, format};
use rand_core::SeedableRng;
use std::path::Path;

/// Validation characters scored at each `--sample-every` without `--keep-best` (the full split is
/// scored at the end).
const QUICK_VAL_CHARS: usize = 10_000;

/// Characters of each sample printed while training.
const SAMPLE_LEN: usize = 200;

/// What a training run produced.
struct Summary {
    iterations: u64,
    chars: u64,
    seconds: f64,
    train_seconds: f64,
    smooth_loss: f32,
    val: Option<eval::Loss>,
    /// With `--keep-best`: the model saved to `--out`.
    best: Option<Best>,
    interrupted: bool,
}

/// Scores the validation text, saves model, checkpoint and history, and prints the summary.
pub fn finish<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &mut BinTrainer<'_, V, H, C>,
    rng: &DefaultRng,
    vocab: &CharVocab<V>,
    mut run: Run,
) -> Result<Outcome, Fail> {
    let seconds = run.start.elapsed().as_secs_f64();
    let val_ids = plan.split().1;
    let val = if run.interrupted || val_ids.len() < 2 {
        None
    } else {
        eval::cross_entropy_from(
            trainer.model,
            &trainer.state.hidden,
            val_ids,
            vocab.len(),
            None,
        )
        .ok()
    };
    last_record(&mut run, trainer, plan, seconds, val);

    // Save: model (with the carried state it was validated from), history, checkpoint. Each
    // file is replaced atomically. A run that keeps its best model saves the last one only if
    // it is the best (or if none was scored).
    let last_val = val.map(|v| v.per_symbol());
    let iteration = trainer.state.iteration;
    let beats_best = match (last_val, run.best) {
        (_, None) => true,
        (Some(v), Some(best)) => v < best.val,
        (None, Some(_)) => false,
    };
    if !plan.settings.keep_best || beats_best {
        save_model(plan, trainer, vocab, last_val)?;
        if let (true, Some(v)) = (plan.settings.keep_best, last_val) {
            run.best = Some(Best { val: v, iteration });
        }
    }
    save_history::<H>(plan, &run)?;
    write_checkpoint(plan, trainer, rng, vocab)?;

    let iteration = trainer.state.iteration;
    let summary = Summary {
        iterations: iteration,
        chars: (iteration - run.start_iteration)
            * (plan.settings.seq_len * plan.settings.batch) as u64,
        seconds,
        train_seconds: run.train_time.as_secs_f64(),
        smooth_loss: trainer.state.smooth_loss,
        val,
        best: run.best.filter(|_| plan.settings.keep_best),
        interrupted: run.interrupted,
    };
    if plan.json {
        println!("{}", summary_json(plan, &summary, H, vocab.len()));
    } else {
        print_summary(plan, trainer, vocab, &summary);
    }
    Ok(if run.interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Done
    })
}

/// The run's settings and results as the model file's `key=value` metadata.
fn metadata<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
    val: Option<f64>,
) -> String {
    let s = &plan.settings;
    let window = s.window.map_or("none".to_string(), |w| w.to_string());
    let val = val.map_or("none".to_string(), |v| format!("{v}"));
    let corpus = plan.corpus_name.replace(['\n', '\r'], " ");
    let lines = [
        format!("trained_by=micrornn {}", env!("CARGO_PKG_VERSION")),
        format!("corpus={corpus}"),
        format!("corpus_chars={}", s.corpus_chars),
        format!("train_chars={}", plan.train_len),
        format!("hidden={H}"),
        format!("seq_len={}", s.seq_len),
        format!("optimizer={}", s.optimizer),
        format!("lr={}", s.lr),
        format!("lr_decay={}", s.lr_decay),
        format!("clip={}", s.clip),
        format!("bptt_window={window}"),
        format!("val_fraction={}", s.val_fraction),
        format!("seed={}", s.seed),
        format!("iterations={}", trainer.state.iteration),
        format!("epoch={}", trainer.state.epoch),
        format!("val_loss_per_char={val}"),
        "initial_hidden=the carried state at the end of training".to_string(),
    ];
    // Only a run with dropout says so: a file trained without it is byte for byte the file of
    // a build from before the option.
    let dropout = (s.dropout > 0.0).then(|| format!("dropout={}", s.dropout));
    lines
        .into_iter()
        .chain(dropout)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The history's last row is the end of the run, with the final validation loss.
fn last_record<const V: usize, const H: usize, C: LmCell<V, H>>(
    run: &mut Run,
    trainer: &BinTrainer<'_, V, H, C>,
    plan: &Plan,
    seconds: f64,
    val: Option<eval::Loss>,
) {
    let iteration = trainer.state.iteration;
    let records = &mut run.history.records;
    if records.last().is_none_or(|r| r.iteration != iteration) && run.interval_chars > 0 {
        records.push(Record {
            iteration,
            epoch: trainer.state.epoch,
            seconds: run.seconds_before + seconds,
            loss_per_char: run.interval_loss / run.interval_chars as f64,
            smooth_loss_per_char: smooth_per_char(plan, trainer),
            val_loss_per_char: val.map(|v| v.per_symbol()),
        });
    } else if let (Some(last), Some(v)) = (records.last_mut(), val) {
        last.val_loss_per_char = Some(v.per_symbol());
    }
}

/// Saves the model file (atomically) with the carried state it was validated from and the run's
/// metadata (`val`: its validation loss per char, if measured).
pub fn save_model<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
    vocab: &CharVocab<V>,
    val: Option<f64>,
) -> Result<(), Fail> {
    let metadata = metadata(plan, trainer, val);
    let contents = format::Contents {
        initial_hidden: Some(&trainer.state.hidden),
        metadata: &metadata,
        ..format::Contents::language_model(vocab.chars(), vocab.len())
    };
    model_file::save_contents(&plan.out, &*trainer.model, &contents)
        .map_err(|e| Fail::new(format!("--out {}: {e}", show(&plan.out))))
}

/// Writes the loss history and its plot (atomically).
pub fn save_history<const H: usize>(plan: &Plan, run: &Run) -> Result<(), Fail> {
    atomic::write(&plan.history_csv, run.history.to_csv().as_bytes())
        .and_then(|()| atomic::write(&plan.plot, run.history.to_svg(&title::<H>(plan)).as_bytes()))
        .map_err(|e| Fail::new(format!("loss history: {e}")))
}

/// Writes the checkpoint (atomically): settings, training state, RNG, model and optimizer.
pub fn write_checkpoint<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
    rng: &DefaultRng,
    vocab: &CharVocab<V>,
) -> Result<(), Fail> {
    let bytes = checkpoint::encode(
        &plan.settings,
        &trainer.state,
        rng,
        trainer.model,
        vocab,
        vocab.len(),
        trainer.optimizer,
        &trainer.streams(),
    )
    .map_err(|e| Fail::new(format!("checkpoint: {e}")))?;
    atomic::write(&plan.checkpoint, &bytes)
        .map_err(|e| Fail::new(format!("--checkpoint {}: {e}", show(&plan.checkpoint))))
}

/// The loss plot's title: corpus file name, model and optimizer.
fn title<const H: usize>(plan: &Plan) -> String {
    let s = &plan.settings;
    let corpus = Path::new(&plan.corpus_name)
        .file_name()
        .map_or(plan.corpus_name.clone(), |n| {
            n.to_string_lossy().into_owned()
        });
    let decay = if s.lr_decay < 1.0 {
        format!(" (×{} per epoch)", s.lr_decay)
    } else {
        String::new()
    };
    let batch = if s.batch > 1 {
        format!(", batch {}", s.batch)
    } else {
        String::new()
    };
    let dropout = if s.dropout > 0.0 {
        format!(", dropout {}", s.dropout)
    } else {
        String::new()
    };
    format!(
        "micrornn on {corpus}: hidden {H}, {} lr {}{decay}, seq-len {}{batch}{dropout}",
        s.optimizer, s.lr, s.seq_len
    )
}

/// Three samples, the rate, the losses, the files written, and how to resume.
fn print_summary<const V: usize, const H: usize, C: LmCell<V, H>>(
    plan: &Plan,
    trainer: &BinTrainer<'_, V, H, C>,
    vocab: &CharVocab<V>,
    summary: &Summary,
) {
    let iteration = summary.iterations;
    let mut samples = String::new();
    for k in 0..3 {
        samples.push_str(&sample_text(
            trainer.model,
            &trainer.state.hidden,
            vocab,
            plan,
            iteration,
            k,
        ));
        samples.push_str("\n\n");
    }
    println!("===== samples after {iteration} iterations =====\n{samples}");
    let val = summary.val.map_or("not measured".to_string(), |v| {
        format!(
            "{:.4} nats/char ({:.4} bits/char)",
            v.per_symbol(),
            v.bits_per_symbol()
        )
    });
    let saved = match summary.best {
        Some(best) if best.iteration != iteration => format!(
            "; the best model (validation {:.4} nats/char, iteration {}) is the one saved",
            best.val, best.iteration
        ),
        _ => String::new(),
    };
    eprintln!(
        "{} {iteration} iterations in {:.1} s ({} chars/s); smoothed loss {:.3} nats/char; \
         validation {val}{saved}\nsaved model {}, checkpoint {}, loss history {} and {}",
        if summary.interrupted {
            "interrupted after"
        } else {
            "trained"
        },
        summary.seconds,
        human(summary.chars as f64 / summary.train_seconds.max(1e-9)),
        summary.smooth_loss / plan.settings.seq_len as f32,
        show(&plan.out),
        show(&plan.checkpoint),
        show(&plan.history_csv),
        show(&plan.plot),
    );
    if summary.interrupted {
        let corpus = if plan.corpus_name == "the built-in corpus" {
            String::new()
        } else {
            format!(" {}", plan.corpus_name)
        };
        eprintln!(
            "continue with: micrornn train{corpus} --resume {}",
            show(&plan.checkpoint)
        );
    }
}

/// The `--json` summary: one object on one line; NaN and infinities become `null`.
fn summary_json(plan: &Plan, summary: &Summary, hidden: usize, classes: usize) -> String {
    let s = &plan.settings;
    let chars_per_sec = summary.chars as f64 / summary.train_seconds.max(1e-9);
    serde_json::json!({
        "iterations": summary.iterations,
        "chars": summary.chars,
        "seconds": summary.seconds,
        "chars_per_sec": chars_per_sec,
        "smooth_loss": summary.smooth_loss,
        "smooth_loss_per_char": f64::from(summary.smooth_loss) / s.seq_len as f64,
        "val_loss_per_char": summary.val.map(|v| v.per_symbol()),
        "val_bits_per_char": summary.val.map(|v| v.bits_per_symbol()),
        "keep_best": s.keep_best,
        "best_val_loss_per_char": summary.best.map(|b| b.val),
        "best_iteration": summary.best.map(|b| b.iteration),
        "cell": s.cell.name(),
        "hidden": hidden,
        "vocab": classes,
        "vocab_bucket": s.vocab_bucket,
        "seq_len": s.seq_len,
        "batch": s.batch,
        "threads": plan.threads,
        "optimizer": s.optimizer.to_string(),
        "lr": s.lr,
        "lr_decay": s.lr_decay,
        "dropout": s.dropout,
        "train_seconds": summary.train_seconds,
        "kernels": micrornn::kernels::active().name,
        "interrupted": summary.interrupted,
    })
    .to_string()
}

/// The validation loss per char measured at each `--sample-every`, from the training's carried
/// hidden state: of the whole validation split when the run keeps its best model (the choice is
/// made on it), else of its first [`QUICK_VAL_CHARS`] characters.
pub fn validation<const V: usize, const H: usize, C: LmCell<V, H>>(
    model: &C,
    hidden: &[f32; H],
    plan: &Plan,
    classes: usize,
) -> Option<f64> {
    let val_ids = plan.split().1;
    let scored = if plan.settings.keep_best {
        val_ids
    } else {
        val_ids.get(..QUICK_VAL_CHARS.min(val_ids.len()))?
    };
    if scored.len() < 2 {
        return None;
    }
    eval::cross_entropy_from(model, hidden, scored, classes, None)
        .ok()
        .map(|l| l.per_symbol())
}

/// A sample shown while training: continues from the training's carried hidden state (as
/// min-char-rnn samples from `hprev`) fed a newline (or the first character), with its own RNG
/// seeded from the run's seed (+ `k`, for several samples) and the iteration, so showing samples
/// never changes training.
pub fn sample_text<const V: usize, const H: usize, C: LmCell<V, H>>(
    model: &C,
    hidden: &[f32; H],
    vocab: &CharVocab<V>,
    plan: &Plan,
    iteration: u64,
    k: u64,
) -> String {
    let seed = plan.settings.seed.wrapping_add(k);
    let mut rng = DefaultRng::seed_from_u64(seed ^ iteration.rotate_left(32) ^ 0x5eed);
    let Ok(mut sampler) = Generator::new(model, vocab.len(), Sampling::FULL) else {
        return String::new();
    };
    sampler.set_hidden(*hidden);
    let start = vocab.encode('\n').unwrap_or(0);
    let mut text = String::new();
    if sampler.feed(start).is_ok() {
        let _ = sampler.generate(&mut rng, SAMPLE_LEN, |id| text.extend(vocab.decode(id)));
    }
    text
}
