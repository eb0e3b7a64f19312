//! The data files of `../shared/data/` (beside the clone), for the tests that need them: a test
//! includes this file with `#[path = "common/shared_data.rs"] mod shared_data;`.

use std::io::Write;
use std::path::PathBuf;

/// `../shared/data/<name>` if it exists; `None` (after saying so) if not, outside CI. Under
/// `CI=true` the data is always present, so its absence is a failure.
pub fn data_file(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")).join(name);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing; CI must have it",
        path.display()
    );
    // Written past the test harness's output capture, so the skip is visible.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {} not found; this test needs it",
        path.display()
    );
    None
}
