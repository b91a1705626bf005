//! The syslog stage: one raw record in, one [`Event`] with ECS `log.syslog.*` fields and
//! an [`Outcome`] out. Never fails; what it could not read is said by tags and outcome.
//!
//! - `pri.rs`: the `<PRI>` prefix both dialects share;
//! - `rfc5424.rs`: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`, via syslog_loose;
//! - `rfc3164.rs`: BSD syslog and its real-world variants, via nom;
//! - this file: dialect detection, and turning a `Header` into event fields.
//!
//! Detection, per record: after an optional PRI, `VERSION SP` and a date mean RFC 5424;
//! a leading timestamp means RFC 3164 (with or without PRI: lines copied from log files
//! have none, and get no facility or severity); a valid PRI with no timestamp is RFC 3164
//! whose whole rest is the message (RFC 3164 §4.3.3); anything else is unparsed.

mod pri;
mod rfc3164;
mod rfc5424;

use std::borrow::Cow;

use gac_event::{Event, Severity, Timestamp, field, tag};
use syslog_loose::StructuredElement;

use crate::time::{Provenance, RecordTime, TimePolicy};
use pri::Pri;

/// What reading one record managed; the caller counts one per record.
///
/// The variants are exclusive, so the four counters add up to the records parsed.
/// The enum is deliberately exhaustive: a new variant must break the caller's `match`
/// until it has a counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// A well-formed RFC 5424 header.
    Rfc5424,
    /// A well-formed RFC 3164 (BSD) header, with or without PRI.
    Rfc3164,
    /// A syslog header with damage (bad PRI, impossible time, unreadable RFC 5424 parts):
    /// what could be read was kept; tagged [`tag::MALFORMED_HEADER`].
    MalformedHeader,
    /// No syslog header at all: only `message` and the time of receipt; tagged
    /// [`tag::UNPARSED`] and [`tag::TIME_FROM_RECEIPT`].
    Unparsed,
}

impl Outcome {
    /// A short name for logs and metric labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Rfc5424 => "rfc5424",
            Outcome::Rfc3164 => "rfc3164",
            Outcome::MalformedHeader => "malformed_header",
            Outcome::Unparsed => "unparsed",
        }
    }
}

/// Parses one syslog record (RFC 5424 or RFC 3164, detected per record) into an Event.
///
/// Never fails. `message` is the record as received (invalid UTF-8 replaced, trailing
/// CR, LF and NUL removed); `event.ingested` is `received`. Fields set when the record
/// holds them: `log.syslog.{facility,severity}.{code,name}`, `event.severity`,
/// `log.syslog.{hostname,appname,procid,msgid,version}`, `host.name`, `process.name`,
/// `process.pid` (numeric procids), `log.syslog.structured_data.<sd-id>.<param>`,
/// `log.syslog.format`, `log.syslog.message` (the MSG part, BOM and trailing blanks
/// removed) and `event.timezone`. Time provenance is in the `gac.time.*` tags; see
/// [`TimePolicy`] for the rules.
///
/// A record with no syslog header becomes an event with only `message`, the receive
/// time, and [`Outcome::Unparsed`].
pub fn parse_syslog(raw: &[u8], received: Timestamp, policy: &TimePolicy) -> (Event, Outcome) {
    let message = record_text(raw);
    let (event, (outcome, _)) = Event::parse_from(&message, received, received, |event| {
        event.set_message(&message);
        parse_text(&message, event, policy)
    });
    (event, outcome)
}

/// What the header leaves for a body parser, borrowed from the record text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Body<'a> {
    /// `log.syslog.message`: the MSG part, BOM and trailing blanks removed.
    pub msg: &'a str,
    /// `log.syslog.appname`.
    pub app: Option<&'a str>,
}

