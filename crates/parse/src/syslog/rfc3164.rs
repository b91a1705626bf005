//! RFC 3164 ("BSD syslog") headers as real senders write them, read with nom:
//! `[<PRI>]TIMESTAMP [HOSTNAME] [TAG[PID]:] MSG`.
//!
//! Our own parser rather than syslog_loose's, which on real samples reads `%ASA-4-106023:`,
//! `EDT:` and `DENY:` as hostnames, takes the first word of a tagless message as the
//! app name, cannot read fractional seconds (`22:14:15.123` loses the hostname), and
//! swallows a leading `-` of the message as empty structured data.
//!
//! Timestamps accepted: `Mmm dd hh:mm:ss[.frac]`, the same with a year after the day
//! (`Apr 15 2013 09:36:50`, Cisco ASA), an optional leading `*`/`.` (Cisco's clock-not-
//! synchronised marks), an optional zone abbreviation and trailing `:` (`09:34:34 EDT:`),
//! an optional Cisco sequence number before it (`123: *Mar  1 ...`), and the RFC 3339
//! form rsyslog writes (`2025-07-01T10:00:00.123+07:00`).
//!
//! After the time, the words are read the way rsyslog reads them:
//! - a word ending in `:` or shaped `name[pid]` is the tag; the word before it, if any,
//!   the hostname. So `Jan 8 03:37:09 DENY: IN=eth0` has tag `DENY` and no hostname;
//! - a word that is no tag after the hostname starts the message: `combo syslogd 1.4.1:
//!   restart.` has no tag (tags hold no spaces) and message `syslogd 1.4.1: restart.`;
//! - a word starting with `%` is a Cisco message mnemonic (`%ASA-6-106100:`) and starts
//!   the message, so a Cisco body parser sees the same text with or without a hostname;
//! - a lone `:` is an empty tag (`INT-FW01 : %ASA-...`).

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use nom::branch::alt;
use nom::bytes::complete::take_while1;
use nom::character::complete::{char, one_of, space1};
use nom::combinator::opt;
use nom::error::{Error, ErrorKind};
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::{Format, Header, is_blank, split_word};
use crate::text::Cut;
use crate::time::RecordTime;

/// Longest tag accepted. RFC 3164 says 32; real tags run longer
/// (`synoscgi_SYNO.API.Auth_7_login`), and a cap still keeps prose out.
const MAX_TAG_LEN: usize = 64;
/// Longest PID (or thread name) accepted inside a tag's brackets.
const MAX_PROCID_LEN: usize = 128;
/// RFC 1035: a domain name is at most 255 octets.
const MAX_HOSTNAME_LEN: usize = 255;

/// Zone abbreviations trusted after a BSD time, with their offsets in seconds east of
/// UTC. Abbreviations that name several zones (CST: US Central or China; IST: India,
/// Israel or Ireland; AST, BST) are consumed but carry `None`: the input's zone is
/// applied, since the site's configuration knows better than a guess.
const ZONE_ABBREVIATIONS: &[(&str, Option<i32>)] = &[
    ("UTC", Some(0)),
    ("GMT", Some(0)),
    ("UT", Some(0)),
    ("Z", Some(0)),
    ("EST", Some(-5 * 3600)),
    ("EDT", Some(-4 * 3600)),
    ("MST", Some(-7 * 3600)),
    ("MDT", Some(-6 * 3600)),
    ("PST", Some(-8 * 3600)),
    ("PDT", Some(-7 * 3600)),
    ("CET", Some(3600)),
    ("CEST", Some(2 * 3600)),
    ("EET", Some(2 * 3600)),
    ("EEST", Some(3 * 3600)),
    ("ICT", Some(7 * 3600)),
    ("WIB", Some(7 * 3600)),
    ("HKT", Some(8 * 3600)),
    ("SGT", Some(8 * 3600)),
    ("JST", Some(9 * 3600)),
    ("KST", Some(9 * 3600)),
    ("CST", None),
    ("CDT", None),
    ("IST", None),
    ("AST", None),
    ("BST", None),
];

