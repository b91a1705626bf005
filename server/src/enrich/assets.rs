//! Asset context: which information system an event belongs to, from the inventory
//! file, as `labels.system`, `labels.security_level` (1-5) and `labels.unit`.
//!
//! The inventory lists each information system with its security level (cấp độ), owning
//! unit, contact point, host names and IP ranges, including the public ranges registered
//! with the national SOC. [`EXAMPLE`] shows every key. An event is placed by, in order:
//!
//! 1. `host.name`, exactly as listed (case-insensitive);
//! 2. else the first of `source.ip`, `destination.ip`, `host.ip` (and `host.name` when
//!    it is an address, as for a syslog sender without a name) that lies in a listed
//!    range; where ranges overlap, the longest prefix wins.
//!
//! Ranges are flattened at load into sorted, disjoint intervals, so an address is placed
//! by one binary search whatever the nesting.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use gac_event::{Event, field};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::geoip::canonical;
use super::{FileChange, FileStamp, file_change, rfc3339};
use crate::metrics::{self, Counter, Metrics};

/// An inventory with every key, as documentation and as a test.
pub const EXAMPLE: &str = r#"# Gác asset inventory: the information systems this SOC watches. Unknown keys are
# errors. Each event is placed in a system by its host.name (exact, any case), else by
# the first of source.ip, destination.ip, host.ip that lies in a system's ranges (the
# longest prefix wins where ranges overlap).

[[system]]
# Unique name of the information system.
name = "Cổng dịch vụ công tỉnh"
# Security level (cấp độ) 1-5 under the information-security-by-level rules.
security_level = 3
# The owning unit (đơn vị chủ quản).
unit = "Sở Khoa học và Công nghệ"
# Host names of the system's machines, as they appear in host.name.
hosts = ["dvc-web-01", "dvc-web-02", "dvc-db-01"]
# Internal address ranges (CIDR; a bare address is one host). IPv4 and IPv6.
ip_ranges = ["10.10.1.0/24", "fd00:10:1::/48"]
# Public ranges registered with the national SOC.
public_ranges = ["203.0.113.0/28", "2001:db8:10::/48"]

# The contact point, reachable at all times.
[system.contact]
name = "Nguyễn Văn A"
title = "Trưởng phòng Công nghệ thông tin"
phone = "+84 20 3000 0000"
email = "cntt@sokhcn.example.gov.vn"

[[system]]
name = "Hệ thống quản lý văn bản"
security_level = 2
unit = "Văn phòng UBND tỉnh"
hosts = ["qlvb-app-01"]
ip_ranges = ["10.10.2.0/24", "10.10.2.10"]

[system.contact]
name = "Trần Thị B"
title = "Chuyên viên"
phone = "+84 20 3000 0001"
email = "vanphong@example.gov.vn"
"#;

/// An inventory that could not be used. The previous one, if any, stays in use.
#[derive(Debug, thiserror::Error)]
pub enum AssetsError {
    #[error("cannot read the asset inventory {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid asset inventory {path}: {source}")]
    Invalid {
        path: PathBuf,
        source: InventoryError,
    },
}

/// What is wrong inside an inventory.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{0}")]
    Toml(Box<toml::de::Error>),
    #[error("a system has an empty name")]
    EmptyName,
    #[error("system {system:?}: {field} is empty")]
    EmptyField { system: String, field: &'static str },
    #[error("system {system:?}: security_level {level} is not one of 1, 2, 3, 4, 5")]
    SecurityLevel { system: String, level: i64 },
    #[error(
        "system {system:?}: {range:?} is not an address or CIDR range (such as 10.0.0.0/24 or 2001:db8::/48)"
    )]
    Range { system: String, range: String },
    #[error("system {system:?}: {range:?} has bits set past its prefix; did you mean {network}?")]
    HostBits {
        system: String,
        range: String,
        network: IpNet,
    },
    #[error("two systems are named {0:?}")]
    DuplicateSystem(String),
    #[error("host {host:?} is listed by both {first:?} and {second:?}")]
    DuplicateHost {
        host: String,
        first: String,
        second: String,
    },
    #[error("range {range} is listed by both {first:?} and {second:?}")]
    DuplicateRange {
        range: IpNet,
        first: String,
        second: String,
    },
}

