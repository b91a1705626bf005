//! Web server logs: nginx and Apache access logs (common, combined, `vhost_combined`, and
//! the JSON `log_format`s people write for nginx) and both servers' error logs, read as
//! whole records (lines from files) and as syslog bodies the servers send themselves.
//!
//! # Datasets
//!
//! An access line in common or combined format is the same whichever server wrote it, so
//! a line found by `auto` is `web.access`: naming a server we cannot see would mislead.
//! An input that knows its server declares `nginx.access` or `apache.access` (same
//! grammar), and a syslog body gets its server from the app name (`nginx`, `apache2`,
//! `httpd`). JSON access lines use nginx's variable names (`remote_addr`), so they are
//! `nginx.access`. Error logs differ per server and are recognised by shape:
//! `nginx.error`, `apache.error`.
//!
//! # Fields
//!
//! ECS where ECS has a name (`source.ip`, `url.*`, `http.*`, `user_agent.original`,
//! `event.outcome` from the status: 400 and above is a failure). What ECS lacks is kept
//! under the grammar's own prefix: `web.access.*` for the access-line grammar whatever the
//! server (`raw_request` when the request line is not `METHOD target [HTTP/x]`,
//! `x_forwarded_for`, `extra` for trailing text), `nginx.access.*` for unknown JSON keys,
//! `nginx.error.*` and `apache.error.*` for error-log details.
//!
//! This file also holds the helpers that `network.rs` and `nsm.rs` share (event time,
//! classification, JSON flattening), so the three parser families fill events alike.

use std::borrow::Cow;
use std::net::IpAddr;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use gac_event::{Event, IntoName, Severity, Value, field, tag};
use nom::bytes::complete::{tag as literal, take_while_m_n, take_while1};
use nom::character::complete::char;
use nom::combinator::opt;
use nom::error::{Error, ErrorKind};
use nom::{IResult, Parser};

use super::{Context, FormatError};
use crate::text::{Cut, is_ipv4};
use crate::time::RecordTime;

/// Datasets (and record format names where they double as one).
const WEB_ACCESS: &str = "web.access";
const NGINX_ACCESS: &str = "nginx.access";
const APACHE_ACCESS: &str = "apache.access";
const NGINX_ERROR: &str = "nginx.error";
const APACHE_ERROR: &str = "apache.error";
/// Record format name of nginx JSON access lines (dataset `nginx.access`).
pub(super) const NGINX_ACCESS_JSON: &str = "nginx.access.json";

/// Non-ECS fields of the access-line grammar.
const RAW_REQUEST: &str = "web.access.raw_request";
const X_FORWARDED_FOR: &str = "web.access.x_forwarded_for";
const EXTRA: &str = "web.access.extra";
const NGINX_ERROR_MESSAGE: &str = "nginx.error.message";
const NGINX_ERROR_CONNECTION_ID: &str = "nginx.error.connection_id";
const APACHE_ERROR_MESSAGE: &str = "apache.error.message";
const APACHE_ERROR_MODULE: &str = "apache.error.module";
const APACHE_ERROR_OS_ERROR: &str = "apache.error.os_error";

/// How far into a line the ` [` before an access log's time may lie: a vhost, a client,
/// an ident and a user name, each generously sized. Keeps detection cheap on long lines
/// of other formats.
const MAX_ACCESS_HEAD: usize = 512;

/// Which web server wrote a record, when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    Unknown,
    Nginx,
    Apache,
}

