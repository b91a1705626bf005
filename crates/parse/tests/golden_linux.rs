//! Golden tests for the Linux authentication, auditd, CEF, LEEF, JSON and key=value
//! parsers: real samples in `tests/data/<name>.log` (sources and licences in
//! `tests/data/NOTICE.md`) go line by line through [`gac_parse::parse`] with a fixed
//! receive time, zone and input format, and the JSON lines are compared with the
//! checked-in `<name>.golden.jsonl`. The audit sample is also joined by
//! [`AuditJoiner`] into `auditd.joined.golden.jsonl`.
//!
//! After a deliberate change, `GAC_BLESS=1 cargo test -p gac-parse --test golden_linux`
//! rewrites the goldens; read the diff line by line (users, addresses, actions, outcome,
//! times) before keeping it.

// clippy.toml lets tests unwrap, but only inside `#[test]` fns; these helpers serve them
// and a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use gac_event::Event;
use gac_parse::formats::auditd::AuditJoiner;
use gac_parse::{Format, Parsed, parse};

/// Every line of a sample, parsed.
fn parse_sample(sample: &str, format: &str) -> Vec<(Event, Parsed)> {
    let (received, policy) = (common::received(), common::policy());
    let format: Format = format.parse().unwrap();
    common::sample_lines(sample)
        .iter()
        .map(|line| parse(line, received, &policy, format))
        .collect()
}

/// One JSON line per event. Written by hand around the event's own serialisation so the
/// key order does not depend on serde_json's `preserve_order` feature.
fn render_line(out: &mut String, parsed: Option<&Parsed>, event: &Event) {
    out.push('{');
    if let Some(p) = parsed {
        let parser = serde_json::to_string(&p.parser).unwrap();
        let body = format!("{:?}", p.body).to_lowercase();
        out.push_str(&format!("\"parser\":{parser},\"body\":\"{body}\","));
    }
    out.push_str("\"event\":");
    out.push_str(&serde_json::to_string(event).unwrap());
    out.push_str("}\n");
}

fn render(sample: &str, format: &str) -> String {
    let mut out = String::new();
    for (event, parsed) in parse_sample(sample, format) {
        render_line(&mut out, Some(&parsed), &event);
    }
    out
}

fn compare(name: &str, actual: &str) {
    common::compare_golden(&format!("{name}.golden.jsonl"), actual);
}

fn check(sample: &str, format: &str) {
    compare(sample, &render(sample, format));
}

#[test]
fn linux_auth_loghub() {
    check("linux-auth-loghub", "auto");
}

#[test]
fn linux_auth_elastic() {
    check("linux-auth-elastic", "auto");
}

#[test]
fn linux_auth_fail2ban() {
    check("linux-auth-fail2ban", "auto");
}

#[test]
fn linux_auth_crowdsec() {
    check("linux-auth-crowdsec", "auto");
}

#[test]
fn linux_auth_wazuh() {
    check("linux-auth-wazuh", "auto");
}

#[test]
fn auditd_records() {
    check("auditd", "auto");
}

#[test]
fn auditd_joined() {
    let mut joiner = AuditJoiner::default();
    let mut out = String::new();
    for (event, _) in parse_sample("auditd", "auto") {
        for done in joiner.push(event) {
            render_line(&mut out, None, &done);
        }
    }
    for done in joiner.flush_all() {
        render_line(&mut out, None, &done);
    }
    compare("auditd.joined", &out);
}

#[test]
fn cef() {
    check("cef", "auto");
}

#[test]
fn leef() {
    check("leef", "auto");
}

#[test]
fn json_lines() {
    check("json", "auto");
}

#[test]
fn key_value() {
    check("kv", "kv");
}
