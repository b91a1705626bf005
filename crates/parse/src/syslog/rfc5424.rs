//! RFC 5424 headers: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP
//! STRUCTURED-DATA [SP MSG]`, read by syslog_loose, with what it gets wrong corrected.
//!
//! - A record syslog_loose rejects (a bad timestamp, structured data missing its `-`)
//!   is split leniently on spaces instead, so it keeps its fields, and is marked
//!   malformed.
//! - syslog_loose silently drops a structured-data element it cannot read
//!   (`[id x=unquoted]`); we count the elements ourselves and mark the header malformed
//!   when one went missing (its text stays in `message`).
//! - syslog_loose turns a numeric PROCID into an `i32`, so `007` comes back as `7`; the
//!   number is kept, the leading zeros are not.
//! - Parameter values come back raw; [`unescape_param`] applies RFC 5424's three escapes.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use syslog_loose::{Message, ProcId, Protocol, Variant};

use super::{Format, Header, is_blank, split_word};
use crate::time::RecordTime;

/// `VERSION SP` followed by a nil or full-date timestamp: how a 5424 header starts.
/// VERSION is `NONZERO-DIGIT 0*2DIGIT`; requiring the date's shape too keeps prose such
/// as `1 2 3 go` out.
pub(super) fn looks_like(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = b.iter().take(3).take_while(|c| c.is_ascii_digit()).count();
    if digits == 0 || b[0] == b'0' || b.get(digits) != Some(&b' ') {
        return false;
    }
    let t = &b[digits + 1..];
    t == b"-"
        || t.starts_with(b"- ")
        || (t.len() > 4 && t[..4].iter().all(u8::is_ascii_digit) && t[4] == b'-')
}

/// Reads the header of `s` (the record after its PRI), leniently if need be.
pub(super) fn parse(s: &str) -> Header<'_> {
    // syslog_loose trims; trimming first keeps its `msg` a suffix of our `s`.
    let s = s.trim();
    // The year callback and zone only serve RFC 3164 times; none are read here.
    match syslog_loose::parse_message_with_year_exact_tz::<_, FixedOffset>(
        s,
        |_| 0,
        None,
        Variant::RFC5424,
    ) {
        Ok(message) => from_message(s, message),
        Err(_) => lenient(s),
    }
}

fn from_message<'a>(s: &'a str, m: Message<&'a str>) -> Header<'a> {
    let version = match m.protocol {
        Protocol::RFC5424(version) => Some(version),
        Protocol::RFC3164 => None,
    };
    let dropped = count_sd_elements(sd_region(s, m.msg)) > m.structured_data.len();
    let procid = m.procid.map(|p| match p {
        ProcId::PID(pid) => Cow::Owned(pid.to_string()),
        ProcId::Name(name) => Cow::Borrowed(name),
    });
    Header {
        version,
        time: m.timestamp.map_or(RecordTime::Absent, RecordTime::Zoned),
        hostname: m.hostname,
        appname: m.appname,
        procid,
        msgid: m.msgid,
        structured_data: m.structured_data,
        msg: m.msg,
        malformed: dropped,
        ..Header::empty(Format::Rfc5424)
    }
}

/// The six header fields split on blanks; everything after them is the message, less a
/// nil structured-data `-`. Used only for records syslog_loose rejects.
fn lenient(s: &str) -> Header<'_> {
    let (version, rest) = split_word(s);
    let (timestamp, rest) = split_word(rest);
    let (hostname, rest) = split_word(rest);
    let (appname, rest) = split_word(rest);
    let (procid, rest) = split_word(rest);
    let (msgid, rest) = split_word(rest);
    let msg = match rest.strip_prefix('-') {
        Some(after) if after.is_empty() || after.starts_with(is_blank) => after,
        _ => rest,
    };
    let time = match timestamp {
        "" | "-" => RecordTime::Absent,
        ts => DateTime::parse_from_rfc3339(ts).map_or(RecordTime::Invalid, RecordTime::Zoned),
    };
    Header {
        version: version.parse().ok(),
        time,
        hostname: nil(hostname),
        appname: nil(appname),
        procid: nil(procid).map(Cow::Borrowed),
        msgid: nil(msgid),
        msg: msg.trim_start_matches(is_blank),
        malformed: true,
        ..Header::empty(Format::Rfc5424)
    }
}

/// RFC 5424's NILVALUE (and a missing field) as `None`.
fn nil(field: &str) -> Option<&str> {
    (!field.is_empty() && field != "-").then_some(field)
}

/// The structured-data text of `s`: after the six header words, before `msg`.
fn sd_region<'a>(s: &'a str, msg: &str) -> &'a str {
    let mut rest = s;
    for _ in 0..6 {
        rest = split_word(rest).1;
    }
    let start = s.len() - rest.len();
    let end = s.len() - msg.len();
    s.get(start..end).unwrap_or("")
}

/// How many complete `[...]` elements `region` holds, honouring quoted values and their
/// escapes (`\"`, `\\`, `\]`).
fn count_sd_elements(region: &str) -> usize {
    let (mut count, mut in_element, mut in_quotes, mut escaped) = (0, false, false, false);
    for b in region.bytes() {
        if in_quotes {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_quotes = false;
            }
        } else if in_element {
            if b == b'"' {
                in_quotes = true;
            } else if b == b']' {
                in_element = false;
                count += 1;
            }
        } else if b == b'[' {
            in_element = true;
        }
    }
    count
}

