//! Vendor-neutral record formats: CEF, LEEF 1.0/2.0, JSON lines and generic key=value.
//! Each reads a whole record (optionally after a syslog header) and, for CEF and LEEF,
//! a syslog message body too. Also the time helpers the record parsers share.
//!
//! - CEF `CEF:0|Vendor|Product|Version|SignatureID|Name|Severity|k=v ...`: the header
//!   into `observer.vendor|product|version`, `event.code`, `cef.name`, `cef.version`,
//!   `cef.severity` and `event.severity` (0 informational, 1-3 low, 4-6 medium, 7-8 high,
//!   9-10 critical; the words Low, Medium, High, Very-High too); every extension as
//!   written under `cef.extensions.<key>`, and the common ones in ECS: `src`/`dst` →
//!   `source|destination.ip`, `spt`/`dpt` → ports, `shost`/`dhost` → `.domain`, `suser`
//!   → `user.name`, `duser` → `user.target.name`, `act` → `event.action`, `request` →
//!   `url.original`, `requestMethod` → `http.request.method`, `proto` →
//!   `network.transport`, `msg` → `event.reason` (`message` stays the raw record), `rt`
//!   → `@timestamp`. Escapes `\|` `\\` (header) and `\=` `\\` `\n` `\r` (extensions).
//! - LEEF `LEEF:1.0|Vendor|Product|Version|EventID|k=v<TAB>k=v` and `LEEF:2.0|...|EventID|
//!   DELIM|k=vDELIMk=v` (DELIM one character or `0x09`/`x09`): the header as for CEF
//!   (`leef.version`), attributes under `leef.attributes.<key>`, and `src`, `dst`,
//!   `srcPort`, `dstPort`, `usrName`, `proto`, `sev`, `devTime` in ECS. A LEEF 1.0 record
//!   whose sender used blanks instead of tabs is read like CEF extensions.
//! - JSON lines: one object, nested objects flattened to dotted names (ECS names stay
//!   as they are); `@timestamp`, else `timestamp`, `time` or `ts` becomes the event time
//!   when it reads as a time (text, or epoch seconds or milliseconds). Keys the event
//!   itself owns (`message`, `tags`, `@timestamp`, `event.ingested`), and a scalar at a
//!   name that also parents others (`"event": "login"` beside `event.kind`), move under
//!   `json.`. `event.dataset` is the record's, else `json`.
//!   Detected by a leading `{`: the most generic record parser, asked last.
//! - key=value (`kv`, only when an input declares it: any line has `=` somewhere):
//!   `k=v k2="quoted v"` under `kv.<key>`, and `src`/`srcip`/`dst`/`dstip` (also
//!   `remote_ip`, `remoteAddr`, `client_ip`; and ports),
//!   `user`, `action`, `proto` in ECS; `time` (logfmt) or `timestamp` as the event time
//!   when it reads as one.
//!
//! `event.dataset` is `cef`, `leef`, `json` (unless the record names one) or `kv`.

use std::borrow::Cow;
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use gac_event::{Event, Name, Severity, Value, field, tag};
use nom::bytes::complete::{tag as literal, take_while1};
use nom::sequence::terminated;
use nom::{IResult, Parser};

use super::{Context, FormatError};
use crate::syslog::{Outcome, parse_syslog};
use crate::time::{Provenance, RecordTime};

// ---------------------------------------------------------------------------------------
// Time

/// Sets the event time from a time the record body carries, replacing what the syslog
/// header (or the receipt) gave, with its provenance: `event.timezone` and the
/// `gac.time.*` tags. A time that names no instant changes nothing.
pub(super) fn set_record_time(event: &mut Event, time: RecordTime, ctx: &Context<'_>) {
    if matches!(time, RecordTime::Absent | RecordTime::Invalid) {
        return;
    }
    let (timestamp, provenance) = ctx.policy.resolve(time, ctx.received);
    if matches!(provenance, Provenance::Receipt { .. }) {
        return;
    }
    event.timestamp = timestamp;
    event.tags.retain(|t| {
        t != tag::YEAR_INFERRED && t != tag::ZONE_FROM_INPUT && t != tag::TIME_FROM_RECEIPT
    });
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
            event.set(field::EVENT_TIMEZONE, ctx.policy.zone().name());
            event.add_tag(tag::ZONE_FROM_INPUT);
            if year_inferred {
                event.add_tag(tag::YEAR_INFERRED);
            }
        }
        Provenance::Receipt { .. } => {}
    }
}

/// Marks a record parser's event whose record carried no usable time.
fn time_from_receipt(event: &mut Event) {
    event.add_tag(tag::TIME_FROM_RECEIPT);
}

