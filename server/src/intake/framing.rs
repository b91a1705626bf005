//! Syslog over TCP framing (RFC 6587): bytes to records, nothing more. Each frame is
//! either octet-counted (`<len> <msg>`) or ends at a newline, chosen frame by frame as
//! rsyslog does: a frame starting with digits then a space is octet-counted.
//!
//! Oversize records are cut at the limit and flagged, never dropped; the rest of such a
//! record is skipped. An octet count no sender could mean is a framing error and ends
//! the connection (the stream cannot be resynchronised).

use bytes::{Buf, BytesMut};
use tokio_util::codec::Decoder;

/// An octet count larger than this is garbage, not a record.
const MAX_OCTET_COUNT: usize = 64 << 20;
/// Digits an octet count may have (enough for [`MAX_OCTET_COUNT`]).
const MAX_COUNT_DIGITS: usize = 9;

/// One record taken off the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub data: Vec<u8>,
    /// Cut at the size limit.
    pub truncated: bool,
}

/// A stream whose framing cannot be followed.
#[derive(Debug, thiserror::Error)]
pub enum FramingError {
    #[error("octet count {0} exceeds {MAX_OCTET_COUNT} bytes")]
    CountTooLarge(usize),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a frame.
    Start,
    /// Inside an octet-counted frame whose kept part was emitted: skip this many bytes.
    SkipCount(usize),
    /// Inside a newline-framed record whose kept part was emitted: skip to the newline.
    SkipLine,
}

/// Decoder for [`tokio_util::codec::FramedRead`].
#[derive(Debug)]
pub struct SyslogFraming {
    max_bytes: usize,
    state: State,
}

impl SyslogFraming {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            state: State::Start,
        }
    }

    /// Reads `<digits> ` at the start of `buf`: `Some(Some(n))` for a count,
    /// `Some(None)` when this is not an octet-counted frame, `None` when more bytes are
    /// needed to tell.
    fn octet_count(buf: &[u8]) -> Option<Option<(usize, usize)>> {
        let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > MAX_COUNT_DIGITS {
            return Some(None);
        }
        match buf.get(digits) {
            None => None,
            Some(b' ') => {
                let text = std::str::from_utf8(&buf[..digits]).ok()?;
                Some(text.parse().ok().map(|n| (n, digits + 1)))
            }
            Some(_) => Some(None),
        }
    }
}

fn trim_line(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b'\r' | b'\0'] = line {
        line = rest;
    }
    line
}

impl Decoder for SyslogFraming {
    type Item = Frame;
    type Error = FramingError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        loop {
            match self.state {
                State::SkipCount(left) => {
                    let n = left.min(buf.len());
                    buf.advance(n);
                    if n < left {
                        self.state = State::SkipCount(left - n);
                        return Ok(None);
                    }
                    self.state = State::Start;
                }
                State::SkipLine => match buf.iter().position(|b| *b == b'\n') {
                    Some(i) => {
                        buf.advance(i + 1);
                        self.state = State::Start;
                    }
                    None => {
                        buf.clear();
                        return Ok(None);
                    }
                },
                State::Start => {
                    // Blank lines between records carry nothing.
                    let blank = buf
                        .iter()
                        .take_while(|b| matches!(b, b'\n' | b'\r' | b'\0'))
                        .count();
                    buf.advance(blank);
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    match Self::octet_count(buf) {
                        None => return Ok(None),
                        Some(Some((count, header))) => {
                            if count > MAX_OCTET_COUNT {
                                return Err(FramingError::CountTooLarge(count));
                            }
                            let keep = count.min(self.max_bytes);
                            if buf.len() < header + keep {
                                buf.reserve(header + keep - buf.len());
                                return Ok(None);
                            }
                            buf.advance(header);
                            let data = buf.split_to(keep).to_vec();
                            let truncated = keep < count;
                            if truncated {
                                self.state = State::SkipCount(count - keep);
                            }
                            return Ok(Some(Frame { data, truncated }));
                        }
                        Some(None) => {
                            let limit = buf.len().min(self.max_bytes + 1);
                            match buf[..limit].iter().position(|b| *b == b'\n') {
                                Some(i) => {
                                    let line = buf.split_to(i + 1);
                                    let data = trim_line(&line[..i]).to_vec();
                                    return Ok(Some(Frame {
                                        data,
                                        truncated: false,
                                    }));
                                }
                                None if buf.len() > self.max_bytes => {
                                    let data = buf.split_to(self.max_bytes).to_vec();
                                    self.state = State::SkipLine;
                                    return Ok(Some(Frame {
                                        data,
                                        truncated: true,
                                    }));
                                }
                                None => return Ok(None),
                            }
                        }
                    }
                }
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, FramingError> {
        if let Some(frame) = self.decode(buf)? {
            return Ok(Some(frame));
        }
        // A last record without its newline (or cut short) is still a record.
        if self.state == State::Start && !buf.is_empty() {
            let rest = buf.split_to(buf.len());
            let data = trim_line(&rest).to_vec();
            if !data.is_empty() {
                return Ok(Some(Frame {
                    data,
                    truncated: false,
                }));
            }
        }
        buf.clear();
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8], max: usize, chunk: usize) -> Result<Vec<Frame>, String> {
        let mut dec = SyslogFraming::new(max);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            while let Some(f) = dec.decode(&mut buf).map_err(|e| e.to_string())? {
                out.push(f);
            }
        }
        while let Some(f) = dec.decode_eof(&mut buf).map_err(|e| e.to_string())? {
            out.push(f);
        }
        Ok(out)
    }

    fn texts(fs: &[Frame]) -> Vec<String> {
        fs.iter()
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .collect()
    }

    #[test]
    fn newline_and_octet_counted_frames_mix_in_any_chunking() {
        let input = b"<13>one\r\n9 <13>two\nx\n<13>three\n\n4 a\nbc<13>last";
        for chunk in [1, 2, 3, 7, 100] {
            let got = frames(input, 1024, chunk).unwrap();
            assert_eq!(
                texts(&got),
                ["<13>one", "<13>two\nx", "<13>three", "a\nbc", "<13>last"],
                "chunk size {chunk}"
            );
            assert!(got.iter().all(|f| !f.truncated));
        }
    }

    #[test]
    fn a_line_starting_with_digits_but_no_count_is_a_line() {
        let got = frames(b"2025-07-01T10:00:00Z host app: hi\n", 1024, 5).unwrap();
        assert_eq!(texts(&got), ["2025-07-01T10:00:00Z host app: hi"]);
    }

    #[test]
    fn oversize_records_are_cut_and_the_stream_goes_on() {
        let got = frames(b"0123456789abc\nok\n20 abcdefghijklmnopqrst7 <13>end", 8, 3).unwrap();
        assert_eq!(texts(&got), ["01234567", "ok", "abcdefgh", "<13>end"]);
        let cut: Vec<bool> = got.iter().map(|f| f.truncated).collect();
        assert_eq!(cut, [true, false, true, false]);
    }

    #[test]
    fn an_absurd_octet_count_ends_the_connection() {
        let err = frames(b"999999999 x", 1024, 100).unwrap_err();
        assert!(err.contains("exceeds"), "{err}");
    }
}
