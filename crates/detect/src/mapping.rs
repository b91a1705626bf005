//! Field mappings as data: which events a Sigma log source means, and what Sigma field
//! names are called in those events. Read from YAML text; no file access here.
//!
//! ```yaml
//! version: 1
//! # Sigma field name -> event field name (or a list: any of them), for every log source.
//! # Names not listed pass through unchanged, so original Windows names keep working.
//! fields:
//!   CommandLine: process.command_line
//!   User: [user.name, user.target.name]
//! logsources:
//!   - logsource: { product: linux, service: sshd }   # matched exactly, all three keys
//!     # Which events: a Sigma search over event fields (map = AND, list of maps = OR,
//!     # modifiers allowed).
//!     when:
//!       event.dataset: sshd
//!     # Overrides of the global `fields` for this log source only.
//!     fields:
//!       User: user.name
//!   - logsource: { product: windows, service: security }
//!     when: { winlog.channel: Security }
//!     fields:
//!       EventID: winlog.event_id
//!     # Sigma names this log source does not list are looked up under this prefix
//!     # (Windows rules name hundreds of EventData items, all stored alike).
//!     unmapped: winlog.event_data.
//! ```
//!
//! A Sigma name resolves to the log source's `fields` entry, else its `unmapped` prefix
//! plus the name, else the global `fields` entry, else the name unchanged.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde_norway::Value as Yaml;

use crate::detection::{self, DetectionError, EvalCtx, Search};
use crate::matcher::{FieldTest, ItemContext, ValueMatcher};
use crate::modifier::Placeholders;
use crate::pattern::{Anchor, StrMatcher};
use crate::source::FieldSource;

/// The mapping format version this code reads.
pub const MAPPING_VERSION: u32 = 1;

/// A mapping text that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("mapping is not valid: {0}")]
    Yaml(String),
    #[error("mapping version {0} is not supported (expected {MAPPING_VERSION})")]
    Version(u32),
    #[error("log source {logsource} is mapped twice")]
    Duplicate { logsource: LogSource },
    #[error("log source {logsource} names no product, category or service")]
    EmptyLogSource { logsource: LogSource },
    #[error("log source {logsource}: `when` does not compile: {source}")]
    When {
        logsource: LogSource,
        #[source]
        source: Box<DetectionError>,
    },
}

/// A Sigma log source: the three keys rules select events by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSource {
    pub product: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
}

impl LogSource {
    /// The same log source with values lowercased, as the specification spells them.
    fn normalised(&self) -> LogSource {
        let low = |v: &Option<String>| v.as_ref().map(|s| s.trim().to_lowercase());
        LogSource {
            product: low(&self.product),
            category: low(&self.category),
            service: low(&self.service),
        }
    }
}

impl fmt::Display for LogSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (key, v) in [
            ("product", &self.product),
            ("category", &self.category),
            ("service", &self.service),
        ] {
            if let Some(v) = v {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{key}={v}")?;
                first = false;
            }
        }
        if first {
            f.write_str("(empty)")?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    version: u32,
    #[serde(default)]
    fields: HashMap<String, OneOrMany>,
    #[serde(default)]
    logsources: Vec<RawSource>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    logsource: LogSource,
    when: Yaml,
    #[serde(default)]
    fields: HashMap<String, OneOrMany>,
    unmapped: Option<String>,
}

/// One mapped log source.
#[derive(Debug, Clone)]
pub struct SourceMapping {
    pub logsource: LogSource,
    when: Search,
    fields: HashMap<String, Vec<String>>,
    /// Prefix for Sigma names not in `fields`.
    unmapped: Option<String>,
}

impl SourceMapping {
    /// Whether an event belongs to this log source.
    pub(crate) fn selects(&self, ctx: &mut EvalCtx<'_>) -> bool {
        self.when.eval(ctx)
    }
}

/// A set of log source mappings, from one or more mapping texts.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    fields: HashMap<String, Vec<String>>,
    sources: Vec<SourceMapping>,
    /// Which sources an event can belong to, by one field lookup each (see [`Gates`]).
    gates: Gates,
}

/// A fast first sort of events into log sources. Most `when`s require one field to equal
/// one of some words (`winlog.channel: Security`, `event.dataset: [sshd, sudo]`): such a
/// source is a candidate only when the event's value of that field, lowercased, is one
/// of its words, which one hash lookup per gate field answers for all sources at once.
/// Candidates are then checked with their whole `when`, so the answer is the same as
/// checking every `when`; a hundred Windows channels then cost a Linux event nothing.
#[derive(Debug, Clone, Default)]
struct Gates {
    /// Per gate field: lowercased value -> sources (ascending).
    by_field: Vec<(String, HashMap<String, Vec<usize>>)>,
    /// Sources whose `when` has no such requirement: always checked.
    open: Vec<usize>,
}

