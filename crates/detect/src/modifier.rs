//! Sigma value modifiers (`Field|contains|all: ...`): reading the chain after the field
//! name and applying the transforming ones (wildcard placement, `windash`, encodings,
//! `expand`) to values, in the order written, before they are compiled.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::pattern::{Part, SigmaString};

/// Values supplied for `%placeholder%`s under the `expand` modifier, by placeholder name.
pub type Placeholders = HashMap<String, Vec<String>>;

/// A modifier chain or a value it was applied to is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModifierError {
    #[error("unsupported modifier {0:?}")]
    Unknown(String),
    #[error("modifier {modifier:?} {reason}")]
    Misplaced {
        modifier: &'static str,
        reason: &'static str,
    },
    #[error("modifiers {0:?} and {1:?} cannot be combined")]
    Conflict(&'static str, &'static str),
    #[error("{0} cannot encode a value with wildcards or placeholders")]
    WildcardEncoding(&'static str),
    #[error("value encoded by {0} is not text; chain base64 or base64offset after it")]
    NotText(&'static str),
    #[error("placeholder %{0}% has no values (supply them when loading rules)")]
    UnknownPlaceholder(String),
    #[error("{modifier} expects {expected}, got {got}")]
    BadValue {
        modifier: &'static str,
        expected: &'static str,
        got: String,
    },
}

/// One modifier after a field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Modifier {
    Contains,
    StartsWith,
    EndsWith,
    All,
    Exists,
    Cased,
    Neq,
    Re,
    /// `re` sub-modifiers.
    ReI,
    ReM,
    ReS,
    Cidr,
    Base64,
    Base64Offset,
    Utf16Le,
    Utf16Be,
    Utf16,
    Windash,
    Gt,
    Gte,
    Lt,
    Lte,
    FieldRef,
    Expand,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Modifier {
    /// The spelling in rules (`wide` is read as `utf16le`).
    pub(crate) fn name(self) -> &'static str {
        use Modifier::*;
        match self {
            Contains => "contains",
            StartsWith => "startswith",
            EndsWith => "endswith",
            All => "all",
            Exists => "exists",
            Cased => "cased",
            Neq => "neq",
            Re => "re",
            ReI => "i",
            ReM => "m",
            ReS => "s",
            Cidr => "cidr",
            Base64 => "base64",
            Base64Offset => "base64offset",
            Utf16Le => "utf16le",
            Utf16Be => "utf16be",
            Utf16 => "utf16",
            Windash => "windash",
            Gt => "gt",
            Gte => "gte",
            Lt => "lt",
            Lte => "lte",
            FieldRef => "fieldref",
            Expand => "expand",
            Minute => "minute",
            Hour => "hour",
            Day => "day",
            Week => "week",
            Month => "month",
            Year => "year",
        }
    }

    fn parse(word: &str, after_re: bool) -> Result<Self, ModifierError> {
        use Modifier::*;
        let m = match word {
            "contains" => Contains,
            "startswith" => StartsWith,
            "endswith" => EndsWith,
            "all" => All,
            "exists" => Exists,
            "cased" => Cased,
            "neq" => Neq,
            "re" => Re,
            "i" | "m" | "s" if !after_re => {
                return Err(ModifierError::Misplaced {
                    modifier: match word {
                        "i" => "i",
                        "m" => "m",
                        _ => "s",
                    },
                    reason: "only follows re",
                });
            }
            "i" => ReI,
            "m" => ReM,
            "s" => ReS,
            "cidr" => Cidr,
            "base64" => Base64,
            "base64offset" => Base64Offset,
            "utf16le" | "wide" => Utf16Le,
            "utf16be" => Utf16Be,
            "utf16" => Utf16,
            "windash" => Windash,
            "gt" => Gt,
            "gte" => Gte,
            "lt" => Lt,
            "lte" => Lte,
            "fieldref" => FieldRef,
            "expand" => Expand,
            "minute" => Minute,
            "hour" => Hour,
            "day" => Day,
            "week" => Week,
            "month" => Month,
            "year" => Year,
            other => return Err(ModifierError::Unknown(other.to_owned())),
        };
        Ok(m)
    }

    pub(crate) fn is_comparison(self) -> bool {
        matches!(
            self,
            Modifier::Gt | Modifier::Gte | Modifier::Lt | Modifier::Lte
        )
    }

    pub(crate) fn is_time_part(self) -> bool {
        use Modifier::*;
        matches!(self, Minute | Hour | Day | Week | Month | Year)
    }
}

