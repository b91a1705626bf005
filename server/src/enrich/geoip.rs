//! GeoIP enrichment: country, city, location (MaxMind city database) and autonomous
//! system (MaxMind ASN database) for an event's `source.ip` and `destination.ip`.
//!
//! Private, loopback, link-local, multicast, documentation and other reserved addresses
//! are never looked up (counted in `geoip.skipped_reserved`). Answers, including "not
//! known", are kept in a bounded per-address cache with CLOCK eviction (an approximation
//! of least-recently-used that needs one bit per entry and no list to maintain on a
//! hit). A database is read whole into memory rather than mapped, so replacing the file
//! in place can never fault a reader; reopening it swaps the reader only once the new
//! file has opened, so a bad file leaves the old one in use.
//!
//! Each database's build time is a gauge, and one older than `geoip_stale_after_days` is
//! reported stale: at start, on reload, and when it ages past the limit while in use.
//!
//! A City answer is decoded into `CityRecord`, which names only what Gác keeps (English
//! names, ISO code, location): the rest of the record is skipped unread, not decoded.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use gac_event::{Event, field};
use maxminddb::{MaxMindDbError, Reader, geoip2};
use serde::{Deserialize, Serialize};

use super::{FileChange, FileStamp, LogLimit, file_change, rfc3339};
use crate::config::EnrichConfig;
use crate::metrics::{self, Counter, Metrics};

const SECS_PER_DAY: u64 = 86_400;

/// A GeoIP database that could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum GeoipError {
    #[error("cannot open the GeoIP {kind} database {path}: {source}")]
    Open {
        kind: Kind,
        path: PathBuf,
        source: MaxMindDbError,
    },
    #[error(
        "{path} is a {database_type:?} database; the {kind} database must be one of {expected}"
    )]
    WrongKind {
        kind: Kind,
        path: PathBuf,
        database_type: String,
        expected: &'static str,
    },
}

/// Which database: the two answer different questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Country, city and location (GeoIP2/GeoLite2 City, or Country).
    City,
    /// Autonomous system number and organisation (GeoLite2 ASN, GeoIP2 ISP).
    Asn,
}

impl Kind {
    /// Words one of which a database's `database_type` must contain to be used as this
    /// kind: a city path given an ASN file would otherwise answer nothing, silently.
    fn accepted_types(self) -> &'static [&'static str] {
        match self {
            Kind::City => &["City", "Country", "Enterprise"],
            Kind::Asn => &["ASN", "ISP"],
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::City => "city",
            Kind::Asn => "asn",
        })
    }
}

/// The event fields GeoIP fills for one end of a connection.
#[derive(Debug)]
pub struct Target {
    pub country_iso_code: &'static str,
    pub country_name: &'static str,
    pub city_name: &'static str,
    pub location_lat: &'static str,
    pub location_lon: &'static str,
    pub as_number: &'static str,
    pub as_organization_name: &'static str,
}

/// `source.geo.*` and `source.as.*`.
pub const SOURCE: Target = Target {
    country_iso_code: field::SOURCE_GEO_COUNTRY_ISO_CODE,
    country_name: field::SOURCE_GEO_COUNTRY_NAME,
    city_name: field::SOURCE_GEO_CITY_NAME,
    location_lat: field::SOURCE_GEO_LOCATION_LAT,
    location_lon: field::SOURCE_GEO_LOCATION_LON,
    as_number: field::SOURCE_AS_NUMBER,
    as_organization_name: field::SOURCE_AS_ORGANIZATION_NAME,
};

/// `destination.geo.*` and `destination.as.*`.
pub const DESTINATION: Target = Target {
    country_iso_code: field::DESTINATION_GEO_COUNTRY_ISO_CODE,
    country_name: field::DESTINATION_GEO_COUNTRY_NAME,
    city_name: field::DESTINATION_GEO_CITY_NAME,
    location_lat: field::DESTINATION_GEO_LOCATION_LAT,
    location_lon: field::DESTINATION_GEO_LOCATION_LON,
    as_number: field::DESTINATION_AS_NUMBER,
    as_organization_name: field::DESTINATION_AS_ORGANIZATION_NAME,
};

/// What the databases say about one address. Names are English (MaxMind has no
/// Vietnamese names).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GeoInfo {
    pub country_iso_code: Option<Box<str>>,
    pub country_name: Option<Box<str>>,
    pub city_name: Option<Box<str>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub as_number: Option<u32>,
    pub as_organization_name: Option<Box<str>>,
}

