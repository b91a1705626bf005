//! End to end: `gac-server import` sends a real Windows `.evtx` file (SigmaHQ regression
//! data, see `crates/parse/tests/data/NOTICE.md`) through the running server's TCP input;
//! its records come out as Windows events with their original field names, and a Sigma
//! rule of the starter pack can see them.

// A panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use gac_tests::{Server, bin_dir};

#[test]
fn an_evtx_file_is_imported_through_the_pipeline() {
    let mut server = Server::init(|c| c).unwrap();
    server.start().unwrap();
    let evtx = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/parse/tests/data/windows/sysmon-1.evtx");
    let out = Command::new(bin_dir().join("gac-server"))
        .arg("--config")
        .arg(&server.config)
        .arg("import")
        .arg(&evtx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.starts_with("1 records sent"), "{said}");
    let hits = server
        .wait_for("winlog.event_id:1", 1, Duration::from_secs(10))
        .unwrap();
    assert_eq!(hits.len(), 1, "{}", server.log());
    let e = &hits[0];
    assert_eq!(e["event.dataset"], "windows.sysmon_operational");
    assert!(e["winlog.event_data.CommandLine"].is_string(), "{e}");
    assert!(e["process.command_line"].is_string(), "{e}");
    server.stop().unwrap();
}
