//! Network devices: Linux netfilter log lines (iptables `LOG`, ufw, nftables `log
//! prefix`), pfSense/OPNsense `filterlog`, FortiGate key=value logs and Cisco ASA/FTD
//! messages. All arrive as syslog bodies; FortiGate lines also as whole records (files,
//! or a FortiGate sending without a syslog header).
//!
//! # Verdicts
//!
//! Firewalls say "allow" in many words. `event.action` carries one of four for a packet
//! or connection verdict, whatever the vendor's spelling, so one query finds them all:
//!
//! - `allow`: accept, pass, permitted, est-allowed;
//! - `drop`: discarded silently (iptables `DROP`, pf `block`, EdgeOS `-D` rules);
//! - `reject`: refused with a reset or ICMP error (`REJECT`, pf `reject`);
//! - `deny`: refused, the vendor not saying how (ASA `Deny`, ufw `BLOCK`).
//!
//! `event.type` adds `allowed` or `denied`, and `event.outcome` is `success` for an
//! allowed connection and `failure` for a refused one (the connection's view, not the
//! firewall's). FortiGate's own `action` words are richer (`close`, `timeout`,
//! `server-rst`) and are kept as they are, with the same `event.type` and outcome.
//!
//! # Fields
//!
//! ECS first: `source.*`/`destination.*` ip and port, `network.transport|type|direction`,
//! `observer.vendor|product|type`, `observer.ingress|egress.interface.name`, `rule.*`,
//! `user.name`. The rest is kept under the dataset's prefix (`iptables.*`,
//! `pfsense.filterlog.*`, `fortinet.firewall.*`, `cisco.asa.*`), as Elastic does, so
//! nothing the device said is lost.

use std::borrow::Cow;
use std::net::IpAddr;

use chrono::{NaiveDate, NaiveTime};
use gac_event::{Event, IntoName, Severity, Value, field, tag};
use nom::bytes::complete::{tag as literal, take_till, take_until, take_while1};
use nom::character::complete::{char, space0, space1};
use nom::combinator::opt;
use nom::sequence::delimited;
use nom::{IResult, Parser};

use super::web::{
    seconds_to_nanos, set_address, set_class, set_int, set_level, set_time, set_url, set_words,
};
use super::{Context, FormatError};
use crate::text::Cut;
use crate::time::RecordTime;

/// Datasets; the body parsers are named after them too.
pub(super) const IPTABLES: &str = "iptables";
pub(super) const FILTERLOG: &str = "pfsense.filterlog";
pub(super) const FORTIGATE: &str = "fortinet.fortigate";
/// Body-parser name for FortiGate lines behind a syslog header (record and body parser
/// names must differ; the dataset is `fortinet.fortigate` either way).
pub(super) const FORTIGATE_SYSLOG: &str = "fortinet.fortigate.syslog";
pub(super) const CISCO_ASA: &str = "cisco.asa";

const IPTABLES_PREFIX: &str = "iptables";
const IPTABLES_TCP_FLAGS: &str = "iptables.tcp.flags";
const IPTABLES_FRAGMENT_FLAGS: &str = "iptables.fragment_flags";
const FORTINET_PREFIX: &str = "fortinet.firewall";
const ASA_MESSAGE: &str = "cisco.asa.message";
/// Where an address that is not an IP (an object name such as `OCSP_Server`) is kept.
const ASA_SOURCE_ADDRESS: &str = "cisco.asa.source_address";
const ASA_DESTINATION_ADDRESS: &str = "cisco.asa.destination_address";
const ASA_PEER: &str = "cisco.asa.peer";
const ASA_FACILITY: &str = "cisco.asa.facility";
const ASA_CONNECTION_ID: &str = "cisco.asa.connection_id";
const ASA_TERMINATION_REASON: &str = "cisco.asa.termination_reason";
const ASA_ICMP_TYPE: &str = "cisco.asa.icmp_type";
const ASA_ICMP_CODE: &str = "cisco.asa.icmp_code";
const ASA_TCP_FLAGS: &str = "cisco.asa.tcp_flags";
const ASA_COMMAND_LINE: &str = "cisco.asa.command_line";
const ASA_ASSIGNED_IP: &str = "cisco.asa.assigned_ip";
const ASA_REASON: &str = "cisco.asa.reason";
const ASA_SESSION_TYPE: &str = "cisco.asa.session_type";
const ASA_PRIVILEGE_OLD: &str = "cisco.asa.privilege.old";
const ASA_PRIVILEGE_NEW: &str = "cisco.asa.privilege.new";

/// How far into a message `%ASA-` may start: senders put a hostname or `<IP>:` before it.
const MAX_ASA_OFFSET: usize = 64;

/// A firewall's verdict on a packet or connection (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allow,
    Deny,
    Drop,
    Reject,
}

impl Verdict {
    fn action(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
            Verdict::Drop => "drop",
            Verdict::Reject => "reject",
        }
    }

    fn allowed(self) -> bool {
        self == Verdict::Allow
    }
}

/// `event.action`, `event.type` and `event.outcome` of a verdict on a connection.
fn set_verdict(e: &mut Event, verdict: Option<Verdict>) {
    match verdict {
        Some(v) => {
            e.set(field::EVENT_ACTION, v.action());
            set_allowed(e, v.allowed(), &[]);
        }
        None => set_words(e, field::EVENT_TYPE, &["connection"]),
    }
}

