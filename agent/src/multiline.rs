//! Joining lines into records (stack traces): a line either begins a record or continues
//! the one before, by a pattern; a record ends when the next begins, when it reaches its
//! size limits, or when no line has joined it for a while. Sits between a file's line
//! framing and the spool; it only sees lines and their end offsets.

use std::time::{Duration, Instant};

use regex::bytes::Regex;

use crate::config::MultilineConfig;

/// Why a multiline setting was refused.
#[derive(Debug, thiserror::Error)]
pub enum MultilineError {
    #[error("multiline needs exactly one of start_pattern and continue_pattern")]
    PatternChoice,
    #[error("bad multiline pattern: {0}")]
    Pattern(#[from] regex::Error),
}

/// A finished record: its bytes and the file offset just after its last line.
pub type Joined = (Vec<u8>, u64);

/// The joiner of one file.
#[derive(Debug)]
pub struct Joiner {
    start: Option<Regex>,
    cont: Option<Regex>,
    timeout: Duration,
    max_lines: usize,
    max_bytes: usize,
    pending: Vec<u8>,
    lines: usize,
    end: u64,
    last: Option<Instant>,
    /// Records ended by the size limits rather than by a pattern (counted by the caller).
    pub cuts: u64,
}

impl Joiner {
    /// A joiner for one file, from the input's settings.
    pub fn new(cfg: &MultilineConfig) -> Result<Self, MultilineError> {
        let (start, cont) = match (&cfg.start_pattern, &cfg.continue_pattern) {
            (Some(s), None) => (Some(Regex::new(s)?), None),
            (None, Some(c)) => (None, Some(Regex::new(c)?)),
            _ => return Err(MultilineError::PatternChoice),
        };
        Ok(Self {
            start,
            cont,
            timeout: Duration::from_millis(cfg.timeout_ms),
            max_lines: cfg.max_lines.max(1),
            max_bytes: cfg.max_bytes.max(1),
            pending: Vec::new(),
            lines: 0,
            end: 0,
            last: None,
            cuts: 0,
        })
    }

    fn continues(&self, line: &[u8]) -> bool {
        match (&self.start, &self.cont) {
            (Some(s), _) => !s.is_match(line),
            (None, Some(c)) => c.is_match(line),
            (None, None) => false,
        }
    }

    /// Takes one line ending at file offset `end`; returns the record it completed, if
    /// any.
    pub fn push(&mut self, line: &[u8], end: u64, now: Instant) -> Option<Joined> {
        let mut done = None;
        if self.lines > 0 {
            let fits = self.lines < self.max_lines
                && self.pending.len() + 1 + line.len() <= self.max_bytes;
            if self.continues(line) && fits {
                self.pending.push(b'\n');
                self.pending.extend_from_slice(line);
                self.lines += 1;
                self.end = end;
                self.last = Some(now);
                return None;
            }
            if self.continues(line) {
                self.cuts += 1;
            }
            done = self.flush();
        }
        let keep = line.len().min(self.max_bytes);
        self.pending.extend_from_slice(&line[..keep]);
        self.lines = 1;
        self.end = end;
        self.last = Some(now);
        done
    }

    /// The pending record, if no line has joined it within the timeout.
    pub fn flush_stale(&mut self, now: Instant) -> Option<Joined> {
        match self.last {
            Some(t) if now.duration_since(t) >= self.timeout => self.flush(),
            _ => None,
        }
    }

    /// The pending record, whatever its age (end of file for good, shutdown).
    pub fn flush(&mut self) -> Option<Joined> {
        if self.lines == 0 {
            return None;
        }
        self.lines = 0;
        self.last = None;
        Some((std::mem::take(&mut self.pending), self.end))
    }

    /// Whether a record is being gathered.
    pub fn has_pending(&self) -> bool {
        self.lines > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(start: Option<&str>, cont: Option<&str>) -> MultilineConfig {
        MultilineConfig {
            start_pattern: start.map(str::to_owned),
            continue_pattern: cont.map(str::to_owned),
            timeout_ms: 100,
            max_lines: 3,
            max_bytes: 1000,
        }
    }

    fn feed(j: &mut Joiner, lines: &[&str]) -> Vec<(String, u64)> {
        let now = Instant::now();
        let mut out = Vec::new();
        let mut end = 0;
        for l in lines {
            end += l.len() as u64 + 1;
            if let Some((r, e)) = j.push(l.as_bytes(), end, now) {
                out.push((String::from_utf8(r).unwrap(), e));
            }
        }
        out
    }

    #[test]
    fn stack_trace_joins_by_start_pattern() {
        let mut j = Joiner::new(&cfg(Some(r"^\d{4}-"), None)).unwrap();
        let out = feed(
            &mut j,
            &[
                "2025-01-01 ERROR boom",
                "java.lang.Exception: x",
                "\tat a.b(C.java:1)",
                "2025-01-01 INFO next",
            ],
        );
        assert_eq!(
            out,
            vec![(
                "2025-01-01 ERROR boom\njava.lang.Exception: x\n\tat a.b(C.java:1)".into(),
                63
            )]
        );
        assert!(j.has_pending());
        assert_eq!(j.flush().unwrap().0, b"2025-01-01 INFO next");
    }

    #[test]
    fn continue_pattern_and_limits() {
        let mut j = Joiner::new(&cfg(None, Some(r"^\s"))).unwrap();
        let out = feed(&mut j, &["a", " 1", " 2", " 3", "b"]);
        // max_lines = 3 ends the first record early; the extra line begins the next.
        assert_eq!(out[0].0, "a\n 1\n 2");
        assert_eq!(out[1].0, " 3");
        assert_eq!(j.cuts, 1);
    }

    #[test]
    fn timeout_flushes_a_quiet_record() {
        let mut j = Joiner::new(&cfg(Some("^S"), None)).unwrap();
        let t0 = Instant::now();
        assert!(j.push(b"S one", 6, t0).is_none());
        assert!(j.push(b"  more", 13, t0).is_none());
        assert!(j.flush_stale(t0 + Duration::from_millis(50)).is_none());
        let (rec, end) = j.flush_stale(t0 + Duration::from_millis(150)).unwrap();
        assert_eq!(rec, b"S one\n  more");
        assert_eq!(end, 13);
        assert!(!j.has_pending());
    }

    #[test]
    fn both_or_neither_pattern_is_refused() {
        assert!(Joiner::new(&cfg(Some("a"), Some("b"))).is_err());
        assert!(Joiner::new(&cfg(None, None)).is_err());
    }
}
