//! The agent's counters: every record read, dropped, cut, spooled and shipped is
//! counted here under a fixed name, and heartbeats carry the error counts to the server.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($variant:ident => $name:literal, $error:literal;)*) => {
        /// A named counter.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Counter { $($variant,)* }

        impl Counter {
            /// Every counter, in declaration order.
            pub const ALL: &'static [Counter] = &[$(Counter::$variant,)*];

            /// The counter's name in heartbeats and logs.
            pub fn name(self) -> &'static str {
                match self { $(Counter::$variant => $name,)* }
            }

            /// Whether it counts a failure or a drop (sent in heartbeats as `errors`).
            pub fn is_error(self) -> bool {
                match self { $(Counter::$variant => $error,)* }
            }
        }
    };
}

counters! {
    FileLines => "file.lines", false;
    FileBytes => "file.bytes", false;
    FileLinesCut => "file.lines_cut", true;
    FileRotations => "file.rotations", false;
    FileTruncations => "file.truncations", false;
    FileCopiesFollowed => "file.copies_followed", false;
    FileLoss => "file.loss_events", true;
    FileOpenErrors => "file.open_errors", true;
    FileReadErrors => "file.read_errors", true;
    FileTooManyOpen => "file.too_many_open", true;
    MultilineCut => "multiline.cut", true;
    MultilineTimeouts => "multiline.timeouts", false;
    JournaldEntries => "journald.entries", false;
    JournaldCut => "journald.entries_cut", true;
    JournaldBadLines => "journald.bad_lines", true;
    JournaldRestarts => "journald.restarts", true;
    JournaldLoss => "journald.loss_events", true;
    RelayReceived => "relay.received", false;
    RelayFramesCut => "relay.frames_cut", true;
    RelayFramingErrors => "relay.framing_errors", true;
    RelayConnectionsRefused => "relay.connections_refused", true;
    RelayDroppedSpoolFull => "relay.dropped_spool_full", true;
    RelayKernelDrops => "relay.kernel_drops", true;
    RelayLoss => "relay.loss_events", true;
    SpoolAppended => "spool.records_appended", false;
    SpoolFullPauses => "spool.full_pauses", true;
    SpoolDamaged => "spool.damaged", true;
    SpoolTornTailBytes => "spool.torn_tail_bytes", true;
    SpoolWriteErrors => "spool.write_errors", true;
    ShipBatches => "ship.batches_acked", false;
    ShipRecords => "ship.records_acked", false;
    ShipBytes => "ship.bytes_sent", false;
    ShipRetryLater => "ship.retry_later", true;
    ShipNetworkErrors => "ship.network_errors", true;
    ShipServerErrors => "ship.server_errors", true;
    ShipRejected => "ship.rejected", true;
    ShipDeadLettered => "ship.dead_lettered", true;
    ShipRevoked => "ship.revoked", true;
    CheckpointErrors => "checkpoint.write_errors", true;
    HeartbeatErrors => "heartbeat.errors", true;
}

/// The counters of one agent process.
#[derive(Debug)]
pub struct Metrics {
    values: Vec<AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            values: Counter::ALL.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(&self, c: Counter, n: u64) {
        self.values[c as usize].fetch_add(n, Ordering::Relaxed);
    }

    /// Adds one to a counter.
    pub fn inc(&self, c: Counter) {
        self.add(c, 1);
    }

    /// A counter's value.
    pub fn get(&self, c: Counter) -> u64 {
        self.values[c as usize].load(Ordering::Relaxed)
    }

    /// The non-zero error counters, by name (the heartbeat's `errors`).
    pub fn errors(&self) -> BTreeMap<&'static str, u64> {
        Counter::ALL
            .iter()
            .filter(|c| c.is_error())
            .map(|c| (c.name(), self.get(*c)))
            .filter(|(_, v)| *v > 0)
            .collect()
    }

    /// Every counter, by name (logged at shutdown).
    pub fn all(&self) -> BTreeMap<&'static str, u64> {
        Counter::ALL
            .iter()
            .map(|c| (c.name(), self.get(*c)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_errors_filtered() {
        let names: std::collections::HashSet<_> = Counter::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Counter::ALL.len());
        let m = Metrics::default();
        m.inc(Counter::FileLines);
        m.add(Counter::ShipRetryLater, 3);
        assert_eq!(
            m.errors().into_iter().collect::<Vec<_>>(),
            vec![("ship.retry_later", 3)]
        );
        assert_eq!(m.all()["file.lines"], 1);
    }
}
