//! Request and response bodies of the server's HTTP JSON API, shared by `gac-server` and
//! the `gac` console so that both sides agree by construction.
//!
//! Routes (all under `/api/v1`, bearer token required):
//! - `GET /search?q=&from=&to=&limit=&offset=` -> [`SearchResponse`]
//! - `GET /histogram?q=&from=&to=&interval_secs=` -> [`HistogramResponse`]
//! - `GET /top?q=&from=&to=&field=&size=` -> [`TopResponse`]
//! - `GET /stats` -> [`StatsResponse`]
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