/// A time written as text: RFC 3339 (with or without `T`, with or without zone), the
/// `MMM dd yyyy HH:mm:ss[.SSS][ zone]` of CEF and LEEF, or epoch digits (seconds,
/// milliseconds, microseconds or nanoseconds by their count).
fn text_time(s: &str) -> Option<RecordTime> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().and_then(epoch_time);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(RecordTime::Zoned(t));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(RecordTime::Zoned(t));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(RecordTime::Local(t));
        }
    }
    // `Sep 08 2025 06:32:20.613 UTC`: a trailing zone word is honoured only when it
    // names UTC; other abbreviations are ambiguous, so the input's zone applies.
    let (local, utc) = match s.rsplit_once(' ') {
        Some((rest, "UTC" | "GMT" | "Z")) => (rest, true),
        Some((rest, zone)) if zone.bytes().all(|b| b.is_ascii_uppercase()) => (rest, false),
        _ => (s, false),
    };
    let t = NaiveDateTime::parse_from_str(local, "%b %d %Y %H:%M:%S%.f").ok()?;
    Some(if utc {
        RecordTime::Zoned(t.and_utc().fixed_offset())
    } else {
        RecordTime::Local(t)
    })
}

/// Epoch seconds, milliseconds, microseconds or nanoseconds, told apart by size (any
/// time after 1973 in seconds is below 10^11, and so on).
fn epoch_time(n: i64) -> Option<RecordTime> {
    let nanos = match n {
        ..0 => return None,
        0..100_000_000_000 => n.checked_mul(1_000_000_000)?,
        100_000_000_000..100_000_000_000_000 => n.checked_mul(1_000_000)?,
        100_000_000_000_000..100_000_000_000_000_000 => n.checked_mul(1_000)?,
        _ => n,
    };
    let t = DateTime::from_timestamp_nanos(nanos);
    Some(RecordTime::Zoned(t.fixed_offset()))
}

fn float_epoch_time(x: f64) -> Option<RecordTime> {
    if !x.is_finite() || !(0.0..1e11).contains(&x) {
        return None;
    }
    let secs = x.trunc();
    // In range by the check above, so the casts are exact enough for a time.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (secs, nanos) = (secs as i64, ((x - secs) * 1e9) as u32);
    let t: DateTime<FixedOffset> = DateTime::from_timestamp(secs, nanos)?.fixed_offset();
    Some(RecordTime::Zoned(t))
}

// ---------------------------------------------------------------------------------------
// Shared

/// A record that may have a syslog header before its body: the body's text, and the
/// header's app name. The header's fields, time and tags go into `event`, as if read by
/// the syslog stage. A record starting with `prefix` has no header.
fn after_syslog_header<'t>(
    text: &'t str,
    prefix: Option<&str>,
    event: &mut Event,
    ctx: &Context<'_>,
) -> (Cow<'t, str>, Option<String>) {
    let trimmed = text.trim_start();
    if prefix.is_some_and(|p| trimmed.starts_with(p)) {
        return (Cow::Borrowed(trimmed), None);
    }
    let (header, outcome) = parse_syslog(text.as_bytes(), ctx.received, ctx.policy);
    if outcome == Outcome::Unparsed {
        return (Cow::Borrowed(text), None);
    }
    event.timestamp = header.timestamp;
    event.tags = header.tags;
    event.fields = header.fields;
    let app = event.get_str(field::LOG_SYSLOG_APPNAME).map(str::to_owned);
    let body = event
        .get_str(field::LOG_SYSLOG_MESSAGE)
        .unwrap_or_default()
        .to_owned();
    (Cow::Owned(body), app)
}

fn set_ip(event: &mut Event, name: &'static str, value: &str) {
    if let Ok(ip) = value.trim().parse::<IpAddr>() {
        event.set(name, ip);
    }
}

fn set_port(event: &mut Event, name: &'static str, value: &str) {
    if let Ok(port) = value.trim().parse::<u16>() {
        event.set(name, port);
    }
}

fn set_text(event: &mut Event, name: &'static str, value: &str) {
    let value = value.trim();
    if !value.is_empty() {
        event.set(name, value);
    }
}

/// `TCP` or `6`... as ECS `network.transport` (lowercase names only).
fn set_transport(event: &mut Event, value: &str) {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphabetic()) {
        event.set(field::NETWORK_TRANSPORT, value.to_ascii_lowercase());
    }
}

/// CEF's 0-10 (LEEF's 1-10) scale or its words, on Sigma's five levels.
fn vendor_severity(s: &str) -> Option<Severity> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return Some(match n {
            0 => Severity::Informational,
            1..=3 => Severity::Low,
            4..=6 => Severity::Medium,
            7..=8 => Severity::High,
            9..=10 => Severity::Critical,
            _ => return None,
        });
    }
    match s.to_ascii_lowercase().as_str() {
        "low" => Some(Severity::Low),
        "medium" => Some(Severity::Medium),
        "high" => Some(Severity::High),
        "very-high" | "very high" | "veryhigh" => Some(Severity::Critical),
        _ => None,
    }
}

