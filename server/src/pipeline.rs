//! The one place the stages are connected (DESIGN §1):
//!
//! ```text
//! listeners ──(records, bounded)──► WAL writer thread ──(durable end)──► indexer thread
//!   udp/tcp      RECORD_QUEUE         append + group fsync                read WAL, parse,
//!                                                                         index, commit,
//!                                                                         checkpoint, prune
//! API (axum) ◄── reads the day indexes the indexer commits
//! ```
//!
//! Built from its end backwards: the index and the log are opened (and the crash tail
//! replayed) before any socket is bound, so nothing is accepted that cannot be kept.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use gac_event::{Event, field, tag};
use gac_parse::formats::auditd::AuditJoiner;
use gac_parse::{BodyOutcome, Format, TimePolicy};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::agents::{LOSS_INPUT, LossNotice, SequenceTracker, Verdict};
use crate::api::{self, ApiState};
use crate::auth::Tokens;
use crate::config::{Config, Protocol};
use crate::detect::Detector;
use crate::enrich::Enricher;
use crate::index::store::{Writers, day_of, expired_days};
use crate::index::{Schema, Searcher, Store};
use crate::intake::{self, InputCounters, ToWal};
use crate::metrics::{self, Counter, Metrics};
use crate::wal::{self, DurableEnd, RawRecord, WalReader, WalStep, WalWriter};

/// Records waiting for the log writer. At 50,000 records/s this is about 0.3 s of
/// input: enough to ride out one slow fsync; beyond it TCP senders are slowed down and
/// UDP waits in the kernel's buffer.
const RECORD_QUEUE: usize = 16_384;
/// Most records appended between two fsyncs; bounds the latency of one group.
const MAX_SYNC_GROUP: usize = 8_192;
/// File beside the checkpoint holding agents' per-source sequence state.
const AGENT_SEQUENCES_FILE: &str = "agent-sequences.json";
/// An audit event with no new record for this long is complete.
const AUDIT_QUIET_NS: i64 = 2_000_000_000;
/// How often retention looks for days to delete.
const RETENTION_EVERY: Duration = Duration::from_secs(3600);