impl GeoInfo {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Sets the fields this answer has on the event.
    pub fn apply(&self, event: &mut Event, to: &Target) {
        let strings = [
            (to.country_iso_code, &self.country_iso_code),
            (to.country_name, &self.country_name),
            (to.city_name, &self.city_name),
            (to.as_organization_name, &self.as_organization_name),
        ];
        for (name, value) in strings {
            if let Some(v) = value {
                event.set(name, &**v);
            }
        }
        if let (Some(lat), Some(lon)) = (self.latitude, self.longitude) {
            event.set(to.location_lat, lat);
            event.set(to.location_lon, lon);
        }
        if let Some(n) = self.as_number {
            event.set(to.as_number, n);
        }
    }
}

/// The answer for one address.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    /// Private, loopback, link-local, multicast, documentation or reserved: not looked up.
    Reserved,
    /// A public address neither database knows.
    NotFound,
    Found(&'a GeoInfo),
}

/// The GeoIP databases with their cache. See the module documentation.
#[derive(Debug)]
pub struct Geoip {
    city: Option<Database>,
    asn: Option<Database>,
    cache: ClockCache<IpAddr, GeoInfo>,
    stale_after_secs: u64,
    counters: Counters,
    error_log: LogLimit,
    status: GeoipStatusHandle,
}

#[derive(Debug)]
struct Counters {
    hits: Counter,
    misses: Counter,
    skipped: Counter,
    not_found: Counter,
    errors: Counter,
    reloads: Counter,
    reload_errors: Counter,
    stale: Counter,
}

/// One open database and the file it came from.
#[derive(Debug)]
struct Database {
    kind: Kind,
    path: PathBuf,
    reader: Reader<Vec<u8>>,
    seen: Option<FileStamp>,
    stale: bool,
    build_epoch_gauge: Counter,
    stale_gauge: Counter,
}

impl Geoip {
    /// Opens the configured databases (at least one path should be set). The
    /// build time and age of each is logged; a stale one is a warning, not an error.
    pub fn open(
        config: &EnrichConfig,
        m: &Metrics,
        status: GeoipStatusHandle,
    ) -> Result<Self, GeoipError> {
        let days = config.geoip_stale_after_days;
        status.set_stale_after_days(days);
        let mut geoip = Self {
            city: None,
            asn: None,
            cache: ClockCache::new(config.cache_entries),
            stale_after_secs: u64::from(days) * SECS_PER_DAY,
            counters: Counters {
                hits: m.counter(metrics::GEOIP_CACHE_HITS),
                misses: m.counter(metrics::GEOIP_CACHE_MISSES),
                skipped: m.counter(metrics::GEOIP_SKIPPED_RESERVED),
                not_found: m.counter(metrics::GEOIP_NOT_FOUND),
                errors: m.counter(metrics::GEOIP_LOOKUP_ERRORS),
                reloads: m.counter(metrics::GEOIP_RELOADS),
                reload_errors: m.counter(metrics::GEOIP_RELOAD_ERRORS),
                stale: m.counter(metrics::GEOIP_STALE),
            },
            error_log: LogLimit::default(),
            status,
        };
        let now = SystemTime::now();
        let paths = [
            (
                Kind::City,
                &config.geoip_city_path,
                metrics::GEOIP_CITY_BUILD_EPOCH,
                metrics::GEOIP_CITY_IS_STALE,
            ),
            (
                Kind::Asn,
                &config.geoip_asn_path,
                metrics::GEOIP_ASN_BUILD_EPOCH,
                metrics::GEOIP_ASN_IS_STALE,
            ),
        ];
        for (kind, path, epoch_name, stale_name) in paths {
            let Some(path) = path else {
                tracing::warn!(%kind, "no GeoIP database of this kind configured: its fields stay empty");
                continue;
            };
            // The stamp is taken before reading, so a change during the read is seen at
            // the next check.
            let seen = FileStamp::of(path).ok();
            let reader = open_database(kind, path)?;
            let mut db = Database {
                kind,
                path: path.clone(),
                reader,
                seen,
                stale: false,
                build_epoch_gauge: m.counter(epoch_name),
                stale_gauge: m.counter(stale_name),
            };
            loaded(
                &mut db,
                now,
                geoip.stale_after_secs,
                &geoip.counters,
                &geoip.status,
            );
            match kind {
                Kind::City => geoip.city = Some(db),
                Kind::Asn => geoip.asn = Some(db),
            }
        }
        Ok(geoip)
    }

