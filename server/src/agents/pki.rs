//! The server's own certificate authority (`<data>/pki/`): it signs the server's TLS
//! certificate (re-issued at each start for the configured names) and every agent's
//! client certificate at enrollment. Agents pin the CA, whose SHA-256 fingerprint is part
//! of each enrollment token, so no public CA is involved.
//!
//! An agent's certificate names it twice: the subject's CN and a SAN URI
//! `urn:gac:agent:<id>`. The endpoint takes the agent id from the verified certificate,
//! never from what the agent says.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Datelike;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use sha2::{Digest, Sha256};

/// Directory in the data directory.
pub const PKI_DIR: &str = "pki";
const CA_KEY: &str = "ca.key";
const CA_CERT: &str = "ca.pem";
const SERVER_KEY: &str = "server.key";
const SERVER_CERT: &str = "server.pem";
/// SAN URI prefix naming an agent in its certificate.
pub const AGENT_URI_PREFIX: &str = "urn:gac:agent:";
/// The CA outlives any deployment plan; replacing it means re-enrolling every agent.
const CA_VALID_DAYS: i64 = 20 * 365;
/// Re-issued at every start, so this only has to outlast one long uptime.
const SERVER_VALID_DAYS: i64 = 2 * 365;
/// An agent re-enrolls (same id) before this runs out.
const AGENT_VALID_DAYS: i64 = 365;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate or key {path} is not usable: {source}")]
    Load { path: PathBuf, source: rcgen::Error },
    #[error("cannot issue a certificate: {0}")]
    Issue(rcgen::Error),
    #[error("the certificate signing request is not valid: {0}")]
    Csr(rcgen::Error),
    #[error("tls setup: {0}")]
    Tls(String),
    #[error("server name {0:?} cannot go in a certificate")]
    Name(String),
}

/// The CA and the server's TLS identity.
#[derive(Debug)]
pub struct Pki {
    dir: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    server_tls: Arc<rustls::ServerConfig>,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Sets a certificate's validity from yesterday (midnight UTC: a day of slack keeps a
/// client with a slow clock from seeing a certificate from the future) to `days` ahead.
fn set_validity(params: &mut CertificateParams, days: i64) {
    let date = |offset: i64| {
        let d = (chrono::Utc::now() + chrono::Duration::days(offset)).date_naive();
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };
    params.not_before = date(-1);
    params.not_after = date(days);
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // Positive and without a leading zero byte, as RFC 5280 asks.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&bytes)
}

/// The SHA-256 of a certificate's DER, lowercase hex: what an enrollment token carries.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The agent id a verified client certificate names (its SAN URI), if any.
pub fn agent_id_of(cert: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|n| match n {
        x509_parser::extensions::GeneralName::URI(uri) => uri
            .strip_prefix(AGENT_URI_PREFIX)
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
        _ => None,
    })
}

fn write_key(path: &Path, pem: &str) -> Result<(), PkiError> {
    crate::auth::write_private(path, pem).map_err(|e| PkiError::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })
}

fn server_names(names: &[String]) -> Result<Vec<SanType>, PkiError> {
    names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => n
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|_| PkiError::Name(n.clone())),
        })
        .collect()
}

