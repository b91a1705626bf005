//! Time per record of `gac_parse::parse`, the indexer's parse step, for each format
//! family, on the real sample lines of `crates/parse/tests/data` (sources in its
//! NOTICE.md): once as an `auto` input reads them (every record parser's `detect` is
//! asked first) and once with the format an input would declare for them. Peers on the
//! same lines in the same run: the `syslog_loose` crate (the header parser of Vector and
//! other Rust shippers) and a combined-log-format regex (the way grok and VRL's
//! `parse_apache_log` read access lines). Results in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::LazyLock;

use criterion::measurement::Measurement;
use criterion::{Criterion, Throughput};
use gac_event::Timestamp;
use gac_parse::{BodyOutcome, Format, Outcome, TimePolicy, formats, parse, parse_syslog};
use regex::Regex;

mod common;
#[path = "common/samples.rs"]
mod samples;

use samples::{AUTH_FILES, WEB_FILES};

/// Sample files, compiled in.
macro_rules! data {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../crates/parse/tests/data/", $name)),
        )
    };
}

const SYSLOG_FILES: &[(&str, &str)] = &[
    data!("syslog-elastic.log"),
    data!("syslog-crowdsec.log"),
    data!("loghub-linux.log"),
];
/// A format family: the files its lines come from and the parser names (as `auto` counts
/// them) that belong to it. `None` is the plain syslog header with no body parser.
struct Family {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    parsers: &'static [Option<&'static str>],
}

const FAMILIES: &[Family] = &[
    Family {
        name: "syslog header only",
        files: SYSLOG_FILES,
        parsers: &[None],
    },
    Family {
        name: "sshd",
        files: AUTH_FILES,
        parsers: &[Some("sshd")],
    },
    Family {
        name: "sudo, su, pam, shadow",
        files: AUTH_FILES,
        parsers: &[Some("sudo"), Some("su"), Some("pam"), Some("shadow")],
    },
    Family {
        name: "web access",
        files: WEB_FILES,
        parsers: &[Some("web.access")],
    },
    Family {
        name: "web error",
        files: WEB_FILES,
        parsers: &[Some("nginx.error"), Some("apache.error")],
    },
    Family {
        name: "iptables",
        files: &[data!("iptables.log")],
        parsers: &[Some("iptables")],
    },
    Family {
        name: "pfsense filterlog",
        files: &[data!("pfsense.log")],
        parsers: &[Some("pfsense.filterlog")],
    },
    Family {
        name: "fortigate",
        files: &[data!("fortigate.log")],
        parsers: &[
            Some("fortinet.fortigate"),
            Some("fortinet.fortigate.syslog"),
        ],
    },
    Family {
        name: "cisco asa",
        files: &[data!("cisco-asa.log")],
        parsers: &[Some("cisco.asa")],
    },
    Family {
        name: "suricata eve",
        files: &[data!("suricata.log")],
        parsers: &[Some("suricata.eve")],
    },
    Family {
        name: "zeek json",
        files: &[data!("zeek.log")],
        parsers: &[Some("zeek.json")],
    },
    Family {
        name: "zeek tsv",
        files: &[data!("zeek-tsv.log")],
        parsers: &[Some("zeek.tsv")],
    },
    Family {
        name: "windows winlogbeat",
        files: &[data!("windows/winlogbeat.jsonl")],
        parsers: &[Some("windows.winlogbeat")],
    },
    Family {
        name: "auditd",
        files: &[data!("auditd.log")],
        parsers: &[Some("auditd"), Some("auditd.syslog")],
    },
    Family {
        name: "cef",
        files: &[data!("cef.log")],
        parsers: &[Some("cef"), Some("cef.syslog")],
    },
    Family {
        name: "leef",
        files: &[data!("leef.log")],
        parsers: &[Some("leef"), Some("leef.syslog")],
    },
    Family {
        name: "json",
        files: &[data!("json.log")],
        parsers: &[Some("json")],
    },
];

/// The receive time of the golden tests, so year inference reads the samples as they do.
static RECEIVED: LazyLock<Timestamp> = LazyLock::new(|| {
    "2025-07-01T03:00:00Z"
        .parse()
        .expect("a valid RFC 3339 time")
});
static POLICY: LazyLock<TimePolicy> =
    LazyLock::new(|| TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh));

