//! The agent endpoint: HTTPS with mutual TLS,
//! `POST /api/agent/v1/{enroll,renew,batch,heartbeat}`.
//!
//! Connections are accepted and their TLS handshakes run in tasks of their own (so a slow
//! client holds up no one), then handed to axum with the peer's address and the agent id
//! from its verified certificate. Enrollment needs no certificate; the other routes do.
//!
//! A batch is answered 200 only after the log writer has fsynced it: the records go as
//! one [`ToWal::Batch`] and the handler waits for its acknowledgement. When the log's
//! queue stays full, or the agent is over its rate, the answer is 429 with `Retry-After`,
//! and the agent keeps the batch in its spool.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::connect_info::Connected;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::{IncomingStream, Listener};
use gac_event::Timestamp;
use gac_event::api::{
    BatchResponse, EnrollRequest, EnrollResponse, ErrorBody, Heartbeat, RenewRequest,
};
use gac_event::wire::{self, Batch, RecordKind};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::pki::{self, Pki};
use super::registry::{Access, Registry};
use super::{INPUT, LOSS_INPUT, LossNotice, enroll};
use crate::config::AgentsConfig;
use crate::intake::{RecordSender, ToWal};
use crate::metrics::{self, Counter, Metrics};
use crate::wal::{AgentOrigin, RawRecord};

/// Route paths.
pub const ENROLL_PATH: &str = "/api/agent/v1/enroll";
pub const BATCH_PATH: &str = "/api/agent/v1/batch";
pub const HEARTBEAT_PATH: &str = "/api/agent/v1/heartbeat";
pub const RENEW_PATH: &str = "/api/agent/v1/renew";

/// A handshake not done by then is dropped: it holds a connection slot.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections open at once (hundreds of agents, each with one keep-alive connection,
/// plus enrollments); more are closed on arrival and counted.
const MAX_CONNECTIONS: usize = 4096;
/// Handshaken connections waiting for axum to take them; it takes them at once, so a
/// few suffice.
const ACCEPTED_QUEUE: usize = 64;
/// How long a batch waits for room in the log's queue before the agent is told to
/// retry: long enough to ride out one slow fsync, short of an agent's request timeout.
const QUEUE_WAIT: Duration = Duration::from_secs(2);
/// Seconds an agent is told to wait when the log's queue is full or the log is closing.
const BUSY_RETRY_SECS: u64 = 1;
/// Enrollment and renewal bodies: a CSR and a few names.
const ENROLL_BODY_BYTES: usize = 64 * 1024;
/// A heartbeat lists every source (a file path and two numbers each): room for
/// thousands of files.
const HEARTBEAT_BODY_BYTES: usize = 1024 * 1024;
/// At shutdown, in-flight requests get this long before the log stops taking batches.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// A rate-limited agent may send this many seconds' worth of records in one burst.
const RATE_BURST_SECS: f64 = 2.0;

/// The peer of a connection: its address, and the agent its verified certificate
/// names (None: no certificate, as at enrollment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentPeer {
    pub addr: SocketAddr,
    pub agent_id: Option<String>,
}

/// The endpoint's counters (see [`metrics`]).
#[derive(Debug, Clone)]
struct Counters {
    enrolled: Counter,
    enroll_refused: Counter,
    batches: Counter,
    records: Counter,
    loss_records: Counter,
    decode_errors: Counter,
    refused: Counter,
    rate_limited: Counter,
    queue_full: Counter,
    heartbeats: Counter,
    tls_errors: Counter,
    connections: Counter,
    connections_refused: Counter,
}

