//! The agent endpoint over real sockets: a rustls client on 127.0.0.1 enrolls with a CSR,
//! then ships a batch with the certificate it was issued and is answered only once the
//! (stand-in) log writer acknowledges it. Refusals: wrong, used and expired tokens, a
//! batch without a client certificate, a revoked agent.

// Helpers outside #[test] functions unwrap too: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use gac_event::api::{BatchResponse, EnrollRequest, EnrollResponse};
use gac_event::wire::{self, Batch, RecordKind, WireRecord};
use gac_server::agents::endpoint::{BATCH_PATH, ENROLL_PATH, Endpoint, HEARTBEAT_PATH};
use gac_server::agents::pki::{self, Pki};
use gac_server::agents::{Registry, enroll};
use gac_server::config::AgentsConfig;
use gac_server::intake::ToWal;
use gac_server::metrics::Metrics;
use gac_server::wal::RawRecord;
use rustls::pki_types::{PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A running endpoint with its data directory and the records its log received.
struct Harness {
    dir: tempfile::TempDir,
    addr: SocketAddr,
    registry: Arc<Registry>,
    ca_pem: String,
    logged: mpsc::UnboundedReceiver<Vec<RawRecord>>,
    stop: CancellationToken,
    served: tokio::task::JoinHandle<()>,
}

async fn start() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let registry = Arc::new(Registry::open(dir.path()).unwrap());
    let names = ["localhost".to_owned(), "127.0.0.1".to_owned()];
    let pki = Arc::new(Pki::open(dir.path(), &names).unwrap());
    let ca_pem = pki.ca_pem().to_owned();
    let (tx, mut rx) = mpsc::channel::<ToWal>(16);
    let (logged_tx, logged) = mpsc::unbounded_channel();
    // The log writer's stand-in: acknowledges each batch after "writing" it.
    tokio::spawn(async move {
        let mut end = 0u64;
        while let Some(item) = rx.recv().await {
            if let ToWal::Batch(records, ack) = item {
                end += records.len() as u64;
                let _ = logged_tx.send(records);
                let _ = ack.send(end);
            }
        }
    });
    let config = AgentsConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls_names: names.to_vec(),
        ..AgentsConfig::default()
    };
    let endpoint = Endpoint::bind(&config, pki, registry.clone(), tx, &Metrics::default())
        .await
        .unwrap();
    let addr = endpoint.local_addr().unwrap();
    let stop = CancellationToken::new();
    let served = tokio::spawn(endpoint.serve(stop.clone()));
    Harness {
        dir,
        addr,
        registry,
        ca_pem,
        logged,
        stop,
        served,
    }
}

