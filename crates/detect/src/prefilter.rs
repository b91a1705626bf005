//! The prefilter: which rules of a log source's bucket an event could match at all, found
//! with one substring scan per field instead of one test per rule.
//!
//! Most Sigma rules cannot match unless some field contains one of a few literals: an
//! `Image|endswith: '\certutil.exe'` holds only if `Image` contains `\certutil.exe`, a
//! `CommandLine|contains` list only if the command line contains one of its entries. At
//! [`RuleSet::link`](crate::RuleSet::link) each rule's detection is reduced to such a
//! *need*, an OR of (field, literal) pairs implied by its condition, and the literals of
//! every rule of a bucket are put, per field, into one ASCII-case-insensitive automaton.
//! An event's fields are each scanned once; only rules whose need was met, and rules
//! without a need, are then evaluated in full. The need is a necessary condition, never a
//! sufficient one, so the answer is exactly that of evaluating every rule: the
//! differential and SigmaHQ tests compare both paths.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

use crate::condition::Cond;
use crate::detection::{Detection, EvalCtx, Search, field_id};
use crate::matcher::{FieldTest, ValueMatcher};

/// The name the keyword haystacks are indexed under (no event field is called this).
const KEYWORDS: &str = "\0keywords";

/// An OR of "this field's text contains this literal" (ASCII case ignored); `None` in
/// place of a need means the rule must always be evaluated.
type Need = Vec<(String, String)>;

/// The need of a whole detection: what its condition implies.
pub(crate) fn need(d: &Detection) -> Option<Need> {
    let searches: Vec<Option<Need>> = d.searches.iter().map(search_need).collect();
    cond_need(&d.condition, &searches)
}

fn cond_need(c: &Cond, searches: &[Option<Need>]) -> Option<Need> {
    match c {
        Cond::Ident(i) => searches.get(*i).cloned().flatten(),
        Cond::And(items) => best(items.iter().filter_map(|c| cond_need(c, searches))),
        Cond::Or(items) => union(items.iter().map(|c| cond_need(c, searches))),
        // What must hold for a negation is not a substring of anything.
        Cond::Not(_) => None,
        // All of them: any one's need is necessary. At least one: one of them holds.
        Cond::AtLeast(n, ids) if *n >= ids.len() => best(
            ids.iter()
                .filter_map(|i| searches.get(*i).cloned().flatten()),
        ),
        Cond::AtLeast(0, _) => None,
        Cond::AtLeast(_, ids) => union(ids.iter().map(|i| searches.get(*i).cloned().flatten())),
    }
}

fn search_need(s: &Search) -> Option<Need> {
    match s {
        Search::And(items) => best(items.iter().filter_map(search_need)),
        Search::Or(items) => union(items.iter().map(search_need)),
        Search::Field { fields, test, .. } => {
            let literals = test_literals(test)?;
            let mut need = Vec::new();
            for f in fields {
                for l in &literals {
                    need.push((f.clone(), (*l).to_owned()));
                }
            }
            (!need.is_empty()).then_some(need)
        }
        // Keyword searches look in the haystacks, indexed under a name no field has.
        Search::Keywords(k) => {
            let literals = k.required_substrings()?;
            Some(
                literals
                    .into_iter()
                    .map(|l| (KEYWORDS.to_owned(), l.to_owned()))
                    .collect(),
            )
        }
    }
}

/// Literals one of which a value matching the test contains.
fn test_literals(t: &FieldTest) -> Option<Vec<&str>> {
    let FieldTest::Values {
        matchers,
        all,
        negate: false,
        or_null: false,
    } = t
    else {
        return None;
    };
    let per_matcher = matchers.iter().map(|m| match m {
        ValueMatcher::Str(s) => s.required_substrings(),
        _ => None,
    });
    if *all {
        // Every matcher must hold: any one's literals will do; take the longest.
        per_matcher.flatten().max_by_key(|ls| shortest(ls))
    } else {
        // Any matcher may hold: all of them need literals.
        let mut out = Vec::new();
        for ls in per_matcher {
            out.extend(ls?);
        }
        (!out.is_empty()).then_some(out)
    }
}