/// Splits `s` at its first `n` unescaped `|`; the rest is the last item. `\|` and `\\`
/// are unescaped in the items before the rest, which is returned raw.
fn split_header(s: &str, n: usize) -> Option<(Vec<Cow<'_, str>>, &str)> {
    let mut items = Vec::with_capacity(n);
    let mut start = 0;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match b {
            b'\\' => escaped = true,
            b'|' => {
                items.push(unescape(&s[start..i], b"|\\"));
                start = i + 1;
                if items.len() == n {
                    return Some((items, &s[start..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// Removes the backslash before any of `chars`; `\n` and `\r` become line ends.
fn unescape<'a>(s: &'a str, chars: &[u8]) -> Cow<'a, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(e) if e.is_ascii() && chars.contains(&(e as u8)) => out.push(e),
            Some(e) => {
                out.push('\\');
                out.push(e);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'[' | b']')
}

/// CEF extensions (and blank-separated LEEF): `k=v k2=v with blanks k3=v`. A key is the
/// word before an unescaped `=` that starts the text or follows a blank; its value runs
/// to the blank before the next key. Values are unescaped (`\=`, `\\`, `\n`, `\r`).
fn extension_pairs(s: &str) -> Vec<(&str, Cow<'_, str>)> {
    let b = s.as_bytes();
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut escaped = false;
    for (i, &c) in b.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            b'\\' => escaped = true,
            b'=' => {
                let start = b[..i]
                    .iter()
                    .rposition(|&k| !is_key_byte(k))
                    .map_or(0, |p| p + 1);
                if start < i && (start == 0 || b[start - 1] == b' ') {
                    keys.push((start, i));
                }
            }
            _ => {}
        }
    }
    let mut pairs = Vec::with_capacity(keys.len());
    for (n, &(start, eq)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(s.len(), |&(next, _)| next);
        let value = s[eq + 1..end].trim_end_matches(' ');
        pairs.push((&s[start..eq], unescape(value, b"=\\|")));
    }
    pairs
}

// ---------------------------------------------------------------------------------------
// CEF

const CEF: &str = "cef";

pub(super) fn detect_cef(text: &str) -> bool {
    text.trim_start().starts_with("CEF:")
}

/// A syslog message that is a CEF record: `CEF:0|...`, or `0|...` after an app name
/// `CEF` (`host CEF: 0|Ubiquiti|...` reads `CEF` as the tag).
pub(super) fn cef_applies(app: Option<&str>, msg: &str) -> bool {
    msg.starts_with("CEF:") || (app == Some("CEF") && starts_with_version(msg))
}

fn starts_with_version(s: &str) -> bool {
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && s[digits..].starts_with(['|', '.'])
}

pub(super) fn parse_cef_record(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let (body, app) = after_syslog_header(text, Some("CEF:"), event, ctx);
    let had_header = event.get(field::LOG_SYSLOG_FORMAT).is_some();
    let body = strip_cef_prefix(&body, app.as_deref())
        .ok_or_else(|| FormatError::new(CEF, "no CEF header"))?;
    let timed = read_cef(body, event, ctx)?;
    if !timed && !had_header {
        time_from_receipt(event);
    }
    Ok(())
}

pub(super) fn parse_cef_body(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let app = event.get_str(field::LOG_SYSLOG_APPNAME).map(str::to_owned);
    let body = strip_cef_prefix(msg, app.as_deref())
        .ok_or_else(|| FormatError::new(CEF, "no CEF header"))?;
    if app.as_deref() == Some("CEF") {
        // The header parser took `CEF:` for an app name; no process said it.
        event.fields.remove(field::PROCESS_NAME);
    }
    read_cef(body, event, ctx).map(|_| ())
}

fn strip_cef_prefix<'a>(msg: &'a str, app: Option<&str>) -> Option<&'a str> {
    match msg.strip_prefix("CEF:") {
        Some(rest) => Some(rest.trim_start()),
        None => (app == Some("CEF") && starts_with_version(msg)).then_some(msg),
    }
}

/// `0|Vendor|...|Severity|extensions` (after `CEF:`). Returns whether `rt` set the time.
fn read_cef(s: &str, event: &mut Event, ctx: &Context<'_>) -> Result<bool, FormatError> {
    let (header, extension) = split_header(s, 7)
        .ok_or_else(|| FormatError::new(CEF, "header has fewer than 7 fields"))?;
    let [
        version,
        vendor,
        product,
        device_version,
        signature,
        name,
        severity,
    ] = <[Cow<'_, str>; 7]>::try_from(header)
        .map_err(|_| FormatError::new(CEF, "header has fewer than 7 fields"))?;
    event.set(field::EVENT_DATASET, CEF);
    event.set(field::EVENT_KIND, "event");
    set_text(event, field::CEF_VERSION, &version);
    set_text(event, field::OBSERVER_VENDOR, &vendor);
    set_text(event, field::OBSERVER_PRODUCT, &product);
    set_text(event, field::OBSERVER_VERSION, &device_version);
    set_text(event, field::EVENT_CODE, &signature);
    set_text(event, field::CEF_NAME, &name);
    set_text(event, field::CEF_SEVERITY, &severity);
    if let Some(level) = vendor_severity(&severity) {
        event.set(field::EVENT_SEVERITY, level.code());
    }
    let mut timed = false;
    for (key, value) in extension_pairs(extension) {
        match key {
            "src" => set_ip(event, field::SOURCE_IP, &value),
            "dst" => set_ip(event, field::DESTINATION_IP, &value),
            "spt" => set_port(event, field::SOURCE_PORT, &value),
            "dpt" => set_port(event, field::DESTINATION_PORT, &value),
            "shost" => set_text(event, field::SOURCE_DOMAIN, &value),
            "dhost" => set_text(event, field::DESTINATION_DOMAIN, &value),
            "suser" => set_text(event, field::USER_NAME, &value),
            "duser" => set_text(event, field::USER_TARGET_NAME, &value),
            "act" => set_text(event, field::EVENT_ACTION, &value),
            "request" => set_text(event, field::URL_ORIGINAL, &value),
            "requestMethod" => set_text(event, field::HTTP_REQUEST_METHOD, &value),
            "proto" => set_transport(event, &value),
            "msg" => set_text(event, field::EVENT_REASON, &value),
            "rt" => {
                if let Some(time) = text_time(&value) {
                    set_record_time(event, time, ctx);
                    timed = true;
                }
            }
            _ => {}
        }
        event.set(
            format!("{}.{key}", field::CEF_EXTENSIONS),
            value.into_owned(),
        );
    }
    Ok(timed)
}

// ---------------------------------------------------------------------------------------
// LEEF

const LEEF: &str = "leef";

pub(super) fn detect_leef(text: &str) -> bool {
    text.trim_start().starts_with("LEEF:")
}

pub(super) fn leef_applies(app: Option<&str>, msg: &str) -> bool {
    msg.starts_with("LEEF:") || (app == Some("LEEF") && starts_with_version(msg))
}

pub(super) fn parse_leef_record(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let (body, app) = after_syslog_header(text, Some("LEEF:"), event, ctx);
    let had_header = event.get(field::LOG_SYSLOG_FORMAT).is_some();
    let body = strip_leef_prefix(&body, app.as_deref())
        .ok_or_else(|| FormatError::new(LEEF, "no LEEF header"))?;
    let timed = read_leef(body, event, ctx)?;
    if !timed && !had_header {
        time_from_receipt(event);
    }
    Ok(())
}

pub(super) fn parse_leef_body(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let app = event.get_str(field::LOG_SYSLOG_APPNAME).map(str::to_owned);
    let body = strip_leef_prefix(msg, app.as_deref())
        .ok_or_else(|| FormatError::new(LEEF, "no LEEF header"))?;
    if app.as_deref() == Some("LEEF") {
        event.fields.remove(field::PROCESS_NAME);
    }
    read_leef(body, event, ctx).map(|_| ())
}

fn strip_leef_prefix<'a>(msg: &'a str, app: Option<&str>) -> Option<&'a str> {
    match msg.strip_prefix("LEEF:") {
        Some(rest) => Some(rest.trim_start()),
        None => (app == Some("LEEF") && starts_with_version(msg)).then_some(msg),
    }
}

