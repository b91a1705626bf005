//! The `<PRI>` prefix shared by both syslog dialects: facility and severity, and what a
//! damaged one looks like.
//!
//! Read here rather than by syslog_loose, which parses the digits into a `u8`: `<999>`
//! makes it reject the whole record, and `<200>` silently loses the facility.

/// What the record's first bytes say about its priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pri {
    /// No `<...>` prefix: typical of lines copied from log files.
    Absent,
    /// A priority value, 0 to 191.
    Valid(u8),
    /// A `<...>` prefix that is no priority (`<999>`, `<abc>`, `<>`): skipped, the header
    /// is malformed, the rest is still read.
    Malformed,
}

/// Largest valid PRI: facility 23 (local7) times 8 plus severity 7 (debug).
const MAX_PRI: u32 = 191;

/// How far from the `<` a closing `>` still counts as a damaged PRI rather than text
/// that happens to start with `<`: three digits plus a little slack for garbage.
const MAX_PRI_SPAN: usize = 6;

/// Splits a leading `<PRI>` off `s`.
pub(super) fn split(s: &str) -> (Pri, &str) {
    let Some(after_lt) = s.strip_prefix('<') else {
        return (Pri::Absent, s);
    };
    let window = &after_lt.as_bytes()[..after_lt.len().min(MAX_PRI_SPAN)];
    let Some(close) = window.iter().position(|&b| b == b'>') else {
        return (Pri::Absent, s);
    };
    let (digits, rest) = (&after_lt[..close], &after_lt[close + 1..]);
    let pri = if (1..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        match digits.parse::<u32>() {
            Ok(value) if value <= MAX_PRI => {
                Pri::Valid(u8::try_from(value).expect("at most 191, checked above"))
            }
            _ => Pri::Malformed,
        }
    } else {
        Pri::Malformed
    };
    (pri, rest)
}

/// The facility code and its keyword as rsyslog spells it (RFC 5424 table 1 names 13-15
/// only in prose: log audit, log alert, clock daemon).
pub(super) fn facility(pri: u8) -> (u8, &'static str) {
    const NAMES: [&str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
        "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
        "local3", "local4", "local5", "local6", "local7",
    ];
    let code = pri >> 3;
    (code, NAMES[usize::from(code)])
}

/// The severity code and its syslog(3) keyword.
pub(super) fn severity(pri: u8) -> (u8, &'static str) {
    const NAMES: [&str; 8] = [
        "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
    ];
    let code = pri & 7;
    (code, NAMES[usize::from(code)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_priorities_split_off() {
        assert_eq!(split("<34>Oct 11"), (Pri::Valid(34), "Oct 11"));
        assert_eq!(split("<0>x"), (Pri::Valid(0), "x"));
        assert_eq!(split("<191>x"), (Pri::Valid(191), "x"));
        assert_eq!(facility(34), (4, "auth"));
        assert_eq!(severity(34), (2, "crit"));
        assert_eq!(facility(191), (23, "local7"));
        assert_eq!(severity(191), (7, "debug"));
    }

    #[test]
    fn garbage_priorities_are_malformed_and_skipped() {
        assert_eq!(split("<999>Oct 11"), (Pri::Malformed, "Oct 11"));
        assert_eq!(split("<192>x"), (Pri::Malformed, "x"));
        assert_eq!(split("<abc>x"), (Pri::Malformed, "x"));
        assert_eq!(split("<>x"), (Pri::Malformed, "x"));
        assert_eq!(split("<1234>x"), (Pri::Malformed, "x"));
    }

    #[test]
    fn no_closing_bracket_nearby_means_no_priority() {
        assert_eq!(split("Oct 11"), (Pri::Absent, "Oct 11"));
        assert_eq!(
            split("<not a pri at all"),
            (Pri::Absent, "<not a pri at all")
        );
        assert_eq!(split("<"), (Pri::Absent, "<"));
        assert_eq!(split(""), (Pri::Absent, ""));
    }

    #[test]
    fn multibyte_text_after_the_bracket_does_not_panic() {
        assert_eq!(split("<éé>x"), (Pri::Malformed, "x"));
        assert_eq!(split("<ééé>x"), (Pri::Absent, "<ééé>x"));
    }
}
