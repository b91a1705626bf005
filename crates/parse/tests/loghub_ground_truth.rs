//! Cross-check against loghub's ground truth: for each sampled line, the hostname, app
//! name, PID, message and local time we parse must equal the columns of loghub's
//! `*_structured.csv` row for that line (copied beside the samples in `tests/data`).
//!
//! Column quirks of the two CSVs: in OpenSSH the `Component` column holds the hostname
//! (every line is `sshd[pid]`); in Linux the `Level` column holds the hostname.

// clippy.toml lets tests unwrap, but only inside `#[test]` fns; these helpers serve them
// and a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use chrono_tz::Asia::Ho_Chi_Minh;
use gac_event::{Event, Timestamp, field};
use gac_parse::{Outcome, TimePolicy, parse_syslog};

/// What loghub says one line holds.
#[derive(Debug)]
struct Truth {
    line_id: String,
    month: String,
    day: String,
    time: String,
    host: String,
    app: String,
    pid: String,
    content: String,
}

fn data(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One CSV record (RFC 4180: quoted fields, `""` for a quote; loghub rows are one line).
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => in_quotes = !in_quotes,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// The CSV's rows as maps from column name to value.
fn rows(name: &str) -> Vec<std::collections::HashMap<String, String>> {
    let text = String::from_utf8(data(name)).unwrap();
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap().trim_end_matches('\r'));
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(csv_fields(line.trim_end_matches('\r')))
                .collect()
        })
        .collect()
}

fn parse_lines(name: &str) -> Vec<Event> {
    let received: Timestamp = "2025-07-01T03:00:00Z".parse().unwrap();
    let policy = TimePolicy::new(Ho_Chi_Minh);
    let input = data(name);
    input
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (event, outcome) = parse_syslog(line, received, &policy);
            assert_eq!(outcome, Outcome::Rfc3164, "{}", event.message());
            event
        })
        .collect()
}

/// Compares one event with its row; returns false for a documented disagreement.
fn agrees(event: &Event, truth: &Truth) -> bool {
    let local = event.timestamp.to_datetime().with_timezone(&Ho_Chi_Minh);
    let id = &truth.line_id;
    assert_eq!(local.format("%b").to_string(), truth.month, "line {id}");
    assert_eq!(local.format("%-d").to_string(), truth.day, "line {id}");
    assert_eq!(
        local.format("%H:%M:%S").to_string(),
        truth.time,
        "line {id}"
    );
    assert_eq!(
        event.get_str(field::HOST_NAME),
        Some(truth.host.as_str()),
        "line {id}"
    );

    let message = event.get_str(field::LOG_SYSLOG_MESSAGE);
    if truth.app.contains(' ') {
        // A tag with a space (`syslogd 1.4.1:`, ` -- root[2421]:`) is no tag to us: RFC
        // 3164 tags end at the first non-alphanumeric character, and taking a space
        // would misread every tagless message. The whole text is the message instead.
        assert_eq!(event.get(field::PROCESS_NAME), None, "line {id}");
        let pid = if truth.pid.is_empty() {
            String::new()
        } else {
            format!("[{}]", truth.pid)
        };
        let whole = format!("{}{pid}: {}", truth.app, truth.content);
        assert_eq!(message, Some(whole.as_str()), "line {id}");
        return false;
    }
    assert_eq!(
        event.get_str(field::PROCESS_NAME),
        Some(truth.app.as_str()),
        "line {id}"
    );
    if truth.pid.is_empty() {
        assert_eq!(event.get(field::PROCESS_PID), None, "line {id}");
    } else {
        let pid: i64 = truth.pid.parse().unwrap();
        assert_eq!(event.get_i64(field::PROCESS_PID), Some(pid), "line {id}");
    }
    assert_eq!(message, Some(truth.content.as_str()), "line {id}");
    true
}

#[test]
fn openssh_matches_loghub_structured_csv() {
    let events = parse_lines("loghub-openssh.log");
    let truths: Vec<Truth> = rows("loghub-openssh.structured.csv")
        .into_iter()
        .map(|mut r| Truth {
            line_id: r.remove("LineId").unwrap(),
            month: r.remove("Date").unwrap(),
            day: r.remove("Day").unwrap(),
            time: r.remove("Time").unwrap(),
            host: r.remove("Component").unwrap(),
            app: "sshd".to_owned(),
            pid: r.remove("Pid").unwrap(),
            content: r.remove("Content").unwrap(),
        })
        .collect();
    assert_eq!(events.len(), truths.len());
    assert!(events.len() >= 50);
    for (event, truth) in events.iter().zip(&truths) {
        assert!(agrees(event, truth), "line {}", truth.line_id);
    }
}

#[test]
fn linux_matches_loghub_structured_csv() {
    let events = parse_lines("loghub-linux.log");
    let truths: Vec<Truth> = rows("loghub-linux.structured.csv")
        .into_iter()
        .map(|mut r| Truth {
            line_id: r.remove("LineId").unwrap(),
            month: r.remove("Month").unwrap(),
            day: r.remove("Date").unwrap(),
            time: r.remove("Time").unwrap(),
            host: r.remove("Level").unwrap(),
            app: r.remove("Component").unwrap(),
            pid: r.remove("PID").unwrap(),
            content: r.remove("Content").unwrap(),
        })
        .collect();
    assert_eq!(events.len(), truths.len());
    assert!(events.len() >= 50);
    let disagreements: Vec<&str> = events
        .iter()
        .zip(&truths)
        .filter(|(event, truth)| !agrees(event, truth))
        .map(|(_, truth)| truth.line_id.as_str())
        .collect();
    // Lines 146 and 1908 (`syslogd 1.4.1: restart.`) and 899 (` -- root[2421]: ...`).
    assert_eq!(disagreements, ["146", "899", "1908"]);
}