/// Reads a BSD header from `s` (the record after its PRI). `None` when `s` does not
/// start with a timestamp: the caller decides whether that is still syslog.
#[inline]
pub(super) fn parse(s: &str) -> Option<Header<'_>> {
    let s = s.trim_start_matches(is_blank);
    let (time, rest) = timestamp(s).or_else(|| after_sequence_number(s).and_then(timestamp))?;
    let (hostname, tag, msg) = host_and_tag(rest);
    let (appname, procid) = match tag {
        Some(Tag { app, procid }) => (Some(app), procid.map(Cow::Borrowed)),
        None => (None, None),
    };
    Some(Header {
        time,
        hostname,
        appname,
        procid,
        msg,
        ..Header::empty(Format::Rfc3164)
    })
}

/// A timestamp at the start of `s`, and the text after it and its trailing blanks.
fn timestamp(s: &str) -> Option<(RecordTime, &str)> {
    let (time, rest) = if starts_like_rfc3339(s) {
        rfc3339(s)
    } else {
        bsd(s)?
    };
    // A time glued to more text (`22:14:15x`) is not a header.
    match rest.chars().next() {
        None => Some((time, rest)),
        Some(c) if is_blank(c) => Some((time, rest.trim_start_matches(is_blank))),
        Some(_) => None,
    }
}

/// Cisco IOS numbers its messages: `<189>123: *Mar  1 18:46:11.123 UTC: %SYS-5-...`.
fn after_sequence_number(s: &str) -> Option<&str> {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    s[digits..]
        .strip_prefix(": ")
        .map(|r| r.trim_start_matches(is_blank))
}

/// `YYYY-MM-DDT`: the only shape routed to the RFC 3339 reader.
fn starts_like_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && matches!(b[10], b'T' | b't')
}

/// An RFC 3339 time (rsyslog's high-precision format). It looked like one, so if it does
/// not read it is `Invalid`, not absent. Offsets without a colon (`+0700`) and times
/// without an offset (read in the input's zone) are accepted too.
fn rfc3339(s: &str) -> (RecordTime, &str) {
    let end = s.find(is_blank).unwrap_or(s.len());
    let (word, rest) = s.split_at(end);
    let word = word.strip_suffix(':').unwrap_or(word);
    let time = if let Ok(t) = DateTime::parse_from_rfc3339(word) {
        RecordTime::Zoned(t)
    } else if let Ok(t) = DateTime::parse_from_str(word, "%Y-%m-%dT%H:%M:%S%.f%z") {
        RecordTime::Zoned(t)
    } else if let Ok(t) = NaiveDateTime::parse_from_str(word, "%Y-%m-%dT%H:%M:%S%.f") {
        RecordTime::Local(t)
    } else {
        RecordTime::Invalid
    };
    (time, rest)
}

/// The fields of a BSD time as written, before any range check.
#[derive(Debug, PartialEq, Eq)]
struct BsdFields {
    month: u32,
    day: u32,
    year: Option<i32>,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
}

/// `[*.]Mmm dd [yyyy] hh:mm:ss[.frac][ ZONE][:]`.
fn bsd(s: &str) -> Option<(RecordTime, &str)> {
    let parsed: IResult<&str, BsdFields> = alt((fixed_bsd, general_bsd)).parse(s);
    let (rest, fields) = parsed.ok()?;
    let (zone, rest) = zone_abbreviation(rest);
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    Some((bsd_time(&fields, zone), rest))
}

