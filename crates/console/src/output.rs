//! Printing answers: aligned text for people, JSON lines with `--json` for scripts.

use std::io::Write;

use gac_event::api::{
    AgentStatus, AgentsResponse, CompletenessResponse, HistogramResponse, SearchResponse, SeqRange,
    StatsResponse, TopResponse,
};
use gac_event::{Event, Timestamp, field};

/// Width of the bars in a histogram.
const BAR_WIDTH: u64 = 50;

/// The short text shown for an event: the syslog message part when there is one.
fn summary(e: &Event) -> &str {
    e.get_str(field::LOG_SYSLOG_MESSAGE).unwrap_or(e.message())
}

/// An alert's line: level and rule, then who and what it is about.
fn alert_summary(e: &Event) -> String {
    let level = e.get_str(field::LOG_LEVEL).unwrap_or("-").to_uppercase();
    let rule = e.get_str(field::RULE_NAME).unwrap_or(e.message());
    let mut about = Vec::new();
    for (label, name) in [
        ("src", field::SOURCE_IP),
        ("user", field::USER_NAME),
        ("url", field::URL_ORIGINAL),
    ] {
        if let Some(v) = e.get(name) {
            about.push(format!("{label}={v}"));
        }
    }
    for (name, value) in e.fields.with_prefix(&format!("{}.", field::ALERT_GROUP)) {
        let Some(group) = name
            .strip_prefix(field::ALERT_GROUP)
            .and_then(|n| n.strip_prefix('.'))
        else {
            continue;
        };
        about.push(format!("{group}={value}"));
    }
    if let Some(n) = e.get(field::ALERT_VALUE) {
        about.push(format!("count={n}"));
    }
    format!("ALERT {level} {rule}  {}", about.join(" "))
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
        if e.get_str(field::EVENT_KIND) == Some("alert") {
            writeln!(out, "{}  {host}  {}", e.timestamp, alert_summary(e))?;
            continue;
        }
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

/// A count in at most five characters: 999, 12k, 3.4M.
fn short_count(n: u64) -> String {
    match n {
        0..1_000 => n.to_string(),
        1_000..10_000 => format!("{:.1}k", n as f64 / 1e3),
        10_000..1_000_000 => format!("{}k", n / 1_000),
        1_000_000..10_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// A duration in seconds, in its largest unit: 42s, 5m, 3h, 12d.
fn short_secs(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs}s"),
        120..7_200 => format!("{}m", secs / 60),
        7_200..172_800 => format!("{}h", secs / 3_600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// At most `n` characters, the cut marked with `~`.
fn fit(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('~');
    out
}

/// One line per agent, narrow enough for 80 columns: the id's first 12 characters (a
/// unique prefix is accepted wherever an id is), the last contact as an age.
pub fn agents(
    out: &mut impl Write,
    r: &AgentsResponse,
    json: bool,
    now: Timestamp,
) -> anyhow::Result<()> {
    if json {
        for a in &r.agents {
            serde_json::to_writer(&mut *out, a)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    writeln!(
        out,
        "{:<12}  {:<14}  {:<7}  {:>6}  {:>6}  {:>5}  {:>4}  STATUS",
        "ID", "HOST", "VERSION", "SEEN", "SPOOL", "LAG", "ERR"
    )?;
    for a in &r.agents {
        let AgentStatus {
            id,
            hostname,
            version,
            status,
            last_contact,
            heartbeat,
            ..
        } = a;
        let seen = last_contact.map_or("-".to_owned(), |t| {
            short_secs(now.secs().saturating_sub(t.secs()).max(0) as u64)
        });
        let (spool, lag, errors) = match heartbeat {
            Some(h) => (
                short_count(h.spool_records),
                short_secs(h.lag_secs.max(0.0) as u64),
                short_count(h.errors.values().sum()),
            ),
            None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        writeln!(
            out,
            "{:<12}  {:<14}  {:<7}  {seen:>6}  {spool:>6}  {lag:>5}  {errors:>4}  {status}",
            fit(id, 12),
            fit(hostname, 14),
            fit(version, 7),
        )?;
    }
    writeln!(out, "-- {} agents", r.agents.len())?;
    Ok(())
}

fn range_line(kind: &str, r: &SeqRange) -> String {
    let t = |t: Option<Timestamp>| t.map_or("?".to_owned(), |t| t.to_string());
    let why = r
        .reason
        .as_deref()
        .map(|w| format!(" ({w})"))
        .unwrap_or_default();
    format!(
        "  {kind} seq {}..={}{why}, between {} and {}",
        r.from_seq,
        r.to_seq,
        t(r.after),
        t(r.before)
    )
}

/// The completeness of one agent's sources: a verdict line, then one line per source and
/// one per missing or lost range.
pub fn completeness(
    out: &mut impl Write,
    c: &CompletenessResponse,
    json: bool,
) -> anyhow::Result<()> {
    if json {
        serde_json::to_writer(&mut *out, c)?;
        writeln!(out)?;
        return Ok(());
    }
    let t = |t: Option<Timestamp>| t.map_or("…".to_owned(), |t| t.to_string());
    writeln!(
        out,
        "{}  {} to {}: {}",
        c.agent_id,
        t(c.from),
        t(c.to),
        if c.complete {
            "complete"
        } else {
            "NOT complete"
        }
    )?;
    for s in &c.sources {
        let pending = s
            .pending_records
            .map_or("pending unknown".to_owned(), |p| format!("{p} pending"));
        writeln!(
            out,
            "{} {}  last seq {}, {} missing, {} lost, {pending}",
            if s.complete { "ok  " } else { "GAPS" },
            s.source,
            s.last_seq,
            s.missing_records,
            s.lost_records,
        )?;
        for r in &s.missing {
            writeln!(out, "{}", range_line("missing", r))?;
        }
        for r in &s.lost {
            writeln!(out, "{}", range_line("lost", r))?;
        }
        if let Some(u) = s.unknown_before {
            writeln!(out, "  unknown before {u}: too many gaps were recorded")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gac_event::Timestamp;

    #[test]
    fn alerts_show_level_rule_and_what_they_are_about() {
        let mut e = Event::new(
            Timestamp::from_secs(0),
            Timestamp::from_secs(1),
            "SSH brute force",
        );
        e.set(field::EVENT_KIND, "alert");
        e.set(field::HOST_NAME, "portal-01");
        e.set(field::LOG_LEVEL, "high");
        e.set(field::RULE_NAME, "SSH brute force");
        e.set("alert.group.source.ip", "185.220.101.7");
        e.set(field::ALERT_VALUE, 8.0);
        let page = SearchResponse {
            total: 1,
            hits: vec![e],
        };
        let mut out = Vec::new();
        search(&mut out, &page, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().next().unwrap(),
            "1970-01-01T00:00:00Z  portal-01  ALERT HIGH SSH brute force  source.ip=185.220.101.7 count=8"
        );
    }

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

    #[test]
    fn agents_fit_in_eighty_columns() {
        let hb = gac_event::api::Heartbeat {
            version: "0.1.0".into(),
            hostname: "web-01".into(),
            spool_bytes: 1 << 20,
            spool_records: 12_345,
            lag_secs: 95.0,
            errors: [("read".to_owned(), 3), ("send".to_owned(), 1)].into(),
            sources: Vec::new(),
        };
        let agent =
            |id: &str, host: &str, contact: Option<i64>, hb: Option<_>, status: &str| AgentStatus {
                id: id.into(),
                hostname: host.into(),
                version: "0.1.0".into(),
                status: status.into(),
                enrolled_at: Timestamp::from_secs(0),
                last_contact: contact.map(Timestamp::from_secs),
                last_peer: None,
                revoked_at: None,
                heartbeat_at: None,
                heartbeat: hb,
            };
        let r = AgentsResponse {
            agents: vec![
                agent(
                    "3f2a9c0d11e24b5f8a7c6d5e4f3a2b1c",
                    "a-very-long-hostname.province.gov.vn",
                    Some(1_000),
                    Some(hb),
                    "ok",
                ),
                agent("77aa", "db-02", None, None, "never_seen"),
            ],
        };
        let mut out = Vec::new();
        agents(&mut out, &r, false, Timestamp::from_secs(1_030)).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "ID            HOST            VERSION    SEEN   SPOOL    LAG   ERR  STATUS\n\
             3f2a9c0d11e~  a-very-long-h~  0.1.0       30s     12k    95s     4  ok\n\
             77aa          db-02           0.1.0         -       -      -     -  never_seen\n\
             -- 2 agents\n"
        );
        assert!(text.lines().all(|l| l.chars().count() <= 80));
        let mut out = Vec::new();
        agents(&mut out, &r, true, Timestamp::from_secs(0)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn completeness_names_each_gap() {
        let c = CompletenessResponse {
            agent_id: "3f2a".into(),
            from: Some(Timestamp::from_secs(0)),
            to: None,
            complete: false,
            sources: vec![gac_event::api::SourceCompleteness {
                source: "/var/log/auth.log".into(),
                complete: false,
                last_seq: 40,
                first_time: None,
                last_time: None,
                received: 36,
                duplicates: 2,
                missing: vec![SeqRange {
                    from_seq: 12,
                    to_seq: 13,
                    after: Some(Timestamp::from_secs(60)),
                    before: Some(Timestamp::from_secs(120)),
                    reason: None,
                }],
                missing_records: 2,
                lost: vec![SeqRange {
                    from_seq: 30,
                    to_seq: 31,
                    after: None,
                    before: Some(Timestamp::from_secs(300)),
                    reason: Some("rotated_unread".into()),
                }],
                lost_records: 2,
                pending_records: Some(0),
                unknown_before: None,
            }],
        };
        let mut out = Vec::new();
        completeness(&mut out, &c, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "3f2a  1970-01-01T00:00:00Z to …: NOT complete\n\
             GAPS /var/log/auth.log  last seq 40, 2 missing, 2 lost, 0 pending\n\
             \x20 missing seq 12..=13, between 1970-01-01T00:01:00Z and 1970-01-01T00:02:00Z\n\
             \x20 lost seq 30..=31 (rotated_unread), between ? and 1970-01-01T00:05:00Z\n"
        );
    }
}
