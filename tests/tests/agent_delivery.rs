//! End to end: a real `gac-agent` following a real file into a real `gac-server` over
//! mutual TLS. A writer appends numbered lines and rotates the file (by rename and by
//! copytruncate, as logrotate does) while the server or the agent is killed with -9,
//! restarted, or kept away; afterwards every line is searchable exactly once.
//! Enrollment, a wrong CA fingerprint, an expired token and a revoked agent are refused.

// A panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gac_tests::{Agent, Server};

/// Lines per delivery test: enough for many batches and ten rotations.
const LINES: usize = 3000;
/// Lines between rotations.
const ROTATE_EVERY: usize = 300;

/// A word no other test writes, so a search finds this run's lines only.
fn run_tag(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("e2e{name}{nanos:x}")
}

/// Appends `LINES` numbered lines to `dir/app.log` over about `secs` seconds, rotating
/// every `ROTATE_EVERY` lines: odd rotations rename the file away (`app.log.K`), even
/// ones copy it and truncate it in place (copytruncate). Rotated files are kept, as
/// logrotate keeps them until their count runs out.
fn writer(
    dir: PathBuf,
    tag: String,
    secs: f64,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let path = dir.join("app.log");
        let pause = Duration::from_secs_f64(secs / LINES as f64);
        let mut rotation = 0;
        let open = |p: &Path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .unwrap()
        };
        let mut f = open(&path);
        for k in 0..LINES {
            if k > 0 && k % ROTATE_EVERY == 0 {
                rotation += 1;
                let rotated = dir.join(format!("app.log.{rotation}"));
                if rotation % 2 == 1 {
                    std::fs::rename(&path, &rotated).unwrap();
                    f = open(&path);
                } else {
                    // copytruncate: the writer keeps its descriptor (O_APPEND), the copy
                    // holds what was written before the cut.
                    std::fs::copy(&path, &rotated).unwrap();
                    f.set_len(0).unwrap();
                }
            }
            writeln!(f, "{tag} line {k:06} of the agent delivery test").unwrap();
            std::thread::sleep(pause);
        }
        done.store(true, Ordering::SeqCst);
    })
}

/// Waits until the search for `tag` holds `LINES` events (or two minutes pass), then a
/// little longer so that late duplicates would show, and checks every line is there once.
fn assert_exactly_once(server: &Server, agent: &Agent, tag: &str) {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut hits = Vec::new();
    while Instant::now() < deadline {
        hits = server.search(tag, LINES + 100).unwrap();
        if hits.len() >= LINES {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    std::thread::sleep(Duration::from_secs(3));
    let hits = if hits.len() >= LINES {
        server.search(tag, LINES + 100).unwrap()
    } else {
        hits
    };
    let numbers: BTreeSet<usize> = hits
        .iter()
        .filter_map(|h| {
            let m = h["message"].as_str()?;
            let at = m.find(" line ")?;
            m[at + 6..at + 12].parse().ok()
        })
        .collect();
    let missing: Vec<usize> = (0..LINES)
        .filter(|k| !numbers.contains(k))
        .take(20)
        .collect();
    assert!(
        missing.is_empty() && hits.len() == LINES,
        "{} events for {} distinct of {LINES} lines; first missing {missing:?}\n--- agent log (tail):\n{}\n--- server log (tail):\n{}",
        hits.len(),
        numbers.len(),
        tail(&agent.log(), 60),
        tail(&server.log(), 40),
    );
}

/// A counter from the agent's last "agent stopped" log line (counters of that run).
fn stopped_counter(log: &str, name: &str) -> u64 {
    let line = log
        .lines()
        .rev()
        .find(|l| l.contains("agent stopped"))
        .unwrap_or("");
    let key = format!("\"{name}\": ");
    line.find(&key)
        .and_then(|at| {
            let rest = &line[at + key.len()..];
            let end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .unwrap_or(0)
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[test]
fn server_killed_restarted_and_away_loses_and_repeats_nothing() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();
    let mut agent = Agent::new(|c| c).unwrap();
    agent.enroll_ok(&server).unwrap();
    agent.start().unwrap();
    let tag = run_tag("srv");
    let done = Arc::new(AtomicBool::new(false));
    let w = writer(agent.logs.clone(), tag.clone(), 12.0, done.clone());
    // kill -9 twice while batches flow, then an outage of several seconds.
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9().unwrap();
    server.start().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill9().unwrap();
    server.start().unwrap();
    std::thread::sleep(Duration::from_millis(1000));
    server.kill9().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    server.start().unwrap();
    w.join().unwrap();
    assert!(done.load(Ordering::SeqCst));
    assert!(agent.exited().is_none(), "the agent died:\n{}", agent.log());
    assert_exactly_once(&server, &agent, &tag);
    agent.stop().unwrap();
    // The run went through what it meant to: both kinds of rotation, and retries.
    let log = agent.log();
    assert!(
        stopped_counter(&log, "file.rotations") >= 4,
        "{}",
        tail(&log, 5)
    );
    assert!(
        stopped_counter(&log, "file.copies_followed") >= 4,
        "{}",
        tail(&log, 5)
    );
    assert!(
        stopped_counter(&log, "ship.network_errors") + stopped_counter(&log, "ship.retry_later")
            > 0
    );
    assert_eq!(stopped_counter(&log, "file.loss_events"), 0);
}

#[test]
fn agent_killed_and_restarted_loses_and_repeats_nothing() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();
    let mut agent = Agent::new(|c| c).unwrap();
    agent.enroll_ok(&server).unwrap();
    agent.start().unwrap();
    let tag = run_tag("agt");
    let done = Arc::new(AtomicBool::new(false));
    let w = writer(agent.logs.clone(), tag.clone(), 12.0, done.clone());
    // kill -9 at uneven moments, sometimes staying down a while.
    for (i, up_ms) in [700u64, 1300, 900, 1700, 600, 1100, 1500]
        .iter()
        .enumerate()
    {
        std::thread::sleep(Duration::from_millis(*up_ms));
        agent.kill9().unwrap();
        if i % 3 == 2 {
            std::thread::sleep(Duration::from_millis(400));
        }
        agent.start().unwrap();
    }
    w.join().unwrap();
    assert_exactly_once(&server, &agent, &tag);
    // Nothing had to be reported lost: every rotation was followed across the restarts.
    assert!(!agent.log().contains("loss event"), "{}", agent.log());
    // A clean stop after a kill-heavy run.
    agent.stop().unwrap();
}

#[test]
fn enrollment_wrong_ca_expired_token_reinstall_and_revocation() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();

    // A token whose CA fingerprint is not the server's: the agent refuses the server
    // during the handshake and writes nothing.
    let agent = Agent::new(|c| c).unwrap();
    let good = server.enroll_token(None).unwrap();
    let (head, _) = good.rsplit_once('.').unwrap();
    let wrong = format!("{head}.{}", "ab".repeat(32));
    let out = agent.enroll(&server.agent_url(), &wrong).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("issuer"),
        "{err}"
    );
    assert!(!agent.dir.path().join("state/cert.pem").exists());

    // An expired token is refused by the server.
    let short = server.enroll_token(Some(1)).unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    let out = agent.enroll(&server.agent_url(), &short).unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused the token"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The good token works once; the CA is pinned in the state directory.
    let out = agent.enroll(&server.agent_url(), &good).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ca = std::fs::read_to_string(agent.dir.path().join("state/ca.pem")).unwrap();
    assert!(ca.contains("BEGIN CERTIFICATE"));
    let id = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(agent.dir.path().join("state/enrollment.json")).unwrap(),
    )
    .unwrap()["agent_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let again = agent.enroll(&server.agent_url(), &good).unwrap();
    assert!(!again.status.success(), "a used token must not work twice");

    // A reinstall (fresh state directory, same machine id) is the same agent.
    let twin = Agent::new(|c| c).unwrap();
    std::fs::copy(
        agent.dir.path().join("machine-id"),
        twin.dir.path().join("machine-id"),
    )
    .unwrap();
    assert_eq!(twin.enroll_ok(&server).unwrap(), id);

    // Shipping works, then the agent is revoked: its lines are refused and kept.
    let mut agent = twin;
    let tag = run_tag("rev");
    std::fs::write(
        agent.logs.join("a.log"),
        format!("{tag} before revocation\n"),
    )
    .unwrap();
    agent.start().unwrap();
    let hits = server.wait_for(&tag, 1, Duration::from_secs(30)).unwrap();
    assert_eq!(hits.len(), 1, "{}", agent.log());
    server.revoke(&id).unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(agent.logs.join("a.log"))
        .unwrap();
    writeln!(f, "{tag} after revocation").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !agent.log().contains("refuses this agent") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        agent.log().contains("refuses this agent"),
        "{}",
        agent.log()
    );
    assert_eq!(server.search(&tag, 10).unwrap().len(), 1);
    // It keeps running (and spooling) rather than exiting.
    assert!(agent.exited().is_none());
    // And it cannot come back by enrolling again.
    let out = agent
        .enroll(&server.agent_url(), &server.enroll_token(None).unwrap())
        .unwrap();
    assert!(!out.status.success());
    agent.stop().unwrap();
}

