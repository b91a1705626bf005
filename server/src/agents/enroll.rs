//! Enrollment: an agent trades a one-time token and a CSR for its client certificate.
//!
//! A token reads `gacenroll1.<secret>.<CA fingerprint>`: the secret proves the operator
//! meant this enrollment (the server stores only its hash); the fingerprint (SHA-256 of
//! the CA certificate's DER, hex) lets the agent verify the server before it trusts
//! anything the server says, and then pin the CA.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use gac_event::Timestamp;
use gac_event::api::{EnrollRequest, EnrollResponse};

use super::pki::Pki;
use super::registry::{Enrollment, Registry, RegistryError};

/// First field of every token; the digit is the token format's version.
pub const TOKEN_PREFIX: &str = "gacenroll1";
/// Longest field an agent may send, so a hostile request costs little.
const MAX_FIELD_BYTES: usize = 1024;
const MAX_CSR_BYTES: usize = 16 * 1024;

/// Why an enrollment was refused; each maps to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    /// 400: the request is malformed (fields, CSR).
    #[error("{0}")]
    BadRequest(String),
    /// 401: the token is not valid here (unknown, expired, used, another server's).
    #[error("{0}")]
    BadToken(String),
    /// 403: the machine's agent is revoked.
    #[error("{0}")]
    Revoked(String),
    /// 500: the registry failed.
    #[error("{0}")]
    Internal(String),
}

/// A parsed enrollment token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollToken {
    pub secret: String,
    pub ca_fingerprint: String,
}

impl fmt::Display for EnrollToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{TOKEN_PREFIX}.{}.{}", self.secret, self.ca_fingerprint)
    }
}

impl EnrollToken {
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let (prefix, secret, fp) = (parts.next()?, parts.next()?, parts.next()?);
        let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
        if prefix != TOKEN_PREFIX || parts.next().is_some() || !hex64(secret) || !hex64(fp) {
            return None;
        }
        Some(Self {
            secret: secret.to_owned(),
            ca_fingerprint: fp.to_ascii_lowercase(),
        })
    }
}

/// `gac-server token create --enroll`: stores a new token's hash and returns the whole
/// token. Creates the CA if the data directory has none yet.
pub fn create_token(
    data_dir: &Path,
    registry: &Registry,
    ttl: Duration,
) -> Result<EnrollToken, anyhow::Error> {
    Pki::ensure_ca(data_dir)?;
    let ca_fingerprint = Pki::ca_fingerprint_at(data_dir)?;
    let secret = registry.create_token(ttl, Timestamp::now())?;
    Ok(EnrollToken {
        secret,
        ca_fingerprint,
    })
}

fn check_field(name: &str, value: &str, max: usize) -> Result<(), EnrollError> {
    if value.len() > max {
        return Err(EnrollError::BadRequest(format!(
            "{name} is longer than {max} bytes"
        )));
    }
    Ok(())
}

