//! The `detection` section: search identifiers (maps are AND, lists are OR, bare values
//! are keywords) compiled to [`Search`] trees, plus the condition over them.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_norway::Value as Yaml;

use crate::condition::{self, Cond, ConditionError};
use crate::matcher::{
    self, FieldTest, ItemContext, KeywordTest, MatcherError, Scalar, ValueMatcher,
};
use crate::modifier::{self, Placeholders};
use crate::source::{FieldSource, FieldValue};

/// A detection section that does not compile.
#[derive(Debug, thiserror::Error)]
pub enum DetectionError {
    #[error("detection is not a map")]
    NotAMap,
    #[error("detection has no condition")]
    NoCondition,
    #[error("condition must be a string or a list of strings")]
    ConditionType,
    #[error("search identifier {0:?} is not a string")]
    IdentifierName(String),
    #[error("search identifier {identifier:?}: {reason}")]
    Shape {
        identifier: String,
        reason: &'static str,
    },
    #[error("search identifier {identifier:?}, item {key:?}: {source}")]
    Item {
        identifier: String,
        key: String,
        #[source]
        source: Box<MatcherError>,
    },
    #[error(transparent)]
    Condition(#[from] ConditionError),
}

/// A compiled search identifier or part of one.
#[derive(Debug, Clone)]
pub(crate) enum Search {
    And(Vec<Search>),
    Or(Vec<Search>),
    Field {
        /// The field as the rule names it, for the alert.
        sigma: String,
        /// The event fields it maps to; any of them may match.
        fields: Vec<String>,
        /// Their ids (see [`field_id`]), for the per-event cache of looked-up values.
        ids: Vec<u32>,
        test: FieldTest,
    },
    Keywords(KeywordTest),
}

/// A number for every field name the engine has compiled, the same for equal names in
/// every rule, mapping and rule set of the process: so that an event's field values can
/// be cached per event by number rather than looked up by name again for each of the
/// hundreds of rules that name the same field. Names are few (thousands at most).
pub(crate) fn field_id(name: &str) -> u32 {
    static IDS: OnceLock<Mutex<HashMap<String, u32>>> = OnceLock::new();
    let mut ids = IDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(id) = ids.get(name) {
        return *id;
    }
    let id = u32::try_from(ids.len()).unwrap_or(u32::MAX);
    ids.insert(name.to_owned(), id);
    id
}

/// Hashes a field id as itself: ids are small distinct integers.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u32(&mut self, n: u32) {
        // Spread the bits so the table's low bits differ for nearby ids.
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Per-event evaluation state shared by the searches of every rule.
pub(crate) struct EvalCtx<'s> {
    pub(crate) src: &'s dyn FieldSource,
    haystacks: Option<Vec<&'s str>>,
    /// Field values looked up so far for this event, by field id.
    values: HashMap<u32, Option<FieldValue<'s>>, BuildHasherDefault<IdHasher>>,
    /// Their texts in ASCII lower case, made when a case-folding test first asks.
    lower: HashMap<u32, Option<String>, BuildHasherDefault<IdHasher>>,
    lower_haystacks: Option<Vec<String>>,
}

impl<'s> EvalCtx<'s> {
    pub(crate) fn new(src: &'s dyn FieldSource) -> Self {
        Self {
            src,
            haystacks: None,
            values: HashMap::default(),
            lower: HashMap::default(),
            lower_haystacks: None,
        }
    }

    /// The text of a field's (single, non-null) value in ASCII lower case, once per event.
    fn lower(&mut self, id: u32, value: Option<&FieldValue<'_>>) -> Option<&str> {
        self.lower
            .entry(id)
            .or_insert_with(|| match value {
                None | Some(FieldValue::Null | FieldValue::List(_)) => None,
                Some(v) => v.as_text().map(|t| t.to_ascii_lowercase()),
            })
            .as_deref()
    }