impl Counters {
    fn new(m: &Metrics) -> Self {
        Self {
            enrolled: m.counter(metrics::AGENT_ENROLLED),
            enroll_refused: m.counter(metrics::AGENT_ENROLL_REFUSED),
            batches: m.counter(metrics::AGENT_BATCHES),
            records: m.counter(metrics::AGENT_RECORDS),
            loss_records: m.counter(metrics::AGENT_LOSS_RECORDS),
            decode_errors: m.counter(metrics::AGENT_DECODE_ERRORS),
            refused: m.counter(metrics::AGENT_REFUSED),
            rate_limited: m.counter(metrics::AGENT_RATE_LIMITED),
            queue_full: m.counter(metrics::AGENT_QUEUE_FULL),
            heartbeats: m.counter(metrics::AGENT_HEARTBEATS),
            tls_errors: m.counter(metrics::AGENT_TLS_ERRORS),
            connections: m.counter(metrics::AGENT_CONNECTIONS),
            connections_refused: m.counter(metrics::AGENT_CONNECTIONS_REFUSED),
        }
    }
}

/// The log writer's queue, closable: at shutdown the endpoint lets go of its sender so
/// the writer can finish, even if a connection lingers.
#[derive(Debug, Clone)]
struct WalGate(Arc<RwLock<Option<RecordSender>>>);

impl WalGate {
    fn sender(&self) -> Option<RecordSender> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn close(&self) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// Per-agent rate limit: a token bucket that may go into debt, so a batch of any size
/// passes when the agent is not in debt and the average stays at the rate.
#[derive(Debug, Default)]
struct RateLimiter {
    per_sec: u64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// Takes `n` records for `agent`, or says how many seconds to wait.
    fn take(&self, agent: &str, n: usize, now: Instant) -> Result<(), u64> {
        if self.per_sec == 0 {
            return Ok(());
        }
        let rate = self.per_sec as f64;
        let cap = rate * RATE_BURST_SECS;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (level, last) = buckets.entry(agent.to_owned()).or_insert((cap, now));
        *level = (*level + rate * now.saturating_duration_since(*last).as_secs_f64()).min(cap);
        *last = now;
        if *level < 0.0 {
            return Err(((-*level) / rate).ceil().max(1.0) as u64);
        }
        *level -= n as f64;
        Ok(())
    }
}

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct EndpointState {
    registry: Arc<Registry>,
    pki: Arc<Pki>,
    wal: WalGate,
    limiter: Arc<RateLimiter>,
    limits: wire::Limits,
    queue_wait: Duration,
    counters: Counters,
}

impl EndpointState {
    pub fn new(
        config: &AgentsConfig,
        pki: Arc<Pki>,
        registry: Arc<Registry>,
        wal: RecordSender,
        m: &Metrics,
    ) -> Self {
        Self {
            registry,
            pki,
            wal: WalGate(Arc::new(RwLock::new(Some(wal)))),
            limiter: Arc::new(RateLimiter {
                per_sec: config.rate_limit_records_per_sec,
                buckets: Mutex::default(),
            }),
            limits: wire::Limits::default(),
            queue_wait: QUEUE_WAIT,
            counters: Counters::new(m),
        }
    }
}

/// The routes.
pub fn router(state: EndpointState, max_batch_bytes: usize) -> Router {
    Router::new()
        .route(
            ENROLL_PATH,
            post(enroll_handler).layer(DefaultBodyLimit::max(ENROLL_BODY_BYTES)),
        )
        .route(
            RENEW_PATH,
            post(renew_handler).layer(DefaultBodyLimit::max(ENROLL_BODY_BYTES)),
        )
        .route(
            BATCH_PATH,
            post(batch_handler).layer(DefaultBodyLimit::max(max_batch_bytes)),
        )
        .route(
            HEARTBEAT_PATH,
            post(heartbeat_handler).layer(DefaultBodyLimit::max(HEARTBEAT_BODY_BYTES)),
        )
        .with_state(state)
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(ErrorBody { error: msg.into() })).into_response()
}

