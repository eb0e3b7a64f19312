//! Everything checked and resolved before a single byte is written: paths, the checkpoint being
//! resumed, the corpus, every setting and the budget.

use crate::{Fail, MAX_SEQ_LEN, TrainArgs, VOCAB_BUCKETS, limits, list, show};
use micrornn::host::bounded::{BoundedFile, ReadError};
use micrornn::host::checkpoint::{self, Settings};
use micrornn::host::corpus;
use micrornn::host::optimizer::OptimizerKind;
use micrornn::model::CellKind;
use micrornn::{CharVocab, Error};
use std::path::{Path, PathBuf};

/// When to stop.
#[derive(Clone, Copy, Debug)]
pub enum Budget {
    /// This many iterations (chunks) in this run.
    Iters(u64),
    /// This many epochs' worth of chunks in this run.
    Epochs(u64),
    /// This many seconds of wall time.
    Seconds(f64),
    /// Until Ctrl-C.
    UntilInterrupted,
}

/// A checkpoint to continue from.
pub struct Resume {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its bytes, restored once the model's size is known.
    pub bytes: Vec<u8>,
    /// The iteration it was written at.
    pub iteration: u64,
}

/// Everything checked and resolved before a single byte is written.
pub struct Plan {
    pub corpus_name: String,
    pub vocab: CharVocab<256>,
    pub ids: Vec<usize>,
    pub train_len: usize,
    pub settings: Settings,
    pub budget: Budget,
    pub sample_every: u64,
    pub out: PathBuf,
    pub checkpoint: PathBuf,
    pub history_csv: PathBuf,
    pub plot: PathBuf,
    pub resume: Option<Resume>,
    pub json: bool,
    pub threads: usize,
}

impl Plan {
    /// The training and validation parts of the corpus.
    pub fn split(&self) -> (&[usize], &[usize]) {
        self.ids.split_at(self.train_len)
    }
}

/// Checks the arguments, the paths, the corpus and the checkpoint; resolves every setting.
pub fn plan(args: TrainArgs) -> Result<Plan, Fail> {
    check_writable("--out", &args.out)?;
    let checkpoint_path = args
        .checkpoint
        .clone()
        .unwrap_or_else(|| args.out.with_extension("ckpt"));
    check_writable("--checkpoint", &checkpoint_path)?;

    let resume = args.resume.as_deref().map(read_checkpoint).transpose()?;
    let from = resume.as_ref().map(|(r, s)| (r.path.as_path(), s));
    let (corpus_name, text) = read_corpus(args.corpus.as_deref())?;
    let vocab = CharVocab::<256>::from_text(&text).map_err(|_| {
        Fail::new(format!(
            "{corpus_name} has more than 256 distinct characters; the largest vocabulary \
             compiled in is 256"
        ))
    })?;
    let settings = resolve_settings(&args, from, &vocab, &text)?;
    if let Some((path, stored)) = from {
        check_same_corpus(path, stored, &settings, &corpus_name)?;
    }
    check_settings(&settings)?;
    let (ids, train_len) = encode_corpus(&corpus_name, &text, &vocab, &settings)?;
    let budget = budget(&args)?;

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
        resume: resume.map(|(r, _)| r),
        json: args.json,
        threads: match args.threads {
            Some(0) => return Err(Fail::new("--threads 0: must be at least 1".to_string())),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get().min(2)),
        },
    })
}

/// Reads `--resume`'s checkpoint (at most [`limits::checkpoint`] bytes, its head first): its
/// bytes, settings and iteration.
fn read_checkpoint(path: &Path) -> Result<(Resume, Settings), Fail> {
    let not_a_checkpoint = || format!("--resume {}: not a micrornn checkpoint", show(path));
    let bytes = BoundedFile::open(path, limits::checkpoint())
        .map_err(ReadError::Io)
        .and_then(|mut file| checkpoint::read_at_most(&mut file))
        .map_err(|e| {
            Fail::new(match e {
                ReadError::Head(Error::NotAModel) => not_a_checkpoint(),
                ReadError::TooLarge { size, limit } => format!(
                    "--resume {}: {size} bytes, longer than any checkpoint this build resumes \
                     (at most {limit} bytes)",
                    show(path)
                ),
                e => format!("--resume {}: {e}", show(path)),
            })
        })?;
    let (settings, progress) = checkpoint::read(&bytes).map_err(|e| {
        Fail::new(match e {
            Error::NotAModel => not_a_checkpoint(),
            Error::ChecksumMismatch | Error::Truncated => format!(
                "--resume {}: the checkpoint is damaged or truncated ({e})",
                show(path)
            ),
            e => format!("--resume {}: {e}", show(path)),
        })
    })?;
    let resume = Resume {
        path: path.to_path_buf(),
        bytes,
        iteration: progress.iteration,
    };
    Ok((resume, settings))
}

