//! Linux audit records (`/var/log/audit/audit.log`, audisp's syslog plugin, the kernel's
//! own `audit:` lines), one record at a time, and [`AuditJoiner`], which turns the
//! records of one audit event back into one event.
//!
//! A record is `[node=N ]type=T msg=audit(EPOCH.MS:SERIAL): key=value ...`. Values are
//! quoted (`comm="ls"`), bare (`pid=42`, `key=(null)`), hex when auditd had to escape
//! them (`proctitle=2F62696E...`, decoded here), or a single-quoted list of their own
//! (`msg='op=login acct="root" res=failed'`, read into the same pairs). The `log_format =
//! ENRICHED` translations after a GS byte (`AUID="alice"`) are read too.
//!
//! Fields: every pair as written (hex decoded) under `auditd.data.<key>`; the record type
//! in `auditd.message_type`, the serial in `auditd.sequence`, the time from the record
//! (`@timestamp`, UTC); ECS where auditd says it: `process.pid|parent.pid|name|executable|
//! working_directory|title|args|command_line`, `user.id|name|effective.*|target.*`,
//! `group.id|name`, `source.ip|domain`, `file.path`, `event.outcome`. `event.dataset` is
//! `auditd`; `event.action` uses auditbeat's names in snake case (`executed`,
//! `logged_in`, `authenticated`, `ran_command`, `added_user_account`, ...).
//!
//! # Joining
//!
//! One syscall writes several records (SYSCALL, EXECVE, CWD, PATH..., PROCTITLE, EOE)
//! with the same `audit(EPOCH:SERIAL)` id. The parsers see one record at a time, so the
//! server passes every parsed event through an [`AuditJoiner`] before indexing; see its
//! doc for the exact contract.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::DateTime;
use gac_event::{Event, Timestamp, Value, field};
use nom::bytes::complete::{tag, take_till1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::opt;
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use super::generic::set_record_time;
use super::{Context, FormatError};
use crate::text::Cut;
use crate::time::RecordTime;

const FORMAT: &str = "auditd";
const DATASET: &str = "auditd";
/// The record type that ends a multi-record event.
const END_OF_EVENT: &str = "EOE";
/// The separator `log_format = ENRICHED` puts before the name translations.
const GROUP_SEPARATOR: char = '\x1d';

/// Keys whose bare values auditd hex-encodes when they hold a blank, a quote or a
/// control byte (auparse's "escaped" fields). Other bare values are numbers or words.
const HEX_KEYS: &[&str] = &[
    "proctitle",
    "cmd",
    "acct",
    "comm",
    "exe",
    "cwd",
    "name",
    "path",
    "key",
    "data",
    "vm",
    "watch",
    "old",
    "new",
    "grp",
    "new_group",
    "new-disk",
    "old-disk",
    "old-chardev",
    "new-chardev",
    "root_dir",
    "ocomm",
    "sauid",
];

/// Whether a whole record looks like an audit record (for `auto` inputs).
pub(super) fn detect(text: &str) -> bool {
    let t = text.trim_start();
    let t = match t.strip_prefix("node=") {
        Some(rest) => rest.split_once(' ').map_or("", |(_, r)| r),
        None => t,
    };
    t.starts_with("type=") && t.get(..80).unwrap_or(t).contains("audit(")
}

/// Whether a syslog message is an audit record: audisp's and journald's app names, or
/// the record's own shape (the kernel's `audit: type=1400 audit(...)` included).
pub(super) fn applies(app: Option<&str>, msg: &str) -> bool {
    let audit_app = matches!(
        app,
        Some("audispd" | "audisp-syslog" | "audit" | "auditd" | "audisp")
    );
    (audit_app && !msg.is_empty()) || detect(strip_kernel_prefix(msg))
}

/// `[   11.103248] audit: ` before a kernel-logged record.
fn strip_kernel_prefix(msg: &str) -> &str {
    let msg = msg.trim_start();
    let msg = match msg.strip_prefix('[') {
        Some(rest) => rest.cut("] ").map_or(msg, |(_, r)| r),
        None => msg,
    };
    msg.strip_prefix("audit: ").unwrap_or(msg)
}

/// A whole audit.log line.
pub(super) fn parse_record(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    read(text, event, ctx, true)
}

/// The message of a syslog record.
pub(super) fn parse_body(
    msg: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    read(strip_kernel_prefix(msg), event, ctx, false)
}

/// What precedes the pairs: `[node=N ]type=T [msg=]audit(S.MS:SERIAL):`.
#[derive(Debug, PartialEq)]
struct Header<'a> {
    node: Option<&'a str>,
    kind: &'a str,
    secs: &'a str,
    fraction: &'a str,
    serial: &'a str,
}

