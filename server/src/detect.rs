//! The detection stage: every event is evaluated against the loaded Sigma rules
//! (`gac-detect`), rule matches feed the correlation rules, and each alert becomes an
//! event of its own (`event.kind: alert`) stored and searchable beside the events.
//!
//! Rules and mappings are read from directories at start; the load report says, per
//! file, what loaded and exactly why the rest did not. Nothing is skipped silently.
//!
//! Alert fields: `rule.id`, `rule.name`, `rule.description`, `rule.ruleset` (`sigma`),
//! `rule.reference`, `tags` (the rule's, e.g. ATT&CK), `event.severity`, `alert.type`
//! (`rule` or the correlation type), `alert.event_ids` (the matched event), the search
//! identifiers and fields that matched (`alert.identifiers`, `alert.matched_fields`),
//! for correlations the group (`alert.group.<field>`), value and first time; and the
//! context an analyst pivots on, copied from the event (`host.name`, `source.ip`,
//! `user.name`, `labels.*`, ...).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gac_detect::{
    CorrelationLimits, CorrelationMatch, CorrelationState, LoadError, Mappings, RuleMatch, RuleSet,
};
use gac_event::{Event, Timestamp, Value, field, tag};

use crate::config::DetectConfig;
use crate::metrics::{self, Counter, Metrics};

/// Fields copied from the matched event onto its alert, for pivoting and grouping.
const CONTEXT_FIELDS: &[&str] = &[
    field::HOST_NAME,
    field::SOURCE_IP,
    field::SOURCE_PORT,
    field::DESTINATION_IP,
    field::DESTINATION_PORT,
    field::USER_NAME,
    field::USER_TARGET_NAME,
    field::PROCESS_NAME,
    field::PROCESS_COMMAND_LINE,
    field::EVENT_DATASET,
    field::URL_ORIGINAL,
    field::LABELS_SYSTEM,
    field::LABELS_SECURITY_LEVEL,
    field::LABELS_UNIT,
    field::AGENT_ID,
];

/// Why the detection stage could not start.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("field mapping {path}: {source}")]
    Mapping {
        path: PathBuf,
        source: gac_detect::MappingError,
    },
}

/// What loading found, per rule file.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct LoadReport {
    /// Rules (and correlations) compiled and evaluated.
    pub loaded: usize,
    /// Why each of the others was refused: `origin: reason`.
    pub refused: Vec<String>,
    pub mapping_files: usize,
}

/// Counters of the stage.
#[derive(Debug)]
struct Counters {
    evaluated: Counter,
    alerts: Counter,
    correlation_alerts: Counter,
    suppressed: Counter,
    /// Mirrors of the correlation state's own counts (set, not added).
    evicted_groups: Counter,
    evicted_entries: Counter,
    missing_group_fields: Counter,
}

/// The detection stage. Owned by the indexer thread: evaluation is synchronous.
#[derive(Debug)]
pub struct Detector {
    rules: RuleSet,
    state: CorrelationState,
    /// (rule key, suppression key) -> suppressed until (ns).
    suppressed_until: HashMap<(String, String), i64>,
    suppress_ns: i64,
    suppress_by: Vec<String>,
    counters: Counters,
    last_expiry_ns: i64,
}

