//! Enrollment (`gac-agent enroll --server URL --token TOKEN`) and the identity it leaves
//! in the state directory: `key.pem` (made here, never sent), `cert.pem` (issued by the
//! server's CA for this machine), `ca.pem` (the pinned CA) and `enrollment.json`
//! (agent id and server URL).
//!
//! The token `gacenroll1.<secret>.<sha256 hex of the CA certificate>` tells the agent
//! which CA to trust before it has ever talked to the server.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use gac_event::api::{EnrollRequest, EnrollResponse};
use serde::{Deserialize, Serialize};

use crate::tls::{self, TlsError};

/// The token's prefix; a later format gets another.
pub const TOKEN_PREFIX: &str = "gacenroll1";
/// The enrollment endpoint.
pub const ENROLL_PATH: &str = "/api/agent/v1/enroll";

/// Why enrollment failed or the identity could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error("malformed enrollment token: expected gacenroll1.<secret>.<64 hex digits>")]
    BadToken,
    #[error("no machine id: {0}")]
    MachineId(String),
    #[error("key generation: {0}")]
    Key(#[from] rcgen::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("the server refused the token (invalid, expired or already used)")]
    TokenRefused,
    #[error("the server says this machine's agent is revoked")]
    Revoked,
    #[error("enrollment failed: HTTP {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the server's answer is not valid: {0}")]
    BadAnswer(String),
    #[error("state file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("not enrolled yet (no {0}): run `gac-agent enroll --server URL --token TOKEN`")]
    NotEnrolled(PathBuf),
}

/// A parsed enrollment token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The whole token, as the server wants it back.
    pub text: String,
    /// SHA-256 of the server CA's DER, lowercase hex.
    pub ca_fingerprint: String,
}

impl Token {
    /// Parses `gacenroll1.<secret>.<hex>`.
    pub fn parse(text: &str) -> Result<Self, EnrollError> {
        let text = text.trim();
        let mut parts = text.split('.');
        let (Some(prefix), Some(secret), Some(fp), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(EnrollError::BadToken);
        };
        if prefix != TOKEN_PREFIX
            || secret.is_empty()
            || fp.len() != 64
            || !fp.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(EnrollError::BadToken);
        }
        Ok(Self {
            text: text.to_owned(),
            ca_fingerprint: fp.to_ascii_lowercase(),
        })
    }
}

/// The stable machine identity: the configured file, else `/etc/machine-id`, else
/// `/var/lib/dbus/machine-id`.
pub fn machine_id(configured: Option<&Path>) -> Result<String, EnrollError> {
    let candidates: Vec<PathBuf> = match configured {
        Some(p) => vec![p.to_owned()],
        None => vec!["/etc/machine-id".into(), "/var/lib/dbus/machine-id".into()],
    };
    for p in &candidates {
        if let Ok(s) = std::fs::read_to_string(p) {
            let id = s.trim();
            if !id.is_empty() {
                return Ok(id.to_owned());
            }
        }
    }
    Err(EnrollError::MachineId(format!(
        "none of {candidates:?} holds one"
    )))
}

