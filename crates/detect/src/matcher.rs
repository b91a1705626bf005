//! One compiled detection item: a field (or the keyword haystacks) with its modifier chain
//! and values, turned into a [`FieldTest`] or [`KeywordTest`] that answers per event.
//!
//! All choices that depend on the rule (which modifier, which comparison, which pattern
//! shape) are made here at compile time; evaluation only dispatches on the result.

use std::borrow::Cow;
use std::net::IpAddr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Timelike};
use ipnet::IpNet;
use regex::{Regex, RegexBuilder};

use crate::modifier::{self, Modifier, ModifierError, Placeholders};
use crate::pattern::{PatternError, SigmaString, StrMatcher};
use crate::source::{FieldSource, FieldValue};

/// A detection item could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    #[error(transparent)]
    Modifier(#[from] ModifierError),
    #[error(transparent)]
    Pattern(#[from] PatternError),
    #[error("regular expression {pattern:?} does not compile: {reason}")]
    Regex { pattern: String, reason: String },
    #[error("{0:?} is not a CIDR network or IP address")]
    Cidr(String),
    #[error("empty list of values")]
    NoValues,
    #[error("null cannot be combined with modifiers")]
    NullWithModifiers,
    #[error("a nested list or map is not a value")]
    NestedValue,
}

/// A value as written in a rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Scalar {
    fn text(&self) -> Option<String> {
        match self {
            Scalar::Null => None,
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Int(i) => Some(i.to_string()),
            Scalar::Float(x) => Some(x.to_string()),
            Scalar::Str(s) => Some(s.clone()),
        }
    }

    fn number(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(x) => Some(*x),
            Scalar::Str(s) => s.trim().parse().ok(),
            Scalar::Null | Scalar::Bool(_) => None,
        }
    }
}

/// A numeric comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Cmp {
    fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Cmp::Eq => left == right,
            Cmp::Gt => left > right,
            Cmp::Gte => left >= right,
            Cmp::Lt => left < right,
            Cmp::Lte => left <= right,
        }
    }
}

/// Which part of a date the time modifiers compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimePart {
    fn of(self, text: &str) -> Option<f64> {
        let t: NaiveDateTime = DateTime::parse_from_rfc3339(text.trim())
            .map(|d| d.naive_utc())
            .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S%.f"))
            .or_else(|_| NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S%.f"))
            .or_else(|_| {
                NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map(|d| d.and_time(chrono::NaiveTime::MIN))
            })
            .ok()?;
        let n = match self {
            TimePart::Minute => t.minute(),
            TimePart::Hour => t.hour(),
            TimePart::Day => t.day(),
            TimePart::Week => t.iso_week().week(),
            TimePart::Month => t.month(),
            TimePart::Year => return Some(f64::from(t.year())),
        };
        Some(f64::from(n))
    }
}

/// Where a referenced field's value must sit (`fieldref` with `startswith` etc.).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefAnchor {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

/// One compiled value test on a single (non-list) field value.
#[derive(Debug, Clone)]
pub(crate) enum ValueMatcher {
    Str(StrMatcher),
    /// A number written as a number: equal as numbers, or as text when the field is text
    /// that is not a number.
    NumEq {
        value: f64,
        text: String,
    },
    Bool(bool),
    Compare {
        cmp: Cmp,
        value: f64,
        part: Option<TimePart>,
    },
    Cidr(IpNet),
    Regex(Regex),
    FieldRef {
        fields: Vec<String>,
        anchor: RefAnchor,
        cased: bool,
    },
}

impl ValueMatcher {
    /// A rough cost of one test, for ordering: comparisons are cheap, scans are not.
    pub(crate) fn cost(&self) -> u32 {
        match self {
            ValueMatcher::Str(StrMatcher::Any) => 1,
            ValueMatcher::Str(StrMatcher::Literal { anchor, .. }) => match anchor {
                crate::pattern::Anchor::Contains => 10,
                _ => 2,
            },
            ValueMatcher::Str(StrMatcher::ContainsAny { .. }) => 10,
            ValueMatcher::Str(StrMatcher::Regex(_)) | ValueMatcher::Regex(_) => 30,
            ValueMatcher::NumEq { .. } | ValueMatcher::Bool(_) => 2,
            ValueMatcher::Compare { part: None, .. } => 2,
            ValueMatcher::Compare { part: Some(_), .. } => 20,
            ValueMatcher::Cidr(_) => 5,
            ValueMatcher::FieldRef { .. } => 10,
        }
    }