/// Directory names inside `data_dir`.
const WAL_DIR: &str = "wal";
const INDEX_DIR: &str = "index";

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(config: Config) -> anyhow::Result<()> {
    let metrics = Metrics::default();
    let data = config.data_dir.clone();
    let tokens = Arc::new(Tokens::load(&data)?);
    let store =
        Arc::new(Store::open(&data.join(INDEX_DIR), Schema::new()).context("opening the index")?);
    let checkpoint = store.checkpoint()?;
    let wal_dir = data.join(WAL_DIR);
    let writer = WalWriter::open(&wal_dir, config.wal.segment_bytes, checkpoint)
        .context("opening the write-ahead log")?;
    let durable = Arc::new(DurableEnd::new(writer.next_seq()));
    let wal_closed = Arc::new(AtomicBool::new(false));
    tracing::info!(
        checkpoint,
        wal_end = writer.next_seq(),
        "replaying the log from the checkpoint"
    );

    let (detector, report) = Detector::load(&config.detect, &metrics)?;
    for refused in &report.refused {
        tracing::warn!(rule = %refused, "rule not loaded");
    }
    if config.detect.rules_dirs.is_empty() {
        tracing::warn!("no rules_dirs configured: detection is off");
    }
    tracing::info!(
        loaded = report.loaded,
        refused = report.refused.len(),
        mapping_files = report.mapping_files,
        "detection rules"
    );
    let enricher = Enricher::from_config(&config.enrich, &metrics).context("enrichment")?;
    // Agents' per-source sequence state as of the checkpoint: replay from there gives
    // the same verdicts (duplicate or new) as the first time.
    let agents = crate::agents::Agents::open(&config)?;
    if let Some(state) = store.read_state(AGENT_SEQUENCES_FILE)? {
        let restored = SequenceTracker::from_json(&state).context("agent sequence state")?;
        *agents.tracker().lock().unwrap_or_else(|p| p.into_inner()) = restored;
    }
    let enrich_status = enricher.status();
    let indexer = Indexer::new(
        &config,
        store.clone(),
        &metrics,
        detector,
        enricher,
        &agents,
    )?;
    let indexer = {
        let (durable, closed, dir) = (durable.clone(), wal_closed.clone(), wal_dir.clone());
        std::thread::Builder::new()
            .name("gac-indexer".into())
            .spawn(move || indexer.run(&dir, checkpoint, &durable, &closed))?
    };

    // Bind everything before serving anything: a busy port is a start-up error.
    let shutdown = CancellationToken::new();
    let (tx, rx) = mpsc::channel::<ToWal>(RECORD_QUEUE);
    let mut listeners = Vec::new();
    for input in &config.syslog {
        let input = Arc::new(input.clone());
        let counters = InputCounters::new(&metrics, &input.name);
        let (tx, stop) = (tx.clone(), shutdown.clone());
        let task = match input.protocol {
            Protocol::Udp => {
                let socket = intake::udp::bind(&input)
                    .with_context(|| format!("binding {} (udp {})", input.name, input.listen))?;
                tokio::spawn(intake::udp::serve(
                    socket,
                    input.clone(),
                    tx,
                    counters,
                    stop,
                ))
            }
            Protocol::Tcp => {
                let listener = intake::tcp::bind(&input)
                    .await
                    .with_context(|| format!("binding {} (tcp {})", input.name, input.listen))?;
                tokio::spawn(intake::tcp::serve(
                    listener,
                    input.clone(),
                    tx,
                    counters,
                    stop,
                ))
            }
        };
        tracing::info!(input = %input.name, listen = %input.listen, protocol = ?input.protocol, "syslog input listening");
        listeners.push(task);
    }
    // The agent endpoint (mutual TLS): batches go to the same log, answered after fsync.
    if let Some(endpoint) = agents.bind_endpoint(&config, tx.clone(), &metrics).await? {
        listeners.push(tokio::spawn(endpoint.serve(shutdown.clone())));
    }
    drop(tx);
    let api_listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .with_context(|| format!("binding the API on {}", config.api.listen))?;
    tracing::info!(listen = %config.api.listen, "API listening");

    let wal_writer = {
        let (durable, closed, m) = (durable.clone(), wal_closed.clone(), metrics.clone());
        std::thread::Builder::new()
            .name("gac-wal".into())
            .spawn(move || write_log(writer, rx, &durable, &closed, &m))?
    };

    let state = ApiState {
        searcher: Searcher::new(store.clone()),
        enrich: enrich_status,
        tokens,
        metrics: metrics.clone(),
        agents: agents.view(),
    };
    let api_stop = shutdown.clone();
    let api_task = tokio::spawn(async move {
        axum::serve(api_listener, api::router(state))
            .with_graceful_shutdown(async move { api_stop.cancelled().await })
            .await
    });

    wait_for_signal().await?;
    tracing::info!("stopping: closing inputs, then draining the log into the index");
    shutdown.cancel();
    for task in listeners {
        let _ = task.await;
    }
    let wal_result = tokio::task::spawn_blocking(move || wal_writer.join()).await?;
    let index_result = tokio::task::spawn_blocking(move || indexer.join()).await?;
    let _ = api_task.await;
    wal_result.map_err(|_| anyhow::anyhow!("the log writer panicked"))??;
    index_result.map_err(|_| anyhow::anyhow!("the indexer panicked"))??;
    tracing::info!(counters = ?metrics.snapshot(), "stopped");
    Ok(())
}

async fn wait_for_signal() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    Ok(())
}

