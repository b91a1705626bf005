//! Reading rule documents: YAML text (one or several documents, including Sigma 1.0
//! collections with `action: global | reset | repeat`) into the rule's metadata and its
//! still-uncompiled `detection` section.

use gac_event::Severity;
use serde::Deserialize;
use serde_norway::{Mapping, Value as Yaml};

use crate::mapping::LogSource;

/// A rule document whose metadata is wrong, or that is not a detection rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error("document is not a map")]
    NotAMap,
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("{field} must be {expected}")]
    Type {
        field: &'static str,
        expected: &'static str,
    },
    #[error("unknown level {0:?}")]
    Level(String),
    #[error("unknown collection action {0:?} (expected global, reset or repeat)")]
    Action(String),
    #[error("action: repeat without a previous rule")]
    RepeatFirst,
    #[error("Sigma filters are not supported yet")]
    Filter,
}

/// What a rule says about itself: everything but the detection logic.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleMeta {
    pub title: String,
    pub id: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub references: Vec<String>,
    /// `None` when the rule gives no level.
    pub level: Option<Severity>,
    pub tags: Vec<String>,
    pub logsource: LogSource,
    /// Fields worth showing the analyst.
    pub fields: Vec<String>,
    pub falsepositives: Vec<String>,
}

/// One rule document, read but not compiled.
#[derive(Debug, Clone)]
pub(crate) struct RuleDoc {
    pub(crate) meta: RuleMeta,
    pub(crate) body: Body,
}

/// What a document defines besides its metadata.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// A detection rule's `detection` section.
    Detection(Yaml),
    /// A correlation rule's `correlation` section and its top-level `generate` flag.
    Correlation { section: Yaml, generate: bool },
}

/// One document of a text: a rule, a collection control document (`action: global`,
/// `Ok(None)`), or the reason it was refused with the title when one could be read.
pub(crate) type DocResult = Result<Option<RuleDoc>, (Option<String>, RuleError)>;

/// The documents of one text, each read or refused.
pub(crate) fn read_documents(text: &str) -> Vec<DocResult> {
    let mut out = Vec::new();
    let mut global: Option<Mapping> = None;
    let mut previous: Option<Mapping> = None;
    for doc in serde_norway::Deserializer::from_str(text) {
        let value = match Yaml::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                // The parser cannot resynchronise after a syntax error.
                out.push(Err((None, RuleError::Yaml(e.to_string()))));
                break;
            }
        };
        let map = match value {
            // An empty document (a trailing `---`) holds nothing.
            Yaml::Null => continue,
            Yaml::Mapping(m) => m,
            _ => {
                out.push(Err((None, RuleError::NotAMap)));
                continue;
            }
        };
        let action = map
            .get("action")
            .map(|a| a.as_str().unwrap_or_default().to_owned());
        let mut body = map;
        body.remove("action");
        let merged = match action.as_deref() {
            None => match &global {
                Some(g) => merge(g.clone(), body),
                None => body,
            },
            Some("global") => {
                global = Some(body);
                out.push(Ok(None));
                continue;
            }
            Some("reset") => {
                global = None;
                out.push(Ok(None));
                continue;
            }
            Some("repeat") => match &previous {
                Some(p) => merge(p.clone(), body),
                None => {
                    out.push(Err((None, RuleError::RepeatFirst)));
                    continue;
                }
            },
            Some(other) => {
                out.push(Err((None, RuleError::Action(other.to_owned()))));
                continue;
            }
        };
        previous = Some(merged.clone());
        let title = merged
            .get("title")
            .and_then(Yaml::as_str)
            .map(str::to_owned);
        out.push(read_rule(merged).map(Some).map_err(|e| (title, e)));
    }
    out
}

/// Deep merge: maps combine key by key, anything else in `over` replaces `base`.
fn merge(mut base: Mapping, over: Mapping) -> Mapping {
    for (k, v) in over {
        let merged = match (base.remove(&k), v) {
            (Some(Yaml::Mapping(b)), Yaml::Mapping(o)) => Yaml::Mapping(merge(b, o)),
            (_, v) => v,
        };
        base.insert(k, merged);
    }
    base
}

fn read_rule(map: Mapping) -> Result<RuleDoc, RuleError> {
    if map.contains_key("filter") && !map.contains_key("detection") {
        return Err(RuleError::Filter);
    }
    let title = opt_string(&map, "title")?.ok_or(RuleError::Missing("title"))?;
    let correlation = map.get("correlation").cloned();
    let logsource = match map.get("logsource") {
        // A correlation selects rules, not events.
        None if correlation.is_some() => LogSource::default(),
        None => return Err(RuleError::Missing("logsource")),
        Some(Yaml::Mapping(ls)) => LogSource {
            product: opt_string(ls, "product")?,
            category: opt_string(ls, "category")?,
            service: opt_string(ls, "service")?,
        },
        Some(_) => {
            return Err(RuleError::Type {
                field: "logsource",
                expected: "a map",
            });
        }
    };
    let body = match correlation {
        Some(section) => Body::Correlation {
            section,
            generate: match map.get("generate") {
                None | Some(Yaml::Null) => false,
                Some(Yaml::Bool(b)) => *b,
                Some(_) => {
                    return Err(RuleError::Type {
                        field: "generate",
                        expected: "true or false",
                    });
                }
            },
        },
        None => Body::Detection(
            map.get("detection")
                .cloned()
                .ok_or(RuleError::Missing("detection"))?,
        ),
    };
    let level = match opt_string(&map, "level")? {
        None => None,
        Some(l) => Some(l.parse::<Severity>().map_err(|_| RuleError::Level(l))?),
    };
    Ok(RuleDoc {
        meta: RuleMeta {
            title,
            id: opt_string(&map, "id")?,
            name: opt_string(&map, "name")?,
            status: opt_string(&map, "status")?,
            description: opt_string(&map, "description")?,
            author: opt_string(&map, "author")?,
            references: strings(&map, "references")?,
            level,
            tags: strings(&map, "tags")?,
            logsource,
            fields: strings(&map, "fields")?,
            falsepositives: strings(&map, "falsepositives")?,
        },
        body,
    })
}

