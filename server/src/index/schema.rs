//! The index schema. The common fields of DESIGN §3 get typed, fast columns (time, host,
//! addresses, ports, user, dataset, severity); every other field goes into one JSON
//! column, `attrs`, whose paths are the ECS names, so `log.syslog.appname:sshd` works
//! without a prefix. The whole event is stored as JSON in `_source` for display.

use std::net::IpAddr;

use gac_event::{Event, Fields, FieldsIter, Timestamp, Value, ValueRef, field};
use tantivy::schema::document::{ReferenceValue, ReferenceValueLeaf};
use tantivy::schema::{
    self, DateOptions, DateTimePrecision, FAST, Field, INDEXED, IndexRecordOption,
    JsonObjectOptions, STORED, TEXT, TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, TantivyDocument};

/// Name of the JSON column that holds every field without a column of its own.
pub const ATTRS: &str = "attrs";
/// Name of the stored column holding the event as JSON.
pub const SOURCE: &str = "_source";
/// Tokenizer for exact-value (keyword) columns: the whole value is one term.
const KEYWORD_TOKENIZER: &str = "raw";

/// How a fixed column is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Full text: tokenised, lowercased, positions kept for phrases.
    Text,
    /// Exact value, case kept; fast for top values.
    Keyword,
    /// Nanosecond time, fast for sorting and histograms.
    Date,
    Ip,
    U64,
}

/// The columns every event may fill. Fields not listed here go to `attrs`.
const FIXED: &[(&str, Kind)] = &[
    (field::TIMESTAMP, Kind::Date),
    (field::EVENT_INGESTED, Kind::Date),
    (field::MESSAGE, Kind::Text),
    (field::EVENT_ID, Kind::Keyword),
    (field::HOST_NAME, Kind::Keyword),
    (field::EVENT_DATASET, Kind::Keyword),
    (field::USER_NAME, Kind::Keyword),
    (field::TAGS, Kind::Keyword),
    (field::SOURCE_IP, Kind::Ip),
    (field::DESTINATION_IP, Kind::Ip),
    (field::SOURCE_PORT, Kind::U64),
    (field::DESTINATION_PORT, Kind::U64),
    (field::EVENT_SEVERITY, Kind::U64),
];

/// Fields kept out of `attrs` because another column already holds their text.
const NOT_IN_ATTRS: &[&str] = &[field::LOG_SYSLOG_MESSAGE];

/// The tantivy schema and the handles of its columns.
#[derive(Debug, Clone)]
pub struct Schema {
    schema: schema::Schema,
    fixed: Vec<(&'static str, Kind, Field)>,
    attrs: Field,
    source: Field,
    timestamp: Field,
    message: Field,
}

impl Default for Schema {
    fn default() -> Self {
        Self::new()
    }
}

impl Schema {
    pub fn new() -> Self {
        let mut b = schema::Schema::builder();
        let keyword = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(KEYWORD_TOKENIZER)
                    .set_index_option(IndexRecordOption::Basic),
            )
            .set_fast(KEYWORD_TOKENIZER);
        let date = DateOptions::from(INDEXED | FAST).set_precision(DateTimePrecision::Nanoseconds);
        let fixed = FIXED
            .iter()
            .map(|&(name, kind)| {
                let f = match kind {
                    Kind::Text => b.add_text_field(name, TEXT),
                    Kind::Keyword => b.add_text_field(name, keyword.clone()),
                    Kind::Date => b.add_date_field(name, date.clone()),
                    Kind::Ip => b.add_ip_addr_field(name, INDEXED | FAST),
                    Kind::U64 => b.add_u64_field(name, INDEXED | FAST),
                };
                (name, kind, f)
            })
            .collect::<Vec<_>>();
        let attrs = b.add_json_field(
            ATTRS,
            JsonObjectOptions::default()
                .set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer(KEYWORD_TOKENIZER)
                        .set_index_option(IndexRecordOption::Basic),
                )
                .set_fast(KEYWORD_TOKENIZER)
                .set_expand_dots_enabled(),
        );
        let source = b.add_bytes_field(SOURCE, STORED);
        let schema = b.build();
        let get = |name: &str| {
            fixed
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, _, f)| *f)
                .expect("the field is in FIXED")
        };
        Self {
            timestamp: get(field::TIMESTAMP),
            message: get(field::MESSAGE),
            schema,
            fixed,
            attrs,
            source,
        }
    }

    pub fn tantivy(&self) -> &schema::Schema {
        &self.schema
    }

    pub fn timestamp(&self) -> Field {
        self.timestamp
    }

    pub fn source(&self) -> Field {
        self.source
    }

    /// The columns bare words are searched in: the message, and `attrs` (which also
    /// makes unknown `name:value` fields resolve to `attrs.name`).
    pub fn default_fields(&self) -> Vec<Field> {
        vec![self.message, self.attrs]
    }

    /// The column name to aggregate a field on: its own, or its path in `attrs`.
    pub fn column_for(&self, name: &str) -> String {
        if self.fixed.iter().any(|(n, _, _)| *n == name) {
            name.to_owned()
        } else {
            format!("{ATTRS}.{name}")
        }
    }

    /// Whether a field goes into `attrs`: it has no column of its own and its text is
    /// not held by another.
    fn in_attrs(&self, name: &str) -> bool {
        !NOT_IN_ATTRS.contains(&name) && !self.fixed.iter().any(|(n, _, _)| *n == name)
    }

    /// The document for an event; `source_json` is the event serialised (kept so the
    /// caller serialises once).
    pub fn document(&self, event: &Event, source_json: Vec<u8>) -> TantivyDocument {
        let mut doc = TantivyDocument::new();
        doc.add_date(self.timestamp, to_date(event.timestamp));
        for &(name, kind, f) in &self.fixed {
            match name {
                field::TIMESTAMP => {}
                field::EVENT_INGESTED => doc.add_date(f, to_date(event.ingested)),
                field::MESSAGE => doc.add_text(f, event.message()),
                field::TAGS => {
                    for tag in &event.tags {
                        doc.add_text(f, tag);
                    }
                }
                _ => {
                    if let Some(value) = event.get(name) {
                        add_typed(&mut doc, f, kind, value);
                    }
                }
            }
        }
        if event.fields.keys().any(|name| self.in_attrs(name)) {
            // Handed to tantivy as a view of the event: no map or value is copied first.
            let attrs = AttrValue::Object {
                fields: &event.fields,
                schema: self,
            };
            doc.add_field_value(self.attrs, attrs);
        }
        doc.add_bytes(self.source, &source_json);
        doc
    }
}

