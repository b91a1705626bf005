//! The server's TOML configuration: every key documented where it is declared, with its
//! unit in its name and a default. Unknown keys are errors, so a typo never passes
//! silently. `gac-server init` writes [`EXAMPLE`], which a test proves loads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A configuration that could not be read or makes no sense.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("unknown time zone {0:?} (use an IANA name such as Asia/Ho_Chi_Minh)")]
    Zone(String),
    #[error("two inputs are named {0:?}; input names must be unique")]
    DuplicateInput(String),
    #[error("{0}")]
    Invalid(String),
}

/// The whole `gac-server` configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Directory for the write-ahead log, the indexes and the API tokens. Relative paths
    /// are taken from the directory of the config file.
    pub data_dir: PathBuf,
    /// Time zone applied to records that carry none (RFC 3164 syslog), as an IANA name.
    /// Each input may override it.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    #[serde(default)]
    pub api: ApiConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub wal: WalConfig,
    /// Syslog listeners. None means the server takes no syslog.
    #[serde(default)]
    pub syslog: Vec<SyslogInput>,
}

/// The HTTP JSON API used by `gac` and integrations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Address to listen on. Loopback by default: expose it deliberately.
    #[serde(default = "default_api_listen")]
    pub listen: SocketAddr,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: default_api_listen(),
        }
    }
}

/// The event store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Whole days (UTC, by event time) older than this are deleted. 0 keeps everything.
    #[serde(default = "default_retention_days")]
    pub retention_days: u32,
    /// How often new events are committed and become searchable, in milliseconds.
    #[serde(default = "default_commit_interval_ms")]
    pub commit_interval_ms: u64,
    /// Memory the indexer may use for not-yet-committed documents, per day index written.
    #[serde(default = "default_writer_memory_bytes")]
    pub writer_memory_bytes: usize,
    /// Indexing threads per day index written.
    #[serde(default = "default_writer_threads")]
    pub writer_threads: usize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            retention_days: default_retention_days(),
            commit_interval_ms: default_commit_interval_ms(),
            writer_memory_bytes: default_writer_memory_bytes(),
            writer_threads: default_writer_threads(),
        }
    }
}

/// The write-ahead log every accepted record is appended to before it is processed.
/// Records are synced to disk in groups: whatever arrived while the last sync ran.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalConfig {
    /// Size at which a WAL segment file is closed and a new one started.
    #[serde(default = "default_segment_bytes")]
    pub segment_bytes: u64,
}

impl Default for WalConfig {
    fn default() -> Self {
        Self {
            segment_bytes: default_segment_bytes(),
        }
    }
}

/// The transport of a syslog listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// One message per datagram (RFC 5426).
    Udp,
    /// A stream of messages, each framed by a newline or by an octet count (RFC 6587).
    Tcp,
}

/// One syslog listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogInput {
    /// Unique name; stored on every event as `input.name` and used in counters.
    pub name: String,
    pub protocol: Protocol,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Zone for records without one; defaults to the server's `timezone`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// What the records are: `auto` (detected per record), `syslog` (header, then a
    /// body parser chosen by app name), or one format by name (`gac-server parse
    /// --help` lists them).
    #[serde(default = "default_format")]
    pub format: String,
    /// Longest message kept whole; longer ones are cut to this size and tagged
    /// `gac.truncated`.
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// TCP only: connections served at once; more are closed on arrival and counted.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
}

fn default_timezone() -> String {
    "Asia/Ho_Chi_Minh".to_owned()
}
fn default_api_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 7710))
}
fn default_retention_days() -> u32 {
    90
}
fn default_commit_interval_ms() -> u64 {
    1000
}
fn default_writer_memory_bytes() -> usize {
    128 << 20
}
fn default_writer_threads() -> usize {
    1
}
fn default_segment_bytes() -> u64 {
    64 << 20
}
fn default_format() -> String {
    "auto".to_owned()
}
fn default_max_message_bytes() -> usize {
    64 << 10
}
fn default_max_connections() -> usize {
    1024
}

/// The config `gac-server init` writes, with every key and its meaning. `DATA_DIR`,
/// `API_LISTEN` and `SYSLOG_PORT` are filled in by `init`.
pub const EXAMPLE: &str = r#"# gac-server configuration. Unknown keys are errors.

# Directory for the write-ahead log, the indexes and the API tokens. Relative paths are
# taken from the directory of this file.
data_dir = "DATA_DIR"

# Time zone applied to records that carry none (RFC 3164 syslog has no zone and no
# year): an IANA name. Each input may override it.
timezone = "Asia/Ho_Chi_Minh"

[api]
# Address of the HTTP JSON API used by `gac`. Keep it on loopback unless you put it
# behind TLS.
listen = "API_LISTEN"

[storage]
# Whole days (UTC, by event time) older than this are deleted. 0 keeps everything.
# Vietnamese practice: level 2 systems keep 1 month, level 3 keep 3, level 4 keep 6,
# level 5 keep 12.
retention_days = 90
# How often new events are committed and become searchable, in milliseconds.
commit_interval_ms = 1000
# Memory for not-yet-committed documents, per day index being written, in bytes.
writer_memory_bytes = 134217728
# Indexing threads per day index being written.
writer_threads = 1