fn retry_later(status: StatusCode, secs: u64, msg: impl Into<String>) -> Response {
    let mut r = error(status, msg);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

async fn enroll_handler(
    State(s): State<EndpointState>,
    ConnectInfo(peer): ConnectInfo<AgentPeer>,
    body: Bytes,
) -> Response {
    let req: EnrollRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            s.counters.enroll_refused.inc();
            return error(
                StatusCode::BAD_REQUEST,
                format!("not an enrollment request: {e}"),
            );
        }
    };
    let (registry, pki) = (s.registry.clone(), s.pki.clone());
    let result =
        match blocking(move || enroll::enroll(&registry, &pki, &req, Timestamp::now())).await {
            Ok(r) => r,
            Err(r) => return r,
        };
    match result {
        Ok(resp) => {
            s.counters.enrolled.inc();
            tracing::info!(agent = %resp.agent_id, peer = %peer.addr, "agent enrolled");
            axum::Json(resp).into_response()
        }
        Err(e) => {
            s.counters.enroll_refused.inc();
            tracing::warn!(peer = %peer.addr, error = %e, "enrollment refused");
            let status = match e {
                enroll::EnrollError::BadRequest(_) => StatusCode::BAD_REQUEST,
                enroll::EnrollError::BadToken(_) => StatusCode::UNAUTHORIZED,
                enroll::EnrollError::Revoked(_) => StatusCode::FORBIDDEN,
                enroll::EnrollError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            };
            error(status, e.to_string())
        }
    }
}

/// A new certificate for an enrolled, unrevoked agent (the id is its certificate's), so
/// agents renew before expiry without a new token.
async fn renew_handler(
    State(s): State<EndpointState>,
    ConnectInfo(peer): ConnectInfo<AgentPeer>,
    body: Bytes,
) -> Response {
    let id = match admit(&s, &peer).await {
        Ok((id, _)) => id,
        Err(r) => return r,
    };
    let req: RenewRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a renewal: {e}")),
    };
    let pki = s.pki.clone();
    let who = id.clone();
    match blocking(move || pki.sign_agent(&req.csr_pem, &who)).await {
        Ok(Ok(cert_pem)) => {
            tracing::info!(agent = %id, "agent certificate renewed");
            axum::Json(EnrollResponse {
                agent_id: id,
                cert_pem,
                ca_pem: s.pki.ca_pem().to_owned(),
            })
            .into_response()
        }
        Ok(Err(e)) => error(StatusCode::BAD_REQUEST, e.to_string()),
        Err(r) => r,
    }
}

