//! The systemd journal, read through `journalctl -o json --follow`: one record per entry
//! (its JSON line, unaltered), source `journald`, resumed after a restart with
//! `--after-cursor` from the cursor of the last spooled (or acknowledged) entry.
//!
//! If journalctl refuses the cursor (the journal was vacuumed past it), the gap is sent
//! as a loss event and reading starts again at the end.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gac_event::wire::{SOURCE_JOURNALD, loss};
use serde::Deserialize;

use super::{Seqs, Sink};
use crate::config::{JournaldConfig, ReadFrom};
use crate::metrics::Counter;
use crate::spool::{LineBuf, Resume, SpoolError};

/// Most entries in one spool block; a block is flushed sooner when journalctl has
/// nothing more buffered.
const BLOCK_ENTRIES: usize = 512;

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(rename = "__CURSOR", borrow)]
    cursor: std::borrow::Cow<'a, str>,
}

/// The cursor of one `journalctl -o json` line.
fn cursor_of(line: &[u8]) -> Option<String> {
    serde_json::from_slice::<Entry<'_>>(line)
        .ok()
        .map(|e| e.cursor.into_owned())
}

/// The journal input.
#[derive(Debug)]
pub struct JournaldInput {
    cfg: JournaldConfig,
    cursor: Option<String>,
    seqs: Seqs,
    sink: Sink,
}

