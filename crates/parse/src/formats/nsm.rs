//! Network security monitors: Suricata EVE JSON and Zeek logs (JSON, and TSV in each
//! log's default column order), read as whole records (lines of `eve.json`,
//! `conn.log`, ...) and, for EVE, as syslog bodies when Suricata logs to syslog.
//!
//! # Suricata (`suricata.eve`)
//!
//! Every `event_type` becomes an event with the flow's `source.*`/`destination.*`,
//! `network.transport|protocol|community_id`. `alert` records are `event.kind: alert`
//! with `rule.id|name|category` and `event.severity` from the signature's priority (1 is
//! high, 2 medium, 3 low, 4 and beyond informational); `http`, `dns`, `tls`, `fileinfo`
//! and `flow` records fill the ECS sets of the same names. Everything not mapped is kept
//! flattened under `suricata.eve.*` (capped, see [`MAX_FLATTENED_FIELDS`]).
//!
//! # Zeek (`zeek.<log>`)
//!
//! JSON records carry `_path` when Zeek writes all logs into one stream; otherwise the log
//! is recognised by its characteristic keys (`conn_state` for conn, `query` for dns,
//! `trans_depth` for http, `cipher`/`server_name` for ssl, `note` for notice,
//! `auth_attempts` for ssh). TSV lines carry no names, so a line is read only when its
//! column count and the shape of telling columns match the default `#fields` of conn,
//! dns, http, ssl or notice (the lists below, from Zeek 3 to 7); a log written with other
//! columns needs the JSON writer (`LogAscii::use_json=T`). Header lines (`#fields ...`)
//! are not records and are left to the other parsers. In TSV, `-` is unset and `(empty)`
//! an empty set; both set nothing.

use std::net::IpAddr;

use chrono::DateTime;
use gac_event::{Event, Severity, Value, field};
use serde_json::{Map, Value as Json};

use super::web::{
    MAX_FLATTENED_FIELDS, epoch_seconds, json_to_value, seconds_to_nanos, set_address, set_class,
    set_time, set_url, set_words,
};
use super::{Context, FormatError};
use crate::text::Cut;
use crate::time::RecordTime;

/// Record format names (and Suricata's dataset).
pub(super) const SURICATA_EVE: &str = "suricata.eve";
/// Body-parser name for EVE lines sent through syslog.
pub(super) const SURICATA_SYSLOG: &str = "suricata.eve.syslog";
pub(super) const ZEEK_JSON: &str = "zeek.json";
pub(super) const ZEEK_TSV: &str = "zeek.tsv";

const ZEEK_SESSION_ID: &str = "zeek.session_id";

// ---------------------------------------------------------------------------------------
// Suricata EVE.

pub(super) fn detect_eve(s: &str) -> bool {
    s.starts_with('{') && s.contains("\"event_type\"")
}

pub(super) fn eve_body_applies(_app: Option<&str>, msg: &str) -> bool {
    detect_eve(msg)
}

pub(super) fn parse_eve_record(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    eve(s, e, ctx, true).map_err(|r| FormatError::new(SURICATA_EVE, r))
}

pub(super) fn parse_eve_body(s: &str, e: &mut Event, ctx: &Context<'_>) -> Result<(), FormatError> {
    eve(s, e, ctx, false).map_err(|r| FormatError::new(SURICATA_SYSLOG, r))
}

/// Keys (dotted, from the record's root) that are mapped to ECS and so not repeated
/// under `suricata.eve.*`. Sorted: the flattening walk narrows it to a node's subtree
/// by binary search.
const EVE_MAPPED: &[&str] = &[
    "alert.category",
    "alert.severity",
    "alert.signature",
    "alert.signature_id",
    "app_proto",
    "community_id",
    "dest_ip",
    "dest_port",
    "dns.id",
    "dns.rcode",
    "dns.rrname",
    "dns.rrtype",
    "dns.type",
    "fileinfo.filename",
    "fileinfo.md5",
    "fileinfo.sha1",
    "fileinfo.sha256",
    "fileinfo.size",
    "flow.bytes_toclient",
    "flow.bytes_toserver",
    "flow.end",
    "flow.pkts_toclient",
    "flow.pkts_toserver",
    "flow.start",
    "host",
    "http.hostname",
    "http.http_content_type",
    "http.http_method",
    "http.http_refer",
    "http.http_user_agent",
    "http.length",
    "http.protocol",
    "http.status",
    "http.url",
    "in_iface",
    "proto",
    "src_ip",
    "src_port",
    "timestamp",
    "tls.fingerprint",
    "tls.issuerdn",
    "tls.ja3.hash",
    "tls.ja3s.hash",
    "tls.notafter",
    "tls.notbefore",
    "tls.session_resumed",
    "tls.sni",
    "tls.subject",
    "tls.version",
];