fn header(s: &str) -> IResult<&str, Header<'_>> {
    let (rest, (node, kind, _, _, _, secs, _, fraction, _, serial, _, _)) = (
        opt(terminated(
            preceded(tag("node="), take_till1(|c| c == ' ')),
            space1,
        )),
        preceded(tag("type="), take_till1(|c| c == ' ')),
        space1,
        opt(tag("msg=")),
        tag("audit("),
        digit1,
        char('.'),
        digit1,
        char(':'),
        digit1,
        tag("):"),
        space0,
    )
        .parse(s)?;
    Ok((
        rest,
        Header {
            node,
            kind,
            secs,
            fraction,
            serial,
        },
    ))
}

fn read(text: &str, event: &mut Event, ctx: &Context<'_>, whole: bool) -> Result<(), FormatError> {
    let text = text.trim();
    event.set(field::EVENT_DATASET, DATASET);
    event.set(field::EVENT_KIND, "event");
    let (kind, body) = match header(text) {
        Ok((body, h)) => {
            let serial: i64 = h
                .serial
                .parse()
                .map_err(|_| FormatError::new(FORMAT, "serial number out of range"))?;
            let time = audit_time(h.secs, h.fraction)
                .ok_or_else(|| FormatError::new(FORMAT, "time out of range"))?;
            set_record_time(event, time, ctx);
            event.set(field::AUDITD_SEQUENCE, serial);
            if let Some(node) = h.node {
                // The machine the event happened on, when audit records are relayed.
                event.set(field::HOST_NAME, node);
            }
            (h.kind, body)
        }
        Err(_) if !whole => {
            // journald's form: `USER_START pid=1 uid=0 ...`, no id (nothing to join on).
            let (kind, body) = text.split_once(' ').unwrap_or((text, ""));
            if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                return Err(FormatError::new(FORMAT, "no audit record header"));
            }
            (kind, body)
        }
        Err(_) => return Err(FormatError::new(FORMAT, "no audit record header")),
    };
    event.set(field::AUDITD_MESSAGE_TYPE, kind);
    let mut pairs = Vec::with_capacity(24);
    read_pairs(body, &mut pairs);
    fill(kind, &pairs, event);
    Ok(())
}

/// `1700000000` and `123` (milliseconds, as auditd writes them) as a UTC time.
fn audit_time(secs: &str, fraction: &str) -> Option<RecordTime> {
    let secs: i64 = secs.parse().ok()?;
    let digits = fraction.len().min(9);
    let frac: u32 = fraction.get(..digits)?.parse().ok()?;
    let nanos = frac.checked_mul(10u32.checked_pow(9 - u32::try_from(digits).ok()?)?)?;
    let t = DateTime::from_timestamp(secs, nanos)?;
    Some(RecordTime::Zoned(t.fixed_offset()))
}

/// One `key=value` as written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Raw<'a> {
    /// `"..."`: taken as is, never hex.
    Quoted(&'a str),
    /// Bare: a number, a word, `(null)`, `?`, or hex.
    Bare(&'a str),
}

/// Reads the pairs of `s` in order. Never fails: words that are no pair (`user` in
/// `user pid=1`, `avc:  denied  {`) are skipped; an unclosed quote runs to the end.
fn read_pairs<'a>(s: &'a str, out: &mut Vec<(&'a str, Raw<'a>)>) {
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([' ', GROUP_SEPARATOR]);
        if rest.is_empty() {
            return;
        }
        let key_end = rest.find(['=', ' ', GROUP_SEPARATOR]).unwrap_or(rest.len());
        if !rest[key_end..].starts_with('=') || key_end == 0 {
            // A word that is no pair: skip it.
            rest = &rest[key_end..];
            if rest.starts_with('=') {
                rest = &rest[1..];
            }
            continue;
        }
        let key = &rest[..key_end];
        let after = &rest[key_end + 1..];
        if let Some(inner) = after.strip_prefix('\'') {
            // `msg='op=login acct="root" res=failed'`: pairs of their own.
            let (inner, next) = inner.split_once('\'').unwrap_or((inner, ""));
            if inner.contains('=') {
                read_pairs(inner, out);
            } else {
                out.push((key, Raw::Quoted(inner)));
            }
            rest = next;
        } else if let Some(quoted) = after.strip_prefix('"') {
            let (value, next) = quoted.split_once('"').unwrap_or((quoted, ""));
            out.push((key, Raw::Quoted(value)));
            rest = next;
        } else {
            let end = after.find([' ', GROUP_SEPARATOR]).unwrap_or(after.len());
            let mut value = &after[..end];
            let mut next = &after[end..];
            if let Some(split) = glued_key(value) {
                // The GS byte before the ENRICHED part was lost (`cap_frootid=0OUID="root"`).
                next = &after[split..];
                value = &value[..split];
            } else {
                // `op=adding user id=1001`: words without `=` continue a bare value.
                while let Some(word) = next.strip_prefix(' ') {
                    let word_end = word.find(' ').unwrap_or(word.len());
                    let w = &word[..word_end];
                    if w.is_empty() || w.contains(['=', '"', '\'', GROUP_SEPARATOR]) {
                        break;
                    }
                    let consumed = value.len() + 1 + w.len();
                    value = &after[..consumed];
                    next = &after[consumed..];
                }
            }
            out.push((key, Raw::Bare(value)));
            rest = next;
        }
    }
}