/// The log writer thread: appends what the listeners send, syncs each group once, and
/// raises the durable end for the indexer.
fn write_log(
    mut wal: WalWriter,
    mut rx: mpsc::Receiver<ToWal>,
    durable: &DurableEnd,
    closed: &AtomicBool,
    m: &Metrics,
) -> anyhow::Result<()> {
    let (appended, bytes, syncs) = (
        m.counter(metrics::WAL_APPENDED),
        m.counter(metrics::WAL_BYTES),
        m.counter(metrics::WAL_SYNCS),
    );
    let mut waiting = Vec::new();
    let result = (|| -> anyhow::Result<()> {
        while let Some(first) = rx.blocking_recv() {
            let mut next = Some(first);
            let mut n = 0;
            while let Some(item) = next.take() {
                let records = match item {
                    ToWal::Record(rec) => vec![rec],
                    ToWal::Batch(records, ack) => {
                        waiting.push(ack);
                        records
                    }
                };
                for rec in &records {
                    wal.append(rec)?;
                    bytes.add(rec.data.len() as u64);
                }
                n += records.len();
                if n < MAX_SYNC_GROUP {
                    next = rx.try_recv().ok();
                }
            }
            appended.add(n as u64);
            let end = wal.sync()?;
            durable.raise(end);
            syncs.inc();
            for ack in waiting.drain(..) {
                // A sender that gave up waiting is no error: its records are kept.
                let _ = ack.send(end);
            }
        }
        durable.raise(wal.sync()?);
        Ok(())
    })();
    if let Err(e) = &result {
        // Without the log nothing can be accepted safely: stop, loudly.
        tracing::error!(error = %e, "the write-ahead log failed; the server must stop");
    }
    // The durable end is not raised here: after a failure, records past it were never
    // synced. The indexer sees `closed` at its next wake-up and stops once caught up.
    closed.store(true, Ordering::Release);
    result
}

/// The indexer: reads the log from the checkpoint, parses, indexes, commits.
struct Indexer {
    store: Arc<Store>,
    /// Agents' sequences: duplicates from resent batches are dropped here, before the
    /// index, deterministically on replay.
    sequences: crate::agents::SharedTracker,
    registry: Arc<crate::agents::Registry>,
    /// Agent id to its registered host name, read from the registry on first use.
    hostnames: HashMap<String, String>,
    /// Joins the records of one audit event; emptied before every commit (see `run`).
    audit: AuditJoiner,
    enricher: Enricher,
    detector: Detector,
    writers: Writers,
    /// Per input: its time policy and declared format.
    inputs: HashMap<String, (TimePolicy, Format)>,
    /// For records whose input is no longer configured (replayed after a config change).
    fallback: (TimePolicy, Format),
    commit_every: Duration,
    retention_days: u32,
    counters: IndexerCounters,
    wal_dir: PathBuf,
}

struct IndexerCounters {
    rfc5424: Counter,
    rfc3164: Counter,
    unparsed: Counter,
    malformed: Counter,
    added: Counter,
    skipped: Counter,
    errors: Counter,
    commits: Counter,
    wal_corrupt: Counter,
    days_deleted: Counter,
    agent_duplicates: Counter,
    metrics: Metrics,
    /// `parse.format.<format>.<input>` and `parse.failed.<format>.<input>`, made on
    /// first use.
    per_format: HashMap<(String, &'static str, bool), Counter>,
}

impl IndexerCounters {
    fn format(&mut self, input: &str, format: &'static str, failed: bool) -> &Counter {
        let key = (input.to_owned(), format, failed);
        let registry = &self.metrics;
        self.per_format.entry(key).or_insert_with(|| {
            let name = if failed {
                metrics::PARSE_FAILED
            } else {
                metrics::PARSE_FORMAT
            };
            registry.input_counter(&format!("{name}.{format}"), input)
        })
    }
}

impl Indexer {
    fn new(
        config: &Config,
        store: Arc<Store>,
        m: &Metrics,
        detector: Detector,
        enricher: Enricher,
        agents: &crate::agents::Agents,
    ) -> anyhow::Result<Self> {
        let mut inputs = HashMap::new();
        for input in &config.syslog {
            let format: Format = input.format.parse()?;
            inputs.insert(
                input.name.clone(),
                (TimePolicy::new(config.input_zone(input)?), format),
            );
        }
        let writers = Writers::new(
            &store,
            config.storage.writer_memory_bytes,
            config.storage.writer_threads,
        )?;
        Ok(Self {
            store,
            sequences: agents.tracker(),
            registry: agents.registry(),
            hostnames: HashMap::new(),
            audit: AuditJoiner::default(),
            enricher,
            detector,
            writers,
            inputs,
            fallback: (
                TimePolicy::new(crate::config::parse_zone(&config.timezone)?),
                Format::Auto,
            ),
            commit_every: Duration::from_millis(config.storage.commit_interval_ms.max(1)),
            retention_days: config.storage.retention_days,
            wal_dir: config.data_dir.join(WAL_DIR),
            counters: IndexerCounters {
                rfc5424: m.counter(metrics::PARSED_RFC5424),
                rfc3164: m.counter(metrics::PARSED_RFC3164),
                unparsed: m.counter(metrics::PARSE_UNPARSED),
                malformed: m.counter(metrics::PARSE_MALFORMED_HEADER),
                added: m.counter(metrics::INDEX_ADDED),
                skipped: m.counter(metrics::INDEX_REPLAY_SKIPPED),
                errors: m.counter(metrics::INDEX_ERRORS),
                commits: m.counter(metrics::INDEX_COMMITS),
                wal_corrupt: m.counter(metrics::WAL_CORRUPT),
                days_deleted: m.counter(metrics::RETENTION_DAYS_DELETED),
                agent_duplicates: m.counter(metrics::AGENT_DUPLICATES),
                metrics: m.clone(),
                per_format: HashMap::new(),
            },
        })
    }