/// The shape nearly every BSD time has, `Mmm dd hh:mm:ss` (the day padded with a space
/// or a zero), read at fixed places: fifteen bytes checked and converted in place,
/// where the general parser tries each optional part in turn. A time followed by a
/// fraction is left to the general parser.
fn fixed_bsd(input: &str) -> IResult<&str, BsdFields> {
    let fail = || nom::Err::Error(Error::new(input, ErrorKind::Verify));
    let b = input.as_bytes();
    let Some(t) = b.first_chunk::<15>() else {
        return Err(fail());
    };
    let digit = |i: usize| t[i].wrapping_sub(b'0');
    let shape = t[3] == b' '
        && (t[4] == b' ' || t[4].is_ascii_digit())
        && t[5].is_ascii_digit()
        && t[6] == b' '
        && t[9] == b':'
        && t[12] == b':'
        && [7, 8, 10, 11, 13, 14]
            .iter()
            .all(|&i| t[i].is_ascii_digit())
        && b.get(15) != Some(&b'.');
    if !shape {
        return Err(fail());
    }
    let (_, month) = month(input)?;
    let day = if t[4] == b' ' { 0 } else { digit(4) * 10 } + digit(5);
    let pair = |i: usize| u32::from(digit(i) * 10 + digit(i + 1));
    let fields = BsdFields {
        month,
        day: u32::from(day),
        year: None,
        hour: pair(7),
        minute: pair(10),
        second: pair(13),
        nanos: 0,
    };
    // Fifteen ASCII bytes: a char boundary.
    Ok((&input[15..], fields))
}

/// Every BSD time the module doc lists, part by part.
fn general_bsd(s: &str) -> IResult<&str, BsdFields> {
    let mut header_parser = (
        opt(one_of("*.")),
        month,
        space1,
        number(1, 2),
        space1,
        opt(terminated(number(4, 4), space1)),
        number(1, 2),
        preceded(char(':'), number(2, 2)),
        preceded(char(':'), number(2, 2)),
        opt(preceded(
            char('.'),
            take_while1(|c: char| c.is_ascii_digit()),
        )),
    );
    let (rest, (_, month, _, day, _, year, hour, minute, second, fraction)) =
        header_parser.parse(s)?;
    let fields = BsdFields {
        month,
        day,
        year: year.and_then(|y| i32::try_from(y).ok()),
        hour,
        minute,
        second,
        nanos: fraction.map_or(0, nanos),
    };
    Ok((rest, fields))
}

/// The record time a BSD header names; `Invalid` when a field is out of range.
fn bsd_time(f: &BsdFields, zone: Option<FixedOffset>) -> RecordTime {
    if !(1..=31).contains(&f.day) || f.hour > 23 || f.minute > 59 || f.second > 60 {
        return RecordTime::Invalid;
    }
    // chrono spells a leap second as second 59 with an extra second of nanoseconds.
    let time = if f.second == 60 {
        NaiveTime::from_hms_nano_opt(f.hour, f.minute, 59, 1_000_000_000 + f.nanos)
    } else {
        NaiveTime::from_hms_nano_opt(f.hour, f.minute, f.second, f.nanos)
    };
    let Some(time) = time else {
        return RecordTime::Invalid;
    };
    let Some(year) = f.year else {
        return RecordTime::NoYear {
            month: f.month,
            day: f.day,
            time,
            offset: zone,
        };
    };
    let Some(naive) = NaiveDate::from_ymd_opt(year, f.month, f.day).map(|d| d.and_time(time))
    else {
        return RecordTime::Invalid;
    };
    match zone {
        Some(offset) => offset
            .from_local_datetime(&naive)
            .single()
            .map_or(RecordTime::Invalid, RecordTime::Zoned),
        None => RecordTime::Local(naive),
    }
}

/// A three-letter month name, any case.
fn month(input: &str) -> IResult<&str, u32> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    if let [a, b, c, ..] = input.as_bytes() {
        let key = [
            a.to_ascii_lowercase(),
            b.to_ascii_lowercase(),
            c.to_ascii_lowercase(),
        ];
        if let Some(index) = MONTHS.iter().position(|m| **m == key) {
            let month = u32::try_from(index + 1).expect("at most 12");
            // The three bytes matched ASCII letters, so index 3 is a char boundary.
            return Ok((&input[3..], month));
        }
    }
    Err(nom::Err::Error(Error::new(input, ErrorKind::Tag)))
}

