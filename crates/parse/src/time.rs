//! Record time to UTC: the per-input policy for times that carry no year or no zone
//! (RFC 3164 and its relatives), and the provenance the event records about it.
//!
//! Header parsers only say what the record holds ([`RecordTime`]); [`TimePolicy::resolve`]
//! turns that into an instant, so every parser applies the same rules.

use std::cell::Cell;

use chrono::offset::MappedLocalTime;
use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use gac_event::Timestamp;

/// How far past the receive time a record's inferred time may lie and still keep the
/// receive year. A sender whose clock runs a little ahead must not have its New Year's
/// Eve records thrown back a whole year; a day covers any sane clock skew while staying
/// far below the year it would otherwise cost.
const FUTURE_TOLERANCE: TimeDelta = TimeDelta::days(1);
// `infer_year_at_offset` looks past the receipt's year only from its last day.
const _: () = assert!(FUTURE_TOLERANCE.num_seconds() <= 86_400);

/// How many years back the year inference looks for a date that exists. Eight reaches
/// the previous 29 February even across a century that is not a leap year (2100).
const YEAR_SEARCH_DEPTH: i32 = 9;

/// How to read record times that lack a year or a zone. Built once per input from config.
///
/// - A time without a zone is read in [`zone`](Self::zone) (the input's configured zone,
///   by default the site's).
/// - A time without a year gets the most recent year that does not put it more than a
///   day in the future of the receive time: a `Dec 31` record received on 1 January
///   belongs to last year, a `Jan 1 00:00:05` record received at 23:59:59 on 31 December
///   (a sender's clock slightly ahead) to next year.
/// - A local time that occurs twice (clocks going back) is read as the earlier instant.
///   A local time that does not exist (clocks jumping forward) is read with the offset in
///   force before the jump, so `02:30` in a one-hour spring gap lands at `03:30` after it
///   (java.time's rule). Neither case fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimePolicy {
    zone: Tz,
    /// The zone's offset when it has had one offset, with no daylight saving, since
    /// [`FIXED_SINCE`] and keeps it to [`FIXED_UNTIL`] (Asia/Ho_Chi_Minh: +07:00 since
    /// 1975): then a local time is a subtraction, not a time-zone database search.
    fixed: Option<FixedOffset>,
}

/// The years a zone must keep one offset through to be read as a fixed offset; records
/// outside them are read through the zone database as any other zone's.
const FIXED_SINCE: i32 = 1990;
const FIXED_UNTIL: i32 = 2100;

/// The zone's one offset over [`FIXED_SINCE`]..=[`FIXED_UNTIL`], sampled on the 1st and
/// 15th of every month (no real daylight-saving period is shorter than two weeks).
fn fixed_offset(zone: Tz) -> Option<FixedOffset> {
    let offset_at = |year, month, day| {
        let noon = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(12, 0, 0)?;
        Some(zone.offset_from_utc_datetime(&noon).fix())
    };
    let first = offset_at(FIXED_SINCE, 1, 1)?;
    for year in FIXED_SINCE..=FIXED_UNTIL {
        for month in 1..=12 {
            for day in [1, 15] {
                if offset_at(year, month, day)? != first {
                    return None;
                }
            }
        }
    }
    Some(first)
}

/// What a header held about the record's time, before any policy is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RecordTime {
    /// The record carries no time at all (`-` in RFC 5424, no timestamp in RFC 3164).
    Absent,
    /// Something in the time's place that names no real instant (`Feb 30`, `25:00:00`,
    /// a broken RFC 3339 string). The header is malformed; the receive time is used.
    Invalid,
    /// A complete time with its UTC offset.
    Zoned(DateTime<FixedOffset>),
    /// The same, already converted to an instant ([`zoned`]).
    At {
        instant: Timestamp,
        offset: FixedOffset,
    },
    /// A complete local date and time without a zone.
    Local(NaiveDateTime),
    /// A time without a year: the classic BSD `Mmm dd hh:mm:ss`, read in the input's zone
    /// unless the record named an offset (Cisco's `Mar  1 18:46:11 UTC`).
    NoYear {
        month: u32,
        day: u32,
        time: NaiveTime,
        offset: Option<FixedOffset>,
    },
}