fn eve(s: &str, e: &mut Event, ctx: &Context<'_>, whole_record: bool) -> Result<(), String> {
    let root: Map<String, Json> =
        serde_json::from_str(s).map_err(|err| format!("not a JSON object: {err}"))?;
    let event_type = str_at(&root, &["event_type"]).ok_or("no event_type")?;
    let time = str_at(&root, &["timestamp"]).and_then(parse_eve_time);
    match time {
        Some(t) => set_time(e, RecordTime::Zoned(t), ctx),
        None if whole_record => set_time(e, RecordTime::Absent, ctx),
        None => {}
    }
    e.set(field::OBSERVER_VENDOR, "OISF");
    e.set(field::OBSERVER_PRODUCT, "Suricata");
    e.set(field::OBSERVER_TYPE, "ids");

    let (kind, category, types): (&str, &[&str], &[&str]) = match event_type {
        "alert" => ("alert", &["network", "intrusion_detection"], &[]),
        "http" => ("event", &["network", "web"], &["protocol"]),
        "dns" | "tls" | "ssh" | "smtp" | "smb" | "ftp" | "rdp" | "dhcp" | "krb5" | "snmp"
        | "sip" | "quic" | "mqtt" | "http2" | "nfs" | "tftp" | "ike" => {
            ("event", &["network"], &["protocol"])
        }
        "flow" | "netflow" => ("event", &["network"], &["connection", "end"]),
        "fileinfo" => ("event", &["network", "file"], &["info"]),
        "anomaly" | "drop" => ("event", &["network"], &["info"]),
        "stats" => ("metric", &[], &[]),
        _ => ("event", &[], &[]),
    };
    set_class(e, SURICATA_EVE, kind, category, types);

    if let Some(ip) = str_at(&root, &["src_ip"]) {
        set_network_type(e, ip);
        set_address(e, field::SOURCE_IP, "suricata.eve.src_ip", ip);
    }
    if let Some(ip) = str_at(&root, &["dest_ip"]) {
        set_address(e, field::DESTINATION_IP, "suricata.eve.dest_ip", ip);
    }
    set_i64(e, field::SOURCE_PORT, int_at(&root, &["src_port"]));
    set_i64(e, field::DESTINATION_PORT, int_at(&root, &["dest_port"]));
    if let Some(p) = str_at(&root, &["proto"]) {
        e.set(field::NETWORK_TRANSPORT, transport(p));
    }
    if let Some(p) = str_at(&root, &["app_proto"]).filter(|p| !matches!(*p, "failed" | "unknown")) {
        e.set(field::NETWORK_PROTOCOL, p.to_ascii_lowercase());
    }
    set_str(
        e,
        field::NETWORK_COMMUNITY_ID,
        str_at(&root, &["community_id"]),
    );
    set_str(
        e,
        field::OBSERVER_INGRESS_INTERFACE_NAME,
        str_at(&root, &["in_iface"]),
    );
    set_str(e, field::OBSERVER_HOSTNAME, str_at(&root, &["host"]));

    if root.contains_key("alert") {
        if let Some(id) = int_at(&root, &["alert", "signature_id"]) {
            e.set(field::RULE_ID, id.to_string());
        }
        set_str(e, field::RULE_NAME, str_at(&root, &["alert", "signature"]));
        set_str(
            e,
            field::RULE_CATEGORY,
            str_at(&root, &["alert", "category"]),
        );
        if let Some(sev) = int_at(&root, &["alert", "severity"]) {
            let severity = match sev {
                1 => Severity::High,
                2 => Severity::Medium,
                3 => Severity::Low,
                _ => Severity::Informational,
            };
            e.set(field::EVENT_SEVERITY, severity.code());
        }
        match str_at(&root, &["alert", "action"]) {
            Some("allowed") => set_words(e, field::EVENT_TYPE, &["allowed"]),
            Some("blocked") => set_words(e, field::EVENT_TYPE, &["denied"]),
            _ => {}
        }
    }
    if root.contains_key("http") {
        eve_http(&root, e);
    }
    if root.contains_key("dns") {
        eve_dns(&root, e);
    }
    if root.contains_key("tls") {
        eve_tls(&root, e);
    }
    if root.contains_key("fileinfo") {
        if let Some(path) = str_at(&root, &["fileinfo", "filename"]) {
            e.set(field::FILE_PATH, path);
            let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
            if !name.is_empty() {
                e.set(field::FILE_NAME, name);
            }
        }
        set_i64(e, field::FILE_SIZE, int_at(&root, &["fileinfo", "size"]));
        set_str(e, field::FILE_HASH_MD5, str_at(&root, &["fileinfo", "md5"]));
        set_str(
            e,
            field::FILE_HASH_SHA1,
            str_at(&root, &["fileinfo", "sha1"]),
        );
        set_str(
            e,
            field::FILE_HASH_SHA256,
            str_at(&root, &["fileinfo", "sha256"]),
        );
    }
    if root.contains_key("flow") {
        let sp = int_at(&root, &["flow", "pkts_toserver"]);
        let dp = int_at(&root, &["flow", "pkts_toclient"]);
        let sb = int_at(&root, &["flow", "bytes_toserver"]);
        let db = int_at(&root, &["flow", "bytes_toclient"]);
        set_i64(e, field::SOURCE_PACKETS, sp);
        set_i64(e, field::DESTINATION_PACKETS, dp);
        set_i64(e, field::SOURCE_BYTES, sb);
        set_i64(e, field::DESTINATION_BYTES, db);
        set_i64(e, field::NETWORK_PACKETS, sum(sp, dp));
        set_i64(e, field::NETWORK_BYTES, sum(sb, db));
        for (key, name) in [("start", field::EVENT_START), ("end", field::EVENT_END)] {
            if let Some(t) = str_at(&root, &["flow", key]).and_then(parse_eve_time) {
                e.set(name, gac_event::Timestamp::from_datetime(t).to_string());
            }
        }
    }

    let mut budget = MAX_FLATTENED_FIELDS;
    flatten_except(
        e,
        SURICATA_EVE,
        "",
        &Json::Object(root),
        EVE_MAPPED,
        &mut budget,
    );
    Ok(())
}

fn eve_http(root: &Map<String, Json>, e: &mut Event) {
    let at = |k: &str| str_at(root, &["http", k]);
    set_str(e, field::URL_DOMAIN, at("hostname"));
    if let Some(url) = at("url") {
        set_url(e, url);
    }
    set_str(e, field::USER_AGENT_ORIGINAL, at("http_user_agent"));
    set_str(e, field::HTTP_REQUEST_METHOD, at("http_method"));
    set_str(e, field::HTTP_REQUEST_REFERRER, at("http_refer"));
    set_str(e, field::HTTP_RESPONSE_MIME_TYPE, at("http_content_type"));
    if let Some(v) = at("protocol").and_then(|p| p.strip_prefix("HTTP/")) {
        e.set(field::HTTP_VERSION, v);
    }
    if let Some(status) = int_at(root, &["http", "status"]) {
        e.set(field::HTTP_RESPONSE_STATUS_CODE, status);
        e.set(
            field::EVENT_OUTCOME,
            if status >= 400 { "failure" } else { "success" },
        );
    }
    set_i64(
        e,
        field::HTTP_RESPONSE_BODY_BYTES,
        int_at(root, &["http", "length"]),
    );
}

