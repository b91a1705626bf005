//! Windows event log records as shippers deliver them (Winlogbeat's ECS JSON, NXLog's
//! `im_msvistalog` JSON, the `evtx` crate's JSON rendering) and the one normaliser they all
//! go through, so an event reads the same whichever way it arrived. `evtx.rs` feeds the
//! records of imported `.evtx` files through the same normaliser.
//!
//! # The event shape
//!
//! - The record's System part under Winlogbeat's names: `winlog.channel`,
//!   `winlog.event_id` (integer), `winlog.provider_name`, `winlog.computer_name`,
//!   `winlog.record_id`.
//! - Every EventData item, and every item of a UserData element, as
//!   `winlog.event_data.<Name>` with Windows' own spelling (`winlog.event_data.TargetUserName`,
//!   `winlog.event_data.CommandLine`). Values are text, as in the event's XML: the `evtx`
//!   crate renders numbers as JSON numbers and shippers render them as strings, and rules
//!   must not see a difference. Empty items are left out, as Winlogbeat does.
//! - ECS: `event.code`, `event.kind`, `event.dataset` (`windows.security`,
//!   `windows.sysmon_operational`, `windows.powershell_operational`, else
//!   `windows.<channel>` in lower case with `_` for other characters), `host.name`, and per
//!   event id `event.category|type|action|outcome`, `user.*`, `source.*`, `destination.*`,
//!   `process.*`, `file.*`, `registry.path`, `dns.question.name`,
//!   `powershell.file.script_block_text` (`derive_ecs` says which item feeds which field).
//! - `@timestamp` is the event's own time (`TimeCreated`), never the shipper's.
//!
//! # Sigma field names
//!
//! Sigma rules for Windows name fields as the event XML does. The mapping file follows
//! this convention:
//!
//! | Sigma field | event field |
//! |---|---|
//! | `EventID` | `winlog.event_id` |
//! | `Channel` | `winlog.channel` |
//! | `Provider_Name` | `winlog.provider_name` |
//! | `Computer` | `winlog.computer_name` |
//! | `EventRecordID` | `winlog.record_id` |
//! | any other `X` (`Image`, `CommandLine`, `ParentImage`, `TargetUserName`, `LogonType`, ...) | `winlog.event_data.X` |

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDateTime};
use gac_event::{Event, Value, field, tag};
use serde_json::{Map, Value as Json};

use super::{Context, FormatError};
use crate::time::{Provenance, RecordTime};

/// Format names, as inputs declare them and counters name them.
pub(crate) const WINLOGBEAT: &str = "windows.winlogbeat";
pub(crate) const NXLOG: &str = "windows.nxlog";
pub(crate) const EVTX_JSON: &str = "windows.evtx_json";

const SECURITY_CHANNEL: &str = "Security";
const SYSMON_CHANNEL: &str = "Microsoft-Windows-Sysmon/Operational";
const POWERSHELL_CHANNEL: &str = "Microsoft-Windows-PowerShell/Operational";
const SECURITY_PROVIDER: &str = "Microsoft-Windows-Security-Auditing";
const SYSMON_PROVIDER: &str = "Microsoft-Windows-Sysmon";
const POWERSHELL_PROVIDER: &str = "Microsoft-Windows-PowerShell";

/// Keywords bits of the Security log's audit events (winmeta.xml `WINEVENT_KEYWORD_AUDIT_*`).
const KEYWORD_AUDIT_FAILURE: u64 = 1 << 52;
const KEYWORD_AUDIT_SUCCESS: u64 = 1 << 53;

/// NXLog's own fields in an `im_msvistalog` record; every other top-level key is an
/// EventData item.
const NXLOG_FIELDS: &[&str] = &[
    "EventTime",
    "EventReceivedTime",
    "Hostname",
    "Keywords",
    "EventType",
    "SeverityValue",
    "Severity",
    "EventID",
    "SourceName",
    "ProviderName",
    "ProviderGuid",
    "Version",
    "Task",
    "TaskValue",
    "Opcode",
    "OpcodeValue",
    "Level",
    "LevelValue",
    "RecordNumber",
    "ActivityID",
    "RelatedActivityID",
    "ProcessID",
    "ThreadID",
    "ExecutionProcessID",
    "ExecutionThreadID",
    "Channel",
    "Domain",
    "AccountName",
    "UserID",
    "AccountType",
    "Category",
    "Message",
    "SourceModuleName",
    "SourceModuleType",
    "MessageSourceAddress",
    "EventXML",
    "ERROR_EVT_UNRESOLVED",
];

/// Fields a Winlogbeat module may already have set; taken over when the record no longer
/// carries the EventData item they were made from (Winlogbeat's security module moves
/// `TargetUserName` into `user.name`, for example).
const WINLOGBEAT_ECS: &[&str] = &[
    field::USER_NAME,
    field::USER_DOMAIN,
    field::USER_TARGET_NAME,
    field::SOURCE_IP,
    field::SOURCE_PORT,
    field::PROCESS_EXECUTABLE,
    field::PROCESS_NAME,
    field::PROCESS_PID,
    field::PROCESS_COMMAND_LINE,
];