    fn run(
        mut self,
        wal_dir: &std::path::Path,
        checkpoint: u64,
        durable: &DurableEnd,
        wal_closed: &AtomicBool,
    ) -> anyhow::Result<()> {
        let mut reader = WalReader::open_at(wal_dir, checkpoint)?;
        let mut committed_to = checkpoint;
        let mut last_commit = Instant::now();
        let mut last_retention: Option<Instant> = None;
        let mut tick = 0u64;
        loop {
            let closing = wal_closed.load(Ordering::Acquire);
            let wait = self.commit_every.saturating_sub(last_commit.elapsed());
            let end = durable.wait_beyond(reader.next_seq(), wait);
            while let Some(step) = reader.next(end)? {
                tick += 1;
                match step {
                    WalStep::Record(seq, rec) => self.index(seq, rec, tick)?,
                    WalStep::Lost { from, to, error } => {
                        self.counters.wal_corrupt.add(to - from);
                        tracing::error!(%error, from, to, "records lost to damage in the write-ahead log");
                    }
                }
                if last_commit.elapsed() >= self.commit_every {
                    break;
                }
            }
            let caught_up = reader.next_seq() >= durable.get();
            // Audit records come microseconds apart; an event quiet this long is whole.
            let quiet = gac_event::Timestamp::now().add_nanos(-AUDIT_QUIET_NS);
            for event in self.audit.flush_older_than(quiet) {
                self.finish(event, tick)?;
            }
            if last_commit.elapsed() >= self.commit_every || (closing && caught_up) {
                // Nothing may wait in the joiner across a commit: the commit says every
                // record below `next` is in the index. An audit event whose records
                // straddle this instant is stored as two events.
                for event in self.audit.flush_all() {
                    self.finish(event, tick)?;
                }
                let next = reader.next_seq();
                if next > committed_to {
                    if self.writers.commit(next)? > 0 {
                        self.counters.commits.inc();
                    }
                    // Sequence state first, then the checkpoint: after a crash between
                    // them, replayed agent records are committed ones either way.
                    let state = self
                        .sequences
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .to_json();
                    self.store
                        .write_state(AGENT_SEQUENCES_FILE, state.as_bytes())?;
                    self.store.set_checkpoint(next)?;
                    wal::remove_before(&self.wal_dir, next)?;
                    committed_to = next;
                }
                last_commit = Instant::now();
                // Picks up replaced GeoIP databases and inventories even with no traffic.
                self.enricher.maintain();
            }
            if last_retention.is_none_or(|t| t.elapsed() >= RETENTION_EVERY) {
                self.retention();
                last_retention = Some(Instant::now());
            }
            if closing && caught_up && committed_to >= reader.next_seq() {
                self.writers.close();
                return Ok(());
            }
        }
    }