impl Server {
    fn access_dataset(self) -> &'static str {
        match self {
            Server::Unknown => WEB_ACCESS,
            Server::Nginx => NGINX_ACCESS,
            Server::Apache => APACHE_ACCESS,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Registry entry points.

/// `auto` detection of a common/combined/vhost access line: `[vhost] client ident user
/// [dd/Mon/yyyy:` ... `] "`.
pub(super) fn detect_access(s: &str) -> bool {
    // Every record `auto` reads is asked this, so it reads as little as it can. The
    // head's words hold no `[`, `"` or tab (`head_tokens_ok`), so the first of those
    // three bytes must be the `[` after the head, behind a blank; and a head has at most
    // four words, so at most four blanks come before it.
    let b = s.as_bytes();
    let window = &b[..b.len().min(MAX_ACCESS_HEAD + 2)];
    let Some(stop) = memchr::memchr3(b'[', b'"', b'\t', window) else {
        return false;
    };
    let blanks = window[..stop].iter().filter(|&&c| c == b' ').count();
    let open =
        (b[stop] == b'[' && stop > 0 && b[stop - 1] == b' ' && blanks <= 4).then(|| stop - 1);
    // ASCII blank: a char boundary.
    let Some(open) = open.filter(|&o| head_tokens_ok(&s[..o])) else {
        return false;
    };
    let t = &b[open + 2..];
    t.len() > 14
        && t[..2].iter().all(u8::is_ascii_digit)
        && t[2] == b'/'
        && t[3..6].iter().all(u8::is_ascii_alphabetic)
        && t[6] == b'/'
        && t[7..11].iter().all(u8::is_ascii_digit)
        && t[11] == b':'
        && s[open + 2..].locate("] \"").is_some()
}

pub(super) fn parse_web_access(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    access(s, Server::Unknown, e, ctx).map_err(|r| FormatError::new(WEB_ACCESS, r))
}

pub(super) fn parse_nginx_access(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    access(s, Server::Nginx, e, ctx).map_err(|r| FormatError::new(NGINX_ACCESS, r))
}

pub(super) fn parse_apache_access(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    access(s, Server::Apache, e, ctx).map_err(|r| FormatError::new(APACHE_ACCESS, r))
}

/// Declared-only formats (`nginx.access`, `apache.access`): `auto` cannot tell the
/// servers apart, so it never picks these; `web.access` reads the same lines.
pub(super) fn never(_: &str) -> bool {
    false
}

/// A JSON object with nginx's access variables: `remote_addr` and the request or status.
pub(super) fn detect_nginx_json(s: &str) -> bool {
    s.starts_with('{')
        && s.contains("\"remote_addr\"")
        && (s.contains("\"request\"") || s.contains("\"status\"") || s.contains("\"request_uri\""))
}

pub(super) fn parse_nginx_json(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    json_access(s, e, ctx).map_err(|r| FormatError::new(NGINX_ACCESS_JSON, r))
}

/// `2025/07/01 10:00:00 [error] 123#0: ...`.
pub(super) fn detect_nginx_error(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 24
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'/'
        && b[7] == b'/'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b' '
        && b[20] == b'['
        && s[21..].contains("] ")
}

pub(super) fn parse_nginx_error(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    nginx_error(s, e, ctx).map_err(|r| FormatError::new(NGINX_ERROR, r))
}

/// `[Tue Jul 01 10:00:00[.123456] 2025] [` or `[2025-07-01 10:00:00.123 +0700] [`.
pub(super) fn detect_apache_error(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 30 || b[0] != b'[' {
        return false;
    }
    let classic = b[1..4].iter().all(u8::is_ascii_alphabetic)
        && b[4] == b' '
        && b[5..8].iter().all(u8::is_ascii_alphabetic)
        && b[8] == b' ';
    let iso = b[1..5].iter().all(u8::is_ascii_digit) && b[5] == b'-' && b[8] == b'-';
    (classic || iso) && s.contains("] [")
}

pub(super) fn parse_apache_error(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    apache_error(s, e, ctx).map_err(|r| FormatError::new(APACHE_ERROR, r))
}

/// Syslog body from nginx (app `nginx`, `nginx_access`, ...): access, JSON or error lines.
pub(super) fn nginx_body_applies(app: Option<&str>, msg: &str) -> bool {
    app.is_some_and(|a| starts_with_ignore_case(a, "nginx"))
        && (detect_access(msg) || detect_nginx_json(msg) || detect_nginx_error(msg))
}

pub(super) fn parse_nginx_body(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let result = if detect_nginx_json(s) {
        json_access(s, e, ctx)
    } else if detect_nginx_error(s) {
        nginx_error(s, e, ctx)
    } else {
        access(s, Server::Nginx, e, ctx)
    };
    result.map_err(|r| FormatError::new("nginx", r))
}

/// Syslog body from Apache httpd (app `apache`, `apache2`, `httpd`): access or error lines.
pub(super) fn apache_body_applies(app: Option<&str>, msg: &str) -> bool {
    app.is_some_and(|a| starts_with_ignore_case(a, "apache") || starts_with_ignore_case(a, "httpd"))
        && (detect_access(msg) || detect_apache_error(msg))
}

pub(super) fn parse_apache_body(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let result = if detect_apache_error(s) {
        apache_error(s, e, ctx)
    } else {
        access(s, Server::Apache, e, ctx)
    };
    result.map_err(|r| FormatError::new("apache", r))
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

// ---------------------------------------------------------------------------------------
// Access lines.

/// One access line, borrowed from the record.
#[derive(Debug)]
struct Access<'a> {
    /// `%v[:%p]` of `vhost_combined`.
    vhost: Option<&'a str>,
    client: &'a str,
    user: &'a str,
    time: &'a str,
    /// The request line as logged (escapes kept).
    request: &'a str,
    status: &'a str,
    bytes: &'a str,
    referrer: Option<&'a str>,
    agent: Option<&'a str>,
    rest: &'a str,
}

/// The words before ` [`: `client ident user`, with a leading vhost (4 words) or one of
/// ident/user missing (2 words, seen from hand-written nginx formats).
fn head_tokens_ok(head: &str) -> bool {
    let mut n = 0;
    for word in head.split(' ') {
        n += 1;
        if n > 4 || word.is_empty() || word.bytes().any(|b| matches!(b, b'"' | b'\t' | b'[')) {
            return false;
        }
    }
    n >= 2
}

fn access_line(s: &str) -> IResult<&str, Access<'_>> {
    let (s, head) = before_bracket(s)?;
    let (s, _) = literal(" [").parse(s)?;
    let (s, time) = until("]").parse(s)?;
    let (s, _) = literal("] ").parse(s)?;
    let (s, request) = quoted(s)?;
    let (s, _) = char(' ').parse(s)?;
    let (s, status) = status_code(s)?;
    let (s, _) = char(' ').parse(s)?;
    let (s, bytes) = take_while1(|c: char| c.is_ascii_digit() || c == '-').parse(s)?;
    let (s, combined) = opt((char(' '), quoted, char(' '), quoted)).parse(s)?;
    // At most four words; a fifth makes the match below fail. No allocation: this runs
    // for every access line.
    let mut words = [""; 5];
    let mut n = 0;
    let mut rest = head;
    while n < words.len() {
        let (word, tail) = rest.cut_byte(b' ').unwrap_or((rest, ""));
        words[n] = word;
        n += 1;
        if word.len() == rest.len() {
            break;
        }
        rest = tail;
    }
    let (vhost, client, user) = match &words[..n] {
        [client, user] => (None, *client, *user),
        [client, _ident, user] => (None, *client, *user),
        [vhost, client, _ident, user] => (Some(*vhost), *client, *user),
        _ => return Err(nom::Err::Error(Error::new(head, ErrorKind::Count))),
    };
    let (referrer, agent) = match combined {
        Some((_, r, _, a)) => (Some(r), Some(a)),
        None => (None, None),
    };
    Ok((
        "",
        Access {
            vhost,
            client,
            user,
            time,
            request,
            status,
            bytes,
            referrer,
            agent,
            rest: s.trim(),
        },
    ))
}

/// nom's `take_until` through [`Cut::locate`]: the text before `needle`, which is left
/// in the input. nom's own searches with std's `str::find`, whose set-up cost more than
/// the search on an access line.
fn until<'a>(
    needle: &'static str,
) -> impl Parser<&'a str, Output = &'a str, Error = Error<&'a str>> {
    move |s: &'a str| match s.locate(needle) {
        Some(at) => Ok((&s[at..], &s[..at])),
        None => Err(nom::Err::Error(Error::new(s, ErrorKind::TakeUntil))),
    }
}

/// The head of an access line: the text before its first ` [`. The `[` is searched
/// for, not the blank: the head's words are blank-separated, and `[` is rare.
fn before_bracket(s: &str) -> IResult<&str, &str> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'[', &b[from..]) {
        let at = from + i;
        if at > 0 && b[at - 1] == b' ' {
            // ASCII blank: a char boundary.
            return Ok((&s[at - 1..], &s[..at - 1]));
        }
        from = at + 1;
    }
    Err(nom::Err::Error(Error::new(s, ErrorKind::TakeUntil)))
}

/// Three ASCII digits: an HTTP status.
fn status_code(s: &str) -> IResult<&str, &str> {
    match s.as_bytes() {
        [a, b, c, ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Ok((&s[3..], &s[..3]))
        }
        _ => Err(nom::Err::Error(Error::new(s, ErrorKind::TakeWhileMN))),
    }
}

/// A double-quoted string with backslash escapes (Apache writes `\"`, nginx `\x22`);
/// the text between the quotes is returned as logged.
fn quoted(s: &str) -> IResult<&str, &str> {
    let (rest, _) = char('"').parse(s)?;
    let b = rest.as_bytes();
    let mut i = 0;
    // Jumps from one quote or backslash to the next: a user agent runs to a hundred
    // bytes or more, and holds neither.
    while let Some(found) = memchr::memchr2(b'"', b'\\', &b[i.min(b.len())..]) {
        let at = i + found;
        if b[at] == b'"' {
            // ASCII, so `at` is a char boundary.
            return Ok((&rest[at + 1..], &rest[..at]));
        }
        i = at + 2;
    }
    Err(nom::Err::Error(Error::new(s, ErrorKind::Char)))
}

