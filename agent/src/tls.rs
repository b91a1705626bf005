//! TLS and HTTP to the server's agent endpoint: the enrollment verifier (trust the CA
//! whose fingerprint the token carries, and nothing else), the pinned mutual-TLS client
//! configuration used afterwards, and a small HTTP/1.1 client over one connection.
//!
//! Server certificates are always verified; there is no way to turn that off.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

/// The agent endpoint's port when the URL names none.
pub const DEFAULT_PORT: u16 = 7711;
/// Largest response body read (responses are small JSON documents).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Why TLS or HTTP failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("bad server url {0:?}: expected https://HOST[:PORT]")]
    BadUrl(String),
    #[error("bad pem in {what}: {detail}")]
    Pem { what: &'static str, detail: String },
    #[error("tls setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: std::io::Error,
    },
    #[error("http: {0}")]
    Http(String),
    #[error("request timed out after {0:?}")]
    Timeout(Duration),
}

/// The crypto provider: ring, named explicitly so that whichever rustls features other
/// crates turn on, the agent's choice does not depend on a process-wide default.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// SHA-256 of a certificate's DER, in lowercase hex (the token's third part).
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The certificates in a PEM text.
pub fn certs_from_pem(
    pem: &str,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
    let certs = certs.map_err(|e| TlsError::Pem {
        what,
        detail: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            what,
            detail: "no certificate".into(),
        });
    }
    Ok(certs)
}

/// Verifies the server during enrollment: the presented chain must contain the CA whose
/// SHA-256 fingerprint the token carries, and the server's certificate must verify
/// against that CA alone (name included). Nothing is fetched and nothing else trusted.
#[derive(Debug)]
pub struct TokenVerifier {
    ca_fingerprint: String,
    provider: Arc<CryptoProvider>,
}

impl TokenVerifier {
    /// A verifier for the CA with this fingerprint (hex SHA-256 of its DER).
    pub fn new(ca_fingerprint: &str) -> Self {
        Self {
            ca_fingerprint: ca_fingerprint.to_ascii_lowercase(),
            provider: provider(),
        }
    }
}

impl ServerCertVerifier for TokenVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(ca) = intermediates
            .iter()
            .find(|c| fingerprint(c) == self.ca_fingerprint)
        else {
            tracing::error!(
                want = %self.ca_fingerprint,
                "the server did not present the CA named by the enrollment token"
            );
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ));
        };
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Client configuration for enrollment: no client certificate, the token's CA only.
pub fn enroll_config(ca_fingerprint: &str) -> Result<ClientConfig, TlsError> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TokenVerifier::new(ca_fingerprint)))
        .with_no_client_auth())
}

/// Client configuration after enrollment: the pinned CA as the only root, and the
/// agent's certificate and key for mutual TLS.
pub fn pinned_config(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<ClientConfig, TlsError> {
    let mut roots = RootCertStore::empty();
    for c in certs_from_pem(ca_pem, "ca.pem")? {
        roots.add(c)?;
    }
    let certs = certs_from_pem(cert_pem, "cert.pem")?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| TlsError::Pem {
        what: "key.pem",
        detail: e.to_string(),
    })?;
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)?)
}

/// Host and port of `https://HOST[:PORT][/]`.
pub fn parse_url(url: &str) -> Result<(String, u16), TlsError> {
    let bad = || TlsError::BadUrl(url.to_owned());
    let uri: hyper::Uri = url.parse().map_err(|_| bad())?;
    if uri.scheme_str() != Some("https") {
        return Err(bad());
    }
    let host = uri.host().ok_or_else(bad)?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    Ok((host, uri.port_u16().unwrap_or(DEFAULT_PORT)))
}

/// A response: status, `Retry-After` seconds if given, body.
#[derive(Debug)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// The `Retry-After` header in seconds, if present and numeric.
    pub retry_after_secs: Option<u64>,
    /// The body (at most 1 MiB).
    pub body: Bytes,
}

/// A TLS configuration that certificate renewal can replace; new connections use the
/// latest.
pub type SharedConfig = Arc<std::sync::RwLock<Arc<ClientConfig>>>;

/// Wraps a configuration for sharing.
pub fn shared(config: ClientConfig) -> SharedConfig {
    Arc::new(std::sync::RwLock::new(Arc::new(config)))
}