    /// The keyword haystacks and their lowercased forms.
    fn haystacks_folded(&mut self) -> (&[&'s str], &[String]) {
        let src = self.src;
        let hay = self
            .haystacks
            .get_or_insert_with(|| src.keyword_haystacks());
        let lower = self
            .lower_haystacks
            .get_or_insert_with(|| hay.iter().map(|h| h.to_ascii_lowercase()).collect());
        (hay, lower)
    }

    /// The value of a field, looked up once per event.
    pub(crate) fn value(&mut self, id: u32, name: &str) -> Option<FieldValue<'s>> {
        let src = self.src;
        self.values
            .entry(id)
            .or_insert_with(|| src.field(name))
            .clone()
    }

    /// Computed once per event, and only when a keyword search runs.
    pub(crate) fn haystacks(&mut self) -> &[&'s str] {
        let src = self.src;
        self.haystacks
            .get_or_insert_with(|| src.keyword_haystacks())
    }
}

impl Search {
    pub(crate) fn eval(&self, ctx: &mut EvalCtx<'_>) -> bool {
        match self {
            Search::And(items) => items.iter().all(|s| s.eval(ctx)),
            Search::Or(items) => items.iter().any(|s| s.eval(ctx)),
            Search::Field {
                fields, ids, test, ..
            } => {
                let src = ctx.src;
                let fold = test.wants_folded();
                let mut one = |(id, f): (&u32, &String)| {
                    let v = ctx.value(*id, f);
                    let lower = if fold {
                        ctx.lower(*id, v.as_ref())
                    } else {
                        None
                    };
                    test.eval_value(v.as_ref(), lower, src)
                };
                match test {
                    // Absence must hold for every name the field maps to.
                    FieldTest::Null | FieldTest::Exists(false) => {
                        ids.iter().zip(fields).all(&mut one)
                    }
                    _ => ids.iter().zip(fields).any(&mut one),
                }
            }
            Search::Keywords(k) => {
                let src = ctx.src;
                let (hay, lower) = ctx.haystacks_folded();
                k.eval(hay, Some(lower), src)
            }
        }
    }

    /// Adds the fields that made this (true) search true: every item of a map, the first
    /// true branch of a list.
    pub(crate) fn explain(&self, ctx: &mut EvalCtx<'_>, out: &mut Vec<MatchedField>) {
        match self {
            Search::And(items) => items.iter().for_each(|s| s.explain(ctx, out)),
            Search::Or(items) => {
                if let Some(s) = items.iter().find(|s| s.eval(ctx)) {
                    s.explain(ctx, out);
                }
            }
            Search::Field {
                sigma,
                fields,
                test,
                ..
            } => {
                let field = fields
                    .iter()
                    .find(|f| test.eval(ctx.src, f))
                    .or(fields.first())
                    .cloned()
                    .unwrap_or_default();
                push_unique(
                    out,
                    MatchedField {
                        sigma: sigma.clone(),
                        field,
                    },
                );
            }
            Search::Keywords(_) => push_unique(
                out,
                MatchedField {
                    sigma: String::new(),
                    field: gac_event::field::MESSAGE.to_owned(),
                },
            ),
        }
    }
}

fn push_unique(out: &mut Vec<MatchedField>, f: MatchedField) {
    if !out.contains(&f) {
        out.push(f);
    }
}

/// A field that took part in a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedField {
    /// The name in the rule (empty for a keyword search).
    pub sigma: String,
    /// The event field it was looked up as.
    pub field: String,
}

/// A compiled detection section.
#[derive(Debug, Clone)]
pub(crate) struct Detection {
    pub(crate) names: Vec<String>,
    pub(crate) searches: Vec<Search>,
    pub(crate) condition: Cond,
}

impl Detection {
    pub(crate) fn eval(&self, ctx: &mut EvalCtx<'_>) -> bool {
        self.condition.eval(&mut |i| self.searches[i].eval(ctx))
    }
}

