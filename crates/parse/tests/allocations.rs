//! How many heap allocations parsing a line costs: the event model's promise
//! (ARCHITECTURE.md, "An event's fields are a vector in set order") kept by a test. Field
//! names are constants and short values inline, so a header plus sshd or access-log line
//! allocates only its own text, the field vector, the tag vector, the
//! `event.category`/`event.type` lists, and one per value longer than 23 bytes (the MSG
//! copy, a URL, a user agent). Before this design an sshd line made 45 allocations.
#![allow(clippy::unwrap_used)]

use gac_event::Timestamp;
use gac_parse::{Format, TimePolicy, formats, parse};

/// (lines, allocations per line: most, mean) for every line of `file` parsed as `format`.
fn allocations(file: &str, format: Format) -> (usize, u64, f64) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(path).unwrap();
    let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
    let received: Timestamp = "2025-07-01T03:00:00Z".parse().unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut most = 0;
    let mut total = 0;
    for line in &lines {
        let info = allocation_counter::measure(|| {
            let (event, parsed) = parse(line.as_bytes(), received, &policy, format);
            assert!(parsed.parser.is_some(), "{line}");
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
    let (lines, most, mean) = allocations("loghub-openssh.log", Format::Syslog);
    eprintln!("sshd: {lines} lines, at most {most}, mean {mean:.2} allocations");
    assert!(lines > 40);
    assert!(most <= 8, "at most {most} allocations");
    assert!(mean <= 6.5, "mean {mean:.2} allocations");
}

#[test]
fn an_access_line_allocates_its_text_and_a_handful_more() {
    let format = Format::Record(formats::record_parser("web.access").unwrap());
    let (lines, most, mean) = allocations("web-elastic.log", format);
    eprintln!("access: {lines} lines, at most {most}, mean {mean:.2} allocations");
    assert!(lines > 40);
    assert!(most <= 9, "at most {most} allocations");
    assert!(mean <= 5.5, "mean {mean:.2} allocations");
}
