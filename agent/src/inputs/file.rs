//! Following log files: find them by glob, read new lines, and keep reading the right
//! bytes across rotation.
//!
//! A file is known by its device and inode (which survive a rename) and by a fingerprint
//! of its first bytes (which survives a copy). So:
//! - rename rotation: the old inode is still open and is read to its end, then closed
//!   once it has been quiet for `rotate_wait_ms`; the new file at the path is read from
//!   its start; both number their lines in the same source (the path they were found
//!   under), so a source's sequence runs on across rotations;
//! - copytruncate: a new inode whose head matches a followed file is that file's copy; it
//!   is parked, and when the original shrinks, the copy is read from where the original
//!   had got to (the lines written between the last read and the truncation), then the
//!   original from 0. With no copy to be found, unread bytes become a loss event;
//! - a file whose head changed under the same inode was truncated and rewritten;
//! - deletion: the open handle is read to its end, then closed.
//!
//! Framing here is newline splitting (a trailing `\r` goes too) with a line-length cap;
//! lines may then pass through [`crate::multiline`]. A block is one read's worth of lines
//! and carries the file position after its last record, which is what checkpoints hold.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gac_event::wire::loss;

use super::{Seqs, Sink};
use crate::config::{FileInputConfig, FilesConfig, ReadFrom};
use crate::metrics::Counter;
use crate::multiline::Joiner;
use crate::spool::{FilePos, LineBuf, Resume, SpoolError};

/// Bytes read from one file in one go: large enough for 100 MiB/s at a few syscalls
/// per MiB, small enough that many busy files take turns.
const READ_CHUNK: usize = 256 * 1024;

/// The file keys (`DEV:INODE`) the tailer still cares about; the shipper keeps only these
/// (and recently acknowledged ones) in the checkpoint, so it does not grow forever.
#[derive(Debug, Default)]
pub struct LiveFiles {
    /// False until the first scan; before it nothing may be pruned.
    pub ready: bool,
    /// Keys of files open, parked, or finished but still visible by glob.
    pub keys: HashSet<String>,
}

/// A file position known from before this run (checkpoint, then spool).
#[derive(Debug, Clone)]
pub struct KnownFile {
    /// The source its lines are numbered in.
    pub source: String,
    /// Identity and offset to resume at.
    pub pos: FilePos,
}

/// FNV-1a, 64 bit: stable across builds and versions, which a checkpoint needs.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Hash of the first `len` bytes of `file`, or `None` if it has fewer.
fn head_hash(file: &File, len: usize) -> Option<u64> {
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => return None,
            Ok(n) => got += n,
            Err(_) => return None,
        }
    }
    Some(fnv(&buf))
}

/// A followed file.
#[derive(Debug)]
struct Tracked {
    input: usize,
    source: String,
    path: PathBuf,
    file: File,
    dev: u64,
    ino: u64,
    fp: u64,
    fp_len: u32,
    /// Bytes consumed (complete lines plus `partial`).
    offset: u64,
    /// The incomplete last line (at most `max_line_bytes`).
    partial: Vec<u8>,
    /// The current line went past `max_line_bytes`; skip to its newline.
    skipping: bool,
    joiner: Option<Joiner>,
    /// Lines framed but not yet taken by the spool (it was full).
    held: Option<(LineBuf, u64)>,
    size: u64,
    last_growth: Instant,
    /// Seen by the last scan at its source path.
    at_source_path: bool,
    /// Seen by the last scan anywhere.
    seen: bool,
    /// A copy waiting for its original to be truncated.
    parked: bool,
}

impl Tracked {
    fn key(&self) -> String {
        format!("{}:{}", self.dev, self.ino)
    }

    /// Where the current (incomplete) line began; approximate after a cut line.
    fn line_start(&self) -> u64 {
        self.offset - self.partial.len() as u64
    }

    fn pos(&self, offset: u64) -> FilePos {
        FilePos {
            dev: self.dev,
            ino: self.ino,
            fp: self.fp,
            fp_len: self.fp_len,
            offset,
        }
    }
}

/// A file read to its end and closed, remembered while it is still visible so it is not
/// read again as new.
#[derive(Debug, Clone)]
struct Done {
    source: String,
    input: usize,
    offset: u64,
}

/// The file input: every `[[files.input]]` of the config, on one thread.
#[derive(Debug)]
pub struct FileTailer {
    cfg: FilesConfig,
    inputs: Vec<FileInputConfig>,
    excludes: Vec<Vec<glob::Pattern>>,
    files: Vec<Tracked>,
    done: HashMap<(u64, u64), Done>,
    known: HashMap<(u64, u64), KnownFile>,
    first_scan: bool,
    first_run: bool,
    seqs: Seqs,
    sink: Sink,
    live: Arc<Mutex<LiveFiles>>,
    last_glob: Option<Instant>,
    paused: bool,
    /// Set by a scan: the next reads compare each file's head with its fingerprint
    /// (a file truncated and rewritten past its old size between two polls).
    verify_heads: bool,
    /// The read buffer, kept between reads.
    buf: Vec<u8>,
}