    /// The answer for one address, from the cache or the databases. IPv4-mapped IPv6
    /// addresses are answered as the IPv4 address they carry.
    pub fn lookup(&mut self, ip: IpAddr) -> Lookup<'_> {
        let ip = canonical(ip);
        if !is_public(ip) {
            self.counters.skipped.inc();
            return Lookup::Reserved;
        }
        let (city, asn) = (&self.city, &self.asn);
        let (errors, error_log) = (&self.counters.errors, &mut self.error_log);
        let (info, hit) = self.cache.get_or_insert_with(ip, || {
            let (info, failures) = query(city.as_ref(), asn.as_ref(), ip);
            for (kind, e) in failures {
                errors.inc();
                if let Some(suppressed) = error_log.allow() {
                    tracing::warn!(%ip, %kind, error = %e, suppressed, "GeoIP lookup failed");
                }
            }
            info
        });
        if hit {
            self.counters.hits.inc();
        } else {
            self.counters.misses.inc();
        }
        if info.is_empty() {
            self.counters.not_found.inc();
            Lookup::NotFound
        } else {
            Lookup::Found(info)
        }
    }

    /// Sets `to`'s fields on the event from what is known about `ip`.
    pub fn enrich(&mut self, event: &mut Event, ip: IpAddr, to: &Target) {
        if let Lookup::Found(info) = self.lookup(ip) {
            info.apply(event, to);
        }
    }

    /// Reopens a database whose file changed (when `reload`), and re-assesses staleness.
    /// A file that cannot be opened leaves the loaded database in use, is logged and
    /// counted, and shows in the status until a good file replaces it.
    pub fn check(&mut self, reload: bool) {
        let now = SystemTime::now();
        let mut swapped = false;
        for db in [self.city.as_mut(), self.asn.as_mut()]
            .into_iter()
            .flatten()
        {
            if reload
                && reload_if_changed(db, now, self.stale_after_secs, &self.counters, &self.status)
            {
                swapped = true;
                continue;
            }
            let stale = is_stale(db.reader.metadata().build_epoch, now, self.stale_after_secs);
            if stale && !db.stale {
                self.counters.stale.inc();
                warn_stale(db, now);
            }
            db.stale = stale;
            db.stale_gauge.set(u64::from(stale));
        }
        if swapped {
            self.cache.clear();
        }
    }

    /// Addresses in the cache.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }
}

/// Reopens a database whose file changed; `true` when the new file is now in use.
fn reload_if_changed(
    db: &mut Database,
    now: SystemTime,
    stale_after_secs: u64,
    counters: &Counters,
    status: &GeoipStatusHandle,
) -> bool {
    let error = match file_change(&db.path, &mut db.seen) {
        FileChange::Same => return false,
        FileChange::Changed => match open_database(db.kind, &db.path) {
            Ok(reader) => {
                db.reader = reader;
                counters.reloads.inc();
                tracing::info!(
                    kind = %db.kind,
                    path = %db.path.display(),
                    "GeoIP database reloaded"
                );
                loaded(db, now, stale_after_secs, counters, status);
                return true;
            }
            Err(e) => e.to_string(),
        },
        FileChange::Unreadable(e) => format!("cannot read {}: {e}", db.path.display()),
    };
    counters.reload_errors.inc();
    tracing::error!(
        kind = %db.kind,
        %error,
        "GeoIP database file changed but cannot be used; keeping the one loaded"
    );
    status.set_error(db.kind, error);
    false
}

/// Records a freshly opened database: gauges, status, and a log line with its age.
fn loaded(
    db: &mut Database,
    now: SystemTime,
    stale_after_secs: u64,
    counters: &Counters,
    status: &GeoipStatusHandle,
) {
    let meta = db.reader.metadata();
    let epoch = meta.build_epoch;
    db.build_epoch_gauge.set(epoch);
    db.stale = is_stale(epoch, now, stale_after_secs);
    db.stale_gauge.set(u64::from(db.stale));
    status.set_loaded(Record {
        kind: db.kind,
        path: db.path.clone(),
        database_type: meta.database_type.clone(),
        build_epoch: epoch,
        last_error: None,
    });
    if db.stale {
        counters.stale.inc();
        warn_stale(db, now);
    } else {
        tracing::info!(
            kind = %db.kind,
            path = %db.path.display(),
            database_type = %meta.database_type,
            built = %rfc3339(epoch),
            age_days = age_secs(epoch, now) / SECS_PER_DAY,
            "GeoIP database loaded"
        );
    }
}

fn warn_stale(db: &Database, now: SystemTime) {
    let epoch = db.reader.metadata().build_epoch;
    tracing::warn!(
        kind = %db.kind,
        path = %db.path.display(),
        built = %rfc3339(epoch),
        age_days = age_secs(epoch, now) / SECS_PER_DAY,
        "GeoIP database is stale: update it (geoipupdate); it stays in use meanwhile"
    );
}

fn open_database(kind: Kind, path: &Path) -> Result<Reader<Vec<u8>>, GeoipError> {
    let reader = Reader::open_readfile(path).map_err(|source| GeoipError::Open {
        kind,
        path: path.to_owned(),
        source,
    })?;
    let database_type = &reader.metadata().database_type;
    let accepted = kind.accepted_types();
    if !accepted.iter().any(|w| database_type.contains(w)) {
        return Err(GeoipError::WrongKind {
            kind,
            path: path.to_owned(),
            database_type: database_type.clone(),
            expected: match kind {
                Kind::City => "a City, Country or Enterprise database",
                Kind::Asn => "an ASN or ISP database",
            },
        });
    }
    Ok(reader)
}

