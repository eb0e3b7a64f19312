//! `micrornn train TRAIN.ts|.csv`: a many-to-one classifier of sensor series, trained by the
//! library's loop ([`series_training::train`]) and saved with its class and channel names, the
//! training file's normalization and the settings.

use crate::limits;
use crate::series::{
    MAX_TRAIN_STEPS, SERIES_CLASSES, SERIES_HIDDEN, SERIES_INPUTS, SeriesCell, TRAIN_LIMITS,
    dispatch_series,
};
use crate::train::check_writable;
use crate::{Fail, OptimizerArg, Outcome, ReadoutArg, TrainArgs, show};
use micrornn::Error;
use micrornn::classify::Metrics;
use micrornn::classify_batch::SeriesShard;
use micrornn::format::Contents;
use micrornn::host::bounded::{BoundedFile, ReadError};
use micrornn::host::series::SeriesSet;
use micrornn::host::series_checkpoint::{self, RunSettings};
use micrornn::host::series_training::{
    self, EpochReport, Prepared, SeriesStreams, SeriesTraining, Sets,
};
use micrornn::host::threads::Threads;
use micrornn::host::{atomic, checkpoint, model_file};
use micrornn::model::CellKind;
use micrornn::model::batch_cell::BatchCell;
use micrornn::{Adam, Readout, Zeroable};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The default hidden size of a series model.
pub const DEFAULT_HIDDEN: usize = 64;

/// Set by Ctrl-C: training stops after the current epoch and saves the model.
static STOP: AtomicBool = AtomicBool::new(false);

/// Every setting of a run, checked.
struct Plan {
    train_file: PathBuf,
    test_file: Option<PathBuf>,
    out: PathBuf,
    cell: CellKind,
    hidden: usize,
    settings: SeriesTraining,
    threads: usize,
    checkpoint: Option<PathBuf>,
    /// `--resume`'s path and bytes.
    resume: Option<(PathBuf, Vec<u8>)>,
    json: bool,
}

/// The largest `--batch` of a series run (each series of a batch has its own tape).
const MAX_SERIES_BATCH: usize = 64;

/// Refuses the series options on a text corpus (the language-model trainer does not use them).
pub fn refuse_series_options(args: &TrainArgs) -> Result<(), Fail> {
    let used = [
        ("--test", args.test.is_some()),
        ("--readout", args.readout.is_some()),
        ("--weight-decay", args.weight_decay.is_some()),
        ("--noise", args.noise.is_some()),
        ("--stretch", args.stretch.is_some()),
    ];
    match used.iter().find(|(_, used)| *used) {
        Some((option, _)) => Err(Fail::new(format!(
            "{option} is for series files (TRAIN.ts or .csv); a text trains a language model"
        ))),
        None => Ok(()),
    }
}

