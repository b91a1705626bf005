//! The spool: a bounded, checksummed on-disk queue between the inputs and shipping.
//!
//! Inputs append [`Block`]s (a run of consecutive lines of one source, or a loss); the
//! shipper reads them in order, sends them, and acknowledges them once the server has.
//! Segment files `spool/NNNNNNNNNNNNNNNNNNNN.seg` hold frames
//! `[len: u32 LE][crc32: u32 LE][payload]`; a whole segment is deleted once every block in
//! it is acknowledged and the checkpoint says so.
//!
//! Crash safety: on open every unacknowledged frame is checked. A torn or damaged frame
//! cuts its segment there (a torn tail is the normal result of a crash mid-append); lines
//! lost that way are read again from their file, because each block carries the file
//! position after its last line ([`Resume`]) and reading resumes after the last whole
//! block. Damage before the tail leaves a hole in some source's sequence numbers, which
//! is reported as a loss block. Before a block is sent it is fsynced, so a sequence
//! number the server may have seen is never given to another line.
//!
//! Bounded: when an append would take the spool past `max_bytes` it is refused with
//! [`SpoolError::Full`] and the input pauses; loss blocks are always taken (they are
//! small and must not be lost themselves).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::SpoolConfig;
use crate::metrics::{Counter, Metrics};

/// A frame larger than this is damage, not data (blocks are a few hundred KiB at most).
const MAX_FRAME_BYTES: u32 = 64 * 1024 * 1024;
const FRAME_HEADER: u64 = 8;

/// Why the spool refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("spool is full")]
    Full,
    #[error("spool i/o on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A place in the spool: a segment and a byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
pub struct SpoolPos {
    /// Segment number.
    pub segment: u64,
    /// Byte offset in the segment.
    pub offset: u64,
}

/// Lines held in one buffer with their end offsets, so a block of thousands of lines is
/// two allocations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineBuf {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl LineBuf {
    /// Appends a line.
    pub fn push(&mut self, line: &[u8]) {
        self.data.extend_from_slice(line);
        self.ends.push(self.data.len());
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of all lines together.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// The lines in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let line = &self.data[start..end];
            start = end;
            line
        })
    }
}

/// Identity and read offset of a file, carried by each of its blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePos {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Hash of the file's first `fp_len` bytes.
    pub fp: u64,
    /// How many head bytes `fp` covers.
    pub fp_len: u32,
    /// Offset just after the last line of the block.
    pub offset: u64,
}

impl FilePos {
    /// The checkpoint key, `DEV:INODE`.
    pub fn key(&self) -> String {
        format!("{}:{}", self.dev, self.ino)
    }
}

/// Where the input stood after a block, so reading can resume there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Nothing to resume (relay records cannot be read again).
    None,
    /// A file position.
    File(FilePos),
    /// A journal cursor.
    Journal(String),
}

/// What a block holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockBody {
    /// Lines numbered `first_seq`, `first_seq + 1`, ...
    Lines(LineBuf),
    /// A loss covering `first_seq..=to_seq`.
    Loss {
        /// Last sequence number covered.
        to_seq: u64,
        /// One of `gac_event::wire::loss`.
        reason: String,
        /// Human-readable detail.
        detail: String,
    },
}

/// The spool's unit: consecutive records of one source read at one time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The source all records belong to.
    pub source: String,
    /// When the agent read them (ns since the epoch).
    pub time_ns: i64,
    /// Sequence number of the first record.
    pub first_seq: u64,
    /// Lines or a loss.
    pub body: BlockBody,
    /// Position after the block.
    pub resume: Resume,
}

impl Block {
    /// Sequence number of the last record.
    pub fn last_seq(&self) -> u64 {
        match &self.body {
            // An empty block only records a position: it ends just before its first number.
            BlockBody::Lines(l) => (self.first_seq + l.len() as u64).saturating_sub(1),
            BlockBody::Loss { to_seq, .. } => *to_seq,
        }
    }

    /// Records it becomes on the wire.
    pub fn records(&self) -> usize {
        match &self.body {
            BlockBody::Lines(l) => l.len(),
            BlockBody::Loss { .. } => 1,
        }
    }