/// A Windows event reduced to what every delivery of it carries.
#[derive(Debug, Default)]
pub(crate) struct WinEvent {
    channel: Option<String>,
    event_id: Option<i64>,
    provider: Option<String>,
    computer: Option<String>,
    record_id: Option<i64>,
    time: Option<RecordTime>,
    /// From the audit keywords: `Some(true)` for Audit Success, `Some(false)` for failure.
    audit_success: Option<bool>,
    /// EventData/UserData items by their Windows name.
    data: BTreeMap<String, Value>,
}

impl WinEvent {
    /// An item's text, unless absent, empty or Windows' `-` for "none".
    fn get(&self, name: &str) -> Option<&str> {
        match self.data.get(name) {
            Some(Value::Str(s)) if !s.is_empty() && s != "-" => Some(s),
            _ => None,
        }
    }

    fn family(&self) -> Family {
        match (self.provider.as_deref(), self.channel.as_deref()) {
            (Some(SYSMON_PROVIDER), _) | (_, Some(SYSMON_CHANNEL)) => Family::Sysmon,
            (Some(POWERSHELL_PROVIDER), _) | (_, Some(POWERSHELL_CHANNEL)) => Family::PowerShell,
            (Some(SECURITY_PROVIDER), _) | (_, Some(SECURITY_CHANNEL)) => Family::Security,
            _ => Family::Other,
        }
    }
}

/// Which vocabulary an event id belongs to: the same number means different things to
/// different providers (Sysmon 1 is a process start, Security 1102 a cleared log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Security,
    Sysmon,
    PowerShell,
    Other,
}

// ---------------------------------------------------------------------------------------
// Record parsers.

/// Winlogbeat: a JSON object with `winlog.*` keys, nested or dotted.
pub(crate) fn detect_winlogbeat(text: &str) -> bool {
    is_object(text) && (text.contains("\"winlog\"") || text.contains("\"winlog."))
}

/// NXLog `im_msvistalog`: a flat JSON object with `EventID` and `Channel`.
pub(crate) fn detect_nxlog(text: &str) -> bool {
    is_object(text) && text.contains("\"EventID\"") && text.contains("\"Channel\"")
}

/// The `evtx` crate's rendering (`evtx_dump -o jsonl`): `{"Event": {"System": ...}}`.
pub(crate) fn detect_evtx_json(text: &str) -> bool {
    let t = text.trim_start();
    t.strip_prefix('{')
        .is_some_and(|rest| rest.trim_start().starts_with("\"Event\""))
}

pub(crate) fn parse_winlogbeat(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let obj = json_object(text, WINLOGBEAT)?;
    let w = from_winlogbeat(&obj);
    if w.event_id.is_none() {
        return Err(FormatError::new(WINLOGBEAT, "no winlog.event_id"));
    }
    normalise(&w, event, ctx);
    for &name in WINLOGBEAT_ECS {
        if event.get(name).is_none()
            && let Some(v) = lookup(&obj, name)
        {
            set_ecs_from_shipper(event, name, v);
        }
    }
    Ok(())
}

pub(crate) fn parse_nxlog(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let obj = json_object(text, NXLOG)?;
    let w = from_nxlog(&obj);
    if w.event_id.is_none() {
        return Err(FormatError::new(NXLOG, "no EventID"));
    }
    normalise(&w, event, ctx);
    Ok(())
}

pub(crate) fn parse_evtx_json(
    text: &str,
    event: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let root: Json =
        serde_json::from_str(text).map_err(|e| FormatError::new(EVTX_JSON, e.to_string()))?;
    let w = from_evtx_json(&root).map_err(|reason| FormatError::new(EVTX_JSON, reason))?;
    normalise(&w, event, ctx);
    Ok(())
}

fn is_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

fn json_object(text: &str, format: &'static str) -> Result<Map<String, Json>, FormatError> {
    match serde_json::from_str(text) {
        Ok(Json::Object(obj)) => Ok(obj),
        Ok(_) => Err(FormatError::new(format, "not a JSON object")),
        Err(e) => Err(FormatError::new(format, e.to_string())),
    }
}

// ---------------------------------------------------------------------------------------
// Each delivery to a `WinEvent`.

fn from_winlogbeat(obj: &Map<String, Json>) -> WinEvent {
    let text = |path: &str| lookup(obj, path).and_then(json_text);
    let mut w = WinEvent {
        channel: text("winlog.channel"),
        event_id: lookup(obj, "winlog.event_id")
            .or_else(|| lookup(obj, "event.code"))
            .and_then(json_int),
        provider: text("winlog.provider_name").or_else(|| text("event.provider")),
        computer: text("winlog.computer_name").or_else(|| text("host.name")),
        record_id: lookup(obj, "winlog.record_id").and_then(json_int),
        // Older Winlogbeats put the event time in `winlog.time_created` and the read time
        // in `@timestamp`; newer ones only set `@timestamp`, to the event time.
        time: text("winlog.time_created")
            .or_else(|| text("@timestamp"))
            .map(|s| record_time(&s)),
        audit_success: lookup(obj, "winlog.keywords").and_then(|k| {
            let words: Vec<&str> = match k {
                Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
                Json::String(s) => vec![s.as_str()],
                _ => Vec::new(),
            };
            if words.contains(&"Audit Failure") {
                Some(false)
            } else if words.contains(&"Audit Success") {
                Some(true)
            } else {
                None
            }
        }),
        data: BTreeMap::new(),
    };
    let mut items = Vec::new();
    members(obj, "winlog.event_data", &mut items);
    members(obj, "winlog.user_data", &mut items);
    for (name, v) in items {
        // Winlogbeat's own note of the UserData element's name, not an item of it.
        if name != "xml_name" {
            add_item(&mut w.data, name, v);
        }
    }
    w
}

