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
/// Events evaluated against the detection rules.
pub const DETECT_EVALUATED: &str = "detect.evaluated";
/// Alerts raised by single-event rules.
pub const DETECT_ALERTS: &str = "detect.alerts";
/// Alerts raised by correlation rules.
pub const DETECT_CORRELATION_ALERTS: &str = "detect.correlation_alerts";
/// Alerts not stored because the same rule and key alerted within the window.
pub const DETECT_SUPPRESSED: &str = "detect.suppressed";
/// Correlation groups dropped at `correlation_max_groups`: a window cut short.
pub const DETECT_EVICTED_GROUPS: &str = "detect.correlation_evicted_groups";
/// Correlation window entries dropped at the per-group bound.
pub const DETECT_EVICTED_ENTRIES: &str = "detect.correlation_evicted_entries";
/// Rule matches no correlation group took, for want of a group-by field.
pub const DETECT_MISSING_GROUP_FIELDS: &str = "detect.correlation_missing_group_fields";
/// Rules and correlations loaded at start.
pub const DETECT_RULES_LOADED: &str = "detect.rules_loaded";
/// Rule documents refused at start (each logged with its reason).
pub const DETECT_RULES_REFUSED: &str = "detect.rules_refused";
/// Day indexes deleted by retention.
pub const RETENTION_DAYS_DELETED: &str = "retention.days_deleted";
/// API requests refused for a missing or wrong token.
pub const API_UNAUTHORIZED: &str = "api.unauthorized";
/// Addresses whose GeoIP answer came from the per-IP cache.
pub const GEOIP_CACHE_HITS: &str = "geoip.cache_hits";
/// Addresses looked up in the GeoIP databases (not in the cache).
pub const GEOIP_CACHE_MISSES: &str = "geoip.cache_misses";
/// Addresses not looked up because they are private, loopback, link-local, multicast,
/// documentation or otherwise reserved.
pub const GEOIP_SKIPPED_RESERVED: &str = "geoip.skipped_reserved";
/// Public addresses neither GeoIP database knows (an enrichment miss).
pub const GEOIP_NOT_FOUND: &str = "geoip.not_found";
/// Lookups a GeoIP database failed to answer (a damaged record); logged at a bounded rate.
pub const GEOIP_LOOKUP_ERRORS: &str = "geoip.lookup_errors";
/// GeoIP databases reopened because their file changed.
pub const GEOIP_RELOADS: &str = "geoip.reloads";
/// Changed GeoIP files that could not be opened; the previous database stays in use.
pub const GEOIP_RELOAD_ERRORS: &str = "geoip.reload_errors";
/// Times a GeoIP database was found older than `geoip_stale_after_days` (at start, on
/// reload, or when it aged past the limit while in use).
pub const GEOIP_STALE: &str = "geoip.stale";
/// Gauge: build time of the city database in use, seconds since the Unix epoch.
pub const GEOIP_CITY_BUILD_EPOCH: &str = "geoip.city.build_epoch";
/// Gauge: build time of the ASN database in use, seconds since the Unix epoch.
pub const GEOIP_ASN_BUILD_EPOCH: &str = "geoip.asn.build_epoch";
/// Gauge: 1 while the city database in use is stale, else 0.
pub const GEOIP_CITY_IS_STALE: &str = "geoip.city.is_stale";
/// Gauge: 1 while the ASN database in use is stale, else 0.
pub const GEOIP_ASN_IS_STALE: &str = "geoip.asn.is_stale";
/// Address fields (`source.ip`, ...) whose value is not an IP address; not enriched.
pub const ENRICH_INVALID_IP: &str = "enrich.invalid_ip";
/// Events the asset inventory placed in an information system.
pub const ASSETS_MATCHED: &str = "assets.matched";
/// Events no information system of the inventory claims (no `labels.system`).
pub const ASSETS_UNMATCHED: &str = "assets.unmatched";
/// Asset inventories reloaded because their file changed.
pub const ASSETS_RELOADS: &str = "assets.reloads";
/// Changed inventories that could not be read; the previous one stays in use.
pub const ASSETS_RELOAD_ERRORS: &str = "assets.reload_errors";
/// Agents enrolled (a re-enrollment counts again).
pub const AGENT_ENROLLED: &str = "agent.enrolled";
/// Enrollments refused: bad request, bad/expired/used token, revoked machine.
pub const AGENT_ENROLL_REFUSED: &str = "agent.enroll_refused";
/// Agent batches written to the log and acknowledged.
pub const AGENT_BATCHES: &str = "agent.batches";
/// Records in acknowledged agent batches (lines and loss records).
pub const AGENT_RECORDS: &str = "agent.records";
/// Loss records in acknowledged batches: the agent reported records it could not keep.
pub const AGENT_LOSS_RECORDS: &str = "agent.loss_records";
/// Agent batches refused because they could not be decoded (400).
pub const AGENT_DECODE_ERRORS: &str = "agent.decode_errors";
/// Agent requests refused: no client certificate, revoked or unknown agent, or a batch
/// naming another agent.
pub const AGENT_REFUSED: &str = "agent.refused";
/// Agent batches answered 429 for the per-agent rate limit.
pub const AGENT_RATE_LIMITED: &str = "agent.rate_limited";
/// Agent batches answered 429 because the log's queue stayed full.
pub const AGENT_QUEUE_FULL: &str = "agent.queue_full";
/// Agent heartbeats recorded.
pub const AGENT_HEARTBEATS: &str = "agent.heartbeats";
/// Agent connections whose TLS handshake failed or timed out.
pub const AGENT_TLS_ERRORS: &str = "agent.tls_errors";
/// Agent connections accepted.
pub const AGENT_CONNECTIONS: &str = "agent.connections";
/// Agent connections closed on arrival because too many were open.
pub const AGENT_CONNECTIONS_REFUSED: &str = "agent.connections_refused";
/// Agent records the indexer dropped as already seen (same agent, source, sequence).
pub const AGENT_DUPLICATES: &str = "agent.duplicates";

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

    /// Sets the value: for the few gauges (a database's build time, a 0/1 flag).
    pub fn set(&self, n: u64) {
        self.0.store(n, Ordering::Relaxed);
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
