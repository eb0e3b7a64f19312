//! Crash safety of `micrornn train`: the files it replaces are never torn.
//!
//! - `sigkill_never_tears_the_model_or_checkpoint`: runs `micrornn train --resume` over and over,
//!   saving a checkpoint every iteration, and kills it with SIGKILL after a random 20–300 ms
//!   (60 kills); after each kill the model file and the checkpoint must each decode cleanly and
//!   be either the previous complete version or a new complete one, and the next run resumes from
//!   that checkpoint. Every tenth run is left to finish: it must continue exactly from the
//!   checkpoint's iteration. No leftover temporary file may survive a completed save.
//! - `full_disk_fails_cleanly`: on a 128 KiB tmpfs (where mounting is allowed), a run whose files
//!   do not fit fails with one line on stderr and a non-zero exit, the previous files are intact
//!   and no temporary file is left.
//!
//! No assertion is about time: the delays only pick when to kill. Set `MICRORNN_CRASH_SEED` to
//! replay a run (the seed is printed).

use micrornn::host::checkpoint;
use micrornn::host::optimizer::AnyOptimizer;
use micrornn::{CharVocab, DefaultRng, Rnn, format};
use rand_core::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

#[path = "common/cli_run.rs"]
mod cli_run;
use cli_run::scratch;

const BIN: &str = env!("CARGO_BIN_EXE_micrornn");

/// The binary's smallest compiled model: 32-character bucket, 32 hidden units.
const V: usize = 32;
const H: usize = 32;

/// SIGKILLs in the crash test.
const KILLS: usize = 60;

/// A few kilobytes of text with about 25 distinct characters.
fn write_corpus(dir: &Path) -> PathBuf {
    let lines = [
        "the cat sat on the mat.",
        "a dog ran to the sun.",
        "we sang a song at noon.",
        "it is cold; go home now.",
    ];
    let text: String = (0..60).map(|i| format!("{}\n", lines[i % 4])).collect();
    let path = dir.join("corpus.txt");
    std::fs::write(&path, text).unwrap();
    path
}

/// `micrornn train` in `dir` with `args`, its output discarded.
fn spawn(dir: &Path, args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("train")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the micrornn binary starts")
}

/// Waits for `child`; a run that has not ended after ten minutes has hung, which fails the test
/// (a bound on the test, not a timing assertion: a healthy run here takes well under a second).
fn wait(child: &mut Child) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(600) {
            let _ = child.kill();
            panic!("micrornn train hung");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The error output of a finished child.
fn stderr_of(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut err) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
    }
    text
}

/// Decodes a model file completely (header, checksums, vocabulary, parameters); returns the
/// parameters' bits.
fn decode_model(bytes: &[u8]) -> Result<Vec<u32>, micrornn::Error> {
    let mut rnn = Box::new(Rnn::<V, H, V>::ZERO);
    let mut vocab = CharVocab::<V>::new();
    format::decode(bytes, &mut *rnn, &mut vocab, &mut [0.0; H])?;
    Ok(bits(&rnn))
}

fn bits(rnn: &Rnn<V, H, V>) -> Vec<u32> {
    rnn.tensors()
        .iter()
        .flat_map(|t| t.iter().map(|v| v.to_bits()))
        .collect()
}

/// Restores a checkpoint completely; returns its iteration and its model's parameters' bits.
fn decode_checkpoint(bytes: &[u8]) -> Result<(u64, Vec<u32>), micrornn::Error> {
    let (settings, progress) = checkpoint::read(bytes)?;
    let mut rnn = Box::new(Rnn::<V, H, V>::ZERO);
    let mut vocab = CharVocab::<V>::new();
    let mut optimizer = AnyOptimizer::<V, H, V>::new(settings.optimizer, settings.lr);
    let mut streams = Vec::new();
    checkpoint::restore(bytes, &mut *rnn, &mut vocab, &mut optimizer, &mut streams)?;
    Ok((progress.iteration, bits(&rnn)))
}

