//! The acknowledged state, persisted atomically: how far the server has confirmed (after
//! its WAL fsync) each source's sequence, each file's offset, the journal cursor and the
//! spool. Only acknowledged records move it; on start the spool's unacknowledged blocks
//! are replayed on top of it (see `spool.rs`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::spool::{Block, FilePos, Resume, SpoolPos};

/// Why the checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint i/o on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint {path} is not valid: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// The version written into the file; a newer one is refused rather than misread.
const VERSION: u32 = 1;

/// A file's acknowledged position, with the identity it was read under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheckpoint {
    /// The source (path it was found under) its lines are numbered in.
    pub source: String,
    /// Identity and offset after the last acknowledged line.
    #[serde(flatten)]
    pub pos: FilePos,
}

/// Everything acknowledged so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Format version (1).
    pub version: u32,
    /// First spool byte not yet acknowledged.
    pub spool_acked: SpoolPos,
    /// Last acknowledged sequence number per source.
    pub sources: BTreeMap<String, u64>,
    /// Acknowledged file positions, keyed `DEV:INODE`.
    pub files: BTreeMap<String, FileCheckpoint>,
    /// The journal cursor after the last acknowledged entry.
    pub journald_cursor: Option<String>,
}

impl Default for Checkpoint {
    /// The state before anything was acknowledged.
    fn default() -> Self {
        Self {
            version: VERSION,
            spool_acked: SpoolPos::default(),
            sources: BTreeMap::new(),
            files: BTreeMap::new(),
            journald_cursor: None,
        }
    }
}

impl Checkpoint {
    /// Moves the state past one acknowledged spool block.
    pub fn advance(&mut self, block: &Block) {
        let last = block.last_seq();
        let e = self.sources.entry(block.source.clone()).or_insert(0);
        *e = (*e).max(last);
        match &block.resume {
            Resume::None => {}
            Resume::File(pos) => {
                self.files.insert(
                    pos.key(),
                    FileCheckpoint {
                        source: block.source.clone(),
                        pos: pos.clone(),
                    },
                );
            }
            Resume::Journal(cursor) => self.journald_cursor = Some(cursor.clone()),
        }
    }
}

/// Where the checkpoint lives in the state directory, and how it is written.
#[derive(Debug)]
pub struct CheckpointStore {
    path: PathBuf,
    tmp: PathBuf,
}

impl CheckpointStore {
    /// The store `checkpoint.json` in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self {
            path: dir.join("checkpoint.json"),
            tmp: dir.join("checkpoint.json.tmp"),
        }
    }

    /// The last checkpoint written, or an empty one on first start. A leftover
    /// temporary file (a crash mid-write) is ignored: the rename never happened.
    pub fn load(&self) -> Result<Checkpoint, CheckpointError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Checkpoint::default());
            }
            Err(source) => return Err(self.io(source)),
        };
        let c: Checkpoint =
            serde_json::from_slice(&bytes).map_err(|source| CheckpointError::Corrupt {
                path: self.path.clone(),
                source,
            })?;
        if c.version != VERSION {
            return Err(CheckpointError::Corrupt {
                path: self.path.clone(),
                source: serde::de::Error::custom(format!("unknown version {}", c.version)),
            });
        }
        Ok(c)
    }

    /// Replaces the checkpoint so that a crash at any moment leaves either the old or
    /// the new one whole: write a temporary file, fsync it, rename it over, fsync the
    /// directory (so the rename itself survives a power cut).
    pub fn store(&self, c: &Checkpoint) -> Result<(), CheckpointError> {
        let json = serde_json::to_vec(c).map_err(|source| CheckpointError::Corrupt {
            path: self.path.clone(),
            source,
        })?;
        let mut f = std::fs::File::create(&self.tmp).map_err(|e| self.io(e))?;
        f.write_all(&json).map_err(|e| self.io(e))?;
        f.sync_all().map_err(|e| self.io(e))?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path).map_err(|e| self.io(e))?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| self.io(e))?;
        }
        Ok(())
    }

    fn io(&self, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spool::{BlockBody, LineBuf};

    fn block(source: &str, first: u64, n: usize, offset: u64) -> Block {
        let mut lines = LineBuf::default();
        for _ in 0..n {
            lines.push(b"x");
        }
        Block {
            source: source.into(),
            time_ns: 1,
            first_seq: first,
            body: BlockBody::Lines(lines),
            resume: Resume::File(FilePos {
                dev: 1,
                ino: 2,
                fp: 3,
                fp_len: 4,
                offset,
            }),
        }
    }

    #[test]
    fn store_then_load_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(dir.path());
        let mut c = store.load().unwrap();
        assert_eq!(c.version, VERSION);
        c.advance(&block("/var/log/a", 1, 3, 30));
        c.advance(&block("/var/log/a", 4, 2, 50));
        c.spool_acked = SpoolPos {
            segment: 2,
            offset: 99,
        };
        store.store(&c).unwrap();
        let back = store.load().unwrap();
        assert_eq!(back, c);
        assert_eq!(back.sources["/var/log/a"], 5);
        assert_eq!(back.files["1:2"].pos.offset, 50);
    }

    #[test]
    fn a_crash_mid_write_leaves_the_old_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(dir.path());
        let mut c = store.load().unwrap();
        c.advance(&block("s", 1, 1, 10));
        store.store(&c).unwrap();
        // A crash after part of the next write: only the temporary file is damaged.
        std::fs::write(
            dir.path().join("checkpoint.json.tmp"),
            b"{\"version\":1,\"spo",
        )
        .unwrap();
        assert_eq!(store.load().unwrap(), c);
        // The next store replaces the leftover and leaves no temporary behind.
        c.advance(&block("s", 2, 1, 20));
        store.store(&c).unwrap();
        assert_eq!(store.load().unwrap(), c);
        assert!(!dir.path().join("checkpoint.json.tmp").exists());
    }

    #[test]
    fn damage_and_unknown_versions_are_errors_not_resets() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(dir.path());
        std::fs::write(dir.path().join("checkpoint.json"), b"{garbage").unwrap();
        assert!(matches!(store.load(), Err(CheckpointError::Corrupt { .. })));
        std::fs::write(
            dir.path().join("checkpoint.json"),
            br#"{"version":9,"spool_acked":{"segment":0,"offset":0},"sources":{},"files":{},"journald_cursor":null}"#,
        )
        .unwrap();
        assert!(matches!(store.load(), Err(CheckpointError::Corrupt { .. })));
    }
}
