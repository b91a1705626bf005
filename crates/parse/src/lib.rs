//! `gac-parse`: turns raw log records into [`gac_event::Event`]s. Pure functions, no I/O;
//! it sits between the write-ahead log and enrichment in the server's pipeline.
//!
//! # Map
//!
//! - [`syslog`]: the syslog header stage. [`parse_syslog`] reads one record, RFC 5424 or
//!   RFC 3164 (detected per record), into ECS `log.syslog.*` fields and says what it
//!   managed as an [`Outcome`].
//! - [`TimePolicy`] (`time.rs`): how record times that lack a year or a zone become UTC
//!   instants. Built once per input from its configuration.
//!
//! - [`parse`] (`dispatch.rs`): the entry point the server calls. An input's [`Format`]
//!   (auto, syslog, or a record format by name) picks the parser; [`Parsed`] says what
//!   happened, for counters.
//! - [`formats`]: the per-format parsers, one file per source family, and their
//!   registries: record parsers (whole records) and body parsers (the syslog message
//!   part, chosen by app name or shape).
//!
//! # Outcome and counters
//!
//! [`parse_syslog`] returns `(Event, Outcome)` rather than a bare event: the caller bumps
//! one counter per record by matching on [`Outcome`], with no string comparison of tags.
//! The same facts are also on the event (`log.syslog.format` and the `gac.*` tags), so a
//! stored event explains itself without the counter.
//!
//! # Example
//!
//! ```
//! use gac_event::{Timestamp, field, tag};
//! use gac_parse::{Outcome, TimePolicy, parse_syslog};
//!
//! let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
//! let received: Timestamp = "2025-07-01T03:00:00Z".parse().expect("a valid RFC 3339 time");
//! let (event, outcome) =
//!     parse_syslog(b"Jun 30 10:00:01 web-01 sshd[42]: Accepted publickey", received, &policy);
//! assert_eq!(outcome, Outcome::Rfc3164);
//! assert_eq!(event.get_str(field::PROCESS_NAME), Some("sshd"));
//! assert_eq!(event.get_i64(field::PROCESS_PID), Some(42));
//! // No year and no zone in the record: 2025 was inferred, the input's zone applied.
//! assert_eq!(event.timestamp.to_string(), "2025-06-30T03:00:01Z");
//! assert!(event.has_tag(tag::YEAR_INFERRED) && event.has_tag(tag::ZONE_FROM_INPUT));
//! ```

mod dispatch;
pub mod formats;
pub mod syslog;
mod text;
mod time;

pub use dispatch::{BodyOutcome, Format, Parsed, UnknownFormat, parse};
pub use syslog::{Outcome, parse_syslog};
pub use time::TimePolicy;
