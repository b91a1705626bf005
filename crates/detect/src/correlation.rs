//! Sigma correlation rules: reading the `correlation` section ([`Correlation`]) and the
//! bounded, per-group state that evaluates them over a stream of rule matches
//! ([`CorrelationState`]).
//!
//! Windows slide: each group keeps only what lies within `timespan` of the newest event,
//! the condition is checked when an event arrives, and a group that fires starts afresh
//! (one alert per burst, not one per event after the threshold). Because a condition is
//! decided on arrival, it must have a lower bound (`gt`, `gte` or `eq`): "fewer than N"
//! could only be decided when a window closes.

use std::collections::{HashMap, VecDeque};

use serde_norway::Value as Yaml;

use crate::rule::RuleMeta;

/// A correlation section that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrelationError {
    #[error("correlation is not a map")]
    NotAMap,
    #[error("correlation has no {0}")]
    Missing(&'static str),
    #[error("correlation {field} must be {expected}")]
    Type {
        field: &'static str,
        expected: &'static str,
    },
    #[error("unknown correlation type {0:?}")]
    UnknownType(String),
    #[error("correlation type {0} is not supported")]
    Unsupported(&'static str),
    #[error("bad timespan {0:?} (expected a number and s, m, h or d, e.g. 5m)")]
    Timespan(String),
    #[error("bad correlation condition: {0}")]
    Condition(String),
    #[error(
        "correlation condition has no lower bound (gt, gte or eq); it cannot be decided while events stream"
    )]
    NoLowerBound,
    #[error("correlation refers to unknown rule {0:?}")]
    UnknownRule(String),
    #[error("correlation {0:?} refers to itself")]
    Cycle(String),
    #[error("correlation refers to {0:?}, which did not load")]
    BrokenPart(String),
}

/// What a correlation counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationType {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
}

/// The `condition` of a correlation: every given bound must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Threshold {
    pub gt: Option<f64>,
    pub gte: Option<f64>,
    pub lt: Option<f64>,
    pub lte: Option<f64>,
    pub eq: Option<f64>,
    pub neq: Option<f64>,
}

impl Threshold {
    /// Whether a count or value satisfies every bound.
    pub fn holds(&self, x: f64) -> bool {
        self.gt.is_none_or(|v| x > v)
            && self.gte.is_none_or(|v| x >= v)
            && self.lt.is_none_or(|v| x < v)
            && self.lte.is_none_or(|v| x <= v)
            && self.eq.is_none_or(|v| x == v)
            && self.neq.is_none_or(|v| x != v)
    }

    fn has_lower_bound(&self) -> bool {
        self.gt.is_some() || self.gte.is_some() || self.eq.is_some()
    }
}

/// A rule or correlation a correlation refers to, once references are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Node {
    Rule(usize),
    Correlation(usize),
}

/// A read correlation rule.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub meta: RuleMeta,
    /// The path or name the text was loaded under, and the document within it.
    pub origin: String,
    pub document: usize,
    pub kind: CorrelationType,
    /// The referred rules, by id or name, as written.
    pub rules: Vec<String>,
    /// Fields (or aliases) whose values must be equal within a group.
    pub group_by: Vec<String>,
    pub timespan_ns: i64,
    /// `None` for temporal correlations without a condition: every rule must be seen.
    pub threshold: Option<Threshold>,
    /// The field counted or summed by value_count, value_sum and value_avg.
    pub field: Option<String>,
    /// Alias -> (rule name or id -> field name in that rule's events).
    pub aliases: HashMap<String, HashMap<String, String>>,
    /// Whether the referred rules also alert on their own.
    pub generate: bool,
    /// False when the correlation only feeds another one (which has `generate: false`).
    pub standalone: bool,
    /// `rules`, resolved by [`crate::RuleSet::link`].
    pub(crate) targets: Vec<Node>,
}

