//! End to end: `kill -9` of the server, at moments when its index has committed some of
//! what the write-ahead log holds and not the rest, loses nothing and duplicates
//! nothing: after restarts every accepted record is searchable exactly once.
//!
//! Each record carries its own second as event time, so a one-second histogram is an
//! exact census: every bucket must hold exactly one event, and there must be as many
//! buckets as records sent.

// A panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::io::{BufWriter, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use gac_event::Timestamp;
use gac_tests::Server;

/// Records per round; large enough that indexing spans several commits.
const PER_ROUND: usize = 15_000;
const ROUNDS: usize = 3;
/// Event time of record `k`: one second apart, starting a day ago (recent enough that
/// retention keeps it, and the same for every call within the test).
fn time_of(k: usize) -> Timestamp {
    static BASE_SECS: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let base = *BASE_SECS.get_or_init(|| (Timestamp::now().secs() - 86_400) / 3600 * 3600);
    Timestamp::from_secs(base + k as i64)
}

/// Sends the round's numbered RFC 5424 records over one TCP connection.
fn send(server: &Server, round: usize) {
    let stream = TcpStream::connect(("127.0.0.1", server.syslog_port)).unwrap();
    let mut w = BufWriter::new(stream);
    for i in 0..PER_ROUND {
        let k = round * PER_ROUND + i;
        writeln!(
            w,
            "<134>1 {} host-{round} loadgen - - - crash-test record {k}",
            time_of(k)
        )
        .unwrap();
    }
    w.flush().unwrap();
}

/// Waits until the log has taken `n` records in this run of the server.
fn wait_appended(server: &Server, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.counter("wal.appended").unwrap_or(0) < n {
        assert!(
            Instant::now() < deadline,
            "records never reached the log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn kill_9_during_indexing_and_replay_loses_and_repeats_nothing() {
    // Commit often so that a kill lands between commits, with part of the log indexed.
    let mut server =
        Server::init(|c| c.replace("commit_interval_ms = 1000", "commit_interval_ms = 100"))
            .unwrap();
    server.start().unwrap();
    for round in 0..ROUNDS {
        send(&server, round);
        wait_appended(&server, PER_ROUND as u64);
        // Everything is in the log; the indexer is still working through it.
        server.kill9().unwrap();
        server.start().unwrap();
        // Kill again while the restart replays.
        std::thread::sleep(Duration::from_millis(150 * round as u64));
        server.kill9().unwrap();
        server.start().unwrap();
    }
    let total = PER_ROUND * ROUNDS;
    let (from, to) = (time_of(0).to_string(), time_of(total).to_string());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let out = server
            .gac(&[
                "histogram",
                "crash-test",
                "--interval-secs",
                "1",
                "--from",
                &from,
                "--to",
                &to,
                "--json",
            ])
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let buckets = h["buckets"].as_array().unwrap();
        let twice: Vec<_> = buckets.iter().filter(|b| b["count"] != 1).collect();
        assert!(
            twice.is_empty(),
            "records indexed more than once: {:?}",
            &twice[..twice.len().min(5)]
        );
        if buckets.len() == total {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {total} records searchable:\n{}",
            buckets.len(),
            server.log()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    server.stop().unwrap();
}
