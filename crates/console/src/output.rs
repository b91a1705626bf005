//! Printing answers: aligned text for people, JSON lines with `--json` for scripts.

use std::io::Write;

use gac_event::api::{HistogramResponse, SearchResponse, StatsResponse, TopResponse};
use gac_event::{Event, field};

/// Width of the bars in a histogram.
const BAR_WIDTH: u64 = 50;

/// The short text shown for an event: the syslog message part when there is one.
fn summary(e: &Event) -> &str {
    e.get_str(field::LOG_SYSLOG_MESSAGE).unwrap_or(&e.message)
}

pub fn search(out: &mut impl Write, page: &SearchResponse, json: bool) -> anyhow::Result<()> {
    if json {
        for e in &page.hits {
            serde_json::to_writer(&mut *out, e)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    for e in &page.hits {
        let host = e.get_str(field::HOST_NAME).unwrap_or("-");
        let app = e
            .get_str(field::LOG_SYSLOG_APPNAME)
            .or_else(|| e.get_str(field::EVENT_DATASET))
            .unwrap_or("-");
        writeln!(out, "{}  {host}  {app}  {}", e.timestamp, summary(e))?;
    }
    writeln!(
        out,
        "-- {} of {} matching events",
        page.hits.len(),
        page.total
    )?;
    Ok(())
}

pub fn histogram(out: &mut impl Write, h: &HistogramResponse, json: bool) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, h)?;
        writeln!(out)?;
        return Ok(());
    }
    let max = h.buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    for b in &h.buckets {
        let bar = "#".repeat((b.count * BAR_WIDTH).div_ceil(max) as usize);
        writeln!(out, "{}  {:>8}  {bar}", b.start, b.count)?;
    }
    writeln!(out, "-- {}s buckets", h.interval_secs)?;
    Ok(())
}

pub fn top(out: &mut impl Write, t: &TopResponse, json: bool) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, t)?;
        writeln!(out)?;
        return Ok(());
    }
    for v in &t.values {
        writeln!(out, "{:>10}  {}", v.count, v.value)?;
    }
    writeln!(out, "{:>10}  (other or missing)", t.other)?;
    Ok(())
}

pub fn stats(out: &mut impl Write, s: &StatsResponse, json: bool) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, s)?;
        writeln!(out)?;
        return Ok(());
    }
    for (name, value) in &s.counters {
        writeln!(out, "{value:>12}  {name}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gac_event::Timestamp;

    #[test]
    fn search_text_shows_time_host_app_and_message_part() {
        let mut e = Event::new(Timestamp::from_secs(0), Timestamp::from_secs(1), "<13>raw");
        e.set(field::HOST_NAME, "fw-01");
        e.set(field::LOG_SYSLOG_APPNAME, "kernel");
        e.set(field::LOG_SYSLOG_MESSAGE, "DROP IN=eth0");
        let page = SearchResponse {
            total: 7,
            hits: vec![e],
        };
        let mut out = Vec::new();
        search(&mut out, &page, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "1970-01-01T00:00:00Z  fw-01  kernel  DROP IN=eth0\n-- 1 of 7 matching events\n"
        );
        let mut out = Vec::new();
        search(&mut out, &page, true).unwrap();
        let line: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(line["host.name"], "fw-01");
    }
}
