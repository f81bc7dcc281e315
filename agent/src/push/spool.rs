//! Reports waiting to be sent, one file per report in a directory, oldest first.
//!
//! A report is written to `<seq>.json.tmp`, flushed, then renamed to `<seq>.json`, so a crash
//! leaves either the whole report or a temporary file, which the next start deletes. The
//! spool is bounded by a number of reports and of bytes; when full, the oldest reports are
//! dropped (newer numbers matter more to someone looking at a host now) and counted.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::PushError;

/// Upper bounds of the spool.
#[derive(Debug, Clone, Copy)]
pub struct SpoolLimits {
    pub max_reports: usize,
    pub max_bytes: u64,
}

/// A report read back from the spool.
#[derive(Debug)]
pub struct Spooled {
    pub seq: u64,
    pub body: Vec<u8>,
}

/// The spool directory and what it holds (sequence number to file size).
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    limits: SpoolLimits,
    files: BTreeMap<u64, u64>,
}

impl Spool {
    /// Opens (creating) the directory, deleting half-written files a crash may have left.
    pub fn open(dir: &Path, limits: SpoolLimits) -> Result<Self, PushError> {
        fs::create_dir_all(dir).map_err(|e| PushError::spool(dir, e))?;
        let mut files = BTreeMap::new();
        for entry in fs::read_dir(dir).map_err(|e| PushError::spool(dir, e))? {
            let entry = entry.map_err(|e| PushError::spool(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".tmp") {
                tracing::info!(file = %name, "removing a report left half-written");
                fs::remove_file(entry.path()).map_err(|e| PushError::spool(entry.path(), e))?;
            } else if let Some(seq) = name.strip_suffix(".json").and_then(|s| s.parse().ok()) {
                let size = entry
                    .metadata()
                    .map_err(|e| PushError::spool(entry.path(), e))?
                    .len();
                files.insert(seq, size);
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            limits,
            files,
        })
    }

    /// Adds a report; returns how many old reports were dropped to stay within the limits.
    pub fn push(&mut self, seq: u64, body: &[u8]) -> Result<u64, PushError> {
        let path = self.path(seq);
        write_atomically(&path, body).map_err(|e| PushError::spool(&path, e))?;
        self.files.insert(seq, body.len() as u64);
        let mut dropped = 0;
        while self.files.len() > self.limits.max_reports || self.bytes() > self.limits.max_bytes {
            let Some((&oldest, _)) = self.files.first_key_value() else {
                break;
            };
            self.remove(oldest)?;
            dropped += 1;
        }
        if dropped > 0 {
            tracing::warn!(
                dropped,
                spooled = self.files.len(),
                "spool full, oldest reports dropped"
            );
        }
        Ok(dropped)
    }

    /// The oldest report, or `None` when the spool is empty.
    pub fn oldest(&self) -> Result<Option<Spooled>, PushError> {
        let Some((&seq, _)) = self.files.first_key_value() else {
            return Ok(None);
        };
        let path = self.path(seq);
        let body = fs::read(&path).map_err(|e| PushError::spool(&path, e))?;
        Ok(Some(Spooled { seq, body }))
    }

    /// Deletes a report once the portal has answered for it.
    pub fn remove(&mut self, seq: u64) -> Result<(), PushError> {
        let path = self.path(seq);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PushError::spool(&path, e)),
        }
        self.files.remove(&seq);
        Ok(())
    }

    /// The sequence numbers waiting, oldest first.
    pub fn pending(&self) -> Vec<u64> {
        self.files.keys().copied().collect()
    }

    fn bytes(&self) -> u64 {
        self.files.values().sum()
    }

    fn path(&self, seq: u64) -> PathBuf {
        // Zero-padded so that a directory listing sorts like the numbers.
        self.dir.join(format!("{seq:020}.json"))
    }
}

/// Writes a file so that readers see either its old content or the whole new one.
pub fn write_atomically(path: &Path, content: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut file = fs::File::create(&tmp)?;
    file.write_all(content)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}
