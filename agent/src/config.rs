//! The agent's configuration file (TOML). Every key is documented here, where it is
//! declared, with its unit and default; unknown keys are errors. The tested example is
//! `agent/gac-agent.example.toml`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Where the packaged unit looks for the config when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/gac-agent/gac-agent.toml";

/// Why the config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory for the key, certificates, spool, checkpoints and dead letters.
    /// Default `/var/lib/gac-agent`.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// The server's agent endpoint, `https://HOST:PORT` (port default 7711). Default: the
    /// URL given to `gac-agent enroll`, which is stored in the state directory.
    #[serde(default)]
    pub server_url: Option<String>,
    /// This host's name as sent in heartbeats and enrollment. Default: the kernel's
    /// hostname.
    #[serde(default)]
    pub hostname: Option<String>,
    /// File holding the stable machine identity the server binds the agent to. Default:
    /// `/etc/machine-id`, then `/var/lib/dbus/machine-id`.
    #[serde(default)]
    pub machine_id_path: Option<PathBuf>,
    /// Sending batches and heartbeats.
    #[serde(default)]
    pub ship: ShipConfig,
    /// The on-disk queue between inputs and shipping.
    #[serde(default)]
    pub spool: SpoolConfig,
    /// Log files.
    #[serde(default)]
    pub files: FilesConfig,
    /// The systemd journal.
    #[serde(default)]
    pub journald: JournaldConfig,
    /// Syslog listeners for network devices at this site (the agent as a relay).
    #[serde(default)]
    pub relay: Vec<RelayConfig>,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/gac-agent")
}

/// `[ship]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShipConfig {
    /// Most uncompressed record bytes in one batch. Default 2 MiB (2097152).
    pub batch_max_bytes: usize,
    /// Most records in one batch. Default 20000.
    pub batch_max_records: usize,
    /// How long a batch that is not full waits for more records, in milliseconds.
    /// Default 200.
    pub batch_linger_ms: u64,
    /// zstd level, 1 (fastest) to 19 (smallest). Default 3.
    pub compression_level: i32,
    /// Most compressed bytes sent per second; paces catch-up after an outage so the
    /// site's link is not flooded. 0 means no limit. Default 0.
    pub max_send_bytes_per_sec: u64,
    /// First wait after a failed send, in milliseconds; doubles per failure, with
    /// jitter. Default 500.
    pub retry_initial_ms: u64,
    /// Longest wait between attempts, in milliseconds. Default 60000.
    pub retry_max_ms: u64,
    /// Times a batch the server calls malformed (HTTP 400) is tried before it is moved
    /// to `dead-letter/` in the state directory. Default 5.
    pub bad_batch_attempts: u32,
    /// Wait after the server says this agent is revoked (HTTP 403) before asking
    /// again, in seconds. Default 600.
    pub revoked_retry_secs: u64,
    /// Timeout of one request, connection included, in seconds. Default 30.
    pub request_timeout_secs: u64,
    /// Interval between heartbeats, in seconds. Default 30.
    pub heartbeat_secs: u64,
    /// On SIGTERM, how long to keep sending what is spooled, in seconds. Default 5.
    pub shutdown_flush_secs: u64,
    /// Least interval between checkpoint writes, in milliseconds. Default 1000.
    pub checkpoint_interval_ms: u64,
}

impl Default for ShipConfig {
    fn default() -> Self {
        Self {
            batch_max_bytes: 2 * 1024 * 1024,
            batch_max_records: 20_000,
            batch_linger_ms: 200,
            compression_level: gac_event::wire::DEFAULT_ZSTD_LEVEL,
            max_send_bytes_per_sec: 0,
            retry_initial_ms: 500,
            retry_max_ms: 60_000,
            bad_batch_attempts: 5,
            revoked_retry_secs: 600,
            request_timeout_secs: 30,
            heartbeat_secs: 30,
            shutdown_flush_secs: 5,
            checkpoint_interval_ms: 1000,
        }
    }
}

/// `[spool]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpoolConfig {
    /// Most bytes the spool holds on disk; when full, inputs stop reading (files stay
    /// on disk). Default 256 MiB (268435456).
    pub max_bytes: u64,
    /// Size at which a spool segment file is closed and a new one begun; space is
    /// freed a whole acknowledged segment at a time. Default 8 MiB (8388608).
    pub segment_bytes: u64,
    /// Longest time spooled records stay unsynced to disk, in milliseconds (what a
    /// power cut can cost a relay; file lines are re-read). Default 1000.
    pub fsync_interval_ms: u64,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            segment_bytes: 8 * 1024 * 1024,
            fsync_interval_ms: 1000,
        }
    }
}