impl Gates {
    fn build(sources: &[SourceMapping]) -> Gates {
        let mut g = Gates::default();
        for (i, s) in sources.iter().enumerate() {
            match gate(&s.when) {
                Some((field, words)) => {
                    let slot = match g.by_field.iter().position(|(f, _)| *f == field) {
                        Some(k) => k,
                        None => {
                            g.by_field.push((field, HashMap::new()));
                            g.by_field.len() - 1
                        }
                    };
                    for w in words {
                        let list = g.by_field[slot].1.entry(w).or_default();
                        if list.last() != Some(&i) {
                            list.push(i);
                        }
                    }
                }
                None => g.open.push(i),
            }
        }
        g
    }

    /// The sources an event may belong to, ascending.
    fn candidates(&self, src: &dyn FieldSource) -> Vec<usize> {
        let mut out = self.open.clone();
        for (field, words) in &self.by_field {
            let Some(v) = src.field(field) else { continue };
            v.any(&mut |x| {
                if let Some(t) = x.as_text() {
                    if let Some(list) = words.get(t.to_ascii_lowercase().as_str()) {
                        out.extend_from_slice(list);
                    }
                    if let Some(n) = x.as_f64()
                        && let Some(list) = words.get(number_word(n).as_str())
                    {
                        out.extend_from_slice(list);
                    }
                }
                false
            });
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The field and words a `when` requires, if it requires one field to equal one of some
/// words (ASCII case aside) or numbers: a single item, the most selective item of a map
/// (fewest words, numbers before names: `winlog.event_id: 1` over the Sysmon channel),
/// or the same field in every branch of a list.
fn gate(when: &Search) -> Option<(String, Vec<String>)> {
    match when {
        Search::Field { fields, test, .. } => {
            let [field] = fields.as_slice() else {
                return None;
            };
            let FieldTest::Values {
                matchers,
                all: false,
                negate: false,
                or_null: false,
            } = test
            else {
                return None;
            };
            let mut words = Vec::new();
            for m in matchers {
                match m {
                    ValueMatcher::Str(StrMatcher::Literal {
                        anchor: Anchor::Exact,
                        needle,
                        cased: false,
                    }) => words.push(needle.to_ascii_lowercase()),
                    ValueMatcher::NumEq { value, .. } => words.push(number_word(*value)),
                    _ => return None,
                }
            }
            Some((field.clone(), words))
        }
        Search::And(items) => items.iter().filter_map(gate).min_by_key(|(_, w)| {
            let numeric = w.iter().all(|x| x.starts_with(NUMBER_MARK));
            (w.len(), !numeric)
        }),
        Search::Or(items) => {
            let mut out: Option<(String, Vec<String>)> = None;
            for item in items {
                let (f, w) = gate(item)?;
                match &mut out {
                    None => out = Some((f, w)),
                    Some((of, ow)) if *of == f => ow.extend(w),
                    Some(_) => return None,
                }
            }
            out
        }
        Search::Keywords(_) => None,
    }
}

/// Marks a gate word that is a number, so `"1"` the name and `1` the number stay apart.
const NUMBER_MARK: char = '#';

/// A number as a gate word: the same for every spelling that parses to it (`4688`,
/// `"4688"`, `4688.0`), as a Sigma number matches them all.
fn number_word(x: f64) -> String {
    format!("{NUMBER_MARK}{x}")
}

impl Mappings {
    /// No log source mapped: every rule is refused with "no mapping".
    pub fn empty() -> Self {
        Self::default()
    }

    /// Reads one mapping text (see the module doc for the format).
    pub fn from_yaml(text: &str) -> Result<Self, MappingError> {
        let mut m = Self::default();
        m.add_yaml(text)?;
        Ok(m)
    }

    /// Adds the mappings of another text; a log source mapped twice is an error. Global
    /// field names of later texts win.
    pub fn add_yaml(&mut self, text: &str) -> Result<(), MappingError> {
        let raw: RawMapping =
            serde_norway::from_str(text).map_err(|e| MappingError::Yaml(e.to_string()))?;
        if raw.version != MAPPING_VERSION {
            return Err(MappingError::Version(raw.version));
        }
        self.fields
            .extend(raw.fields.into_iter().map(|(k, v)| (k, v.into_vec())));
        let ph = Placeholders::new();
        let ctx = ItemContext {
            placeholders: &ph,
            resolve: &|n| vec![n.to_owned()],
        };
        for src in raw.logsources {
            let logsource = src.logsource.normalised();
            if logsource == LogSource::default() {
                return Err(MappingError::EmptyLogSource { logsource });
            }
            if self.find(&logsource).is_some() {
                return Err(MappingError::Duplicate { logsource });
            }
            let when = detection::compile_search("when", &src.when, &ctx).map_err(|source| {
                MappingError::When {
                    logsource: logsource.clone(),
                    source: Box::new(source),
                }
            })?;
            self.sources.push(SourceMapping {
                logsource,
                when,
                fields: src
                    .fields
                    .into_iter()
                    .map(|(k, v)| (k, v.into_vec()))
                    .collect(),
                unmapped: src.unmapped,
            });
        }
        self.gates = Gates::build(&self.sources);
        Ok(())
    }

    /// The mapped log sources, in the order they were read.
    pub fn sources(&self) -> &[SourceMapping] {
        &self.sources
    }

    /// The index of the mapping for a rule's log source.
    pub fn find(&self, logsource: &LogSource) -> Option<usize> {
        let want = logsource.normalised();
        self.sources.iter().position(|s| s.logsource == want)
    }

    /// The event field names a Sigma field name stands for under a log source (or only
    /// the global names when `source` is `None`). See the module doc for the order.
    pub fn resolve(&self, source: Option<usize>, sigma: &str) -> Vec<String> {
        let src = source.and_then(|i| self.sources.get(i));
        if let Some(s) = src {
            if let Some(names) = s.fields.get(sigma) {
                return names.clone();
            }
            if let Some(prefix) = &s.unmapped {
                return vec![format!("{prefix}{sigma}")];
            }
        }
        self.fields
            .get(sigma)
            .cloned()
            .unwrap_or_else(|| vec![sigma.to_owned()])
    }

    /// Which mapped log sources an event belongs to (by index, ascending).
    pub fn select(&self, src: &dyn FieldSource) -> Vec<usize> {
        let mut ctx = EvalCtx::new(src);
        self.select_with(&mut ctx, |_| true)
    }

    /// The sources among `wanted` an event belongs to; `when`s of the others are not
    /// evaluated.
    pub(crate) fn select_with(
        &self,
        ctx: &mut EvalCtx<'_>,
        wanted: impl Fn(usize) -> bool,
    ) -> Vec<usize> {
        let src = ctx.src;
        self.gates
            .candidates(src)
            .into_iter()
            .filter(|i| wanted(*i) && self.sources[*i].selects(ctx))
            .collect()
    }

    /// [`select`](Self::select) checking every `when`, without the gates.
    pub(crate) fn select_all(&self, ctx: &mut EvalCtx<'_>) -> Vec<usize> {
        (0..self.sources.len())
            .filter(|i| self.sources[*i].selects(ctx))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::tests::Src;
    use crate::source::FieldValue;
    use std::borrow::Cow;

    const TEXT: &str = "
version: 1
fields:
  CommandLine: process.command_line
  User: [user.name, user.target.name]
logsources:
  - logsource: { product: linux, service: sshd }
    when:
      event.dataset: sshd
  - logsource: { product: Windows, category: process_creation }
    when:
      - event.dataset: windows.sysmon
        event.code: 1
      - event.dataset: windows.security
        event.code: 4688
    fields:
      User: user.name
";

    #[test]
    fn reads_sources_and_resolves_fields() {
        let m = Mappings::from_yaml(TEXT).unwrap();
        let ssh = m
            .find(&LogSource {
                product: Some("linux".into()),
                service: Some("sshd".into()),
                category: None,
            })
            .unwrap();
        let win = m
            .find(&LogSource {
                product: Some("windows".into()),
                category: Some("process_creation".into()),
                service: None,
            })
            .unwrap();
        assert!(
            m.find(&LogSource {
                product: Some("linux".into()),
                ..Default::default()
            })
            .is_none()
        );
        assert_eq!(
            m.resolve(Some(ssh), "CommandLine"),
            ["process.command_line"]
        );
        assert_eq!(
            m.resolve(Some(ssh), "User"),
            ["user.name", "user.target.name"]
        );
        assert_eq!(m.resolve(Some(win), "User"), ["user.name"]);
        assert_eq!(m.resolve(Some(win), "Image"), ["Image"]);
    }

    #[test]
    fn unmapped_names_take_the_source_prefix() {
        let text = "version: 1\nfields: {Image: process.executable}\nlogsources:\n  - logsource: {product: windows, service: security}\n    when: {winlog.channel: Security}\n    fields: {EventID: winlog.event_id}\n    unmapped: winlog.event_data.\n  - logsource: {product: linux}\n    when: {event.dataset: sshd}\n";
        let m = Mappings::from_yaml(text).unwrap();
        assert_eq!(m.resolve(Some(0), "EventID"), ["winlog.event_id"]);
        assert_eq!(m.resolve(Some(0), "Image"), ["winlog.event_data.Image"]);
        assert_eq!(m.resolve(Some(1), "Image"), ["process.executable"]);
        assert_eq!(m.resolve(Some(1), "pid"), ["pid"]);
    }

    #[test]
    fn when_selects_events() {
        let m = Mappings::from_yaml(TEXT).unwrap();
        let mut s = Src::default();
        s.0.insert(
            "event.dataset",
            FieldValue::Str(Cow::Borrowed("windows.security")),
        );
        s.0.insert("event.code", FieldValue::Int(4688));
        assert_eq!(m.select(&s), vec![1]);
        s.0.insert("event.code", FieldValue::Int(1));
        assert!(m.select(&s).is_empty());
        s.0.insert("event.dataset", FieldValue::Str(Cow::Borrowed("sshd")));
        assert_eq!(m.select(&s), vec![0]);
    }

    #[test]
    fn gates_select_as_the_whens_do() {
        let text = "version: 1\nlogsources:\n  - logsource: {product: windows, category: process_creation}\n    when:\n      - {winlog.channel: Microsoft-Windows-Sysmon/Operational, winlog.event_id: 1}\n      - {winlog.channel: Security, winlog.event_id: 4688}\n  - logsource: {product: windows, service: security}\n    when: {winlog.channel: Security}\n  - logsource: {product: linux}\n    when: {event.dataset: [sshd, SUDO]}\n  - logsource: {product: any}\n    when: {x|exists: true}\n";
        let m = Mappings::from_yaml(text).unwrap();
        // (the event's fields, the sources it must belong to)
        #[allow(clippy::type_complexity)]
        let cases: &[(&[(&str, FieldValue<'static>)], &[usize])] = &[
            (
                &[
                    ("winlog.channel", FieldValue::Str(Cow::Borrowed("security"))),
                    ("winlog.event_id", FieldValue::Int(4688)),
                ],
                &[0, 1],
            ),
            (
                &[
                    ("winlog.channel", FieldValue::Str(Cow::Borrowed("Security"))),
                    ("winlog.event_id", FieldValue::Str(Cow::Borrowed("04688"))),
                ],
                &[0, 1],
            ),
            (
                &[
                    ("winlog.channel", FieldValue::Str(Cow::Borrowed("Security"))),
                    ("winlog.event_id", FieldValue::Int(1)),
                ],
                &[1],
            ),
            (
                &[
                    (
                        "winlog.channel",
                        FieldValue::Str(Cow::Borrowed("Microsoft-Windows-Sysmon/Operational")),
                    ),
                    ("winlog.event_id", FieldValue::Float(1.0)),
                ],
                &[0],
            ),
            (
                &[
                    ("event.dataset", FieldValue::Str(Cow::Borrowed("sudo"))),
                    ("x", FieldValue::Null),
                ],
                &[2, 3],
            ),
            (
                &[(
                    "event.dataset",
                    FieldValue::List(vec![
                        FieldValue::Str(Cow::Borrowed("a")),
                        FieldValue::Str(Cow::Borrowed("sshd")),
                    ]),
                )],
                &[2],
            ),
        ];
        for (fields, want) in cases {
            let mut src = Src::default();
            for (k, v) in *fields {
                src.0.insert(k, v.clone());
            }
            let mut ctx = EvalCtx::new(&src);
            assert_eq!(m.select(&src), m.select_all(&mut ctx), "{fields:?}");
            assert_eq!(m.select(&src), *want, "{fields:?}");
        }
    }

    #[test]
    fn bad_mappings_are_refused() {
        assert!(matches!(
            Mappings::from_yaml("version: 2"),
            Err(MappingError::Version(2))
        ));
        assert!(matches!(
            Mappings::from_yaml("version: 1\nbogus: 1"),
            Err(MappingError::Yaml(_))
        ));
        let dup = "version: 1\nlogsources:\n  - logsource: {product: a}\n    when: {x: 1}\n  - logsource: {product: A}\n    when: {x: 2}";
        assert!(matches!(
            Mappings::from_yaml(dup),
            Err(MappingError::Duplicate { .. })
        ));
        let bad = "version: 1\nlogsources:\n  - logsource: {product: a}\n    when: {x|nope: 1}";
        assert!(matches!(
            Mappings::from_yaml(bad),
            Err(MappingError::When { .. })
        ));
        let empty = "version: 1\nlogsources:\n  - logsource: {}\n    when: {x: 1}";
        assert!(matches!(
            Mappings::from_yaml(empty),
            Err(MappingError::EmptyLogSource { .. })
        ));
    }
}
