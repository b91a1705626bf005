//! The write-ahead log: every accepted record is appended here, checksummed and synced,
//! before anything else happens to it. The pipeline reads it back in order, so a crash
//! loses nothing that was accepted and a slow indexer is buffered on disk, not in memory.
//!
//! Layout: `wal/<first seq, 20 digits>.wal` segment files. Each record is
//! `[u32 LE payload length][u32 LE crc32 of payload][payload]`, the payload holding the
//! record's sequence number, receive time, origin and bytes ([`RawRecord`]). Sequence
//! numbers are global, dense and never reused: they are the events' ids.
//!
//! Writer and reader meet at the *durable end*: the sequence number after the last
//! record synced to disk. The reader never reads at or past it, so it never sees a
//! half-written record; on open the writer cuts a torn tail left by a crash.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use gac_event::Timestamp;

/// Payload format version, first byte of every payload. Older payloads are still read:
/// version 1 has no agent origin, version 2 no agent read time.
const VERSION: u8 = 3;
const VERSION_1: u8 = 1;
const VERSION_2: u8 = 2;
/// Frame header: length and checksum.
const HEADER_BYTES: usize = 8;
/// A payload longer than this is damage, not data (inputs cap messages far below).
const MAX_PAYLOAD_BYTES: usize = 16 << 20;
const FLAG_TRUNCATED: u8 = 1;
/// The payload carries an [`AgentOrigin`] after the input name.
const FLAG_AGENT: u8 = 2;

/// A record as accepted by an input, before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    /// When the server received it.
    pub received: Timestamp,
    /// Name of the input that took it.
    pub input: String,
    /// Address of the sender.
    pub peer: IpAddr,
    /// Whether the input cut it at its size limit.
    pub truncated: bool,
    /// The record's bytes, framing removed.
    pub data: Vec<u8>,
    /// Set for records shipped by an agent: where on the agent they came from.
    pub origin: Option<AgentOrigin>,
}

/// Which agent and source a record came from, and its place in that source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentOrigin {
    pub agent_id: String,
    /// The agent's name for the source (a file path, `journald`, a relay input).
    pub source: String,
    /// The record's sequence number within the source (dense, from the agent).
    pub seq: u64,
    /// When the agent read it (the receive time for records logged before version 3).
    pub read: Timestamp,
    /// Which enrollment of the agent sent it (0 for records logged before version 3).
    pub epoch: u32,
}

/// What went wrong in the log.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("write-ahead log i/o on {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("damaged write-ahead log record in {path} at byte {offset}: {reason}")]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: &'static str,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WalError + '_ {
    move |source| WalError::Io {
        path: path.to_owned(),
        source,
    }
}

fn segment_name(first_seq: u64) -> String {
    format!("{first_seq:020}.wal")
}

/// The segments in `dir` by first sequence number, oldest first.
pub fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, WalError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err(dir))? {
        let path = entry.map_err(io_err(dir))?.path();
        let first = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".wal"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            out.push((first, path));
        }
    }
    out.sort();
    Ok(out)
}

fn encode(seq: u64, rec: &RawRecord, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&[0; HEADER_BYTES]);
    out.push(VERSION);
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&rec.received.nanos().to_le_bytes());
    let mut flags = 0;
    if rec.truncated {
        flags |= FLAG_TRUNCATED;
    }
    if rec.origin.is_some() {
        flags |= FLAG_AGENT;
    }
    out.push(flags);
    match rec.peer {
        IpAddr::V4(ip) => {
            out.push(4);
            out.extend_from_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            out.push(6);
            out.extend_from_slice(&ip.octets());
        }
    }
    let name = rec.input.as_bytes();
    let name = &name[..name.len().min(255)];
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    if let Some(o) = &rec.origin {
        let id = &o.agent_id.as_bytes()[..o.agent_id.len().min(255)];
        out.push(id.len() as u8);
        out.extend_from_slice(id);
        let source = &o.source.as_bytes()[..o.source.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&(source.len() as u16).to_le_bytes());
        out.extend_from_slice(source);
        out.extend_from_slice(&o.seq.to_le_bytes());
        out.extend_from_slice(&o.read.nanos().to_le_bytes());
        out.extend_from_slice(&o.epoch.to_le_bytes());
    }
    out.extend_from_slice(&rec.data);
    let payload_len = (out.len() - HEADER_BYTES) as u32;
    let crc = crc32fast::hash(&out[HEADER_BYTES..]);
    out[..4].copy_from_slice(&payload_len.to_le_bytes());
    out[4..8].copy_from_slice(&crc.to_le_bytes());
}

