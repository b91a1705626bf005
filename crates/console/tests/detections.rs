//! The detection pack's own tests, run the way an analyst runs them: the `gac` binary on
//! the workspace's `detections/` folder (`gac rules check`, `gac rules test`), plus the
//! failure paths of both commands on a small pack made here.

// Helpers outside #[test] functions unwrap too: a panic here is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn detections() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../detections")
}

fn gac(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gac"))
        .args(args)
        // Rule tooling must not need a server, a token or a config file.
        .env_remove("GAC_SERVER")
        .env_remove("GAC_TOKEN")
        .env("GAC_CONFIG", "/nonexistent/gac.toml")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn every_rule_of_the_pack_loads() {
    let dir = detections();
    let out = gac(&["rules", "check", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("0 not loaded"), "{}", text(&out));
}

#[test]
fn every_rule_of_the_pack_passes_its_tests() {
    let dir = detections();
    let out = gac(&["rules", "test", dir.to_str().unwrap()]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(!t.contains("FAIL"), "{t}");
    // Every rule file has a test file with at least one case of each kind.
    let rules = std::fs::read_dir(dir.join("rules"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .count();
    assert!(rules >= 15, "{rules} rule files");
    assert!(
        t.lines().filter(|l| l.starts_with("ok ")).count() >= 2 * rules,
        "{t}"
    );
}

#[test]
fn a_record_shows_its_fields_and_the_rules_it_fires() {
    let dir = detections();
    let line = r#"127.0.0.1 - - [30/Sep/2021:11:11:54 +0200] "GET /foo?a=%20union%20all%20select%20 HTTP/1.1" 404 162 "-" "curl/7.68.0""#;
    let out = gac(&["rules", "test", dir.to_str().unwrap(), "--line", line]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("parsed as web.access"), "{t}");
    assert!(t.contains("url.query"), "{t}");
    assert!(t.contains("FIRES [high] SQL Injection Attempt"), "{t}");
    assert!(t.contains("selection: selection"), "{t}");

    let out = gac(&[
        "rules",
        "test",
        dir.to_str().unwrap(),
        "--json",
        "--line",
        line,
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["parser"], "web.access");
    assert_eq!(doc["matches"][0]["fields"][0]["field"], "url.original");
}

/// A pack of one rule, for the failure paths.
fn small_pack(rule: &str, test: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["rules", "mappings", "tests"] {
        std::fs::create_dir(dir.path().join(sub)).unwrap();
    }
    std::fs::write(
        dir.path().join("mappings/m.yml"),
        "version: 1\nlogsources:\n  - logsource: {product: linux, service: sshd}\n    when: {event.dataset: sshd}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("rules/r.yml"), rule).unwrap();
    std::fs::write(dir.path().join("tests/r.yml"), test).unwrap();
    dir
}

const RULE: &str = "title: Root login\nid: 9d5e2c1a-0000-4000-8000-000000000001\nlogsource: {product: linux, service: sshd}\ndetection:\n  sel: {user.name: root}\n  condition: sel\nlevel: high\n";
const ROOT: &str =
    "Mar  1 10:00:00 h sshd[1]: Failed password for root from 192.0.2.1 port 22 ssh2";
const ALICE: &str =
    "Mar  1 10:00:00 h sshd[1]: Failed password for alice from 192.0.2.1 port 22 ssh2";

#[test]
fn unmet_expectations_fail_and_say_which() {
    let test = format!("must_fire:\n  - '{ALICE}'\nmust_not_fire:\n  - '{ROOT}'\n");
    let pack = small_pack(RULE, &test);
    let out = gac(&["rules", "test", pack.path().to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("FAIL  r.yml: must_fire[0]: did not fire"), "{t}");
    assert!(
        t.contains("FAIL  r.yml: must_not_fire[0]: fired: \"Root login\""),
        "{t}"
    );
    assert!(t.contains("0 passed, 2 failed"), "{t}");

    let good = format!("must_fire:\n  - '{ROOT}'\nmust_not_fire:\n  - '{ALICE}'\n");
    let pack = small_pack(RULE, &good);
    let out = gac(&["rules", "test", pack.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn rules_that_do_not_load_fail_check_and_test_with_the_reason() {
    let bad = RULE.replace("user.name:", "user.name|nosuchmodifier:");
    let test = format!("must_fire:\n  - '{ROOT}'\nmust_not_fire:\n  - '{ALICE}'\n");
    let pack = small_pack(&bad, &test);
    let out = gac(&["rules", "check", pack.path().to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("FAIL  r.yml (Root login)"), "{t}");
    assert!(t.contains("nosuchmodifier"), "{t}");
    let out = gac(&["rules", "test", pack.path().to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
}

#[test]
fn a_rule_file_without_tests_fails() {
    let pack = small_pack(RULE, "must_fire: []\n");
    std::fs::remove_file(pack.path().join("tests/r.yml")).unwrap();
    let out = gac(&["rules", "test", pack.path().to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("r.yml: no test file"), "{t}");
}
