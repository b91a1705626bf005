//! `gac-event`: the one type every stage of Gác passes along, an [`Event`], with the
//! vocabulary around it (ECS field names in [`field`], tags in [`tag`], [`Severity`]) and
//! the request/response types of the HTTP API in [`api`]. No I/O lives here.
//!
//! An event is one log record after parsing. Its always-present parts (`@timestamp`,
//! `event.ingested`, `message`) are struct fields; everything else is a flat map from an
//! ECS dotted name to a [`Value`], so that detection, indexing and display look fields up
//! by the same names a Sigma mapping or an analyst uses.

pub mod api;
pub mod field;
mod fields;
mod severity;
pub mod tag;
mod time;
mod value;
pub mod wire;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use fields::{Fields, Iter as FieldsIter, Name, NewValue};
pub use severity::Severity;
pub use smol_str::{SmolStr, ToSmolStr};
pub use time::{Timestamp, TimestampError};
pub use value::{Value, ValueRef};

/// An event's tags: most events have none to two, kept inline.
pub type Tags = smallvec::SmallVec<[Name; 2]>;

/// What [`Event::set`] takes as a field name: a constant `&'static str` (stored as it
/// is, never copied) or a name made at run time (`String`, [`Name`]). A borrowed
/// run-time `&str` must be made owned first (`s.to_owned()`), so that copying a name is
/// always visible at the call.
pub trait IntoName {
    /// The name as stored.
    fn into_name(self) -> Name;
}

impl IntoName for &'static str {
    #[inline]
    fn into_name(self) -> Name {
        Name::Borrowed(self)
    }
}

impl IntoName for String {
    fn into_name(self) -> Name {
        Name::Owned(self)
    }
}

impl IntoName for Name {
    fn into_name(self) -> Name {
        self
    }
}

/// One log record after parsing.
///
/// Serialises to a flat JSON object: `{"@timestamp": "...", "event.ingested": "...",
/// "message": "...", "host.name": "...", ..., "tags": [...]}`.
#[derive(Clone)]
pub struct Event {
    /// When the record says it happened (UTC). Filled from the receive time when the
    /// record carries none; a tag then says so.
    pub timestamp: Timestamp,
    /// When the server received the record.
    pub ingested: Timestamp,
    /// Every other field, by ECS name. The `message` ([`Event::message`]) is kept in
    /// the same text as the string fields, which are mostly parts of it.
    pub fields: Fields,
    /// Markers about how the event was made (see [`tag`]).
    pub tags: Tags,
}

impl Event {
    /// A new event with only the mandatory parts set.
    pub fn new(timestamp: Timestamp, ingested: Timestamp, message: impl AsRef<str>) -> Self {
        let mut event = Self {
            timestamp,
            ingested,
            fields: Fields::new(),
            tags: Tags::new(),
        };
        event.set_message(message.as_ref());
        event
    }

    /// The original record, never altered.
    pub fn message(&self) -> &str {
        self.fields.message()
    }

    /// Sets the original record. Inside [`Event::parse_from`], the record itself is
    /// not copied again.
    pub fn set_message(&mut self, message: &str) {
        self.fields.set_message(message);
    }

    /// Makes an event from the record text `source` with `build` (a parser), and
    /// returns it with what `build` returned. While `build` runs, a string value that
    /// is a part of `source` (a host name, a user, the message body: most of what a
    /// parser sets) is stored as its place in one copy of the record made up front,
    /// instead of being copied on its own. `message` is left for the caller to set
    /// (`event.set_message(source)` takes the copy, for nothing).
    pub fn parse_from<R>(
        source: &str,
        timestamp: Timestamp,
        ingested: Timestamp,
        build: impl FnOnce(&mut Event) -> R,
    ) -> (Event, R) {
        // The event is this function's own until it is returned, after the source
        // ended: should `build` panic, it is dropped with the rest, not kept.
        let mut event = Event {
            timestamp,
            ingested,
            fields: Fields::new(),
            tags: Tags::new(),
        };
        event.fields.begin_source(source);
        let result = build(&mut event);
        event.fields.end_source();
        (event, result)
    }

    /// Sets a field, replacing any earlier value. A name given as a constant (see
    /// [`field`]) is kept as the `&'static str` it is: nothing is copied.
    #[inline]
    pub fn set<'v>(&mut self, name: impl IntoName, value: impl Into<NewValue<'v>>) {
        self.fields.insert(name, value);
    }

    /// Sets a field to a constant string (an ECS keyword such as `"authentication"`),
    /// which is kept as its `&'static str`, not copied.
    #[inline]
    pub fn set_const(&mut self, name: &'static str, value: &'static str) {
        self.fields.insert_static(name, value);
    }

    /// The value of a field, if present.
    pub fn get(&self, name: &str) -> Option<ValueRef<'_>> {
        self.fields.get(name)
    }

    /// The value of a field as a string slice, if it is a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(ValueRef::as_str)
    }

    /// The value of a field as an integer, if it is one.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.fields.get(name).and_then(ValueRef::as_i64)
    }

    /// Adds a tag unless it is already there. A constant (see [`tag`]) is not copied.
    pub fn add_tag(&mut self, tag: impl IntoName) {
        let tag = tag.into_name();
        if !self.has_tag(&tag) {
            self.tags.push(tag);
        }
    }

    /// Whether the event carries a tag.
    pub fn has_tag(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    /// The normalised severity stored in `event.severity`, if any.
    pub fn severity(&self) -> Option<Severity> {
        self.get_i64(field::EVENT_SEVERITY)
            .and_then(|code| Severity::from_code(code).ok())
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.timestamp == other.timestamp
            && self.ingested == other.ingested
            && self.message() == other.message()
            && self.fields == other.fields
            && self.tags == other.tags
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("timestamp", &self.timestamp)
            .field("ingested", &self.ingested)
            .field("message", &self.message())
            .field("fields", &self.fields)
            .field("tags", &self.tags)
            .finish()
    }
}