/// Compiles a whole `detection` map.
pub(crate) fn compile(
    yaml: &Yaml,
    placeholders: &Placeholders,
    resolve: &dyn Fn(&str) -> Vec<String>,
) -> Result<Detection, DetectionError> {
    let map = yaml.as_mapping().ok_or(DetectionError::NotAMap)?;
    let ctx = ItemContext {
        placeholders,
        resolve,
    };
    let mut names = Vec::new();
    let mut searches = Vec::new();
    let mut conditions = None;
    for (k, v) in map {
        let name = k
            .as_str()
            .ok_or_else(|| DetectionError::IdentifierName(format!("{k:?}")))?;
        match name {
            "condition" => {
                conditions = Some(match v {
                    Yaml::String(s) => vec![s.clone()],
                    Yaml::Sequence(items) => items
                        .iter()
                        .map(|c| c.as_str().map(str::to_owned))
                        .collect::<Option<Vec<_>>>()
                        .ok_or(DetectionError::ConditionType)?,
                    _ => return Err(DetectionError::ConditionType),
                });
            }
            // Sigma 1.0 aggregation window; without an aggregation in the condition
            // (which is refused there) it has no effect.
            "timeframe" => {}
            _ => {
                searches.push(compile_search(name, v, &ctx)?);
                names.push(name.to_owned());
            }
        }
    }
    let conditions = conditions.ok_or(DetectionError::NoCondition)?;
    let mut parsed = conditions
        .iter()
        .map(|c| condition::parse(c, &names))
        .collect::<Result<Vec<_>, _>>()?;
    let mut condition = match parsed.len() {
        0 => return Err(DetectionError::ConditionType),
        1 => parsed.remove(0),
        _ => Cond::Or(parsed),
    };
    // Cheap tests first wherever all must hold (or any may): the answer is the same, and
    // an `Image|endswith` that fails spares the `CommandLine|contains` scan after it.
    let costs: Vec<u32> = searches.iter_mut().map(order_by_cost).collect();
    order_cond(&mut condition, &costs);
    Ok(Detection {
        names,
        searches,
        condition,
    })
}

/// Sorts the branches of every AND and OR in a search by estimated cost, cheapest first,
/// and returns the search's cost: a rough count of the work of one evaluation.
fn order_by_cost(s: &mut Search) -> u32 {
    match s {
        Search::And(items) | Search::Or(items) => {
            let mut costed: Vec<(u32, Search)> = std::mem::take(items)
                .into_iter()
                .map(|mut i| (order_by_cost(&mut i), i))
                .collect();
            costed.sort_by_key(|(c, _)| *c);
            let total = costed.iter().map(|(c, _)| *c).fold(0, u32::saturating_add);
            *items = costed.into_iter().map(|(_, i)| i).collect();
            total
        }
        Search::Field { fields, test, .. } => {
            let one = match test {
                FieldTest::Exists(_) | FieldTest::Null => 1,
                FieldTest::Values { matchers, .. } => matchers
                    .iter()
                    .map(ValueMatcher::cost)
                    .fold(0, u32::saturating_add),
            };
            one.saturating_mul(u32::try_from(fields.len()).unwrap_or(u32::MAX))
        }
        // Every string of the event may be searched.
        Search::Keywords(_) => 200,
    }
}

/// Added to the cost of a negation when ordering, to put it after positive selections.
const NEGATION_PENALTY: u32 = 10_000;

/// The same for a condition over searches of known cost; returns the condition's cost.
fn order_cond(c: &mut Cond, costs: &[u32]) -> u32 {
    match c {
        Cond::Ident(i) => costs.get(*i).copied().unwrap_or(0),
        // A negated filter is usually true (the filter rarely matches), so it rarely
        // decides an AND: it goes last.
        Cond::Not(inner) => order_cond(inner, costs).saturating_add(NEGATION_PENALTY),
        Cond::And(items) | Cond::Or(items) => {
            let mut costed: Vec<(u32, Cond)> = std::mem::take(items)
                .into_iter()
                .map(|mut i| (order_cond(&mut i, costs), i))
                .collect();
            costed.sort_by_key(|(c, _)| *c);
            let total = costed.iter().map(|(c, _)| *c).fold(0, u32::saturating_add);
            *items = costed.into_iter().map(|(_, i)| i).collect();
            total
        }
        Cond::AtLeast(_, ids) => {
            ids.sort_by_key(|i| costs.get(*i).copied().unwrap_or(0));
            ids.iter()
                .map(|i| costs.get(*i).copied().unwrap_or(0))
                .fold(0, u32::saturating_add)
        }
    }
}

