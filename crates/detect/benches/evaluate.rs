//! Events per second through the Sigma engine with a full public rule set loaded.
//!
//! Rules: every `.yml` under the folders named in `GAC_BENCH_SIGMA` (colon-separated;
//! e.g. SigmaHQ's `rules`, `rules-emerging-threats` and `rules-threat-hunting`, >3,000
//! rules), plus the pack in `detections/rules`. Without the variable, only the rules the
//! repository carries (`tests/data/differential/rules`, 275, and the pack): the bench
//! runs anywhere, but the figure in BENCHMARKS.md needs the full set. Nothing outside the
//! repository is read unless the variable names it.
//!
//! Events, a realistic mix of real records:
//! - every line of `crates/parse/tests/data/*.log` (sshd, sudo, auditd, web access and
//!   error logs, iptables, pfSense, FortiGate, ASA, Zeek, Suricata, ...) read by
//!   `gac_parse::parse` as an `auto` input would;
//! - the Windows events of `tests/data/differential/events.jsonl` (SigmaHQ regression
//!   data: Sysmon, Security, PowerShell, ...) in the shape `gac-parse` gives Windows
//!   events (`winlog.channel`, `winlog.event_id`, `winlog.event_data.*`).
//!
//! Three measurements:
//! - `mapped`: the server's path. Rules loaded through `detections/mappings` into a
//!   [`RuleSet`] (rules of log sources without a mapping do not load), each event
//!   evaluated and its matches fed to the correlations. Before it, the same loop is timed
//!   by this thread's CPU time (printed as events per CPU-second), which other processes
//!   on a shared machine do not inflate; `GAC_BENCH_BY_DATASET=1` also prints that
//!   figure per `event.dataset`.
//! - `mapped_unfiltered`: the peer, the same rules and events through
//!   [`RuleSet::evaluate_unfiltered`] (every `when` and every rule of the event's log
//!   sources evaluated in full, as the engine did before the gates and the prefilter).
//! - `unmapped`: every rule that compiles, loaded with mappings under which every log
//!   source selects every event, run against the flat Windows/Linux events with Sigma
//!   field names (`tests/data/differential/events.jsonl`): no log source filtering at
//!   all, the worst case.
//!
//! ```text
//! GAC_BENCH_SIGMA=/path/sigma/rules:/path/sigma/rules-emerging-threats:/path/sigma/rules-threat-hunting \
//!     cargo bench -p gac-detect --bench evaluate
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gac_detect::{
    Compiled, CorrelationLimits, CorrelationState, LogSource, Mappings, Placeholders, RuleSet,
};
use gac_event::{Event, Timestamp, Value};
use gac_parse::{Format, TimePolicy};
use serde_json::Value as Json;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read rule folder {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml") {
            out.push(path);
        }
    }
}

/// (origin, text) of every rule file to load.
fn rule_texts() -> Vec<(String, String)> {
    let mut dirs: Vec<PathBuf> = match std::env::var("GAC_BENCH_SIGMA") {
        Ok(v) => v
            .split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect(),
        Err(_) => {
            eprintln!(
                "GAC_BENCH_SIGMA not set: only the repository's 275 SigmaHQ rules are loaded"
            );
            vec![repo().join("crates/detect/tests/data/differential/rules")]
        }
    };
    dirs.push(repo().join("detections/rules"));
    let mut files = Vec::new();
    for d in &dirs {
        yaml_files(d, &mut files);
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.display().to_string(), text))
        })
        .collect()
}

fn mappings() -> Mappings {
    let mut files = Vec::new();
    yaml_files(&repo().join("detections/mappings"), &mut files);
    files.sort();
    let mut m = Mappings::empty();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("mapping files are readable");
        m.add_yaml(&text)
            .expect("the repository's mappings are valid");
    }
    m
}