/// The contact point of a system (CONTEXT: reachable at all times).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    #[serde(default)]
    pub title: String,
    pub phone: String,
    pub email: String,
}

/// One information system of the inventory.
#[derive(Debug, Clone, PartialEq)]
pub struct System {
    pub name: String,
    /// 1-5.
    pub security_level: u8,
    pub unit: String,
    pub contact: Contact,
    pub hosts: Vec<String>,
    pub ip_ranges: Vec<IpNet>,
    /// Registered with the national SOC.
    pub public_ranges: Vec<IpNet>,
}

/// The file's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryFile {
    #[serde(default)]
    system: Vec<SystemEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SystemEntry {
    name: String,
    /// Read wide so that 0 or 6 get our message rather than a type error.
    security_level: i64,
    unit: String,
    contact: Contact,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    ip_ranges: Vec<String>,
    #[serde(default)]
    public_ranges: Vec<String>,
}

/// Where an event was placed, and why.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match<'a> {
    pub system: &'a System,
    /// The field that placed it: `host.name`, `source.ip`, `destination.ip`, `host.ip`.
    pub by: &'static str,
    /// The range the address fell in (`None` for a host name match).
    pub range: Option<IpNet>,
    /// Whether that range is one of the system's registered public ranges.
    pub public: bool,
}

/// A checked inventory, indexed for lookups.
#[derive(Debug, Default)]
pub struct Inventory {
    systems: Vec<System>,
    /// Lower-cased host name to system.
    hosts: HashMap<String, usize>,
    v4: RangeTable,
    v6: RangeTable,
}

impl Inventory {
    /// Reads and checks an inventory file.
    pub fn load(path: &Path) -> Result<Self, AssetsError> {
        let text = std::fs::read_to_string(path).map_err(|source| AssetsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text).map_err(|source| AssetsError::Invalid {
            path: path.to_owned(),
            source,
        })
    }

    /// Parses and checks inventory text.
    pub fn from_toml(text: &str) -> Result<Self, InventoryError> {
        let file: InventoryFile =
            toml::from_str(text).map_err(|e| InventoryError::Toml(Box::new(e)))?;
        let mut inventory = Inventory::default();
        let mut names = HashMap::new();
        let (mut v4, mut v6) = (Vec::new(), Vec::new());
        let mut ranges: HashMap<IpNet, usize> = HashMap::new();
        for (i, entry) in file.system.into_iter().enumerate() {
            let system = check_system(entry)?;
            if names.insert(system.name.clone(), i).is_some() {
                return Err(InventoryError::DuplicateSystem(system.name));
            }
            for host in &system.hosts {
                if let Some(first) = inventory.hosts.insert(host.to_lowercase(), i) {
                    return Err(InventoryError::DuplicateHost {
                        host: host.clone(),
                        first: inventory.systems[first].name.clone(),
                        second: system.name.clone(),
                    });
                }
            }
            for &net in system.ip_ranges.iter().chain(&system.public_ranges) {
                if let Some(first) = ranges.insert(net, i) {
                    let first = match inventory.systems.get(first) {
                        Some(s) => s.name.clone(),
                        None => system.name.clone(),
                    };
                    return Err(InventoryError::DuplicateRange {
                        range: net,
                        first,
                        second: system.name.clone(),
                    });
                }
                let public = system.public_ranges.contains(&net);
                let item = Prefix {
                    net,
                    system: i,
                    public,
                };
                match net {
                    IpNet::V4(_) => v4.push(item),
                    IpNet::V6(_) => v6.push(item),
                }
            }
            inventory.systems.push(system);
        }
        inventory.v4 = RangeTable::build(v4);
        inventory.v6 = RangeTable::build(v6);
        Ok(inventory)
    }

    /// The systems, in file order.
    pub fn systems(&self) -> &[System] {
        &self.systems
    }

    /// The system listing this host name (any case).
    pub fn by_host(&self, name: &str) -> Option<&System> {
        // Most names are lower-case already: no allocation for them.
        let i = if name.chars().any(char::is_uppercase) {
            self.hosts.get(&name.to_lowercase())
        } else {
            self.hosts.get(name)
        };
        i.map(|&i| &self.systems[i])
    }