/// How often correlation state is swept for groups past their window.
const EXPIRE_EVERY_NS: i64 = 60_000_000_000;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DetectError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DetectError::Read {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let path = entry
            .map_err(|source| DetectError::Read {
                path: dir.to_owned(),
                source,
            })?
            .path();
        if path.is_dir() {
            yaml_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String, DetectError> {
    std::fs::read_to_string(path).map_err(|source| DetectError::Read {
        path: path.to_owned(),
        source,
    })
}

impl Detector {
    /// Loads the mappings, then every rule file; returns the stage and its report.
    pub fn load(config: &DetectConfig, m: &Metrics) -> Result<(Self, LoadReport), DetectError> {
        let mut report = LoadReport::default();
        let mut mappings = Mappings::empty();
        if let Some(dir) = &config.mappings_dir {
            let mut files = Vec::new();
            yaml_files(dir, &mut files)?;
            files.sort();
            for path in files {
                mappings
                    .add_yaml(&read(&path)?)
                    .map_err(|source| DetectError::Mapping {
                        path: path.clone(),
                        source,
                    })?;
                report.mapping_files += 1;
            }
        }
        let mut rules = RuleSet::new(mappings);
        let mut files = Vec::new();
        for dir in &config.rules_dirs {
            yaml_files(dir, &mut files)?;
        }
        files.sort();
        let refuse = |report: &mut LoadReport, e: &LoadError| {
            report.refused.push(e.to_string());
        };
        for path in &files {
            let text = read(path)?;
            for result in rules.load(&path.display().to_string(), &text) {
                match result {
                    Ok(_) => report.loaded += 1,
                    Err(e) => refuse(&mut report, &e),
                }
            }
        }
        for e in rules.link() {
            report.loaded = report.loaded.saturating_sub(1);
            refuse(&mut report, &e);
        }
        let detector = Self {
            rules,
            state: CorrelationState::new(CorrelationLimits {
                max_groups: config.correlation_max_groups,
                ..CorrelationLimits::default()
            }),
            suppressed_until: HashMap::new(),
            suppress_ns: i64::try_from(config.suppress_secs)
                .unwrap_or(i64::MAX / 1_000_000_000)
                .saturating_mul(1_000_000_000),
            suppress_by: config.suppress_by.clone(),
            counters: Counters {
                evaluated: m.counter(metrics::DETECT_EVALUATED),
                alerts: m.counter(metrics::DETECT_ALERTS),
                correlation_alerts: m.counter(metrics::DETECT_CORRELATION_ALERTS),
                suppressed: m.counter(metrics::DETECT_SUPPRESSED),
                evicted_groups: m.counter(metrics::DETECT_EVICTED_GROUPS),
                evicted_entries: m.counter(metrics::DETECT_EVICTED_ENTRIES),
                missing_group_fields: m.counter(metrics::DETECT_MISSING_GROUP_FIELDS),
            },
            last_expiry_ns: 0,
        };
        m.counter(metrics::DETECT_RULES_LOADED)
            .add(report.loaded as u64);
        m.counter(metrics::DETECT_RULES_REFUSED)
            .add(report.refused.len() as u64);
        Ok((detector, report))
    }

    /// Rules and correlations being evaluated.
    pub fn len(&self) -> usize {
        self.rules.len() + self.rules.correlations().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The alerts an event raises (none for alerts themselves).
    pub fn detect(&mut self, event: &Event) -> Vec<Event> {
        if self.is_empty() || event.get_str(field::EVENT_KIND) == Some(ALERT_KIND) {
            return Vec::new();
        }
        self.counters.evaluated.inc();
        let now = event.timestamp.nanos();
        if now - self.last_expiry_ns > EXPIRE_EVERY_NS {
            self.state.expire(self.rules.correlations(), now);
            self.suppressed_until.retain(|_, until| *until > now);
            self.last_expiry_ns = now;
        }
        let matches = self.rules.evaluate(event);
        let correlated = self.rules.correlate(&mut self.state, event, now, &matches);
        if !matches.is_empty() {
            self.counters.evicted_groups.set(self.state.evicted_groups);
            self.counters
                .evicted_entries
                .set(self.state.evicted_entries);
            self.counters
                .missing_group_fields
                .set(self.state.missing_group_fields);
        }
        let mut alerts: Vec<Event> = matches
            .iter()
            .filter(|m| m.rule.standalone)
            .map(|m| rule_alert(event, m))
            .collect();
        let rule_alerts = alerts.len();
        alerts.extend(
            correlated
                .iter()
                .filter(|c| c.correlation.standalone)
                .map(|c| correlation_alert(event, c)),
        );
        let mut kept = Vec::with_capacity(alerts.len());
        for (i, alert) in alerts.into_iter().enumerate() {
            if self.suppress(&alert, now) {
                self.counters.suppressed.inc();
                continue;
            }
            if i < rule_alerts {
                self.counters.alerts.inc();
            } else {
                self.counters.correlation_alerts.inc();
            }
            kept.push(alert);
        }
        kept
    }

    /// Whether this alert repeats one raised for the same rule and key within the
    /// suppression window (and if not, opens the window).
    fn suppress(&mut self, alert: &Event, now: i64) -> bool {
        if self.suppress_ns == 0 {
            return false;
        }
        let rule = alert.get_str(field::RULE_ID).unwrap_or_default().to_owned();
        let key = self
            .suppress_by
            .iter()
            .map(|f| alert.get(f).map(|v| v.to_string()).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\u{1f}");
        match self.suppressed_until.get(&(rule.clone(), key.clone())) {
            Some(until) if *until > now => true,
            _ => {
                self.suppressed_until
                    .insert((rule, key), now.saturating_add(self.suppress_ns));
                false
            }
        }
    }
}

/// `event.kind` of alerts.
pub const ALERT_KIND: &str = "alert";
/// `event.dataset` of alerts.
pub const ALERT_DATASET: &str = "gac.alert";

/// The part every alert shares: time, kind, severity, context from the event.
fn alert_base(event: &Event, title: &str, level: gac_event::Severity) -> Event {
    let mut alert = Event::new(event.timestamp, Timestamp::now(), title);
    alert.set(field::EVENT_KIND, ALERT_KIND);
    alert.set(field::EVENT_DATASET, ALERT_DATASET);
    alert.set(field::EVENT_SEVERITY, level.code());
    alert.set(field::RULE_NAME, title);
    alert.set(field::RULE_RULESET, "sigma");
    alert.set(field::LOG_LEVEL, level.name());
    for &name in CONTEXT_FIELDS {
        if let Some(v) = event.get(name) {
            alert.set(name, v);
        }
    }
    if let Some(id) = event.get_str(field::EVENT_ID) {
        alert.set(field::ALERT_EVENT_IDS, Value::list(vec![Value::from(id)]));
    }
    alert
}

fn meta_fields(alert: &mut Event, meta: &gac_detect::RuleMeta) {
    if let Some(id) = &meta.id {
        alert.set(field::RULE_ID, id.as_str());
    }
    if let Some(d) = &meta.description {
        alert.set(field::RULE_DESCRIPTION, d.as_str());
    }
    if !meta.references.is_empty() {
        let refs = meta
            .references
            .iter()
            .map(|r| Value::from(r.as_str()))
            .collect();
        alert.set(field::RULE_REFERENCE, Value::list(refs));
    }
    for t in &meta.tags {
        alert.add_tag(t.clone());
    }
}

fn rule_alert(event: &Event, m: &RuleMatch<'_>) -> Event {
    let mut alert = alert_base(event, m.title(), m.severity());
    meta_fields(&mut alert, &m.rule.meta);
    alert.set(field::ALERT_TYPE, "rule");
    let ids = m.identifiers.iter().map(|s| Value::from(*s)).collect();
    alert.set(field::ALERT_IDENTIFIERS, Value::list(ids));
    let fields = m
        .fields
        .iter()
        .map(|f| {
            let value = event
                .get(&f.field)
                .map(|v| v.to_string())
                .unwrap_or_default();
            Value::from(format!("{}={value}", f.field))
        })
        .collect::<Vec<_>>();
    if !fields.is_empty() {
        alert.set(field::ALERT_MATCHED_FIELDS, Value::list(fields));
    }
    alert
}

fn correlation_alert(event: &Event, c: &CorrelationMatch<'_>) -> Event {
    let meta = &c.correlation.meta;
    let mut alert = alert_base(event, &meta.title, c.severity());
    meta_fields(&mut alert, meta);
    alert.set(
        field::ALERT_TYPE,
        format!("{:?}", c.correlation.kind).to_lowercase(),
    );
    alert.set(field::ALERT_VALUE, c.value);
    alert.set(
        field::ALERT_FIRST,
        Timestamp::from_nanos(c.first_ns).to_string(),
    );
    for (name, value) in &c.group {
        alert.set(format!("{}.{name}", field::ALERT_GROUP), value.as_str());
    }
    alert.add_tag(tag::CORRELATION);
    alert
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = "version: 1\nlogsources:\n  - logsource: {product: linux, service: sshd}\n    when: {event.dataset: sshd}\n";

    const FAILED: &str = "
title: SSH failed password
id: 5a1d4f1e-0000-4000-8000-000000000001
name: ssh_failed
logsource: {product: linux, service: sshd}
detection:
    selection: {event.outcome: failure}
    condition: selection
level: low
tags: [attack.credential_access, attack.t1110]
";

    const BRUTE: &str = "
title: SSH brute force
id: 5a1d4f1e-0000-4000-8000-000000000002
correlation:
    type: event_count
    rules: [ssh_failed]
    group-by: [source.ip]
    timespan: 5m
    condition: {gte: 3}
    generate: true
level: high
";

    fn detector(dir: &Path, suppress_secs: u64) -> Detector {
        std::fs::create_dir_all(dir.join("rules/linux")).unwrap();
        std::fs::create_dir_all(dir.join("mappings")).unwrap();
        std::fs::write(dir.join("mappings/linux.yml"), MAPPING).unwrap();
        std::fs::write(dir.join("rules/linux/failed.yml"), FAILED).unwrap();
        std::fs::write(dir.join("rules/brute.yaml"), BRUTE).unwrap();
        std::fs::write(dir.join("rules/broken.yml"), "title: x\ndetection: {}\n").unwrap();
        let config = DetectConfig {
            rules_dirs: vec![dir.join("rules")],
            mappings_dir: Some(dir.join("mappings")),
            suppress_secs,
            ..DetectConfig::default()
        };
        let (d, report) = Detector::load(&config, &Metrics::default()).unwrap();
        assert_eq!(report.loaded, 2, "{report:?}");
        assert_eq!(report.refused.len(), 1);
        assert!(report.refused[0].contains("broken.yml"), "{report:?}");
        d
    }

    fn failure(i: i64, ip: &str) -> Event {
        let t = Timestamp::from_secs(1_800_000_000 + i);
        let mut e = Event::new(t, t, format!("Failed password for root from {ip}"));
        e.set(field::EVENT_DATASET, "sshd");
        e.set(field::EVENT_OUTCOME, "failure");
        e.set(field::SOURCE_IP, ip);
        e.set(field::HOST_NAME, "web-01");
        e.set(field::EVENT_ID, i.to_string());
        e
    }

    #[test]
    fn rules_alert_and_correlations_alert_on_the_threshold() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = detector(dir.path(), 0);
        let a = d.detect(&failure(0, "203.0.113.9"));
        assert_eq!(a.len(), 1);
        let alert = &a[0];
        assert_eq!(alert.get_str(field::RULE_NAME), Some("SSH failed password"));
        assert_eq!(alert.get_str(field::EVENT_KIND), Some(ALERT_KIND));
        assert_eq!(alert.get_str(field::SOURCE_IP), Some("203.0.113.9"));
        assert!(alert.has_tag("attack.t1110"));
        assert_eq!(
            alert.get(field::ALERT_EVENT_IDS),
            Some(Value::list(vec![Value::from("0")]).as_ref())
        );
        assert_eq!(alert.severity(), Some(gac_event::Severity::Low));
        d.detect(&failure(1, "203.0.113.9"));
        // A different source does not count towards the first one's group.
        d.detect(&failure(2, "198.51.100.1"));
        let third = d.detect(&failure(3, "203.0.113.9"));
        let brute: Vec<_> = third
            .iter()
            .filter(|a| a.get_str(field::RULE_NAME) == Some("SSH brute force"))
            .collect();
        assert_eq!(brute.len(), 1, "{third:?}");
        assert_eq!(
            brute[0].get_str("alert.group.source.ip"),
            Some("203.0.113.9")
        );
        assert_eq!(
            brute[0].get(field::ALERT_VALUE),
            Some(Value::Float(3.0).as_ref())
        );
        assert!(brute[0].has_tag(tag::CORRELATION));
        assert_eq!(d.counters.evicted_groups.get(), 0);
        // Alerts are not evaluated again.
        assert!(d.detect(&brute[0].clone()).is_empty());
    }

    #[test]
    fn correlation_groups_beyond_the_bound_are_evicted_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = detector(dir.path(), 0);
        d.state = CorrelationState::new(CorrelationLimits {
            max_groups: 2,
            ..CorrelationLimits::default()
        });
        for (i, ip) in ["192.0.2.1", "192.0.2.2", "192.0.2.3"].iter().enumerate() {
            d.detect(&failure(i as i64, ip));
        }
        assert_eq!(
            d.counters.evicted_groups.get(),
            1,
            "the third source pushed one out"
        );
    }

    #[test]
    fn repeated_alerts_are_suppressed_per_rule_and_key_within_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = detector(dir.path(), 60);
        let rule_alerts = |a: Vec<Event>| {
            a.iter()
                .filter(|a| a.get_str(field::ALERT_TYPE) == Some("rule"))
                .count()
        };
        assert_eq!(rule_alerts(d.detect(&failure(0, "203.0.113.9"))), 1);
        assert_eq!(rule_alerts(d.detect(&failure(10, "203.0.113.9"))), 0);
        assert_eq!(
            rule_alerts(d.detect(&failure(20, "198.51.100.1"))),
            1,
            "another key"
        );
        assert_eq!(
            rule_alerts(d.detect(&failure(61, "203.0.113.9"))),
            1,
            "window over"
        );
    }
}