/// Flat events with Sigma field names (`id`, `event`) from the differential data.
fn flat_events() -> Vec<(String, Json)> {
    let path = repo().join("crates/detect/tests/data/differential/events.jsonl");
    let text = std::fs::read_to_string(path).expect("differential events are in the repository");
    text.lines()
        .filter_map(|l| serde_json::from_str::<Json>(l).ok())
        .map(|v| {
            (
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["event"].clone(),
            )
        })
        .collect()
}

/// A flat Sigma-named Windows event in the shape gac-parse gives Windows events.
fn windows_event(flat: &Json) -> Option<Event> {
    let obj = flat.as_object()?;
    let channel = obj.get("Channel")?.as_str()?;
    let t = Timestamp::from_secs(1_700_000_000);
    let mut e = Event::new(t, t, flat.to_string());
    e.set(
        "event.dataset",
        format!("windows.{}", channel.to_lowercase()),
    );
    e.set("winlog.channel", channel);
    for (k, v) in obj {
        let text = match v {
            Json::String(s) => s.clone(),
            Json::Null => continue,
            other => other.to_string(),
        };
        match k.as_str() {
            "Channel" => {}
            "EventID" => e.set("winlog.event_id", Value::Int(text.parse().unwrap_or(0))),
            "Provider_Name" => e.set("winlog.provider_name", text),
            "Computer" => e.set("winlog.computer_name", text),
            "EventRecordID" => e.set("winlog.record_id", text),
            other => e.set(format!("winlog.event_data.{other}"), text),
        }
    }
    Some(e)
}

/// On-CPU time of the calling thread in nanoseconds (Linux; `None` elsewhere).
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Events per second of this thread's CPU time, over at least ten seconds of it.
fn cpu_rate(
    events: &[Event],
    f: impl FnMut(&Event, &mut CorrelationState) -> usize,
) -> Option<f64> {
    cpu_rate_for(events, 10_000_000_000, f)
}

/// Events per second of this thread's CPU time, over at least `min_ns` of it.
fn cpu_rate_for(
    events: &[Event],
    min_ns: u64,
    mut f: impl FnMut(&Event, &mut CorrelationState) -> usize,
) -> Option<f64> {
    let mut state = CorrelationState::new(CorrelationLimits::default());
    let start = thread_cpu_ns()?;
    let (mut n, mut sink) = (0u64, 0usize);
    while thread_cpu_ns()? - start < min_ns {
        for e in events {
            sink += f(black_box(e), &mut state);
        }
        n += events.len() as u64;
    }
    black_box(sink);
    let secs = (thread_cpu_ns()? - start) as f64 / 1e9;
    Some(n as f64 / secs)
}

/// Mappings under which each of these log sources selects every event.
fn catch_all(sources: &[LogSource]) -> Mappings {
    let mut yaml = String::from("version: 1\nlogsources:\n");
    for ls in sources {
        let part = |k: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| format!("{k}: {}, ", serde_json::Value::from(v.as_str())))
                .unwrap_or_default()
        };
        yaml += &format!(
            "  - logsource: {{ {}{}{} }}\n    when: {{ _gac_never_set|exists: false }}\n",
            part("product", &ls.product),
            part("category", &ls.category),
            part("service", &ls.service),
        );
    }
    Mappings::from_yaml(&yaml).expect("generated mappings are valid")
}

/// The mix of events for the mapped measurement.
fn mixed_events() -> Vec<Event> {
    let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
    let received = Timestamp::from_secs(1_700_000_000);
    let mut logs = Vec::new();
    let data = repo().join("crates/parse/tests/data");
    for entry in std::fs::read_dir(&data)
        .expect("parser test data is in the repository")
        .flatten()
    {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "log") {
            logs.push(p);
        }
    }
    logs.sort();
    let mut events = Vec::new();
    for p in logs {
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            events.push(gac_parse::parse(line.as_bytes(), received, &policy, Format::Auto).0);
        }
    }
    events.extend(flat_events().iter().filter_map(|(_, e)| windows_event(e)));
    events
}

