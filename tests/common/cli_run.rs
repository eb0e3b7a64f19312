//! Running the `micrornn` binary in a scratch directory, as a user would, for the CLI tests: a
//! test includes this file with `#[path = "common/cli_run.rs"] mod cli_run;`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_micrornn");

/// A fresh, empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("micrornn-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the binary in `dir` with no input.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("the micrornn binary runs")
}

/// What the command printed on stdout.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the command printed on stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The command succeeded (else its exit code and output).
#[track_caller]
pub fn assert_success(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
}

/// Every file of `dir` and its bytes (directories are left out).
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// The command, run by `runner`, fails with exit code 1 and exactly one `error: ` line, which
/// contains `expected`, without a panic, with nothing on stdout and no file of `dir` created,
/// changed or removed. Returns its stderr.
#[track_caller]
pub fn assert_refused_by(
    runner: impl Fn(&Path, &[&str]) -> Output,
    dir: &Path,
    args: &[&str],
    expected: &str,
) -> String {
    let before = snapshot(dir);
    let out = runner(dir, args);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{args:?} should fail with exit code 1\nstderr:\n{err}"
    );
    assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{args:?}: one error line expected:\n{err}");
    assert!(
        lines[0].contains(expected),
        "{args:?}: error should mention {expected:?}:\n{err}"
    );
    assert_eq!(stdout(&out), "", "{args:?} printed on stdout");
    assert_eq!(
        snapshot(dir),
        before,
        "{args:?} created, changed or removed a file"
    );
    err
}

/// [`assert_refused_by`] the binary run in `dir`, and the error line is all it printed.
#[track_caller]
pub fn assert_refused(dir: &Path, args: &[&str], expected: &str) {
    let err = assert_refused_by(run, dir, args, expected);
    assert_eq!(
        err.lines().count(),
        1,
        "{args:?}: only the error line: {err}"
    );
}
