//! The engine's front: loading rule texts into a [`RuleSet`] (each rule compiled once, or
//! refused with the reason) and evaluating events against it, yielding [`RuleMatch`]es.
//!
//! Rules are kept in one bucket per mapped log source; an event is first sorted into
//! log sources by the mappings' `when` searches, and only those buckets' rules run.
//! Correlation rules then consume the matches ([`RuleSet::correlate`]), keeping their
//! state in a [`CorrelationState`] the caller owns, so the set itself stays read-only
//! and can be shared between threads.

use std::collections::HashMap;

use gac_event::Severity;

use crate::correlation::{Correlation, CorrelationError, CorrelationState, Node, Observation};
use crate::detection::{self, Detection, DetectionError, EvalCtx, MatchedField};
use crate::mapping::{LogSource, Mappings};
use crate::modifier::Placeholders;
use crate::prefilter::Prefilter;
use crate::rule::{self, Body, RuleError, RuleMeta};
use crate::source::FieldSource;

/// Why one rule document did not load.
#[derive(Debug, thiserror::Error)]
#[error("{origin}{}: {kind}", describe(.title, .document))]
pub struct LoadError {
    /// The path or name the text was given under.
    pub origin: String,
    /// Index of the YAML document within the text (0 for single-rule files).
    pub document: usize,
    /// The rule's title, when it could be read.
    pub title: Option<String>,
    #[source]
    pub kind: LoadErrorKind,
}

fn describe(title: &Option<String>, document: &usize) -> String {
    match (title, document) {
        (Some(t), 0) => format!(" ({t})"),
        (Some(t), d) => format!(" [document {d}] ({t})"),
        (None, 0) => String::new(),
        (None, d) => format!(" [document {d}]"),
    }
}

/// What was wrong with a rule.
#[derive(Debug, thiserror::Error)]
pub enum LoadErrorKind {
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(transparent)]
    Detection(Box<DetectionError>),
    #[error("no mapping for log source {0}")]
    UnknownLogSource(Box<LogSource>),
    #[error("rule id or name {0} is already loaded")]
    DuplicateId(String),
    #[error(transparent)]
    Correlation(#[from] CorrelationError),
}

impl LoadErrorKind {
    /// A short, stable reason for grouping failures in reports: the message without the
    /// rule-specific parts (identifiers, values, positions).
    pub fn reason(&self) -> String {
        use crate::matcher::MatcherError as M;
        use crate::modifier::ModifierError as Mod;
        match self {
            LoadErrorKind::Rule(e) => match e {
                RuleError::Yaml(_) => "not valid YAML".to_owned(),
                other => other.to_string(),
            },
            LoadErrorKind::UnknownLogSource(ls) => format!("no mapping for log source {ls}"),
            LoadErrorKind::DuplicateId(_) => "duplicate rule id or name".to_owned(),
            LoadErrorKind::Correlation(e) => match e {
                CorrelationError::UnknownRule(_) => "correlation refers to an unknown rule".into(),
                CorrelationError::Cycle(_) => "correlation cycle".into(),
                CorrelationError::Timespan(_) => "bad correlation timespan".into(),
                other => other.to_string(),
            },
            LoadErrorKind::Detection(e) => match e.as_ref() {
                DetectionError::Item { source, .. } => match source.as_ref() {
                    M::Modifier(Mod::Unknown(m)) => format!("unsupported modifier {m:?}"),
                    M::Modifier(Mod::UnknownPlaceholder(_)) => {
                        "placeholder without values".to_owned()
                    }
                    M::Modifier(Mod::Conflict(a, b)) => format!("modifiers {a} and {b} combined"),
                    M::Modifier(Mod::BadValue { modifier, .. }) => {
                        format!("bad value for {modifier}")
                    }
                    M::Regex { reason, .. } => format!("regex: {reason}"),
                    M::Cidr(_) => "bad CIDR".to_owned(),
                    other => other.to_string(),
                },
                DetectionError::Condition(c) => match c {
                    crate::ConditionError::Syntax { reason, .. } => {
                        format!("condition syntax: {reason}")
                    }
                    crate::ConditionError::UnknownIdentifier { .. } => {
                        "condition names an unknown identifier".to_owned()
                    }
                    crate::ConditionError::EmptyPattern { .. } => {
                        "condition pattern matches no identifier".to_owned()
                    }
                    crate::ConditionError::Aggregation { .. } => {
                        "Sigma 1.0 aggregation in condition".to_owned()
                    }
                },
                DetectionError::Shape { reason, .. } => format!("search identifier: {reason}"),
                other => other.to_string(),
            },
        }
    }
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: RuleMeta,
    /// The path or name the rule's text was loaded under.
    pub origin: String,
    /// Index of the rule's YAML document within that text.
    pub document: usize,
    detection: Detection,
    /// The mapped log source (index into the mappings), `None` when compiled without.
    source: Option<usize>,
    /// False when the rule only feeds correlations (`generate: false`, the default):
    /// its matches are then not alerts on their own.
    pub standalone: bool,
}