/// Compiles one search identifier's value.
pub(crate) fn compile_search(
    identifier: &str,
    v: &Yaml,
    ctx: &ItemContext<'_>,
) -> Result<Search, DetectionError> {
    let shape = |reason| DetectionError::Shape {
        identifier: identifier.to_owned(),
        reason,
    };
    match v {
        Yaml::Mapping(map) => {
            let mut items = Vec::with_capacity(map.len());
            for (k, val) in map {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Number(n) => n.to_string(),
                    _ => return Err(shape("a map key is not a field name")),
                };
                items.push(compile_item(identifier, &key, val, ctx)?);
            }
            if items.is_empty() {
                return Err(shape("empty map"));
            }
            Ok(if items.len() == 1 {
                items.remove(0)
            } else {
                Search::And(items)
            })
        }
        Yaml::Sequence(seq) => {
            if seq.is_empty() {
                return Err(shape("empty list"));
            }
            let mut branches = Vec::new();
            let mut keywords = Vec::new();
            for item in seq {
                match item {
                    Yaml::Mapping(_) => branches.push(compile_search(identifier, item, ctx)?),
                    Yaml::Sequence(_) => return Err(shape("a list inside a list")),
                    other => keywords
                        .push(scalar(other).ok_or_else(|| shape("a list item is not a value"))?),
                }
            }
            if !keywords.is_empty() {
                let test = matcher::compile_keywords(&[], &keywords, ctx).map_err(|source| {
                    DetectionError::Item {
                        identifier: identifier.to_owned(),
                        key: String::new(),
                        source: Box::new(source),
                    }
                })?;
                branches.push(Search::Keywords(test));
            }
            Ok(if branches.len() == 1 {
                branches.remove(0)
            } else {
                Search::Or(branches)
            })
        }
        Yaml::Null => Err(shape("no value")),
        other => {
            let value = scalar(other).ok_or_else(|| shape("not a map, list or value"))?;
            matcher::compile_keywords(&[], &[value], ctx)
                .map(Search::Keywords)
                .map_err(|source| DetectionError::Item {
                    identifier: identifier.to_owned(),
                    key: String::new(),
                    source: Box::new(source),
                })
        }
    }
}

fn compile_item(
    identifier: &str,
    key: &str,
    val: &Yaml,
    ctx: &ItemContext<'_>,
) -> Result<Search, DetectionError> {
    let err = |source: MatcherError| DetectionError::Item {
        identifier: identifier.to_owned(),
        key: key.to_owned(),
        source: Box::new(source),
    };
    let (field, mods) = modifier::parse_key(key).map_err(|e| err(e.into()))?;
    let values = match val {
        Yaml::Sequence(items) => items
            .iter()
            .map(scalar)
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| err(MatcherError::NestedValue))?,
        other => vec![scalar(other).ok_or_else(|| err(MatcherError::NestedValue))?],
    };
    if field.is_empty() {
        return matcher::compile_keywords(&mods, &values, ctx)
            .map(Search::Keywords)
            .map_err(err);
    }
    let test = matcher::compile_field(&mods, &values, ctx).map_err(err)?;
    let fields = (ctx.resolve)(field);
    Ok(Search::Field {
        sigma: field.to_owned(),
        ids: fields.iter().map(|f| field_id(f)).collect(),
        fields,
        test,
    })
}