/// Checks the options and fills in the defaults.
fn plan(args: TrainArgs, train_file: PathBuf) -> Result<Plan, Fail> {
    let language_model_only = [
        ("--seq-len", args.seq_len.is_some()),
        ("--lr-decay", args.lr_decay.is_some()),
        ("--bptt-window", args.bptt_window.is_some()),
        ("--iters", args.iters.is_some()),
        ("--time", args.time.is_some()),
        ("--keep-best", args.keep_best),
        ("--dropout", args.dropout.is_some()),
        (
            "--optimizer (series train with adam)",
            args.optimizer.is_some_and(|o| o != OptimizerArg::Adam),
        ),
    ];
    if let Some((option, _)) = language_model_only.iter().find(|(_, used)| *used) {
        return Err(Fail::new(format!(
            "{option} is not an option for series files (it trains a language model on a text); \
             series train one update per mini-batch of series for --epochs"
        )));
    }
    let batch = args.batch.unwrap_or(1);
    if !(1..=MAX_SERIES_BATCH).contains(&batch) {
        return Err(Fail::new(format!(
            "--batch {batch}: series train 1 to {MAX_SERIES_BATCH} series per update"
        )));
    }
    let threads = match args.threads {
        Some(0) => return Err(Fail::new("--threads 0: must be at least 1")),
        Some(n) => n,
        // One: a batch of series is too little work per update to pay for starting threads
        // (docs/sensors.md measured 2 threads slower than 1 at batch 8).
        None => 1,
    };
    check_writable("--out", &args.out)?;
    if let Some(path) = &args.checkpoint {
        check_writable("--checkpoint", path)?;
        if *path == args.out {
            return Err(Fail::new(format!(
                "--checkpoint {} is the model's --out file; give it another name",
                show(path)
            )));
        }
    }
    let resume = args
        .resume
        .as_deref()
        .map(|path| read_checkpoint(path).map(|bytes| (path.to_path_buf(), bytes)))
        .transpose()?;
    let defaults = SeriesTraining::DEFAULT;
    let settings = SeriesTraining {
        epochs: usize::try_from(args.epochs.unwrap_or(defaults.epochs as u64))
            .map_err(|_| Fail::new("--epochs is too large"))?,
        lr: args.lr.unwrap_or(defaults.lr),
        clip: args.clip.unwrap_or(defaults.clip),
        seed: args.seed.unwrap_or(defaults.seed),
        readout: args.readout.map_or(defaults.readout, Readout::from),
        test_every: 0,
        weight_decay: args.weight_decay.unwrap_or(defaults.weight_decay),
        validation: args.val_fraction.unwrap_or(defaults.validation),
        noise: args.noise.unwrap_or(defaults.noise),
        stretch: args.stretch.unwrap_or(defaults.stretch),
        batch,
    };
    if !(settings.lr.is_finite() && settings.lr > 0.0) {
        return Err(Fail::new(format!("--lr {} must be > 0", settings.lr)));
    }
    if !(settings.clip.is_finite() && settings.clip > 0.0) {
        return Err(Fail::new(format!(
            "--clip {} must be > 0 (series clip the gradient's norm)",
            settings.clip
        )));
    }
    let shares = [
        ("--weight-decay", settings.weight_decay, f32::INFINITY),
        ("--noise", settings.noise, f32::INFINITY),
        ("--stretch", settings.stretch, f32::INFINITY),
        ("--val-fraction", settings.validation, 1.0),
    ];
    if let Some((option, value, below)) = shares
        .iter()
        .find(|(_, value, below)| !(value.is_finite() && *value >= 0.0 && value < below))
    {
        let range = if below.is_finite() { " and < 1" } else { "" };
        return Err(Fail::new(format!("{option} {value} must be ≥ 0{range}")));
    }
    if settings.lr * settings.weight_decay >= 1.0 {
        return Err(Fail::new(format!(
            "--weight-decay {} is too large for --lr {}: lr·WD must be below 1",
            settings.weight_decay, settings.lr
        )));
    }
    if settings.epochs == 0 {
        return Err(Fail::new("--epochs must be at least 1"));
    }
    let hidden = args.hidden.unwrap_or(DEFAULT_HIDDEN);
    if !SERIES_HIDDEN.contains(&hidden) {
        return Err(Fail::new(format!(
            "hidden size {hidden} is not compiled in for series models; choose one of {}",
            crate::list(&SERIES_HIDDEN)
        )));
    }
    Ok(Plan {
        train_file,
        test_file: args.test,
        out: args.out,
        cell: args.cell.map_or(CellKind::Gru, CellKind::from),
        hidden,
        settings,
        threads,
        checkpoint: args.checkpoint,
        resume,
        json: args.json,
    })
}

/// Reads `--resume`'s checkpoint (at most [`limits::series_checkpoint`] bytes, its head first)
/// and checks that it is a series run's, whole; its settings are compared once the model's
/// type is known ([`check_resume`]).
fn read_checkpoint(path: &Path) -> Result<Vec<u8>, Fail> {
    let bytes = BoundedFile::open(path, limits::series_checkpoint())
        .map_err(ReadError::Io)
        .and_then(|mut file| checkpoint::read_at_most(&mut file))
        .map_err(|e| {
            Fail::new(match e {
                ReadError::Head(Error::NotAModel) => {
                    format!("--resume {}: not a micrornn checkpoint", show(path))
                }
                ReadError::TooLarge { size, limit } => format!(
                    "--resume {}: {size} bytes, longer than any series checkpoint this build \
                     resumes (at most {limit} bytes)",
                    show(path)
                ),
                e => format!("--resume {}: {e}", show(path)),
            })
        })?;
    series_checkpoint::read_settings(&bytes).map_err(|e| {
        Fail::new(match e {
            Error::NotAModel => format!("--resume {}: not a micrornn checkpoint", show(path)),
            Error::ChecksumMismatch | Error::Truncated => format!(
                "--resume {}: the checkpoint is damaged or truncated ({e})",
                show(path)
            ),
            e => format!("--resume {}: {e}", show(path)),
        })
    })?;
    Ok(bytes)
}

