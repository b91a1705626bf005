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
    #[serde(default)]
    pub detect: DetectConfig,
    #[serde(default)]
    pub enrich: EnrichConfig,
    /// The agent endpoint (HTTPS with mutual TLS) where `gac-agent` enrolls and ships.
    /// Absent: no agent endpoint (the API still lists agents enrolled before).
    #[serde(default)]
    pub agents: Option<AgentsConfig>,
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

/// Detection: Sigma rules evaluated on every event; alerts are stored as events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectConfig {
    /// Directories of Sigma rules: every `*.yml`/`*.yaml` below them is loaded. Empty
    /// means no detection (said at start).
    #[serde(default)]
    pub rules_dirs: Vec<PathBuf>,
    /// Directory of field mapping files (Sigma log sources and field names to Gác's
    /// events). A rule whose log source has no mapping is refused, with that reason.
    #[serde(default)]
    pub mappings_dir: Option<PathBuf>,
    /// Alerts of the same rule with the same `suppress_by` values within this many
    /// seconds of the first are counted, not stored. 0 stores every alert.
    #[serde(default)]
    pub suppress_secs: u64,
    /// Alert fields whose values make up the suppression key.
    #[serde(default = "default_suppress_by")]
    pub suppress_by: Vec<String>,
    /// Most groups a correlation rule tracks at once (per rule); beyond it the least
    /// recently updated group is dropped and counted.
    #[serde(default = "default_correlation_max_groups")]
    pub correlation_max_groups: usize,
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self {
            rules_dirs: Vec::new(),
            mappings_dir: None,
            suppress_secs: 0,
            suppress_by: default_suppress_by(),
            correlation_max_groups: default_correlation_max_groups(),
        }
    }
}

fn default_suppress_by() -> Vec<String> {
    ["host.name", "source.ip", "user.name"]
        .map(String::from)
        .to_vec()
}
fn default_correlation_max_groups() -> usize {
    10_000
}

/// Enrichment of every event: GeoIP (MaxMind city and ASN databases) for `source.ip` and
/// `destination.ip`, and asset context (information system, security level, owning unit)
/// from the inventory. Relative paths are taken from the directory of the config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrichConfig {
    /// MaxMind city database (GeoIP2-City or GeoLite2-City `.mmdb`): country and city.
    /// Absent: no city and country fields (said at start).
    #[serde(default)]
    pub geoip_city_path: Option<PathBuf>,
    /// MaxMind ASN database (GeoLite2-ASN `.mmdb`): AS number and organisation.
    /// Absent: no AS fields (said at start).
    #[serde(default)]
    pub geoip_asn_path: Option<PathBuf>,
    /// A GeoIP database built more than this many days ago is reported stale: a warning,
    /// the `geoip.stale` counter, a gauge and the API's status. It stays in use.
    #[serde(default = "default_geoip_stale_after_days")]
    pub geoip_stale_after_days: u32,
    /// Addresses whose GeoIP answer is kept in memory (about 200 bytes each); the least
    /// recently used make way. 0 looks every address up.
    #[serde(default = "default_cache_entries")]
    pub cache_entries: usize,
    /// How often the database and inventory files are checked for a change (modification
    /// time and size), in seconds; a changed file is reopened. 0 never checks.
    #[serde(default = "default_reload_check_secs")]
    pub reload_check_secs: u64,
    /// Asset inventory (TOML): the information systems, their security level, owning
    /// unit, contact point, hosts and IP ranges. Absent: no `labels.*` (said at start).
    #[serde(default)]
    pub assets_path: Option<PathBuf>,
}

impl Default for EnrichConfig {
    fn default() -> Self {
        Self {
            geoip_city_path: None,
            geoip_asn_path: None,
            geoip_stale_after_days: default_geoip_stale_after_days(),
            cache_entries: default_cache_entries(),
            reload_check_secs: default_reload_check_secs(),
            assets_path: None,
        }
    }
}

impl EnrichConfig {
    /// Takes relative paths from `base` (the config file's directory).
    fn resolve_paths(&mut self, base: &Path) {
        for path in [
            &mut self.geoip_city_path,
            &mut self.geoip_asn_path,
            &mut self.assets_path,
        ]
        .into_iter()
        .flatten()
        {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        }
    }
}

fn default_geoip_stale_after_days() -> u32 {
    30
}
fn default_cache_entries() -> usize {
    65_536
}
fn default_reload_check_secs() -> u64 {
    60
}

