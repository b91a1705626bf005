//! The gac-detect side of the differential test against pySigma (see
//! `tests/differential.rs`): every rule of a folder compiled without mappings (Sigma field
//! names unchanged, log source not checked) and run over flat events with Sigma field
//! names, giving the set of (rule file, event id) matches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context as _;
use gac_detect::{Compiled, Placeholders};
use serde_json::Value as Json;

use super::WinEvent;

/// One side's answer: which rules matched which events, and which rules it refused.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// (rule file name, event id).
    pub matches: BTreeSet<(String, String)>,
    /// Rule file name -> why it was not run.
    pub errors: BTreeMap<String, String>,
}

impl Outcome {
    /// Reads the JSON lines both sides print: `{"rule", "event"}` or `{"rule", "error"}`.
    pub fn from_json_lines(text: &str) -> anyhow::Result<Outcome> {
        let mut out = Outcome::default();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let v: Json =
                serde_json::from_str(line).with_context(|| format!("bad line {line:?}"))?;
            let rule = v["rule"].as_str().context("no rule")?.to_owned();
            if let Some(e) = v["event"].as_str() {
                out.matches.insert((rule, e.to_owned()));
            } else {
                let error = v["error"].as_str().context("neither event nor error")?;
                out.errors.insert(rule, error.to_owned());
            }
        }
        Ok(out)
    }

    /// The same answer as JSON lines.
    pub fn to_json_lines(&self) -> String {
        let mut s = String::new();
        for (rule, error) in &self.errors {
            s += &serde_json::json!({"rule": rule, "error": error}).to_string();
            s.push('\n');
        }
        for (rule, event) in &self.matches {
            s += &serde_json::json!({"rule": rule, "event": event}).to_string();
            s.push('\n');
        }
        s
    }
}

/// The events of a JSON lines file `{"id": ..., "event": {...}}`, with their ids.
pub fn read_events(path: &Path) -> anyhow::Result<Vec<(String, WinEvent)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Json = serde_json::from_str(line)?;
        let id = v["id"].as_str().context("event without id")?.to_owned();
        let Json::Object(fields) = &v["event"] else {
            anyhow::bail!("event {id} is not an object");
        };
        let ev = WinEvent {
            fields: fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        out.push((id, ev));
    }
    Ok(out)
}

/// Runs every rule file of `rule_dir` over the events.
pub fn gac_matches(rule_dir: &Path, events: &[(String, WinEvent)]) -> anyhow::Result<Outcome> {
    let mut names: Vec<String> = std::fs::read_dir(rule_dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    names.retain(|n| n.ends_with(".yml") || n.ends_with(".yaml"));
    names.sort();
    let placeholders = Placeholders::new();
    let mut out = Outcome::default();
    for name in names {
        let text = std::fs::read_to_string(rule_dir.join(&name))?;
        let mut rules = Vec::new();
        for compiled in gac_detect::compile(&name, &text, &placeholders) {
            match compiled {
                Ok(Compiled::Rule(r)) => rules.push(r),
                Ok(Compiled::Correlation(_)) => {}
                Err(e) => {
                    out.errors.insert(name.clone(), e.to_string());
                }
            }
        }
        if out.errors.contains_key(&name) {
            continue;
        }
        for (id, ev) in events {
            if rules.iter().any(|r| r.is_match(ev)) {
                out.matches.insert((name.clone(), id.clone()));
            }
        }
    }
    Ok(out)
}
