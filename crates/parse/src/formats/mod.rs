//! The format parsers, one file per source family, and the two registries
//! [`dispatch`](crate::dispatch) consults:
//!
//! - [`RECORD_PARSERS`]: whole records that are not syslog-wrapped (access-log lines read
//!   from files, JSON lines, Suricata EVE, ...). Each has a cheap `detect` for `auto`
//!   inputs; order matters: the first that claims a record reads it.
//! - [`BODY_PARSERS`]: the message part after a syslog header, chosen by app name or
//!   message shape (sshd, iptables, Cisco ASA, ...); the first that applies reads it.
//!
//! A parser sets ECS fields (names from `gac_event::field`), `event.dataset`,
//! `event.kind/category/type/action/outcome` where the record says them, and the event
//! time when the record carries one (UTC, original offset in `event.timezone`; records
//! without a zone use `ctx.policy`). It returns an error, never panics, on a record it
//! cannot read.

pub mod auditd;
pub mod evtx;
mod generic;
mod linux_auth;
mod network;
mod nsm;
mod web;
mod windows;

use gac_event::{Event, Timestamp};

use crate::time::TimePolicy;

/// What every parser gets besides the text.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// When the server received the record.
    pub received: Timestamp,
    /// The input's rules for times without a year or zone.
    pub policy: &'a TimePolicy,
    /// For a body parser: the syslog app name of the header before the body, which the
    /// event holds as well (`log.syslog.appname`) but only at the cost of a lookup.
    pub app: Option<&'a str>,
}

/// A record the parser claimed but could not read.
#[derive(Debug, thiserror::Error)]
#[error("{format}: {reason}")]
pub struct FormatError {
    pub format: &'static str,
    pub reason: String,
}

impl FormatError {
    pub fn new(format: &'static str, reason: impl Into<String>) -> Self {
        Self {
            format,
            reason: reason.into(),
        }
    }
}