fn text_of(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn opt_string(map: &Mapping, key: &'static str) -> Result<Option<String>, RuleError> {
    match map.get(key) {
        None | Some(Yaml::Null) => Ok(None),
        Some(v) => text_of(v).map(Some).ok_or(RuleError::Type {
            field: key,
            expected: "a string",
        }),
    }
}

/// A list of strings; a single string is read as a list of one.
fn strings(map: &Mapping, key: &'static str) -> Result<Vec<String>, RuleError> {
    let bad = RuleError::Type {
        field: key,
        expected: "a list of strings",
    };
    match map.get(key) {
        None | Some(Yaml::Null) => Ok(Vec::new()),
        Some(Yaml::Sequence(items)) => items
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| text_of(v).ok_or(bad.clone()))
            .collect(),
        Some(v) => text_of(v).map(|s| vec![s]).ok_or(bad),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "
title: Whoami Execution
id: 1234
status: test
level: high
tags: [attack.discovery, attack.t1033]
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image: 'C:\\Windows\\System32\\whoami.exe'
    condition: selection
falsepositives: Admin activity
";

    #[test]
    fn reads_metadata() {
        let docs = read_documents(RULE);
        assert_eq!(docs.len(), 1);
        let doc = docs[0].clone().unwrap().unwrap();
        assert_eq!(doc.meta.title, "Whoami Execution");
        assert_eq!(doc.meta.id.as_deref(), Some("1234"));
        assert_eq!(doc.meta.level, Some(Severity::High));
        assert_eq!(doc.meta.tags, ["attack.discovery", "attack.t1033"]);
        assert_eq!(doc.meta.falsepositives, ["Admin activity"]);
        assert_eq!(doc.meta.logsource.product.as_deref(), Some("windows"));
    }

    #[test]
    fn collections_merge_global_and_repeat() {
        let text = "
action: global
title: Base
logsource: {product: windows}
detection:
    condition: selection
level: low
---
logsource: {category: process_creation}
detection:
    selection: {Image: a}
---
action: repeat
title: Repeated
detection:
    selection: {Image: b}
---
action: reset
---
title: Alone
logsource: {product: linux}
detection: {sel: {a: b}, condition: sel}
";
        let docs: Vec<_> = read_documents(text);
        assert_eq!(docs.len(), 5);
        assert!(docs[0].clone().unwrap().is_none());
        let first = docs[1].clone().unwrap().unwrap();
        assert_eq!(first.meta.title, "Base");
        assert_eq!(first.meta.logsource.product.as_deref(), Some("windows"));
        assert_eq!(
            first.meta.logsource.category.as_deref(),
            Some("process_creation")
        );
        let Body::Detection(det) = &first.body else {
            panic!("a detection rule")
        };
        assert_eq!(det["condition"], Yaml::from("selection"));
        let second = docs[2].clone().unwrap().unwrap();
        assert_eq!(second.meta.title, "Repeated");
        let Body::Detection(det) = &second.body else {
            panic!("a detection rule")
        };
        assert_eq!(det["selection"]["Image"], Yaml::from("b"));
        assert_eq!(second.meta.level, Some(Severity::Low));
        let alone = docs[4].clone().unwrap().unwrap();
        assert_eq!(alone.meta.level, None);
    }

    #[test]
    fn correlations_need_no_log_source() {
        let text =
            "title: C\ngenerate: true\ncorrelation: {type: temporal, rules: [a], timespan: 1m}";
        let doc = read_documents(text)[0].clone().unwrap().unwrap();
        assert!(matches!(doc.body, Body::Correlation { generate: true, .. }));
        let err = read_documents("title: C\ngenerate: maybe\ncorrelation: {}")[0]
            .clone()
            .unwrap_err()
            .1;
        assert!(matches!(
            err,
            RuleError::Type {
                field: "generate",
                ..
            }
        ));
    }

    #[test]
    fn refusals_say_why() {
        let err = |t: &str| read_documents(t)[0].clone().unwrap_err().1;
        assert_eq!(
            err("logsource: {}\ndetection: {}"),
            RuleError::Missing("title")
        );
        assert_eq!(
            err("title: x\ndetection: {}"),
            RuleError::Missing("logsource")
        );
        assert_eq!(
            err("title: x\nlogsource: {}"),
            RuleError::Missing("detection")
        );
        assert_eq!(
            err("title: x\nlevel: severe\nlogsource: {}\ndetection: {}"),
            RuleError::Level("severe".into())
        );
        assert_eq!(
            err("title: x\nfilter: {rules: [a]}\nlogsource: {}"),
            RuleError::Filter
        );
        assert!(matches!(err("title: [unclosed"), RuleError::Yaml(_)));
        assert_eq!(err("- a list"), RuleError::NotAMap);
        assert_eq!(
            err("action: bogus\ntitle: x"),
            RuleError::Action("bogus".into())
        );
    }
}
