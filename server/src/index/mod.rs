//! The event store: tantivy, one index per UTC day of event time, so retention deletes
//! whole days.
//!
//! - [`schema`]: the fixed columns for the common fields, the `attrs` JSON column for the
//!   rest, the stored original; event to document.
//! - [`store`]: the day indexes on disk, shared by the writer (pipeline) and the readers
//!   (API); commit payloads that make replay after a crash exactly-once.
//! - [`search`]: queries, newest first and paged, histograms and top values, across days.

pub mod schema;
pub mod search;
pub mod store;

pub use schema::Schema;
pub use search::{SearchError, Searcher};
pub use store::{Store, StoreError};