[wal]
# Size at which a write-ahead log segment is closed and a new one started, in bytes.
segment_bytes = 67108864

# Syslog listeners: network devices and hosts send here.
[[syslog]]
name = "syslog-udp"
protocol = "udp"
listen = "0.0.0.0:SYSLOG_PORT"
# What the records are: auto (detected per record), syslog, or a format by name.
format = "auto"
# Longest message kept whole; longer ones are cut and tagged gac.truncated.
max_message_bytes = 65536

[[syslog]]
name = "syslog-tcp"
# Newline and octet-counted framing (RFC 6587) are both accepted, frame by frame.
protocol = "tcp"
listen = "0.0.0.0:SYSLOG_PORT"
max_message_bytes = 65536
# Connections served at once; more are closed on arrival and counted.
max_connections = 1024
"#;

impl Config {
    /// Reads and checks a config file. `data_dir` comes back absolute.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Self::from_toml(&text).map_err(|e| match e {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })?;
        if config.data_dir.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            config.data_dir = base.join(&config.data_dir);
        }
        Ok(config)
    }

    /// Parses and checks config text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: PathBuf::from("<text>"),
            source: Box::new(source),
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        parse_zone(&self.timezone)?;
        let mut names = std::collections::HashSet::new();
        for input in &self.syslog {
            if !names.insert(input.name.as_str()) {
                return Err(ConfigError::DuplicateInput(input.name.clone()));
            }
            if let Some(zone) = &input.timezone {
                parse_zone(zone)?;
            }
            input
                .format
                .parse::<gac_parse::Format>()
                .map_err(|e| ConfigError::Invalid(format!("input {:?}: {e}", input.name)))?;
            if input.max_message_bytes == 0 {
                return Err(ConfigError::Invalid(format!(
                    "input {:?}: max_message_bytes must be above 0",
                    input.name
                )));
            }
        }
        if self.storage.writer_threads == 0 {
            return Err(ConfigError::Invalid(
                "storage.writer_threads must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }

    /// The zone an input applies to records without one.
    pub fn input_zone(&self, input: &SyslogInput) -> Result<chrono_tz::Tz, ConfigError> {
        parse_zone(input.timezone.as_deref().unwrap_or(&self.timezone))
    }
}

/// An IANA zone name to a zone.
pub fn parse_zone(name: &str) -> Result<chrono_tz::Tz, ConfigError> {
    name.parse::<chrono_tz::Tz>()
        .map_err(|_| ConfigError::Zone(name.to_owned()))
}

/// The example config with its placeholders filled.
pub fn example(data_dir: &Path, api_listen: SocketAddr, syslog_port: u16) -> String {
    EXAMPLE
        .replace("DATA_DIR", &data_dir.display().to_string())
        .replace("API_LISTEN", &api_listen.to_string())
        .replace("SYSLOG_PORT", &syslog_port.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_loads_with_its_documented_values() {
        let text = example(Path::new("/var/lib/gac"), default_api_listen(), 5514);
        let config = Config::from_toml(&text).unwrap();
        assert_eq!(config.syslog.len(), 2);
        assert_eq!(config.syslog[1].protocol, Protocol::Tcp);
        assert_eq!(config.syslog[0].listen.port(), 5514);
        // The written example and the serde defaults must agree.
        let defaults = StorageConfig::default();
        assert_eq!(config.storage.retention_days, defaults.retention_days);
        assert_eq!(
            config.storage.writer_memory_bytes,
            defaults.writer_memory_bytes
        );
        assert_eq!(config.wal.segment_bytes, WalConfig::default().segment_bytes);
        assert_eq!(config.api.listen, default_api_listen());
        assert_eq!(config.syslog[0].format, default_format());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::from_toml("data_dir = \"x\"\nretention = 3\n").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err = Config::from_toml("data_dir = \"x\"\n[storage]\nretain_days = 3\n").unwrap_err();
        assert!(err.to_string().contains("retain_days"), "{err}");
    }

    #[test]
    fn unknown_formats_are_refused() {
        let text = "data_dir = \"x\"\n[[syslog]]\nname = \"a\"\nprotocol = \"udp\"\nlisten = \"127.0.0.1:1\"\nformat = \"klingon\"\n";
        let err = Config::from_toml(text).unwrap_err().to_string();
        assert!(err.contains("klingon"), "{err}");
    }

    #[test]
    fn bad_zones_and_duplicate_names_are_refused() {
        let err = Config::from_toml("data_dir = \"x\"\ntimezone = \"Mars/Olympus\"\n").unwrap_err();
        assert!(matches!(err, ConfigError::Zone(_)));
        let dup = "data_dir = \"x\"\n[[syslog]]\nname = \"a\"\nprotocol = \"udp\"\nlisten = \"127.0.0.1:1\"\n[[syslog]]\nname = \"a\"\nprotocol = \"tcp\"\nlisten = \"127.0.0.1:1\"\n";
        assert!(matches!(
            Config::from_toml(dup).unwrap_err(),
            ConfigError::DuplicateInput(_)
        ));
    }
}