/// Where an event's `@timestamp` came from; the event builder turns it into tags and
/// `event.timezone`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provenance {
    /// The record carried its own offset; `year_inferred` says whether it lacked a year.
    Record {
        offset: FixedOffset,
        year_inferred: bool,
    },
    /// The input's zone was applied; `year_inferred` says whether the year was too.
    InputZone { year_inferred: bool },
    /// The receive time stands in; `invalid` says whether a broken time was discarded.
    Receipt { invalid: bool },
}

impl TimePolicy {
    /// A policy that reads zone-less times in `zone`.
    pub fn new(zone: Tz) -> Self {
        Self {
            zone,
            fixed: fixed_offset(zone),
        }
    }

    /// The zone zone-less times are read in.
    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The instant a record's time names, and how it was found.
    pub(crate) fn resolve(&self, time: RecordTime, received: Timestamp) -> (Timestamp, Provenance) {
        match time {
            RecordTime::Absent => (received, Provenance::Receipt { invalid: false }),
            RecordTime::Invalid => (received, Provenance::Receipt { invalid: true }),
            RecordTime::Zoned(t) => (
                Timestamp::from_datetime(t),
                Provenance::Record {
                    offset: *t.offset(),
                    year_inferred: false,
                },
            ),
            RecordTime::At { instant, offset } => (
                instant,
                Provenance::Record {
                    offset,
                    year_inferred: false,
                },
            ),
            RecordTime::Local(naive) => (
                self.local_to_utc(naive),
                Provenance::InputZone {
                    year_inferred: false,
                },
            ),
            RecordTime::NoYear {
                month,
                day,
                time,
                offset: None,
            } if let Some(offset) = self.fixed
                && let Some(t) = infer_year_at_offset(offset, month, day, time, received)
                    .filter(|(year, _)| (FIXED_SINCE..=FIXED_UNTIL).contains(year)) =>
            {
                (
                    t.1,
                    Provenance::InputZone {
                        year_inferred: true,
                    },
                )
            }
            RecordTime::NoYear {
                month,
                day,
                time,
                offset: Some(offset),
            } if let Some((_, t)) = infer_year_at_offset(offset, month, day, time, received) => (
                t,
                Provenance::Record {
                    offset,
                    year_inferred: true,
                },
            ),
            RecordTime::NoYear {
                month,
                day,
                time,
                offset: None,
            } => match self.infer_year_in_zone(month, day, time, received) {
                Some(naive) => (
                    self.local_to_utc(naive),
                    Provenance::InputZone {
                        year_inferred: true,
                    },
                ),
                // No year has that date (say `Feb 30`): the header lied.
                None => (received, Provenance::Receipt { invalid: true }),
            },
            RecordTime::NoYear {
                month,
                day,
                time,
                offset: Some(offset),
            } => match infer_year(&offset, month, day, time, received)
                .and_then(|naive| offset.from_local_datetime(&naive).single())
            {
                Some(t) => (
                    Timestamp::from_datetime(t),
                    Provenance::Record {
                        offset,
                        year_inferred: true,
                    },
                ),
                None => (received, Provenance::Receipt { invalid: true }),
            },
        }
    }

    /// A wall-clock time in the zone as an instant; see the type's doc for DST folds
    /// and gaps.
    fn infer_year_in_zone(
        &self,
        month: u32,
        day: u32,
        time: NaiveTime,
        received: Timestamp,
    ) -> Option<NaiveDateTime> {
        match self.fixed {
            Some(offset) => infer_year(&offset, month, day, time, received),
            None => infer_year(&self.zone, month, day, time, received),
        }
    }

    fn local_to_utc(&self, naive: NaiveDateTime) -> Timestamp {
        if let Some(offset) = self.fixed
            && (FIXED_SINCE..=FIXED_UNTIL).contains(&naive.year())
        {
            let utc = naive - TimeDelta::seconds(i64::from(offset.local_minus_utc()));
            return Timestamp::from_datetime(Utc.from_utc_datetime(&utc));
        }
        match self.zone.from_local_datetime(&naive) {
            MappedLocalTime::Single(t) => Timestamp::from_datetime(t),
            MappedLocalTime::Ambiguous(earliest, _) => Timestamp::from_datetime(earliest),
            MappedLocalTime::None => {
                // Inside a gap. Zone transitions are months apart, so the offset a day
                // earlier is the one in force just before the jump.
                let before = self
                    .zone
                    .offset_from_utc_datetime(&(naive - TimeDelta::days(1)))
                    .fix();
                let utc = naive - TimeDelta::seconds(i64::from(before.local_minus_utc()));
                Timestamp::from_datetime(Utc.from_utc_datetime(&utc))
            }
        }
    }
}

