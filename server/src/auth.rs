//! API tokens. The server keeps only SHA-256 hashes (`<data>/tokens.json`); the token
//! itself is shown once, when it is made. Roles come with the triage API; for now every
//! token may read.

use std::path::{Path, PathBuf};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// File in the data directory holding the token hashes.
pub const TOKENS_FILE: &str = "tokens.json";
/// File in the data directory where `init` leaves the first admin token for local use
/// (readable by its owner only).
pub const ADMIN_TOKEN_FILE: &str = "admin.token";
/// Tokens start with this, so a leaked one is easy to recognise in a scan.
const PREFIX: &str = "gac_";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid token file: {source}")]
    Format {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Analyst,
    Admin,
}

/// One stored token: its name, role and hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenEntry {
    pub name: String,
    pub role: Role,
    pub sha256: String,
}

/// The tokens the API accepts.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<TokenEntry>,
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Tokens {
    /// Loads `<data>/tokens.json`; a missing file means no token is accepted.
    pub fn load(data_dir: &Path) -> Result<Self, AuthError> {
        let path = data_dir.join(TOKENS_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(source) => return Err(AuthError::Io { path, source }),
        };
        let entries =
            serde_json::from_str(&text).map_err(|source| AuthError::Format { path, source })?;
        Ok(Self { entries })
    }

    /// Makes a new token, stores its hash, and returns the token (shown once).
    pub fn create(data_dir: &Path, name: &str, role: Role) -> Result<String, AuthError> {
        let mut tokens = Self::load(data_dir)?;
        let mut secret = [0u8; 24];
        rand::rng().fill_bytes(&mut secret);
        let token = format!("{PREFIX}{}", hex::encode(secret));
        tokens.entries.push(TokenEntry {
            name: name.to_owned(),
            role,
            sha256: hash(&token),
        });
        let path = data_dir.join(TOKENS_FILE);
        let text =
            serde_json::to_string_pretty(&tokens.entries).map_err(|source| AuthError::Format {
                path: path.clone(),
                source,
            })?;
        write_private(&path, &text)?;
        Ok(token)
    }

    /// The entry a presented token belongs to, if any.
    pub fn check(&self, presented: &str) -> Option<&TokenEntry> {
        let h = hash(presented);
        // Comparing hashes, not secrets, so timing reveals nothing about the token.
        self.entries.iter().find(|e| e.sha256 == h)
    }
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> Result<(), AuthError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |source| AuthError::Io {
        path: path.to_owned(),
        source,
    };
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(text.as_bytes()).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_tokens_check_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let t = Tokens::create(dir.path(), "admin", Role::Admin).unwrap();
        assert!(t.starts_with(PREFIX));
        let tokens = Tokens::load(dir.path()).unwrap();
        assert_eq!(tokens.check(&t).map(|e| e.role), Some(Role::Admin));
        assert!(tokens.check("gac_nope").is_none());
        // The secret itself is never stored.
        let stored = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!stored.contains(&t));
    }
}