/// A reinstalled agent (same machine, state wiped) numbers its sources from 1 again.
/// Its lines are new lines under a new enrollment, not duplicates of the old install's.
#[test]
fn a_reinstalled_agent_numbering_afresh_loses_nothing() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();
    let shared = tempfile::tempdir().unwrap();
    let glob = format!("{}/*.log", shared.path().display());
    let follow_shared = |c: String| {
        let start = c.find("paths = [").unwrap();
        let end = start + c[start..].find(']').unwrap() + 1;
        format!("{}paths = [\"{glob}\"]{}", &c[..start], &c[end..])
    };
    let mut first = Agent::new(follow_shared).unwrap();
    let id = first.enroll_ok(&server).unwrap();
    let tag = run_tag("reinst");
    std::fs::write(
        shared.path().join("app.log"),
        format!("{tag} old 1\n{tag} old 2\n{tag} old 3\n"),
    )
    .unwrap();
    first.start().unwrap();
    let hits = server.wait_for(&tag, 3, Duration::from_secs(30)).unwrap();
    assert_eq!(hits.len(), 3, "{}", first.log());
    first.kill9().unwrap();

    // Reinstall: same machine id, fresh state, the file started anew (numbers 1..3
    // again, under the same source path).
    let mut twin = Agent::new(follow_shared).unwrap();
    std::fs::copy(
        first.dir.path().join("machine-id"),
        twin.dir.path().join("machine-id"),
    )
    .unwrap();
    assert_eq!(twin.enroll_ok(&server).unwrap(), id);
    std::fs::write(
        shared.path().join("app.log"),
        format!("{tag} new 1\n{tag} new 2\n{tag} new 3\n"),
    )
    .unwrap();
    twin.start().unwrap();
    let hits = server.wait_for(&tag, 6, Duration::from_secs(30)).unwrap();
    let news = hits
        .iter()
        .filter(|h| h["message"].as_str().unwrap().contains(" new "))
        .count();
    assert_eq!(
        news,
        3,
        "the reinstalled agent's lines were dropped (duplicates counted: {}): {hits:?}\n{}",
        server.counter("agent.duplicates").unwrap_or(0),
        twin.log()
    );
    assert_eq!(hits.len(), 6);
    twin.stop().unwrap();
    server.stop().unwrap();
}
