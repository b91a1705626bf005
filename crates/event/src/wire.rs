//! The agent-to-server batch format (DESIGN §4): what `gac-agent` POSTs to
//! `/api/agent/v1/batch` and what the server's agent endpoint decodes before its WAL.
//!
//! # Bytes, version 1
//!
//! ```text
//! batch  = "GACB" version:u8(=1) zstd_frame(body)
//! body   = agent_id:str
//!          n_sources:uv source:str{n_sources}     -- each source name once per batch
//!          n_records:uv record{n_records}
//! record = source_index:uv seq:uv time_delta_ns:sv kind:u8 [loss] data:bytes
//! loss   = from_seq:uv to_seq:uv reason:str        -- only when kind = 1
//! str    = len:uv utf8{len}       bytes = len:uv u8{len}
//! uv     = unsigned LEB128 (u64)  sv = zig-zag LEB128 (i64)
//! ```
//!
//! `time_delta_ns` is the record's `time_ns` minus the previous record's (the first
//! record's is relative to 0), so a batch read in one go spends a byte or two per time.
//! `kind` is 0 for a line, 1 for a loss event. Nothing may follow the last record.
//!
//! # Sequence numbers
//!
//! Per source, sequence numbers start at **1** and are dense: every number is either a
//! [`RecordKind::Line`] or covered by exactly one [`RecordKind::Loss`]. A loss record's
//! own `seq` is its `from_seq`; it stands for every number in `from_seq..=to_seq`, none of
//! which will ever be sent as a line (usually `from_seq == to_seq`: one number marks one
//! loss whose size is unknown in lines, such as a file rotated away unread). A number
//! neither seen nor covered is a gap the server can show. The server deduplicates on
//! `(agent_id, source, seq)`, so a resent batch is harmless.
//!
//! Decoding trusts nothing: the decompressed size is read through a bounded reader (a
//! zip bomb stops at [`Limits::max_decompressed_bytes`]), and record count, record size
//! and source indexes are checked before anything is allocated for them.

use std::io::Read;

/// The four bytes every batch starts with.
pub const MAGIC: &[u8; 4] = b"GACB";
/// The format version this module writes (and the only one it reads).
pub const VERSION: u8 = 1;
/// The HTTP `content-type` of a batch body.
pub const CONTENT_TYPE: &str = "application/x-gac-batch";
/// The zstd level [`encode`] uses: fast enough for 100 MiB/s on one core, and most of
/// the ratio of higher levels on log lines.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;

/// Source name of records read from the systemd journal.
pub const SOURCE_JOURNALD: &str = "journald";

/// Known loss reasons (`RecordKind::Loss::reason`); the server shows any string.
pub mod loss {
    /// A file was rotated or deleted before the agent had read all of it.
    pub const ROTATED_UNREAD: &str = "rotated_unread";
    /// A file shrank under the agent (truncated in place) with unread bytes before the cut.
    pub const TRUNCATED: &str = "truncated";
    /// Relay datagrams the agent could not take in time (socket buffer or queue overflow).
    pub const RELAY_OVERFLOW: &str = "relay_overflow";
    /// Spooled records whose checksum failed; their sequence numbers are the range.
    pub const SPOOL_DAMAGED: &str = "spool_damaged";
    /// The journal cursor was no longer valid (journal vacuumed past it).
    pub const JOURNAL_CURSOR_LOST: &str = "journal_cursor_lost";
    /// A record was given up by the agent after the server refused it repeatedly.
    pub const DEAD_LETTER: &str = "dead_letter";
}

/// One POST's worth of records from one agent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Batch {
    /// The id the server gave this agent at enrollment.
    pub agent_id: String,
    /// The records, in the order the agent read them.
    pub records: Vec<WireRecord>,
}