    fn matches(
        &self,
        v: &FieldValue<'_>,
        text: Option<&str>,
        lower: Option<&str>,
        src: &dyn FieldSource,
    ) -> bool {
        match self {
            ValueMatcher::Str(m) => text.is_some_and(|t| match lower {
                Some(l) => m.is_match_folded(t, l),
                None => m.is_match(t),
            }),
            ValueMatcher::NumEq { value, text: want } => match v {
                FieldValue::Int(i) => *i as f64 == *value,
                FieldValue::Float(x) => x == value,
                FieldValue::Str(s) => match s.trim().parse::<f64>() {
                    Ok(x) => x == *value,
                    Err(_) => s.eq_ignore_ascii_case(want),
                },
                _ => false,
            },
            ValueMatcher::Bool(b) => match v {
                FieldValue::Bool(x) => x == b,
                FieldValue::Str(s) => s.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
                _ => false,
            },
            ValueMatcher::Compare { cmp, value, part } => {
                let left = match part {
                    Some(p) => text.and_then(|t| p.of(t)),
                    None => v.as_f64(),
                };
                left.is_some_and(|l| cmp.holds(l, *value))
            }
            ValueMatcher::Cidr(net) => text
                .and_then(|t| t.trim().parse::<IpAddr>().ok())
                .is_some_and(|ip| net.contains(&ip)),
            ValueMatcher::Regex(re) => text.is_some_and(|t| re.is_match(t)),
            ValueMatcher::FieldRef {
                fields,
                anchor,
                cased,
            } => {
                let Some(mine) = text else { return false };
                fields.iter().any(|f| {
                    src.field(f).is_some_and(|other| {
                        other.any(&mut |o| {
                            o.as_text()
                                .is_some_and(|theirs| ref_holds(mine, &theirs, *anchor, *cased))
                        })
                    })
                })
            }
        }
    }
}

fn ref_holds(mine: &str, theirs: &str, anchor: RefAnchor, cased: bool) -> bool {
    let (mine, theirs): (Cow<'_, str>, Cow<'_, str>) = if cased {
        (Cow::Borrowed(mine), Cow::Borrowed(theirs))
    } else {
        (
            Cow::Owned(mine.to_lowercase()),
            Cow::Owned(theirs.to_lowercase()),
        )
    };
    match anchor {
        RefAnchor::Exact => mine == theirs,
        RefAnchor::Prefix => mine.starts_with(theirs.as_ref()),
        RefAnchor::Suffix => mine.ends_with(theirs.as_ref()),
        RefAnchor::Contains => mine.contains(theirs.as_ref()),
    }
}

/// The compiled test of one `field|modifiers: values` item.
#[derive(Debug, Clone)]
pub(crate) enum FieldTest {
    /// `exists: true|false`.
    Exists(bool),
    /// `null`: the field is missing or null.
    Null,
    Values {
        matchers: Vec<ValueMatcher>,
        /// `all`: every matcher must hold; otherwise any.
        all: bool,
        /// `neq`: the field differs from every value (a missing field differs).
        negate: bool,
        /// A `null` among the values: missing or null also matches.
        or_null: bool,
    },
}

impl FieldTest {
    /// Evaluates against one field of the source.
    pub(crate) fn eval(&self, src: &dyn FieldSource, name: &str) -> bool {
        self.eval_value(src.field(name).as_ref(), None, src)
    }

    /// Whether evaluation is quicker given the value's text in lower case.
    pub(crate) fn wants_folded(&self) -> bool {
        match self {
            FieldTest::Values { matchers, .. } => matchers
                .iter()
                .any(|m| matches!(m, ValueMatcher::Str(s) if s.wants_folded())),
            _ => false,
        }
    }

