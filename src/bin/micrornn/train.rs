//! `micrornn train`: check everything, pick the compiled size, train, save.

use crate::json::{self, Value};
use crate::{Fail, MAX_SEQ_LEN, Outcome, TrainArgs, VOCAB_BUCKETS, dispatch, list, show};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use micrornn::host::checkpoint::{self, Settings};
use micrornn::host::history::{History, Record};
use micrornn::host::optimizer::{AnyOptimizer, OptimizerKind};
use micrornn::host::{atomic, corpus, model_file};
use micrornn::{
    CharVocab, Clip, DefaultRng, Error, Rnn, Sampler, Sampling, Tape, TrainConfig, TrainState,
    Trainer, eval,
};
use rand_core::SeedableRng;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by Ctrl-C; the training loop stops, saves, and exits.
static STOP: AtomicBool = AtomicBool::new(false);

/// Iterations between two rows of the loss history.
const LOG_EVERY: u64 = 100;

/// Validation characters scored at each `--sample-every` (the full split is scored at the end).
const QUICK_VAL_CHARS: usize = 10_000;

/// Characters of each sample printed while training.
const SAMPLE_LEN: usize = 200;

/// When to stop.
#[derive(Clone, Copy, Debug)]
enum Budget {
    Iters(u64),
    Epochs(u64),
    Seconds(f64),
    UntilInterrupted,
}

/// Everything checked and resolved before a single byte is written.
struct Plan {
    corpus_name: String,
    vocab: CharVocab<256>,
    ids: Vec<usize>,
    train_len: usize,
    settings: Settings,
    budget: Budget,
    sample_every: u64,
    out: PathBuf,
    checkpoint: PathBuf,
    history_csv: PathBuf,
    plot: PathBuf,
    resume: Option<(PathBuf, Vec<u8>, u64)>,
    json: bool,
}

/// Runs `micrornn train`.
pub fn run(args: TrainArgs) -> Result<Outcome, Fail> {
    let plan = plan(args)?;
    let bucket = plan.settings.vocab_bucket;
    dispatch!(plan.settings.hidden, bucket, train(&plan))
}