fn from_nxlog(obj: &Map<String, Json>) -> WinEvent {
    let text = |key: &str| obj.get(key).and_then(json_text);
    let mut w = WinEvent {
        channel: text("Channel"),
        event_id: obj.get("EventID").and_then(json_int),
        provider: text("SourceName").or_else(|| text("ProviderName")),
        computer: text("Hostname"),
        record_id: obj.get("RecordNumber").and_then(json_int),
        time: text("EventTime").map(|s| record_time(&s)),
        audit_success: match text("EventType").as_deref() {
            Some("AUDIT_SUCCESS") => Some(true),
            Some("AUDIT_FAILURE") => Some(false),
            _ => obj.get("Keywords").and_then(json_keywords).and_then(audit),
        },
        data: BTreeMap::new(),
    };
    for (name, v) in obj {
        // Sysmon's registry events have an EventData item `EventType` (`SetValue`), which
        // NXLog writes over its own field of that name: only NXLog's values are NXLog's.
        let nxlog_own = NXLOG_FIELDS.contains(&name.as_str())
            && (name != "EventType" || v.as_str().is_some_and(is_nxlog_event_type));
        if !nxlog_own {
            add_item(&mut w.data, name, v);
        }
    }
    w
}

/// NXLog's `EventType` values (its reading of the event's level or audit result).
fn is_nxlog_event_type(v: &str) -> bool {
    matches!(
        v,
        "CRITICAL" | "ERROR" | "WARNING" | "INFO" | "VERBOSE" | "AUDIT_SUCCESS" | "AUDIT_FAILURE"
    )
}

/// The `evtx` crate's JSON rendering of one record (attributes under `#attributes`).
pub(crate) fn from_evtx_json(root: &Json) -> Result<WinEvent, String> {
    let event = root
        .get("Event")
        .and_then(Json::as_object)
        .ok_or("no Event element")?;
    let system = event
        .get("System")
        .and_then(Json::as_object)
        .ok_or("no System element")?;
    // An element's text: `EventID` with a `Qualifiers` attribute becomes
    // `{"#attributes": {...}, "#text": 4624}`.
    let text_of = |name: &str| {
        system
            .get(name)
            .map(|v| v.get("#text").unwrap_or(v))
            .filter(|v| !v.is_null())
    };
    let attribute = |element: &str, name: &str| {
        system
            .get(element)
            .and_then(|e| e.get("#attributes"))
            .and_then(|a| a.get(name))
    };
    let mut w = WinEvent {
        channel: text_of("Channel").and_then(json_text),
        event_id: text_of("EventID").and_then(json_int),
        provider: attribute("Provider", "Name").and_then(json_text),
        computer: text_of("Computer").and_then(json_text),
        record_id: text_of("EventRecordID").and_then(json_int),
        time: attribute("TimeCreated", "SystemTime")
            .and_then(json_text)
            .map(|s| record_time(&s)),
        audit_success: text_of("Keywords").and_then(json_keywords).and_then(audit),
        data: BTreeMap::new(),
    };
    if w.event_id.is_none() {
        return Err("no System/EventID".to_owned());
    }
    if let Some(Json::Object(items)) = event.get("EventData") {
        for (name, v) in items {
            add_item(&mut w.data, name, v);
        }
    }
    // UserData holds one provider-defined element whose children are the items
    // (`<LogFileCleared><SubjectUserName>...`).
    if let Some(Json::Object(user_data)) = event.get("UserData") {
        for (name, element) in user_data {
            match element {
                Json::Object(items) => {
                    for (name, v) in items {
                        add_item(&mut w.data, name, v);
                    }
                }
                other => add_item(&mut w.data, name, other),
            }
        }
    }
    Ok(w)
}

/// Adds one EventData item, skipping XML attributes and empty values.
fn add_item(data: &mut BTreeMap<String, Value>, name: &str, v: &Json) {
    if name.starts_with('#') || name.is_empty() {
        return;
    }
    if let Some(value) = item_value(v) {
        data.insert(name.to_owned(), value);
    }
}

/// An item's value as the text Windows wrote (see the module doc); `None` when empty.
fn item_value(v: &Json) -> Option<Value> {
    match v {
        Json::Null => None,
        Json::String(s) if s.is_empty() => None,
        Json::String(s) => Some(Value::from(s.as_str())),
        Json::Number(n) => Some(Value::from(n.to_string())),
        Json::Bool(b) => Some(Value::from_static(if *b { "true" } else { "false" })),
        // Unnamed `<Data>` elements repeat: one list.
        Json::Array(items) => {
            let list: Vec<Value> = items.iter().filter_map(item_value).collect();
            (!list.is_empty()).then_some(Value::list(list))
        }
        Json::Object(obj) => match obj.get("#text") {
            Some(text) => item_value(text),
            // Structured content (XML inside an item): kept whole rather than guessed at.
            None => Some(Value::from(v.to_string())),
        },
    }
}