impl Rule {
    /// The severity of the rule's alerts: its `level`, medium when it gives none (the
    /// level Sigma describes as "relevant event that should be reviewed").
    pub fn severity(&self) -> Severity {
        self.meta.level.unwrap_or(Severity::Medium)
    }

    /// The id, or the title for rules without one.
    pub fn key(&self) -> &str {
        self.meta.id.as_deref().unwrap_or(&self.meta.title)
    }

    /// The names of the rule's search identifiers.
    pub fn search_identifiers(&self) -> &[String] {
        &self.detection.names
    }

    /// Whether an event satisfies the rule's detection (log source not checked).
    pub fn is_match(&self, src: &dyn FieldSource) -> bool {
        self.detection.eval(&mut EvalCtx::new(src))
    }

    fn explain<'r>(&'r self, index: usize, ctx: &mut EvalCtx<'_>) -> RuleMatch<'r> {
        let mut identifiers = Vec::new();
        let mut fields = Vec::new();
        for (name, search) in self.detection.names.iter().zip(&self.detection.searches) {
            if search.eval(ctx) {
                identifiers.push(name.as_str());
                search.explain(ctx, &mut fields);
            }
        }
        RuleMatch {
            rule: self,
            index,
            identifiers,
            fields,
        }
    }
}

/// One rule that an event matched, with what matched for the alert.
#[derive(Debug, Clone)]
pub struct RuleMatch<'r> {
    pub rule: &'r Rule,
    /// The rule's position in [`RuleSet::rules`].
    pub index: usize,
    /// The search identifiers that were true for the event (a negated filter is false on
    /// a match, so it does not appear).
    pub identifiers: Vec<&'r str>,
    /// The fields of the true identifiers that matched.
    pub fields: Vec<MatchedField>,
}

impl RuleMatch<'_> {
    pub fn id(&self) -> Option<&str> {
        self.rule.meta.id.as_deref()
    }

    pub fn title(&self) -> &str {
        &self.rule.meta.title
    }

    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }

    pub fn tags(&self) -> &[String] {
        &self.rule.meta.tags
    }
}

/// A compiled rule document: a detection rule or a correlation rule.
#[derive(Debug, Clone)]
pub enum Compiled {
    Rule(Rule),
    Correlation(Correlation),
}

/// Compiles every rule of a text without log source mappings (field names unchanged,
/// log source not checked): for tooling that only asks whether rules are well formed.
pub fn compile(
    origin: &str,
    text: &str,
    placeholders: &Placeholders,
) -> Vec<Result<Compiled, LoadError>> {
    let none = Mappings::empty();
    compile_with(origin, text, placeholders, |_| Ok((None, &none)))
}

/// Reads a text's documents and compiles each, detection rules with the field map
/// `mapping` chooses for their log source.
fn compile_with<'m>(
    origin: &str,
    text: &str,
    placeholders: &Placeholders,
    mapping: impl Fn(&LogSource) -> Result<(Option<usize>, &'m Mappings), LoadErrorKind>,
) -> Vec<Result<Compiled, LoadError>> {
    let mut out = Vec::new();
    for (document, doc) in rule::read_documents(text).into_iter().enumerate() {
        let err = |title: Option<String>, kind: LoadErrorKind| LoadError {
            origin: origin.to_owned(),
            document,
            title,
            kind,
        };
        let doc = match doc {
            Ok(Some(d)) => d,
            Ok(None) => continue,
            Err((title, e)) => {
                out.push(Err(err(title, e.into())));
                continue;
            }
        };
        let title = Some(doc.meta.title.clone());
        let section = match doc.body {
            Body::Detection(section) => section,
            Body::Correlation { section, generate } => {
                out.push(
                    Correlation::parse(doc.meta, origin, document, &section, generate)
                        .map(Compiled::Correlation)
                        .map_err(|e| err(title, e.into())),
                );
                continue;
            }
        };
        let (source, mappings) = match mapping(&doc.meta.logsource) {
            Ok(m) => m,
            Err(kind) => {
                out.push(Err(err(title, kind)));
                continue;
            }
        };
        let resolve = |name: &str| mappings.resolve(source, name);
        out.push(
            detection::compile(&section, placeholders, &resolve)
                .map(|detection| {
                    Compiled::Rule(Rule {
                        meta: doc.meta,
                        origin: origin.to_owned(),
                        document,
                        detection,
                        source,
                        standalone: true,
                    })
                })
                .map_err(|e| err(title, LoadErrorKind::Detection(Box::new(e)))),
        );
    }
    out
}