/// EVE DNS, versions 1 (one record per answer), 2 (`answers` array, `grouped`) and 3
/// (`queries` array).
fn eve_dns(root: &Map<String, Json>, e: &mut Event) {
    let dns = |k: &str| str_at(root, &["dns", k]);
    set_str(e, field::DNS_TYPE, dns("type"));
    if let Some(id) = int_at(root, &["dns", "id"]) {
        e.set(field::DNS_ID, id.to_string());
    }
    let query = root
        .get("dns")
        .and_then(|d| d.get("queries"))
        .and_then(|q| q.get(0));
    let name = dns("rrname").or_else(|| query.and_then(|q| q.get("rrname")).and_then(Json::as_str));
    let rrtype =
        dns("rrtype").or_else(|| query.and_then(|q| q.get("rrtype")).and_then(Json::as_str));
    set_str(e, field::DNS_QUESTION_NAME, name);
    set_str(e, field::DNS_QUESTION_TYPE, rrtype);
    set_str(e, field::DNS_RESPONSE_CODE, dns("rcode"));
    let mut ips: Vec<Value> = Vec::new();
    let mut push = |s: &str| {
        if let Ok(ip) = s.parse::<IpAddr>() {
            ips.push(Value::from(ip));
        }
    };
    if let Some(rdata) = dns("rdata") {
        push(rdata);
    }
    if let Some(answers) = root
        .get("dns")
        .and_then(|d| d.get("answers"))
        .and_then(Json::as_array)
    {
        for a in answers {
            if let Some(r) = a.get("rdata").and_then(Json::as_str) {
                push(r);
            }
        }
    }
    if !ips.is_empty() {
        e.set(field::DNS_RESOLVED_IP, Value::list(ips));
    }
}

fn eve_tls(root: &Map<String, Json>, e: &mut Event) {
    let tls = |k: &str| str_at(root, &["tls", k]);
    if let Some(sni) = tls("sni") {
        e.set(field::TLS_CLIENT_SERVER_NAME, sni);
        e.set(field::DESTINATION_DOMAIN, sni.trim_end_matches('.'));
    }
    if let Some((protocol, version)) = tls("version").and_then(|v| v.split_once(' ')) {
        e.set(field::TLS_VERSION_PROTOCOL, protocol.to_ascii_lowercase());
        e.set(field::TLS_VERSION, version);
    }
    set_str(e, field::TLS_SERVER_SUBJECT, tls("subject"));
    set_str(e, field::TLS_SERVER_ISSUER, tls("issuerdn"));
    set_str(e, field::TLS_SERVER_NOT_BEFORE, tls("notbefore"));
    set_str(e, field::TLS_SERVER_NOT_AFTER, tls("notafter"));
    if let Some(fp) = tls("fingerprint") {
        e.set(
            field::TLS_SERVER_HASH_SHA1,
            fp.replace(':', "").to_ascii_uppercase(),
        );
    }
    if let Some(resumed) = root
        .get("tls")
        .and_then(|t| t.get("session_resumed"))
        .and_then(Json::as_bool)
    {
        e.set(field::TLS_RESUMED, resumed);
    }
    set_str(
        e,
        field::TLS_CLIENT_JA3,
        str_at(root, &["tls", "ja3", "hash"]),
    );
    set_str(
        e,
        field::TLS_SERVER_JA3S,
        str_at(root, &["tls", "ja3s", "hash"]),
    );
}

/// `2018-07-05T15:01:09.820360-0400` (Suricata's offset has no colon) or RFC 3339.
fn parse_eve_time(s: &str) -> Option<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
}

// ---------------------------------------------------------------------------------------
// Zeek JSON.

pub(super) fn detect_zeek_json(s: &str) -> bool {
    s.starts_with('{')
        && ((s.contains("\"id.orig_h\"") && (s.contains("\"uid\"") || s.contains("\"ts\"")))
            || (s.contains("\"_path\"") && s.contains("\"ts\"")))
}

pub(super) fn parse_zeek_json(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let map: Map<String, Json> = serde_json::from_str(s)
        .map_err(|err| FormatError::new(ZEEK_JSON, format!("not a JSON object: {err}")))?;
    let path = map
        .get("_path")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| zeek_log_kind(&map).to_owned());
    zeek(&path, &map, e, ctx);
    Ok(())
}

/// Which Zeek log a JSON record without `_path` comes from, by its characteristic keys.
fn zeek_log_kind(m: &Map<String, Json>) -> &'static str {
    let has = |k: &str| m.contains_key(k);
    if has("conn_state") || (has("history") && has("orig_pkts")) {
        "conn"
    } else if has("query") || has("qtype_name") || has("trans_id") {
        "dns"
    } else if has("trans_depth") {
        "http"
    } else if has("note") {
        "notice"
    } else if has("cipher") || has("server_name") || has("ssl_history") || has("established") {
        "ssl"
    } else if has("auth_attempts") || has("host_key_alg") {
        "ssh"
    } else {
        ""
    }
}