/// Reads a payload's fields; `None` if it does not hold together.
fn decode(payload: &[u8]) -> Option<(u64, RawRecord)> {
    let mut cur = payload;
    let mut take = |n: usize| -> Option<&[u8]> {
        if cur.len() < n {
            return None;
        }
        let (head, rest) = cur.split_at(n);
        cur = rest;
        Some(head)
    };
    let version = take(1)?[0];
    if ![VERSION, VERSION_1, VERSION_2].contains(&version) {
        return None;
    }
    let seq = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let received = Timestamp::from_nanos(i64::from_le_bytes(take(8)?.try_into().ok()?));
    let flags = take(1)?[0];
    let peer = match take(1)?[0] {
        4 => IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(take(4)?).ok()?)),
        6 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(take(16)?).ok()?)),
        _ => return None,
    };
    let name_len = usize::from(take(1)?[0]);
    let input = String::from_utf8_lossy(take(name_len)?).into_owned();
    let origin = if flags & FLAG_AGENT != 0 {
        let id_len = usize::from(take(1)?[0]);
        let agent_id = String::from_utf8_lossy(take(id_len)?).into_owned();
        let source_len = usize::from(u16::from_le_bytes(take(2)?.try_into().ok()?));
        let source = String::from_utf8_lossy(take(source_len)?).into_owned();
        let seq = u64::from_le_bytes(take(8)?.try_into().ok()?);
        let (read, epoch) = if version >= 3 {
            let read = Timestamp::from_nanos(i64::from_le_bytes(take(8)?.try_into().ok()?));
            (read, u32::from_le_bytes(take(4)?.try_into().ok()?))
        } else {
            (received, 0)
        };
        Some(AgentOrigin {
            agent_id,
            source,
            seq,
            read,
            epoch,
        })
    } else {
        None
    };
    let data = cur.to_vec();
    Some((
        seq,
        RawRecord {
            received,
            input,
            peer,
            truncated: flags & FLAG_TRUNCATED != 0,
            data,
            origin,
        },
    ))
}

