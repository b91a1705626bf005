//! The agent registry, a SQLite database (`<data>/agents.sqlite`): enrolled agents (id,
//! machine identity hash, hostname, version, enrollment, revocation, last contact, latest
//! heartbeat) and enrollment tokens (only their SHA-256, expiry and use).
//!
//! Calls block: the endpoint and the API run them on `spawn_blocking`. The CLI
//! (`gac-server token create --enroll`, `agent revoke`) writes the same file while the
//! server runs; SQLite's WAL journal and a busy timeout make that safe, and the server
//! reads revocations from the file on every request, so a revoke takes effect at once.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use gac_event::Timestamp;
use gac_event::api::Heartbeat;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// File in the data directory.
pub const REGISTRY_FILE: &str = "agents.sqlite";
/// How long a call waits for the CLI's write to finish before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Used or expired tokens are deleted this long after they expire, keeping the table
/// small while recent refusals still say "used" rather than "unknown".
const TOKEN_KEEP_NANOS: i64 = 30 * 86_400 * 1_000_000_000;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agents (
    id            TEXT PRIMARY KEY,
    machine_hash  TEXT NOT NULL,
    hostname      TEXT NOT NULL,
    version       TEXT NOT NULL,
    enrolled_at   INTEGER NOT NULL,
    enrollments   INTEGER NOT NULL DEFAULT 1,
    revoked_at    INTEGER,
    last_contact  INTEGER,
    last_peer     TEXT,
    heartbeat_at  INTEGER,
    heartbeat     TEXT
);
CREATE TABLE IF NOT EXISTS enroll_tokens (
    hash        TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT
);
";

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("agent registry {path}: {source}")]
    Db {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("enrollment token is not known")]
    TokenUnknown,
    #[error("enrollment token has expired")]
    TokenExpired,
    #[error("enrollment token was already used")]
    TokenUsed,
    #[error("agent {0} is revoked")]
    Revoked(String),
    #[error("no agent {0}")]
    NoSuchAgent(String),
    #[error("{0}")]
    Sign(String),
}

/// What the registry says of an agent presenting a valid certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    Revoked,
    /// Signed by our CA but not in the registry (the database was replaced): refused,
    /// since its revocation could not be known.
    Unknown,
}

/// One row of `agents`.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord {
    pub id: String,
    pub hostname: String,
    pub version: String,
    pub enrolled_at: Timestamp,
    pub enrollments: u64,
    pub revoked_at: Option<Timestamp>,
    pub last_contact: Option<Timestamp>,
    pub last_peer: Option<String>,
    pub heartbeat_at: Option<Timestamp>,
    pub heartbeat: Option<Heartbeat>,
}

/// What an agent tells at enrollment.
#[derive(Debug, Clone)]
pub struct Enrollment<'a> {
    pub machine_id: &'a str,
    pub hostname: &'a str,
    pub version: &'a str,
}

/// The agent id for a machine identity: stable, so a reinstall on the same host is the
/// same agent. A domain-separated hash, so it reveals nothing usable about the machine id.
pub fn agent_id_for(machine_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"gac-agent-id\0");
    h.update(machine_id.trim().as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// The stored hash of a token secret.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn machine_hash(machine_id: &str) -> String {
    hex::encode(Sha256::digest(machine_id.trim().as_bytes()))
}

/// The registry database.
#[derive(Debug)]
pub struct Registry {
    path: PathBuf,
    conn: Mutex<Connection>,
}

fn ts(ns: Option<i64>) -> Option<Timestamp> {
    ns.map(Timestamp::from_nanos)
}