/// Splits `Field|mod1|mod2` into the field name and its modifiers.
pub(crate) fn parse_key(key: &str) -> Result<(&str, Vec<Modifier>), ModifierError> {
    let mut words = key.split('|');
    let field = words.next().unwrap_or_default();
    let mut mods = Vec::new();
    let mut after_re = false;
    for word in words {
        let m = Modifier::parse(word.trim(), after_re)?;
        after_re = after_re || m == Modifier::Re;
        mods.push(m);
    }
    Ok((field, mods))
}

/// A value on its way through the modifier chain.
enum Val {
    Text(SigmaString),
    Bytes(Vec<u8>),
}

/// The characters `windash` treats as interchangeable.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Most spelled-out `windash` variants per value; beyond this a character class is used
/// (three dashes give 125 variants, still one cheap automaton).
const WINDASH_MAX_VARIANTS: usize = 125;

/// Applies the transforming modifiers of a chain to string values, in order.
///
/// Returns the resulting values and whether an encoding modifier was applied (encoded
/// text is compared case-sensitively: base64 is case-sensitive).
pub(crate) fn transform(
    values: Vec<SigmaString>,
    mods: &[Modifier],
    placeholders: &Placeholders,
) -> Result<(Vec<SigmaString>, bool), ModifierError> {
    let mut vals: Vec<Val> = values.into_iter().map(Val::Text).collect();
    let mut encoded = false;
    for &m in mods {
        vals = match m {
            Modifier::Contains => map_text(vals, m, SigmaString::contains)?,
            Modifier::StartsWith => map_text(vals, m, SigmaString::startswith)?,
            Modifier::EndsWith => map_text(vals, m, SigmaString::endswith)?,
            Modifier::Windash => {
                let mut out = Vec::new();
                for v in vals {
                    out.extend(windash(text_of(v, m)?).into_iter().map(Val::Text));
                }
                out
            }
            Modifier::Expand => {
                let mut out = Vec::new();
                for v in vals {
                    out.extend(
                        expand(text_of(v, m)?, placeholders)?
                            .into_iter()
                            .map(Val::Text),
                    );
                }
                out
            }
            Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16 => {
                let mut out = Vec::new();
                for v in vals {
                    let text = plain_of(v, m)?;
                    let units = text.encode_utf16();
                    let mut bytes = Vec::new();
                    match m {
                        Modifier::Utf16Be => units.for_each(|u| bytes.extend(u.to_be_bytes())),
                        Modifier::Utf16 => {
                            bytes.extend([0xFF, 0xFE]);
                            units.for_each(|u| bytes.extend(u.to_le_bytes()));
                        }
                        _ => units.for_each(|u| bytes.extend(u.to_le_bytes())),
                    }
                    out.push(Val::Bytes(bytes));
                }
                out
            }
            Modifier::Base64 => {
                encoded = true;
                let mut out = Vec::new();
                for v in vals {
                    out.push(Val::Text(SigmaString::literal(
                        &B64.encode(bytes_of(v, m)?),
                    )));
                }
                out
            }
            Modifier::Base64Offset => {
                encoded = true;
                let mut out = Vec::new();
                for v in vals {
                    for variant in base64offset(&bytes_of(v, m)?) {
                        out.push(Val::Text(SigmaString::literal(&variant)));
                    }
                }
                out
            }
            // The rest decide how values are compared, not what they are.
            _ => vals,
        };
    }
    let mut out = Vec::with_capacity(vals.len());
    for v in vals {
        match v {
            Val::Text(t) => {
                if let Some(name) = t.has_placeholder() {
                    return Err(ModifierError::UnknownPlaceholder(name.to_owned()));
                }
                out.push(t);
            }
            Val::Bytes(b) => {
                let name = mods
                    .iter()
                    .rev()
                    .find(|m| matches!(m, Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16))
                    .map_or("utf16", |m| m.name());
                let text = String::from_utf8(b).map_err(|_| ModifierError::NotText(name))?;
                out.push(SigmaString::literal(&text));
            }
        }
    }
    Ok((out, encoded))
}

fn map_text(
    vals: Vec<Val>,
    m: Modifier,
    f: fn(SigmaString) -> SigmaString,
) -> Result<Vec<Val>, ModifierError> {
    vals.into_iter()
        .map(|v| text_of(v, m).map(|t| Val::Text(f(t))))
        .collect()
}

