//! Named counters for everything received, parsed, dropped and indexed. Names are the
//! constants below (per-input counters append `.<input name>`); the API's `/stats` and
//! the logs show them. Each counter is registered once and then bumped lock-free.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Records received by an input (per input).
pub const SYSLOG_RECEIVED: &str = "syslog.received";
/// Messages cut at `max_message_bytes` (per input).
pub const SYSLOG_TRUNCATED: &str = "syslog.truncated";
/// TCP connections accepted (per input).
pub const SYSLOG_CONNECTIONS: &str = "syslog.connections";
/// TCP connections closed on arrival because `max_connections` were open (per input).
pub const SYSLOG_CONNECTIONS_REFUSED: &str = "syslog.connections_refused";
/// TCP connections closed because their framing could not be read (per input).
pub const SYSLOG_FRAMING_ERRORS: &str = "syslog.framing_errors";
/// Socket read errors that ended a connection or a datagram (per input).
pub const SYSLOG_READ_ERRORS: &str = "syslog.read_errors";
/// Records appended to the write-ahead log.
pub const WAL_APPENDED: &str = "wal.appended";
/// Bytes appended to the write-ahead log.
pub const WAL_BYTES: &str = "wal.bytes";
/// fsync calls on the write-ahead log.
pub const WAL_SYNCS: &str = "wal.syncs";
/// Damaged records found when reading the log back (the rest of that segment is skipped).
pub const WAL_CORRUPT: &str = "wal.corrupt";
/// Records whose syslog header was read as RFC 5424.
pub const PARSED_RFC5424: &str = "parse.rfc5424";
/// Records whose syslog header was read as RFC 3164.
pub const PARSED_RFC3164: &str = "parse.rfc3164";
/// Records no parser understood: stored raw, tagged `gac.unparsed`.
pub const PARSE_UNPARSED: &str = "parse.unparsed";
/// Records with a damaged header whose message was kept, tagged `gac.malformed_header`.
pub const PARSE_MALFORMED_HEADER: &str = "parse.malformed_header";
/// Records read as a format: `parse.format.<format>.<input>` (`syslog` when only the
/// header was read, `unparsed` when nothing was).
pub const PARSE_FORMAT: &str = "parse.format";
/// Records a format parser claimed but could not read (kept, tagged):
/// `parse.failed.<format>.<input>`.
pub const PARSE_FAILED: &str = "parse.failed";
/// Events handed to the index.
pub const INDEX_ADDED: &str = "index.added";
/// Events skipped on replay because the index already held them.
pub const INDEX_REPLAY_SKIPPED: &str = "index.replay_skipped";
/// Events the index refused (each is logged).
pub const INDEX_ERRORS: &str = "index.errors";
/// Index commits.
pub const INDEX_COMMITS: &str = "index.commits";
/// Day indexes deleted by retention.
pub const RETENTION_DAYS_DELETED: &str = "retention.days_deleted";
/// API requests refused for a missing or wrong token.
pub const API_UNAUTHORIZED: &str = "api.unauthorized";

/// One counter. Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Counter(Arc<AtomicU64>);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Every counter of the process, by name.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    counters: Arc<Mutex<BTreeMap<String, Counter>>>,
}

impl Metrics {
    /// The counter with this name, created at zero the first time.
    pub fn counter(&self, name: &str) -> Counter {
        let mut map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(name.to_owned()).or_default().clone()
    }

    /// The per-input counter `<name>.<input>`.
    pub fn input_counter(&self, name: &str, input: &str) -> Counter {
        self.counter(&format!("{name}.{input}"))
    }

    /// Every counter's current value.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        let map = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        map.iter().map(|(k, c)| (k.clone(), c.get())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_shared_by_name() {
        let m = Metrics::default();
        let a = m.input_counter(SYSLOG_RECEIVED, "udp");
        let b = m.input_counter(SYSLOG_RECEIVED, "udp");
        a.inc();
        b.add(2);
        assert_eq!(m.snapshot()["syslog.received.udp"], 3);
    }
}
