//! Offline tools of `gac-server`: `parse` (raw records on stdin to the events the server
//! would store, for rule authors and integrators) and `import` (an `.evtx` file into a
//! running server, through its TCP input, so imported records take the same path as
//! live ones: write-ahead log, parsing, enrichment, detection).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;

use anyhow::{Context, bail};
use gac_event::Timestamp;
use gac_parse::formats::auditd::AuditJoiner;
use gac_parse::{Format, TimePolicy};

use crate::config::{Config, EnrichConfig, Protocol};
use crate::enrich::Enricher;
use crate::metrics::Metrics;

/// Reads records (one per line) from `input`, writes one event JSON per line to `out`,
/// and a count per format to `summary`. Enrichment runs when `enrich` is given.
pub fn parse(
    input: impl BufRead,
    mut out: impl Write,
    mut summary: impl Write,
    format: Format,
    zone: chrono_tz::Tz,
    received: Option<Timestamp>,
    enrich: Option<&EnrichConfig>,
) -> anyhow::Result<()> {
    let policy = TimePolicy::new(zone);
    let metrics = Metrics::default();
    let mut enricher = enrich
        .map(|c| Enricher::from_config(c, &metrics))
        .transpose()
        .context("enrichment")?;
    let mut joiner = AuditJoiner::default();
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut emit = |event: gac_event::Event, out: &mut dyn Write| -> anyhow::Result<()> {
        let mut event = event;
        if let Some(e) = enricher.as_mut() {
            e.enrich(&mut event);
        }
        serde_json::to_writer(&mut *out, &event)?;
        writeln!(out)?;
        Ok(())
    };
    for (n, line) in input.split(b'\n').enumerate() {
        let line = line.with_context(|| format!("reading line {}", n + 1))?;
        if line.is_empty() || line == b"\r" {
            continue;
        }
        let at = received.unwrap_or_else(Timestamp::now);
        let (event, parsed) = gac_parse::parse(&line, at, &policy, format);
        *counts.entry(parsed.format_name()).or_default() += 1;
        for event in joiner.push(event) {
            emit(event, &mut out)?;
        }
    }
    for event in joiner.flush_all() {
        emit(event, &mut out)?;
    }
    for (name, count) in counts {
        writeln!(summary, "{count:>10}  {name}")?;
    }
    Ok(())
}

/// The address `import` sends to: the first TCP syslog input (loopback if it listens on
/// every address).
pub fn tcp_input(config: &Config) -> anyhow::Result<SocketAddr> {
    let input = config
        .syslog
        .iter()
        .find(|i| i.protocol == Protocol::Tcp)
        .context("the config has no TCP syslog input to import through")?;
    let mut addr = input.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    Ok(addr)
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Imported {
    pub sent: u64,
    /// Records the file holds but that could not be read (each reported on stderr).
    pub damaged: u64,
}

/// Sends every record of an `.evtx` file to `to` as one newline-framed JSON line (the
/// server's `auto` inputs recognise the format).
pub fn import_evtx(path: &Path, to: SocketAddr) -> anyhow::Result<Imported> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let records = gac_parse::formats::evtx::read_evtx(&bytes, Timestamp::now())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let stream = TcpStream::connect(to).with_context(|| format!("connecting to {to}"))?;
    let mut w = std::io::BufWriter::new(stream);
    let mut done = Imported::default();
    for record in records {
        match record {
            Ok(event) => {
                if event.message().contains('\n') {
                    bail!("an evtx record rendered on several lines (a bug)");
                }
                w.write_all(event.message().as_bytes())?;
                w.write_all(b"\n")?;
                done.sent += 1;
            }
            Err(e) => {
                done.damaged += 1;
                eprintln!("{}: {e}", path.display());
            }
        }
    }
    w.flush()?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use gac_event::field;

    use super::*;

    /// The dataset of one printed event.
    fn dataset(line: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        v[field::EVENT_DATASET]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn parse_prints_one_event_per_record_and_counts_formats() {
        let input = b"<38>Nov 22 10:00:01 portal-01 sshd[4101]: Failed password for root from 185.220.101.7 port 40002 ssh2\n\
185.220.101.7 - - [22/Nov/2026:10:00:02 +0700] \"GET /x HTTP/1.1\" 404 10 \"-\" \"sqlmap/1.8\"\n\
not a log at all\n";
        let (mut out, mut summary) = (Vec::new(), Vec::new());
        let received = "2026-11-22T03:05:00Z".parse().ok();
        parse(
            &input[..],
            &mut out,
            &mut summary,
            Format::Auto,
            chrono_tz::Asia::Ho_Chi_Minh,
            received,
            None,
        )
        .unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(dataset(lines[0]), "sshd");
        assert_eq!(dataset(lines[1]), "web.access");
        let summary = String::from_utf8(summary).unwrap();
        assert!(
            summary.contains("sshd") && summary.contains("unparsed"),
            "{summary}"
        );
    }

    #[test]
    fn import_needs_a_tcp_input() {
        let config = Config::from_toml("data_dir = \"x\"\n").unwrap();
        assert!(tcp_input(&config).is_err());
        let config = Config::from_toml(
            "data_dir = \"x\"\n[[syslog]]\nname = \"t\"\nprotocol = \"tcp\"\nlisten = \"0.0.0.0:5514\"\n",
        )
        .unwrap();
        assert_eq!(tcp_input(&config).unwrap().to_string(), "127.0.0.1:5514");
    }
}
