//! Time per record of `gac_parse::parse_syslog`, the indexer's first step, on real
//! lines: as found in the sample files (mostly RFC 3164 without PRI), and with the
//! fresh RFC 3164 and RFC 5424 headers `loadgen` sends.

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gac_benches::samples::{self, Dialect};
use gac_event::Timestamp;
use gac_parse::TimePolicy;

fn rendered(dialect: Dialect) -> Vec<String> {
    let zone = chrono_tz::Asia::Ho_Chi_Minh;
    let now = Utc::now();
    samples::samples()
        .iter()
        .map(|s| {
            let mut line = String::new();
            s.render(&mut line, dialect, "fw-01", now, zone);
            line.truncate(line.trim_end().len());
            line
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
    let received = Timestamp::now();
    let sets: [(&str, Vec<String>); 3] = [
        (
            "sample files as found",
            samples::raw_lines()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        ),
        ("fresh RFC 3164", rendered(Dialect::Rfc3164)),
        ("fresh RFC 5424", rendered(Dialect::Rfc5424)),
    ];
    let mut group = c.benchmark_group("parse_syslog");
    for (name, lines) in &sets {
        // One iteration parses every line, so report per-line figures.
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                for line in lines {
                    black_box(gac_parse::parse_syslog(
                        black_box(line.as_bytes()),
                        received,
                        &policy,
                    ));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