/// The corpus's display name and text: a file, or the built-in corpus.
fn read_corpus(path: Option<&Path>) -> Result<(String, String), Fail> {
    match path {
        Some(path) => {
            let text = corpus::read_text(path)
                .map_err(|e| Fail::new(format!("corpus {}: {e}", show(path))))?;
            Ok((show(path), text))
        }
        None => Ok((
            "the built-in corpus".to_string(),
            corpus::BUILTIN.to_string(),
        )),
    }
}

/// Every setting from the command line, the checkpoint being resumed, or the default.
fn resolve_settings(
    args: &TrainArgs,
    from: Option<(&Path, &Settings)>,
    vocab: &CharVocab<256>,
    text: &str,
) -> Result<Settings, Fail> {
    let optimizer: OptimizerKind = resolve(
        from,
        "optimizer",
        args.optimizer.map(Into::into),
        |s| s.optimizer,
        OptimizerKind::Adagrad,
    )?;
    let window = match (from, args.bptt_window) {
        (Some((path, s)), Some(w)) if s.window != Some(w) => {
            let stored = s
                .window
                .map_or("none (the whole chunk)".into(), |w| w.to_string());
            return Err(mismatch(path, "bptt-window", &stored, &w.to_string()));
        }
        (Some((_, s)), _) => s.window,
        (None, w) => w,
    };
    let cell = resolve(
        from,
        "cell",
        args.cell.map(Into::into),
        |s| s.cell,
        CellKind::Elman,
    )?;
    let (_, buckets) = crate::compiled_shapes(cell);
    Ok(Settings {
        hidden: resolve(from, "hidden", args.hidden, |s| s.hidden, 100)?,
        // The cell's smallest compiled bucket that holds the vocabulary; `check` refuses a
        // vocabulary larger than every bucket.
        vocab_bucket: buckets
            .iter()
            .copied()
            .find(|&b| b >= vocab.len())
            .unwrap_or(VOCAB_BUCKETS[VOCAB_BUCKETS.len() - 1]),
        seq_len: resolve(from, "seq-len", args.seq_len, |s| s.seq_len, 25)?,
        optimizer,
        lr: resolve(from, "lr", args.lr, |s| s.lr, optimizer.default_lr())?,
        clip: resolve(from, "clip", args.clip, |s| s.clip, 5.0)?,
        lr_decay: resolve(from, "lr-decay", args.lr_decay, |s| s.lr_decay, 1.0)?,
        window,
        val_fraction: resolve(
            from,
            "val-fraction",
            args.val_fraction,
            |s| s.val_fraction,
            0.1,
        )?,
        seed: resolve(from, "seed", args.seed, |s| s.seed, 42)?,
        corpus_chars: text.chars().count() as u64,
        corpus_hash: corpus::fingerprint(text),
        batch: resolve(from, "batch", args.batch, |s| s.batch, 1)?,
        cell,
        keep_best: resolve(
            from,
            "keep-best",
            args.keep_best.then_some(true),
            |s| s.keep_best,
            false,
        )?,
        dropout: resolve(from, "dropout", args.dropout, |s| s.dropout, 0.0)?,
    })
}