/// The names in `dir` that are temporary files of the atomic writer.
fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".tmp-"))
        .collect()
}

/// One file the runs replace: its last complete version as the test saw it.
struct Tracked {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Tracked {
    fn new(path: PathBuf) -> Self {
        let bytes = std::fs::read(&path).unwrap();
        Self { path, bytes }
    }

    /// Reads the file again: it must be the previous version or a new one that `decode`
    /// accepts (which checks its checksums: a torn file fails them). Returns whether it changed.
    fn check<T>(
        &mut self,
        what: &str,
        decode: impl Fn(&[u8]) -> Result<T, micrornn::Error>,
    ) -> bool {
        let bytes = std::fs::read(&self.path).unwrap_or_else(|e| panic!("{what} is gone: {e}"));
        if bytes == self.bytes {
            return false;
        }
        if let Err(e) = decode(&bytes) {
            panic!(
                "{what} is neither the previous version nor a complete new one ({e}; {} bytes, previously {})",
                bytes.len(),
                self.bytes.len()
            );
        }
        self.bytes = bytes;
        true
    }
}

#[test]
fn sigkill_never_tears_the_model_or_checkpoint() {
    let seed = std::env::var("MICRORNN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    println!("MICRORNN_CRASH_SEED={seed}");
    let mut rng = DefaultRng::seed_from_u64(seed);
    let dir = scratch("sigkill");
    let corpus = write_corpus(&dir);
    let corpus = corpus.to_str().unwrap();

    // A complete first run gives the first versions of both files.
    let mut first = spawn(
        &dir,
        &[
            corpus,
            "--hidden",
            "32",
            "--seq-len",
            "16",
            "--iters",
            "5",
            "--sample-every",
            "1",
            "--out",
            "m.mrnn",
        ],
    );
    let status = wait(&mut first);
    assert!(
        status.success(),
        "first run: {status:?}: {}",
        stderr_of(&mut first)
    );
    let mut model = Tracked::new(dir.join("m.mrnn"));
    let mut ckpt = Tracked::new(dir.join("m.ckpt"));
    let (mut iteration, _) = decode_checkpoint(&ckpt.bytes).unwrap();
    assert_eq!(iteration, 5);

    let (mut kills, mut completed, mut new_models, mut new_checkpoints) = (0, 0, 0, 0);
    let mut torn_writes = 0; // kills that interrupted a save (its temporary file was left)
    let mut run = 0;
    while kills < KILLS {
        run += 1;
        // Every tenth run finishes; the others are killed, some before they could have.
        let finish = run % 10 == 0;
        let iters = if finish { 3 } else { 5 + rng.next_u32() % 200 };
        let iters_arg = iters.to_string();
        let mut child = spawn(
            &dir,
            &[
                corpus,
                "--resume",
                "m.ckpt",
                "--iters",
                &iters_arg,
                "--sample-every",
                "1",
                "--out",
                "m.mrnn",
            ],
        );
        let status = if finish {
            Some(wait(&mut child))
        } else {
            std::thread::sleep(Duration::from_millis(20 + u64::from(rng.next_u32() % 281)));
            match child.try_wait().unwrap() {
                Some(status) => Some(status),
                None => {
                    child.kill().unwrap(); // SIGKILL
                    let _ = child.wait();
                    kills += 1;
                    None
                }
            }
        };
        let start = iteration;
        // A kill during a save leaves that file's temporary behind, but the next save of the
        // same file removes it: they never pile up (one per file at most: model, checkpoint,
        // loss CSV and plot).
        let leftovers = temporaries(&dir);
        assert!(
            leftovers.len() <= 4,
            "run {run}: temporary files pile up: {leftovers:?}"
        );
        torn_writes += usize::from(!leftovers.is_empty());
        if model.check("the model file", decode_model) {
            new_models += 1;
        }
        if ckpt.check("the checkpoint", decode_checkpoint) {
            new_checkpoints += 1;
            let (now, _) = decode_checkpoint(&ckpt.bytes).unwrap();
            assert!(
                now > start && now <= start + u64::from(iters),
                "run {run} resumed at {start} for {iters} iterations but checkpointed {now}"
            );
            iteration = now;
        }
        if let Some(status) = status {
            assert!(
                status.success(),
                "run {run}: {status:?}: {}",
                stderr_of(&mut child)
            );
            // A run that finished continued from the checkpoint, by exactly its iterations, and
            // left the model it saved in the checkpoint too.
            assert_eq!(iteration, start + u64::from(iters), "run {run}");
            let (_, ckpt_bits) = decode_checkpoint(&ckpt.bytes).unwrap();
            assert_eq!(decode_model(&model.bytes).unwrap(), ckpt_bits, "run {run}");
            assert_eq!(
                temporaries(&dir),
                Vec::<String>::new(),
                "run {run} left temporary files"
            );
            completed += 1;
        }
    }
    println!(
        "{run} runs: {kills} killed ({torn_writes} in the middle of a save), {completed} \
         completed; {new_models} new model files and {new_checkpoints} new checkpoints seen, \
         none torn; iteration {iteration}"
    );
    assert!(completed >= 5, "only {completed} runs completed");
    // The kills landed while the files were being replaced often enough to mean something.
    assert!(
        new_checkpoints > KILLS / 2,
        "only {new_checkpoints} new checkpoints"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a `size` tmpfs on `dir`, or says why it cannot.
    fn mount(dir: &Path, size: &str) -> Result<Self, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if out.status.success() {
            Ok(Self(dir.to_path_buf()))
        } else {
            Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn full_disk_fails_cleanly() {
    let outside = scratch("disk");
    let corpus = write_corpus(&outside);
    let corpus = corpus.to_str().unwrap();
    let disk = outside.join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let mounted = match Tmpfs::mount(&disk, "128k") {
        Ok(mounted) => mounted,
        Err(why) => {
            eprintln!(
                "skipping the full-disk test: {why} (it needs root and a kernel that lets this process mount a tmpfs)"
            );
            return;
        }
    };

    // A small model fits: hidden 32 makes a 12.7 KB model and a 25 KB checkpoint.
    let mut small = spawn(
        &disk,
        &[
            corpus,
            "--hidden",
            "32",
            "--seq-len",
            "16",
            "--iters",
            "5",
            "--sample-every",
            "0",
            "--out",
            "m.mrnn",
        ],
    );
    let status = wait(&mut small);
    assert!(status.success(), "{status:?}: {}", stderr_of(&mut small));
    let names = ["m.mrnn", "m.ckpt", "m.loss.csv", "m.loss.svg"];
    let before: Vec<Vec<u8>> = names
        .iter()
        .map(|n| std::fs::read(disk.join(n)).unwrap())
        .collect();

    // Hidden 256 needs a 329 KB model file: it cannot fit in 128 KiB, whichever file comes first.
    let mut big = spawn(
        &disk,
        &[
            corpus,
            "--hidden",
            "256",
            "--seq-len",
            "16",
            "--iters",
            "2",
            "--sample-every",
            "1",
            "--out",
            "m.mrnn",
        ],
    );
    let status = wait(&mut big);
    let err = stderr_of(&mut big);
    assert_eq!(status.code(), Some(1), "{status:?}: {err}");
    // The run's report lines come first; the failure is one line, the last, and no panic.
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert_eq!(err.lines().last(), Some(errors[0]), "{err}");
    assert!(errors[0].contains("No space left on device"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for (name, bytes) in names.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(disk.join(name)).unwrap(),
            bytes,
            "{name} changed"
        );
    }
    let mut left: Vec<String> = std::fs::read_dir(&disk)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["m.ckpt", "m.loss.csv", "m.loss.svg", "m.mrnn"]);
    assert!(decode_model(&before[0]).is_ok() && decode_checkpoint(&before[1]).is_ok());
    drop(mounted);
    std::fs::remove_dir_all(&outside).unwrap();
}