// ---------------------------------------------------------------------------------------
// JSON helpers.

/// The value at a dotted `path`, whether the shipper nested it (`{"winlog":{"channel":..}}`),
/// dotted it (`{"winlog.channel":..}`) or mixed the two.
fn lookup<'a>(obj: &'a Map<String, Json>, path: &str) -> Option<&'a Json> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    path.match_indices('.')
        .find_map(|(at, _)| match obj.get(&path[..at]) {
            Some(Json::Object(inner)) => lookup(inner, &path[at + 1..]),
            _ => None,
        })
}

/// The members of the object at `path`, nested or dotted (see [`lookup`]).
fn members<'a>(obj: &'a Map<String, Json>, path: &str, out: &mut Vec<(&'a str, &'a Json)>) {
    if let Some(Json::Object(inner)) = obj.get(path) {
        out.extend(inner.iter().map(|(k, v)| (k.as_str(), v)));
    }
    let dotted = format!("{path}.");
    out.extend(
        obj.iter()
            .filter_map(|(k, v)| k.strip_prefix(&dotted).map(|name| (name, v))),
    );
    for (at, _) in path.match_indices('.') {
        if let Some(Json::Object(inner)) = obj.get(&path[..at]) {
            members(inner, &path[at + 1..], out);
        }
    }
}

fn json_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer sent as a number or as decimal text (Winlogbeat 8 sends `"4624"`).
fn json_int(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The 64-bit Keywords mask: hex text (`0x8020000000000000`), or a number NXLog may print
/// signed.
fn json_keywords(v: &Json) -> Option<u64> {
    match v {
        Json::Number(n) => n.as_u64().or_else(|| n.as_i64().map(|i| i as u64)),
        Json::String(s) => {
            let s = s.trim();
            match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(hex, 16).ok(),
                None => s
                    .parse::<u64>()
                    .ok()
                    .or_else(|| s.parse::<i64>().ok().map(|i| i as u64)),
            }
        }
        _ => None,
    }
}

fn audit(keywords: u64) -> Option<bool> {
    if keywords & KEYWORD_AUDIT_FAILURE != 0 {
        Some(false)
    } else if keywords & KEYWORD_AUDIT_SUCCESS != 0 {
        Some(true)
    } else {
        None
    }
}

/// A record time: RFC 3339 (`TimeCreated`, Winlogbeat), or NXLog's zone-less
/// `2017-12-19 17:45:02`, which is the shipping host's local time.
fn record_time(s: &str) -> RecordTime {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return RecordTime::Zoned(t);
    }
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map_or(RecordTime::Invalid, RecordTime::Local)
}

/// A Winlogbeat-made ECS value, checked as strictly as the ones derived here.
fn set_ecs_from_shipper(event: &mut Event, name: &'static str, v: &Json) {
    match name {
        field::SOURCE_IP => {
            if let Some(s) = v.as_str() {
                set_ip(event, name, s);
            }
        }
        field::SOURCE_PORT | field::PROCESS_PID => {
            if let Some(n) = json_int(v).filter(|n| *n > 0) {
                event.set(name, n);
            }
        }
        _ => {
            if let Some(s) = v.as_str().filter(|s| !s.is_empty() && *s != "-") {
                event.set(name, s);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The normaliser.

/// Writes a Windows event into `event`: time, `winlog.*`, then ECS.
pub(crate) fn normalise(w: &WinEvent, event: &mut Event, ctx: &Context<'_>) {
    set_time(event, w.time, ctx);
    event.set(field::EVENT_KIND, "event");
    event.set(
        field::EVENT_DATASET,
        dataset(w.channel.as_deref().unwrap_or_default()),
    );
    if let Some(channel) = &w.channel {
        event.set(field::WINLOG_CHANNEL, channel.as_str());
    }
    if let Some(id) = w.event_id {
        event.set(field::WINLOG_EVENT_ID, id);
        event.set(field::EVENT_CODE, id.to_string());
    }
    if let Some(provider) = &w.provider {
        event.set(field::WINLOG_PROVIDER_NAME, provider.as_str());
    }
    if let Some(computer) = &w.computer {
        event.set(field::WINLOG_COMPUTER_NAME, computer.as_str());
        event.set(field::HOST_NAME, computer.as_str());
    }
    if let Some(record_id) = w.record_id {
        event.set(field::WINLOG_RECORD_ID, record_id);
    }
    for (name, value) in &w.data {
        event.set(
            format!("{}.{name}", field::WINLOG_EVENT_DATA),
            value.clone(),
        );
    }
    derive_ecs(w, event);
}

/// `@timestamp` from the record, with the same provenance fields and tags as the syslog
/// stage gives.
fn set_time(event: &mut Event, time: Option<RecordTime>, ctx: &Context<'_>) {
    let (timestamp, provenance) = ctx
        .policy
        .resolve(time.unwrap_or(RecordTime::Absent), ctx.received);
    event.timestamp = timestamp;
    match provenance {
        Provenance::Record { offset, .. } => event.set(
            field::EVENT_TIMEZONE,
            crate::time::OffsetText::new(offset).as_str(),
        ),
        Provenance::InputZone { .. } => {
            event.set(field::EVENT_TIMEZONE, ctx.policy.zone().name());
            event.add_tag(tag::ZONE_FROM_INPUT);
        }
        Provenance::Receipt { .. } => event.add_tag(tag::TIME_FROM_RECEIPT),
    }
}

/// `event.dataset` for a channel; see the module doc.
fn dataset(channel: &str) -> String {
    match channel {
        SECURITY_CHANNEL => "windows.security".to_owned(),
        SYSMON_CHANNEL => "windows.sysmon_operational".to_owned(),
        POWERSHELL_CHANNEL => "windows.powershell_operational".to_owned(),
        // Elastic's name for the classic PowerShell log, kept so searches carry over.
        "Windows PowerShell" => "windows.powershell".to_owned(),
        "" => "windows".to_owned(),
        other => {
            let mut slug = String::with_capacity(other.len());
            for c in other.chars() {
                if c.is_ascii_alphanumeric() {
                    slug.push(c.to_ascii_lowercase());
                } else if !slug.is_empty() && !slug.ends_with('_') {
                    slug.push('_');
                }
            }
            format!("windows.{}", slug.trim_end_matches('_'))
        }
    }
}

/// What an event id means in ECS terms.
struct Kind {
    category: &'static [&'static str],
    types: &'static [&'static str],
    action: &'static str,
    /// The outcome when the record's audit keywords do not say.
    outcome: Option<&'static str>,
}

const fn kind(
    category: &'static [&'static str],
    types: &'static [&'static str],
    action: &'static str,
    outcome: Option<&'static str>,
) -> Option<Kind> {
    Some(Kind {
        category,
        types,
        action,
        outcome,
    })
}

