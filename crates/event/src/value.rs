//! The value of one event field: a JSON scalar or a list of them.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use smol_str::{SmolStr, ToSmolStr};

/// A field value. Addresses are strings in their canonical text form; the index gives
/// the well-known address fields their own typed columns. Strings of up to 23 bytes
/// (user names, addresses) are stored inline and constants as their `&'static str`
/// ([`Value::from_static`]), without an allocation; longer ones are shared (`Arc`), so
/// cloning a value never copies its text. A list is a `Cow`: a parser's constant list
/// (`event.category: ["authentication"]`) is a `&'static` slice ([`Value::static_list`]),
/// built at compile time, neither allocated nor freed per event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(SmolStr),
    List(Cow<'static, [Value]>),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_ref().fmt(f)
    }
}

impl Value {
    /// A list value made at run time.
    pub fn list(items: Vec<Value>) -> Self {
        Value::List(Cow::Owned(items))
    }

    /// A constant list, kept as the `&'static` slice it is.
    pub const fn static_list(items: &'static [Value]) -> Self {
        Value::List(Cow::Borrowed(items))
    }

    /// A string value from a constant (an ECS keyword such as `"authentication"`): kept
    /// as the `&'static str`, not copied.
    pub const fn from_static(s: &'static str) -> Self {
        Value::Str(SmolStr::new_static(s))
    }
}

impl From<&str> for Value {
    #[inline]
    fn from(s: &str) -> Self {
        // `new_inline` fills the inline buffer a byte at a time; `new` copies with a
        // variable-length `memcpy` and then reads the buffer back in wider loads, which
        // stalls store forwarding: 13 ns against 7 ns for a short string.
        Value::Str(if s.len() <= INLINE_CAP {
            SmolStr::new_inline(s)
        } else {
            SmolStr::new(s)
        })
    }
}

/// The longest string `SmolStr` keeps inline.
const INLINE_CAP: usize = 23;

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(SmolStr::from(s))
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::list(items)
    }
}

impl From<SmolStr> for Value {
    fn from(s: SmolStr) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<u16> for Value {
    fn from(i: u16) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Self {
        Value::Int(i64::from(i))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl From<std::net::IpAddr> for Value {
    fn from(ip: std::net::IpAddr) -> Self {
        Value::Str(ip.to_smolstr())
    }
}

/// A field's value as read from an event: borrowed from the event, and as cheap to copy
/// as two words. [`ValueRef::to_value`] makes an owned [`Value`] of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    List(&'a [Value]),
}

impl<'a> ValueRef<'a> {
    /// The string, if this is a string.
    #[inline]
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            ValueRef::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer.
    #[inline]
    pub fn as_i64(self) -> Option<i64> {
        match self {
            ValueRef::Int(i) => Some(i),
            _ => None,
        }
    }

    /// The items, if this is a list.
    #[inline]
    pub fn as_list(self) -> Option<&'a [Value]> {
        match self {
            ValueRef::List(items) => Some(items),
            _ => None,
        }
    }

    /// An owned copy.
    pub fn to_value(self) -> Value {
        match self {
            ValueRef::Bool(b) => Value::Bool(b),
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Float(x) => Value::Float(x),
            ValueRef::Str(s) => Value::from(s),
            ValueRef::List(items) => Value::list(items.to_vec()),
        }
    }
}

impl Value {
    /// The value borrowed, as [`crate::Fields`] gives it.
    #[inline]
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Bool(b) => ValueRef::Bool(*b),
            Value::Int(i) => ValueRef::Int(*i),
            Value::Float(x) => ValueRef::Float(*x),
            Value::Str(s) => ValueRef::Str(s),
            Value::List(items) => ValueRef::List(items),
        }
    }
}

impl PartialEq<Value> for ValueRef<'_> {
    fn eq(&self, other: &Value) -> bool {
        *self == other.as_ref()
    }
}

impl PartialEq<ValueRef<'_>> for Value {
    fn eq(&self, other: &ValueRef<'_>) -> bool {
        self.as_ref() == *other
    }
}

impl fmt::Display for ValueRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Str(s) => f.write_str(s),
            ValueRef::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
            ValueRef::Bool(b) => write!(f, "{b}"),
            ValueRef::Int(i) => write!(f, "{i}"),
            ValueRef::Float(x) => write!(f, "{x}"),
        }
    }
}

impl Serialize for ValueRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            ValueRef::Bool(b) => serializer.serialize_bool(b),
            ValueRef::Int(i) => serializer.serialize_i64(i),
            ValueRef::Float(x) => serializer.serialize_f64(x),
            ValueRef::Str(s) => serializer.serialize_str(s),
            ValueRef::List(items) => serializer.collect_seq(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_strings_are_inline_and_long_ones_shared() {
        let at_cap = "x".repeat(INLINE_CAP);
        let over = "x".repeat(INLINE_CAP + 1);
        for (text, heap) in [
            ("", false),
            ("root", false),
            (&*at_cap, false),
            (&*over, true),
        ] {
            let Value::Str(s) = Value::from(text) else {
                panic!("a string value");
            };
            assert_eq!((s.as_str(), s.is_heap_allocated()), (text, heap));
        }
    }
}