impl JournaldInput {
    /// An input resuming after `cursor` (if any), numbering after `last_seq`.
    pub fn new(
        cfg: &JournaldConfig,
        cursor: Option<String>,
        last_seq: BTreeMap<String, u64>,
        sink: Sink,
    ) -> Self {
        Self {
            cfg: cfg.clone(),
            cursor,
            seqs: Seqs::new(last_seq),
            sink,
        }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.cfg.journalctl_path);
        c.args(["-o", "json", "--follow", "--no-pager"]);
        match (&self.cursor, self.cfg.read_from) {
            (Some(cur), _) => {
                c.arg(format!("--after-cursor={cur}"));
            }
            (None, ReadFrom::Beginning) => {
                c.arg("--no-tail");
            }
            (None, ReadFrom::End) => {
                c.args(["-n", "0"]);
            }
        }
        for u in &self.cfg.units {
            c.arg(format!("--unit={u}"));
        }
        c.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Reads the journal until shutdown, restarting journalctl when it exits.
    pub fn run(mut self) {
        let mut backoff = Duration::from_millis(500);
        while !self.sink.stopping() {
            let started = Instant::now();
            match self.run_once() {
                Ok(read) => {
                    if read > 0 || started.elapsed() > Duration::from_secs(10) {
                        backoff = Duration::from_millis(500);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "journalctl failed"),
            }
            if self.sink.stopping() {
                break;
            }
            self.sink.metrics.inc(Counter::JournaldRestarts);
            sleep_unless_stopping(&self.sink, backoff);
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    /// One run of journalctl; the number of entries read.
    fn run_once(&mut self) -> std::io::Result<u64> {
        let mut child = self.command().spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let mut stderr = child
            .stderr
            .take()
            .ok_or_else(|| std::io::Error::other("no stderr"))?;
        let child = Arc::new(Mutex::new(child));
        // journalctl blocks in its own read of the journal; a watcher ends it at shutdown.
        let watcher = {
            let child = child.clone();
            let sink = self.sink.clone();
            std::thread::spawn(move || {
                loop {
                    let mut c = child.lock().unwrap_or_else(|p| p.into_inner());
                    if matches!(c.try_wait(), Ok(Some(_))) {
                        return;
                    }
                    if sink.stopping() {
                        let _ = c.kill();
                        return;
                    }
                    drop(c);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let read = self.read_entries(BufReader::with_capacity(256 * 1024, stdout));
        let status = wait(&child);
        let _ = watcher.join();
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err);
        let read = read?;
        if !self.sink.stopping()
            && read == 0
            && !status
            && self.cursor.is_some()
            && err.contains("cursor")
        {
            // The journal no longer holds our place: say so, and start again at the end.
            tracing::error!(stderr = %err.trim(), "journal cursor refused; entries since it may be lost");
            self.sink.metrics.inc(Counter::JournaldLoss);
            self.sink.append_loss(
                &mut self.seqs,
                SOURCE_JOURNALD,
                loss::JOURNAL_CURSOR_LOST,
                format!(
                    "journalctl refused cursor {:?}: {}",
                    self.cursor,
                    err.trim()
                ),
            );
            self.cursor = None;
            self.cfg.read_from = ReadFrom::End;
        } else if !err.trim().is_empty() {
            tracing::warn!(stderr = %err.trim(), "journalctl said");
        }
        Ok(read)
    }

    /// Reads entries until journalctl's output ends.
    fn read_entries<R: Read>(&mut self, mut r: BufReader<R>) -> std::io::Result<u64> {
        let max = self.cfg.max_entry_bytes;
        let mut lines = LineBuf::default();
        let mut last_cursor: Option<String> = None;
        let mut line = Vec::new();
        let mut read = 0u64;
        loop {
            line.clear();
            let (n, cut) = read_line_bounded(&mut r, &mut line, max)?;
            if n == 0 {
                break;
            }
            if cut {
                self.sink.metrics.inc(Counter::JournaldCut);
            }
            match cursor_of(&line) {
                Some(c) => last_cursor = Some(c),
                // A cut entry loses its cursor with its tail; it still goes out, and the
                // next whole entry moves the cursor on.
                None if cut => {}
                None => {
                    self.sink.metrics.inc(Counter::JournaldBadLines);
                    continue;
                }
            }
            lines.push(&line);
            read += 1;
            self.sink.metrics.inc(Counter::JournaldEntries);
            // Spool as soon as journalctl has nothing more buffered (asking it would
            // block until the next entry, holding these back).
            if lines.len() >= BLOCK_ENTRIES || r.buffer().is_empty() {
                self.flush(&mut lines, &last_cursor);
            }
            if self.sink.stopping() {
                break;
            }
        }
        self.flush(&mut lines, &last_cursor);
        Ok(read)
    }

    fn flush(&mut self, lines: &mut LineBuf, cursor: &Option<String>) {
        if lines.is_empty() {
            return;
        }
        let Some(cursor) = cursor.clone() else { return };
        let mut pending = std::mem::take(lines);
        loop {
            let resume = Resume::Journal(cursor.clone());
            match self
                .sink
                .append_lines(&mut self.seqs, SOURCE_JOURNALD, pending, resume)
            {
                Ok(()) => break,
                Err((e, back)) => {
                    if !matches!(e, SpoolError::Full) {
                        tracing::error!(error = %e, "spool append failed; retrying");
                    }
                    pending = back;
                    // Not reading makes journalctl wait: the journal stays on disk.
                    if !self.sink.wait_for_room(pending.bytes() + 1024) {
                        // Stopping with the spool full: these entries are read again
                        // after the restart (the cursor did not move).
                        return;
                    }
                }
            }
        }
        self.cursor = Some(cursor);
    }
}

fn wait(child: &Arc<Mutex<Child>>) -> bool {
    let mut c = child.lock().unwrap_or_else(|p| p.into_inner());
    c.wait().map(|s| s.success()).unwrap_or(false)
}

fn sleep_unless_stopping(sink: &Sink, d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end && !sink.stopping() {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reads one line (without its newline) into `out`, keeping at most `max` bytes of it;
/// the rest is consumed and dropped. Returns the bytes consumed (0 at the end) and
/// whether the line was cut.
fn read_line_bounded(
    r: &mut impl BufRead,
    out: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<(usize, bool)> {
    let (mut consumed, mut cut) = (0, false);
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((consumed, cut));
        }
        let newline = memchr::memchr(b'\n', buf);
        let content = &buf[..newline.unwrap_or(buf.len())];
        let room = max.saturating_sub(out.len());
        if content.len() > room {
            cut = true;
        }
        out.extend_from_slice(&content[..content.len().min(room)]);
        let n = content.len() + usize::from(newline.is_some());
        consumed += n;
        r.consume(n);
        if newline.is_some() {
            return Ok((consumed, cut));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SpoolConfig;
    use crate::metrics::Metrics;
    use crate::spool::{BlockBody, Spool, SpoolPos};
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn bounded_lines() {
        let mut r = std::io::Cursor::new(b"short\nthis one is long\nend".to_vec());
        let mut out = Vec::new();
        assert_eq!(read_line_bounded(&mut r, &mut out, 8).unwrap(), (6, false));
        assert_eq!(out, b"short");
        out.clear();
        let (n, cut) = read_line_bounded(&mut r, &mut out, 8).unwrap();
        assert_eq!((n, cut), (17, true));
        assert_eq!(&out[..8], b"this one");
        out.clear();
        assert_eq!(read_line_bounded(&mut r, &mut out, 8).unwrap(), (3, false));
        assert_eq!(out, b"end");
    }

    #[test]
    fn cursor_is_found_in_an_entry() {
        let line = br#"{"__CURSOR":"s=1;i=2","MESSAGE":"hi","_PID":"1"}"#;
        assert_eq!(cursor_of(line).unwrap(), "s=1;i=2");
        assert!(cursor_of(b"not json").is_none());
    }

    /// A stand-in journalctl: prints its arguments' cursor and three entries after it.
    fn fake_journalctl(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("journalctl");
        std::fs::write(
            &path,
            r#"#!/bin/sh
start=0
for a in "$@"; do
  case "$a" in
    --after-cursor=c*) start=${a#--after-cursor=c} ;;
  esac
done
i=$((start + 1))
while [ $i -le $((start + 3)) ]; do
  printf '{"__CURSOR":"c%d","MESSAGE":"entry %d"}\n' $i $i
  i=$((i + 1))
done
"#,
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[test]
    fn entries_are_spooled_with_their_cursor_and_resume_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = Arc::new(Metrics::default());
        let (spool, _) = Spool::open(
            &dir.path().join("spool"),
            &SpoolConfig::default(),
            SpoolPos::default(),
            &BTreeMap::new(),
            metrics.clone(),
        )
        .unwrap();
        let spool = Arc::new(Mutex::new(spool));
        let sink = Sink::new(
            spool.clone(),
            metrics.clone(),
            Arc::new(AtomicBool::new(false)),
        );
        let cfg = JournaldConfig {
            enabled: true,
            journalctl_path: fake_journalctl(dir.path()),
            ..JournaldConfig::default()
        };
        let mut j = JournaldInput::new(&cfg, None, BTreeMap::new(), sink.clone());
        assert_eq!(j.run_once().unwrap(), 3);
        assert_eq!(j.cursor.as_deref(), Some("c3"));
        // A restart resumes after the cursor.
        let mut j2 = JournaldInput::new(
            &cfg,
            j.cursor.clone(),
            BTreeMap::from([(SOURCE_JOURNALD.to_owned(), 3)]),
            sink,
        );
        assert_eq!(j2.run_once().unwrap(), 3);
        let mut s = spool.lock().unwrap();
        let mut got = Vec::new();
        while let Some(b) = s.read_batch(1 << 20, 1000).unwrap() {
            for bl in b.blocks {
                assert_eq!(bl.source, SOURCE_JOURNALD);
                if let BlockBody::Lines(l) = &bl.body {
                    for (k, line) in l.iter().enumerate() {
                        got.push((
                            bl.first_seq + k as u64,
                            String::from_utf8_lossy(line).into_owned(),
                        ));
                    }
                }
            }
        }
        let msgs: Vec<u64> = got.iter().map(|g| g.0).collect();
        assert_eq!(msgs, vec![1, 2, 3, 4, 5, 6]);
        assert!(got[5].1.contains("\"entry 6\""));
    }

    #[test]
    fn an_entry_is_spooled_without_waiting_for_the_next_and_shutdown_ends_journalctl() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("journalctl");
        std::fs::write(
            &script,
            "#!/bin/sh\nprintf '{\"__CURSOR\":\"c1\",\"MESSAGE\":\"only\"}\\n'\nexec sleep 30\n",
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let metrics = Arc::new(Metrics::default());
        let (spool, _) = Spool::open(
            &dir.path().join("spool"),
            &SpoolConfig::default(),
            SpoolPos::default(),
            &BTreeMap::new(),
            metrics.clone(),
        )
        .unwrap();
        let spool = Arc::new(Mutex::new(spool));
        let stop = Arc::new(AtomicBool::new(false));
        let sink = Sink::new(spool.clone(), metrics.clone(), stop.clone());
        let cfg = JournaldConfig {
            enabled: true,
            journalctl_path: script,
            ..JournaldConfig::default()
        };
        let j = JournaldInput::new(&cfg, None, BTreeMap::new(), sink);
        let started = Instant::now();
        let t = std::thread::spawn(move || j.run());
        while spool.lock().unwrap().stats().records == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "entry held back"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        t.join().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "journalctl was not ended"
        );
    }
}