/// The agent a request comes from, checked against the registry; the refusal otherwise.
async fn admit(s: &EndpointState, peer: &AgentPeer) -> Result<(String, u32), Response> {
    let Some(id) = peer.agent_id.clone() else {
        s.counters.refused.inc();
        return Err(error(
            StatusCode::UNAUTHORIZED,
            "a client certificate from enrollment is required",
        ));
    };
    let (registry, who, addr) = (s.registry.clone(), id.clone(), peer.addr.ip().to_string());
    let access = blocking(move || registry.contact_epoch(&who, &addr, Timestamp::now())).await?;
    match access {
        Ok((Access::Allowed, epoch)) => Ok((id, epoch)),
        Ok((Access::Revoked, _)) => {
            s.counters.refused.inc();
            Err(error(
                StatusCode::FORBIDDEN,
                format!("agent {id} is revoked"),
            ))
        }
        Ok((Access::Unknown, _)) => {
            s.counters.refused.inc();
            Err(error(
                StatusCode::FORBIDDEN,
                format!("agent {id} is not enrolled here"),
            ))
        }
        Err(e) => Err(error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}

/// The log records for a decoded batch: lines as they are, losses as a readable notice
/// under [`LOSS_INPUT`]. Every record keeps its agent, source and sequence number.
fn to_records(
    batch: Batch,
    epoch: u32,
    peer: std::net::IpAddr,
    received: Timestamp,
) -> (Vec<RawRecord>, u64) {
    let mut losses = 0;
    let records = batch
        .records
        .into_iter()
        .map(|r| {
            let (input, data) = match r.kind {
                RecordKind::Line => (INPUT, r.data),
                RecordKind::Loss {
                    from_seq,
                    to_seq,
                    reason,
                } => {
                    losses += 1;
                    let notice = LossNotice {
                        source: r.source.clone(),
                        from_seq,
                        to_seq,
                        reason,
                        detail: String::from_utf8_lossy(&r.data).into_owned(),
                    };
                    (LOSS_INPUT, notice.to_text().into_bytes())
                }
            };
            RawRecord {
                received,
                input: input.to_owned(),
                peer,
                truncated: false,
                data,
                origin: Some(AgentOrigin {
                    agent_id: batch.agent_id.clone(),
                    source: r.source,
                    seq: r.seq,
                    read: Timestamp::from_nanos(r.time_ns),
                    epoch,
                }),
            }
        })
        .collect();
    (records, losses)
}

async fn batch_handler(
    State(s): State<EndpointState>,
    ConnectInfo(peer): ConnectInfo<AgentPeer>,
    body: Bytes,
) -> Response {
    let (id, epoch) = match admit(&s, &peer).await {
        Ok(admitted) => admitted,
        Err(r) => return r,
    };
    // Decompressing and decoding a batch is CPU work: off the async threads.
    let limits = s.limits;
    let ip = peer.addr.ip();
    let decoded = blocking(move || {
        wire::decode_with_limits(&body, &limits).map(|b| {
            let agent_id = b.agent_id.clone();
            let (records, losses) = to_records(b, epoch, ip, Timestamp::now());
            (agent_id, records, losses)
        })
    })
    .await;
    let (claimed, records, losses) = match decoded {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            s.counters.decode_errors.inc();
            tracing::warn!(agent = %id, error = %e, "undecodable batch refused");
            return error(StatusCode::BAD_REQUEST, format!("batch not decodable: {e}"));
        }
        Err(r) => return r,
    };
    if claimed != id {
        s.counters.refused.inc();
        tracing::warn!(agent = %id, claimed = %claimed, "batch names another agent");
        return error(
            StatusCode::FORBIDDEN,
            format!("the batch names agent {claimed:?} but the certificate is {id:?}"),
        );
    }
    let n = records.len();
    if n == 0 {
        return axum::Json(BatchResponse { accepted: 0 }).into_response();
    }
    if let Err(wait) = s.limiter.take(&id, n, Instant::now()) {
        s.counters.rate_limited.inc();
        return retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            wait,
            "over this agent's record rate",
        );
    }
    let ack = {
        let Some(tx) = s.wal.sender() else {
            return retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                BUSY_RETRY_SECS,
                "the server is stopping",
            );
        };
        let permit = match tokio::time::timeout(s.queue_wait, tx.reserve()).await {
            Ok(Ok(p)) => p,
            Ok(Err(_)) => {
                return retry_later(
                    StatusCode::SERVICE_UNAVAILABLE,
                    BUSY_RETRY_SECS,
                    "the server is stopping",
                );
            }
            Err(_) => {
                s.counters.queue_full.inc();
                return retry_later(
                    StatusCode::TOO_MANY_REQUESTS,
                    BUSY_RETRY_SECS,
                    "the server's log is busy",
                );
            }
        };
        let (ack_tx, ack_rx) = oneshot::channel();
        permit.send(ToWal::Batch(records, ack_tx));
        ack_rx
    };
    match ack.await {
        Ok(_) => {
            s.counters.batches.inc();
            s.counters.records.add(n as u64);
            s.counters.loss_records.add(losses);
            axum::Json(BatchResponse { accepted: n as u64 }).into_response()
        }
        // The writer went away without syncing: nothing is promised, the agent resends.
        Err(_) => retry_later(
            StatusCode::SERVICE_UNAVAILABLE,
            BUSY_RETRY_SECS,
            "the server's log did not confirm the batch",
        ),
    }
}

