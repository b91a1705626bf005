//! `loadgen`: sends syslog over TCP, newline-framed, as fast as it can or at a set rate,
//! from N connections, and prints what it sent and how fast.
//!
//! Records are real sample lines (see `gac_benches::samples`) with fresh RFC 3164 or
//! RFC 5424 headers. A pool of them is rendered before the clock starts and sent round
//! and round, so the generator does no formatting while it sends; `sink` measures how
//! fast it can go with a receiver that does nothing.
//!
//! The last line printed is `key=value` pairs for scripts: `events`, `bytes`,
//! `seconds`, `events_per_sec`, `start_unix_ns` (just before the first byte) and
//! `end_unix_ns` (after the last byte was handed to the kernel).

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use chrono::Utc;
use chrono_tz::Tz;
use clap::Parser;
use gac_benches::samples::{self, Dialect};

/// Most bytes handed to one `write` call.
const CHUNK_BYTES: usize = 256 << 10;

/// Syslog-over-TCP load generator.
#[derive(Debug, Parser)]
#[command(name = "loadgen")]
struct Args {
    /// Where to send, e.g. 127.0.0.1:5514.
    #[arg(long)]
    target: SocketAddr,
    /// Total records to send, shared between the connections.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// TCP connections, each sent from its own thread.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Records per second over all connections; 0 sends as fast as possible.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Share of records with an RFC 5424 header, in percent; the rest are RFC 3164.
    #[arg(long, default_value_t = 50)]
    rfc5424_percent: u32,
    /// Distinct sending hosts: each record's host name becomes `<sample host>-<n>` with
    /// n below this. 0 keeps the sample's own host names.
    #[arg(long, default_value_t = 200)]
    hosts: u32,
    /// Records rendered before sending and then sent round and round.
    #[arg(long, default_value_t = 100_000)]
    pool: usize,
    /// Zone the RFC 3164 times are written in (gac-server's default input zone).
    #[arg(long, default_value = "Asia/Ho_Chi_Minh")]
    zone: Tz,
    /// Seed of the choice of samples, hosts and dialects.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// The rendered records, back to back, and where each ends.
struct Pool {
    bytes: Vec<u8>,
    /// `ends[i]` is the offset just past record i's newline.
    ends: Vec<usize>,
}

impl Pool {
    fn start_of(&self, i: usize) -> usize {
        if i == 0 { 0 } else { self.ends[i - 1] }
    }
}

/// splitmix64: enough randomness to pick samples, with no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn build_pool(args: &Args) -> anyhow::Result<Pool> {
    let samples = samples::samples();
    if samples.is_empty() {
        bail!("no sample lines could be read");
    }
    let mut rng = Rng(args.seed);
    let now = Utc::now();
    let mut text = String::with_capacity(args.pool * 160);
    let mut ends = Vec::with_capacity(args.pool);
    let mut host = String::new();
    for i in 0..args.pool {
        let s = &samples[rng.below(samples.len() as u64) as usize];
        host.clear();
        host.push_str(&s.host);
        if args.hosts > 0 {
            use std::fmt::Write as _;
            let _ = write!(host, "-{:03}", rng.below(u64::from(args.hosts)));
        }
        let dialect = if rng.below(100) < u64::from(args.rfc5424_percent) {
            Dialect::Rfc5424
        } else {
            Dialect::Rfc3164
        };
        // Microseconds apart, so RFC 5424 times are distinct but all within the run.
        let time = now + chrono::Duration::microseconds(i as i64);
        s.render(&mut text, dialect, &host, time, args.zone);
        ends.push(text.len());
    }
    Ok(Pool {
        bytes: text.into_bytes(),
        ends,
    })
}

/// One connection's work: `count` records starting at pool index `first`.
fn send(
    stream: &mut TcpStream,
    pool: &Pool,
    first: usize,
    count: u64,
    rate: f64,
    start: Instant,
) -> anyhow::Result<u64> {
    let n = pool.ends.len();
    let (mut i, mut sent, mut bytes) = (first % n, 0u64, 0u64);
    // At a set rate, send small batches (about 10 ms worth) so the pace is smooth.
    let batch_limit = if rate > 0.0 {
        ((rate / 100.0) as u64).max(1)
    } else {
        u64::MAX
    };
    while sent < count {
        let from = pool.start_of(i);
        let mut j = i;
        let mut k = 0;
        while j < n && sent + k < count && k < batch_limit && pool.ends[j] - from < CHUNK_BYTES {
            j += 1;
            k += 1;
        }
        if k == 0 {
            // A single record larger than a chunk: send it alone.
            j = i + 1;
            k = 1;
        }
        let to = pool.ends[j - 1];
        stream.write_all(&pool.bytes[from..to])?;
        bytes += (to - from) as u64;
        sent += k;
        i = if j == n { 0 } else { j };
        if rate > 0.0 {
            let due = Duration::from_secs_f64(sent as f64 / rate);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Write)?;
    Ok(bytes)
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.connections == 0 || args.pool == 0 {
        bail!("--connections and --pool must be at least 1");
    }
    let built = Instant::now();
    let pool = Arc::new(build_pool(&args)?);
    eprintln!(
        "loadgen: rendered {} records ({} bytes, {:.0} bytes on average) in {:.2} s",
        pool.ends.len(),
        pool.bytes.len(),
        pool.bytes.len() as f64 / pool.ends.len() as f64,
        built.elapsed().as_secs_f64()
    );

    let mut streams = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let s = TcpStream::connect(args.target)
            .with_context(|| format!("connecting to {}", args.target))?;
        s.set_nodelay(true)?;
        streams.push(s);
    }
    let per_conn_rate = args.rate as f64 / args.connections as f64;
    let barrier = Arc::new(Barrier::new(args.connections + 1));
    let conns = args.connections as u64;
    let mut threads = Vec::with_capacity(args.connections);
    for (c, mut stream) in streams.into_iter().enumerate() {
        let c64 = c as u64;
        let count = args.events / conns + u64::from(c64 < args.events % conns);
        let first = c * pool.ends.len() / args.connections;
        let (pool, barrier) = (pool.clone(), barrier.clone());
        threads.push(std::thread::spawn(move || {
            barrier.wait();
            let start = Instant::now();
            send(&mut stream, &pool, first, count, per_conn_rate, start)
        }));
    }
    let start_ns = unix_ns();
    let start = Instant::now();
    barrier.wait();
    let mut bytes = 0;
    for t in threads {
        bytes += t
            .join()
            .map_err(|_| anyhow::anyhow!("a sender thread panicked"))??;
    }
    let secs = start.elapsed().as_secs_f64();
    let end_ns = unix_ns();
    let rate = args.events as f64 / secs;
    println!(
        "loadgen: sent {} events ({:.1} MB) over {} connections in {secs:.3} s: {rate:.0} events/s, {:.1} MB/s",
        args.events,
        bytes as f64 / 1e6,
        args.connections,
        bytes as f64 / 1e6 / secs
    );
    println!(
        "events={} bytes={bytes} seconds={secs:.3} events_per_sec={rate:.0} start_unix_ns={start_ns} end_unix_ns={end_ns}",
        args.events
    );
    Ok(())
}
