//! Request and response bodies of the server's HTTP JSON API, shared by `gac-server` and
//! the `gac` console so that both sides agree by construction.
//!
//! Routes (all under `/api/v1`, bearer token required):
//! - `GET /search?q=&from=&to=&limit=&offset=` -> [`SearchResponse`]
//! - `GET /histogram?q=&from=&to=&interval_secs=` -> [`HistogramResponse`]
//! - `GET /top?q=&from=&to=&field=&size=` -> [`TopResponse`]
//! - `GET /stats` -> [`StatsResponse`]
//! - `GET /agents` -> [`AgentsResponse`]
//! - `GET /agents/{id}/completeness?from=&to=&source=` -> [`CompletenessResponse`]
//!
//! The agent endpoint (`/api/agent/v1`, mutual TLS, a port of its own) speaks
//! [`EnrollRequest`]/[`EnrollResponse`], [`RenewRequest`], [`Heartbeat`] and
//! [`BatchResponse`]; its batch
//! body is [`crate::wire`].
//!
//! Errors come back with a 4xx/5xx status and an [`ErrorBody`].

use serde::{Deserialize, Serialize};

use crate::{Event, Timestamp};

/// Most hits one search page returns.
pub const MAX_PAGE: usize = 10_000;

/// Which events: a query string and a time range `[from, to)`.
///
/// The query language is tantivy's: `field:value`, `"phrases"`, `AND`/`OR`/`NOT`,
/// `+must -must_not`, ranges `source.port:[1 TO 1024]`, and bare words searched in
/// `message`. An empty query matches everything in the range.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    #[serde(default)]
    pub q: String,
    /// Start of the range, inclusive. None: the beginning of what is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    /// End of the range, exclusive. None: now and later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
}

/// A page of a search, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchRequest {
    #[serde(flatten)]
    pub selection: Selection,
    #[serde(default = "default_limit")]
    pub limit: usize,
    #[serde(default)]
    pub offset: usize,
}

fn default_limit() -> usize {
    100
}

/// The hits of one page and how many match in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Every match in the range, not only this page.
    pub total: u64,
    pub hits: Vec<Event>,
}

/// Counts per time bucket for a selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramRequest {
    #[serde(flatten)]
    pub selection: Selection,
    /// Bucket width; None lets the server choose about 60 buckets over the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_secs: Option<u64>,
}

/// One bucket of a histogram: events with `start <= @timestamp < start + interval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub start: Timestamp,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistogramResponse {
    pub interval_secs: u64,
    /// Buckets with at least one event, oldest first.
    pub buckets: Vec<Bucket>,
}

/// The most frequent values of a field for a selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopRequest {
    #[serde(flatten)]
    pub selection: Selection,
    pub field: String,
    #[serde(default = "default_top_size")]
    pub size: usize,
}

fn default_top_size() -> usize {
    10
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopValue {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopResponse {
    pub field: String,
    /// Most frequent first.
    pub values: Vec<TopValue>,
    /// Matching events whose value is not among `values` (or that lack the field).
    pub other: u64,
}

/// Counters of the server's intake and pipeline, by name (see the server's `metrics`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsResponse {
    pub counters: std::collections::BTreeMap<String, u64>,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `POST /api/agent/v1/enroll`: an agent asks for its client certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollRequest {
    /// The one-time token from `gac-server token create --enroll`.
    pub token: String,
    /// The host's stable identity (`/etc/machine-id`); the agent id is derived from it,
    /// so a reinstall enrolls as the same agent.
    pub machine_id: String,
    pub hostname: String,
    /// A PKCS#10 certificate signing request for the agent's own key, PEM.
    pub csr_pem: String,
    /// The agent's version.
    pub version: String,
}

/// The answer to a successful enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub agent_id: String,
    /// The agent's client certificate, signed by the server's CA, PEM.
    pub cert_pem: String,
    /// The server's CA certificate, PEM: the agent pins it.
    pub ca_pem: String,
}

/// `POST /api/agent/v1/renew` (client certificate required): a fresh certificate for the
/// same agent id before the current one runs out; answered with an [`EnrollResponse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenewRequest {
    /// A CSR for the agent's (possibly new) key, PEM.
    pub csr_pem: String,
}

/// `POST /api/agent/v1/batch` answer: the records are durably written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResponse {
    pub accepted: u64,
}

/// `POST /api/agent/v1/heartbeat`: an agent's health. Absent fields read as zero/empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub hostname: String,
    /// Bytes waiting in the agent's spool.
    #[serde(default)]
    pub spool_bytes: u64,
    /// Records waiting in the agent's spool.
    #[serde(default)]
    pub spool_records: u64,
    /// Age of the oldest unacknowledged record, in seconds.
    #[serde(default)]
    pub lag_secs: f64,
    /// Error counts by kind since the agent started.
    #[serde(default)]
    pub errors: std::collections::BTreeMap<String, u64>,
    #[serde(default)]
    pub sources: Vec<HeartbeatSource>,
}

/// One source in a heartbeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeartbeatSource {
    pub source: String,
    /// The highest sequence number the agent has given a record of this source.
    pub last_seq: u64,
    /// The highest sequence number the server has acknowledged.
    pub last_acked_seq: u64,
}

/// What the server knows of one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentStatus {
    pub id: String,
    pub hostname: String,
    pub version: String,
    /// `ok`, `stale` (no contact for `heartbeat_stale_secs`), `never_seen` or `revoked`.
    pub status: String,
    pub enrolled_at: Timestamp,
    /// Last batch or heartbeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_contact: Option<Timestamp>,
    /// Address of the last contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_peer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
    /// When the latest heartbeat came, and what it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heartbeat: Option<Heartbeat>,
}

/// `GET /agents`: every enrolled agent, by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentsResponse {
    pub agents: Vec<AgentStatus>,
}

/// Sequence numbers `from_seq..=to_seq` of a source, and the times of the records either
/// side of them (unknown at the start of a source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeqRange {
    pub from_seq: u64,
    pub to_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Timestamp>,
    /// For a loss the agent reported: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Whether one source of an agent sent everything in a time range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceCompleteness {
    pub source: String,
    /// No missing or lost record touches the range, and nothing is still waiting on
    /// the agent for it.
    pub complete: bool,
    /// Highest sequence number received (or covered by a loss); 0 for none.
    pub last_seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_time: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_time: Option<Timestamp>,
    /// Records indexed from this source, and resent ones dropped.
    pub received: u64,
    pub duplicates: u64,
    /// Numbers never received, touching the range.
    pub missing: Vec<SeqRange>,
    pub missing_records: u64,
    /// Numbers the agent reported lost (file rotated away unread, relay overflow...).
    pub lost: Vec<SeqRange>,
    pub lost_records: u64,
    /// Records the agent has numbered but the server has not indexed yet (from its
    /// latest heartbeat); None without a heartbeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_records: Option<u64>,
    /// Before this time the record of gaps was cut short (a very broken source):
    /// completeness there is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_before: Option<Timestamp>,
}

/// `GET /agents/{id}/completeness`: did this agent send everything in `[from, to)`?
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletenessResponse {
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Timestamp>,
    /// Every source is complete.
    pub complete: bool,
    pub sources: Vec<SourceCompleteness>,
}
