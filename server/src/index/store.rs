//! The day indexes on disk (`<data>/index/YYYY-MM-DD/`), their readers, and the writer
//! side used by the pipeline.
//!
//! Exactly-once after a crash rests on two numbers, both write-ahead log sequence
//! numbers: each day index's commit payload says "every record below N that belongs to
//! this day is committed here", and the checkpoint file says "every record below N is
//! committed in its day". Replay starts at the checkpoint and skips a record when its
//! day's payload already covers it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use chrono::NaiveDate;
use gac_event::Timestamp;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument};

use super::Schema;

/// File, beside the day directories, holding the checkpoint.
const CHECKPOINT_FILE: &str = "checkpoint";
const DAY_FORMAT: &str = "%Y-%m-%d";

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("index i/o on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("index {path}: {source}")]
    Tantivy {
        path: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("index {path} has an unreadable commit payload {payload:?}")]
    Payload { path: PathBuf, payload: String },
}

/// The UTC day an event time falls in.
pub fn day_of(t: Timestamp) -> NaiveDate {
    t.to_datetime().date_naive()
}

/// One day's index and its reader.
#[derive(Clone)]
pub struct DayIndex {
    pub day: NaiveDate,
    pub index: Index,
    pub reader: IndexReader,
}

impl std::fmt::Debug for DayIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DayIndex").field("day", &self.day).finish()
    }
}

/// The set of day indexes. Shared (behind an `Arc`) by the pipeline, which creates and
/// deletes days, and the API, which reads them.
#[derive(Debug)]
pub struct Store {
    root: PathBuf,
    schema: Schema,
    days: RwLock<BTreeMap<NaiveDate, DayIndex>>,
}

impl Store {
    /// Opens every day index under `root` (creating `root` if needed).
    pub fn open(root: &Path, schema: Schema) -> Result<Self, StoreError> {
        std::fs::create_dir_all(root).map_err(|source| StoreError::Io {
            path: root.to_owned(),
            source,
        })?;
        let store = Self {
            root: root.to_owned(),
            schema,
            days: RwLock::new(BTreeMap::new()),
        };
        let entries = std::fs::read_dir(root).map_err(|source| StoreError::Io {
            path: root.to_owned(),
            source,
        })?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(day) = name
                .to_str()
                .and_then(|n| NaiveDate::parse_from_str(n, DAY_FORMAT).ok())
            else {
                continue;
            };
            store.open_day(day)?;
        }
        Ok(store)
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    fn day_path(&self, day: NaiveDate) -> PathBuf {
        self.root.join(day.format(DAY_FORMAT).to_string())
    }

    /// The day's index, opened or created.
    pub fn open_day(&self, day: NaiveDate) -> Result<DayIndex, StoreError> {
        if let Some(d) = self.read_days().get(&day) {
            return Ok(d.clone());
        }
        let path = self.day_path(day);
        let tantivy_err = |source| StoreError::Tantivy {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&path).map_err(|source| StoreError::Io {
            path: path.clone(),
            source,
        })?;
        let dir = tantivy::directory::MmapDirectory::open(&path)
            .map_err(|e| tantivy_err(tantivy::TantivyError::from(e)))?;
        let index =
            Index::open_or_create(dir, self.schema.tantivy().clone()).map_err(tantivy_err)?;
        // Readers are reloaded by the pipeline right after each commit, so new events
        // are searchable as soon as they are committed.
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(tantivy_err)?;
        let d = DayIndex { day, index, reader };
        let mut days = self.days.write().unwrap_or_else(|p| p.into_inner());
        Ok(days.entry(day).or_insert(d).clone())
    }