fn to_date(t: Timestamp) -> DateTime {
    DateTime::from_timestamp_nanos(t.nanos())
}

/// Puts a value into a typed column. A value of the wrong type (a port that is not a
/// number) is left out of the column; it stays in `_source` and `message`.
fn add_typed(doc: &mut TantivyDocument, f: Field, kind: Kind, value: ValueRef<'_>) {
    match (kind, value) {
        (Kind::Keyword | Kind::Text, ValueRef::List(items)) => {
            for item in items.iter() {
                doc.add_text(f, item.to_string());
            }
        }
        (Kind::Keyword | Kind::Text, v) => doc.add_text(f, v.to_string()),
        (Kind::U64, ValueRef::Int(i)) => {
            if let Ok(u) = u64::try_from(i) {
                doc.add_u64(f, u);
            }
        }
        (Kind::U64, ValueRef::Str(s)) => {
            if let Ok(u) = s.parse::<u64>() {
                doc.add_u64(f, u);
            }
        }
        (Kind::Ip, ValueRef::Str(s)) => {
            if let Ok(ip) = s.parse::<IpAddr>() {
                let v6 = match ip {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                    IpAddr::V6(v6) => v6,
                };
                doc.add_ip_addr(f, v6);
            }
        }
        (Kind::Date, ValueRef::Str(s)) => {
            if let Ok(t) = s.parse::<Timestamp>() {
                doc.add_date(f, to_date(t));
            }
        }
        _ => {}
    }
}

/// An event's `attrs` as tantivy reads a JSON value, borrowed from the event: the object
/// of the fields [`Schema::in_attrs`] takes, or one value in it. Session 1 measured
/// building an owned `BTreeMap<String, OwnedValue>` here as the largest cost of the
/// pipeline thread.
#[derive(Debug, Clone, Copy)]
enum AttrValue<'a> {
    Object {
        fields: &'a Fields,
        schema: &'a Schema,
    },
    Value(ValueRef<'a>),
}

impl<'a> schema::Value<'a> for AttrValue<'a> {
    type ArrayIter = AttrArray<'a>;
    type ObjectIter = AttrObject<'a>;

    fn as_value(&self) -> ReferenceValue<'a, Self> {
        match *self {
            AttrValue::Object { fields, schema } => ReferenceValue::Object(AttrObject {
                inner: fields.iter(),
                schema,
            }),
            AttrValue::Value(value) => match value {
                ValueRef::Bool(b) => ReferenceValue::Leaf(ReferenceValueLeaf::Bool(b)),
                ValueRef::Int(i) => ReferenceValue::Leaf(ReferenceValueLeaf::I64(i)),
                ValueRef::Float(x) => ReferenceValue::Leaf(ReferenceValueLeaf::F64(x)),
                ValueRef::Str(s) => ReferenceValue::Leaf(ReferenceValueLeaf::Str(s)),
                ValueRef::List(items) => ReferenceValue::Array(AttrArray {
                    inner: items.iter(),
                }),
            },
        }
    }
}

/// The fields of `attrs`, in the order the event holds them.
#[derive(Debug)]
struct AttrObject<'a> {
    inner: FieldsIter<'a>,
    schema: &'a Schema,
}

impl<'a> Iterator for AttrObject<'a> {
    type Item = (&'a str, AttrValue<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (name, value) = self.inner.next()?;
            if self.schema.in_attrs(name) {
                return Some((name.as_ref(), AttrValue::Value(value)));
            }
        }
    }
}

/// The items of a list value.
#[derive(Debug)]
struct AttrArray<'a> {
    inner: std::slice::Iter<'a, Value>,
}

impl<'a> Iterator for AttrArray<'a> {
    type Item = AttrValue<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|v| AttrValue::Value(v.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_fields_have_columns_and_the_rest_go_to_attrs() {
        let s = Schema::new();
        assert_eq!(s.column_for(field::HOST_NAME), "host.name");
        assert_eq!(
            s.column_for(field::LOG_SYSLOG_APPNAME),
            "attrs.log.syslog.appname"
        );
        assert!(s.tantivy().get_field(field::SOURCE_IP).is_ok());
    }
}