/// Maps one Zeek record (JSON, or TSV turned into the same shape) to ECS.
fn zeek(path: &str, m: &Map<String, Json>, e: &mut Event, ctx: &Context<'_>) {
    let time = match m.get("ts") {
        Some(Json::Number(n)) => n.as_f64().and_then(|f| epoch_seconds(&format!("{f:.6}"))),
        Some(Json::String(s)) => DateTime::parse_from_rfc3339(s)
            .ok()
            .or_else(|| epoch_seconds(s)),
        _ => None,
    };
    set_time(e, time.map_or(RecordTime::Absent, RecordTime::Zoned), ctx);
    let dataset = if path.is_empty() {
        "zeek".to_owned()
    } else {
        format!("zeek.{path}")
    };
    let (kind, category, types): (&str, &[&str], &[&str]) = match path {
        "conn" => ("event", &["network"], &["connection"]),
        "dns" | "ssl" | "ssh" => ("event", &["network"], &["connection", "protocol"]),
        "http" => ("event", &["network", "web"], &["connection", "protocol"]),
        "notice" => ("alert", &["intrusion_detection"], &["info"]),
        "files" => ("event", &["file"], &["info"]),
        _ => ("event", &["network"], &[]),
    };
    set_class(e, &dataset, kind, category, types);
    e.set(field::OBSERVER_VENDOR, "Zeek");
    e.set(field::OBSERVER_PRODUCT, "Zeek");
    e.set(field::OBSERVER_TYPE, "ids");

    let text = |k: &str| m.get(k).and_then(Json::as_str).filter(|s| !s.is_empty());
    let int = |k: &str| m.get(k).and_then(Json::as_i64);
    set_str(e, ZEEK_SESSION_ID, text("uid"));
    let (src, dst) = match (text("id.orig_h"), path) {
        (None, "notice") => (text("src"), text("dst")),
        (orig, _) => (orig, text("id.resp_h")),
    };
    if let Some(ip) = src {
        set_network_type(e, ip);
        set_address(e, field::SOURCE_IP, "zeek.source", ip);
    }
    if let Some(ip) = dst {
        set_address(e, field::DESTINATION_IP, "zeek.destination", ip);
    }
    set_i64(e, field::SOURCE_PORT, int("id.orig_p"));
    set_i64(
        e,
        field::DESTINATION_PORT,
        int("id.resp_p").or_else(|| int("p")),
    );
    if let Some(p) = text("proto") {
        e.set(field::NETWORK_TRANSPORT, transport(p));
    }
    if let Some(s) = text("service") {
        e.set(field::NETWORK_PROTOCOL, s.to_ascii_lowercase());
    }
    set_str(e, field::NETWORK_COMMUNITY_ID, text("community_id"));
    if let Some(d) = m.get("duration").and_then(Json::as_f64) {
        e.set(field::EVENT_DURATION, seconds_to_nanos(d));
    }
    set_i64(e, field::SOURCE_BYTES, int("orig_bytes"));
    set_i64(e, field::DESTINATION_BYTES, int("resp_bytes"));
    set_i64(e, field::SOURCE_PACKETS, int("orig_pkts"));
    set_i64(e, field::DESTINATION_PACKETS, int("resp_pkts"));
    set_i64(
        e,
        field::NETWORK_BYTES,
        sum(int("orig_ip_bytes"), int("resp_ip_bytes")),
    );
    set_i64(
        e,
        field::NETWORK_PACKETS,
        sum(int("orig_pkts"), int("resp_pkts")),
    );
    let local = |k: &str| m.get(k).and_then(Json::as_bool);
    match (local("local_orig"), local("local_resp")) {
        (Some(true), Some(true)) => e.set(field::NETWORK_DIRECTION, "internal"),
        (Some(true), Some(false)) => e.set(field::NETWORK_DIRECTION, "outbound"),
        (Some(false), Some(true)) => e.set(field::NETWORK_DIRECTION, "inbound"),
        (Some(false), Some(false)) => e.set(field::NETWORK_DIRECTION, "external"),
        _ => {}
    }

    let mapped: &[&str] = match path {
        "dns" => {
            set_str(e, field::DNS_QUESTION_NAME, text("query"));
            set_str(e, field::DNS_QUESTION_CLASS, text("qclass_name"));
            set_str(e, field::DNS_QUESTION_TYPE, text("qtype_name"));
            set_str(e, field::DNS_RESPONSE_CODE, text("rcode_name"));
            if let Some(id) = int("trans_id") {
                e.set(field::DNS_ID, id.to_string());
            }
            let answered = m.contains_key("rcode") || m.contains_key("answers");
            e.set(field::DNS_TYPE, if answered { "answer" } else { "query" });
            let ips: Vec<Value> = m
                .get("answers")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .filter_map(|a| a.parse::<IpAddr>().ok())
                .map(Value::from)
                .collect();
            if !ips.is_empty() {
                e.set(field::DNS_RESOLVED_IP, Value::list(ips));
            }
            &[
                "query",
                "qclass_name",
                "qtype_name",
                "rcode_name",
                "trans_id",
            ]
        }
        "http" => {
            set_str(e, field::HTTP_REQUEST_METHOD, text("method"));
            set_str(e, field::URL_DOMAIN, text("host"));
            if let Some(uri) = text("uri") {
                set_url(e, uri);
            }
            set_str(e, field::HTTP_REQUEST_REFERRER, text("referrer"));
            set_str(e, field::HTTP_VERSION, text("version"));
            set_str(e, field::USER_AGENT_ORIGINAL, text("user_agent"));
            set_str(e, field::USER_NAME, text("username"));
            set_i64(e, field::HTTP_REQUEST_BODY_BYTES, int("request_body_len"));
            set_i64(e, field::HTTP_RESPONSE_BODY_BYTES, int("response_body_len"));
            if let Some(status) = int("status_code") {
                e.set(field::HTTP_RESPONSE_STATUS_CODE, status);
                e.set(
                    field::EVENT_OUTCOME,
                    if status >= 400 { "failure" } else { "success" },
                );
            }
            if let Some(mime) = m
                .get("resp_mime_types")
                .and_then(|v| v.get(0))
                .and_then(Json::as_str)
            {
                e.set(field::HTTP_RESPONSE_MIME_TYPE, mime);
            }
            &[
                "method",
                "host",
                "uri",
                "referrer",
                "version",
                "user_agent",
                "username",
                "request_body_len",
                "response_body_len",
                "status_code",
            ]
        }
        "ssl" => {
            if let Some((protocol, version)) = text("version").and_then(zeek_tls_version) {
                e.set(field::TLS_VERSION_PROTOCOL, protocol);
                e.set(field::TLS_VERSION, version);
            }
            set_str(e, field::TLS_CIPHER, text("cipher"));
            set_str(e, field::TLS_CURVE, text("curve"));
            if let Some(sni) = text("server_name") {
                e.set(field::TLS_CLIENT_SERVER_NAME, sni);
                e.set(field::DESTINATION_DOMAIN, sni);
            }
            if let Some(b) = local("resumed") {
                e.set(field::TLS_RESUMED, b);
            }
            if let Some(b) = local("established") {
                e.set(field::TLS_ESTABLISHED, b);
            }
            set_str(e, field::TLS_SERVER_SUBJECT, text("subject"));
            set_str(e, field::TLS_SERVER_ISSUER, text("issuer"));
            set_str(e, field::TLS_CLIENT_JA3, text("ja3"));
            set_str(e, field::TLS_SERVER_JA3S, text("ja3s"));
            &[
                "version",
                "cipher",
                "curve",
                "server_name",
                "resumed",
                "established",
                "subject",
                "issuer",
                "ja3",
                "ja3s",
            ]
        }
        "notice" => {
            set_str(e, field::RULE_NAME, text("note"));
            set_str(e, field::RULE_DESCRIPTION, text("msg"));
            &["note", "msg", "src", "dst", "p"]
        }
        "ssh" => {
            if let Some(ok) = local("auth_success") {
                set_words(e, field::EVENT_CATEGORY, &["network", "authentication"]);
                e.set(field::EVENT_OUTCOME, if ok { "success" } else { "failure" });
            }
            if let Some(d) = text("direction") {
                e.set(field::NETWORK_DIRECTION, d.to_ascii_lowercase());
            }
            &["direction"]
        }
        _ => &[],
    };

    const COMMON: &[&str] = &[
        "ts",
        "uid",
        "_path",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "service",
        "community_id",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "orig_pkts",
        "resp_pkts",
    ];
    let prefix = if path.is_empty() {
        "zeek".to_owned()
    } else {
        format!("zeek.{path}")
    };
    let mut budget = MAX_FLATTENED_FIELDS;
    for (key, value) in m {
        if !COMMON.contains(&key.as_str()) && !mapped.contains(&key.as_str()) {
            flatten_except(e, &prefix, key, value, &[], &mut budget);
        }
    }
}