/// Where an uppercase `KEY="` starts inside a bare value, if one is glued to it.
fn glued_key(value: &str) -> Option<usize> {
    let eq = value.locate("=\"")?;
    let start = value[..eq]
        .bytes()
        .rposition(|b| !(b.is_ascii_uppercase() || b == b'_'))
        .map_or(0, |i| i + 1);
    (start > 0 && start < eq).then_some(start)
}

/// Hex-decodes `value` when `key` is one auditd escapes and the value is hex.
fn decode<'a>(key: &str, raw: Raw<'a>, execve: bool) -> Cow<'a, str> {
    match raw {
        Raw::Quoted(v) => Cow::Borrowed(v),
        Raw::Bare(v) => {
            let escaped = HEX_KEYS.contains(&key) || (execve && is_argument_key(key));
            if escaped && let Some(text) = unhex(v) {
                // NULs separate proctitle's arguments; a blank reads the same and
                // keeps control bytes out of the index.
                Cow::Owned(text.replace('\0', " "))
            } else {
                Cow::Borrowed(v)
            }
        }
    }
}

fn unhex(v: &str) -> Option<String> {
    if v.is_empty() || !v.len().is_multiple_of(2) || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..v.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(v.get(i..i + 2)?, 16).ok())
        .collect();
    Some(String::from_utf8_lossy(&bytes?).into_owned())
}

/// EXECVE's `a0`, `a1`, and the pieces of a long one, `a1[0]`, `a1[1]`.
fn is_argument_key(key: &str) -> bool {
    argument_index(key).is_some()
}