/// The part of a GeoIP2/GeoLite2 City record Gác keeps. Decoding `geoip2::City` reads
/// and UTF-8-checks every language's names, the subdivisions, the continent and the
/// registered country; serde skips whatever this type does not name, so a lookup costs
/// about a third (BENCHMARKS.md, enrichment). Field names are MaxMind's.
#[derive(Debug, Default, Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow)]
    city: Option<Named<'a>>,
    #[serde(borrow)]
    country: Option<CountryRecord<'a>>,
    location: Option<LocationRecord>,
}

#[derive(Debug, Default, Deserialize)]
struct Named<'a> {
    #[serde(borrow)]
    names: Option<English<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct English<'a> {
    #[serde(borrow)]
    en: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
    #[serde(borrow)]
    names: Option<English<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct LocationRecord {
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// Asks both databases about `ip`; what one cannot answer is returned beside the rest.
fn query(
    city: Option<&Database>,
    asn: Option<&Database>,
    ip: IpAddr,
) -> (GeoInfo, Vec<(Kind, MaxMindDbError)>) {
    let mut info = GeoInfo::default();
    let mut failures = Vec::new();
    if let Some(db) = city {
        let answer = db.reader.lookup(ip).and_then(|r| r.decode::<CityRecord>());
        match answer {
            Ok(Some(c)) => {
                let country = c.country.unwrap_or_default();
                info.country_iso_code = country.iso_code.map(Into::into);
                info.country_name = country.names.and_then(|n| n.en).map(Into::into);
                info.city_name = c
                    .city
                    .and_then(|c| c.names)
                    .and_then(|n| n.en)
                    .map(Into::into);
                let location = c.location.unwrap_or_default();
                info.latitude = location.latitude;
                info.longitude = location.longitude;
            }
            Ok(None) => {}
            Err(e) => failures.push((Kind::City, e)),
        }
    }
    if let Some(db) = asn {
        match db.reader.lookup(ip).and_then(|r| r.decode::<geoip2::Asn>()) {
            Ok(Some(a)) => {
                info.as_number = a.autonomous_system_number;
                info.as_organization_name = a.autonomous_system_organization.map(Into::into);
            }
            Ok(None) => {}
            Err(e) => failures.push((Kind::Asn, e)),
        }
    }
    (info, failures)
}

fn age_secs(build_epoch: u64, now: SystemTime) -> u64 {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    now.saturating_sub(build_epoch)
}

fn is_stale(build_epoch: u64, now: SystemTime, stale_after_secs: u64) -> bool {
    age_secs(build_epoch, now) > stale_after_secs
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it carries.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u32 {
    u32::from_be_bytes([a, b, c, d])
}

/// IPv4 ranges that are not globally routed (IANA special-purpose registry, RFC 6890 and
/// successors): this network, private, shared (CGNAT), loopback, link-local, IETF
/// protocol assignments, documentation, the 6to4 relay anycast, benchmarking,
/// multicast, and reserved (including broadcast).
const RESERVED_V4: [(u32, u8); 15] = [
    (v4(0, 0, 0, 0), 8),
    (v4(10, 0, 0, 0), 8),
    (v4(100, 64, 0, 0), 10),
    (v4(127, 0, 0, 0), 8),
    (v4(169, 254, 0, 0), 16),
    (v4(172, 16, 0, 0), 12),
    (v4(192, 0, 0, 0), 24),
    (v4(192, 0, 2, 0), 24),
    (v4(192, 88, 99, 0), 24),
    (v4(192, 168, 0, 0), 16),
    (v4(198, 18, 0, 0), 15),
    (v4(198, 51, 100, 0), 24),
    (v4(203, 0, 113, 0), 24),
    (v4(224, 0, 0, 0), 4),
    (v4(240, 0, 0, 0), 4),
];

/// Only 2000::/3 is global unicast; inside it these are not: IETF protocol assignments
/// (Teredo, benchmarking, ORCHID), documentation (2001:db8::/32 and 3fff::/20), and 6to4,
/// whose addresses stand for IPv4 ones. Everything outside 2000::/3 (unspecified,
/// loopback, NAT64, discard, unique local, link-local, multicast, ...) is not public.
const RESERVED_V6: [(u128, u8); 4] = [
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0).to_bits(), 23),
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0).to_bits(), 32),
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0).to_bits(), 16),
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0).to_bits(), 20),
];
const GLOBAL_UNICAST_V6: (u128, u8) = (Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0).to_bits(), 3);

/// Whether an address is globally routed, so that GeoIP can say something about it.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => {
            let bits = a.to_bits();
            let within = |(net, len): (u128, u8)| bits & mask128(len) == net;
            within(GLOBAL_UNICAST_V6) && !RESERVED_V6.into_iter().any(within)
        }
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let bits = a.to_bits();
    !RESERVED_V4
        .into_iter()
        .any(|(net, len)| bits & mask32(len) == net)
}

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