fn shortest(ls: &[&str]) -> usize {
    ls.iter().map(|l| l.len()).min().unwrap_or(0)
}

/// Of several needs that all hold, the most selective: the longest shortest literal,
/// then the fewest alternatives.
fn best(needs: impl Iterator<Item = Need>) -> Option<Need> {
    needs.max_by_key(|n| {
        let short = n.iter().map(|(_, l)| l.len()).min().unwrap_or(0);
        (short.min(16), std::cmp::Reverse(n.len()))
    })
}

/// One of several needs holds: all of them must exist.
fn union(needs: impl Iterator<Item = Option<Need>>) -> Option<Need> {
    let mut out = Vec::new();
    for n in needs {
        out.extend(n?);
    }
    (!out.is_empty()).then_some(out)
}

/// The literals of one field, and which rules each one admits.
#[derive(Debug, Clone)]
struct FieldIndex {
    field: String,
    id: u32,
    automaton: AhoCorasick,
    /// Per pattern: positions (in the bucket) of the rules it admits.
    rules: Vec<Vec<u32>>,
}

/// The index of one bucket of rules.
#[derive(Debug, Clone)]
pub(crate) struct Prefilter {
    fields: Vec<FieldIndex>,
    /// Bucket positions of the rules with no need: always evaluated.
    always: Vec<u32>,
    len: usize,
}

impl Prefilter {
    /// Indexes a bucket's detections, in bucket order.
    pub(crate) fn build(detections: &[&Detection]) -> Prefilter {
        let mut always = Vec::new();
        // field -> literal (lowercased) -> rules
        let mut by_field: HashMap<String, HashMap<String, Vec<u32>>> = HashMap::new();
        for (pos, d) in detections.iter().enumerate() {
            let pos = u32::try_from(pos).unwrap_or(u32::MAX);
            match need(d) {
                Some(need) => {
                    for (field, literal) in need {
                        let rules = by_field
                            .entry(field)
                            .or_default()
                            .entry(literal.to_ascii_lowercase())
                            .or_default();
                        if rules.last() != Some(&pos) {
                            rules.push(pos);
                        }
                    }
                }
                None => always.push(pos),
            }
        }
        let mut fields = Vec::new();
        let mut names: Vec<String> = by_field.keys().cloned().collect();
        names.sort();
        for field in names {
            let Some(literals) = by_field.remove(&field) else {
                continue;
            };
            let mut literals: Vec<(String, Vec<u32>)> = literals.into_iter().collect();
            literals.sort();
            let built = AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .build(literals.iter().map(|(l, _)| l));
            match built {
                Ok(automaton) => fields.push(FieldIndex {
                    id: field_id(&field),
                    field,
                    automaton,
                    rules: literals.into_iter().map(|(_, r)| r).collect(),
                }),
                // An automaton too large to build: its rules are evaluated every time.
                Err(_) => {
                    always.extend(literals.into_iter().flat_map(|(_, r)| r));
                }
            }
        }
        always.sort_unstable();
        always.dedup();
        Prefilter {
            fields,
            always,
            len: detections.len(),
        }
    }

    /// The bucket positions, in order, of the rules the event could match.
    pub(crate) fn candidates(&self, ctx: &mut EvalCtx<'_>) -> Vec<usize> {
        let mut admitted = vec![false; self.len];
        for &p in &self.always {
            admitted[p as usize] = true;
        }
        for f in &self.fields {
            let mut scan = |text: &str| {
                for m in f.automaton.find_overlapping_iter(text) {
                    for &p in &f.rules[m.pattern().as_usize()] {
                        admitted[p as usize] = true;
                    }
                }
            };
            if f.field == KEYWORDS {
                ctx.haystacks().iter().for_each(|h| scan(h));
                continue;
            }
            let Some(value) = ctx.value(f.id, &f.field) else {
                continue;
            };
            // Every element of a list: a rule matches a list when an element matches.
            value.any(&mut |v| {
                if let Some(t) = v.as_text() {
                    scan(&t);
                }
                false
            });
        }
        admitted
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.then_some(i))
            .collect()
    }
}