/// Refuses a checkpoint made with other settings or on another training file than this run's,
/// naming the first difference.
fn check_resume(path: &Path, bytes: &[u8], given: &RunSettings) -> Result<(), Fail> {
    let stored = series_checkpoint::read_settings(bytes)
        .map_err(|e| Fail::new(format!("--resume {}: {e}", show(path))))?;
    match stored.difference(given) {
        None => Ok(()),
        Some(("training data", stored, given)) => Err(Fail::new(format!(
            "--resume {} was made on another training file ({stored}), not this one ({given})",
            show(path)
        ))),
        Some((name, stored, given)) => Err(Fail::new(format!(
            "--resume {} was made with {name} {stored}, not {given}: a checkpoint resumes only \
             with the settings it was made with",
            show(path)
        ))),
    }
}

/// Runs `micrornn train` on a series file.
pub fn run(args: TrainArgs) -> Result<Outcome, Fail> {
    let train_file = args.corpus.clone().unwrap_or_default();
    let mut plan = plan(args, train_file)?;
    let train_set = crate::series::read(&plan.train_file, &TRAIN_LIMITS)?;
    let test_set = match &plan.test_file {
        Some(path) => {
            let set = crate::series::read(path, &TRAIN_LIMITS)?;
            if set.channels != train_set.channels {
                return Err(Fail::new(format!(
                    "{}: {} channels, but the training file {} has {}",
                    show(path),
                    set.channels,
                    show(&plan.train_file),
                    train_set.channels
                )));
            }
            let names = format!(
                "{} (the training file's classes: {})",
                show(path),
                train_set.class_names.join(", ")
            );
            Some(
                set.with_classes(&train_set.class_names, &show(path))
                    .map_err(|e| Fail::new(format!("{e}: {names}")))?,
            )
        }
        None => None,
    };
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    if !plan.json {
        // A progress line about 20 times per run, with the test accuracy.
        plan.settings.test_every = plan.settings.epochs.div_ceil(20);
    }
    let data = Data {
        plan: &plan,
        train_set: &train_set,
        test_set: test_set.as_ref(),
    };
    dispatch_series!(plan.cell, plan.hidden, train_cell(&data))
}

/// The first line on stderr: the data and every setting.
fn print_header(plan: &Plan, train_set: &SeriesSet) {
    let resuming = plan.resume.as_ref().map_or(String::new(), |(path, _)| {
        format!("; resuming {}", show(path))
    });
    eprintln!(
        "{}: {} series, {} channels, {} classes, up to {} steps; {} H={} readout {}, {} epochs, \
         Adam lr {}, clip {}, weight decay {}, noise {}, stretch {}, validation share {}, seed \
         {}, batch {}, threads {}{resuming}",
        show(&plan.train_file),
        train_set.series.len(),
        train_set.channels,
        train_set.class_names.len(),
        train_set.longest(),
        plan.cell.name(),
        plan.hidden,
        plan.settings.readout.name(),
        plan.settings.epochs,
        plan.settings.lr,
        plan.settings.clip,
        plan.settings.weight_decay,
        plan.settings.noise,
        plan.settings.stretch,
        plan.settings.validation,
        plan.settings.seed,
        plan.settings.batch,
        plan.threads
    );
}

/// The plan and the sets.
struct Data<'a> {
    plan: &'a Plan,
    train_set: &'a SeriesSet,
    test_set: Option<&'a SeriesSet>,
}