/// The agent endpoint: `gac-agent` enrolls with a one-time token, then ships batches
/// and heartbeats over mutual TLS. The server's CA lives in `<data>/pki/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsConfig {
    /// Address of the agent endpoint (HTTPS, mutual TLS).
    #[serde(default = "default_agents_listen")]
    pub listen: SocketAddr,
    /// Names and IP addresses agents use to reach this server. All go into the server's
    /// TLS certificate, re-issued from the CA at each start; agents verify against them.
    #[serde(default = "default_tls_names")]
    pub tls_names: Vec<String>,
    /// How long a token from `gac-server token create --enroll` stays valid, in seconds.
    #[serde(default = "default_enroll_token_ttl_secs")]
    pub enroll_token_ttl_secs: u64,
    /// Largest batch body taken (compressed, as sent), in bytes; larger ones are
    /// answered 413.
    #[serde(default = "default_max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// An agent not heard from (batch or heartbeat) for this many seconds is shown as
    /// stale.
    #[serde(default = "default_heartbeat_stale_secs")]
    pub heartbeat_stale_secs: u64,
    /// Records per second one agent may send on average (bursts of two seconds' worth);
    /// beyond it the agent is answered 429 with Retry-After and keeps the records in its
    /// spool. 0: no limit.
    #[serde(default)]
    pub rate_limit_records_per_sec: u64,
}

impl Default for AgentsConfig {
    fn default() -> Self {
        Self {
            listen: default_agents_listen(),
            tls_names: default_tls_names(),
            enroll_token_ttl_secs: default_enroll_token_ttl_secs(),
            max_batch_bytes: default_max_batch_bytes(),
            heartbeat_stale_secs: default_heartbeat_stale_secs(),
            rate_limit_records_per_sec: 0,
        }
    }
}