/// A PARAM-VALUE with RFC 5424 §6.3.3's escapes undone: `\"`, `\\` and `\]` stand for
/// the character; any other backslash is kept as written.
pub(super) fn unescape_param(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(&next @ ('"' | '\\' | ']'))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(h: &Header<'_>) -> Vec<(String, String, String)> {
        h.structured_data
            .iter()
            .flat_map(|e| {
                e.params.iter().map(|(k, v)| {
                    (
                        e.id.to_owned(),
                        (*k).to_owned(),
                        unescape_param(v).into_owned(),
                    )
                })
            })
            .collect()
    }

    #[test]
    fn detects_the_version_and_timestamp_shape() {
        assert!(looks_like("1 2003-10-11T22:14:15.003Z host app - - - msg"));
        assert!(looks_like("1 - - - - - -"));
        assert!(looks_like("1 -"));
        assert!(!looks_like("2021-03-12T14:10:18Z Hostname kernel: x"));
        assert!(!looks_like("Oct 11 22:14:15 host app: msg"));
        assert!(!looks_like("0 2003-10-11T22:14:15Z x"));
        assert!(!looks_like("1 2 3 go"));
        assert!(!looks_like("123: *Mar  1 18:46:11"));
        assert!(!looks_like(""));
    }

    #[test]
    fn rfc_example_with_nil_values() {
        let h =
            parse("1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed");
        assert!(!h.malformed);
        assert_eq!(h.version, Some(1));
        assert_eq!(
            (h.hostname, h.appname, h.procid.as_deref(), h.msgid),
            (
                Some("mymachine.example.com"),
                Some("su"),
                None,
                Some("ID47")
            )
        );
        assert_eq!(h.msg, "'su root' failed");
        let expected = DateTime::parse_from_rfc3339("2003-10-11T22:14:15.003Z").unwrap();
        assert_eq!(h.time, RecordTime::Zoned(expected));
    }

    #[test]
    fn all_nil() {
        let h = parse("1 - - - - - -");
        assert!(!h.malformed);
        assert_eq!(h.time, RecordTime::Absent);
        assert_eq!(
            (h.hostname, h.appname, h.procid, h.msgid),
            (None, None, None, None)
        );
        assert!(h.structured_data.is_empty());
        assert_eq!(h.msg, "");
    }

    #[test]
    fn multiple_sd_elements_and_bom() {
        let h = parse(
            "1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 \
             [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]\
             [examplePriority@32473 class=\"high\"] \u{feff}An application event",
        );
        assert!(!h.malformed);
        assert_eq!(
            params(&h),
            [
                ("exampleSDID@32473", "iut", "3"),
                ("exampleSDID@32473", "eventSource", "Application"),
                ("exampleSDID@32473", "eventID", "1011"),
                ("examplePriority@32473", "class", "high"),
            ]
            .map(|(a, b, c)| (a.to_owned(), b.to_owned(), c.to_owned()))
        );
        // The BOM is removed by the event builder, not here.
        assert_eq!(h.msg, "\u{feff}An application event");
    }

    #[test]
    fn escaped_sd_values_are_unescaped_per_rfc() {
        let h = parse(r#"1 2003-10-11T22:14:15Z host app 1 - [a@1 x="a\]b\"c\\d\n" y="[br]"] m"#);
        assert!(!h.malformed);
        let p = params(&h);
        assert_eq!(p[0].2, r#"a]b"c\d\n"#);
        assert_eq!(p[1].2, "[br]");
        assert_eq!(h.msg, "m");
    }

    #[test]
    fn a_dropped_sd_element_marks_the_header_malformed() {
        let h = parse(r#"1 2003-10-11T22:14:15Z host app 1 - [a@1 x=unquoted][b@1 y="1"] msg"#);
        assert!(h.malformed);
        assert_eq!(params(&h), [("b@1".into(), "y".into(), "1".into())]);
        assert_eq!(h.msg, "msg");
    }

    #[test]
    fn numeric_procid_loses_leading_zeros_only() {
        let h = parse("1 2003-10-11T22:14:15Z host app 007 - - m");
        assert_eq!(h.procid.as_deref(), Some("7"));
        let h = parse("1 2003-10-11T22:14:15Z host app worker-3 - - m");
        assert_eq!(h.procid.as_deref(), Some("worker-3"));
    }

    #[test]
    fn missing_sd_falls_back_to_a_lenient_split() {
        let h = parse("1 2003-10-11T22:14:15Z host app 12 ID1 msg without sd");
        assert!(h.malformed);
        assert_eq!(
            (h.hostname, h.appname, h.procid.as_deref(), h.msgid),
            (Some("host"), Some("app"), Some("12"), Some("ID1"))
        );
        assert_eq!(h.msg, "msg without sd");
        assert!(matches!(h.time, RecordTime::Zoned(_)));
    }

    #[test]
    fn bad_timestamp_falls_back_and_is_invalid() {
        let h = parse("1 2003-13-11T22:14:15.003Z host app 1 - - bad date");
        assert!(h.malformed);
        assert_eq!(h.time, RecordTime::Invalid);
        assert_eq!((h.hostname, h.msg), (Some("host"), "bad date"));
    }

    #[test]
    fn sd_counting_honours_quotes_and_escapes() {
        assert_eq!(count_sd_elements("-"), 0);
        assert_eq!(count_sd_elements(r#"[a x="]"][b y="\"]"]"#), 2);
        assert_eq!(count_sd_elements(r#"[a x="1"][b"#), 1);
        assert_eq!(unescape_param("plain"), Cow::Borrowed("plain"));
        assert_eq!(unescape_param(r"trailing\"), r"trailing\");
    }
}
