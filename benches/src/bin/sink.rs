//! `sink`: a TCP receiver that does nothing but count newlines, to show how fast
//! `loadgen` can send when the receiver is not the limit.
//!
//! Accepts `--connections` connections on a loopback address, reads each to its end,
//! and prints lines, bytes, seconds from the first byte to the last, and lines/s.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;

/// Bytes read per `read` call.
const READ_BYTES: usize = 256 << 10;

/// Newline-counting TCP sink.
#[derive(Debug, Parser)]
#[command(name = "sink")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:5599")]
    listen: SocketAddr,
    /// Connections to accept before waiting for them all to end.
    #[arg(long, default_value_t = 4)]
    connections: usize,
}

/// Per connection: lines, bytes, when its first byte and its last byte came.
type Tally = (u64, u64, Option<Instant>, Option<Instant>);

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener =
        TcpListener::bind(args.listen).with_context(|| format!("binding {}", args.listen))?;
    eprintln!(
        "sink: listening on {}, waiting for {} connections",
        args.listen, args.connections
    );
    let tallies: Arc<Mutex<Vec<Tally>>> = Arc::default();
    let mut threads = Vec::new();
    for _ in 0..args.connections {
        let (mut stream, _) = listener.accept()?;
        let tallies = tallies.clone();
        threads.push(std::thread::spawn(move || -> std::io::Result<()> {
            let mut buf = vec![0u8; READ_BYTES];
            let mut t: Tally = (0, 0, None, None);
            loop {
                let n = stream.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                let now = Instant::now();
                t.2.get_or_insert(now);
                t.3 = Some(now);
                t.1 += n as u64;
                t.0 += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
            }
            tallies.lock().unwrap_or_else(|p| p.into_inner()).push(t);
            Ok(())
        }));
    }
    for t in threads {
        t.join()
            .map_err(|_| anyhow::anyhow!("a reader thread panicked"))??;
    }
    let tallies = tallies.lock().unwrap_or_else(|p| p.into_inner());
    let lines: u64 = tallies.iter().map(|t| t.0).sum();
    let bytes: u64 = tallies.iter().map(|t| t.1).sum();
    let first = tallies.iter().filter_map(|t| t.2).min();
    let last = tallies.iter().filter_map(|t| t.3).max();
    let secs = match (first, last) {
        (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
        _ => 0.0,
    };
    println!(
        "sink: received {lines} lines ({:.1} MB) in {secs:.3} s: {:.0} lines/s",
        bytes as f64 / 1e6,
        lines as f64 / secs.max(1e-9)
    );
    Ok(())
}