    /// A loss block.
    pub fn loss(source: &str, from: u64, to: u64, reason: &str, detail: String) -> Self {
        Self {
            source: source.to_owned(),
            time_ns: now_ns(),
            first_seq: from,
            body: BlockBody::Loss {
                to_seq: to,
                reason: reason.to_owned(),
                detail,
            },
            resume: Resume::None,
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        match &self.body {
            BlockBody::Lines(_) => out.push(0),
            BlockBody::Loss { .. } => out.push(1),
        }
        put_bytes(out, self.source.as_bytes());
        put_uv(out, self.first_seq);
        put_uv(out, ((self.time_ns << 1) ^ (self.time_ns >> 63)) as u64);
        match &self.resume {
            Resume::None => out.push(0),
            Resume::File(p) => {
                out.push(1);
                put_uv(out, p.dev);
                put_uv(out, p.ino);
                out.extend_from_slice(&p.fp.to_le_bytes());
                put_uv(out, u64::from(p.fp_len));
                put_uv(out, p.offset);
            }
            Resume::Journal(c) => {
                out.push(2);
                put_bytes(out, c.as_bytes());
            }
        }
        match &self.body {
            BlockBody::Lines(lines) => {
                put_uv(out, lines.len() as u64);
                for l in lines.iter() {
                    put_bytes(out, l);
                }
            }
            BlockBody::Loss {
                to_seq,
                reason,
                detail,
            } => {
                put_uv(out, *to_seq);
                put_bytes(out, reason.as_bytes());
                put_bytes(out, detail.as_bytes());
            }
        }
    }

    fn decode(buf: &[u8]) -> Option<Self> {
        let mut r = Cursor { buf, pos: 0 };
        let tag = r.byte()?;
        let source = String::from_utf8(r.bytes()?.to_vec()).ok()?;
        let first_seq = r.uv()?;
        let z = r.uv()?;
        let time_ns = ((z >> 1) as i64) ^ -((z & 1) as i64);
        let resume = match r.byte()? {
            0 => Resume::None,
            1 => {
                let dev = r.uv()?;
                let ino = r.uv()?;
                let fp = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
                let fp_len = u32::try_from(r.uv()?).ok()?;
                let offset = r.uv()?;
                Resume::File(FilePos {
                    dev,
                    ino,
                    fp,
                    fp_len,
                    offset,
                })
            }
            2 => Resume::Journal(String::from_utf8(r.bytes()?.to_vec()).ok()?),
            _ => return None,
        };
        let body = match tag {
            0 => {
                let n = r.uv()?;
                if n > buf.len() as u64 {
                    return None;
                }
                let mut lines = LineBuf::default();
                for _ in 0..n {
                    lines.push(r.bytes()?);
                }
                BlockBody::Lines(lines)
            }
            1 => BlockBody::Loss {
                to_seq: r.uv()?,
                reason: String::from_utf8(r.bytes()?.to_vec()).ok()?,
                detail: String::from_utf8(r.bytes()?.to_vec()).ok()?,
            },
            _ => return None,
        };
        (r.pos == buf.len()).then_some(Self {
            source,
            time_ns,
            first_seq,
            body,
            resume,
        })
    }
}

/// Nanoseconds since the Unix epoch, now.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn put_uv(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uv(out, b.len() as u64);
    out.extend_from_slice(b);
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
    fn uv(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.uv()?).ok()?;
        self.take(n)
    }
}

/// What the spool held that was not yet acknowledged when it was opened: where each
/// input had got to.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Last sequence number spooled per source.
    pub last_seq: BTreeMap<String, u64>,
    /// Last file position spooled per file key, with the file's source.
    pub files: HashMap<String, (String, FilePos)>,
    /// Last journal cursor spooled.
    pub journal_cursor: Option<String>,
}

/// A batch of blocks handed to the shipper.
#[derive(Debug)]
pub struct ReadBatch {
    /// The blocks, in spool order.
    pub blocks: Vec<Block>,
    /// The position after the last block (what to acknowledge).
    pub end: SpoolPos,
}

/// Depth figures for heartbeats.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpoolStats {
    /// Bytes not yet acknowledged (whole segments rounded).
    pub bytes: u64,
    /// Records not yet acknowledged.
    pub records: u64,
    /// Read time of the oldest unacknowledged block, if any.
    pub oldest_ns: Option<i64>,
}

