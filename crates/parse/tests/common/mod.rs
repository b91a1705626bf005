//! What the golden tests share: comparing rendered output with a checked-in
//! `tests/data/*.golden.jsonl`, line by line, or rewriting it under `GAC_BLESS=1`.

use std::path::PathBuf;

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