/// A YAML scalar as a Sigma value; `None` for lists and maps.
pub(crate) fn scalar(v: &Yaml) -> Option<Scalar> {
    match v {
        Yaml::Null => Some(Scalar::Null),
        Yaml::Bool(b) => Some(Scalar::Bool(*b)),
        Yaml::Number(n) => Some(match n.as_i64() {
            Some(i) => Scalar::Int(i),
            None => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Yaml::String(s) => Some(Scalar::Str(s.clone())),
        Yaml::Tagged(t) => scalar(&t.value),
        Yaml::Sequence(_) | Yaml::Mapping(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::tests::Src;
    use crate::source::FieldValue;
    use std::borrow::Cow;

    fn det(yaml: &str) -> Detection {
        let v: Yaml = serde_norway::from_str(yaml).unwrap();
        compile(&v, &Placeholders::new(), &|n| vec![n.to_owned()]).unwrap()
    }

    fn src(fields: &[(&'static str, &'static str)], message: &'static str) -> Src {
        let mut s = Src::default();
        for (k, v) in fields {
            s.0.insert(*k, FieldValue::Str(Cow::Borrowed(*v)));
        }
        s.1.push(message);
        s
    }

    fn hit(d: &Detection, s: &Src) -> bool {
        d.eval(&mut EvalCtx::new(s))
    }

    #[test]
    fn maps_are_and_lists_of_maps_are_or() {
        let d = det(
            "sel:\n  A: x\n  B: [y, z]\nalt:\n  - C: 1\n  - D|contains: q\ncondition: sel or alt",
        );
        assert!(hit(&d, &src(&[("A", "x"), ("B", "z")], "")));
        assert!(!hit(&d, &src(&[("A", "x"), ("B", "w")], "")));
        assert!(hit(&d, &src(&[("D", "aqa")], "")));
        assert!(hit(&d, &src(&[("C", "1")], "")));
        assert!(!hit(&d, &src(&[("C", "2")], "")));
    }

    #[test]
    fn keyword_lists_search_the_message() {
        let d = det("keywords:\n  - 'event::clear'\n  - 'event::drop'\ncondition: keywords");
        assert!(hit(&d, &src(&[], "mimikatz event::drop x")));
        assert!(!hit(&d, &src(&[], "event::list")));
        let d = det("kw:\n  '|all':\n    - Oab\n    - Url\ncondition: kw");
        assert!(hit(&d, &src(&[], "Oab Url")));
        assert!(!hit(&d, &src(&[], "Oab")));
    }

    #[test]
    fn condition_lists_are_or() {
        let d = det("a:\n  A: 1\nb:\n  B: 1\ncondition:\n  - a\n  - b");
        assert!(hit(&d, &src(&[("B", "1")], "")));
        assert!(!hit(&d, &src(&[("C", "1")], "")));
    }

    #[test]
    fn filters_with_null_and_empty() {
        let d = det(
            "selection:\n  EventID: 4738\nfilter:\n  PasswordLastSet: null\ncondition: selection and not filter",
        );
        assert!(hit(
            &d,
            &src(&[("EventID", "4738"), ("PasswordLastSet", "x")], "")
        ));
        assert!(!hit(&d, &src(&[("EventID", "4738")], "")));
        let d = det("m:\n  A: s\ne1:\n  B: ''\ne2:\n  B: null\ncondition: m and 1 of e*");
        assert!(hit(&d, &src(&[("A", "s"), ("B", "")], "")));
        assert!(hit(&d, &src(&[("A", "s")], "")));
        assert!(!hit(&d, &src(&[("A", "s"), ("B", "v")], "")));
    }

    #[test]
    fn explain_names_matching_fields() {
        let d =
            det("sel:\n  A: x\n  B|contains: y\nalt:\n  - C: 1\n  - D: 2\ncondition: sel and alt");
        let s = src(&[("A", "x"), ("B", "yy"), ("D", "2")], "");
        let mut ctx = EvalCtx::new(&s);
        assert!(d.eval(&mut ctx));
        let mut out = Vec::new();
        for sr in &d.searches {
            sr.explain(&mut ctx, &mut out);
        }
        let names: Vec<_> = out.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["A", "B", "D"]);
    }

    #[test]
    fn shape_errors_are_reported() {
        let err = |yaml: &str| {
            let v: Yaml = serde_norway::from_str(yaml).unwrap();
            compile(&v, &Placeholders::new(), &|n| vec![n.to_owned()])
                .unwrap_err()
                .to_string()
        };
        assert!(err("sel:\n  A: x").contains("no condition"));
        assert!(err("sel:\n  A|nope: x\ncondition: sel").contains("unsupported modifier \"nope\""));
        assert!(err("sel:\n  A:\n    B: x\ncondition: sel").contains("nested"));
        assert!(
            err("sel:\n  A: x\ncondition: sel and other").contains("unknown search identifier")
        );
        assert!(err("sel: []\ncondition: sel").contains("empty list"));
    }
}