    /// The system whose most specific range holds this address, with that range.
    pub fn by_ip(&self, ip: IpAddr) -> Option<(&System, IpNet, bool)> {
        let segment = match canonical(ip) {
            IpAddr::V4(a) => self.v4.find(u128::from(a.to_bits())),
            IpAddr::V6(a) => self.v6.find(a.to_bits()),
        }?;
        Some((&self.systems[segment.system], segment.net, segment.public))
    }

    /// Places an event (see the module documentation). The addresses are the event's
    /// `source.ip`, `destination.ip` and `host.ip`, already parsed.
    pub fn find(
        &self,
        event: &Event,
        source: Option<IpAddr>,
        destination: Option<IpAddr>,
        host_ip: Option<IpAddr>,
    ) -> Option<Match<'_>> {
        let host_name = event.get_str(field::HOST_NAME);
        if let Some(system) = host_name.and_then(|n| self.by_host(n)) {
            return Some(Match {
                system,
                by: field::HOST_NAME,
                range: None,
                public: false,
            });
        }
        let host_name_ip = host_name.and_then(|n| n.parse::<IpAddr>().ok());
        let candidates = [
            (field::SOURCE_IP, source),
            (field::DESTINATION_IP, destination),
            (field::HOST_IP, host_ip),
            (field::HOST_NAME, host_name_ip),
        ];
        candidates.into_iter().find_map(|(by, ip)| {
            let (system, range, public) = self.by_ip(ip?)?;
            Some(Match {
                system,
                by,
                range: Some(range),
                public,
            })
        })
    }
}

fn check_system(entry: SystemEntry) -> Result<System, InventoryError> {
    let name = entry.name.trim().to_owned();
    if name.is_empty() {
        return Err(InventoryError::EmptyName);
    }
    if !(1..=5).contains(&entry.security_level) {
        return Err(InventoryError::SecurityLevel {
            system: name,
            level: entry.security_level,
        });
    }
    let empty = |field: &'static str| InventoryError::EmptyField {
        system: name.clone(),
        field,
    };
    if entry.unit.trim().is_empty() {
        return Err(empty("unit"));
    }
    if entry.contact.name.trim().is_empty() {
        return Err(empty("contact.name"));
    }
    if entry.contact.phone.trim().is_empty() && entry.contact.email.trim().is_empty() {
        return Err(empty("contact.phone and contact.email"));
    }
    let mut hosts = Vec::with_capacity(entry.hosts.len());
    for host in entry.hosts {
        let host = host.trim();
        if host.is_empty() {
            return Err(empty("a host name"));
        }
        hosts.push(host.to_owned());
    }
    let parse = |list: Vec<String>| -> Result<Vec<IpNet>, InventoryError> {
        list.iter().map(|r| parse_range(&name, r)).collect()
    };
    let ip_ranges = parse(entry.ip_ranges)?;
    let public_ranges = parse(entry.public_ranges)?;
    Ok(System {
        security_level: u8::try_from(entry.security_level).unwrap_or(0),
        unit: entry.unit.trim().to_owned(),
        contact: entry.contact,
        hosts,
        ip_ranges,
        public_ranges,
        name,
    })
}

/// A CIDR range, or a bare address as a one-address range. Bits past the prefix are an
/// error (a typo as often as not), and IPv4-mapped IPv6 ranges are taken as IPv4.
fn parse_range(system: &str, text: &str) -> Result<IpNet, InventoryError> {
    let bad = || InventoryError::Range {
        system: system.to_owned(),
        range: text.to_owned(),
    };
    let trimmed = text.trim();
    let net = if trimmed.contains('/') {
        trimmed.parse::<IpNet>().map_err(|_| bad())?
    } else {
        IpNet::from(trimmed.parse::<IpAddr>().map_err(|_| bad())?)
    };
    if net.trunc() != net {
        return Err(InventoryError::HostBits {
            system: system.to_owned(),
            range: text.to_owned(),
            network: net.trunc(),
        });
    }
    if let IpNet::V6(v6) = net
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && v6.prefix_len() >= 96
    {
        let v4 = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_err(|_| bad())?;
        return Ok(IpNet::V4(v4));
    }
    Ok(net)
}

