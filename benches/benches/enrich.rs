//! Time per event of the server's enrichment stage (`gac_server::enrich::Enricher`, the
//! step between parse and detect): GeoIP city and AS for both ends plus the asset
//! inventory, with the per-address cache warm (few addresses) and off (`cache_entries =
//! 0`, every address looked up in the database). The events are the real sample lines of
//! `crates/parse/tests/data` that carry `source.ip`, parsed as an `auto` input would.
//!
//! Databases: the MaxMind test databases in `server/tests/data/mmdb` (a few made-up
//! networks, so a lookup walks a small tree) always; and, when `GAC_BENCH_GEOLITE` names
//! a real GeoLite2-City database (e.g. the 2018 one under
//! `/work/shared/data/mmdb/geolite2-2018`), the same cases against it, for a realistic
//! miss. Results in BENCHMARKS.md.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use criterion::measurement::Measurement;
use criterion::{BatchSize, Criterion, Throughput};
use gac_event::{Event, Timestamp, field};
use gac_parse::{Format, TimePolicy, parse};
use gac_server::config::EnrichConfig;
use gac_server::enrich::Enricher;
use gac_server::enrich::geoip::is_public;
use gac_server::metrics::Metrics;

mod common;

const SAMPLES: &[&str] = &[
    include_str!("../../crates/parse/tests/data/iptables.log"),
    include_str!("../../crates/parse/tests/data/pfsense.log"),
    include_str!("../../crates/parse/tests/data/fortigate.log"),
    include_str!("../../crates/parse/tests/data/cisco-asa.log"),
    include_str!("../../crates/parse/tests/data/suricata.log"),
    include_str!("../../crates/parse/tests/data/zeek.log"),
    include_str!("../../crates/parse/tests/data/linux-auth-crowdsec.log"),
    include_str!("../../crates/parse/tests/data/linux-auth-elastic.log"),
    include_str!("../../crates/parse/tests/data/linux-auth-fail2ban.log"),
    include_str!("../../crates/parse/tests/data/web-crowdsec.log"),
    include_str!("../../crates/parse/tests/data/web-elastic.log"),
];

/// Addresses the MaxMind test databases answer for (see their NOTICE.md).
const TEST_DB_ADDRESSES: &[&str] = &["81.2.69.142", "89.160.20.130", "214.0.0.1", "1.0.0.1"];

/// Events per iteration in the many-addresses cases: enough distinct addresses that
/// the database's nodes do not all stay in the CPU's caches.
const DISTINCT_ADDRESSES: usize = 8192;

/// A small inventory in the shape of `assets::EXAMPLE`: ranges that the samples' private
/// addresses fall in, a registered public range, and host names.
const INVENTORY: &str = r#"
[[system]]
name = "Cổng dịch vụ công tỉnh"
security_level = 3
unit = "Sở Khoa học và Công nghệ"
hosts = ["dvc-web-01", "dvc-web-02", "dvc-db-01"]
ip_ranges = ["10.10.1.0/24", "fd00:10:1::/48"]
public_ranges = ["89.160.20.128/25", "2001:db8:10::/48"]
[system.contact]
name = "Nguyễn Văn A"
phone = "+84 20 3000 0000"
email = "cntt@sokhcn.example.gov.vn"

[[system]]
name = "Mạng nội bộ"
security_level = 2
unit = "Văn phòng UBND tỉnh"
hosts = ["qlvb-app-01"]
ip_ranges = ["10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"]
[system.contact]
name = "Trần Thị B"
phone = "+84 20 3000 0001"
email = "vanphong@example.gov.vn"

[[system]]
name = "Hệ thống thư điện tử"
security_level = 3
unit = "Sở Thông tin và Truyền thông"
hosts = ["mail-01", "mail-02"]
ip_ranges = ["10.20.0.0/16", "10.20.5.0/24"]
public_ranges = ["81.2.69.0/24"]
[system.contact]
name = "Lê Văn C"
phone = "+84 20 3000 0002"
email = "mail@example.gov.vn"
"#;

fn mmdb(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/tests/data/mmdb")
        .join(name)
}

/// The sample events that have a source address, as parsed.
fn sample_events() -> Vec<Event> {
    let policy = TimePolicy::new(chrono_tz::Asia::Ho_Chi_Minh);
    let received: Timestamp = "2025-07-01T03:00:00Z"
        .parse()
        .expect("a valid RFC 3339 time");
    SAMPLES
        .iter()
        .flat_map(|text| text.lines())
        .filter(|l| !l.trim().is_empty())
        .map(|l| parse(l.as_bytes(), received, &policy, Format::Auto).0)
        .filter(|e| e.get_str(field::SOURCE_IP).is_some())
        .collect()
}

/// The events with their source address replaced, in turn, by `addresses`; `n` events.
fn with_sources(events: &[Event], addresses: &[String], n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            let mut e = events[i % events.len()].clone();
            e.set(field::SOURCE_IP, addresses[i % addresses.len()].as_str());
            e
        })
        .collect()
}

