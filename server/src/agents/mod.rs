//! The server side of `gac-agent` (DESIGN §4): enrollment, the mutual-TLS endpoint that
//! takes batches into the write-ahead log, the registry of agents, and the sequence
//! bookkeeping that drops resent records and shows gaps.
//!
//! - [`pki`]: the server's CA; signs the server's TLS certificate and agents' CSRs.
//! - [`enroll`]: one-time tokens (`gacenroll1.<secret>.<CA fingerprint>`), CSR signing.
//! - [`registry`]: SQLite (`<data>/agents.sqlite`): agents, revocations, heartbeats, tokens.
//! - [`endpoint`]: `POST /api/agent/v1/{enroll,renew,batch,heartbeat}`, mutual TLS; a
//!   batch is answered only after its records are fsynced in the log.
//! - [`sequence`]: [`SequenceTracker`], fed by the indexer: duplicates by
//!   (agent, source, seq), gaps, reported losses, completeness of a time range.
//!
//! Flow: agent ─TLS─► [`endpoint`] ─(`ToWal::Batch`, ack after fsync)─► WAL ─► indexer
//! (asks [`SequenceTracker`] New/Duplicate) ─► index. The API reads [`AgentsView`].

pub mod endpoint;
pub mod enroll;
pub mod pki;
pub mod registry;
pub mod sequence;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use gac_event::Timestamp;
use gac_event::api::{AgentStatus, AgentsResponse, CompletenessResponse};

pub use registry::{Registry, RegistryError};
pub use sequence::{SequenceTracker, Verdict};

use crate::config::Config;
use crate::intake::RecordSender;
use crate::metrics::Metrics;

/// `input.name` of the lines agents ship.
pub const INPUT: &str = "agent";
/// `input.name` of the loss records agents ship: only the endpoint makes records with
/// it, so a line that merely looks like a loss notice is never taken for one.
pub const LOSS_INPUT: &str = "agent.loss";
/// Start of a loss record's text.
const LOSS_PREFIX: &str = "gac-agent loss:";

/// The tracker as shared by the indexer (which feeds it) and the API (which reads it).
pub type SharedTracker = Arc<Mutex<SequenceTracker>>;

/// A loss the agent reported, as the text of the record that stands for it in the log:
/// `gac-agent loss: seq 12..=15 reason=rotated_unread source=/var/log/x.log: <detail>`.
/// The source comes last but one because it may hold spaces; the detail (the agent's
/// own words) after the first `": "` that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LossNotice {
    pub source: String,
    pub from_seq: u64,
    pub to_seq: u64,
    pub reason: String,
    pub detail: String,
}

impl LossNotice {
    /// The record's text.
    pub fn to_text(&self) -> String {
        let mut s = String::with_capacity(64 + self.source.len() + self.detail.len());
        let _ = write!(
            s,
            "{LOSS_PREFIX} seq {}..={} reason={} source={}",
            self.from_seq,
            self.to_seq,
            self.reason.replace(char::is_whitespace, "_"),
            self.source.replace(": ", ":\u{a0}"),
        );
        if !self.detail.is_empty() {
            let _ = write!(s, ": {}", self.detail);
        }
        s
    }

    /// Reads a loss record's text back. Only for records whose input is
    /// [`LOSS_INPUT`]: a shipped line may look the same.
    pub fn parse(data: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(data).ok()?;
        let rest = text.strip_prefix(LOSS_PREFIX)?.strip_prefix(" seq ")?;
        let (range, rest) = rest.split_once(" reason=")?;
        let (from, to) = range.split_once("..=")?;
        let (reason, rest) = rest.split_once(" source=")?;
        let (source, detail) = rest.split_once(": ").unwrap_or((rest, ""));
        Some(Self {
            source: source.replace(":\u{a0}", ": "),
            from_seq: from.parse().ok()?,
            to_seq: to.parse().ok()?,
            reason: reason.to_owned(),
            detail: detail.to_owned(),
        })
    }
}

/// What the server keeps for agents: the registry and the tracker, opened at start
/// whether or not the endpoint is on, so the API can always list agents.
#[derive(Debug, Clone)]
pub struct Agents {
    registry: Arc<Registry>,
    tracker: SharedTracker,
    stale_secs: u64,
}

impl Agents {
    /// Opens `<data>/agents.sqlite`. The tracker starts empty: the indexer replaces it
    /// with the state saved at its checkpoint.
    pub fn open(config: &Config) -> Result<Self, RegistryError> {
        let stale_secs = config.agents.as_ref().map_or(
            crate::config::AgentsConfig::default().heartbeat_stale_secs,
            |a| a.heartbeat_stale_secs,
        );
        Ok(Self {
            registry: Arc::new(Registry::open(&config.data_dir)?),
            tracker: Arc::new(Mutex::new(SequenceTracker::new())),
            stale_secs,
        })
    }

    /// The tracker the indexer feeds.
    pub fn tracker(&self) -> SharedTracker {
        self.tracker.clone()
    }

    /// The registry.
    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    /// What the read-only API sees.
    pub fn view(&self) -> AgentsView {
        AgentsView {
            registry: self.registry.clone(),
            tracker: self.tracker.clone(),
            stale_secs: self.stale_secs,
        }
    }