impl FileTailer {
    /// A tailer resuming at the `known` positions, numbering after `last_seq`.
    /// `first_run` (no checkpoint existed) lets `read_from = "end"` apply.
    pub fn new(
        cfg: &FilesConfig,
        known: Vec<KnownFile>,
        last_seq: BTreeMap<String, u64>,
        first_run: bool,
        sink: Sink,
        live: Arc<Mutex<LiveFiles>>,
    ) -> Self {
        let excludes = cfg
            .input
            .iter()
            .map(|i| {
                i.exclude
                    .iter()
                    .filter_map(|p| glob::Pattern::new(p).ok())
                    .collect()
            })
            .collect();
        Self {
            inputs: cfg.input.clone(),
            cfg: cfg.clone(),
            excludes,
            files: Vec::new(),
            done: HashMap::new(),
            known: known
                .into_iter()
                .map(|k| ((k.pos.dev, k.pos.ino), k))
                .collect(),
            first_scan: true,
            first_run,
            seqs: Seqs::new(last_seq),
            sink,
            live,
            last_glob: None,
            paused: false,
            verify_heads: false,
            buf: Vec::with_capacity(READ_CHUNK),
        }
    }

    /// Follows files until shutdown, then flushes what is held.
    pub fn run(mut self) {
        let poll = Duration::from_millis(self.cfg.poll_interval_ms);
        while !self.sink.stopping() {
            let busy = self.step(Instant::now());
            if !busy {
                std::thread::sleep(poll);
            }
        }
        self.finish();
    }

    /// One round: scan if due, read every file once, retire finished ones. True if any
    /// line was read (so the caller should not sleep).
    pub fn step(&mut self, now: Instant) -> bool {
        let glob_due = self.last_glob.is_none_or(|t| {
            now.duration_since(t) >= Duration::from_millis(self.cfg.glob_interval_ms)
        });
        if glob_due {
            self.scan(now);
            self.last_glob = Some(now);
            self.verify_heads = true;
        }
        if !self.sink.has_room(2 * READ_CHUNK) {
            if !self.paused {
                self.sink.metrics.inc(Counter::SpoolFullPauses);
                tracing::warn!("spool full: file reading paused (the files stay on disk)");
                self.paused = true;
            }
            return false;
        }
        self.paused = false;
        let mut busy = false;
        for i in 0..self.files.len() {
            busy |= self.read(i, now);
        }
        self.verify_heads = false;
        self.retire(now);
        busy
    }

    /// Flushes joined records and held lines at shutdown.
    pub fn finish(&mut self) {
        for i in 0..self.files.len() {
            if let Some(j) = self.files[i].joiner.as_mut()
                && let Some((rec, end)) = j.flush()
            {
                let mut lines = LineBuf::default();
                lines.push(&rec);
                self.emit(i, lines, end);
            }
        }
    }

    /// Expands the globs: new files are opened (or recognised as copies, or as files
    /// known from before), rotated ones are recognised by inode.
    fn scan(&mut self, now: Instant) {
        let mut found: Vec<(usize, PathBuf)> = Vec::new();
        let mut seen_paths = HashSet::new();
        for (i, input) in self.inputs.iter().enumerate() {
            for pattern in &input.paths {
                let Ok(paths) = glob::glob(pattern) else {
                    continue;
                };
                for p in paths.flatten() {
                    if self.excludes[i].iter().any(|e| e.matches_path(&p)) {
                        continue;
                    }
                    if seen_paths.insert(p.clone()) {
                        found.push((i, p));
                    }
                }
            }
        }
        for t in &mut self.files {
            t.seen = false;
            t.at_source_path = false;
        }
        let mut seen_done = HashSet::new();
        for (input, path) in found {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            let id = (meta.dev(), meta.ino());
            if let Some(t) = self.files.iter_mut().find(|t| (t.dev, t.ino) == id) {
                t.seen = true;
                t.at_source_path |= Path::new(&t.source) == path;
                t.path = path;
                continue;
            }
            if let Some(d) = self.done.get(&id) {
                seen_done.insert(id);
                if meta.len() <= d.offset {
                    continue;
                }
                // A finished file grew again: follow it on from where it ended.
                let d = d.clone();
                self.done.remove(&id);
                self.open(d.input, &path, d.source, d.offset, false, now);
                continue;
            }
            self.open_new(input, &path, meta.len(), now);
        }
        self.done.retain(|id, _| seen_done.contains(id));
        if self.first_scan {
            self.first_scan = false;
            self.resolve_missing_known(now);
        }
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.keys = self
            .files
            .iter()
            .map(Tracked::key)
            .chain(self.done.keys().map(|(d, i)| format!("{d}:{i}")))
            .collect();
        live.ready = true;
    }