/// One record as shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRecord {
    /// Where it came from: a file path, [`SOURCE_JOURNALD`], or a relay input's name.
    pub source: String,
    /// Per-source sequence number, from 1, dense (see the module docs).
    pub seq: u64,
    /// When the agent read it, in nanoseconds since the Unix epoch (UTC).
    pub time_ns: i64,
    /// A line, or the record of a loss.
    pub kind: RecordKind,
    /// The line's bytes without its terminator (for a loss: a human-readable detail).
    pub data: Vec<u8>,
}

/// What a record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKind {
    /// A log line (or a joined multiline record, or one journal entry as JSON).
    Line,
    /// Records the agent knows it lost; covers `from_seq..=to_seq` (the record's `seq`
    /// equals `from_seq`).
    Loss {
        /// First sequence number this loss stands for.
        from_seq: u64,
        /// Last sequence number this loss stands for (inclusive).
        to_seq: u64,
        /// Why, one of [`loss`] or another short lowercase word.
        reason: String,
    },
}

/// Bounds checked while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most records in one batch.
    pub max_records: usize,
    /// Most bytes of `data` in one record.
    pub max_record_bytes: usize,
    /// Most bytes the body may decompress to.
    pub max_decompressed_bytes: usize,
}

impl Default for Limits {
    /// Generous for an agent's batch (it sends at most a few MiB), small enough that a
    /// hostile body costs the server little memory.
    fn default() -> Self {
        Self {
            max_records: 262_144,
            max_record_bytes: 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why a batch could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("batch does not start with the GACB magic")]
    BadMagic,
    #[error("unsupported batch version {0} (this build reads version {VERSION})")]
    UnsupportedVersion(u8),
    #[error("batch body is not valid zstd: {0}")]
    Decompress(String),
    #[error("batch body decompresses to more than {0} bytes")]
    TooLarge(usize),
    #[error("batch has {0} records, more than the limit of {1}")]
    TooManyRecords(u64, usize),
    #[error("record {index} has {len} bytes, more than the limit of {limit}")]
    RecordTooLarge {
        index: usize,
        len: u64,
        limit: usize,
    },
    #[error("batch body ends in the middle of {0}")]
    Truncated(&'static str),
    #[error("varint in {0} is longer than 10 bytes")]
    BadVarint(&'static str),
    #[error("{0} is not valid utf-8")]
    BadUtf8(&'static str),
    #[error("record {index} names source {source_index} but the table has {sources}")]
    BadSourceIndex {
        index: usize,
        source_index: u64,
        sources: usize,
    },
    #[error("record {0} has unknown kind {1}")]
    BadKind(usize, u8),
    #[error("record {0} is a loss whose range is inconsistent with its sequence number")]
    BadLossRange(usize),
    #[error("{0} bytes follow the last record")]
    TrailingBytes(usize),
}

/// Encodes a batch at [`DEFAULT_ZSTD_LEVEL`].
pub fn encode(batch: &Batch) -> Vec<u8> {
    encode_with_level(batch, DEFAULT_ZSTD_LEVEL)
}

/// Encodes a batch at a given zstd level (1 fastest, 19 smallest).
pub fn encode_with_level(batch: &Batch, level: i32) -> Vec<u8> {
    let mut enc = Encoder::new(&batch.agent_id);
    for r in &batch.records {
        enc.push(&r.source, r.seq, r.time_ns, &r.kind, &r.data);
    }
    enc.finish(level)
}

/// Builds a batch record by record without a [`WireRecord`] per line, so an agent can
/// encode straight from its spool; [`encode`] is this over a [`Batch`].
#[derive(Debug)]
pub struct Encoder {
    agent_id: String,
    /// Sources in order of first appearance; a batch holds a handful, so a linear scan
    /// beats hashing.
    sources: Vec<String>,
    records: Vec<u8>,
    count: u64,
    prev_time: i64,
}

impl Encoder {
    /// An empty batch for `agent_id`.
    pub fn new(agent_id: &str) -> Self {
        Self {
            agent_id: agent_id.to_owned(),
            sources: Vec::new(),
            records: Vec::new(),
            count: 0,
            prev_time: 0,
        }
    }

    /// Records pushed so far.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Uncompressed bytes of the records pushed so far.
    pub fn body_bytes(&self) -> usize {
        self.records.len()
    }

    /// Appends one record.
    pub fn push(&mut self, source: &str, seq: u64, time_ns: i64, kind: &RecordKind, data: &[u8]) {
        let si = match self.sources.iter().rposition(|s| s == source) {
            Some(i) => i,
            None => {
                self.sources.push(source.to_owned());
                self.sources.len() - 1
            }
        };
        let out = &mut self.records;
        put_uv(out, si as u64);
        put_uv(out, seq);
        put_sv(out, time_ns.wrapping_sub(self.prev_time));
        self.prev_time = time_ns;
        match kind {
            RecordKind::Line => out.push(0),
            RecordKind::Loss {
                from_seq,
                to_seq,
                reason,
            } => {
                out.push(1);
                put_uv(out, *from_seq);
                put_uv(out, *to_seq);
                put_bytes(out, reason.as_bytes());
            }
        }
        put_bytes(out, data);
        self.count += 1;
    }

    /// The uncompressed body: agent id, source table, records.
    fn body(&self) -> Vec<u8> {
        let names: usize = self.sources.iter().map(|s| s.len() + 2).sum();
        let mut out = Vec::with_capacity(self.records.len() + names + self.agent_id.len() + 16);
        put_bytes(&mut out, self.agent_id.as_bytes());
        put_uv(&mut out, self.sources.len() as u64);
        for s in &self.sources {
            put_bytes(&mut out, s.as_bytes());
        }
        put_uv(&mut out, self.count);
        out.extend_from_slice(&self.records);
        out
    }

    /// The finished batch bytes: magic, version, zstd frame.
    pub fn finish(self, level: i32) -> Vec<u8> {
        let body = self.body();
        let compressed =
            zstd::bulk::compress(&body, level).expect("compressing a buffer in memory cannot fail");
        let mut out = Vec::with_capacity(compressed.len() + MAGIC.len() + 1);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&compressed);
        out
    }
}

/// The uncompressed body of a batch (tests compare it with the frozen fixture).
#[cfg(test)]
fn encode_body(batch: &Batch) -> Vec<u8> {
    let mut enc = Encoder::new(&batch.agent_id);
    for r in &batch.records {
        enc.push(&r.source, r.seq, r.time_ns, &r.kind, &r.data);
    }
    enc.body()
}

/// Decodes a batch with the default [`Limits`].
pub fn decode(bytes: &[u8]) -> Result<Batch, WireError> {
    decode_with_limits(bytes, &Limits::default())
}

/// Decodes a batch, refusing anything beyond `limits`.
pub fn decode_with_limits(bytes: &[u8], limits: &Limits) -> Result<Batch, WireError> {
    if bytes.len() < MAGIC.len() + 1 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(WireError::BadMagic);
    }
    let version = bytes[MAGIC.len()];
    if version != VERSION {
        return Err(WireError::UnsupportedVersion(version));
    }
    let body = decompress_bounded(&bytes[MAGIC.len() + 1..], limits.max_decompressed_bytes)?;
    decode_body(&body, limits)
}

/// Decompresses through a reader that stops one byte past the limit, so the memory a
/// hostile body can claim is bounded whatever its frame header says.
fn decompress_bounded(compressed: &[u8], max: usize) -> Result<Vec<u8>, WireError> {
    let decoder = zstd::stream::read::Decoder::with_buffer(compressed)
        .map_err(|e| WireError::Decompress(e.to_string()))?;
    let mut body = Vec::with_capacity(compressed.len().saturating_mul(4).min(max));
    decoder
        .take(max as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| WireError::Decompress(e.to_string()))?;
    if body.len() > max {
        return Err(WireError::TooLarge(max));
    }
    Ok(body)
}

fn decode_body(body: &[u8], limits: &Limits) -> Result<Batch, WireError> {
    let mut r = Reader { buf: body, pos: 0 };
    let agent_id = r.string("agent id")?;
    let n_sources = r.uv("source count")?;
    // Every source name takes at least one byte, so a count beyond the body is a lie.
    if n_sources > r.remaining() as u64 {
        return Err(WireError::Truncated("source table"));
    }
    let mut sources = Vec::with_capacity(n_sources as usize);
    for _ in 0..n_sources {
        sources.push(r.string("source name")?);
    }
    let n_records = r.uv("record count")?;
    if n_records > limits.max_records as u64 {
        return Err(WireError::TooManyRecords(n_records, limits.max_records));
    }
    // A record takes at least five bytes (index, seq, time, kind, data length).
    if n_records > (r.remaining() / 5) as u64 {
        return Err(WireError::Truncated("records"));
    }
    let mut records = Vec::with_capacity(n_records as usize);
    let mut time_ns = 0i64;
    for index in 0..n_records as usize {
        let source_index = r.uv("source index")?;
        let source = sources
            .get(source_index as usize)
            .ok_or(WireError::BadSourceIndex {
                index,
                source_index,
                sources: sources.len(),
            })?
            .clone();
        let seq = r.uv("sequence number")?;
        time_ns = time_ns.wrapping_add(r.sv("time")?);
        let kind = match r.byte("record kind")? {
            0 => RecordKind::Line,
            1 => {
                let from_seq = r.uv("loss range")?;
                let to_seq = r.uv("loss range")?;
                let reason = r.string("loss reason")?;
                if from_seq != seq || to_seq < from_seq {
                    return Err(WireError::BadLossRange(index));
                }
                RecordKind::Loss {
                    from_seq,
                    to_seq,
                    reason,
                }
            }
            other => return Err(WireError::BadKind(index, other)),
        };
        let len = r.uv("data length")?;
        if len > limits.max_record_bytes as u64 {
            return Err(WireError::RecordTooLarge {
                index,
                len,
                limit: limits.max_record_bytes,
            });
        }
        let data = r.take(len, "record data")?.to_vec();
        records.push(WireRecord {
            source,
            seq,
            time_ns,
            kind,
            data,
        });
    }
    if r.remaining() > 0 {
        return Err(WireError::TrailingBytes(r.remaining()));
    }
    Ok(Batch { agent_id, records })
}

fn put_uv(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_sv(out: &mut Vec<u8>, v: i64) {
    put_uv(out, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_uv(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A cursor over the decompressed body; every read says what it was reading so an
/// error names the place.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, WireError> {
        let b = *self.buf.get(self.pos).ok_or(WireError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    fn uv(&mut self, what: &'static str) -> Result<u64, WireError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte(what)?;
            if shift == 63 && b > 1 {
                return Err(WireError::BadVarint(what));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(WireError::BadVarint(what))
    }

    fn sv(&mut self, what: &'static str) -> Result<i64, WireError> {
        let u = self.uv(what)?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    fn take(&mut self, len: u64, what: &'static str) -> Result<&'a [u8], WireError> {
        if len > self.remaining() as u64 {
            return Err(WireError::Truncated(what));
        }
        let s = &self.buf[self.pos..self.pos + len as usize];
        self.pos += len as usize;
        Ok(s)
    }

    fn string(&mut self, what: &'static str) -> Result<String, WireError> {
        let len = self.uv(what)?;
        let b = self.take(len, what)?;
        String::from_utf8(b.to_vec()).map_err(|_| WireError::BadUtf8(what))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(source: &str, seq: u64, time_ns: i64, data: &str) -> WireRecord {
        WireRecord {
            source: source.into(),
            seq,
            time_ns,
            kind: RecordKind::Line,
            data: data.as_bytes().to_vec(),
        }
    }

    fn sample() -> Batch {
        Batch {
            agent_id: "agent-7f3a".into(),
            records: vec![
                line("/var/log/auth.log", 1, 1_700_000_000_000_000_000, "first"),
                line("/var/log/auth.log", 2, 1_700_000_000_000_000_500, "second"),
                line(
                    SOURCE_JOURNALD,
                    41,
                    1_699_999_999_000_000_000,
                    "{\"MESSAGE\":\"x\"}",
                ),
                WireRecord {
                    source: "/var/log/auth.log".into(),
                    seq: 3,
                    time_ns: 1_700_000_001_000_000_000,
                    kind: RecordKind::Loss {
                        from_seq: 3,
                        to_seq: 3,
                        reason: loss::ROTATED_UNREAD.into(),
                    },
                    data: b"about 4096 bytes".to_vec(),
                },
                line("relay-udp", u64::MAX, i64::MIN, ""),
                line("relay-udp", 1, i64::MAX, "\0\u{1}binary\u{ff}"),
            ],
        }
    }

    /// A version 1 batch as bytes: old agents' batches must keep decoding.
    const FIXTURE_V1_BODY: &[u8] = &[
        0x02, b'a', b'1', // agent id
        0x02, 0x01, b'x', 0x01, b'y', // two sources
        0x03, // three records
        0x00, 0x01, 0x14, 0x00, 0x02, b'h', b'i', // x seq 1 time 10, line "hi"
        0x01, 0x01, 0x02, 0x00, 0x00, // y seq 1 time 11, empty line
        0x00, 0x02, 0x01, 0x01, 0x02, 0x05, 0x04, b'g', b'o', b'n', b'e',
        0x00, // x loss 2..=5
    ];

    fn fixture_bytes() -> Vec<u8> {
        let mut b = b"GACB\x01".to_vec();
        b.extend(zstd::bulk::compress(FIXTURE_V1_BODY, 1).unwrap());
        b
    }

    #[test]
    fn round_trip() {
        let b = sample();
        let bytes = encode(&b);
        assert_eq!(&bytes[..5], b"GACB\x01");
        assert_eq!(decode(&bytes).unwrap(), b);
        assert_eq!(decode(&encode_with_level(&b, 1)).unwrap(), b);
        let empty = Batch::default();
        assert_eq!(decode(&encode(&empty)).unwrap(), empty);
    }

    #[test]
    fn sources_are_stored_once() {
        let mut b = Batch {
            agent_id: "a".into(),
            records: Vec::new(),
        };
        let path = "/var/log/a-rather-long-path/that/would/cost/much/if/repeated.log";
        for i in 1..=100 {
            b.records.push(line(path, i, i as i64, "x"));
        }
        let body = encode_body(&b);
        assert_eq!(
            body.windows(path.len())
                .filter(|w| *w == path.as_bytes())
                .count(),
            1
        );
    }

    #[test]
    fn frozen_v1_fixture_decodes() {
        let b = decode(&fixture_bytes()).unwrap();
        assert_eq!(b.agent_id, "a1");
        assert_eq!(b.records.len(), 3);
        assert_eq!(b.records[0], line("x", 1, 10, "hi"));
        assert_eq!(b.records[1], line("y", 1, 11, ""));
        assert_eq!(
            b.records[2].kind,
            RecordKind::Loss {
                from_seq: 2,
                to_seq: 5,
                reason: "gone".into()
            }
        );
        assert_eq!(b.records[2].time_ns, 10);
        // The encoder writes exactly the fixture's body.
        assert_eq!(encode_body(&b), FIXTURE_V1_BODY);
    }

    #[test]
    fn header_is_checked() {
        assert_eq!(decode(b""), Err(WireError::BadMagic));
        assert_eq!(decode(b"GACX\x01abc"), Err(WireError::BadMagic));
        assert_eq!(
            decode(b"GACB\x02abc"),
            Err(WireError::UnsupportedVersion(2))
        );
        assert!(matches!(
            decode(b"GACB\x01not zstd"),
            Err(WireError::Decompress(_))
        ));
    }

    #[test]
    fn zip_bomb_stops_at_the_limit() {
        // 64 MiB of zeros compress to a few KiB.
        let bomb = vec![0u8; 64 * 1024 * 1024 + 1];
        let mut bytes = b"GACB\x01".to_vec();
        bytes.extend(zstd::bulk::compress(&bomb, 3).unwrap());
        assert!(bytes.len() < 100_000);
        let limits = Limits {
            max_decompressed_bytes: 1024 * 1024,
            ..Limits::default()
        };
        assert_eq!(
            decode_with_limits(&bytes, &limits),
            Err(WireError::TooLarge(1024 * 1024))
        );
        assert_eq!(decode(&bytes), Err(WireError::TooLarge(64 * 1024 * 1024)));
    }

    #[test]
    fn record_limits_are_enforced() {
        let b = sample();
        let bytes = encode(&b);
        let few = Limits {
            max_records: 5,
            ..Limits::default()
        };
        assert_eq!(
            decode_with_limits(&bytes, &few),
            Err(WireError::TooManyRecords(6, 5))
        );
        let small = Limits {
            max_record_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            decode_with_limits(&bytes, &small),
            Err(WireError::RecordTooLarge {
                index: 2,
                len: 15,
                limit: 10
            })
        ));
    }

    fn with_body(body: &[u8]) -> Result<Batch, WireError> {
        let mut bytes = b"GACB\x01".to_vec();
        bytes.extend(zstd::bulk::compress(body, 1).unwrap());
        decode(&bytes)
    }

    #[test]
    fn damaged_bodies_are_refused_not_trusted() {
        // Every strict prefix of a valid body is refused.
        for cut in 0..FIXTURE_V1_BODY.len() {
            assert!(with_body(&FIXTURE_V1_BODY[..cut]).is_err(), "prefix {cut}");
        }
        let mut trailing = FIXTURE_V1_BODY.to_vec();
        trailing.push(0);
        assert_eq!(with_body(&trailing), Err(WireError::TrailingBytes(1)));
        // A record count far beyond the body does not allocate for it.
        let huge = [0x00, 0x00, 0xff, 0xff, 0x0f];
        assert_eq!(with_body(&huge), Err(WireError::Truncated("records")));
        let bad_source = [0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00];
        assert!(matches!(
            with_body(&bad_source),
            Err(WireError::BadSourceIndex { .. })
        ));
        let bad_kind = [0x00, 0x01, 0x01, b'x', 0x01, 0x00, 0x01, 0x00, 0x07, 0x00];
        assert_eq!(with_body(&bad_kind), Err(WireError::BadKind(0, 7)));
        let bad_range = [
            0x00, 0x01, 0x01, b'x', 0x01, 0x00, 0x05, 0x00, 0x01, 0x05, 0x04, 0x00, 0x00,
        ];
        assert_eq!(with_body(&bad_range), Err(WireError::BadLossRange(0)));
        let bad_utf8 = [0x01, 0xff, 0x00, 0x00];
        assert_eq!(with_body(&bad_utf8), Err(WireError::BadUtf8("agent id")));
        let long_varint = [
            0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert_eq!(
            with_body(&long_varint),
            Err(WireError::BadVarint("source count"))
        );
    }

    #[test]
    fn varints_cover_the_extremes() {
        for v in [0, 1, 127, 128, 300, u64::MAX / 2, u64::MAX] {
            let mut out = Vec::new();
            put_uv(&mut out, v);
            assert_eq!(Reader { buf: &out, pos: 0 }.uv("t").unwrap(), v);
        }
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            put_sv(&mut out, v);
            assert_eq!(Reader { buf: &out, pos: 0 }.sv("t").unwrap(), v);
        }
    }
}