impl Correlation {
    /// The id, or the title for correlations without one.
    pub fn key(&self) -> &str {
        self.meta.id.as_deref().unwrap_or(&self.meta.title)
    }

    /// Reads a `correlation` section.
    pub(crate) fn parse(
        meta: RuleMeta,
        origin: &str,
        document: usize,
        section: &Yaml,
        generate: bool,
    ) -> Result<Self, CorrelationError> {
        let map = section.as_mapping().ok_or(CorrelationError::NotAMap)?;
        let kind = match map.get("type").and_then(Yaml::as_str) {
            None => return Err(CorrelationError::Missing("type")),
            Some("event_count") => CorrelationType::EventCount,
            Some("value_count") => CorrelationType::ValueCount,
            Some("temporal") => CorrelationType::Temporal,
            Some("temporal_ordered") => CorrelationType::TemporalOrdered,
            Some("value_sum") => CorrelationType::ValueSum,
            Some("value_avg") => CorrelationType::ValueAvg,
            Some("value_percentile") => {
                return Err(CorrelationError::Unsupported("value_percentile"));
            }
            Some(other) => return Err(CorrelationError::UnknownType(other.to_owned())),
        };
        let rules = string_list(map.get("rules"), "rules")?;
        if rules.is_empty() {
            return Err(CorrelationError::Missing("rules"));
        }
        let group_by = string_list(map.get("group-by"), "group-by")?;
        let timespan_ns = match map.get("timespan").or_else(|| map.get("timeframe")) {
            None => return Err(CorrelationError::Missing("timespan")),
            Some(v) => timespan(v)?,
        };
        let (threshold, field) = match map.get("condition") {
            None | Some(Yaml::Null) => (None, None),
            Some(Yaml::Mapping(c)) => {
                let mut t = Threshold::default();
                let mut field = None;
                for (k, v) in c {
                    let key = k.as_str().unwrap_or_default();
                    if key == "field" {
                        field = Some(match v {
                            Yaml::String(s) => s.clone(),
                            // Several fields: their values are counted together.
                            Yaml::Sequence(items) => items
                                .iter()
                                .filter_map(Yaml::as_str)
                                .collect::<Vec<_>>()
                                .join(","),
                            _ => return Err(CorrelationError::Condition("field".into())),
                        });
                        continue;
                    }
                    let n = v.as_f64().ok_or_else(|| {
                        CorrelationError::Condition(format!("{key} needs a number"))
                    })?;
                    let slot = match key {
                        "gt" => &mut t.gt,
                        "gte" => &mut t.gte,
                        "lt" => &mut t.lt,
                        "lte" => &mut t.lte,
                        "eq" => &mut t.eq,
                        "neq" => &mut t.neq,
                        other => {
                            return Err(CorrelationError::Condition(format!(
                                "unknown operator {other:?}"
                            )));
                        }
                    };
                    *slot = Some(n);
                }
                (Some(t), field)
            }
            Some(_) => {
                return Err(CorrelationError::Type {
                    field: "condition",
                    expected: "a map",
                });
            }
        };
        match (kind, &threshold, &field) {
            (CorrelationType::Temporal | CorrelationType::TemporalOrdered, _, _) => {}
            (_, None, _) => return Err(CorrelationError::Missing("condition")),
            (
                CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg,
                _,
                None,
            ) => return Err(CorrelationError::Missing("condition field")),
            _ => {}
        }
        if let Some(t) = &threshold
            && !t.has_lower_bound()
        {
            return Err(CorrelationError::NoLowerBound);
        }
        let mut aliases = HashMap::new();
        if let Some(a) = map.get("aliases") {
            let bad = CorrelationError::Type {
                field: "aliases",
                expected: "a map of alias -> rule -> field",
            };
            for (alias, per_rule) in a.as_mapping().ok_or(bad.clone())? {
                let mut fields = HashMap::new();
                for (rule, field) in per_rule.as_mapping().ok_or(bad.clone())? {
                    match (rule.as_str(), field.as_str()) {
                        (Some(r), Some(f)) => fields.insert(r.to_owned(), f.to_owned()),
                        _ => return Err(bad),
                    };
                }
                aliases.insert(alias.as_str().ok_or(bad.clone())?.to_owned(), fields);
            }
        }
        let generate = generate || map.get("generate").and_then(Yaml::as_bool).unwrap_or(false);
        Ok(Correlation {
            meta,
            origin: origin.to_owned(),
            document,
            kind,
            rules,
            group_by,
            timespan_ns,
            threshold,
            field,
            aliases,
            generate,
            standalone: true,
            targets: Vec::new(),
        })
    }