/// The kernel's host name (or the configured one).
pub fn hostname(configured: Option<&str>) -> String {
    if let Some(h) = configured {
        return h.to_owned();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// What `enrollment.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Enrollment {
    /// The id the server gave this agent.
    pub agent_id: String,
    /// The server URL enrolled with.
    pub server_url: String,
}

/// Everything needed to ship: who we are and how to reach the server.
#[derive(Debug)]
pub struct Identity {
    /// Agent id and server URL.
    pub enrollment: Enrollment,
    /// The pinned mutual-TLS client configuration (replaced on renewal).
    pub tls: tls::SharedConfig,
}

/// State file names.
fn files(dir: &Path) -> [PathBuf; 4] {
    [
        dir.join("key.pem"),
        dir.join("cert.pem"),
        dir.join("ca.pem"),
        dir.join("enrollment.json"),
    ]
}

/// Writes a file so that it is either whole or absent, readable by the owner only when
/// `private`.
pub fn write_atomic(path: &Path, bytes: &[u8], private: bool) -> Result<(), EnrollError> {
    let io = |source| EnrollError::Io {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    if private {
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp).map_err(io)?;
    if private {
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// Enrolls with the server and writes the identity into `state_dir`.
pub async fn enroll(
    server_url: &str,
    token: &str,
    state_dir: &Path,
    machine_id: &str,
    hostname: &str,
) -> Result<Enrollment, EnrollError> {
    let token = Token::parse(token)?;
    std::fs::create_dir_all(state_dir).map_err(|source| EnrollError::Io {
        path: state_dir.to_owned(),
        source,
    })?;
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    let csr = params.serialize_request(&key)?.pem()?;
    let body = serde_json::to_vec(&EnrollRequest {
        token: token.text.clone(),
        machine_id: machine_id.to_owned(),
        hostname: hostname.to_owned(),
        csr_pem: csr,
        version: env!("CARGO_PKG_VERSION").to_owned(),
    })
    .map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
    let mut client = tls::Client::new(
        server_url,
        tls::shared(tls::enroll_config(&token.ca_fingerprint)?),
        Duration::from_secs(30),
    )?;
    let resp = client
        .post(ENROLL_PATH, "application/json", Bytes::from(body))
        .await?;
    match resp.status {
        200 => {}
        401 => return Err(EnrollError::TokenRefused),
        403 => return Err(EnrollError::Revoked),
        status => {
            return Err(EnrollError::Status {
                status,
                body: String::from_utf8_lossy(&resp.body)
                    .chars()
                    .take(500)
                    .collect(),
            });
        }
    }
    let answer: EnrollResponse =
        serde_json::from_slice(&resp.body).map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
    // The CA we pin must be the one the token named (and the one we just verified).
    let ca = tls::certs_from_pem(&answer.ca_pem, "ca_pem")?;
    if !ca
        .iter()
        .any(|c| tls::fingerprint(c) == token.ca_fingerprint)
    {
        return Err(EnrollError::BadAnswer(
            "ca_pem is not the CA named by the token".into(),
        ));
    }
    let key_pem = key.serialize_pem();
    // Check that the pieces make a working client before writing anything.
    tls::pinned_config(&answer.ca_pem, &answer.cert_pem, &key_pem)?;
    let enrollment = Enrollment {
        agent_id: answer.agent_id,
        server_url: server_url.to_owned(),
    };
    let [key_path, cert_path, ca_path, json_path] = files(state_dir);
    write_atomic(&key_path, key_pem.as_bytes(), true)?;
    write_atomic(&cert_path, answer.cert_pem.as_bytes(), false)?;
    write_atomic(&ca_path, answer.ca_pem.as_bytes(), false)?;
    let json = serde_json::to_vec_pretty(&enrollment)
        .map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
    write_atomic(&json_path, &json, false)?;
    Ok(enrollment)
}

/// Loads the identity written by [`enroll`]; `server_url` overrides the enrolled one.
pub fn load_identity(state_dir: &Path, server_url: Option<&str>) -> Result<Identity, EnrollError> {
    finish_renewal(state_dir)?;
    let [key_path, cert_path, ca_path, json_path] = files(state_dir);
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                EnrollError::NotEnrolled(p.to_owned())
            } else {
                EnrollError::Io {
                    path: p.to_owned(),
                    source,
                }
            }
        })
    };
    let mut enrollment: Enrollment = serde_json::from_str(&read(&json_path)?)
        .map_err(|e| EnrollError::BadAnswer(format!("{}: {e}", json_path.display())))?;
    if let Some(url) = server_url {
        enrollment.server_url = url.to_owned();
    }
    let tls = tls::pinned_config(&read(&ca_path)?, &read(&cert_path)?, &read(&key_path)?)?;
    Ok(Identity {
        enrollment,
        tls: tls::shared(tls),
    })
}

/// The renewal endpoint (client certificate required).
pub const RENEW_PATH: &str = "/api/agent/v1/renew";
/// Renew when the certificate has less than this left (agent certificates last a year).
const RENEW_BEFORE_SECS: i64 = 30 * 86_400;

/// When a PEM certificate stops being valid, in seconds since the epoch.
pub fn not_after(cert_pem: &str) -> Option<i64> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some(cert.validity().not_after.timestamp())
}

/// A renewal writes `key.pem.next` and `cert.pem.next`, then renames them over the old
/// pair; a crash between the two renames is finished here, so key and certificate always
/// match.
fn finish_renewal(state_dir: &Path) -> Result<(), EnrollError> {
    let [key_path, cert_path, ..] = files(state_dir);
    let (key_next, cert_next) = (
        key_path.with_extension("pem.next"),
        cert_path.with_extension("pem.next"),
    );
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| EnrollError::Io { path, source }
    };
    if cert_next.exists() {
        if key_next.exists() {
            std::fs::rename(&key_next, &key_path).map_err(io(&key_path))?;
        }
        std::fs::rename(&cert_next, &cert_path).map_err(io(&cert_path))?;
    } else if key_next.exists() {
        // The certificate never arrived: the old pair is still whole.
        std::fs::remove_file(&key_next).map_err(io(&key_next))?;
    }
    Ok(())
}

