//! Differential test against an independent Sigma implementation: pySigma's SQLite backend
//! (`tests/differential/sigma_sqlite.py` at the workspace root) converts the same SigmaHQ
//! rules to SQL and runs them over the same real events loaded into one SQLite table. The
//! set of (rule, event) matches must be identical to gac-detect's; a difference is a bug on
//! one side, fixed in gac-detect or listed in [`ALLOWED`] with the reason theirs is wrong.
//!
//! Data: `tests/data/differential` (see its NOTICE.md). Needs `python3` with
//! `pysigma` and `pysigma-backend-sqlite`, which `scripts/test.sh` installs; this test
//! installs nothing. `GAC_PYTHON` names another interpreter.

// Helpers outside #[test] functions unwrap too: a panic here is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::differential::{Outcome, gac_matches, read_events};
use gac_detect::{LogSource, Mappings, RuleSet};

/// Known differences, each (rule file, event id, the side that reports the match, why
/// that side is wrong). Empty: on this data both implementations agree exactly. A new
/// entry needs a reason that would convince a Sigma maintainer.
const ALLOWED: &[(&str, &str, Side, &str)] = &[];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Gac,
    PySigma,
}

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/differential")
}

fn pysigma(rules: &Path, events: &Path) -> Outcome {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/differential/sigma_sqlite.py");
    let python = std::env::var("GAC_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let out = Command::new(&python)
        .arg(&script)
        .arg(rules)
        .arg(events)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {python}: {e} (scripts/test.sh installs what this test needs)")
        });
    assert!(
        out.status.success(),
        "{} failed (is pySigma installed? scripts/test.sh runs `pip install pysigma pysigma-backend-sqlite`):\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Outcome::from_json_lines(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

#[test]
fn gac_detect_and_pysigma_sqlite_match_the_same_events() {
    let rules = data().join("rules");
    let events_path = data().join("events.jsonl");
    let events = read_events(&events_path).unwrap();
    let ours = gac_matches(&rules, &events).unwrap();
    let theirs = pysigma(&rules, &events_path);

    let rule_count = std::fs::read_dir(&rules).unwrap().count();
    eprintln!(
        "differential: {rule_count} rules x {} events; gac-detect {} matches ({} rules refused), pySigma {} matches ({} rules refused)",
        events.len(),
        ours.matches.len(),
        ours.errors.len(),
        theirs.matches.len(),
        theirs.errors.len(),
    );
    assert!(
        rule_count > 200 && events.len() > 300,
        "the data set shrank"
    );
    // Every rule with regression data must fire on its own events: guards against both
    // sides agreeing on nothing.
    assert!(
        ours.matches.len() > 250,
        "only {} matches",
        ours.matches.len()
    );

    // Rules only one side could run: none may be refused by gac-detect alone.
    let refused_by_us: Vec<_> = ours
        .errors
        .iter()
        .filter(|(r, _)| !theirs.errors.contains_key(*r))
        .collect();
    assert!(
        refused_by_us.is_empty(),
        "gac-detect refuses rules pySigma runs: {refused_by_us:#?}"
    );
    let skip: BTreeSet<&String> = ours.errors.keys().chain(theirs.errors.keys()).collect();
    if !theirs.errors.is_empty() {
        eprintln!(
            "rules pySigma cannot run (left out of the comparison): {:#?}",
            theirs.errors
        );
    }

    let allowed = |rule: &str, event: &str, side: Side| {
        ALLOWED
            .iter()
            .any(|(r, e, s, _)| *r == rule && *e == event && *s == side)
    };
    let mut problems = Vec::new();
    for (side, mine, other) in [
        (Side::Gac, &ours.matches, &theirs.matches),
        (Side::PySigma, &theirs.matches, &ours.matches),
    ] {
        for (rule, event) in mine.difference(other) {
            if skip.contains(rule) || allowed(rule, event, side) {
                continue;
            }
            problems.push(format!("{side:?} alone matches {rule} on {event}"));
        }
    }
    for (rule, event, side, _) in ALLOWED {
        let (mine, other) = match side {
            Side::Gac => (&ours.matches, &theirs.matches),
            Side::PySigma => (&theirs.matches, &ours.matches),
        };
        let key = ((*rule).to_owned(), (*event).to_owned());
        if !mine.contains(&key) || other.contains(&key) {
            problems.push(format!(
                "allow-list entry no longer needed: {rule} on {event}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The engine's server path (a [`RuleSet`] with its prefilter) gives the same matches as
/// evaluating every rule in full, which the test above compares with pySigma.
#[test]
fn the_prefilter_changes_no_answer() {
    let rules = data().join("rules");
    let events = read_events(&data().join("events.jsonl")).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&rules)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(p).unwrap())
        })
        .collect();
    // Every log source the rules name, each selecting every event: log sources play no
    // part here, only the detections.
    let mut sources: Vec<LogSource> = Vec::new();
    for (name, text) in &texts {
        for r in gac_detect::compile(name, text, &Default::default()) {
            if let Ok(gac_detect::Compiled::Rule(r)) = r
                && !sources.contains(&r.meta.logsource)
            {
                sources.push(r.meta.logsource.clone());
            }
        }
    }
    let mut yaml = String::from("version: 1\nlogsources:\n");
    for ls in &sources {
        let part = |k: &str, v: &Option<String>| v.as_ref().map(|v| format!("{k}: \"{v}\", "));
        yaml += &format!(
            "  - logsource: {{ {}{}{} }}\n    when: {{ _gac_never_set|exists: false }}\n",
            part("product", &ls.product).unwrap_or_default(),
            part("category", &ls.category).unwrap_or_default(),
            part("service", &ls.service).unwrap_or_default(),
        );
    }
    let mut set = RuleSet::new(Mappings::from_yaml(&yaml).unwrap());
    for (name, text) in &texts {
        for r in set.load(name, text) {
            r.unwrap();
        }
    }
    assert!(set.link().is_empty());
    let direct = gac_matches(&rules, &events).unwrap().matches;
    let mut via_set = BTreeSet::new();
    for (id, ev) in &events {
        let filtered: Vec<String> = set
            .evaluate(ev)
            .iter()
            .map(|m| m.rule.origin.clone())
            .collect();
        let full: Vec<String> = set
            .evaluate_unfiltered(ev)
            .iter()
            .map(|m| m.rule.origin.clone())
            .collect();
        assert_eq!(filtered, full, "event {id}");
        via_set.extend(filtered.into_iter().map(|r| (r, id.clone())));
    }
    assert_eq!(via_set, direct);
}

/// The same with the real mappings (`detections/mappings`): real events in the shape the
/// parsers give them, through the mappings' gates and the prefilter, or through every
/// `when` and every rule in full.
#[test]
fn the_gates_and_prefilter_change_no_answer_with_the_real_mappings() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut mappings = Mappings::empty();
    let mut mapping_files: Vec<_> = std::fs::read_dir(root.join("detections/mappings"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    mapping_files.sort();
    for f in mapping_files {
        mappings
            .add_yaml(&std::fs::read_to_string(f).unwrap())
            .unwrap();
    }
    let mut set = RuleSet::new(mappings);
    for dir in [data().join("rules"), root.join("detections/rules/linux")] {
        for f in std::fs::read_dir(dir).unwrap() {
            let p = f.unwrap().path();
            let _ = set.load(
                &p.display().to_string(),
                &std::fs::read_to_string(&p).unwrap(),
            );
        }
    }
    let _ = set.link();
    assert!(set.len() > 250, "{} rules loaded", set.len());
    let policy = gac_parse::TimePolicy::new(chrono_tz::UTC);
    let received = gac_event::Timestamp::from_secs(1_700_000_000);
    let mut events = Vec::new();
    for (id, flat) in read_events(&data().join("events.jsonl")).unwrap() {
        if let Some(serde_json::Value::String(m)) = flat.fields.get("message") {
            let fmt = gac_parse::Format::Auto;
            events.push((id, gac_parse::parse(m.as_bytes(), received, &policy, fmt).0));
        } else if let Some(ch) = flat.fields.get("Channel").and_then(|c| c.as_str()) {
            let mut e = gac_event::Event::new(received, received, String::new());
            e.set("winlog.channel", ch);
            for (k, v) in &flat.fields {
                let text = match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => continue,
                    other => other.to_string(),
                };
                match k.as_str() {
                    "Channel" => {}
                    "EventID" => e.set("winlog.event_id", text.parse::<i64>().unwrap_or(0)),
                    "Provider_Name" => e.set("winlog.provider_name", text),
                    "Computer" => e.set("winlog.computer_name", text),
                    other => e.set(format!("winlog.event_data.{other}"), text),
                }
            }
            events.push((id, e));
        }
    }
    assert!(events.len() > 300);
    let mut fired = 0;
    for (id, e) in &events {
        let fast: Vec<usize> = set.evaluate(e).iter().map(|m| m.index).collect();
        let full: Vec<usize> = set.evaluate_unfiltered(e).iter().map(|m| m.index).collect();
        assert_eq!(fast, full, "event {id}");
        fired += fast.len();
    }
    assert!(
        fired > 200,
        "only {fired} matches: the events no longer reach the rules"
    );
}