/// `TLSv12` to (`tls`, `1.2`), `SSLv3` to (`ssl`, `3`), `DTLSv10` to (`dtls`, `1.0`).
fn zeek_tls_version(v: &str) -> Option<(String, String)> {
    let (protocol, digits) = v.split_once('v')?;
    let version = match digits.len() {
        1 => digits.to_owned(),
        2 => format!("{}.{}", &digits[..1], &digits[1..]),
        _ => return None,
    };
    Some((protocol.to_ascii_lowercase(), version))
}

// ---------------------------------------------------------------------------------------
// Zeek TSV.

/// A Zeek column type, as in a `#types` line, reduced to how its text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    /// `time`, `interval`, `double`: a decimal number.
    Real,
    /// `count`, `port`, `int`.
    Count,
    Bool,
    /// `string`, `addr`, `enum`.
    Text,
    /// `set[...]`, `vector[...]`: comma-separated.
    List,
}

/// One default `#fields` layout of a log.
struct Layout {
    path: &'static str,
    fields: &'static [(&'static str, Col)],
}

use Col::{Bool, Count, List, Real, Text};

const CONN_ID: [(&str, Col); 6] = [
    ("ts", Real),
    ("uid", Text),
    ("id.orig_h", Text),
    ("id.orig_p", Count),
    ("id.resp_h", Text),
    ("id.resp_p", Count),
];

/// conn.log, Zeek 2.6 to 7 (21 columns; `ip_proto` appended from Zeek 7.1).
const CONN: &[(&str, Col)] = &[
    CONN_ID[0],
    CONN_ID[1],
    CONN_ID[2],
    CONN_ID[3],
    CONN_ID[4],
    CONN_ID[5],
    ("proto", Text),
    ("service", Text),
    ("duration", Real),
    ("orig_bytes", Count),
    ("resp_bytes", Count),
    ("conn_state", Text),
    ("local_orig", Bool),
    ("local_resp", Bool),
    ("missed_bytes", Count),
    ("history", Text),
    ("orig_pkts", Count),
    ("orig_ip_bytes", Count),
    ("resp_pkts", Count),
    ("resp_ip_bytes", Count),
    ("tunnel_parents", List),
    ("ip_proto", Count),
];

/// dns.log, Zeek 2.6 to 7 (24 columns).
const DNS: &[(&str, Col)] = &[
    CONN_ID[0],
    CONN_ID[1],
    CONN_ID[2],
    CONN_ID[3],
    CONN_ID[4],
    CONN_ID[5],
    ("proto", Text),
    ("trans_id", Count),
    ("rtt", Real),
    ("query", Text),
    ("qclass", Count),
    ("qclass_name", Text),
    ("qtype", Count),
    ("qtype_name", Text),
    ("rcode", Count),
    ("rcode_name", Text),
    ("AA", Bool),
    ("TC", Bool),
    ("RD", Bool),
    ("RA", Bool),
    ("Z", Count),
    ("answers", List),
    ("TTLs", List),
    ("rejected", Bool),
];

/// http.log, Zeek 3 to 7 (30 columns).
const HTTP: &[(&str, Col)] = &[
    CONN_ID[0],
    CONN_ID[1],
    CONN_ID[2],
    CONN_ID[3],
    CONN_ID[4],
    CONN_ID[5],
    ("trans_depth", Count),
    ("method", Text),
    ("host", Text),
    ("uri", Text),
    ("referrer", Text),
    ("version", Text),
    ("user_agent", Text),
    ("origin", Text),
    ("request_body_len", Count),
    ("response_body_len", Count),
    ("status_code", Count),
    ("status_msg", Text),
    ("info_code", Count),
    ("info_msg", Text),
    ("tags", List),
    ("username", Text),
    ("password", Text),
    ("proxied", List),
    ("orig_fuids", List),
    ("orig_filenames", List),
    ("orig_mime_types", List),
    ("resp_fuids", List),
    ("resp_filenames", List),
    ("resp_mime_types", List),
];

/// ssl.log, Zeek 5 to 7 (18 columns).
const SSL: &[(&str, Col)] = &[
    CONN_ID[0],
    CONN_ID[1],
    CONN_ID[2],
    CONN_ID[3],
    CONN_ID[4],
    CONN_ID[5],
    ("version", Text),
    ("cipher", Text),
    ("curve", Text),
    ("server_name", Text),
    ("resumed", Bool),
    ("last_alert", Text),
    ("next_protocol", Text),
    ("established", Bool),
    ("ssl_history", Text),
    ("cert_chain_fps", List),
    ("client_cert_chain_fps", List),
    ("sni_matches_cert", Bool),
];

/// ssl.log, Zeek 3 and 4 (20 columns).
const SSL_OLD: &[(&str, Col)] = &[
    CONN_ID[0],
    CONN_ID[1],
    CONN_ID[2],
    CONN_ID[3],
    CONN_ID[4],
    CONN_ID[5],
    ("version", Text),
    ("cipher", Text),
    ("curve", Text),
    ("server_name", Text),
    ("resumed", Bool),
    ("last_alert", Text),
    ("next_protocol", Text),
    ("established", Bool),
    ("cert_chain_fuids", List),
    ("client_cert_chain_fuids", List),
    ("subject", Text),
    ("issuer", Text),
    ("client_subject", Text),
    ("client_issuer", Text),
];