/// `event.type` `[connection, allowed|denied, extra...]` and the outcome that goes with it.
fn set_allowed(e: &mut Event, allowed: bool, extra: &[&'static str]) {
    let mut types = vec!["connection", if allowed { "allowed" } else { "denied" }];
    types.extend_from_slice(extra);
    set_words(e, field::EVENT_TYPE, &types);
    e.set(
        field::EVENT_OUTCOME,
        if allowed { "success" } else { "failure" },
    );
}

fn set_observer(e: &mut Event, vendor: &str, product: &str) {
    e.set(field::OBSERVER_VENDOR, vendor);
    e.set(field::OBSERVER_PRODUCT, product);
    e.set(field::OBSERVER_TYPE, "firewall");
}

/// `network.type` from an address.
fn set_network_type(e: &mut Event, ip: &str) {
    if let Ok(ip) = ip.parse::<IpAddr>() {
        e.set(
            field::NETWORK_TYPE,
            if ip.is_ipv4() { "ipv4" } else { "ipv6" },
        );
    }
}

/// An IANA protocol name as ECS spells `network.transport` (lowercase; ICMPv6 is
/// `ipv6-icmp`).
fn transport(proto: &str) -> String {
    let lower = proto.to_ascii_lowercase();
    match lower.as_str() {
        "icmpv6" | "icmp6" => "ipv6-icmp".to_owned(),
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        "58" => "ipv6-icmp".to_owned(),
        _ => lower,
    }
}

/// A MAC address as ECS writes it: `00-08-A2-0C-1F-12`.
fn ecs_mac(octets: &[&str]) -> String {
    octets.join("-").to_ascii_uppercase()
}

// ---------------------------------------------------------------------------------------
// Netfilter: `[prefix]IN=eth0 OUT= MAC=... SRC=... DST=... PROTO=TCP SPT=1 DPT=2 ...`.

/// Any app (the kernel, or a tag like `DENY:` that a sender put in its place) with the
/// unmistakable `IN=`/`OUT=` ... `SRC=` ... `DST=` ... `PROTO=` shape.
pub(super) fn iptables_applies(_app: Option<&str>, msg: &str) -> bool {
    kv_start(msg).is_some()
        && msg.contains(" SRC=")
        && msg.contains(" DST=")
        && msg.contains("PROTO=")
}

/// Where the key=value part starts: the first `IN=` or `OUT=` at a word start.
fn kv_start(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let at_boundary = |i: usize| i == 0 || matches!(b[i - 1], b' ' | b']' | b':');
    // Only the places where "IN=" or "OUT=" occur are candidates (a substring search,
    // not a prefix test at every byte): the first at a field boundary wins.
    let first = |key: &str| {
        s.match_indices(key)
            .map(|(i, _)| i)
            .find(|&i| at_boundary(i))
    };
    match (first("IN="), first("OUT=")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(super) fn parse_iptables(
    s: &str,
    e: &mut Event,
    _ctx: &Context<'_>,
) -> Result<(), FormatError> {
    let start = kv_start(s).ok_or_else(|| FormatError::new(IPTABLES, "no IN=/OUT= fields"))?;
    set_class(e, IPTABLES, "event", &["network"], &[]);

    let mut prefix = s[..start].trim();
    // The kernel's uptime stamp: `[16571.459614] `.
    if let Some(rest) = prefix.strip_prefix('[')
        && let Some((stamp, after)) = rest.split_once(']')
        && !stamp.trim().is_empty()
        && stamp
            .trim()
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
    {
        prefix = after.trim();
    }
    let prefix = prefix
        .trim_start_matches('[')
        .trim_end_matches([':', ']', ' '])
        .trim();
    // A sender that put the prefix where the tag goes (`Jan 8 03:37:09 DENY: IN=...`).
    let app = e
        .get_str(field::LOG_SYSLOG_APPNAME)
        .filter(|a| !a.eq_ignore_ascii_case("kernel"));
    let rule = if prefix.is_empty() {
        app.map(str::to_owned)
    } else {
        Some(prefix.to_owned())
    };
    if let Some(rule) = rule {
        set_verdict(e, netfilter_verdict(&rule));
        e.set(field::RULE_NAME, rule);
    } else {
        set_verdict(e, None);
    }

    let (mut tcp_flags, mut frag_flags) = (Vec::new(), Vec::new());
    let (mut inside, mut outside) = (false, false);
    for word in s[start..].split(' ') {
        // `[SRC=... ]` after an ICMP error quotes the offending packet: not this one.
        if word.starts_with('[') {
            break;
        }
        let Some((key, value)) = word.split_once('=') else {
            match word {
                "" => {}
                "DF" | "MF" | "CE" => frag_flags.push(Value::from(word)),
                _ => tcp_flags.push(Value::from(word)),
            }
            continue;
        };
        match key {
            "IN" if !value.is_empty() => {
                inside = true;
                e.set(field::OBSERVER_INGRESS_INTERFACE_NAME, value);
            }
            "OUT" if !value.is_empty() => {
                outside = true;
                e.set(field::OBSERVER_EGRESS_INTERFACE_NAME, value);
            }
            "IN" | "OUT" => {}
            "MAC" => {
                let octets: Vec<&str> = value.split(':').collect();
                if octets.len() >= 12 {
                    e.set(field::DESTINATION_MAC, ecs_mac(&octets[..6]));
                    e.set(field::SOURCE_MAC, ecs_mac(&octets[6..12]));
                }
            }
            "SRC" => {
                set_network_type(e, value);
                set_address(e, field::SOURCE_IP, "iptables.source", value);
            }
            "DST" => set_address(e, field::DESTINATION_IP, "iptables.destination", value),
            "SPT" => set_int(e, field::SOURCE_PORT, value),
            "DPT" => set_int(e, field::DESTINATION_PORT, value),
            "PROTO" => e.set(field::NETWORK_TRANSPORT, transport(value)),
            _ => {
                let name = format!("{IPTABLES_PREFIX}.{}", key.to_ascii_lowercase());
                // The first of a repeated key (`LEN=` of IP, then of UDP) is the packet's.
                if e.get(&name).is_none() {
                    match value.parse::<i64>() {
                        Ok(n) => e.set(name, n),
                        Err(_) => e.set(name, value),
                    }
                }
            }
        }
    }
    if !tcp_flags.is_empty() {
        e.set(IPTABLES_TCP_FLAGS, Value::list(tcp_flags));
    }
    if !frag_flags.is_empty() {
        e.set(IPTABLES_FRAGMENT_FLAGS, Value::list(frag_flags));
    }
    match (inside, outside) {
        (true, false) => e.set(field::NETWORK_DIRECTION, "ingress"),
        (false, true) => e.set(field::NETWORK_DIRECTION, "egress"),
        _ => {}
    }
    Ok(())
}

/// The verdict a log prefix names, if any: `DROP`, `[UFW BLOCK]`, EdgeOS's `-D`/`-A`/`-R`
/// rule suffixes.
fn netfilter_verdict(prefix: &str) -> Option<Verdict> {
    let upper = prefix.to_ascii_uppercase();
    let has = |w: &str| upper.contains(w);
    if has("REJECT") {
        Some(Verdict::Reject)
    } else if has("DROP") {
        Some(Verdict::Drop)
    } else if has("BLOCK") || has("DENY") {
        Some(Verdict::Deny)
    } else if has("ACCEPT") || has("ALLOW") || has("PASS") {
        Some(Verdict::Allow)
    } else if upper.ends_with("-D") {
        Some(Verdict::Drop)
    } else if upper.ends_with("-R") {
        Some(Verdict::Reject)
    } else if upper.ends_with("-A") {
        Some(Verdict::Allow)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// pfSense / OPNsense filterlog CSV.

pub(super) fn filterlog_applies(app: Option<&str>, msg: &str) -> bool {
    app.is_some_and(|a| a.eq_ignore_ascii_case("filterlog")) && msg.contains(',')
}

pub(super) fn parse_filterlog(
    s: &str,
    e: &mut Event,
    _ctx: &Context<'_>,
) -> Result<(), FormatError> {
    filterlog(s, e).map_err(|r| FormatError::new(FILTERLOG, r))
}

/// The CSV layout of pfSense's `filterlog` (docs.netgate.com, "Raw Filter Log Format"):
/// common fields, then IPv4 or IPv6 fields, then the protocol's.
fn filterlog(s: &str, e: &mut Event) -> Result<(), String> {
    let f: Vec<&str> = s.trim().split(',').collect();
    if f.len() < 9 {
        return Err(format!("{} fields, expected at least 9", f.len()));
    }
    let get = |i: usize| f.get(i).copied().unwrap_or("");
    let (ip_fields, proto_start) = match get(8) {
        "4" => (
            ["tos", "ecn", "ttl", "id", "offset", "flags"].as_slice(),
            20,
        ),
        "6" => (["class", "flow_label", "hop_limit"].as_slice(), 17),
        other => return Err(format!("ip version {other:?}")),
    };
    if f.len() < proto_start {
        return Err(format!("{} fields, too few for IPv{}", f.len(), get(8)));
    }
    let (proto_text, proto_id, length, src, dst) = if get(8) == "4" {
        (get(16), get(15), get(17), get(18), get(19))
    } else {
        (get(12), get(13), get(14), get(15), get(16))
    };

    set_class(e, FILTERLOG, "event", &["network"], &[]);
    // OPNsense writes a rule hash or UUID where pfSense writes a numeric tracker.
    let tracker = get(3);
    if tracker.len() >= 32 && tracker.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        set_observer(e, "Deciso", "OPNsense");
    } else {
        set_observer(e, "Netgate", "pfSense");
    }
    let pf = |name: &str| format!("{FILTERLOG}.{name}");
    for (i, name) in ["rule_number", "sub_rule", "anchor"].iter().enumerate() {
        set_text_or_int(e, pf(name), get(i));
    }
    if !tracker.is_empty() {
        e.set(field::RULE_ID, tracker);
    }
    let direction = get(7);
    let iface = get(4);
    if !iface.is_empty() {
        let name = if direction == "out" {
            field::OBSERVER_EGRESS_INTERFACE_NAME
        } else {
            field::OBSERVER_INGRESS_INTERFACE_NAME
        };
        e.set(name, iface);
    }
    set_text_or_int(e, pf("reason"), get(5));
    let verdict = match get(6) {
        "pass" => Some(Verdict::Allow),
        // pf's default block policy drops without answering.
        "block" => Some(Verdict::Drop),
        "reject" => Some(Verdict::Reject),
        _ => None,
    };
    set_verdict(e, verdict);
    match direction {
        "in" => e.set(field::NETWORK_DIRECTION, "ingress"),
        "out" => e.set(field::NETWORK_DIRECTION, "egress"),
        _ => {}
    }
    e.set(
        field::NETWORK_TYPE,
        if get(8) == "4" { "ipv4" } else { "ipv6" },
    );
    for (i, name) in ip_fields.iter().enumerate() {
        set_text_or_int(e, pf(name), get(9 + i));
    }
    let transport = transport(proto_text);
    if !transport.is_empty() {
        e.set(field::NETWORK_TRANSPORT, transport.as_str());
    }
    if !proto_id.is_empty() {
        e.set(field::NETWORK_IANA_NUMBER, proto_id);
    }
    set_text_or_int(e, pf("length"), length);
    set_address(e, field::SOURCE_IP, pf("source"), src);
    set_address(e, field::DESTINATION_IP, pf("destination"), dst);

    let rest = &f[proto_start.min(f.len())..];
    let proto_fields: &[&str] = match transport.as_str() {
        "tcp" => &[
            "",
            "",
            "data_length",
            "tcp.flags",
            "tcp.seq",
            "tcp.ack",
            "tcp.window",
            "tcp.urg",
            "tcp.options",
        ],
        "udp" => &["", "", "data_length"],
        // Echo request/reply carry id and sequence; other ICMP types vary and are kept
        // by position.
        "icmp" if matches!(rest.first().copied(), Some("request" | "reply")) => {
            &["icmp.type", "icmp.id", "icmp.seq"]
        }
        "icmp" => &["icmp.type"],
        "carp" => &[
            "carp.type",
            "carp.ttl",
            "carp.vhid",
            "carp.version",
            "carp.advbase",
            "carp.advskew",
        ],
        _ => &[],
    };
    if matches!(transport.as_str(), "tcp" | "udp") {
        set_int(e, field::SOURCE_PORT, rest.first().copied().unwrap_or(""));
        set_int(
            e,
            field::DESTINATION_PORT,
            rest.get(1).copied().unwrap_or(""),
        );
    }
    for (i, value) in rest.iter().enumerate() {
        match proto_fields.get(i) {
            Some(&"") => {}
            Some(name) => set_text_or_int(e, pf(name), value),
            // Fields past the known layout (ICMP details, `datalength=8` of other
            // protocols) are kept in order.
            None => set_text_or_int(e, pf(&format!("protocol_data.{i}")), value),
        }
    }
    Ok(())
}

/// An integer when the text is one, else the text; empty text sets nothing.
fn set_text_or_int(e: &mut Event, name: impl IntoName, value: &str) {
    if value.is_empty() {
        return;
    }
    match value.parse::<i64>() {
        Ok(n) => e.set(name, n),
        Err(_) => e.set(name, value),
    }
}

// ---------------------------------------------------------------------------------------
// FortiGate: `date=2025-07-01 time=10:00:00 devname="fw" logid="0000000013" type="traffic"
// ... srcip=1.2.3.4 ...`.

pub(super) fn detect_fortigate(s: &str) -> bool {
    s.starts_with("date=") && s.contains("logid=")
}

/// FortiOS's own format: `date=` first, or `logid=` with `devid=` or `type=`/`subtype=` as
/// whole keys. A FortiGate sending CEF (`FTNTFGTlogid=`) is left to the CEF parser.
pub(super) fn fortigate_applies(_app: Option<&str>, msg: &str) -> bool {
    // Asked of every syslog message that reaches this parser: no allocation here.
    let has_key = |k: &str| {
        msg.match_indices(k).any(|(i, _)| {
            (i == 0 || msg.as_bytes()[i - 1] == b' ')
                && msg.as_bytes().get(i + k.len()) == Some(&b'=')
        })
    };
    detect_fortigate(msg)
        || (!msg.starts_with("CEF:")
            && !msg.starts_with("LEEF:")
            && has_key("logid")
            && (has_key("devid") || (has_key("type") && has_key("subtype"))))
}

pub(super) fn parse_fortigate_record(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    fortigate(s, e, ctx, true).map_err(|r| FormatError::new(FORTIGATE, r))
}

pub(super) fn parse_fortigate_body(
    s: &str,
    e: &mut Event,
    ctx: &Context<'_>,
) -> Result<(), FormatError> {
    fortigate(s, e, ctx, false).map_err(|r| FormatError::new(FORTIGATE_SYSLOG, r))
}

/// `key=value` or `key="value with \"escapes\""`, separated by blanks.
fn kv_pair(s: &str) -> IResult<&str, (&str, Cow<'_, str>)> {
    let (s, _) = space0(s)?;
    let (s, key) =
        take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
            .parse(s)?;
    let (s, _) = char('=').parse(s)?;
    if s.starts_with('"') {
        let (s, inner) = quoted_raw(s)?;
        Ok((s, (key, unescape(inner))))
    } else {
        let (s, value) = take_till(|c: char| c == ' ' || c == '\t').parse(s)?;
        Ok((s, (key, Cow::Borrowed(value))))
    }
}

/// A double-quoted string with backslash escapes; its inner text as written.
fn quoted_raw(s: &str) -> IResult<&str, &str> {
    let (rest, _) = char('"').parse(s)?;
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Ok((&rest[i + 1..], &rest[..i])),
            _ => i += 1,
        }
    }
    Err(nom::Err::Error(nom::error::Error::new(
        s,
        nom::error::ErrorKind::Char,
    )))
}

fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('\\') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(next @ ('"' | '\\')) => out.push(next),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn fortigate(s: &str, e: &mut Event, ctx: &Context<'_>, whole_record: bool) -> Result<(), String> {
    let mut pairs = Vec::with_capacity(48);
    let mut rest = s;
    while !rest.trim().is_empty() {
        match kv_pair(rest) {
            Ok((after, pair)) => {
                pairs.push(pair);
                rest = after;
            }
            Err(_) => break,
        }
    }
    let trailing = rest.trim();
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty() && *v != "N/A")
    };
    if get("logid").is_none() {
        return Err("no logid".to_owned());
    }

    // Time: `date` and `time` on the device's clock, `tz` when FortiOS writes it.
    let local = get("date").zip(get("time")).and_then(|(d, t)| {
        Some(
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()?
                .and_time(NaiveTime::parse_from_str(t, "%H:%M:%S").ok()?),
        )
    });
    let offset = get("tz").and_then(parse_offset);
    match (local, offset) {
        (Some(naive), Some(offset)) => {
            if let Some(t) = naive.and_local_timezone(offset).single() {
                set_time(e, RecordTime::Zoned(t), ctx);
            }
        }
        // Without a zone, a syslog header that had one knows better.
        (Some(naive), None) if whole_record || !header_time_zoned(e) => {
            set_time(e, RecordTime::Local(naive), ctx);
        }
        (None, _) if whole_record => set_time(e, RecordTime::Absent, ctx),
        _ => {}
    }

    let kind = get("type").unwrap_or("");
    let subtype = get("subtype").unwrap_or("");
    let action = get("action");
    set_observer(e, "Fortinet", "FortiGate");
    e.set(field::EVENT_DATASET, FORTIGATE);
    classify_fortigate(e, kind, subtype, action, get("status"), get("logdesc"));

    let has_src = get("srcip").is_some();
    let has_dst = get("dstip").is_some();
    let nat = get("trandisp").unwrap_or("");
    let mut level_set = false;
    for (key, value) in &pairs {
        let v = value.as_ref();
        if v.is_empty() || v == "N/A" {
            continue;
        }
        let ecs = match *key {
            "date" | "time" | "tz" | "type" | "subtype" | "action" | "status" => None,
            "devname" => Some(field::OBSERVER_NAME),
            "devid" => Some(field::OBSERVER_SERIAL_NUMBER),
            "logid" => Some(field::EVENT_CODE),
            "srcip" => {
                set_network_type(e, v);
                set_address(e, field::SOURCE_IP, "fortinet.firewall.srcip", v);
                continue;
            }
            "dstip" => {
                set_address(e, field::DESTINATION_IP, "fortinet.firewall.dstip", v);
                continue;
            }
            "remip" if !has_src => {
                set_address(e, field::SOURCE_IP, "fortinet.firewall.remip", v);
                continue;
            }
            "locip" if !has_dst => {
                set_address(e, field::DESTINATION_IP, "fortinet.firewall.locip", v);
                continue;
            }
            "srcport" => Some(field::SOURCE_PORT),
            "dstport" => Some(field::DESTINATION_PORT),
            "remport" if !has_src => Some(field::SOURCE_PORT),
            "locport" if !has_dst => Some(field::DESTINATION_PORT),
            "srcintf" => Some(field::OBSERVER_INGRESS_INTERFACE_NAME),
            "dstintf" => Some(field::OBSERVER_EGRESS_INTERFACE_NAME),
            "tranip" if nat.contains("dnat") => Some(field::DESTINATION_NAT_IP),
            "tranport" if nat.contains("dnat") => Some(field::DESTINATION_NAT_PORT),
            "tranip" => Some(field::SOURCE_NAT_IP),
            "tranport" => Some(field::SOURCE_NAT_PORT),
            "srcmac" => {
                e.set(field::SOURCE_MAC, v.replace(':', "-").to_ascii_uppercase());
                continue;
            }
            "dstmac" => {
                e.set(
                    field::DESTINATION_MAC,
                    v.replace(':', "-").to_ascii_uppercase(),
                );
                continue;
            }
            "proto" => {
                e.set(field::NETWORK_IANA_NUMBER, v);
                e.set(field::NETWORK_TRANSPORT, transport(v));
                continue;
            }
            "service" => {
                e.set(field::NETWORK_PROTOCOL, v.to_ascii_lowercase());
                continue;
            }
            "policyid" => Some(field::RULE_ID),
            "policyname" => Some(field::RULE_NAME),
            "poluuid" => Some(field::RULE_UUID),
            "attack" => Some(field::RULE_NAME),
            "user" | "unauthuser" => Some(field::USER_NAME),
            "group" => Some(field::GROUP_NAME),
            "sentbyte" => Some(field::SOURCE_BYTES),
            "rcvdbyte" => Some(field::DESTINATION_BYTES),
            "sentpkt" => Some(field::SOURCE_PACKETS),
            "rcvdpkt" => Some(field::DESTINATION_PACKETS),
            "srccountry" if v != "Reserved" => Some(field::SOURCE_GEO_COUNTRY_NAME),
            "dstcountry" if v != "Reserved" => Some(field::DESTINATION_GEO_COUNTRY_NAME),
            "duration" => {
                if let Ok(secs) = v.parse::<f64>() {
                    e.set(field::EVENT_DURATION, seconds_to_nanos(secs));
                }
                continue;
            }
            "direction" => {
                match v {
                    "outgoing" => e.set(field::NETWORK_DIRECTION, "outbound"),
                    "incoming" => e.set(field::NETWORK_DIRECTION, "inbound"),
                    _ => {}
                }
                None
            }
            "hostname" => Some(field::URL_DOMAIN),
            "url" => {
                if v.starts_with('/') {
                    e.set(field::URL_ORIGINAL, v);
                    e.set(field::URL_PATH, v.split('?').next().unwrap_or(v));
                } else {
                    set_url(e, v);
                }
                continue;
            }
            "level" => {
                set_level(e, v);
                level_set = true;
                continue;
            }
            "severity" if kind == "utm" => {
                if let Some(sev) = threat_severity(v) {
                    e.set(field::EVENT_SEVERITY, sev.code());
                }
                None
            }
            _ => None,
        };
        match ecs {
            Some(name) if is_numeric_field(name) => set_int(e, name, v),
            Some(name) => e.set(name, v),
            None => e.set(format!("{FORTINET_PREFIX}.{key}"), v),
        }
    }
    // A threat's own severity outranks the log level's.
    if level_set
        && kind == "utm"
        && let Some(sev) = get("severity").and_then(threat_severity)
    {
        e.set(field::EVENT_SEVERITY, sev.code());
    }
    if !trailing.is_empty() {
        e.set(format!("{FORTINET_PREFIX}.unparsed"), trailing);
    }
    Ok(())
}