const SUCCESS: Option<&str> = Some("success");
const FAILURE: Option<&str> = Some("failure");

/// The ECS meaning of the event ids Gác knows (issue 3's list, plus close relatives).
fn kind_of(family: Family, id: i64) -> Option<Kind> {
    const AUTH: &[&str] = &["authentication"];
    const IAM: &[&str] = &["iam"];
    const IAM_CONFIG: &[&str] = &["iam", "configuration"];
    const PROCESS: &[&str] = &["process"];
    const REGISTRY: &[&str] = &["configuration", "registry"];
    const USER_CHANGE: &[&str] = &["user", "change"];
    const GROUP_CHANGE: &[&str] = &["group", "change"];
    match (family, id) {
        (Family::Security, 4624) => kind(AUTH, &["start"], "logged-in", SUCCESS),
        (Family::Security, 4625) => kind(AUTH, &["start"], "logon-failed", FAILURE),
        (Family::Security, 4634) => kind(AUTH, &["end"], "logged-out", SUCCESS),
        (Family::Security, 4648) => kind(AUTH, &["start"], "logged-in-explicit", SUCCESS),
        (Family::Security, 4672) => kind(IAM, &["admin"], "logged-in-special", SUCCESS),
        (Family::Security, 4688) => kind(PROCESS, &["start"], "created-process", SUCCESS),
        (Family::Security, 4697) => kind(
            IAM_CONFIG,
            &["admin", "change"],
            "service-installed",
            SUCCESS,
        ),
        (Family::Security, 4698) => kind(
            IAM_CONFIG,
            &["admin", "creation"],
            "scheduled-task-created",
            SUCCESS,
        ),
        (Family::Security, 4719) => kind(
            IAM_CONFIG,
            &["admin", "change"],
            "changed-audit-config",
            SUCCESS,
        ),
        (Family::Security, 4720) => kind(IAM, &["user", "creation"], "added-user-account", SUCCESS),
        (Family::Security, 4722) => kind(IAM, USER_CHANGE, "enabled-user-account", SUCCESS),
        (Family::Security, 4723) => kind(IAM, USER_CHANGE, "changed-password", SUCCESS),
        (Family::Security, 4724) => kind(IAM, USER_CHANGE, "reset-password", SUCCESS),
        (Family::Security, 4725) => kind(IAM, USER_CHANGE, "disabled-user-account", SUCCESS),
        (Family::Security, 4726) => {
            kind(IAM, &["user", "deletion"], "deleted-user-account", SUCCESS)
        }
        (Family::Security, 4728 | 4732 | 4756) => {
            kind(IAM, GROUP_CHANGE, "added-member-to-group", SUCCESS)
        }
        (Family::Security, 4740) => kind(IAM, USER_CHANGE, "locked-out-user-account", SUCCESS),
        (Family::Security, 1102) => kind(IAM, &["admin", "change"], "audit-log-cleared", SUCCESS),
        (Family::Sysmon, 1) => kind(PROCESS, &["start"], "process-created", None),
        (Family::Sysmon, 3) => kind(
            &["network"],
            &["connection", "start"],
            "network-connection",
            None,
        ),
        (Family::Sysmon, 5) => kind(PROCESS, &["end"], "process-terminated", None),
        (Family::Sysmon, 7) => kind(PROCESS, &["change"], "image-loaded", None),
        (Family::Sysmon, 8) => kind(PROCESS, &["change"], "remote-thread-created", None),
        (Family::Sysmon, 10) => kind(PROCESS, &["access"], "process-accessed", None),
        (Family::Sysmon, 11) => kind(&["file"], &["creation"], "file-created", None),
        (Family::Sysmon, 12) => kind(REGISTRY, &["change"], "registry-key-changed", None),
        (Family::Sysmon, 13) => kind(REGISTRY, &["change"], "registry-value-set", None),
        (Family::Sysmon, 14) => kind(REGISTRY, &["change"], "registry-key-renamed", None),
        (Family::Sysmon, 22) => kind(&["network"], &["protocol", "info"], "dns-query", None),
        (Family::Sysmon, 23) => kind(&["file"], &["deletion"], "file-deleted", None),
        (Family::PowerShell, 4104) => kind(PROCESS, &["info"], "script-block-logged", None),
        _ => None,
    }
}

