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

use gac_parse::parse_syslog;

/// One JSON line per input line: the outcome and the event.
fn render(sample: &str) -> String {
    let (received, policy) = (common::received(), common::policy());
    let mut out = String::new();
    for line in common::sample_lines(sample) {
        let (event, outcome) = parse_syslog(&line, received, &policy);
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
