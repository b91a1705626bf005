//! Dev tool: runs SigmaHQ's regression data (real Windows events rendered to JSON, each
//! beside an `info.yml` naming its rule and the expected match count) through the engine
//! and prints which rules do not match their own events.
//!
//! ```text
//! cargo run -p gac-detect --example regression_report -- SIGMAHQ_DIR [-v]
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use common::WinEvent;
use gac_detect::{Compiled, Placeholders};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "info.yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let root = PathBuf::from(
        args.iter()
            .find(|a| *a != "-v")
            .context("usage: regression_report SIGMAHQ_DIR [-v]")?,
    );
    let data = root.join("regression_data");
    let mut infos = Vec::new();
    walk(&data, &mut infos)?;
    infos.sort();
    let (mut pass, mut fail, mut skipped) = (0, 0, 0);
    for info in &infos {
        let dir = info.parent().context("info.yml has a folder")?;
        let rel = dir.strip_prefix(&data)?;
        let rule_path = root.join(rel).with_extension("yml");
        let Ok(rule_text) = std::fs::read_to_string(&rule_path) else {
            skipped += 1;
            continue;
        };
        let meta: serde_norway::Value = serde_norway::from_str(&std::fs::read_to_string(info)?)?;
        let Some(tests) = meta["regression_tests_info"].as_sequence() else {
            skipped += 1;
            continue;
        };
        let rules =
            gac_detect::compile(&rel.display().to_string(), &rule_text, &Placeholders::new());
        let rule = match rules.into_iter().next() {
            Some(Ok(Compiled::Rule(r))) => r,
            Some(Ok(Compiled::Correlation(_))) => {
                skipped += 1;
                continue;
            }
            Some(Err(e)) => {
                println!("NOT LOADED {e}");
                fail += 1;
                continue;
            }
            None => {
                skipped += 1;
                continue;
            }
        };
        for t in tests {
            let want = t["match_count"].as_u64().unwrap_or(1);
            let Some(evtx) = t["path"].as_str() else {
                continue;
            };
            let json = root.join(evtx).with_extension("json");
            let Ok(text) = std::fs::read_to_string(&json) else {
                skipped += 1;
                continue;
            };
            let events = WinEvent::parse_all(&text)?;
            let got = events.iter().filter(|e| rule.is_match(*e)).count() as u64;
            if got == want {
                pass += 1;
            } else {
                fail += 1;
                println!(
                    "MISMATCH {} ({}): {got} of {} events matched, want {want}",
                    rel.display(),
                    rule.meta.title,
                    events.len()
                );
                if verbose {
                    for e in &events {
                        let mut keys: Vec<_> = e.fields.iter().collect();
                        keys.sort_by(|a, b| a.0.cmp(b.0));
                        println!("    {keys:?}");
                    }
                }
            }
        }
    }
    println!("{pass} passed, {fail} failed, {skipped} skipped");
    Ok(())
}
