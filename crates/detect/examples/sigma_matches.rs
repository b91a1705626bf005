//! Dev tool, the gac-detect side of the differential test: runs every rule of a folder
//! (compiled without mappings) over flat events with Sigma field names and prints the
//! matches as JSON lines, `{"rule": FILE, "event": ID}` (or `{"rule": FILE, "error": ..}`
//! for a rule that does not compile), in the form `tests/differential/sigma_sqlite.py`
//! prints pySigma's. `tests/differential.rs` compares the two.
//!
//! ```text
//! cargo run -p gac-detect --example sigma_matches -- \
//!     crates/detect/tests/data/differential/rules crates/detect/tests/data/differential/events.jsonl
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use common::differential::{gac_matches, read_events};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [rules, events] = args.as_slice() else {
        anyhow::bail!("usage: sigma_matches RULE_DIR EVENTS.jsonl");
    };
    let events = read_events(Path::new(events))?;
    let outcome = gac_matches(Path::new(rules), &events).context("running the rules")?;
    std::io::stdout().write_all(outcome.to_json_lines().as_bytes())?;
    Ok(())
}