/// The argument number of an EXECVE key (`a3` and `a3[0]` are 3; `a3_len` is none).
fn argument_index(key: &str) -> Option<usize> {
    let digits = key.strip_prefix('a')?;
    let digits = digits.split_once('[').map_or(digits, |(d, _)| d);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Writes a record's pairs as fields: all under `auditd.data`, the known ones in ECS too.
fn fill(kind: &str, pairs: &[(&str, Raw<'_>)], event: &mut Event) {
    let execve = kind == "EXECVE";
    let user_record = kind.starts_with("USER_") || kind.starts_with("CRED_");
    let account_record = matches!(
        kind,
        "ADD_USER" | "DEL_USER" | "USER_MGMT" | "USER_CHAUTHTOK" | "ACCT_LOCK" | "ACCT_UNLOCK"
    );
    let group_record = matches!(
        kind,
        "ADD_GROUP" | "DEL_GROUP" | "GRP_MGMT" | "GRP_CHAUTHTOK"
    );
    let has_acct = pairs.iter().any(|(k, _)| *k == "acct");
    let mut args: Vec<(usize, String)> = Vec::new();
    let mut outcome = None;
    let mut addr_ip = false;

    for &(key, raw) in pairs {
        let value = decode(key, raw, execve);
        let unknown = matches!(value.as_ref(), "?" | "(null)" | "(none)" | "");
        if execve && let Some(i) = argument_index(key) {
            // Long arguments come in pieces: `a1[0]`, `a1[1]`, ... joined in order.
            match args.iter_mut().find(|(n, _)| *n == i) {
                Some((_, arg)) => arg.push_str(&value),
                None => args.push((i, value.clone().into_owned())),
            }
        }
        if !unknown {
            match key {
                "pid" => set_int(event, field::PROCESS_PID, &value),
                "ppid" => set_int(event, field::PROCESS_PARENT_PID, &value),
                "comm" => event.set(field::PROCESS_NAME, value.as_ref()),
                "exe" => event.set(field::PROCESS_EXECUTABLE, value.as_ref()),
                "cwd" => event.set(field::PROCESS_WORKING_DIRECTORY, value.as_ref()),
                "proctitle" => event.set(field::PROCESS_TITLE, value.as_ref()),
                "cmd" if kind == "USER_CMD" => {
                    event.set(field::PROCESS_COMMAND_LINE, value.as_ref());
                }
                "name" if kind == "PATH" => event.set(field::FILE_PATH, value.as_ref()),
                "uid" if !has_acct => event.set(field::USER_ID, value.as_ref()),
                "UID" if !has_acct => event.set(field::USER_NAME, value.as_ref()),
                "euid" => event.set(field::USER_EFFECTIVE_ID, value.as_ref()),
                "EUID" => event.set(field::USER_EFFECTIVE_NAME, value.as_ref()),
                "gid" if !group_record => event.set(field::GROUP_ID, value.as_ref()),
                "GID" if !group_record => event.set(field::GROUP_NAME, value.as_ref()),
                "ses" => set_int(event, field::AUDITD_SESSION, &value),
                "acct" if account_record => event.set(field::USER_TARGET_NAME, value.as_ref()),
                "id" if account_record => event.set(field::USER_TARGET_ID, value.as_ref()),
                "acct" if group_record => event.set(field::GROUP_NAME, value.as_ref()),
                "id" if group_record => event.set(field::GROUP_ID, value.as_ref()),
                "acct" if user_record => event.set(field::USER_NAME, value.as_ref()),
                "addr" => {
                    if let Ok(ip) = value.parse::<IpAddr>() {
                        event.set(field::SOURCE_IP, ip);
                        addr_ip = true;
                    }
                }
                "hostname" if user_record => match value.parse::<IpAddr>() {
                    Ok(ip) if !addr_ip => event.set(field::SOURCE_IP, ip),
                    Ok(_) => {}
                    Err(_) => event.set(field::SOURCE_DOMAIN, value.as_ref()),
                },
                "res" | "success" => {
                    outcome = Some(matches!(value.as_ref(), "success" | "yes" | "1"))
                }
                _ => {}
            }
        }
        let name = format!("{}.{key}", field::AUDITD_DATA);
        event.set(name, value.into_owned());
    }

    if let Some(ok) = outcome {
        event.set(field::AUDITD_RESULT, if ok { "success" } else { "fail" });
        event.set(field::EVENT_OUTCOME, if ok { "success" } else { "failure" });
    }
    if execve && !args.is_empty() {
        args.sort_by_key(|(i, _)| *i);
        let command_line = args
            .iter()
            .map(|(_, a)| a.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        event.set(
            field::PROCESS_ARGS,
            Value::List(args.into_iter().map(|(_, a)| Value::from(a)).collect()),
        );
        event.set(field::PROCESS_COMMAND_LINE, command_line);
    }
    if let Some((action, category, kind)) = classify(kind, pairs) {
        event.set(field::EVENT_ACTION, action);
        if !category.is_empty() {
            event.set(field::EVENT_CATEGORY, list(category));
            event.set(field::EVENT_TYPE, list(kind));
        }
    }
}

fn set_int(event: &mut Event, name: &'static str, value: &str) {
    if let Ok(n) = value.parse::<i64>() {
        event.set(name, n);
    }
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|&s| Value::from(s)).collect())
}

type Classification = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

/// `event.action`, `category` and `type` of a record type (auditbeat's actions).
fn classify(kind: &str, pairs: &[(&str, Raw<'_>)]) -> Option<Classification> {
    const AUTH: &[&str] = &["authentication"];
    const SESSION: &[&str] = &["session"];
    const PROCESS: &[&str] = &["process"];
    const IAM: &[&str] = &["iam"];
    Some(match kind {
        "EXECVE" => ("executed", PROCESS, &["start"]),
        "SYSCALL" if is_execve(pairs) => ("executed", PROCESS, &["start"]),
        "USER_LOGIN" => ("logged_in", AUTH, &["start"]),
        "USER_LOGOUT" => ("logged_out", AUTH, &["end"]),
        "USER_AUTH" => ("authenticated", AUTH, &["info"]),
        "USER_ACCT" => ("was_authorized", AUTH, &["info"]),
        "USER_ERR" => ("error", AUTH, &["info"]),
        "CRED_ACQ" => ("acquired_credentials", AUTH, &["info"]),
        "CRED_DISP" => ("disposed_credentials", AUTH, &["info"]),
        "CRED_REFR" => ("refreshed_credentials", AUTH, &["info"]),
        "USER_START" => ("started_session", SESSION, &["start"]),
        "USER_END" => ("ended_session", SESSION, &["end"]),
        "USER_CMD" => ("ran_command", PROCESS, &["start"]),
        "ADD_USER" => ("added_user_account", IAM, &["user", "creation"]),
        "DEL_USER" => ("deleted_user_account", IAM, &["user", "deletion"]),
        "USER_MGMT" => ("modified_user_account", IAM, &["user", "change"]),
        "USER_CHAUTHTOK" => ("changed_password", IAM, &["user", "change"]),
        "ADD_GROUP" => ("added_group_account", IAM, &["group", "creation"]),
        "DEL_GROUP" => ("deleted_group_account", IAM, &["group", "deletion"]),
        "GRP_MGMT" => ("modified_group_account", IAM, &["group", "change"]),
        "ANOM_ABEND" => ("crashed_program", PROCESS, &["end"]),
        // The kernel logs AppArmor decisions as AVC records too (type 1400).
        "AVC" | "1400" => match get(pairs, "apparmor") {
            Some("DENIED" | "ALLOWED") => ("violated_apparmor_policy", &[], &[]),
            Some(_) => return None,
            None => ("violated_selinux_policy", &[], &[]),
        },
        _ => return None,
    })
}

/// The raw text of the first pair named `key`.
fn get<'a>(pairs: &[(&str, Raw<'a>)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| match v {
        Raw::Quoted(s) | Raw::Bare(s) => *s,
    })
}

/// A SYSCALL record of execve or execveat: by the ENRICHED name, else by the number on
/// the common architectures (x86_64 59/322, i386 11/358, aarch64 221/281).
fn is_execve(pairs: &[(&str, Raw<'_>)]) -> bool {
    if let Some(name) = get(pairs, "SYSCALL") {
        return matches!(name, "execve" | "execveat");
    }
    matches!(
        (get(pairs, "arch"), get(pairs, "syscall")),
        (Some("c000003e"), Some("59" | "322"))
            | (Some("40000003"), Some("11" | "358"))
            | (Some("c00000b7"), Some("221" | "281"))
    )
}

// ---------------------------------------------------------------------------------------
// Joining

/// How many hosts may have an audit event waiting for its last record by default.
pub const DEFAULT_MAX_PENDING: usize = 4096;

/// Joins the records of one audit event into one event. Pure and single-threaded: the
/// server owns one, feeds it every parsed event in order, and indexes what it returns.
///
/// # Contract
///
/// - [`push`](Self::push) takes every event the parsers produce, audit or not, and
///   returns the events now complete, oldest first. An event that is not an audit record
///   with an id (no `auditd.sequence`) comes straight back. An audit record is held
///   until its event is complete.
/// - An audit event (records of one host, `host.name`, with the same time and serial) is
///   complete when a record of another id arrives from the same host (auditd writes an
///   event's records together), or at its `EOE` record.
/// - [`flush_older_than`](Self::flush_older_than)`(t)` returns the held events whose
///   newest record was received (`event.ingested`) before `t`. The server calls it on a
///   timer with `t = now - grace` (a second or two is plenty: auditd writes an event's
///   records within microseconds), so a host's last event does not wait for its next.
/// - [`flush_all`](Self::flush_all) returns everything held (shutdown, end of an import).
/// - At most `max_pending` events are held (one per host); pushing one more returns the
///   oldest held event, incomplete, rather than growing.
///
/// The joined event is the first record's event plus, from each later record: its
/// `message` on a new line; `auditd.*`, `file.*`, `event.category` and `event.type`
/// values, collected into lists where they differ (so `auditd.message_type` lists every
/// record type, and each PATH record's `file.path` is kept); other fields only where the
/// first record lacks them; its tags. Nothing is dropped, not even a lone `EOE`.
#[derive(Debug)]
pub struct AuditJoiner {
    max_pending: usize,
    /// The event being assembled for each host.
    open: HashMap<String, Open>,
    /// Arrival order of the open events: arrival number to host.
    order: BTreeMap<u64, String>,
    next_arrival: u64,
}

#[derive(Debug)]
struct Open {
    id: (i64, i64),
    arrival: u64,
    newest_ingested: Timestamp,
    event: Event,
}

impl Default for AuditJoiner {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PENDING)
    }
}

impl AuditJoiner {
    /// A joiner holding at most `max_pending` unfinished events (at least one).
    pub fn new(max_pending: usize) -> Self {
        Self {
            max_pending: max_pending.max(1),
            open: HashMap::new(),
            order: BTreeMap::new(),
            next_arrival: 0,
        }
    }

    /// How many events are held.
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }

    /// The event held longest (its first record arrived before any other held one's):
    /// a caller that numbers records uses it to know the oldest record not yet handed on.
    pub fn oldest_pending(&self) -> Option<&Event> {
        let (_, host) = self.order.first_key_value()?;
        self.open.get(host).map(|o| &o.event)
    }

    /// Takes one parsed event; returns the events that are now complete, oldest first.
    pub fn push(&mut self, event: Event) -> Vec<Event> {
        let Some(serial) = event.get_i64(field::AUDITD_SEQUENCE) else {
            return vec![event];
        };
        let id = (event.timestamp.nanos(), serial);
        let end = event.get_str(field::AUDITD_MESSAGE_TYPE) == Some(END_OF_EVENT);
        let host = event
            .get_str(field::HOST_NAME)
            .unwrap_or_default()
            .to_owned();
        let mut done = Vec::new();

        if let Some(open) = self.open.get_mut(&host) {
            if open.id == id {
                open.newest_ingested = open.newest_ingested.max(event.ingested);
                merge(&mut open.event, event);
                if end {
                    done.extend(self.close(&host));
                }
                return done;
            }
            done.extend(self.close(&host));
        }
        if end {
            // An end with nothing open (its event was already flushed): kept as it is.
            done.push(event);
            return done;
        }
        if self.open.len() >= self.max_pending
            && let Some((_, oldest)) = self.order.pop_first()
            && let Some(open) = self.open.remove(&oldest)
        {
            done.push(open.event);
        }
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.order.insert(arrival, host.clone());
        self.open.insert(
            host,
            Open {
                id,
                arrival,
                newest_ingested: event.ingested,
                event,
            },
        );
        done
    }

    /// The held events whose newest record was received before `t`, oldest first.
    pub fn flush_older_than(&mut self, t: Timestamp) -> Vec<Event> {
        let stale: Vec<String> = self
            .order
            .values()
            .filter(|host| {
                self.open
                    .get(*host)
                    .is_some_and(|open| open.newest_ingested < t)
            })
            .cloned()
            .collect();
        stale.iter().filter_map(|host| self.close(host)).collect()
    }

    /// Every held event, oldest first.
    pub fn flush_all(&mut self) -> Vec<Event> {
        let hosts: Vec<String> = self.order.values().cloned().collect();
        hosts.iter().filter_map(|host| self.close(host)).collect()
    }

    fn close(&mut self, host: &str) -> Option<Event> {
        let open = self.open.remove(host)?;
        self.order.remove(&open.arrival);
        Some(open.event)
    }
}