fn bench(c: &mut Criterion) {
    let texts = rule_texts();

    // The server's path: rules through the mappings, events by log source.
    let mut set = RuleSet::new(mappings());
    let mut refused = 0usize;
    for (origin, text) in &texts {
        refused += set.load(origin, text).iter().filter(|r| r.is_err()).count();
    }
    refused += set.link().len();
    let events = mixed_events();
    let windows = events
        .iter()
        .filter(|e| {
            e.get_str("event.dataset")
                .is_some_and(|d| d.starts_with("windows."))
        })
        .count();
    eprintln!(
        "mapped: {} rules and {} correlations loaded ({refused} refused: no mapping or unsupported); {} events ({windows} Windows)",
        set.len(),
        set.correlations().len(),
        events.len()
    );
    // Criterion measures wall time, which on a shared machine counts other processes'
    // turns too; this counts only the time this thread ran (Linux schedstat), for an
    // events-per-CPU-second figure.
    if let Some(rate) = cpu_rate(&events, |e, state| {
        let matches = set.evaluate(e);
        set.correlate(state, e, e.timestamp.nanos(), &matches).len() + matches.len()
    }) {
        eprintln!("mapped: {rate:.0} events per CPU-second of this thread");
    }
    if std::env::var_os("GAC_BENCH_BY_DATASET").is_some() {
        let mut by: std::collections::BTreeMap<String, Vec<Event>> = Default::default();
        for e in &events {
            let ds = e.get_str("event.dataset").unwrap_or("(none)").to_owned();
            by.entry(ds).or_default().push(e.clone());
        }
        for (ds, evs) in &by {
            if let Some(rate) = cpu_rate_for(evs, 1_000_000_000, |e, _| set.evaluate(e).len()) {
                eprintln!("  {ds:<32} {:>5} events {rate:>10.0}/s", evs.len());
            }
        }
    }
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("mapped", |b| {
        let mut state = CorrelationState::new(CorrelationLimits::default());
        b.iter(|| {
            let mut n = 0;
            for e in &events {
                let matches = set.evaluate(black_box(e));
                n += matches.len();
                n += set
                    .correlate(&mut state, e, e.timestamp.nanos(), &matches)
                    .len();
            }
            black_box(n)
        })
    });

    // The peer in the same run: the same rule set with every `when` and every rule of the
    // event's log sources evaluated in full (no gates, no prefilter).
    group.bench_function("mapped_unfiltered", |b| {
        b.iter(|| {
            let mut n = 0;
            for e in &events {
                n += set.evaluate_unfiltered(black_box(e)).len();
            }
            black_box(n)
        })
    });

    // No log source filtering: every rule against every flat Sigma-named event, through
    // a rule set whose every log source selects every event.
    let placeholders = Placeholders::new();
    let mut sources: Vec<LogSource> = Vec::new();
    for (origin, text) in &texts {
        for r in gac_detect::compile(origin, text, &placeholders) {
            if let Ok(Compiled::Rule(r)) = r
                && !sources.contains(&r.meta.logsource)
            {
                sources.push(r.meta.logsource);
            }
        }
    }
    let mut all = RuleSet::new(catch_all(&sources));
    for (origin, text) in &texts {
        let _ = all.load(origin, text);
    }
    let _ = all.link();
    let flat: Vec<common::WinEvent> = flat_events()
        .iter()
        .map(|(_, e)| common::WinEvent {
            fields: e
                .as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
        })
        .collect();
    eprintln!(
        "unmapped: {} rules loaded, {} events",
        all.len(),
        flat.len()
    );
    group.throughput(Throughput::Elements(flat.len() as u64));
    group.bench_function("unmapped", |b| {
        b.iter(|| {
            let mut n = 0;
            for e in &flat {
                n += all.evaluate(black_box(e)).len();
            }
            black_box(n)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Long enough for a steady figure on a shared two-core machine, short enough to run.
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