fn is_numeric_field(name: &str) -> bool {
    [
        field::SOURCE_PORT,
        field::DESTINATION_PORT,
        field::SOURCE_NAT_PORT,
        field::DESTINATION_NAT_PORT,
        field::SOURCE_BYTES,
        field::DESTINATION_BYTES,
        field::SOURCE_PACKETS,
        field::DESTINATION_PACKETS,
    ]
    .contains(&name)
}

/// Whether the syslog header gave the event a time with its own zone.
fn header_time_zoned(e: &Event) -> bool {
    !e.has_tag(tag::ZONE_FROM_INPUT) && !e.has_tag(tag::TIME_FROM_RECEIPT)
}

/// `-0800`, `+07:00`, `GMT+7`? Only the numeric forms are trusted.
fn parse_offset(s: &str) -> Option<chrono::FixedOffset> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|d| d.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[..2].parse().ok()?;
    let minutes: i32 = digits[2..].parse().ok()?;
    chrono::FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn threat_severity(s: &str) -> Option<Severity> {
    match s.to_ascii_lowercase().as_str() {
        "critical" => Some(Severity::Critical),
        "high" => Some(Severity::High),
        "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "info" | "information" | "informational" => Some(Severity::Informational),
        _ => None,
    }
}

/// Kind, category, type and outcome from FortiGate's `type`/`subtype`/`action`.
fn classify_fortigate(
    e: &mut Event,
    kind: &str,
    subtype: &str,
    action: Option<&str>,
    status: Option<&str>,
    logdesc: Option<&str>,
) {
    if let Some(a) = action {
        e.set(field::EVENT_ACTION, a);
    }
    let denied = action.is_some_and(|a| {
        matches!(
            a,
            "deny"
                | "block"
                | "blocked"
                | "dropped"
                | "drop"
                | "reject"
                | "reset"
                | "clear_session"
        )
    });
    match kind {
        "traffic" => {
            e.set(field::EVENT_KIND, "event");
            set_words(e, field::EVENT_CATEGORY, &["network"]);
            let end = action
                .is_some_and(|a| matches!(a, "close" | "timeout" | "server-rst" | "client-rst"));
            set_allowed(e, !denied, if end { &["end"] } else { &[] });
        }
        "utm" => {
            let (alert, category): (bool, &[&str]) = match subtype {
                "ips" | "anomaly" => (true, &["network", "intrusion_detection"]),
                "virus" => (true, &["network", "malware"]),
                "webfilter" => (false, &["network", "web"]),
                "dlp" => (false, &["network", "file"]),
                _ => (false, &["network"]),
            };
            e.set(field::EVENT_KIND, if alert { "alert" } else { "event" });
            set_words(e, field::EVENT_CATEGORY, category);
            set_allowed(e, !denied, &[]);
        }
        _ => {
            e.set(field::EVENT_KIND, "event");
            let login = action.is_some_and(|a| a.contains("login") || a == "authentication")
                || logdesc.is_some_and(|d| d.to_ascii_lowercase().contains("login"));
            let failed = status.is_some_and(|s| s.starts_with("fail"))
                || action.is_some_and(|a| a.contains("fail"));
            if login || subtype == "user" {
                set_words(e, field::EVENT_CATEGORY, &["authentication"]);
                set_words(e, field::EVENT_TYPE, &["start"]);
            } else if subtype == "vpn" {
                set_words(e, field::EVENT_CATEGORY, &["network"]);
            }
            if failed {
                e.set(field::EVENT_OUTCOME, "failure");
            } else if status == Some("success") {
                e.set(field::EVENT_OUTCOME, "success");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cisco ASA / FTD: `%ASA-4-106023: Deny tcp src dmz:10.1.2.30/63016 dst ...`.

pub(super) fn asa_applies(_app: Option<&str>, msg: &str) -> bool {
    asa_start(msg).is_some()
}

fn asa_start(msg: &str) -> Option<usize> {
    let head = msg.get(..msg.len().min(MAX_ASA_OFFSET + 5)).unwrap_or(msg);
    head.locate("%ASA-").or_else(|| head.locate("%FTD-"))
}

/// `%ASA-[facility-]sev-msgid[:]`.
struct AsaHeader<'a> {
    product: &'static str,
    facility: Option<&'a str>,
    severity: u8,
    id: &'a str,
}

fn asa_header(s: &str) -> Option<(AsaHeader<'_>, &str)> {
    let product = if s.starts_with("%ASA-") { "ASA" } else { "FTD" };
    let rest = &s[5..];
    let end = rest.find([':', ' ']).unwrap_or(rest.len());
    let (mnemonic, after) = rest.split_at(end);
    let mut parts = mnemonic.rsplitn(3, '-');
    let id = parts.next()?;
    let severity: u8 = parts.next()?.parse().ok()?;
    let facility = parts.next();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || severity > 7 {
        return None;
    }
    let text = after.strip_prefix(':').unwrap_or(after).trim();
    Some((
        AsaHeader {
            product,
            facility,
            severity,
            id,
        },
        text,
    ))
}

pub(super) fn parse_asa(s: &str, e: &mut Event, _ctx: &Context<'_>) -> Result<(), FormatError> {
    let start = asa_start(s).ok_or_else(|| FormatError::new(CISCO_ASA, "no %ASA- mnemonic"))?;
    let (header, text) = asa_header(&s[start..])
        .ok_or_else(|| FormatError::new(CISCO_ASA, "malformed %ASA-sev-id mnemonic"))?;
    set_observer(e, "Cisco", header.product);
    e.set(field::EVENT_DATASET, CISCO_ASA);
    e.set(field::EVENT_KIND, "event");
    e.set(field::EVENT_CODE, header.id);
    if let Some(facility) = header.facility {
        e.set(ASA_FACILITY, facility);
    }
    const LEVELS: [&str; 8] = [
        "emergencies",
        "alerts",
        "critical",
        "errors",
        "warnings",
        "notifications",
        "informational",
        "debugging",
    ];
    e.set(field::LOG_LEVEL, LEVELS[usize::from(header.severity)]);
    e.set(
        field::EVENT_SEVERITY,
        Severity::from_syslog(header.severity).code(),
    );
    if asa_message(header.id, text, e).is_none() {
        // An id we do not know, or a text its grammar does not fit: the header fields
        // and the text are still worth having.
        e.set(ASA_MESSAGE, text);
    }
    Ok(())
}

type Res<'a, T> = IResult<&'a str, T>;

/// Runs a nom parser with nom's default error type; `None` when it does not match.
fn run<'a, O>(
    mut p: impl Parser<&'a str, Output = O, Error = nom::error::Error<&'a str>>,
    s: &'a str,
) -> Option<(&'a str, O)> {
    p.parse(s).ok()
}

/// One side of a connection as ASA writes it.
#[derive(Debug, Default, Clone, Copy)]
struct Endpoint<'a> {
    iface: Option<&'a str>,
    addr: &'a str,
    port: Option<&'a str>,
    mapped_addr: Option<&'a str>,
    mapped_port: Option<&'a str>,
    user: Option<&'a str>,
}

/// `addr[/port]` (no interface), stopping before `(`, `,` or a blank.
fn addr_port(s: &str) -> Res<'_, Endpoint<'_>> {
    let (s, token) = take_till(|c: char| c == ' ' || c == '(' || c == ',').parse(s)?;
    if token.is_empty() {
        return Err(nom::Err::Error(nom::error::Error::new(
            s,
            nom::error::ErrorKind::TakeTill1,
        )));
    }
    let (addr, port) = match token.rsplit_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (token, None),
    };
    Ok((
        s,
        Endpoint {
            addr,
            port,
            ..Endpoint::default()
        },
    ))
}

