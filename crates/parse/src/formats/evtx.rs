//! `.evtx` files, the Windows event log's own format, to events: what `gac-server import`
//! reads. The `evtx` crate decodes the binary XML; each record's JSON rendering then goes
//! through the same normaliser as shipped Windows records (`windows.rs`), so an imported
//! event looks like one Winlogbeat or NXLog delivered.
//!
//! ```no_run
//! # fn demo(bytes: &[u8]) -> Result<(), gac_parse::formats::FormatError> {
//! use gac_event::Timestamp;
//! for event in gac_parse::formats::evtx::read_evtx(bytes, Timestamp::now())? {
//!     match event {
//!         Ok(event) => { /* index it */ }
//!         Err(e) => { /* count it: one damaged record or chunk */ }
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::VecDeque;
use std::io::Cursor;
use std::sync::Arc;

use ::evtx::{EvtxChunkData, EvtxParser, IntoIterChunks, ParserSettings};
use gac_event::{Event, Timestamp};
use serde_json::Value as Json;

use super::windows::{from_evtx_json, normalise};
use super::{Context, FormatError};
use crate::time::TimePolicy;

/// The format name errors and counters use.
pub const EVTX: &str = "windows.evtx";

/// Reads the records of one `.evtx` file, in the order Windows would show them (oldest
/// chunk first, also for a log that has wrapped around).
///
/// Fails at once only when `bytes` is not an `.evtx` file (bad file header); after that,
/// each damaged chunk or record is one `Err` item and reading goes on with the next.
/// Every event's `message` is the record as JSON, since the file has no text line, and
/// `event.ingested` is `received`. Memory stays at one 64 KiB chunk's events at a time.
pub fn read_evtx(bytes: &[u8], received: Timestamp) -> Result<EvtxEvents<'_>, FormatError> {
    // One thread: the import runs on a blocking thread of its own and must not start more.
    let settings = ParserSettings::new()
        .num_threads(1)
        .indent(false)
        .separate_json_attributes(false);
    let parser = EvtxParser::from_read_seek(Cursor::new(bytes))
        .map_err(|e| FormatError::new(EVTX, e.to_string()))?
        .with_configuration(settings.clone());
    Ok(EvtxEvents {
        chunks: parser.into_chunks(),
        settings: Arc::new(settings),
        pending: VecDeque::new(),
        received,
        // Record times are UTC; the zone is never consulted.
        policy: TimePolicy::new(chrono_tz::UTC),
    })
}

/// The events of one `.evtx` file; see [`read_evtx`].
pub struct EvtxEvents<'a> {
    chunks: IntoIterChunks<Cursor<&'a [u8]>>,
    settings: Arc<ParserSettings>,
    /// The current chunk's events: records borrow their chunk, so a chunk is turned into
    /// owned events whole before the next is read.
    pending: VecDeque<Result<Event, FormatError>>,
    received: Timestamp,
    policy: TimePolicy,
}

impl std::fmt::Debug for EvtxEvents<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvtxEvents")
            .field("pending", &self.pending.len())
            .field("received", &self.received)
            .finish_non_exhaustive()
    }
}

impl Iterator for EvtxEvents<'_> {
    type Item = Result<Event, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            match self.chunks.next()? {
                Ok(mut chunk) => self.read_chunk(&mut chunk),
                Err(e) => return Some(Err(FormatError::new(EVTX, e.to_string()))),
            }
        }
    }
}

impl EvtxEvents<'_> {
    fn read_chunk(&mut self, data: &mut EvtxChunkData) {
        let mut chunk = match data.parse(Arc::clone(&self.settings)) {
            Ok(chunk) => chunk,
            Err(e) => {
                self.pending
                    .push_back(Err(FormatError::new(EVTX, e.to_string())));
                return;
            }
        };
        let ctx = Context {
            received: self.received,
            policy: &self.policy,
            app: None,
        };
        for record in chunk.iter() {
            let item = record
                .and_then(|r| r.into_json())
                .map_err(|e| FormatError::new(EVTX, e.to_string()))
                .and_then(|r| record_event(r.data, &ctx));
            self.pending.push_back(item);
        }
    }
}

/// One record's JSON rendering to an event whose `message` is that JSON.
fn record_event(json: String, ctx: &Context<'_>) -> Result<Event, FormatError> {
    let root: Json =
        serde_json::from_str(&json).map_err(|e| FormatError::new(EVTX, e.to_string()))?;
    let w = from_evtx_json(&root).map_err(|reason| FormatError::new(EVTX, reason))?;
    let mut event = Event::new(ctx.received, ctx.received, json);
    normalise(&w, &mut event, ctx);
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_an_evtx_file_are_refused_at_once() {
        let err = read_evtx(b"not an event log", Timestamp::from_secs(0)).unwrap_err();
        assert_eq!(err.format, EVTX);
    }
}