    /// Parses one record and hands it to its day's writer, unless replay finds it
    /// already committed.
    fn index(&mut self, seq: u64, rec: RawRecord, tick: u64) -> anyhow::Result<()> {
        if let Some(o) = &rec.origin {
            let loss = (rec.input == LOSS_INPUT)
                .then(|| LossNotice::parse(&rec.data))
                .flatten();
            let verdict = {
                let mut tracker = self.sequences.lock().unwrap_or_else(|p| p.into_inner());
                match &loss {
                    Some(n) => tracker.observe_loss_in(
                        &o.agent_id,
                        &o.source,
                        o.epoch,
                        n.from_seq,
                        n.to_seq,
                        o.read,
                        &n.reason,
                    ),
                    None => tracker.observe_in(&o.agent_id, &o.source, o.epoch, o.seq, o.read),
                }
            };
            if verdict == Verdict::Duplicate {
                self.counters.agent_duplicates.inc();
                return Ok(());
            }
            if let Some(notice) = loss {
                let event = loss_event(seq, rec, &notice);
                return self.finish_checked(event, seq, tick);
            }
        }
        let hostname = rec.origin.as_ref().and_then(|o| self.hostname(&o.agent_id));
        let (policy, format) = self.inputs.get(&rec.input).unwrap_or(&self.fallback);
        let mut event = build_event(seq, rec, policy, *format, &mut self.counters);
        if let Some(h) = hostname
            && event.get(field::LOG_SYSLOG_HOSTNAME).is_none()
        {
            // A line from a file names no host: the agent's machine wrote it.
            event.set(field::HOST_NAME, h);
        }
        self.finish_checked(event, seq, tick)
    }

    /// The registered host name of an agent (cached; `None` if the registry has none).
    fn hostname(&mut self, agent_id: &str) -> Option<String> {
        if let Some(h) = self.hostnames.get(agent_id) {
            return Some(h.clone());
        }
        let h = self.registry.get(agent_id).ok().flatten()?.hostname;
        self.hostnames.insert(agent_id.to_owned(), h.clone());
        Some(h)
    }

    /// Skips an event replay finds committed, else passes it on (through the audit
    /// joiner) to be finished.
    fn finish_checked(&mut self, event: Event, seq: u64, tick: u64) -> anyhow::Result<()> {
        let day = day_of(event.timestamp);
        if self.writers.already_has(day, seq) {
            // Committed before a crash, with its alerts (same day, same record).
            self.counters.skipped.inc();
            return Ok(());
        }
        for event in self.audit.push(event) {
            self.finish(event, tick)?;
        }
        Ok(())
    }

    /// Enriches, detects and indexes one whole event (and its alerts).
    fn finish(&mut self, mut event: Event, tick: u64) -> anyhow::Result<()> {
        let seq = event
            .get_str(field::EVENT_ID)
            .and_then(|id| id.parse::<u64>().ok())
            .unwrap_or_default();
        // A writer closed early commits with "everything below this is in": that must
        // not cover an audit record still held in the joiner.
        let floor = self
            .audit
            .oldest_pending()
            .and_then(|e| e.get_str(field::EVENT_ID))
            .and_then(|id| id.parse::<u64>().ok())
            .map_or(seq, |pending| pending.min(seq));
        // Enriched before detection, so rules can use place and asset context.
        self.enricher.enrich(&mut event);
        let alerts = self.detector.detect(&event);
        let day = day_of(event.timestamp);
        self.add(day, &event, tick, floor)?;
        for (i, mut alert) in alerts.into_iter().enumerate() {
            alert.set(field::EVENT_ID, format!("{seq}-a{i}"));
            self.add(day_of(alert.timestamp), &alert, tick, floor)?;
        }
        Ok(())
    }

    /// Serialises an event and hands it to its day's writer.
    fn add(
        &mut self,
        day: chrono::NaiveDate,
        event: &Event,
        tick: u64,
        seq: u64,
    ) -> anyhow::Result<()> {
        let json = match serde_json::to_vec(event) {
            Ok(j) => j,
            Err(e) => {
                self.counters.errors.inc();
                tracing::warn!(seq, error = %e, "event could not be serialised; not indexed");
                return Ok(());
            }
        };
        let doc = self.store.schema().document(event, json);
        self.writers.add(&self.store, day, doc, tick, seq)?;
        self.counters.added.inc();
        Ok(())
    }