/// HTTP/1.1 over TLS to one server, one connection kept open between requests.
#[derive(Debug)]
pub struct Client {
    config: SharedConfig,
    host: String,
    port: u16,
    timeout: Duration,
    conn: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    /// A client for `url` with a TLS configuration.
    pub fn new(url: &str, config: SharedConfig, timeout: Duration) -> Result<Self, TlsError> {
        let (host, port) = parse_url(url)?;
        Ok(Self {
            config,
            host,
            port,
            timeout,
            conn: None,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, TlsError> {
        let addr = format!("{}:{}", self.host, self.port);
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| TlsError::Connect {
                addr: addr.clone(),
                source,
            })?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::try_from(self.host.clone())
            .map_err(|_| TlsError::BadUrl(self.host.clone()))?;
        let config = self
            .config
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|source| TlsError::Connect { addr, source })?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| TlsError::Http(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection to the server ended");
            }
        });
        Ok(send)
    }

    /// POSTs `body` to `path`; the connection is reused, or made again after an error.
    pub async fn post(
        &mut self,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Response, TlsError> {
        let timeout = self.timeout;
        match tokio::time::timeout(timeout, self.post_inner(path, content_type, body)).await {
            Ok(r) => {
                if r.is_err() {
                    self.conn = None;
                }
                r
            }
            Err(_) => {
                self.conn = None;
                Err(TlsError::Timeout(timeout))
            }
        }
    }

    async fn post_inner(
        &mut self,
        path: &str,
        content_type: &str,
        body: Bytes,
    ) -> Result<Response, TlsError> {
        let reusable = match self.conn.take() {
            Some(mut s) => s.ready().await.is_ok().then_some(s),
            None => None,
        };
        let mut send = match reusable {
            Some(s) => s,
            None => self.connect().await?,
        };
        let host = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let req = hyper::Request::post(path)
            .header(hyper::header::HOST, host)
            .header(hyper::header::CONTENT_TYPE, content_type)
            .header(
                hyper::header::USER_AGENT,
                concat!("gac-agent/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(body))
            .map_err(|e| TlsError::Http(e.to_string()))?;
        let resp = send
            .send_request(req)
            .await
            .map_err(|e| TlsError::Http(e.to_string()))?;
        let status = resp.status().as_u16();
        let retry_after_secs = resp
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = Limited::new(resp.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| TlsError::Http(e.to_string()))?
            .to_bytes();
        self.conn = Some(send);
        Ok(Response {
            status,
            retry_after_secs,
            body,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    };

    /// A test CA and a server certificate it signed for `localhost` and 127.0.0.1.
    pub(crate) struct TestPki {
        pub ca_der: CertificateDer<'static>,
        pub ca_pem: String,
        pub leaf_der: CertificateDer<'static>,
        pub leaf_pem: String,
        pub leaf_key_pem: String,
        pub ca_key: KeyPair,
        pub ca_params: CertificateParams,
    }

    pub(crate) fn test_pki(name: &str) -> TestPki {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca_params.distinguished_name.push(DnType::CommonName, name);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut lp =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        lp.distinguished_name.push(DnType::CommonName, "gac-server");
        let issuer = Issuer::new(ca_params.clone(), &ca_key);
        let leaf = lp.signed_by(&leaf_key, &issuer).unwrap();
        TestPki {
            ca_der: ca.der().clone(),
            ca_pem: ca.pem(),
            leaf_der: leaf.der().clone(),
            leaf_pem: leaf.pem(),
            leaf_key_pem: leaf_key.serialize_pem(),
            ca_key,
            ca_params,
        }
    }

    fn verify(
        v: &TokenVerifier,
        chain: &[CertificateDer<'static>],
        name: &str,
    ) -> Result<ServerCertVerified, rustls::Error> {
        v.verify_server_cert(
            &chain[0],
            &chain[1..],
            &ServerName::try_from(name.to_owned()).unwrap(),
            &[],
            UnixTime::now(),
        )
    }

    #[test]
    fn the_token_ca_is_accepted() {
        let pki = test_pki("ca one");
        let v = TokenVerifier::new(&fingerprint(&pki.ca_der).to_uppercase());
        let chain = [pki.leaf_der.clone(), pki.ca_der.clone()];
        verify(&v, &chain, "localhost").unwrap();
        verify(&v, &chain, "127.0.0.1").unwrap();
    }

    #[test]
    fn a_wrong_fingerprint_or_name_or_issuer_is_refused() {
        let pki = test_pki("ca one");
        let other = test_pki("ca two");
        let chain = [pki.leaf_der.clone(), pki.ca_der.clone()];
        // The token names another CA.
        let v = TokenVerifier::new(&fingerprint(&other.ca_der));
        assert!(verify(&v, &chain, "localhost").is_err());
        // The right CA, but the certificate is for another name.
        let v = TokenVerifier::new(&fingerprint(&pki.ca_der));
        assert!(verify(&v, &chain, "soc.example").is_err());
        // The token's CA is presented, but the server certificate was signed by another.
        let mixed = [other.leaf_der.clone(), pki.ca_der.clone()];
        assert!(verify(&v, &mixed, "localhost").is_err());
        // No CA presented at all.
        assert!(verify(&v, &chain[..1], "localhost").is_err());
    }

    #[test]
    fn urls_parse_with_the_default_port() {
        assert_eq!(
            parse_url("https://soc.example").unwrap(),
            ("soc.example".into(), 7711)
        );
        assert_eq!(
            parse_url("https://127.0.0.1:9000/").unwrap(),
            ("127.0.0.1".into(), 9000)
        );
        assert_eq!(
            parse_url("https://[::1]:7711").unwrap(),
            ("::1".into(), 7711)
        );
        assert!(parse_url("http://soc.example").is_err());
        assert!(parse_url("soc.example:7711").is_err());
    }

    #[test]
    fn pinned_config_loads_pem() {
        let pki = test_pki("ca");
        pinned_config(&pki.ca_pem, &pki.leaf_pem, &pki.leaf_key_pem).unwrap();
        assert!(pinned_config("nope", &pki.leaf_pem, &pki.leaf_key_pem).is_err());
        let _ = (&pki.ca_key, &pki.ca_params);
    }
}