/// A listed range, before flattening.
#[derive(Debug, Clone, Copy)]
struct Prefix {
    net: IpNet,
    system: usize,
    public: bool,
}

/// Disjoint address intervals, sorted, each owned by the most specific range covering it.
#[derive(Debug, Default)]
struct RangeTable {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    /// First and last address, inclusive, as integers (IPv4 in the low 32 bits).
    start: u128,
    end: u128,
    system: usize,
    /// The listed range this interval belongs to.
    net: IpNet,
    public: bool,
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(a.to_bits()),
        IpAddr::V6(a) => a.to_bits(),
    }
}

impl RangeTable {
    /// Flattens prefixes of one family (no two alike). CIDR ranges never partly
    /// overlap: two are disjoint or one holds the other. So a sweep in address order,
    /// with a stack of the ranges open at the sweep point, gives each stretch to the
    /// innermost open range.
    fn build(prefixes: Vec<Prefix>) -> Self {
        let mut items: Vec<Segment> = prefixes
            .into_iter()
            .map(|p| Segment {
                start: bits(p.net.network()),
                end: bits(p.net.broadcast()),
                system: p.system,
                net: p.net,
                public: p.public,
            })
            .collect();
        // Outer ranges before the ranges they hold.
        items.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut out = Vec::with_capacity(items.len() * 2);
        let mut open: Vec<Segment> = Vec::new();
        // First address not yet given to a range; `None` past the last address.
        let mut cursor: Option<u128> = Some(0);
        let close = |range: Segment, cursor: &mut Option<u128>, out: &mut Vec<Segment>| {
            if let Some(c) = *cursor
                && c <= range.end
            {
                out.push(Segment { start: c, ..range });
            }
            *cursor = range.end.checked_add(1);
        };
        for item in items {
            while let Some(&top) = open.last() {
                if top.end >= item.start {
                    break;
                }
                open.pop();
                close(top, &mut cursor, &mut out);
            }
            if let (Some(top), Some(c)) = (open.last(), cursor)
                && c < item.start
            {
                out.push(Segment {
                    start: c,
                    end: item.start - 1,
                    ..*top
                });
            }
            cursor = Some(item.start);
            open.push(item);
        }
        while let Some(top) = open.pop() {
            close(top, &mut cursor, &mut out);
        }
        Self { segments: out }
    }

    fn find(&self, x: u128) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.start <= x);
        let s = self.segments.get(i.checked_sub(1)?)?;
        (x <= s.end).then_some(s)
    }
}

/// The inventory in use, watched for changes, and the counters of what it placed.
#[derive(Debug)]
pub struct Assets {
    path: PathBuf,
    inventory: Inventory,
    seen: Option<FileStamp>,
    matched: Counter,
    unmatched: Counter,
    reloads: Counter,
    reload_errors: Counter,
    status: AssetsStatusHandle,
}

impl Assets {
    /// Loads the inventory; an unreadable or invalid one is an error.
    pub fn open(path: &Path, m: &Metrics, status: AssetsStatusHandle) -> Result<Self, AssetsError> {
        let seen = FileStamp::of(path).ok();
        let inventory = Inventory::load(path)?;
        let assets = Self {
            path: path.to_owned(),
            inventory,
            seen,
            matched: m.counter(metrics::ASSETS_MATCHED),
            unmatched: m.counter(metrics::ASSETS_UNMATCHED),
            reloads: m.counter(metrics::ASSETS_RELOADS),
            reload_errors: m.counter(metrics::ASSETS_RELOAD_ERRORS),
            status,
        };
        assets.loaded();
        Ok(assets)
    }

