//! What the parser tests share: the fixed receive time and zone, the sample lines of
//! `tests/data`, and comparing rendered output with a checked-in
//! `tests/data/*.golden.jsonl`, line by line, or rewriting it under `GAC_BLESS=1`.

// Each test file uses part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

use gac_event::Timestamp;
use gac_parse::TimePolicy;

/// 10:00 on 1 July 2025 in Hanoi: late enough that June lines keep 2025, early enough
/// that July and December lines fall back to 2024.
pub const RECEIVED: &str = "2025-07-01T03:00:00Z";

/// [`RECEIVED`] as a time.
pub fn received() -> Timestamp {
    RECEIVED.parse().expect("RECEIVED is RFC 3339")
}

/// The zone of the samples' inputs.
pub fn policy() -> TimePolicy {
    TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh)
}

/// `tests/data`.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The lines of `tests/data/<sample>.log` as bytes, as an input would frame them (a
/// final newline ends the last line; it does not start an empty one).
pub fn sample_lines(sample: &str) -> Vec<Vec<u8>> {
    let path = data_dir().join(format!("{sample}.log"));
    let input = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines: Vec<Vec<u8>> = input.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if lines.last().is_some_and(Vec::is_empty) {
        lines.pop();
    }
    lines
}

/// Compares `actual` with the golden file `name` in `tests/data` (or, with
/// `GAC_BLESS=1`, writes it: read the diff line by line before keeping it).
pub fn compare_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    if std::env::var_os("GAC_BLESS").is_some() {
        std::fs::write(&path, actual).expect("the golden file is writable");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with GAC_BLESS=1 to create)", path.display()));
    let (actual_lines, expected_lines): (Vec<_>, Vec<_>) =
        (actual.lines().collect(), expected.lines().collect());
    for (i, (a, e)) in actual_lines.iter().zip(&expected_lines).enumerate() {
        assert_eq!(a, e, "{name}: line {} differs from the golden", i + 1);
    }
    assert_eq!(
        actual_lines.len(),
        expected_lines.len(),
        "{name}: line count differs from the golden"
    );
}
