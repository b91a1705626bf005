//! [`Fields`]: an event's optional fields, a small map from ECS dotted name to value.
//!
//! An event carries 5 to 40 fields, set once each by a parser and then read many times
//! (detection, indexing). A `Vec` in the order the fields were set suits that better than
//! a `BTreeMap`: one allocation for the whole map instead of a node per eleven entries,
//! and no string comparisons to keep an order. Each entry keeps a fingerprint of its
//! name (length and last seven bytes), so finding a name compares integers and reads
//! the name's bytes only on a fingerprint match. Names are [`Name`]s: a field-name
//! constant is kept as its `&'static str`, so setting a field copies no name.
//!
//! String values are not stored one by one: their text is appended to one buffer that
//! the map owns, and the entry keeps where it lies. Setting the 8 to 12 strings of a
//! parsed log line (host, program, user, address, the message body) therefore costs
//! one allocation for the whole event, not one per string longer than an inline
//! buffer, and a value is a few machine words written straight into its entry. A read
//! gives a [`ValueRef`], which borrows that text. Constant strings and lists (ECS
//! keywords) are kept as their `&'static` data. Serialisation and [`Fields::sorted`]
//! give the fields in name order.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smol_str::SmolStr;

use crate::{IntoName, Value, ValueRef};

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