    /// Binds the agent endpoint when `[agents]` is configured (a busy port is a start-up
    /// error); serve it with [`endpoint::Endpoint::serve`].
    pub async fn bind_endpoint(
        &self,
        config: &Config,
        wal: RecordSender,
        metrics: &Metrics,
    ) -> anyhow::Result<Option<endpoint::Endpoint>> {
        let Some(agents) = &config.agents else {
            return Ok(None);
        };
        let pki = Arc::new(pki::Pki::open(&config.data_dir, &agents.tls_names)?);
        let ep = endpoint::Endpoint::bind(agents, pki, self.registry.clone(), wal, metrics).await?;
        Ok(Some(ep))
    }
}

/// The API's read-only view of agents.
#[derive(Debug, Clone)]
pub struct AgentsView {
    registry: Arc<Registry>,
    tracker: SharedTracker,
    stale_secs: u64,
}

/// `ok`, `stale`, `never_seen` or `revoked`.
fn status(rec: &registry::AgentRecord, now: Timestamp, stale_secs: u64) -> &'static str {
    if rec.revoked_at.is_some() {
        return "revoked";
    }
    match rec.last_contact {
        None => "never_seen",
        Some(t) if now.nanos().saturating_sub(t.nanos()) > (stale_secs as i64) * 1_000_000_000 => {
            "stale"
        }
        Some(_) => "ok",
    }
}

fn agent_status(rec: registry::AgentRecord, now: Timestamp, stale_secs: u64) -> AgentStatus {
    AgentStatus {
        status: status(&rec, now, stale_secs).to_owned(),
        id: rec.id,
        hostname: rec.hostname,
        version: rec.version,
        enrolled_at: rec.enrolled_at,
        last_contact: rec.last_contact,
        last_peer: rec.last_peer,
        revoked_at: rec.revoked_at,
        heartbeat_at: rec.heartbeat_at,
        heartbeat: rec.heartbeat,
    }
}

impl AgentsView {
    /// Every agent with its status (blocking: reads the registry).
    pub fn list(&self, now: Timestamp) -> Result<AgentsResponse, RegistryError> {
        Ok(AgentsResponse {
            agents: self
                .registry
                .list()?
                .into_iter()
                .map(|r| agent_status(r, now, self.stale_secs))
                .collect(),
        })
    }

    /// Whether agent `id` sent everything in `[from, to)` (blocking). None when the
    /// agent is neither enrolled nor tracked.
    pub fn completeness(
        &self,
        id: &str,
        source: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Option<CompletenessResponse>, RegistryError> {
        let rec = self.registry.get(id)?;
        let reported: BTreeMap<String, u64> = rec
            .as_ref()
            .and_then(|r| r.heartbeat.as_ref())
            .map(|hb| {
                hb.sources
                    .iter()
                    .map(|s| (s.source.clone(), s.last_seq))
                    .collect()
            })
            .unwrap_or_default();
        let tracker = self.tracker.lock().unwrap_or_else(|p| p.into_inner());
        let sources = match tracker.completeness(id, source, from, to, &reported) {
            Some(s) => s,
            None if rec.is_some() => Vec::new(),
            None => return Ok(None),
        };
        drop(tracker);
        Ok(Some(CompletenessResponse {
            agent_id: id.to_owned(),
            from,
            to,
            // An agent that has sent nothing and reported nothing: nothing to vouch for.
            complete: !sources.is_empty() && sources.iter().all(|s| s.complete),
            sources,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_notices_read_back_whatever_the_source_holds() {
        for source in ["/var/log/auth.log", "C:\\logs\\a: b.log", "relay udp", ""] {
            for detail in ["", "about 4096 bytes: unread", "x"] {
                let n = LossNotice {
                    source: source.into(),
                    from_seq: 12,
                    to_seq: 15,
                    reason: "rotated_unread".into(),
                    detail: detail.into(),
                };
                let text = n.to_text();
                assert!(text.starts_with("gac-agent loss: seq 12..=15 reason=rotated_unread"));
                assert_eq!(LossNotice::parse(text.as_bytes()), Some(n), "{text}");
            }
        }
        assert_eq!(LossNotice::parse(b"an ordinary line"), None);
        assert_eq!(
            LossNotice::parse(b"gac-agent loss: seq x..=y reason=a source=b"),
            None
        );
    }

    #[test]
    fn status_follows_contact_and_revocation() {
        let now = Timestamp::from_secs(1000);
        let mut rec = registry::AgentRecord {
            id: "a".into(),
            hostname: "h".into(),
            version: "v".into(),
            enrolled_at: Timestamp::from_secs(0),
            enrollments: 1,
            revoked_at: None,
            last_contact: None,
            last_peer: None,
            heartbeat_at: None,
            heartbeat: None,
        };
        assert_eq!(status(&rec, now, 300), "never_seen");
        rec.last_contact = Some(Timestamp::from_secs(900));
        assert_eq!(status(&rec, now, 300), "ok");
        assert_eq!(status(&rec, now, 60), "stale");
        rec.revoked_at = Some(now);
        assert_eq!(status(&rec, now, 300), "revoked");
    }
}