/// Between `min` and `max` (at most 9) ASCII digits as a number.
fn number<'a>(
    min: usize,
    max: usize,
) -> impl Parser<&'a str, Output = u32, Error = Error<&'a str>> {
    move |input: &'a str| -> IResult<&'a str, u32> {
        let mut value = 0u32;
        let mut len = 0;
        for &b in input.as_bytes().iter().take(max) {
            if !b.is_ascii_digit() {
                break;
            }
            value = value * 10 + u32::from(b - b'0');
            len += 1;
        }
        if len < min {
            return Err(nom::Err::Error(Error::new(input, ErrorKind::TakeWhileMN)));
        }
        // The digits are ASCII, so `len` is a char boundary.
        Ok((&input[len..], value))
    }
}

/// Fraction digits as nanoseconds; digits past the ninth are below chrono's resolution.
fn nanos(digits: &str) -> u32 {
    let mut value = 0;
    for i in 0..9 {
        let digit = digits.as_bytes().get(i).map_or(0, |b| u32::from(b - b'0'));
        value = value * 10 + digit;
    }
    value
}

/// A known zone abbreviation right after the time (` EDT`), as an offset when it names
/// one; otherwise `rest` is left alone.
fn zone_abbreviation(rest: &str) -> (Option<FixedOffset>, &str) {
    let Some(after) = rest.strip_prefix(' ') else {
        return (None, rest);
    };
    let end = after
        .find(|c: char| !c.is_ascii_uppercase())
        .unwrap_or(after.len());
    let (word, tail) = after.split_at(end);
    if !matches!(
        tail.chars().next(),
        None | Some(':') | Some(' ') | Some('\t')
    ) {
        return (None, rest);
    }
    match ZONE_ABBREVIATIONS.iter().find(|(name, _)| *name == word) {
        Some((_, offset)) => (offset.and_then(FixedOffset::east_opt), tail),
        None => (None, rest),
    }
}

/// A syslog tag: the app name and, when bracketed, its PID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tag<'a> {
    app: &'a str,
    procid: Option<&'a str>,
}

/// Hostname, tag and message from the text after the time (see the module doc).
fn host_and_tag(s: &str) -> (Option<&str>, Option<Tag<'_>>, &str) {
    let (first, after_first) = split_word(s);
    if first.is_empty() || first.starts_with('%') {
        return (None, None, s);
    }
    if first == ":" {
        return (None, None, after_first);
    }
    if let Some(tag) = tag(first) {
        return (None, Some(tag), after_first);
    }
    if !is_hostname(first) {
        return (None, None, s);
    }
    let (second, after_second) = split_word(after_first);
    if second == ":" {
        return (Some(first), None, after_second);
    }
    if second.starts_with('%') {
        return (Some(first), None, after_first);
    }
    match tag(second) {
        Some(tag) => (Some(first), Some(tag), after_second),
        None => (Some(first), None, after_first),
    }
}

/// `word` as a tag: `app:`, `app[pid]:` or `app[pid]`.
fn tag(word: &str) -> Option<Tag<'_>> {
    let (core, colon) = match word.strip_suffix(':') {
        Some(core) => (core, true),
        None => (word, false),
    };
    let (app, procid) = match core.strip_suffix(']').and_then(|c| c.cut_byte(b'[')) {
        Some((app, procid)) => (app, Some(procid)),
        None if colon => (core, None),
        None => return None,
    };
    let app_ok = !app.is_empty()
        && app.len() <= MAX_TAG_LEN
        && if app.is_ascii() {
            app.bytes().all(|b| TAG_BYTES[usize::from(b)])
        } else {
            app.chars().all(is_tag_char)
        };
    let procid_ok = procid.is_none_or(|p| {
        !p.is_empty() && p.len() <= MAX_PROCID_LEN && !p.bytes().any(|b| b == b'[' || b == b']')
    });
    (app_ok && procid_ok).then_some(Tag { app, procid })
}

/// [`is_tag_char`] for each ASCII byte, looked up rather than worked out per byte.
const TAG_BYTES: [bool; 128] = {
    let mut table = [false; 128];
    let mut b = 0;
    while b < 128 {
        let control = b < 0x20 || b == 0x7f;
        let blank = b == b' ' as usize;
        let excluded = matches!(
            b as u8,
            b':' | b'['
                | b']'
                | b'"'
                | b'\''
                | b'{'
                | b'}'
                | b'='
                | b','
                | b'|'
                | b'<'
                | b'>'
                | b'\\'
        );
        table[b] = !(control || blank || excluded);
        b += 1;
    }
    table
};