    /// Evaluates against a value already looked up (`None`: the field is missing), with
    /// its text in ASCII lower case when the caller has it (not for lists).
    pub(crate) fn eval_value(
        &self,
        value: Option<&FieldValue<'_>>,
        lower: Option<&str>,
        src: &dyn FieldSource,
    ) -> bool {
        match self {
            FieldTest::Exists(want) => value.is_some() == *want,
            FieldTest::Null => matches!(value, None | Some(FieldValue::Null)),
            FieldTest::Values {
                matchers,
                all,
                negate,
                or_null,
            } => {
                let hit = match &value {
                    None | Some(FieldValue::Null) => return *or_null || *negate,
                    Some(v) => values_hold(matchers, *all, v, lower, src),
                };
                hit != *negate
            }
        }
    }
}

fn values_hold(
    matchers: &[ValueMatcher],
    all: bool,
    v: &FieldValue<'_>,
    lower: Option<&str>,
    src: &dyn FieldSource,
) -> bool {
    if let FieldValue::List(items) = v {
        // Each matcher may be satisfied by a different element.
        let one = |m: &ValueMatcher| {
            items
                .iter()
                .any(|e| values_hold(std::slice::from_ref(m), false, e, None, src))
        };
        return if all {
            matchers.iter().all(one)
        } else {
            matchers.iter().any(one)
        };
    }
    // Turned into text once for all matchers (numbers become text only here).
    let text = v.as_text();
    let text = text.as_deref();
    if all {
        matchers.iter().all(|m| m.matches(v, text, lower, src))
    } else {
        matchers.iter().any(|m| m.matches(v, text, lower, src))
    }
}

/// The compiled test of a keyword item: values searched for in the keyword haystacks.
#[derive(Debug, Clone)]
pub(crate) struct KeywordTest {
    matchers: Vec<ValueMatcher>,
    all: bool,
}

impl KeywordTest {
    /// Texts one of which a haystack contains whenever the test holds (for the
    /// prefilter); `None` when there is no such list.
    pub(crate) fn required_substrings(&self) -> Option<Vec<&str>> {
        let per = self.matchers.iter().map(|m| match m {
            ValueMatcher::Str(s) => s.required_substrings(),
            _ => None,
        });
        if self.all {
            per.flatten()
                .max_by_key(|ls| ls.iter().map(|l| l.len()).min().unwrap_or(0))
        } else {
            let mut out = Vec::new();
            for ls in per {
                out.extend(ls?);
            }
            (!out.is_empty()).then_some(out)
        }
    }

    /// `lower`: the haystacks in ASCII lower case, in the same order, when at hand.
    pub(crate) fn eval(
        &self,
        haystacks: &[&str],
        lower: Option<&[String]>,
        src: &dyn FieldSource,
    ) -> bool {
        let one = |m: &ValueMatcher| {
            haystacks.iter().enumerate().any(|(i, h)| {
                let l = lower.and_then(|l| l.get(i)).map(String::as_str);
                m.matches(&FieldValue::Str(Cow::Borrowed(h)), Some(h), l, src)
            })
        };
        if self.all {
            self.matchers.iter().all(one)
        } else {
            self.matchers.iter().any(one)
        }
    }
}

/// What compiling an item needs from outside the rule.
pub(crate) struct ItemContext<'a> {
    pub(crate) placeholders: &'a Placeholders,
    /// Maps a Sigma field name to the event field names it stands for.
    pub(crate) resolve: &'a dyn Fn(&str) -> Vec<String>,
}