fn access(s: &str, server: Server, e: &mut Event, ctx: &Context<'_>) -> Result<(), String> {
    let (_, a) = access_line(s).map_err(|_| "not a common/combined access line".to_owned())?;
    let time = clf_time(a.time).ok_or_else(|| format!("bad time {:?}", a.time))?;
    set_time(e, time, ctx);
    set_class(e, server.access_dataset(), "event", &["web"], &["access"]);
    if let Some(vhost) = a.vhost {
        set_host_port(e, vhost);
    }
    // `%h` is an address or a name; a few setups log `address:port` there.
    let (client, port) = split_host_port(a.client);
    set_address(e, field::SOURCE_IP, field::SOURCE_DOMAIN, client);
    if let Some(port) = port {
        e.set(field::SOURCE_PORT, port);
    }
    if a.user != "-" {
        e.set(field::USER_NAME, a.user);
    }
    set_request(e, a.request);
    set_status(e, a.status.parse().unwrap_or(0));
    if let Ok(bytes) = a.bytes.parse::<i64>() {
        e.set(field::HTTP_RESPONSE_BODY_BYTES, bytes);
    }
    if let Some(r) = a.referrer.filter(|r| *r != "-" && !r.is_empty()) {
        e.set(field::HTTP_REQUEST_REFERRER, r);
    }
    if let Some(ua) = a.agent.filter(|u| *u != "-" && !u.is_empty()) {
        e.set(field::USER_AGENT_ORIGINAL, ua);
    }
    access_tail(e, a.rest);
    Ok(())
}

/// What follows the combined fields: nginx's `main` format adds `"$http_x_forwarded_for"`,
/// some Apache setups `X-Forwarded-For="..."`; anything else is kept as is.
fn access_tail(e: &mut Event, rest: &str) {
    if rest.is_empty() {
        return;
    }
    let xff = if rest.starts_with('"') {
        quoted(rest).ok()
    } else if let Some(after) = rest.strip_prefix("X-Forwarded-For=") {
        quoted(after).ok()
    } else {
        None
    };
    match xff {
        Some((tail, value)) if tail.trim().is_empty() => {
            if value != "-" && !value.is_empty() {
                e.set(X_FORWARDED_FOR, value);
            }
        }
        _ => e.set(EXTRA, rest),
    }
}

/// `dd/Mon/yyyy:HH:MM:SS +zzzz`, read by position: it is on every access line, and
/// chrono's format-string parser costs several times more.
fn clf_time(s: &str) -> Option<RecordTime> {
    let b = s.as_bytes();
    if b.len() != 26
        || b[2] != b'/'
        || b[6] != b'/'
        || b[11] != b':'
        || b[14] != b':'
        || b[17] != b':'
        || b[20] != b' '
    {
        return None;
    }
    let day = digits(&b[0..2])?;
    let month = month_number(&s[3..6])?;
    let year = i32::try_from(digits(&b[7..11])?).ok()?;
    let (hour, minute, second) = (
        digits(&b[12..14])?,
        digits(&b[15..17])?,
        digits(&b[18..20])?,
    );
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset_secs = i32::try_from(digits(&b[22..24])? * 3600 + digits(&b[24..26])? * 60).ok()?;
    let offset = FixedOffset::east_opt(sign * offset_secs)?;
    crate::time::zoned(year, month, day, hour, minute, second, offset)
}

/// An unsigned decimal of ASCII digits (at most 9, so it cannot overflow).
pub(super) fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &d| {
        d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
    })
}

/// `Jan` to 1 ... `Dec` to 12, any case.
pub(super) fn month_number(s: &str) -> Option<u32> {
    let [a, b, c] = *s.as_bytes() else {
        return None;
    };
    // Lower-cased by setting the ASCII case bit; only letters can then match.
    let month = match [a | 0x20, b | 0x20, c | 0x20] {
        [b'j', b'a', b'n'] => 1,
        [b'f', b'e', b'b'] => 2,
        [b'm', b'a', b'r'] => 3,
        [b'a', b'p', b'r'] => 4,
        [b'm', b'a', b'y'] => 5,
        [b'j', b'u', b'n'] => 6,
        [b'j', b'u', b'l'] => 7,
        [b'a', b'u', b'g'] => 8,
        [b's', b'e', b'p'] => 9,
        [b'o', b'c', b't'] => 10,
        [b'n', b'o', b'v'] => 11,
        [b'd', b'e', b'c'] => 12,
        _ => return None,
    };
    Some(month)
}

/// `host[:port]` of a virtual host: the site asked for.
fn set_host_port(e: &mut Event, vhost: &str) {
    let (host, port) = split_host_port(vhost);
    if !host.is_empty() && host != "-" {
        e.set(field::URL_DOMAIN, host);
    }
    if let Some(port) = port {
        e.set(field::DESTINATION_PORT, port);
    }
}

