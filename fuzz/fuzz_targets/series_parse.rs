//! Sensor series files: `parse_ts` and `parse_csv` on arbitrary text.
//!
//! Checks: no panic; a set that parses keeps its promises (at least one series, at least one
//! channel, every series a whole number of samples of at least one step, labels that index the
//! class names, finite values, channels, classes and steps within the limits); an error names the
//! file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use micrornn::host::series::{Limits, SeriesSet, parse_csv, parse_ts};

const LIMITS: Limits = Limits {
    channels: 4,
    classes: 5,
    steps: 64,
    bytes: 1 << 20,
};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for (result, file) in [
        (parse_ts(&text, "f.ts", &LIMITS), "f.ts"),
        (parse_csv(&text, "f.csv", &LIMITS), "f.csv"),
    ] {
        match result {
            Ok(set) => check(&set),
            Err(error) => assert!(error.to_string().starts_with(file)),
        }
    }
});

fn check(set: &SeriesSet) {
    assert!((1..=LIMITS.channels).contains(&set.channels));
    assert!((1..=LIMITS.classes).contains(&set.class_names.len()));
    assert!(!set.series.is_empty());
    for series in &set.series {
        assert!(series.label < set.class_names.len());
        assert_eq!(series.values.len() % set.channels, 0);
        assert!((1..=LIMITS.steps).contains(&series.steps(set.channels)));
        assert!(series.values.iter().all(|v| v.is_finite()));
    }
    let normalization = set.normalization::<4>();
    assert!(normalization.mean.iter().all(|m| m.is_finite()));
}