fn text_of(v: Val, m: Modifier) -> Result<SigmaString, ModifierError> {
    match v {
        Val::Text(t) => Ok(t),
        Val::Bytes(b) => String::from_utf8(b)
            .map(|s| SigmaString::literal(&s))
            .map_err(|_| ModifierError::NotText(m.name())),
    }
}

fn plain_of(v: Val, m: Modifier) -> Result<String, ModifierError> {
    match v {
        Val::Text(t) => t
            .as_plain()
            .ok_or(ModifierError::WildcardEncoding(m.name())),
        Val::Bytes(_) => Err(ModifierError::Conflict("utf16", m.name())),
    }
}

fn bytes_of(v: Val, m: Modifier) -> Result<Vec<u8>, ModifierError> {
    match v {
        Val::Text(t) => t
            .as_plain()
            .map(String::into_bytes)
            .ok_or(ModifierError::WildcardEncoding(m.name())),
        Val::Bytes(b) => Ok(b),
    }
}

/// The three base64 forms of `value` as it may appear inside a longer encoded text: at
/// offsets 0, 1 and 2 within a 3-byte group. The characters that depend on the unknown
/// neighbouring bytes are cut off, as pySigma does, so each form is a stable substring.
pub(crate) fn base64offset(value: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    // Characters cut from the end, by (len + shift) % 3.
    const END_CUT: [usize; 3] = [0, 3, 2];
    let mut out = Vec::with_capacity(3);
    for shift in 0..3 {
        let mut padded = vec![b' '; shift];
        padded.extend_from_slice(value);
        let enc = B64.encode(&padded);
        let cut = END_CUT[(value.len() + shift) % 3];
        let end = enc.len().saturating_sub(cut);
        out.push(enc.get(START[shift]..end).unwrap_or_default().to_owned());
    }
    out
}

/// Every spelling of a value with its dashes swapped for the other Windows flag
/// characters.
fn windash(value: SigmaString) -> Vec<SigmaString> {
    let dashes: usize = value
        .0
        .iter()
        .map(|p| match p {
            Part::Lit(t) => t.chars().filter(|c| DASHES.contains(c)).count(),
            _ => 0,
        })
        .sum();
    if dashes == 0 {
        return vec![value];
    }
    let spelled = DASHES
        .len()
        .checked_pow(u32::try_from(dashes).unwrap_or(u32::MAX))
        .is_some_and(|n| n <= WINDASH_MAX_VARIANTS);
    if !spelled {
        let mut out = SigmaString::default();
        for part in value.0 {
            match part {
                Part::Lit(t) => {
                    for c in t.chars() {
                        if DASHES.contains(&c) {
                            out.push(Part::Class(DASHES.to_vec()));
                        } else {
                            out.push_char(c);
                        }
                    }
                }
                other => out.push(other),
            }
        }
        return vec![out];
    }
    let mut variants = vec![SigmaString::default()];
    for part in value.0 {
        match part {
            Part::Lit(t) => {
                for c in t.chars() {
                    if DASHES.contains(&c) {
                        variants = variants
                            .into_iter()
                            .flat_map(|v| {
                                DASHES.iter().map(move |d| {
                                    let mut v = v.clone();
                                    v.push_char(*d);
                                    v
                                })
                            })
                            .collect();
                    } else {
                        variants.iter_mut().for_each(|v| v.push_char(c));
                    }
                }
            }
            other => variants.iter_mut().for_each(|v| v.push(other.clone())),
        }
    }
    variants
}