/// `iface:addr[/port]`.
fn iface_addr_port(s: &str) -> Res<'_, Endpoint<'_>> {
    let (s, iface) = take_till(|c: char| c == ':' || c == ' ').parse(s)?;
    let (s, _) = char(':').parse(s)?;
    let (s, mut ep) = addr_port(s)?;
    ep.iface = Some(iface);
    Ok((s, ep))
}

/// `(mapped/port)` and `(DOMAIN\user)` groups after an endpoint, glued or spaced.
fn decorations<'a>(mut s: &'a str, ep: &mut Endpoint<'a>) -> &'a str {
    loop {
        let trimmed = s.trim_start();
        let Ok((after, inner)) = delimited(
            char::<&str, nom::error::Error<&str>>('('),
            take_until(")"),
            char(')'),
        )
        .parse(trimmed) else {
            return s;
        };
        // `(type 3, code 3)` belongs to the message, not the endpoint.
        if inner.starts_with("type ") || inner == "no connection" {
            return s;
        }
        match inner.rsplit_once('/') {
            Some((a, p))
                if a.parse::<IpAddr>().is_ok()
                    || !a.contains(' ')
                        && p.bytes().all(|b| b.is_ascii_digit())
                        && !a.contains('\\') =>
            {
                ep.mapped_addr = Some(a);
                ep.mapped_port = Some(p);
            }
            _ => {
                if ep.user.is_none() {
                    ep.user = Some(inner);
                }
            }
        }
        s = after;
    }
}

fn endpoint_with_iface(s: &str) -> Res<'_, Endpoint<'_>> {
    let (s, mut ep) = iface_addr_port(s)?;
    let s = decorations(s, &mut ep);
    Ok((s, ep))
}

fn endpoint_bare(s: &str) -> Res<'_, Endpoint<'_>> {
    let (s, mut ep) = addr_port(s)?;
    let s = decorations(s, &mut ep);
    Ok((s, ep))
}

/// Source and destination, their interfaces, NAT and user.
fn set_endpoints(e: &mut Event, src: &Endpoint<'_>, dst: &Endpoint<'_>) {
    set_endpoint(
        e,
        src,
        field::SOURCE_IP,
        field::SOURCE_PORT,
        field::SOURCE_NAT_IP,
        field::SOURCE_NAT_PORT,
        ASA_SOURCE_ADDRESS,
    );
    set_endpoint(
        e,
        dst,
        field::DESTINATION_IP,
        field::DESTINATION_PORT,
        field::DESTINATION_NAT_IP,
        field::DESTINATION_NAT_PORT,
        ASA_DESTINATION_ADDRESS,
    );
    set_network_type(e, src.addr);
    if let Some(i) = src.iface {
        e.set(field::OBSERVER_INGRESS_INTERFACE_NAME, i);
    }
    if let Some(i) = dst.iface {
        e.set(field::OBSERVER_EGRESS_INTERFACE_NAME, i);
    }
    if let Some(user) = src.user.or(dst.user) {
        set_asa_user(e, user);
    }
}

fn set_endpoint(
    e: &mut Event,
    ep: &Endpoint<'_>,
    ip: &'static str,
    port: &'static str,
    nat_ip: &'static str,
    nat_port: &'static str,
    name_field: &'static str,
) {
    set_address(e, ip, name_field, ep.addr);
    if let Some(p) = ep.port {
        set_int(e, port, p);
    }
    // A mapped pair that differs in address or port is a translation: keep both halves.
    if let (Some(m), mp) = (ep.mapped_addr, ep.mapped_port)
        && (m != ep.addr || mp != ep.port)
    {
        if let Ok(m) = m.parse::<IpAddr>() {
            e.set(nat_ip, m);
        }
        if let Some(mp) = mp {
            set_int(e, nat_port, mp);
        }
    }
}