/// The GeoIP part of the API's enrichment status.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GeoipStatus {
    /// A database built more than this many days ago is stale.
    pub stale_after_days: u32,
    /// The configured databases; empty when GeoIP is off.
    pub databases: Vec<DatabaseStatus>,
}

/// One database in use.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DatabaseStatus {
    pub kind: Kind,
    pub path: PathBuf,
    /// As the file says, e.g. `GeoLite2-City`.
    pub database_type: String,
    /// Build time, seconds since the Unix epoch (`metadata.build_epoch`).
    pub build_epoch: u64,
    /// Build time as RFC 3339 (UTC).
    pub built: String,
    /// Whole days since the build.
    pub age_days: u64,
    pub stale: bool,
    /// Why the file on disk is not the one in use (a failed reload); `None` when it is.
    pub last_error: Option<String>,
}

/// What the indexer thread last loaded, shared with the API.
#[derive(Debug, Clone, Default)]
pub struct GeoipStatusHandle(Arc<Mutex<Shared>>);

#[derive(Debug, Default)]
struct Shared {
    stale_after_days: u32,
    databases: Vec<Record>,
}

#[derive(Debug, Clone)]
struct Record {
    kind: Kind,
    path: PathBuf,
    database_type: String,
    build_epoch: u64,
    last_error: Option<String>,
}

impl GeoipStatusHandle {
    fn with<T>(&self, f: impl FnOnce(&mut Shared) -> T) -> T {
        let mut shared = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut shared)
    }

    fn set_stale_after_days(&self, days: u32) {
        self.with(|s| s.stale_after_days = days);
    }

    fn set_loaded(&self, record: Record) {
        self.with(
            |s| match s.databases.iter_mut().find(|r| r.kind == record.kind) {
                Some(r) => *r = record,
                None => s.databases.push(record),
            },
        );
    }

    fn set_error(&self, kind: Kind, error: String) {
        self.with(|s| {
            if let Some(r) = s.databases.iter_mut().find(|r| r.kind == kind) {
                r.last_error = Some(error);
            }
        });
    }

    /// The status as of `now`.
    pub fn get(&self, now: SystemTime) -> GeoipStatus {
        self.with(|s| {
            let after = u64::from(s.stale_after_days) * SECS_PER_DAY;
            GeoipStatus {
                stale_after_days: s.stale_after_days,
                databases: s
                    .databases
                    .iter()
                    .map(|r| DatabaseStatus {
                        kind: r.kind,
                        path: r.path.clone(),
                        database_type: r.database_type.clone(),
                        build_epoch: r.build_epoch,
                        built: rfc3339(r.build_epoch),
                        age_days: age_secs(r.build_epoch, now) / SECS_PER_DAY,
                        stale: is_stale(r.build_epoch, now, after),
                        last_error: r.last_error.clone(),
                    })
                    .collect(),
            }
        })
    }
}

/// A bounded map with CLOCK eviction: each entry has a "used since the hand last passed"
/// bit; when full, the hand sweeps, clearing bits, and replaces the first entry whose
/// bit was already clear. A hit costs one hash lookup and one store.
#[derive(Debug)]
struct ClockCache<K, V> {
    index: HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
    capacity: usize,
}

#[derive(Debug)]
struct Slot<K, V> {
    key: K,
    value: V,
    used: bool,
}

impl<K: Hash + Eq + Copy, V> ClockCache<K, V> {
    /// `capacity` 0 keeps nothing: every call computes.
    fn new(capacity: usize) -> Self {
        Self {
            index: HashMap::with_capacity(capacity.min(1 << 16)),
            slots: Vec::with_capacity(capacity.min(1 << 16)),
            hand: 0,
            capacity,
        }
    }

    /// The cached value, or `make()`'s, now cached; and whether it was a hit.
    fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> (&V, bool) {
        if let Some(&i) = self.index.get(&key) {
            let slot = &mut self.slots[i];
            slot.used = true;
            return (&slot.value, true);
        }
        let i = self.place(key, make());
        (&self.slots[i].value, false)
    }

    fn place(&mut self, key: K, value: V) -> usize {
        let fresh = Slot {
            key,
            value,
            used: false,
        };
        if self.capacity == 0 {
            // A scratch slot, never indexed, so that the caller can borrow the value.
            self.slots.clear();
            self.slots.push(fresh);
            return 0;
        }
        if self.slots.len() < self.capacity {
            self.slots.push(fresh);
            let i = self.slots.len() - 1;
            self.index.insert(key, i);
            return i;
        }
        // Ends within two sweeps: the first clears every bit it passes.
        loop {
            let i = self.hand;
            self.hand = (self.hand + 1) % self.capacity;
            let slot = &mut self.slots[i];
            if slot.used {
                slot.used = false;
                continue;
            }
            self.index.remove(&slot.key);
            *slot = fresh;
            self.index.insert(key, i);
            return i;
        }
    }

    fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.hand = 0;
    }

    fn len(&self) -> usize {
        self.index.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::enrich::testdata::{ASN, CITY, CITY_LITE, mmdb};
    use gac_event::Timestamp;

    fn config(city: Option<PathBuf>, asn: Option<PathBuf>) -> EnrichConfig {
        EnrichConfig {
            geoip_city_path: city,
            geoip_asn_path: asn,
            ..EnrichConfig::default()
        }
    }

    fn open(config: &EnrichConfig) -> (Geoip, Metrics) {
        let m = Metrics::default();
        let g = Geoip::open(config, &m, GeoipStatusHandle::default()).unwrap();
        (g, m)
    }

    fn both() -> (Geoip, Metrics) {
        open(&config(Some(mmdb(CITY)), Some(mmdb(ASN))))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn found(g: &mut Geoip, addr: &str) -> GeoInfo {
        match g.lookup(ip(addr)) {
            Lookup::Found(info) => info.clone(),
            other => panic!("{addr}: {other:?}"),
        }
    }

    #[test]
    fn enrich_geoip_known_answers() {
        let (mut g, _) = both();
        let london = found(&mut g, "81.2.69.142");
        assert_eq!(london.city_name.as_deref(), Some("London"));
        assert_eq!(london.country_iso_code.as_deref(), Some("GB"));
        assert_eq!(london.country_name.as_deref(), Some("United Kingdom"));
        assert_eq!(london.latitude, Some(51.5142));
        assert_eq!(london.longitude, Some(-0.0931));
        let linkoping = found(&mut g, "89.160.20.128");
        assert_eq!(linkoping.city_name.as_deref(), Some("Linköping"));
        assert_eq!(linkoping.country_iso_code.as_deref(), Some("SE"));
        assert_eq!(linkoping.as_number, Some(29518));
        assert_eq!(
            linkoping.as_organization_name.as_deref(),
            Some("Bredband2 AB")
        );
        // IPv6, and an IPv4-mapped IPv6 address answered as IPv4.
        let san_diego = found(&mut g, "2001:480:10::1");
        assert_eq!(san_diego.city_name.as_deref(), Some("San Diego"));
        assert_eq!(found(&mut g, "::ffff:81.2.69.142"), london);
        // Only the ASN database knows 1.0.0.1.
        let google = found(&mut g, "1.0.0.1");
        assert_eq!(google.as_number, Some(15169));
        assert_eq!(google.city_name, None);
    }

    #[test]
    fn enrich_geoip_sets_the_event_fields() {
        let (mut g, _) = both();
        let mut e = Event::new(Timestamp::from_nanos(0), Timestamp::from_nanos(0), "m");
        g.enrich(&mut e, ip("89.160.20.130"), &SOURCE);
        g.enrich(&mut e, ip("81.2.69.142"), &DESTINATION);
        assert_eq!(e.get_str(field::SOURCE_GEO_CITY_NAME), Some("Linköping"));
        assert_eq!(e.get_str(field::SOURCE_GEO_COUNTRY_ISO_CODE), Some("SE"));
        assert_eq!(e.get_str(field::SOURCE_GEO_COUNTRY_NAME), Some("Sweden"));
        assert_eq!(e.get_i64(field::SOURCE_AS_NUMBER), Some(29518));
        assert_eq!(
            e.get_str(field::SOURCE_AS_ORGANIZATION_NAME),
            Some("Bredband2 AB")
        );
        assert!(e.get(field::SOURCE_GEO_LOCATION_LAT).is_some());
        assert_eq!(e.get_str(field::DESTINATION_GEO_CITY_NAME), Some("London"));
        assert!(e.get(field::DESTINATION_AS_NUMBER).is_none());
    }

    #[test]
    fn enrich_geoip_skips_private_and_reserved_addresses() {
        let (mut g, m) = both();
        let reserved = [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::",
            "::1",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "2001::1",
            "2002:c000:201::1",
            "64:ff9b::808:808",
            "::ffff:10.0.0.1",
        ];
        for addr in reserved {
            assert_eq!(g.lookup(ip(addr)), Lookup::Reserved, "{addr}");
        }
        let snap = m.snapshot();
        assert_eq!(snap[metrics::GEOIP_SKIPPED_RESERVED], reserved.len() as u64);
        assert_eq!(snap[metrics::GEOIP_CACHE_MISSES], 0);
        for public in [
            "8.8.8.8",
            "81.2.69.142",
            "2001:480:10::1",
            "2a02:cf40::1",
            "14.160.0.1",
        ] {
            assert!(is_public(ip(public)), "{public}");
        }
    }

    #[test]
    fn enrich_geoip_cache_answers_repeats_and_counts() {
        let (mut g, m) = both();
        found(&mut g, "81.2.69.142");
        found(&mut g, "81.2.69.142");
        found(&mut g, "81.2.69.142");
        // Unknown public addresses are cached too, and counted each time.
        assert_eq!(g.lookup(ip("8.8.4.4")), Lookup::NotFound);
        assert_eq!(g.lookup(ip("8.8.4.4")), Lookup::NotFound);
        let snap = m.snapshot();
        assert_eq!(snap[metrics::GEOIP_CACHE_MISSES], 2);
        assert_eq!(snap[metrics::GEOIP_CACHE_HITS], 3);
        assert_eq!(snap[metrics::GEOIP_NOT_FOUND], 2);
        assert_eq!(g.cached(), 2);
    }

    #[test]
    fn enrich_geoip_cache_of_zero_looks_everything_up() {
        let mut c = config(Some(mmdb(CITY)), None);
        c.cache_entries = 0;
        let (mut g, m) = open(&c);
        found(&mut g, "81.2.69.142");
        found(&mut g, "81.2.69.142");
        assert_eq!(m.snapshot()[metrics::GEOIP_CACHE_MISSES], 2);
        assert_eq!(m.snapshot()[metrics::GEOIP_CACHE_HITS], 0);
        assert_eq!(g.cached(), 0);
    }

    #[test]
    fn enrich_clock_cache_is_bounded_and_keeps_what_is_used() {
        let mut c: ClockCache<u32, u32> = ClockCache::new(3);
        for k in 0..3 {
            assert!(!c.get_or_insert_with(k, || k * 10).1);
        }
        // 0 is used again: the next insert evicts 1, the first unused entry.
        assert_eq!(c.get_or_insert_with(0, || unreachable!()), (&0, true));
        c.get_or_insert_with(3, || 30);
        assert_eq!(c.len(), 3);
        assert!(c.get_or_insert_with(0, || 99).1);
        assert!(c.get_or_insert_with(2, || 99).1);
        assert_eq!(c.get_or_insert_with(1, || 11), (&11, false));
        for k in 100..1000 {
            c.get_or_insert_with(k, || k);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.index.len(), c.slots.len());
        for (k, &i) in &c.index {
            assert_eq!(c.slots[i].key, *k);
        }
    }

    /// A copy of a test database in a temporary directory, to be replaced.
    fn scratch(name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("City.mmdb");
        std::fs::copy(mmdb(name), &path).unwrap();
        (dir, path)
    }

    /// Replaces a file the way an updater does (write aside, rename over), with an
    /// mtime that surely differs from the old one.
    fn replace(path: &Path, bytes: &[u8], mtime_offset_secs: u64) {
        let aside = path.with_extension("new");
        std::fs::write(&aside, bytes).unwrap();
        let f = std::fs::File::options().write(true).open(&aside).unwrap();
        f.set_modified(SystemTime::now() + std::time::Duration::from_secs(mtime_offset_secs))
            .unwrap();
        std::fs::rename(&aside, path).unwrap();
    }

    #[test]
    fn enrich_geoip_reloads_a_replaced_database() {
        let (_dir, path) = scratch(CITY_LITE);
        let status = GeoipStatusHandle::default();
        let m = Metrics::default();
        let mut g = Geoip::open(&config(Some(path.clone()), None), &m, status.clone()).unwrap();
        // GeoLite2's test data has nothing for 214.0.0.1; GeoIP2's says Singapore.
        assert_eq!(g.lookup(ip("214.0.0.1")), Lookup::NotFound);
        assert_eq!(
            status.get(SystemTime::now()).databases[0].database_type,
            "GeoLite2-City"
        );
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOADS], 0, "unchanged file");

        replace(&path, &std::fs::read(mmdb(CITY)).unwrap(), 10);
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOADS], 1);
        let singapore = found(&mut g, "214.0.0.1");
        assert_eq!(singapore.city_name.as_deref(), Some("Singapore"));
        let s = status.get(SystemTime::now());
        assert_eq!(s.databases.len(), 1);
        assert_eq!(s.databases[0].database_type, "GeoIP2-City");
        assert_eq!(s.databases[0].last_error, None);
        let epoch = g.city.as_ref().unwrap().reader.metadata().build_epoch;
        assert_eq!(s.databases[0].build_epoch, epoch);
        assert_eq!(m.snapshot()[metrics::GEOIP_CITY_BUILD_EPOCH], epoch);
    }

    #[test]
    fn enrich_geoip_keeps_the_old_database_when_the_new_one_is_corrupt() {
        let (_dir, path) = scratch(CITY);
        let status = GeoipStatusHandle::default();
        let m = Metrics::default();
        let mut g = Geoip::open(&config(Some(path.clone()), None), &m, status.clone()).unwrap();
        found(&mut g, "81.2.69.142");

        replace(&path, b"this is not a MaxMind database", 10);
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOAD_ERRORS], 1);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOADS], 0);
        let london = found(&mut g, "81.2.69.142");
        assert_eq!(london.city_name.as_deref(), Some("London"));
        let error = status.get(SystemTime::now()).databases[0]
            .last_error
            .clone();
        assert!(error.unwrap().contains("City.mmdb"));
        // Not retried (nor counted again) until the file changes again.
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOAD_ERRORS], 1);

        // A file of the wrong kind is refused the same way.
        replace(&path, &std::fs::read(mmdb(ASN)).unwrap(), 20);
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOAD_ERRORS], 2);
        let error = status.get(SystemTime::now()).databases[0]
            .last_error
            .clone();
        assert!(error.unwrap().contains("GeoLite2-ASN"));

        // A removed file too; a good file afterwards is taken and clears the error.
        std::fs::remove_file(&path).unwrap();
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOAD_ERRORS], 3);
        replace(&path, &std::fs::read(mmdb(CITY_LITE)).unwrap(), 30);
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_RELOADS], 1);
        assert_eq!(status.get(SystemTime::now()).databases[0].last_error, None);
    }

    #[test]
    fn enrich_geoip_reports_stale_databases() {
        let m = Metrics::default();
        let status = GeoipStatusHandle::default();
        let mut c = config(Some(mmdb(CITY)), Some(mmdb(ASN)));
        let epoch = Reader::open_readfile(mmdb(CITY))
            .unwrap()
            .metadata()
            .build_epoch;
        let age_days = age_secs(epoch, SystemTime::now()) / SECS_PER_DAY;
        assert!(age_days >= 2, "the test databases are older than two days");
        c.geoip_stale_after_days = 1;
        let mut g = Geoip::open(&c, &m, status.clone()).unwrap();
        let s = status.get(SystemTime::now());
        assert_eq!(s.stale_after_days, 1);
        assert!(
            s.databases.iter().all(|d| d.stale && d.age_days >= 2),
            "{s:?}"
        );
        let snap = m.snapshot();
        assert_eq!(snap[metrics::GEOIP_STALE], 2);
        assert_eq!(snap[metrics::GEOIP_CITY_IS_STALE], 1);
        assert_eq!(snap[metrics::GEOIP_ASN_IS_STALE], 1);
        assert_eq!(snap[metrics::GEOIP_CITY_BUILD_EPOCH], epoch);
        assert!(snap[metrics::GEOIP_ASN_BUILD_EPOCH] > 0);
        // Still stale at the next check: reported once, not at every check.
        g.check(true);
        assert_eq!(m.snapshot()[metrics::GEOIP_STALE], 2);
        // Still used.
        found(&mut g, "81.2.69.142");

        // With a generous limit nothing is stale.
        let m = Metrics::default();
        c.geoip_stale_after_days = u32::try_from(age_days + 30).unwrap();
        let status = GeoipStatusHandle::default();
        let _g = Geoip::open(&c, &m, status.clone()).unwrap();
        assert!(
            status
                .get(SystemTime::now())
                .databases
                .iter()
                .all(|d| !d.stale)
        );
        assert_eq!(m.snapshot()[metrics::GEOIP_STALE], 0);
        assert_eq!(m.snapshot()[metrics::GEOIP_CITY_IS_STALE], 0);
        // Computed when read: the same database seen years later is stale.
        let later = SystemTime::now() + std::time::Duration::from_secs(400 * SECS_PER_DAY);
        assert!(status.get(later).databases.iter().all(|d| d.stale));
    }

    #[test]
    fn enrich_geoip_refuses_a_database_of_the_wrong_kind() {
        let m = Metrics::default();
        let err = Geoip::open(
            &config(Some(mmdb(ASN)), None),
            &m,
            GeoipStatusHandle::default(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                GeoipError::WrongKind {
                    kind: Kind::City,
                    ..
                }
            ),
            "{err}"
        );
        let err = Geoip::open(
            &config(None, Some(mmdb(CITY))),
            &m,
            GeoipStatusHandle::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("GeoIP2-City"), "{err}");
    }

    #[test]
    fn enrich_geoip_status_serialises_for_the_api() {
        let status = GeoipStatusHandle::default();
        let _g = Geoip::open(
            &config(Some(mmdb(CITY)), None),
            &Metrics::default(),
            status.clone(),
        )
        .unwrap();
        let json = serde_json::to_value(status.get(SystemTime::now())).unwrap();
        let db = &json["databases"][0];
        assert_eq!(db["kind"], "city");
        assert_eq!(db["database_type"], "GeoIP2-City");
        assert!(db["built"].as_str().unwrap().ends_with('Z'));
        assert!(db["age_days"].is_u64());
        assert!(db["stale"].is_boolean());
    }
}