async fn heartbeat_handler(
    State(s): State<EndpointState>,
    ConnectInfo(peer): ConnectInfo<AgentPeer>,
    body: Bytes,
) -> Response {
    let Some(id) = peer.agent_id.clone() else {
        s.counters.refused.inc();
        return error(
            StatusCode::UNAUTHORIZED,
            "a client certificate from enrollment is required",
        );
    };
    let hb: Heartbeat = match serde_json::from_slice(&body) {
        Ok(h) => h,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("not a heartbeat: {e}")),
    };
    let (registry, addr) = (s.registry.clone(), peer.addr.ip().to_string());
    let who = id.clone();
    match blocking(move || registry.heartbeat(&who, &addr, &hb, Timestamp::now())).await {
        Ok(Ok(Access::Allowed)) => {
            s.counters.heartbeats.inc();
            axum::Json(serde_json::json!({})).into_response()
        }
        Ok(Ok(_)) => {
            s.counters.refused.inc();
            error(
                StatusCode::FORBIDDEN,
                format!("agent {id} is revoked or not enrolled here"),
            )
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(r) => r,
    }
}

/// A TLS connection holding its slot among [`MAX_CONNECTIONS`] until it closes.
#[derive(Debug)]
pub struct TlsConn {
    tls: tokio_rustls::server::TlsStream<TcpStream>,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for TlsConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tls).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tls).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tls).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tls).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tls.is_write_vectored()
    }
}

/// Hands axum connections whose handshake is done.
#[derive(Debug)]
struct TlsListener {
    ready: mpsc::Receiver<(TlsConn, AgentPeer)>,
    local: SocketAddr,
}

impl Listener for TlsListener {
    type Io = TlsConn;
    type Addr = AgentPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept loop stopped (shutdown): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(AgentPeer {
            addr: self.local,
            agent_id: None,
        })
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for AgentPeer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}

/// Accepts TCP connections and runs each handshake in a task of its own.
async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsConn, AgentPeer)>,
    counters: Counters,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, addr) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = tcp.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors and the like: wait, never spin or stop.
                    tracing::warn!(error = %e, "agent endpoint accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            counters.connections_refused.inc();
            continue;
        };
        counters.connections.inc();
        let (acceptor, ready, counters) = (acceptor.clone(), ready.clone(), counters.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let agent_id = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .and_then(|c| pki::agent_id_of(c));
                    let _ = ready
                        .send((TlsConn { tls, _slot: slot }, AgentPeer { addr, agent_id }))
                        .await;
                }
                Ok(Err(e)) => {
                    counters.tls_errors.inc();
                    tracing::debug!(peer = %addr, error = %e, "agent TLS handshake failed");
                }
                Err(_) => {
                    counters.tls_errors.inc();
                    tracing::debug!(peer = %addr, "agent TLS handshake timed out");
                }
            }
        });
    }
}

/// A bound agent endpoint, ready to serve.
#[derive(Debug)]
pub struct Endpoint {
    listener: TcpListener,
    state: EndpointState,
    max_batch_bytes: usize,
}

impl Endpoint {
    /// Binds `config.listen` (a busy port fails here, at start-up).
    pub async fn bind(
        config: &AgentsConfig,
        pki: Arc<Pki>,
        registry: Arc<Registry>,
        wal: RecordSender,
        m: &Metrics,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the agent endpoint on {}", config.listen))?;
        Ok(Self {
            listener,
            state: EndpointState::new(config, pki, registry, wal, m),
            max_batch_bytes: config.max_batch_bytes,
        })
    }