/// Where an entry's value lies. Three words: written in place, no heap of its own.
#[derive(Clone, Copy, Debug, Default)]
enum Slot {
    #[default]
    Empty,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// `text[start..start + len]`. Whole words, not 32-bit halves: the slot is three
    /// words either way (a `&'static str` needs two), and a place always fits.
    Text {
        start: usize,
        len: usize,
    },
    Static(&'static str),
    StaticList(&'static [Value]),
    /// `owned[index]`: a list made at run time.
    Owned(usize),
}

#[derive(Clone, Debug)]
struct Entry {
    fingerprint: u64,
    name: Name,
    slot: Slot,
}

/// What the slots point into.
#[derive(Default, Debug)]
struct Store {
    /// The text of every string value, one after another.
    text: String,
    /// Values a slot cannot hold: run-time lists.
    owned: Vec<Value>,
    /// The event's `message`: kept in the text as well, so that a parsed record is held
    /// once, and the parts of it the fields name are places in it.
    message: Slot,
    /// While an event is being parsed ([`crate::Event::parse_from`]): the record text
    /// the parser reads, as an address range, and where its copy starts in `text`. A
    /// string that lies in that range is a part of the record and is stored as its
    /// place in the copy, not copied again.
    source: Option<Source>,
}

#[derive(Debug, Clone, Copy)]
struct Source {
    address: usize,
    len: usize,
    start: usize,
}

/// The text of most events fits: an sshd login's strings take about 120 bytes.
const FIRST_TEXT: usize = 256;

impl Store {
    #[inline]
    fn read(&self, slot: &Slot) -> ValueRef<'_> {
        match *slot {
            Slot::Bool(b) => ValueRef::Bool(b),
            Slot::Int(i) => ValueRef::Int(i),
            Slot::Float(x) => ValueRef::Float(x),
            Slot::Text { start, len } => ValueRef::Str(&self.text[start..start + len]),
            Slot::Static(s) => ValueRef::Str(s),
            Slot::Empty => ValueRef::Str(""),
            Slot::StaticList(items) => ValueRef::List(items),
            Slot::Owned(i) => self.owned[i].as_ref(),
        }
    }

    /// The slot of `s`: its place in the record's copy when it is a part of the record
    /// being parsed, else a copy appended to the text.
    ///
    /// Both ways give the place as two words, and the one kind of slot is made from
    /// them here. A slot made as different kinds on different paths is merged through
    /// memory, written in pieces and read whole, and the processor then waits for the
    /// pieces (a failed store-to-load forward): that wait cost more than the rest of
    /// setting a field.
    #[inline(always)]
    fn text(&mut self, s: &str) -> Slot {
        let (start, len) = match self.source_span(s) {
            Some(span) => span,
            None => self.append_span(s),
        };
        Slot::Text { start, len }
    }

    /// Where `s` lies in the record's copy, when it is a part of the record being parsed.
    #[inline(always)]
    fn source_span(&self, s: &str) -> Option<(usize, usize)> {
        let source = self.source?;
        // Comparing addresses, not bytes: `s` lies in the record when its bytes are
        // within the record's, and the record is borrowed, unchanged, for as long as
        // `source` is set.
        let offset = (s.as_ptr() as usize).wrapping_sub(source.address);
        (offset <= source.len && s.len() <= source.len - offset)
            .then(|| (source.start + offset, s.len()))
    }

    /// Appends a copy of `s` to the text; returns its place.
    #[inline(never)]
    fn append_span(&mut self, s: &str) -> (usize, usize) {
        if s.is_empty() {
            // No text yet is no reason to make room for some.
            return (self.text.len(), 0);
        }
        if self.text.capacity() == 0 {
            self.text.reserve(FIRST_TEXT.max(s.len()));
        }
        let start = self.text.len();
        self.text.push_str(s);
        (start, s.len())
    }

    /// The slot of a copy of `s` appended to the text.
    fn append(&mut self, s: &str) -> Slot {
        let (start, len) = self.append_span(s);
        Slot::Text { start, len }
    }

    /// The slot of the text from `start` to the end.
    #[inline]
    fn span(&self, start: usize) -> Slot {
        Slot::Text {
            start,
            len: self.text.len() - start,
        }
    }

    /// Copies the record `source` into the text and takes strings that lie in it as
    /// places in that copy, until [`Store::end_source`].
    fn begin_source(&mut self, source: &str) {
        self.text.reserve(source.len() + FIRST_TEXT / 2);
        let start = self.text.len();
        self.text.push_str(source);
        self.source = Some(Source {
            address: source.as_ptr() as usize,
            len: source.len(),
            start,
        });
    }

    fn end_source(&mut self) {
        self.source = None;
    }

    fn owned(&mut self, value: Value) -> Slot {
        self.owned.push(value);
        Slot::Owned(self.owned.len() - 1)
    }

    #[inline(always)]
    fn put(&mut self, value: NewValue<'_>) -> Slot {
        match value {
            NewValue::Bool(b) => Slot::Bool(b),
            NewValue::Int(i) => Slot::Int(i),
            NewValue::Float(x) => Slot::Float(x),
            NewValue::Str(s) => self.text(s),
            NewValue::Static(s) => Slot::Static(s),
            NewValue::StaticList(items) => Slot::StaticList(items),
            NewValue::String(s) => self.append(&s),
            NewValue::Ip(ip) => self.append_ip(ip),
            NewValue::Value(v) => self.put_value(v),
        }
    }

    #[inline(never)]
    fn append_ip(&mut self, ip: IpAddr) -> Slot {
        use std::fmt::Write;
        let start = self.text.len();
        // Writing to a `String` cannot fail.
        let _ = write!(self.text, "{ip}");
        self.span(start)
    }

    #[inline(never)]
    fn put_value(&mut self, value: Value) -> Slot {
        match value {
            Value::Bool(b) => Slot::Bool(b),
            Value::Int(i) => Slot::Int(i),
            Value::Float(x) => Slot::Float(x),
            Value::Str(s) => self.text(&s),
            Value::List(Cow::Borrowed(items)) => Slot::StaticList(items),
            list @ Value::List(Cow::Owned(_)) => self.owned(list),
        }
    }
}

/// A value being set: what [`Fields::insert`] and `Event::set` take. Made by `From`
/// from a string slice (its text is copied into the event), a `String`, a [`Value`], an
/// integer, a bool, a float, an address or a [`ValueRef`]; [`NewValue::Static`] keeps a
/// constant string as it is.
#[derive(Debug, Clone)]
pub enum NewValue<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Static(&'static str),
    StaticList(&'static [Value]),
    String(String),
    Ip(IpAddr),
    Value(Value),
}

impl<'a> From<&'a str> for NewValue<'a> {
    #[inline]
    fn from(s: &'a str) -> Self {
        NewValue::Str(s)
    }
}

impl<'a> From<&'a String> for NewValue<'a> {
    #[inline]
    fn from(s: &'a String) -> Self {
        NewValue::Str(s)
    }
}

impl<'a> From<&'a SmolStr> for NewValue<'a> {
    #[inline]
    fn from(s: &'a SmolStr) -> Self {
        NewValue::Str(s)
    }
}

impl From<String> for NewValue<'_> {
    #[inline]
    fn from(s: String) -> Self {
        NewValue::String(s)
    }
}

impl From<SmolStr> for NewValue<'_> {
    #[inline]
    fn from(s: SmolStr) -> Self {
        NewValue::Value(Value::Str(s))
    }
}

