//! Enrich (DESIGN §5): the stage between parse and index/detect. Adds to each event what
//! its own record cannot say:
//!
//! - [`geoip`]: country, city, location and autonomous system of `source.ip` and
//!   `destination.ip`, from MaxMind databases, cached per address;
//! - [`assets`]: the information system the event belongs to, that system's security
//!   level and owning unit (`labels.*`), from the asset inventory.
//!
//! [`Enricher`] is what the pipeline holds. It lives on the indexer thread and takes
//! `&mut self`: its cache is a plain map, no locks on the per-event path. Database and
//! inventory files are watched by their modification time and size, checked at most
//! every `reload_check_secs`, and reopened when they change; a file that fails to open
//! leaves the previous one in use, and says so (log, counter, [`StatusHandle`]).
//! The API reads the state of both through a [`StatusHandle`], which is cheap to clone
//! and safe to share across threads.

pub mod assets;
pub mod geoip;

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use gac_event::{Event, field};
use serde::Serialize;

use crate::config::EnrichConfig;
use crate::metrics::{self, Counter, Metrics};

pub use assets::{Assets, AssetsError, AssetsStatus, Inventory};
pub use geoip::{DatabaseStatus, Geoip, GeoipError, GeoipStatus};

/// Events between two looks at the clock: keeps `Instant::now()` off the per-event path.
const CLOCK_EVERY_EVENTS: u32 = 256;
/// When reloading is off, how often a database's age is still compared to the limit.
const STALE_CHECK_EVERY: Duration = Duration::from_secs(3600);
/// At most one log line per this interval for a repeated per-event problem; the
/// counters carry the totals.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Enrichment that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error(transparent)]
    Geoip(#[from] GeoipError),
    #[error(transparent)]
    Assets(#[from] AssetsError),
}

/// Adds GeoIP and asset context to events. One per pipeline, on one thread.
#[derive(Debug)]
pub struct Enricher {
    geoip: Option<Geoip>,
    assets: Option<Assets>,
    invalid_ip: Counter,
    invalid_log: LogLimit,
    /// `None`: files are not watched, only the databases' age is.
    reload_every: Option<Duration>,
    next_check: Instant,
    calls: u32,
    status: StatusHandle,
}

impl Enricher {
    /// Opens the configured databases and inventory. A path that is configured but
    /// cannot be opened is an error: the server should not start without what it was
    /// told to use. What is not configured is said once, at warn level.
    pub fn from_config(config: &EnrichConfig, metrics: &Metrics) -> Result<Self, EnrichError> {
        let status = StatusHandle::default();
        let geoip = if config.geoip_city_path.is_none() && config.geoip_asn_path.is_none() {
            tracing::warn!(
                "GeoIP enrichment is off: set enrich.geoip_city_path and/or enrich.geoip_asn_path"
            );
            None
        } else {
            Some(Geoip::open(config, metrics, status.geoip.clone())?)
        };
        let assets = match &config.assets_path {
            Some(path) => Some(Assets::open(path, metrics, status.assets.clone())?),
            None => {
                tracing::warn!(
                    "asset context is off: set enrich.assets_path to label events with their system"
                );
                None
            }
        };
        let reload_every =
            (config.reload_check_secs > 0).then(|| Duration::from_secs(config.reload_check_secs));
        Ok(Self {
            geoip,
            assets,
            invalid_ip: metrics.counter(metrics::ENRICH_INVALID_IP),
            invalid_log: LogLimit::default(),
            next_check: Instant::now() + reload_every.unwrap_or(STALE_CHECK_EVERY),
            reload_every,
            calls: 0,
            status,
        })
    }

    /// Adds GeoIP fields for `source.ip` and `destination.ip` and the asset labels.
    /// Never fails: a problem with one event is counted and logged at a bounded rate.
    pub fn enrich(&mut self, event: &mut Event) {
        self.calls = self.calls.wrapping_add(1);
        if self.calls.is_multiple_of(CLOCK_EVERY_EVENTS) {
            self.maintain();
        }
        let source = self.address(event, field::SOURCE_IP);
        let destination = self.address(event, field::DESTINATION_IP);
        if let Some(geoip) = &mut self.geoip {
            if let Some(ip) = source {
                geoip.enrich(event, ip, &geoip::SOURCE);
            }
            if let Some(ip) = destination {
                geoip.enrich(event, ip, &geoip::DESTINATION);
            }
        }
        if self.assets.is_some() {
            let host_ip = self.address(event, field::HOST_IP);
            if let Some(assets) = &self.assets {
                assets.label(event, source, destination, host_ip);
            }
        }
    }

    /// Checks, when due, whether a database or the inventory file changed (and reopens
    /// it) and whether a database has grown stale. [`Enricher::enrich`] calls this every
    /// few hundred events; the pipeline may also call it on an idle tick so that a
    /// change is picked up when no events flow.
    pub fn maintain(&mut self) {
        let now = Instant::now();
        if now < self.next_check {
            return;
        }
        self.next_check = now + self.reload_every.unwrap_or(STALE_CHECK_EVERY);
        let reload = self.reload_every.is_some();
        if let Some(geoip) = &mut self.geoip {
            geoip.check(reload);
        }
        if let (Some(assets), true) = (&mut self.assets, reload) {
            assets.check();
        }
    }

    /// The state of the databases and the inventory, for the API. Clone it freely.
    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    /// The GeoIP part, when configured.
    pub fn geoip(&self) -> Option<&Geoip> {
        self.geoip.as_ref()
    }

    /// The asset part, when configured.
    pub fn assets(&self) -> Option<&Assets> {
        self.assets.as_ref()
    }

    /// An address field's value as an address; a value that is not one is counted.
    fn address(&mut self, event: &Event, name: &str) -> Option<IpAddr> {
        let text = event.get_str(name)?;
        match text.parse::<IpAddr>() {
            Ok(ip) => Some(ip),
            Err(_) => {
                self.invalid_ip.inc();
                if let Some(suppressed) = self.invalid_log.allow() {
                    tracing::warn!(
                        field = name,
                        value = text,
                        suppressed,
                        "not an IP address; not enriched"
                    );
                }
                None
            }
        }
    }
}

/// What the API shows about enrichment: each GeoIP database's age and the inventory.
#[derive(Debug, Clone, Serialize)]
pub struct EnrichStatus {
    pub geoip: GeoipStatus,
    /// `None` when no inventory is configured.
    pub assets: Option<AssetsStatus>,
}

/// A shared view of the enrichment state, updated by the indexer thread when a file is
/// (re)loaded; ages are computed when read, so a database that grows stale shows so.
#[derive(Debug, Clone, Default)]
pub struct StatusHandle {
    geoip: geoip::GeoipStatusHandle,
    assets: assets::AssetsStatusHandle,
}

impl StatusHandle {
    /// The GeoIP databases in use, with their build time, age and staleness.
    pub fn geoip(&self) -> GeoipStatus {
        self.geoip.get(SystemTime::now())
    }

    /// The inventory in use, if any.
    pub fn assets(&self) -> Option<AssetsStatus> {
        self.assets.get()
    }

    /// Both.
    pub fn snapshot(&self) -> EnrichStatus {
        EnrichStatus {
            geoip: self.geoip(),
            assets: self.assets(),
        }
    }
}

/// What identifies one version of a file: a replaced or rewritten file changes at least
/// one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl FileStamp {
    pub(crate) fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        })
    }
}