/// One word as a string, several as a list, as the other parsers store categories (ECS
/// allows both and Sigma matches either).
fn words(words: &[&str]) -> Value {
    match words {
        [one] => Value::from(*one),
        many => Value::List(many.iter().map(|w| Value::from(*w)).collect()),
    }
}

/// ECS fields from the event id and the EventData items, per [`Family`].
fn derive_ecs(w: &WinEvent, event: &mut Event) {
    let family = w.family();
    let id = w.event_id.unwrap_or_default();
    if let Some(k) = kind_of(family, id) {
        event.set(field::EVENT_CATEGORY, words(k.category));
        event.set(field::EVENT_TYPE, words(k.types));
        event.set(field::EVENT_ACTION, k.action);
        let outcome = match (family, w.audit_success) {
            (Family::Security, Some(true)) => SUCCESS,
            (Family::Security, Some(false)) => FAILURE,
            _ => k.outcome,
        };
        if let Some(outcome) = outcome {
            event.set(field::EVENT_OUTCOME, outcome);
        }
    }
    match family {
        Family::Security => security_ecs(w, id, event),
        Family::Sysmon => sysmon_ecs(w, id, event),
        Family::PowerShell => {
            if id == 4104 {
                set_str(
                    event,
                    field::POWERSHELL_FILE_SCRIPT_BLOCK_TEXT,
                    w.get("ScriptBlockText"),
                );
                set_file(event, w.get("Path"));
            }
        }
        Family::Other => {}
    }
}

fn security_ecs(w: &WinEvent, id: i64, event: &mut Event) {
    // Logon and logoff name the account that logged on as the target; everywhere else the
    // subject is who acted and the target what was acted on.
    let logon = matches!(id, 4624 | 4625 | 4634 | 4647);
    let membership = matches!(id, 4728 | 4729 | 4732 | 4733 | 4756 | 4757);
    let (user, domain) = if logon {
        (w.get("TargetUserName"), w.get("TargetDomainName"))
    } else {
        (w.get("SubjectUserName"), w.get("SubjectDomainName"))
    };
    set_str(event, field::USER_NAME, user);
    set_str(event, field::USER_DOMAIN, domain);
    if membership {
        set_str(event, field::GROUP_NAME, w.get("TargetUserName"));
        set_str(
            event,
            field::USER_TARGET_NAME,
            w.get("MemberName").map(common_name),
        );
    } else if !logon {
        set_str(event, field::USER_TARGET_NAME, w.get("TargetUserName"));
    }
    if let Some(ip) = w.get("IpAddress") {
        set_ip(event, field::SOURCE_IP, ip);
        set_port(event, field::SOURCE_PORT, w.get("IpPort"));
    }
    if id == 4688 {
        set_process(
            event,
            w.get("NewProcessName"),
            w.get("NewProcessId"),
            w.get("CommandLine"),
        );
        set_str(
            event,
            field::PROCESS_PARENT_EXECUTABLE,
            w.get("ParentProcessName"),
        );
        set_str(
            event,
            field::PROCESS_PARENT_NAME,
            w.get("ParentProcessName").map(basename),
        );
        set_pid(event, field::PROCESS_PARENT_PID, w.get("ProcessId"));
    } else {
        set_process(event, w.get("ProcessName"), w.get("ProcessId"), None);
    }
}

fn sysmon_ecs(w: &WinEvent, id: i64, event: &mut Event) {
    // Remote thread and process access name the acting process's account `SourceUser`.
    let user = w.get("User").or_else(|| w.get("SourceUser"));
    if let Some((domain, name)) = user.and_then(|u| u.split_once('\\')) {
        event.set(field::USER_DOMAIN, domain);
        event.set(field::USER_NAME, name);
    } else {
        set_str(event, field::USER_NAME, user);
    }
    match id {
        // Remote thread and process access: the acting process is the source.
        8 | 10 => set_process(event, w.get("SourceImage"), w.get("SourceProcessId"), None),
        _ => set_process(
            event,
            w.get("Image"),
            w.get("ProcessId"),
            w.get("CommandLine"),
        ),
    }
    match id {
        1 => {
            set_str(
                event,
                field::PROCESS_PARENT_EXECUTABLE,
                w.get("ParentImage"),
            );
            set_str(
                event,
                field::PROCESS_PARENT_NAME,
                w.get("ParentImage").map(basename),
            );
            set_pid(event, field::PROCESS_PARENT_PID, w.get("ParentProcessId"));
            set_str(
                event,
                field::PROCESS_PARENT_COMMAND_LINE,
                w.get("ParentCommandLine"),
            );
        }
        3 => {
            if let Some(ip) = w.get("SourceIp") {
                set_ip(event, field::SOURCE_IP, ip);
            }
            set_port(event, field::SOURCE_PORT, w.get("SourcePort"));
            if let Some(ip) = w.get("DestinationIp") {
                set_ip(event, field::DESTINATION_IP, ip);
            }
            set_port(event, field::DESTINATION_PORT, w.get("DestinationPort"));
            set_str(
                event,
                field::NETWORK_TRANSPORT,
                w.get("Protocol").map(str::to_ascii_lowercase).as_deref(),
            );
        }
        7 => set_file(event, w.get("ImageLoaded")),
        11 | 23 | 26 => set_file(event, w.get("TargetFilename")),
        12..=14 => set_str(event, field::REGISTRY_PATH, w.get("TargetObject")),
        22 => set_str(event, field::DNS_QUESTION_NAME, w.get("QueryName")),
        _ => {}
    }
}