    /// The address bound (the port, when the config said 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown`, then lets in-flight batches finish (up to a grace
    /// period) and releases the log writer's queue.
    pub async fn serve(self, shutdown: CancellationToken) {
        let local = match self.listener.local_addr() {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "agent endpoint has no address");
                return;
            }
        };
        tracing::info!(listen = %local, "agent endpoint listening (mutual TLS)");
        let acceptor = TlsAcceptor::from(self.state.pki.server_tls());
        let (ready_tx, ready) = mpsc::channel(ACCEPTED_QUEUE);
        let accept = tokio::spawn(accept_loop(
            self.listener,
            acceptor,
            ready_tx,
            self.state.counters.clone(),
            shutdown.clone(),
        ));
        let gate = self.state.wal.clone();
        let app = router(self.state, self.max_batch_bytes)
            .into_make_service_with_connect_info::<AgentPeer>();
        let stop = shutdown.clone();
        let served = axum::serve(TlsListener { ready, local }, app)
            .with_graceful_shutdown(async move { stop.cancelled().await });
        tokio::select! {
            r = served => if let Err(e) = r {
                tracing::error!(error = %e, "agent endpoint failed");
            },
            _ = async { shutdown.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
                tracing::warn!("agent connections still open after the grace period; closing");
            }
        }
        gate.close();
        accept.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::pki::testing::csr;
    use gac_event::wire::WireRecord;

    struct Fixture {
        _dir: tempfile::TempDir,
        state: EndpointState,
        agent_id: String,
        metrics: Metrics,
    }

    /// An endpoint state whose log queue is `rx` (capacity `cap`), with one enrolled agent.
    fn fixture(cap: usize, rate: u64) -> (Fixture, mpsc::Receiver<ToWal>) {
        let dir = tempfile::tempdir().unwrap();
        let registry = Arc::new(Registry::open(dir.path()).unwrap());
        let pki = Arc::new(Pki::open(dir.path(), &["localhost".to_owned()]).unwrap());
        let token = enroll::create_token(dir.path(), &registry, Duration::from_secs(60)).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let req = EnrollRequest {
            token: token.to_string(),
            machine_id: "m-1".into(),
            hostname: "web-01".into(),
            csr_pem: csr(&key),
            version: "0.1.0".into(),
        };
        let EnrollResponse { agent_id, .. } =
            enroll::enroll(&registry, &pki, &req, Timestamp::now()).unwrap();
        let (tx, rx) = mpsc::channel(cap);
        let metrics = Metrics::default();
        let config = AgentsConfig {
            rate_limit_records_per_sec: rate,
            ..AgentsConfig::default()
        };
        let mut state = EndpointState::new(&config, pki, registry, tx, &metrics);
        state.queue_wait = Duration::from_millis(50);
        (
            Fixture {
                _dir: dir,
                state,
                agent_id,
                metrics,
            },
            rx,
        )
    }

    fn peer(agent: Option<&str>) -> ConnectInfo<AgentPeer> {
        ConnectInfo(AgentPeer {
            addr: "10.0.0.7:40000".parse().unwrap(),
            agent_id: agent.map(str::to_owned),
        })
    }

    fn batch(agent: &str, n: u64) -> Bytes {
        let mut records: Vec<WireRecord> = (1..=n)
            .map(|seq| WireRecord {
                source: "/var/log/auth.log".into(),
                seq,
                time_ns: 1_700_000_000_000_000_000 + seq as i64,
                kind: RecordKind::Line,
                data: format!("line {seq}").into_bytes(),
            })
            .collect();
        records.push(WireRecord {
            source: "/var/log/auth.log".into(),
            seq: n + 1,
            time_ns: 1_700_000_000_000_000_000,
            kind: RecordKind::Loss {
                from_seq: n + 1,
                to_seq: n + 3,
                reason: "rotated_unread".into(),
            },
            data: b"auth.log.1 unread".to_vec(),
        });
        Bytes::from(wire::encode(&Batch {
            agent_id: agent.to_owned(),
            records,
        }))
    }

    async fn body(r: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// A log writer that acks every batch after handing its records to `seen`.
    fn acking_writer(mut rx: mpsc::Receiver<ToWal>) -> tokio::task::JoinHandle<Vec<RawRecord>> {
        tokio::spawn(async move {
            let mut seen = Vec::new();
            while let Some(item) = rx.recv().await {
                if let ToWal::Batch(records, ack) = item {
                    seen.extend(records);
                    let _ = ack.send(seen.len() as u64);
                }
            }
            seen
        })
    }

    #[tokio::test]
    async fn a_batch_is_answered_only_after_the_log_acknowledges_it() {
        let (f, mut rx) = fixture(4, 0);
        let id = f.agent_id.clone();
        let call = tokio::spawn(batch_handler(
            State(f.state.clone()),
            peer(Some(&id)),
            batch(&id, 3),
        ));
        let Some(ToWal::Batch(records, ack)) = rx.recv().await else {
            panic!("expected one batch");
        };
        // Not answered while the log has not synced.
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!call.is_finished());
        assert_eq!(records.len(), 4);
        let line = &records[0];
        assert_eq!(line.input, INPUT);
        assert_eq!(line.data, b"line 1");
        assert_eq!(line.peer.to_string(), "10.0.0.7");
        let origin = line.origin.as_ref().unwrap();
        assert_eq!(
            (origin.agent_id.as_str(), origin.source.as_str(), origin.seq),
            (id.as_str(), "/var/log/auth.log", 1)
        );
        let loss = &records[3];
        assert_eq!(loss.input, LOSS_INPUT);
        assert_eq!(loss.origin.as_ref().unwrap().seq, 4);
        let notice = LossNotice::parse(&loss.data).unwrap();
        assert_eq!((notice.from_seq, notice.to_seq), (4, 6));
        assert_eq!(notice.reason, "rotated_unread");
        assert_eq!(notice.detail, "auth.log.1 unread");
        ack.send(99).unwrap();
        let r = call.await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(body(r).await, serde_json::json!({"accepted": 4}));
        let snap = f.metrics.snapshot();
        assert_eq!(snap[metrics::AGENT_RECORDS], 4);
        assert_eq!(snap[metrics::AGENT_LOSS_RECORDS], 1);
        // A writer that dies without syncing: no promise is made.
        let call = tokio::spawn(batch_handler(
            State(f.state.clone()),
            peer(Some(&id)),
            batch(&id, 1),
        ));
        drop(rx.recv().await);
        let r = call.await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.headers().contains_key(header::RETRY_AFTER));
    }

    #[tokio::test]
    async fn a_full_log_queue_says_retry_later() {
        let (f, rx) = fixture(1, 0);
        let id = f.agent_id.clone();
        // Fill the queue with a batch nobody takes.
        let (ack, _) = oneshot::channel();
        f.state
            .wal
            .sender()
            .unwrap()
            .try_send(ToWal::Batch(Vec::new(), ack))
            .unwrap();
        let r = batch_handler(State(f.state.clone()), peer(Some(&id)), batch(&id, 2)).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(f.metrics.snapshot()[metrics::AGENT_QUEUE_FULL], 1);
        drop(rx);
        // A closed log (shutdown) is 503.
        f.state.wal.close();
        let r = batch_handler(State(f.state.clone()), peer(Some(&id)), batch(&id, 2)).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[tokio::test]
    async fn garbage_mismatched_ids_missing_certificates_and_revoked_agents_are_refused() {
        let (f, rx) = fixture(4, 0);
        let writer = acking_writer(rx);
        let id = f.agent_id.clone();
        let st = || State(f.state.clone());
        let r = batch_handler(st(), peer(Some(&id)), Bytes::from_static(b"GACB\x01junk")).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert!(body(r).await["error"].as_str().unwrap().contains("zstd"));
        assert_eq!(f.metrics.snapshot()[metrics::AGENT_DECODE_ERRORS], 1);
        let r = batch_handler(st(), peer(Some(&id)), batch("someone-else", 1)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = batch_handler(st(), peer(None), batch(&id, 1)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let r = batch_handler(st(), peer(Some("not-enrolled")), batch("not-enrolled", 1)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = batch_handler(st(), peer(Some(&id)), batch(&id, 1)).await;
        assert_eq!(r.status(), StatusCode::OK);
        f.state.registry.revoke(&id, Timestamp::now()).unwrap();
        let r = batch_handler(st(), peer(Some(&id)), batch(&id, 1)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(body(r).await["error"].as_str().unwrap().contains("revoked"));
        let hb = Bytes::from_static(b"{}");
        let r = heartbeat_handler(st(), peer(Some(&id)), hb.clone()).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        drop(f);
        // Only the accepted batch reached the log.
        assert_eq!(writer.await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn an_agent_over_its_rate_is_told_when_to_come_back() {
        let (f, rx) = fixture(4, 10);
        let _writer = acking_writer(rx);
        let id = f.agent_id.clone();
        let st = || State(f.state.clone());
        // The bucket holds 2 s worth (20): a batch of 30 passes into debt, the next waits.
        let r = batch_handler(st(), peer(Some(&id)), batch(&id, 29)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let r = batch_handler(st(), peer(Some(&id)), batch(&id, 1)).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "1");
        assert_eq!(f.metrics.snapshot()[metrics::AGENT_RATE_LIMITED], 1);
    }

    #[test]
    fn the_rate_limiter_keeps_the_average() {
        let l = RateLimiter {
            per_sec: 100,
            buckets: Mutex::default(),
        };
        let t0 = Instant::now();
        assert_eq!(l.take("a", 500, t0), Ok(()));
        // 300 in debt at 100/s: three seconds.
        assert_eq!(l.take("a", 1, t0), Err(3));
        assert_eq!(l.take("b", 1, t0), Ok(()));
        assert_eq!(l.take("a", 1, t0 + Duration::from_secs(3)), Ok(()));
        let off = RateLimiter::default();
        assert_eq!(off.take("a", 1_000_000, t0), Ok(()));
    }

    #[tokio::test]
    async fn an_enrolled_agent_renews_its_certificate_without_a_token() {
        let (f, _rx) = fixture(4, 0);
        let id = f.agent_id.clone();
        let key = rcgen::KeyPair::generate().unwrap();
        let req = serde_json::json!({ "csr_pem": csr(&key) }).to_string();
        let r = renew_handler(
            State(f.state.clone()),
            peer(Some(&id)),
            Bytes::from(req.clone()),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let renewed: EnrollResponse = serde_json::from_value(body(r).await).unwrap();
        assert_eq!(renewed.agent_id, id);
        let der = pki::pem_der(&renewed.cert_pem).unwrap();
        assert_eq!(pki::agent_id_of(&der), Some(id.clone()));
        let r = renew_handler(State(f.state.clone()), peer(None), Bytes::from(req.clone())).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        f.state.registry.revoke(&id, Timestamp::now()).unwrap();
        let r = renew_handler(State(f.state.clone()), peer(Some(&id)), Bytes::from(req)).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn heartbeats_are_recorded() {
        let (f, _rx) = fixture(4, 0);
        let id = f.agent_id.clone();
        let hb = serde_json::json!({
            "version": "0.1.1", "hostname": "web-01", "spool_bytes": 10, "spool_records": 2,
            "lag_secs": 3, "errors": {"read": 1},
            "sources": [{"source": "/var/log/auth.log", "last_seq": 9, "last_acked_seq": 7}]
        });
        let r = heartbeat_handler(
            State(f.state.clone()),
            peer(Some(&id)),
            Bytes::from(hb.to_string()),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        let rec = f.state.registry.get(&id).unwrap().unwrap();
        let stored = rec.heartbeat.unwrap();
        assert_eq!((stored.spool_records, stored.lag_secs), (2, 3.0));
        assert_eq!(stored.sources[0].last_seq, 9);
        assert_eq!(rec.version, "0.1.1");
        let r = heartbeat_handler(
            State(f.state.clone()),
            peer(Some(&id)),
            Bytes::from_static(b"["),
        )
        .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = heartbeat_handler(
            State(f.state.clone()),
            peer(None),
            Bytes::from_static(b"{}"),
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}