/// Replaces each `%placeholder%` with each of its values (several placeholders give every
/// combination). Placeholder values may hold wildcards.
fn expand(
    value: SigmaString,
    placeholders: &Placeholders,
) -> Result<Vec<SigmaString>, ModifierError> {
    let mut variants = vec![SigmaString::default()];
    for part in value.0 {
        match part {
            Part::Placeholder(name) => {
                let values = placeholders
                    .get(&name)
                    .ok_or_else(|| ModifierError::UnknownPlaceholder(name.clone()))?;
                let parsed: Vec<SigmaString> = values
                    .iter()
                    .map(|v| SigmaString::parse(v, false))
                    .collect();
                variants = variants
                    .into_iter()
                    .flat_map(|v| {
                        parsed.iter().map(move |p| {
                            let mut v = v.clone();
                            for part in &p.0 {
                                v.push(part.clone());
                            }
                            v
                        })
                    })
                    .collect();
            }
            other => variants.iter_mut().for_each(|v| v.push(other.clone())),
        }
    }
    Ok(variants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(raw: &str, key: &str) -> Result<Vec<SigmaString>, ModifierError> {
        let (_, mods) = parse_key(key)?;
        let expand = mods.contains(&Modifier::Expand);
        transform(
            vec![SigmaString::parse(raw, expand)],
            &mods,
            &Placeholders::new(),
        )
        .map(|(v, _)| v)
    }

    fn plain(v: &[SigmaString]) -> Vec<String> {
        v.iter().map(|s| s.as_plain().unwrap()).collect()
    }

    #[test]
    fn keys_split_into_field_and_modifiers() {
        let (f, m) = parse_key("CommandLine|contains|all").unwrap();
        assert_eq!(f, "CommandLine");
        assert_eq!(m, vec![Modifier::Contains, Modifier::All]);
        assert_eq!(parse_key("F|wide").unwrap().1, vec![Modifier::Utf16Le]);
        assert_eq!(
            parse_key("F|re|i|s").unwrap().1,
            vec![Modifier::Re, Modifier::ReI, Modifier::ReS]
        );
        assert_eq!(
            parse_key("F|bogus"),
            Err(ModifierError::Unknown("bogus".into()))
        );
        assert!(matches!(
            parse_key("F|i"),
            Err(ModifierError::Misplaced { .. })
        ));
    }

    #[test]
    fn base64_encodes_and_refuses_wildcards() {
        assert_eq!(plain(&run("cmd", "F|base64").unwrap()), vec!["Y21k"]);
        assert_eq!(
            run("cm*", "F|base64"),
            Err(ModifierError::WildcardEncoding("base64"))
        );
    }

    #[test]
    fn base64offset_gives_three_stable_substrings() {
        // Known values from pySigma's tests for "foobar".
        assert_eq!(
            plain(&run("foobar", "F|base64offset").unwrap()),
            vec!["Zm9vYmFy", "Zvb2Jhc", "mb29iYX"]
        );
        // Each variant really occurs in the encoding of the value at that offset.
        for (shift, variant) in base64offset(b"http://").iter().enumerate() {
            let mut text = b"ab".to_vec();
            text.truncate(shift);
            text.extend_from_slice(b"http://evil");
            assert!(
                B64.encode(&text).contains(variant.as_str()),
                "{shift}: {variant}"
            );
        }
    }

    #[test]
    fn utf16_then_base64offset_chains() {
        let vals = run("cmd", "F|wide|base64offset").unwrap();
        let want: Vec<String> = base64offset(&[b'c', 0, b'm', 0, b'd', 0]);
        assert_eq!(plain(&vals), want);
        assert_eq!(
            plain(&run("cmd", "F|utf16be|base64").unwrap()),
            vec![B64.encode([0, b'c', 0, b'm', 0, b'd'])]
        );
        assert_eq!(
            plain(&run("cmd", "F|utf16|base64").unwrap()),
            vec![B64.encode([0xFF, 0xFE, b'c', 0, b'm', 0, b'd', 0])]
        );
        assert_eq!(plain(&run("a", "F|utf16le").unwrap()), vec!["a\0"]);
    }

    #[test]
    fn windash_spells_every_dash() {
        let got = plain(&run("-a /b", "F|windash").unwrap());
        assert_eq!(got.len(), 25);
        assert!(got.contains(&"/a -b".to_owned()));
        assert!(got.contains(&"\u{2013}a \u{2015}b".to_owned()));
        assert!(got.contains(&"\u{2014}a \u{2014}b".to_owned()));
        // Many dashes become a character class instead of thousands of variants.
        let many = run("-a -b -c -d", "F|windash").unwrap();
        assert_eq!(many.len(), 1);
        assert!(many[0].0.iter().any(|p| matches!(p, Part::Class(_))));
    }

    #[test]
    fn expand_replaces_placeholders_or_fails() {
        let mut ph = Placeholders::new();
        ph.insert("Servers".into(), vec!["srv*".into(), "dc01".into()]);
        let (_, mods) = parse_key("F|expand").unwrap();
        let (vals, _) = transform(vec![SigmaString::parse("%Servers%", true)], &mods, &ph).unwrap();
        assert_eq!(vals.len(), 2);
        assert_eq!(vals[1].as_plain().unwrap(), "dc01");
        assert_eq!(vals[0].0, vec![Part::Lit("srv".into()), Part::Many]);
        assert_eq!(
            run("%Admins%", "F|expand"),
            Err(ModifierError::UnknownPlaceholder("Admins".into()))
        );
    }
}