/// [`parse_syslog`] on text, into a new event whose times are the receive time and
/// whose `message` is left for the caller to fill; returns the MSG part and app name
/// (`None` when there was no header).
pub(crate) fn parse_text<'t>(
    text: &'t str,
    event: &mut Event,
    policy: &TimePolicy,
) -> (Outcome, Option<Body<'t>>) {
    // Each dialect's header is filled in where it was read, by reference: a header is
    // some 170 bytes, and handing it back up by value copied it twice per record.
    let received = event.ingested;
    let s = text.trim_start_matches(is_blank);
    let (pri, rest) = pri::split(s);
    let (outcome, body) = if rfc5424::looks_like(rest) {
        fill(event, pri, &rfc5424::parse(rest), received, policy)
    } else if let Some(header) = &rfc3164::parse(rest) {
        fill(event, pri, header, received, policy)
    } else if pri != Pri::Absent {
        // RFC 3164 §4.3.3: a valid PRI and no time: the rest is the message.
        let header = Header {
            msg: rest,
            ..Header::empty(Format::Rfc3164)
        };
        fill(event, pri, &header, received, policy)
    } else {
        event.add_tag(tag::UNPARSED);
        event.add_tag(tag::TIME_FROM_RECEIPT);
        return (Outcome::Unparsed, None);
    };
    (outcome, Some(body))
}

/// Which dialect a header was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Rfc3164,
    Rfc5424,
}

impl Format {
    fn as_str(self) -> &'static str {
        match self {
            Format::Rfc3164 => "rfc3164",
            Format::Rfc5424 => "rfc5424",
        }
    }

    fn outcome(self) -> Outcome {
        match self {
            Format::Rfc3164 => Outcome::Rfc3164,
            Format::Rfc5424 => Outcome::Rfc5424,
        }
    }
}

/// What a dialect parser read, borrowed from the record text.
#[derive(Debug)]
struct Header<'a> {
    format: Format,
    version: Option<u32>,
    time: RecordTime,
    hostname: Option<&'a str>,
    appname: Option<&'a str>,
    procid: Option<Cow<'a, str>>,
    msgid: Option<&'a str>,
    structured_data: Vec<StructuredElement<&'a str>>,
    msg: &'a str,
    /// Something in the header could not be read as the dialect says.
    malformed: bool,
}

impl<'a> Header<'a> {
    /// A header with nothing read yet.
    fn empty(format: Format) -> Self {
        Self {
            format,
            version: None,
            time: RecordTime::Absent,
            hostname: None,
            appname: None,
            procid: None,
            msgid: None,
            structured_data: Vec::new(),
            msg: "",
            malformed: false,
        }
    }
}

/// The record as text: trailing CR/LF/NUL (framing leftovers) removed, invalid UTF-8
/// replaced rather than refused. Valid UTF-8 (nearly every record) is borrowed.
pub(crate) fn record_text(raw: &[u8]) -> Cow<'_, str> {
    let end = raw
        .iter()
        .rposition(|&b| !matches!(b, b'\r' | b'\n' | 0))
        .map_or(0, |last| last + 1);
    let raw = &raw[..end];
    // simdutf8's validator checks 32 bytes at a time where std's takes a word; on
    // valid text it gives the same answer, and invalid text takes std's lossy path.
    match simdutf8::basic::from_utf8(raw) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(raw),
    }
}

