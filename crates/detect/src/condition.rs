//! The `condition` expression: tokenising, parsing with Sigma's precedence (or < and <
//! not < `x of` < parentheses) and resolving identifiers to indices, so that evaluation
//! walks a small tree of integers.

/// A condition that does not parse or names what is not there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConditionError {
    #[error("bad condition {condition:?} at {position}: {reason}")]
    Syntax {
        condition: String,
        /// Character offset of the offending token.
        position: usize,
        reason: String,
    },
    #[error("condition {condition:?} names unknown search identifier {name:?}")]
    UnknownIdentifier { condition: String, name: String },
    #[error("condition {condition:?}: pattern {pattern:?} matches no search identifier")]
    EmptyPattern { condition: String, pattern: String },
    #[error(
        "condition {condition:?} uses the Sigma 1.0 aggregation syntax ({what}); write a correlation rule instead"
    )]
    Aggregation { condition: String, what: String },
}

/// A parsed condition over search identifiers (indices into the rule's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cond {
    Ident(usize),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    /// At least `n` of these.
    AtLeast(usize, Vec<usize>),
}

impl Cond {
    /// Evaluates with `search(i)` giving the value of identifier `i`.
    pub(crate) fn eval(&self, search: &mut dyn FnMut(usize) -> bool) -> bool {
        match self {
            Cond::Ident(i) => search(*i),
            Cond::And(items) => items.iter().all(|c| c.eval(search)),
            Cond::Or(items) => items.iter().any(|c| c.eval(search)),
            Cond::Not(c) => !c.eval(search),
            Cond::AtLeast(n, ids) => {
                let mut hits = 0;
                for i in ids {
                    if search(*i) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    LParen,
    RParen,
    And,
    Or,
    Not,
    Of,
    Them,
    All,
    Number(usize),
    Word(String),
    Pipe,
}

fn tokenize(text: &str) -> Vec<(usize, Tok)> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(pos, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '|' => {
                chars.next();
                out.push((
                    pos,
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        _ => Tok::Pipe,
                    },
                ));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '|') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "of" => Tok::Of,
                    "them" => Tok::Them,
                    "all" => Tok::All,
                    "any" => Tok::Number(1),
                    _ => match word.parse::<usize>() {
                        Ok(n) => Tok::Number(n),
                        Err(_) => Tok::Word(word),
                    },
                };
                out.push((pos, tok));
            }
        }
    }
    out
}

struct Parser<'a> {
    text: &'a str,
    toks: Vec<(usize, Tok)>,
    at: usize,
    names: &'a [String],
}

/// Parses a condition against the rule's search identifiers.
pub(crate) fn parse(text: &str, names: &[String]) -> Result<Cond, ConditionError> {
    let toks = tokenize(text);
    if let Some((pos, _)) = toks.iter().find(|(_, t)| *t == Tok::Pipe) {
        return Err(ConditionError::Aggregation {
            condition: text.to_owned(),
            what: text[*pos..].trim().to_owned(),
        });
    }
    let mut p = Parser {
        text,
        toks,
        at: 0,
        names,
    };
    if p.toks.is_empty() {
        return Err(p.error(0, "empty condition"));
    }
    let cond = p.or()?;
    if let Some((pos, tok)) = p.toks.get(p.at) {
        let reason = format!("unexpected {tok:?} after a complete expression");
        return Err(p.error(*pos, &reason));
    }
    Ok(cond)
}

impl Parser<'_> {
    fn error(&self, position: usize, reason: &str) -> ConditionError {
        if let Some(Tok::Word(w)) = self.toks.get(self.at).map(|(_, t)| t)
            && matches!(w.to_ascii_lowercase().as_str(), "near" | "count" | "by")
        {
            return ConditionError::Aggregation {
                condition: self.text.to_owned(),
                what: w.clone(),
            };
        }
        ConditionError::Syntax {
            condition: self.text.to_owned(),
            position,
            reason: reason.to_owned(),
        }
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.text.len(), |(p, _)| *p)
    }

    fn or(&mut self) -> Result<Cond, ConditionError> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::Or(items)
        })
    }

    fn and(&mut self) -> Result<Cond, ConditionError> {
        let mut items = vec![self.not()?];
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            items.push(self.not()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Cond::And(items)
        })
    }

    fn not(&mut self) -> Result<Cond, ConditionError> {
        if self.peek() == Some(&Tok::Not) {
            self.at += 1;
            return Ok(Cond::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, ConditionError> {
        let pos = self.pos();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error(pos, "expression expected, found the end"));
        };
        self.at += 1;
        match tok {
            Tok::LParen => {
                let inner = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    let pos = self.pos();
                    return Err(self.error(pos, "')' expected"));
                }
                self.at += 1;
                Ok(inner)
            }
            Tok::Number(_) | Tok::All => {
                if self.peek() != Some(&Tok::Of) {
                    let pos = self.pos();
                    return Err(self.error(pos, "'of' expected after a quantifier"));
                }
                self.at += 1;
                let pos = self.pos();
                let ids = match self.peek().cloned() {
                    Some(Tok::Them) => {
                        // By convention `them` leaves out identifiers starting with `_`.
                        (0..self.names.len())
                            .filter(|i| !self.names[*i].starts_with('_'))
                            .collect::<Vec<_>>()
                    }
                    Some(Tok::Word(pattern)) => {
                        let ids: Vec<usize> = (0..self.names.len())
                            .filter(|i| glob(&pattern, &self.names[*i]))
                            .collect();
                        if ids.is_empty() {
                            return Err(ConditionError::EmptyPattern {
                                condition: self.text.to_owned(),
                                pattern,
                            });
                        }
                        ids
                    }
                    _ => return Err(self.error(pos, "'them' or an identifier pattern expected")),
                };
                self.at += 1;
                let n = match tok {
                    Tok::Number(0) => return Err(self.error(pos, "'0 of' is meaningless")),
                    Tok::Number(n) => n,
                    _ => ids.len(),
                };
                Ok(Cond::AtLeast(n, ids))
            }
            Tok::Word(name) => match self.names.iter().position(|n| *n == name) {
                Some(i) => Ok(Cond::Ident(i)),
                None => Err(ConditionError::UnknownIdentifier {
                    condition: self.text.to_owned(),
                    name,
                }),
            },
            other => Err(self.error(pos, &format!("unexpected {other:?}"))),
        }
    }
}