/// A family's lines, each with the format an input would declare for it: the record
/// parser `auto` chose, or `syslog` when the record had a syslog header.
fn lines(family: &Family) -> Vec<(&'static str, Format)> {
    let mut out = Vec::new();
    for (_, text) in family.files {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (_, p) = parse(line.as_bytes(), *RECEIVED, &POLICY, Format::Auto);
            let belongs = match p.parser {
                None => p.header != Outcome::Unparsed && family.parsers.contains(&None),
                Some(name) => p.body == BodyOutcome::Parsed && family.parsers.contains(&Some(name)),
            };
            if !belongs {
                continue;
            }
            let declared = match (p.header, p.parser) {
                (Outcome::Unparsed, Some(name)) => Format::Record(
                    formats::record_parser(name).expect("auto named a record parser it has"),
                ),
                _ => Format::Syslog,
            };
            // The declared format must read the line as well as `auto` did.
            let (_, d) = parse(line.as_bytes(), *RECEIVED, &POLICY, declared);
            assert_eq!(
                (d.parser, d.body),
                (p.parser, p.body),
                "{}: {line}",
                family.name
            );
            out.push((line, declared));
        }
    }
    assert!(!out.is_empty(), "no sample lines for {}", family.name);
    out
}

fn families<M: Measurement>(c: &mut Criterion<M>) {
    for family in FAMILIES {
        let lines = lines(family);
        let mut group = common::group(c, &format!("parse/{}", family.name));
        // One iteration parses every line: criterion reports per-line figures.
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function("auto", |b| {
            b.iter(|| {
                for (line, _) in &lines {
                    black_box(parse(
                        black_box(line.as_bytes()),
                        *RECEIVED,
                        &POLICY,
                        Format::Auto,
                    ));
                }
            })
        });
        group.bench_function("declared", |b| {
            b.iter(|| {
                for (line, format) in &lines {
                    black_box(parse(
                        black_box(line.as_bytes()),
                        *RECEIVED,
                        &POLICY,
                        *format,
                    ));
                }
            })
        });
        group.finish();
    }
}

/// The syslog header alone, Gác's stage against `syslog_loose`, on the header-only and
/// the sshd lines. `syslog_loose` borrows from the line and builds no event; Gác's
/// figure includes the `Event` it returns (owned keys and values).
fn syslog_peer<M: Measurement>(c: &mut Criterion<M>) {
    for family in &FAMILIES[..2] {
        let lines = lines(family);
        let mut group = common::group(c, &format!("peer syslog header/{}", family.name));
        group.throughput(Throughput::Elements(lines.len() as u64));
        group.bench_function("gac parse_syslog", |b| {
            b.iter(|| {
                for (line, _) in &lines {
                    black_box(parse_syslog(black_box(line.as_bytes()), *RECEIVED, &POLICY));
                }
            })
        });
        group.bench_function("syslog_loose", |b| {
            b.iter(|| {
                for (line, _) in &lines {
                    black_box(syslog_loose::parse_message_with_year(
                        black_box(line),
                        |_| 2025,
                        syslog_loose::Variant::Either,
                    ));
                }
            })
        });
        group.finish();
    }
}

/// Common and combined log format as a capturing regex; captures are not converted or
/// copied, so this is a lower bound for a regex-based reader.
const ACCESS_REGEX: &str = r#"^(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+) (\S+) ?(\S*)" (\d{3}) (\d+|-)(?: "([^"]*)" "([^"]*)")?"#;

fn access_peer<M: Measurement>(c: &mut Criterion<M>) {
    let family = FAMILIES
        .iter()
        .find(|f| f.name == "web access")
        .expect("the web access family is listed");
    let re = Regex::new(ACCESS_REGEX).expect("the access regex compiles");
    // Both on the lines the regex reads: it does not know virtual-host prefixes or
    // malformed request lines, which Gác's parser does read.
    let all = lines(family);
    let lines: Vec<_> = all
        .iter()
        .filter(|(l, _)| re.is_match(l))
        .copied()
        .collect();
    eprintln!(
        "peer regex reads {} of {} access lines",
        lines.len(),
        all.len()
    );
    let mut group = common::group(c, "peer access/web access");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("gac web.access", |b| {
        b.iter(|| {
            for (line, format) in &lines {
                black_box(parse(
                    black_box(line.as_bytes()),
                    *RECEIVED,
                    &POLICY,
                    *format,
                ));
            }
        })
    });
    group.bench_function("regex captures", |b| {
        b.iter(|| {
            for (line, _) in &lines {
                black_box(re.captures(black_box(line)));
            }
        })
    });
    group.finish();
}

common::bench_main!(families, syslog_peer, access_peer);