/// `LOCAL\user`, `domain\user` or `user@domain`.
fn set_asa_user(e: &mut Event, user: &str) {
    let user = user.trim();
    if user.is_empty() {
        return;
    }
    // `LOCAL\` is the ASA's own realm; a directory domain may follow it.
    let user = match user.strip_prefix("LOCAL\\") {
        Some(rest) if rest.contains('\\') => rest,
        _ => user,
    };
    match user.rsplit_once('\\') {
        Some((domain, name)) => {
            e.set(field::USER_NAME, name);
            e.set(field::USER_DOMAIN, domain);
        }
        None => e.set(field::USER_NAME, user),
    }
}

fn set_network(e: &mut Event, types: &[&'static str]) {
    set_words(e, field::EVENT_CATEGORY, &["network"]);
    set_words(e, field::EVENT_TYPE, types);
}

fn deny(e: &mut Event, proto: &str) {
    set_words(e, field::EVENT_CATEGORY, &["network"]);
    e.set(field::EVENT_ACTION, Verdict::Deny.action());
    set_allowed(e, false, &[]);
    // `IP` names no transport.
    if !proto.eq_ignore_ascii_case("ip") {
        e.set(field::NETWORK_TRANSPORT, transport(proto));
    }
}

/// The known message ids; `None` when the id is unknown or its text does not fit.
fn asa_message(id: &str, text: &str, e: &mut Event) -> Option<()> {
    match id {
        // Inbound TCP connection denied from 1.2.3.4/1 to 5.6.7.8/2 flags SYN on interface outside
        "106001" => {
            let (s, (_, src, _, dst)) = run(
                (
                    literal("Inbound TCP connection denied from "),
                    endpoint_bare,
                    literal(" to "),
                    endpoint_bare,
                ),
                text,
            )?;
            deny(e, "tcp");
            set_endpoints(e, &src, &dst);
            flags_and_iface(e, s);
        }
        // Deny inbound UDP from 1.2.3.4/1 to 5.6.7.8/2 on interface inside | due to DNS Query
        "106006" | "106007" => {
            let (s, (_, proto, _, src, _, dst)) = run(
                (
                    literal("Deny inbound "),
                    take_while1(|c: char| c.is_ascii_alphanumeric()),
                    literal(" from "),
                    endpoint_bare,
                    literal(" to "),
                    endpoint_bare,
                ),
                text,
            )?;
            deny(e, proto);
            set_endpoints(e, &src, &dst);
            flags_and_iface(e, s);
        }
        // Deny inbound icmp src outside:1.2.3.4 dst inside:5.6.7.8 (type 8, code 0)
        "106014" => {
            let (s, (_, src, _, dst)) = run(
                (
                    literal("Deny inbound icmp src "),
                    endpoint_with_iface,
                    literal(" dst "),
                    endpoint_with_iface,
                ),
                text,
            )?;
            deny(e, "icmp");
            set_endpoints(e, &src, &dst);
            icmp_type_code(e, s);
        }
        // Deny IP spoof from (0.0.0.0) to 192.168.99.47 on interface outside
        "106016" => {
            let (s, (_, src, _, dst)) = run(
                (
                    literal("Deny IP spoof from ("),
                    take_until(")"),
                    literal(") to "),
                    take_till(|c: char| c == ' '),
                ),
                text,
            )?;
            deny(e, "ip");
            set_address(e, field::SOURCE_IP, ASA_SOURCE_ADDRESS, src);
            set_address(e, field::DESTINATION_IP, ASA_DESTINATION_ADDRESS, dst);
            flags_and_iface(e, s);
        }
        // Denied ICMP type=3, code=3 from 10.2.3.5 on interface Outside
        "313001" => {
            let (s, (_, _, _, src)) = run(
                (
                    literal("Denied ICMP type="),
                    take_until(" from "),
                    literal(" from "),
                    take_till(|c: char| c == ' '),
                ),
                text,
            )?;
            deny(e, "icmp");
            set_address(e, field::SOURCE_IP, ASA_SOURCE_ADDRESS, src);
            icmp_type_code(e, &text.replace('=', " "));
            flags_and_iface(e, s);
        }
        // Deny TCP (no connection) from 1.2.3.4/1 to 5.6.7.8/2 flags RST on interface outside
        "106015" => {
            let (s, (_, src, _, dst)) = run(
                (
                    literal("Deny TCP (no connection) from "),
                    endpoint_bare,
                    literal(" to "),
                    endpoint_bare,
                ),
                text,
            )?;
            deny(e, "tcp");
            set_endpoints(e, &src, &dst);
            flags_and_iface(e, s);
        }
        // Deny tcp src dmz:1.2.3.4/1 dst outside:5.6.7.8/2 [type 3, code 0,] by access-group "acl" [...]
        "106023" => {
            let (s, (_, proto, _, src, _, dst)) = run(
                (
                    literal("Deny "),
                    take_while1(|c: char| c.is_ascii_alphanumeric()),
                    literal(" src "),
                    endpoint_with_iface,
                    literal(" dst "),
                    endpoint_with_iface,
                ),
                text,
            )?;
            deny(e, proto);
            set_endpoints(e, &src, &dst);
            icmp_type_code(e, s);
            if let Some((_, acl)) = s.cut("access-group \"")
                && let Some((acl, _)) = acl.split_once('"')
            {
                e.set(field::RULE_NAME, acl);
            }
        }
        // access-list acl permitted tcp inside/1.2.3.4(1) -> outside/5.6.7.8(2) hit-cnt 1 ...
        "106100" => {
            let word = || take_while1(|c: char| c != ' ');
            let (s, (_, acl, _, verdict, _, proto, _)) = run(
                (
                    literal("access-list "),
                    word(),
                    space1,
                    word(),
                    space1,
                    word(),
                    space1,
                ),
                text,
            )?;
            let (s, src) = acl_endpoint(s).ok()?;
            let (_, (_, dst)) = run((delimited(space0, literal("->"), space0), acl_endpoint), s)?;
            set_words(e, field::EVENT_CATEGORY, &["network"]);
            let allowed = verdict != "denied";
            e.set(
                field::EVENT_ACTION,
                if allowed {
                    Verdict::Allow.action()
                } else {
                    Verdict::Deny.action()
                },
            );
            set_allowed(e, allowed, &[]);
            e.set(field::NETWORK_TRANSPORT, transport(proto));
            e.set(field::RULE_NAME, acl);
            set_endpoints(e, &src, &dst);
        }
        // TCP access denied by ACL from 1.2.3.4/1 to outside:5.6.7.8/ssh
        "710003" => {
            let (_, (proto, _, src, _, dst)) = run(
                (
                    take_while1(|c: char| c.is_ascii_alphanumeric()),
                    literal(" access denied by ACL from "),
                    endpoint_bare,
                    literal(" to "),
                    endpoint_with_iface,
                ),
                text,
            )?;
            deny(e, proto);
            set_endpoints(e, &src, &dst);
        }
        // [ Scanning] drop rate-1 exceeded. Current burst rate is ...
        "733100" => {
            let (_, (object, _)) = run(
                (
                    delimited(char('['), take_until("]"), char(']')),
                    literal(" drop rate-"),
                ),
                text,
            )?;
            set_words(
                e,
                field::EVENT_CATEGORY,
                &["network", "intrusion_detection"],
            );
            set_words(e, field::EVENT_TYPE, &["info"]);
            e.set(field::EVENT_ACTION, "drop-rate-exceeded");
            e.set(field::RULE_NAME, object.trim());
        }
        // Built inbound TCP connection 1 for outside:1.2.3.4/1 (1.2.3.4/1) to inside:... (...)
        "302013" | "302015" => {
            let (s, (_, direction, _, proto, _, conn, _, first, _, second)) = run(
                (
                    literal("Built "),
                    take_while1(|c: char| c.is_ascii_alphabetic()),
                    char(' '),
                    take_while1(|c: char| c.is_ascii_alphabetic()),
                    literal(" connection "),
                    take_while1(|c: char| c.is_ascii_digit()),
                    literal(" for "),
                    endpoint_with_iface,
                    literal(" to "),
                    endpoint_with_iface,
                ),
                text,
            )?;
            built(e, direction, proto, conn, first, second, s);
        }
        // Teardown TCP connection 1 for outside:1.2.3.4/1 to inside:5.6.7.8/2 duration 0:00:01 bytes 10 TCP FINs
        "302014" | "302016" => {
            let (s, (_, proto, _, conn, _, src, _, dst)) = run(
                (
                    literal("Teardown "),
                    take_while1(|c: char| c.is_ascii_alphabetic()),
                    literal(" connection "),
                    take_while1(|c: char| c.is_ascii_digit()),
                    literal(" for "),
                    endpoint_with_iface,
                    literal(" to "),
                    endpoint_with_iface,
                ),
                text,
            )?;
            teardown(e, proto, conn, &src, &dst, s);
        }
        // Built inbound ICMP connection for faddr 1.2.3.4/0 gaddr 5.6.7.8/0 laddr 5.6.7.8/0 type 3 code 3
        "302020" => {
            let (s, (_, direction, _, faddr, _, _gaddr, _, laddr)) = run(
                (
                    literal("Built "),
                    take_while1(|c: char| c.is_ascii_alphabetic()),
                    literal(" ICMP connection for faddr "),
                    endpoint_bare,
                    literal(" gaddr "),
                    endpoint_bare,
                    literal(" laddr "),
                    endpoint_bare,
                ),
                text,
            )?;
            let (src, dst) = if direction == "outbound" {
                (laddr, faddr)
            } else {
                (faddr, laddr)
            };
            set_network(e, &["connection", "start"]);
            e.set(field::EVENT_ACTION, "flow-creation");
            e.set(field::NETWORK_TRANSPORT, "icmp");
            e.set(
                field::NETWORK_DIRECTION,
                if direction == "outbound" {
                    "outbound"
                } else {
                    "inbound"
                },
            );
            set_endpoints(e, &icmp_endpoint(src), &icmp_endpoint(dst));
            set_trailing_user(e, s);
            icmp_type_code(e, s);
        }
        // Teardown ICMP connection for faddr 1.2.3.4/0 gaddr 5.6.7.8/0 laddr 5.6.7.8/0 [type 0 code 0]
        "302021" => {
            let (s, (_, faddr, _, _gaddr, _, laddr)) = run(
                (
                    literal("Teardown ICMP connection for faddr "),
                    endpoint_bare,
                    literal(" gaddr "),
                    endpoint_bare,
                    literal(" laddr "),
                    endpoint_bare,
                ),
                text,
            )?;
            set_network(e, &["connection", "end"]);
            e.set(field::EVENT_ACTION, "flow-expiration");
            e.set(field::NETWORK_TRANSPORT, "icmp");
            set_endpoints(e, &icmp_endpoint(faddr), &icmp_endpoint(laddr));
            set_trailing_user(e, s);
            icmp_type_code(e, s);
        }
        // AAA user authentication Successful : server = 1.2.3.4 : user = alice
        "113004" | "113005" => {
            let ok = id == "113004";
            set_words(e, field::EVENT_CATEGORY, &["authentication"]);
            set_words(e, field::EVENT_TYPE, &["info"]);
            e.set(field::EVENT_ACTION, "aaa-user-authentication");
            e.set(field::EVENT_OUTCOME, if ok { "success" } else { "failure" });
            let user = eq_value(text, "user")?;
            set_asa_user(e, user);
            if let Some(server) = eq_value(text, "server") {
                set_address(e, field::DESTINATION_IP, "cisco.asa.aaa_server", server);
            }
            if let Some(ip) = eq_value(text, "user IP") {
                set_address(e, field::SOURCE_IP, "cisco.asa.user_ip", ip);
            }
            if let Some(reason) = eq_value(text, "reason") {
                e.set(ASA_REASON, reason);
            }
        }
        // Group = g, Username = u, IP = 1.2.3.4, Session disconnected. Session Type: ...
        "113019" => {
            set_words(e, field::EVENT_CATEGORY, &["network", "session"]);
            set_words(e, field::EVENT_TYPE, &["end"]);
            e.set(field::EVENT_ACTION, "vpn-session-disconnected");
            set_asa_user(e, eq_value(text, "Username")?);
            if let Some(g) = eq_value(text, "Group") {
                e.set(field::GROUP_NAME, g);
            }
            if let Some(ip) = eq_value(text, "IP") {
                set_address(e, field::SOURCE_IP, ASA_PEER, ip);
            }
            if let Some(t) = colon_value(text, "Session Type") {
                e.set(ASA_SESSION_TYPE, t);
            }
            if let Some(d) = colon_value(text, "Duration").and_then(asa_duration) {
                e.set(field::EVENT_DURATION, d);
            }
            if let Some(n) = colon_value(text, "Bytes xmt").and_then(|n| n.parse::<i64>().ok()) {
                e.set(field::SOURCE_BYTES, n);
            }
            if let Some(n) = colon_value(text, "Bytes rcv").and_then(|n| n.parse::<i64>().ok()) {
                e.set(field::DESTINATION_BYTES, n);
            }
            if let Some(r) = colon_value(text, "Reason") {
                e.set(ASA_REASON, r);
            }
        }
        // Group <g> User <u> IP <1.2.3.4> ...: AnyConnect (722xxx) and WebVPN (716xxx).
        "722022" | "722023" | "722051" | "716001" | "716002" => {
            let user = angle_value(text, "User")?;
            set_asa_user(e, user);
            if let Some(g) = angle_value(text, "Group") {
                e.set(field::GROUP_NAME, g);
            }
            if let Some(ip) = angle_value(text, "IP") {
                set_address(e, field::SOURCE_IP, ASA_PEER, ip);
            }
            let (action, end) = match id {
                "722022" => ("vpn-connection-established", false),
                "722023" => ("vpn-connection-terminated", true),
                "722051" => ("vpn-address-assigned", false),
                "716001" => ("webvpn-session-started", false),
                _ => ("webvpn-session-terminated", true),
            };
            set_words(e, field::EVENT_CATEGORY, &["network", "session"]);
            set_words(e, field::EVENT_TYPE, &[if end { "end" } else { "start" }]);
            e.set(field::EVENT_ACTION, action);
            if let Some(a) = angle_value(text, "IPv4 Address") {
                e.set(ASA_ASSIGNED_IP, a);
            }
            if id == "716002"
                && let Some((_, reason)) = text.cut("terminated: ")
            {
                e.set(ASA_REASON, reason.trim_end_matches('.'));
            }
        }
        // DAP: User alice, Addr 1.2.3.4, Connection AnyConnect: The following DAP records ...
        "734001" => {
            let user = text.cut("User ")?.1.split_once(',')?.0;
            set_asa_user(e, user);
            if let Some(addr) = text
                .cut("Addr ")
                .and_then(|(_, r)| r.split_once(','))
                .map(|(a, _)| a)
            {
                set_address(e, field::SOURCE_IP, ASA_PEER, addr);
            }
            if let Some(conn) = text
                .cut("Connection ")
                .and_then(|(_, r)| r.split_once(':'))
                .map(|(c, _)| c)
            {
                e.set(ASA_SESSION_TYPE, conn);
            }
            set_words(e, field::EVENT_CATEGORY, &["network", "session"]);
            set_words(e, field::EVENT_TYPE, &["info"]);
            e.set(field::EVENT_ACTION, "dap-records-selected");
        }
        // Login denied|permitted from 1.2.3.4/1 to inside:5.6.7.8/ssh for user "admin"
        "605004" | "605005" => {
            let ok = id == "605005";
            let (s, (_, _, _, src, _, dst)) = run(
                (
                    literal("Login "),
                    take_while1(|c: char| c.is_ascii_alphabetic()),
                    literal(" from "),
                    endpoint_bare,
                    literal(" to "),
                    endpoint_with_iface,
                ),
                text,
            )?;
            login(e, ok, "login");
            set_address(e, field::SOURCE_IP, ASA_SOURCE_ADDRESS, src.addr);
            if let Some(p) = src.port {
                set_int(e, field::SOURCE_PORT, p);
            }
            set_address(e, field::DESTINATION_IP, ASA_DESTINATION_ADDRESS, dst.addr);
            if let Some(service) = dst.port {
                e.set(field::NETWORK_PROTOCOL, service.to_ascii_lowercase());
            }
            if let Some(i) = dst.iface {
                e.set(field::OBSERVER_INGRESS_INTERFACE_NAME, i);
            }
            if let Some(user) = s
                .cut("for user \"")
                .and_then(|(_, u)| u.split_once('"'))
                .map(|(u, _)| u)
            {
                set_asa_user(e, user);
            }
        }
        // User authentication succeeded|failed: IP address: 1.2.3.4, Uname: admin
        "611101" | "611102" => {
            login(e, id == "611101", "user-authentication");
            let user = colon_value(text, "Uname")?;
            set_asa_user(e, user);
            if let Some(ip) = colon_value(text, "IP address") {
                set_address(e, field::SOURCE_IP, ASA_SOURCE_ADDRESS, ip);
            }
        }
        // User 'admin' executed the 'write memory' command.
        "111008" => {
            let (_, (_, user, _, cmd)) = run(
                (
                    literal("User '"),
                    take_until("'"),
                    literal("' executed the '"),
                    take_until("' command"),
                ),
                text,
            )?;
            command(e, user, cmd);
        }
        // User 'admin', running 'CLI' from IP 1.2.3.4, executed 'show run'
        "111010" => {
            let (_, (_, user, _)) = run((literal("User '"), take_until("'"), char('\'')), text)?;
            let cmd = text.cut("executed '")?.1.trim_end().trim_end_matches('\'');
            command(e, user, cmd);
            if let Some(ip) = text
                .cut("from IP ")
                .and_then(|(_, r)| r.split_once(','))
                .map(|(ip, _)| ip)
            {
                set_address(e, field::SOURCE_IP, ASA_SOURCE_ADDRESS, ip);
            }
        }
        // User priv level changed: Uname: admin From: 1 To: 15
        "502103" => {
            let user = colon_value(text, "Uname")?;
            set_asa_user(e, user);
            set_words(e, field::EVENT_CATEGORY, &["iam"]);
            set_words(e, field::EVENT_TYPE, &["user", "change"]);
            e.set(field::EVENT_ACTION, "privilege-changed");
            if let Some(old) = colon_value(text, "From") {
                set_int(e, ASA_PRIVILEGE_OLD, old);
            }
            if let Some(new) = colon_value(text, "To") {
                set_int(e, ASA_PRIVILEGE_NEW, new);
            }
        }
        _ => return None,
    }
    Some(())
}

/// `iface/addr(port)` of message 106100, with an optional `(user, sg)` group.
fn acl_endpoint(s: &str) -> Res<'_, Endpoint<'_>> {
    let (s, iface) = take_till(|c: char| c == '/' || c == ' ').parse(s)?;
    let (s, _) = char('/').parse(s)?;
    let (s, addr) = take_till(|c: char| c == '(' || c == ' ').parse(s)?;
    let (s, port) = opt(delimited(char('('), take_until(")"), char(')'))).parse(s)?;
    let mut ep = Endpoint {
        iface: Some(iface),
        addr,
        port,
        ..Endpoint::default()
    };
    let s = decorations(s, &mut ep);
    if let Some(user) = ep.user {
        // `(user, sg_info)`: the user is before the comma.
        ep.user = Some(user.split(',').next().unwrap_or(user));
    }
    Ok((s, ep))
}

/// ICMP "ports" are ids or types: keep only the address.
fn icmp_endpoint(ep: Endpoint<'_>) -> Endpoint<'_> {
    Endpoint {
        port: None,
        mapped_port: None,
        ..ep
    }
}

fn built<'a>(
    e: &mut Event,
    direction: &str,
    proto: &str,
    conn: &str,
    first: Endpoint<'a>,
    second: Endpoint<'a>,
    rest: &str,
) {
    // Outbound: the initiator is the `to` side (Cisco names the outside side first).
    let (src, dst) = if direction == "outbound" {
        (second, first)
    } else {
        (first, second)
    };
    set_network(e, &["connection", "start"]);
    e.set(field::EVENT_ACTION, "flow-creation");
    e.set(field::NETWORK_TRANSPORT, transport(proto));
    e.set(
        field::NETWORK_DIRECTION,
        if direction == "outbound" {
            "outbound"
        } else {
            "inbound"
        },
    );
    set_int(e, ASA_CONNECTION_ID, conn);
    set_endpoints(e, &src, &dst);
    set_trailing_user(e, rest);
}

fn teardown(
    e: &mut Event,
    proto: &str,
    conn: &str,
    src: &Endpoint<'_>,
    dst: &Endpoint<'_>,
    rest: &str,
) {
    set_network(e, &["connection", "end"]);
    e.set(field::EVENT_ACTION, "flow-expiration");
    e.set(field::NETWORK_TRANSPORT, transport(proto));
    set_int(e, ASA_CONNECTION_ID, conn);
    set_endpoints(e, src, dst);
    let mut rest = rest.trim();
    if let Some(after) = rest.strip_prefix("duration ") {
        let (d, r) = after.split_once(' ').unwrap_or((after, ""));
        if let Some(ns) = asa_duration(d) {
            e.set(field::EVENT_DURATION, ns);
        }
        rest = r.trim();
    }
    if let Some(after) = rest.strip_prefix("bytes ") {
        let (n, r) = after.split_once(' ').unwrap_or((after, ""));
        set_int(e, field::NETWORK_BYTES, n);
        rest = r.trim();
    }
    // What is left: the reason (`TCP FINs from outside`) and maybe `(user)`.
    let reason = match rest.locate_last(" (") {
        Some(i) if rest.ends_with(')') => &rest[..i],
        _ if rest.starts_with('(') => "",
        _ => rest,
    };
    if !reason.is_empty() {
        e.set(ASA_TERMINATION_REASON, reason);
    }
    set_trailing_user(e, rest);
}

/// A final `(user)` group names the user when the endpoints did not.
fn set_trailing_user(e: &mut Event, rest: &str) {
    if e.get(field::USER_NAME).is_some() {
        return;
    }
    let rest = rest.trim_end();
    if let Some(open) = rest.rfind('(')
        && rest.ends_with(')')
    {
        let inner = &rest[open + 1..rest.len() - 1];
        if !inner.starts_with("type ") && !inner.contains('/') {
            set_asa_user(e, inner);
        }
    }
}

/// `flags SYN on interface outside` / `on interface inside` / `due to DNS Query`.
fn flags_and_iface(e: &mut Event, rest: &str) {
    let rest = rest.trim();
    if let Some(after) = rest.strip_prefix("flags ") {
        let flags = after.split(" on interface").next().unwrap_or(after).trim();
        if !flags.is_empty() {
            e.set(ASA_TCP_FLAGS, flags);
        }
    }
    if let Some((_, iface)) = rest.cut("on interface ") {
        e.set(
            field::OBSERVER_INGRESS_INTERFACE_NAME,
            iface.trim().trim_end_matches('.'),
        );
    }
    if let Some((_, reason)) = rest.cut("due to ") {
        e.set(ASA_REASON, reason.trim().trim_end_matches('.'));
    }
}

/// `type 3, code 3` / `(type 8, code 0)` / `type 3 code 3` wherever it appears.
fn icmp_type_code(e: &mut Event, rest: &str) {
    if let Some((_, after)) = rest.cut("type ") {
        let t: String = after.chars().take_while(char::is_ascii_digit).collect();
        set_int(e, ASA_ICMP_TYPE, &t);
        if let Some((_, after)) = after.cut("code ") {
            let c: String = after.chars().take_while(char::is_ascii_digit).collect();
            set_int(e, ASA_ICMP_CODE, &c);
        }
    }
}

fn login(e: &mut Event, ok: bool, action: &str) {
    set_words(e, field::EVENT_CATEGORY, &["authentication"]);
    set_words(e, field::EVENT_TYPE, &["start"]);
    e.set(field::EVENT_ACTION, action);
    e.set(field::EVENT_OUTCOME, if ok { "success" } else { "failure" });
}

fn command(e: &mut Event, user: &str, cmd: &str) {
    set_asa_user(e, user);
    set_words(e, field::EVENT_CATEGORY, &["configuration"]);
    set_words(e, field::EVENT_TYPE, &["change"]);
    e.set(field::EVENT_ACTION, "command-executed");
    e.set(ASA_COMMAND_LINE, cmd);
}

/// `name = value` up to ` :`, `,` or the end (AAA and IKE messages).
fn eq_value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("{name} = ");
    let mut from = 0;
    // A word boundary before the name: `user = ` must not match inside `user IP = `'s
    // neighbour, nor `IP = ` inside `user IP = `.
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        let boundary = at == 0 || matches!(text.as_bytes()[at - 1], b' ' | b',' | b':');
        let after_user = text[..at].ends_with("user ");
        if boundary && !(after_user && name == "IP") {
            let value = &text[at + needle.len()..];
            let end = value.find([',', ':']).unwrap_or(value.len());
            return Some(value[..end].trim()).filter(|v| !v.is_empty());
        }
        from = at + needle.len();
    }
    None
}

