//! Real syslog lines for the benchmarks, and fresh records made from them.
//!
//! The lines are the sample logs already in the repository (loghub, Elastic and
//! CrowdSec test inputs; sources and licences in `demo/logs/loghub/NOTICE.md` and
//! `crates/parse/tests/data/NOTICE.md`), compiled into the binary. Each is read once with
//! `gac_parse::parse_syslog` to take its host, program, pid, structured data and message;
//! [`Sample::render`] then gives it a new RFC 3164 or RFC 5424 header stamped with the
//! time of the run, so the server's retention keeps every record.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use gac_event::{Timestamp, field};
use gac_parse::{Outcome, TimePolicy};

/// The sample files: (name, text).
pub const SOURCES: &[(&str, &str)] = &[
    (
        "loghub Linux_2k.log",
        include_str!("../../demo/logs/loghub/Linux_2k.log"),
    ),
    (
        "loghub OpenSSH_2k.log",
        include_str!("../../demo/logs/loghub/OpenSSH_2k.log"),
    ),
    (
        "syslog-elastic.log",
        include_str!("../../crates/parse/tests/data/syslog-elastic.log"),
    ),
    (
        "syslog-crowdsec.log",
        include_str!("../../crates/parse/tests/data/syslog-crowdsec.log"),
    ),
];

/// Every non-blank line of [`SOURCES`], as found (for the parser benchmark).
pub fn raw_lines() -> Vec<&'static str> {
    SOURCES
        .iter()
        .flat_map(|(_, text)| text.lines())
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// Header dialect of a generated record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `<PRI>Mmm dd HH:MM:SS HOST TAG: MSG`, local time of the sender's zone.
    Rfc3164,
    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    Rfc5424,
}

/// The parts of one real line that a new header is put around.
#[derive(Debug, Clone)]
pub struct Sample {
    pub host: String,
    pub app: String,
    pub procid: Option<String>,
    pub msgid: Option<String>,
    /// RFC 5424 structured data as written in the original line.
    pub structured_data: Option<String>,
    pub msg: String,
    pub facility: u8,
    pub severity: u8,
}

/// The samples: every line of [`SOURCES`] whose header names a program and whose
/// message is not empty (a handful of headerless lines, CEF and FortiGate key=value
/// records without a program, are left out).
pub fn samples() -> Vec<Sample> {
    let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
    let now = Timestamp::now();
    raw_lines()
        .into_iter()
        .filter_map(|line| {
            let (event, outcome) = gac_parse::parse_syslog(line.as_bytes(), now, &policy);
            if !matches!(outcome, Outcome::Rfc3164 | Outcome::Rfc5424) {
                return None;
            }
            let app = event.get_str(field::LOG_SYSLOG_APPNAME)?.to_owned();
            let msg = event.get_str(field::LOG_SYSLOG_MESSAGE)?.trim().to_owned();
            if msg.is_empty() || app.contains(char::is_whitespace) {
                return None;
            }
            let host = event
                .get_str(field::LOG_SYSLOG_HOSTNAME)
                .unwrap_or("localhost")
                .to_owned();
            let structured_data = (outcome == Outcome::Rfc5424)
                .then(|| rfc5424_sd(line))
                .flatten();
            let facility = event
                .get_i64(field::LOG_SYSLOG_FACILITY_CODE)
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or_else(|| facility_for(&app));
            let severity = event
                .get_i64(field::LOG_SYSLOG_SEVERITY_CODE)
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or_else(|| severity_for(&msg));
            Some(Sample {
                host,
                procid: event.get_str(field::LOG_SYSLOG_PROCID).map(str::to_owned),
                msgid: event.get_str(field::LOG_SYSLOG_MSGID).map(str::to_owned),
                structured_data,
                msg,
                app,
                facility,
                severity,
            })
        })
        .collect()
}