    /// The field a group-by name or alias stands for in events of the named rule.
    pub(crate) fn alias_field<'a>(&'a self, name: &'a str, rule_names: &[&str]) -> &'a str {
        self.aliases
            .get(name)
            .and_then(|per_rule| rule_names.iter().find_map(|r| per_rule.get(*r)))
            .map_or(name, String::as_str)
    }
}

fn string_list(v: Option<&Yaml>, field: &'static str) -> Result<Vec<String>, CorrelationError> {
    let bad = CorrelationError::Type {
        field,
        expected: "a list of strings",
    };
    match v {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::String(s)) => Ok(vec![s.clone()]),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or(bad.clone()))
            .collect(),
        Some(_) => Err(bad),
    }
}

fn timespan(v: &Yaml) -> Result<i64, CorrelationError> {
    let text = match v {
        Yaml::String(s) => s.trim().to_owned(),
        other => return Err(CorrelationError::Timespan(format!("{other:?}"))),
    };
    let bad = || CorrelationError::Timespan(text.clone());
    let unit = text.chars().last().ok_or_else(bad)?;
    let secs: i64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return Err(bad()),
    };
    let n: i64 = text[..text.len() - 1].parse().map_err(|_| bad())?;
    if n <= 0 {
        return Err(bad());
    }
    n.checked_mul(secs)
        .and_then(|s| s.checked_mul(1_000_000_000))
        .ok_or_else(bad)
}

/// Bounds on correlation state, so a flood of distinct groups cannot exhaust memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationLimits {
    /// Most groups kept per correlation; beyond it the least recently updated group is
    /// evicted (and counted in [`CorrelationState::evicted_groups`]).
    pub max_groups: usize,
    /// Most events or values kept per group; beyond it the oldest is dropped (and counted
    /// in [`CorrelationState::evicted_entries`]).
    pub max_entries_per_group: usize,
}

impl Default for CorrelationLimits {
    /// 10,000 groups (hosts x users of a province) and 10,000 entries per group (above
    /// any sensible event_count threshold).
    fn default() -> Self {
        Self {
            max_groups: 10_000,
            max_entries_per_group: 10_000,
        }
    }
}

/// The window of one group.
#[derive(Debug, Clone)]
enum Window {
    /// Event times (event_count).
    Times(VecDeque<i64>),
    /// Distinct value -> when last seen (value_count).
    Values(HashMap<String, i64>),
    /// (time, number) (value_sum, value_avg).
    Numbers(VecDeque<(i64, f64)>),
    /// Per referred rule: when last seen (temporal); for temporal_ordered, the latest
    /// start of a chain that has reached that step.
    Steps(Vec<Option<i64>>),
}

#[derive(Debug, Clone)]
struct Group {
    last_ns: i64,
    window: Window,
}

/// What one event contributes to a correlation.
pub(crate) struct Observation<'a> {
    /// Position in the correlation's `rules`.
    pub(crate) step: usize,
    pub(crate) time_ns: i64,
    /// The counted or summed field's value, as text.
    pub(crate) value: Option<&'a str>,
}