impl Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(field::TIMESTAMP, &self.timestamp)?;
        map.serialize_entry(field::EVENT_INGESTED, &self.ingested)?;
        map.serialize_entry(field::MESSAGE, self.message())?;
        for (name, value) in self.fields.sorted() {
            map.serialize_entry(name.as_ref(), &value)?;
        }
        if !self.tags.is_empty() {
            map.serialize_entry(field::TAGS, &self.tags)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The JSON shape, with `message` as its own string.
        #[derive(Deserialize)]
        struct Flat {
            #[serde(rename = "@timestamp")]
            timestamp: Timestamp,
            #[serde(rename = "event.ingested")]
            ingested: Timestamp,
            message: String,
            #[serde(flatten)]
            fields: Fields,
            #[serde(default)]
            tags: Vec<Name>,
        }
        let flat = Flat::deserialize(deserializer)?;
        let mut event = Event {
            timestamp: flat.timestamp,
            ingested: flat.ingested,
            fields: flat.fields,
            tags: Tags::from_vec(flat.tags),
        };
        event.set_message(&flat.message);
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Event {
        let mut e = Event::new(
            Timestamp::from_nanos(1_700_000_000_123_456_789),
            Timestamp::from_nanos(1_700_000_001_000_000_000),
            "sshd[42]: Failed password for root from 10.0.0.1 port 22 ssh2",
        );
        e.set(field::HOST_NAME, "web-01");
        e.set(field::SOURCE_PORT, 22_i64);
        e.set(field::EVENT_SEVERITY, Severity::High.code());
        e.add_tag(tag::UNPARSED);
        e
    }

    #[test]
    fn json_is_flat_and_round_trips() {
        let e = sample();
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["@timestamp"], "2023-11-14T22:13:20.123456789Z");
        assert_eq!(json["host.name"], "web-01");
        assert_eq!(json["source.port"], 22);
        assert_eq!(json["tags"][0], tag::UNPARSED);
        let back: Event = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }

    /// While a record is parsed, its parts are stored as places in one copy of it; a
    /// string from elsewhere, or any string after the parse, is copied. Either way a
    /// read gives back the text that was set.
    #[test]
    fn parse_from_stores_parts_of_the_record_as_places_in_it() {
        let record = String::from("<38>Nov 22 10:01:02 web-01 sshd[1234]: Failed password");
        let elsewhere = String::from("web-01");
        let t = Timestamp::from_nanos(0);
        let (mut e, n) = Event::parse_from(&record, t, t, |e| {
            e.set(field::HOST_NAME, &record[20..26]);
            e.set(field::PROCESS_NAME, &record[27..31]);
            e.set(field::LOG_SYSLOG_MESSAGE, &record[39..]);
            e.set(field::LOG_SYSLOG_HOSTNAME, elsewhere.as_str());
            e.set(field::LOG_SYSLOG_PROCID, "");
            e.fields.store_text_len()
        });
        assert_eq!(
            n,
            record.len() + "web-01".len(),
            "one copy of the record, plus what is not in it"
        );
        e.set(field::USER_NAME, &record[27..31]);
        assert_eq!(
            e.fields.store_text_len(),
            n + 4,
            "after the parse, parts are copied"
        );
        let got: Vec<_> = [
            field::HOST_NAME,
            field::PROCESS_NAME,
            field::LOG_SYSLOG_MESSAGE,
            field::LOG_SYSLOG_HOSTNAME,
            field::LOG_SYSLOG_PROCID,
            field::USER_NAME,
        ]
        .map(|f| e.get_str(f))
        .to_vec();
        assert_eq!(
            got,
            [
                Some("web-01"),
                Some("sshd"),
                Some("Failed password"),
                Some("web-01"),
                Some(""),
                Some("sshd")
            ]
        );
        let copy = e.clone();
        drop(record);
        assert_eq!(
            copy.get_str(field::LOG_SYSLOG_MESSAGE),
            Some("Failed password")
        );
        assert_eq!(copy, e);
    }

    #[test]
    fn tags_are_not_repeated() {
        let mut e = sample();
        e.add_tag(tag::UNPARSED);
        assert_eq!(e.tags.len(), 1);
        assert!(e.has_tag(tag::UNPARSED));
        assert_eq!(e.severity(), Some(Severity::High));
    }
}
