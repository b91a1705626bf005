//! Tags: short markers on an event saying how it was made. One place for their spelling.

/// No parser understood the record: only `message` and origin fields are set.
pub const UNPARSED: &str = "gac.unparsed";
/// The record's header was damaged (for example a bad priority) but its message was kept.
pub const MALFORMED_HEADER: &str = "gac.malformed_header";
/// The record carried no year; the most-recent-past-year rule supplied it.
pub const YEAR_INFERRED: &str = "gac.time.year_inferred";
/// The record carried no zone; the input's configured zone was applied.
pub const ZONE_FROM_INPUT: &str = "gac.time.zone_from_input";
/// The record carried no usable time; the receive time was used.
pub const TIME_FROM_RECEIPT: &str = "gac.time.from_receipt";
/// The message was cut at the input's size limit.
pub const TRUNCATED: &str = "gac.truncated";
/// A format parser claimed the syslog message body but could not read it; the header's
/// fields are kept and `error.message` says why.
pub const BODY_UNPARSED: &str = "gac.body_unparsed";
/// An alert raised by a correlation rule (several events), not by one event.
pub const CORRELATION: &str = "gac.correlation";
/// An agent's notice that it lost records it could not keep (a file rotated away
/// unread, a UDP burst); `gac.loss.from_seq`/`to_seq` say which.
pub const AGENT_LOSS: &str = "gac.agent.loss";