    /// A file at `path` whose inode is not followed.
    fn open_new(&mut self, input: usize, path: &Path, size: u64, now: Instant) {
        let Ok(file) = File::open(path) else {
            self.sink.metrics.inc(Counter::FileOpenErrors);
            return;
        };
        let Ok(meta) = file.metadata() else { return };
        let id = (meta.dev(), meta.ino());
        let source = path.to_string_lossy().into_owned();
        if let Some(k) = self.known.remove(&id) {
            let same =
                k.pos.fp_len == 0 || head_hash(&file, k.pos.fp_len as usize) == Some(k.pos.fp);
            if same && size >= k.pos.offset {
                self.open(input, path, k.source, k.pos.offset, false, now);
                return;
            }
            // Truncated or replaced while the agent was stopped: the old content may
            // survive as a copy beside it.
            self.sink.metrics.inc(Counter::FileTruncations);
            if !self.follow_copy(
                input,
                &k.source,
                path,
                k.pos.fp,
                k.pos.fp_len,
                k.pos.offset,
                now,
            ) && k.pos.offset > 0
            {
                self.loss(
                    &k.source,
                    loss::TRUNCATED,
                    format!(
                        "{} was truncated or replaced while the agent was stopped; lines after offset {} may be lost",
                        path.display(),
                        k.pos.offset
                    ),
                );
            }
            self.open(input, path, k.source, 0, false, now);
            return;
        }
        // A copy of a followed file of the same input (copytruncate's copy)?
        let copy_of = self.files.iter().find(|t| {
            t.input == input
                && !t.parked
                && t.fp_len > 0
                && head_hash(&file, t.fp_len as usize) == Some(t.fp)
        });
        if let Some(orig) = copy_of {
            let source = orig.source.clone();
            self.open(input, path, source, 0, true, now);
            return;
        }
        let start =
            if self.first_scan && self.first_run && self.inputs[input].read_from == ReadFrom::End {
                size
            } else {
                0
            };
        self.open(input, path, source, start, false, now);
    }

    /// Starts following `path` at `offset`.
    fn open(
        &mut self,
        input: usize,
        path: &Path,
        source: String,
        offset: u64,
        parked: bool,
        now: Instant,
    ) {
        if let Ok(m) = std::fs::metadata(path)
            && self
                .files
                .iter()
                .any(|t| (t.dev, t.ino) == (m.dev(), m.ino()))
        {
            // Already followed (found twice, e.g. by a copy search and a restart).
            return;
        }
        if self.files.len() >= self.cfg.max_open_files {
            self.sink.metrics.inc(Counter::FileTooManyOpen);
            tracing::warn!(path = %path.display(), "too many open files; not following it yet");
            return;
        }
        let Ok(file) = File::open(path) else {
            self.sink.metrics.inc(Counter::FileOpenErrors);
            return;
        };
        let Ok(meta) = file.metadata() else { return };
        let fp_want = self.cfg.fingerprint_bytes.min(meta.len() as usize);
        let fp = head_hash(&file, fp_want).unwrap_or(0);
        let joiner = self.inputs[input]
            .multiline
            .as_ref()
            .and_then(|m| Joiner::new(m).ok());
        let at_source_path = Path::new(&source) == path;
        let t = Tracked {
            input,
            source,
            path: path.to_owned(),
            file,
            dev: meta.dev(),
            ino: meta.ino(),
            fp,
            fp_len: fp_want as u32,
            offset: offset.min(meta.len()),
            partial: Vec::new(),
            skipping: false,
            joiner,
            held: None,
            size: meta.len(),
            last_growth: now,
            at_source_path,
            seen: true,
            parked,
        };
        let marker = t.offset > 0;
        let key_pos = t.pos(t.offset);
        let src = t.source.clone();
        tracing::info!(path = %path.display(), source = %src, offset = t.offset, parked, "following file");
        self.files.push(t);
        if marker {
            // Record the starting position so a restart does not read the skipped part.
            let _ = self.sink.append_lines(
                &mut self.seqs,
                &src,
                LineBuf::default(),
                Resume::File(key_pos),
            );
        }
    }

    /// Known files not found by the first scan: renamed away (and not matched by the
    /// globs) or deleted while the agent was stopped. Look beside the source path for
    /// the same inode; otherwise the rest of it is lost.
    fn resolve_missing_known(&mut self, now: Instant) {
        let missing: Vec<KnownFile> = self.known.drain().map(|(_, k)| k).collect();
        for k in missing {
            let input = self
                .inputs
                .iter()
                .position(|i| {
                    i.paths
                        .iter()
                        .any(|p| glob::Pattern::new(p).is_ok_and(|g| g.matches(&k.source)))
                })
                .unwrap_or(0);
            if let Some(path) = siblings(Path::new(&k.source)).into_iter().find(|p| {
                std::fs::metadata(p).is_ok_and(|m| m.dev() == k.pos.dev && m.ino() == k.pos.ino)
            }) {
                self.sink.metrics.inc(Counter::FileRotations);
                self.open(input, &path, k.source, k.pos.offset, false, now);
                continue;
            }
            self.loss(
                &k.source,
                loss::ROTATED_UNREAD,
                format!(
                    "the file read up to offset {} (inode {}) was rotated away or deleted while the agent was stopped; lines written after that may be lost",
                    k.pos.offset, k.pos.ino
                ),
            );
        }
    }