/// `Name: value` up to `,` or the next `Word:` (VPN session summaries, `Uname: x From:`).
fn colon_value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("{name}: ");
    let at = text.find(&needle)?;
    let value = &text[at + needle.len()..];
    let end = value.find(',').unwrap_or(value.len());
    let value = &value[..end];
    // `Uname: admin From: 1 To: 15`: stop before the next `Word:`.
    let value = value
        .split(' ')
        .take_while(|w| !w.ends_with(':'))
        .collect::<Vec<_>>();
    let joined = value.join(" ");
    let v = joined.trim();
    if v.is_empty() {
        return None;
    }
    // Return a slice of `text`: find the joined words where they start.
    let start = text[at + needle.len()..].find(v)? + at + needle.len();
    Some(&text[start..start + v.len()])
}

/// `Name <value>` (AnyConnect and WebVPN messages).
fn angle_value<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!("{name} <");
    let at = text.find(&needle)?;
    let value = &text[at + needle.len()..];
    value
        .split_once('>')
        .map(|(v, _)| v)
        .filter(|v| !v.is_empty())
}

/// `h:mm:ss` or `0h:05m:12s` as nanoseconds.
fn asa_duration(s: &str) -> Option<i64> {
    let parts: Vec<i64> = s
        .split(':')
        .map(|p| p.trim_end_matches(['h', 'm', 's']).parse::<i64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [h, m, sec] = parts.as_slice() else {
        return None;
    };
    Some((h * 3600 + m * 60 + sec).saturating_mul(1_000_000_000))
}

#[cfg(test)]
mod tests {
    use gac_event::Timestamp;

    use super::*;
    use crate::time::TimePolicy;

    fn run(f: super::super::ParseFn, line: &str, app: Option<&str>) -> Event {
        let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
        let received: Timestamp = "2025-07-01T03:00:00Z".parse().unwrap();
        let ctx = Context {
            received,
            policy: &policy,
            app: None,
        };
        let mut e = Event::new(received, received, line);
        if let Some(app) = app {
            e.set(field::LOG_SYSLOG_APPNAME, app);
        }
        f(line, &mut e, &ctx).unwrap();
        e
    }

    fn s<'e>(e: &'e Event, name: &str) -> Option<&'e str> {
        e.get_str(name)
    }

    #[test]
    fn ufw_block() {
        let line = "[12345.678901] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC=203.0.113.7 DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=4242 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0";
        assert!(iptables_applies(Some("kernel"), line));
        let e = run(parse_iptables, line, Some("kernel"));
        assert_eq!(s(&e, field::RULE_NAME), Some("UFW BLOCK"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("deny"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("203.0.113.7"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(22));
        assert_eq!(s(&e, field::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(s(&e, field::NETWORK_DIRECTION), Some("ingress"));
        assert_eq!(s(&e, field::SOURCE_MAC), Some("00-16-3E-DD-EE-FF"));
        assert_eq!(s(&e, field::OBSERVER_INGRESS_INTERFACE_NAME), Some("eth0"));
        assert_eq!(e.get_i64("iptables.ttl"), Some(52));
        assert_eq!(
            e.get(IPTABLES_TCP_FLAGS),
            Some(Value::list(vec![Value::from("SYN")]).as_ref())
        );
        assert!(!iptables_applies(
            Some("kernel"),
            "usb 1-1: new high-speed USB device"
        ));
    }

    #[test]
    fn nftables_prefix_and_icmp_quote() {
        let line = "nft-drop-in: IN=eth0 OUT= SRC=192.0.2.1 DST=192.0.2.2 LEN=88 TTL=118 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=192.0.2.2 DST=198.51.100.1 LEN=60 PROTO=UDP SPT=1 DPT=2 ]";
        let e = run(parse_iptables, line, Some("kernel"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("drop"));
        assert_eq!(s(&e, field::DESTINATION_IP), Some("192.0.2.2"));
        assert_eq!(e.get(field::DESTINATION_PORT), None);
        assert_eq!(e.get_i64("iptables.type"), Some(3));
    }

    #[test]
    fn filterlog_v4_tcp_and_v6_udp() {
        let line = "146,,,1535324496,igb1.12,match,block,in,4,0x0,,63,12617,0,DF,6,tcp,60,10.170.12.50,1.1.1.1,49724,853,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale";
        assert!(filterlog_applies(Some("filterlog"), line));
        let e = run(parse_filterlog, line, Some("filterlog"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("drop"));
        assert_eq!(s(&e, field::RULE_ID), Some("1535324496"));
        assert_eq!(
            s(&e, field::OBSERVER_INGRESS_INTERFACE_NAME),
            Some("igb1.12")
        );
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.170.12.50"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(853));
        assert_eq!(s(&e, "pfsense.filterlog.tcp.flags"), Some("S"));
        assert_eq!(s(&e, field::OBSERVER_PRODUCT), Some("pfSense"));
        let v6 = "6,,,1000000105,igb1.27,match,block,in,6,0x00,0xf6279,1,UDP,17,32,fe80::208:9bff:fef3:652b,ff02::1:2,546,547,32";
        let e = run(parse_filterlog, v6, Some("filterlog"));
        assert_eq!(s(&e, field::NETWORK_TRANSPORT), Some("udp"));
        assert_eq!(s(&e, field::NETWORK_TYPE), Some("ipv6"));
        assert_eq!(e.get_i64(field::SOURCE_PORT), Some(546));
        let policy = TimePolicy::new(chrono_tz::UTC);
        let ctx = Context {
            received: Timestamp::from_secs(0),
            policy: &policy,
            app: None,
        };
        let mut e = Event::new(ctx.received, ctx.received, "");
        assert!(parse_filterlog("1,2,3", &mut e, &ctx).is_err());
        assert!(parse_filterlog("1,,,2,em0,match,pass,in,5,x", &mut e, &ctx).is_err());
    }

    #[test]
    fn fortigate_traffic_record() {
        let line = r#"date=2025-07-01 time=10:00:00 devname="FGT-HN" devid="FG100F0000" eventtime=1751338800000000000 tz="+0700" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.1.1.10 srcport=52000 srcintf="port1" dstip=203.0.113.5 dstport=443 dstintf="wan1" proto=6 action="deny" policyid=7 policyname="block \"bad\"" service="HTTPS" sentbyte=0 rcvdbyte=0 user="nguyenvana""#;
        assert!(detect_fortigate(line));
        let e = run(parse_fortigate_record, line, None);
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00Z");
        assert_eq!(s(&e, field::EVENT_TIMEZONE), Some("+07:00"));
        assert_eq!(s(&e, field::OBSERVER_NAME), Some("FGT-HN"));
        assert_eq!(s(&e, field::EVENT_CODE), Some("0000000013"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.1.1.10"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(443));
        assert_eq!(s(&e, field::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("deny"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
        assert_eq!(s(&e, field::RULE_NAME), Some(r#"block "bad""#));
        assert_eq!(s(&e, field::USER_NAME), Some("nguyenvana"));
        assert_eq!(s(&e, field::OBSERVER_EGRESS_INTERFACE_NAME), Some("wan1"));
        assert_eq!(s(&e, "fortinet.firewall.vd"), Some("root"));
        assert_eq!(s(&e, field::LOG_LEVEL), Some("notice"));
    }

    #[test]
    fn fortigate_body_without_zone_keeps_a_zoned_header_time() {
        let line = r#"date=2025-07-01 time=10:00:00 logid="0100032002" type="event" subtype="system" level="alert" logdesc="Admin login failed" user="admin" srcip=198.51.100.9 action="login" status="failed""#;
        assert!(fortigate_applies(None, line));
        assert!(fortigate_applies(None, &line[30..]));
        assert!(!fortigate_applies(
            None,
            "CEF:0|Fortinet|Fortigate|7.0|0000000013|forward traffic accept|5|FTNTFGTlogid=0000000013 FTNTFGTtype=traffic FTNTFGTsubtype=forward"
        ));
        let e = run(parse_fortigate_body, line, None);
        // No zone tags on the event: the "header" was zoned, so its time stays.
        assert_eq!(e.timestamp.to_string(), "2025-07-01T03:00:00Z");
        assert_eq!(s(&e, field::EVENT_CATEGORY), Some("authentication"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
    }

    #[test]
    fn asa_denies_builds_and_logins() {
        let e = run(
            parse_asa,
            r#"%ASA-4-106023: Deny tcp src outside:198.51.100.2/4444 dst inside:10.0.0.5/3389 by access-group "OUTSIDE_IN" [0x0, 0x0]"#,
            None,
        );
        assert_eq!(s(&e, field::EVENT_CODE), Some("106023"));
        assert_eq!(s(&e, field::EVENT_ACTION), Some("deny"));
        assert_eq!(s(&e, field::RULE_NAME), Some("OUTSIDE_IN"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("198.51.100.2"));
        assert_eq!(e.get_i64(field::DESTINATION_PORT), Some(3389));
        assert_eq!(
            s(&e, field::OBSERVER_INGRESS_INTERFACE_NAME),
            Some("outside")
        );
        assert_eq!(s(&e, field::LOG_LEVEL), Some("warnings"));

        let e = run(
            parse_asa,
            "%ASA-6-302013: Built outbound TCP connection 9 for outside:203.0.113.1/443 (203.0.113.1/443) to inside:10.0.0.9/5000 (198.51.100.1/6000)",
            None,
        );
        assert_eq!(s(&e, field::SOURCE_IP), Some("10.0.0.9"));
        assert_eq!(s(&e, field::SOURCE_NAT_IP), Some("198.51.100.1"));
        assert_eq!(e.get_i64(field::SOURCE_NAT_PORT), Some(6000));
        assert_eq!(s(&e, field::DESTINATION_IP), Some("203.0.113.1"));
        assert_eq!(s(&e, field::NETWORK_DIRECTION), Some("outbound"));

        let e = run(
            parse_asa,
            "%ASA-6-302014: Teardown TCP connection 9 for outside:203.0.113.1/443(LOCAL\\bob) to inside:10.0.0.9/5000 duration 0:01:05 bytes 1234 TCP FINs (LOCAL\\bob)",
            None,
        );
        assert_eq!(e.get_i64(field::EVENT_DURATION), Some(65_000_000_000));
        assert_eq!(e.get_i64(field::NETWORK_BYTES), Some(1234));
        assert_eq!(s(&e, field::USER_NAME), Some("bob"));
        assert_eq!(s(&e, field::USER_DOMAIN), Some("LOCAL"));
        assert_eq!(s(&e, ASA_TERMINATION_REASON), Some("TCP FINs"));

        let e = run(
            parse_asa,
            "%ASA-6-605005: Login permitted from 10.0.0.2/51000 to inside:10.0.0.1/ssh for user \"admin\"",
            None,
        );
        assert_eq!(s(&e, field::EVENT_CATEGORY), Some("authentication"));
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("success"));
        assert_eq!(s(&e, field::USER_NAME), Some("admin"));
        assert_eq!(s(&e, field::NETWORK_PROTOCOL), Some("ssh"));

        let e = run(
            parse_asa,
            "%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.1.1.1 : user = ***** : user IP = 198.51.100.77",
            None,
        );
        assert_eq!(s(&e, field::EVENT_OUTCOME), Some("failure"));
        assert_eq!(s(&e, field::USER_NAME), Some("*****"));
        assert_eq!(s(&e, field::SOURCE_IP), Some("198.51.100.77"));
        assert_eq!(s(&e, field::DESTINATION_IP), Some("10.1.1.1"));

        let e = run(
            parse_asa,
            "%ASA-4-722051: Group <GP-VPN> User <tran.b> IP <198.51.100.8> IPv4 Address <10.10.0.5> IPv6 address <::> assigned to session",
            None,
        );
        assert_eq!(s(&e, field::USER_NAME), Some("tran.b"));
        assert_eq!(s(&e, field::GROUP_NAME), Some("GP-VPN"));
        assert_eq!(s(&e, ASA_ASSIGNED_IP), Some("10.10.0.5"));

        let e = run(
            parse_asa,
            "%ASA-5-502103: User priv level changed: Uname: admin From: 1 To: 15",
            None,
        );
        assert_eq!(s(&e, field::USER_NAME), Some("admin"));
        assert_eq!(e.get_i64(ASA_PRIVILEGE_NEW), Some(15));

        let e = run(
            parse_asa,
            "%ASA-5-111008: User 'enable_15' executed the 'write memory' command.",
            None,
        );
        assert_eq!(s(&e, ASA_COMMAND_LINE), Some("write memory"));

        let e = run(parse_asa, "%FTD-1-430003: Some FTD text", None);
        assert_eq!(s(&e, field::OBSERVER_PRODUCT), Some("FTD"));
        assert_eq!(s(&e, ASA_MESSAGE), Some("Some FTD text"));
    }

    #[test]
    fn asa_garbage_never_panics() {
        for line in [
            "%ASA-",
            "%ASA-x-y: z",
            "%ASA-6-302013: Built",
            "%ASA-6-302014: Teardown TCP connection 1 for a:b/c to",
            "%ASA-6-113019: Group = , Username",
        ] {
            let policy = TimePolicy::new(chrono_tz::UTC);
            let ctx = Context {
                received: Timestamp::from_secs(0),
                policy: &policy,
                app: None,
            };
            let mut e = Event::new(ctx.received, ctx.received, "");
            let _ = parse_asa(line, &mut e, &ctx);
        }
    }
}