/// The mutable side of correlation: per correlation, per group, the events in the window.
///
/// Tied to the [`crate::RuleSet`] it was made for: build a new one when rules change.
#[derive(Debug, Clone, Default)]
pub struct CorrelationState {
    limits: CorrelationLimits,
    groups: Vec<HashMap<Vec<String>, Group>>,
    /// Groups dropped because `max_groups` was reached.
    pub evicted_groups: u64,
    /// Window entries dropped because `max_entries_per_group` was reached.
    pub evicted_entries: u64,
    /// Matches not counted because a group-by field was missing from the event (as in
    /// the aggregations of SIEMs, a missing key forms no group).
    pub missing_group_fields: u64,
    /// Matches to value_* correlations not counted because the field was missing or, for
    /// sums and averages, not a number.
    pub missing_value_fields: u64,
}

impl CorrelationState {
    pub fn new(limits: CorrelationLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// Drops every group whose newest event is older than its correlation's timespan
    /// before `now_ns`; such a group can no longer fire. Call it now and then (say once a
    /// minute) so idle groups do not wait for `max_groups` to be reached.
    pub fn expire(&mut self, correlations: &[Correlation], now_ns: i64) {
        for (groups, c) in self.groups.iter_mut().zip(correlations) {
            let horizon = now_ns.saturating_sub(c.timespan_ns);
            groups.retain(|_, g| g.last_ns >= horizon);
        }
    }

    /// How many groups are held in all correlations.
    pub fn group_count(&self) -> usize {
        self.groups.iter().map(HashMap::len).sum()
    }

    /// Adds one observation; returns `(value, first_ns)` when the correlation fires.
    pub(crate) fn observe(
        &mut self,
        index: usize,
        c: &Correlation,
        key: Vec<String>,
        obs: &Observation<'_>,
    ) -> Option<(f64, i64)> {
        if self.groups.len() <= index {
            self.groups.resize_with(index + 1, HashMap::new);
        }
        let limits = self.limits;
        let t = obs.time_ns;
        let horizon = t.saturating_sub(c.timespan_ns);
        let groups = &mut self.groups[index];
        if !groups.contains_key(&key) && groups.len() >= limits.max_groups {
            // Expired groups go first; only then the least recently updated live one.
            groups.retain(|_, g| g.last_ns >= horizon);
            if groups.len() >= limits.max_groups {
                if let Some(oldest) = groups
                    .iter()
                    .min_by_key(|(_, g)| g.last_ns)
                    .map(|(k, _)| k.clone())
                {
                    groups.remove(&oldest);
                }
                self.evicted_groups += 1;
            }
        }
        let group = groups.entry(key.clone()).or_insert_with(|| Group {
            last_ns: t,
            window: match c.kind {
                CorrelationType::EventCount => Window::Times(VecDeque::new()),
                CorrelationType::ValueCount => Window::Values(HashMap::new()),
                CorrelationType::ValueSum | CorrelationType::ValueAvg => {
                    Window::Numbers(VecDeque::new())
                }
                CorrelationType::Temporal | CorrelationType::TemporalOrdered => {
                    Window::Steps(vec![None; c.rules.len()])
                }
            },
        });
        group.last_ns = group.last_ns.max(t);
        let mut evicted = 0;
        let fired = match &mut group.window {
            Window::Times(times) => {
                times.push_back(t);
                times.retain(|x| *x >= horizon);
                while times.len() > limits.max_entries_per_group {
                    times.pop_front();
                    evicted += 1;
                }
                let n = times.len() as f64;
                let first = times.iter().min().copied().unwrap_or(t);
                c.threshold
                    .as_ref()
                    .is_some_and(|th| th.holds(n))
                    .then_some((n, first))
            }
            Window::Values(values) => {
                if let Some(v) = obs.value {
                    values.insert(v.to_owned(), t);
                }
                values.retain(|_, x| *x >= horizon);
                while values.len() > limits.max_entries_per_group {
                    let oldest = values
                        .iter()
                        .min_by_key(|(_, x)| **x)
                        .map(|(k, _)| k.clone());
                    if let Some(k) = oldest {
                        values.remove(&k);
                    }
                    evicted += 1;
                }
                let n = values.len() as f64;
                let first = values.values().min().copied().unwrap_or(t);
                c.threshold
                    .as_ref()
                    .is_some_and(|th| th.holds(n))
                    .then_some((n, first))
            }
            Window::Numbers(numbers) => {
                if let Some(x) = obs.value.and_then(|v| v.trim().parse::<f64>().ok()) {
                    numbers.push_back((t, x));
                }
                numbers.retain(|(x, _)| *x >= horizon);
                while numbers.len() > limits.max_entries_per_group {
                    numbers.pop_front();
                    evicted += 1;
                }
                let sum: f64 = numbers.iter().map(|(_, x)| x).sum();
                let value = match c.kind {
                    CorrelationType::ValueAvg if !numbers.is_empty() => sum / numbers.len() as f64,
                    CorrelationType::ValueAvg => f64::NAN,
                    _ => sum,
                };
                let first = numbers.iter().map(|(x, _)| *x).min().unwrap_or(t);
                c.threshold
                    .as_ref()
                    .is_some_and(|th| th.holds(value))
                    .then_some((value, first))
            }
            Window::Steps(steps) => {
                for s in steps.iter_mut() {
                    if s.is_some_and(|x| x < horizon) {
                        *s = None;
                    }
                }
                if c.kind == CorrelationType::Temporal {
                    steps[obs.step] = Some(t);
                    let seen = steps.iter().flatten().count() as f64;
                    let first = steps.iter().flatten().min().copied().unwrap_or(t);
                    let done = match &c.threshold {
                        Some(th) => th.holds(seen),
                        None => seen as usize == steps.len(),
                    };
                    done.then_some((seen, first))
                } else {
                    // steps[k] = latest start of a chain through step k; extending from
                    // the latest start gives later steps the most room.
                    if obs.step == 0 {
                        steps[0] = Some(t);
                    } else if let Some(start) = steps[obs.step - 1] {
                        steps[obs.step] = Some(steps[obs.step].map_or(start, |s| s.max(start)));
                    }
                    let reached = steps.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
                    let done = match &c.threshold {
                        Some(th) => th.holds(reached as f64),
                        None => reached == steps.len(),
                    };
                    let first = steps[reached.saturating_sub(1)].unwrap_or(t);
                    done.then_some((reached as f64, first))
                }
            }
        };
        self.evicted_entries += evicted;
        if fired.is_some() {
            // One alert per burst: the next needs a fresh window.
            groups.remove(&key);
        }
        fired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr(yaml: &str) -> Result<Correlation, CorrelationError> {
        let v: Yaml = serde_norway::from_str(yaml).unwrap();
        let meta = RuleMeta {
            title: "t".into(),
            id: None,
            name: None,
            status: None,
            description: None,
            author: None,
            references: Vec::new(),
            level: None,
            tags: Vec::new(),
            logsource: Default::default(),
            fields: Vec::new(),
            falsepositives: Vec::new(),
        };
        Correlation::parse(meta, "x", 0, &v, false)
    }

    const SEC: i64 = 1_000_000_000;

    fn feed(
        c: &Correlation,
        state: &mut CorrelationState,
        events: &[(usize, i64, &str, &str)],
    ) -> Vec<Option<(f64, i64)>> {
        events
            .iter()
            .map(|(step, secs, group, value)| {
                state.observe(
                    0,
                    c,
                    vec![(*group).to_owned()],
                    &Observation {
                        step: *step,
                        time_ns: secs * SEC,
                        value: Some(value),
                    },
                )
            })
            .collect()
    }

    fn fired(results: &[Option<(f64, i64)>]) -> Vec<usize> {
        results
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_some())
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn reads_every_type_and_refuses_bad_sections() {
        let c = corr(
            "type: event_count\nrules: [a]\ngroup-by: [User]\ntimespan: 90m\ncondition: {gte: 3}",
        )
        .unwrap();
        assert_eq!(c.kind, CorrelationType::EventCount);
        assert_eq!(c.timespan_ns, 5400 * SEC);
        assert_eq!(c.threshold.unwrap().gte, Some(3.0));
        let c = corr(
            "type: value_count\nrules: a\ntimespan: 1d\ncondition: {field: User, gt: 10, lte: 20}",
        )
        .unwrap();
        assert_eq!(c.field.as_deref(), Some("User"));
        assert!(c.group_by.is_empty());
        assert!(
            corr("type: temporal_ordered\nrules: [a, b]\ngroup-by: [User]\ntimespan: 10s").is_ok()
        );
        let err = |y: &str| corr(y).unwrap_err();
        assert_eq!(
            err("type: magic\nrules: [a]\ntimespan: 1h"),
            CorrelationError::UnknownType("magic".into())
        );
        assert_eq!(
            err("type: value_percentile\nrules: [a]\ntimespan: 1h"),
            CorrelationError::Unsupported("value_percentile")
        );
        assert_eq!(
            err("type: event_count\nrules: [a]\ntimespan: 1h"),
            CorrelationError::Missing("condition")
        );
        assert_eq!(
            err("type: value_count\nrules: [a]\ntimespan: 1h\ncondition: {gte: 2}"),
            CorrelationError::Missing("condition field")
        );
        assert_eq!(
            err("type: event_count\nrules: [a]\ntimespan: 1w\ncondition: {gte: 2}"),
            CorrelationError::Timespan("1w".into())
        );
        assert_eq!(
            err("type: event_count\nrules: [a]\ntimespan: 1h\ncondition: {lt: 2}"),
            CorrelationError::NoLowerBound
        );
        assert_eq!(
            err("type: event_count\nrules: []\ntimespan: 1h\ncondition: {gte: 2}"),
            CorrelationError::Missing("rules")
        );
        assert!(matches!(
            err("type: event_count\nrules: [a]\ntimespan: 1h\ncondition: {about: 2}"),
            CorrelationError::Condition(_)
        ));
    }

    #[test]
    fn thresholds_combine() {
        let t = Threshold {
            gt: Some(100.0),
            lte: Some(200.0),
            ..Default::default()
        };
        assert!(!t.holds(100.0));
        assert!(t.holds(101.0));
        assert!(t.holds(200.0));
        assert!(!t.holds(201.0));
        let t = Threshold {
            eq: Some(3.0),
            ..Default::default()
        };
        assert!(t.holds(3.0) && !t.holds(4.0));
        let t = Threshold {
            gte: Some(1.0),
            neq: Some(2.0),
            ..Default::default()
        };
        assert!(t.holds(1.0) && !t.holds(2.0));
    }

    #[test]
    fn event_count_slides_groups_and_resets() {
        let c = corr(
            "type: event_count\nrules: [a]\ngroup-by: [U]\ntimespan: 10s\ncondition: {gte: 3}",
        )
        .unwrap();
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[
                (0, 0, "bob", ""),
                (0, 1, "eve", ""),
                (0, 5, "bob", ""),
                (0, 11, "bob", ""), // the event at 0 has left the window: 2 in it
                (0, 12, "bob", ""), // 5, 11, 12: fires
                (0, 13, "bob", ""), // fresh window after the alert
                (0, 14, "eve", ""),
            ],
        );
        assert_eq!(fired(&r), [4]);
        assert_eq!(r[4], Some((3.0, 5 * SEC)));
    }

    #[test]
    fn value_count_counts_distinct_values() {
        let c =
            corr("type: value_count\nrules: [a]\ntimespan: 1m\ncondition: {field: User, gte: 3}")
                .unwrap();
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[
                (0, 0, "h", "root"),
                (0, 1, "h", "ROOT2"),
                (0, 2, "h", "root"),
                (0, 3, "h", "admin"),
            ],
        );
        assert_eq!(fired(&r), [3]);
    }