/// Loaded rules, ready to evaluate events.
///
/// Load every text with [`load`](Self::load), then call [`link`](Self::link) once so
/// correlation rules find the rules they refer to (which may sit in other files).
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    mappings: Mappings,
    placeholders: Placeholders,
    rules: Vec<Rule>,
    /// Indices into `rules`, per mapped log source (indexed like `mappings.sources()`).
    buckets: Vec<Vec<usize>>,
    correlations: Vec<Correlation>,
    /// Linked correlations, each after those it refers to.
    order: Vec<usize>,
    /// Every rule and correlation id and name, to refuse duplicates and to link.
    names: HashMap<String, Node>,
    /// Per bucket, built by `link`; empty until then (every rule is evaluated).
    prefilters: Vec<Prefilter>,
}

impl RuleSet {
    /// An empty set using these mappings.
    pub fn new(mappings: Mappings) -> Self {
        let buckets = vec![Vec::new(); mappings.sources().len()];
        Self {
            mappings,
            buckets,
            ..Self::default()
        }
    }

    /// Values for `%placeholder%`s used with the `expand` modifier; rules naming a
    /// placeholder without values are refused.
    pub fn with_placeholders(mut self, placeholders: Placeholders) -> Self {
        self.placeholders = placeholders;
        self
    }

    /// Compiles and adds every rule in a text. Returns, per rule document, the loaded
    /// rule's key (id or title) or why it was refused.
    pub fn load(&mut self, origin: &str, text: &str) -> Vec<Result<String, LoadError>> {
        let mappings = &self.mappings;
        let compiled = compile_with(origin, text, &self.placeholders, |ls| {
            mappings
                .find(ls)
                .map(|i| (Some(i), mappings))
                .ok_or_else(|| LoadErrorKind::UnknownLogSource(Box::new(ls.clone())))
        });
        let mut out = Vec::with_capacity(compiled.len());
        for result in compiled {
            out.push(result.and_then(|c| {
                let (key, origin, document, title) = match &c {
                    Compiled::Rule(r) => (r.key(), &r.origin, r.document, &r.meta.title),
                    Compiled::Correlation(c) => (c.key(), &c.origin, c.document, &c.meta.title),
                };
                let (key, origin, title) = (key.to_owned(), origin.clone(), title.clone());
                match self.add(c) {
                    None => Ok(key),
                    Some(kind) => Err(LoadError {
                        origin,
                        document,
                        title: Some(title),
                        kind,
                    }),
                }
            }));
        }
        self.order.clear();
        self.prefilters.clear();
        out
    }

    /// Files a compiled rule; `Some` says why it was refused.
    fn add(&mut self, compiled: Compiled) -> Option<LoadErrorKind> {
        let (meta, node) = match &compiled {
            Compiled::Rule(r) => (&r.meta, Node::Rule(self.rules.len())),
            Compiled::Correlation(c) => (&c.meta, Node::Correlation(self.correlations.len())),
        };
        let bucket = match &compiled {
            Compiled::Rule(r) => match r.source.filter(|i| *i < self.buckets.len()) {
                Some(i) => Some(i),
                None => {
                    return Some(LoadErrorKind::UnknownLogSource(Box::new(
                        r.meta.logsource.clone(),
                    )));
                }
            },
            Compiled::Correlation(_) => None,
        };
        for name in [&meta.id, &meta.name].into_iter().flatten() {
            if self.names.contains_key(name) {
                return Some(LoadErrorKind::DuplicateId(name.clone()));
            }
        }
        for name in [&meta.id, &meta.name].into_iter().flatten() {
            self.names.insert(name.clone(), node);
        }
        match compiled {
            Compiled::Rule(r) => {
                if let Some(i) = bucket {
                    self.buckets[i].push(self.rules.len());
                }
                self.rules.push(r);
            }
            Compiled::Correlation(c) => self.correlations.push(c),
        }
        None
    }

