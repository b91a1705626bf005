//! Golden and consistency tests for Windows event logs, on real events (sources and
//! licences in `tests/data/NOTICE.md`):
//!
//! - `windows/winlogbeat.jsonl`: Winlogbeat records through `gac_parse::parse` (`auto`),
//!   compared with `windows/winlogbeat.golden.jsonl`;
//! - `windows/*.evtx`: SigmaHQ regression files through `formats::evtx::read_evtx`,
//!   compared with `windows/<name>.evtx.golden.jsonl`;
//! - each `.evtx` against its `.json` rendering (the `evtx` crate's JSON shape, which
//!   SigmaHQ ships beside it) read as a record, and against the same records reshaped as
//!   Winlogbeat and NXLog would ship them: every delivery must give the same event.
//!
//! After a deliberate change, `GAC_BLESS=1 cargo test -p gac-parse --test golden_windows`
//! rewrites the goldens; read the diff before keeping it.

// clippy.toml lets tests unwrap, but only inside `#[test]` fns; these helpers serve them
// and a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use gac_event::{Event, Timestamp, field};
use gac_parse::formats::evtx::read_evtx;
use gac_parse::{Format, TimePolicy, parse};
use serde_json::{Map, Value as Json, json};

const RECEIVED: &str = "2025-07-01T03:00:00Z";

/// The SigmaHQ regression files copied here: `<name>.evtx` and `<name>.json`.
const EVTX_SAMPLES: &[&str] = &[
    "security-4648",
    "sysmon-1",
    "sysmon-10",
    "sysmon-11",
    "sysmon-13",
    "wmi-5858",
];

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/windows")
}

fn received() -> Timestamp {
    RECEIVED.parse().unwrap()
}

fn policy() -> TimePolicy {
    TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh)
}

/// One golden line. Built by hand rather than through a `serde_json::Value`, whose key
/// order depends on serde_json's `preserve_order` feature.
fn line(label: &str, event: &Event) -> String {
    format!(
        "{{\"parser\":{},\"event\":{}}}\n",
        serde_json::to_string(label).unwrap(),
        serde_json::to_string(event).unwrap()
    )
}

fn check(golden: &str, actual: &str) {
    common::compare_golden(&format!("windows/{golden}"), actual);
}

fn parse_record(text: &str, format: Format) -> (Event, &'static str) {
    let (event, parsed) = parse(text.as_bytes(), received(), &policy(), format);
    (event, parsed.format_name())
}

