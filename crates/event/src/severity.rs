//! Normalised severity, shared by events and alerts. The levels are Sigma's, so a rule's
//! `level` and an event's severity compare directly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad an event or alert is, from informational to critical.
///
/// Stored in `event.severity` as its [`code`](Severity::code) (1-5, higher is worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

/// A severity name or code that means nothing.
#[derive(Debug, thiserror::Error)]
#[error("unknown severity {0:?} (expected informational, low, medium, high, critical or 1-5)")]
pub struct SeverityError(String);

impl Severity {
    /// Every level, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Informational,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// 1 (informational) to 5 (critical).
    pub const fn code(self) -> i64 {
        self as i64 + 1
    }

    /// From a [`code`](Severity::code).
    pub fn from_code(code: i64) -> Result<Self, SeverityError> {
        usize::try_from(code - 1)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
            .ok_or_else(|| SeverityError(code.to_string()))
    }

    /// From a syslog severity (0 emergency .. 7 debug). Emergency, alert and critical are
    /// critical; error is high; warning is medium; notice is low; info and debug are
    /// informational.
    pub const fn from_syslog(code: u8) -> Self {
        match code {
            0..=2 => Severity::Critical,
            3 => Severity::High,
            4 => Severity::Medium,
            5 => Severity::Low,
            _ => Severity::Informational,
        }
    }

    /// The lowercase name, as Sigma spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Severity {
    type Err = SeverityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        if let Some(level) = Self::ALL.iter().find(|l| l.name() == lower) {
            return Ok(*level);
        }
        match lower.as_str() {
            "info" => Ok(Severity::Informational),
            _ => lower
                .parse::<i64>()
                .map_err(|_| SeverityError(s.to_owned()))
                .and_then(Self::from_code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_order() {
        for level in Severity::ALL {
            assert_eq!(Severity::from_code(level.code()).unwrap(), level);
            assert_eq!(level.name().parse::<Severity>().unwrap(), level);
        }
        assert!(Severity::Critical > Severity::Low);
        assert!(Severity::from_code(0).is_err());
        assert!(Severity::from_code(6).is_err());
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn syslog_levels_map_down() {
        assert_eq!(Severity::from_syslog(0), Severity::Critical);
        assert_eq!(Severity::from_syslog(3), Severity::High);
        assert_eq!(Severity::from_syslog(6), Severity::Informational);
    }
}