impl Pki {
    /// Creates the CA in `<data>/pki` unless one is there (an existing CA is never
    /// replaced: every agent trusts it). True if it was created.
    pub fn ensure_ca(data_dir: &Path) -> Result<bool, PkiError> {
        let dir = data_dir.join(PKI_DIR);
        let (key_path, cert_path) = (dir.join(CA_KEY), dir.join(CA_CERT));
        if key_path.exists() && cert_path.exists() {
            return Ok(false);
        }
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(io_err(&dir))?;
        }
        let key = KeyPair::generate().map_err(PkiError::Issue)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "Gac agent CA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Gac");
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params, CA_VALID_DAYS);
        params.serial_number = Some(random_serial());
        let cert = params.self_signed(&key).map_err(PkiError::Issue)?;
        // Key first: a crash between the two leaves no certificate without its key.
        write_key(&key_path, &key.serialize_pem())?;
        std::fs::write(&cert_path, cert.pem()).map_err(io_err(&cert_path))?;
        Ok(true)
    }

    /// The fingerprint of the CA in `<data>/pki`, without issuing anything (for the CLI).
    pub fn ca_fingerprint_at(data_dir: &Path) -> Result<String, PkiError> {
        let path = data_dir.join(PKI_DIR).join(CA_CERT);
        let pem = std::fs::read_to_string(&path).map_err(io_err(&path))?;
        let der = pem_der(&pem).ok_or(PkiError::Load {
            path,
            source: rcgen::Error::CouldNotParseCertificate,
        })?;
        Ok(fingerprint(&der))
    }

    /// Loads the CA (creating it if missing) and issues the server's certificate for
    /// `tls_names`, written to `<data>/pki/server.{pem,key}` for inspection.
    pub fn open(data_dir: &Path, tls_names: &[String]) -> Result<Self, PkiError> {
        if Self::ensure_ca(data_dir)? {
            tracing::info!(dir = %data_dir.join(PKI_DIR).display(), "created the agent CA");
        }
        let dir = data_dir.join(PKI_DIR);
        let (key_path, cert_path) = (dir.join(CA_KEY), dir.join(CA_CERT));
        let key_pem = std::fs::read_to_string(&key_path).map_err(io_err(&key_path))?;
        let ca_pem = std::fs::read_to_string(&cert_path).map_err(io_err(&cert_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|source| PkiError::Load {
            path: key_path.clone(),
            source,
        })?;
        let ca_der = pem_der(&ca_pem).ok_or_else(|| PkiError::Load {
            path: cert_path.clone(),
            source: rcgen::Error::CouldNotParseCertificate,
        })?;
        let issuer = Issuer::from_ca_cert_pem(&ca_pem, key).map_err(|source| PkiError::Load {
            path: cert_path.clone(),
            source,
        })?;

        let server_key = KeyPair::generate().map_err(PkiError::Issue)?;
        let mut params = CertificateParams::default();
        params.subject_alt_names = server_names(tls_names)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(
            DnType::CommonName,
            tls_names.first().map_or("gac-server", String::as_str),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, SERVER_VALID_DAYS);
        params.serial_number = Some(random_serial());
        let server_cert = params
            .signed_by(&server_key, &issuer)
            .map_err(PkiError::Issue)?;
        write_key(&dir.join(SERVER_KEY), &server_key.serialize_pem())?;
        let server_path = dir.join(SERVER_CERT);
        std::fs::write(&server_path, format!("{}{}", server_cert.pem(), ca_pem))
            .map_err(io_err(&server_path))?;

        let server_tls = server_config(
            vec![server_cert.der().clone(), ca_der.clone()],
            PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
            ca_der.clone(),
        )?;
        Ok(Self {
            dir,
            issuer,
            ca_pem,
            ca_der,
            server_tls,
        })
    }

    /// Where the CA lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The CA certificate, PEM (returned to agents at enrollment).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate's fingerprint, as enrollment tokens carry it.
    pub fn ca_fingerprint(&self) -> String {
        fingerprint(&self.ca_der)
    }

    /// The TLS configuration of the agent endpoint: the server's chain, and client
    /// certificates verified against the CA when presented (enrollment comes without).
    pub fn server_tls(&self) -> Arc<rustls::ServerConfig> {
        self.server_tls.clone()
    }

    /// Signs an agent's CSR. Only its public key is taken: the name, validity and
    /// usages are the server's.
    pub fn sign_agent(&self, csr_pem: &str, agent_id: &str) -> Result<String, PkiError> {
        let csr = CertificateSigningRequestParams::from_pem(csr_pem).map_err(PkiError::Csr)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, agent_id);
        params.subject_alt_names = vec![SanType::URI(
            format!("{AGENT_URI_PREFIX}{agent_id}")
                .try_into()
                .map_err(PkiError::Issue)?,
        )];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, AGENT_VALID_DAYS);
        params.serial_number = Some(random_serial());
        let csr = CertificateSigningRequestParams {
            params,
            public_key: csr.public_key,
        };
        Ok(csr.signed_by(&self.issuer).map_err(PkiError::Issue)?.pem())
    }
}

/// The first certificate's DER in a PEM text.
pub fn pem_der(pem: &str) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes()).next()?.ok()
}