/// A resumed run must train on the corpus (and so the vocabulary bucket) it was started on.
fn check_same_corpus(
    path: &Path,
    stored: &Settings,
    settings: &Settings,
    corpus_name: &str,
) -> Result<(), Fail> {
    if (stored.corpus_chars, stored.corpus_hash) != (settings.corpus_chars, settings.corpus_hash) {
        return Err(Fail::new(format!(
            "--resume {} was trained on another corpus ({} characters); give the same corpus \
             as that run ({corpus_name} has {})",
            show(path),
            stored.corpus_chars,
            settings.corpus_chars
        )));
    }
    if stored.vocab_bucket != settings.vocab_bucket {
        return Err(Fail::new(format!(
            "--resume {}: its vocabulary bucket {} does not match this corpus",
            show(path),
            stored.vocab_bucket
        )));
    }
    Ok(())
}

/// The corpus as token ids, and the length of its training part (long enough for one chunk).
fn encode_corpus(
    corpus_name: &str,
    text: &str,
    vocab: &CharVocab<256>,
    settings: &Settings,
) -> Result<(Vec<usize>, usize), Fail> {
    let chars = settings.corpus_chars as usize;
    let needed = settings.seq_len + 1;
    if chars < needed {
        return Err(Fail::new(format!(
            "{corpus_name} has {chars} characters; --seq-len {} needs at least {needed}",
            settings.seq_len
        )));
    }
    let mut ids = vec![0usize; chars];
    vocab
        .encode_into(text, &mut ids)
        .map_err(|e| Fail::new(format!("{corpus_name}: {e}")))?;
    let (train, _) = corpus::split(&ids, settings.val_fraction);
    if train.len() / settings.batch < needed {
        if settings.batch > 1 {
            return Err(Fail::new(format!(
                "{corpus_name}: {} characters for training split into --batch {} streams leave                  {} each; --seq-len {} needs at least {needed}",
                train.len(),
                settings.batch,
                train.len() / settings.batch,
                settings.seq_len
            )));
        }
        return Err(Fail::new(format!(
            "{corpus_name}: after holding out --val-fraction {} for validation, {} characters \
             are left for training; --seq-len {} needs at least {needed}",
            settings.val_fraction,
            train.len(),
            settings.seq_len
        )));
    }
    let train_len = train.len();
    Ok((ids, train_len))
}

/// `--iters`, `--epochs` or `--time`; without any, a minute on the built-in corpus and until
/// Ctrl-C on a corpus file.
fn budget(args: &TrainArgs) -> Result<Budget, Fail> {
    Ok(match (args.iters, args.epochs, args.time) {
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

/// Refuses settings out of their ranges (whether given or read from a checkpoint).
fn check_settings(s: &Settings) -> Result<(), Fail> {
    if s.batch != 1 && (!s.batch.is_multiple_of(crate::SHARD) || s.batch > crate::MAX_BATCH) {
        return Err(Fail::new(format!(
            "--batch {} must be 1 or a multiple of {} up to {}",
            s.batch,
            crate::SHARD,
            crate::MAX_BATCH
        )));
    }
    if !(0.0..1.0).contains(&s.dropout) {
        return Err(Fail::new(format!(
            "--dropout {} must be in [0, 1) (0: none)",
            s.dropout
        )));
    }
    if s.dropout > 0.0 && s.batch == 1 {
        return Err(Fail::new(
            "--dropout trains with --batch of 8 or more (the batched trainer)".to_string(),
        ));
    }
    if s.batch > 1 && s.window.is_some() {
        return Err(Fail::new(
            "--bptt-window works with --batch 1 only (batches use full BPTT)".to_string(),
        ));
    }
    let (hidden_sizes, buckets) = crate::compiled_shapes(s.cell);
    if !hidden_sizes.contains(&s.hidden) {
        return Err(Fail::new(format!(
            "--hidden {} is not compiled in for --cell {}; choose one of {}",
            s.hidden,
            s.cell,
            list(hidden_sizes)
        )));
    }
    if !buckets.contains(&s.vocab_bucket) {
        return Err(Fail::new(format!(
            "--cell {}: the corpus needs a vocabulary bucket of {}, and this cell is compiled \
             for the buckets {} only",
            s.cell,
            s.vocab_bucket,
            list(buckets)
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
pub(crate) fn check_writable(flag: &str, path: &Path) -> Result<(), Fail> {
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
