//! Starting and stopping the agent: load the identity and the acknowledged state, open
//! the spool (which says how far each input had got), start the inputs and the shipper,
//! and on SIGTERM or SIGINT stop the inputs first (so what they hold reaches the spool),
//! then give the shipper `shutdown_flush_secs` to send what it can.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;

use crate::checkpoint::CheckpointStore;
use crate::config::{Config, RelayProtocol};
use crate::enroll;
use crate::inputs::Sink;
use crate::inputs::file::{FileTailer, KnownFile, LiveFiles};
use crate::inputs::journald::JournaldInput;
use crate::inputs::relay::Relay;
use crate::metrics::Metrics;
use crate::ship::{self, ShipStatus, Shipper};
use crate::spool::Spool;
use crate::tls;

/// Runs the agent until SIGTERM/SIGINT.
pub fn run(config: Config) -> anyhow::Result<()> {
    let identity = enroll::load_identity(&config.state_dir, config.server_url.as_deref())?;
    let metrics = Arc::new(Metrics::default());
    let store = CheckpointStore::new(&config.state_dir);
    let first_run = !config.state_dir.join("checkpoint.json").exists();
    let checkpoint = store.load().context("loading the checkpoint")?;
    let (spool, recovered) = Spool::open(
        &config.state_dir.join("spool"),
        &config.spool,
        checkpoint.spool_acked,
        &checkpoint.sources,
        metrics.clone(),
    )
    .context("opening the spool")?;
    let spool = Arc::new(Mutex::new(spool));
    // Where each input resumes: after the last spooled block, else the last acknowledged.
    let mut last_seq: BTreeMap<String, u64> = checkpoint.sources.clone();
    for (s, &n) in &recovered.last_seq {
        let e = last_seq.entry(s.clone()).or_insert(0);
        *e = (*e).max(n);
    }
    let mut known: BTreeMap<String, KnownFile> = checkpoint
        .files
        .iter()
        .map(|(k, f)| {
            (
                k.clone(),
                KnownFile {
                    source: f.source.clone(),
                    pos: f.pos.clone(),
                },
            )
        })
        .collect();
    for (k, (source, pos)) in recovered.files {
        known.insert(k, KnownFile { source, pos });
    }
    let journal_cursor = recovered
        .journal_cursor
        .or_else(|| checkpoint.journald_cursor.clone());

    let shutdown = Arc::new(AtomicBool::new(false));
    let sink = Sink::new(spool.clone(), metrics.clone(), shutdown.clone());
    let live = Arc::new(Mutex::new(LiveFiles::default()));
    let mut threads = Vec::new();
    if !config.files.input.is_empty() {
        let tailer = FileTailer::new(
            &config.files,
            known.into_values().collect(),
            last_seq.clone(),
            first_run,
            sink.clone(),
            live.clone(),
        );
        threads.push(
            std::thread::Builder::new()
                .name("files".into())
                .spawn(move || tailer.run())?,
        );
    } else {
        // Nothing follows files: every file entry in the checkpoint may go.
        live.lock().unwrap_or_else(|p| p.into_inner()).ready = true;
    }
    if config.journald.enabled {
        let j = JournaldInput::new(
            &config.journald,
            journal_cursor,
            last_seq.clone(),
            sink.clone(),
        );
        threads.push(
            std::thread::Builder::new()
                .name("journald".into())
                .spawn(move || j.run())?,
        );
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(2)
        .build()?;
    let timeout = Duration::from_secs(config.ship.request_timeout_secs);
    let url = identity.enrollment.server_url.clone();
    let result = rt.block_on(async {
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for r in &config.relay {
            let relay = Relay::new(r, last_seq.clone(), sink.clone());
            match r.protocol {
                RelayProtocol::Udp => {
                    let sock = tokio::net::UdpSocket::bind(r.listen)
                        .await
                        .with_context(|| format!("relay {}: binding udp {}", r.name, r.listen))?;
                    tasks.push(tokio::spawn(relay.run_udp(sock, stop.clone())));
                }
                RelayProtocol::Tcp => {
                    let l = tokio::net::TcpListener::bind(r.listen)
                        .await
                        .with_context(|| format!("relay {}: binding tcp {}", r.name, r.listen))?;
                    tasks.push(tokio::spawn(relay.run_tcp(l, stop.clone())));
                }
            }
            tracing::info!(name = %r.name, listen = %r.listen, "relay listening");
        }
        let status = Arc::new(Mutex::new(ShipStatus::default()));
        let client = tls::Client::new(&url, identity.tls.clone(), timeout)?;
        let shipper = Shipper::new(
            &config.ship,
            identity.enrollment.agent_id.clone(),
            spool.clone(),
            store,
            checkpoint,
            live,
            client,
            metrics.clone(),
            config.state_dir.join("dead-letter"),
            status.clone(),
        );
        let ship_task = tokio::spawn(shipper.run(stop.clone()));
        let hb_client = tls::Client::new(&url, identity.tls.clone(), timeout)?;
        tasks.push(tokio::spawn(ship::heartbeats(
            hb_client,
            config.state_dir.clone(),
            identity.tls.clone(),
            Duration::from_secs(config.ship.heartbeat_secs),
            enroll::hostname(config.hostname.as_deref()),
            spool.clone(),
            status,
            metrics.clone(),
            stop.clone(),
        )));
        tasks.push(tokio::spawn(sync_spool(
            spool.clone(),
            Duration::from_millis(config.spool.fsync_interval_ms),
            stop.clone(),
        )));
        tracing::info!(
            agent_id = %identity.enrollment.agent_id,
            server = %url,
            "agent running"
        );

        wait_for_signal().await;
        tracing::info!("stopping: inputs first, then sending what is spooled");
        shutdown.store(true, Ordering::Relaxed);
        let _ = stop_tx.send(true);
        for t in tasks {
            let _ = t.await;
        }
        // Inputs on threads flush into the spool before the shipper's last round.
        let joined = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
        });
        let _ = joined.await;
        let _ = ship_task.await;
        anyhow::Ok(())
    });
    {
        let mut s = spool.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = s.sync() {
            tracing::error!(error = %e, "final spool sync failed");
        }
    }
    tracing::info!(counters = ?metrics.all(), "agent stopped");
    result
}

/// Fsyncs the spool now and then, so relay records (which cannot be read again) survive
/// a power cut; file lines would be re-read anyway.
async fn sync_spool(
    spool: Arc<Mutex<Spool>>,
    every: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(every.max(Duration::from_millis(10))) => {}
        }
        let spool = spool.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let mut s = spool.lock().unwrap_or_else(|p| p.into_inner());
            if let Err(e) = s.sync() {
                tracing::error!(error = %e, "spool sync failed");
            }
        })
        .await;
    }
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
