//! Shipping: read blocks from the spool, encode them as a wire batch, POST them over
//! mutual TLS, and only on the server's 200 (sent after its WAL fsync) acknowledge them
//! in the spool and advance the checkpoint. Also the heartbeat.
//!
//! One batch is in flight at a time and is resent unchanged until the server takes it:
//! - 429/503 ("retry later") and network errors: back off exponentially with jitter,
//!   at least the server's `Retry-After`;
//! - 400 (the server cannot read it): retried `bad_batch_attempts` times, then written
//!   to `dead-letter/`, counted and sent as `dead_letter` loss events, so one bad batch
//!   cannot block the spool forever nor leave a silent hole;
//! - 401/403 (revoked): keep spooling, log an error, ask again after
//!   `revoked_retry_secs`.
//!
//! Sending is paced to `max_send_bytes_per_sec` so that catching up after an outage
//! does not flood a small site's link.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use gac_event::api::{Heartbeat, HeartbeatSource};
use gac_event::wire::{self, RecordKind};
use rand::{Rng, SeedableRng};

use crate::checkpoint::{Checkpoint, CheckpointStore};
use crate::config::ShipConfig;
use crate::inputs::file::LiveFiles;
use crate::metrics::{Counter, Metrics};
use crate::spool::{Block, BlockBody, Spool, SpoolPos, now_ns};
use crate::tls;

/// The batch endpoint.
pub const BATCH_PATH: &str = "/api/agent/v1/batch";
/// The heartbeat endpoint.
pub const HEARTBEAT_PATH: &str = "/api/agent/v1/heartbeat";

