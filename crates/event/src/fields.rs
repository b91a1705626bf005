//! [`Fields`]: an event's optional fields, a small map from ECS dotted name to [`Value`].
//!
//! An event carries 5 to 40 fields, set once each by a parser and then read many times
//! (detection, indexing). A sorted `Vec` suits that better than a `BTreeMap`: one
//! allocation for the whole map instead of a node per eleven entries, lookups by binary
//! search, iteration in name order (so JSON output keeps the order it had), and names that
//! are [`Name`]s: a field-name constant is stored as a `&'static str` and a short
//! dynamic name inline, so setting a field allocates nothing for its name.

use std::fmt;

use compact_str::CompactString;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{IntoName, Value};

/// A field name or tag: a `&'static str` constant, or up to 24 bytes inline, or a heap
/// string beyond that. Derefs to `str`.
pub type Name = CompactString;

/// An event's optional fields in name order. Names are unique.
#[derive(Clone, Default, PartialEq)]
pub struct Fields {
    entries: Vec<(Name, Value)>,
}

impl Fields {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map with room for `n` fields.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
        }
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    /// The value of a field, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).ok().map(|i| &self.entries[i].1)
    }

    /// The value of a field for changing in place, if present.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self.position(name) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    /// Whether the field is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets a field, returning the value it replaced.
    pub fn insert(&mut self, name: impl IntoName, value: Value) -> Option<Value> {
        let name = name.into_name();
        // Parsers often set fields in name order: then the new one goes at the end.
        if let Some((last, _)) = self.entries.last() {
            if last.as_str() < name.as_str() {
                self.entries.push((name, value));
                return None;
            }
        } else {
            if self.entries.capacity() == 0 {
                self.entries.reserve(16);
            }
            self.entries.push((name, value));
            return None;
        }
        match self.position(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (name, value));
                None
            }
        }
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        match self.position(name) {
            Ok(i) => Some(self.entries.remove(i).1),
            Err(_) => None,
        }
    }

    /// Keeps only the fields for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut Value) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fields in name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// The field names in order.
    pub fn keys(&self) -> impl Iterator<Item = &Name> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in name order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The fields whose names start with `prefix`, in name order.
    pub fn with_prefix<'a>(&'a self, prefix: &str) -> Iter<'a> {
        let start = self.position(prefix).unwrap_or_else(|i| i);
        let len = self.entries[start..]
            .iter()
            .take_while(|(k, _)| k.starts_with(prefix))
            .count();
        Iter {
            inner: self.entries[start..start + len].iter(),
        }
    }
}

/// Borrowing iterator over [`Fields`], in name order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, (Name, Value)>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Name, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a Name, &'a Value);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Fields {
    type Item = (Name, Value);
    type IntoIter = std::vec::IntoIter<(Name, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: IntoName> Extend<(K, Value)> for Fields {
    fn extend<I: IntoIterator<Item = (K, Value)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: IntoName> FromIterator<(K, Value)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(iter: I) -> Self {
        let mut fields = Fields::new();
        fields.extend(iter);
        fields
    }
}

impl std::ops::Index<&str> for Fields {
    type Output = Value;

    /// The value of a field; panics when it is absent, as `BTreeMap`'s index does.
    fn index(&self, name: &str) -> &Value {
        match self.get(name) {
            Some(v) => v,
            None => panic!("no field {name:?}"),
        }
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k.as_str(), v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldsVisitor;

        impl<'de> Visitor<'de> for FieldsVisitor {
            type Value = Fields;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of field names to values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Fields, A::Error> {
                let mut fields = Fields::with_capacity(access.size_hint().unwrap_or(0));
                while let Some((k, v)) = access.next_entry::<Name, Value>()? {
                    fields.insert(k, v);
                }
                Ok(fields)
            }
        }

        deserializer.deserialize_map(FieldsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_names_sorted_and_unique() {
        let mut f = Fields::new();
        for (k, v) in [("b", 1), ("a", 2), ("c", 3), ("b", 4), ("aa", 5)] {
            f.insert(k, Value::Int(v));
        }
        let names: Vec<&str> = f.keys().map(Name::as_str).collect();
        assert_eq!(names, ["a", "aa", "b", "c"]);
        assert_eq!(f.get("b"), Some(&Value::Int(4)));
        assert_eq!(f.insert("c", Value::Int(9)), Some(Value::Int(3)));
        assert_eq!(f.remove("a"), Some(Value::Int(2)));
        assert_eq!(f.remove("a"), None);
        assert!(!f.contains_key("a"));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn prefix_ranges_and_retain() {
        let f: Fields = [
            ("alert.group.a", Value::Int(1)),
            ("alert", Value::Int(0)),
            ("alert.group.b", Value::Int(2)),
            ("alert.h", Value::Int(3)),
            ("alert.group", Value::Int(4)),
        ]
        .into_iter()
        .collect();
        let got: Vec<&str> = f
            .with_prefix("alert.group.")
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(got, ["alert.group.a", "alert.group.b"]);
        assert_eq!(f.with_prefix("zzz").count(), 0);
        let mut g = f.clone();
        g.retain(|k, _| !k.starts_with("alert.group"));
        assert_eq!(
            g.keys().map(Name::as_str).collect::<Vec<_>>(),
            ["alert", "alert.h"]
        );
    }

    #[test]
    fn serde_is_a_plain_map() {
        let f: Fields = [("z", Value::from("x")), ("a", Value::Int(1))]
            .into_iter()
            .collect();
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"a":1,"z":"x"}"#);
        let back: Fields = serde_json::from_str(r#"{"z":"x","a":1}"#).unwrap();
        assert_eq!(back, f);
    }
}