    fn read_days(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<NaiveDate, DayIndex>> {
        self.days.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The days overlapping `[from, to)`, newest first.
    pub fn days_between(&self, from: Option<Timestamp>, to: Option<Timestamp>) -> Vec<DayIndex> {
        let first = from.map(day_of).unwrap_or(NaiveDate::MIN);
        let last = to
            .map(|t| day_of(t.add_nanos(-1)))
            .unwrap_or(NaiveDate::MAX);
        if first > last {
            return Vec::new();
        }
        self.read_days()
            .range(first..=last)
            .rev()
            .map(|(_, d)| d.clone())
            .collect()
    }

    /// Every day held, oldest first.
    pub fn days(&self) -> Vec<NaiveDate> {
        self.read_days().keys().copied().collect()
    }

    /// The commit payload of a day: records below it are committed there.
    pub fn committed_below(&self, day: &DayIndex) -> Result<u64, StoreError> {
        let path = self.day_path(day.day);
        let metas = day
            .index
            .load_metas()
            .map_err(|source| StoreError::Tantivy {
                path: path.clone(),
                source,
            })?;
        match metas.payload {
            None => Ok(0),
            Some(p) => p
                .parse()
                .map_err(|_| StoreError::Payload { path, payload: p }),
        }
    }

    /// When the day's index was last committed to (its `meta.json` changes with every
    /// commit).
    pub fn last_write(&self, day: NaiveDate) -> Option<std::time::SystemTime> {
        std::fs::metadata(self.day_path(day).join("meta.json"))
            .and_then(|m| m.modified())
            .ok()
    }

    /// Drops a day from the set and deletes it from disk.
    pub fn delete_day(&self, day: NaiveDate) -> Result<(), StoreError> {
        self.days
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&day);
        let path = self.day_path(day);
        std::fs::remove_dir_all(&path).map_err(|source| StoreError::Io { path, source })
    }

    /// The checkpoint: every record below it is committed in its day.
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        let path = self.root.join(CHECKPOINT_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => text.trim().parse().map_err(|_| StoreError::Payload {
                path,
                payload: text,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Writes the checkpoint atomically (see [`write_state`](Self::write_state)).
    pub fn set_checkpoint(&self, seq: u64) -> Result<(), StoreError> {
        self.write_state(CHECKPOINT_FILE, format!("{seq}\n").as_bytes())
    }

    /// Reads a state file kept beside the day indexes, if it exists.
    pub fn read_state(&self, name: &str) -> Result<Option<String>, StoreError> {
        let path = self.root.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StoreError::Io { path, source }),
        }
    }

    /// Writes a state file beside the day indexes atomically (temporary file, fsync,
    /// rename, fsync of the directory), so a crash leaves the old content or the new.
    pub fn write_state(&self, name: &str, content: &[u8]) -> Result<(), StoreError> {
        let path = self.root.join(name);
        let tmp = self.root.join(format!("{name}.tmp"));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(content).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        std::fs::File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(io(&self.root))
    }
}

/// The writer side: one tantivy writer per day being written, owned by the pipeline
/// thread.
pub struct Writers {
    memory_bytes: usize,
    threads: usize,
    open: HashMap<NaiveDate, DayWriter>,
    /// Per day, the payload of its last commit (records below it are in).
    committed: HashMap<NaiveDate, u64>,
}

impl std::fmt::Debug for Writers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writers")
            .field("open", &self.open.keys().collect::<Vec<_>>())
            .finish()
    }
}

struct DayWriter {
    day: DayIndex,
    writer: IndexWriter<TantivyDocument>,
    dirty: bool,
    /// Pipeline tick of the last document, to close writers of days no longer written.
    last_used: u64,
}

/// Most day writers kept open; each holds `memory_bytes`. Late or early events open
/// others briefly.
const MAX_OPEN_WRITERS: usize = 3;

impl Writers {
    /// Reads every day's commit payload, for replay.
    pub fn new(store: &Store, memory_bytes: usize, threads: usize) -> Result<Self, StoreError> {
        let mut committed = HashMap::new();
        for day in store.days() {
            let d = store.open_day(day)?;
            committed.insert(day, store.committed_below(&d)?);
        }
        Ok(Self {
            memory_bytes,
            threads,
            open: HashMap::new(),
            committed,
        })
    }

    /// Whether the record `seq` for `day` is already committed there (replay).
    pub fn already_has(&self, day: NaiveDate, seq: u64) -> bool {
        self.committed.get(&day).is_some_and(|below| seq < *below)
    }

    /// Adds a document to its day's writer, opening the day if needed.
    pub fn add(
        &mut self,
        store: &Store,
        day: NaiveDate,
        doc: TantivyDocument,
        tick: u64,
        next_seq: u64,
    ) -> Result<(), StoreError> {
        if !self.open.contains_key(&day) {
            if self.open.len() >= MAX_OPEN_WRITERS {
                self.close_least_used(next_seq)?;
            }
            let d = store.open_day(day)?;
            let path = d.day.to_string();
            let writer = d
                .index
                .writer_with_num_threads(self.threads, self.memory_bytes * self.threads)
                .map_err(|source| StoreError::Tantivy {
                    path: path.into(),
                    source,
                })?;
            self.open.insert(
                day,
                DayWriter {
                    day: d,
                    writer,
                    dirty: false,
                    last_used: tick,
                },
            );
        }
        let w = self.open.get_mut(&day).expect("inserted above");
        w.writer
            .add_document(doc)
            .map_err(|source| StoreError::Tantivy {
                path: day.to_string().into(),
                source,
            })?;
        w.dirty = true;
        w.last_used = tick;
        Ok(())
    }

    /// Commits every day written since the last commit with payload `next_seq` (all
    /// records below it have been handed to their writers) and reloads their readers.
    /// Returns how many days were committed.
    pub fn commit(&mut self, next_seq: u64) -> Result<usize, StoreError> {
        let mut n = 0;
        for (day, w) in self.open.iter_mut().filter(|(_, w)| w.dirty) {
            commit_one(w, next_seq)?;
            self.committed.insert(*day, next_seq);
            n += 1;
        }
        Ok(n)
    }