/// notice.log, Zeek 6 and 7 (26 columns, with `email_dest`).
const NOTICE: &[(&str, Col)] = &[
    CONN_ID[0],
    CONN_ID[1],
    CONN_ID[2],
    CONN_ID[3],
    CONN_ID[4],
    CONN_ID[5],
    ("fuid", Text),
    ("file_mime_type", Text),
    ("file_desc", Text),
    ("proto", Text),
    ("note", Text),
    ("msg", Text),
    ("sub", Text),
    ("src", Text),
    ("dst", Text),
    ("p", Count),
    ("n", Count),
    ("peer_descr", Text),
    ("actions", List),
    ("email_dest", List),
    ("suppress_for", Real),
    ("remote_location.country_code", Text),
    ("remote_location.region", Text),
    ("remote_location.city", Text),
    ("remote_location.latitude", Real),
    ("remote_location.longitude", Real),
];

/// notice.log before Zeek 6 (25 columns, no `email_dest`).
const NOTICE_OLD: &[(&str, Col)] = &[
    CONN_ID[0],
    CONN_ID[1],
    CONN_ID[2],
    CONN_ID[3],
    CONN_ID[4],
    CONN_ID[5],
    ("fuid", Text),
    ("file_mime_type", Text),
    ("file_desc", Text),
    ("proto", Text),
    ("note", Text),
    ("msg", Text),
    ("sub", Text),
    ("src", Text),
    ("dst", Text),
    ("p", Count),
    ("n", Count),
    ("peer_descr", Text),
    ("actions", List),
    ("suppress_for", Real),
    ("remote_location.country_code", Text),
    ("remote_location.region", Text),
    ("remote_location.city", Text),
    ("remote_location.latitude", Real),
    ("remote_location.longitude", Real),
];

const LAYOUTS: &[Layout] = &[
    Layout {
        path: "conn",
        fields: CONN,
    },
    Layout {
        path: "dns",
        fields: DNS,
    },
    Layout {
        path: "http",
        fields: HTTP,
    },
    Layout {
        path: "ssl",
        fields: SSL,
    },
    Layout {
        path: "ssl",
        fields: SSL_OLD,
    },
    Layout {
        path: "notice",
        fields: NOTICE,
    },
    Layout {
        path: "notice",
        fields: NOTICE_OLD,
    },
];

/// The layout whose column count and telling columns fit these columns.
fn tsv_layout(cols: &[&str]) -> Option<(&'static Layout, usize)> {
    let col = |i: usize| cols.get(i).copied().unwrap_or("");
    let is_count = |s: &str| s == "-" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    let is_bool = |s: &str| matches!(s, "T" | "F" | "-");
    let transport = |s: &str| matches!(s, "tcp" | "udp" | "icmp" | "unknown_transport");
    LAYOUTS.iter().find_map(|layout| {
        let n = layout.fields.len();
        // conn.log may lack its newest column (`ip_proto`).
        let width = if layout.path == "conn" && cols.len() == n - 1 {
            n - 1
        } else {
            n
        };
        if cols.len() != width {
            return None;
        }
        let fits = match layout.path {
            "conn" => transport(col(6)) && is_bool(col(12)) && is_bool(col(13)),
            "dns" => transport(col(6)) && is_count(col(7)) && is_bool(col(16)),
            "http" => is_count(col(6)) && is_count(col(14)) && is_count(col(16)),
            "ssl" => {
                let v = col(6);
                (v == "-" || v.starts_with("TLS") || v.starts_with("SSL") || v.starts_with("DTLS"))
                    && is_bool(col(10))
                    && is_bool(col(13))
            }
            "notice" => col(10).contains("::") && is_count(col(15)),
            _ => false,
        };
        fits.then_some((layout, width))
    })
}

/// A TSV data line: an epoch time, a tab, and a column count some default layout has.
pub(super) fn detect_zeek_tsv(s: &str) -> bool {
    // A row opens with its epoch time: anything else is refused before the search for a
    // tab, which `auto` would otherwise run over every syslog line.
    if !s.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let Some((ts, _)) = s.cut_byte(b'\t') else {
        return false;
    };
    let Some((whole, frac)) = ts.cut_byte(b'.') else {
        return false;
    };
    if whole.len() < 9
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return false;
    }
    let cols: Vec<&str> = s.split('\t').collect();
    tsv_layout(&cols).is_some()
}

pub(super) fn parse_zeek_tsv(s: &str, e: &mut Event, ctx: &Context<'_>) -> Result<(), FormatError> {
    let cols: Vec<&str> = s.split('\t').collect();
    let (layout, width) = tsv_layout(&cols).ok_or_else(|| {
        FormatError::new(
            ZEEK_TSV,
            format!("{} columns fit no default Zeek layout", cols.len()),
        )
    })?;
    let mut map = Map::new();
    for ((name, col), text) in layout.fields[..width].iter().zip(&cols) {
        if *text == "-" || *text == "(empty)" {
            continue;
        }
        let value = match col {
            Real => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Json::Number),
            Count => text.parse::<i64>().ok().map(Json::from),
            Bool => match *text {
                "T" => Some(Json::Bool(true)),
                "F" => Some(Json::Bool(false)),
                _ => None,
            },
            Text => Some(Json::String(unescape_tsv(text))),
            List => Some(Json::Array(
                text.split(',')
                    .map(|item| Json::String(unescape_tsv(item)))
                    .collect(),
            )),
        };
        match value {
            Some(v) => {
                map.insert((*name).to_owned(), v);
            }
            // A column whose text is not its type: keep it as text, not lose it.
            None => {
                map.insert((*name).to_owned(), Json::String((*text).to_owned()));
            }
        }
    }
    // The time is kept as written: a float would round its microseconds.
    if let Some(ts) = cols.first() {
        map.insert("ts".to_owned(), Json::String((*ts).to_owned()));
    }
    zeek(layout.path, &map, e, ctx);
    Ok(())
}