/// Trains, saves and reports a model of cell `C` with `H` hidden units.
fn train_cell<C, const H: usize>(data: &Data<'_>) -> Result<Outcome, Fail>
where
    C: SeriesCell + BatchCell<SERIES_INPUTS, H, SERIES_CLASSES> + Zeroable,
    SeriesShard<SERIES_INPUTS, H, SERIES_CLASSES, MAX_TRAIN_STEPS, C>: Zeroable + Send,
    SeriesStreams<SERIES_INPUTS, H, SERIES_CLASSES, MAX_TRAIN_STEPS, C>: Zeroable + Send,
    Adam<C>: Zeroable,
{
    let Data {
        plan,
        train_set,
        test_set,
    } = *data;
    let normalization = train_set.normalization::<SERIES_INPUTS>();
    let train = Prepared::new(train_set, &normalization);
    let test = test_set.map(|set| Prepared::new(set, &normalization));
    let classes = train_set.class_names.len();
    if let Some((path, bytes)) = &plan.resume {
        let given = RunSettings::new::<C, SERIES_INPUTS, H, SERIES_CLASSES, MAX_TRAIN_STEPS>(
            &plan.settings,
            classes,
            &train,
        );
        check_resume(path, bytes, &given)?;
    }
    if !plan.json {
        print_header(plan, train_set);
    }
    let started = std::time::Instant::now();
    let epochs = plan.settings.epochs;
    let sets = Sets {
        classes,
        train: &train,
        test: test.as_ref(),
    };
    let mut saved = Ok(());
    let trained =
        series_training::train_with::<C, _, SERIES_INPUTS, H, SERIES_CLASSES, MAX_TRAIN_STEPS>(
            &plan.settings,
            &sets,
            C::init,
            &Threads(plan.threads),
            plan.resume.as_ref().map(|(_, bytes)| bytes.as_slice()),
            |report, checkpoint| {
                let shown = report.epoch % plan.settings.test_every.max(1) == 0;
                if !plan.json && (shown || report.epoch == epochs) {
                    eprintln!("{}", progress_line(report, epochs));
                }
                if let Some(path) = &plan.checkpoint {
                    saved = checkpoint
                        .encode()
                        .map_err(|e| e.to_string())
                        .and_then(|bytes| atomic::write(path, &bytes).map_err(|e| e.to_string()))
                        .map_err(|e| Fail::new(format!("--checkpoint {}: {e}", show(path))));
                    if saved.is_err() {
                        return false;
                    }
                }
                !STOP.load(Ordering::SeqCst)
            },
        )
        .map_err(|e| match (&plan.resume, e) {
            (Some((path, _)), e @ (Error::CorruptModel(_) | Error::Truncated)) => {
                Fail::new(format!("--resume {}: {e}", show(path)))
            }
            (_, e) => Fail::new(format!("training on {}: {e}", show(&plan.train_file))),
        })?;
    saved?;
    let interrupted = trained.epochs < epochs;

    let channels = train_set.channels;
    let metadata = metadata(plan, H, &trained);
    let channel_names: Vec<&str> = train_set.channel_names.iter().map(String::as_str).collect();
    let class_names: Vec<&str> = train_set.class_names.iter().map(String::as_str).collect();
    let contents = Contents {
        metadata: &metadata,
        ..Contents::sensor_classifier(
            &channel_names,
            &normalization.mean[..channels],
            &normalization.std[..channels],
            &class_names,
        )
    };
    let bytes = model_file::contents_to_bytes(&*trained.model, &contents)
        .map_err(|e| Fail::new(format!("--out {}: {e}", show(&plan.out))))?;
    atomic::write(&plan.out, &bytes)
        .map_err(|e| Fail::new(format!("--out {}: {e}", show(&plan.out))))?;

    if plan.json {
        let mut json = serde_json::json!({
            "task": "classifier",
            "train_file": show(&plan.train_file),
            "out": show(&plan.out),
            "cell": plan.cell.name(),
            "hidden": H,
            "readout": plan.settings.readout.name(),
            "epochs": trained.epochs,
            "best_epoch": trained.best_epoch,
            "weight_decay": as_written(plan.settings.weight_decay),
            "val_fraction": as_written(plan.settings.validation),
            "noise": as_written(plan.settings.noise),
            "stretch": as_written(plan.settings.stretch),
            "lr": as_written(plan.settings.lr),
            "clip": as_written(plan.settings.clip),
            "seed": plan.settings.seed,
            "batch": plan.settings.batch,
            "threads": plan.threads,
            "series": train.labels.len(),
            "channels": channels,
            "classes": train_set.class_names,
            "seconds": trained.seconds,
            "wall_seconds": started.elapsed().as_secs_f64(),
            "train_accuracy": trained.train.accuracy(),
            "train_loss": trained.train.loss(),
            "interrupted": interrupted,
        });
        if let Some(validation) = trained.validation {
            json["val_series"] = serde_json::json!(validation.count);
            json["val_accuracy"] = serde_json::json!(validation.accuracy());
            json["val_loss"] = serde_json::json!(validation.loss());
        }
        if let Some(test) = trained.test {
            json["test_file"] = serde_json::json!(plan.test_file.as_deref().map(show));
            json["test_accuracy"] = serde_json::json!(test.accuracy());
            json["test_loss"] = serde_json::json!(test.loss());
        }
        println!("{json}");
    } else {
        let test = trained.test.map_or(String::new(), |t| {
            format!(
                ", test accuracy {:.4} ({}/{}), test loss {:.4}",
                t.accuracy(),
                t.correct,
                t.count,
                t.loss()
            )
        });
        let validation = trained.validation.map_or(String::new(), |v| {
            format!(
                ", validation accuracy {:.4} ({}/{}); kept the model of epoch {}",
                v.accuracy(),
                v.correct,
                v.count,
                trained.best_epoch
            )
        });
        println!(
            "{} epochs in {:.2} s: train accuracy {:.4}{validation}{test}",
            trained.epochs,
            trained.seconds,
            trained.train.accuracy()
        );
        println!(
            "saved {} (classes: {}; firmware type: {}<{SERIES_INPUTS}, {H}, {SERIES_CLASSES}>, \
             {channels} of the {SERIES_INPUTS} inputs used)",
            show(&plan.out),
            train_set.class_names.join(", "),
            C::TYPE_NAME
        );
        if interrupted {
            println!("interrupted after epoch {}", trained.epochs);
        }
    }
    Ok(if interrupted {
        Outcome::Interrupted
    } else {
        Outcome::Done
    })
}

/// An `f32` setting as the decimal the user wrote (`0.003`, not the nearest `f64` to the `f32`).
fn as_written(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::NAN)
}