    /// The inventory in use.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Sets `labels.system`, `labels.security_level` and `labels.unit` when the event
    /// belongs to a listed system (replacing any the record carried: the inventory is
    /// the authority); counts placed and unplaced events.
    pub fn label(
        &self,
        event: &mut Event,
        source: Option<IpAddr>,
        destination: Option<IpAddr>,
        host_ip: Option<IpAddr>,
    ) {
        match self.inventory.find(event, source, destination, host_ip) {
            Some(m) => {
                let system = m.system;
                event.set(field::LABELS_SYSTEM, system.name.as_str());
                event.set(
                    field::LABELS_SECURITY_LEVEL,
                    i64::from(system.security_level),
                );
                event.set(field::LABELS_UNIT, system.unit.as_str());
                self.matched.inc();
            }
            None => self.unmatched.inc(),
        }
    }

    /// Reloads the inventory if its file changed. An invalid new file leaves the old
    /// inventory in use, logged, counted and shown in the status.
    pub fn check(&mut self) {
        let error = match file_change(&self.path, &mut self.seen) {
            FileChange::Same => return,
            FileChange::Changed => match Inventory::load(&self.path) {
                Ok(inventory) => {
                    self.inventory = inventory;
                    self.reloads.inc();
                    self.loaded();
                    return;
                }
                Err(e) => e.to_string(),
            },
            FileChange::Unreadable(e) => format!("cannot read {}: {e}", self.path.display()),
        };
        self.reload_errors.inc();
        tracing::error!(
            %error,
            "asset inventory file changed but cannot be used; keeping the one loaded"
        );
        self.status.set_error(error);
    }

    fn loaded(&self) {
        let systems = self.inventory.systems.len();
        tracing::info!(path = %self.path.display(), systems, "asset inventory loaded");
        let loaded_epoch = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.status.set(AssetsStatus {
            path: self.path.clone(),
            systems,
            loaded: rfc3339(loaded_epoch),
            last_error: None,
        });
    }
}

/// The inventory part of the API's enrichment status.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AssetsStatus {
    pub path: PathBuf,
    /// Information systems listed.
    pub systems: usize,
    /// When the inventory in use was read (RFC 3339, UTC).
    pub loaded: String,
    /// Why the file on disk is not the one in use (a failed reload); `None` when it is.
    pub last_error: Option<String>,
}

/// What the indexer thread last loaded, shared with the API.
#[derive(Debug, Clone, Default)]
pub struct AssetsStatusHandle(Arc<Mutex<Option<AssetsStatus>>>);

