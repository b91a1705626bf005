//! [`Fields`]: an event's optional fields, a small map from ECS dotted name to [`Value`].
//!
//! An event carries 5 to 40 fields, set once each by a parser and then read many times
//! (detection, indexing). A `Vec` in the order the fields were set suits that better than
//! a `BTreeMap`: one allocation for the whole map instead of a node per eleven entries,
//! and no string comparisons to keep an order. Each entry keeps a fingerprint of its
//! name (length and last seven bytes), so finding a name compares integers and reads
//! the name's bytes only on a fingerprint match. Names are [`Name`]s: a field-name
//! constant is kept as its `&'static str`, so setting a field copies no name.
//! Serialisation and [`Fields::sorted`] give the fields in name order.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{IntoName, Value};

/// A field name or tag: a `&'static str` constant, or a name made at run time.
pub type Name = Cow<'static, str>;

/// Length and last seven bytes of a name: equal names have equal fingerprints, and
/// distinct field names of one event almost never share one.
#[inline]
fn fingerprint(name: &str) -> u64 {
    let b = name.as_bytes();
    let n = b.len();
    let tail = if n >= 8 {
        let mut last = [0u8; 8];
        last.copy_from_slice(&b[n - 8..]);
        u64::from_le_bytes(last) >> 8
    } else {
        let mut last = [0u8; 8];
        last[..n].copy_from_slice(b);
        u64::from_le_bytes(last)
    };
    tail ^ ((n as u64) << 56)
}

#[derive(Clone, Debug)]
struct Entry {
    fingerprint: u64,
    name: Name,
    value: Value,
}

/// An event's optional fields, in the order they were set. Names are unique.
#[derive(Default)]
pub struct Fields {
    entries: Vec<Entry>,
    /// A one-word Bloom filter of the names present (one bit per name, chosen by its
    /// fingerprint): a clear bit proves a name absent without a scan, which is the
    /// common answer both when a parser sets a new field and when a detection rule
    /// asks for a field the event lacks. Bits are not cleared on removal.
    seen: u64,
}

/// The filter bit of a fingerprint: its top six bits after a multiplicative mix.
#[inline]
fn bit(fingerprint: u64) -> u64 {
    1 << (fingerprint.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58)
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
            seen: 0,
        }
    }

    #[inline]
    fn position(&self, name: &str) -> Option<usize> {
        let fp = fingerprint(name);
        if self.seen & bit(fp) == 0 {
            return None;
        }
        self.entries
            .iter()
            .position(|e| e.fingerprint == fp && e.name == name)
    }

    /// The value of a field, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).map(|i| &self.entries[i].value)
    }

    /// The value of a field for changing in place, if present.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.position(name).map(|i| &mut self.entries[i].value)
    }

    /// Whether the field is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Sets a field, returning the value it replaced.
    #[inline]
    pub fn insert(&mut self, name: impl IntoName, value: impl Into<Value>) -> Option<Value> {
        let name = name.into_name();
        let fingerprint = fingerprint(&name);
        let bit = bit(fingerprint);
        if self.seen & bit != 0
            && let Some(e) = self
                .entries
                .iter_mut()
                .find(|e| e.fingerprint == fingerprint && e.name == name)
        {
            return Some(std::mem::replace(&mut e.value, value.into()));
        }
        self.seen |= bit;
        if self.entries.len() == self.entries.capacity() {
            // Most events have 10 to 30 fields (an sshd login 25, before enrichment adds
            // its labels): one allocation, not a growth. Room is made before the value is
            // built, so it can be built in its place.
            self.entries
                .reserve(if self.entries.is_empty() { 32 } else { 16 });
        }
        self.entries.push(Entry {
            fingerprint,
            name,
            value: value.into(),
        });
        None
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.position(name).map(|i| self.entries.remove(i).value)
    }

    /// Keeps only the fields for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, &mut Value) -> bool) {
        self.entries.retain_mut(|e| keep(&e.name, &mut e.value));
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fields in the order they were set.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// The fields in name order (for display and serialisation).
    pub fn sorted(&self) -> Vec<(&Name, &Value)> {
        let mut all: Vec<_> = self.iter().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all
    }

    /// The field names in the order they were set.
    pub fn keys(&self) -> impl Iterator<Item = &Name> {
        self.entries.iter().map(|e| &e.name)
    }

    /// The values in the order they were set.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries.iter().map(|e| &e.value)
    }

    /// The fields whose names start with `prefix`, in name order.
    pub fn with_prefix<'a>(&'a self, prefix: &str) -> Vec<(&'a Name, &'a Value)> {
        let mut found: Vec<_> = self.iter().filter(|(k, _)| k.starts_with(prefix)).collect();
        found.sort_unstable_by(|a, b| a.0.cmp(b.0));
        found
    }
}