/// The LEEF 2.0 delimiter field: one character, or its code as `0x09`, `x09`, `\t`.
fn leef_delimiter(s: &str) -> Option<char> {
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .or_else(|| s.strip_prefix('x'))
        .or_else(|| s.strip_prefix('X'));
    if let Some(hex) = hex.filter(|h| !h.is_empty()) {
        return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
    }
    if s == "\\t" {
        return Some('\t');
    }
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// `1.0|Vendor|Product|Version|EventID|attributes` or `2.0|...|EventID|DELIM|attributes`.
fn read_leef(s: &str, event: &mut Event, ctx: &Context<'_>) -> Result<bool, FormatError> {
    let (header, rest) = split_header(s, 5)
        .ok_or_else(|| FormatError::new(LEEF, "header has fewer than 5 fields"))?;
    let [version, vendor, product, device_version, event_id] =
        <[Cow<'_, str>; 5]>::try_from(header)
            .map_err(|_| FormatError::new(LEEF, "header has fewer than 5 fields"))?;
    let version = version.trim();
    let (delimiter, attributes) = if version.starts_with('2') {
        // The delimiter field; when it is missing the attributes follow directly.
        match rest.split_once('|') {
            Some((d, attrs)) if d.len() <= 6 && !d.contains('=') => {
                (leef_delimiter(d).unwrap_or('\t'), attrs)
            }
            _ => ('\t', rest),
        }
    } else {
        ('\t', rest)
    };
    event.set(field::EVENT_DATASET, LEEF);
    event.set(field::EVENT_KIND, "event");
    set_text(event, field::LEEF_VERSION, version);
    set_text(event, field::OBSERVER_VENDOR, &vendor);
    set_text(event, field::OBSERVER_PRODUCT, &product);
    set_text(event, field::OBSERVER_VERSION, &device_version);
    set_text(event, field::EVENT_CODE, &event_id);

    let pairs: Vec<(&str, Cow<'_, str>)> =
        if attributes.contains(delimiter) || !attributes.contains(' ') {
            attributes
                .split(delimiter)
                .filter_map(|pair| pair.split_once('='))
                .map(|(k, v)| (k.trim(), Cow::Borrowed(v)))
                .filter(|(k, _)| !k.is_empty())
                .collect()
        } else {
            // Blank-separated in practice, though the header promised tabs.
            extension_pairs(attributes)
        };
    let mut timed = false;
    for (key, value) in pairs {
        match key {
            "src" => set_ip(event, field::SOURCE_IP, &value),
            "dst" => set_ip(event, field::DESTINATION_IP, &value),
            "srcPort" => set_port(event, field::SOURCE_PORT, &value),
            "dstPort" => set_port(event, field::DESTINATION_PORT, &value),
            "usrName" => set_text(event, field::USER_NAME, &value),
            "proto" => set_transport(event, &value),
            "sev" => {
                if let Some(level) = vendor_severity(&value) {
                    event.set(field::EVENT_SEVERITY, level.code());
                }
            }
            "devTime" => {
                if let Some(time) = text_time(&value) {
                    set_record_time(event, time, ctx);
                    timed = true;
                }
            }
            _ => {}
        }
        event.set(
            format!("{}.{key}", field::LEEF_ATTRIBUTES),
            value.into_owned(),
        );
    }
    Ok(timed)
}

// ---------------------------------------------------------------------------------------
// JSON lines

const JSON: &str = "json";
/// Names the event itself serialises; a record's own go under `json.`.
const RESERVED: &[&str] = &[
    field::TIMESTAMP,
    field::EVENT_INGESTED,
    field::MESSAGE,
    field::TAGS,
];
/// Where a JSON record's time may be, in order of trust (`ts`: zap, Caddy).
const TIME_KEYS: &[&str] = &["@timestamp", "timestamp", "time", "ts"];

/// Any object: more specific JSON parsers (Suricata EVE, Zeek, Windows) are asked first.
pub(super) fn detect_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

pub(super) fn parse_json(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text.trim())
        .map_err(|e| FormatError::new(JSON, format!("not a JSON object: {e}")))?;
    let mut flat = Vec::with_capacity(object.len());
    let mut name = String::new();
    flatten_object(object, &mut name, &mut flat);

    let mut timed = false;
    for key in TIME_KEYS {
        let Some(value) = flat.iter().find(|(k, _)| k == key).map(|(_, v)| v) else {
            continue;
        };
        let time = match value {
            Value::Str(s) => text_time(s),
            Value::Int(n) => epoch_time(*n),
            Value::Float(x) => float_epoch_time(*x),
            _ => None,
        };
        if let Some(time) = time {
            set_record_time(event, time, ctx);
            timed = true;
            break;
        }
    }
    if !timed {
        time_from_receipt(event);
    }
    for (key, value) in flat {
        if key == field::TIMESTAMP && timed {
            continue;
        }
        if RESERVED.contains(&key.as_str()) {
            event.set(format!("{}.{key}", field::JSON), value);
        } else {
            event.fields.insert(key, value);
        }
    }
    if event.get(field::EVENT_DATASET).is_none() {
        event.set(field::EVENT_DATASET, JSON);
    }
    if event.get(field::EVENT_KIND).is_none() {
        event.set(field::EVENT_KIND, "event");
    }
    move_shadowed_names(event);
    Ok(())
}

/// ECS field sets: objects, never scalars. The pipeline adds names under several of
/// them (`host.name`, `agent.id`, `log.source`, `labels.*`, `source.geo.*`) after parsing.
const ECS_OBJECTS: &[&str] = &[
    "agent",
    "client",
    "cloud",
    "container",
    "destination",
    "dns",
    "email",
    "error",
    "event",
    "file",
    "group",
    "host",
    "http",
    "input",
    "labels",
    "log",
    "network",
    "observer",
    "organization",
    "process",
    "rule",
    "server",
    "service",
    "source",
    "threat",
    "tls",
    "url",
    "user",
    "user_agent",
];

/// A record's scalar at a name that is also the parent of other names (authentik's
/// `"event": "invalid_login"` beside our `event.dataset`, or `"host": "x"` beside the
/// `host.name` the server adds) cannot live in one document tree: it moves to
/// `json.<name>`.
fn move_shadowed_names(event: &mut Event) {
    let shadowed: Vec<Name> = event
        .fields
        .keys()
        .filter(|name| {
            if ECS_OBJECTS.contains(&name.as_ref()) {
                return true;
            }
            let child = format!("{name}.");
            event.fields.keys().any(|k| k.starts_with(&child))
        })
        .cloned()
        .collect();
    for name in shadowed {
        if let Some(value) = event.fields.remove(&name) {
            event.set(format!("{}.{name}", field::JSON), value);
        }
    }
}

/// `{"a": {"b": 1}}` into `("a.b", 1)`. Nulls are left out; an array of scalars is a
/// list; an array holding objects or arrays keeps each of those as JSON text.
fn flatten_object(
    object: serde_json::Map<String, serde_json::Value>,
    name: &mut String,
    out: &mut Vec<(String, Value)>,
) {
    let base = name.len();
    for (key, value) in object {
        if base > 0 {
            name.push('.');
        }
        name.push_str(&key);
        match value {
            serde_json::Value::Object(inner) => flatten_object(inner, name, out),
            other => {
                if let Some(v) = scalar(other) {
                    out.push((name.clone(), v));
                }
            }
        }
        name.truncate(base);
    }
}

fn scalar(value: serde_json::Value) -> Option<Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Above i64 (a u64 id): its digits, exactly.
            None if n.is_u64() => Value::from(n.to_string()),
            None => Value::Float(n.as_f64()?),
        },
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => Value::List(
            items
                .into_iter()
                .filter_map(|item| match item {
                    nested @ (serde_json::Value::Object(_) | serde_json::Value::Array(_)) => {
                        Some(Value::from(nested.to_string()))
                    }
                    other => scalar(other),
                })
                .collect(),
        ),
        serde_json::Value::Object(_) => return None,
    })
}