    /// Deletes whole days past the retention limit (see [`expired_days`]).
    fn retention(&mut self) {
        let days = self
            .store
            .days()
            .into_iter()
            .map(|d| (d, self.store.last_write(d)));
        for day in expired_days(days, std::time::SystemTime::now(), self.retention_days) {
            self.writers.forget(day);
            match self.store.delete_day(day) {
                Ok(()) => {
                    self.counters.days_deleted.inc();
                    tracing::info!(%day, "retention deleted a day");
                }
                Err(e) => tracing::warn!(%day, error = %e, "retention could not delete a day"),
            }
        }
    }
}

/// The event for an agent's loss notice: not parsed (its text is the server's own), a
/// tagged event an analyst can search and count.
fn loss_event(seq: u64, rec: RawRecord, notice: &LossNotice) -> Event {
    let read = rec.origin.as_ref().map_or(rec.received, |o| o.read);
    let mut event = Event::new(read, rec.received, String::from_utf8_lossy(&rec.data));
    event.add_tag(tag::AGENT_LOSS);
    event.set(field::EVENT_ID, seq.to_string());
    event.set(field::EVENT_KIND, "event");
    event.set(field::EVENT_DATASET, "gac.agent");
    event.set(field::EVENT_ACTION, "agent-loss");
    event.set(field::EVENT_REASON, notice.reason.as_str());
    event.set(field::GAC_LOSS_FROM_SEQ, notice.from_seq as i64);
    event.set(field::GAC_LOSS_TO_SEQ, notice.to_seq as i64);
    event.set(field::INPUT_NAME, rec.input.as_str());
    event.set(field::OBSERVER_INGRESS_IP, rec.peer);
    if let Some(o) = rec.origin {
        event.set(field::AGENT_ID, o.agent_id);
        event.set(field::LOG_SOURCE, o.source);
        event.set(field::EVENT_SEQUENCE, o.seq as i64);
    }
    event
}

/// The event for one logged record: parsed, then stamped with where it came from.
fn build_event(
    seq: u64,
    rec: RawRecord,
    policy: &TimePolicy,
    format: Format,
    c: &mut IndexerCounters,
) -> Event {
    let (mut event, parsed) = gac_parse::parse(&rec.data, rec.received, policy, format);
    c.format(&rec.input, parsed.format_name(), false).inc();
    if let (Some(parser), BodyOutcome::Failed) = (parsed.parser, parsed.body) {
        c.format(&rec.input, parser, true).inc();
    }
    match parsed.header {
        gac_parse::Outcome::Rfc5424 => c.rfc5424.inc(),
        gac_parse::Outcome::Rfc3164 => c.rfc3164.inc(),
        gac_parse::Outcome::Unparsed => c.unparsed.inc(),
        gac_parse::Outcome::MalformedHeader => c.malformed.inc(),
    }
    event.ingested = rec.received;
    event.set(field::EVENT_ID, seq.to_string());
    event.set(field::INPUT_NAME, rec.input.as_str());
    event.set(field::OBSERVER_INGRESS_IP, rec.peer);
    match rec.origin {
        // Shipped by an agent: the source and sequence are the agent's own.
        Some(o) => {
            event.set(field::AGENT_ID, o.agent_id);
            event.set(field::LOG_SOURCE, o.source);
            event.set(field::EVENT_SEQUENCE, o.seq as i64);
        }
        // Received directly: the input is the source, the log position the sequence.
        None => {
            event.set(field::LOG_SOURCE, rec.input);
            event.set(field::EVENT_SEQUENCE, seq as i64);
        }
    }
    if event.get(field::HOST_NAME).is_none() {
        event.set(field::HOST_NAME, rec.peer);
    }
    if event.get(field::EVENT_DATASET).is_none() {
        event.set(field::EVENT_DATASET, "syslog");
    }
    if rec.truncated {
        event.add_tag(tag::TRUNCATED);
    }
    event
}