/// A clone keeps the original's spare room, so the stages after parsing (enrichment
/// adds `labels.*` and GeoIP fields) can set fields on a copy without moving it.
impl Clone for Fields {
    fn clone(&self) -> Self {
        let mut entries = Vec::with_capacity(self.entries.capacity());
        entries.extend(self.entries.iter().cloned());
        Self {
            entries,
            seen: self.seen,
        }
    }
}

/// Equal when both hold the same names with equal values, whatever the order they
/// were set in.
impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|w| w == v))
    }
}

/// Borrowing iterator over [`Fields`], in name order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Name, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|e| (&e.name, &e.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|e| (&e.name, &e.value))
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
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter {
            inner: self.entries.into_iter(),
        }
    }
}

/// Owning iterator over [`Fields`], in the order they were set.
#[derive(Debug)]
pub struct IntoIter {
    inner: std::vec::IntoIter<Entry>,
}

impl Iterator for IntoIter {
    type Item = (Name, Value);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|e| (e.name, e.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
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
        f.debug_map().entries(self.sorted()).finish()
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.sorted() {
            map.serialize_entry(k.as_ref(), v)?;
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
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
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

    /// A big map (a Suricata stats record has 265 fields) answers as a `BTreeMap` does
    /// through inserts, replacements, removals, `retain` and clones, including names
    /// that share a fingerprint (same length, same last seven bytes).
    #[test]
    fn big_maps_answer_like_a_btreemap() {
        use std::collections::BTreeMap;
        let mut f = Fields::new();
        let mut model = BTreeMap::new();
        let name = |i: usize| format!("suricata.eve.stats.{}{i:03}.version", ["a", "b"][i % 2]);
        assert_eq!(
            fingerprint(&name(0)),
            fingerprint(&name(2)),
            "a shared fingerprint"
        );
        for round in 0..3_i64 {
            for i in (0..300).step_by(1 + round as usize) {
                let old = f.insert(name(i), round);
                assert_eq!(old, model.insert(name(i), Value::Int(round)), "{}", name(i));
            }
            for i in (0..300).step_by(7) {
                assert_eq!(f.remove(&name(i)), model.remove(&name(i)));
            }
            f.retain(|k, _| !k.ends_with("5.version"));
            model.retain(|k, _| !k.ends_with("5.version"));
            let copy = f.clone();
            for i in 0..310 {
                assert_eq!(f.get(&name(i)), model.get(&name(i)), "{}", name(i));
                assert_eq!(copy.get(&name(i)), model.get(&name(i)), "{}", name(i));
            }
            assert_eq!(f.len(), model.len());
        }
    }

    #[test]
    fn keeps_names_unique_in_set_order() {
        let mut f = Fields::new();
        for (k, v) in [("b", 1), ("a", 2), ("c", 3), ("b", 4), ("aa", 5)] {
            f.insert(k, Value::Int(v));
        }
        let names: Vec<&str> = f.keys().map(|k| k.as_ref()).collect();
        assert_eq!(names, ["b", "a", "c", "aa"], "the order they were set in");
        let sorted = f.sorted();
        let sorted: Vec<&str> = sorted.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(sorted, ["a", "aa", "b", "c"]);
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
        let got = f.with_prefix("alert.group.");
        let got: Vec<&str> = got.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(got, ["alert.group.a", "alert.group.b"]);
        assert!(f.with_prefix("zzz").is_empty());
        let mut g = f.clone();
        g.retain(|k, _| !k.starts_with("alert.group"));
        assert_eq!(
            g.keys().map(|k| k.as_ref()).collect::<Vec<&str>>(),
            ["alert", "alert.h"]
        );
    }

    #[test]
    fn fingerprints_tell_names_apart_and_equality_ignores_order() {
        let names = [
            "host.name",
            "user.name",
            "source.ip",
            "client.ip",
            "a",
            "ab",
            "b",
        ];
        let f: Fields = names
            .iter()
            .enumerate()
            .map(|(i, &n)| (n, Value::Int(i as i64)))
            .collect();
        for (i, n) in names.iter().enumerate() {
            assert_eq!(f.get(n), Some(&Value::Int(i as i64)), "{n}");
        }
        assert_eq!(f.get("user.nam"), None);
        // More names than filter bits: every one still found, absent ones still absent.
        let many: Fields = (0..300)
            .map(|i| (format!("winlog.event_data.Field{i}"), Value::Int(i)))
            .collect();
        assert_eq!(many.len(), 300);
        for i in 0..300 {
            let name = format!("winlog.event_data.Field{i}");
            assert_eq!(many.get(&name), Some(&Value::Int(i)), "{name}");
        }
        assert_eq!(many.get("winlog.event_data.Field300"), None);
        let reversed: Fields = f
            .iter()
            .rev()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        assert_eq!(reversed, f);
        let mut changed = reversed.clone();
        changed.insert("a", Value::Int(99));
        assert_ne!(changed, f);
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
