//! Golden tests for the syslog stage: the real samples in `tests/data/*.log` (sources and
//! licences in `tests/data/NOTICE.md`) are parsed line by line with a fixed receive time
//! and zone, and the JSON lines compared with the checked-in `*.golden.jsonl`.
//!
//! After a deliberate change, `GAC_BLESS=1 cargo test -p gac-parse --test golden`
//! rewrites the goldens; read the diff line by line (hostname, app, pid, times, tags)
//! before keeping it.

// clippy.toml lets tests unwrap, but only inside `#[test]` fns; these helpers serve them
// and a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use gac_event::Timestamp;
use gac_parse::{TimePolicy, parse_syslog};

/// 10:00 on 1 July 2025 in Hanoi: late enough that June lines keep 2025, early enough
/// that July and December lines fall back to 2024.
const RECEIVED: &str = "2025-07-01T03:00:00Z";

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// One JSON line per input line: the outcome and the event.
fn render(sample: &str) -> String {
    let input = std::fs::read(data_dir().join(format!("{sample}.log"))).unwrap();
    let received: Timestamp = RECEIVED.parse().unwrap();
    let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
    let mut out = String::new();
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for line in lines {
        let (event, outcome) = parse_syslog(line, received, &policy);
        let record = serde_json::json!({ "outcome": outcome.as_str(), "event": event });
        out.push_str(&serde_json::to_string(&record).unwrap());
        out.push('\n');
    }
    out
}

fn check(sample: &str) {
    common::compare_golden(&format!("{sample}.golden.jsonl"), &render(sample));
}

#[test]
fn loghub_openssh() {
    check("loghub-openssh");
}

#[test]
fn loghub_linux() {
    check("loghub-linux");
}

#[test]
fn elastic_syslog_variants() {
    check("syslog-elastic");
}

#[test]
fn crowdsec_syslog_variants() {
    check("syslog-crowdsec");
}
