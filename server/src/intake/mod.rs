//! Intake: network listeners that turn bytes into [`RawRecord`]s and hand them to the
//! write-ahead log writer. They only frame; parsing happens after the log.
//!
//! - [`framing`]: RFC 6587 framing for TCP streams.
//! - [`udp`], [`tcp`]: the listeners (one file per protocol).

pub mod framing;
pub mod tcp;
pub mod udp;

use gac_event::Timestamp;
use tokio::sync::{mpsc, oneshot};

use crate::metrics::{self, Counter, Metrics};
use crate::wal::RawRecord;

/// What intake hands the write-ahead log writer.
#[derive(Debug)]
pub enum ToWal {
    /// A record no one waits for (syslog has no acknowledgement).
    Record(RawRecord),
    /// Records whose sender waits until they are on disk (agent batches): the writer
    /// answers with the durable end after the sync that covers them.
    Batch(Vec<RawRecord>, oneshot::Sender<u64>),
}

/// Where listeners send records: the write-ahead log writer's queue.
pub type RecordSender = mpsc::Sender<ToWal>;

/// The counters one listener bumps.
#[derive(Debug, Clone)]
pub struct InputCounters {
    pub received: Counter,
    pub truncated: Counter,
    pub connections: Counter,
    pub connections_refused: Counter,
    pub framing_errors: Counter,
    pub read_errors: Counter,
}

impl InputCounters {
    pub fn new(m: &Metrics, input: &str) -> Self {
        Self {
            received: m.input_counter(metrics::SYSLOG_RECEIVED, input),
            truncated: m.input_counter(metrics::SYSLOG_TRUNCATED, input),
            connections: m.input_counter(metrics::SYSLOG_CONNECTIONS, input),
            connections_refused: m.input_counter(metrics::SYSLOG_CONNECTIONS_REFUSED, input),
            framing_errors: m.input_counter(metrics::SYSLOG_FRAMING_ERRORS, input),
            read_errors: m.input_counter(metrics::SYSLOG_READ_ERRORS, input),
        }
    }
}

/// A record as the listener saw it, stamped with the receive time.
fn record(input: &str, peer: std::net::IpAddr, data: Vec<u8>, truncated: bool) -> RawRecord {
    RawRecord {
        received: Timestamp::now(),
        input: input.to_owned(),
        peer,
        truncated,
        data,
        origin: None,
    }
}