/// Characters seen in real tags (`sshd(pam_unix)`, `postfix/smtpd`, `python3.8`,
/// `org.gnome.Shell`), excluding what marks prose or key-value text instead.
fn is_tag_char(c: char) -> bool {
    !c.is_control()
        && !c.is_whitespace()
        && !matches!(
            c,
            ':' | '[' | ']' | '"' | '\'' | '{' | '}' | '=' | ',' | '|' | '<' | '>' | '\\'
        )
}

/// A host name or address: letters, digits, `.`, `-`, `_`, and `:` for IPv6.
fn is_hostname(word: &str) -> bool {
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    word.len() <= MAX_HOSTNAME_LEN
        && if word.is_ascii() {
            word.bytes().all(|b| ok(char::from(b)))
        } else {
            word.chars().all(ok)
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> Header<'_> {
        parse(s).unwrap_or_else(|| panic!("no header in {s:?}"))
    }

    fn fields(s: &str) -> (Option<&str>, Option<&str>, Option<String>, &str) {
        let h = header(s);
        let procid = h.procid.as_deref().map(str::to_owned);
        (h.hostname, h.appname, procid, h.msg)
    }

    fn no_year(month: u32, day: u32, h: u32, m: u32, s: u32, nanos: u32) -> RecordTime {
        RecordTime::NoYear {
            month,
            day,
            time: NaiveTime::from_hms_nano_opt(h, m, s, nanos).unwrap(),
            offset: None,
        }
    }

    #[test]
    fn the_tag_byte_table_is_is_tag_char() {
        for b in 0u8..128 {
            assert_eq!(
                TAG_BYTES[usize::from(b)],
                is_tag_char(char::from(b)),
                "{b:#x}"
            );
        }
    }

    #[test]
    fn the_fixed_time_reader_agrees_with_the_general_one() {
        // Every sample line's start, and the edges of the fixed shape: whatever the fixed
        // reader takes, the general one reads the same way; what it refuses, the
        // general one still reads where it can.
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let mut inputs: Vec<String> = [
            "Jun 30 10:00:01 host",
            "Jun  3 10:00:01",
            "jun 03 10:00:01x",
            "JUN 3 10:00:01",
            "Jun 30 10:00:01.123 h",
            "Jun 30 2013 10:00:01",
            "Jun 30 10:00:0",
            "Jux 30 10:00:01",
            "Jun 30 99:99:99",
            "Jun 00 10:00:01",
            "*Jun 30 10:00:01",
            "Jun 30 10:00:01 EDT: x",
            "Jun 3  10:00:01",
            "Jun 30 10-00-01",
            "Jun 30 10:00:01",
        ]
        .map(String::from)
        .to_vec();
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap();
                inputs.extend(text.lines().map(|l| {
                    let l = l.trim_start_matches(|c| c != '>' && l.starts_with('<'));
                    l.trim_start_matches('>').to_owned()
                }));
            }
        }
        let mut fixed = 0;
        for input in &inputs {
            if let Ok(got) = fixed_bsd(input) {
                assert_eq!(Ok(got), general_bsd(input), "{input}");
                fixed += 1;
            }
        }
        assert!(fixed > 500, "{fixed} inputs read by the fixed reader");
        for refused in [
            "Jun 30 10:00:01.123 h",
            "Jun 30 2013 10:00:01",
            "Jun 3  10:00:01",
        ] {
            assert!(
                fixed_bsd(refused).is_err() && general_bsd(refused).is_ok(),
                "{refused}"
            );
        }
    }

    #[test]
    fn loghub_lines_without_pri() {
        let s = "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown";
        assert_eq!(
            fields(s),
            (
                Some("combo"),
                Some("sshd(pam_unix)"),
                Some("19939".into()),
                "check pass; user unknown"
            )
        );
        assert_eq!(header(s).time, no_year(6, 14, 15, 16, 1, 0));
        let s = "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster";
        assert_eq!(
            fields(s),
            (
                Some("LabSZ"),
                Some("sshd"),
                Some("24200".into()),
                "Invalid user webmaster"
            )
        );
    }

    #[test]
    fn tag_without_pid_and_without_hostname() {
        assert_eq!(
            fields("Oct 11 22:14:15 host app: msg"),
            (Some("host"), Some("app"), None, "msg")
        );
        assert_eq!(fields("Oct 11 22:14:15 su: 'su root' failed").1, Some("su"));
        assert_eq!(
            fields("Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496"),
            (
                None,
                Some("filterlog"),
                Some("72237".into()),
                "146,,,1535324496"
            )
        );
        assert_eq!(
            fields("Jan  8 03:37:09 DENY: IN=eth0 OUT="),
            (None, Some("DENY"), None, "IN=eth0 OUT=")
        );
        assert_eq!(
            fields("Feb 21 23:35:33 localhost sudo: vagrant : TTY=pts/0"),
            (Some("localhost"), Some("sudo"), None, "vagrant : TTY=pts/0")
        );
    }

    #[test]
    fn words_that_are_no_tag_stay_in_the_message() {
        assert_eq!(
            fields("Oct 11 22:14:15 host no tag here"),
            (Some("host"), None, None, "no tag here")
        );
        assert_eq!(
            fields("Jun 19 04:09:11 combo syslogd 1.4.1: restart."),
            (Some("combo"), None, None, "syslogd 1.4.1: restart.")
        );
        // syslog_loose drops the first `-` here.
        assert_eq!(
            fields("Jul  7 08:06:15 combo  -- root[2421]: ROOT LOGIN ON tty2"),
            (
                Some("combo"),
                None,
                None,
                "-- root[2421]: ROOT LOGIN ON tty2"
            )
        );
        assert_eq!(
            fields(r#"Oct 30 16:05:54 opsaudit  {"username": "admin"}"#),
            (Some("opsaudit"), None, None, r#"{"username": "admin"}"#)
        );
        assert_eq!(
            fields("Jun 13 23:29:15 UDMP-DTC [WAN_LOCAL-D-2147483647] DESCR=x"),
            (
                Some("UDMP-DTC"),
                None,
                None,
                "[WAN_LOCAL-D-2147483647] DESCR=x"
            )
        );
        assert_eq!(
            fields("Dec 11 2018 08:01:24 <IP>: %ASA-6-302015: Built"),
            (None, None, None, "<IP>: %ASA-6-302015: Built")
        );
    }

    #[test]
    fn cisco_asa_variants() {
        let h = header("Apr 15 2013 09:36:50: %ASA-4-106023: Deny tcp src");
        assert_eq!((h.hostname, h.appname), (None, None));
        assert_eq!(h.msg, "%ASA-4-106023: Deny tcp src");
        let naive = NaiveDate::from_ymd_opt(2013, 4, 15)
            .unwrap()
            .and_hms_opt(9, 36, 50)
            .unwrap();
        assert_eq!(h.time, RecordTime::Local(naive));

        let h = header("Apr 24 2013 16:00:28 INT-FW01 : %ASA-6-106100: access-list inside");
        assert_eq!((h.hostname, h.appname), (Some("INT-FW01"), None));
        assert_eq!(h.msg, "%ASA-6-106100: access-list inside");

        let h = header("Aug 15 2012 23:30:09 : %ASA-6-302016 Teardown UDP");
        assert_eq!((h.hostname, h.msg), (None, "%ASA-6-302016 Teardown UDP"));

        let h = header("Apr 15 2014 09:34:34 EDT: %ASA-session-5-106100: access-list");
        assert_eq!((h.hostname, h.appname), (None, None));
        assert_eq!(h.msg, "%ASA-session-5-106100: access-list");
        let expected = DateTime::parse_from_rfc3339("2014-04-15T09:34:34-04:00").unwrap();
        assert_eq!(h.time, RecordTime::Zoned(expected));
    }

    #[test]
    fn cisco_ios_sequence_number_fraction_and_utc() {
        let h = header("123: *Mar  1 18:46:11.123 UTC: %SYS-5-CONFIG_I: Configured");
        assert_eq!(h.msg, "%SYS-5-CONFIG_I: Configured");
        assert_eq!(
            h.time,
            RecordTime::NoYear {
                month: 3,
                day: 1,
                time: NaiveTime::from_hms_milli_opt(18, 46, 11, 123).unwrap(),
                offset: FixedOffset::east_opt(0),
            }
        );
    }

    #[test]
    fn ambiguous_zone_abbreviations_are_consumed_without_an_offset() {
        let h = header("Mar  1 18:46:11 CST: %SYS-5-CONFIG_I: x");
        assert_eq!(h.time, no_year(3, 1, 18, 46, 11, 0));
        assert_eq!(h.msg, "%SYS-5-CONFIG_I: x");
    }

    #[test]
    fn fractional_seconds_keep_the_hostname() {
        let h = header("Oct 11 22:14:15.123456 host app: frac");
        assert_eq!(h.time, no_year(10, 11, 22, 14, 15, 123_456_000));
        assert_eq!(
            (h.hostname, h.appname, h.msg),
            (Some("host"), Some("app"), "frac")
        );
    }

    #[test]
    fn rfc3339_timestamps_as_rsyslog_writes_them() {
        let h = header("2025-07-01T10:00:00.123+07:00 host app[12]: msg");
        let expected = DateTime::parse_from_rfc3339("2025-07-01T10:00:00.123+07:00").unwrap();
        assert_eq!(h.time, RecordTime::Zoned(expected));
        assert_eq!(
            (h.hostname, h.appname, h.msg),
            (Some("host"), Some("app"), "msg")
        );

        let h = header("2024-07-08T22:25:10.826-0600 alba asterisk: x");
        let expected = DateTime::parse_from_rfc3339("2024-07-08T22:25:10.826-06:00").unwrap();
        assert_eq!(h.time, RecordTime::Zoned(expected));

        let h = header("2025-07-01T10:00:00 host app: local");
        assert!(matches!(h.time, RecordTime::Local(_)));

        let h = header("2025-13-45T10:00:00Z host app: broken");
        assert_eq!(h.time, RecordTime::Invalid);
        assert_eq!(h.hostname, Some("host"));
    }

    #[test]
    fn out_of_range_fields_are_invalid_not_absent() {
        assert_eq!(
            header("Oct 11 25:14:15 host app: x").time,
            RecordTime::Invalid
        );
        assert_eq!(
            header("Oct 32 22:14:15 host app: x").time,
            RecordTime::Invalid
        );
        assert_eq!(
            header("Feb 30 2023 22:14:15 host app: x").time,
            RecordTime::Invalid
        );
        // Feb 30 without a year is rejected later, by the year inference.
        assert!(matches!(
            header("Feb 30 22:14:15 host app: x").time,
            RecordTime::NoYear { .. }
        ));
    }

    #[test]
    fn month_names_ignore_case_and_leap_seconds_read() {
        assert_eq!(
            header("OCT 11 22:14:15 h a: m").time,
            no_year(10, 11, 22, 14, 15, 0)
        );
        assert_eq!(
            header("Dec 31 23:59:60 h a: m").time,
            no_year(12, 31, 23, 59, 59, 1_000_000_000)
        );
    }

    #[test]
    fn no_timestamp_means_no_header() {
        assert!(parse("hello world").is_none());
        assert!(parse("").is_none());
        assert!(parse("Oct 11 22:14:15x host").is_none());
        assert!(parse("date=2019-05-10 time=11:37:47 logid=1").is_none());
        assert!(parse("404: not found").is_none());
    }

    #[test]
    fn a_timestamp_alone_is_a_header_with_an_empty_message() {
        let h = header("Oct 11 22:14:15");
        assert_eq!((h.hostname, h.appname, h.msg), (None, None, ""));
        let h = header("Oct 11 22:14:15 : a message");
        assert_eq!((h.hostname, h.appname, h.msg), (None, None, "a message"));
    }
}