/// `host:port`, `[v6]:port`, `host` or a bare IPv6 address.
fn split_host_port(s: &str) -> (&str, Option<u16>) {
    if let Some(v6) = s.strip_prefix('[')
        && let Some((host, rest)) = v6.split_once(']')
    {
        return (host, rest.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match s.cut_last_byte(b':') {
        // More than one colon and no brackets: an IPv6 address without a port.
        Some((host, _)) if host.contains(':') => (s, None),
        Some((host, port)) => match port.parse() {
            Ok(port) => (host, Some(port)),
            Err(_) => (s, None),
        },
        None => (s, None),
    }
}

/// An address that may be an IP or a name: `source.ip` or `source.domain`.
pub(super) fn set_address(
    e: &mut Event,
    ip_field: &'static str,
    domain_field: impl IntoName,
    s: &str,
) {
    if s.is_empty() || s == "-" {
        return;
    }
    if is_ipv4(s) {
        // Written canonically already: its text is kept, not formatted again.
        e.set(ip_field, s);
        return;
    }
    match s.parse::<IpAddr>() {
        Ok(ip) => e.set(ip_field, ip),
        Err(_) => e.set(domain_field, s),
    }
}

/// A request line `METHOD target [HTTP/x.y]`; anything else (probes, TLS bytes sent to
/// a plain port, `-`) is kept whole in `web.access.raw_request`.
fn set_request(e: &mut Event, request: &str) {
    if request.is_empty() || request == "-" {
        return;
    }
    match split_request(request) {
        Some((method, target, version)) => {
            e.set(field::HTTP_REQUEST_METHOD, method);
            set_url(e, target);
            if let Some(v) = version {
                e.set(field::HTTP_VERSION, v);
            }
        }
        None => e.set(RAW_REQUEST, request),
    }
}

fn split_request(request: &str) -> Option<(&str, &str, Option<&str>)> {
    let (method, rest) = request.cut_byte(b' ')?;
    let method_ok = !method.is_empty()
        && method.len() <= 32
        && method.starts_with(|c: char| c.is_ascii_alphabetic())
        && method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !method_ok {
        return None;
    }
    let (target, version) = match rest.cut_last_byte(b' ') {
        Some((target, proto)) => match proto.strip_prefix("HTTP/") {
            Some(v) => (target, Some(v)),
            None => (rest, None),
        },
        None => (rest, None),
    };
    (!target.is_empty()).then_some((method, target, version))
}

/// `url.original`, and its parts when it is a path or an absolute URL.
pub(super) fn set_url(e: &mut Event, target: &str) {
    e.set(field::URL_ORIGINAL, target);
    let path_query = if let Some((scheme, after)) = target.cut("://") {
        if !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-')
        {
            return;
        }
        e.set(field::URL_SCHEME, scheme);
        let end = after.find(['/', '?']).unwrap_or(after.len());
        let (authority, rest) = after.split_at(end);
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(hostport);
        if !host.is_empty() {
            e.set(field::URL_DOMAIN, host);
        }
        if let Some(port) = port {
            e.set(field::URL_PORT, port);
        }
        rest
    } else if target.starts_with('/') {
        target
    } else {
        return;
    };
    let (path, query) = match path_query.cut_byte(b'?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_query, None),
    };
    if !path.is_empty() {
        e.set(field::URL_PATH, path);
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        e.set(field::URL_QUERY, q);
    }
}

/// The status code and the outcome it implies: 4xx and 5xx are failures.
fn set_status(e: &mut Event, status: u16) {
    if !(100..1000).contains(&status) {
        return;
    }
    e.set(field::HTTP_RESPONSE_STATUS_CODE, status);
    e.set(
        field::EVENT_OUTCOME,
        if status >= 400 { "failure" } else { "success" },
    );
}

// ---------------------------------------------------------------------------------------
// JSON access lines.

/// Maps nginx variable names to ECS; keys it does not know are kept as `nginx.access.<key>`.
fn json_access(s: &str, e: &mut Event, ctx: &Context<'_>) -> Result<(), String> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(s).map_err(|err| format!("not a JSON object: {err}"))?;
    let text = |k: &str| {
        map.get(k)
            .and_then(json_text)
            .filter(|v| !v.is_empty() && v != "-")
    };
    let time = text("time_iso8601")
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(RecordTime::Zoned)
        .or_else(|| text("time_local").and_then(|t| clf_time(&t)))
        .or_else(|| {
            text("msec")
                .and_then(|t| epoch_seconds(&t))
                .map(RecordTime::Zoned)
        })
        .unwrap_or(RecordTime::Absent);
    set_time(e, time, ctx);
    set_class(e, NGINX_ACCESS, "event", &["web"], &["access"]);

    if let Some(addr) = text("remote_addr") {
        set_address(e, field::SOURCE_IP, field::SOURCE_DOMAIN, &addr);
    }
    if let Some(user) = text("remote_user") {
        e.set(field::USER_NAME, user.as_ref());
    }
    if let Some(request) = text("request") {
        set_request(e, &request);
    } else {
        if let Some(method) = text("request_method") {
            e.set(field::HTTP_REQUEST_METHOD, method.as_ref());
        }
        if let Some(uri) = text("request_uri").or_else(|| text("uri")) {
            set_url(e, &uri);
        }
        if let Some(proto) = text("server_protocol")
            && let Some(v) = proto.strip_prefix("HTTP/")
        {
            e.set(field::HTTP_VERSION, v);
        }
    }
    if let Some(host) = text("host")
        .or_else(|| text("http_host"))
        .or_else(|| text("server_name"))
    {
        set_host_port(e, &host);
    }
    if let Some(status) = text("status").and_then(|s| s.parse().ok()) {
        set_status(e, status);
    }
    let int = |k: &str| text(k).and_then(|v| v.parse::<i64>().ok());
    let numbers = [
        ("body_bytes_sent", field::HTTP_RESPONSE_BODY_BYTES),
        ("bytes_sent", field::HTTP_RESPONSE_BYTES),
        ("request_length", field::HTTP_REQUEST_BYTES),
        ("remote_port", field::SOURCE_PORT),
        ("server_port", field::DESTINATION_PORT),
    ];
    for (key, name) in numbers {
        if let Some(n) = int(key) {
            e.set(name, n);
        }
    }
    let texts = [
        ("http_referer", field::HTTP_REQUEST_REFERRER),
        ("http_referrer", field::HTTP_REQUEST_REFERRER),
        ("http_user_agent", field::USER_AGENT_ORIGINAL),
        ("http_x_forwarded_for", X_FORWARDED_FOR),
        ("request_id", field::HTTP_REQUEST_ID),
        ("scheme", field::URL_SCHEME),
    ];
    for (key, name) in texts {
        if let Some(v) = text(key) {
            e.set(name, v.as_ref());
        }
    }
    if let Some(ip) = text("server_addr").and_then(|a| a.parse::<IpAddr>().ok()) {
        e.set(field::DESTINATION_IP, ip);
    }
    if let Some(secs) = text("request_time").and_then(|t| t.parse::<f64>().ok()) {
        e.set(field::EVENT_DURATION, seconds_to_nanos(secs));
    }

    const MAPPED: &[&str] = &[
        "time_iso8601",
        "time_local",
        "msec",
        "remote_addr",
        "remote_user",
        "request",
        "request_method",
        "request_uri",
        "uri",
        "server_protocol",
        "host",
        "http_host",
        "server_name",
        "status",
        "body_bytes_sent",
        "bytes_sent",
        "request_length",
        "remote_port",
        "server_port",
        "http_referer",
        "http_referrer",
        "http_user_agent",
        "http_x_forwarded_for",
        "request_id",
        "scheme",
        "server_addr",
        "request_time",
    ];
    let mut budget = MAX_FLATTENED_FIELDS;
    for (key, value) in &map {
        if !MAPPED.contains(&key.as_str()) {
            flatten_json(e, &format!("{NGINX_ACCESS}.{key}"), value, &mut budget);
        }
    }
    Ok(())
}

/// A JSON scalar as text: strings as they are, numbers as written.
fn json_text(v: &serde_json::Value) -> Option<Cow<'_, str>> {
    match v {
        serde_json::Value::String(s) => Some(Cow::Borrowed(s)),
        serde_json::Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// Seconds (fractional) as nanoseconds, saturating.
pub(super) fn seconds_to_nanos(secs: f64) -> i64 {
    // Float-to-int casts saturate; NaN becomes 0.
    (secs * 1e9).round() as i64
}

/// `1719800000.123`: seconds since the epoch, as a UTC time.
pub(super) fn epoch_seconds(s: &str) -> Option<DateTime<FixedOffset>> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = whole.parse().ok()?;
    let frac_digits = frac.get(..frac.len().min(9))?;
    let nanos = if frac_digits.is_empty() {
        0
    } else {
        let n: u32 = frac_digits.parse().ok()?;
        n * 10u32.pow(9 - u32::try_from(frac_digits.len()).ok()?)
    };
    DateTime::from_timestamp(secs, nanos).map(|t| t.fixed_offset())
}

// ---------------------------------------------------------------------------------------
// Error logs.

/// `YYYY/MM/DD HH:MM:SS [level] PID#TID: [*CID ]message[, client: ..., server: ...]`.
fn nginx_error(s: &str, e: &mut Event, ctx: &Context<'_>) -> Result<(), String> {
    let mut header = (
        take_while_m_n(19, 19, |c: char| c != '['),
        literal(" ["),
        take_while1(|c: char| c.is_ascii_alphabetic()),
        literal("] "),
        take_while1(|c: char| c.is_ascii_digit()),
        char('#'),
        take_while1(|c: char| c.is_ascii_digit()),
        literal(": "),
        opt((
            char('*'),
            take_while1(|c: char| c.is_ascii_digit()),
            char(' '),
        )),
    );
    let parsed: IResult<&str, _> = header.parse(s);
    let (text, (time, _, level, _, pid, _, tid, _, cid)) =
        parsed.map_err(|_| "not an nginx error line".to_owned())?;
    let time = NaiveDateTime::parse_from_str(time, "%Y/%m/%d %H:%M:%S")
        .map_err(|_| format!("bad time {time:?}"))?;
    set_time(e, RecordTime::Local(time), ctx);
    set_class(e, NGINX_ERROR, "event", &["web"], &["error"]);
    set_level(e, level);
    set_int(e, field::PROCESS_PID, pid);
    set_int(e, field::PROCESS_THREAD_ID, tid);
    if let Some((_, id, _)) = cid {
        set_int(e, NGINX_ERROR_CONNECTION_ID, id);
    }
    let (message, tail) = match text.locate(", client: ") {
        Some(i) => (&text[..i], Some(&text[i + 2..])),
        None => (text, None),
    };
    e.set(NGINX_ERROR_MESSAGE, message);
    let mut rest = tail.unwrap_or("");
    while let Some((key, value, after)) = error_pair(rest) {
        match key {
            "client" => set_address(e, field::SOURCE_IP, field::SOURCE_DOMAIN, value),
            "server" if !value.is_empty() => {
                // The `server_name` that took the request; mail proxies log `ip:port`.
                let (host, port) = split_host_port(value);
                set_address(e, field::DESTINATION_IP, field::DESTINATION_DOMAIN, host);
                if let Some(port) = port {
                    e.set(field::DESTINATION_PORT, port);
                }
            }
            "request" => set_request(e, value),
            "host" => set_host_port(e, value),
            "referrer" => e.set(field::HTTP_REQUEST_REFERRER, value),
            _ if !value.is_empty() => {
                e.set(format!("{NGINX_ERROR}.{}", key.replace(' ', "_")), value);
            }
            _ => {}
        }
        rest = after;
    }
    Ok(())
}

/// `key: value` or `key: "value"`, then `, ` before the next pair.
fn error_pair(s: &str) -> Option<(&str, &str, &str)> {
    let (key, after) = s.cut(": ")?;
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b' ')
    {
        return None;
    }
    let (value, rest) = if after.starts_with('"') {
        let (rest, value) = quoted(after).ok()?;
        (value, rest)
    } else {
        let end = after.locate(", ").unwrap_or(after.len());
        (&after[..end], &after[end..])
    };
    Some((key, value, rest.strip_prefix(", ").unwrap_or(rest)))
}

/// Apache 2.2 `[time] [level] [client ip] msg` and 2.4 `[time] [module:level] [pid p:tid t]
/// [client ip:port] AHnnnnn: msg`, with 2.4's optional `(errno)text: ` and `[remote ...]`.
fn apache_error(s: &str, e: &mut Event, ctx: &Context<'_>) -> Result<(), String> {
    let (time, rest) = s
        .strip_prefix('[')
        .and_then(|r| r.cut("] ["))
        .ok_or("not an Apache error line")?;
    let time = apache_time(time).ok_or_else(|| format!("bad time {time:?}"))?;
    let (module_level, mut rest) = rest.split_once(']').ok_or("unterminated level")?;
    set_time(e, time, ctx);
    set_class(e, APACHE_ERROR, "event", &["web"], &["error"]);
    let (module, level) = module_level.rsplit_once(':').unwrap_or(("", module_level));
    set_level(e, level);
    if !module.is_empty() {
        e.set(APACHE_ERROR_MODULE, module);
    }
    loop {
        rest = rest.trim_start();
        if let Some(inner) = rest.strip_prefix("[pid ") {
            let Some((ids, after)) = inner.split_once(']') else {
                break;
            };
            let (pid, tid) = ids.cut(":tid ").unwrap_or((ids, ""));
            set_int(e, field::PROCESS_PID, pid);
            set_int(e, field::PROCESS_THREAD_ID, tid);
            rest = after;
        } else if let Some(inner) = rest.strip_prefix("[client ") {
            let Some((addr, after)) = inner.split_once(']') else {
                break;
            };
            set_client(e, addr);
            rest = after;
        } else if let Some(inner) = rest.strip_prefix("[remote ") {
            // The peer of the connection when a proxy forwards for the client.
            let Some((_, after)) = inner.split_once(']') else {
                break;
            };
            rest = after;
        } else if let Some((os_error, after)) = os_error(rest) {
            e.set(APACHE_ERROR_OS_ERROR, os_error);
            rest = after;
        } else {
            break;
        }
    }
    let mut message = rest;
    if let Some((code, after)) = message.cut(": ")
        && code.len() == 7
        && code.starts_with("AH")
        && code[2..].bytes().all(|b| b.is_ascii_digit())
    {
        e.set(field::ERROR_CODE, code);
        message = after;
    }
    if let Some((text, referrer)) = message.cut_last(", referer: ") {
        e.set(field::HTTP_REQUEST_REFERRER, referrer);
        message = text;
    }
    e.set(APACHE_ERROR_MESSAGE, message);
    Ok(())
}

/// `Tue Jul 01 10:00:00[.123456] 2025` (local) or `2025-07-01 10:00:00[.123] +0700`.
fn apache_time(s: &str) -> Option<RecordTime> {
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f %z")
            .ok()
            .map(RecordTime::Zoned);
    }
    NaiveDateTime::parse_from_str(s, "%a %b %d %H:%M:%S%.f %Y")
        .ok()
        .map(RecordTime::Local)
}