/// Compiles a field item.
pub(crate) fn compile_field(
    mods: &[Modifier],
    values: &[Scalar],
    ctx: &ItemContext<'_>,
) -> Result<FieldTest, MatcherError> {
    if values.is_empty() {
        return Err(MatcherError::NoValues);
    }
    if mods.contains(&Modifier::Exists) {
        if let Some(other) = mods.iter().find(|m| **m != Modifier::Exists) {
            return Err(ModifierError::Conflict("exists", other.name()).into());
        }
        return match values {
            [Scalar::Bool(b)] => Ok(FieldTest::Exists(*b)),
            [Scalar::Str(s)] if s.eq_ignore_ascii_case("true") => Ok(FieldTest::Exists(true)),
            [Scalar::Str(s)] if s.eq_ignore_ascii_case("false") => Ok(FieldTest::Exists(false)),
            _ => Err(bad_value("exists", "true or false", values)),
        };
    }
    let or_null = values.contains(&Scalar::Null);
    let rest: Vec<Scalar> = values
        .iter()
        .filter(|v| **v != Scalar::Null)
        .cloned()
        .collect();
    if or_null && rest.is_empty() {
        return if mods.is_empty() {
            Ok(FieldTest::Null)
        } else {
            Err(MatcherError::NullWithModifiers)
        };
    }
    if or_null && !mods.is_empty() {
        return Err(MatcherError::NullWithModifiers);
    }
    let all = mods.contains(&Modifier::All);
    let negate = mods.contains(&Modifier::Neq);
    let matchers = compile_values(mods, &rest, ctx, false)?;
    Ok(FieldTest::Values {
        matchers,
        all,
        negate,
        or_null,
    })
}

/// Compiles a keyword item (values with no field, searched in the keyword haystacks).
pub(crate) fn compile_keywords(
    mods: &[Modifier],
    values: &[Scalar],
    ctx: &ItemContext<'_>,
) -> Result<KeywordTest, MatcherError> {
    if values.is_empty() {
        return Err(MatcherError::NoValues);
    }
    if values.contains(&Scalar::Null) {
        return Err(bad_value("keyword", "text", values));
    }
    // These compare a field's value; a keyword has none.
    if let Some(m) = mods.iter().find(|m| {
        m.is_comparison()
            || m.is_time_part()
            || matches!(
                m,
                Modifier::Exists | Modifier::Cidr | Modifier::FieldRef | Modifier::Neq
            )
    }) {
        return Err(ModifierError::Misplaced {
            modifier: m.name(),
            reason: "needs a field",
        }
        .into());
    }
    let matchers = compile_values(mods, values, ctx, true)?;
    Ok(KeywordTest {
        matchers,
        all: mods.contains(&Modifier::All),
    })
}

/// Which modifiers may accompany a typed modifier (re, cidr, comparisons, fieldref).
fn only_with(mods: &[Modifier], main: Modifier, allowed: &[Modifier]) -> Result<(), ModifierError> {
    match mods.iter().find(|m| **m != main && !allowed.contains(m)) {
        Some(other) => Err(ModifierError::Conflict(main.name(), other.name())),
        None => Ok(()),
    }
}

