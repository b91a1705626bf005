//! The inputs: each reads one kind of origin, frames it into lines, numbers them per
//! source and appends them to the spool as blocks.
//!
//! - [`file`]: log files by glob, across rotation (rename and copytruncate), truncation
//!   and deletion; multiline joining.
//! - [`journald`]: the systemd journal through `journalctl -o json`, with its cursor.
//! - [`relay`]: syslog over UDP and TCP from the site's network devices.
//!
//! Sequence numbers are given when a block is taken by the spool, never before, so a
//! source's numbers reach the spool in order even when the spool was full for a while.

pub mod file;
pub mod journald;
pub mod relay;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::metrics::{Counter, Metrics};
use crate::spool::{Block, BlockBody, LineBuf, Resume, Spool, SpoolError, now_ns};

/// What the inputs share: the spool, the counters and the stop flag.
#[derive(Debug, Clone)]
pub struct Sink {
    spool: Arc<Mutex<Spool>>,
    /// The agent's counters.
    pub metrics: Arc<Metrics>,
    /// Set on SIGTERM; inputs finish what they hold and return.
    pub shutdown: Arc<AtomicBool>,
}

impl Sink {
    /// A sink over a spool.
    pub fn new(spool: Arc<Mutex<Spool>>, metrics: Arc<Metrics>, shutdown: Arc<AtomicBool>) -> Self {
        Self {
            spool,
            metrics,
            shutdown,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Spool> {
        // A panic while holding the lock leaves the spool's memory state as it was at
        // the last completed call; carrying on is safer than losing every input.
        self.spool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether about `bytes` more would be taken now.
    pub fn has_room(&self, bytes: usize) -> bool {
        self.lock().has_room(bytes)
    }

    /// Whether the agent is stopping.
    pub fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// Numbers `lines` from the source's next sequence number and appends them. On
    /// [`SpoolError::Full`] nothing is numbered and the caller keeps the lines.
    pub fn append_lines(
        &self,
        seqs: &mut Seqs,
        source: &str,
        lines: LineBuf,
        resume: Resume,
    ) -> Result<(), (SpoolError, LineBuf)> {
        let first = seqs.peek(source);
        let n = lines.len() as u64;
        let block = Block {
            source: source.to_owned(),
            time_ns: now_ns(),
            first_seq: first,
            body: BlockBody::Lines(lines),
            resume,
        };
        match self.lock().append(&block) {
            Ok(()) => {
                seqs.take(source, n);
                Ok(())
            }
            Err(e) => {
                let lines = match block.body {
                    BlockBody::Lines(l) => l,
                    // Built as lines above; nothing else can come back.
                    BlockBody::Loss { .. } => LineBuf::default(),
                };
                Err((e, lines))
            }
        }
    }

    /// Records a loss of one sequence number (always taken by the spool).
    pub fn append_loss(&self, seqs: &mut Seqs, source: &str, reason: &str, detail: String) {
        let seq = seqs.peek(source);
        let block = Block::loss(source, seq, seq, reason, detail);
        match self.lock().append(&block) {
            Ok(()) => seqs.take(source, 1),
            Err(e) => tracing::error!(%source, error = %e, "could not spool a loss event"),
        }
    }

    /// Waits until about `bytes` fit in the spool or the agent stops; false if stopping.
    pub fn wait_for_room(&self, bytes: usize) -> bool {
        let mut counted = false;
        while !self.has_room(bytes) {
            if self.stopping() {
                return false;
            }
            if !counted {
                self.metrics.inc(Counter::SpoolFullPauses);
                counted = true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        true
    }
}

/// Next sequence number per source, for the sources of one input.
#[derive(Debug, Default, Clone)]
pub struct Seqs {
    next: HashMap<String, u64>,
    /// The last number given per source before this run (checkpoint and spool).
    start: BTreeMap<String, u64>,
}

impl Seqs {
    /// Numbering that continues after the last numbers given before this run.
    pub fn new(last: BTreeMap<String, u64>) -> Self {
        Self {
            next: HashMap::new(),
            start: last,
        }
    }

    /// The number the next record of `source` gets (from 1).
    pub fn peek(&mut self, source: &str) -> u64 {
        if let Some(n) = self.next.get(source) {
            return *n;
        }
        let n = self.start.get(source).map_or(1, |l| l + 1);
        self.next.insert(source.to_owned(), n);
        n
    }

    /// Uses `n` numbers of `source`.
    pub fn take(&mut self, source: &str, n: u64) {
        let first = self.peek(source);
        self.next.insert(source.to_owned(), first + n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_starts_at_one_or_continues() {
        let mut s = Seqs::new(BTreeMap::from([("a".to_owned(), 41)]));
        assert_eq!(s.peek("a"), 42);
        assert_eq!(s.peek("b"), 1);
        s.take("b", 3);
        assert_eq!(s.peek("b"), 4);
    }
}
