//! The entry point: which parser reads a record. An input declares a [`Format`]:
//!
//! - `auto` (the default): a record that opens with a syslog PRI (`<`) is syslog; any
//!   other, each record parser's cheap `detect` is asked in turn (JSON lines, CEF,
//!   access logs, ...), and if none claims it, it is read as syslog;
//! - `syslog`: the syslog header, then a body parser chosen by app name or message
//!   shape (sshd, iptables, Cisco ASA, ...);
//! - a record format by name (`nginx.access`, `suricata.eve`, ...): that parser only.
//!
//! Never fails: a record no parser understands is kept with its raw message and tagged,
//! and [`Parsed`] says what happened so the caller can count it per input and format.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use gac_event::{Event, Timestamp, field, tag};

use crate::formats::{self, BodyParser, Context, RecordParser};
use crate::syslog::{Outcome, parse_text, record_text};
use crate::time::TimePolicy;

/// What an input says its records are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Detected per record.
    Auto,
    /// Syslog header, then a body parser if one applies.
    Syslog,
    /// One record parser, by name.
    Record(&'static RecordParser),
}

/// A format name no parser has.
#[derive(Debug, thiserror::Error)]
#[error("unknown format {0:?}; known: auto, syslog, {known}", known = formats::record_names().join(", "))]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Format::Auto),
            "syslog" => Ok(Format::Syslog),
            name => formats::record_parser(name)
                .map(Format::Record)
                .ok_or_else(|| UnknownFormat(name.to_owned())),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Auto => f.write_str("auto"),
            Format::Syslog => f.write_str("syslog"),
            Format::Record(p) => f.write_str(p.name),
        }
    }
}

/// How a record was read: for counters and for `gac-server parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// The syslog header outcome; `Unparsed` when no header was read (including
    /// records read by a record parser, which have none).
    pub header: Outcome,
    /// The record or body parser that read the record, if any claimed it.
    pub parser: Option<&'static str>,
    /// Whether that parser succeeded.
    pub body: BodyOutcome,
}

/// What the format parser (after the header, or instead of it) managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyOutcome {
    /// No parser claimed the record: a plain syslog event (or unparsed).
    None,
    /// The parser read it.
    Parsed,
    /// The parser claimed it but could not read it: the event keeps what the header
    /// gave and is tagged [`tag::BODY_UNPARSED`].
    Failed,
}

impl Parsed {
    /// The name to count this record under: the parser's, else `syslog`, else
    /// `unparsed`.
    pub fn format_name(&self) -> &'static str {
        match (self.parser, self.body, self.header) {
            (Some(p), BodyOutcome::Parsed, _) => p,
            (_, _, Outcome::Unparsed) => "unparsed",
            _ => "syslog",
        }
    }
}

/// Parses one record as its input's format says. See the module doc.
pub fn parse(
    raw: &[u8],
    received: Timestamp,
    policy: &TimePolicy,
    format: Format,
) -> (Event, Parsed) {
    let ctx = Context {
        received,
        policy,
        app: None,
    };
    let text = record_text(raw);
    match format {
        Format::Record(p) => read_record(p, text, &ctx),
        // No record format opens with `<` (they open with `{`, `[`, a date, an address,
        // `CEF:`, `type=`, ...), and a PRI is how syslog over the network opens: those
        // records skip the record parsers' detection.
        Format::Auto if text.starts_with('<') => read_syslog(text, &ctx),
        Format::Auto => match formats::RECORD_PARSERS.iter().find(|p| (p.detect)(&text)) {
            Some(p) => read_record(p, text, &ctx),
            None => read_syslog(text, &ctx),
        },
        Format::Syslog => read_syslog(text, &ctx),
    }
}

/// A whole record through one record parser.
fn read_record(p: &'static RecordParser, text: Cow<'_, str>, ctx: &Context<'_>) -> (Event, Parsed) {
    let (mut event, result) = Event::parse_from(&text, ctx.received, ctx.received, |event| {
        event.set_message(&text);
        (p.parse)(&text, event, ctx)
    });
    let body = match result {
        Ok(()) => BodyOutcome::Parsed,
        Err(e) => {
            // Nothing half-read is kept: a fresh event with the raw record, tagged.
            event = Event::new(ctx.received, ctx.received, &*text);
            event.add_tag(tag::UNPARSED);
            event.add_tag(tag::TIME_FROM_RECEIPT);
            event.set(field::ERROR_MESSAGE, e.to_string());
            BodyOutcome::Failed
        }
    };
    let parsed = Parsed {
        header: Outcome::Unparsed,
        parser: Some(p.name),
        body,
    };
    (event, parsed)
}

