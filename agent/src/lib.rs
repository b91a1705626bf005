//! `gac-agent`: collects logs on a host (files, the journal, syslog from the site's
//! network devices) and ships them to `gac-server` without losing a line.
//!
//! The flow, one way:
//!
//! ```text
//! inputs/file.rs ─┐  lines, numbered per source      spool.rs            ship.rs
//! inputs/journald ┼─► (multiline.rs joins) ─────────► bounded, crc'd ───► wire batch ══mTLS══► server
//! inputs/relay.rs ┘                                   segment files        │ 200 after WAL fsync
//!                                                                          ▼
//!                                                         spool ack + checkpoint.rs (atomic)
//! ```
//!
//! - [`config`]: the TOML file; [`enroll`] and [`tls`]: identity, the pinned CA, HTTP.
//! - [`inputs`]: one file per input; each frames bytes into lines and appends blocks.
//! - [`spool`]: the on-disk queue; when full, inputs stop reading instead of dropping.
//! - [`ship`]: batches, backoff, pacing, dead letters, heartbeats.
//! - [`checkpoint`]: what the server has acknowledged; [`metrics`]: every counter.
//! - [`agent`]: starts and stops all of it.

pub mod agent;
pub mod checkpoint;
pub mod config;
pub mod enroll;
pub mod inputs;
pub mod metrics;
pub mod multiline;
pub mod ship;
pub mod spool;
pub mod tls;