    /// Looks for the copy of a truncated file (same head, at least `offset` bytes): a
    /// parked copy, or a sibling of the original path. Follows it from `offset`.
    #[allow(clippy::too_many_arguments)]
    fn follow_copy(
        &mut self,
        input: usize,
        source: &str,
        path: &Path,
        fp: u64,
        fp_len: u32,
        offset: u64,
        now: Instant,
    ) -> bool {
        if fp_len == 0 {
            return false;
        }
        if let Some(c) = self.files.iter_mut().find(|c| {
            c.parked
                && c.source == source
                && c.fp_len >= fp_len
                && head_hash(&c.file, fp_len as usize) == Some(fp)
        }) {
            c.parked = false;
            c.offset = offset.min(c.size);
            self.sink.metrics.inc(Counter::FileCopiesFollowed);
            return true;
        }
        let followed: HashSet<(u64, u64)> = self.files.iter().map(|t| (t.dev, t.ino)).collect();
        for p in siblings(path) {
            let Ok(f) = File::open(&p) else { continue };
            let Ok(m) = f.metadata() else { continue };
            let id = (m.dev(), m.ino());
            if followed.contains(&id) || self.done.contains_key(&id) || m.len() < offset {
                continue;
            }
            if head_hash(&f, fp_len as usize) != Some(fp) {
                continue;
            }
            if let Some(k) = self.known.remove(&id) {
                // The copy was already being read before a restart: go on from there,
                // not from where the original was cut.
                self.sink.metrics.inc(Counter::FileCopiesFollowed);
                self.open(input, &p, k.source, k.pos.offset, false, now);
                return true;
            }
            self.sink.metrics.inc(Counter::FileCopiesFollowed);
            self.open(input, &p, source.to_owned(), offset, false, now);
            return true;
        }
        false
    }

    fn loss(&mut self, source: &str, reason: &str, detail: String) {
        tracing::warn!(%source, reason, %detail, "loss event");
        self.sink.metrics.inc(Counter::FileLoss);
        self.sink
            .append_loss(&mut self.seqs, source, reason, detail);
    }

    /// Reads what is new in file `i`. True if anything was read.
    fn read(&mut self, i: usize, now: Instant) -> bool {
        if self.files[i].parked {
            return false;
        }
        if let Some((lines, end)) = self.files[i].held.take()
            && !self.emit(i, lines, end)
        {
            return false;
        }
        let size = match self.files[i].file.metadata() {
            Ok(m) => m.len(),
            Err(_) => {
                self.sink.metrics.inc(Counter::FileReadErrors);
                return false;
            }
        };
        let t = &mut self.files[i];
        // Checked whenever the size moved: a file truncated and rewritten past our offset
        // between two polls must not be read from the old offset.
        let head_changed = t.fp_len > 0
            && t.offset >= u64::from(t.fp_len)
            && size >= u64::from(t.fp_len)
            && (size != t.size || self.verify_heads)
            && head_hash(&t.file, t.fp_len as usize) != Some(t.fp);
        if size < t.offset || head_changed {
            self.truncated(i, size, now);
        }
        let t = &mut self.files[i];
        if size > t.size {
            t.last_growth = now;
        }
        t.size = size;
        // Widen a short fingerprint once the file has grown (first lines of a new file).
        if (t.fp_len as usize) < self.cfg.fingerprint_bytes && size > u64::from(t.fp_len) {
            let want = self.cfg.fingerprint_bytes.min(size as usize);
            if let Some(h) = head_hash(&t.file, want) {
                t.fp = h;
                t.fp_len = want as u32;
            }
        }
        let mut stale = None;
        if let Some(j) = t.joiner.as_mut() {
            stale = j.flush_stale(now);
            if stale.is_some() {
                self.sink.metrics.inc(Counter::MultilineTimeouts);
            }
        }
        if let Some((rec, end)) = stale {
            let mut lines = LineBuf::default();
            lines.push(&rec);
            if !self.emit(i, lines, end) {
                return false;
            }
        }
        let t = &mut self.files[i];
        if size <= t.offset {
            return false;
        }
        let want = ((size - t.offset) as usize).min(READ_CHUNK);
        // One buffer reused across reads: the hot path allocates nothing per read.
        let mut buf = std::mem::take(&mut self.buf);
        buf.resize(want, 0);
        let n = match t.file.read_at(&mut buf, t.offset) {
            Ok(n) => n,
            Err(e) => {
                self.sink.metrics.inc(Counter::FileReadErrors);
                tracing::warn!(path = %t.path.display(), error = %e, "read failed");
                return false;
            }
        };
        buf.truncate(n);
        let max_line = self.inputs[t.input].max_line_bytes;
        let mut lines = LineBuf::default();
        let mut block_end = None;
        let mut start = 0;
        let (mut nlines, mut cut) = (0u64, 0u64);
        let mut joined_cuts = 0;
        for nl in memchr_iter(&buf) {
            let piece = &buf[start..nl];
            let end = t.offset + nl as u64 + 1;
            start = nl + 1;
            let line: &[u8] = if t.skipping {
                t.skipping = false;
                &t.partial
            } else if t.partial.is_empty() {
                if piece.len() > max_line {
                    cut += 1;
                    &piece[..max_line]
                } else {
                    piece
                }
            } else {
                let room = max_line - t.partial.len();
                if piece.len() > room {
                    cut += 1;
                }
                t.partial.extend_from_slice(&piece[..piece.len().min(room)]);
                &t.partial
            };
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            nlines += 1;
            match t.joiner.as_mut() {
                Some(j) => {
                    let before = j.cuts;
                    if let Some((rec, e)) = j.push(line, end, now) {
                        lines.push(&rec);
                        block_end = Some(e);
                    }
                    joined_cuts += j.cuts - before;
                }
                None => {
                    lines.push(line);
                    block_end = Some(end);
                }
            }
            t.partial.clear();
        }
        let rest = &buf[start..];
        if !rest.is_empty() && !t.skipping {
            let room = max_line - t.partial.len();
            if rest.len() > room {
                t.partial.extend_from_slice(&rest[..room]);
                t.skipping = true;
                cut += 1;
            } else {
                t.partial.extend_from_slice(rest);
            }
        }
        t.offset += n as u64;
        self.buf = buf;
        let m = &self.sink.metrics;
        m.add(Counter::FileBytes, n as u64);
        m.add(Counter::FileLines, nlines);
        m.add(Counter::FileLinesCut, cut);
        m.add(Counter::MultilineCut, joined_cuts);
        if let Some(end) = block_end {
            self.emit(i, lines, end);
        }
        n > 0
    }