impl AssetsStatusHandle {
    fn set(&self, status: AssetsStatus) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
    }

    fn set_error(&self, error: String) {
        if let Some(s) = self.0.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            s.last_error = Some(error);
        }
    }

    /// The inventory in use, if any.
    pub fn get(&self) -> Option<AssetsStatus> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gac_event::Timestamp;
    use rand::{Rng, SeedableRng};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn event(fields: &[(&'static str, &str)]) -> Event {
        let mut e = Event::new(Timestamp::from_nanos(0), Timestamp::from_nanos(0), "m");
        for (k, v) in fields {
            e.set(*k, *v);
        }
        e
    }

    fn system(name: &str, level: i64, extra: &str) -> String {
        format!(
            "[[system]]\nname = \"{name}\"\nsecurity_level = {level}\nunit = \"Unit {name}\"\n{extra}\n[system.contact]\nname = \"A\"\nphone = \"1\"\nemail = \"a@example.vn\"\n"
        )
    }

    fn place<'a>(inv: &'a Inventory, fields: &[(&'static str, &str)]) -> Option<Match<'a>> {
        let e = event(fields);
        let get = |f| e.get_str(f).map(ip);
        inv.find(
            &e,
            get(field::SOURCE_IP),
            get(field::DESTINATION_IP),
            get(field::HOST_IP),
        )
    }

    #[test]
    fn enrich_assets_example_inventory_loads() {
        let inv = Inventory::from_toml(EXAMPLE).unwrap();
        assert_eq!(inv.systems().len(), 2);
        let portal = &inv.systems()[0];
        assert_eq!(portal.security_level, 3);
        assert_eq!(portal.contact.title, "Trưởng phòng Công nghệ thông tin");
        assert_eq!(portal.public_ranges.len(), 2);
        let (s, range, public) = inv.by_ip(ip("203.0.113.5")).unwrap();
        assert_eq!(
            (s.name.as_str(), range.to_string().as_str(), public),
            ("Cổng dịch vụ công tỉnh", "203.0.113.0/28", true)
        );
        let (s, range, _) = inv.by_ip(ip("10.10.2.10")).unwrap();
        assert_eq!(s.name, "Hệ thống quản lý văn bản");
        assert_eq!(range.to_string(), "10.10.2.10/32");
    }

    #[test]
    fn enrich_assets_by_host_name_first_any_case() {
        let inv = Inventory::from_toml(EXAMPLE).unwrap();
        let m = place(
            &inv,
            &[
                (field::HOST_NAME, "DVC-Web-01"),
                (field::SOURCE_IP, "10.10.2.7"),
            ],
        )
        .unwrap();
        assert_eq!(m.system.name, "Cổng dịch vụ công tỉnh");
        assert_eq!(m.by, field::HOST_NAME);
        assert_eq!(m.range, None);
    }

    #[test]
    fn enrich_assets_by_range_in_address_order() {
        let inv = Inventory::from_toml(EXAMPLE).unwrap();
        // An unknown host: the source address decides before the destination.
        let m = place(
            &inv,
            &[
                (field::HOST_NAME, "fw-edge"),
                (field::SOURCE_IP, "10.10.2.7"),
                (field::DESTINATION_IP, "203.0.113.1"),
            ],
        )
        .unwrap();
        assert_eq!(
            (m.system.name.as_str(), m.by),
            ("Hệ thống quản lý văn bản", field::SOURCE_IP)
        );
        // An outside source: the registered public destination decides.
        let m = place(
            &inv,
            &[
                (field::SOURCE_IP, "81.2.69.142"),
                (field::DESTINATION_IP, "203.0.113.1"),
            ],
        )
        .unwrap();
        assert_eq!(
            (m.system.name.as_str(), m.by, m.public),
            ("Cổng dịch vụ công tỉnh", field::DESTINATION_IP, true)
        );
        // host.ip, and host.name when it is the sender's address.
        let m = place(&inv, &[(field::HOST_IP, "10.10.1.9")]).unwrap();
        assert_eq!(m.by, field::HOST_IP);
        let m = place(&inv, &[(field::HOST_NAME, "10.10.1.9")]).unwrap();
        assert_eq!(
            (m.system.name.as_str(), m.by),
            ("Cổng dịch vụ công tỉnh", field::HOST_NAME)
        );
    }

    #[test]
    fn enrich_assets_longest_prefix_wins() {
        let text = [
            system("province", 2, "ip_ranges = [\"10.0.0.0/8\"]"),
            system("dc", 3, "ip_ranges = [\"10.10.0.0/16\", \"10.10.9.9\"]"),
            system(
                "portal",
                4,
                "ip_ranges = [\"10.10.1.0/24\"]\npublic_ranges = [\"10.10.1.128/25\"]",
            ),
        ]
        .concat();
        let inv = Inventory::from_toml(&text).unwrap();
        let name = |a: &str| {
            inv.by_ip(ip(a))
                .map(|(s, r, _)| (s.name.clone(), r.to_string()))
        };
        assert_eq!(name("10.1.1.1").unwrap().0, "province");
        assert_eq!(name("10.10.0.1").unwrap().0, "dc");
        assert_eq!(
            name("10.10.1.1").unwrap(),
            ("portal".into(), "10.10.1.0/24".into())
        );
        assert_eq!(
            name("10.10.1.200").unwrap(),
            ("portal".into(), "10.10.1.128/25".into())
        );
        assert_eq!(
            name("10.10.9.9").unwrap(),
            ("dc".into(), "10.10.9.9/32".into())
        );
        assert_eq!(
            name("10.10.9.10").unwrap(),
            ("dc".into(), "10.10.0.0/16".into())
        );
        assert_eq!(name("10.10.255.255").unwrap().0, "dc");
        assert_eq!(name("10.11.0.0").unwrap().0, "province");
        assert_eq!(name("10.255.255.255").unwrap().0, "province");
        assert_eq!(name("11.0.0.0"), None);
        assert_eq!(name("9.255.255.255"), None);
    }

    #[test]
    fn enrich_assets_ipv6_ranges() {
        let text = [
            system("v6", 3, "ip_ranges = [\"2001:db8::/32\", \"::/0\"]"),
            system("inner", 4, "public_ranges = [\"2001:db8:10::/48\", \"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\"]"),
        ]
        .concat();
        let inv = Inventory::from_toml(&text).unwrap();
        let name = |a: &str| inv.by_ip(ip(a)).map(|(s, _, _)| s.name.clone());
        assert_eq!(name("2001:db8:10::1").as_deref(), Some("inner"));
        assert_eq!(name("2001:db8:11::1").as_deref(), Some("v6"));
        assert_eq!(name("fe80::1").as_deref(), Some("v6"));
        assert_eq!(
            name("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe").as_deref(),
            Some("v6")
        );
        assert_eq!(
            name("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").as_deref(),
            Some("inner")
        );
        // IPv4 is not covered by ::/0; an IPv4-mapped address is looked up as IPv4.
        assert_eq!(name("10.0.0.1"), None);
        let v4 = Inventory::from_toml(&system("v4", 1, "ip_ranges = [\"::ffff:10.0.0.0/104\"]"))
            .unwrap();
        assert_eq!(v4.by_ip(ip("::ffff:10.1.2.3")).unwrap().0.name, "v4");
        assert_eq!(
            v4.by_ip(ip("10.1.2.3")).unwrap().1.to_string(),
            "10.0.0.0/8"
        );
    }

    #[test]
    fn enrich_assets_unknown_gets_no_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.toml");
        std::fs::write(&path, EXAMPLE).unwrap();
        let m = Metrics::default();
        let assets = Assets::open(&path, &m, AssetsStatusHandle::default()).unwrap();
        let mut e = event(&[
            (field::HOST_NAME, "somewhere"),
            (field::SOURCE_IP, "81.2.69.142"),
        ]);
        let before = e.clone();
        assets.label(&mut e, Some(ip("81.2.69.142")), None, None);
        assert_eq!(e, before);
        assert_eq!(m.snapshot()[metrics::ASSETS_UNMATCHED], 1);
        let mut e = event(&[(field::HOST_NAME, "qlvb-app-01")]);
        assets.label(&mut e, None, None, None);
        assert_eq!(
            e.get_str(field::LABELS_SYSTEM),
            Some("Hệ thống quản lý văn bản")
        );
        assert_eq!(e.get_i64(field::LABELS_SECURITY_LEVEL), Some(2));
        assert_eq!(e.get_str(field::LABELS_UNIT), Some("Văn phòng UBND tỉnh"));
        assert_eq!(m.snapshot()[metrics::ASSETS_MATCHED], 1);
    }

    fn invalid(text: &str) -> String {
        Inventory::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn enrich_assets_invalid_inventories_say_what_is_wrong() {
        let err = invalid(&system("a", 6, ""));
        assert!(err.contains("security_level 6"), "{err}");
        let err = invalid(&system("a", 0, ""));
        assert!(err.contains("security_level 0"), "{err}");
        let err = invalid(&system("a", 3, "ip_ranges = [\"10.0.0.0/33\"]"));
        assert!(err.contains("10.0.0.0/33") && err.contains("CIDR"), "{err}");
        let err = invalid(&system("a", 3, "ip_ranges = [\"10.0.0.x\"]"));
        assert!(err.contains("10.0.0.x"), "{err}");
        let err = invalid(&system("a", 3, "ip_ranges = [\"10.1.2.3/24\"]"));
        assert!(err.contains("did you mean 10.1.2.0/24"), "{err}");
        let err = invalid(&system("a", 3, "owner = \"x\""));
        assert!(
            err.contains("unknown field") && err.contains("owner"),
            "{err}"
        );
        let err = invalid("[[systems]]\nname = \"a\"\n");
        assert!(
            err.contains("unknown field") && err.contains("systems"),
            "{err}"
        );
        let err = invalid(&system("a", 3, "").replace("email = ", "mail = "));
        assert!(err.contains("mail"), "{err}");
        let err = invalid(&[system("a", 3, ""), system("a", 2, "")].concat());
        assert!(err.contains("two systems are named \"a\""), "{err}");
        let err = invalid(
            &[
                system("a", 3, "hosts = [\"web\"]"),
                system("b", 2, "hosts = [\"WEB\"]"),
            ]
            .concat(),
        );
        assert!(err.contains("\"a\"") && err.contains("\"b\""), "{err}");
        let err = invalid(
            &[
                system("a", 3, "ip_ranges = [\"10.0.0.0/8\"]"),
                system("b", 2, "public_ranges = [\"10.0.0.0/8\"]"),
            ]
            .concat(),
        );
        assert!(
            err.contains("10.0.0.0/8 is listed by both \"a\" and \"b\""),
            "{err}"
        );
        let err = invalid(&system("", 3, ""));
        assert!(err.contains("empty name"), "{err}");
        let err = invalid(&system("a", 3, "").replace("unit = \"Unit a\"", "unit = \" \""));
        assert!(err.contains("unit is empty"), "{err}");
        // The file's path is in the message.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.toml");
        std::fs::write(&path, system("a", 9, "")).unwrap();
        let err = Inventory::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("assets.toml") && err.contains("security_level 9"),
            "{err}"
        );
    }

    #[test]
    fn enrich_assets_reload_on_change_and_keep_the_old_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("assets.toml");
        std::fs::write(&path, system("old", 2, "hosts = [\"h\"]")).unwrap();
        let m = Metrics::default();
        let status = AssetsStatusHandle::default();
        let mut assets = Assets::open(&path, &m, status.clone()).unwrap();
        assets.check();
        assert_eq!(m.snapshot()[metrics::ASSETS_RELOADS], 0);

        let write = |text: &str, offset: u64| {
            std::fs::write(&path, text).unwrap();
            let f = std::fs::File::options().write(true).open(&path).unwrap();
            f.set_modified(SystemTime::now() + std::time::Duration::from_secs(offset))
                .unwrap();
        };
        write(&system("new", 4, "hosts = [\"h\"]"), 10);
        assets.check();
        assert_eq!(m.snapshot()[metrics::ASSETS_RELOADS], 1);
        assert_eq!(assets.inventory().by_host("h").unwrap().name, "new");

        write(&system("bad", 7, "hosts = [\"h\"]"), 20);
        assets.check();
        assert_eq!(m.snapshot()[metrics::ASSETS_RELOAD_ERRORS], 1);
        assert_eq!(assets.inventory().by_host("h").unwrap().name, "new");
        let s = status.get().unwrap();
        assert!(s.last_error.unwrap().contains("security_level 7"));
        assert_eq!(s.systems, 1);
    }

    /// The flattened table against a plain longest-prefix search, on random nested
    /// ranges.
    #[test]
    fn enrich_assets_range_table_matches_longest_prefix_search() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let mut nets: Vec<IpNet> = Vec::new();
            for _ in 0..rng.random_range(1..40) {
                let len = rng.random_range(0..=32u8);
                // Addresses from a small space so that ranges nest often.
                let addr = std::net::Ipv4Addr::from_bits(
                    rng.random_range(0..64u32) << 26 | rng.random::<u32>() >> 6,
                );
                let net = IpNet::V4(ipnet::Ipv4Net::new(addr, len).unwrap().trunc());
                if !nets.contains(&net) {
                    nets.push(net);
                }
            }
            let prefixes: Vec<Prefix> = nets
                .iter()
                .enumerate()
                .map(|(i, &net)| Prefix {
                    net,
                    system: i,
                    public: false,
                })
                .collect();
            let table = RangeTable::build(prefixes);
            let probes = nets
                .iter()
                .flat_map(|n| [bits(n.network()), bits(n.broadcast())])
                .flat_map(|b| [b.saturating_sub(1), b, (b + 1).min(u128::from(u32::MAX))])
                .chain((0..200).map(|_| u128::from(rng.random::<u32>())));
            for x in probes {
                let addr = IpAddr::V4(std::net::Ipv4Addr::from_bits(u32::try_from(x).unwrap()));
                let expected = nets
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| n.contains(&addr))
                    .max_by_key(|(_, n)| n.prefix_len())
                    .map(|(i, _)| i);
                assert_eq!(
                    table.find(x).map(|s| s.system),
                    expected,
                    "{addr} in {nets:?}"
                );
            }
        }
    }
}