fn compile_values(
    mods: &[Modifier],
    values: &[Scalar],
    ctx: &ItemContext<'_>,
    keyword: bool,
) -> Result<Vec<ValueMatcher>, MatcherError> {
    use Modifier::*;
    let texts = || -> Result<Vec<String>, MatcherError> {
        values
            .iter()
            .map(|v| v.text().ok_or(MatcherError::NullWithModifiers))
            .collect()
    };

    if mods.contains(&Re) {
        only_with(mods, Re, &[ReI, ReM, ReS, All, Neq, Cased])?;
        return texts()?
            .into_iter()
            .map(|p| {
                RegexBuilder::new(&p)
                    .case_insensitive(mods.contains(&ReI))
                    .multi_line(mods.contains(&ReM))
                    .dot_matches_new_line(mods.contains(&ReS))
                    .build()
                    .map(ValueMatcher::Regex)
                    .map_err(|e| MatcherError::Regex {
                        pattern: p,
                        reason: regex_reason(&e),
                    })
            })
            .collect();
    }
    if mods.contains(&Cidr) {
        only_with(mods, Cidr, &[All, Neq])?;
        return texts()?
            .into_iter()
            .map(|t| {
                t.trim()
                    .parse::<IpNet>()
                    .or_else(|_| t.trim().parse::<IpAddr>().map(IpNet::from))
                    .map(ValueMatcher::Cidr)
                    .map_err(|_| MatcherError::Cidr(t))
            })
            .collect();
    }
    let part = mods.iter().find(|m| m.is_time_part()).map(|m| match m {
        Minute => TimePart::Minute,
        Hour => TimePart::Hour,
        Day => TimePart::Day,
        Week => TimePart::Week,
        Month => TimePart::Month,
        _ => TimePart::Year,
    });
    let cmp = mods.iter().find(|m| m.is_comparison()).copied();
    if cmp.is_some() || part.is_some() {
        let main = cmp
            .or(mods.iter().find(|m| m.is_time_part()).copied())
            .unwrap_or(Gt);
        let time_parts: Vec<Modifier> = mods.iter().filter(|m| m.is_time_part()).copied().collect();
        let comparisons: Vec<Modifier> =
            mods.iter().filter(|m| m.is_comparison()).copied().collect();
        if time_parts.len() > 1 {
            return Err(ModifierError::Conflict(time_parts[0].name(), time_parts[1].name()).into());
        }
        if comparisons.len() > 1 {
            return Err(
                ModifierError::Conflict(comparisons[0].name(), comparisons[1].name()).into(),
            );
        }
        let mut allowed = vec![All, Neq];
        allowed.extend(time_parts.iter().chain(comparisons.iter()));
        only_with(mods, main, &allowed)?;
        let cmp = match cmp {
            Some(Gt) => Cmp::Gt,
            Some(Gte) => Cmp::Gte,
            Some(Lt) => Cmp::Lt,
            Some(Lte) => Cmp::Lte,
            _ => Cmp::Eq,
        };
        return values
            .iter()
            .map(|v| {
                v.number()
                    .map(|value| ValueMatcher::Compare { cmp, value, part })
                    .ok_or_else(|| bad_value(main.name(), "a number", std::slice::from_ref(v)))
            })
            .collect();
    }
    if mods.contains(&FieldRef) {
        only_with(
            mods,
            FieldRef,
            &[Contains, StartsWith, EndsWith, Cased, Neq, All],
        )?;
        let anchor = if mods.contains(&Contains) {
            RefAnchor::Contains
        } else if mods.contains(&StartsWith) {
            RefAnchor::Prefix
        } else if mods.contains(&EndsWith) {
            RefAnchor::Suffix
        } else {
            RefAnchor::Exact
        };
        return Ok(texts()?
            .into_iter()
            .map(|name| ValueMatcher::FieldRef {
                fields: (ctx.resolve)(&name),
                anchor,
                cased: mods.contains(&Cased),
            })
            .collect());
    }

    // String pipeline. A bare number or boolean stays typed so it compares as one.
    let transforms = mods.iter().any(|m| !matches!(m, All | Neq | Cased));
    let expand = mods.contains(&Expand);
    let mut out = Vec::new();
    let mut strings = Vec::new();
    for v in values {
        match v {
            Scalar::Int(_) | Scalar::Float(_) if !transforms && !keyword => {
                out.push(ValueMatcher::NumEq {
                    value: v.number().unwrap_or(f64::NAN),
                    text: v.text().unwrap_or_default(),
                });
            }
            Scalar::Bool(b) if !transforms && !keyword => out.push(ValueMatcher::Bool(*b)),
            Scalar::Str(s) => strings.push(SigmaString::parse(s, expand)),
            other => strings.push(SigmaString::literal(&other.text().unwrap_or_default())),
        }
    }
    if !strings.is_empty() {
        let (mut strings, encoded) = modifier::transform(strings, mods, ctx.placeholders)?;
        if keyword {
            // A keyword is searched for anywhere in the text.
            strings = strings.into_iter().map(SigmaString::contains).collect();
        }
        let cased = encoded || mods.contains(&Cased);
        if mods.contains(&All) {
            for s in &strings {
                out.push(ValueMatcher::Str(StrMatcher::compile(s, cased)?));
            }
        } else {
            out.extend(
                StrMatcher::compile_any(&strings, cased)?
                    .into_iter()
                    .map(ValueMatcher::Str),
            );
        }
    }
    Ok(out)
}

/// The regex crate's error, with the usual cause named: rules written for PCRE may use
/// look-around or back-references, which it does not have.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    if text.contains("look-around") || text.contains("backreferences") {
        "look-around and back-references are not supported".to_owned()
    } else {
        text.lines().last().unwrap_or_default().trim().to_owned()
    }
}