/// Adds a later record of the same audit event to the joined event.
fn merge(into: &mut Event, from: Event) {
    let joined = format!("{}\n{}", into.message(), from.message());
    into.set_message(&joined);
    for (name, value) in from.fields {
        let collect = name.starts_with("auditd.")
            || name.starts_with("file.")
            || name == field::EVENT_CATEGORY
            || name == field::EVENT_TYPE;
        match into.fields.get(&name) {
            None => into.fields.insert(name, value),
            Some(existing) if collect => {
                let joined = union(existing.to_value(), value);
                into.fields.insert(name, joined);
            }
            Some(_) => {}
        }
    }
    for tag in from.tags {
        into.add_tag(tag);
    }
}

/// A list holding each distinct value of both, `existing`'s first; `existing` itself
/// when `value` adds nothing.
fn union(existing: Value, value: Value) -> Value {
    let new_items = match value {
        Value::List(items) => items.into_owned(),
        other => vec![other],
    };
    let mut items = match existing {
        Value::List(items) => items.into_owned(),
        first if new_items.len() == 1 && new_items[0] == first => return first,
        first => vec![first],
    };
    for item in new_items {
        if !items.contains(&item) {
            items.push(item);
        }
    }
    Value::list(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Format, TimePolicy, parse};

    fn received() -> Timestamp {
        "2025-07-01T03:00:00Z".parse().unwrap()
    }

    fn record(line: &str) -> Event {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let (event, parsed) = parse(line.as_bytes(), received(), &policy, Format::Auto);
        assert_eq!(parsed.parser, Some("auditd"), "{line}");
        assert_eq!(parsed.body, crate::BodyOutcome::Parsed, "{line}: {event:?}");
        event
    }

    fn s<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
        e.get_str(name)
    }

    const EXEC: &[&str] = &[
        r#"type=SYSCALL msg=audit(1696431282.553:8282): arch=c000003e syscall=59 success=yes exit=0 a0=7ffe4e9f666e a1=7ffe4e9f38f8 a2=55f19a752a60 a3=7fb3e49c2e50 items=3 ppid=192010 pid=192019 auid=1000 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=417 comm="su" exe="/usr/bin/su" subj=unconfined key="priv_esc"ARCH=x86_64 SYSCALL=execve AUID="bui" UID="bui" GID="bui" EUID="root""#,
        r#"type=EXECVE msg=audit(1696431282.553:8282): argc=2 a0="/usr/bin/su" a1="--help""#,
        r#"type=PATH msg=audit(1696431282.553:8282): item=0 name="/usr/bin/su" inode=19796169 dev=08:02 mode=0104755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0OUID="root" OGID="root""#,
        r#"type=PATH msg=audit(1696431282.553:8282): item=1 name="/lib64/ld-linux-x86-64.so.2" inode=19793507 dev=08:02 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"#,
        "type=PROCTITLE msg=audit(1696431282.553:8282): proctitle=2F7573722F62696E2F7375002D2D68656C70",
    ];

    #[test]
    fn syscall_record_fields() {
        let e = record(EXEC[0]);
        assert_eq!(e.timestamp.to_string(), "2023-10-04T14:54:42.553Z");
        assert_eq!(e.get_i64(field::AUDITD_SEQUENCE), Some(8282));
        assert_eq!(s(&e, field::AUDITD_MESSAGE_TYPE), Some("SYSCALL"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("executed"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("success"));
        assert_eq!(e.get_i64(field::PROCESS_PID), Some(192019));
        assert_eq!(e.get_i64(field::PROCESS_PARENT_PID), Some(192010));
        assert_eq!(s(&e, field::PROCESS_NAME), Some("su"));
        assert_eq!(s(&e, field::PROCESS_EXECUTABLE), Some("/usr/bin/su"));
        assert_eq!(s(&e, field::USER_ID), Some("1000"));
        assert_eq!(s(&e, field::USER_NAME), Some("bui"));
        assert_eq!(s(&e, field::USER_EFFECTIVE_NAME), Some("root"));
        assert_eq!(s(&e, "auditd.data.key"), Some("priv_esc"));
        assert_eq!(s(&e, "auditd.data.AUID"), Some("bui"));
        assert!(e.tags.is_empty(), "{:?}", e.tags);
    }

    #[test]
    fn hex_values_and_glued_enrichment() {
        let e = record(EXEC[4]);
        assert_eq!(s(&e, field::PROCESS_TITLE), Some("/usr/bin/su --help"));
        let e = record(EXEC[2]);
        assert_eq!(s(&e, "auditd.data.cap_frootid"), Some("0"));
        assert_eq!(s(&e, "auditd.data.OUID"), Some("root"));
        assert_eq!(s(&e, field::FILE_PATH), Some("/usr/bin/su"));
        // SYSCALL's register arguments are hex numbers, never text.
        let e = record(EXEC[0]);
        assert_eq!(s(&e, "auditd.data.a0"), Some("7ffe4e9f666e"));
    }

    #[test]
    fn user_records_read_the_inner_message() {
        let e = record(
            "type=USER_LOGIN msg=audit(1373330717.000:4073): user pid=12000 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 msg='op=login acct=28696E76616C6964207573657229 exe=\"/usr/sbin/sshd\" hostname=? addr=173.242.116.187 terminal=ssh res=failed'",
        );
        assert_eq!(s(&e, field::EVENT_ACTION), Some("logged_in"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
        assert_eq!(s(&e, field::USER_NAME), Some("(invalid user)"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("173.242.116.187"));
        assert_eq!(s(&e, "auditd.data.op"), Some("login"));
        assert!(
            e.get(field::USER_ID).is_none(),
            "uid is sshd's, not the account's"
        );
        let e = record(
            "type=ADD_USER msg=audit(1700000000.1:5): pid=1 uid=0 auid=1000 ses=3 msg='op=adding user id=1001 exe=\"/usr/sbin/useradd\" hostname=? addr=? terminal=pts/0 res=success'",
        );
        assert_eq!(s(&e, "auditd.data.op"), Some("adding user"));
        assert_eq!(s(&e, field::USER_TARGET_ID), Some("1001"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("added_user_account"));
        assert_eq!(e.timestamp.to_string(), "2023-11-14T22:13:20.100Z");
    }

    #[test]
    fn execve_arguments_in_pieces_join() {
        let e = record(
            r#"type=EXECVE msg=audit(1700000000.123:9): argc=3 a0="sh" a1_len=6 a1[0]=2D63 a1[1]="ls" a2=6C73202F746D70"#,
        );
        assert_eq!(
            e.get(field::PROCESS_ARGS),
            Some(
                Value::list(vec![
                    Value::from("sh"),
                    Value::from("-cls"),
                    Value::from("ls /tmp"),
                ])
                .as_ref()
            )
        );
        assert_eq!(s(&e, field::PROCESS_COMMAND_LINE), Some("sh -cls ls /tmp"));
    }

    #[test]
    fn via_syslog_and_the_kernel() {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let (e, p) = parse(
            b"Jun 24 10:35:29 hostname kernel: [49787.970285] audit: type=1400 audit(1403598929.839:88986): apparmor=\"ALLOWED\" operation=\"getattr\" pid=19973 comm=\"imap\"",
            received(),
            &policy,
            Format::Syslog,
        );
        assert_eq!(p.parser, Some("auditd.syslog"));
        assert_eq!(p.body, crate::BodyOutcome::Parsed);
        assert_eq!(e.timestamp.to_string(), "2014-06-24T08:35:29.839Z");
        assert_eq!(s(&e, field::EVENT_TIMEZONE), Some("+00:00"));
        assert!(!e.has_tag(gac_event::tag::YEAR_INFERRED), "{:?}", e.tags);
        assert_eq!(s(&e, field::PROCESS_NAME), Some("imap"));
        let (e, p) = parse(
            b"<14>Jan  1 00:00:00 relay audispd: node=web01 type=EOE msg=audit(1700000000.123:456): ",
            received(),
            &policy,
            Format::Syslog,
        );
        assert_eq!(p.body, crate::BodyOutcome::Parsed);
        assert_eq!(s(&e, field::HOST_NAME), Some("web01"));
        assert_eq!(s(&e, field::LOG_SYSLOG_HOSTNAME), Some("relay"));
    }

    #[test]
    fn broken_records_are_errors_and_odd_text_never_panics() {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let ctx = Context {
            received: received(),
            policy: &policy,
            app: None,
        };
        let mut e = Event::new(received(), received(), "");
        assert!(parse_record("type=SYSCALL msg=audit(x): a=1", &mut e, &ctx).is_err());
        assert!(
            parse_record(
                "type=SYSCALL msg=audit(99999999999999999999.1:1): a=1",
                &mut e,
                &ctx
            )
            .is_err()
        );
        for text in [
            "type=X msg=audit(1.1:1):",
            "type=X msg=audit(1.1:1): a='",
            "type=X msg=audit(1.1:1): a=\"",
            "type=X msg=audit(1.1:1): =",
            "type=X msg=audit(1.1:1): a=b=c d==",
            "type=EXECVE msg=audit(1.1:1): a0=A a1[=1 a[0]=00",
            "type=X msg=audit(1.1:1): k=0A\"\x1d\x1d'' x='y=\"",
            "type=X msg=audit(1.1:1): k=é=\"é",
            "USER_START",
            "",
            "type=X msg=audit(1.1234567891234:1): a=1",
        ] {
            let mut e = Event::new(received(), received(), "");
            let _ = parse_record(text, &mut e, &ctx);
            let _ = parse_body(text, &mut e, &ctx);
        }
    }

    fn exec_events() -> Vec<Event> {
        EXEC.iter().map(|l| record(l)).collect()
    }

    #[test]
    fn joiner_merges_one_id_and_completes_on_the_next() {
        let mut j = AuditJoiner::new(16);
        for e in exec_events() {
            assert!(j.push(e).is_empty());
        }
        assert_eq!(j.len(), 1);
        let next = record(
            r#"type=ANOM_ABEND msg=audit(1696431282.553:8283): auid=1000 uid=1000 gid=1000 ses=417 pid=192019 comm="su" exe="/usr/bin/su" sig=11 res=1"#,
        );
        let done = j.push(next);
        assert_eq!(done.len(), 1);
        let e = &done[0];
        assert_eq!(e.message().lines().count(), 5);
        assert_eq!(
            e.get(field::AUDITD_MESSAGE_TYPE),
            Some(
                Value::list(
                    ["SYSCALL", "EXECVE", "PATH", "PROCTITLE"]
                        .map(Value::from)
                        .to_vec()
                )
                .as_ref()
            )
        );
        assert_eq!(e.get_i64(field::AUDITD_SEQUENCE), Some(8282));
        assert_eq!(
            s(e, field::PROCESS_COMMAND_LINE),
            Some("/usr/bin/su --help")
        );
        assert_eq!(s(e, field::PROCESS_TITLE), Some("/usr/bin/su --help"));
        assert_eq!(
            e.get(field::FILE_PATH),
            Some(
                Value::list(vec![
                    Value::from("/usr/bin/su"),
                    Value::from("/lib64/ld-linux-x86-64.so.2")
                ])
                .as_ref()
            )
        );
        assert_eq!(e.get_i64(field::PROCESS_PID), Some(192019));
        assert_eq!(s(e, field::EVENT_ACTION), Some("executed"));
        assert_eq!(j.len(), 1, "the ANOM_ABEND now waits");
        let rest = j.flush_all();
        assert_eq!(rest.len(), 1);
        assert_eq!(s(&rest[0], field::EVENT_ACTION), Some("crashed_program"));
        assert!(j.is_empty());
    }

    #[test]
    fn joiner_eoe_completes_and_a_lone_eoe_is_kept() {
        let mut j = AuditJoiner::default();
        let mut records = exec_events();
        records.truncate(2);
        for e in records {
            assert!(j.push(e).is_empty());
        }
        let eoe = record("type=EOE msg=audit(1696431282.553:8282): ");
        let done = j.push(eoe.clone());
        assert_eq!(done.len(), 1);
        assert!(
            done[0]
                .message()
                .trim_end()
                .ends_with("type=EOE msg=audit(1696431282.553:8282):")
        );
        assert!(j.is_empty());
        let done = j.push(eoe);
        assert_eq!(done.len(), 1, "a late EOE is still stored");
    }

    #[test]
    fn joiner_passes_other_events_and_keeps_hosts_apart() {
        let mut j = AuditJoiner::new(16);
        let other = Event::new(received(), received(), "not audit");
        assert_eq!(j.push(other).len(), 1);
        let mut a = record(EXEC[0]);
        a.set(field::HOST_NAME, "a");
        let mut b = record(EXEC[1]);
        b.set(field::HOST_NAME, "b");
        let mut b_next = record("type=EOE msg=audit(1696431282.553:9999): ");
        b_next.set(field::HOST_NAME, "b");
        assert!(j.push(a).is_empty());
        assert!(j.push(b).is_empty());
        let done = j.push(b_next);
        assert_eq!(
            done.len(),
            2,
            "b's event completes; the lone EOE comes back"
        );
        assert_eq!(s(&done[0], field::HOST_NAME), Some("b"));
        assert_eq!(j.len(), 1, "a is still open");
    }

    #[test]
    fn joiner_is_bounded_and_flushes_by_receive_time() {
        let mut j = AuditJoiner::new(2);
        let mut pushed = Vec::new();
        for (i, host) in ["a", "b", "c"].iter().enumerate() {
            let mut e = record(EXEC[0]);
            e.set(field::HOST_NAME, *host);
            e.ingested = Timestamp::from_secs(100 + i as i64);
            pushed.push(j.push(e));
        }
        assert!(pushed[0].is_empty() && pushed[1].is_empty());
        assert_eq!(pushed[2].len(), 1, "the oldest is evicted");
        assert_eq!(s(&pushed[2][0], field::HOST_NAME), Some("a"));
        let flushed = j.flush_older_than(Timestamp::from_secs(102));
        assert_eq!(flushed.len(), 1);
        assert_eq!(s(&flushed[0], field::HOST_NAME), Some("b"));
        assert_eq!(j.len(), 1);
        assert!(j.flush_older_than(Timestamp::from_secs(102)).is_empty());
    }
}
