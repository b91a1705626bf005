//! `parse_loop FAMILY [ROUNDS] [auto]`: parses the sshd or access-log sample lines of the
//! `parse_formats` bench (the lines `auto` gives to that parser, read with the format an
//! input would declare, or as `auto` when asked) ROUNDS times and prints the wall-clock
//! time per line. A plain
//! loop with no harness, for profilers: `perf record`, and `valgrind --tool=callgrind`
//! for instruction counts that code layout does not move (BENCHMARKS.md, "Method").
//! Allocates through jemalloc, as `gac-server` does.

use std::hint::black_box;
use std::time::Instant;

use anyhow::{Context, bail};
use gac_event::Timestamp;
use gac_parse::{BodyOutcome, Format, TimePolicy, formats, parse};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "../benches/common/samples.rs"]
mod samples;

use samples::{AUTH_FILES, WEB_FILES};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let family = args
        .next()
        .context("usage: parse_loop sshd|access [ROUNDS] [auto]")?;
    let rounds: usize = args.next().map_or(Ok(10_000), |r| r.parse())?;
    let auto = args.next().is_some_and(|a| a == "auto");
    let (files, parser, declared) = match family.as_str() {
        "sshd" => (AUTH_FILES, "sshd", Format::Syslog),
        "access" => (
            WEB_FILES,
            "web.access",
            Format::Record(formats::record_parser("web.access").context("web.access")?),
        ),
        other => bail!("unknown family {other:?}: sshd or access"),
    };
    let received: Timestamp = "2025-07-01T03:00:00Z".parse()?;
    let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
    let lines: Vec<&str> = files
        .iter()
        .flat_map(|(_, text)| text.lines())
        .filter(|line| {
            let (_, p) = parse(line.as_bytes(), received, &policy, Format::Auto);
            p.parser == Some(parser) && p.body == BodyOutcome::Parsed
        })
        .collect();
    let declared = if auto { Format::Auto } else { declared };
    let start = Instant::now();
    for _ in 0..rounds {
        for line in &lines {
            black_box(parse(
                black_box(line.as_bytes()),
                received,
                &policy,
                declared,
            ));
        }
    }
    let per_line = start.elapsed().as_nanos() as f64 / (rounds * lines.len()) as f64;
    println!("{} lines, {per_line:.1} ns/line", lines.len());
    Ok(())
}
