//! Event time: nanoseconds since the Unix epoch, UTC, shown as RFC 3339.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A point in time, nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// A timestamp that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("not an RFC 3339 time: {0:?}")]
pub struct TimestampError(String);

impl Timestamp {
    /// From nanoseconds since the epoch.
    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    /// From whole seconds since the epoch.
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1_000_000_000))
    }

    /// Nanoseconds since the epoch.
    pub const fn nanos(self) -> i64 {
        self.0
    }

    /// The current time.
    pub fn now() -> Self {
        Self::from_datetime(Utc::now())
    }

    /// From a chrono time (any zone; stored as UTC).
    pub fn from_datetime<Tz: chrono::TimeZone>(t: DateTime<Tz>) -> Self {
        let utc = t.with_timezone(&Utc);
        // Outside ±292 years from 1970 nanoseconds overflow i64; clamp rather than fail.
        Self(utc.timestamp_nanos_opt().unwrap_or(if utc.timestamp() < 0 {
            i64::MIN
        } else {
            i64::MAX
        }))
    }

    /// As a chrono UTC time.
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }

    /// Seconds since the epoch, rounded down.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }

    /// This time moved by a signed number of nanoseconds.
    pub fn add_nanos(self, nanos: i64) -> Self {
        Self(self.0.saturating_add(nanos))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            &self
                .to_datetime()
                .to_rfc3339_opts(SecondsFormat::AutoSi, true),
        )
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateTime::parse_from_rfc3339(s)
            .map(Self::from_datetime)
            .map_err(|_| TimestampError(s.to_owned()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip_keeps_nanoseconds() {
        let t: Timestamp = "2025-07-01T08:30:00.000000123+07:00".parse().unwrap();
        assert_eq!(t.to_string(), "2025-07-01T01:30:00.000000123Z");
        assert_eq!(t.to_string().parse::<Timestamp>().unwrap(), t);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!("yesterday".parse::<Timestamp>().is_err());
    }

    #[test]
    fn secs_round_down_before_the_epoch() {
        assert_eq!(Timestamp::from_nanos(-1).secs(), -1);
        assert_eq!(Timestamp::from_secs(5).secs(), 5);
    }
}
