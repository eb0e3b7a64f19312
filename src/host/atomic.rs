//! Atomic file replacement: a reader (or a crash) sees either the old file or the new one, never
//! a mixture.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` atomically: into a temporary file beside it, `fsync`, rename over
/// `path`, then `fsync` the directory (best effort: some file systems refuse to sync a
/// directory). On error the old file, if any, is intact and the temporary file is removed.
///
/// A writer killed before its rename (SIGKILL, power loss) leaves its temporary file behind; the
/// next write of the same `path` removes such leftovers of processes that are gone (on Linux,
/// where `/proc` tells), first, so that repeated crashes do not fill the disk with them.
///
/// # Errors
/// Any I/O error of creating, writing, syncing or renaming.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = temp_path(path);
    remove_stale_temps(path);
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
        return result;
    }
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// `dir/.name.tmp-PID`: hidden, in the same directory (so the rename stays on one file system).
fn temp_path(path: &Path) -> PathBuf {
    path.with_file_name(format!("{}{}", temp_prefix(path), std::process::id()))
}

/// `.name.tmp-`: what every temporary file of `path` is called, before the writer's PID.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.tmp-")
}

/// Removes the temporary files of `path` whose writer process no longer exists (best effort;
/// only where `/proc` lists the running processes, so a live writer's file is never taken).
fn remove_stale_temps(path: &Path) {
    let proc = Path::new("/proc");
    if !cfg!(target_os = "linux") || !proc.join("self").exists() {
        return;
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = temp_prefix(path);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !proc.join(pid.to_string()).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("micrornn-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.bin");
        super::write(&path, b"one").unwrap();
        super::write(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        assert!(super::write(&dir.join("missing/x.bin"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A writer killed before its rename leaves `.x.bin.tmp-PID`; the next write removes it if
    /// that process is gone, and keeps it while the process runs.
    #[cfg(target_os = "linux")]
    #[test]
    fn removes_temporaries_of_dead_writers_only() {
        let dir =
            std::env::temp_dir().join(format!("micrornn-atomic-stale-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.bin");
        let mut gone = std::process::Command::new("true").spawn().unwrap();
        let gone_pid = gone.id();
        gone.wait().unwrap();
        let dead = dir.join(format!(".x.bin.tmp-{gone_pid}"));
        let alive = dir.join(".x.bin.tmp-1"); // PID 1 runs as long as the system does
        let other = dir.join(".y.bin.tmp-999999999"); // another file's: not ours to remove
        for leftover in [&dead, &alive, &other] {
            std::fs::write(leftover, b"half a file").unwrap();
        }
        super::write(&path, b"whole").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"whole");
        assert!(
            !dead.exists(),
            "the dead writer's temporary file is still there"
        );
        assert!(alive.exists() && other.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