/// Result of reading one frame from a segment.
enum Frame {
    Record(u64, RawRecord, u64),
    End,
    Bad(&'static str),
}

/// Reads the frame at the reader's position; the `u64` in `Record` is its size on disk.
fn read_frame(r: &mut impl Read, buf: &mut Vec<u8>) -> io::Result<Frame> {
    let mut header = [0u8; HEADER_BYTES];
    match read_full(r, &mut header)? {
        0 => return Ok(Frame::End),
        n if n < HEADER_BYTES => return Ok(Frame::Bad("truncated header")),
        _ => {}
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if len > MAX_PAYLOAD_BYTES {
        return Ok(Frame::Bad("length out of range"));
    }
    buf.resize(len, 0);
    if read_full(r, buf)? < len {
        return Ok(Frame::Bad("truncated payload"));
    }
    if crc32fast::hash(buf) != crc {
        return Ok(Frame::Bad("checksum mismatch"));
    }
    match decode(buf) {
        Some((seq, rec)) => Ok(Frame::Record(seq, rec, (HEADER_BYTES + len) as u64)),
        None => Ok(Frame::Bad("undecodable payload")),
    }
}

/// Like `read_exact`, but says how many bytes it got before the end of the file.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Appends records. One writer per log; run it on its own thread: it blocks on fsync.
#[derive(Debug)]
pub struct WalWriter {
    dir: PathBuf,
    segment_bytes: u64,
    path: PathBuf,
    file: BufWriter<File>,
    segment_len: u64,
    next_seq: u64,
    scratch: Vec<u8>,
}

impl WalWriter {
    /// Opens the log in `dir`, creating it if needed, and cuts any torn tail left by a
    /// crash. `min_next_seq` keeps sequence numbers rising when the log was emptied
    /// (it is the position the index has already consumed).
    pub fn open(dir: &Path, segment_bytes: u64, min_next_seq: u64) -> Result<Self, WalError> {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let segs = segments(dir)?;
        let (first, path) = match segs.last() {
            Some((first, path)) => (*first, path.clone()),
            None => {
                let path = dir.join(segment_name(min_next_seq));
                File::create(&path).map_err(io_err(&path))?;
                sync_dir(dir)?;
                (min_next_seq, path)
            }
        };
        // Scan the last segment to find where good data ends.
        let mut reader = BufReader::new(File::open(&path).map_err(io_err(&path))?);
        let mut buf = Vec::new();
        let mut good_len = 0u64;
        let mut next_seq = first;
        loop {
            match read_frame(&mut reader, &mut buf).map_err(io_err(&path))? {
                Frame::Record(seq, _, size) if seq == next_seq => {
                    good_len += size;
                    next_seq = seq + 1;
                }
                Frame::Record(..) | Frame::Bad(_) => {
                    tracing::warn!(path = %path.display(), offset = good_len,
                        "cutting damaged tail of write-ahead log (torn write at a crash)");
                    break;
                }
                Frame::End => break,
            }
        }
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        file.set_len(good_len).map_err(io_err(&path))?;
        let mut file = BufWriter::with_capacity(1 << 20, file);
        file.seek(SeekFrom::Start(good_len))
            .map_err(io_err(&path))?;
        let mut writer = Self {
            dir: dir.to_owned(),
            segment_bytes,
            path,
            file,
            segment_len: good_len,
            next_seq: next_seq.max(min_next_seq),
            scratch: Vec::with_capacity(4096),
        };
        if writer.next_seq != next_seq {
            // The index is ahead of this segment's end (its records were consumed and
            // the rest deleted): continue numbering in a fresh segment.
            writer.roll()?;
        }
        Ok(writer)
    }

    /// The sequence number the next record will get; everything below is in the log.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Buffers one record; it is on disk after the next [`sync`](Self::sync).
    pub fn append(&mut self, rec: &RawRecord) -> Result<u64, WalError> {
        let seq = self.next_seq;
        encode(seq, rec, &mut self.scratch);
        self.file
            .write_all(&self.scratch)
            .map_err(io_err(&self.path))?;
        self.segment_len += self.scratch.len() as u64;
        self.next_seq += 1;
        if self.segment_len >= self.segment_bytes {
            self.roll()?;
        }
        Ok(seq)
    }

    /// Writes and fsyncs everything appended; returns the durable end.
    pub fn sync(&mut self) -> Result<u64, WalError> {
        self.file.flush().map_err(io_err(&self.path))?;
        self.file
            .get_ref()
            .sync_data()
            .map_err(io_err(&self.path))?;
        Ok(self.next_seq)
    }

    /// Closes the current segment and starts the next one at `next_seq`.
    fn roll(&mut self) -> Result<(), WalError> {
        self.sync()?;
        let path = self.dir.join(segment_name(self.next_seq));
        let file = File::create(&path).map_err(io_err(&path))?;
        sync_dir(&self.dir)?;
        self.file = BufWriter::with_capacity(1 << 20, file);
        self.path = path;
        self.segment_len = 0;
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> Result<(), WalError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Deletes segments whose every record is below `seq`. The newest segment is kept
/// always: it carries the numbering on.
pub fn remove_before(dir: &Path, seq: u64) -> Result<usize, WalError> {
    let segs = segments(dir)?;
    let mut removed = 0;
    for pair in segs.windows(2) {
        let (_, path) = &pair[0];
        let (next_first, _) = pair[1];
        if next_first <= seq {
            fs::remove_file(path).map_err(io_err(path))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The durable end, shared by the writer thread (which raises it after each sync) and
/// the reader (which waits for it to pass its position).
#[derive(Debug, Default)]
pub struct DurableEnd {
    end: Mutex<u64>,
    raised: Condvar,
}

impl DurableEnd {
    pub fn new(end: u64) -> Self {
        Self {
            end: Mutex::new(end),
            raised: Condvar::new(),
        }
    }

    pub fn get(&self) -> u64 {
        *self.end.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn raise(&self, end: u64) {
        let mut guard = self.end.lock().unwrap_or_else(|p| p.into_inner());
        if end > *guard {
            *guard = end;
            self.raised.notify_all();
        }
    }

    /// Waits until the end passes `seq` or `timeout` runs out; returns the end.
    pub fn wait_beyond(&self, seq: u64, timeout: Duration) -> u64 {
        let guard = self.end.lock().unwrap_or_else(|p| p.into_inner());
        let (guard, _) = self
            .raised
            .wait_timeout_while(guard, timeout, |end| *end <= seq)
            .unwrap_or_else(|p| p.into_inner());
        *guard
    }
}

/// Reads records back in sequence order, following the writer.
#[derive(Debug)]
pub struct WalReader {
    dir: PathBuf,
    file: Option<(PathBuf, BufReader<File>)>,
    next_seq: u64,
    buf: Vec<u8>,
}

/// One step of the reader.
#[derive(Debug)]
pub enum WalStep {
    Record(u64, RawRecord),
    /// Records from `from` up to `to` could not be read (damage on disk); the reader
    /// has moved past them.
    Lost {
        from: u64,
        to: u64,
        error: WalError,
    },
}

impl WalReader {
    /// A reader whose first record will be `seq` (or the oldest kept, if later).
    pub fn open_at(dir: &Path, seq: u64) -> Result<Self, WalError> {
        let mut reader = Self {
            dir: dir.to_owned(),
            file: None,
            next_seq: seq,
            buf: Vec::new(),
        };
        reader.seek_segment()?;
        Ok(reader)
    }

    /// The sequence number of the next record to read.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Opens the segment holding `next_seq` and skips to it.
    fn seek_segment(&mut self) -> Result<(), WalError> {
        let segs = segments(&self.dir)?;
        let Some((first, path)) = segs
            .iter()
            .rev()
            .find(|(first, _)| *first <= self.next_seq)
            .or(segs.first())
            .cloned()
        else {
            self.file = None;
            return Ok(());
        };
        let mut file = BufReader::with_capacity(1 << 20, File::open(&path).map_err(io_err(&path))?);
        let mut seq = first;
        if first > self.next_seq {
            // What was asked for is gone; start at the oldest kept.
            self.next_seq = first;
        }
        while seq < self.next_seq {
            match read_frame(&mut file, &mut self.buf).map_err(io_err(&path))? {
                Frame::Record(s, _, _) => seq = s + 1,
                // Not there yet, or damaged: `next` deals with it on its turn.
                Frame::End | Frame::Bad(_) => break,
            }
        }
        self.file = Some((path, file));
        Ok(())
    }

    /// The next record below `durable_end`, or `None` when the reader has caught up.
    pub fn next(&mut self, durable_end: u64) -> Result<Option<WalStep>, WalError> {
        if self.next_seq >= durable_end {
            return Ok(None);
        }
        if self.file.is_none() {
            self.seek_segment()?;
        }
        let Some((path, file)) = self.file.as_mut() else {
            return Ok(None);
        };
        let offset = file.stream_position().map_err(io_err(path))?;
        match read_frame(file, &mut self.buf).map_err(io_err(path))? {
            Frame::Record(seq, rec, _) if seq == self.next_seq => {
                self.next_seq += 1;
                Ok(Some(WalStep::Record(seq, rec)))
            }
            Frame::End => {
                // The writer rolled to the next segment, which must start here.
                let next = self.dir.join(segment_name(self.next_seq));
                let file = File::open(&next).map_err(io_err(&next))?;
                self.file = Some((next, BufReader::with_capacity(1 << 20, file)));
                self.next(durable_end)
            }
            bad @ (Frame::Record(..) | Frame::Bad(_)) => {
                let reason = match bad {
                    Frame::Bad(reason) => reason,
                    _ => "record out of sequence",
                };
                let error = WalError::Corrupt {
                    path: path.clone(),
                    offset,
                    reason,
                };
                // Skip to the next segment: nothing after damage in this one can be
                // trusted to be framed right.
                let from = self.next_seq;
                let after = segments(&self.dir)?
                    .into_iter()
                    .map(|(first, _)| first)
                    .find(|first| *first > from)
                    .unwrap_or(durable_end);
                self.next_seq = after;
                self.file = None;
                Ok(Some(WalStep::Lost {
                    from,
                    to: after,
                    error,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: usize) -> RawRecord {
        RawRecord {
            received: Timestamp::from_secs(1_700_000_000 + i as i64),
            input: "tcp".to_owned(),
            peer: IpAddr::from([127, 0, 0, 1]),
            truncated: i.is_multiple_of(3),
            data: format!("<13>message number {i}").into_bytes(),
            origin: i.is_multiple_of(2).then(|| AgentOrigin {
                agent_id: "agent-1".to_owned(),
                source: format!("/var/log/file-{i}.log"),
                seq: i as u64 * 7,
                read: Timestamp::from_secs(1_700_000_000 - i as i64),
                epoch: i as u32 % 3,
            }),
        }
    }

    fn read_all(dir: &Path, from: u64, end: u64) -> Vec<(u64, RawRecord)> {
        let mut reader = WalReader::open_at(dir, from).unwrap();
        let mut out = Vec::new();
        while let Some(step) = reader.next(end).unwrap() {
            match step {
                WalStep::Record(seq, r) => out.push((seq, r)),
                WalStep::Lost { error, .. } => panic!("unexpected loss: {error}"),
            }
        }
        out
    }

    #[test]
    fn records_come_back_in_order_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), 300, 0).unwrap();
        for i in 0..50 {
            assert_eq!(w.append(&rec(i)).unwrap(), i as u64);
        }
        let end = w.sync().unwrap();
        assert_eq!(end, 50);
        assert!(
            segments(dir.path()).unwrap().len() > 5,
            "small segments should roll"
        );
        let got = read_all(dir.path(), 0, end);
        assert_eq!(got.len(), 50);
        for (i, (seq, r)) in got.iter().enumerate() {
            assert_eq!(*seq, i as u64);
            assert_eq!(r, &rec(i));
        }
        // Starting in the middle skips what came before.
        let tail = read_all(dir.path(), 37, end);
        assert_eq!(tail.first().map(|(s, _)| *s), Some(37));
        assert_eq!(tail.len(), 13);
    }

    #[test]
    fn the_reader_stops_at_the_durable_end_and_follows_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), 1 << 20, 0).unwrap();
        w.append(&rec(0)).unwrap();
        let end = w.sync().unwrap();
        let mut reader = WalReader::open_at(dir.path(), 0).unwrap();
        assert!(matches!(
            reader.next(end).unwrap(),
            Some(WalStep::Record(0, _))
        ));
        assert!(reader.next(end).unwrap().is_none());
        w.append(&rec(1)).unwrap();
        // Appended but not synced: invisible.
        assert!(reader.next(end).unwrap().is_none());
        let end = w.sync().unwrap();
        assert!(matches!(
            reader.next(end).unwrap(),
            Some(WalStep::Record(1, _))
        ));
    }

    #[test]
    fn version_1_payloads_are_still_read() {
        // A v1 payload as the first release wrote it: no agent fields.
        let mut payload = vec![VERSION_1];
        payload.extend_from_slice(&9u64.to_le_bytes());
        payload.extend_from_slice(&5i64.to_le_bytes());
        payload.push(0);
        payload.extend_from_slice(&[4, 10, 0, 0, 1]);
        payload.push(3);
        payload.extend_from_slice(b"udp");
        payload.extend_from_slice(b"<13>hi");
        let (seq, rec) = decode(&payload).unwrap();
        assert_eq!(seq, 9);
        assert_eq!(rec.input, "udp");
        assert_eq!(rec.data, b"<13>hi");
        assert!(rec.origin.is_none());
    }

    #[test]
    fn a_torn_tail_is_cut_and_numbering_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), 1 << 20, 0).unwrap();
        for i in 0..10 {
            w.append(&rec(i)).unwrap();
        }
        w.sync().unwrap();
        drop(w);
        // A crash mid-write leaves half a record.
        let (_, path) = segments(dir.path()).unwrap().pop().unwrap();
        let len = fs::metadata(&path).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, 9, 9]).unwrap();
        drop(f);
        let mut w = WalWriter::open(dir.path(), 1 << 20, 0).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), len);
        assert_eq!(w.next_seq(), 10);
        w.append(&rec(10)).unwrap();
        let end = w.sync().unwrap();
        assert_eq!(read_all(dir.path(), 0, end).len(), 11);
    }