/// `[files]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// Interval between reads of files that had nothing new, in milliseconds.
    /// Default 250.
    pub poll_interval_ms: u64,
    /// Interval between expansions of the path globs (finding new and rotated files),
    /// in milliseconds. Default 1000.
    pub glob_interval_ms: u64,
    /// How long a file that was renamed away or deleted is still read after its last
    /// growth, in milliseconds (the writer may not have reopened yet). Default 5000.
    pub rotate_wait_ms: u64,
    /// Most files held open at once. Default 512.
    pub max_open_files: usize,
    /// Bytes at the head of a file that identify it (with device and inode) across
    /// rename and copy. Default 256.
    pub fingerprint_bytes: usize,
    /// The file inputs.
    pub input: Vec<FileInputConfig>,
}

impl Default for FilesConfig {
    fn default() -> Self {
        Self {
            poll_interval_ms: 250,
            glob_interval_ms: 1000,
            rotate_wait_ms: 5000,
            max_open_files: 512,
            fingerprint_bytes: 256,
            input: Vec::new(),
        }
    }
}

/// Where to begin a file the agent has never seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReadFrom {
    /// From its first byte.
    #[default]
    Beginning,
    /// From its end at the moment the agent first starts; files that appear later are
    /// still read from their first byte.
    End,
}

/// `[[files.input]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInputConfig {
    /// Glob patterns of files to follow (`/var/log/nginx/*.log`). Required.
    pub paths: Vec<String>,
    /// Glob patterns of files not to follow even when `paths` match. Default none.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where to begin files seen for the first time: `beginning` or `end`. Default
    /// `beginning`.
    #[serde(default)]
    pub read_from: ReadFrom,
    /// Longest line kept, in bytes; the rest of a longer line is dropped and counted.
    /// Default 65536.
    #[serde(default = "default_max_line_bytes")]
    pub max_line_bytes: usize,
    /// Joining lines into one record (stack traces). Default: off.
    #[serde(default)]
    pub multiline: Option<MultilineConfig>,
}

fn default_max_line_bytes() -> usize {
    64 * 1024
}

/// `multiline = { ... }` of a file input. Exactly one of `start_pattern` and
/// `continue_pattern` is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultilineConfig {
    /// A line matching this regex begins a new record; others join the one before.
    #[serde(default)]
    pub start_pattern: Option<String>,
    /// A line matching this regex joins the record before (`^\s` for stack traces);
    /// others begin a new one.
    #[serde(default)]
    pub continue_pattern: Option<String>,
    /// A record is complete when no line joins it for this long, in milliseconds.
    /// Default 1000.
    #[serde(default = "default_multiline_timeout_ms")]
    pub timeout_ms: u64,
    /// Most lines in one record; more begin a new record. Default 500.
    #[serde(default = "default_multiline_max_lines")]
    pub max_lines: usize,
    /// Most bytes in one record; more begin a new record. Default 65536.
    #[serde(default = "default_max_line_bytes")]
    pub max_bytes: usize,
}

fn default_multiline_timeout_ms() -> u64 {
    1000
}

fn default_multiline_max_lines() -> usize {
    500
}

/// `[journald]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournaldConfig {
    /// Whether to read the journal. Default false.
    pub enabled: bool,
    /// The `journalctl` program. Default `journalctl` (found on `PATH`).
    pub journalctl_path: PathBuf,
    /// Where to begin when there is no cursor yet: `beginning` (the whole journal) or
    /// `end`. Default `end`.
    pub read_from: ReadFrom,
    /// Only these systemd units (`-u`); empty means all. Default empty.
    pub units: Vec<String>,
    /// Longest journal entry kept, in bytes (as its JSON line); longer ones are cut and
    /// counted. Default 65536.
    pub max_entry_bytes: usize,
}

impl Default for JournaldConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            journalctl_path: PathBuf::from("journalctl"),
            read_from: ReadFrom::End,
            units: Vec::new(),
            max_entry_bytes: default_max_line_bytes(),
        }
    }
}

/// Transport of a relay listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayProtocol {
    /// One record per datagram.
    Udp,
    /// Newline or octet-counted frames (RFC 6587), chosen per frame.
    Tcp,
}

/// `[[relay]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayConfig {
    /// The input's name; records go out with source `NAME/SENDER_IP`. Required.
    pub name: String,
    /// `udp` or `tcp`. Required.
    pub protocol: RelayProtocol,
    /// Address to listen on, `IP:PORT`. Required.
    pub listen: SocketAddr,
    /// Longest record kept, in bytes; the rest is dropped and counted. Default 65536.
    #[serde(default = "default_max_line_bytes")]
    pub max_frame_bytes: usize,
    /// Most TCP connections at once; more are refused and counted. Default 256.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Most distinct senders given a source of their own; later ones share
    /// `NAME/other`. Default 4096.
    #[serde(default = "default_max_senders")]
    pub max_senders: usize,
}

