//! `logfile`: writes a realistic log file for the agent benchmark, either all at once
//! (`--bytes N`: about N bytes of lines, stamped over the last `--span-secs`) or as a
//! live writer (`--rate L --secs S`: L lines a second for S seconds, each line its own
//! `write`, stamped with the time it is written).
//!
//! The lines are real: syslog-file lines (loghub Linux and OpenSSH), auth logs
//! (`crates/parse/tests/data/linux-auth-*.log`) and web access logs (`web-*.log`), about
//! 40/30/30, picked at random and given a fresh timestamp in `--zone`. Sources and
//! licences: `demo/logs/loghub/NOTICE.md`, `crates/parse/tests/data/NOTICE.md`.
//!
//! The last line printed is `lines=N bytes=B seconds=S` for scripts.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::Parser;

/// Realistic log lines with fresh timestamps, written to a file.
#[derive(Debug, Parser)]
#[command(name = "logfile")]
struct Args {
    /// The file to write (appended to, created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Write about this many bytes at once (whole lines), then stop.
    #[arg(long, conflicts_with = "rate")]
    bytes: Option<u64>,
    /// With --bytes: the lines' times spread over this many seconds up to now.
    #[arg(long, default_value_t = 3600)]
    span_secs: u64,
    /// Append this many lines a second, one `write` per line.
    #[arg(long, requires = "secs")]
    rate: Option<u64>,
    /// With --rate: for this many seconds.
    #[arg(long)]
    secs: Option<u64>,
    /// Zone the times are written in (gac-server's default zone).
    #[arg(long, default_value = "Asia/Ho_Chi_Minh")]
    zone: Tz,
    /// Seed of the choice of lines.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const SYSLOG: &[&str] = &[
    include_str!("../../../demo/logs/loghub/Linux_2k.log"),
    include_str!("../../../demo/logs/loghub/OpenSSH_2k.log"),
];
const AUTH: &[&str] = &[
    include_str!("../../../crates/parse/tests/data/linux-auth-crowdsec.log"),
    include_str!("../../../crates/parse/tests/data/linux-auth-elastic.log"),
    include_str!("../../../crates/parse/tests/data/linux-auth-fail2ban.log"),
    include_str!("../../../crates/parse/tests/data/linux-auth-loghub.log"),
    include_str!("../../../crates/parse/tests/data/linux-auth-wazuh.log"),
];
const ACCESS: &[&str] = &[
    include_str!("../../../crates/parse/tests/data/web-elastic.log"),
    include_str!("../../../crates/parse/tests/data/web-crowdsec.log"),
];

/// Where a template line's timestamp goes.
#[derive(Debug, Clone, Copy)]
enum Stamp {
    /// `Mmm dd HH:MM:SS` at the start (RFC 3164 file format), 15 bytes.
    Syslog,
    /// `[dd/Mmm/yyyy:HH:MM:SS +zzzz]` (common log format), 28 bytes from `at`.
    Access { at: usize },
}

/// A real line with its timestamp cut out.
#[derive(Debug)]
struct Template {
    line: &'static str,
    stamp: Stamp,
}

fn syslog_stamped(line: &str) -> bool {
    let b = line.as_bytes();
    b.len() > 16
        && b[..3].iter().all(u8::is_ascii_alphabetic)
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' '
}

fn access_stamp(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let at = line.find(" [")? + 1;
    let s = b.get(at..at + 28)?;
    (s[3] == b'/' && s[7] == b'/' && s[12] == b':' && s[21] == b' ' && s[27] == b']').then_some(at)
}

fn templates(texts: &[&'static str]) -> Vec<Template> {
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter_map(|line| {
            let line = line.trim_end_matches('\r');
            if syslog_stamped(line) {
                Some(Template {
                    line,
                    stamp: Stamp::Syslog,
                })
            } else {
                access_stamp(line).map(|at| Template {
                    line,
                    stamp: Stamp::Access { at },
                })
            }
        })
        .collect()
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n.max(1) as u64) as usize
    }
}

/// The three kinds of line, and the timestamps of the current second in both formats.
struct Lines {
    kinds: [Vec<Template>; 3],
    rng: Rng,
    zone: Tz,
    second: i64,
    syslog_time: String,
    access_time: String,
}

impl Lines {
    fn new(zone: Tz, seed: u64) -> anyhow::Result<Self> {
        let kinds = [templates(SYSLOG), templates(AUTH), templates(ACCESS)];
        if kinds.iter().any(Vec::is_empty) {
            bail!("a kind of sample line is missing");
        }
        Ok(Self {
            kinds,
            rng: Rng(seed),
            zone,
            second: i64::MIN,
            syslog_time: String::new(),
            access_time: String::new(),
        })
    }

    /// Appends one line stamped `time`.
    fn push(&mut self, out: &mut Vec<u8>, time: DateTime<Utc>) {
        if time.timestamp() != self.second {
            self.second = time.timestamp();
            let local = time.with_timezone(&self.zone);
            self.syslog_time = local.format("%b %e %H:%M:%S").to_string();
            self.access_time = local.format("[%d/%b/%Y:%H:%M:%S %z]").to_string();
        }
        // 40% syslog, 30% auth, 30% access.
        let kind = match self.rng.below(10) {
            0..=3 => 0,
            4..=6 => 1,
            _ => 2,
        };
        let list = &self.kinds[kind];
        let t = &list[self.rng.below(list.len())];
        match t.stamp {
            Stamp::Syslog => {
                out.extend_from_slice(self.syslog_time.as_bytes());
                out.extend_from_slice(&t.line.as_bytes()[15..]);
            }
            Stamp::Access { at } => {
                out.extend_from_slice(&t.line.as_bytes()[..at]);
                out.extend_from_slice(self.access_time.as_bytes());
                out.extend_from_slice(&t.line.as_bytes()[at + 28..]);
            }
        }
        out.push(b'\n');
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut lines = Lines::new(args.zone, args.seed)?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&args.out)
        .with_context(|| format!("opening {}", args.out.display()))?;
    let start = Instant::now();
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut buf = Vec::with_capacity(1 << 20);
    match (args.bytes, args.rate, args.secs) {
        (Some(total), None, _) => {
            // About 115 bytes a line: spread the times evenly over the span.
            let expected = (total / 115).max(1);
            let step_ns = (args.span_secs * 1_000_000_000 / expected).max(1);
            let first = Utc::now() - chrono::Duration::seconds(args.span_secs as i64);
            while bytes < total {
                let time = first + chrono::Duration::nanoseconds((count * step_ns) as i64);
                lines.push(&mut buf, time.min(Utc::now()));
                count += 1;
                if buf.len() >= 1 << 20 {
                    file.write_all(&buf)?;
                    bytes += buf.len() as u64;
                    buf.clear();
                }
                if bytes + buf.len() as u64 >= total {
                    break;
                }
            }
            file.write_all(&buf)?;
            bytes += buf.len() as u64;
        }
        (None, Some(rate), Some(secs)) => {
            let total = rate * secs;
            while count < total {
                buf.clear();
                lines.push(&mut buf, Utc::now());
                file.write_all(&buf)?;
                bytes += buf.len() as u64;
                count += 1;
                let due = Duration::from_secs_f64(count as f64 / rate.max(1) as f64);
                if let Some(wait) = due.checked_sub(start.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        _ => bail!("give --bytes, or --rate and --secs"),
    }
    file.sync_all()?;
    println!(
        "lines={count} bytes={bytes} seconds={:.2}",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
