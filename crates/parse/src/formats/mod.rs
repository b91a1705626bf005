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

use gac_event::{Event, Timestamp};

use crate::time::TimePolicy;

/// What every parser gets besides the text.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// When the server received the record.
    pub received: Timestamp,
    /// The input's rules for times without a year or zone.
    pub policy: &'a TimePolicy,
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
pub static RECORD_PARSERS: &[RecordParser] = &[];

/// Body parsers, asked in this order.
pub static BODY_PARSERS: &[BodyParser] = &[];

/// The record parser with this name.
pub fn record_parser(name: &str) -> Option<&'static RecordParser> {
    RECORD_PARSERS.iter().find(|p| p.name == name)
}

/// Every record format name.
pub fn record_names() -> Vec<&'static str> {
    RECORD_PARSERS.iter().map(|p| p.name).collect()
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
