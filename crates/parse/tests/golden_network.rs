//! Golden tests for the web, network-device and NSM parsers (`formats/web.rs`,
//! `network.rs`, `nsm.rs`): the real samples in `tests/data/<name>.log` (sources and
//! licences in `tests/data/NOTICE.md`) go line by line through [`gac_parse::parse`] with
//! the `auto` format, as an input that declares nothing would read them, so detection is
//! tested along with mapping. Each line's JSON (which parser read it, whether it succeeded,
//! the event) is compared with `<name>.golden.jsonl`.
//!
//! After a deliberate change, `GAC_BLESS=1 cargo test -p gac-parse --test golden_network`
//! rewrites the goldens; read the diff line by line (addresses, ports, times, actions,
//! datasets) before keeping it.

// clippy.toml lets tests unwrap, but only inside `#[test]` fns; these helpers serve them
// and a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use gac_parse::{BodyOutcome, Format, parse};

/// One JSON line per input line: the format it was counted under, the body outcome, and
/// the event.
fn render(sample: &str) -> String {
    let (received, policy) = (common::received(), common::policy());
    let mut out = String::new();
    for line in common::sample_lines(sample) {
        let (event, parsed) = parse(&line, received, &policy, Format::Auto);
        let body = match parsed.body {
            BodyOutcome::None => "none",
            BodyOutcome::Parsed => "parsed",
            BodyOutcome::Failed => "failed",
        };
        let record = serde_json::json!({
            "format": parsed.format_name(),
            "body": body,
            "event": event,
        });
        out.push_str(&serde_json::to_string(&record).unwrap());
        out.push('\n');
    }
    out
}

fn check(sample: &str) {
    common::compare_golden(&format!("{sample}.golden.jsonl"), &render(sample));
}

#[test]
fn web_elastic() {
    check("web-elastic");
}

#[test]
fn web_crowdsec() {
    check("web-crowdsec");
}

#[test]
fn apache_error_loghub() {
    check("apache-error-loghub");
}

#[test]
fn iptables() {
    check("iptables");
}

#[test]
fn pfsense_filterlog() {
    check("pfsense");
}

#[test]
fn fortigate() {
    check("fortigate");
}

#[test]
fn cisco_asa() {
    check("cisco-asa");
}

#[test]
fn suricata_eve() {
    check("suricata");
}

#[test]
fn zeek_json() {
    check("zeek");
}

#[test]
fn zeek_tsv() {
    check("zeek-tsv");
}

/// Every sample line cut short at many points, and with bytes flipped, goes through every
/// parser without a panic: a half-received record must end that record, not the server.
#[test]
fn damaged_lines_never_panic() {
    let (received, policy) = (common::received(), common::policy());
    let formats: Vec<Format> = [
        "auto",
        "syslog",
        "web.access",
        "nginx.access.json",
        "nginx.error",
        "apache.error",
        "fortinet.fortigate",
        "suricata.eve",
        "zeek.json",
        "zeek.tsv",
    ]
    .iter()
    .map(|f| f.parse().unwrap())
    .collect();
    for sample in [
        "web-elastic",
        "web-crowdsec",
        "iptables",
        "pfsense",
        "fortigate",
        "cisco-asa",
        "suricata",
        "zeek",
        "zeek-tsv",
    ] {
        for line in common::sample_lines(sample)
            .iter()
            .filter(|l| !l.is_empty())
        {
            for cut in (0..line.len()).step_by(11) {
                for format in &formats {
                    let _ = parse(&line[..cut], received, &policy, *format);
                }
            }
            let mut flipped = line.to_vec();
            for i in (0..flipped.len()).step_by(5) {
                flipped[i] = match flipped[i] {
                    b'"' => b' ',
                    b' ' => b'"',
                    b'=' => b':',
                    other => other.wrapping_add(1),
                };
            }
            for format in &formats {
                let _ = parse(&flipped, received, &policy, *format);
            }
        }
    }
}