    fn close_least_used(&mut self, next_seq: u64) -> Result<(), StoreError> {
        let Some(day) = self
            .open
            .iter()
            .min_by_key(|(_, w)| w.last_used)
            .map(|(d, _)| *d)
        else {
            return Ok(());
        };
        if let Some(mut w) = self.open.remove(&day)
            && w.dirty
        {
            commit_one(&mut w, next_seq)?;
            self.committed.insert(day, next_seq);
        }
        Ok(())
    }

    /// Closes the writer of a day (before retention deletes it); its uncommitted
    /// documents are dropped, which is right for a day being deleted.
    pub fn forget(&mut self, day: NaiveDate) {
        self.open.remove(&day);
        self.committed.remove(&day);
    }

    /// Waits for background merges to finish (clean shutdown).
    pub fn close(self) {
        for (_, w) in self.open {
            if let Err(e) = w.writer.wait_merging_threads() {
                tracing::warn!(error = %e, "index merge did not finish at shutdown");
            }
        }
    }
}

fn commit_one(w: &mut DayWriter, next_seq: u64) -> Result<(), StoreError> {
    let path: PathBuf = w.day.day.to_string().into();
    let err = |source| StoreError::Tantivy {
        path: path.clone(),
        source,
    };
    let mut prepared = w.writer.prepare_commit().map_err(err)?;
    prepared.set_payload(&next_seq.to_string());
    prepared.commit().map_err(err)?;
    w.day.reader.reload().map_err(err)?;
    w.dirty = false;
    Ok(())
}

/// The days retention may delete: their events are older than `retention_days` (by UTC
/// day of event time) *and* nothing was written to them for `retention_days`, so data
/// imported late (old logs brought in for an investigation) is kept for the full period
/// after it arrived. `last_write` of `None` (never committed) counts as old.
pub fn expired_days(
    days: impl IntoIterator<Item = (NaiveDate, Option<std::time::SystemTime>)>,
    now: std::time::SystemTime,
    retention_days: u32,
) -> Vec<NaiveDate> {
    if retention_days == 0 {
        return Vec::new();
    }
    let keep = std::time::Duration::from_secs(u64::from(retention_days) * 86_400);
    let today = chrono::DateTime::<chrono::Utc>::from(now).date_naive();
    let Some(cutoff) = today.checked_sub_days(chrono::Days::new(u64::from(retention_days))) else {
        return Vec::new();
    };
    days.into_iter()
        .filter(|(day, last_write)| {
            *day < cutoff
                && last_write.is_none_or(|w| now.duration_since(w).is_ok_and(|age| age >= keep))
        })
        .map(|(day, _)| day)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, DAY_FORMAT).unwrap()
    }

    #[test]
    fn retention_needs_old_events_and_no_recent_writes() {
        // 2026-11-22T00:00:00Z
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_305_600);
        let long_ago = now - Duration::from_secs(100 * 86_400);
        let yesterday = now - Duration::from_secs(86_400);
        let days = vec![
            (day("2026-08-01"), Some(long_ago)),  // old, untouched: goes
            (day("2025-12-10"), Some(yesterday)), // old events imported yesterday: stays
            (day("2026-08-24"), Some(long_ago)),  // exactly 90 days back: stays
            (day("2026-08-22"), None),            // never committed, old: goes
        ];
        let gone = expired_days(days.clone(), now, 90);
        assert_eq!(gone, vec![day("2026-08-01"), day("2026-08-22")]);
        assert!(expired_days(days, now, 0).is_empty(), "0 keeps everything");
    }

    #[test]
    fn checkpoint_round_trips_and_days_are_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Schema::new()).unwrap();
        assert_eq!(store.checkpoint().unwrap(), 0);
        store.set_checkpoint(42).unwrap();
        assert_eq!(store.checkpoint().unwrap(), 42);
        for d in ["2026-11-20", "2026-11-22", "2026-11-21"] {
            store.open_day(day(d)).unwrap();
        }
        let from = Some("2026-11-21T00:00:00Z".parse().unwrap());
        let got: Vec<_> = store
            .days_between(from, None)
            .iter()
            .map(|d| d.day)
            .collect();
        assert_eq!(got, vec![day("2026-11-22"), day("2026-11-21")]);
        let to = Some("2026-11-21T00:00:00Z".parse().unwrap());
        let got: Vec<_> = store.days_between(None, to).iter().map(|d| d.day).collect();
        assert_eq!(got, vec![day("2026-11-20")], "`to` is exclusive");
        // Reopening finds the days on disk.
        drop(store);
        let store = Store::open(dir.path(), Schema::new()).unwrap();
        assert_eq!(store.days().len(), 3);
    }
}