/// The syslog header, then the first body parser that applies.
fn read_syslog(text: Cow<'_, str>, ctx: &Context<'_>) -> (Event, Parsed) {
    let (event, parsed) = Event::parse_from(&text, ctx.received, ctx.received, |event| {
        event.set_message(&text);
        let (header, body) = parse_text(&text, event, ctx.policy);
        let mut parsed = Parsed {
            header,
            parser: None,
            body: BodyOutcome::None,
        };
        if let Some(body) = body
            && header != Outcome::Unparsed
            && let Some(p) = body_parser(body.app, body.msg)
        {
            parsed.parser = Some(p.name);
            let ctx = Context {
                app: body.app,
                ..*ctx
            };
            match (p.parse)(body.msg, event, &ctx) {
                Ok(()) => parsed.body = BodyOutcome::Parsed,
                Err(e) => {
                    event.add_tag(tag::BODY_UNPARSED);
                    event.set(field::ERROR_MESSAGE, e.to_string());
                    parsed.body = BodyOutcome::Failed;
                }
            }
        }
        parsed
    });
    (event, parsed)
}

fn body_parser(app: Option<&str>, msg: &str) -> Option<&'static BodyParser> {
    formats::BODY_PARSERS.iter().find(|p| (p.applies)(app, msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received() -> Timestamp {
        "2025-07-01T03:00:00Z".parse().unwrap()
    }

    #[test]
    fn format_names_parse_and_unknown_ones_list_the_known() {
        assert_eq!("auto".parse::<Format>().unwrap(), Format::Auto);
        assert_eq!("syslog".parse::<Format>().unwrap().to_string(), "syslog");
        let err = "klingon".parse::<Format>().unwrap_err().to_string();
        assert!(err.contains("auto, syslog"), "{err}");
    }

    #[test]
    fn plain_syslog_without_a_body_parser_is_counted_as_syslog() {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let (e, p) = parse(
            b"<13>Jun 30 10:00:01 web-01 someapp[1]: hello",
            received(),
            &policy,
            Format::Auto,
        );
        assert_eq!(p.format_name(), "syslog");
        assert_eq!(p.body, BodyOutcome::None);
        assert_eq!(e.get_str(field::LOG_SYSLOG_MESSAGE), Some("hello"));
        let (_, p) = parse(b"\x01\x02 not a log", received(), &policy, Format::Auto);
        assert_eq!(p.format_name(), "unparsed");
    }

    #[test]
    fn no_record_parser_claims_a_record_that_opens_with_a_pri() {
        // What `auto` relies on to skip detection for `<...` records: every sample line,
        // with a PRI put in front, is claimed by no record parser. One exception, taken
        // on purpose: `web.access` would read `<13>1.2.3.4 - - [...] "GET ..."` with the
        // client `<13>1.2.3.4`; as syslog it keeps its PRI and the line as its message
        // (nginx and Apache sending through syslog put a header and their name first,
        // and are read by their body parsers).
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut checked = 0;
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "log") {
                continue;
            }
            for line in std::fs::read_to_string(&path).unwrap().lines() {
                let text = format!("<13>{line}");
                let claimed: Vec<_> = formats::RECORD_PARSERS
                    .iter()
                    .filter(|p| p.name != "web.access" && (p.detect)(&text))
                    .map(|p| p.name)
                    .collect();
                assert!(claimed.is_empty(), "{claimed:?} claim {text}");
                checked += 1;
            }
        }
        assert!(checked > 1000, "{checked} lines");
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let line = b"<13>1.2.3.4 - - [25/Oct/2016:14:49:33 +0200] \"GET / HTTP/1.1\" 200 612";
        let (e, p) = parse(line, received(), &policy, Format::Auto);
        assert_eq!((p.header, p.parser), (Outcome::Rfc3164, None));
        assert_eq!(e.get_i64(field::LOG_SYSLOG_SEVERITY_CODE), Some(5));
    }

    #[test]
    fn a_program_name_outranks_shapes_in_its_message() {
        // The user name is the attacker's to choose; the line is still sshd's.
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let line = b"<38>Jun 30 10:00:01 bastion sshd[77]: Invalid user %ASA-4-106023 IN=eth0 \
                     SRC=1.2.3.4 DST=5.6.7.8 PROTO=TCP from 203.0.113.9 port 4022";
        let (e, p) = parse(line, received(), &policy, Format::Syslog);
        assert_eq!((p.parser, p.body), (Some("sshd"), BodyOutcome::Parsed));
        assert_eq!(e.get_str(field::SOURCE_IP), Some("203.0.113.9"));
        assert!(e.get(field::OBSERVER_VENDOR).is_none(), "{e:?}");
    }
}
