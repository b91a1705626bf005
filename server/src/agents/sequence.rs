//! Per-source sequence bookkeeping for agent records: which numbers arrived, which were
//! resent (duplicates to drop), which are missing (gaps) and which the agent reported
//! lost. The indexer feeds it in log order and persists it with its checkpoint, so the
//! same log replayed gives the same verdicts; the API reads it to answer "is this range
//! complete?".
//!
//! Pure: no I/O, no clock. Per the wire format (`gac_event::wire`), each source numbers
//! its records from 1, densely; a loss record stands for `from_seq..=to_seq`.
//!
//! A gap carries the times of its neighbours (the record before it and the record after
//! it), so a time question is answered without a per-record index: a gap touches
//! `[from, to)` when the span between its neighbours does.

use std::collections::BTreeMap;

use gac_event::Timestamp;
use gac_event::api::{SeqRange, SourceCompleteness};
use serde::{Deserialize, Serialize};

/// The state format version written by [`SequenceTracker::to_json`].
const STATE_VERSION: u32 = 1;
/// Most gap (and, separately, loss) ranges kept per source. A source this broken is
/// already known to be incomplete; beyond it the oldest range is forgotten (and the span
/// it covered is reported as unknown) so memory stays bounded.
const MAX_RANGES_PER_SOURCE: usize = 4096;
/// Sequence numbers start here (`gac_event::wire`).
const FIRST_SEQ: u64 = 1;

/// What to do with an observed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not seen before: index it.
    New,
    /// Seen before (a resent batch): drop it.
    Duplicate,
}

/// The state could not be restored.
#[derive(Debug, thiserror::Error)]
pub enum SequenceError {
    #[error("sequence tracker state is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("sequence tracker state has version {0}; this build reads version {STATE_VERSION}")]
    Version(u32),
}

/// Every agent's sources, by agent id then source name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SequenceTracker {
    version: u32,
    agents: BTreeMap<String, BTreeMap<String, SourceState>>,
}

/// One source's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct SourceState {
    /// One past the highest number seen or covered by a loss.
    next: u64,
    /// Time of the record numbered `next - 1` (the newest).
    last_time: Option<Timestamp>,
    /// Earliest time seen.
    first_time: Option<Timestamp>,
    /// Numbers below `next` neither seen nor covered, by first number.
    gaps: BTreeMap<u64, Gap>,
    /// Numbers the agent reported lost, by first number.
    lost: BTreeMap<u64, Lost>,
    /// Lines counted as new.
    received: u64,
    /// Records dropped as duplicates.
    duplicates: u64,
    /// Records the tracker could not place (number 0, or below a forgotten range): kept,
    /// since dropping a record is worse than indexing it twice.
    uncertain: u64,
    /// Set once ranges were forgotten: numbers below it may have been missing, and times
    /// before `forgotten_before` cannot be called complete.
    forgotten_below_seq: u64,
    forgotten_before: Option<Timestamp>,
    /// The agent's enrollment this numbering belongs to: a reinstalled agent (same id,
    /// state wiped) numbers from 1 again, under a newer epoch.
    #[serde(default)]
    epoch: u32,
}

/// Missing numbers `start..=end` and the times of the records either side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Gap {
    end: u64,
    after: Option<Timestamp>,
    before: Option<Timestamp>,
}

/// Numbers `start..=end` the agent said it lost, when it said so, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Lost {
    end: u64,
    /// Time of the newest record before the loss was reported.
    after: Option<Timestamp>,
    /// Time of the loss record.
    before: Option<Timestamp>,
    reason: String,
}

impl Default for SourceState {
    fn default() -> Self {
        Self {
            next: FIRST_SEQ,
            last_time: None,
            first_time: None,
            gaps: BTreeMap::new(),
            lost: BTreeMap::new(),
            received: 0,
            duplicates: 0,
            uncertain: 0,
            forgotten_below_seq: 0,
            forgotten_before: None,
            epoch: 0,
        }
    }
}

fn min_time(a: Option<Timestamp>, b: Timestamp) -> Timestamp {
    a.map_or(b, |a| a.min(b))
}