    #[test]
    fn damage_in_the_middle_is_reported_not_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), 1 << 20, 0).unwrap();
        for i in 0..5 {
            w.append(&rec(i)).unwrap();
        }
        let end = w.sync().unwrap();
        let (_, path) = segments(dir.path()).unwrap().pop().unwrap();
        let mut bytes = fs::read(&path).unwrap();
        let flip = bytes.len() / 2;
        bytes[flip] ^= 0xff;
        fs::write(&path, bytes).unwrap();
        let mut reader = WalReader::open_at(dir.path(), 0).unwrap();
        let mut records = 0;
        let mut lost = None;
        while let Some(step) = reader.next(end).unwrap() {
            match step {
                WalStep::Record(..) => records += 1,
                WalStep::Lost { from, to, .. } => lost = Some((from, to)),
            }
        }
        let (from, to) = lost.expect("damage must be reported");
        assert_eq!(records as u64, from);
        assert_eq!(to, end);
    }

    #[test]
    fn pruning_keeps_the_newest_segment_and_numbering_survives_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = WalWriter::open(dir.path(), 200, 0).unwrap();
        for i in 0..30 {
            w.append(&rec(i)).unwrap();
        }
        let end = w.sync().unwrap();
        drop(w);
        let before = segments(dir.path()).unwrap().len();
        let removed = remove_before(dir.path(), end).unwrap();
        assert_eq!(removed, before - 1);
        let w = WalWriter::open(dir.path(), 200, end).unwrap();
        assert_eq!(w.next_seq(), end);
    }

    #[test]
    fn durable_end_wakes_a_waiting_reader() {
        let shared = std::sync::Arc::new(DurableEnd::new(0));
        let s2 = shared.clone();
        let t = std::thread::spawn(move || s2.wait_beyond(0, Duration::from_secs(10)));
        std::thread::sleep(Duration::from_millis(20));
        shared.raise(3);
        assert_eq!(t.join().unwrap(), 3);
        assert_eq!(shared.wait_beyond(5, Duration::from_millis(1)), 3);
    }
}
