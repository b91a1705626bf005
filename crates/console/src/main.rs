//! `gac`: the analyst's console. CLI subcommands that ask the server's API and print
//! tables or JSON lines. The server does the work; the console only formats pages.

mod client;
mod output;
mod rules;
mod settings;

use clap::{Args, Parser, Subcommand};
use gac_event::Timestamp;
use gac_event::api::Selection;

use crate::client::Client;
use crate::settings::{RawSettings, Settings};

/// Gác analyst console.
#[derive(Debug, Parser)]
#[command(name = "gac", version)]
struct Cli {
    #[command(flatten)]
    settings: RawSettings,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Search events, newest first.
    Search {
        /// Query: field:value, "phrases", AND/OR/NOT, ranges like source.port:[1 TO 1024];
        /// bare words are searched in the message. Empty matches everything.
        #[arg(default_value = "")]
        query: String,
        #[command(flatten)]
        range: Range,
        /// Most events to print.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// Events to skip (for paging).
        #[arg(long, default_value_t = 0)]
        offset: usize,
        /// Print each event as one JSON line.
        #[arg(long)]
        json: bool,
    },
    /// Count events per time bucket.
    Histogram {
        #[arg(default_value = "")]
        query: String,
        #[command(flatten)]
        range: Range,
        /// Bucket width in seconds (default: about 60 buckets over the range).
        #[arg(long)]
        interval_secs: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// The most frequent values of a field.
    Top {
        /// Field name, e.g. host.name or log.syslog.appname.
        field: String,
        #[arg(default_value = "")]
        query: String,
        #[command(flatten)]
        range: Range,
        #[arg(long, default_value_t = 10)]
        size: usize,
        #[arg(long)]
        json: bool,
    },
    /// The server's counters (received, parsed, indexed, dropped...).
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Offline rule tooling: load-check a rule pack, try records, run rule tests.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Enrolled agents: version, last contact, spool depth, lag, errors, status. With an
    /// agent id (or a unique prefix): whether it sent everything in a time range.
    Agents {
        /// Agent id or unique prefix: show its completeness instead of the list.
        id: Option<String>,
        #[command(flatten)]
        range: Range,
        /// Only this source (a file path, journald, a relay input).
        #[arg(long, requires = "id")]
        source: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// A time range: `--since` back from now, or `--from`/`--to`.
#[derive(Debug, Args)]
struct Range {
    /// How far back from now, e.g. 15m, 1h, 7d.
    #[arg(long, conflicts_with = "from")]
    since: Option<String>,
    /// Start (RFC 3339), inclusive.
    #[arg(long)]
    from: Option<Timestamp>,
    /// End (RFC 3339), exclusive.
    #[arg(long)]
    to: Option<Timestamp>,
}

impl Range {
    fn selection(&self, q: &str) -> anyhow::Result<Selection> {
        let from = match &self.since {
            Some(s) => Some(Timestamp::now().add_nanos(-settings::parse_duration_nanos(s)?)),
            None => self.from,
        };
        Ok(Selection {
            q: q.to_owned(),
            from,
            to: self.to,
        })
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("gac: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    // Rule tooling works offline: no server settings are read for it.
    if let Command::Rules(cmd) = cli.command {
        if !rules::run(cmd, &mut std::io::stdout().lock())? {
            std::process::exit(1);
        }
        return Ok(());
    }
    let settings = Settings::resolve(cli.settings)?;
    let client = Client::new(&settings)?;
    let mut out = std::io::stdout().lock();
    match cli.command {
        Command::Search {
            query,
            range,
            limit,
            offset,
            json,
        } => {
            let page = client.search(&range.selection(&query)?, limit, offset)?;
            output::search(&mut out, &page, json)
        }
        Command::Histogram {
            query,
            range,
            interval_secs,
            json,
        } => {
            let h = client.histogram(&range.selection(&query)?, interval_secs)?;
            output::histogram(&mut out, &h, json)
        }
        Command::Top {
            field,
            query,
            range,
            size,
            json,
        } => {
            let top = client.top(&range.selection(&query)?, &field, size)?;
            output::top(&mut out, &top, json)
        }
        Command::Stats { json } => output::stats(&mut out, &client.stats()?, json),
        Command::Agents {
            id,
            range,
            source,
            json,
        } => {
            let list = client.agents()?;
            let Some(prefix) = id else {
                return output::agents(&mut out, &list, json, Timestamp::now());
            };
            let matching: Vec<&str> = list
                .agents
                .iter()
                .map(|a| a.id.as_str())
                .filter(|a| a.starts_with(prefix.as_str()))
                .collect();
            let id = match matching.as_slice() {
                [one] => (*one).to_owned(),
                // Not enrolled (any more) but maybe tracked: ask with the id as given.
                [] => prefix,
                _ => anyhow::bail!("{prefix:?} matches {} agents", matching.len()),
            };
            let sel = range.selection("")?;
            let c = client.completeness(&id, &sel, source.as_deref())?;
            output::completeness(&mut out, &c, json)
        }
        Command::Rules(_) => unreachable!("handled before the server settings"),
    }
}