fn default_agents_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 7711))
}
/// `localhost`, `127.0.0.1` and this machine's host name.
pub fn default_tls_names() -> Vec<String> {
    let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let host = host.trim();
        if !host.is_empty() && !names.iter().any(|n| n == host) {
            names.push(host.to_owned());
        }
    }
    names
}
fn default_enroll_token_ttl_secs() -> u64 {
    3600
}
fn default_max_batch_bytes() -> usize {
    16 << 20
}
fn default_heartbeat_stale_secs() -> u64 {
    300
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

[detect]
# Directories of Sigma rules (every *.yml below them) and of field mappings. Paths
# relative to this file's directory are not resolved: give absolute paths.
rules_dirs = [DETECT_RULES]
mappings_dir = DETECT_MAPPINGS
# Alerts of one rule with the same values of suppress_by within this many seconds of the
# first are counted, not stored; 0 stores every alert.
suppress_secs = 0
suppress_by = ["host.name", "source.ip", "user.name"]
# Most groups one correlation rule tracks; beyond it the oldest is dropped and counted.
correlation_max_groups = 10000

[enrich]
# GeoIP for source.ip and destination.ip from MaxMind databases (.mmdb). Without a path
# there is no GeoIP (said at start). Relative paths are taken from this file's directory.
# geoip_city_path = "/var/lib/GeoIP/GeoLite2-City.mmdb"
# geoip_asn_path = "/var/lib/GeoIP/GeoLite2-ASN.mmdb"
# A database built more than this many days ago is reported stale (warning, counter,
# API), and still used.
geoip_stale_after_days = 30
# Addresses whose GeoIP answer is kept in memory, about 200 bytes each.
cache_entries = 65536
# How often the databases and the inventory are checked for a changed file, in seconds.
# 0 never checks.
reload_check_secs = 60
# Asset inventory: information systems, security levels 1-5, owning units, contact
# points, hosts and IP ranges (including the public ranges registered with the national
# SOC). Events get labels.system, labels.security_level and labels.unit.
# assets_path = "/etc/gac/assets.toml"

[agents]
# The agent endpoint: HTTPS with mutual TLS. Agents enroll with a one-time token from
# `gac-server token create --enroll`; the server's CA (in <data_dir>/pki) signs their
# certificates. Remove this section to turn the endpoint off.
listen = "AGENT_LISTEN"
# Names and addresses agents use to reach this server; all go into its TLS certificate
# (re-issued at each start).
tls_names = TLS_NAMES
# How long an enrollment token stays valid, in seconds.
enroll_token_ttl_secs = 3600
# Largest batch body taken, in bytes (compressed, as sent).
max_batch_bytes = 16777216
# An agent not heard from for this many seconds is shown as stale.
heartbeat_stale_secs = 300
# Records per second one agent may send on average; beyond it the agent is told to retry
# later and keeps the records in its spool. 0: no limit.
rate_limit_records_per_sec = 0

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
        let base = path.parent().unwrap_or(Path::new("."));
        if config.data_dir.is_relative() {
            config.data_dir = base.join(&config.data_dir);
        }
        config.enrich.resolve_paths(base);
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
        if let Some(agents) = &self.agents {
            if agents.tls_names.is_empty() {
                return Err(ConfigError::Invalid(
                    "agents.tls_names must name at least one host or address".to_owned(),
                ));
            }
            if agents.max_batch_bytes == 0 {
                return Err(ConfigError::Invalid(
                    "agents.max_batch_bytes must be above 0".to_owned(),
                ));
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

/// The example config with its placeholders filled. `detections` is a directory
/// holding `rules/` and `mappings/` (the repository's `detections/`); without it the
/// config loads no rules.
pub fn example(
    data_dir: &Path,
    api_listen: SocketAddr,
    syslog_port: u16,
    detections: Option<&Path>,
) -> String {
    example_with_agents(
        data_dir,
        api_listen,
        syslog_port,
        detections,
        default_agents_listen(),
    )
}

/// [`example`] with the agent endpoint's address.
pub fn example_with_agents(
    data_dir: &Path,
    api_listen: SocketAddr,
    syslog_port: u16,
    detections: Option<&Path>,
    agent_listen: SocketAddr,
) -> String {
    let (rules, mappings) = match detections {
        Some(d) => (
            format!("{:?}", d.join("rules").display().to_string()),
            format!("{:?}", d.join("mappings").display().to_string()),
        ),
        None => (String::new(), "\"\"".to_owned()),
    };
    let text = EXAMPLE
        .replace("DETECT_RULES", &rules)
        .replace("DETECT_MAPPINGS", &mappings);
    let text = if detections.is_none() {
        text.replace(
            "mappings_dir = \"\"\n",
            "# mappings_dir = \"/etc/gac/detections/mappings\"\n",
        )
    } else {
        text
    };
    text.replace("DATA_DIR", &data_dir.display().to_string())
        .replace("API_LISTEN", &api_listen.to_string())
        .replace("SYSLOG_PORT", &syslog_port.to_string())
        .replace("AGENT_LISTEN", &agent_listen.to_string())
        .replace("TLS_NAMES", &format!("{:?}", default_tls_names()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_loads_with_its_documented_values() {
        let text = example(Path::new("/var/lib/gac"), default_api_listen(), 5514, None);
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
        assert!(config.detect.rules_dirs.is_empty());
        assert_eq!(config.detect.suppress_by, default_suppress_by());
        let enrich = EnrichConfig::default();
        assert_eq!(config.enrich.geoip_city_path, None);
        assert_eq!(config.enrich.assets_path, None);
        assert_eq!(
            config.enrich.geoip_stale_after_days,
            enrich.geoip_stale_after_days
        );
        assert_eq!(config.enrich.cache_entries, enrich.cache_entries);
        assert_eq!(config.enrich.reload_check_secs, enrich.reload_check_secs);
        let agents = config.agents.clone().unwrap();
        let defaults = AgentsConfig::default();
        assert_eq!(agents.listen, defaults.listen);
        assert_eq!(agents.tls_names, defaults.tls_names);
        assert_eq!(agents.enroll_token_ttl_secs, defaults.enroll_token_ttl_secs);
        assert_eq!(agents.max_batch_bytes, defaults.max_batch_bytes);
        assert_eq!(agents.heartbeat_stale_secs, defaults.heartbeat_stale_secs);
        assert_eq!(
            agents.rate_limit_records_per_sec,
            defaults.rate_limit_records_per_sec
        );
        // Without the section there is no endpoint; with an empty one, the defaults.
        assert!(
            Config::from_toml("data_dir = \"x\"\n")
                .unwrap()
                .agents
                .is_none()
        );
        let empty = Config::from_toml("data_dir = \"x\"\n[agents]\n").unwrap();
        assert_eq!(empty.agents.unwrap().listen.port(), 7711);
        let with = example(
            Path::new("/d"),
            default_api_listen(),
            1,
            Some(Path::new("/det")),
        );
        let config = Config::from_toml(&with).unwrap();
        assert_eq!(config.detect.rules_dirs, [PathBuf::from("/det/rules")]);
        assert_eq!(
            config.detect.mappings_dir,
            Some(PathBuf::from("/det/mappings"))
        );
    }

    #[test]
    fn enrich_paths_are_taken_from_the_config_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gac.toml");
        let text = "data_dir = \"data\"\n[enrich]\ngeoip_city_path = \"GeoLite2-City.mmdb\"\ngeoip_asn_path = \"/abs/ASN.mmdb\"\nassets_path = \"assets.toml\"\ncache_entries = 10\n";
        std::fs::write(&path, text).unwrap();
        let config = Config::load(&path).unwrap();
        let enrich = &config.enrich;
        assert_eq!(
            enrich.geoip_city_path.as_deref(),
            Some(dir.path().join("GeoLite2-City.mmdb").as_path())
        );
        assert_eq!(enrich.geoip_asn_path, Some(PathBuf::from("/abs/ASN.mmdb")));
        assert_eq!(
            enrich.assets_path.as_deref(),
            Some(dir.path().join("assets.toml").as_path())
        );
        assert_eq!(enrich.cache_entries, 10);
        assert_eq!(enrich.reload_check_secs, default_reload_check_secs());
        let err =
            Config::from_toml("data_dir = \"x\"\n[enrich]\ngeoip_path = \"x\"\n").unwrap_err();
        assert!(err.to_string().contains("geoip_path"), "{err}");
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
