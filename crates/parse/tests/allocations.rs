//! How many heap allocations parsing a line costs: the event model's promise
//! (ARCHITECTURE.md, "An event's fields are a vector in set order" and "String values
//! are places in one text") kept by a test. Field names and keyword lists are constants,
//! and string values are places in the event's one text buffer, which holds a copy of
//! the record, so a header plus sshd line allocates that text and the field vector, and
//! nothing per value (its two tags are kept inline). Before this design an sshd line
//! made 45 allocations; with a `SmolStr` per value, 4.1; with a tag vector, 3.
#![allow(clippy::unwrap_used)]

mod common;

use gac_parse::{Format, formats, parse};

/// (lines, allocations per line: most, mean) for every line of `tests/data/<sample>.log`
/// parsed as `format`.
fn allocations(sample: &str, format: Format) -> (usize, u64, f64) {
    let (received, policy) = (common::received(), common::policy());
    let lines: Vec<Vec<u8>> = common::sample_lines(sample)
        .into_iter()
        .filter(|l| !l.trim_ascii().is_empty())
        .collect();
    let mut most = 0;
    let mut total = 0;
    for line in &lines {
        let info = allocation_counter::measure(|| {
            let (event, parsed) = parse(line, received, &policy, format);
            assert!(parsed.parser.is_some(), "{}", String::from_utf8_lossy(line));
            drop(event);
        });
        assert_eq!(
            info.count_current, 0,
            "nothing kept after the event is dropped"
        );
        most = most.max(info.count_total);
        total += info.count_total;
    }
    (lines.len(), most, total as f64 / lines.len() as f64)
}

#[test]
fn an_sshd_line_allocates_its_text_and_a_handful_more() {
    let (lines, most, mean) = allocations("loghub-openssh", Format::Syslog);
    eprintln!("sshd: {lines} lines, at most {most}, mean {mean:.2} allocations");
    assert!(lines > 40);
    // Text, fields.
    assert!(most <= 2, "at most {most} allocations");
    assert!(mean <= 2.0, "mean {mean:.2} allocations");
}

#[test]
fn an_access_line_allocates_its_text_and_a_handful_more() {
    let format = Format::Record(formats::record_parser("web.access").unwrap());
    let (lines, most, mean) = allocations("web-elastic", format);
    eprintln!("access: {lines} lines, at most {most}, mean {mean:.2} allocations");
    assert!(lines > 40);
    assert!(most <= 8, "at most {most} allocations");
    // Text, fields, and what decoding a URL or a user agent needs on some lines.
    assert!(mean <= 3.8, "mean {mean:.2} allocations");
}
