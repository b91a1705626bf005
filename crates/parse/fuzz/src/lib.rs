//! Shared code of the `gac-parse` fuzz targets: a fixed receive time and time policy,
//! each source family's parser names, and the two ways a target drives parsers.
//!
//! - [`records`]: the record parsers of a family, each on the whole input, as an input
//!   declaring that format would (`Format::Record`: no `detect` first).
//! - [`bodies`]: the input is read as syslog, then every body parser of the family whose
//!   `applies` accepts the header's app name and message reads that message, as the
//!   dispatcher would if that parser came first in `BODY_PARSERS`.
//!
//! Every name in `RECORD_PARSERS` and `BODY_PARSERS` belongs to one family below; the
//! test at the bottom fails when a parser is added without a fuzz target.

use gac_event::{Event, Timestamp, field};
use gac_parse::formats::{BODY_PARSERS, Context};
use gac_parse::{Format, TimePolicy, parse, parse_syslog};

/// The receive time every target uses (a fixed one, so a crash reproduces).
pub fn received() -> Timestamp {
    Timestamp::from_nanos(1_751_338_800_000_000_000)
}

/// A zone with an offset and (historically) daylight saving, to exercise local times.
pub fn policy() -> TimePolicy {
    TimePolicy::new(chrono_tz::Europe::Dublin)
}

/// Record parsers per family.
pub const WEB_RECORDS: &[&str] = &[
    "nginx.error",
    "apache.error",
    "nginx.access.json",
    "web.access",
    "nginx.access",
    "apache.access",
];
pub const NETWORK_RECORDS: &[&str] = &["fortinet.fortigate"];
pub const NSM_RECORDS: &[&str] = &["suricata.eve", "zeek.json", "zeek.tsv"];
pub const WINDOWS_RECORDS: &[&str] = &[
    "windows.winlogbeat",
    "windows.evtx_json",
    "windows.nxlog",
];
pub const AUDITD_RECORDS: &[&str] = &["auditd"];
pub const GENERIC_RECORDS: &[&str] = &["cef", "leef", "kv", "json"];

/// Body parsers per family.
pub const LINUX_AUTH_BODIES: &[&str] = &["sshd", "sudo", "su", "shadow", "systemd-logind", "pam"];
pub const WEB_BODIES: &[&str] = &["nginx", "apache"];
pub const NETWORK_BODIES: &[&str] = &[
    "cisco.asa",
    "pfsense.filterlog",
    "fortinet.fortigate.syslog",
    "iptables",
];
pub const NSM_BODIES: &[&str] = &["suricata.eve.syslog"];
pub const AUDITD_BODIES: &[&str] = &["auditd.syslog"];
pub const GENERIC_BODIES: &[&str] = &["cef.syslog", "leef.syslog"];

/// Lossy text of the input, as the dispatcher makes it.
fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Every named record parser on the whole input; returns the events it made.
pub fn records(data: &[u8], names: &[&str]) -> Vec<Event> {
    let policy = policy();
    names
        .iter()
        .map(|name| {
            let format: Format = name.parse().expect("a record format name");
            parse(data, received(), &policy, format).0
        })
        .collect()
}

/// The input as syslog, then every named body parser that applies to its message.
pub fn bodies(data: &[u8], names: &[&str]) -> Vec<Event> {
    let policy = policy();
    // No app name here: the body parsers read it from the header's event, as they do
    // when a caller leaves it out.
    let ctx = Context {
        received: received(),
        policy: &policy,
        app: None,
    };
    let (header_event, _) = parse_syslog(data, received(), &policy);
    // Without a header, the whole record is the message (as a file input without
    // syslog framing would give it).
    let whole = text(data);
    let msg = header_event
        .get_str(field::LOG_SYSLOG_MESSAGE)
        .map(str::to_owned)
        .unwrap_or(whole);
    let app = header_event
        .get_str(field::LOG_SYSLOG_APPNAME)
        .map(str::to_owned);
    let mut out = Vec::new();
    for p in BODY_PARSERS.iter().filter(|p| names.contains(&p.name)) {
        if (p.applies)(app.as_deref(), &msg) {
            let mut event = header_event.clone();
            // Errors are expected on junk; only panics, hangs and blow-ups matter.
            let _ = (p.parse)(&msg, &mut event, &ctx);
            out.push(event);
        }
    }
    out
}

/// Serialises each event as the index stores it (`_source`), so a value a parser made
/// that cannot be written (a time out of range, say) surfaces too.
pub fn consume(events: &[Event]) {
    for e in events {
        let json = serde_json::to_string(e).expect("an event serialises");
        std::hint::black_box(json);
        std::hint::black_box(e.timestamp.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gac_parse::formats::RECORD_PARSERS;

    #[test]
    fn every_parser_has_a_fuzz_family() {
        let records: Vec<&str> = [
            WEB_RECORDS,
            NETWORK_RECORDS,
            NSM_RECORDS,
            WINDOWS_RECORDS,
            AUDITD_RECORDS,
            GENERIC_RECORDS,
        ]
        .concat();
        let bodies: Vec<&str> = [
            LINUX_AUTH_BODIES,
            WEB_BODIES,
            NETWORK_BODIES,
            NSM_BODIES,
            AUDITD_BODIES,
            GENERIC_BODIES,
        ]
        .concat();
        for p in RECORD_PARSERS {
            assert!(records.contains(&p.name), "record parser {} has no target", p.name);
        }
        for p in BODY_PARSERS {
            assert!(bodies.contains(&p.name), "body parser {} has no target", p.name);
        }
        assert_eq!(records.len(), RECORD_PARSERS.len());
        assert_eq!(bodies.len(), BODY_PARSERS.len());
    }
}