/// Whether the span between two neighbour times (either unknown: unbounded) meets
/// `[from, to)`. Neighbours may be out of order (clocks, replays): the span is taken
/// between the smaller and the larger.
fn touches(
    a: Option<Timestamp>,
    b: Option<Timestamp>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
) -> bool {
    let (lo, hi) = match (a, b) {
        (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
        other => other,
    };
    let starts_before_end = match (lo, to) {
        (Some(lo), Some(to)) => lo < to,
        _ => true,
    };
    let ends_after_start = match (hi, from) {
        (Some(hi), Some(from)) => hi >= from,
        _ => true,
    };
    starts_before_end && ends_after_start
}

impl SourceState {
    /// Records `start..=end` as missing, forgetting the oldest gap past the bound.
    fn add_gap(&mut self, start: u64, gap: Gap) {
        self.gaps.insert(start, gap);
        if self.gaps.len() > MAX_RANGES_PER_SOURCE
            && let Some((_, old)) = self.gaps.pop_first()
        {
            self.forget(old.end, old.before.or(old.after));
        }
    }

    fn add_lost(&mut self, start: u64, lost: Lost) {
        self.lost.insert(start, lost);
        if self.lost.len() > MAX_RANGES_PER_SOURCE
            && let Some((_, old)) = self.lost.pop_first()
        {
            self.forget(old.end, old.before.or(old.after));
        }
    }

    fn forget(&mut self, end: u64, time: Option<Timestamp>) {
        self.forgotten_below_seq = self.forgotten_below_seq.max(end + 1);
        self.forgotten_before = match (self.forgotten_before, time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// Takes `seq` out of the gap holding it, if any; true if it was missing.
    fn fill_gap(&mut self, seq: u64, time: Timestamp) -> bool {
        let Some((&start, gap)) = self.gaps.range(..=seq).next_back() else {
            return false;
        };
        if gap.end < seq {
            return false;
        }
        let gap = gap.clone();
        self.gaps.remove(&start);
        if start < seq {
            self.gaps.insert(
                start,
                Gap {
                    end: seq - 1,
                    after: gap.after,
                    before: Some(time),
                },
            );
        }
        if seq < gap.end {
            self.gaps.insert(
                seq + 1,
                Gap {
                    end: gap.end,
                    after: Some(time),
                    before: gap.before,
                },
            );
        }
        true
    }

    /// Takes `seq` out of a loss range holding it (a line the agent called lost arrived
    /// after all); true if it was there.
    fn unlose(&mut self, seq: u64) -> bool {
        let Some((&start, lost)) = self.lost.range(..=seq).next_back() else {
            return false;
        };
        if lost.end < seq {
            return false;
        }
        let lost = lost.clone();
        self.lost.remove(&start);
        if start < seq {
            self.lost.insert(
                start,
                Lost {
                    end: seq - 1,
                    ..lost.clone()
                },
            );
        }
        if seq < lost.end {
            self.lost.insert(seq + 1, lost);
        }
        true
    }

    /// Moves `next` past `seq`, recording the numbers skipped as a gap.
    fn advance(&mut self, seq: u64, time: Timestamp) {
        if seq > self.next {
            self.add_gap(
                self.next,
                Gap {
                    end: seq - 1,
                    after: self.last_time,
                    before: Some(time),
                },
            );
        }
        self.next = seq + 1;
        self.last_time = Some(time);
    }

    fn observe(&mut self, seq: u64, time: Timestamp) -> Verdict {
        self.first_time = Some(min_time(self.first_time, time));
        if seq < FIRST_SEQ {
            self.uncertain += 1;
            return Verdict::New;
        }
        if seq >= self.next {
            self.advance(seq, time);
        } else if !self.fill_gap(seq, time) && !self.unlose(seq) {
            if seq < self.forgotten_below_seq {
                self.uncertain += 1;
                return Verdict::New;
            }
            self.duplicates += 1;
            return Verdict::Duplicate;
        }
        self.received += 1;
        Verdict::New
    }

    fn observe_loss(&mut self, from: u64, to: u64, time: Timestamp, reason: &str) -> Verdict {
        self.first_time = Some(min_time(self.first_time, time));
        let to = to.max(from);
        if from < FIRST_SEQ {
            self.uncertain += 1;
            return Verdict::New;
        }
        let after = self.last_time;
        if from >= self.next {
            self.advance(from, time);
            self.next = to + 1;
            self.add_lost(
                from,
                Lost {
                    end: to,
                    after,
                    before: Some(time),
                    reason: reason.to_owned(),
                },
            );
            return Verdict::New;
        }
        // The loss record's own number is `from`: if that is no longer missing, the
        // record was seen before.
        let was_missing = self
            .gaps
            .range(..=from)
            .next_back()
            .is_some_and(|(_, g)| g.end >= from);
        if !was_missing {
            if from < self.forgotten_below_seq {
                self.uncertain += 1;
                return Verdict::New;
            }
            self.duplicates += 1;
            return Verdict::Duplicate;
        }
        // Late: mark every still-missing number of the range as lost.
        let missing: Vec<u64> = self
            .gaps
            .range(..=to)
            .filter(|(s, g)| g.end >= from && **s <= to)
            .map(|(s, _)| *s)
            .collect();
        for start in missing {
            if let Some(g) = self.gaps.remove(&start) {
                let (lo, hi) = (start.max(from), g.end.min(to));
                if start < lo {
                    self.gaps.insert(
                        start,
                        Gap {
                            end: lo - 1,
                            ..g.clone()
                        },
                    );
                }
                if hi < g.end {
                    self.gaps.insert(
                        hi + 1,
                        Gap {
                            end: g.end,
                            ..g.clone()
                        },
                    );
                }
                self.add_lost(
                    lo,
                    Lost {
                        end: hi,
                        after: g.after,
                        before: Some(time),
                        reason: reason.to_owned(),
                    },
                );
            }
        }
        if to >= self.next {
            self.next = to + 1;
            self.last_time = Some(time);
        }
        Verdict::New
    }

    /// This source's answer for `[from, to)`. `reported_last` is the highest number the
    /// agent says it has assigned (heartbeat), if known.
    fn answer(
        &self,
        name: &str,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        reported_last: Option<u64>,
    ) -> SourceCompleteness {
        let missing: Vec<SeqRange> = self
            .gaps
            .iter()
            .filter(|(_, g)| touches(g.after, g.before, from, to))
            .map(|(&s, g)| SeqRange {
                from_seq: s,
                to_seq: g.end,
                after: g.after,
                before: g.before,
                reason: None,
            })
            .collect();
        let lost: Vec<SeqRange> = self
            .lost
            .iter()
            .filter(|(_, l)| touches(l.after, l.before, from, to))
            .map(|(&s, l)| SeqRange {
                from_seq: s,
                to_seq: l.end,
                after: l.after,
                before: l.before,
                reason: Some(l.reason.clone()),
            })
            .collect();
        let last_seq = self.next - 1;
        let pending = reported_last.map(|r| r.saturating_sub(last_seq));
        // Beyond the newest record received, only the agent can say nothing is waiting.
        let reaches_past_newest = match (to, self.last_time) {
            (Some(to), Some(last)) => to > last,
            _ => true,
        };
        let unknown_before = self.forgotten_before;
        let forgotten = match (unknown_before, from) {
            (Some(f), Some(from)) => from <= f,
            (Some(_), None) => true,
            _ => false,
        };
        let complete = missing.is_empty()
            && lost.is_empty()
            && !forgotten
            && (!reaches_past_newest || pending == Some(0));
        let range_len = |r: &SeqRange| r.to_seq - r.from_seq + 1;
        SourceCompleteness {
            source: name.to_owned(),
            complete,
            last_seq,
            first_time: self.first_time,
            last_time: self.last_time,
            received: self.received,
            duplicates: self.duplicates,
            missing_records: missing.iter().map(range_len).sum(),
            lost_records: lost.iter().map(range_len).sum(),
            missing,
            lost,
            pending_records: pending,
            unknown_before,
        }
    }
}

impl SequenceTracker {
    pub fn new() -> Self {
        Self {
            version: STATE_VERSION,
            agents: BTreeMap::new(),
        }
    }

    fn source(&mut self, agent: &str, source: &str) -> &mut SourceState {
        // Look up before inserting so the common case allocates no key strings.
        if !self
            .agents
            .get(agent)
            .is_some_and(|a| a.contains_key(source))
        {
            self.agents
                .entry(agent.to_owned())
                .or_default()
                .insert(source.to_owned(), SourceState::default());
        }
        self.agents
            .get_mut(agent)
            .and_then(|a| a.get_mut(source))
            .expect("inserted just above")
    }

    /// A line numbered `seq` from `agent`'s `source`, read (or received) at `time`.
    /// Duplicates are dropped by the caller; a number skipped over becomes a gap until
    /// it arrives.
    pub fn observe(&mut self, agent: &str, source: &str, seq: u64, time: Timestamp) -> Verdict {
        self.source(agent, source).observe(seq, time)
    }

    /// [`observe`](Self::observe) for a record sent under enrollment `epoch`. A newer
    /// epoch than the source's starts its numbering afresh (a reinstall wiped the agent's
    /// state); a record from an older epoch (sent before the reinstall, arriving late) is
    /// kept but cannot be placed.
    pub fn observe_in(
        &mut self,
        agent: &str,
        source: &str,
        epoch: u32,
        seq: u64,
        time: Timestamp,
    ) -> Verdict {
        match self.source_in(agent, source, epoch) {
            Some(state) => state.observe(seq, time),
            None => Verdict::New,
        }
    }

    /// [`observe_loss`](Self::observe_loss) under enrollment `epoch` (see
    /// [`observe_in`](Self::observe_in)).
    #[allow(clippy::too_many_arguments)]
    pub fn observe_loss_in(
        &mut self,
        agent: &str,
        source: &str,
        epoch: u32,
        from_seq: u64,
        to_seq: u64,
        time: Timestamp,
        reason: &str,
    ) -> Verdict {
        match self.source_in(agent, source, epoch) {
            Some(state) => state.observe_loss(from_seq, to_seq, time, reason),
            None => Verdict::New,
        }
    }

    /// The source's state for `epoch`, reset when the epoch is newer; `None` (counted as
    /// uncertain) when it is older.
    fn source_in(&mut self, agent: &str, source: &str, epoch: u32) -> Option<&mut SourceState> {
        let state = self.source(agent, source);
        if epoch > state.epoch {
            *state = SourceState {
                epoch,
                ..SourceState::default()
            };
        } else if epoch < state.epoch {
            state.uncertain += 1;
            return None;
        }
        Some(state)
    }

    /// A loss record: the agent lost `from_seq..=to_seq` (its own number is `from_seq`).
    /// Duplicate when that record was seen before.
    pub fn observe_loss(
        &mut self,
        agent: &str,
        source: &str,
        from_seq: u64,
        to_seq: u64,
        time: Timestamp,
        reason: &str,
    ) -> Verdict {
        self.source(agent, source)
            .observe_loss(from_seq, to_seq, time, reason)
    }

    /// Whether `agent` sent everything with a time in `[from, to)` (either end open), per
    /// source or for one `source`. `reported_last_seq` is what the agent's latest
    /// heartbeat says it has numbered per source (empty when unknown): records beyond
    /// what arrived are pending, and sources the tracker has never seen are included.
    /// None when the agent is unknown to both.
    pub fn completeness(
        &self,
        agent: &str,
        source: Option<&str>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
        reported_last_seq: &BTreeMap<String, u64>,
    ) -> Option<Vec<SourceCompleteness>> {
        let known = self.agents.get(agent);
        if known.is_none() && reported_last_seq.is_empty() {
            return None;
        }
        let empty = BTreeMap::new();
        let known = known.unwrap_or(&empty);
        let mut names: Vec<&str> = known
            .keys()
            .chain(reported_last_seq.keys())
            .map(String::as_str)
            .filter(|n| source.is_none_or(|s| s == *n))
            .collect();
        names.sort_unstable();
        names.dedup();
        let fresh = SourceState::default();
        Some(
            names
                .into_iter()
                .map(|name| {
                    known.get(name).unwrap_or(&fresh).answer(
                        name,
                        from,
                        to,
                        reported_last_seq.get(name).copied(),
                    )
                })
                .collect(),
        )
    }

    /// The agents and sources tracked.
    pub fn sources(&self, agent: &str) -> Vec<String> {
        self.agents
            .get(agent)
            .map(|a| a.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The state as JSON, to persist with the indexer's checkpoint.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("the tracker holds only strings, numbers and maps")
    }

    /// Restores a state written by [`Self::to_json`].
    pub fn from_json(text: &str) -> Result<Self, SequenceError> {
        let t: Self = serde_json::from_str(text)?;
        if t.version != STATE_VERSION {
            return Err(SequenceError::Version(t.version));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Duplicate, New};

    const A: &str = "agent-1";
    const S: &str = "/var/log/auth.log";

    fn t(secs: i64) -> Timestamp {
        Timestamp::from_secs(secs)
    }

    fn none() -> BTreeMap<String, u64> {
        BTreeMap::new()
    }

    fn one(tr: &SequenceTracker, from: Option<i64>, to: Option<i64>) -> SourceCompleteness {
        tr.completeness(A, Some(S), from.map(t), to.map(t), &none())
            .unwrap()
            .remove(0)
    }

    fn ranges(r: &[SeqRange]) -> Vec<(u64, u64)> {
        r.iter().map(|r| (r.from_seq, r.to_seq)).collect()
    }

    #[test]
    fn a_newer_enrollment_epoch_restarts_numbering_and_an_older_one_is_kept() {
        let mut t = SequenceTracker::new();
        let at = Timestamp::from_secs(1);
        for seq in 1..=3 {
            assert_eq!(t.observe_in("a", "/var/log/x", 1, seq, at), Verdict::New);
        }
        assert_eq!(
            t.observe_in("a", "/var/log/x", 1, 2, at),
            Verdict::Duplicate
        );
        // Reinstalled: the same numbers again are new lines, not duplicates.
        assert_eq!(t.observe_in("a", "/var/log/x", 2, 1, at), Verdict::New);
        assert_eq!(
            t.observe_in("a", "/var/log/x", 2, 1, at),
            Verdict::Duplicate
        );
        // A late record of the old install is kept.
        assert_eq!(t.observe_in("a", "/var/log/x", 1, 4, at), Verdict::New);
        let back = SequenceTracker::from_json(&t.to_json()).unwrap();
        let mut back = back;
        assert_eq!(
            back.observe_in("a", "/var/log/x", 2, 1, at),
            Verdict::Duplicate
        );
    }

    #[test]
    fn in_order_records_are_new_and_resends_are_duplicates() {
        let mut tr = SequenceTracker::new();
        for seq in 1..=5 {
            assert_eq!(tr.observe(A, S, seq, t(seq as i64)), New);
        }
        for seq in 1..=5 {
            assert_eq!(tr.observe(A, S, seq, t(99)), Duplicate);
        }
        let c = one(&tr, Some(0), Some(5));
        assert!(c.complete, "{c:?}");
        assert_eq!((c.received, c.duplicates, c.last_seq), (5, 5, 5));
        // Other sources and agents are counted apart.
        assert_eq!(tr.observe(A, "journald", 1, t(1)), New);
        assert_eq!(tr.observe("agent-2", S, 1, t(1)), New);
    }

    #[test]
    fn a_skipped_number_is_a_gap_until_it_arrives() {
        let mut tr = SequenceTracker::new();
        tr.observe(A, S, 1, t(10));
        tr.observe(A, S, 2, t(20));
        assert_eq!(tr.observe(A, S, 6, t(60)), New);
        let c = one(&tr, None, None);
        assert_eq!(ranges(&c.missing), [(3, 5)]);
        assert_eq!(c.missing[0].after, Some(t(20)));
        assert_eq!(c.missing[0].before, Some(t(60)));
        assert_eq!(c.missing_records, 3);
        assert!(!c.complete);
        // The gap's neighbours bound it in time: a range before it is complete.
        assert!(one(&tr, Some(0), Some(15)).complete);
        assert!(!one(&tr, Some(30), Some(40)).complete);
        assert!(!one(&tr, Some(55), Some(60)).complete);
        // Filled late, out of order, in the middle first.
        assert_eq!(tr.observe(A, S, 4, t(40)), New);
        assert_eq!(ranges(&one(&tr, None, None).missing), [(3, 3), (5, 5)]);
        assert!(one(&tr, Some(45), Some(50)).missing.len() == 1);
        assert_eq!(tr.observe(A, S, 4, t(40)), Duplicate);
        assert_eq!(tr.observe(A, S, 5, t(50)), New);
        assert_eq!(tr.observe(A, S, 3, t(30)), New);
        let c = one(&tr, Some(0), Some(60));
        assert!(c.missing.is_empty() && c.complete, "{c:?}");
        assert_eq!(c.received, 6);
    }

    #[test]
    fn a_first_record_above_one_means_the_beginning_is_missing() {
        let mut tr = SequenceTracker::new();
        tr.observe(A, S, 4, t(40));
        let c = one(&tr, None, None);
        assert_eq!(ranges(&c.missing), [(1, 3)]);
        assert_eq!(c.missing[0].after, None);
        // Unknown before: any range up to the first record may be touched.
        assert!(!one(&tr, Some(0), Some(10)).complete);
        assert_eq!(tr.observe(A, S, 1, t(10)), New);
        assert_eq!(tr.observe(A, S, 2, t(20)), New);
        assert_eq!(tr.observe(A, S, 3, t(30)), New);
        assert!(one(&tr, Some(0), Some(40)).complete);
    }

    #[test]
    fn reported_losses_are_not_gaps_but_still_incomplete() {
        let mut tr = SequenceTracker::new();
        tr.observe(A, S, 1, t(10));
        assert_eq!(tr.observe_loss(A, S, 2, 4, t(20), "rotated_unread"), New);
        assert_eq!(
            tr.observe_loss(A, S, 2, 4, t(20), "rotated_unread"),
            Duplicate
        );
        assert_eq!(tr.observe(A, S, 5, t(30)), New);
        let c = one(&tr, None, None);
        assert!(c.missing.is_empty());
        assert_eq!(ranges(&c.lost), [(2, 4)]);
        assert_eq!(c.lost[0].reason.as_deref(), Some("rotated_unread"));
        assert_eq!(c.lost_records, 3);
        assert!(!c.complete);
        assert!(one(&tr, Some(25), Some(30)).complete);
        // A loss reported after later lines arrived turns that part of the gap into loss.
        tr.observe(A, S, 9, t(90));
        assert_eq!(tr.observe_loss(A, S, 6, 7, t(95), "relay_overflow"), New);
        let c = one(&tr, None, None);
        assert_eq!(ranges(&c.missing), [(8, 8)]);
        assert_eq!(ranges(&c.lost), [(2, 4), (6, 7)]);
        // A line the agent called lost arrives after all: kept, not dropped.
        assert_eq!(tr.observe(A, S, 3, t(15)), New);
        assert_eq!(ranges(&one(&tr, None, None).lost), [(2, 2), (4, 4), (6, 7)]);
    }

    #[test]
    fn a_loss_ahead_of_the_newest_record_moves_past_its_range() {
        let mut tr = SequenceTracker::new();
        tr.observe(A, S, 1, t(1));
        tr.observe_loss(A, S, 3, 10, t(5), "truncated");
        let c = one(&tr, None, None);
        assert_eq!(c.last_seq, 10);
        assert_eq!(ranges(&c.missing), [(2, 2)]);
        assert_eq!(tr.observe(A, S, 11, t(6)), New);
        assert!(one(&tr, None, None).missing.len() == 1);
    }

    #[test]
    fn pending_records_from_the_heartbeat_keep_the_present_open() {
        let mut tr = SequenceTracker::new();
        for seq in 1..=3 {
            tr.observe(A, S, seq, t(seq as i64 * 10));
        }
        // Up to now: only the agent can say whether more is waiting.
        let open = one(&tr, Some(0), None);
        assert!(!open.complete && open.pending_records.is_none());
        let mut reported = BTreeMap::from([(S.to_owned(), 3u64)]);
        let c = tr
            .completeness(A, None, Some(t(0)), None, &reported)
            .unwrap();
        assert!(c[0].complete);
        assert_eq!(c[0].pending_records, Some(0));
        reported.insert(S.to_owned(), 7);
        reported.insert("journald".to_owned(), 2);
        let c = tr
            .completeness(A, None, Some(t(0)), None, &reported)
            .unwrap();
        assert_eq!(c.len(), 2);
        let journald = c.iter().find(|s| s.source == "journald").unwrap();
        assert_eq!(
            (journald.pending_records, journald.complete),
            (Some(2), false)
        );
        let auth = c.iter().find(|s| s.source == S).unwrap();
        assert_eq!((auth.pending_records, auth.complete), (Some(4), false));
        // A closed range before the newest record does not depend on pending records.
        assert!(
            tr.completeness(A, Some(S), Some(t(0)), Some(t(25)), &reported)
                .unwrap()[0]
                .complete
        );
        assert!(
            tr.completeness("nobody", None, None, None, &none())
                .is_none()
        );
    }

    #[test]
    fn restart_from_serialized_state_gives_the_same_verdicts() {
        let mut tr = SequenceTracker::new();
        for seq in [1, 2, 5, 3, 9] {
            tr.observe(A, S, seq, t(seq as i64));
        }
        tr.observe_loss(A, S, 10, 12, t(10), "spool_damaged");
        let saved = tr.to_json();
        // Records after the checkpoint, replayed after a crash.
        let tail = [(4, 4), (13, 13), (2, 2), (20, 20)];
        let live: Vec<Verdict> = tail
            .iter()
            .map(|&(s, ti)| tr.observe(A, S, s, t(ti)))
            .collect();
        let mut restored = SequenceTracker::from_json(&saved).unwrap();
        let replayed: Vec<Verdict> = tail
            .iter()
            .map(|&(s, ti)| restored.observe(A, S, s, t(ti)))
            .collect();
        assert_eq!(live, [New, New, Duplicate, New]);
        assert_eq!(live, replayed);
        assert_eq!(restored, tr);
        assert_eq!(SequenceTracker::from_json(&tr.to_json()).unwrap(), tr);
        assert!(SequenceTracker::from_json("{").is_err());
        let future = tr.to_json().replacen("\"version\":1", "\"version\":99", 1);
        assert!(matches!(
            SequenceTracker::from_json(&future),
            Err(SequenceError::Version(99))
        ));
    }

    #[test]
    fn numbers_it_cannot_place_are_kept_not_dropped() {
        let mut tr = SequenceTracker::new();
        assert_eq!(tr.observe(A, S, 0, t(1)), New);
        assert_eq!(tr.observe(A, S, 0, t(1)), New);
        // Past the bound the oldest gaps are forgotten; their numbers are kept if they
        // arrive, and their span is reported as unknown.
        let n = MAX_RANGES_PER_SOURCE as u64 + 10;
        for i in 0..n {
            tr.observe(A, S, 2 + 2 * i, t(2 + 2 * i as i64));
        }
        let c = one(&tr, None, None);
        assert_eq!(c.missing.len(), MAX_RANGES_PER_SOURCE);
        assert!(c.unknown_before.is_some() && !c.complete);
        assert_eq!(tr.observe(A, S, 1, t(1)), New);
        assert_eq!(tr.observe(A, S, 1, t(1)), New);
        // Recent gaps still deduplicate.
        let recent = 2 * n - 1;
        assert_eq!(tr.observe(A, S, recent, t(recent as i64)), New);
        assert_eq!(tr.observe(A, S, recent, t(recent as i64)), Duplicate);
        let c = one(&tr, None, None);
        assert_eq!(c.duplicates, 1);
    }

    #[test]
    fn a_brute_force_model_agrees() {
        // Random orders of 1..=200 with repeats: every first sight is New, every repeat
        // Duplicate, and what is missing is exactly what was never sent.
        use rand::seq::SliceRandom;
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            let mut tr = SequenceTracker::new();
            let mut seen = std::collections::BTreeSet::new();
            let mut order: Vec<u64> = (1..=200).filter(|_| rng.random_bool(0.8)).collect();
            let repeats: Vec<u64> = order
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.2))
                .collect();
            order.extend(repeats);
            order.shuffle(&mut rng);
            for seq in order {
                let expect = if seen.insert(seq) { New } else { Duplicate };
                assert_eq!(tr.observe(A, S, seq, t(seq as i64)), expect, "seq {seq}");
            }
            let max = *seen.last().unwrap();
            let c = one(&tr, None, None);
            let missing: Vec<u64> = c
                .missing
                .iter()
                .flat_map(|r| r.from_seq..=r.to_seq)
                .collect();
            let expected: Vec<u64> = (1..=max).filter(|s| !seen.contains(s)).collect();
            assert_eq!(missing, expected);
            assert_eq!(c.received, seen.len() as u64);
        }
    }
}