impl Registry {
    /// Opens (creating) `<data>/agents.sqlite`.
    pub fn open(data_dir: &Path) -> Result<Self, RegistryError> {
        let path = data_dir.join(REGISTRY_FILE);
        let err = |source| RegistryError::Db {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        // WAL: the server reads while the CLI writes. NORMAL: a power cut may lose the
        // last contact time, never the database.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    fn db<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, RegistryError> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|source| RegistryError::Db {
            path: self.path.clone(),
            source,
        })
    }

    /// Stores a new token's hash, valid for `ttl`, and returns its secret (shown once).
    pub fn create_token(&self, ttl: Duration, now: Timestamp) -> Result<String, RegistryError> {
        let secret = hex::encode(rand::random::<[u8; 32]>());
        let expires = now.add_nanos(i64::try_from(ttl.as_nanos()).unwrap_or(i64::MAX));
        self.db(|c| {
            c.execute(
                "DELETE FROM enroll_tokens WHERE expires_at < ?1",
                [now.nanos().saturating_sub(TOKEN_KEEP_NANOS)],
            )?;
            c.execute(
                "INSERT INTO enroll_tokens (hash, created_at, expires_at) VALUES (?1, ?2, ?3)",
                params![token_hash(&secret), now.nanos(), expires.nanos()],
            )?;
            Ok(())
        })?;
        Ok(secret)
    }

    /// Enrolls with a token secret: checks it (known, unexpired, unused) and that the
    /// machine is not revoked, has `sign` issue the certificate for the agent id, then
    /// marks the token used and records the agent, all in one transaction: a failed
    /// signature leaves the token usable. Returns the agent id and what `sign` made.
    pub fn enroll<T>(
        &self,
        secret: &str,
        who: &Enrollment<'_>,
        now: Timestamp,
        sign: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<(String, T), RegistryError> {
        let id = agent_id_for(who.machine_id);
        let hash = token_hash(secret);
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let db = |source| RegistryError::Db {
            path: self.path.clone(),
            source,
        };
        // IMMEDIATE: two agents racing with one token cannot both read it unused.
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        let token: Option<(i64, Option<i64>)> = tx
            .query_row(
                "SELECT expires_at, used_at FROM enroll_tokens WHERE hash = ?1",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)?;
        match token {
            None => return Err(RegistryError::TokenUnknown),
            Some((_, Some(_))) => return Err(RegistryError::TokenUsed),
            Some((expires, None)) if expires <= now.nanos() => {
                return Err(RegistryError::TokenExpired);
            }
            Some(_) => {}
        }
        let revoked: Option<Option<i64>> = tx
            .query_row("SELECT revoked_at FROM agents WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        if let Some(Some(_)) = revoked {
            return Err(RegistryError::Revoked(id));
        }
        let made = sign(&id).map_err(RegistryError::Sign)?;
        tx.execute(
            "UPDATE enroll_tokens SET used_at = ?1, used_by = ?2 WHERE hash = ?3",
            params![now.nanos(), id, hash],
        )
        .map_err(db)?;
        tx.execute(
            "INSERT INTO agents (id, machine_hash, hostname, version, enrolled_at)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT(id) DO UPDATE SET hostname = ?3, version = ?4, enrolled_at = ?5,
                 enrollments = enrollments + 1",
            params![
                id,
                machine_hash(who.machine_id),
                who.hostname,
                who.version,
                now.nanos()
            ],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok((id, made))
    }

    /// Checks an agent on contact and, when allowed, records the time and address.
    pub fn contact(&self, id: &str, peer: &str, now: Timestamp) -> Result<Access, RegistryError> {
        self.contact_epoch(id, peer, now).map(|(access, _)| access)
    }

    /// [`contact`](Self::contact), also saying which enrollment of the agent this is
    /// (1 for the first; a reinstall enrolls again and numbers its sources afresh).
    pub fn contact_epoch(
        &self,
        id: &str,
        peer: &str,
        now: Timestamp,
    ) -> Result<(Access, u32), RegistryError> {
        self.db(|c| {
            let row: Option<(Option<i64>, i64)> = c
                .query_row(
                    "SELECT revoked_at, enrollments FROM agents WHERE id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(match row {
                None => (Access::Unknown, 0),
                Some((Some(_), _)) => (Access::Revoked, 0),
                Some((None, enrollments)) => {
                    c.execute(
                        "UPDATE agents SET last_contact = ?1, last_peer = ?2 WHERE id = ?3",
                        params![now.nanos(), peer, id],
                    )?;
                    (
                        Access::Allowed,
                        u32::try_from(enrollments).unwrap_or(u32::MAX),
                    )
                }
            })
        })
    }

    /// Records a heartbeat (and the contact) of an allowed agent.
    pub fn heartbeat(
        &self,
        id: &str,
        peer: &str,
        hb: &Heartbeat,
        now: Timestamp,
    ) -> Result<Access, RegistryError> {
        let access = self.contact(id, peer, now)?;
        if access != Access::Allowed {
            return Ok(access);
        }
        let json = serde_json::to_string(hb).unwrap_or_default();
        self.db(|c| {
            c.execute(
                "UPDATE agents SET heartbeat_at = ?1, heartbeat = ?2,
                     hostname = CASE WHEN ?3 = '' THEN hostname ELSE ?3 END,
                     version = CASE WHEN ?4 = '' THEN version ELSE ?4 END
                 WHERE id = ?5",
                params![now.nanos(), json, hb.hostname, hb.version, id],
            )?;
            Ok(access)
        })
    }

    /// Revokes an agent: its batches and heartbeats are refused from now on, and its
    /// machine cannot enroll again. False if it was already revoked.
    pub fn revoke(&self, id: &str, now: Timestamp) -> Result<bool, RegistryError> {
        let (changed, exists) = self.db(|c| {
            let changed = c.execute(
                "UPDATE agents SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                params![now.nanos(), id],
            )?;
            let exists: Option<i64> = c
                .query_row("SELECT 1 FROM agents WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            Ok((changed, exists.is_some()))
        })?;
        if !exists {
            return Err(RegistryError::NoSuchAgent(id.to_owned()));
        }
        Ok(changed > 0)
    }

    /// Every agent, by id.
    pub fn list(&self) -> Result<Vec<AgentRecord>, RegistryError> {
        self.query("", &[])
    }

    /// One agent.
    pub fn get(&self, id: &str) -> Result<Option<AgentRecord>, RegistryError> {
        Ok(self.query("WHERE id = ?1", &[&id])?.pop())
    }

    fn query(
        &self,
        filter: &str,
        args: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<AgentRecord>, RegistryError> {
        self.db(|c| {
            let sql = format!(
                "SELECT id, hostname, version, enrolled_at, enrollments, revoked_at,
                        last_contact, last_peer, heartbeat_at, heartbeat
                 FROM agents {filter} ORDER BY id"
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(args, |r| {
                let heartbeat: Option<String> = r.get(9)?;
                Ok(AgentRecord {
                    id: r.get(0)?,
                    hostname: r.get(1)?,
                    version: r.get(2)?,
                    enrolled_at: Timestamp::from_nanos(r.get(3)?),
                    enrollments: r.get::<_, i64>(4)?.max(0) as u64,
                    revoked_at: ts(r.get(5)?),
                    last_contact: ts(r.get(6)?),
                    last_peer: r.get(7)?,
                    heartbeat_at: ts(r.get(8)?),
                    // A heartbeat this build cannot read is shown as absent, not fatal.
                    heartbeat: heartbeat.and_then(|h| serde_json::from_str(&h).ok()),
                })
            })?;
            rows.collect()
        })
    }

    /// The stored token hashes (for tests and audits: never the secrets).
    pub fn token_hashes(&self) -> Result<Vec<String>, RegistryError> {
        self.db(|c| {
            let mut stmt = c.prepare("SELECT hash FROM enroll_tokens ORDER BY hash")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn who(machine: &str) -> Enrollment<'_> {
        Enrollment {
            machine_id: machine,
            hostname: "web-01",
            version: "0.1.0",
        }
    }

    fn ok(_: &str) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn tokens_are_one_time_expiring_and_stored_as_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        let now = Timestamp::from_secs(1_000_000);
        let secret = reg.create_token(HOUR, now).unwrap();
        assert_eq!(reg.token_hashes().unwrap(), [token_hash(&secret)]);
        let raw = std::fs::read(dir.path().join(REGISTRY_FILE)).unwrap();
        let wal = std::fs::read(dir.path().join("agents.sqlite-wal")).unwrap_or_default();
        for bytes in [raw, wal] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the secret is on disk"
            );
        }
        let (id, ()) = reg.enroll(&secret, &who("m-1"), now, ok).unwrap();
        assert_eq!(id, agent_id_for("m-1"));
        assert!(matches!(
            reg.enroll(&secret, &who("m-2"), now, ok),
            Err(RegistryError::TokenUsed)
        ));
        assert!(matches!(
            reg.enroll("nope", &who("m-2"), now, ok),
            Err(RegistryError::TokenUnknown)
        ));
        let late = reg.create_token(HOUR, now).unwrap();
        let after = now.add_nanos(HOUR.as_nanos() as i64);
        assert!(matches!(
            reg.enroll(&late, &who("m-2"), after, ok),
            Err(RegistryError::TokenExpired)
        ));
    }

    #[test]
    fn a_failed_signature_leaves_the_token_usable() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        let now = Timestamp::from_secs(10);
        let secret = reg.create_token(HOUR, now).unwrap();
        let bad = reg.enroll(&secret, &who("m"), now, |_| Err::<(), _>("bad csr".into()));
        assert!(matches!(bad, Err(RegistryError::Sign(_))));
        assert!(reg.list().unwrap().is_empty());
        assert!(reg.enroll(&secret, &who("m"), now, ok).is_ok());
    }

    #[test]
    fn reinstalls_are_the_same_agent_and_revoked_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        let now = Timestamp::from_secs(10);
        let t1 = reg.create_token(HOUR, now).unwrap();
        let t2 = reg.create_token(HOUR, now).unwrap();
        let (a, ()) = reg.enroll(&t1, &who("machine-x\n"), now, ok).unwrap();
        let (b, ()) = reg.enroll(&t2, &who("machine-x"), now, ok).unwrap();
        assert_eq!(a, b);
        let list = reg.list().unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].enrollments, 2);

        assert_eq!(reg.contact(&a, "10.0.0.5", now).unwrap(), Access::Allowed);
        assert_eq!(
            reg.get(&a).unwrap().unwrap().last_peer.as_deref(),
            Some("10.0.0.5")
        );
        assert_eq!(reg.contact("stranger", "x", now).unwrap(), Access::Unknown);
        assert!(reg.revoke(&a, now).unwrap());
        assert!(!reg.revoke(&a, now).unwrap());
        assert!(matches!(
            reg.revoke("stranger", now),
            Err(RegistryError::NoSuchAgent(_))
        ));
        assert_eq!(reg.contact(&a, "x", now).unwrap(), Access::Revoked);
        let hb = Heartbeat::default();
        assert_eq!(reg.heartbeat(&a, "x", &hb, now).unwrap(), Access::Revoked);
        // Revocation survives a reopen (another process, the CLI, wrote it).
        let again = Registry::open(dir.path()).unwrap();
        let t3 = again.create_token(HOUR, now).unwrap();
        assert!(matches!(
            again.enroll(&t3, &who("machine-x"), now, ok),
            Err(RegistryError::Revoked(_))
        ));
    }

    #[test]
    fn heartbeats_are_kept_with_the_agent() {
        let dir = tempfile::tempdir().unwrap();
        let reg = Registry::open(dir.path()).unwrap();
        let now = Timestamp::from_secs(10);
        let t = reg.create_token(HOUR, now).unwrap();
        let (id, ()) = reg.enroll(&t, &who("m"), now, ok).unwrap();
        let hb = Heartbeat {
            version: "0.2.0".into(),
            hostname: "web-01.example".into(),
            spool_bytes: 4096,
            spool_records: 12,
            lag_secs: 1.5,
            errors: [("read".to_owned(), 2)].into(),
            sources: vec![gac_event::api::HeartbeatSource {
                source: "/var/log/syslog".into(),
                last_seq: 40,
                last_acked_seq: 28,
            }],
        };
        let later = Timestamp::from_secs(20);
        assert_eq!(
            reg.heartbeat(&id, "10.0.0.9", &hb, later).unwrap(),
            Access::Allowed
        );
        let rec = reg.get(&id).unwrap().unwrap();
        assert_eq!(rec.heartbeat.as_ref(), Some(&hb));
        assert_eq!(rec.version, "0.2.0");
        assert_eq!(rec.hostname, "web-01.example");
        assert_eq!(
            (rec.heartbeat_at, rec.last_contact),
            (Some(later), Some(later))
        );
    }
}