/// Exponential backoff with jitter: each wait is drawn from the upper half of a window
/// that doubles per failure up to a ceiling, so agents that failed together (a server
/// restart) do not come back together.
#[derive(Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A backoff from `initial` doubling up to `max`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial: initial.max(Duration::from_millis(1)),
            max: max.max(initial),
            failures: 0,
        }
    }

    /// The wait after one more failure; never below the server's hint.
    pub fn next(&mut self, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let window = self
            .initial
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let ms = window.as_millis() as u64;
        let jittered = Duration::from_millis(rng.random_range(ms / 2..=ms.max(1)));
        match retry_after {
            // The hint is a floor; a little jitter above it still spreads agents out.
            Some(hint) => {
                hint.max(jittered)
                    + Duration::from_millis(rng.random_range(0..=hint.as_millis() as u64 / 5 + 50))
            }
            None => jittered,
        }
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A token bucket over sent bytes; one second's worth of burst.
#[derive(Debug)]
pub struct Pacer {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Pacer {
    /// A pacer for `bytes_per_sec` (0: no limit).
    pub fn new(bytes_per_sec: u64, now: Instant) -> Self {
        Self {
            rate: bytes_per_sec as f64,
            tokens: bytes_per_sec as f64,
            last: now,
        }
    }

    /// How long to wait before sending `bytes` now; the bytes are then counted as sent.
    pub fn delay(&mut self, bytes: usize, now: Instant) -> Duration {
        if self.rate <= 0.0 {
            return Duration::ZERO;
        }
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        self.tokens -= bytes as f64;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// What one encoded batch stands for.
#[derive(Debug)]
struct Encoded {
    bytes: Bytes,
    end: SpoolPos,
    records: u64,
    /// The blocks without their lines, to advance the checkpoint on acknowledgement.
    marks: Vec<Block>,
    /// First and last sequence number per source (what a dead letter loses).
    ranges: BTreeMap<String, (u64, u64)>,
}

/// Encodes spool blocks as one wire batch.
fn encode(agent_id: &str, blocks: Vec<Block>, end: SpoolPos, level: i32) -> Encoded {
    let mut enc = wire::Encoder::new(agent_id);
    let mut marks = Vec::with_capacity(blocks.len());
    let mut ranges: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for b in blocks {
        if b.records() > 0 {
            let r = ranges
                .entry(b.source.clone())
                .or_insert((b.first_seq, b.last_seq()));
            r.0 = r.0.min(b.first_seq);
            r.1 = r.1.max(b.last_seq());
        }
        match &b.body {
            BlockBody::Lines(lines) => {
                for (k, line) in lines.iter().enumerate() {
                    enc.push(
                        &b.source,
                        b.first_seq + k as u64,
                        b.time_ns,
                        &RecordKind::Line,
                        line,
                    );
                }
            }
            BlockBody::Loss {
                to_seq,
                reason,
                detail,
            } => {
                let kind = RecordKind::Loss {
                    from_seq: b.first_seq,
                    to_seq: *to_seq,
                    reason: reason.clone(),
                };
                enc.push(&b.source, b.first_seq, b.time_ns, &kind, detail.as_bytes());
            }
        }
        // A mark is an empty block ending at the block's last number: what the
        // checkpoint needs, without the lines.
        marks.push(Block {
            first_seq: b.last_seq() + 1,
            source: b.source,
            time_ns: b.time_ns,
            body: BlockBody::Lines(Default::default()),
            resume: b.resume,
        });
    }
    let records = enc.len() as u64;
    let bytes = if records == 0 {
        Bytes::new()
    } else {
        Bytes::from(enc.finish(level))
    };
    Encoded {
        bytes,
        end,
        records,
        marks,
        ranges,
    }
}

/// State the heartbeat reads.
#[derive(Debug, Default)]
pub struct ShipStatus {
    /// Last acknowledged sequence number per source.
    pub acked: BTreeMap<String, u64>,
}

/// The sender of batches.
#[derive(Debug)]
pub struct Shipper {
    cfg: ShipConfig,
    agent_id: String,
    spool: Arc<Mutex<Spool>>,
    store: CheckpointStore,
    checkpoint: Checkpoint,
    last_store: Option<Instant>,
    dirty: bool,
    recent_files: HashSet<String>,
    live: Arc<Mutex<LiveFiles>>,
    client: tls::Client,
    metrics: Arc<Metrics>,
    dead_letter_dir: PathBuf,
    status: Arc<Mutex<ShipStatus>>,
}

/// How a send attempt ended.
enum Outcome {
    Acked,
    GaveUp,
    Stopped,
}

impl Shipper {
    /// A shipper over the spool, continuing from `checkpoint`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cfg: &ShipConfig,
        agent_id: String,
        spool: Arc<Mutex<Spool>>,
        store: CheckpointStore,
        checkpoint: Checkpoint,
        live: Arc<Mutex<LiveFiles>>,
        client: tls::Client,
        metrics: Arc<Metrics>,
        dead_letter_dir: PathBuf,
        status: Arc<Mutex<ShipStatus>>,
    ) -> Self {
        if let Ok(mut s) = status.lock() {
            s.acked = checkpoint.sources.clone();
        }
        Self {
            cfg: cfg.clone(),
            agent_id,
            spool,
            store,
            checkpoint,
            last_store: None,
            dirty: false,
            recent_files: HashSet::new(),
            live,
            client,
            metrics,
            dead_letter_dir,
            status,
        }
    }

    fn spool(&self) -> std::sync::MutexGuard<'_, Spool> {
        self.spool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Ships until `stop` is raised and then for at most `shutdown_flush_secs` more
    /// (while there is something to send), then writes the checkpoint.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        // A seeded, Send generator: jitter needs spread, not secrecy.
        let mut rng = rand::rngs::StdRng::from_rng(&mut rand::rng());
        let mut backoff = Backoff::new(
            Duration::from_millis(self.cfg.retry_initial_ms),
            Duration::from_millis(self.cfg.retry_max_ms),
        );
        let mut pacer = Pacer::new(self.cfg.max_send_bytes_per_sec, Instant::now());
        let mut deadline: Option<Instant> = None;
        loop {
            if deadline.is_none() && *stop.borrow() {
                deadline = Some(Instant::now() + Duration::from_secs(self.cfg.shutdown_flush_secs));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let (max_bytes, max_records) = (self.cfg.batch_max_bytes, self.cfg.batch_max_records);
            let spool = self.spool.clone();
            let read = tokio::task::spawn_blocking(move || {
                let mut s = spool.lock().unwrap_or_else(|p| p.into_inner());
                s.read_batch(max_bytes, max_records)
            })
            .await;
            let batch = match read {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "spool read failed");
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "spool read task failed");
                    None
                }
            };
            let Some(batch) = batch else {
                if deadline.is_some() {
                    break;
                }
                self.maybe_store(false);
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(self.cfg.batch_linger_ms.max(10))) => {}
                }
                continue;
            };
            let (agent, level) = (self.agent_id.clone(), self.cfg.compression_level);
            let encoded = match tokio::task::spawn_blocking(move || {
                encode(&agent, batch.blocks, batch.end, level)
            })
            .await
            {
                Ok(e) => e,
                Err(e) => {
                    tracing::error!(error = %e, "encoding task failed");
                    self.spool().rewind();
                    continue;
                }
            };
            if encoded.records == 0 {
                // Only position marks: nothing for the server, acknowledge locally.
                self.acknowledge(encoded);
                continue;
            }
            match self
                .send(
                    &encoded,
                    &mut backoff,
                    &mut pacer,
                    &mut rng,
                    &mut stop,
                    &mut deadline,
                )
                .await
            {
                Outcome::Acked => self.acknowledge(encoded),
                Outcome::GaveUp => {
                    self.dead_letter(&encoded);
                    self.acknowledge(encoded);
                }
                Outcome::Stopped => {
                    self.spool().rewind();
                    break;
                }
            }
        }
        self.maybe_store(true);
        tracing::info!("shipper stopped");
    }

    /// Sends one batch until the server takes it, it is given up, or time runs out.
    async fn send(
        &mut self,
        e: &Encoded,
        backoff: &mut Backoff,
        pacer: &mut Pacer,
        rng: &mut impl Rng,
        stop: &mut tokio::sync::watch::Receiver<bool>,
        deadline: &mut Option<Instant>,
    ) -> Outcome {
        let mut bad_attempts = 0u32;
        loop {
            let pause = pacer.delay(e.bytes.len(), Instant::now());
            if !pause.is_zero() && !self.sleep(pause, stop, deadline).await {
                return Outcome::Stopped;
            }
            let post = self
                .client
                .post(BATCH_PATH, wire::CONTENT_TYPE, e.bytes.clone());
            let result = match *deadline {
                Some(d) => match tokio::time::timeout_at(d.into(), post).await {
                    Ok(r) => r,
                    Err(_) => return Outcome::Stopped,
                },
                None => post.await,
            };
            let wait = match result {
                Ok(r) if r.status == 200 => {
                    backoff.reset();
                    self.metrics.inc(Counter::ShipBatches);
                    self.metrics.add(Counter::ShipRecords, e.records);
                    self.metrics.add(Counter::ShipBytes, e.bytes.len() as u64);
                    return Outcome::Acked;
                }
                Ok(r) if r.status == 429 || r.status == 503 => {
                    self.metrics.inc(Counter::ShipRetryLater);
                    tracing::debug!(status = r.status, retry_after = ?r.retry_after_secs, "server asks to retry later");
                    backoff.next(r.retry_after_secs.map(Duration::from_secs), rng)
                }
                Ok(r) if r.status == 400 || r.status == 413 => {
                    self.metrics.inc(Counter::ShipRejected);
                    bad_attempts += 1;
                    tracing::error!(
                        status = r.status,
                        body = %String::from_utf8_lossy(&r.body),
                        attempt = bad_attempts,
                        "the server cannot read a batch"
                    );
                    if bad_attempts >= self.cfg.bad_batch_attempts {
                        return Outcome::GaveUp;
                    }
                    backoff.next(None, rng)
                }
                Ok(r) if r.status == 401 || r.status == 403 => {
                    self.metrics.inc(Counter::ShipRevoked);
                    tracing::error!(
                        status = r.status,
                        "the server refuses this agent (revoked?); spooling continues until the spool is full"
                    );
                    Duration::from_secs(self.cfg.revoked_retry_secs)
                }
                Ok(r) => {
                    self.metrics.inc(Counter::ShipServerErrors);
                    tracing::warn!(status = r.status, "unexpected answer to a batch");
                    backoff.next(r.retry_after_secs.map(Duration::from_secs), rng)
                }
                Err(err) => {
                    self.metrics.inc(Counter::ShipNetworkErrors);
                    tracing::warn!(error = %err, "sending a batch failed");
                    backoff.next(None, rng)
                }
            };
            if !self.sleep(wait, stop, deadline).await {
                return Outcome::Stopped;
            }
        }
    }

    /// Sleeps `d`, cut short by the shutdown deadline; false if the deadline passed.
    async fn sleep(
        &self,
        d: Duration,
        stop: &mut tokio::sync::watch::Receiver<bool>,
        deadline: &mut Option<Instant>,
    ) -> bool {
        let until = Instant::now() + d;
        loop {
            if deadline.is_none() && *stop.borrow() {
                *deadline =
                    Some(Instant::now() + Duration::from_secs(self.cfg.shutdown_flush_secs));
            }
            let end = match *deadline {
                Some(dl) if dl <= until => {
                    return {
                        tokio::time::sleep_until(dl.into()).await;
                        false
                    };
                }
                _ => until,
            };
            tokio::select! {
                _ = tokio::time::sleep_until(end.into()) => return true,
                _ = stop.changed(), if deadline.is_none() => {}
            }
        }
    }

    /// The server has the batch: acknowledge it in the spool and the checkpoint.
    fn acknowledge(&mut self, e: Encoded) {
        for m in &e.marks {
            self.checkpoint.advance(m);
            if let crate::spool::Resume::File(p) = &m.resume {
                self.recent_files.insert(p.key());
            }
        }
        self.checkpoint.spool_acked = e.end;
        self.spool().ack(e.end);
        if let Ok(mut s) = self.status.lock() {
            for m in &e.marks {
                let v = s.acked.entry(m.source.clone()).or_insert(0);
                *v = (*v).max(m.last_seq());
            }
        }
        self.dirty = true;
        self.maybe_store(false);
    }

    /// Writes the checkpoint if due (or `force`), then frees acknowledged segments.
    fn maybe_store(&mut self, force: bool) {
        if !self.dirty {
            return;
        }
        let due = self
            .last_store
            .is_none_or(|t| t.elapsed() >= Duration::from_millis(self.cfg.checkpoint_interval_ms));
        if !(force || due) {
            return;
        }
        // Forget files the tailer no longer follows (and that were not just advanced),
        // so the checkpoint stays the size of what is being read.
        if let Ok(live) = self.live.lock()
            && live.ready
        {
            let recent = std::mem::take(&mut self.recent_files);
            self.checkpoint
                .files
                .retain(|k, _| live.keys.contains(k) || recent.contains(k));
        }
        match self.store.store(&self.checkpoint) {
            Ok(()) => {
                self.dirty = false;
                self.last_store = Some(Instant::now());
                if let Err(e) = self.spool().remove_acked_segments() {
                    tracing::warn!(error = %e, "could not delete acknowledged spool segments");
                }
            }
            Err(e) => {
                self.metrics.inc(Counter::CheckpointErrors);
                tracing::error!(error = %e, "could not write the checkpoint");
            }
        }
    }

    /// Saves a batch the server cannot read and reports its records as lost, so the
    /// server's view of each source stays complete: lines or losses, no silent holes.
    fn dead_letter(&self, e: &Encoded) {
        self.metrics.inc(Counter::ShipDeadLettered);
        {
            let mut spool = self.spool();
            for (source, &(from, to)) in &e.ranges {
                let detail = format!(
                    "{} records refused by the server as malformed; kept in dead-letter/",
                    to - from + 1
                );
                let block = Block::loss(source, from, to, wire::loss::DEAD_LETTER, detail);
                if let Err(err) = spool.append(&block) {
                    tracing::error!(error = %err, "could not spool the dead letter's loss event");
                }
            }
        }
        let _ = std::fs::create_dir_all(&self.dead_letter_dir);
        let path = self.dead_letter_dir.join(format!(
            "{}-{}-{}.gacb",
            now_ns(),
            e.end.segment,
            e.end.offset
        ));
        match std::fs::write(&path, &e.bytes) {
            Ok(()) => {
                tracing::error!(path = %path.display(), records = e.records, "batch moved to dead letters")
            }
            Err(err) => {
                tracing::error!(error = %err, records = e.records, "batch given up and could not be saved")
            }
        }
    }
}