/// Writes a header's fields, time and tags into `event`.
fn fill<'t>(
    event: &mut Event,
    pri: Pri,
    header: &Header<'t>,
    received: Timestamp,
    policy: &TimePolicy,
) -> (Outcome, Body<'t>) {
    let mut malformed = header.malformed || pri == Pri::Malformed;

    if let Pri::Valid(value) = pri {
        let (facility, facility_name) = pri::facility(value);
        let (severity, severity_name) = pri::severity(value);
        event.set(field::LOG_SYSLOG_FACILITY_CODE, i64::from(facility));
        event.set_const(field::LOG_SYSLOG_FACILITY_NAME, facility_name);
        event.set(field::LOG_SYSLOG_SEVERITY_CODE, i64::from(severity));
        event.set_const(field::LOG_SYSLOG_SEVERITY_NAME, severity_name);
        event.set(
            field::EVENT_SEVERITY,
            Severity::from_syslog(severity).code(),
        );
    }

    let (timestamp, provenance) = policy.resolve(header.time, received);
    event.timestamp = timestamp;
    match provenance {
        Provenance::Record {
            offset,
            year_inferred,
        } => {
            event.set(
                field::EVENT_TIMEZONE,
                crate::time::OffsetText::new(offset).as_str(),
            );
            if year_inferred {
                event.add_tag(tag::YEAR_INFERRED);
            }
        }
        Provenance::InputZone { year_inferred } => {
            event.set_const(field::EVENT_TIMEZONE, policy.zone().name());
            event.add_tag(tag::ZONE_FROM_INPUT);
            if year_inferred {
                event.add_tag(tag::YEAR_INFERRED);
            }
        }
        Provenance::Receipt { invalid } => {
            event.add_tag(tag::TIME_FROM_RECEIPT);
            malformed |= invalid;
        }
    }

    event.set_const(field::LOG_SYSLOG_FORMAT, header.format.as_str());
    if let Some(version) = header.version {
        event.set(field::LOG_SYSLOG_VERSION, version.to_string());
    }
    if let Some(hostname) = header.hostname {
        event.set(field::LOG_SYSLOG_HOSTNAME, hostname);
        event.set(field::HOST_NAME, hostname);
    }
    if let Some(appname) = header.appname {
        event.set(field::LOG_SYSLOG_APPNAME, appname);
        event.set(field::PROCESS_NAME, appname);
    }
    if let Some(procid) = &header.procid {
        if let Some(pid) = numeric_pid(procid) {
            event.set(field::PROCESS_PID, pid);
        }
        event.set(field::LOG_SYSLOG_PROCID, procid.as_ref());
    }
    if let Some(msgid) = header.msgid {
        event.set(field::LOG_SYSLOG_MSGID, msgid);
    }
    for element in &header.structured_data {
        for (name, value) in &element.params {
            let key = format!(
                "{}.{}.{}",
                field::LOG_SYSLOG_STRUCTURED_DATA,
                element.id,
                name
            );
            let value = rfc5424::unescape_param(value).into_owned();
            // A name seen before (a repeated SD parameter, which RFC 5424 allows)
            // collects its values in a list instead of losing all but the last.
            event.fields.append(key, value);
        }
    }
    // RFC 5424 §6.4 lets MSG open with a BOM to say "UTF-8"; it is not content.
    let msg = header
        .msg
        .strip_prefix('\u{feff}')
        .unwrap_or(header.msg)
        .trim_end();
    event.set(field::LOG_SYSLOG_MESSAGE, msg);
    let body = Body {
        msg,
        app: header.appname,
    };

    let outcome = if malformed {
        event.add_tag(tag::MALFORMED_HEADER);
        Outcome::MalformedHeader
    } else {
        header.format.outcome()
    };
    (outcome, body)
}

/// A procid that is a process number (digits only, fits comfortably in an `i64`).
fn numeric_pid(procid: &str) -> Option<i64> {
    const MAX_DIGITS: usize = 18;
    if procid.is_empty() || procid.len() > MAX_DIGITS {
        return None;
    }
    // Eighteen digits at most: no overflow.
    procid.bytes().try_fold(0i64, |n, b| {
        b.is_ascii_digit().then(|| n * 10 + i64::from(b - b'0'))
    })
}