/// Renews the client certificate if it runs out within 30 days: a new key, a CSR sent
/// over the current mutual-TLS connection, the answer checked against the pinned CA,
/// then the files replaced and `shared` switched for new connections. True if renewed.
pub async fn renew_if_due(
    state_dir: &Path,
    client: &mut tls::Client,
    shared: &tls::SharedConfig,
) -> Result<bool, EnrollError> {
    let [key_path, cert_path, ca_path, _] = files(state_dir);
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|source| EnrollError::Io {
            path: p.to_owned(),
            source,
        })
    };
    let cert_pem = read(&cert_path)?;
    let ends = not_after(&cert_pem)
        .ok_or_else(|| EnrollError::BadAnswer("cert.pem has no validity".into()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    if ends - now > RENEW_BEFORE_SECS {
        return Ok(false);
    }
    let key = rcgen::KeyPair::generate()?;
    let csr = rcgen::CertificateParams::new(Vec::<String>::new())?
        .serialize_request(&key)?
        .pem()?;
    let body = serde_json::to_vec(&gac_event::api::RenewRequest { csr_pem: csr })
        .map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
    let resp = client
        .post(RENEW_PATH, "application/json", Bytes::from(body))
        .await?;
    match resp.status {
        200 => {}
        401 | 403 => return Err(EnrollError::Revoked),
        status => {
            return Err(EnrollError::Status {
                status,
                body: String::from_utf8_lossy(&resp.body)
                    .chars()
                    .take(500)
                    .collect(),
            });
        }
    }
    let answer: EnrollResponse =
        serde_json::from_slice(&resp.body).map_err(|e| EnrollError::BadAnswer(e.to_string()))?;
    let ca_pem = read(&ca_path)?;
    let key_pem = key.serialize_pem();
    // The pinned CA stays: the new certificate must verify under it.
    let config = tls::pinned_config(&ca_pem, &answer.cert_pem, &key_pem)?;
    write_atomic(
        &key_path.with_extension("pem.next"),
        key_pem.as_bytes(),
        true,
    )?;
    write_atomic(
        &cert_path.with_extension("pem.next"),
        answer.cert_pem.as_bytes(),
        false,
    )?;
    finish_renewal(state_dir)?;
    match shared.write() {
        Ok(mut c) => *c = std::sync::Arc::new(config),
        Err(p) => *p.into_inner() = std::sync::Arc::new(config),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse() {
        let fp = "AB".repeat(32);
        let t = Token::parse(&format!(" gacenroll1.s3cret.{fp}\n")).unwrap();
        assert_eq!(t.ca_fingerprint, "ab".repeat(32));
        assert_eq!(t.text, format!("gacenroll1.s3cret.{fp}"));
        for bad in [
            "".to_owned(),
            format!("gacenroll2.s.{fp}"),
            format!("gacenroll1..{fp}"),
            "gacenroll1.s.abcd".to_owned(),
            format!("gacenroll1.s.{fp}.x"),
            format!("gacenroll1.s.{}", "zz".repeat(32)),
        ] {
            assert!(Token::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn machine_id_prefers_the_configured_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("mid");
        std::fs::write(&p, "abc123\n").unwrap();
        assert_eq!(machine_id(Some(&p)).unwrap(), "abc123");
        assert!(machine_id(Some(&dir.path().join("none"))).is_err());
    }

    #[test]
    fn key_is_written_private_and_identity_loads() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_identity(dir.path(), None),
            Err(EnrollError::NotEnrolled(_))
        ));
        let pki = crate::tls::tests::test_pki("ca");
        let [key, cert, ca, json] = files(dir.path());
        write_atomic(&key, pki.leaf_key_pem.as_bytes(), true).unwrap();
        write_atomic(&cert, pki.leaf_pem.as_bytes(), false).unwrap();
        write_atomic(&ca, pki.ca_pem.as_bytes(), false).unwrap();
        let e = Enrollment {
            agent_id: "a-1".into(),
            server_url: "https://127.0.0.1:7711".into(),
        };
        write_atomic(&json, &serde_json::to_vec(&e).unwrap(), false).unwrap();
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let id = load_identity(dir.path(), Some("https://other:1")).unwrap();
        assert_eq!(id.enrollment.agent_id, "a-1");
        assert_eq!(id.enrollment.server_url, "https://other:1");
        assert!(not_after(&pki.leaf_pem).unwrap() > 0);
        // A renewal cut short after the key's rename is finished on load.
        let other = crate::tls::tests::test_pki("ca2");
        write_atomic(
            &dir.path().join("cert.pem.next"),
            other.leaf_pem.as_bytes(),
            false,
        )
        .unwrap();
        std::fs::rename(&key, dir.path().join("key.pem.next")).unwrap();
        write_atomic(&key, other.leaf_key_pem.as_bytes(), true).unwrap();
        std::fs::remove_file(dir.path().join("key.pem.next")).unwrap();
        finish_renewal(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(&cert).unwrap(), other.leaf_pem);
        assert!(!dir.path().join("cert.pem.next").exists());
    }
}