fn set_str(event: &mut Event, name: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        event.set(name, v);
    }
}

fn set_process(event: &mut Event, exe: Option<&str>, pid: Option<&str>, cmd: Option<&str>) {
    set_str(event, field::PROCESS_EXECUTABLE, exe);
    set_str(event, field::PROCESS_NAME, exe.map(basename));
    set_pid(event, field::PROCESS_PID, pid);
    set_str(event, field::PROCESS_COMMAND_LINE, cmd);
}

fn set_file(event: &mut Event, path: Option<&str>) {
    set_str(event, field::FILE_PATH, path);
    set_str(event, field::FILE_NAME, path.map(basename));
}

/// Process ids: the Security log writes them in hex (`0x1fc`), Sysmon in decimal. Zero
/// means "no process" there, so it is left out.
fn set_pid(event: &mut Event, name: &'static str, pid: Option<&str>) {
    let parsed = pid.and_then(
        |p| match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            Some(hex) => i64::from_str_radix(hex, 16).ok(),
            None => p.parse().ok(),
        },
    );
    if let Some(pid) = parsed.filter(|p| *p > 0) {
        event.set(name, pid);
    }
}

/// Ports, leaving out `0`, which the Security log writes when there was none.
fn set_port(event: &mut Event, name: &'static str, port: Option<&str>) {
    if let Some(port) = port.and_then(|p| p.parse::<u16>().ok()).filter(|p| *p > 0) {
        event.set(name, port);
    }
}

/// Addresses in canonical form, IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as IPv4; anything
/// that is not an address (`-`, a host name) is left out, since the index types the column.
fn set_ip(event: &mut Event, name: &'static str, text: &str) {
    if let Ok(ip) = text.trim().parse::<IpAddr>() {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        event.set(name, ip);
    }
}

/// `C:\Windows\System32\cmd.exe` -> `cmd.exe`.
fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// `CN=Administrator,CN=Users,DC=corp` -> `Administrator`; other names unchanged.
fn common_name(dn: &str) -> &str {
    dn.strip_prefix("CN=")
        .and_then(|rest| rest.split(',').next())
        .unwrap_or(dn)
}

#[cfg(test)]
mod tests {
    use gac_event::Timestamp;

    use super::*;
    use crate::time::TimePolicy;

    fn parse(f: super::super::ParseFn, text: &str) -> Result<Event, FormatError> {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let received: Timestamp = "2025-07-01T03:00:00Z".parse().unwrap();
        let ctx = Context {
            received,
            policy: &policy,
            app: None,
        };
        let mut event = Event::new(received, received, "");
        f(text, &mut event, &ctx).map(|()| event)
    }

