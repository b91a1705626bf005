//! End to end: util-linux `logger` sends RFC 3164 and RFC 5424 syslog over UDP and TCP
//! (newline and octet-counted framing) to a real `gac-server`, and `gac search` finds
//! each message with the right fields. Bad input is kept and tagged, and the listener
//! goes on.

// A panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::time::Duration;

use gac_tests::Server;

const FOUND_WITHIN: Duration = Duration::from_secs(10);

fn logger(server: &Server, args: &[&str], message: &str) {
    let status = Command::new("logger")
        .args([
            "--server",
            "127.0.0.1",
            "--port",
            &server.syslog_port.to_string(),
        ])
        .args(args)
        .arg(message)
        .status()
        .expect("util-linux logger is installed (the test command installs it)");
    assert!(status.success(), "logger {args:?} failed");
}

fn the_one(server: &Server, query: &str) -> serde_json::Value {
    let hits = server.wait_for(query, 1, FOUND_WITHIN).unwrap();
    assert_eq!(hits.len(), 1, "{query}: {hits:?}\n{}", server.log());
    hits.into_iter().next().unwrap()
}

#[test]
fn logger_messages_over_udp_and_tcp_are_found_with_their_fields() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();

    logger(
        &server,
        &["--udp", "--rfc3164", "-t", "sshd", "-p", "auth.warning"],
        "udp3164 Failed password for root from 203.0.113.9 port 4711 ssh2",
    );
    logger(
        &server,
        &[
            "--tcp",
            "--rfc5424",
            "-t",
            "portal",
            "-p",
            "local0.err",
            "--msgid",
            "LOGIN",
            "--sd-id",
            "gac@32473",
            "--sd-param",
            "unit=\"so-tttt\"",
        ],
        "tcp5424 login refused",
    );
    logger(
        &server,
        &[
            "--tcp",
            "--octet-count",
            "--rfc5424",
            "-t",
            "counted",
            "-p",
            "daemon.info",
        ],
        "octet5424 framed by count",
    );
    logger(
        &server,
        &["--udp", "--rfc5424", "-t", "udp5424", "-p", "user.notice"],
        "udp5424 plain",
    );
    logger(
        &server,
        &["--tcp", "--rfc3164", "-t", "tcp3164", "-p", "local7.crit"],
        "tcp3164 newline framed",
    );

    let e = the_one(&server, "udp3164");
    assert_eq!(e["log.syslog.format"], "rfc3164");
    assert_eq!(e["log.syslog.appname"], "sshd");
    assert_eq!(e["log.syslog.facility.name"], "auth");
    assert_eq!(e["log.syslog.severity.code"], 4);
    assert_eq!(e["input.name"], "syslog-udp");
    assert!(e["message"].as_str().unwrap().ends_with("port 4711 ssh2"));
    // RFC 3164 carries no year or zone: the input's zone was applied and it says so.
    assert_eq!(e["event.timezone"], "Asia/Ho_Chi_Minh");
    let tags = e["tags"].as_array().unwrap();
    assert!(
        tags.iter().any(|t| t == "gac.time.zone_from_input"),
        "{tags:?}"
    );

    let e = the_one(&server, "tcp5424");
    assert_eq!(e["log.syslog.format"], "rfc5424");
    assert_eq!(e["log.syslog.appname"], "portal");
    assert_eq!(e["log.syslog.msgid"], "LOGIN");
    assert_eq!(e["log.syslog.severity.name"], "err");
    assert_eq!(e["log.syslog.structured_data.gac@32473.unit"], "so-tttt");
    assert_eq!(e["input.name"], "syslog-tcp");
    // The field-qualified query reaches the JSON column by its ECS name.
    assert_eq!(
        the_one(&server, "log.syslog.msgid:LOGIN")["message"],
        e["message"]
    );

    let e = the_one(&server, "octet5424");
    assert_eq!(e["log.syslog.appname"], "counted");
    assert_eq!(e["log.syslog.message"], "octet5424 framed by count");

    let e = the_one(&server, "udp5424");
    assert_eq!(e["log.syslog.severity.name"], "notice");

    let e = the_one(&server, "tcp3164");
    assert_eq!(e["log.syslog.facility.name"], "local7");
    assert_eq!(e["event.severity"], 5, "crit maps to critical (5)");

    // Boolean operators and time ranges go through too.
    let both = server.search("udp3164 OR udp5424", 10).unwrap();
    assert_eq!(both.len(), 2);
    let none = server
        .gac(&[
            "search",
            "udp3164",
            "--json",
            "--since",
            "1h",
            "--to",
            "2000-01-01T00:00:00Z",
        ])
        .unwrap();
    assert!(
        !none.status.success(),
        "an empty range is an error, not silence"
    );

    server.stop().unwrap();
}

