//! `gac-server`: the central indexer. Records flow one way:
//!
//! [`intake`] (syslog UDP/TCP) and [`agents`] (mutual-TLS endpoint) → [`wal`] (append, fsync) → parse (`gac-parse`) →
//! [`enrich`] (GeoIP, asset context) → [`detect`] (Sigma rules, alerts as events) → [`index`] (tantivy, a day per index) →
//! read by [`api`].
//!
//! [`pipeline`] is the only module that connects stages. [`config`] is the TOML file,
//! [`auth`] the API tokens, [`metrics`] the named counters.

pub mod agents;
pub mod api;
pub mod auth;
pub mod config;
pub mod detect;
pub mod enrich;
pub mod index;
pub mod intake;
pub mod metrics;
pub mod pipeline;
pub mod tools;
pub mod wal;