fn bad_value(modifier: &'static str, expected: &'static str, values: &[Scalar]) -> MatcherError {
    MatcherError::Modifier(ModifierError::BadValue {
        modifier,
        expected,
        got: format!("{values:?}"),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A map of fields, enough to drive matchers.
    #[derive(Default)]
    pub(crate) struct Src(
        pub HashMap<&'static str, FieldValue<'static>>,
        pub Vec<&'static str>,
    );

    impl FieldSource for Src {
        fn field(&self, name: &str) -> Option<FieldValue<'_>> {
            self.0.get(name).cloned()
        }
        fn keyword_haystacks(&self) -> Vec<&str> {
            self.1.clone()
        }
    }

    fn s(v: &'static str) -> FieldValue<'static> {
        FieldValue::Str(Cow::Borrowed(v))
    }

    fn test(key_mods: &str, values: &[Scalar]) -> FieldTest {
        let (_, mods) = modifier::parse_key(key_mods).unwrap();
        let ph = Placeholders::new();
        let ctx = ItemContext {
            placeholders: &ph,
            resolve: &|n| vec![n.to_owned()],
        };
        compile_field(&mods, values, &ctx).unwrap()
    }

    fn strs(v: &[&str]) -> Vec<Scalar> {
        v.iter().map(|s| Scalar::Str((*s).to_owned())).collect()
    }

    fn eval(t: &FieldTest, value: Option<FieldValue<'static>>) -> bool {
        let mut src = Src::default();
        if let Some(v) = value {
            src.0.insert("F", v);
        }
        t.eval(&src, "F")
    }

    #[test]
    fn contains_startswith_endswith() {
        let t = test("F|contains", &strs(&["mimi", "kiwi"]));
        assert!(eval(&t, Some(s("run MIMIKATZ"))));
        assert!(eval(&t, Some(s("KIWI"))));
        assert!(!eval(&t, Some(s("mimkatz"))));
        assert!(!eval(&t, None));
        let t = test("F|startswith", &strs(&["adm"]));
        assert!(eval(&t, Some(s("Admin"))));
        assert!(!eval(&t, Some(s("sysadm"))));
        let t = test("F|endswith", &strs(&["\\cmd.exe"]));
        assert!(eval(&t, Some(s("C:\\Windows\\CMD.EXE"))));
        assert!(!eval(&t, Some(s("C:\\Windows\\xcmd.exe"))));
    }

    #[test]
    fn all_with_contains_needs_every_value() {
        let t = test("F|contains|all", &strs(&["-nop", "-enc"]));
        assert!(eval(&t, Some(s("powershell -NoP -Enc AAA"))));
        assert!(!eval(&t, Some(s("powershell -nop"))));
        // Each value may be found in a different element of a list.
        let list = FieldValue::List(vec![s("-nop"), s("-enc")]);
        assert!(eval(&t, Some(list)));
    }

    #[test]
    fn windash_matches_every_flag_character() {
        let t = test("F|contains|windash", &strs(&[" -exec bypass"]));
        for dash in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
            let cmd: &'static str = Box::leak(format!("ps {dash}exec bypass").into_boxed_str());
            assert!(eval(&t, Some(s(cmd))), "{dash}");
        }
        assert!(!eval(&t, Some(s("ps +exec bypass"))));
    }

    #[test]
    fn null_empty_and_missing_differ() {
        let null = test("F", &[Scalar::Null]);
        assert!(eval(&null, None));
        assert!(eval(&null, Some(FieldValue::Null)));
        assert!(!eval(&null, Some(s(""))));
        let empty = test("F", &strs(&[""]));
        assert!(eval(&empty, Some(s(""))));
        assert!(!eval(&empty, None));
        assert!(!eval(&empty, Some(FieldValue::Null)));
        assert!(!eval(&empty, Some(s("x"))));
    }

    #[test]
    fn exists_checks_presence_only() {
        let yes = test("F|exists", &[Scalar::Bool(true)]);
        let no = test("F|exists", &[Scalar::Bool(false)]);
        assert!(eval(&yes, Some(s(""))));
        assert!(eval(&yes, Some(FieldValue::Null)));
        assert!(!eval(&yes, None));
        assert!(eval(&no, None));
        assert!(!eval(&no, Some(s("x"))));
    }

    #[test]
    fn numbers_compare_as_numbers_or_text() {
        let t = test("F", &[Scalar::Int(4688)]);
        assert!(eval(&t, Some(FieldValue::Int(4688))));
        assert!(eval(&t, Some(s("4688"))));
        assert!(!eval(&t, Some(s("46880"))));
        let t = test("F", &strs(&["4688"]));
        assert!(eval(&t, Some(FieldValue::Int(4688))));
        let gt = test("F|gt", &[Scalar::Int(10)]);
        assert!(eval(&gt, Some(FieldValue::Int(11))));
        assert!(!eval(&gt, Some(FieldValue::Int(10))));
        assert!(eval(&gt, Some(s("10.5"))));
        assert!(!eval(&gt, Some(s("ten"))));
        assert!(eval(
            &test("F|gte", &[Scalar::Int(10)]),
            Some(FieldValue::Int(10))
        ));
        assert!(eval(
            &test("F|lt", &[Scalar::Float(1.5)]),
            Some(FieldValue::Float(1.0))
        ));
        assert!(!eval(
            &test("F|lte", &[Scalar::Int(3)]),
            Some(FieldValue::Int(4))
        ));
    }

    #[test]
    fn booleans_match_bools_and_text() {
        let t = test("F", &[Scalar::Bool(true)]);
        assert!(eval(&t, Some(FieldValue::Bool(true))));
        assert!(eval(&t, Some(s("True"))));
        assert!(!eval(&t, Some(FieldValue::Bool(false))));
    }

    #[test]
    fn cidr_v4_and_v6() {
        let t = test("F|cidr", &strs(&["10.0.0.0/8", "fe80::/10"]));
        assert!(eval(&t, Some(s("10.1.2.3"))));
        assert!(!eval(&t, Some(s("11.1.2.3"))));
        assert!(eval(&t, Some(s("fe80::1"))));
        assert!(!eval(&t, Some(s("2001:db8::1"))));
        assert!(!eval(&t, Some(s("not an ip"))));
        let (_, mods) = modifier::parse_key("F|cidr").unwrap();
        let ph = Placeholders::new();
        let ctx = ItemContext {
            placeholders: &ph,
            resolve: &|n| vec![n.to_owned()],
        };
        assert!(matches!(
            compile_field(&mods, &strs(&["10.0.0.0/33"]), &ctx),
            Err(MatcherError::Cidr(_))
        ));
    }

    #[test]
    fn regex_and_its_flags() {
        let t = test("F|re", &strs(&["^ab.c$"]));
        assert!(eval(&t, Some(s("abxc"))));
        assert!(!eval(&t, Some(s("ABXC"))), "case-sensitive by default");
        assert!(eval(&test("F|re|i", &strs(&["^ab.c$"])), Some(s("ABXC"))));
        assert!(!eval(&t, Some(s("x\nabxc"))));
        assert!(eval(
            &test("F|re|m", &strs(&["^ab.c$"])),
            Some(s("x\nabxc"))
        ));
        assert!(!eval(&t, Some(s("ab\nc"))));
        assert!(eval(&test("F|re|s", &strs(&["^ab.c$"])), Some(s("ab\nc"))));
        let (_, mods) = modifier::parse_key("F|re").unwrap();
        let ph = Placeholders::new();
        let ctx = ItemContext {
            placeholders: &ph,
            resolve: &|n| vec![n.to_owned()],
        };
        let err = compile_field(&mods, &strs(&["a(?=b)"]), &ctx).unwrap_err();
        assert!(err.to_string().contains("look-around"), "{err}");
    }

    #[test]
    fn base64offset_contains_finds_value_at_any_offset() {
        use base64::Engine as _;
        let t = test("F|base64offset|contains", &strs(&["http://"]));
        for prefix in ["", "a", "ab"] {
            let enc =
                base64::engine::general_purpose::STANDARD.encode(format!("{prefix}http://x.y"));
            let enc: &'static str = Box::leak(enc.into_boxed_str());
            assert!(eval(&t, Some(s(enc))), "{prefix:?}");
        }
        assert!(!eval(&t, Some(s("aHR0cHM6Ly8="))));
    }

    #[test]
    fn wide_base64offset_matches_encoded_powershell() {
        use base64::Engine as _;
        let t = test("F|wide|base64offset|contains", &strs(&["IEX"]));
        for prefix in ["", "x", "xy"] {
            let wide: Vec<u8> = format!("{prefix}IEX (New-Object)")
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            let enc = base64::engine::general_purpose::STANDARD.encode(wide);
            let cmd: &'static str = Box::leak(format!("powershell -enc {enc}").into_boxed_str());
            assert!(eval(&t, Some(s(cmd))), "{prefix:?}");
        }
        assert!(!eval(
            &t,
            Some(s("powershell -enc SQBFAFgA".to_lowercase().leak()))
        ));
    }

    #[test]
    fn cased_and_neq() {
        let t = test("F|cased", &strs(&["Admin"]));
        assert!(eval(&t, Some(s("Admin"))));
        assert!(!eval(&t, Some(s("admin"))));
        let t = test("F|neq", &strs(&["a", "b"]));
        assert!(eval(&t, Some(s("c"))));
        assert!(!eval(&t, Some(s("B"))));
        assert!(eval(&t, None));
    }

    #[test]
    fn fieldref_compares_two_fields() {
        let t = test("F|fieldref", &strs(&["G"]));
        let mut src = Src::default();
        src.0.insert("F", s("Alice"));
        src.0.insert("G", s("alice"));
        assert!(t.eval(&src, "F"));
        src.0.insert("G", s("bob"));
        assert!(!t.eval(&src, "F"));
        let t = test("F|fieldref|startswith", &strs(&["G"]));
        src.0.insert("G", s("ali"));
        assert!(t.eval(&src, "F"));
    }

    #[test]
    fn time_parts() {
        let t = test("F|hour|gte", &[Scalar::Int(22)]);
        assert!(eval(&t, Some(s("2024-01-02T23:10:00Z"))));
        assert!(!eval(&t, Some(s("2024-01-02T21:10:00Z"))));
        let t = test("F|month", &[Scalar::Int(2)]);
        assert!(eval(&t, Some(s("2024-02-02 01:00:00"))));
        assert!(!eval(&t, Some(s("2024-03-02"))));
    }

    #[test]
    fn keywords_search_anywhere() {
        let (_, mods) = modifier::parse_key("").unwrap();
        let ph = Placeholders::new();
        let ctx = ItemContext {
            placeholders: &ph,
            resolve: &|n| vec![n.to_owned()],
        };
        let k = compile_keywords(&mods, &strs(&["event::clear", "drop"]), &ctx).unwrap();
        let src = Src::default();
        assert!(k.eval(&["mimikatz # EVENT::Clear"], None, &src));
        assert!(!k.eval(&["event::list"], None, &src));
        let (_, mods) = modifier::parse_key("|cidr").unwrap();
        let err = compile_keywords(&mods, &strs(&["10.0.0.0/8"]), &ctx).unwrap_err();
        assert!(err.to_string().contains("needs a field"), "{err}");
        let (_, mods) = modifier::parse_key("|all").unwrap();
        let k = compile_keywords(&mods, &strs(&["Oab", " -ExternalUrl "]), &ctx).unwrap();
        assert!(k.eval(&["Set-OabVirtualDirectory -ExternalUrl x"], None, &src));
        assert!(!k.eval(&["Set-OabVirtualDirectory"], None, &src));
    }

    #[test]
    fn bad_combinations_are_reported() {
        let ph = Placeholders::new();
        let ctx = ItemContext {
            placeholders: &ph,
            resolve: &|n| vec![n.to_owned()],
        };
        let err = |key: &str, v: &[Scalar]| {
            let (_, mods) = modifier::parse_key(key).unwrap();
            compile_field(&mods, v, &ctx).unwrap_err().to_string()
        };
        assert!(err("F|re|contains", &strs(&["a"])).contains("cannot be combined"));
        assert!(err("F|exists", &strs(&["maybe"])).contains("true or false"));
        assert!(err("F|gt", &strs(&["ten"])).contains("a number"));
        assert!(err("F|contains", &[Scalar::Null]).contains("null"));
        assert!(err("F", &[]).contains("empty"));
    }
}