/// What a watched file's check found.
#[derive(Debug)]
pub(crate) enum FileChange {
    Same,
    /// The file changed (or came back): reopen it.
    Changed,
    /// The file cannot be looked at (removed, permissions); the loaded version stays.
    Unreadable(std::io::Error),
}

/// Compares a file with the version last seen, and remembers the new one, so that a
/// file that fails to open is not retried (nor reported) until it changes again.
pub(crate) fn file_change(path: &Path, seen: &mut Option<FileStamp>) -> FileChange {
    match FileStamp::of(path) {
        Ok(stamp) if Some(stamp) == *seen => FileChange::Same,
        Ok(stamp) => {
            *seen = Some(stamp);
            FileChange::Changed
        }
        Err(e) => {
            if seen.take().is_some() {
                FileChange::Unreadable(e)
            } else {
                FileChange::Same
            }
        }
    }
}

/// Lets one log line through per [`LOG_EVERY`] and counts the ones held back.
#[derive(Debug, Default)]
pub(crate) struct LogLimit {
    last: Option<Instant>,
    suppressed: u64,
}

impl LogLimit {
    /// `Some(lines held back since the last one)` when a line may be logged now.
    pub(crate) fn allow(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            self.suppressed += 1;
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.suppressed))
    }
}

/// Seconds since the Unix epoch, as RFC 3339 (UTC) for people reading the status.
pub(crate) fn rfc3339(epoch_secs: u64) -> String {
    i64::try_from(epoch_secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod testdata {
    //! The MaxMind test databases under `server/tests/data/mmdb` (see its NOTICE.md).

    use std::path::PathBuf;

    pub fn mmdb(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/mmdb")
            .join(name)
    }

    pub const CITY: &str = "GeoIP2-City-Test.mmdb";
    pub const CITY_LITE: &str = "GeoLite2-City-Test.mmdb";
    pub const ASN: &str = "GeoLite2-ASN-Test.mmdb";
}

#[cfg(test)]
mod tests {
    use super::*;
    use gac_event::Timestamp;

    fn event(fields: &[(&'static str, &str)]) -> Event {
        let mut e = Event::new(Timestamp::from_nanos(0), Timestamp::from_nanos(0), "m");
        for (k, v) in fields {
            e.set(*k, *v);
        }
        e
    }

    fn config(dir: &Path) -> EnrichConfig {
        let inventory = dir.join("assets.toml");
        std::fs::write(
            &inventory,
            r#"
[[system]]
name = "Cổng dịch vụ công"
security_level = 3
unit = "Sở KH&CN"
hosts = ["dvc-web-01"]
public_ranges = ["89.160.20.128/25"]
[system.contact]
name = "Nguyễn Văn A"
phone = "+84 20 0000 0000"
email = "soc@example.gov.vn"
"#,
        )
        .unwrap();
        EnrichConfig {
            geoip_city_path: Some(testdata::mmdb(testdata::CITY)),
            geoip_asn_path: Some(testdata::mmdb(testdata::ASN)),
            assets_path: Some(inventory),
            ..EnrichConfig::default()
        }
    }

    #[test]
    fn enrich_adds_geoip_for_both_ends_and_the_system() {
        let dir = tempfile::tempdir().unwrap();
        let m = Metrics::default();
        let mut enricher = Enricher::from_config(&config(dir.path()), &m).unwrap();
        let mut e = event(&[
            (field::SOURCE_IP, "81.2.69.142"),
            (field::DESTINATION_IP, "89.160.20.130"),
            (field::HOST_NAME, "firewall-01"),
        ]);
        enricher.enrich(&mut e);
        assert_eq!(e.get_str(field::SOURCE_GEO_CITY_NAME), Some("London"));
        assert_eq!(e.get_str(field::SOURCE_GEO_COUNTRY_ISO_CODE), Some("GB"));
        assert_eq!(
            e.get_str(field::DESTINATION_GEO_CITY_NAME),
            Some("Linköping")
        );
        assert_eq!(e.get_i64(field::DESTINATION_AS_NUMBER), Some(29518));
        assert_eq!(
            e.get_str(field::DESTINATION_AS_ORGANIZATION_NAME),
            Some("Bredband2 AB")
        );
        // The destination is in the portal's registered public range.
        assert_eq!(e.get_str(field::LABELS_SYSTEM), Some("Cổng dịch vụ công"));
        assert_eq!(e.get_i64(field::LABELS_SECURITY_LEVEL), Some(3));
        assert_eq!(e.get_str(field::LABELS_UNIT), Some("Sở KH&CN"));
        let status = enricher.status().snapshot();
        assert_eq!(status.geoip.databases.len(), 2);
        assert_eq!(status.assets.unwrap().systems, 1);
        let json = serde_json::to_value(enricher.status().snapshot()).unwrap();
        assert!(
            json["geoip"]["databases"][0]["build_epoch"]
                .as_u64()
                .unwrap()
                > 0
        );
    }

    #[test]
    fn enrich_counts_values_that_are_not_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let m = Metrics::default();
        let mut enricher = Enricher::from_config(&config(dir.path()), &m).unwrap();
        let mut e = event(&[(field::SOURCE_IP, "not-an-ip")]);
        enricher.enrich(&mut e);
        assert_eq!(m.snapshot()[metrics::ENRICH_INVALID_IP], 1);
        assert!(e.get(field::SOURCE_GEO_COUNTRY_ISO_CODE).is_none());
        assert_eq!(m.snapshot()[metrics::ASSETS_UNMATCHED], 1);
    }

    #[test]
    fn enrich_without_configuration_does_nothing_and_says_so() {
        let m = Metrics::default();
        let mut enricher = Enricher::from_config(&EnrichConfig::default(), &m).unwrap();
        let mut e = event(&[(field::SOURCE_IP, "81.2.69.142")]);
        let before = e.clone();
        enricher.enrich(&mut e);
        assert_eq!(e, before);
        let status = enricher.status().snapshot();
        assert!(status.geoip.databases.is_empty());
        assert!(status.assets.is_none());
    }

    #[test]
    fn enrich_refuses_to_start_with_a_missing_database() {
        let config = EnrichConfig {
            geoip_city_path: Some("/nonexistent/City.mmdb".into()),
            ..EnrichConfig::default()
        };
        let err = Enricher::from_config(&config, &Metrics::default()).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/City.mmdb"), "{err}");
    }

    #[test]
    fn enrich_the_enricher_moves_to_the_indexer_thread_and_the_status_is_shared() {
        fn send<T: Send>() {}
        fn shared<T: Send + Sync + Clone>() {}
        send::<Enricher>();
        shared::<StatusHandle>();
    }

    #[test]
    fn enrich_log_limit_lets_one_line_through_per_interval() {
        let mut limit = LogLimit::default();
        assert_eq!(limit.allow(), Some(0));
        assert_eq!(limit.allow(), None);
        assert_eq!(limit.allow(), None);
        limit.last = Some(Instant::now() - LOG_EVERY);
        assert_eq!(limit.allow(), Some(2));
    }
}