// ---------------------------------------------------------------------------------------
// key=value

const KV: &str = "kv";

/// Never claims a record on its own: `=` is everywhere. Inputs declare `kv`.
pub(super) fn detect_kv(_: &str) -> bool {
    false
}

pub(super) fn parse_kv(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let (body, _) = after_syslog_header(text, None, event, ctx);
    let had_header = event.get(field::LOG_SYSLOG_FORMAT).is_some();
    let pairs = kv_pairs(&body);
    if pairs.is_empty() {
        return Err(FormatError::new(KV, "no key=value pairs"));
    }
    event.set(field::EVENT_DATASET, KV);
    event.set(field::EVENT_KIND, "event");
    let mut timed = false;
    for (key, value) in pairs {
        match key.to_ascii_lowercase().as_str() {
            "src" | "srcip" | "src_ip" | "saddr" | "remote_ip" | "remoteaddr" | "client_ip" => {
                set_ip(event, field::SOURCE_IP, &value);
            }
            "dst" | "dstip" | "dst_ip" | "daddr" => set_ip(event, field::DESTINATION_IP, &value),
            "spt" | "sport" | "srcport" | "src_port" => set_port(event, field::SOURCE_PORT, &value),
            "dpt" | "dport" | "dstport" | "dst_port" => {
                set_port(event, field::DESTINATION_PORT, &value);
            }
            "user" | "username" | "usrname" | "suser" => set_text(event, field::USER_NAME, &value),
            "action" | "act" => set_text(event, field::EVENT_ACTION, &value),
            "proto" | "protocol" => set_transport(event, &value),
            "@timestamp" | "timestamp" | "time" if !timed => {
                if let Some(time) = text_time(&value) {
                    set_record_time(event, time, ctx);
                    timed = true;
                }
            }
            _ => {}
        }
        event.set(format!("{}.{key}", field::KV), value.into_owned());
    }
    if !timed && !had_header {
        time_from_receipt(event);
    }
    Ok(())
}