impl<'a> From<Cow<'a, str>> for NewValue<'a> {
    #[inline]
    fn from(s: Cow<'a, str>) -> Self {
        match s {
            Cow::Borrowed(s) => NewValue::Str(s),
            Cow::Owned(s) => NewValue::String(s),
        }
    }
}

impl From<Value> for NewValue<'_> {
    #[inline]
    fn from(v: Value) -> Self {
        NewValue::Value(v)
    }
}

impl From<Vec<Value>> for NewValue<'_> {
    #[inline]
    fn from(items: Vec<Value>) -> Self {
        NewValue::Value(Value::list(items))
    }
}

impl<'a> From<ValueRef<'a>> for NewValue<'a> {
    #[inline]
    fn from(v: ValueRef<'a>) -> Self {
        match v {
            ValueRef::Bool(b) => NewValue::Bool(b),
            ValueRef::Int(i) => NewValue::Int(i),
            ValueRef::Float(x) => NewValue::Float(x),
            ValueRef::Str(s) => NewValue::Str(s),
            ValueRef::List(items) => NewValue::Value(Value::list(items.to_vec())),
        }
    }
}

/// A constant list (ECS keywords), kept as the `&'static` slice it is.
impl From<&'static [Value]> for NewValue<'_> {
    #[inline]
    fn from(items: &'static [Value]) -> Self {
        NewValue::StaticList(items)
    }
}

impl From<i64> for NewValue<'_> {
    #[inline]
    fn from(i: i64) -> Self {
        NewValue::Int(i)
    }
}

impl From<u16> for NewValue<'_> {
    #[inline]
    fn from(i: u16) -> Self {
        NewValue::Int(i64::from(i))
    }
}

impl From<u32> for NewValue<'_> {
    #[inline]
    fn from(i: u32) -> Self {
        NewValue::Int(i64::from(i))
    }
}

impl From<bool> for NewValue<'_> {
    #[inline]
    fn from(b: bool) -> Self {
        NewValue::Bool(b)
    }
}

impl From<f64> for NewValue<'_> {
    #[inline]
    fn from(x: f64) -> Self {
        NewValue::Float(x)
    }
}

impl From<IpAddr> for NewValue<'_> {
    #[inline]
    fn from(ip: IpAddr) -> Self {
        NewValue::Ip(ip)
    }
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
    store: Store,
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
            ..Self::default()
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
    #[inline]
    pub fn get(&self, name: &str) -> Option<ValueRef<'_>> {
        self.position(name)
            .map(|i| self.store.read(&self.entries[i].slot))
    }

    /// Whether the field is present.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Sets a field, replacing any earlier value.
    #[inline(always)]
    pub fn insert<'v>(&mut self, name: impl IntoName, value: impl Into<NewValue<'v>>) {
        let name = name.into_name();
        let fingerprint = fingerprint(&name);
        let bit = bit(fingerprint);
        if self.seen & bit != 0
            && let Some(i) = self
                .entries
                .iter()
                .position(|e| e.fingerprint == fingerprint && e.name == name)
        {
            self.entries[i].slot = self.store.put(value.into());
            return;
        }
        self.seen |= bit;
        if self.entries.len() == self.entries.capacity() {
            // Most events have 10 to 30 fields (an sshd login 25, before enrichment adds
            // its labels): one allocation, not a growth.
            self.entries
                .reserve(if self.entries.is_empty() { 32 } else { 16 });
        }
        // The value is placed last, so that its slot goes straight into the entry.
        let slot = self.store.put(value.into());
        self.entries.push(Entry {
            fingerprint,
            name,
            slot,
        });
    }

    /// Sets a field to a constant string (an ECS keyword), kept as its `&'static str`.
    #[inline]
    pub fn insert_static(&mut self, name: impl IntoName, value: &'static str) {
        self.insert(name, NewValue::Static(value));
    }

    /// Adds a value to a field: sets it when absent, and otherwise makes the field a
    /// list of the values given, in order (a repeated RFC 5424 parameter, a repeated
    /// auditd key).
    pub fn append<'v>(&mut self, name: impl IntoName, value: impl Into<NewValue<'v>>) {
        let name = name.into_name();
        let Some(i) = self.position(&name) else {
            self.insert(name, value);
            return;
        };
        let value = value.into().into_value();
        let items = match self.store.read(&self.entries[i].slot) {
            ValueRef::List(items) => {
                let mut items = items.to_vec();
                items.push(value);
                items
            }
            first => vec![first.to_value(), value],
        };
        let slot = self.store.owned(Value::list(items));
        self.entries[i].slot = slot;
    }

    /// See [`crate::Event::parse_from`].
    pub(crate) fn begin_source(&mut self, source: &str) {
        self.store.begin_source(source);
    }

    /// See [`crate::Event::message`].
    pub(crate) fn message(&self) -> &str {
        self.store
            .read(&self.store.message)
            .as_str()
            .unwrap_or_default()
    }

    /// See [`crate::Event::set_message`].
    pub(crate) fn set_message(&mut self, message: &str) {
        self.store.message = self.store.text(message);
    }

    /// The length of the text the string values are kept in.
    #[cfg(test)]
    pub(crate) fn store_text_len(&self) -> usize {
        self.store.text.len()
    }

    /// See [`crate::Event::parse_from`].
    pub(crate) fn end_source(&mut self) {
        self.store.end_source();
    }

    /// Removes a field, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.position(name)?;
        let entry = self.entries.remove(i);
        Some(self.store.read(&entry.slot).to_value())
    }

    /// Keeps only the fields for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&str, ValueRef<'_>) -> bool) {
        let store = &self.store;
        self.entries.retain(|e| keep(&e.name, store.read(&e.slot)));
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
            store: &self.store,
        }
    }

    /// The fields in name order (for display and serialisation).
    pub fn sorted(&self) -> Vec<(&Name, ValueRef<'_>)> {
        let mut all: Vec<_> = self.iter().collect();
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all
    }

    /// The field names in the order they were set.
    pub fn keys(&self) -> impl Iterator<Item = &Name> {
        self.entries.iter().map(|e| &e.name)
    }

    /// The values in the order they were set.
    pub fn values(&self) -> impl Iterator<Item = ValueRef<'_>> {
        self.iter().map(|(_, v)| v)
    }

    /// The fields whose names start with `prefix`, in name order.
    pub fn with_prefix<'a>(&'a self, prefix: &str) -> Vec<(&'a Name, ValueRef<'a>)> {
        let mut found: Vec<_> = self.iter().filter(|(k, _)| k.starts_with(prefix)).collect();
        found.sort_unstable_by(|a, b| a.0.cmp(b.0));
        found
    }
}