/// Builds the heartbeat from the spool, the acknowledged state and the counters.
pub fn heartbeat_body(
    hostname: &str,
    spool: &Spool,
    status: &ShipStatus,
    metrics: &Metrics,
) -> Vec<u8> {
    let stats = spool.stats();
    let lag_secs = stats
        .oldest_ns
        .map(|t| (now_ns() - t).max(0) as f64 / 1e9)
        .unwrap_or(0.0);
    let mut sources: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (s, &acked) in &status.acked {
        sources.entry(s).or_default().1 = acked;
        sources.entry(s).or_default().0 = acked;
    }
    for (s, &last) in spool.last_seq() {
        let e = sources.entry(s).or_default();
        e.0 = e.0.max(last);
    }
    let hb = Heartbeat {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        hostname: hostname.to_owned(),
        spool_bytes: stats.bytes,
        spool_records: stats.records,
        lag_secs,
        errors: metrics
            .errors()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        sources: sources
            .into_iter()
            .map(|(s, (last, acked))| HeartbeatSource {
                source: s.to_owned(),
                last_seq: last,
                last_acked_seq: acked,
            })
            .collect(),
    };
    serde_json::to_vec(&hb).unwrap_or_default()
}

/// Sends a heartbeat every `interval` until `stop`.
#[allow(clippy::too_many_arguments)]
pub async fn heartbeats(
    mut client: tls::Client,
    state_dir: PathBuf,
    tls_config: tls::SharedConfig,
    interval: Duration,
    hostname: String,
    spool: Arc<Mutex<Spool>>,
    status: Arc<Mutex<ShipStatus>>,
    metrics: Arc<Metrics>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut last_renew_check: Option<Instant> = None;
    loop {
        // Once a day (and at start): renew the client certificate before it runs out.
        if last_renew_check.is_none_or(|t| t.elapsed() > Duration::from_secs(86_400)) {
            let renew = crate::enroll::renew_if_due(&state_dir, &mut client, &tls_config);
            let result = tokio::select! {
                r = renew => r,
                _ = stop.changed() => return,
            };
            match result {
                Ok(true) => tracing::info!("client certificate renewed"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "certificate renewal failed; will try again"),
            }
            last_renew_check = Some(Instant::now());
        }
        let body = {
            let s = spool.lock().unwrap_or_else(|p| p.into_inner());
            let st = status.lock().unwrap_or_else(|p| p.into_inner());
            heartbeat_body(&hostname, &s, &st, &metrics)
        };
        let post = client.post(HEARTBEAT_PATH, "application/json", Bytes::from(body));
        // A heartbeat to a server that does not answer must not hold up shutdown.
        let result = tokio::select! {
            r = post => r,
            _ = stop.changed() => return,
        };
        match result {
            Ok(r) if r.status == 200 => {}
            Ok(r) => {
                metrics.inc(Counter::HeartbeatErrors);
                tracing::warn!(status = r.status, "heartbeat refused");
            }
            Err(e) => {
                metrics.inc(Counter::HeartbeatErrors);
                tracing::debug!(error = %e, "heartbeat failed");
            }
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SpoolConfig;
    use crate::spool::{FilePos, LineBuf, Resume};

    #[test]
    fn backoff_grows_with_jitter_and_respects_the_hint() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut b = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let waits: Vec<Duration> = (0..8).map(|_| b.next(None, &mut rng)).collect();
        for (i, w) in waits.iter().enumerate() {
            let window = Duration::from_millis(100 * (1 << i.min(20))).min(Duration::from_secs(2));
            assert!(
                *w >= window / 2 && *w <= window,
                "wait {i}: {w:?} outside {window:?}"
            );
        }
        assert!(waits[7] <= Duration::from_secs(2));
        // Jitter: two agents do not wait the same.
        let mut other = rand::rngs::StdRng::seed_from_u64(8);
        let mut b2 = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
        let waits2: Vec<Duration> = (0..8).map(|_| b2.next(None, &mut other)).collect();
        assert_ne!(waits, waits2);
        // The server's Retry-After is a floor.
        b.reset();
        let w = b.next(Some(Duration::from_secs(5)), &mut rng);
        assert!(
            w >= Duration::from_secs(5) && w <= Duration::from_secs(7),
            "{w:?}"
        );
        b.reset();
        assert!(b.next(None, &mut rng) <= Duration::from_millis(100));
    }

    #[test]
    fn pacer_limits_the_rate() {
        let t0 = Instant::now();
        let mut p = Pacer::new(1000, t0);
        assert_eq!(p.delay(1000, t0), Duration::ZERO);
        let d = p.delay(500, t0);
        assert_eq!(d, Duration::from_millis(500));
        let mut unlimited = Pacer::new(0, t0);
        assert_eq!(unlimited.delay(1 << 30, t0), Duration::ZERO);
    }

    #[test]
    fn blocks_encode_to_a_batch_the_server_can_read() {
        let mut lines = LineBuf::default();
        lines.push(b"one");
        lines.push(b"two");
        let blocks = vec![
            Block {
                source: "/var/log/a".into(),
                time_ns: 5,
                first_seq: 10,
                body: BlockBody::Lines(lines),
                resume: Resume::File(FilePos {
                    dev: 1,
                    ino: 2,
                    fp: 3,
                    fp_len: 4,
                    offset: 8,
                }),
            },
            Block::loss("/var/log/a", 12, 12, wire::loss::TRUNCATED, "gone".into()),
            Block {
                source: "/var/log/a".into(),
                time_ns: 6,
                first_seq: 13,
                body: BlockBody::Lines(LineBuf::default()),
                resume: Resume::None,
            },
        ];
        let e = encode("agent-1", blocks, SpoolPos::default(), 3);
        assert_eq!(e.records, 3);
        let b = wire::decode(&e.bytes).unwrap();
        assert_eq!(b.agent_id, "agent-1");
        let seqs: Vec<u64> = b.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, vec![10, 11, 12]);
        assert!(matches!(
            b.records[2].kind,
            RecordKind::Loss {
                from_seq: 12,
                to_seq: 12,
                ..
            }
        ));
        // The checkpoint marks keep each block's last number and position.
        let mut c = Checkpoint::default();
        for m in &e.marks {
            c.advance(m);
        }
        assert_eq!(c.sources["/var/log/a"], 12);
        assert_eq!(c.files["1:2"].pos.offset, 8);
    }

    #[test]
    fn heartbeat_reports_depth_and_sources() {
        let dir = tempfile::tempdir().unwrap();
        let m = Arc::new(Metrics::default());
        let (mut s, _) = Spool::open(
            dir.path(),
            &SpoolConfig::default(),
            SpoolPos::default(),
            &BTreeMap::new(),
            m.clone(),
        )
        .unwrap();
        let mut lines = LineBuf::default();
        lines.push(b"x");
        s.append(&Block {
            source: "src".into(),
            time_ns: now_ns() - 3_000_000_000,
            first_seq: 5,
            body: BlockBody::Lines(lines),
            resume: Resume::None,
        })
        .unwrap();
        m.inc(Counter::ShipRetryLater);
        let status = ShipStatus {
            acked: BTreeMap::from([("src".to_owned(), 4)]),
        };
        let v: serde_json::Value =
            serde_json::from_slice(&heartbeat_body("h1", &s, &status, &m)).unwrap();
        assert_eq!(v["hostname"], "h1");
        assert_eq!(v["spool_records"], 1);
        assert!(v["lag_secs"].as_f64().unwrap() >= 3.0);
        assert_eq!(v["errors"]["ship.retry_later"], 1);
        assert_eq!(v["sources"][0]["source"], "src");
        assert_eq!(v["sources"][0]["last_seq"], 5);
        assert_eq!(v["sources"][0]["last_acked_seq"], 4);
    }

    /// A stand-in for the server's agent endpoint: real TLS (leaf + CA chain, client
    /// certificates verified when given), HTTP/1.1 by hand, scripted answers.
    mod fake_server {
        use super::*;
        use crate::tls::tests::TestPki;
        use rustls::pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        #[derive(Debug, Default)]
        pub struct Seen {
            pub batches: Vec<wire::Batch>,
            pub heartbeats: usize,
            /// Batch answers to give before 200s: status codes.
            pub script: Vec<u16>,
        }

        pub async fn start(pki: TestPki) -> (std::net::SocketAddr, Arc<Mutex<Seen>>) {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(pki.ca_der.clone()).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                crate::tls::provider(),
            )
            .allow_unauthenticated()
            .build()
            .unwrap();
            let key = PrivateKeyDer::from_pem_slice(pki.leaf_key_pem.as_bytes()).unwrap();
            let config = rustls::ServerConfig::builder_with_provider(crate::tls::provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(vec![pki.leaf_der.clone(), pki.ca_der.clone()], key)
                .unwrap();
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let seen = Arc::new(Mutex::new(Seen::default()));
            let pki = Arc::new(pki);
            let seen2 = seen.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((tcp, _)) = listener.accept().await else {
                        return;
                    };
                    let (acceptor, seen, pki) = (acceptor.clone(), seen2.clone(), pki.clone());
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let has_cert = tls.get_ref().1.peer_certificates().is_some();
                        let mut buf = Vec::new();
                        loop {
                            let Some((path, body)) = read_request(&mut tls, &mut buf).await else {
                                return;
                            };
                            let (status, out) = answer(&path, &body, has_cert, &seen, &pki);
                            let head = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nretry-after: 0\r\ncontent-type: application/json\r\n\r\n",
                                out.len()
                            );
                            if tls.write_all(head.as_bytes()).await.is_err()
                                || tls.write_all(&out).await.is_err()
                            {
                                return;
                            }
                        }
                    });
                }
            });
            (addr, seen)
        }

        async fn read_request(
            tls: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
            buf: &mut Vec<u8>,
        ) -> Option<(String, Vec<u8>)> {
            let mut chunk = [0u8; 8192];
            loop {
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_string();
                    let path = head.split_whitespace().nth(1)?.to_owned();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < end + 4 + len {
                        let n = tls.read(&mut chunk).await.ok()?;
                        if n == 0 {
                            return None;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = buf[end + 4..end + 4 + len].to_vec();
                    buf.drain(..end + 4 + len);
                    return Some((path, body));
                }
                let n = tls.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }

        fn answer(
            path: &str,
            body: &[u8],
            has_cert: bool,
            seen: &Mutex<Seen>,
            pki: &TestPki,
        ) -> (u16, Vec<u8>) {
            let mut seen = seen.lock().unwrap();
            match path {
                "/api/agent/v1/enroll" => {
                    let req: gac_event::api::EnrollRequest = serde_json::from_slice(body).unwrap();
                    if !req.token.starts_with("gacenroll1.good.") {
                        return (401, b"{}".to_vec());
                    }
                    let csr =
                        rcgen::CertificateSigningRequestParams::from_pem(&req.csr_pem).unwrap();
                    let issuer = rcgen::Issuer::new(pki.ca_params.clone(), &pki.ca_key);
                    let cert = csr.signed_by(&issuer).unwrap();
                    let resp = gac_event::api::EnrollResponse {
                        agent_id: format!("agent-{}", req.machine_id),
                        cert_pem: cert.pem(),
                        ca_pem: pki.ca_pem.clone(),
                    };
                    (200, serde_json::to_vec(&resp).unwrap())
                }
                _ if !has_cert => (401, b"{}".to_vec()),
                BATCH_PATH => {
                    if !seen.script.is_empty() {
                        return (seen.script.remove(0), b"{}".to_vec());
                    }
                    let b = wire::decode(body).unwrap();
                    let n = b.records.len();
                    seen.batches.push(b);
                    (200, format!("{{\"accepted\":{n}}}").into_bytes())
                }
                HEARTBEAT_PATH => {
                    seen.heartbeats += 1;
                    (200, b"{}".to_vec())
                }
                _ => (404, b"{}".to_vec()),
            }
        }
    }

    #[tokio::test]
    async fn enroll_then_ship_over_mutual_tls_with_retries_and_dead_letters() {
        use crate::tls::tests::test_pki;
        let pki = test_pki("fake server ca");
        let fp = crate::tls::fingerprint(&pki.ca_der);
        let (addr, seen) = fake_server::start(pki).await;
        let url = format!("https://{addr}");
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");

        // A token naming another CA: the handshake fails and nothing is written.
        let wrong = format!("gacenroll1.good.{}", "0".repeat(64));
        let e = crate::enroll::enroll(&url, &wrong, &state, "m1", "h1").await;
        assert!(e.is_err());
        assert!(!state.join("cert.pem").exists());
        // The right CA but a token the server refuses.
        let e =
            crate::enroll::enroll(&url, &format!("gacenroll1.bad.{fp}"), &state, "m1", "h1").await;
        assert!(
            matches!(e, Err(crate::enroll::EnrollError::TokenRefused)),
            "{e:?}"
        );
        // The right token.
        let en = crate::enroll::enroll(&url, &format!("gacenroll1.good.{fp}"), &state, "m1", "h1")
            .await
            .unwrap();
        assert_eq!(en.agent_id, "agent-m1");
        let id = crate::enroll::load_identity(&state, None).unwrap();

        // Spool three blocks, the middle one a loss.
        let metrics = Arc::new(Metrics::default());
        let (mut spool, _) = Spool::open(
            &state.join("spool"),
            &SpoolConfig::default(),
            SpoolPos::default(),
            &BTreeMap::new(),
            metrics.clone(),
        )
        .unwrap();
        let mut lines = LineBuf::default();
        lines.push(b"first");
        lines.push(b"second");
        spool
            .append(&Block {
                source: "/var/log/x".into(),
                time_ns: 1,
                first_seq: 1,
                body: BlockBody::Lines(lines),
                resume: Resume::File(FilePos {
                    dev: 1,
                    ino: 2,
                    fp: 3,
                    fp_len: 4,
                    offset: 13,
                }),
            })
            .unwrap();
        spool
            .append(&Block::loss(
                "/var/log/x",
                3,
                3,
                wire::loss::TRUNCATED,
                "x".into(),
            ))
            .unwrap();
        let spool = Arc::new(Mutex::new(spool));
        // The server first says "retry later" twice.
        seen.lock().unwrap().script = vec![503, 429];
        let cfg = ShipConfig {
            retry_initial_ms: 10,
            retry_max_ms: 50,
            checkpoint_interval_ms: 0,
            shutdown_flush_secs: 1,
            bad_batch_attempts: 2,
            ..ShipConfig::default()
        };
        let client = tls::Client::new(&url, id.tls.clone(), Duration::from_secs(5)).unwrap();
        let status = Arc::new(Mutex::new(ShipStatus::default()));
        let shipper = Shipper::new(
            &cfg,
            id.enrollment.agent_id.clone(),
            spool.clone(),
            CheckpointStore::new(&state),
            Checkpoint::default(),
            Arc::new(Mutex::new(LiveFiles {
                ready: true,
                keys: ["1:2".to_owned()].into(),
            })),
            client,
            metrics.clone(),
            state.join("dead-letter"),
            status.clone(),
        );
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(shipper.run(stop.clone()));
        let hb_client = tls::Client::new(&url, id.tls.clone(), Duration::from_secs(5)).unwrap();
        let hb = tokio::spawn(heartbeats(
            hb_client,
            state.clone(),
            id.tls.clone(),
            Duration::from_millis(50),
            "h1".into(),
            spool.clone(),
            status,
            metrics.clone(),
            stop,
        ));
        for _ in 0..200 {
            if spool.lock().unwrap().stats().records == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // A batch the server cannot read: tried bad_batch_attempts times, then moved to
        // dead letters so the spool moves on.
        seen.lock().unwrap().script = vec![400, 400];
        let mut bad = LineBuf::default();
        bad.push(b"unreadable");
        spool
            .lock()
            .unwrap()
            .append(&Block {
                source: "/var/log/x".into(),
                time_ns: 2,
                first_seq: 4,
                body: BlockBody::Lines(bad),
                resume: Resume::None,
            })
            .unwrap();
        for _ in 0..200 {
            if metrics.get(Counter::ShipDeadLettered) == 1
                && spool.lock().unwrap().stats().records == 0
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(metrics.get(Counter::ShipDeadLettered), 1);
        assert_eq!(metrics.get(Counter::ShipRejected), 2);
        assert_eq!(
            std::fs::read_dir(state.join("dead-letter"))
                .unwrap()
                .count(),
            1
        );
        stop_tx.send(true).unwrap();
        task.await.unwrap();
        hb.await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.batches.len(),
            2,
            "sent until taken, taken once; then the loss"
        );
        assert!(matches!(
            &seen.batches[1].records[0].kind,
            RecordKind::Loss { from_seq: 4, to_seq: 4, reason } if reason == wire::loss::DEAD_LETTER
        ));
        let b = &seen.batches[0];
        assert_eq!(b.agent_id, "agent-m1");
        assert_eq!(
            b.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(seen.heartbeats >= 1);
        assert_eq!(metrics.get(Counter::ShipRetryLater), 2);
        // Acknowledged: the checkpoint on disk says so.
        let c = CheckpointStore::new(&state).load().unwrap();
        assert_eq!(c.sources["/var/log/x"], 4);
        assert_eq!(c.files["1:2"].pos.offset, 13);
    }
}