/// A client that trusts only the server's CA (as a pinned agent does), optionally
/// presenting a certificate.
fn client(ca_pem: &str, identity: Option<(&str, &rcgen::KeyPair)>) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki::pem_der(ca_pem).unwrap()).unwrap();
    let b = rustls::ClientConfig::builder_with_provider(pki::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    Arc::new(match identity {
        Some((cert, key)) => b
            .with_client_auth_cert(
                vec![pki::pem_der(cert).unwrap()],
                PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    })
}

/// One HTTP/1.1 POST over TLS; the status and body, or the TLS error.
async fn post(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut s = tokio_rustls::TlsConnector::from(tls)
        .connect(name, tcp)
        .await?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    s.flush().await?;
    let mut out = Vec::new();
    match s.read_to_end(&mut out).await {
        Ok(_) => {}
        // A peer that closes without close_notify after a complete answer.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !out.is_empty() => {}
        Err(e) => return Err(e),
    }
    let text = String::from_utf8_lossy(&out);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let at = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(out.len(), |i| i + 4);
    Ok((status, out[at..].to_vec()))
}

fn enroll_body(token: &str, key: &rcgen::KeyPair) -> Vec<u8> {
    let csr = rcgen::CertificateParams::new(vec![])
        .unwrap()
        .serialize_request(key)
        .unwrap()
        .pem()
        .unwrap();
    serde_json::to_vec(&EnrollRequest {
        token: token.to_owned(),
        machine_id: "4f1c0b7e9d2a4c6e8f00112233445566".into(),
        hostname: "web-01".into(),
        csr_pem: csr,
        version: "0.1.0".into(),
    })
    .unwrap()
}

fn batch(agent_id: &str) -> Vec<u8> {
    let source = "/var/log/auth.log".to_owned();
    let mut records: Vec<WireRecord> = (1..=3)
        .map(|seq| WireRecord {
            source: source.clone(),
            seq,
            time_ns: 1_700_000_000_000_000_000 + seq as i64,
            kind: RecordKind::Line,
            data: format!("sshd[1]: line {seq}").into_bytes(),
        })
        .collect();
    records.push(WireRecord {
        source,
        seq: 4,
        time_ns: 1_700_000_001_000_000_000,
        kind: RecordKind::Loss {
            from_seq: 4,
            to_seq: 4,
            reason: wire::loss::ROTATED_UNREAD.into(),
        },
        data: b"auth.log.1".to_vec(),
    });
    wire::encode(&Batch {
        agent_id: agent_id.to_owned(),
        records,
    })
}

#[tokio::test]
async fn an_agent_enrolls_then_ships_a_batch_acknowledged_after_the_log() {
    let mut h = start().await;
    let token = enroll::create_token(h.dir.path(), &h.registry, Duration::from_secs(60)).unwrap();
    // What an agent checks before trusting the server: the CA matches the token.
    assert_eq!(
        token.ca_fingerprint,
        pki::fingerprint(&pki::pem_der(&h.ca_pem).unwrap())
    );
    let key = rcgen::KeyPair::generate().unwrap();
    let anonymous = client(&h.ca_pem, None);
    let (status, body) = post(
        h.addr,
        anonymous.clone(),
        ENROLL_PATH,
        &enroll_body(&token.to_string(), &key),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let enrolled: EnrollResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(enrolled.ca_pem, h.ca_pem);

    let agent = client(&enrolled.ca_pem, Some((&enrolled.cert_pem, &key)));
    let (status, body) = post(
        h.addr,
        agent.clone(),
        BATCH_PATH,
        &batch(&enrolled.agent_id),
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let answer: BatchResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer, BatchResponse { accepted: 4 });
    let logged = h.logged.recv().await.unwrap();
    assert_eq!(logged.len(), 4);
    assert_eq!(logged[0].data, b"sshd[1]: line 1");
    assert_eq!(logged[0].peer.to_string(), "127.0.0.1");
    let origin = logged[2].origin.as_ref().unwrap();
    assert_eq!(
        (origin.agent_id.as_str(), origin.seq),
        (enrolled.agent_id.as_str(), 3)
    );
    assert!(String::from_utf8_lossy(&logged[3].data).starts_with("gac-agent loss: seq 4..=4"));

    let hb = br#"{"version":"0.1.0","hostname":"web-01","spool_bytes":0,"spool_records":0,"lag_secs":0,"errors":{},"sources":[{"source":"/var/log/auth.log","last_seq":4,"last_acked_seq":4}]}"#;
    let (status, _) = post(h.addr, agent.clone(), HEARTBEAT_PATH, hb)
        .await
        .unwrap();
    assert_eq!(status, 200);
    let rec = h.registry.get(&enrolled.agent_id).unwrap().unwrap();
    assert_eq!(rec.heartbeat.unwrap().sources[0].last_seq, 4);

    // Without a client certificate a batch is refused.
    let (status, _) = post(h.addr, anonymous, BATCH_PATH, &batch(&enrolled.agent_id))
        .await
        .unwrap();
    assert_eq!(status, 401);
    // A revoked agent is refused from its next request on.
    h.registry
        .revoke(&enrolled.agent_id, gac_event::Timestamp::now())
        .unwrap();
    let (status, _) = post(h.addr, agent, BATCH_PATH, &batch(&enrolled.agent_id))
        .await
        .unwrap();
    assert_eq!(status, 403);

    h.stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), h.served)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn wrong_used_and_expired_tokens_are_refused() {
    let h = start().await;
    let anonymous = client(&h.ca_pem, None);
    let key = rcgen::KeyPair::generate().unwrap();
    let fp = pki::fingerprint(&pki::pem_der(&h.ca_pem).unwrap());
    let wrong = format!("gacenroll1.{}.{fp}", "ab".repeat(32));
    let (status, body) = post(
        h.addr,
        anonymous.clone(),
        ENROLL_PATH,
        &enroll_body(&wrong, &key),
    )
    .await
    .unwrap();
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));

    let token = enroll::create_token(h.dir.path(), &h.registry, Duration::from_secs(60)).unwrap();
    let (status, _) = post(
        h.addr,
        anonymous.clone(),
        ENROLL_PATH,
        &enroll_body(&token.to_string(), &key),
    )
    .await
    .unwrap();
    assert_eq!(status, 200);
    let (status, body) = post(
        h.addr,
        anonymous.clone(),
        ENROLL_PATH,
        &enroll_body(&token.to_string(), &key),
    )
    .await
    .unwrap();
    assert_eq!(status, 401);
    assert!(String::from_utf8_lossy(&body).contains("already used"));

    let expired = enroll::create_token(h.dir.path(), &h.registry, Duration::ZERO).unwrap();
    let (status, body) = post(
        h.addr,
        anonymous.clone(),
        ENROLL_PATH,
        &enroll_body(&expired.to_string(), &key),
    )
    .await
    .unwrap();
    assert_eq!(status, 401);
    assert!(String::from_utf8_lossy(&body).contains("expired"));

    let (status, _) = post(h.addr, anonymous, ENROLL_PATH, b"{not json")
        .await
        .unwrap();
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_certificate_from_another_ca_fails_the_handshake() {
    let h = start().await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = Pki::open(other_dir.path(), &["localhost".to_owned()]).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(vec![])
        .unwrap()
        .serialize_request(&key)
        .unwrap()
        .pem()
        .unwrap();
    let foreign = other.sign_agent(&csr, "impostor").unwrap();
    let tls = client(&h.ca_pem, Some((&foreign, &key)));
    assert!(
        post(h.addr, tls, BATCH_PATH, &batch("impostor"))
            .await
            .is_err()
    );
    // An agent that trusts another CA does not talk to this server at all.
    let pinned_elsewhere = client(other.ca_pem(), None);
    assert!(
        post(h.addr, pinned_elsewhere, ENROLL_PATH, b"{}")
            .await
            .is_err()
    );
}