    /// Resolves what each correlation refers to, orders correlations so that chained
    /// ones come after their parts, and marks rules that only feed correlations
    /// (`generate: false`) as not alerting on their own. Correlations that refer to
    /// unknown rules, to themselves or to such a correlation are reported and left out
    /// of [`correlate`](Self::correlate).
    pub fn link(&mut self) -> Vec<LoadError> {
        let mut errors = Vec::new();
        let mut broken = vec![false; self.correlations.len()];
        for (i, c) in self.correlations.iter_mut().enumerate() {
            c.targets.clear();
            for name in &c.rules {
                match self.names.get(name) {
                    Some(node) => c.targets.push(*node),
                    None => {
                        errors.push(correlation_error(
                            c,
                            CorrelationError::UnknownRule(name.clone()),
                        ));
                        broken[i] = true;
                        break;
                    }
                }
            }
        }
        // Depth-first topological order. A correlation on a cycle, or one that refers to
        // a broken correlation, is broken too.
        let n = self.correlations.len();
        let unresolved = broken.clone();
        let mut walk = Walk {
            state: vec![0; n],
            broken,
            cyclic: vec![false; n],
            stack: Vec::new(),
            order: Vec::with_capacity(n),
        };
        for i in 0..n {
            walk.visit(i, &self.correlations);
        }
        for (i, c) in self.correlations.iter().enumerate() {
            if walk.cyclic[i] {
                errors.push(correlation_error(
                    c,
                    CorrelationError::Cycle(c.key().to_owned()),
                ));
            } else if walk.broken[i] && !unresolved[i] {
                let part = c.targets.iter().find_map(|t| match t {
                    Node::Correlation(j) if walk.broken[*j] => Some(self.correlations[*j].key()),
                    _ => None,
                });
                let part = part.unwrap_or_default().to_owned();
                errors.push(correlation_error(c, CorrelationError::BrokenPart(part)));
            }
        }
        self.order = walk.order;
        for r in &mut self.rules {
            r.standalone = true;
        }
        let mut quiet_correlations = vec![false; n];
        for &i in &self.order {
            let c = &self.correlations[i];
            if c.generate {
                continue;
            }
            for t in &c.targets {
                match t {
                    Node::Rule(r) => self.rules[*r].standalone = false,
                    Node::Correlation(j) => quiet_correlations[*j] = true,
                }
            }
        }
        for (c, quiet) in self.correlations.iter_mut().zip(quiet_correlations) {
            c.standalone = !quiet;
        }
        self.prefilters = self
            .buckets
            .iter()
            .map(|b| {
                let detections: Vec<&Detection> =
                    b.iter().map(|&i| &self.rules[i].detection).collect();
                Prefilter::build(&detections)
            })
            .collect();
        errors
    }

    /// How many detection rules are loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every loaded detection rule.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Every loaded correlation rule (linked or not).
    pub fn correlations(&self) -> &[Correlation] {
        &self.correlations
    }

    /// The mappings the set was built with.
    pub fn mappings(&self) -> &Mappings {
        &self.mappings
    }