/// Sigma identifier patterns: `*` matches any run of characters.
fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        [
            "selection",
            "sel_a",
            "sel_b",
            "filter_x",
            "filter_y",
            "_hidden",
            "keywords",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    fn eval(cond: &str, truths: &[&str]) -> bool {
        let n = names();
        let c = parse(cond, &n).unwrap();
        c.eval(&mut |i| truths.contains(&n[i].as_str()))
    }

    #[test]
    fn precedence_is_or_and_not() {
        // a or b and c == a or (b and c)
        assert!(eval("selection or sel_a and sel_b", &["selection"]));
        assert!(!eval("selection or sel_a and sel_b", &["sel_a"]));
        // not binds tighter than and
        assert!(eval("not selection and sel_a", &["sel_a"]));
        assert!(!eval("not (selection and sel_a)", &["selection", "sel_a"]));
        assert!(eval("not selection or sel_a", &["selection", "sel_a"]));
        assert!(eval("(selection or sel_a) and sel_b", &["sel_a", "sel_b"]));
        assert!(!eval("(selection or sel_a) and sel_b", &["sel_a"]));
        assert!(eval("not not selection", &["selection"]));
    }

    #[test]
    fn x_of_patterns_and_them() {
        assert!(eval("1 of sel_*", &["sel_b"]));
        assert!(!eval("all of sel_*", &["sel_b"]));
        assert!(eval("all of sel_*", &["sel_a", "sel_b"]));
        assert!(eval("selection and not 1 of filter_*", &["selection"]));
        assert!(!eval(
            "selection and not 1 of filter_*",
            &["selection", "filter_y"]
        ));
        // `them` leaves out `_hidden`.
        assert!(!eval("1 of them", &["_hidden"]));
        assert!(eval(
            "all of them",
            &[
                "selection",
                "sel_a",
                "sel_b",
                "filter_x",
                "filter_y",
                "keywords"
            ]
        ));
        // An explicit pattern may name underscore identifiers.
        assert!(eval("1 of _hid*", &["_hidden"]));
        assert!(eval("any of filter*", &["filter_x"]));
        assert!(eval("2 of sel*", &["sel_a", "selection"]));
        assert!(!eval("2 of sel*", &["sel_a"]));
        // x of binds tighter than not/and.
        assert!(eval("not 1 of filter* and selection", &["selection"]));
    }

    #[test]
    fn errors_are_precise() {
        let n = names();
        assert!(matches!(
            parse("selection and nope", &n),
            Err(ConditionError::UnknownIdentifier { name, .. }) if name == "nope"
        ));
        assert!(matches!(
            parse("1 of nothing*", &n),
            Err(ConditionError::EmptyPattern { .. })
        ));
        assert!(matches!(
            parse("selection and", &n),
            Err(ConditionError::Syntax { position: 13, .. })
        ));
        assert!(matches!(
            parse("(selection", &n),
            Err(ConditionError::Syntax { .. })
        ));
        assert!(matches!(
            parse("selection sel_a", &n),
            Err(ConditionError::Syntax { position: 10, .. })
        ));
        assert!(matches!(
            parse("selection | count() by host > 5", &n),
            Err(ConditionError::Aggregation { .. })
        ));
        assert!(matches!(parse("", &n), Err(ConditionError::Syntax { .. })));
        assert!(matches!(
            parse("1 selection", &n),
            Err(ConditionError::Syntax { .. })
        ));
    }

    #[test]
    fn glob_matches_stars_anywhere() {
        assert!(glob("sel*", "selection"));
        assert!(glob("*tion", "selection"));
        assert!(glob("s*c*n", "selection"));
        assert!(!glob("s*x*n", "selection"));
        assert!(glob("*", "anything"));
        assert!(!glob("sel", "selection"));
    }
}