/// Checks a request and enrolls the agent (blocking: registry and signature).
pub fn enroll(
    registry: &Registry,
    pki: &Pki,
    req: &EnrollRequest,
    now: Timestamp,
) -> Result<EnrollResponse, EnrollError> {
    check_field("machine_id", &req.machine_id, MAX_FIELD_BYTES)?;
    check_field("hostname", &req.hostname, MAX_FIELD_BYTES)?;
    check_field("version", &req.version, MAX_FIELD_BYTES)?;
    check_field("csr_pem", &req.csr_pem, MAX_CSR_BYTES)?;
    if req.machine_id.trim().is_empty() {
        return Err(EnrollError::BadRequest("machine_id is empty".into()));
    }
    let token = EnrollToken::parse(&req.token)
        .ok_or_else(|| EnrollError::BadToken("not an enrollment token".into()))?;
    if token.ca_fingerprint != pki.ca_fingerprint() {
        return Err(EnrollError::BadToken(
            "the token was made by another server (its CA fingerprint differs)".into(),
        ));
    }
    let who = Enrollment {
        machine_id: &req.machine_id,
        hostname: &req.hostname,
        version: &req.version,
    };
    let sign = |id: &str| pki.sign_agent(&req.csr_pem, id).map_err(|e| e.to_string());
    match registry.enroll(&token.secret, &who, now, sign) {
        Ok((agent_id, cert_pem)) => Ok(EnrollResponse {
            agent_id,
            cert_pem,
            ca_pem: pki.ca_pem().to_owned(),
        }),
        Err(
            e @ (RegistryError::TokenUnknown
            | RegistryError::TokenExpired
            | RegistryError::TokenUsed),
        ) => Err(EnrollError::BadToken(e.to_string())),
        Err(e @ RegistryError::Revoked(_)) => Err(EnrollError::Revoked(e.to_string())),
        Err(RegistryError::Sign(e)) => Err(EnrollError::BadRequest(e)),
        Err(e) => Err(EnrollError::Internal(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::pki::{self, testing::csr};

    struct Fixture {
        _dir: tempfile::TempDir,
        registry: Registry,
        pki: Pki,
        data: std::path::PathBuf,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_owned();
        Fixture {
            registry: Registry::open(&data).unwrap(),
            pki: Pki::open(&data, &["localhost".to_owned()]).unwrap(),
            data,
            _dir: dir,
        }
    }

    fn request(token: &str, key: &rcgen::KeyPair) -> EnrollRequest {
        EnrollRequest {
            token: token.to_owned(),
            machine_id: "0123456789abcdef".into(),
            hostname: "web-01".into(),
            csr_pem: csr(key),
            version: "0.1.0".into(),
        }
    }

    #[test]
    fn tokens_round_trip_and_junk_is_not_a_token() {
        let t = EnrollToken {
            secret: "a".repeat(64),
            ca_fingerprint: "b".repeat(64),
        };
        assert_eq!(EnrollToken::parse(&t.to_string()), Some(t.clone()));
        assert_eq!(EnrollToken::parse(&format!(" {t}\n")), Some(t.clone()));
        for junk in [
            "",
            "gacenroll1",
            "gacenroll2.aa.bb",
            &format!("gacenroll1.{}.{}", "a".repeat(63), "b".repeat(64)),
            &format!("{t}.extra"),
            &format!("gacenroll1.{}.{}", "z".repeat(64), "b".repeat(64)),
        ] {
            assert_eq!(EnrollToken::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn a_token_enrolls_once_and_names_this_servers_ca() {
        let f = fixture();
        let token = create_token(&f.data, &f.registry, Duration::from_secs(60)).unwrap();
        assert_eq!(token.ca_fingerprint, f.pki.ca_fingerprint());
        let key = rcgen::KeyPair::generate().unwrap();
        let now = Timestamp::now();
        let resp = enroll(&f.registry, &f.pki, &request(&token.to_string(), &key), now).unwrap();
        let der = pki::pem_der(&resp.cert_pem).unwrap();
        assert_eq!(pki::agent_id_of(&der), Some(resp.agent_id.clone()));
        assert_eq!(resp.ca_pem, f.pki.ca_pem());
        let again = enroll(&f.registry, &f.pki, &request(&token.to_string(), &key), now);
        assert!(matches!(again, Err(EnrollError::BadToken(m)) if m.contains("used")));
    }

    #[test]
    fn refusals_say_why() {
        let f = fixture();
        let key = rcgen::KeyPair::generate().unwrap();
        let now = Timestamp::now();
        let token = create_token(&f.data, &f.registry, Duration::from_secs(60)).unwrap();
        // Another server's CA.
        let foreign = EnrollToken {
            ca_fingerprint: "0".repeat(64),
            ..token.clone()
        };
        let r = enroll(
            &f.registry,
            &f.pki,
            &request(&foreign.to_string(), &key),
            now,
        );
        assert!(matches!(r, Err(EnrollError::BadToken(m)) if m.contains("another server")));
        // A bad CSR does not use the token up.
        let mut bad = request(&token.to_string(), &key);
        bad.csr_pem = "not a csr".into();
        assert!(matches!(
            enroll(&f.registry, &f.pki, &bad, now),
            Err(EnrollError::BadRequest(_))
        ));
        let mut huge = request(&token.to_string(), &key);
        huge.hostname = "h".repeat(5000);
        assert!(matches!(
            enroll(&f.registry, &f.pki, &huge, now),
            Err(EnrollError::BadRequest(_))
        ));
        // Expired.
        let later = now.add_nanos(61_000_000_000);
        assert!(matches!(
            enroll(&f.registry, &f.pki, &request(&token.to_string(), &key), later),
            Err(EnrollError::BadToken(m)) if m.contains("expired")
        ));
        // Revoked machine.
        let resp = enroll(&f.registry, &f.pki, &request(&token.to_string(), &key), now).unwrap();
        f.registry.revoke(&resp.agent_id, now).unwrap();
        let t2 = create_token(&f.data, &f.registry, Duration::from_secs(60)).unwrap();
        assert!(matches!(
            enroll(&f.registry, &f.pki, &request(&t2.to_string(), &key), now),
            Err(EnrollError::Revoked(_))
        ));
    }
}