/// Reads text into an event that already holds the receive time (and, for body parsers,
/// the syslog header's fields).
pub type ParseFn = fn(&str, &mut Event, &Context<'_>) -> Result<(), FormatError>;

/// A parser of whole records.
#[derive(Debug)]
pub struct RecordParser {
    /// Format name, as inputs declare it and counters name it (`nginx.access`).
    pub name: &'static str,
    /// Whether a record looks like this format (cheap; used by `auto`).
    pub detect: fn(&str) -> bool,
    pub parse: ParseFn,
}

impl PartialEq for RecordParser {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for RecordParser {}

/// A parser of syslog message bodies.
#[derive(Debug)]
pub struct BodyParser {
    /// Format name for counters (`sshd`, `iptables`).
    pub name: &'static str,
    /// Whether it reads this message, from the syslog app name and the message.
    pub applies: fn(Option<&str>, &str) -> bool,
    pub parse: ParseFn,
}

/// Record parsers, asked in this order by `auto`.
pub static RECORD_PARSERS: &[RecordParser] = &[
    // Windows event logs (windows.rs), by their shippers' JSON shapes; before any generic
    // JSON parser, since they are JSON objects too. The evtx crate's rendering contains
    // `EventID` and `Channel` as well, so it is asked before NXLog.
    RecordParser {
        name: windows::WINLOGBEAT,
        detect: windows::detect_winlogbeat,
        parse: windows::parse_winlogbeat,
    },
    RecordParser {
        name: windows::EVTX_JSON,
        detect: windows::detect_evtx_json,
        parse: windows::parse_evtx_json,
    },
    RecordParser {
        name: windows::NXLOG,
        detect: windows::detect_nxlog,
        parse: windows::parse_nxlog,
    },
    // Web servers (web.rs): error logs and JSON access lines by their own shapes, then
    // common/combined access lines, which `auto` cannot attribute to a server.
    // Network security monitors (nsm.rs): EVE and Zeek JSON by their keys, Zeek TSV by
    // its default column layouts.
    RecordParser {
        name: nsm::SURICATA_EVE,
        detect: nsm::detect_eve,
        parse: nsm::parse_eve_record,
    },
    RecordParser {
        name: nsm::ZEEK_JSON,
        detect: nsm::detect_zeek_json,
        parse: nsm::parse_zeek_json,
    },
    RecordParser {
        name: nsm::ZEEK_TSV,
        detect: nsm::detect_zeek_tsv,
        parse: nsm::parse_zeek_tsv,
    },
    // FortiGate lines without a syslog header (network.rs).
    RecordParser {
        name: network::FORTIGATE,
        detect: network::detect_fortigate,
        parse: network::parse_fortigate_record,
    },
    RecordParser {
        name: "nginx.error",
        detect: web::detect_nginx_error,
        parse: web::parse_nginx_error,
    },
    RecordParser {
        name: "apache.error",
        detect: web::detect_apache_error,
        parse: web::parse_apache_error,
    },
    RecordParser {
        name: web::NGINX_ACCESS_JSON,
        detect: web::detect_nginx_json,
        parse: web::parse_nginx_json,
    },
    RecordParser {
        name: "web.access",
        detect: web::detect_access,
        parse: web::parse_web_access,
    },
    RecordParser {
        name: "nginx.access",
        detect: web::never,
        parse: web::parse_nginx_access,
    },
    RecordParser {
        name: "apache.access",
        detect: web::never,
        parse: web::parse_apache_access,
    },
    // Linux audit, CEF and LEEF lines (auditd.rs, generic.rs): each by its fixed prefix.
    RecordParser {
        name: "auditd",
        detect: auditd::detect,
        parse: auditd::parse_record,
    },
    RecordParser {
        name: "cef",
        detect: generic::detect_cef,
        parse: generic::parse_cef_record,
    },
    RecordParser {
        name: "leef",
        detect: generic::detect_leef,
        parse: generic::parse_leef_record,
    },
    // Generic key=value (generic.rs): only when an input declares `kv`.
    RecordParser {
        name: "kv",
        detect: generic::detect_kv,
        parse: generic::parse_kv,
    },
    // Any JSON object (generic.rs). LAST: every more specific JSON parser goes above.
    RecordParser {
        name: "json",
        detect: generic::detect_json,
        parse: generic::parse_json,
    },
];

/// Body parsers, asked in this order.
pub static BODY_PARSERS: &[BodyParser] = &[
    // Linux authentication (linux_auth.rs), by program name alone: first, because a
    // program's name says more than any shape inside its message (an sshd line whose
    // attacker-chosen user name reads `%ASA-...` or `IN=` is still sshd's), and the test
    // is cheap. Generic PAM lines of other programs come last.
    BodyParser {
        name: "sshd",
        applies: linux_auth::is_sshd,
        parse: linux_auth::parse_sshd,
    },
    BodyParser {
        name: "sudo",
        applies: linux_auth::is_sudo,
        parse: linux_auth::parse_sudo,
    },
    BodyParser {
        name: "su",
        applies: linux_auth::is_su,
        parse: linux_auth::parse_su,
    },
    BodyParser {
        name: "shadow",
        applies: linux_auth::is_shadow_tool,
        parse: linux_auth::parse_shadow,
    },
    BodyParser {
        name: "systemd-logind",
        applies: linux_auth::is_logind,
        parse: linux_auth::parse_logind,
    },
    // Web servers logging through syslog (web.rs), by app name and line shape.
    // Network devices (network.rs): specific shapes, before any generic kernel parser.
    BodyParser {
        name: network::CISCO_ASA,
        applies: network::asa_applies,
        parse: network::parse_asa,
    },
    BodyParser {
        name: network::FILTERLOG,
        applies: network::filterlog_applies,
        parse: network::parse_filterlog,
    },
    BodyParser {
        name: network::FORTIGATE_SYSLOG,
        applies: network::fortigate_applies,
        parse: network::parse_fortigate_body,
    },
    BodyParser {
        name: nsm::SURICATA_SYSLOG,
        applies: nsm::eve_body_applies,
        parse: nsm::parse_eve_body,
    },
    BodyParser {
        name: network::IPTABLES,
        applies: network::iptables_applies,
        parse: network::parse_iptables,
    },
    BodyParser {
        name: "nginx",
        applies: web::nginx_body_applies,
        parse: web::parse_nginx_body,
    },
    BodyParser {
        name: "apache",
        applies: web::apache_body_applies,
        parse: web::parse_apache_body,
    },
    // Audit records relayed by audisp or logged by the kernel (auditd.rs), and CEF/LEEF
    // records behind a syslog header (generic.rs): by message shape.
    BodyParser {
        name: "auditd.syslog",
        applies: auditd::applies,
        parse: auditd::parse_body,
    },
    BodyParser {
        name: "cef.syslog",
        applies: generic::cef_applies,
        parse: generic::parse_cef_body,
    },
    BodyParser {
        name: "leef.syslog",
        applies: generic::leef_applies,
        parse: generic::parse_leef_body,
    },
    BodyParser {
        name: "pam",
        applies: linux_auth::is_pam,
        parse: linux_auth::parse_pam,
    },
];

/// The record parser with this name.
pub fn record_parser(name: &str) -> Option<&'static RecordParser> {
    RECORD_PARSERS.iter().find(|p| p.name == name)
}

/// Every record format name.
pub fn record_names() -> Vec<&'static str> {
    RECORD_PARSERS.iter().map(|p| p.name).collect()
}

/// What the parsers' unit tests share.
#[cfg(test)]
pub(crate) mod testing {
    use gac_event::{Event, Timestamp};

    use super::{Context, ParseFn};
    use crate::time::TimePolicy;

    /// Runs one parser on a line received 2025-07-01T03:00Z in Hanoi; panics if it fails.
    pub(crate) fn run(f: ParseFn, line: &str) -> Event {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let received: Timestamp = "2025-07-01T03:00:00Z".parse().expect("a valid time");
        let ctx = Context {
            received,
            policy: &policy,
            app: None,
        };
        let mut e = Event::new(received, received, line);
        f(line, &mut e, &ctx).expect("the parser reads the line");
        e
    }

    /// A string field of the event.
    pub(crate) fn s<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
        e.get_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = RECORD_PARSERS
            .iter()
            .map(|p| p.name)
            .chain(BODY_PARSERS.iter().map(|p| p.name))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "two parsers share a name");
    }
}