/// Space or tab: what separates syslog header fields in practice.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The first blank-separated word of `s` and the rest after the blanks that follow it.
fn split_word(s: &str) -> (&str, &str) {
    // Blanks are ASCII: a byte search finds them without decoding characters.
    let b = s.as_bytes();
    let end = memchr::memchr2(b' ', b'\t', b).unwrap_or(b.len());
    let blanks = b[end..]
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count();
    (&s[..end], &s[end + blanks..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Ho_Chi_Minh;
    use gac_event::Value;

    fn received() -> Timestamp {
        "2025-07-01T03:00:00Z".parse().unwrap()
    }

    fn parse(raw: &[u8]) -> (Event, Outcome) {
        parse_syslog(raw, received(), &TimePolicy::new(Ho_Chi_Minh))
    }

    fn s<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
        e.get_str(name)
    }

    #[test]
    fn rfc3164_with_pri_fills_every_header_field() {
        let (e, outcome) = parse(b"<38>Jun 30 10:00:01 web-01 sshd[4242]: Accepted publickey\n");
        assert_eq!(outcome, Outcome::Rfc3164);
        assert_eq!(
            e.message(),
            "<38>Jun 30 10:00:01 web-01 sshd[4242]: Accepted publickey"
        );
        assert_eq!(e.get_i64(field::LOG_SYSLOG_FACILITY_CODE), Some(4));
        assert_eq!(s(&e, field::LOG_SYSLOG_FACILITY_NAME), Some("auth"));
        assert_eq!(e.get_i64(field::LOG_SYSLOG_SEVERITY_CODE), Some(6));
        assert_eq!(s(&e, field::LOG_SYSLOG_SEVERITY_NAME), Some("info"));
        assert_eq!(e.severity(), Some(Severity::Informational));
        assert_eq!(s(&e, field::LOG_SYSLOG_HOSTNAME), Some("web-01"));
        assert_eq!(s(&e, field::HOST_NAME), Some("web-01"));
        assert_eq!(s(&e, field::LOG_SYSLOG_APPNAME), Some("sshd"));
        assert_eq!(s(&e, field::PROCESS_NAME), Some("sshd"));
        assert_eq!(s(&e, field::LOG_SYSLOG_PROCID), Some("4242"));
        assert_eq!(e.get_i64(field::PROCESS_PID), Some(4242));
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some("Accepted publickey"));
        assert_eq!(s(&e, field::LOG_SYSLOG_FORMAT), Some("rfc3164"));
        assert_eq!(s(&e, field::EVENT_TIMEZONE), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(e.timestamp.to_string(), "2025-06-30T03:00:01Z");
        assert_eq!(e.ingested, received());
        assert_eq!(e.tags[..], [tag::ZONE_FROM_INPUT, tag::YEAR_INFERRED]);
    }

    #[test]
    fn missing_pri_sets_no_priority_fields() {
        let (e, outcome) = parse(b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster");
        assert_eq!(outcome, Outcome::Rfc3164);
        for name in [
            field::LOG_SYSLOG_FACILITY_CODE,
            field::LOG_SYSLOG_FACILITY_NAME,
            field::LOG_SYSLOG_SEVERITY_CODE,
            field::LOG_SYSLOG_SEVERITY_NAME,
            field::EVENT_SEVERITY,
        ] {
            assert!(e.get(name).is_none(), "{name} was invented");
        }
        // Received 1 July 2025: a 10 December record is from 2024.
        assert_eq!(e.timestamp.to_string(), "2024-12-09T23:55:46Z");
    }

    #[test]
    fn year_rolls_back_over_new_year() {
        let received: Timestamp = "2024-12-31T17:05:00Z".parse().unwrap(); // Jan 1 00:05 local
        let policy = TimePolicy::new(Ho_Chi_Minh);
        let (e, _) = parse_syslog(b"<13>Dec 31 23:59:58 h app: late", received, &policy);
        assert_eq!(e.timestamp.to_string(), "2024-12-31T16:59:58Z");
        let (e, _) = parse_syslog(b"<13>Jan  1 00:04:00 h app: early", received, &policy);
        assert_eq!(e.timestamp.to_string(), "2024-12-31T17:04:00Z");
        assert!(e.has_tag(tag::YEAR_INFERRED));
    }

    #[test]
    fn zoned_times_keep_their_offset() {
        let (e, outcome) = parse(b"2025-07-01T10:00:00.123+07:00 host app: msg");
        assert_eq!(outcome, Outcome::Rfc3164);
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00.123Z");
        assert_eq!(s(&e, field::EVENT_TIMEZONE), Some("+07:00"));
        assert!(e.tags.is_empty(), "{:?}", e.tags);

        let (e, outcome) = parse(b"<165>1 2003-10-11T22:14:15.003Z host app - - - m");
        assert_eq!(outcome, Outcome::Rfc5424);
        assert_eq!(s(&e, field::EVENT_TIMEZONE), Some("+00:00"));
        assert_eq!(e.timestamp.to_string(), "2003-10-11T22:14:15.003Z");
    }

    #[test]
    fn cisco_year_without_zone_uses_the_input_zone_but_no_inference() {
        let (e, outcome) = parse(b"Apr 15 2013 09:36:50: %ASA-4-106023: Deny tcp");
        assert_eq!(outcome, Outcome::Rfc3164);
        assert_eq!(e.timestamp.to_string(), "2013-04-15T02:36:50Z");
        assert_eq!(e.tags[..], [tag::ZONE_FROM_INPUT]);
        assert_eq!(
            s(&e, field::LOG_SYSLOG_MESSAGE),
            Some("%ASA-4-106023: Deny tcp")
        );
        assert!(e.get(field::PROCESS_NAME).is_none());
    }

    #[test]
    fn named_offset_without_year_infers_the_year_only() {
        let (e, _) = parse(b"<189>12: *Mar  1 18:46:11.500 UTC: %SYS-5-CONFIG_I: x");
        assert_eq!(e.timestamp.to_string(), "2025-03-01T18:46:11.500Z");
        assert_eq!(s(&e, field::EVENT_TIMEZONE), Some("+00:00"));
        assert_eq!(e.tags[..], [tag::YEAR_INFERRED]);
    }

    #[test]
    fn rfc5424_nil_values_and_structured_data() {
        let raw = br#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] An application event"#;
        let (e, outcome) = parse(raw);
        assert_eq!(outcome, Outcome::Rfc5424);
        assert_eq!(s(&e, field::LOG_SYSLOG_VERSION), Some("1"));
        assert_eq!(s(&e, field::LOG_SYSLOG_MSGID), Some("ID47"));
        assert!(e.get(field::LOG_SYSLOG_PROCID).is_none());
        assert!(e.get(field::PROCESS_PID).is_none());
        assert_eq!(
            s(
                &e,
                "log.syslog.structured_data.exampleSDID@32473.eventSource"
            ),
            Some("Application")
        );
        assert_eq!(
            s(&e, "log.syslog.structured_data.examplePriority@32473.class"),
            Some("high")
        );
        assert_eq!(
            s(&e, field::LOG_SYSLOG_MESSAGE),
            Some("An application event")
        );

        let (e, outcome) = parse(b"<14>1 - - - - - -");
        assert_eq!(outcome, Outcome::Rfc5424);
        assert_eq!(e.timestamp, received());
        assert_eq!(e.tags[..], [tag::TIME_FROM_RECEIPT]);
        assert!(e.get(field::HOST_NAME).is_none());
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some(""));
    }

    #[test]
    fn sd_escapes_repeats_and_bom() {
        let raw =
            "<14>1 2025-07-01T10:00:00+07:00 h a 1 - [x@1 v=\"a\\]b\\\"c\" v=\"2\"] \u{feff}hi  ";
        let (e, outcome) = parse(raw.as_bytes());
        assert_eq!(outcome, Outcome::Rfc5424);
        assert_eq!(
            e.get("log.syslog.structured_data.x@1.v"),
            Some(Value::list(vec![Value::from("a]b\"c"), Value::from("2")]).as_ref())
        );
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some("hi"));
        assert_eq!(e.message(), raw, "message keeps BOM and blanks");
    }

    #[test]
    fn garbage_pri_keeps_the_message_and_the_rest_of_the_header() {
        let (e, outcome) = parse(b"<999>Oct 11 22:14:15 host app[7]: msg");
        assert_eq!(outcome, Outcome::MalformedHeader);
        assert!(e.has_tag(tag::MALFORMED_HEADER));
        assert!(e.get(field::LOG_SYSLOG_FACILITY_CODE).is_none());
        assert_eq!(s(&e, field::HOST_NAME), Some("host"));
        assert_eq!(e.get_i64(field::PROCESS_PID), Some(7));
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some("msg"));
        assert_eq!(e.message(), "<999>Oct 11 22:14:15 host app[7]: msg");

        let (e, outcome) = parse(b"<abc>no header follows");
        assert_eq!(outcome, Outcome::MalformedHeader);
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some("no header follows"));
        assert!(e.has_tag(tag::TIME_FROM_RECEIPT));
    }

    #[test]
    fn impossible_time_is_a_malformed_header() {
        let (e, outcome) = parse(b"<13>Feb 30 10:00:00 host app: x");
        assert_eq!(outcome, Outcome::MalformedHeader);
        assert_eq!(e.timestamp, received());
        assert!(e.has_tag(tag::TIME_FROM_RECEIPT) && e.has_tag(tag::MALFORMED_HEADER));
        assert_eq!(s(&e, field::HOST_NAME), Some("host"));
    }

    #[test]
    fn pri_without_timestamp_is_all_message() {
        let (e, outcome) = parse(b"<13>just some text");
        assert_eq!(outcome, Outcome::Rfc3164);
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some("just some text"));
        assert_eq!(e.get_i64(field::LOG_SYSLOG_SEVERITY_CODE), Some(5));
        assert_eq!(e.tags[..], [tag::TIME_FROM_RECEIPT]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let (e, outcome) = parse(b"<13>Oct 11 22:14:15 h app: caf\xc3\xa9 \xfe\r\n");
        assert_eq!(outcome, Outcome::Rfc3164);
        assert_eq!(e.message(), "<13>Oct 11 22:14:15 h app: café \u{fffd}");
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some("café \u{fffd}"));
        // A damaged byte in the hostname makes it no hostname: it starts the message.
        let (e, outcome) = parse(b"<13>Oct 11 22:14:15 h\xff app: x");
        assert_eq!(outcome, Outcome::Rfc3164);
        assert!(e.get(field::HOST_NAME).is_none());
        assert_eq!(s(&e, field::LOG_SYSLOG_MESSAGE), Some("h\u{fffd} app: x"));
        let (e, outcome) = parse(b"\xff\xfe\xfd");
        assert_eq!(outcome, Outcome::Unparsed);
        assert_eq!(e.message(), "\u{fffd}\u{fffd}\u{fffd}");
    }

    #[test]
    fn empty_and_unparsable_records_are_kept_raw() {
        for raw in [&b""[..], b"\r\n", b"\0\0", b"   ", b"hello world"] {
            let (e, outcome) = parse(raw);
            assert_eq!(outcome, Outcome::Unparsed, "{raw:?}");
            assert_eq!(e.timestamp, received());
            assert_eq!(e.tags[..], [tag::UNPARSED, tag::TIME_FROM_RECEIPT]);
            assert!(e.fields.is_empty(), "{:?}", e.fields);
        }
        let (e, _) = parse(b"hello world\r\n");
        assert_eq!(e.message(), "hello world");
        let (e, _) = parse(b"  inner\r\nkept ");
        assert_eq!(e.message(), "  inner\r\nkept ");
    }

    #[test]
    fn outcome_names_match_the_format_field() {
        assert_eq!(Outcome::Rfc5424.as_str(), Format::Rfc5424.as_str());
        assert_eq!(Outcome::Rfc3164.as_str(), Format::Rfc3164.as_str());
        assert_eq!(Outcome::MalformedHeader.as_str(), "malformed_header");
        assert_eq!(Outcome::Unparsed.as_str(), "unparsed");
    }

    #[test]
    fn numeric_pids_only() {
        assert_eq!(numeric_pid("4242"), Some(4242));
        assert_eq!(numeric_pid("worker"), None);
        assert_eq!(numeric_pid("-1"), None);
        assert_eq!(numeric_pid(""), None);
        assert_eq!(numeric_pid("1234567890123456789"), None);
    }
}
