//! Harness for Gác's end-to-end tests: real `gac-server` and `gac` processes, real
//! sockets on 127.0.0.1, a temporary data directory per test.
//!
//! The binaries are the workspace's own debug builds; the README's test command builds
//! them before the tests run (`cargo build --bins`).

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The directory holding the workspace's binaries (next to this test executable).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    // target/debug/deps/<test> -> target/debug
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps")
        .to_owned();
    for bin in ["gac-server", "gac"] {
        assert!(
            dir.join(bin).exists(),
            "{} is missing: build the binaries first (cargo build --bins)",
            dir.join(bin).display()
        );
    }
    dir
}

/// A port free on 127.0.0.1 for both TCP and UDP at the time of asking.
pub fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("loopback is available");
        let port = tcp.local_addr().expect("bound").port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A running (or stopped) `gac-server` with its own data directory.
#[derive(Debug)]
pub struct Server {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub syslog_port: u16,
    pub api: SocketAddr,
    /// The agent endpoint (mutual TLS).
    pub agent: SocketAddr,
    pub token: String,
    child: Option<Child>,
}

impl Server {
    /// `gac-server init` into a fresh directory, with the config edited by `tweak`.
    pub fn init(tweak: impl FnOnce(String) -> String) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("gac-server.toml");
        let syslog_port = free_port();
        let api = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let agent = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let out = Command::new(bin_dir().join("gac-server"))
            .arg("--config")
            .arg(&config)
            .arg("init")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--syslog-port")
            .arg(syslog_port.to_string())
            .arg("--api-listen")
            .arg(api.to_string())
            .arg("--agent-listen")
            .arg(agent.to_string())
            .output()?;
        if !out.status.success() {
            bail!("init failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let text = std::fs::read_to_string(&config)?;
        // Syslog on loopback only: tests never listen beyond this machine.
        let text = text.replace("0.0.0.0:", "127.0.0.1:");
        std::fs::write(&config, tweak(text))?;
        let token = std::fs::read_to_string(dir.path().join("data/admin.token"))?
            .trim()
            .to_owned();
        Ok(Self {
            dir,
            config,
            syslog_port,
            api,
            agent,
            token,
            child: None,
        })
    }

    /// Starts `gac-server run` and waits until its API answers.
    pub fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))?;
        let child = Command::new(bin_dir().join("gac-server"))
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self
                .gac(&["stats", "--json"])
                .map(|o| o.status.success())
                .unwrap_or(false)
            {
                return Ok(());
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!("gac-server exited early ({status}):\n{}", self.log());
            }
            if Instant::now() > deadline {
                bail!("gac-server did not come up:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// SIGKILL: no chance to flush or commit anything.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            let pid = c.id().to_string();
            Command::new("kill").args(["-TERM", &pid]).status()?;
            let status = c.wait()?;
            if !status.success() {
                bail!("gac-server did not stop cleanly: {status}\n{}", self.log());
            }
        }
        Ok(())
    }

    /// Runs `gac` against this server.
    pub fn gac(&self, args: &[&str]) -> anyhow::Result<Output> {
        Command::new(bin_dir().join("gac"))
            .args(args)
            .env("GAC_SERVER", format!("http://{}", self.api))
            .env("GAC_TOKEN", &self.token)
            .env_remove("GAC_CONFIG")
            .output()
            .context("running gac")
    }

    /// `gac search QUERY --json --limit N`, parsed; fails on a non-zero exit.
    pub fn search(&self, query: &str, limit: usize) -> anyhow::Result<Vec<serde_json::Value>> {
        let out = self.gac(&["search", query, "--json", "--limit", &limit.to_string()])?;
        if !out.status.success() {
            bail!(
                "gac search failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        String::from_utf8(out.stdout)?
            .lines()
            .map(|l| serde_json::from_str(l).context("gac printed a line that is not JSON"))
            .collect()
    }

    /// Searches until `want` events match or `within` runs out.
    pub fn wait_for(
        &self,
        query: &str,
        want: usize,
        within: Duration,
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        let deadline = Instant::now() + within;
        loop {
            let hits = self.search(query, want.max(1) + 1)?;
            if hits.len() >= want || Instant::now() > deadline {
                return Ok(hits);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// One counter from `gac stats`.
    pub fn counter(&self, name: &str) -> anyhow::Result<u64> {
        let out = self.gac(&["stats", "--json"])?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        Ok(v["counters"][name].as_u64().unwrap_or(0))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}

impl Server {
    /// `gac-server token create --enroll [--ttl-secs N]`: a one-time enrollment token.
    pub fn enroll_token(&self, ttl_secs: Option<u64>) -> anyhow::Result<String> {
        let mut cmd = Command::new(bin_dir().join("gac-server"));
        cmd.arg("--config")
            .arg(&self.config)
            .args(["token", "create", "--enroll"]);
        if let Some(t) = ttl_secs {
            cmd.args(["--ttl-secs", &t.to_string()]);
        }
        let out = cmd.output()?;
        if !out.status.success() {
            bail!(
                "token create failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8(out.stdout)?.trim().to_owned())
    }

    /// `gac-server agent revoke ID`.
    pub fn revoke(&self, agent_id: &str) -> anyhow::Result<()> {
        let out = Command::new(bin_dir().join("gac-server"))
            .arg("--config")
            .arg(&self.config)
            .args(["agent", "revoke", agent_id])
            .output()?;
        if !out.status.success() {
            bail!("revoke failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// The agent endpoint's URL.
    pub fn agent_url(&self) -> String {
        format!("https://{}", self.agent)
    }
}

/// A `gac-agent` with its own state directory, config and a `logs/` directory it
/// follows (`logs/*.log` unless `tweak` says otherwise), tuned for quick tests.
#[derive(Debug)]
pub struct Agent {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    /// Where the test writes the files the agent follows.
    pub logs: PathBuf,
    child: Option<Child>,
}

impl Agent {
    /// A config in a fresh directory, edited by `tweak`; the machine id is random unless
    /// the caller rewrites `machine-id`.
    pub fn new(tweak: impl FnOnce(String) -> String) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&logs)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_nanos();
        std::fs::write(
            dir.path().join("machine-id"),
            format!("{:032x}\n", nanos ^ u128::from(std::process::id())),
        )?;
        let config = dir.path().join("gac-agent.toml");
        let text = format!(
            r#"state_dir = "{state}"
machine_id_path = "{mid}"
hostname = "e2e-agent"

[ship]
batch_max_records = 500
batch_linger_ms = 50
retry_initial_ms = 100
retry_max_ms = 1000
revoked_retry_secs = 1
request_timeout_secs = 5
heartbeat_secs = 1
shutdown_flush_secs = 2
checkpoint_interval_ms = 100

[files]
poll_interval_ms = 20
glob_interval_ms = 100
rotate_wait_ms = 1000

[[files.input]]
paths = ["{logs}/*.log"]
"#,
            state = dir.path().join("state").display(),
            mid = dir.path().join("machine-id").display(),
            logs = logs.display(),
        );
        std::fs::write(&config, tweak(text))?;
        Ok(Self {
            dir,
            config,
            logs,
            child: None,
        })
    }

    fn bin() -> PathBuf {
        let bin = bin_dir().join("gac-agent");
        assert!(
            bin.exists(),
            "{} is missing: build the binaries first (cargo build --bins)",
            bin.display()
        );
        bin
    }

    /// `gac-agent enroll --server URL --token TOKEN`; its output, whatever the outcome.
    pub fn enroll(&self, server_url: &str, token: &str) -> anyhow::Result<Output> {
        Command::new(Self::bin())
            .arg("--config")
            .arg(&self.config)
            .args(["enroll", "--server", server_url, "--token", token])
            .output()
            .context("running gac-agent enroll")
    }

    /// Enrolls and fails unless it worked; returns the agent id.
    pub fn enroll_ok(&self, server: &Server) -> anyhow::Result<String> {
        let out = self.enroll(&server.agent_url(), &server.enroll_token(None)?)?;
        if !out.status.success() {
            bail!("enroll failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        let text = std::fs::read_to_string(self.dir.path().join("state/enrollment.json"))?;
        let v: serde_json::Value = serde_json::from_str(&text)?;
        Ok(v["agent_id"].as_str().unwrap_or_default().to_owned())
    }

    /// Starts `gac-agent run` (logging to `agent.log`).
    pub fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("agent.log"))?;
        let child = Command::new(Self::bin())
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?;
        self.child = Some(child);
        Ok(())
    }

    /// The agent's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// Whether the process has exited (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGKILL: nothing flushed, nothing synced.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            let pid = c.id().to_string();
            Command::new("kill").args(["-TERM", &pid]).status()?;
            let status = c.wait()?;
            if !status.success() {
                bail!("gac-agent did not stop cleanly: {status}\n{}", self.log());
            }
        }
        Ok(())
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.kill9();
    }
}