/// The ring provider, named explicitly so a second provider compiled into the
/// workspace cannot make the choice ambiguous.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    ca: CertificateDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, PkiError> {
    let tls = |e: rustls::Error| PkiError::Tls(e.to_string());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).map_err(tls)?;
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .allow_unauthenticated()
        .build()
        .map_err(|e| PkiError::Tls(e.to_string()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(tls)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Helpers for tests of the endpoint: a CSR and a client TLS configuration.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub(crate) fn csr(key: &KeyPair) -> String {
        CertificateParams::new(vec![])
            .unwrap()
            .serialize_request(key)
            .unwrap()
            .pem()
            .unwrap()
    }

    /// A client config that trusts only `ca` and presents `identity`, if any.
    pub(crate) fn client_config(
        ca_pem: &str,
        identity: Option<(&str, &KeyPair)>,
    ) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pem_der(ca_pem).unwrap()).unwrap();
        let b = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots);
        Arc::new(match identity {
            Some((cert_pem, key)) => b
                .with_client_auth_cert(
                    vec![pem_der(cert_pem).unwrap()],
                    PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
                )
                .unwrap(),
            None => b.with_no_client_auth(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{client_config, csr};
    use super::*;
    use rustls::pki_types::ServerName;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn the_ca_is_created_once_with_a_private_key() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert!(Pki::ensure_ca(dir.path()).unwrap());
        let ca = std::fs::read(dir.path().join("pki/ca.pem")).unwrap();
        assert!(!Pki::ensure_ca(dir.path()).unwrap());
        assert_eq!(std::fs::read(dir.path().join("pki/ca.pem")).unwrap(), ca);
        let mode = std::fs::metadata(dir.path().join("pki/ca.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // A restart keeps the CA and its fingerprint.
        let names = ["localhost".to_owned(), "127.0.0.1".to_owned()];
        let a = Pki::open(dir.path(), &names).unwrap();
        let b = Pki::open(dir.path(), &names).unwrap();
        assert_eq!(a.ca_fingerprint(), b.ca_fingerprint());
        assert_eq!(a.ca_fingerprint().len(), 64);
    }

    #[test]
    fn agent_certificates_carry_the_agent_id_and_ignore_the_csr_name() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::open(dir.path(), &["localhost".to_owned()]).unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["evil.example".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "someone-else");
        let csr_pem = params.serialize_request(&key).unwrap().pem().unwrap();
        let cert = pki.sign_agent(&csr_pem, "abc123").unwrap();
        let der = pem_der(&cert).unwrap();
        assert_eq!(agent_id_of(&der).as_deref(), Some("abc123"));
        let text = format!(
            "{:?}",
            x509_parser::parse_x509_certificate(&der)
                .unwrap()
                .1
                .subject()
        );
        assert!(!text.contains("someone-else"), "{text}");
        assert!(matches!(
            pki.sign_agent(
                "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                "x"
            ),
            Err(PkiError::Csr(_))
        ));
        // The server's own certificate names no agent.
        assert_eq!(agent_id_of(&pki.ca_der), None);
    }

    #[tokio::test]
    async fn mutual_tls_accepts_an_issued_certificate_and_refuses_a_foreign_one() {
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::open(
            dir.path(),
            &["localhost".to_owned(), "127.0.0.1".to_owned()],
        )
        .unwrap();
        let key = KeyPair::generate().unwrap();
        let cert = pki.sign_agent(&csr(&key), "agent-9").unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_tls());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..3 {
                let (tcp, _) = listener.accept().await.unwrap();
                match acceptor.accept(tcp).await {
                    Ok(mut tls) => {
                        let id = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(|c| agent_id_of(c));
                        let _ = tls.write_all(b"hi").await;
                        let _ = tls.shutdown().await;
                        seen.push(Some(id));
                    }
                    Err(_) => seen.push(None),
                }
            }
            seen
        });
        let connect = |config: Arc<rustls::ClientConfig>| async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let name = ServerName::try_from("127.0.0.1").unwrap();
            let mut tls = tokio_rustls::TlsConnector::from(config)
                .connect(name, tcp)
                .await?;
            let mut buf = Vec::new();
            tls.read_to_end(&mut buf).await?;
            Ok::<_, std::io::Error>(buf)
        };
        // With the issued certificate, and without one (enrollment).
        assert_eq!(
            connect(client_config(pki.ca_pem(), Some((&cert, &key))))
                .await
                .unwrap(),
            b"hi"
        );
        assert_eq!(
            connect(client_config(pki.ca_pem(), None)).await.unwrap(),
            b"hi"
        );
        // A certificate from another CA is refused in the handshake.
        let other_dir = tempfile::tempdir().unwrap();
        let other = Pki::open(other_dir.path(), &["localhost".to_owned()]).unwrap();
        let foreign = other.sign_agent(&csr(&key), "agent-9").unwrap();
        assert!(
            connect(client_config(pki.ca_pem(), Some((&foreign, &key))))
                .await
                .is_err()
        );
        let seen = server.await.unwrap();
        assert_eq!(seen, [Some(Some("agent-9".to_owned())), Some(None), None]);
    }

    #[test]
    fn the_server_certificate_verifies_against_the_ca_for_each_name() {
        let dir = tempfile::tempdir().unwrap();
        let names = ["gac.example".to_owned(), "10.1.2.3".to_owned()];
        Pki::open(dir.path(), &names).unwrap();
        let chain = std::fs::read_to_string(dir.path().join("pki/server.pem")).unwrap();
        let ca = std::fs::read_to_string(dir.path().join("pki/ca.pem")).unwrap();
        let leaf = pem_der(&chain).unwrap();
        let parsed = x509_parser::parse_x509_certificate(&leaf).unwrap().1;
        let san = format!("{:?}", parsed.subject_alternative_name().unwrap().unwrap());
        assert!(
            san.contains("gac.example") && san.contains("10.1.2.3")
                || san.contains("[10, 1, 2, 3]"),
            "{san}"
        );
        let mut roots = rustls::RootCertStore::empty();
        roots.add(pem_der(&ca).unwrap()).unwrap();
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            provider(),
        )
        .build()
        .unwrap();
        use rustls::client::danger::ServerCertVerifier;
        for name in ["gac.example", "10.1.2.3"] {
            verifier
                .verify_server_cert(
                    &leaf,
                    &[],
                    &ServerName::try_from(name).unwrap(),
                    &[],
                    rustls::pki_types::UnixTime::now(),
                )
                .unwrap();
        }
        assert!(
            verifier
                .verify_server_cert(
                    &leaf,
                    &[],
                    &ServerName::try_from("other.example").unwrap(),
                    &[],
                    rustls::pki_types::UnixTime::now(),
                )
                .is_err()
        );
    }
}