/// Checks the arguments, the paths, the corpus and the checkpoint; resolves every setting.
fn plan(args: TrainArgs) -> Result<Plan, Fail> {
    check_writable("--out", &args.out)?;
    let checkpoint_path = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| args.out.with_extension("ckpt"));
    check_writable("--checkpoint", &checkpoint_path)?;

    let resume = match &args.resume {
        None => None,
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| Fail::new(format!("--resume {}: {e}", show(path))))?;
            let (settings, progress) = checkpoint::read(&bytes).map_err(|e| {
                Fail::new(match e {
                    Error::NotAModel => {
                        format!("--resume {}: not a micrornn checkpoint", show(path))
                    }
                    Error::ChecksumMismatch | Error::Truncated => format!(
                        "--resume {}: the checkpoint is damaged or truncated ({e})",
                        show(path)
                    ),
                    e => format!("--resume {}: {e}", show(path)),
                })
            })?;
            Some((path.clone(), bytes, settings, progress.iteration))
        }
    };
    let from = resume
        .as_ref()
        .map(|(path, _, settings, _)| (path.as_path(), settings));

    let (corpus_name, text) = match &args.corpus {
        Some(path) => {
            let text = corpus::read_text(path)
                .map_err(|e| Fail::new(format!("corpus {}: {e}", show(path))))?;
            (show(path), text)
        }
        None => (
            "the built-in corpus".to_string(),
            corpus::BUILTIN.to_string(),
        ),
    };
    let vocab = CharVocab::<256>::from_text(&text).map_err(|_| {
        Fail::new(format!(
            "{corpus_name} has more than 256 distinct characters; the largest vocabulary \
             compiled in is 256"
        ))
    })?;
    let chars = text.chars().count();

    let optimizer: OptimizerKind = resolve(
        from,
        "optimizer",
        args.optimizer.map(Into::into),
        |s| s.optimizer,
        OptimizerKind::Adagrad,
    )?;
    let settings = Settings {
        hidden: resolve(from, "hidden", args.hidden, |s| s.hidden, 100)?,
        vocab_bucket: VOCAB_BUCKETS
            .into_iter()
            .find(|&b| b >= vocab.len())
            .unwrap_or(256),
        seq_len: resolve(from, "seq-len", args.seq_len, |s| s.seq_len, 25)?,
        optimizer,
        lr: resolve(from, "lr", args.lr, |s| s.lr, optimizer.default_lr())?,
        clip: resolve(from, "clip", args.clip, |s| s.clip, 5.0)?,
        lr_decay: resolve(from, "lr-decay", args.lr_decay, |s| s.lr_decay, 1.0)?,
        window: match (from, args.bptt_window) {
            (Some((path, s)), Some(w)) if s.window != Some(w) => {
                return Err(mismatch(
                    path,
                    "bptt-window",
                    &s.window
                        .map_or("none (the whole chunk)".into(), |w| w.to_string()),
                    &w.to_string(),
                ));
            }
            (Some((_, s)), _) => s.window,
            (None, w) => w,
        },
        val_fraction: resolve(
            from,
            "val-fraction",
            args.val_fraction,
            |s| s.val_fraction,
            0.1,
        )?,
        seed: resolve(from, "seed", args.seed, |s| s.seed, 42)?,
        corpus_chars: chars as u64,
        corpus_hash: corpus::fingerprint(&text),
    };
    if let Some((path, s)) = from {
        if (s.corpus_chars, s.corpus_hash) != (settings.corpus_chars, settings.corpus_hash) {
            return Err(Fail::new(format!(
                "--resume {} was trained on another corpus ({} characters); give the same corpus \
                 as that run ({corpus_name} has {chars})",
                show(path),
                s.corpus_chars
            )));
        }
        if s.vocab_bucket != settings.vocab_bucket {
            return Err(Fail::new(format!(
                "--resume {}: its vocabulary bucket {} does not match this corpus",
                show(path),
                s.vocab_bucket
            )));
        }
    }
    check_settings(&settings)?;

    let needed = settings.seq_len + 1;
    if chars < needed {
        return Err(Fail::new(format!(
            "{corpus_name} has {chars} characters; --seq-len {} needs at least {needed}",
            settings.seq_len
        )));
    }
    let mut ids = vec![0usize; chars];
    vocab
        .encode_into(&text, &mut ids)
        .map_err(|e| Fail::new(format!("{corpus_name}: {e}")))?;
    let (train, _) = corpus::split(&ids, settings.val_fraction);
    if train.len() < needed {
        return Err(Fail::new(format!(
            "{corpus_name}: after holding out --val-fraction {} for validation, {} characters \
             are left for training; --seq-len {} needs at least {needed}",
            settings.val_fraction,
            train.len(),
            settings.seq_len
        )));
    }
    let train_len = train.len();

    let budget = match (args.iters, args.epochs, args.time) {
        (Some(n), _, _) => Budget::Iters(n),
        (_, Some(n), _) => Budget::Epochs(n),
        (_, _, Some(s)) if s.is_finite() && s >= 0.0 => Budget::Seconds(s),
        (_, _, Some(s)) => {
            return Err(Fail::new(format!(
                "--time {s}: must be a number of seconds ≥ 0"
            )));
        }
        (None, None, None) if args.corpus.is_none() => Budget::Seconds(60.0),
        (None, None, None) => Budget::UntilInterrupted,
    };

    Ok(Plan {
        corpus_name,
        vocab,
        ids,
        train_len,
        settings,
        budget,
        sample_every: args.sample_every,
        history_csv: sibling(&args.out, "loss.csv"),
        plot: sibling(&args.out, "loss.svg"),
        out: args.out,
        checkpoint: checkpoint_path,
        resume: resume.map(|(path, bytes, _, iteration)| (path, bytes, iteration)),
        json: args.json,
    })
}

/// A setting from the command line, the checkpoint being resumed, or the default; a command-line
/// value that contradicts the checkpoint is an error.
fn resolve<T: PartialEq + ToString + Copy>(
    from: Option<(&Path, &Settings)>,
    name: &str,
    given: Option<T>,
    stored: impl Fn(&Settings) -> T,
    default: T,
) -> Result<T, Fail> {
    match (from, given) {
        (Some((path, s)), Some(v)) if stored(s) != v => {
            Err(mismatch(path, name, &stored(s).to_string(), &v.to_string()))
        }
        (Some((_, s)), _) => Ok(stored(s)),
        (None, v) => Ok(v.unwrap_or(default)),
    }
}

