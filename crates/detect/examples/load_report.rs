//! Dev tool: compiles every `.yml` rule under a directory and prints how many compiled,
//! with the failures grouped by reason. Mapping-free (field names unchanged, log source
//! not checked) unless a mapping file is given, in which case rules are also loaded
//! into a [`RuleSet`] and log sources without a mapping are counted too.
//!
//! ```text
//! cargo run -p gac-detect --example load_report -- RULE_DIR [MAPPING.yml] [-v]
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use gac_detect::{Mappings, Placeholders, RuleSet};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

/// Failures of one reason: how many, and a few examples.
#[derive(Default)]
struct Group {
    count: usize,
    examples: Vec<String>,
}

fn report(title: &str, ok: usize, failures: &BTreeMap<String, Group>, verbose: bool) {
    let failed: usize = failures.values().map(|g| g.count).sum();
    let total = ok + failed;
    let share = if total == 0 {
        0.0
    } else {
        100.0 * ok as f64 / total as f64
    };
    println!("{title}: {ok} of {total} loaded ({share:.1}%), {failed} not loaded");
    let mut groups: Vec<_> = failures.iter().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.1.count));
    for (reason, g) in groups {
        println!("  {:5}  {reason}", g.count);
        let shown = if verbose { g.examples.len() } else { 2 };
        for e in g.examples.iter().take(shown) {
            println!("           e.g. {e}");
        }
    }
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let mut positional = args.iter().filter(|a| *a != "-v");
    let dir = positional
        .next()
        .context("usage: load_report RULE_DIR [MAPPING.yml] [-v]")?;
    let mapping = positional.next();

    let mut files = Vec::new();
    walk(Path::new(dir), &mut files)?;
    files.sort();

    let mut set = match mapping {
        Some(p) => Some(RuleSet::new(Mappings::from_yaml(
            &std::fs::read_to_string(p)?,
        )?)),
        None => None,
    };
    let placeholders = Placeholders::new();
    let (mut ok, mut failures) = (0, BTreeMap::<String, Group>::new());
    let (mut mapped_ok, mut mapped_failures) = (0, BTreeMap::<String, Group>::new());
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let name = file.strip_prefix(dir).unwrap_or(file).display().to_string();
        for result in gac_detect::compile(&name, &text, &placeholders) {
            match result {
                Ok(_) => ok += 1,
                Err(e) => {
                    let g = failures.entry(e.kind.reason()).or_default();
                    g.count += 1;
                    g.examples.push(e.to_string());
                }
            }
        }
        if let Some(set) = set.as_mut() {
            for result in set.load(&name, &text) {
                match result {
                    Ok(_) => mapped_ok += 1,
                    Err(e) => {
                        let g = mapped_failures.entry(e.kind.reason()).or_default();
                        g.count += 1;
                        g.examples.push(e.origin.clone());
                    }
                }
            }
        }
    }
    if let Some(set) = set.as_mut() {
        for e in set.link() {
            mapped_ok -= 1;
            let g = mapped_failures.entry(e.kind.reason()).or_default();
            g.count += 1;
            g.examples.push(e.origin.clone());
        }
    }
    println!("{} files under {dir}", files.len());
    report("compiled (no mapping)", ok, &failures, verbose);
    if set.is_some() {
        report("loaded with mapping", mapped_ok, &mapped_failures, verbose);
    }
    Ok(())
}