fn evtx_events(name: &str) -> Vec<Event> {
    let bytes = std::fs::read(data_dir().join(format!("{name}.evtx"))).unwrap();
    read_evtx(&bytes, received())
        .unwrap()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

/// The records of a SigmaHQ `.json` rendering: one or more pretty-printed objects, one
/// after another.
fn rendered_records(name: &str) -> Vec<Json> {
    let text = std::fs::read_to_string(data_dir().join(format!("{name}.json"))).unwrap();
    serde_json::Deserializer::from_str(&text)
        .into_iter::<Json>()
        .map(Result::unwrap)
        .collect()
}

/// Everything but `message`, which holds each delivery's own text.
fn fields_of(event: &Event) -> (Timestamp, Vec<(String, String)>) {
    let fields = event
        .fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (event.timestamp, fields)
}

/// [`fields_of`], less the differences between `evtx` crate versions, which are not
/// ours: SigmaHQ's renderings were made by one that wrote times to the microsecond (the
/// file holds 100 ns), GUIDs in upper case without the braces Windows writes, and
/// trailing blanks trimmed.
fn comparable(event: &Event) -> (Timestamp, Vec<(String, String)>) {
    let (t, fields) = fields_of(event);
    let micros = Timestamp::from_nanos(t.nanos() - t.nanos().rem_euclid(1_000));
    let plain = |v: String| {
        let v = v.trim_end();
        match v
            .strip_prefix('{')
            .and_then(|v| v.strip_suffix('}'))
            .unwrap_or(v)
        {
            guid if guid.len() == 36 && guid.matches('-').count() == 4 => guid.to_uppercase(),
            _ => v.to_owned(),
        }
    };
    let fields = fields.into_iter().map(|(k, v)| (k, plain(v))).collect();
    (micros, fields)
}

#[test]
fn winlogbeat_records() {
    let input = std::fs::read_to_string(data_dir().join("winlogbeat.jsonl")).unwrap();
    let mut out = String::new();
    for record in input.lines() {
        let (event, parser) = parse_record(record, Format::Auto);
        assert_eq!(parser, "windows.winlogbeat", "{record}");
        out.push_str(&line(parser, &event));
    }
    check("winlogbeat.golden.jsonl", &out);
}

#[test]
fn evtx_files() {
    for name in EVTX_SAMPLES {
        let events = evtx_events(name);
        assert!(!events.is_empty(), "{name}: no records");
        let out: String = events.iter().map(|e| line("windows.evtx", e)).collect();
        check(&format!("{name}.evtx.golden.jsonl"), &out);
    }
}

#[test]
fn evtx_events_keep_the_record_as_json() {
    for event in evtx_events("sysmon-1") {
        let record: Json = serde_json::from_str(event.message()).unwrap();
        assert_eq!(
            record["Event"]["System"]["EventID"].as_i64(),
            event.get_i64(field::WINLOG_EVENT_ID)
        );
    }
}

#[test]
fn evtx_files_and_their_json_rendering_give_the_same_events() {
    for name in EVTX_SAMPLES {
        let from_evtx: Vec<_> = evtx_events(name).iter().map(comparable).collect();
        let from_json: Vec<_> = rendered_records(name)
            .iter()
            .map(|record| {
                let format = "windows.evtx_json".parse().unwrap();
                let (event, parser) = parse_record(&record.to_string(), format);
                assert_eq!(parser, "windows.evtx_json");
                comparable(&event)
            })
            .collect();
        assert_eq!(from_evtx, from_json, "{name}");
    }
}

#[test]
fn winlogbeat_nxlog_and_evtx_json_deliveries_give_the_same_event() {
    for name in EVTX_SAMPLES {
        for record in rendered_records(name) {
            let format = "windows.evtx_json".parse().unwrap();
            let expected = fields_of(&parse_record(&record.to_string(), format).0);
            for (shipper, reshaped) in [
                ("windows.winlogbeat", as_winlogbeat(&record)),
                ("windows.nxlog", as_nxlog(&record)),
            ] {
                let (shipped, parser) = parse_record(&reshaped.to_string(), Format::Auto);
                assert_eq!(parser, shipper, "{name}: {reshaped}");
                assert_eq!(fields_of(&shipped), expected, "{name} as {shipper}");
            }
        }
    }
}

/// The System part of an `evtx`-crate rendering.
struct System<'a> {
    system: &'a Json,
    items: Map<String, Json>,
}

fn system(record: &Json) -> System<'_> {
    let event = &record["Event"];
    let mut items = Map::new();
    if let Some(data) = event["EventData"].as_object() {
        items.extend(data.clone());
    }
    if let Some(user_data) = event["UserData"].as_object() {
        for element in user_data.values() {
            items.extend(element.as_object().cloned().unwrap_or_default());
        }
    }
    items.retain(|k, v| !k.starts_with('#') && !v.is_null());
    System {
        system: &event["System"],
        items,
    }
}

/// As Winlogbeat ships it: `winlog.*`, every value as text.
fn as_winlogbeat(record: &Json) -> Json {
    let s = system(record);
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    let event_data: Map<String, Json> = s
        .items
        .iter()
        .map(|(k, v)| (k.clone(), Json::from(text(v))))
        .collect();
    json!({
        "@timestamp": s.system["TimeCreated"]["#attributes"]["SystemTime"],
        "winlog": {
            "channel": s.system["Channel"],
            "event_id": text(&s.system["EventID"]),
            "provider_name": s.system["Provider"]["#attributes"]["Name"],
            "computer_name": s.system["Computer"],
            "record_id": s.system["EventRecordID"],
            "event_data": event_data,
        },
    })
}

/// As NXLog's `im_msvistalog` ships it: System fields under NXLog's names, EventData items
/// beside them.
fn as_nxlog(record: &Json) -> Json {
    let s = system(record);
    let mut out = s.items.clone();
    for (key, value) in [
        (
            "EventTime",
            &s.system["TimeCreated"]["#attributes"]["SystemTime"],
        ),
        ("Hostname", &s.system["Computer"]),
        ("Keywords", &s.system["Keywords"]),
        ("EventID", &s.system["EventID"]),
        ("SourceName", &s.system["Provider"]["#attributes"]["Name"]),
        ("RecordNumber", &s.system["EventRecordID"]),
        ("Channel", &s.system["Channel"]),
    ] {
        out.insert(key.to_owned(), value.clone());
    }
    out.insert("SourceModuleType".to_owned(), json!("im_msvistalog"));
    Json::Object(out)
}
