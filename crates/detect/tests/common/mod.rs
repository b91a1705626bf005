//! Test helper shared by the integration tests and the dev examples: Windows events as
//! the SigmaHQ regression data stores them (evtx rendered to JSON), flattened the way
//! Sigma names Windows fields.

#![allow(dead_code)]

pub mod differential;

use std::borrow::Cow;
use std::collections::HashMap;

use gac_detect::{FieldSource, FieldValue};
use serde_json::Value as Json;

/// One Windows event with Sigma's field names: `EventData`/`UserData` leaves by their own
/// name, `System` children by tag, and their attributes as `Tag_Attribute`
/// (`Provider_Name`, `Execution_ProcessID`), per the specification's field usage section.
#[derive(Debug, Default)]
pub struct WinEvent {
    pub fields: HashMap<String, Json>,
}

impl WinEvent {
    /// Every event in a text of concatenated JSON documents.
    pub fn parse_all(text: &str) -> serde_json::Result<Vec<WinEvent>> {
        serde_json::Deserializer::from_str(text)
            .into_iter::<Json>()
            .map(|doc| doc.map(|d| WinEvent::from_json(&d)))
            .collect()
    }

    pub fn from_json(doc: &Json) -> WinEvent {
        let mut ev = WinEvent::default();
        let root = doc.get("Event").unwrap_or(doc);
        if let Some(Json::Object(system)) = root.get("System") {
            for (tag, v) in system {
                match v {
                    Json::Object(o) => {
                        if let Some(Json::Object(attrs)) = o.get("#attributes") {
                            for (a, av) in attrs {
                                ev.fields.insert(format!("{tag}_{a}"), av.clone());
                            }
                        }
                        if let Some(text) = o.get("#text") {
                            ev.fields.insert(tag.clone(), text.clone());
                        }
                    }
                    other => {
                        ev.fields.insert(tag.clone(), other.clone());
                    }
                }
            }
        }
        for section in ["EventData", "UserData"] {
            if let Some(v) = root.get(section) {
                ev.leaves(v);
            }
        }
        ev
    }

    fn leaves(&mut self, v: &Json) {
        if let Json::Object(o) = v {
            for (k, child) in o {
                match child {
                    Json::Object(_) => self.leaves(child),
                    _ if k == "#attributes" => {}
                    other => {
                        // Sigma strips spaces from field names ("Source Name").
                        self.fields.insert(k.replace(' ', ""), other.clone());
                    }
                }
            }
        }
    }
}

fn to_field(v: &Json) -> FieldValue<'_> {
    match v {
        Json::Null => FieldValue::Null,
        Json::Bool(b) => FieldValue::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => FieldValue::Int(i),
            None => FieldValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => FieldValue::Str(Cow::Borrowed(s)),
        Json::Array(items) => FieldValue::List(items.iter().map(to_field).collect()),
        Json::Object(_) => FieldValue::Str(Cow::Owned(v.to_string())),
    }
}

impl FieldSource for WinEvent {
    fn field(&self, name: &str) -> Option<FieldValue<'_>> {
        self.fields.get(name).map(to_field)
    }

    fn keyword_haystacks(&self) -> Vec<&str> {
        self.fields.values().filter_map(Json::as_str).collect()
    }
}