    /// Hands lines ending at `end` to the spool; holds them if it is full.
    fn emit(&mut self, i: usize, lines: LineBuf, end: u64) -> bool {
        let t = &mut self.files[i];
        let resume = Resume::File(t.pos(end));
        match self
            .sink
            .append_lines(&mut self.seqs, &t.source, lines, resume)
        {
            Ok(()) => true,
            Err((SpoolError::Full, lines)) => {
                t.held = Some((lines, end));
                false
            }
            Err((e, lines)) => {
                tracing::error!(error = %e, "spool append failed; will retry");
                t.held = Some((lines, end));
                false
            }
        }
    }

    /// File `i` shrank (or its head changed): read what the original still owed from a
    /// copy, or report the loss, then start again at 0.
    fn truncated(&mut self, i: usize, size: u64, now: Instant) {
        self.sink.metrics.inc(Counter::FileTruncations);
        let mut flushed = None;
        if let Some(j) = self.files[i].joiner.as_mut() {
            flushed = j.flush();
        }
        if let Some((rec, end)) = flushed {
            let mut lines = LineBuf::default();
            lines.push(&rec);
            self.emit(i, lines, end);
        }
        let t = &self.files[i];
        let (input, source, path) = (t.input, t.source.clone(), t.path.clone());
        let (fp, fp_len, from, seen_size) = (t.fp, t.fp_len, t.line_start(), t.size);
        tracing::info!(path = %path.display(), offset = from, size, "file truncated");
        let copied = self.follow_copy(input, &source, &path, fp, fp_len, from, now);
        if !copied && seen_size > from {
            self.loss(
                &source,
                loss::TRUNCATED,
                format!(
                    "{} was truncated with {} bytes after offset {from} unread",
                    path.display(),
                    seen_size - from
                ),
            );
        }
        let t = &mut self.files[i];
        t.offset = 0;
        t.partial.clear();
        t.skipping = false;
        t.size = size;
        let want = self.cfg.fingerprint_bytes.min(size as usize);
        t.fp = head_hash(&t.file, want).unwrap_or(0);
        t.fp_len = want as u32;
    }

    /// Closes files that moved away (or were deleted), are read to their end and have
    /// been quiet for `rotate_wait_ms`; copies whose original is gone are closed too.
    fn retire(&mut self, now: Instant) {
        let wait = Duration::from_millis(self.cfg.rotate_wait_ms);
        let mut i = 0;
        while i < self.files.len() {
            let t = &self.files[i];
            let away = !t.at_source_path;
            let quiet = now.duration_since(t.last_growth) >= wait;
            let finished = t.offset >= t.size && t.held.is_none();
            let orphan_copy = t.parked
                && !self
                    .files
                    .iter()
                    .any(|o| !o.parked && o.source == t.source && o.at_source_path);
            if !(away && quiet && (finished || orphan_copy)) {
                i += 1;
                continue;
            }
            let mut t = self.files.swap_remove(i);
            if !t.parked {
                // The file will not grow again: its last line needs no newline.
                let mut lines = LineBuf::default();
                let mut end = t.offset;
                if !t.partial.is_empty() {
                    if let Some(j) = t.joiner.as_mut() {
                        if let Some((rec, _)) = j.push(&t.partial, t.offset, now) {
                            lines.push(&rec);
                        }
                    } else {
                        lines.push(&t.partial);
                    }
                }
                if let Some((rec, e)) = t.joiner.as_mut().and_then(Joiner::flush) {
                    lines.push(&rec);
                    end = e.max(end);
                }
                if !lines.is_empty() {
                    self.sink.metrics.add(Counter::FileLines, 1);
                    let resume = Resume::File(t.pos(end));
                    if let Err((e, _)) =
                        self.sink
                            .append_lines(&mut self.seqs, &t.source, lines, resume)
                    {
                        tracing::error!(error = %e, "could not spool the last line of a rotated file");
                    }
                }
                self.sink.metrics.inc(Counter::FileRotations);
            }
            tracing::info!(path = %t.path.display(), source = %t.source, "finished file");
            if t.seen {
                self.done.insert(
                    (t.dev, t.ino),
                    Done {
                        source: t.source.clone(),
                        input: t.input,
                        offset: t.size,
                    },
                );
            }
        }
    }
}