    /// Every rule the event matches, in load order within each log source. After
    /// [`link`](Self::link), only the rules the prefilter admits are evaluated in full.
    pub fn evaluate(&self, src: &dyn FieldSource) -> Vec<RuleMatch<'_>> {
        let mut ctx = EvalCtx::new(src);
        let mut out = Vec::new();
        let wanted = |i: usize| self.buckets.get(i).is_some_and(|b| !b.is_empty());
        for b in self.mappings.select_with(&mut ctx, wanted) {
            let bucket = &self.buckets[b];
            let candidates: Vec<usize> = match self.prefilters.get(b) {
                Some(p) => p
                    .candidates(&mut ctx)
                    .into_iter()
                    .map(|k| bucket[k])
                    .collect(),
                None => bucket.clone(),
            };
            for i in candidates {
                let rule = &self.rules[i];
                if rule.detection.eval(&mut ctx) {
                    out.push(rule.explain(i, &mut ctx));
                }
            }
        }
        out
    }

    /// Like [`evaluate`](Self::evaluate) without the shortcuts (the mappings' gates and
    /// the prefilter): every `when` and every rule of the event's log sources is evaluated
    /// in full. The answer is the same; tests compare the two.
    pub fn evaluate_unfiltered(&self, src: &dyn FieldSource) -> Vec<RuleMatch<'_>> {
        let mut ctx = EvalCtx::new(src);
        let mut out = Vec::new();
        for b in self.mappings.select_all(&mut ctx) {
            let bucket = &self.buckets[b];
            for &i in bucket {
                let rule = &self.rules[i];
                if rule.detection.eval(&mut ctx) {
                    out.push(rule.explain(i, &mut ctx));
                }
            }
        }
        out
    }

    /// Feeds one event's rule matches (from [`evaluate`](Self::evaluate)) to the linked
    /// correlations and returns those that fire. `time_ns` is the event's time.
    pub fn correlate(
        &self,
        state: &mut CorrelationState,
        src: &dyn FieldSource,
        time_ns: i64,
        matches: &[RuleMatch<'_>],
    ) -> Vec<CorrelationMatch<'_>> {
        // What happened in this event: matched rules, then correlations as they fire
        // (so chained correlations see them), each with the log source of its event.
        let mut hits: Vec<(Node, Option<usize>)> = matches
            .iter()
            .map(|m| (Node::Rule(m.index), m.rule.source))
            .collect();
        let mut out = Vec::new();
        for &ci in &self.order {
            let c = &self.correlations[ci];
            let mut fired = None;
            for &(node, source) in &hits {
                // Later steps first, so one event never serves as two steps of a chain.
                for step in (0..c.targets.len()).rev().filter(|k| c.targets[*k] == node) {
                    let names = self.node_names(node);
                    let value_of = |name: &str| -> Option<String> {
                        let field = c.alias_field(name, &names);
                        self.mappings
                            .resolve(source, field)
                            .iter()
                            .find_map(|f| src.field(f))
                            .and_then(|v| v.as_text().map(|t| t.into_owned()))
                    };
                    let Some(key) = c
                        .group_by
                        .iter()
                        .map(|g| value_of(g))
                        .collect::<Option<Vec<_>>>()
                    else {
                        state.missing_group_fields += 1;
                        continue;
                    };
                    let value = match &c.field {
                        Some(f) => match f.split(',').map(value_of).collect::<Option<Vec<_>>>() {
                            Some(v) => Some(v.join(",")),
                            None => {
                                state.missing_value_fields += 1;
                                continue;
                            }
                        },
                        None => None,
                    };
                    let obs = Observation {
                        step,
                        time_ns,
                        value: value.as_deref(),
                    };
                    if let Some((value, first_ns)) = state.observe(ci, c, key.clone(), &obs) {
                        fired = Some(source);
                        out.push(CorrelationMatch {
                            correlation: c,
                            group: c.group_by.iter().cloned().zip(key).collect(),
                            value,
                            first_ns,
                            last_ns: time_ns,
                        });
                    }
                }
            }
            if let Some(source) = fired {
                hits.push((Node::Correlation(ci), source));
            }
        }
        out
    }

    /// The names a rule or correlation can be referred to by (name, then id).
    fn node_names(&self, node: Node) -> Vec<&str> {
        let meta = match node {
            Node::Rule(i) => &self.rules[i].meta,
            Node::Correlation(i) => &self.correlations[i].meta,
        };
        [&meta.name, &meta.id]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// Depth-first walk over correlation references (state: 0 new, 1 on the stack, 2 done).
struct Walk {
    state: Vec<u8>,
    broken: Vec<bool>,
    cyclic: Vec<bool>,
    stack: Vec<usize>,
    order: Vec<usize>,
}

impl Walk {
    /// Whether correlation `i` and everything it refers to are usable.
    fn visit(&mut self, i: usize, cs: &[Correlation]) -> bool {
        match self.state[i] {
            2 => return !self.broken[i],
            1 => {
                if let Some(p) = self.stack.iter().position(|x| *x == i) {
                    for &k in &self.stack[p..] {
                        self.cyclic[k] = true;
                    }
                }
                return false;
            }
            _ => {}
        }
        self.state[i] = 1;
        self.stack.push(i);
        let mut ok = !self.broken[i];
        for t in &cs[i].targets {
            if let Node::Correlation(j) = t {
                ok &= self.visit(*j, cs);
            }
        }
        self.stack.pop();
        self.state[i] = 2;
        ok &= !self.cyclic[i];
        if ok {
            self.order.push(i);
        } else {
            self.broken[i] = true;
        }
        ok
    }
}

fn correlation_error(c: &Correlation, e: CorrelationError) -> LoadError {
    LoadError {
        origin: c.origin.clone(),
        document: c.document,
        title: Some(c.meta.title.clone()),
        kind: e.into(),
    }
}

/// A correlation that fired.
#[derive(Debug, Clone)]
pub struct CorrelationMatch<'r> {
    pub correlation: &'r Correlation,
    /// The group-by fields and the values the group shares.
    pub group: Vec<(String, String)>,
    /// The count (event_count, value_count), the number of rules seen (temporal) or the
    /// sum or average (value_sum, value_avg) that met the condition.
    pub value: f64,
    /// Time of the oldest event in the window, and of the event that fired it.
    pub first_ns: i64,
    pub last_ns: i64,
}

impl CorrelationMatch<'_> {
    /// The correlation's level, medium when it gives none.
    pub fn severity(&self) -> Severity {
        self.correlation.meta.level.unwrap_or(Severity::Medium)
    }
}