/// `(70014)End of file found: ` before the client, as mod_ssl writes it.
fn os_error(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('(')?;
    let (code, _) = inner.split_once(')')?;
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (text, after) = s.cut(": ")?;
    Some((text, after))
}

/// `ip`, `ip:port`, or an IPv6 address with a port after its last colon.
fn set_client(e: &mut Event, addr: &str) {
    if let Ok(ip) = addr.parse::<IpAddr>() {
        e.set(field::SOURCE_IP, ip);
        return;
    }
    if let Some((host, port)) = addr.rsplit_once(':')
        && let (Ok(ip), Ok(port)) = (
            host.trim_matches(['[', ']']).parse::<IpAddr>(),
            port.parse::<u16>(),
        )
    {
        e.set(field::SOURCE_IP, ip);
        e.set(field::SOURCE_PORT, port);
        return;
    }
    e.set(field::SOURCE_DOMAIN, addr);
}

/// `log.level` and the normalised severity of a syslog-style level word (Apache's and
/// nginx's levels, FortiGate's `information`, Cisco's `informational`).
pub(super) fn set_level(e: &mut Event, level: &str) {
    if level.is_empty() {
        return;
    }
    e.set(field::LOG_LEVEL, level);
    if let Some(code) = syslog_level_code(level) {
        e.set(field::EVENT_SEVERITY, Severity::from_syslog(code).code());
    }
}