/// [`infer_year`] at a fixed offset in integer arithmetic, the common case (a BSD time
/// read in Asia/Ho_Chi_Minh), without chrono's date types: the year chosen and the UTC
/// instant. `None` hands the case to the general path: a leap second, a receive time
/// outside 1900..2200, or no year in the search with that date (`Feb 30`).
fn infer_year_at_offset(
    offset: FixedOffset,
    month: u32,
    day: u32,
    time: NaiveTime,
    received: Timestamp,
) -> Option<(i32, Timestamp)> {
    const NANOS_PER_SEC: i64 = 1_000_000_000;
    const SECS_PER_DAY: i64 = 86_400;
    // Nanoseconds from 1900 to 2200 fit an i64 with room to spare.
    const EARLIEST: i64 = -2_208_988_800 * NANOS_PER_SEC;
    const LATEST: i64 = 7_258_118_400 * NANOS_PER_SEC;
    let nanos = i64::from(time.nanosecond());
    if nanos >= NANOS_PER_SEC || !(EARLIEST..LATEST).contains(&received.nanos()) {
        return None;
    }
    let offset_nanos = i64::from(offset.local_minus_utc()) * NANOS_PER_SEC;
    let received_local = received.nanos() + offset_nanos;
    let limit = received_local + FUTURE_TOLERANCE.num_seconds() * NANOS_PER_SEC;
    let (received_year, received_month, received_day) =
        receipt_date(received_local.div_euclid(NANOS_PER_SEC * SECS_PER_DAY));
    // The year after the receipt's can hold the record only when the tolerance reaches
    // into it, from the receipt's last day of the year: the search starts there only
    // then, and otherwise at the receipt's own year, one date conversion fewer.
    let newest = if (received_month, received_day) == (12, 31) {
        received_year + 1
    } else {
        received_year
    };
    let of_day = i64::from(time.num_seconds_from_midnight()) * NANOS_PER_SEC + nanos;
    (received_year + 1 - YEAR_SEARCH_DEPTH..=newest)
        .rev()
        .filter(|&year| day <= days_in_month(year, month))
        .map(|year| {
            let local = days_from_civil(year, month, day) * SECS_PER_DAY * NANOS_PER_SEC + of_day;
            (year, local)
        })
        .find(|&(_, local)| local <= limit)
        .map(|(year, local)| (year, Timestamp::from_nanos(local - offset_nanos)))
}

/// A complete date and time at a UTC offset, as written in a record (no leap second):
/// `None` when a field is out of range. Within 1900..2200 the instant is found in
/// integer day arithmetic, the way [`infer_year_at_offset`] does; other years go
/// through chrono (and clamp as [`Timestamp::from_datetime`] does).
#[allow(clippy::too_many_arguments)]
pub(crate) fn zoned(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    offset: FixedOffset,
) -> Option<RecordTime> {
    const NANOS_PER_SEC: i64 = 1_000_000_000;
    let valid = (1..=12).contains(&month)
        && day >= 1
        && hour < 24
        && minute < 60
        && second < 60
        && day <= days_in_month(year, month);
    if !valid {
        return None;
    }
    if !(1900..2200).contains(&year) {
        let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(hour, minute, second)?;
        return offset
            .from_local_datetime(&naive)
            .single()
            .map(RecordTime::Zoned);
    }
    let seconds = days_from_civil(year, month, day) * 86_400
        + i64::from(hour * 3600 + minute * 60 + second)
        - i64::from(offset.local_minus_utc());
    Some(RecordTime::At {
        instant: Timestamp::from_nanos(seconds * NANOS_PER_SEC),
        offset,
    })
}

/// [`civil_from_days`] for a receipt's local day, remembered per thread for the last day
/// asked: records arrive in time order, so consecutive records share their receipt's
/// day, and the conversion (a chain of some 150 dependent instructions) was a fifth of
/// the syslog header's time.
fn receipt_date(days: i64) -> (i32, u32, u32) {
    thread_local! {
        static LAST: Cell<(i64, (i32, u32, u32))> = const { Cell::new((i64::MIN, (0, 0, 0))) };
    }
    LAST.with(|last| {
        let (known, date) = last.get();
        if known == days {
            return date;
        }
        let date = civil_from_days(days);
        last.set((days, date));
        date
    })
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant, `days_from_civil`).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count from 1970-01-01 (H. Hinnant, `civil_from_days`).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // The callers' day counts stay within 1900..2200, far inside i32 years.
    (year as i32, month as u32, day as u32)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The local date-time for `month`/`day` `time` in the most recent year that keeps it