/// Files in the same directory whose names begin with this file's name (`app.log.1`,
/// `app.log-20250101`): where rotation puts its copies and renamed files.
fn siblings(path: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.len() > name.len() && n.starts_with(name.as_ref())
        })
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// Positions of `\n` in `buf` (SIMD search: this loop is the agent's hot path).
fn memchr_iter(buf: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SpoolConfig;
    use crate::metrics::Metrics;
    use crate::spool::{Spool, SpoolPos};
    use std::io::Write;
    use std::sync::atomic::AtomicBool;

    struct Harness {
        dir: tempfile::TempDir,
        spool: Arc<Mutex<Spool>>,
        tailer: FileTailer,
        now: Instant,
        metrics: Arc<Metrics>,
    }

    fn input(dir: &Path, pattern: &str) -> FileInputConfig {
        FileInputConfig {
            paths: vec![dir.join(pattern).to_string_lossy().into_owned()],
            exclude: Vec::new(),
            read_from: ReadFrom::Beginning,
            max_line_bytes: 64,
            multiline: None,
        }
    }

    fn harness_with(pattern: &str, tweak: impl FnOnce(&mut FilesConfig)) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
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
        let mut cfg = FilesConfig {
            rotate_wait_ms: 100,
            ..FilesConfig::default()
        };
        cfg.input.push(input(&dir.path().join("logs"), pattern));
        tweak(&mut cfg);
        let sink = Sink::new(
            spool.clone(),
            metrics.clone(),
            Arc::new(AtomicBool::new(false)),
        );
        let tailer = FileTailer::new(
            &cfg,
            Vec::new(),
            BTreeMap::new(),
            true,
            sink,
            Arc::default(),
        );
        Harness {
            dir,
            spool,
            tailer,
            now: Instant::now(),
            metrics,
        }
    }

    impl Harness {
        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join("logs").join(name)
        }
        fn append(&self, name: &str, text: &str) {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(name))
                .unwrap();
            f.write_all(text.as_bytes()).unwrap();
        }
        /// Steps with a forced scan, the clock moved on past every wait.
        fn tick(&mut self) {
            self.now += Duration::from_secs(2);
            self.tailer.last_glob = None;
            while self.tailer.step(self.now) {}
        }
        /// Every record spooled so far as (source, seq, text or "LOSS:reason").
        fn drain(&self) -> Vec<(String, u64, String)> {
            crate::spool::drain_for_tests(&self.spool)
        }
        fn texts(&self) -> Vec<String> {
            self.drain().into_iter().map(|x| x.2).collect()
        }
    }

    fn numbered(from: usize, to: usize) -> String {
        (from..to).map(|i| format!("line {i}\n")).collect()
    }

    fn expect_lines(got: Vec<String>, from: usize, to: usize) {
        let want: Vec<String> = (from..to).map(|i| format!("line {i}")).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn reads_lines_and_waits_for_the_newline() {
        let mut h = harness_with("*.log", |_| {});
        h.append("a.log", "one\r\ntwo\nthr");
        h.tick();
        let got = h.drain();
        let a = h.path("a.log").to_string_lossy().into_owned();
        assert_eq!(
            got,
            vec![(a.clone(), 1, "one".into()), (a.clone(), 2, "two".into())]
        );
        h.append("a.log", "ee\n");
        h.tick();
        assert_eq!(h.drain(), vec![(a, 3, "three".into())]);
    }

    #[test]
    fn long_lines_are_cut_and_counted() {
        let mut h = harness_with("*.log", |_| {});
        let long = "x".repeat(100);
        h.append("a.log", &format!("{long}\nshort\n"));
        h.tick();
        let got = h.texts();
        assert_eq!(got, vec!["x".repeat(64), "short".to_owned()]);
        assert_eq!(h.metrics.get(Counter::FileLinesCut), 1);
        // A partial line longer than the limit across reads is cut once too.
        h.append("a.log", &"y".repeat(70));
        h.tick();
        h.append("a.log", "yyy\nend\n");
        h.tick();
        assert_eq!(h.texts(), vec!["y".repeat(64), "end".to_owned()]);
    }

    #[test]
    fn rename_rotation_loses_and_repeats_nothing() {
        let mut h = harness_with("app.log", |_| {});
        h.append("app.log", &numbered(0, 10));
        h.tick();
        // Written after the last read, then renamed away: still read from the open handle.
        h.append("app.log", &numbered(10, 15));
        std::fs::rename(h.path("app.log"), h.path("app.log.1")).unwrap();
        h.append("app.log", &numbered(15, 20));
        h.tick();
        h.tick();
        let got = h.drain();
        let texts: Vec<String> = got.iter().map(|x| x.2.clone()).collect();
        expect_lines(texts, 0, 20);
        // One source, one dense sequence across the rotation.
        assert!(got.iter().all(|x| x.0.ends_with("/app.log")));
        assert_eq!(
            got.iter().map(|x| x.1).collect::<Vec<_>>(),
            (1..=20).collect::<Vec<_>>()
        );
        assert_eq!(h.tailer.files.len(), 1, "the rotated file was closed");
        assert_eq!(h.metrics.get(Counter::FileRotations), 1);
    }

    #[test]
    fn rename_rotation_with_the_rotated_name_matched_is_not_read_twice() {
        let mut h = harness_with("app.log*", |_| {});
        h.append("app.log", &numbered(0, 10));
        h.tick();
        std::fs::rename(h.path("app.log"), h.path("app.log.1")).unwrap();
        h.append("app.log", &numbered(10, 20));
        for _ in 0..4 {
            h.tick();
        }
        expect_lines(h.texts(), 0, 20);
    }

    #[test]
    fn copytruncate_reads_the_tail_from_the_copy() {
        let mut h = harness_with("app.log", |_| {});
        h.append("app.log", &numbered(0, 10));
        h.tick();
        // Lines written after the last read, then copied and truncated (logrotate's
        // copytruncate), then new lines.
        h.append("app.log", &numbered(10, 15));
        std::fs::copy(h.path("app.log"), h.path("app.log.1")).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(h.path("app.log"))
            .unwrap()
            .set_len(0)
            .unwrap();
        h.append("app.log", &numbered(15, 18));
        h.tick();
        h.tick();
        let got = h.texts();
        let mut sorted = got.clone();
        sorted.sort_by_key(|s| s[5..].parse::<usize>().unwrap());
        expect_lines(sorted, 0, 18);
        assert_eq!(got.len(), 18, "nothing twice");
        assert_eq!(h.metrics.get(Counter::FileCopiesFollowed), 1);
    }

    #[test]
    fn copytruncate_with_the_copy_matched_is_parked_not_read_twice() {
        let mut h = harness_with("app.log*", |_| {});
        h.append("app.log", &numbered(0, 10));
        h.tick();
        h.append("app.log", &numbered(10, 12));
        std::fs::copy(h.path("app.log"), h.path("app.log.1")).unwrap();
        // The scan sees the copy before the truncation.
        h.tick();
        std::fs::OpenOptions::new()
            .write(true)
            .open(h.path("app.log"))
            .unwrap()
            .set_len(0)
            .unwrap();
        h.append("app.log", &numbered(12, 14));
        for _ in 0..3 {
            h.tick();
        }
        let got = h.texts();
        assert_eq!(got.len(), 14, "{got:?}");
        let mut sorted = got;
        sorted.sort_by_key(|s| s[5..].parse::<usize>().unwrap());
        expect_lines(sorted, 0, 14);
    }

    /// Restarts the tailer the way the agent does: positions and numbers recovered from
    /// the spool on disk. Returns the new tailer over a new spool instance.
    fn restart(h: &mut Harness) {
        h.spool.lock().unwrap().sync().unwrap();
        let acked = h.spool.lock().unwrap().acked();
        // Scanning from the start stands for checkpoint plus spool (nothing was deleted).
        let (mut spool, rec) = Spool::open(
            &h.dir.path().join("spool"),
            &SpoolConfig::default(),
            SpoolPos::default(),
            &BTreeMap::new(),
            h.metrics.clone(),
        )
        .unwrap();
        spool.ack(acked);
        spool.rewind();
        *h.spool.lock().unwrap() = spool;
        let known = rec
            .files
            .into_values()
            .map(|(source, pos)| KnownFile { source, pos })
            .collect();
        let sink = h.tailer.sink.clone();
        h.tailer = FileTailer::new(
            &h.tailer.cfg,
            known,
            rec.last_seq,
            false,
            sink,
            Arc::default(),
        );
    }

    #[test]
    fn restart_after_rotations_reads_nothing_twice_and_misses_nothing() {
        let mut h = harness_with("app.log", |_| {});
        h.append("app.log", &numbered(0, 10));
        h.tick();
        // copytruncate, then a restart while the copy's tail is still unread.
        h.append("app.log", &numbered(10, 15));
        std::fs::copy(h.path("app.log"), h.path("app.log.1")).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(h.path("app.log"))
            .unwrap()
            .set_len(0)
            .unwrap();
        h.append("app.log", &numbered(15, 18));
        let mut got = h.drain();
        restart(&mut h);
        h.tick();
        got.extend(h.drain());
        // Restart again right after everything was read: nothing comes twice.
        restart(&mut h);
        h.tick();
        got.extend(h.drain());
        // A rename rotation while stopped: the rest of the old file is found beside it.
        h.append("app.log", &numbered(18, 20));
        h.tick();
        got.extend(h.drain());
        h.append("app.log", &numbered(20, 22));
        std::fs::rename(h.path("app.log"), h.path("app.log.2")).unwrap();
        h.append("app.log", &numbered(22, 25));
        restart(&mut h);
        h.tick();
        h.tick();
        got.extend(h.drain());
        let mut texts: Vec<String> = got.iter().map(|x| x.2.clone()).collect();
        texts.sort_by_key(|s| s[5..].parse::<usize>().unwrap());
        expect_lines(texts, 0, 25);
        let seqs: Vec<u64> = got.iter().map(|x| x.1).collect();
        assert_eq!(seqs, (1..=25).collect::<Vec<_>>(), "one dense sequence");
    }

    #[test]
    fn truncation_without_a_copy_reports_unread_bytes_as_loss() {
        let mut h = harness_with("app.log", |_| {});
        h.append("app.log", &numbered(0, 5));
        h.tick();
        h.append("app.log", &numbered(5, 9));
        // The tailer notices the growth (size) but is stopped from reading: the spool
        // refuses nothing here, so simulate by truncating between stat and read.
        h.tailer.files[0].size = std::fs::metadata(h.path("app.log")).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(h.path("app.log"))
            .unwrap()
            .set_len(0)
            .unwrap();
        h.append("app.log", "after\n");
        h.tick();
        let got = h.texts();
        assert_eq!(
            got[..5],
            numbered(0, 5)
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()[..]
        );
        assert_eq!(got[5], format!("LOSS:{}", loss::TRUNCATED));
        assert_eq!(got[6], "after");
        assert_eq!(h.metrics.get(Counter::FileTruncations), 1);
    }

    #[test]
    fn fingerprint_identity_survives_restart_and_spots_replacement() {
        let mut h = harness_with("*.log", |_| {});
        h.append(
            "a.log",
            &format!(
                "{}{}",
                "header line that is long enough\n".repeat(10),
                numbered(0, 3)
            ),
        );
        h.tick();
        let first = h.drain();
        let t = &h.tailer.files[0];
        let known = KnownFile {
            source: t.source.clone(),
            pos: t.pos(t.offset),
        };
        assert_eq!(known.pos.fp_len, 256);
        // Same inode, same head: a restarted tailer resumes where it was.
        h.append("a.log", &numbered(3, 5));
        let sink = h.tailer.sink.clone();
        let last: BTreeMap<String, u64> = [(known.source.clone(), first.len() as u64)].into();
        let mut t2 = FileTailer::new(
            &h.tailer.cfg,
            vec![known.clone()],
            last.clone(),
            false,
            sink.clone(),
            Arc::default(),
        );
        h.now += Duration::from_secs(2);
        while t2.step(h.now) {}
        let got = h.drain();
        assert_eq!(
            got.iter().map(|x| x.2.as_str()).collect::<Vec<_>>(),
            ["line 3", "line 4"]
        );
        assert_eq!(got[0].1, first.len() as u64 + 1);
        // Same inode but another head (rewritten while stopped): read from the start.
        std::fs::write(h.path("a.log"), "totally different content\n".repeat(20)).unwrap();
        let mut t3 = FileTailer::new(
            &h.tailer.cfg,
            vec![known],
            last,
            false,
            sink,
            Arc::default(),
        );
        while t3.step(h.now) {}
        let got = h.texts();
        // Nothing beside it holds the old content: what was unread is reported lost.
        assert_eq!(got[0], format!("LOSS:{}", loss::TRUNCATED));
        assert_eq!(got.len(), 21);
        assert!(got[1..].iter().all(|l| l == "totally different content"));
    }

    #[test]
    fn a_file_gone_while_stopped_becomes_a_loss_event() {
        let mut h = harness_with("*.log", |_| {});
        let known = KnownFile {
            source: h.path("gone.log").to_string_lossy().into_owned(),
            pos: FilePos {
                dev: 1,
                ino: 999_999_999,
                fp: 1,
                fp_len: 256,
                offset: 4096,
            },
        };
        let sink = h.tailer.sink.clone();
        let mut t = FileTailer::new(
            &h.tailer.cfg,
            vec![known],
            BTreeMap::new(),
            false,
            sink,
            Arc::default(),
        );
        t.step(h.now);
        assert_eq!(h.texts(), vec![format!("LOSS:{}", loss::ROTATED_UNREAD)]);
        assert_eq!(h.metrics.get(Counter::FileLoss), 1);
        h.tick();
    }

    #[test]
    fn new_files_are_picked_up_and_deleted_ones_finished() {
        let mut h = harness_with("*.log", |_| {});
        h.tick();
        h.append("late.log", "hello\n");
        h.tick();
        assert_eq!(h.texts(), vec!["hello"]);
        h.append("late.log", "bye");
        std::fs::remove_file(h.path("late.log")).unwrap();
        h.tick();
        h.tick();
        // The last line had no newline; the deleted file was read to its end anyway.
        assert_eq!(h.texts(), vec!["bye"]);
        assert!(h.tailer.files.is_empty());
    }

    #[test]
    fn multiline_joins_and_times_out() {
        let mut h = harness_with("*.log", |c| {
            c.input[0].max_line_bytes = 1000;
            c.input[0].multiline = Some(crate::config::MultilineConfig {
                start_pattern: Some("^[0-9]".into()),
                continue_pattern: None,
                timeout_ms: 500,
                max_lines: 100,
                max_bytes: 10_000,
            });
        });
        h.append("j.log", "1 boom\n  at a\n  at b\n2 ok\n");
        h.tailer.step(h.now);
        assert_eq!(h.texts(), vec!["1 boom\n  at a\n  at b"]);
        // "2 ok" waits for a following line, then the timeout sends it.
        h.tick();
        assert_eq!(h.texts(), vec!["2 ok"]);
    }

    #[test]
    fn full_spool_pauses_reading() {
        let mut h = harness_with("*.log", |_| {});
        // Replace the spool with a tiny one that cannot take a read chunk.
        let small = SpoolConfig {
            max_bytes: 2 * READ_CHUNK as u64,
            segment_bytes: 4096,
            fsync_interval_ms: 1000,
        };
        let (s, _) = Spool::open(
            &h.dir.path().join("spool2"),
            &small,
            SpoolPos::default(),
            &BTreeMap::new(),
            h.metrics.clone(),
        )
        .unwrap();
        *h.spool.lock().unwrap() = s;
        h.append("a.log", &numbered(0, 10));
        h.tick();
        assert!(h.texts().is_empty());
        assert_eq!(h.metrics.get(Counter::SpoolFullPauses), 1);
        assert_eq!(h.tailer.files[0].offset, 0, "nothing read, nothing lost");
    }
}