fn syslog_level_code(level: &str) -> Option<u8> {
    let l = level.to_ascii_lowercase();
    Some(match l.as_str() {
        "emerg" | "emergency" | "emergencies" | "panic" => 0,
        "alert" | "alerts" => 1,
        "crit" | "critical" => 2,
        "error" | "err" | "errors" => 3,
        "warn" | "warning" | "warnings" => 4,
        "notice" | "notification" | "notifications" => 5,
        "info" | "information" | "informational" => 6,
        _ if l == "debug" || l == "debugging" || l.starts_with("trace") => 7,
        _ => return None,
    })
}

/// An integer field from decimal text; text that is not one is ignored.
pub(super) fn set_int(e: &mut Event, name: &'static str, s: &str) {
    if let Ok(n) = s.parse::<i64>() {
        e.set(name, n);
    }
}

// ---------------------------------------------------------------------------------------
// Helpers shared with network.rs and nsm.rs.

/// At most this many fields come from flattening one JSON record's unmapped keys, so a
/// hostile or exotic record (Suricata `stats` holds hundreds) cannot bloat the index.
pub(super) const MAX_FLATTENED_FIELDS: usize = 256;

/// Sets the event time from a record's own time, replacing what a syslog header said
/// (the body's time is the event's, and usually has a zone the header lacked).
/// Provenance is recorded as the syslog stage does: `event.timezone` and tags.
pub(super) fn set_time(e: &mut Event, time: RecordTime, ctx: &Context<'_>) {
    use crate::time::Provenance;
    let (timestamp, provenance) = ctx.policy.resolve(time, ctx.received);
    e.timestamp = timestamp;
    e.tags.retain(|t| {
        t != tag::YEAR_INFERRED && t != tag::ZONE_FROM_INPUT && t != tag::TIME_FROM_RECEIPT
    });
    e.fields.remove(field::EVENT_TIMEZONE);
    match provenance {
        Provenance::Record {
            offset,
            year_inferred,
        } => {
            e.set(
                field::EVENT_TIMEZONE,
                crate::time::OffsetText::new(offset).as_str(),
            );
            if year_inferred {
                e.add_tag(tag::YEAR_INFERRED);
            }
        }
        Provenance::InputZone { year_inferred } => {
            e.set(field::EVENT_TIMEZONE, ctx.policy.zone().name());
            e.add_tag(tag::ZONE_FROM_INPUT);
            if year_inferred {
                e.add_tag(tag::YEAR_INFERRED);
            }
        }
        Provenance::Receipt { .. } => e.add_tag(tag::TIME_FROM_RECEIPT),
    }
}

/// An `event.dataset`: a parser's constant, kept as it is, or a name made per record.
pub(super) enum Dataset<'a> {
    Const(&'static str),
    Made(&'a str),
}

impl From<&'static str> for Dataset<'_> {
    fn from(name: &'static str) -> Self {
        Dataset::Const(name)
    }
}

impl<'a> From<&'a String> for Dataset<'a> {
    fn from(name: &'a String) -> Self {
        Dataset::Made(name)
    }
}

/// `event.dataset`, `event.kind`, `event.category` and `event.type`. One category or
/// type is stored as a string, several as a list (ECS allows both; Sigma matches either).
pub(super) fn set_class<'d>(
    e: &mut Event,
    dataset: impl Into<Dataset<'d>>,
    kind: &'static str,
    category: &[&'static str],
    types: &[&'static str],
) {
    match dataset.into() {
        Dataset::Const(name) => e.set_const(field::EVENT_DATASET, name),
        Dataset::Made(name) => e.set(field::EVENT_DATASET, name),
    }
    e.set_const(field::EVENT_KIND, kind);
    set_words(e, field::EVENT_CATEGORY, category);
    set_words(e, field::EVENT_TYPE, types);
}

/// A string for one word, a list for several, nothing for none.
pub(super) fn set_words(e: &mut Event, name: &'static str, words: &[&'static str]) {
    match words {
        [] => {}
        [one] => e.set_const(name, one),
        many => e.set(
            name,
            Value::List(many.iter().map(|w| Value::from_static(w)).collect()),
        ),
    }
}

/// Flattens a JSON value into `prefix` and dotted sub-keys. Nulls and empty strings are
/// skipped; arrays of scalars become lists; arrays holding objects are kept as JSON text.
pub(super) fn flatten_json(e: &mut Event, prefix: &str, v: &serde_json::Value, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                flatten_json(e, &format!("{prefix}.{k}"), v, budget);
            }
        }
        other => {
            if let Some(value) = json_to_value(other) {
                *budget -= 1;
                e.set(prefix.to_owned(), value);
            }
        }
    }
}