/// The queue.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    max_bytes: u64,
    segment_bytes: u64,
    /// Segment numbers and sizes, oldest first; the last is being written.
    segments: VecDeque<(u64, u64)>,
    writer: BufWriter<File>,
    unsynced: bool,
    /// Everything before this is acknowledged.
    acked: SpoolPos,
    /// The next block to hand to the shipper.
    read_pos: SpoolPos,
    reader: Option<(u64, BufReader<File>, u64)>,
    /// Unacknowledged records per frame start, oldest first: (position, records, time).
    pending: VecDeque<(SpoolPos, u64, i64)>,
    pending_records: u64,
    last_seq: BTreeMap<String, u64>,
    frame: Vec<u8>,
    metrics: Arc<Metrics>,
}

fn seg_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

impl Spool {
    /// Opens (or creates) the spool in `dir`, checks every frame after `acked`, cuts
    /// torn or damaged tails, appends loss blocks for holes, and says where each input
    /// had got to. `acked_seq` is the checkpoint's last acknowledged sequence per source.
    pub fn open(
        dir: &Path,
        cfg: &SpoolConfig,
        acked: SpoolPos,
        acked_seq: &BTreeMap<String, u64>,
        metrics: Arc<Metrics>,
    ) -> Result<(Self, Recovered), SpoolError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| SpoolError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name
                .strip_suffix(".seg")
                .and_then(|s| s.parse::<u64>().ok())
            {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        // Segments wholly before the acknowledged position were acknowledged.
        for &id in ids.iter().filter(|&&id| id < acked.segment) {
            let p = seg_path(dir, id);
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
        ids.retain(|&id| id >= acked.segment);
        let mut acked = acked;
        if ids.first() != Some(&acked.segment) {
            // The acknowledged segment is gone (all of it was sent): start at the next.
            acked = SpoolPos {
                segment: ids.first().copied().unwrap_or(acked.segment.max(1)),
                offset: 0,
            };
        }
        if ids.is_empty() {
            ids.push(acked.segment);
        }
        let mut rec = Recovered::default();
        let mut expected: BTreeMap<String, u64> = acked_seq.clone();
        let mut holes: Vec<(String, u64, u64)> = Vec::new();
        let mut segments = VecDeque::new();
        let mut pending = VecDeque::new();
        let mut pending_records = 0;
        let last_id = *ids.last().unwrap_or(&acked.segment);
        for &id in &ids {
            let path = seg_path(dir, id);
            let f = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io(&path))?;
            let len = f.metadata().map_err(io(&path))?.len();
            let start = if id == acked.segment {
                acked.offset.min(len)
            } else {
                0
            };
            let mut r = BufReader::new(&f);
            r.seek(SeekFrom::Start(start)).map_err(io(&path))?;
            let mut pos = start;
            let mut buf = Vec::new();
            while pos < len {
                match read_frame(&mut r, &mut buf, len - pos) {
                    Some(block) => {
                        let at = SpoolPos {
                            segment: id,
                            offset: pos,
                        };
                        pos += FRAME_HEADER + buf.len() as u64;
                        let exp = expected.get(&block.source).map(|s| s + 1);
                        if let Some(exp) = exp
                            && block.first_seq > exp
                        {
                            holes.push((block.source.clone(), exp, block.first_seq - 1));
                        }
                        let last = block.last_seq();
                        let e = expected.entry(block.source.clone()).or_insert(last);
                        *e = (*e).max(last);
                        let l = rec.last_seq.entry(block.source.clone()).or_insert(last);
                        *l = (*l).max(last);
                        match &block.resume {
                            Resume::None => {}
                            Resume::File(p) => {
                                rec.files.insert(p.key(), (block.source.clone(), p.clone()));
                            }
                            Resume::Journal(c) => rec.journal_cursor = Some(c.clone()),
                        }
                        pending.push_back((at, block.records() as u64, block.time_ns));
                        pending_records += block.records() as u64;
                    }
                    None => {
                        let cut = len - pos;
                        if id == last_id {
                            metrics.add(Counter::SpoolTornTailBytes, cut);
                            tracing::warn!(
                                segment = id,
                                offset = pos,
                                bytes = cut,
                                "spool: cut a torn tail"
                            );
                        } else {
                            metrics.inc(Counter::SpoolDamaged);
                            tracing::error!(
                                segment = id,
                                offset = pos,
                                bytes = cut,
                                "spool: damaged frame; the rest of the segment is lost"
                            );
                        }
                        f.set_len(pos).map_err(io(&path))?;
                        f.sync_all().map_err(io(&path))?;
                        break;
                    }
                }
            }
            segments.push_back((id, pos));
        }
        let (write_id, write_len) = *segments.back().unwrap_or(&(acked.segment, 0));
        let wpath = seg_path(dir, write_id);
        let wf = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&wpath)
            .map_err(io(&wpath))?;
        debug_assert_eq!(
            wf.metadata().map(|m| m.len()).unwrap_or(write_len),
            write_len
        );
        let mut spool = Self {
            dir: dir.to_owned(),
            max_bytes: cfg.max_bytes,
            segment_bytes: cfg.segment_bytes,
            segments,
            writer: BufWriter::with_capacity(64 * 1024, wf),
            unsynced: false,
            acked,
            read_pos: acked,
            reader: None,
            pending,
            pending_records,
            last_seq: rec.last_seq.clone(),
            frame: Vec::new(),
            metrics,
        };
        for (source, from, to) in holes {
            tracing::error!(%source, from, to, "spool damage lost these records; sending a loss event");
            spool.metrics.inc(Counter::SpoolDamaged);
            let detail = format!("spool damage lost records {from}..={to}");
            let block = Block::loss(
                &source,
                from,
                to,
                gac_event::wire::loss::SPOOL_DAMAGED,
                detail,
            );
            spool.append(&block)?;
        }
        Ok((spool, rec))
    }

    /// Bytes not yet acknowledged.
    fn used(&self) -> u64 {
        let total: u64 = self.segments.iter().map(|(_, s)| s).sum();
        total.saturating_sub(self.acked.offset)
    }

    /// Whether a block of about `bytes` would be taken now.
    pub fn has_room(&self, bytes: usize) -> bool {
        self.used() + bytes as u64 + FRAME_HEADER <= self.max_bytes
    }

    /// Appends a block, or refuses with [`SpoolError::Full`] (loss blocks always fit).
    pub fn append(&mut self, block: &Block) -> Result<(), SpoolError> {
        self.frame.clear();
        self.frame.extend_from_slice(&[0; FRAME_HEADER as usize]);
        block.encode(&mut self.frame);
        let payload = self.frame.len() as u64 - FRAME_HEADER;
        let is_loss = matches!(block.body, BlockBody::Loss { .. });
        if !is_loss && self.used() + payload + FRAME_HEADER > self.max_bytes {
            return Err(SpoolError::Full);
        }
        let crc = crc32fast::hash(&self.frame[FRAME_HEADER as usize..]);
        self.frame[0..4].copy_from_slice(&(payload as u32).to_le_bytes());
        self.frame[4..8].copy_from_slice(&crc.to_le_bytes());
        let (id, size) = *self
            .segments
            .back()
            .expect("the spool always has a segment to write");
        if size > 0 && size + self.frame.len() as u64 > self.segment_bytes {
            self.roll(id + 1)?;
        }
        let (id, size) = self
            .segments
            .back_mut()
            .expect("the spool always has a segment to write");
        let at = SpoolPos {
            segment: *id,
            offset: *size,
        };
        let path = seg_path(&self.dir, *id);
        if let Err(source) = self.writer.write_all(&self.frame) {
            self.metrics.inc(Counter::SpoolWriteErrors);
            return Err(SpoolError::Io { path, source });
        }
        *size += self.frame.len() as u64;
        self.unsynced = true;
        let n = block.records() as u64;
        self.pending.push_back((at, n, block.time_ns));
        self.pending_records += n;
        let l = self.last_seq.entry(block.source.clone()).or_insert(0);
        *l = (*l).max(block.last_seq());
        self.metrics.add(Counter::SpoolAppended, n);
        Ok(())
    }

    /// Closes the current segment (synced, so it never needs checking again after a
    /// power cut) and begins segment `next`.
    fn roll(&mut self, next: u64) -> Result<(), SpoolError> {
        self.sync()?;
        let path = seg_path(&self.dir, next);
        let f = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|source| SpoolError::Io {
                path: path.clone(),
                source,
            })?;
        self.writer = BufWriter::with_capacity(64 * 1024, f);
        self.segments.push_back((next, 0));
        Ok(())
    }

    fn write_path(&self) -> PathBuf {
        seg_path(&self.dir, self.segments.back().map(|s| s.0).unwrap_or(0))
    }

    /// Pushes buffered appends to the OS (readers then see them).
    pub fn flush(&mut self) -> Result<(), SpoolError> {
        self.writer.flush().map_err(|source| SpoolError::Io {
            path: self.write_path(),
            source,
        })
    }

    /// Flushes and fsyncs what was appended since the last sync.
    pub fn sync(&mut self) -> Result<(), SpoolError> {
        self.flush()?;
        if self.unsynced {
            self.writer
                .get_ref()
                .sync_data()
                .map_err(|source| SpoolError::Io {
                    path: self.write_path(),
                    source,
                })?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// Whether there are blocks not yet handed to the shipper.
    pub fn has_unread(&self) -> bool {
        let end = self
            .segments
            .back()
            .map(|&(id, size)| SpoolPos {
                segment: id,
                offset: size,
            })
            .unwrap_or_default();
        self.read_pos < end
    }

    /// Hands out the next blocks (at least one if any, then up to `max_bytes` of record
    /// data or `max_records` records), synced to disk first. Nothing is removed until
    /// [`Spool::ack`].
    pub fn read_batch(
        &mut self,
        max_bytes: usize,
        max_records: usize,
    ) -> Result<Option<ReadBatch>, SpoolError> {
        self.sync()?;
        let mut blocks = Vec::new();
        let (mut bytes, mut records) = (0usize, 0usize);
        let mut buf = Vec::new();
        while self.has_unread() {
            let seg_size = self
                .segments
                .iter()
                .find(|s| s.0 == self.read_pos.segment)
                .map(|s| s.1);
            let Some(seg_size) = seg_size else {
                // A segment that no longer exists: move to the first one after it.
                match self.segments.iter().find(|s| s.0 > self.read_pos.segment) {
                    Some(&(id, _)) => {
                        self.read_pos = SpoolPos {
                            segment: id,
                            offset: 0,
                        };
                        continue;
                    }
                    None => break,
                }
            };
            if self.read_pos.offset >= seg_size {
                match self.segments.iter().find(|s| s.0 > self.read_pos.segment) {
                    Some(&(id, _)) => {
                        self.read_pos = SpoolPos {
                            segment: id,
                            offset: 0,
                        };
                        continue;
                    }
                    None => break,
                }
            }
            let path = seg_path(&self.dir, self.read_pos.segment);
            let reader = match self.reader.take() {
                Some((id, r, pos)) if id == self.read_pos.segment => (id, r, pos),
                _ => {
                    let f = File::open(&path).map_err(|source| SpoolError::Io {
                        path: path.clone(),
                        source,
                    })?;
                    (
                        self.read_pos.segment,
                        BufReader::with_capacity(64 * 1024, f),
                        u64::MAX,
                    )
                }
            };
            let (id, mut r, mut pos) = reader;
            if pos != self.read_pos.offset {
                r.seek(SeekFrom::Start(self.read_pos.offset))
                    .map_err(|source| SpoolError::Io {
                        path: path.clone(),
                        source,
                    })?;
                pos = self.read_pos.offset;
            }
            let block = read_frame(&mut r, &mut buf, seg_size - pos);
            let Some(block) = block else {
                // Damage under a running agent (the disk, or another process): give up
                // the rest of this segment; the holes show at the server as gaps.
                self.metrics.inc(Counter::SpoolDamaged);
                tracing::error!(
                    segment = id,
                    offset = pos,
                    "spool: damaged frame while reading; skipping the rest of the segment"
                );
                self.read_pos.offset = seg_size;
                self.reader = None;
                continue;
            };
            pos += FRAME_HEADER + buf.len() as u64;
            self.reader = Some((id, r, pos));
            self.read_pos.offset = pos;
            bytes += match &block.body {
                BlockBody::Lines(l) => l.bytes() + l.len() * 8,
                BlockBody::Loss { .. } => 64,
            };
            records += block.records();
            blocks.push(block);
            if bytes >= max_bytes || records >= max_records {
                break;
            }
        }
        Ok((!blocks.is_empty()).then_some(ReadBatch {
            blocks,
            end: self.read_pos,
        }))
    }

    /// Sends the read position back to the acknowledged one (after a batch was given up
    /// to be read again, e.g. a shipper restart).
    pub fn rewind(&mut self) {
        self.read_pos = self.acked;
    }

    /// Marks everything before `end` acknowledged. Segment files are deleted later, by
    /// [`Spool::remove_acked_segments`], once the checkpoint saying so is on disk.
    pub fn ack(&mut self, end: SpoolPos) {
        if end <= self.acked {
            return;
        }
        self.acked = end;
        while let Some(&(at, n, _)) = self.pending.front() {
            if at >= end {
                break;
            }
            self.pending_records -= n;
            self.pending.pop_front();
        }
    }

    /// The acknowledged position (for the checkpoint).
    pub fn acked(&self) -> SpoolPos {
        self.acked
    }

    /// Deletes segments every block of which is acknowledged.
    pub fn remove_acked_segments(&mut self) -> Result<(), SpoolError> {
        while self.segments.len() > 1 {
            let (id, size) = self.segments[0];
            let wholly = id < self.acked.segment
                || (id == self.acked.segment
                    && self.acked.offset >= size
                    && self.segments.len() > 1);
            if !wholly {
                break;
            }
            let path = seg_path(&self.dir, id);
            std::fs::remove_file(&path).map_err(|source| SpoolError::Io { path, source })?;
            if matches!(self.reader, Some((rid, _, _)) if rid == id) {
                self.reader = None;
            }
            self.segments.pop_front();
            if self.acked.segment == id {
                self.acked = SpoolPos {
                    segment: self.segments[0].0,
                    offset: 0,
                };
                if self.read_pos.segment == id {
                    self.read_pos = self.acked;
                }
            }
        }
        Ok(())
    }

    /// Depth for heartbeats.
    pub fn stats(&self) -> SpoolStats {
        SpoolStats {
            bytes: self.used(),
            records: self.pending_records,
            oldest_ns: self.pending.front().map(|p| p.2),
        }
    }

    /// Last sequence number spooled per source.
    pub fn last_seq(&self) -> &BTreeMap<String, u64> {
        &self.last_seq
    }
}

/// Reads and checks one frame of at most `left` bytes; `None` for a torn, damaged or
/// undecodable one.
fn read_frame(r: &mut impl Read, buf: &mut Vec<u8>, left: u64) -> Option<Block> {
    if left < FRAME_HEADER {
        return None;
    }
    let mut header = [0u8; FRAME_HEADER as usize];
    r.read_exact(&mut header).ok()?;
    let len = u32::from_le_bytes(header[0..4].try_into().ok()?);
    let crc = u32::from_le_bytes(header[4..8].try_into().ok()?);
    if len > MAX_FRAME_BYTES || u64::from(len) > left - FRAME_HEADER {
        return None;
    }
    buf.clear();
    buf.resize(len as usize, 0);
    r.read_exact(buf).ok()?;
    if crc32fast::hash(buf) != crc {
        return None;
    }
    Block::decode(buf)
}

/// Reads and acknowledges everything spooled, as (source, seq, text or
/// `LOSS:<reason>`): what the inputs' tests compare against.
#[cfg(test)]
pub(crate) fn drain_for_tests(spool: &std::sync::Mutex<Spool>) -> Vec<(String, u64, String)> {
    let mut s = spool.lock().expect("no test panicked holding the spool");
    let mut out = Vec::new();
    while let Some(b) = s.read_batch(1 << 20, 1 << 20).expect("the spool reads") {
        for bl in b.blocks {
            match &bl.body {
                BlockBody::Lines(l) => {
                    for (k, line) in l.iter().enumerate() {
                        out.push((
                            bl.source.clone(),
                            bl.first_seq + k as u64,
                            String::from_utf8_lossy(line).into_owned(),
                        ));
                    }
                }
                BlockBody::Loss { reason, .. } => {
                    out.push((bl.source.clone(), bl.first_seq, format!("LOSS:{reason}")))
                }
            }
        }
        s.ack(b.end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(source: &str, first: u64, texts: &[&str], offset: u64) -> Block {
        let mut l = LineBuf::default();
        for t in texts {
            l.push(t.as_bytes());
        }
        Block {
            source: source.into(),
            time_ns: 1_700_000_000_000_000_000 + first as i64,
            first_seq: first,
            body: BlockBody::Lines(l),
            resume: Resume::File(FilePos {
                dev: 8,
                ino: 99,
                fp: 0xdead_beef,
                fp_len: 256,
                offset,
            }),
        }
    }

    fn cfg(max_bytes: u64, segment_bytes: u64) -> SpoolConfig {
        SpoolConfig {
            max_bytes,
            segment_bytes,
            fsync_interval_ms: 1000,
        }
    }

    fn open(dir: &Path, c: &SpoolConfig, acked: SpoolPos) -> (Spool, Recovered) {
        Spool::open(
            dir,
            c,
            acked,
            &BTreeMap::new(),
            Arc::new(Metrics::default()),
        )
        .unwrap()
    }

    fn all_seqs(s: &mut Spool) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        while let Some(b) = s.read_batch(1 << 20, 1 << 20).unwrap() {
            for bl in b.blocks {
                for k in 0..bl.records() as u64 {
                    out.push((bl.source.clone(), bl.first_seq + k));
                }
            }
        }
        out
    }

    #[test]
    fn block_encoding_round_trips() {
        let mut b = lines("/var/log/x", 7, &["a", "", "c\u{0}d"], 42);
        let mut buf = Vec::new();
        b.encode(&mut buf);
        assert_eq!(Block::decode(&buf).unwrap(), b);
        b.resume = Resume::Journal("s=abc;i=1".into());
        buf.clear();
        b.encode(&mut buf);
        assert_eq!(Block::decode(&buf).unwrap(), b);
        let loss = Block::loss("relay/10.0.0.1", 5, 9, "relay_overflow", "5 dropped".into());
        buf.clear();
        loss.encode(&mut buf);
        assert_eq!(Block::decode(&buf).unwrap(), loss);
        assert_eq!(loss.last_seq(), 9);
        assert!(Block::decode(&buf[..buf.len() - 1]).is_none());
    }

    #[test]
    fn append_read_ack_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 4096);
        let (mut s, rec) = open(dir.path(), &c, SpoolPos::default());
        assert!(rec.last_seq.is_empty());
        for i in 0..100u64 {
            s.append(&lines("a", i * 2 + 1, &["line one", "line two"], i * 100))
                .unwrap();
        }
        assert_eq!(s.stats().records, 200);
        assert!(s.segments.len() > 1, "4 KiB segments roll");
        let batch = s.read_batch(300, 1000).unwrap().unwrap();
        let n: usize = batch.blocks.iter().map(Block::records).sum();
        s.ack(batch.end);
        s.remove_acked_segments().unwrap();
        assert_eq!(s.stats().records, 200 - n as u64);
        let acked = s.acked();
        drop(s);
        // Reopen at the acknowledged position: the rest is still there, in order.
        let (mut s, rec) = open(dir.path(), &c, acked);
        assert_eq!(rec.last_seq["a"], 200);
        assert_eq!(rec.files["8:99"].1.offset, 9900);
        let seqs = all_seqs(&mut s);
        assert_eq!(seqs.len(), 200 - n);
        assert_eq!(seqs.first().unwrap().1, n as u64 + 1);
        assert_eq!(seqs.last().unwrap().1, 200);
    }

    #[test]
    fn torn_tail_is_cut_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 1 << 20);
        let (mut s, _) = open(dir.path(), &c, SpoolPos::default());
        for i in 1..=10 {
            s.append(&lines("a", i, &["x"], i * 10)).unwrap();
        }
        s.sync().unwrap();
        let seg = seg_path(dir.path(), 1);
        drop(s);
        // A crash mid-append: half a frame at the end.
        let len = std::fs::metadata(&seg).unwrap().len();
        let f = OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(len - 3).unwrap();
        drop(f);
        let m = Arc::new(Metrics::default());
        let (mut s, rec) = Spool::open(
            dir.path(),
            &c,
            SpoolPos::default(),
            &BTreeMap::new(),
            m.clone(),
        )
        .unwrap();
        assert_eq!(rec.last_seq["a"], 9, "the torn block is gone");
        assert_eq!(
            rec.files["8:99"].1.offset, 90,
            "reading resumes after the last whole block"
        );
        assert!(m.get(Counter::SpoolTornTailBytes) > 0);
        s.append(&lines("a", 10, &["x again"], 100)).unwrap();
        let seqs: Vec<u64> = all_seqs(&mut s).into_iter().map(|x| x.1).collect();
        assert_eq!(seqs, (1..=10).collect::<Vec<_>>());
    }

    #[test]
    fn damage_is_detected_and_reported_as_loss() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 200);
        let (mut s, _) = open(dir.path(), &c, SpoolPos::default());
        for i in 1..=12 {
            s.append(&lines("a", i, &["some line of text"], i)).unwrap();
        }
        s.sync().unwrap();
        drop(s);
        // Flip one byte in the payload of the first frame of segment 2.
        let seg = seg_path(dir.path(), 2);
        let mut bytes = std::fs::read(&seg).unwrap();
        bytes[12] ^= 0x40;
        std::fs::write(&seg, &bytes).unwrap();
        let m = Arc::new(Metrics::default());
        let (mut s, _) = Spool::open(
            dir.path(),
            &c,
            SpoolPos::default(),
            &BTreeMap::new(),
            m.clone(),
        )
        .unwrap();
        assert!(m.get(Counter::SpoolDamaged) >= 1);
        let mut lines_seen = Vec::new();
        let mut losses = Vec::new();
        while let Some(b) = s.read_batch(1 << 20, 1 << 20).unwrap() {
            for bl in b.blocks {
                match bl.body {
                    BlockBody::Lines(_) => lines_seen.push(bl.first_seq),
                    BlockBody::Loss { to_seq, reason, .. } => {
                        losses.push((bl.first_seq, to_seq, reason))
                    }
                }
            }
        }
        // Every number is either a line still there or inside a reported loss.
        assert_eq!(losses.len(), 1);
        let (from, to, reason) = &losses[0];
        assert_eq!(reason, gac_event::wire::loss::SPOOL_DAMAGED);
        for seq in 1..=12 {
            assert!(
                lines_seen.contains(&seq) || (*from..=*to).contains(&seq),
                "seq {seq} neither present nor reported lost"
            );
        }
        assert!(!lines_seen.iter().any(|s| (*from..=*to).contains(s)));
    }

    #[test]
    fn full_spool_refuses_until_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(8192, 4096);
        let (mut s, _) = open(dir.path(), &c, SpoolPos::default());
        let big = "y".repeat(1000);
        let mut seq = 1;
        loop {
            match s.append(&lines("a", seq, &[&big], seq)) {
                Ok(()) => seq += 1,
                Err(SpoolError::Full) => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(seq > 5);
        assert!(!s.has_room(1000));
        // A loss block is still taken: it must not be lost itself.
        s.append(&Block::loss("relay", 1, 1, "relay_overflow", String::new()))
            .unwrap();
        // Acknowledging and removing whole segments makes room again.
        while let Some(b) = s.read_batch(1 << 20, 1 << 20).unwrap() {
            s.ack(b.end);
        }
        s.remove_acked_segments().unwrap();
        assert!(s.has_room(1000));
        s.append(&lines("a", seq, &[&big], seq)).unwrap();
    }

    #[test]
    fn unacknowledged_blocks_are_read_again_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(1 << 20, 1 << 20);
        let (mut s, _) = open(dir.path(), &c, SpoolPos::default());
        s.append(&lines("a", 1, &["one"], 4)).unwrap();
        s.append(&lines("a", 2, &["two"], 8)).unwrap();
        let b = s.read_batch(1 << 20, 100).unwrap().unwrap();
        assert_eq!(b.blocks.len(), 2);
        // Sent but never acknowledged (crash): both come back.
        drop(s);
        let (mut s, _) = open(dir.path(), &c, SpoolPos::default());
        assert_eq!(all_seqs(&mut s).len(), 2);
        s.rewind();
        assert_eq!(all_seqs(&mut s).len(), 2);
    }
}