    #[test]
    fn value_sum_and_avg() {
        let c =
            corr("type: value_sum\nrules: [a]\ntimespan: 1m\ncondition: {field: bytes, gt: 100}")
                .unwrap();
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[(0, 0, "h", "60"), (0, 1, "h", "x"), (0, 2, "h", "50")],
        );
        assert_eq!(fired(&r), [2]);
        assert_eq!(r[2].unwrap().0, 110.0);
        let c =
            corr("type: value_avg\nrules: [a]\ntimespan: 1m\ncondition: {field: bytes, gte: 50}")
                .unwrap();
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[(0, 0, "h", "10"), (0, 1, "h", "80"), (0, 2, "h", "90")],
        );
        assert_eq!(fired(&r), [2]);
    }

    #[test]
    fn temporal_needs_every_rule_in_any_order() {
        let c = corr("type: temporal\nrules: [a, b, c]\ngroup-by: [U]\ntimespan: 10s").unwrap();
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[
                (2, 0, "u", ""),
                (0, 3, "u", ""),
                (0, 4, "v", ""),
                (1, 9, "u", ""),
            ],
        );
        assert_eq!(fired(&r), [3]);
        // Too far apart: c at 0 has expired by 11.
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[(2, 0, "u", ""), (0, 3, "u", ""), (1, 11, "u", "")],
        );
        assert!(fired(&r).is_empty());
    }

    #[test]
    fn temporal_ordered_needs_the_order() {
        let c =
            corr("type: temporal_ordered\nrules: [a, b]\ngroup-by: [U]\ntimespan: 10s").unwrap();
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[(1, 0, "u", ""), (0, 1, "u", ""), (1, 2, "u", "")],
        );
        assert_eq!(fired(&r), [2]);
        let mut st = CorrelationState::default();
        let r = feed(&c, &mut st, &[(1, 0, "u", ""), (0, 1, "u", "")]);
        assert!(fired(&r).is_empty(), "b before a");
        let mut st = CorrelationState::default();
        let r = feed(&c, &mut st, &[(0, 0, "u", ""), (1, 11, "u", "")]);
        assert!(fired(&r).is_empty(), "outside the timespan");
        let mut st = CorrelationState::default();
        let r = feed(
            &c,
            &mut st,
            &[(0, 0, "u", ""), (0, 5, "u", ""), (1, 12, "u", "")],
        );
        assert_eq!(fired(&r), [2], "a later start keeps the chain alive");
    }

    #[test]
    fn state_is_bounded_and_evictions_counted() {
        let c = corr(
            "type: event_count\nrules: [a]\ngroup-by: [U]\ntimespan: 1h\ncondition: {gte: 100}",
        )
        .unwrap();
        let mut st = CorrelationState::new(CorrelationLimits {
            max_groups: 2,
            max_entries_per_group: 3,
        });
        feed(
            &c,
            &mut st,
            &[(0, 0, "a", ""), (0, 1, "b", ""), (0, 2, "c", "")],
        );
        assert_eq!(st.group_count(), 2);
        assert_eq!(st.evicted_groups, 1);
        feed(
            &c,
            &mut st,
            &[(0, 3, "c", ""), (0, 4, "c", ""), (0, 5, "c", "")],
        );
        assert_eq!(st.evicted_entries, 1);
        st.expire(std::slice::from_ref(&c), 3600 * SEC + 5 * SEC);
        assert_eq!(st.group_count(), 1, "c was seen at 5s, b only at 1s");
        st.expire(std::slice::from_ref(&c), 3600 * SEC + 6 * SEC);
        assert_eq!(st.group_count(), 0);
    }
}