fn mismatch(path: &Path, name: &str, stored: &str, given: &str) -> Fail {
    Fail::new(format!(
        "--resume {} was made with --{name} {stored}, not {given}: a checkpoint resumes only with \
         its own settings (leave --{name} out to use them)",
        show(path)
    ))
}

fn check_settings(s: &Settings) -> Result<(), Fail> {
    if !crate::HIDDEN_SIZES.contains(&s.hidden) {
        return Err(Fail::new(format!(
            "--hidden {} is not compiled in; choose one of {}",
            s.hidden,
            list(&crate::HIDDEN_SIZES)
        )));
    }
    if s.seq_len == 0 || s.seq_len > MAX_SEQ_LEN {
        return Err(Fail::new(format!(
            "--seq-len {} must be in 1..={MAX_SEQ_LEN}",
            s.seq_len
        )));
    }
    if !(s.lr.is_finite() && s.lr > 0.0) {
        return Err(Fail::new(format!(
            "--lr {} must be a positive number",
            s.lr
        )));
    }
    if !(s.lr_decay > 0.0 && s.lr_decay <= 1.0) {
        return Err(Fail::new(format!(
            "--lr-decay {} must be in (0, 1] (1: no decay)",
            s.lr_decay
        )));
    }
    if !(s.clip.is_finite() && s.clip >= 0.0) {
        return Err(Fail::new(format!(
            "--clip {} must be ≥ 0 (0: no clipping)",
            s.clip
        )));
    }
    if !(0.0..1.0).contains(&s.val_fraction) {
        return Err(Fail::new(format!(
            "--val-fraction {} must be in [0, 1)",
            s.val_fraction
        )));
    }
    Ok(())
}

