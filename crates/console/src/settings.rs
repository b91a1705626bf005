//! Where the server is and which token to present: flags, then environment, then the
//! config file (`--config`, `$GAC_CONFIG`, or `~/.config/gac/config.toml`). Raw
//! arguments are kept apart from the resolved [`Settings`].

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

/// Connection flags as typed.
#[derive(Debug, Args)]
pub struct RawSettings {
    /// Server API address, e.g. http://127.0.0.1:7710.
    #[arg(long, global = true, env = "GAC_SERVER")]
    server: Option<String>,
    /// API token.
    #[arg(long, global = true, env = "GAC_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Console config file.
    #[arg(long, global = true, env = "GAC_CONFIG")]
    config: Option<PathBuf>,
}

/// The console config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    /// Server API address.
    server: Option<String>,
    /// API token, inline.
    token: Option<String>,
    /// File holding the API token (for example the server's `admin.token`).
    token_file: Option<PathBuf>,
}

/// Resolved connection settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: String,
    pub token: String,
}

const DEFAULT_SERVER: &str = "http://127.0.0.1:7710";

impl Settings {
    pub fn resolve(raw: RawSettings) -> anyhow::Result<Self> {
        let path = raw.config.clone().or_else(default_config_path);
        let file = match &path {
            Some(p) if p.exists() || raw.config.is_some() => load(p)?,
            _ => FileSettings::default(),
        };
        let server = raw
            .server
            .or(file.server)
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        let token = match (raw.token, file.token, file.token_file) {
            (Some(t), _, _) | (None, Some(t), _) => t,
            (None, None, Some(f)) => std::fs::read_to_string(&f)
                .with_context(|| format!("reading token file {}", f.display()))?
                .trim()
                .to_owned(),
            (None, None, None) => bail!(
                "no API token: pass --token, set GAC_TOKEN, or put token or token_file in {}",
                path.map(|p| p.display().to_string())
                    .unwrap_or_else(|| "~/.config/gac/config.toml".into())
            ),
        };
        Ok(Self {
            server: server.trim_end_matches('/').to_owned(),
            token,
        })
    }
}

fn default_config_path() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".config/gac/config.toml"))
}

fn load(path: &Path) -> anyhow::Result<FileSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid console config {}", path.display()))
}

/// `30s`, `15m`, `1h`, `7d`, `2w` to nanoseconds.
pub fn parse_duration_nanos(text: &str) -> anyhow::Result<i64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: i64 = num
        .parse()
        .with_context(|| format!("{text:?} is not a duration like 15m, 1h or 7d"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => bail!("{text:?}: the unit must be s, m, h, d or w"),
    };
    n.checked_mul(secs)
        .and_then(|s| s.checked_mul(1_000_000_000))
        .with_context(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_nanos("90s").unwrap(), 90_000_000_000);
        assert_eq!(parse_duration_nanos("1h").unwrap(), 3_600_000_000_000);
        assert_eq!(parse_duration_nanos("7d").unwrap(), 7 * 86_400_000_000_000);
        assert!(parse_duration_nanos("1y").is_err());
        assert!(parse_duration_nanos("h").is_err());
    }

    #[test]
    fn flags_beat_the_file_and_the_file_can_point_to_a_token_file() {
        let dir = tempfile::tempdir().unwrap();
        let token_file = dir.path().join("admin.token");
        std::fs::write(&token_file, "gac_fromfile\n").unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                "server = \"http://10.1.1.1:7710/\"\ntoken_file = \"{}\"\n",
                token_file.display()
            ),
        )
        .unwrap();
        let raw = RawSettings {
            server: None,
            token: None,
            config: Some(config.clone()),
        };
        let s = Settings::resolve(raw).unwrap();
        assert_eq!(s.server, "http://10.1.1.1:7710");
        assert_eq!(s.token, "gac_fromfile");
        let raw = RawSettings {
            server: Some("http://127.0.0.1:1".into()),
            token: Some("gac_flag".into()),
            config: Some(config),
        };
        let s = Settings::resolve(raw).unwrap();
        assert_eq!(
            (s.server.as_str(), s.token.as_str()),
            ("http://127.0.0.1:1", "gac_flag")
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        std::fs::write(&config, "servr = \"x\"\n").unwrap();
        let raw = RawSettings {
            server: None,
            token: Some("t".into()),
            config: Some(config),
        };
        assert!(Settings::resolve(raw).is_err());
    }
}
