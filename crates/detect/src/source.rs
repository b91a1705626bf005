//! What rules are evaluated against: the [`FieldSource`] trait, so that the engine never
//! depends on a concrete event type, and its implementation for [`gac_event::Event`].

use std::borrow::Cow;

use gac_event::{Event, ValueRef, field};

/// One field value as the evaluator sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    /// Present but null. Sigma's `null` matches this as well as a missing field.
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Cow<'a, str>),
    /// A multi-valued field: a matcher holds when it holds for any element.
    List(Vec<FieldValue<'a>>),
}

impl FieldValue<'_> {
    /// The value as text, the way string matchers see it. `None` for null and lists.
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            FieldValue::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            FieldValue::Int(i) => Some(Cow::Owned(i.to_string())),
            FieldValue::Float(x) => Some(Cow::Owned(x.to_string())),
            FieldValue::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
            FieldValue::Null | FieldValue::List(_) => None,
        }
    }

    /// The value as a number, reading numeric text too (logs often carry numbers as text).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Int(i) => Some(*i as f64),
            FieldValue::Float(x) => Some(*x),
            FieldValue::Str(s) => s.trim().parse().ok(),
            FieldValue::Null | FieldValue::Bool(_) | FieldValue::List(_) => None,
        }
    }

    /// Whether this value or, for a list, any element satisfies `pred`.
    pub(crate) fn any(&self, pred: &mut dyn FnMut(&FieldValue<'_>) -> bool) -> bool {
        match self {
            FieldValue::List(items) => items.iter().any(|v| v.any(pred)),
            other => pred(other),
        }
    }
}

/// Anything rules can be evaluated against.
///
/// Field names are the names after mapping (ECS for Gác events); Sigma names that no
/// mapping renames are looked up unchanged, so original Windows names work when the
/// event carries them.
pub trait FieldSource {
    /// The value of a field, `None` when the field is missing.
    fn field(&self, name: &str) -> Option<FieldValue<'_>>;

    /// The texts that Sigma keyword searches (values without a field) look in.
    fn keyword_haystacks(&self) -> Vec<&str>;
}

fn from_ref(v: ValueRef<'_>) -> FieldValue<'_> {
    match v {
        ValueRef::Str(s) => FieldValue::Str(Cow::Borrowed(s)),
        ValueRef::List(items) => {
            FieldValue::List(items.iter().map(|item| from_ref(item.as_ref())).collect())
        }
        ValueRef::Bool(b) => FieldValue::Bool(b),
        ValueRef::Int(i) => FieldValue::Int(i),
        ValueRef::Float(x) => FieldValue::Float(x),
    }
}

impl FieldSource for Event {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        match name {
            field::MESSAGE => Some(FieldValue::Str(Cow::Borrowed(self.message()))),
            field::TIMESTAMP => Some(FieldValue::Str(Cow::Owned(self.timestamp.to_string()))),
            field::EVENT_INGESTED => Some(FieldValue::Str(Cow::Owned(self.ingested.to_string()))),
            field::TAGS => Some(FieldValue::List(
                self.tags
                    .iter()
                    .map(|t| FieldValue::Str(Cow::Borrowed(t)))
                    .collect(),
            )),
            _ => self.fields.get(name).map(from_ref),
        }
    }

    fn keyword_haystacks(&self) -> Vec<&str> {
        vec![self.message()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gac_event::Timestamp;

    #[test]
    fn event_exposes_struct_fields_and_map_fields() {
        let mut e = Event::new(Timestamp::from_secs(0), Timestamp::from_secs(1), "hello");
        e.set("source.port", 22_i64);
        e.set("CommandLine", "cmd /c whoami");
        assert_eq!(
            e.field("message"),
            Some(FieldValue::Str(Cow::Borrowed("hello")))
        );
        assert_eq!(e.field("source.port"), Some(FieldValue::Int(22)));
        assert!(e.field("@timestamp").is_some());
        assert!(e.field("nope").is_none());
        assert_eq!(e.keyword_haystacks(), vec!["hello"]);
    }

    #[test]
    fn numbers_read_from_text() {
        assert_eq!(FieldValue::Str(Cow::Borrowed(" 42 ")).as_f64(), Some(42.0));
        assert_eq!(FieldValue::Bool(true).as_f64(), None);
        assert_eq!(FieldValue::Int(7).as_text().as_deref(), Some("7"));
    }
}