/// One progress line: epoch, training loss and accuracy over the epoch, the test accuracy.
fn progress_line(report: &EpochReport, epochs: usize) -> String {
    let shown = |name: &str, metrics: Option<Metrics>| {
        metrics.map_or(String::new(), |m| {
            format!("  {name} loss {:.4} accuracy {:.3}", m.loss(), m.accuracy())
        })
    };
    format!(
        "epoch {:>4}/{epochs}  train loss {:.4} accuracy {:.3}{}{}  {:.1} s",
        report.epoch,
        report.train.loss(),
        report.train.accuracy(),
        shown("validation", report.validation),
        shown("test", report.test),
        report.seconds
    )
}

/// The run's settings and results as the model file's `key=value` metadata.
fn metadata<C>(plan: &Plan, hidden: usize, trained: &series_training::TrainedSeries<C>) -> String {
    let one_line = |path: &Path| show(path).replace(['\n', '\r'], " ");
    let mut lines = vec![
        format!("trained_by=micrornn {}", env!("CARGO_PKG_VERSION")),
        "task=classifier".to_string(),
        format!("train_file={}", one_line(&plan.train_file)),
        format!("cell={}", plan.cell.name()),
        format!("hidden={hidden}"),
        format!("readout={}", plan.settings.readout.name()),
        "optimizer=adam".to_string(),
        format!("epochs={}", trained.epochs),
        format!("lr={}", plan.settings.lr),
        format!("clip_norm={}", plan.settings.clip),
        format!("seed={}", plan.settings.seed),
        format!("weight_decay={}", plan.settings.weight_decay),
        format!("noise={}", plan.settings.noise),
        format!("stretch={}", plan.settings.stretch),
        format!("val_fraction={}", plan.settings.validation),
        format!("best_epoch={}", trained.best_epoch),
        match plan.settings.batch {
            1 => "batch=1 (one update per series)".to_string(),
            b => format!("batch={b} (the mean gradient of {b} series per update)"),
        },
        "normalization=per channel, from the training file".to_string(),
        format!("train_accuracy={}", trained.train.accuracy()),
    ];
    if let Some(validation) = trained.validation {
        lines.push(format!("val_accuracy={}", validation.accuracy()));
    }
    if let (Some(test), Some(file)) = (trained.test, &plan.test_file) {
        lines.push(format!("test_file={}", one_line(file)));
        lines.push(format!("test_accuracy={}", test.accuracy()));
    }
    lines.join("\n")
}

impl From<ReadoutArg> for Readout {
    fn from(arg: ReadoutArg) -> Self {
        match arg {
            ReadoutArg::Last => Readout::Last,
            ReadoutArg::Mean => Readout::Mean,
        }
    }
}