/// Refuses an output path whose directory does not exist (before any work is done).
fn check_writable(flag: &str, path: &Path) -> Result<(), Fail> {
    if path.is_dir() {
        return Err(Fail::new(format!("{flag} {} is a directory", show(path))));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir
        && !dir.is_dir()
    {
        return Err(Fail::new(format!(
            "{flag} {}: directory {} does not exist",
            show(path),
            show(dir)
        )));
    }
    Ok(())
}

/// `model.mrnn` → `model.loss.csv`.
fn sibling(model: &Path, suffix: &str) -> PathBuf {
    model.with_extension(suffix)
}

/// What a training run produced.
struct Summary {
    iterations: u64,
    chars: u64,
    seconds: f64,
    train_seconds: f64,
    smooth_loss: f32,
    val: Option<eval::Loss>,
    interrupted: bool,
}

/// Trains an `Rnn<V, H, V>`.
fn train<const V: usize, const H: usize>(plan: &Plan) -> Result<Outcome, Fail> {
    let s = &plan.settings;
    let classes = plan.vocab.len();
    let mut vocab = CharVocab::<V>::new();
    for &c in plan.vocab.chars() {
        vocab
            .insert(c)
            .map_err(|e| Fail::new(format!("vocabulary: {e}")))?;
    }
    let (train_ids, val_ids) = plan.ids.split_at(plan.train_len);

    let mut model = Rnn::<V, H, V>::boxed_zero();
    let mut grads = Rnn::<V, H, V>::boxed_zero();
    let mut tape: Box<Tape<MAX_SEQ_LEN, H, V>> = micrornn::boxed_zeroed();
    let mut optimizer = AnyOptimizer::<V, H, V>::new(s.optimizer, s.lr);
    let config = TrainConfig {
        seq_len: s.seq_len,
        clip: if s.clip > 0.0 {
            Clip::Value(s.clip)
        } else {
            Clip::None
        },
        window: s.window,
        carry_hidden: true,
        classes,
    };
    let (state, rng) = match &plan.resume {
        Some((path, bytes, _)) => {
            let mut stored_vocab = CharVocab::<V>::new();
            let restored =
                checkpoint::restore(bytes, &mut model, &mut stored_vocab, &mut optimizer)
                    .map_err(|e| Fail::new(format!("--resume {}: {e}", show(path))))?;
            if stored_vocab != vocab {
                return Err(Fail::new(format!(
                    "--resume {}: its vocabulary differs from the corpus's",
                    show(path)
                )));
            }
            restored
        }
        None => {
            let mut rng = DefaultRng::seed_from_u64(s.seed);
            model.init_gaussian(&mut rng, 0.01);
            (TrainState::start(&config), rng)
        }
    };
    let mut trainer = Trainer::new(&mut model, &mut grads, &mut tape, &mut optimizer, config)
        .map_err(|e| Fail::new(format!("settings: {e}")))?;
    trainer.state = state;

    // Ctrl-C: the first stops the loop (which then saves); a second one exits at once (files are
    // replaced atomically, so nothing is left half-written).
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });

    let mut history = load_history(plan, trainer.state.iteration);
    let seconds_before = history.records.last().map_or(0.0, |r| r.seconds);
    let chunks_per_epoch = ((train_ids.len() - 1) / s.seq_len) as u64;
    let target = match plan.budget {
        Budget::Iters(n) => Some(n),
        Budget::Epochs(n) => Some(n.saturating_mul(chunks_per_epoch)),
        _ => None,
    };
    let bar = progress_bar(plan.budget, target);
    if !plan.json {
        bar.suspend(|| {
            eprintln!(
                "training on {} ({} characters, {} distinct; {} for training, {} for validation)\n\
                 model: hidden {}, vocabulary bucket {}, {} parameters; {} lr {}, seq-len {}",
                plan.corpus_name,
                plan.ids.len(),
                classes,
                train_ids.len(),
                val_ids.len(),
                H,
                V,
                Rnn::<V, H, V>::PARAMETERS,
                s.optimizer,
                s.lr,
                s.seq_len
            );
        });
    }

    let start = Instant::now();
    let start_iteration = trainer.state.iteration;
    let mut train_time = Duration::ZERO;
    let mut last_good = plan
        .resume
        .as_ref()
        .map(|(path, _, iteration)| (path.clone(), *iteration));
    let (mut interval_loss, mut interval_chars) = (0.0f64, 0u64);
    let mut interrupted = false;
    loop {
        if STOP.load(Ordering::SeqCst) {
            interrupted = true;
            break;
        }
        let done = trainer.state.iteration - start_iteration;
        if target.is_some_and(|t| done >= t) {
            break;
        }
        if let Budget::Seconds(limit) = plan.budget
            && start.elapsed().as_secs_f64() >= limit
        {
            break;
        }
        // The learning rate of this epoch: a function of the epoch counter only, so a resumed
        // run uses exactly the rates it would have used without stopping.
        let epoch = i32::try_from(trainer.state.epoch).unwrap_or(i32::MAX);
        trainer.optimizer.set_lr(s.lr * s.lr_decay.powi(epoch));
        let t0 = Instant::now();
        let report = match trainer.train_chunk(train_ids) {
            Ok(report) => report,
            Err(Error::NonFiniteLoss) => {
                bar.finish_and_clear();
                let kept = match &last_good {
                    Some((path, iteration)) => format!(
                        "kept the last good checkpoint {} (iteration {iteration})",
                        show(path)
                    ),
                    None => "no checkpoint had been written yet, and none was".to_string(),
                };
                return Err(Fail::new(format!(
                    "training diverged at iteration {}: the loss is NaN or infinite (try a \
                     smaller --lr, or --clip); nothing was saved, {kept}",
                    trainer.state.iteration + 1
                )));
            }
            Err(e) => return Err(Fail::new(format!("training: {e}"))),
        };
        train_time += t0.elapsed();
        interval_loss += f64::from(report.loss);
        interval_chars += report.tokens as u64;
        let iteration = trainer.state.iteration;
        let smooth_per_char = f64::from(trainer.state.smooth_loss) / s.seq_len as f64;
        if iteration % 10 == 0 {
            match plan.budget {
                Budget::Seconds(_) => bar.set_position(start.elapsed().as_millis() as u64),
                _ => bar.set_position(iteration - start_iteration),
            }
            let chars_per_sec =
                (iteration - start_iteration) as f64 * s.seq_len as f64 / train_time.as_secs_f64();
            bar.set_message(format!(
                "iter {iteration} · loss {smooth_per_char:.3} nats/char · {} chars/s",
                human(chars_per_sec)
            ));
        }
        let sample_now = plan.sample_every > 0 && iteration % plan.sample_every == 0;
        if iteration % LOG_EVERY == 0 || sample_now {
            let val = sample_now
                .then(|| quick_val(trainer.model, &trainer.state.hidden, val_ids, classes))
                .flatten();
            history.records.push(Record {
                iteration,
                epoch: trainer.state.epoch,
                seconds: seconds_before + start.elapsed().as_secs_f64(),
                loss_per_char: interval_loss / interval_chars.max(1) as f64,
                smooth_loss_per_char: smooth_per_char,
                val_loss_per_char: val,
            });
            (interval_loss, interval_chars) = (0.0, 0);
            if sample_now {
                let text = sample_text(
                    trainer.model,
                    &trainer.state.hidden,
                    &vocab,
                    classes,
                    s.seed,
                    iteration,
                );
                let val = val.map_or(String::new(), |v| format!(" · validation {v:.3}"));
                let header = format!(
                    "----- iteration {iteration} · smoothed loss {smooth_per_char:.3} nats/char{val} -----"
                );
                bar.suspend(|| {
                    if plan.json {
                        eprintln!("{header}\n{text}\n");
                    } else {
                        println!("{header}\n{text}\n");
                    }
                });
                let bytes = checkpoint::encode(
                    s,
                    &trainer.state,
                    &rng,
                    trainer.model,
                    &vocab,
                    classes,
                    trainer.optimizer,
                )
                .map_err(|e| Fail::new(format!("checkpoint: {e}")))?;
                atomic::write(&plan.checkpoint, &bytes).map_err(|e| {
                    Fail::new(format!("--checkpoint {}: {e}", show(&plan.checkpoint)))
                })?;
                last_good = Some((plan.checkpoint.clone(), iteration));
            }
        }
    }
    bar.finish_and_clear();
    let seconds = start.elapsed().as_secs_f64();

    let iteration = trainer.state.iteration;
    let val = if interrupted || val_ids.len() < 2 {
        None
    } else {
        eval::cross_entropy_from(trainer.model, &trainer.state.hidden, val_ids, classes, None).ok()
    };
    if history
        .records
        .last()
        .is_none_or(|r| r.iteration != iteration)
        && interval_chars > 0
    {
        history.records.push(Record {
            iteration,
            epoch: trainer.state.epoch,
            seconds: seconds_before + seconds,
            loss_per_char: interval_loss / interval_chars as f64,
            smooth_loss_per_char: f64::from(trainer.state.smooth_loss) / s.seq_len as f64,
            val_loss_per_char: val.map(|v| v.per_symbol()),
        });
    } else if let (Some(last), Some(v)) = (history.records.last_mut(), val) {
        last.val_loss_per_char = Some(v.per_symbol());
    }

    // Save: model, checkpoint, history. Each file is replaced atomically.
    model_file::save(&plan.out, &*trainer.model, &vocab, classes)
        .map_err(|e| Fail::new(format!("--out {}: {e}", show(&plan.out))))?;
    let bytes = checkpoint::encode(
        s,
        &trainer.state,
        &rng,
        trainer.model,
        &vocab,
        classes,
        trainer.optimizer,
    )
    .map_err(|e| Fail::new(format!("checkpoint: {e}")))?;
    atomic::write(&plan.checkpoint, &bytes)
        .map_err(|e| Fail::new(format!("--checkpoint {}: {e}", show(&plan.checkpoint))))?;
    let title = format!(
        "micrornn on {}: hidden {H}, {} lr {}{}, seq-len {}",
        Path::new(&plan.corpus_name)
            .file_name()
            .map_or(plan.corpus_name.clone(), |n| n
                .to_string_lossy()
                .into_owned()),
        s.optimizer,
        s.lr,
        if s.lr_decay < 1.0 {
            format!(" (×{} per epoch)", s.lr_decay)
        } else {
            String::new()
        },
        s.seq_len
    );
    atomic::write(&plan.history_csv, history.to_csv().as_bytes())
        .and_then(|()| atomic::write(&plan.plot, history.to_svg(&title).as_bytes()))
        .map_err(|e| Fail::new(format!("loss history: {e}")))?;

    let summary = Summary {
        iterations: iteration,
        chars: (iteration - start_iteration) * s.seq_len as u64,
        seconds,
        train_seconds: train_time.as_secs_f64(),
        smooth_loss: trainer.state.smooth_loss,
        val,
        interrupted,
    };
    if plan.json {
        println!("{}", summary_json(plan, &summary, H, classes));
    } else {
        let mut samples = String::new();
        for k in 0..3 {
            samples.push_str(&sample_text(
                trainer.model,
                &trainer.state.hidden,
                &vocab,
                classes,
                s.seed + k,
                iteration,
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
        eprintln!(
            "{} {iteration} iterations in {:.1} s ({} chars/s); smoothed loss {:.3} nats/char; \
             validation {val}\nsaved model {}, checkpoint {}, loss history {} and {}",
            if interrupted {
                "interrupted after"
            } else {
                "trained"
            },
            seconds,
            human(summary.chars as f64 / summary.train_seconds.max(1e-9)),
            summary.smooth_loss / s.seq_len as f32,
            show(&plan.out),
            show(&plan.checkpoint),
            show(&plan.history_csv),
            show(&plan.plot),
        );
        if interrupted {
            eprintln!(
                "continue with: micrornn train{} --resume {}",
                if plan.corpus_name == "the built-in corpus" {
                    String::new()
                } else {
                    format!(" {}", plan.corpus_name)
                },
                show(&plan.checkpoint)
            );
        }
    }
    Ok(if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Done
    })
}

fn summary_json(plan: &Plan, summary: &Summary, hidden: usize, classes: usize) -> String {
    let s = &plan.settings;
    let (val_nats, val_bits) = summary.val.map_or((Value::Null, Value::Null), |v| {
        (
            Value::Float(v.per_symbol()),
            Value::Float(v.bits_per_symbol()),
        )
    });
    json::object(&[
        ("iterations", Value::Int(summary.iterations)),
        ("chars", Value::Int(summary.chars)),
        ("seconds", Value::Float(summary.seconds)),
        (
            "chars_per_sec",
            Value::Float(summary.chars as f64 / summary.train_seconds.max(1e-9)),
        ),
        ("smooth_loss", Value::Float(f64::from(summary.smooth_loss))),
        (
            "smooth_loss_per_char",
            Value::Float(f64::from(summary.smooth_loss) / s.seq_len as f64),
        ),
        ("val_loss_per_char", val_nats),
        ("val_bits_per_char", val_bits),
        ("hidden", Value::Int(hidden as u64)),
        ("vocab", Value::Int(classes as u64)),
        ("vocab_bucket", Value::Int(s.vocab_bucket as u64)),
        ("seq_len", Value::Int(s.seq_len as u64)),
        ("optimizer", Value::Str(s.optimizer.to_string())),
        ("lr", Value::Float(f64::from(s.lr))),
        ("lr_decay", Value::Float(f64::from(s.lr_decay))),
        ("train_seconds", Value::Float(summary.train_seconds)),
        (
            "kernels",
            Value::Str(micrornn::kernels::active().name.to_string()),
        ),
        ("interrupted", Value::Bool(summary.interrupted)),
    ])
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

/// The validation loss per char on the first [`QUICK_VAL_CHARS`] of the validation split, from
/// the training's carried hidden state.
fn quick_val<const V: usize, const H: usize>(
    model: &Rnn<V, H, V>,
    hidden: &[f32; H],
    val_ids: &[usize],
    classes: usize,
) -> Option<f64> {
    let prefix = val_ids.get(..QUICK_VAL_CHARS.min(val_ids.len()))?;
    if prefix.len() < 2 {
        return None;
    }
    eval::cross_entropy_from(model, hidden, prefix, classes, None)
        .ok()
        .map(|l| l.per_symbol())
}

/// A sample shown while training: continues from the training's carried hidden state (as
/// min-char-rnn samples from `hprev`) fed a newline (or the first character), with its own RNG
/// seeded from the run's seed and the iteration, so showing samples never changes training.
fn sample_text<const V: usize, const H: usize>(
    model: &Rnn<V, H, V>,
    hidden: &[f32; H],
    vocab: &CharVocab<V>,
    classes: usize,
    seed: u64,
    iteration: u64,
) -> String {
    let mut rng = DefaultRng::seed_from_u64(seed ^ iteration.rotate_left(32) ^ 0x5eed);
    let Ok(mut sampler) = Sampler::new(model, classes, Sampling::FULL) else {
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

/// `123456.0` → `123.5k`.
fn human(x: f64) -> String {
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