/// no more than [`FUTURE_TOLERANCE`] after the receive time (both read in `zone`).
///
/// The comparison is between local wall times, so a DST shift between the record and
/// its receipt moves the threshold by an hour at most, well inside the tolerance.
fn infer_year<Z: TimeZone>(
    zone: &Z,
    month: u32,
    day: u32,
    time: NaiveTime,
    received: Timestamp,
) -> Option<NaiveDateTime> {
    let received_local = received.to_datetime().with_timezone(zone).naive_local();
    let limit = received_local + FUTURE_TOLERANCE;
    let newest = received_local.year() + 1;
    (newest - YEAR_SEARCH_DEPTH..=newest)
        .rev()
        .filter_map(|year| NaiveDate::from_ymd_opt(year, month, day))
        .map(|date| date.and_time(time))
        .find(|candidate| *candidate <= limit)
}

/// A UTC offset as `event.timezone` holds it, `+07:00` (`+05:30:15` when it has
/// seconds): chrono's spelling, written into a buffer on the stack. Formatting through
/// `Display` went through `fmt`'s machinery and a `SmolStr` builder, a tenth of an
/// access line's parse.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OffsetText {
    bytes: [u8; 9],
    len: usize,
}

impl OffsetText {
    pub(crate) fn new(offset: FixedOffset) -> Self {
        let total = offset.local_minus_utc();
        let sign = if total < 0 { b'-' } else { b'+' };
        // At most a day (chrono's bound), so every part has two digits.
        let secs = total.unsigned_abs();
        let (hours, minutes, seconds) = (secs / 3600, secs / 60 % 60, secs % 60);
        let two = |n: u32| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
        let [h1, h2] = two(hours);
        let [m1, m2] = two(minutes);
        let [s1, s2] = two(seconds);
        let bytes = [sign, h1, h2, b':', m1, m2, b':', s1, s2];
        let len = if seconds == 0 { 6 } else { 9 };
        Self { bytes, len }
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoned_times_agree_with_chrono() {
        let offsets =
            [0, 7 * 3600, -5 * 3600, 19_800, -34_200].map(|s| FixedOffset::east_opt(s).unwrap());
        let mut checked = 0;
        for year in [1899, 1900, 1970, 2000, 2024, 2025, 2100, 2199, 2200, 2300] {
            for month in 0..=13 {
                for day in [0, 1, 15, 28, 29, 30, 31, 32] {
                    for (hour, minute, second) in
                        [(0, 0, 0), (23, 59, 59), (24, 0, 0), (12, 60, 0), (1, 2, 60)]
                    {
                        for offset in offsets {
                            let expected = NaiveDate::from_ymd_opt(year, month, day)
                                .and_then(|d| d.and_hms_opt(hour, minute, second))
                                .and_then(|n| offset.from_local_datetime(&n).single());
                            let got = zoned(year, month, day, hour, minute, second, offset);
                            let policy = TimePolicy::new(chrono_tz::UTC);
                            let received = Timestamp::from_nanos(0);
                            assert_eq!(
                                got.map(|t| policy.resolve(t, received)),
                                expected.map(|t| policy.resolve(RecordTime::Zoned(t), received)),
                                "{year}-{month}-{day} {hour}:{minute}:{second} {offset}"
                            );
                            checked += usize::from(expected.is_some());
                        }
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked}");
    }

    #[test]
    fn offsets_are_spelled_as_chrono_spells_them() {
        for secs in (-86_399..86_400)
            .step_by(37)
            .chain([0, 3600, -3600, 25_200, 19_800, 86_399])
        {
            let offset = FixedOffset::east_opt(secs).unwrap();
            assert_eq!(
                OffsetText::new(offset).as_str(),
                offset.to_string(),
                "{secs}"
            );
        }
    }
    use chrono_tz::{America, Asia, Europe};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn no_year(month: u32, day: u32, h: u32, m: u32, s: u32) -> RecordTime {
        RecordTime::NoYear {
            month,
            day,
            time: NaiveTime::from_hms_opt(h, m, s).unwrap(),
            offset: None,
        }
    }

    /// The integer path must pick the year and instant chrono's does, around every
    /// month end, New Year and leap day, at offsets either side of UTC.
    #[test]
    fn the_remembered_receipt_date_is_the_date() {
        // Alternating days, repeats and far days: the cache answers as the conversion does.
        for days in [0, 0, 1, 0, -1, 20_000, 20_000, 20_001, -25_567, 83_000, 0] {
            assert_eq!(receipt_date(days), civil_from_days(days), "{days}");
        }
    }

    #[test]
    fn integer_path_agrees_with_chrono() {
        let mut checked = 0;
        for offset_hours in [-10, 0, 7, 14] {
            let offset = FixedOffset::east_opt(offset_hours * 3600).unwrap();
            // Receive times every 29 hours and 13 minutes from 1995 into 2031.
            let mut received = ts("1995-01-01T00:00:00Z").nanos();
            while received < ts("2031-01-01T00:00:00Z").nanos() {
                let received_at = Timestamp::from_nanos(received);
                let local = received_at.to_datetime().with_timezone(&offset);
                for (month, day) in [(local.month(), local.day()), (2, 29), (12, 31), (1, 1)] {
                    for time in [
                        NaiveTime::from_hms_nano_opt(0, 0, 0, 0).unwrap(),
                        NaiveTime::from_hms_nano_opt(local.hour(), local.minute(), 7, 5).unwrap(),
                        NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999).unwrap(),
                    ] {
                        let chrono = infer_year(&offset, month, day, time, received_at).map(|n| {
                            let t = offset.from_local_datetime(&n).single().unwrap();
                            (n.year(), Timestamp::from_datetime(t))
                        });
                        let integer = infer_year_at_offset(offset, month, day, time, received_at);
                        assert_eq!(integer, chrono, "{month}-{day} {time} at {local}");
                        checked += 1;
                    }
                }
                received += (29 * 3600 + 13 * 60) * 1_000_000_000;
            }
        }
        assert!(checked > 100_000, "{checked}");
        // A date no year in the search has, a leap second and a far receive time go to
        // the general path.
        let utc = FixedOffset::east_opt(0).unwrap();
        let noon = NaiveTime::from_hms_opt(12, 0, 0).unwrap();
        assert_eq!(
            infer_year_at_offset(utc, 2, 30, noon, ts("2025-07-01T00:00:00Z")),
            None
        );
        let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_000_000_000).unwrap();
        assert_eq!(
            infer_year_at_offset(utc, 6, 30, leap, ts("2025-07-01T00:00:00Z")),
            None
        );
        assert_eq!(
            infer_year_at_offset(utc, 6, 30, noon, Timestamp::from_nanos(i64::MAX)),
            None
        );
    }

    #[test]
    fn same_year_when_the_date_has_passed() {
        let p = TimePolicy::new(Asia::Ho_Chi_Minh);
        let (t, prov) = p.resolve(no_year(6, 30, 10, 0, 0), ts("2025-07-01T03:00:00Z"));
        assert_eq!(t, ts("2025-06-30T03:00:00Z"));
        assert_eq!(
            prov,
            Provenance::InputZone {
                year_inferred: true
            }
        );
    }

    #[test]
    fn december_record_received_in_january_is_last_year() {
        let p = TimePolicy::new(Asia::Ho_Chi_Minh);
        // 1 January 2025, 00:10 in Hanoi.
        let (t, _) = p.resolve(no_year(12, 31, 23, 59, 50), ts("2024-12-31T17:10:00Z"));
        assert_eq!(t, ts("2024-12-31T16:59:50Z"));
    }

    #[test]
    fn a_date_weeks_ahead_of_receipt_is_last_year() {
        let p = TimePolicy::new(Asia::Ho_Chi_Minh);
        let (t, _) = p.resolve(no_year(7, 27, 14, 41, 57), ts("2025-07-01T03:00:00Z"));
        assert_eq!(t, ts("2024-07-27T07:41:57Z"));
    }

    #[test]
    fn a_sender_slightly_ahead_at_new_year_keeps_next_year() {
        let p = TimePolicy::new(Asia::Ho_Chi_Minh);
        // Received 23:59:59 on 31 December 2024 local; the sender already says Jan 1.
        let (t, _) = p.resolve(no_year(1, 1, 0, 0, 30), ts("2024-12-31T16:59:59Z"));
        assert_eq!(t, ts("2024-12-31T17:00:30Z"));
    }

    #[test]
    fn a_day_of_skew_is_tolerated_but_not_more() {
        let p = TimePolicy::new(Europe::London);
        let received = ts("2025-03-10T12:00:00Z");
        let (t, _) = p.resolve(no_year(3, 11, 11, 0, 0), received);
        assert_eq!(t, ts("2025-03-11T11:00:00Z"));
        let (t, _) = p.resolve(no_year(3, 11, 13, 0, 0), received);
        assert_eq!(t, ts("2024-03-11T13:00:00Z"));
    }

    #[test]
    fn february_29_goes_back_to_a_leap_year() {
        let p = TimePolicy::new(Asia::Ho_Chi_Minh);
        let (t, prov) = p.resolve(no_year(2, 29, 8, 0, 0), ts("2027-06-01T00:00:00Z"));
        assert_eq!(t, ts("2024-02-29T01:00:00Z"));
        assert_eq!(
            prov,
            Provenance::InputZone {
                year_inferred: true
            }
        );
    }

    #[test]
    fn a_date_no_year_has_falls_back_to_receipt() {
        let p = TimePolicy::new(Asia::Ho_Chi_Minh);
        let received = ts("2025-07-01T03:00:00Z");
        let (t, prov) = p.resolve(no_year(2, 30, 8, 0, 0), received);
        assert_eq!(t, received);
        assert_eq!(prov, Provenance::Receipt { invalid: true });
    }

    #[test]
    fn fixed_offsets_are_found_only_for_zones_without_changes() {
        let hcm = TimePolicy::new(Asia::Ho_Chi_Minh);
        assert_eq!(hcm.fixed, FixedOffset::east_opt(7 * 3600));
        assert_eq!(TimePolicy::new(Europe::London).fixed, None);
        assert_eq!(TimePolicy::new(America::New_York).fixed, None);
        // Before 1975 Saigon kept +08:00: the zone database still answers for then.
        let naive = NaiveDate::from_ymd_opt(1970, 1, 1)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        let (t, _) = hcm.resolve(RecordTime::Local(naive), ts("2025-01-01T00:00:00Z"));
        assert_eq!(t, ts("1970-01-01T00:00:00Z"));
    }

    #[test]
    fn dst_gap_uses_the_offset_before_the_jump() {
        // 2025-03-09 02:30 does not exist in New York (02:00 EST -> 03:00 EDT).
        let p = TimePolicy::new(America::New_York);
        let naive = NaiveDate::from_ymd_opt(2025, 3, 9)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        let (t, _) = p.resolve(RecordTime::Local(naive), ts("2025-03-10T00:00:00Z"));
        assert_eq!(t, ts("2025-03-09T07:30:00Z"));
    }

    #[test]
    fn dst_fold_picks_the_earlier_instant() {
        // 2025-11-02 01:30 happens twice in New York; the first is EDT (-04:00).
        let p = TimePolicy::new(America::New_York);
        let naive = NaiveDate::from_ymd_opt(2025, 11, 2)
            .unwrap()
            .and_hms_opt(1, 30, 0)
            .unwrap();
        let (t, _) = p.resolve(RecordTime::Local(naive), ts("2025-11-03T00:00:00Z"));
        assert_eq!(t, ts("2025-11-02T05:30:00Z"));
    }

    #[test]
    fn zoned_times_keep_their_offset_and_absent_ones_use_receipt() {
        let p = TimePolicy::new(Asia::Ho_Chi_Minh);
        let received = ts("2025-07-01T03:00:00Z");
        let zoned = DateTime::parse_from_rfc3339("2025-07-01T10:00:00.123+07:00").unwrap();
        let (t, prov) = p.resolve(RecordTime::Zoned(zoned), received);
        assert_eq!(t, ts("2025-07-01T03:00:00.123Z"));
        assert_eq!(
            prov,
            Provenance::Record {
                offset: *zoned.offset(),
                year_inferred: false
            }
        );
        assert_eq!(
            p.resolve(RecordTime::Absent, received),
            (received, Provenance::Receipt { invalid: false })
        );
        assert_eq!(p.zone(), Asia::Ho_Chi_Minh);
    }
}