#[test]
fn bad_input_is_kept_tagged_and_counted_and_the_listeners_go_on() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();
    let port = server.syslog_port;

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.send_to(
        b"\xff\xfe garbage-udp \x00\x01 not syslog",
        ("127.0.0.1", port),
    )
    .unwrap();
    udp.send_to(
        b"<999>badpri-udp the priority is out of range",
        ("127.0.0.1", port),
    )
    .unwrap();

    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let long = format!("<13>oversize-tcp {}\n", "x".repeat(100_000));
    tcp.write_all(long.as_bytes()).unwrap();
    tcp.write_all(b"<13>Jan  1 00:00:00 host app: after-oversize still served\n")
        .unwrap();
    tcp.flush().unwrap();
    // A connection that sends a nonsense octet count is closed; others are not.
    let mut bad = TcpStream::connect(("127.0.0.1", port)).unwrap();
    bad.write_all(b"999999999 x").unwrap();
    drop(bad);
    tcp.write_all(b"<13>Jan  1 00:00:00 host app: same-connection-goes-on\n")
        .unwrap();
    drop(tcp);
    udp.send_to(b"<13>udp-after-garbage fine", ("127.0.0.1", port))
        .unwrap();

    let e = the_one(&server, "\"garbage-udp\"");
    assert!(e["message"].as_str().unwrap().contains("garbage-udp"));
    assert!(e["tags"].as_array().is_some_and(|t| !t.is_empty()), "{e}");

    let e = the_one(&server, "\"badpri-udp\"");
    let tags = e["tags"].as_array().unwrap();
    assert!(tags.iter().any(|t| t == "gac.malformed_header"), "{tags:?}");
    assert_eq!(
        e["message"], "<999>badpri-udp the priority is out of range",
        "the record is kept as received"
    );

    let e = the_one(&server, "\"oversize-tcp\"");
    assert_eq!(e["message"].as_str().unwrap().len(), 65_536);
    assert!(
        e["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "gac.truncated")
    );

    the_one(&server, "\"after-oversize still served\"");
    the_one(&server, "\"same-connection-goes-on\"");
    the_one(&server, "\"udp-after-garbage\"");
    // Tag queries find the kept records.
    let tagged = server.search("tags:gac.truncated", 10).unwrap();
    assert_eq!(tagged.len(), 1);

    assert_eq!(server.counter("syslog.truncated.syslog-tcp").unwrap(), 1);
    assert_eq!(
        server.counter("syslog.framing_errors.syslog-tcp").unwrap(),
        1
    );
    assert!(server.counter("parse.malformed_header").unwrap() >= 1);
    server.stop().unwrap();
}

/// Real auditd records (from `crates/parse/tests/data/auditd.log`, see its NOTICE.md):
/// the SYSCALL, EXECVE, PATH and PROCTITLE records of one `bash` execution.
const AUDIT_EVENT_8272: &str = include_str!("data/auditd-8272.log");

#[test]
fn audit_records_of_one_event_are_stored_as_one_event() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();
    let records = AUDIT_EVENT_8272.lines().count();
    assert!(records >= 3, "the sample holds one multi-record event");
    let mut tcp = TcpStream::connect(("127.0.0.1", server.syslog_port)).unwrap();
    tcp.write_all(AUDIT_EVENT_8272.as_bytes()).unwrap();
    drop(tcp);
    let hits = server
        .wait_for("auditd.sequence:8272", 1, FOUND_WITHIN)
        .unwrap();
    // Give a wrongly split event time to show up as a second hit.
    std::thread::sleep(Duration::from_secs(3));
    let hits2 = server.search("auditd.sequence:8272", 10).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits2.len(), 1, "one event, not one per record: {hits2:?}");
    let e = &hits2[0];
    assert_eq!(e["message"].as_str().unwrap().lines().count(), records);
    assert_eq!(e["event.dataset"], "auditd");
    assert_eq!(e["process.args"][0], "-bash");
    server.stop().unwrap();
}
