//! Sigma string values: parsing wildcards and escapes ([`SigmaString`]) and compiling them
//! once to the cheapest matcher that decides them ([`StrMatcher`]).
//!
//! Most Sigma values are a literal with at most a leading and a trailing `*`, so they
//! become exact / prefix / suffix / substring tests on bytes; ASCII case folding is done
//! in the comparison, so no haystack is ever lowercased. Only values with inner wildcards,
//! character classes or non-ASCII letters under case folding fall back to a regex.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use regex::{Regex, RegexBuilder};

/// A compiled pattern could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("pattern {pattern:?} does not compile: {reason}")]
    Regex { pattern: String, reason: String },
    #[error("substring set does not compile: {0}")]
    Substrings(String),
}

/// One piece of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Lit(String),
    /// `?`: exactly one character.
    One,
    /// `*`: any run of characters, possibly empty.
    Many,
    /// One of these characters (from `windash` when spelling out every variant would
    /// explode).
    Class(Vec<char>),
    /// `%name%` under the `expand` modifier, replaced before compiling.
    Placeholder(String),
}

/// A Sigma string value: literal text with wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SigmaString(pub(crate) Vec<Part>);

impl SigmaString {
    /// Reads a value as written in a rule.
    ///
    /// `\` escapes `*`, `?` and `\` (and `%` when `placeholders` is on, per the `expand`
    /// modifier); before any other character it is a plain backslash. This gives exactly
    /// the table in the specification: `\*` is a star, `\\*` a backslash then a wildcard,
    /// `\\\*` a backslash and a star, `\\\\` two backslashes.
    pub(crate) fn parse(raw: &str, placeholders: bool) -> Self {
        let mut out = SigmaString::default();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&next) if next == '*' || next == '?' || next == '\\' => {
                        out.push_char(next);
                        chars.next();
                    }
                    Some('%') if placeholders => {
                        out.push_char('%');
                        chars.next();
                    }
                    _ => out.push_char('\\'),
                },
                '*' => out.push(Part::Many),
                '?' => out.push(Part::One),
                '%' if placeholders => {
                    // A placeholder runs to the next `%`; a lone `%` stays literal.
                    let rest: String = chars.clone().collect();
                    match rest.find('%') {
                        Some(end) if end > 0 && !rest[..end].contains(char::is_whitespace) => {
                            out.push(Part::Placeholder(rest[..end].to_owned()));
                            for _ in 0..=rest[..end].chars().count() {
                                chars.next();
                            }
                        }
                        _ => out.push_char('%'),
                    }
                }
                other => out.push_char(other),
            }
        }
        out
    }

    /// A value with no wildcards at all.
    pub(crate) fn literal(text: &str) -> Self {
        let mut out = SigmaString::default();
        if !text.is_empty() {
            out.0.push(Part::Lit(text.to_owned()));
        }
        out
    }

    pub(crate) fn push_char(&mut self, c: char) {
        if let Some(Part::Lit(s)) = self.0.last_mut() {
            s.push(c);
        } else {
            self.0.push(Part::Lit(c.to_string()));
        }
    }

    pub(crate) fn push(&mut self, part: Part) {
        match (self.0.last_mut(), part) {
            (Some(Part::Lit(s)), Part::Lit(more)) => s.push_str(&more),
            // Consecutive stars mean the same as one.
            (Some(Part::Many), Part::Many) => {}
            (_, part) => self.0.push(part),
        }
    }

    /// The text, when the value has no wildcard, class or placeholder.
    pub(crate) fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.0 {
            match part {
                Part::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    pub(crate) fn has_placeholder(&self) -> Option<&str> {
        self.0.iter().find_map(|p| match p {
            Part::Placeholder(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Makes the value match anywhere (`contains`).
    pub(crate) fn contains(mut self) -> Self {
        self = self.startswith();
        self.endswith()
    }

    /// Makes the value match at the start (`startswith`): a trailing `*`.
    pub(crate) fn startswith(mut self) -> Self {
        if self.0.last() != Some(&Part::Many) {
            self.0.push(Part::Many);
        }
        self
    }

    /// Makes the value match at the end (`endswith`): a leading `*`.
    pub(crate) fn endswith(mut self) -> Self {
        if self.0.first() != Some(&Part::Many) {
            self.0.insert(0, Part::Many);
        }
        self
    }
}

/// Where a literal must sit in the haystack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Exact,
    Prefix,
    Suffix,
    Contains,
}

/// The simple reading of a value, when it has one.
enum Shape {
    /// `*` alone: any text.
    Any,
    Literal(Anchor, String),
    Complex,
}

fn shape(s: &SigmaString) -> Shape {
    let parts = &s.0;
    let lead = parts.first() == Some(&Part::Many);
    let trail = parts.len() > usize::from(lead) && parts.last() == Some(&Part::Many);
    let inner = &parts[usize::from(lead)..parts.len() - usize::from(trail)];
    let text = match inner {
        [] => String::new(),
        [Part::Lit(t)] => t.clone(),
        _ => return Shape::Complex,
    };
    let anchor = match (lead, trail) {
        (false, false) => Anchor::Exact,
        (false, true) => Anchor::Prefix,
        (true, false) => Anchor::Suffix,
        (true, true) => Anchor::Contains,
    };
    if text.is_empty() && anchor != Anchor::Exact {
        return Shape::Any;
    }
    Shape::Literal(anchor, text)
}

/// The regex for a value: a group anchored where the value has no leading or trailing
/// `*`, so that several can be joined with `|`.
fn regex_source(value: &SigmaString) -> String {
    let parts = &value.0;
    let lead = parts.first() == Some(&Part::Many);
    let trail = parts.len() > usize::from(lead) && parts.last() == Some(&Part::Many);
    let mut re = String::from("(?:");
    if !lead {
        re.push('^');
    }
    for part in &parts[usize::from(lead)..parts.len() - usize::from(trail)] {
        match part {
            Part::Lit(t) => re.push_str(&regex::escape(t)),
            Part::One => re.push('.'),
            Part::Many => re.push_str(".*"),
            Part::Class(chars) => {
                re.push('[');
                for c in chars {
                    re.push_str(&regex::escape(&c.to_string()));
                }
                re.push(']');
            }
            // Placeholders are expanded before compiling; one left over is matched
            // literally rather than guessed at.
            Part::Placeholder(name) => re.push_str(&regex::escape(&format!("%{name}%"))),
        }
    }
    if !trail {
        re.push('$');
    }
    re.push(')');
    re
}

/// A compiled test on one text value.
#[derive(Debug, Clone)]
pub(crate) enum StrMatcher {
    /// Any text at all (`*`).
    Any,
    Literal {
        anchor: Anchor,
        needle: Box<str>,
        /// When false, ASCII letters compare without case. The needle is ASCII then:
        /// non-ASCII needles under case folding are compiled to a regex instead.
        cased: bool,
    },
    /// One or more substrings, any of which is enough: one automaton for a whole
    /// `contains` list (the needles are kept for the prefilter). Without case, the
    /// automaton holds the needles in lower case and must be given the text in lower case
    /// ([`is_match_folded`](Self::is_match_folded)): a case-sensitive automaton can use
    /// SIMD prefilters, an ASCII-case-insensitive one mostly cannot, and the text is
    /// lowercased once per event and field rather than once per rule.
    ContainsAny {
        automaton: AhoCorasick,
        needles: Box<[Box<str>]>,
        folded: bool,
    },
    Regex(Regex),
}

impl StrMatcher {
    /// Compiles the values of one OR-list. Plain substrings share a single automaton.
    pub(crate) fn compile_any(
        values: &[SigmaString],
        cased: bool,
    ) -> Result<Vec<StrMatcher>, PatternError> {
        let mut out = Vec::new();
        let mut substrings = Vec::new();
        let mut patterns = Vec::new();
        for v in values {
            match shape(v) {
                Shape::Any => out.push(StrMatcher::Any),
                Shape::Literal(Anchor::Contains, text) if cased || text.is_ascii() => {
                    substrings.push(text);
                }
                Shape::Literal(anchor, text) if cased || text.is_ascii() => {
                    out.push(Self::literal(anchor, text, cased));
                }
                Shape::Literal(..) | Shape::Complex => patterns.push(regex_source(v)),
            }
        }
        if !substrings.is_empty() {
            out.push(Self::substrings(&substrings, cased)?);
        }
        // Every value that needs a regex shares one alternation: one scan, not one each.
        if !patterns.is_empty() {
            out.push(Self::regex(&patterns.join("|"), cased)?);
        }
        Ok(out)
    }

    /// Compiles one value.
    pub(crate) fn compile(value: &SigmaString, cased: bool) -> Result<StrMatcher, PatternError> {
        match shape(value) {
            Shape::Any => Ok(StrMatcher::Any),
            Shape::Literal(Anchor::Contains, text) if cased || text.is_ascii() => {
                Self::substrings(&[text], cased)
            }
            Shape::Literal(anchor, text) if cased || text.is_ascii() => {
                Ok(Self::literal(anchor, text, cased))
            }
            Shape::Literal(..) | Shape::Complex => Self::regex(&regex_source(value), cased),
        }
    }

    fn regex(source: &str, cased: bool) -> Result<StrMatcher, PatternError> {
        RegexBuilder::new(source)
            .case_insensitive(!cased)
            .dot_matches_new_line(true)
            .build()
            .map(StrMatcher::Regex)
            .map_err(|e| PatternError::Regex {
                pattern: source.to_owned(),
                reason: e.to_string(),
            })
    }

    fn literal(anchor: Anchor, text: String, cased: bool) -> StrMatcher {
        StrMatcher::Literal {
            anchor,
            needle: text.into_boxed_str(),
            cased,
        }
    }

    fn substrings(needles: &[String], cased: bool) -> Result<StrMatcher, PatternError> {
        let folded = !cased;
        let patterns: Vec<String> = if folded {
            needles.iter().map(|n| n.to_ascii_lowercase()).collect()
        } else {
            needles.to_vec()
        };
        AhoCorasickBuilder::new()
            .build(&patterns)
            .map(|automaton| StrMatcher::ContainsAny {
                automaton,
                needles: needles.iter().map(|n| n.as_str().into()).collect(),
                folded,
            })
            .map_err(|e| PatternError::Substrings(e.to_string()))
    }

    /// Whether the text matches.
    pub(crate) fn is_match(&self, hay: &str) -> bool {
        match self {
            StrMatcher::Any => true,
            StrMatcher::Literal {
                anchor,
                needle,
                cased,
            } => {
                let (h, n) = (hay.as_bytes(), needle.as_bytes());
                let eq = |a: &[u8], b: &[u8]| {
                    if *cased {
                        a == b
                    } else {
                        a.eq_ignore_ascii_case(b)
                    }
                };
                match anchor {
                    Anchor::Exact => h.len() == n.len() && eq(h, n),
                    Anchor::Prefix => h.len() >= n.len() && eq(&h[..n.len()], n),
                    Anchor::Suffix => h.len() >= n.len() && eq(&h[h.len() - n.len()..], n),
                    // Substrings are compiled to an automaton; kept for completeness.
                    Anchor::Contains => n.is_empty() || h.windows(n.len()).any(|w| eq(w, n)),
                }
            }
            StrMatcher::ContainsAny {
                automaton, folded, ..
            } => {
                if *folded && hay.bytes().any(|b| b.is_ascii_uppercase()) {
                    automaton.is_match(&hay.to_ascii_lowercase())
                } else {
                    automaton.is_match(hay)
                }
            }
            StrMatcher::Regex(re) => re.is_match(hay),
        }
    }

    /// [`is_match`](Self::is_match) with the text's ASCII-lowercased form at hand.
    pub(crate) fn is_match_folded(&self, hay: &str, lower: &str) -> bool {
        match self {
            StrMatcher::ContainsAny {
                automaton,
                folded: true,
                ..
            } => automaton.is_match(lower),
            other => other.is_match(hay),
        }
    }

    /// Whether matching is quicker given the text in lower case.
    pub(crate) fn wants_folded(&self) -> bool {
        matches!(self, StrMatcher::ContainsAny { folded: true, .. })
    }

    /// Texts one of which every matching value contains (ASCII case aside), for the
    /// prefilter; `None` when no such list exists (any text, regex, an empty needle).
    pub(crate) fn required_substrings(&self) -> Option<Vec<&str>> {
        let needles: Vec<&str> = match self {
            StrMatcher::Literal { needle, .. } => vec![needle],
            StrMatcher::ContainsAny { needles, .. } => needles.iter().map(|n| &**n).collect(),
            StrMatcher::Any | StrMatcher::Regex(_) => return None,
        };
        (!needles.iter().any(|n| n.is_empty())).then_some(needles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(raw: &str, cased: bool) -> StrMatcher {
        StrMatcher::compile(&SigmaString::parse(raw, false), cased).unwrap()
    }

    #[test]
    fn escapes_follow_the_specification_table() {
        use Part::*;
        let p = |s| SigmaString::parse(s, false).0;
        assert_eq!(p(r"a\*b"), vec![Lit("a*b".into())]);
        assert_eq!(p(r"a\\*"), vec![Lit(r"a\".into()), Many]);
        assert_eq!(p(r"a\\\*"), vec![Lit(r"a\*".into())]);
        assert_eq!(p(r"a\\\\b"), vec![Lit(r"a\\b".into())]);
        assert_eq!(p(r"a\\\b"), vec![Lit(r"a\\b".into())]);
        assert_eq!(p(r"C:\Windows\x"), vec![Lit(r"C:\Windows\x".into())]);
        assert_eq!(p(r"C:\\Windows"), vec![Lit(r"C:\Windows".into())]);
        assert_eq!(p(r"a\?"), vec![Lit("a?".into())]);
        assert_eq!(
            p("a?b**"),
            vec![Lit("a".into()), One, Lit("b".into()), Many]
        );
        assert_eq!(p(r"trail\"), vec![Lit(r"trail\".into())]);
    }

    #[test]
    fn placeholders_only_under_expand() {
        use Part::*;
        let p = |s| SigmaString::parse(s, true).0;
        assert_eq!(p("%Servers%"), vec![Placeholder("Servers".into())]);
        assert_eq!(
            p(r"\%plain%name%"),
            vec![Lit("%plain".into()), Placeholder("name".into())]
        );
        assert_eq!(p("50%"), vec![Lit("50%".into())]);
        assert_eq!(
            SigmaString::parse("%Servers%", false).0,
            vec![Lit("%Servers%".into())]
        );
    }

    #[test]
    fn literal_matchers_fold_ascii_case() {
        assert!(m("Whoami.EXE", false).is_match("whoami.exe"));
        assert!(!m("whoami.exe", false).is_match("xwhoami.exe"));
        assert!(m("*\\cmd.exe", false).is_match(r"C:\Windows\CMD.exe"));
        assert!(!m("*\\cmd.exe", false).is_match(r"C:\Windows\cmd.exe2"));
        assert!(m("adm*", false).is_match("ADMIN"));
        assert!(!m("adm*", false).is_match("xadmin"));
        assert!(m("*Mimi*", false).is_match("run mimikatz now"));
        assert!(!m("*Mimi*", false).is_match("run mimkatz now"));
        assert!(m("*", false).is_match(""));
        assert!(m("", false).is_match(""));
        assert!(!m("", false).is_match("x"));
    }

    #[test]
    fn cased_matchers_do_not_fold() {
        assert!(!m("Whoami", true).is_match("whoami"));
        assert!(m("*Whoami*", true).is_match("xWhoamix"));
        assert!(!m("*Whoami*", true).is_match("xwhoamix"));
    }

    #[test]
    fn inner_wildcards_and_escapes_use_regex() {
        assert!(m("prog?.exe", false).is_match("PROGA.exe"));
        assert!(!m("prog?.exe", false).is_match("prog.exe"));
        assert!(m("a*b*c", false).is_match("a--b--\nc"));
        assert!(!m("a*b*c", false).is_match("a--b--c-"));
        // An escaped star is a star, not a wildcard.
        assert!(m(r"a\*b", false).is_match("a*b"));
        assert!(!m(r"a\*b", false).is_match("axxb"));
        // An escaped backslash followed by a wildcard.
        assert!(m(r"dir\\*", false).is_match(r"dir\anything"));
        assert!(!m(r"dir\\*", false).is_match("dirx"));
    }

    #[test]
    fn non_ascii_folds_through_regex() {
        assert!(m("ÄRGER", false).is_match("ärger"));
        assert!(m("*ÄRGER*", false).is_match("xx ärger yy"));
        assert!(!m("ÄRGER", true).is_match("ärger"));
    }

    #[test]
    fn wildcard_lists_share_one_regex() {
        let vals: Vec<_> = ["a?c", "*x*y*", "ÄÖ"]
            .iter()
            .map(|s| SigmaString::parse(s, false))
            .collect();
        let ms = StrMatcher::compile_any(&vals, false).unwrap();
        assert_eq!(ms.len(), 1);
        assert!(matches!(ms[0], StrMatcher::Regex(_)));
        for hit in ["ABC", "--x--Y--", "äö"] {
            assert!(ms[0].is_match(hit), "{hit}");
        }
        // Anchors stay with their own value.
        for miss in ["abcd", "zabc", "yx", "äöx"] {
            assert!(!ms[0].is_match(miss), "{miss}");
        }
    }

    #[test]
    fn folded_substrings_match_with_and_without_the_lowered_text() {
        let vals: Vec<_> = ["*Invoke-Mimikatz*", "*-EncodedCommand*"]
            .iter()
            .map(|s| SigmaString::parse(s, false))
            .collect();
        let ms = StrMatcher::compile_any(&vals, false).unwrap();
        assert!(ms[0].wants_folded());
        for hay in ["x INVOKE-mimikatz y", "powershell -encodedcommand AA"] {
            assert!(ms[0].is_match(hay), "{hay}");
            assert!(
                ms[0].is_match_folded(hay, &hay.to_ascii_lowercase()),
                "{hay}"
            );
        }
        assert!(!ms[0].is_match("Invoke-Mimi"));
        let cased = StrMatcher::compile_any(&vals, true).unwrap();
        assert!(!cased[0].wants_folded());
        assert!(!cased[0].is_match("x INVOKE-mimikatz y"));
        assert!(cased[0].is_match_folded("x Invoke-Mimikatz y", "x invoke-mimikatz y"));
    }

    #[test]
    fn contains_lists_share_one_automaton() {
        let vals: Vec<_> = ["*foo*", "*bar*", "baz*"]
            .iter()
            .map(|s| SigmaString::parse(s, false))
            .collect();
        let ms = StrMatcher::compile_any(&vals, false).unwrap();
        assert_eq!(ms.len(), 2);
        assert!(
            ms.iter()
                .any(|m| matches!(m, StrMatcher::ContainsAny { .. }))
        );
        assert!(ms.iter().any(|m| m.is_match("xxBARxx")));
        assert!(ms.iter().any(|m| m.is_match("BAZooka")));
        assert!(!ms.iter().any(|m| m.is_match("xbaz")));
    }
}
