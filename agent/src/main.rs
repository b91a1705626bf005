//! `gac-agent`: collects logs on a host and ships them to `gac-server`.
//!
//! Not built yet (issue 4). The binary exists so the workspace has its final shape; it
//! refuses to run rather than pretend to collect anything.

use clap::Parser;

/// Gác agent (not yet implemented: see issue 4).
#[derive(Debug, Parser)]
#[command(name = "gac-agent", version)]
struct Cli {}

fn main() -> anyhow::Result<()> {
    Cli::parse();
    anyhow::bail!("gac-agent is not implemented yet; send syslog straight to gac-server meanwhile")
}