impl NewValue<'_> {
    /// The value as an owned [`Value`].
    pub fn into_value(self) -> Value {
        match self {
            NewValue::Bool(b) => Value::Bool(b),
            NewValue::Int(i) => Value::Int(i),
            NewValue::Float(x) => Value::Float(x),
            NewValue::Str(s) => Value::from(s),
            NewValue::Static(s) => Value::from_static(s),
            NewValue::StaticList(items) => Value::static_list(items),
            NewValue::String(s) => Value::from(s),
            NewValue::Ip(ip) => Value::from(ip),
            NewValue::Value(v) => v,
        }
    }
}

/// A clone keeps the original's spare room, so the stages after parsing (enrichment
/// adds `labels.*` and GeoIP fields) can set fields on a copy without moving it.
impl Clone for Fields {
    fn clone(&self) -> Self {
        let mut entries = Vec::with_capacity(self.entries.capacity());
        entries.extend(self.entries.iter().cloned());
        let mut text = String::with_capacity(self.store.text.capacity());
        text.push_str(&self.store.text);
        Self {
            entries,
            seen: self.seen,
            store: Store {
                text,
                owned: self.store.owned.clone(),
                message: self.store.message,
                source: None,
            },
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

/// Borrowing iterator over [`Fields`], in the order they were set.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, Entry>,
    store: &'a Store,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Name, ValueRef<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let store = self.store;
        self.inner.next().map(|e| (&e.name, store.read(&e.slot)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let store = self.store;
        self.inner
            .next_back()
            .map(|e| (&e.name, store.read(&e.slot)))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Fields {
    type Item = (&'a Name, ValueRef<'a>);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Fields {
    type Item = (Name, Value);
    type IntoIter = std::vec::IntoIter<(Name, Value)>;

    /// The fields as owned values, in the order they were set.
    fn into_iter(self) -> Self::IntoIter {
        let store = &self.store;
        let all: Vec<(Name, Value)> = self
            .entries
            .iter()
            .map(|e| (e.name.clone(), store.read(&e.slot).to_value()))
            .collect();
        all.into_iter()
    }
}

impl<'v, K: IntoName, V: Into<NewValue<'v>>> Extend<(K, V)> for Fields {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<'v, K: IntoName, V: Into<NewValue<'v>>> FromIterator<(K, V)> for Fields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut fields = Fields::new();
        fields.extend(iter);
        fields
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
            map.serialize_entry(k.as_ref(), &v)?;
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

    impl Fields {
        fn get_str_for_test(&self, name: &str) -> Option<&str> {
            self.get(name).and_then(ValueRef::as_str)
        }
    }

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
                let old = f.get(&name(i)).map(ValueRef::to_value);
                f.insert(name(i), round);
                assert_eq!(old, model.insert(name(i), Value::Int(round)), "{}", name(i));
            }
            for i in (0..300).step_by(7) {
                assert_eq!(f.remove(&name(i)), model.remove(&name(i)));
            }
            f.retain(|k, _| !k.ends_with("5.version"));
            model.retain(|k, _| !k.ends_with("5.version"));
            let copy = f.clone();
            for i in 0..310 {
                let want = model.get(&name(i)).map(Value::as_ref);
                assert_eq!(f.get(&name(i)), want, "{}", name(i));
                assert_eq!(copy.get(&name(i)), want, "{}", name(i));
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
        assert_eq!(f.get("b"), Some(Value::Int(4).as_ref()));
        assert_eq!(f.get("c"), Some(ValueRef::Int(3)));
        f.insert("c", Value::Int(9));
        assert_eq!(f.get("c"), Some(ValueRef::Int(9)));
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
            assert_eq!(f.get(n), Some(Value::Int(i as i64).as_ref()), "{n}");
        }
        assert_eq!(f.get("user.nam"), None);
        // More names than filter bits: every one still found, absent ones still absent.
        let many: Fields = (0..300)
            .map(|i| (format!("winlog.event_data.Field{i}"), Value::Int(i)))
            .collect();
        assert_eq!(many.len(), 300);
        for i in 0..300 {
            let name = format!("winlog.event_data.Field{i}");
            assert_eq!(many.get(&name), Some(Value::Int(i).as_ref()), "{name}");
        }
        assert_eq!(many.get("winlog.event_data.Field300"), None);
        let reversed: Fields = f.iter().rev().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(reversed, f);
        let mut changed = reversed.clone();
        changed.insert("a", Value::Int(99));
        assert_ne!(changed, f);
    }

    /// Strings share the map's text buffer: each read gives back exactly what was set,
    /// whatever came before it (a repeat, an empty string), through replacement,
    /// removal, `append` and clones.
    #[test]
    fn string_values_read_back_from_the_shared_text() {
        let mut f = Fields::new();
        let long = "Failed password for invalid user admin from 203.0.113.5 port 52144 ssh2";
        f.insert("log.syslog.hostname", "web-01");
        f.insert("host.name", "web-01");
        f.insert("log.syslog.message", long);
        f.insert("tail", "ssh2");
        f.insert("empty", "");
        f.insert("owned", String::from("from a String"));
        f.insert("ip", "2001:db8::1".parse::<IpAddr>().unwrap());
        f.insert_static("kind", "event");
        assert_eq!(
            f.store.text,
            format!("web-01web-01{long}ssh2from a String2001:db8::1"),
            "strings outside a record being parsed are copied, constants are not"
        );
        let strings = |f: &Fields| -> Vec<(String, String)> {
            f.sorted()
                .into_iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_owned())))
                .collect()
        };
        assert_eq!(
            strings(&f),
            [
                ("empty", ""),
                ("host.name", "web-01"),
                ("ip", "2001:db8::1"),
                ("kind", "event"),
                ("log.syslog.hostname", "web-01"),
                ("log.syslog.message", long),
                ("owned", "from a String"),
                ("tail", "ssh2"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        f.insert("host.name", "db-02");
        assert_eq!(f.get_str_for_test("host.name"), Some("db-02"));
        assert_eq!(f.get_str_for_test("log.syslog.hostname"), Some("web-01"));
        assert_eq!(f.remove("tail"), Some(Value::from("ssh2")));
        f.append("tag", "a");
        f.append("tag", "b");
        f.append("tag", Value::list(vec![Value::from("c")]));
        assert_eq!(
            f.get("tag").map(ValueRef::to_value),
            Some(Value::list(vec![
                Value::from("a"),
                Value::from("b"),
                Value::list(vec![Value::from("c")])
            ]))
        );
        let copy = f.clone();
        assert_eq!(copy, f);
        assert_eq!(strings(&copy), strings(&f));
        assert_eq!(strings(&f).len(), f.len() - 1, "every field but the list");
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