/// `n` distinct public IPv4 addresses, spread over the space (xorshift, fixed seed).
fn distinct_public(n: usize) -> Vec<String> {
    let mut state: u32 = 0x9e37_79b9;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let ip = IpAddr::V4(Ipv4Addr::from(state));
        if is_public(ip) && seen.insert(state) {
            out.push(ip.to_string());
        }
    }
    out
}

struct Case {
    name: String,
    config: EnrichConfig,
    events: Vec<Event>,
}

fn config(
    city: Option<PathBuf>,
    asn: Option<PathBuf>,
    assets: &Path,
    cache: usize,
) -> EnrichConfig {
    EnrichConfig {
        geoip_city_path: city,
        geoip_asn_path: asn,
        // The databases are old; staleness is reported, not a reason to stop.
        geoip_stale_after_days: 100_000,
        cache_entries: cache,
        assets_path: Some(assets.to_path_buf()),
        ..EnrichConfig::default()
    }
}

fn cases(assets: &Path) -> Vec<Case> {
    let samples = sample_events();
    let known: Vec<String> = TEST_DB_ADDRESSES.iter().map(|s| (*s).to_owned()).collect();
    let few = with_sources(&samples, &known, samples.len());
    let many = with_sources(
        &samples,
        &distinct_public(DISTINCT_ADDRESSES),
        DISTINCT_ADDRESSES,
    );
    let city = Some(mmdb("GeoIP2-City-Test.mmdb"));
    let asn = Some(mmdb("GeoLite2-ASN-Test.mmdb"));
    let mut cases = vec![
        Case {
            name: "inventory only".into(),
            config: config(None, None, assets, 0),
            events: few.clone(),
        },
        Case {
            name: "test DBs, cached (4 addresses)".into(),
            config: config(city.clone(), asn.clone(), assets, 65_536),
            events: few.clone(),
        },
        Case {
            name: "test DBs, uncached (cache_entries 0)".into(),
            config: config(city.clone(), asn.clone(), assets, 0),
            events: few,
        },
        Case {
            name: format!("test DBs, uncached ({DISTINCT_ADDRESSES} addresses)"),
            config: config(city, asn, assets, 0),
            events: many.clone(),
        },
    ];
    match std::env::var_os("GAC_BENCH_GEOLITE") {
        Some(path) => {
            let city = Some(PathBuf::from(path));
            let distinct = samples
                .iter()
                .filter_map(|e| e.get_str(field::SOURCE_IP))
                .collect::<std::collections::HashSet<_>>()
                .len();
            cases.push(Case {
                name: format!("GeoLite2-City, cached (sample addresses, {distinct} distinct)"),
                config: config(city.clone(), None, assets, 65_536),
                events: samples,
            });
            cases.push(Case {
                name: format!("GeoLite2-City, uncached ({DISTINCT_ADDRESSES} addresses)"),
                config: config(city, None, assets, 0),
                events: many,
            });
        }
        None => eprintln!("GAC_BENCH_GEOLITE not set: the real GeoLite2-City cases are skipped"),
    }
    cases
}

fn bench<M: Measurement>(c: &mut Criterion<M>) {
    let dir = tempfile::tempdir().expect("a temporary directory for the inventory");
    let assets = dir.path().join("assets.toml");
    std::fs::write(&assets, INVENTORY).expect("the inventory is written");
    let mut group = common::group(c, "enrich");
    for case in cases(&assets) {
        // Opened and warmed on first use, so that a filtered-out case costs nothing.
        let mut state: Option<(Metrics, Enricher)> = None;
        group.throughput(Throughput::Elements(case.events.len() as u64));
        group.bench_function(&case.name, |b| {
            let (_, enricher) = state.get_or_insert_with(|| {
                let metrics = Metrics::default();
                let mut enricher =
                    Enricher::from_config(&case.config, &metrics).expect("the databases open");
                // Warm the cache (when there is one) with this case's addresses.
                for e in &case.events {
                    enricher.enrich(&mut e.clone());
                }
                (metrics, enricher)
            });
            // Each iteration enriches fresh copies; the copying is not timed.
            b.iter_batched(
                || case.events.clone(),
                |mut events| {
                    for e in &mut events {
                        enricher.enrich(black_box(e));
                    }
                    events
                },
                BatchSize::PerIteration,
            )
        });
        // What the events met: hits, misses, not found, reserved, inventory matches.
        if let Some((metrics, _)) = &state {
            let counters: Vec<(String, u64)> = metrics
                .snapshot()
                .into_iter()
                .filter(|(k, v)| *v > 0 && !k.contains("epoch") && !k.contains("stale"))
                .collect();
            eprintln!("{}: {counters:?}", case.name);
        }
    }
    group.finish();
}

common::bench_main!(bench);