/// A JSON scalar or array as an event value; `None` for null, empty strings and objects.
pub(super) fn json_to_value(v: &serde_json::Value) -> Option<Value> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::Bool(b) => Some(Value::Bool(*b)),
        serde_json::Value::Number(n) => Some(match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        serde_json::Value::String(s) if s.is_empty() => None,
        serde_json::Value::String(s) => Some(Value::from(s.as_str())),
        serde_json::Value::Array(items) => {
            if items.iter().any(|i| i.is_object() || i.is_array()) {
                return Some(Value::from(v.to_string()));
            }
            let list: Vec<Value> = items.iter().filter_map(json_to_value).collect();
            (!list.is_empty()).then_some(Value::list(list))
        }
        serde_json::Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use gac_event::Timestamp;

    use super::*;

    /// `detect_access` before its one-pass head scan (session 5), kept to check the scan.
    fn detect_access_by_search(s: &str) -> bool {
        let head = &s.as_bytes()[..s.len().min(MAX_ACCESS_HEAD + 2)];
        let Some(open) = memchr::memmem::find(head, b" [") else {
            return false;
        };
        if open > MAX_ACCESS_HEAD || !head_tokens_ok(&s[..open]) {
            return false;
        }
        let t = &s.as_bytes()[open + 2..];
        t.len() > 14
            && t[..2].iter().all(u8::is_ascii_digit)
            && t[2] == b'/'
            && t[3..6].iter().all(u8::is_ascii_alphabetic)
            && t[6] == b'/'
            && t[7..11].iter().all(u8::is_ascii_digit)
            && t[11] == b':'
            && s[open + 2..].contains("] \"")
    }

    #[test]
    fn the_one_pass_access_detection_agrees_with_the_search() {
        let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let stamp = "[10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326";
        let mut lines: Vec<String> = vec![
            format!("1.2.3.4 - - {stamp}"),
            format!("1.2.3.4 - {stamp}"),
            format!("vhost:80 1.2.3.4 - frank {stamp}"),
            format!("a b c d e {stamp}"),
            format!("1.2.3.4  - - {stamp}"),
            format!("1.2.3.4 - us[er] {stamp}"),
            format!("1.2.3.4 - \"x\" {stamp}"),
            format!("{} {stamp}", "x".repeat(MAX_ACCESS_HEAD - 4)),
            format!("{} {stamp}", "x".repeat(MAX_ACCESS_HEAD)),
            format!("{} {stamp}", "x".repeat(MAX_ACCESS_HEAD + 1)),
            format!("é {} {stamp}", "x".repeat(MAX_ACCESS_HEAD - 3)),
            format!("[x] 1.2.3.4 - - {stamp}"),
            stamp.to_owned(),
            String::new(),
        ];
        let mut claimed = 0;
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "log") {
                lines.extend(
                    std::fs::read_to_string(&path)
                        .unwrap()
                        .lines()
                        .map(String::from),
                );
            }
        }
        for line in &lines {
            let expected = detect_access_by_search(line);
            assert_eq!(detect_access(line), expected, "{line}");
            claimed += usize::from(expected);
        }
        assert!(claimed > 200, "{claimed} access lines");
    }
    use crate::time::TimePolicy;

    use super::super::testing::{run, s};

    #[test]
    fn combined_line_maps_to_ecs() {
        let line = r#"10.1.2.3 - alice [01/Jul/2025:10:00:00 +0700] "GET /a/b?x=1&y=2 HTTP/1.1" 404 571 "http://ref/" "curl/8.0""#;
        assert!(detect_access(line));
        let e = run(parse_web_access, line);
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00Z");
        assert_eq!(s(&e, field::EVENT_TIMEZONE), Some("+07:00"));
        assert_eq!(s(&e, field::EVENT_DATASET), Some("web.access"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.1.2.3"));
        assert_eq!(s(&e, field::USER_NAME), Some("alice"));
        assert_eq!(s(&e, field::HTTP_REQUEST_METHOD), Some("GET"));
        assert_eq!(s(&e, field::URL_PATH), Some("/a/b"));
        assert_eq!(s(&e, field::URL_QUERY), Some("x=1&y=2"));
        assert_eq!(s(&e, field::HTTP_VERSION), Some("1.1"));
        assert_eq!(e.get_i64(field::HTTP_RESPONSE_STATUS_CODE), Some(404));
        assert_eq!(e.get_i64(field::HTTP_RESPONSE_BODY_BYTES), Some(571));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
        assert_eq!(s(&e, field::HTTP_REQUEST_REFERRER), Some("http://ref/"));
        assert_eq!(s(&e, field::USER_AGENT_ORIGINAL), Some("curl/8.0"));
        assert!(e.tags.is_empty());
    }

    #[test]
    fn vhost_common_and_escaped_quotes() {
        let line = r#"www.example.vn:443 2001:db8::1 - - [01/Jul/2025:10:00:00 +0000] "GET /q?s=\"x\" HTTP/1.0" 200 -"#;
        assert!(detect_access(line));
        let e = run(parse_apache_access, line);
        assert_eq!(s(&e, field::EVENT_DATASET), Some("apache.access"));
        assert_eq!(s(&e, field::URL_DOMAIN), Some("www.example.vn"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(443));
        assert_eq!(s(&e, field::SOURCE_IP), Some("2001:db8::1"));
        assert_eq!(s(&e, field::URL_QUERY), Some(r#"s=\"x\""#));
        assert_eq!(e.get(field::HTTP_RESPONSE_BODY_BYTES), None);
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("success"));
    }

    #[test]
    fn garbage_request_is_kept_raw_and_tail_kept() {
        let line =
            r#"1.2.3.4 - - [29/Jul/2023:10:26:07 -0700] "\x16\x03\x01" 400 157 "-" "-" "5.6.7.8""#;
        let e = run(parse_nginx_access, line);
        assert_eq!(s(&e, RAW_REQUEST), Some(r"\x16\x03\x01"));
        assert_eq!(e.get(field::HTTP_REQUEST_METHOD), None);
        assert_eq!(s(&e, X_FORWARDED_FOR), Some("5.6.7.8"));
        assert_eq!(e.get(field::USER_AGENT_ORIGINAL), None);
    }

    #[test]
    fn access_detection_refuses_other_shapes() {
        for line in [
            "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
            "Jun 30 10:00:01 web-01 sshd[42]: Accepted publickey",
            r#"{"remote_addr":"1.2.3.4"}"#,
            "a b c d e [01/Jul/2025:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1",
            "",
        ] {
            assert!(!detect_access(line), "{line}");
        }
    }

    #[test]
    fn bad_time_is_an_error_not_a_panic() {
        let policy = TimePolicy::new(chrono_tz::UTC);
        let ctx = Context {
            received: Timestamp::from_secs(0),
            policy: &policy,
            app: None,
        };
        let mut e = Event::new(ctx.received, ctx.received, "");
        for line in [
            r#"1.2.3.4 - - [99/Jul/2025:10:00:00 +0000] "GET / HTTP/1.1" 200 1"#,
            r#"1.2.3.4 - - [01/Jul/2025:10:00:00 +0000] "GET / HTTP/1.1"#,
            "1.2.3.4 - - [",
        ] {
            assert!(parse_web_access(line, &mut e, &ctx).is_err(), "{line}");
        }
    }

    #[test]
    fn json_access_maps_known_keys_and_keeps_the_rest() {
        let line = r#"{"time_iso8601":"2025-07-01T10:00:00+07:00","remote_addr":"203.0.113.9","remote_user":"","request":"POST /login HTTP/2.0","status":"401","body_bytes_sent":"12","request_time":"0.250","http_user_agent":"Mozilla/5.0","host":"dichvucong.example.gov.vn","upstream_addr":"10.0.0.5:8080","geo":{"cc":"VN"}}"#;
        assert!(detect_nginx_json(line));
        let e = run(parse_nginx_json, line);
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00Z");
        assert_eq!(s(&e, field::EVENT_DATASET), Some("nginx.access"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("203.0.113.9"));
        assert_eq!(e.get(field::USER_NAME), None);
        assert_eq!(s(&e, field::HTTP_REQUEST_METHOD), Some("POST"));
        assert_eq!(s(&e, field::HTTP_VERSION), Some("2.0"));
        assert_eq!(e.get_i64(field::HTTP_RESPONSE_STATUS_CODE), Some(401));
        assert_eq!(e.get_i64(field::HTTP_RESPONSE_BODY_BYTES), Some(12));
        assert_eq!(e.get_i64(field::EVENT_DURATION), Some(250_000_000));
        assert_eq!(s(&e, field::URL_DOMAIN), Some("dichvucong.example.gov.vn"));
        assert_eq!(s(&e, "nginx.access.upstream_addr"), Some("10.0.0.5:8080"));
        assert_eq!(s(&e, "nginx.access.geo.cc"), Some("VN"));
        let local =
            r#"{"time_local":"01/Jul/2025:10:00:00 +0700","remote_addr":"::1","status":200}"#;
        let e = run(parse_nginx_json, local);
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00Z");
        assert_eq!(e.get_i64(field::HTTP_RESPONSE_STATUS_CODE), Some(200));
        assert!(!detect_nginx_json(r#"{"event_type":"alert","status":1}"#));
    }

    #[test]
    fn nginx_error_line() {
        let line = r#"2025/07/01 10:00:00 [error] 123#7: *45 open() "/x" failed (2: No such file or directory), client: 1.2.3.4, server: example.vn, request: "GET /x HTTP/1.1", upstream: "http://10.0.0.1:80/x", host: "example.vn", referrer: "http://example.vn/""#;
        assert!(detect_nginx_error(line));
        let e = run(parse_nginx_error, line);
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00Z");
        assert!(e.has_tag(tag::ZONE_FROM_INPUT));
        assert_eq!(s(&e, field::LOG_LEVEL), Some("error"));
        assert_eq!(
            e.get_i64(field::EVENT_SEVERITY),
            Some(Severity::High.code())
        );
        assert_eq!(e.get_i64(field::PROCESS_PID), Some(123));
        assert_eq!(e.get_i64(field::PROCESS_THREAD_ID), Some(7));
        assert_eq!(e.get_i64(NGINX_ERROR_CONNECTION_ID), Some(45));
        assert_eq!(
            s(&e, NGINX_ERROR_MESSAGE),
            Some(r#"open() "/x" failed (2: No such file or directory)"#)
        );
        assert_eq!(s(&e, field::SOURCE_IP), Some("1.2.3.4"));
        assert_eq!(s(&e, field::DESTINATION_DOMAIN), Some("example.vn"));
        assert_eq!(s(&e, field::URL_PATH), Some("/x"));
        assert_eq!(s(&e, "nginx.error.upstream"), Some("http://10.0.0.1:80/x"));
        assert_eq!(
            s(&e, field::HTTP_REQUEST_REFERRER),
            Some("http://example.vn/")
        );
    }

    #[test]
    fn apache_error_lines_22_and_24() {
        let e = run(
            parse_apache_error,
            "[Sun Dec 04 04:47:44 2005] [error] [client 10.0.0.1] File does not exist: /var/www/x",
        );
        assert_eq!(e.timestamp.to_string(), "2005-12-03T21:47:44Z");
        assert_eq!(s(&e, field::LOG_LEVEL), Some("error"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.0.0.1"));
        assert_eq!(
            s(&e, APACHE_ERROR_MESSAGE),
            Some("File does not exist: /var/www/x")
        );
        let e = run(
            parse_apache_error,
            "[Tue Jul 01 10:00:00.123456 2025] [core:error] [pid 123:tid 456] [client 1.2.3.4:5678] AH00126: Invalid URI in request GET /%%% HTTP/1.1, referer: http://a/",
        );
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00.123456Z");
        assert_eq!(s(&e, APACHE_ERROR_MODULE), Some("core"));
        assert_eq!(e.get_i64(field::PROCESS_PID), Some(123));
        assert_eq!(e.get_i64(field::PROCESS_THREAD_ID), Some(456));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(5678));
        assert_eq!(s(&e, field::ERROR_CODE), Some("AH00126"));
        assert_eq!(s(&e, field::HTTP_REQUEST_REFERRER), Some("http://a/"));
        assert_eq!(
            s(&e, APACHE_ERROR_MESSAGE),
            Some("Invalid URI in request GET /%%% HTTP/1.1")
        );
    }

    #[test]
    fn body_parsers_follow_the_app_name() {
        let access = r#"1.2.3.4 - - [01/Jul/2025:10:00:00 +0700] "GET / HTTP/1.1" 200 1 "-" "-""#;
        assert!(nginx_body_applies(Some("nginx"), access));
        assert!(apache_body_applies(Some("httpd"), access));
        assert!(!nginx_body_applies(Some("sshd"), access));
        assert!(!nginx_body_applies(Some("nginx"), "signal process started"));
        let e = run(parse_nginx_body, access);
        assert_eq!(s(&e, field::EVENT_DATASET), Some("nginx.access"));
        let e = run(parse_apache_body, access);
        assert_eq!(s(&e, field::EVENT_DATASET), Some("apache.access"));
    }

    #[test]
    fn epoch_and_helpers() {
        assert_eq!(
            epoch_seconds("1547188415.857497").map(|t| t.to_rfc3339()),
            Some("2019-01-11T06:33:35.857497+00:00".to_owned())
        );
        assert_eq!(epoch_seconds("x"), None);
        assert_eq!(split_host_port("[::1]:80"), ("::1", Some(80)));
        assert_eq!(split_host_port("::1"), ("::1", None));
        assert_eq!(digits(b"12a"), None);
    }
}