    fn s<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
        e.get_str(name)
    }

    // Shaped as NXLog's im_msvistalog documents its fields; no NXLog sample with a clear
    // licence was at hand (see tests/data/NOTICE.md).
    const NXLOG_4625: &str = r#"{"EventTime":"2022-04-28 23:09:28","Hostname":"exchange-1.mydomain.test","Keywords":-9218868437227405312,"EventType":"AUDIT_FAILURE","SeverityValue":4,"Severity":"ERROR","EventID":4625,"SourceName":"Microsoft-Windows-Security-Auditing","ProviderGuid":"{54849625-5478-4994-A5BA-3E3B0328C30D}","Version":0,"Task":12544,"OpcodeValue":0,"RecordNumber":2524,"ProcessID":712,"ThreadID":11528,"Channel":"Security","Message":"An account failed to log on.","Category":"Logon","Opcode":"Info","SubjectUserSid":"S-1-5-18","SubjectUserName":"EXCHANGE-1$","SubjectDomainName":"MYDOMAIN","TargetUserName":"testuser@mydomain.test","TargetDomainName":"EXCHANGE-1","Status":"0xc000006d","LogonType":"8","ProcessId":"0x14a0","ProcessName":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","IpAddress":"::ffff:192.168.9.212","IpPort":"1628","EventReceivedTime":"2022-04-28 23:09:30","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog"}"#;

    #[test]
    fn nxlog_records_become_the_common_shape() {
        assert!(detect_nxlog(NXLOG_4625));
        assert!(!detect_winlogbeat(NXLOG_4625) && !detect_evtx_json(NXLOG_4625));
        let e = parse(parse_nxlog, NXLOG_4625).unwrap();
        assert_eq!(e.get_i64(field::WINLOG_EVENT_ID), Some(4625));
        assert_eq!(s(&e, field::WINLOG_CHANNEL), Some("Security"));
        assert_eq!(
            s(&e, field::WINLOG_COMPUTER_NAME),
            Some("exchange-1.mydomain.test")
        );
        assert_eq!(e.get_i64(field::WINLOG_RECORD_ID), Some(2524));
        assert_eq!(s(&e, "winlog.event_data.LogonType"), Some("8"));
        // NXLog's own fields are not EventData.
        assert!(e.get("winlog.event_data.Message").is_none());
        assert!(e.get("winlog.event_data.SourceModuleType").is_none());
        assert_eq!(s(&e, field::EVENT_DATASET), Some("windows.security"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
        assert_eq!(s(&e, field::USER_NAME), Some("testuser@mydomain.test"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("192.168.9.212"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(1628));
        assert_eq!(e.get_i64(field::PROCESS_PID), Some(0x14a0));
        assert_eq!(s(&e, field::PROCESS_NAME), Some("w3wp.exe"));
        // Zone-less EventTime: the input's zone (UTC+7).
        assert_eq!(e.timestamp.to_string(), "2022-04-28T16:09:28Z");
        assert!(e.has_tag(tag::ZONE_FROM_INPUT));
    }

    #[test]
    fn dotted_winlogbeat_keys_read_like_nested_ones() {
        let dotted = r#"{"@timestamp":"2024-01-02T03:04:05.678Z","winlog.channel":"Microsoft-Windows-Sysmon/Operational","winlog.event_id":"3","winlog.provider_name":"Microsoft-Windows-Sysmon","winlog.computer_name":"ws1","winlog.record_id":"17","winlog.event_data.Image":"C:\\Tools\\nc.exe","winlog.event_data.ProcessId":"4242","winlog.event_data.Protocol":"tcp","winlog.event_data.SourceIp":"10.1.2.3","winlog.event_data.SourcePort":"50123","winlog.event_data.DestinationIp":"203.0.113.9","winlog.event_data.DestinationPort":"4444","winlog":{"event_data":{"User":"CORP\\alice"}}}"#;
        assert!(detect_winlogbeat(dotted));
        let e = parse(parse_winlogbeat, dotted).unwrap();
        assert_eq!(e.get_i64(field::WINLOG_EVENT_ID), Some(3));
        assert_eq!(e.get_i64(field::WINLOG_RECORD_ID), Some(17));
        assert_eq!(
            s(&e, field::EVENT_DATASET),
            Some("windows.sysmon_operational")
        );
        assert_eq!(s(&e, field::DESTINATION_IP), Some("203.0.113.9"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(4444));
        assert_eq!(s(&e, field::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(s(&e, field::USER_NAME), Some("alice"));
        assert_eq!(s(&e, field::USER_DOMAIN), Some("CORP"));
        assert_eq!(s(&e, field::PROCESS_NAME), Some("nc.exe"));
        assert_eq!(e.timestamp.to_string(), "2024-01-02T03:04:05.678Z");
    }

    #[test]
    fn records_without_an_event_id_are_refused() {
        assert!(parse(parse_winlogbeat, r#"{"winlog":{"channel":"Security"}}"#).is_err());
        assert!(parse(parse_nxlog, r#"{"Channel":"Security","EventID":"x"}"#).is_err());
        assert!(parse(parse_evtx_json, r#"{"Event":{"System":{}}}"#).is_err());
        assert!(parse(parse_winlogbeat, "{not json").is_err());
    }

    #[test]
    fn datasets_follow_the_channel() {
        assert_eq!(dataset("Security"), "windows.security");
        assert_eq!(dataset("System"), "windows.system");
        assert_eq!(
            dataset("Microsoft-Windows-WMI-Activity/Operational"),
            "windows.microsoft_windows_wmi_activity_operational"
        );
        assert_eq!(dataset(""), "windows");
    }

    #[test]
    fn keywords_and_small_helpers() {
        assert_eq!(
            json_keywords(&Json::from("0x8010000000000000")).and_then(audit),
            Some(false)
        );
        assert_eq!(
            json_keywords(&Json::from(-9214364837600034816_i64)).and_then(audit),
            Some(true)
        );
        assert_eq!(
            json_keywords(&Json::from("0x8000000000000000")).and_then(audit),
            None
        );
        assert_eq!(basename("C:\\Windows\\System32\\cmd.exe"), "cmd.exe");
        assert_eq!(
            common_name("CN=Administrator,CN=Users,DC=corp"),
            "Administrator"
        );
        assert_eq!(common_name("alice"), "alice");
        let mut e = Event::new(Timestamp::from_secs(0), Timestamp::from_secs(0), "");
        set_ip(&mut e, field::SOURCE_IP, "-");
        set_port(&mut e, field::SOURCE_PORT, Some("0"));
        set_pid(&mut e, field::PROCESS_PID, Some("0x0"));
        assert!(e.fields.is_empty());
    }
}