/// Zeek escapes the separator and non-printables as `\xHH` in TSV.
fn unescape_tsv(s: &str) -> String {
    if !s.contains("\\x") {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && b.get(i + 1) == Some(&b'x')
            && let Some(byte) = s
                .get(i + 2..i + 4)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 4;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ---------------------------------------------------------------------------------------
// Helpers.

/// The string at a path of object keys.
fn str_at<'a>(root: &'a Map<String, Json>, path: &[&str]) -> Option<&'a str> {
    value_at(root, path)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
}

/// The integer at a path (JSON numbers, or digits in a string).
fn int_at(root: &Map<String, Json>, path: &[&str]) -> Option<i64> {
    match value_at(root, path)? {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn value_at<'a>(root: &'a Map<String, Json>, path: &[&str]) -> Option<&'a Json> {
    let (first, rest) = path.split_first()?;
    let mut v = root.get(*first)?;
    for key in rest {
        v = v.get(*key)?;
    }
    Some(v)
}

fn set_str(e: &mut Event, name: &'static str, v: Option<&str>) {
    if let Some(v) = v.filter(|v| !v.is_empty()) {
        e.set(name, v);
    }
}

fn set_i64(e: &mut Event, name: &'static str, v: Option<i64>) {
    if let Some(v) = v {
        e.set(name, v);
    }
}