fn default_max_connections() -> usize {
    256
}

fn default_max_senders() -> usize {
    4096
}

impl Config {
    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })
    }

    /// Parses and checks config text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: PathBuf::new(),
            source: Box::new(e),
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.ship.batch_max_bytes == 0 || self.ship.batch_max_records == 0 {
            return bad("ship.batch_max_bytes and ship.batch_max_records must be above 0".into());
        }
        let limits = gac_event::wire::Limits::default();
        if self.ship.batch_max_records > limits.max_records {
            return bad(format!(
                "ship.batch_max_records is above the server's limit of {}",
                limits.max_records
            ));
        }
        if !(1..=19).contains(&self.ship.compression_level) {
            return bad("ship.compression_level must be 1 to 19".into());
        }
        if self.ship.heartbeat_secs == 0 {
            return bad("ship.heartbeat_secs must be above 0".into());
        }
        if self.spool.segment_bytes < 4096 || self.spool.max_bytes < 2 * self.spool.segment_bytes {
            return bad(
                "spool.max_bytes must be at least twice spool.segment_bytes (>= 4096)".into(),
            );
        }
        if self.files.fingerprint_bytes == 0 || self.files.max_open_files == 0 {
            return bad("files.fingerprint_bytes and files.max_open_files must be above 0".into());
        }
        for input in &self.files.input {
            if input.paths.is_empty() {
                return bad("a [[files.input]] has no paths".into());
            }
            for p in input.paths.iter().chain(&input.exclude) {
                if let Err(e) = glob::Pattern::new(p) {
                    return bad(format!("bad glob {p:?}: {e}"));
                }
            }
            if input.max_line_bytes == 0 || input.max_line_bytes > limits.max_record_bytes {
                return bad(format!(
                    "max_line_bytes must be 1 to {} (the server's record limit)",
                    limits.max_record_bytes
                ));
            }
            if let Some(m) = &input.multiline {
                crate::multiline::Joiner::new(m)
                    .map_err(|e| ConfigError::Invalid(e.to_string()))?;
                if m.max_bytes > limits.max_record_bytes {
                    return bad("multiline.max_bytes is above the server's record limit".into());
                }
            }
        }
        let mut names = std::collections::HashSet::new();
        for r in &self.relay {
            if r.name.is_empty() || r.name.contains('/') {
                return bad("a relay name must be non-empty and contain no '/'".into());
            }
            if !names.insert(&r.name) {
                return bad(format!("two relays are named {:?}", r.name));
            }
            if r.max_frame_bytes == 0 || r.max_frame_bytes > limits.max_record_bytes {
                return bad("relay max_frame_bytes must be 1 to the server's record limit".into());
            }
        }
        if self.journald.max_entry_bytes == 0
            || self.journald.max_entry_bytes > limits.max_record_bytes
        {
            return bad("journald.max_entry_bytes must be 1 to the server's record limit".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("gac-agent.example.toml");
        let c = Config::load(&path).unwrap();
        assert!(!c.files.input.is_empty());
        assert!(c.files.input.iter().any(|i| i.multiline.is_some()));
        assert_eq!(c.relay.len(), 2);
        assert!(c.journald.enabled);
    }

    #[test]
    fn empty_file_is_all_defaults() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.state_dir, PathBuf::from("/var/lib/gac-agent"));
        assert_eq!(c.ship.heartbeat_secs, 30);
        assert_eq!(c.spool.max_bytes, 256 * 1024 * 1024);
        assert!(!c.journald.enabled);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(Config::parse("stat_dir = \"/x\"").is_err());
        assert!(Config::parse("[ship]\nbatch_bytes = 1").is_err());
        assert!(Config::parse("[ship]\ncompression_level = 40").is_err());
        assert!(Config::parse("[[files.input]]\npaths = []").is_err());
        assert!(
            Config::parse(
                "[[files.input]]\npaths = [\"/x\"]\nmultiline = { start_pattern = \"(\" }"
            )
            .is_err()
        );
        assert!(
            Config::parse(
                "[[relay]]\nname = \"a\"\nprotocol = \"udp\"\nlisten = \"127.0.0.1:1\"\n\
                 [[relay]]\nname = \"a\"\nprotocol = \"tcp\"\nlisten = \"127.0.0.1:1\""
            )
            .is_err()
        );
    }
}