/// `k=v k2="quoted \" v" k3='single'`: the pairs in order. Words without `=` are
/// skipped; an unclosed quote runs to the end.
fn kv_pairs(s: &str) -> Vec<(&str, Cow<'_, str>)> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return out;
        }
        let parsed: IResult<&str, &str> = terminated(
            take_while1(|c: char| !c.is_whitespace() && c != '=' && c != '"' && c != '\''),
            literal("="),
        )
        .parse(rest);
        let Ok((value_text, key)) = parsed else {
            // A word that is no pair, or a stray quote or `=`: skip to the next blank.
            let skip = rest
                .char_indices()
                .skip(1)
                .find(|(_, c)| c.is_whitespace())
                .map_or(rest.len(), |(i, _)| i);
            rest = &rest[skip..];
            continue;
        };
        let (value, next) = kv_value(value_text);
        out.push((key, value));
        rest = next;
    }
}

/// A value at the start of `s` and the text after it.
fn kv_value(s: &str) -> (Cow<'_, str>, &str) {
    let Some(quote) = s.chars().next().filter(|&c| c == '"' || c == '\'') else {
        let end = s.find(char::is_whitespace).unwrap_or(s.len());
        return (Cow::Borrowed(&s[..end]), &s[end..]);
    };
    let body = &s[1..];
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == quote {
            let value = &body[..i];
            let value = if value.contains('\\') {
                unescape(value, if quote == '"' { b"\"\\" } else { b"'\\" })
            } else {
                Cow::Borrowed(value)
            };
            return (value, &body[i + 1..]);
        }
    }
    (Cow::Borrowed(body), "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BodyOutcome, Format, TimePolicy, parse};
    use gac_event::Timestamp;

    fn received() -> Timestamp {
        "2025-07-01T03:00:00Z".parse().unwrap()
    }

    fn run(line: &str, format: &str) -> (Event, crate::Parsed) {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let format: Format = format.parse().unwrap();
        parse(line.as_bytes(), received(), &policy, format)
    }

    fn s<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
        e.get_str(name)
    }

    #[test]
    fn cef_header_escapes_and_extensions() {
        let (e, p) = run(
            r"CEF:0|Security|threat\|manager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232 msg=a b\=c d\\e act=blocked rt=1700000000123 suser=alice shost=pc-1.local",
            "auto",
        );
        assert_eq!(p.parser, Some("cef"));
        assert_eq!(p.body, BodyOutcome::Parsed);
        assert_eq!(s(&e, field::OBSERVER_PRODUCT), Some("threat|manager"));
        assert_eq!(s(&e, field::EVENT_CODE), Some("100"));
        assert_eq!(s(&e, field::CEF_NAME), Some("worm successfully stopped"));
        assert_eq!(e.severity(), Some(Severity::Critical));
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.0.0.1"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(1232));
        assert_eq!(s(&e, field::EVENT_REASON), Some("a b=c d\\e"));
        assert_eq!(s(&e, "cef.extensions.msg"), Some("a b=c d\\e"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("blocked"));
        assert_eq!(s(&e, field::USER_NAME), Some("alice"));
        assert_eq!(s(&e, field::SOURCE_DOMAIN), Some("pc-1.local"));
        assert_eq!(e.timestamp.to_string(), "2023-11-14T22:13:20.123Z");
        assert!(e.tags.is_empty(), "{:?}", e.tags);
    }

    #[test]
    fn cef_after_a_syslog_header_both_ways() {
        let line = "Sep  8 08:32:20 UDM-Gent CEF: 0|Ubiquiti|UniFi Network|9.4.19|201|Threat|9|proto=TCP src=192.168.100.252 spt=65020";
        let (e, p) = run(line, "auto");
        assert_eq!(p.parser, Some("cef.syslog"));
        assert_eq!(p.body, BodyOutcome::Parsed);
        assert_eq!(s(&e, field::HOST_NAME), Some("UDM-Gent"));
        assert!(e.get(field::PROCESS_NAME).is_none());
        assert_eq!(s(&e, field::NETWORK_TRANSPORT), Some("tcp"));
        let (e2, p) = run(line, "cef");
        assert_eq!(p.body, BodyOutcome::Parsed);
        assert_eq!(s(&e2, field::SOURCE_IP), Some("192.168.100.252"));
        assert_eq!(e2.timestamp, e.timestamp);
        assert_eq!(s(&e2, field::HOST_NAME), Some("UDM-Gent"));
        let (e, p) = run("CEF:0|too|few", "cef");
        assert_eq!(p.body, BodyOutcome::Failed);
        assert!(s(&e, field::ERROR_MESSAGE).is_some());
    }

    #[test]
    fn leef_versions_and_delimiters() {
        let (e, p) = run(
            "LEEF:1.0|Panda Security|paps|02.47.00.0000|registrym|sev=7\tdevTime=2019-05-09 22:03:58.692466\tusrName=SYSTEM\tsrc=192.168.0.8\tPath=A|\\B",
            "auto",
        );
        assert_eq!(p.parser, Some("leef"));
        assert_eq!(s(&e, field::OBSERVER_VENDOR), Some("Panda Security"));
        assert_eq!(s(&e, field::EVENT_CODE), Some("registrym"));
        assert_eq!(e.severity(), Some(Severity::High));
        assert_eq!(s(&e, field::USER_NAME), Some("SYSTEM"));
        assert_eq!(s(&e, "leef.attributes.Path"), Some("A|\\B"));
        // No zone in devTime: the input's.
        assert_eq!(e.timestamp.to_string(), "2019-05-09T15:03:58.692466Z");
        assert!(e.has_tag(tag::ZONE_FROM_INPUT));
        let (e, _) = run(
            "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^dstPort=443",
            "auto",
        );
        assert_eq!(s(&e, field::DESTINATION_IP), Some("10.0.0.5"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(443));
        let (e, _) = run("LEEF:2.0|V|P|1|E|0x7c|a=1|b=2", "leef");
        assert_eq!(s(&e, "leef.attributes.b"), Some("2"));
        let (e, _) = run("LEEF:1.0|V|P|1|E|src=1.2.3.4 usrName=John Smith", "leef");
        assert_eq!(s(&e, field::USER_NAME), Some("John Smith"));
    }

    #[test]
    fn json_flattens_keeps_ecs_and_takes_the_time() {
        let (e, p) = run(
            r#"{"@timestamp":"2025-07-01T10:00:00+07:00","message":"hi","tags":["x"],"source":{"ip":"1.2.3.4","port":22},"event":{"dataset":"app.audit"},"n":[1,{"a":2}],"big":18446744073709551615,"z":null}"#,
            "auto",
        );
        assert_eq!(p.parser, Some("json"));
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00Z");
        assert_eq!(s(&e, field::SOURCE_IP), Some("1.2.3.4"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(22));
        assert_eq!(s(&e, field::EVENT_DATASET), Some("app.audit"));
        assert_eq!(s(&e, "json.message"), Some("hi"));
        assert!(e.get("json.@timestamp").is_none());
        assert_eq!(
            e.get("n"),
            Some(Value::list(vec![Value::Int(1), Value::from(r#"{"a":2}"#)]).as_ref())
        );
        assert_eq!(s(&e, "big"), Some("18446744073709551615"));
        assert!(e.get("z").is_none());
        let json = serde_json::to_string(&e).unwrap();
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e, "no key clashes with the event's own");

        let (e, _) = run(r#"{"time": 1700000000.5, "level": "info"}"#, "auto");
        assert_eq!(e.timestamp.to_string(), "2023-11-14T22:13:20.500Z");
        let (e, _) = run(r#"{"time": "yesterday"}"#, "auto");
        assert!(e.has_tag(tag::TIME_FROM_RECEIPT));
        assert_eq!(s(&e, "time"), Some("yesterday"));
        let (_, p) = run("{not json", "auto");
        assert_eq!(p.body, BodyOutcome::Failed);
        let (_, p) = run("[1,2]", "json");
        assert_eq!(p.body, BodyOutcome::Failed);
    }

    #[test]
    fn kv_is_declared_only() {
        let (_, p) = run("src=1.2.3.4 dst=5.6.7.8", "auto");
        assert_ne!(p.parser, Some("kv"));
        let (e, p) = run(
            r#"src=1.2.3.4 dstip=5.6.7.8 dport=443 user="Nguyen Van A" action=deny note='it\'s' x= y"#,
            "kv",
        );
        assert_eq!(p.body, BodyOutcome::Parsed);
        assert_eq!(s(&e, field::SOURCE_IP), Some("1.2.3.4"));
        assert_eq!(s(&e, field::DESTINATION_IP), Some("5.6.7.8"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(443));
        assert_eq!(s(&e, field::USER_NAME), Some("Nguyen Van A"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("deny"));
        assert_eq!(s(&e, "kv.note"), Some("it's"));
        assert_eq!(s(&e, "kv.x"), Some(""));
        let (e, _) = run("<134>Jan  1 00:00:00 fw app: src=1.2.3.4", "kv");
        assert_eq!(s(&e, field::HOST_NAME), Some("fw"));
        assert_eq!(s(&e, "kv.src"), Some("1.2.3.4"));
    }

    #[test]
    fn text_times() {
        let t = |s: &str| text_time(s);
        assert!(matches!(t("1700000000"), Some(RecordTime::Zoned(_))));
        assert!(matches!(
            t("Sep 08 2025 06:32:20.613 UTC"),
            Some(RecordTime::Zoned(_))
        ));
        assert!(matches!(
            t("Sep 08 2025 06:32:20"),
            Some(RecordTime::Local(_))
        ));
        assert!(matches!(
            t("2025-07-01 10:00:00 +0700"),
            Some(RecordTime::Zoned(_))
        ));
        assert!(t("soon").is_none());
        assert!(t("").is_none());
        assert!(float_epoch_time(f64::NAN).is_none());
        assert!(epoch_time(-1).is_none());
    }

    #[test]
    fn odd_input_never_panics() {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let ctx = Context {
            received: received(),
            policy: &policy,
            app: None,
        };
        for text in [
            "",
            "CEF:",
            "CEF:0|||||||",
            "CEF:0|a|b|c|d|e|f|=",
            "CEF:0|a|b|c|d|e|f|\\",
            "CEF:0|a\\",
            "CEF:0|a|b|c|d|e|f|k=\\",
            "LEEF:",
            "LEEF:2.0|a|b|c|d|",
            "LEEF:2.0|a|b|c|d|0x|x=1",
            "LEEF:2.0|a|b|c|d|xzz|",
            "LEEF:2.0|a|b|c|d|0x110000|a=b",
            "{",
            "{\"a\":",
            "=\"",
            "'",
            "k='\\",
            "k=\"é",
            "é=é",
            "{\"time\": 1e300}",
            "{\"@timestamp\": -5}",
        ] {
            for f in [
                parse_cef_record,
                parse_leef_record,
                parse_json,
                parse_kv,
                parse_cef_body,
                parse_leef_body,
            ] {
                let mut e = Event::new(received(), received(), "");
                let _ = f(text, &mut e, &ctx);
            }
        }
    }
}