fn sum(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

fn set_network_type(e: &mut Event, ip: &str) {
    if let Ok(ip) = ip.parse::<IpAddr>() {
        e.set(
            field::NETWORK_TYPE,
            if ip.is_ipv4() { "ipv4" } else { "ipv6" },
        );
    }
}

/// Protocol names as ECS writes `network.transport`.
fn transport(p: &str) -> String {
    let lower = p.to_ascii_lowercase();
    match lower.as_str() {
        "icmpv6" | "ipv6-icmp" | "icmp6" => "ipv6-icmp".to_owned(),
        _ => lower,
    }
}

/// Flattens `v` (at `rel`, the dotted path from the record's root) under `prefix`,
/// skipping the paths in `skip` (sorted) that were mapped to ECS.
fn flatten_except(
    e: &mut Event,
    prefix: &str,
    rel: &str,
    v: &Json,
    skip: &[&str],
    budget: &mut usize,
) {
    // One buffer holds `prefix.rel` as the walk goes down and comes back: a field name
    // is copied out once, for the field, not built at every level.
    let mut path = String::with_capacity(prefix.len() + rel.len() + 48);
    path.push_str(prefix);
    path.push('.');
    let base = path.len();
    path.push_str(rel);
    flatten_walk(e, &mut path, base, v, skip, budget);
}

fn flatten_walk(
    e: &mut Event,
    path: &mut String,
    base: usize,
    v: &Json,
    skip: &[&str],
    budget: &mut usize,
) {
    let rel = &path[base..];
    if *budget == 0 {
        return;
    }
    // Narrow `skip` to the mapped paths at or under this one (a contiguous run of the
    // sorted list): a subtree with none, such as a stats record's 265 counters, is
    // walked without a string compare. (Searching the whole list at every node was
    // 90% of that record's parse.)
    let skip = if rel.is_empty() {
        skip
    } else {
        let from = skip.partition_point(|k| *k < rel);
        let under = skip[from..].partition_point(|k| k.starts_with(rel));
        let skip = &skip[from..from + under];
        if skip.first() == Some(&rel) {
            return;
        }
        skip
    };
    match v {
        Json::Object(map) => {
            for (k, v) in map {
                let len = path.len();
                if len > base {
                    path.push('.');
                }
                path.push_str(k);
                flatten_walk(e, path, base, v, skip, budget);
                path.truncate(len);
            }
        }
        other => {
            if let Some(value) = json_to_value(other) {
                *budget -= 1;
                e.set(path.clone(), value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use gac_event::Timestamp;

    use super::*;
    use crate::time::TimePolicy;

    use super::super::testing::{run, s};

    #[test]
    fn flattening_skips_exactly_the_mapped_paths() {
        // The walk narrows the list by binary search, so it must be sorted.
        assert!(EVE_MAPPED.is_sorted());
        let root: Json = serde_json::from_str(
            r#"{"alert":{"signature":"x","action":"allowed"},"http":{"url":"/"},
                "httpx":2,"hostname":"h","stats":{"a":{"b":1}}}"#,
        )
        .unwrap();
        let mut e = Event::new(Timestamp::from_nanos(0), Timestamp::from_nanos(0), "");
        let mut budget = 100;
        flatten_except(&mut e, "p", "", &root, EVE_MAPPED, &mut budget);
        let names: Vec<&str> = e.fields.keys().map(|k| &**k).collect();
        // `alert.signature` and `http.url` are mapped; their siblings and the names that
        // merely share a prefix (`httpx`, `hostname` beside `host`) are not.
        assert_eq!(
            names,
            ["p.alert.action", "p.httpx", "p.hostname", "p.stats.a.b"]
        );
    }

    #[test]
    fn eve_alert() {
        let line = r#"{"timestamp":"2025-07-01T10:00:00.000001+0700","flow_id":1,"in_iface":"eth0","event_type":"alert","src_ip":"198.51.100.1","src_port":4444,"dest_ip":"10.0.0.2","dest_port":80,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2034125,"rev":4,"signature":"ET EXPLOIT x","category":"Attempted Administrator Privilege Gain","severity":1},"app_proto":"http","http":{"hostname":"portal.example.vn","url":"/a?b=c","http_method":"GET","protocol":"HTTP/1.1","status":404,"length":10}}"#;
        assert!(detect_eve(line));
        let e = run(parse_eve_record, line);
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00.000001Z");
        assert_eq!(s(&e, field::EVENT_KIND), Some("alert"));
        assert_eq!(s(&e, field::RULE_ID), Some("2034125"));
        assert_eq!(s(&e, field::RULE_NAME), Some("ET EXPLOIT x"));
        assert_eq!(
            e.get_i64(field::EVENT_SEVERITY),
            Some(Severity::High.code())
        );
        assert_eq!(s(&e, field::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(s(&e, field::URL_PATH), Some("/a"));
        assert_eq!(e.get_i64(field::HTTP_RESPONSE_STATUS_CODE), Some(404));
        assert_eq!(e.get_i64("suricata.eve.flow_id"), Some(1));
        assert_eq!(e.get_i64("suricata.eve.alert.gid"), Some(1));
        assert_eq!(e.get("suricata.eve.alert.signature"), None);
        assert_eq!(e.get("suricata.eve.http.url"), None);
    }

    #[test]
    fn eve_dns_v2_answers() {
        let line = r#"{"timestamp":"2025-07-01T03:00:00Z","event_type":"dns","src_ip":"10.0.0.2","dest_ip":"10.0.0.53","proto":"UDP","dns":{"version":2,"type":"answer","id":7,"rrname":"example.vn","rrtype":"A","rcode":"NOERROR","answers":[{"rrname":"example.vn","rrtype":"A","ttl":60,"rdata":"203.0.113.10"}]}}"#;
        let e = run(parse_eve_record, line);
        assert_eq!(s(&e, field::DNS_QUESTION_NAME), Some("example.vn"));
        assert_eq!(s(&e, field::DNS_ID), Some("7"));
        assert_eq!(
            e.get(field::DNS_RESOLVED_IP),
            Some(Value::list(vec![Value::from("203.0.113.10")]).as_ref())
        );
    }

    #[test]
    fn eve_garbage_is_an_error() {
        let policy = TimePolicy::new(chrono_tz::UTC);
        let ctx = Context {
            received: Timestamp::from_secs(0),
            policy: &policy,
            app: None,
        };
        let mut e = Event::new(ctx.received, ctx.received, "");
        assert!(parse_eve_record(r#"{"event_type":"#, &mut e, &ctx).is_err());
        assert!(parse_eve_record(r#"{"event_type":1}"#, &mut e, &ctx).is_err());
    }

    #[test]
    fn zeek_json_kinds() {
        let conn = r#"{"ts":1547188415.857497,"uid":"CAcJw21BbVedgFnYH3","id.orig_h":"192.168.86.167","id.orig_p":38339,"id.resp_h":"192.168.86.1","id.resp_p":53,"proto":"udp","service":"dns","duration":0.076967,"orig_bytes":75,"resp_bytes":178,"conn_state":"SF","local_orig":true,"local_resp":true,"orig_pkts":1,"orig_ip_bytes":103,"resp_pkts":1,"resp_ip_bytes":206}"#;
        assert!(detect_zeek_json(conn));
        let e = run(parse_zeek_json, conn);
        assert_eq!(e.timestamp.to_string(), "2019-01-11T06:33:35.857497Z");
        assert_eq!(s(&e, field::EVENT_DATASET), Some("zeek.conn"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("192.168.86.167"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(53));
        assert_eq!(e.get_i64(field::EVENT_DURATION), Some(76_967_000));
        assert_eq!(e.get_i64(field::NETWORK_BYTES), Some(309));
        assert_eq!(s(&e, field::NETWORK_DIRECTION), Some("internal"));
        assert_eq!(s(&e, "zeek.conn.conn_state"), Some("SF"));
        let notice = r#"{"ts":1,"_path":"notice","note":"Scan::Port_Scan","msg":"x scanned","src":"198.51.100.3"}"#;
        let e = run(parse_zeek_json, notice);
        assert_eq!(s(&e, field::EVENT_KIND), Some("alert"));
        assert_eq!(s(&e, field::RULE_NAME), Some("Scan::Port_Scan"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("198.51.100.3"));
    }

    #[test]
    fn zeek_tsv_layouts() {
        let conn = "1521911721.255387\tC8Tful1TvM3Zf5x8fl\t10.164.94.120\t39681\t10.47.3.155\t3389\ttcp\t-\t0.004266\t97\t19\tRSTR\t-\t-\t0\tShADTdtr\t10\t730\t6\t342\t-";
        assert!(detect_zeek_tsv(conn));
        let e = run(parse_zeek_tsv, conn);
        assert_eq!(e.timestamp.to_string(), "2018-03-24T17:15:21.255387Z");
        assert_eq!(s(&e, field::EVENT_DATASET), Some("zeek.conn"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(39681));
        assert_eq!(e.get(field::NETWORK_PROTOCOL), None);
        assert_eq!(e.get_i64(field::SOURCE_BYTES), Some(97));
        let dns = "1632928690.500620\tCvVbVi3kNVC4LPU90f\t192.168.1.99\t62978\t192.168.1.1\t53\tudp\t62111\t0.01\tcloudflare.com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t104.16.132.229,104.16.133.229\t300.000000,300.000000\tF";
        assert!(detect_zeek_tsv(dns));
        let e = run(parse_zeek_tsv, dns);
        assert_eq!(s(&e, field::EVENT_DATASET), Some("zeek.dns"));
        assert_eq!(s(&e, field::DNS_QUESTION_NAME), Some("cloudflare.com"));
        assert_eq!(s(&e, field::DNS_RESPONSE_CODE), Some("NOERROR"));
        assert_eq!(
            e.get(field::DNS_RESOLVED_IP),
            Some(
                Value::list(vec![
                    Value::from("104.16.132.229"),
                    Value::from("104.16.133.229")
                ])
                .as_ref()
            )
        );
        let ssl = "1335538392.319381\tCsl1\t192.168.1.105\t62045\t74.125.224.79\t443\tTLSv12\tTLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\tsecp256r1\tssl.gstatic.com\tF\t-\th2\tT\tCsxknGIi\t(empty)\t(empty)\tT";
        assert!(detect_zeek_tsv(ssl));
        let e = run(parse_zeek_tsv, ssl);
        assert_eq!(s(&e, field::TLS_VERSION), Some("1.2"));
        assert_eq!(
            s(&e, field::TLS_CLIENT_SERVER_NAME),
            Some("ssl.gstatic.com")
        );
        assert_eq!(
            e.get(field::TLS_ESTABLISHED),
            Some(Value::Bool(true).as_ref())
        );
        for other in [
            "#fields\tts\tuid",
            "1521911721.255387\tC8\t10.0.0.1",
            "hello\tworld",
        ] {
            assert!(!detect_zeek_tsv(other), "{other}");
        }
        assert_eq!(unescape_tsv(r"a\x09b"), "a\tb");
    }
}