/// The structured data of an RFC 5424 line (`-` gives `None`): the text after the
/// sixth space-separated part, up to the last `]` of its run of `[...]` elements.
fn rfc5424_sd(line: &str) -> Option<String> {
    let mut rest = line;
    for _ in 0..6 {
        rest = rest.split_once(' ')?.1;
    }
    if !rest.starts_with('[') {
        return None;
    }
    // Walk the elements, honouring quoted values (which may hold `]` and spaces).
    let bytes = rest.as_bytes();
    let (mut i, mut quoted, mut end) = (0, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b']' if !quoted => {
                end = i + 1;
                if bytes.get(end) != Some(&b'[') {
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (end > 0).then(|| rest[..end].to_owned())
}

/// A facility for lines that carried no PRI, chosen by program as Debian's rsyslog
/// would receive them.
fn facility_for(app: &str) -> u8 {
    let app = app.to_ascii_lowercase();
    if app == "kernel" {
        0
    } else if ["sshd", "su", "sudo", "login", "gdm", "klogind", "pam"]
        .iter()
        .any(|p| app.starts_with(p))
    {
        10 // authpriv
    } else if app.starts_with("ftpd") {
        11
    } else if app.starts_with("logrotate") || app.starts_with("cron") {
        9
    } else {
        3 // daemon
    }
}

/// A severity for lines that carried no PRI: warning when the message sounds like a
/// failure, else informational.
fn severity_for(msg: &str) -> u8 {
    let m = msg.to_ascii_lowercase();
    if ["fail", "error", "invalid", "denied", "refused", "break-in"]
        .iter()
        .any(|w| m.contains(w))
    {
        4
    } else {
        6
    }
}

impl Sample {
    /// Appends this sample as one newline-terminated record with a fresh header.
    /// `host` replaces the original host name; `time` is written in `zone` (RFC 3164
    /// carries no zone, so the receiver must assume the same one).
    pub fn render(
        &self,
        out: &mut String,
        dialect: Dialect,
        host: &str,
        time: DateTime<Utc>,
        zone: Tz,
    ) {
        let pri = u16::from(self.facility) * 8 + u16::from(self.severity);
        let local = time.with_timezone(&zone);
        // Writing to a String cannot fail.
        let _ = match dialect {
            Dialect::Rfc3164 => {
                let tag = match &self.procid {
                    Some(pid) => format!("{}[{pid}]", self.app),
                    None => self.app.clone(),
                };
                writeln!(
                    out,
                    "<{pri}>{} {host} {tag}: {}",
                    local.format("%b %e %H:%M:%S"),
                    self.msg
                )
            }
            Dialect::Rfc5424 => writeln!(
                out,
                "<{pri}>1 {} {host} {} {} {} {} {}",
                local.format("%Y-%m-%dT%H:%M:%S%.6f%:z"),
                self.app,
                self.procid.as_deref().unwrap_or("-"),
                self.msgid.as_deref().unwrap_or("-"),
                self.structured_data.as_deref().unwrap_or("-"),
                self.msg
            ),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_lines_become_samples_and_render_as_what_they_claim() {
        let all = raw_lines().len();
        let samples = samples();
        assert!(
            samples.len() * 100 >= all * 95,
            "{} of {all}",
            samples.len()
        );
        assert!(samples.iter().any(|s| s.structured_data.is_some()));
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let now = Utc::now();
        for s in &samples {
            for (dialect, want) in [
                (Dialect::Rfc3164, Outcome::Rfc3164),
                (Dialect::Rfc5424, Outcome::Rfc5424),
            ] {
                let mut line = String::new();
                s.render(
                    &mut line,
                    dialect,
                    "fw-01",
                    now,
                    chrono_tz::Asia::Ho_Chi_Minh,
                );
                assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
                let (e, outcome) =
                    gac_parse::parse_syslog(line.trim_end().as_bytes(), Timestamp::now(), &policy);
                assert_eq!(outcome, want, "{line}");
                assert_eq!(
                    e.get_str(field::LOG_SYSLOG_HOSTNAME),
                    Some("fw-01"),
                    "{line}"
                );
                assert_eq!(e.get_str(field::LOG_SYSLOG_APPNAME), Some(s.app.as_str()));
                let age = Timestamp::now().nanos() - e.timestamp.nanos();
                assert!((-1_000_000_000..5_000_000_000).contains(&age), "{line}");
            }
        }
    }

    #[test]
    fn structured_data_is_cut_at_its_last_element() {
        let line = r#"<38>1 2022-01-19T14:23:55+00:00 h sshd 1 - [a x="1 ]"][b y="2"] msg [x]"#;
        assert_eq!(rfc5424_sd(line).as_deref(), Some(r#"[a x="1 ]"][b y="2"]"#));
        assert_eq!(rfc5424_sd("<38>1 t h a p m - msg"), None);
    }
}
