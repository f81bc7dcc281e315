//! Where a followed file has been read to, kept in the spool directory across restarts.
//!
//! A checkpoint names its file by device and inode, and by a digest of the file's first bytes:
//! a file created after the old one was deleted may get the same inode number, and its first
//! bytes tell it apart. It holds the offset below which the portal has stored every line, and
//! the sequence number the next line gets. It is replaced whole (a temporary file renamed over
//! it) and only once the portal has acknowledged a batch, so a crash leaves the last
//! acknowledged position: the lines after it are sent again under the same numbers, and the
//! portal counts them as duplicates instead of storing them twice.
//!
//! The stream id is `<agent id>:<path>#<generation>`: one stream per followed path, whose
//! numbers go on across rotations (an inode number in the id could come back with another
//! file). The generation is new with every new checkpoint: were a checkpoint lost, numbering
//! would start again at 1, and under the old id the portal would take new lines for old ones.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::TailError;
use crate::push::spool::write_atomically;

/// Bytes at the start of a file that identify it besides its inode.
pub const HEAD_BYTES: u64 = 1024;
const VERSION: u32 = 1;

/// A file's device and inode numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileId {
    pub dev: u64,
    pub ino: u64,
}

impl FileId {
    pub fn of(metadata: &fs::Metadata) -> Self {
        Self {
            dev: metadata.dev(),
            ino: metadata.ino(),
        }
    }
}

/// The file being read, and how far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub id: FileId,
    /// How many of the file's first bytes `head_sha256` covers: `min(offset, HEAD_BYTES)`,
    /// bytes already read, which a log file never changes.
    pub head_len: u64,
    pub head_sha256: String,
    /// Every line before this offset is stored by the portal.
    pub offset: u64,
    /// The offset is inside a line longer than the limit whose start was already sent; the
    /// rest of that line, up to its newline, is skipped.
    pub skipping: bool,
}

impl Position {
    /// A position in `file`, whose id is `id`, at `offset`.
    pub fn new(file: &File, id: FileId, offset: u64, skipping: bool) -> io::Result<Self> {
        let mut position = Self {
            id,
            head_len: 0,
            head_sha256: digest(&[]),
            offset: 0,
            skipping: false,
        };
        position.advance(file, offset, skipping)?;
        Ok(position)
    }

    /// Moves to `offset`, widening the head digest while it covers less than it could.
    pub fn advance(&mut self, file: &File, offset: u64, skipping: bool) -> io::Result<()> {
        let head_len = offset.min(HEAD_BYTES);
        if head_len != self.head_len {
            self.head_sha256 = head_digest(file, head_len)?.ok_or_else(|| {
                io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while read")
            })?;
            self.head_len = head_len;
        }
        self.offset = offset;
        self.skipping = skipping;
        Ok(())
    }

    /// Whether `file` still starts with the bytes this position was made from.
    pub fn same_head(&self, file: &File) -> io::Result<bool> {
        Ok(head_digest(file, self.head_len)?.as_deref() == Some(self.head_sha256.as_str()))
    }
}

/// Hex SHA-256 of the first `len` bytes of `file`; `None` when it is shorter.
fn head_digest(file: &File, len: u64) -> io::Result<Option<String>> {
    let mut head = vec![0; len as usize];
    match file.read_exact_at(&mut head, 0) {
        Ok(()) => Ok(Some(digest(&head))),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What is kept for one followed path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// The followed path, as configured.
    pub path: PathBuf,
    pub stream: String,
    /// The sequence number of the next line sent.
    pub next_seq: u64,
    /// `None` until the file was first found.
    pub position: Option<Position>,
}

impl Checkpoint {
    /// A checkpoint for a path never followed before, with a new generation.
    pub fn new(agent_id: &str, path: &Path) -> Self {
        let generation = uuid::Uuid::new_v4().simple().to_string();
        Self {
            version: VERSION,
            path: path.to_path_buf(),
            stream: format!("{agent_id}:{}#{}", path.display(), &generation[..8]),
            next_seq: 1,
            position: None,
        }
    }
}

/// The checkpoint file of one followed path, in `<spool-dir>/tail/`.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    file: PathBuf,
}

impl CheckpointStore {
    /// The store for `followed`: named after the path, with a digest of it so that paths
    /// differing only in characters that are replaced do not share a file.
    pub fn new(spool_dir: &Path, followed: &Path) -> Self {
        let text = followed.to_string_lossy();
        let readable: String = text
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let hash = digest(text.as_bytes());
        let name = format!("{}-{}.json", readable.trim_start_matches('_'), &hash[..8]);
        Self {
            file: spool_dir.join("tail").join(name),
        }
    }

    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The saved checkpoint of `followed`, or a new one when there is none. A file that cannot
    /// be read as one (it was not written by this agent) is moved aside, never overwritten,
    /// and following starts afresh under a new generation: lines may then be stored twice,
    /// but none is taken for an old one.
    pub fn load(&self, agent_id: &str, followed: &Path) -> Result<Checkpoint, TailError> {
        let text = match fs::read(&self.file) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Checkpoint::new(agent_id, followed));
            }
            Err(source) => return Err(self.error(source)),
        };
        match serde_json::from_slice::<Checkpoint>(&text) {
            Ok(checkpoint) if checkpoint.version == VERSION && checkpoint.path == followed => {
                Ok(checkpoint)
            }
            unusable => {
                let reason = match unusable {
                    Ok(other) if other.path != followed => {
                        format!("it is for {}", other.path.display())
                    }
                    Ok(other) => format!("version {} is unknown", other.version),
                    Err(e) => e.to_string(),
                };
                let mut aside = self.file.as_os_str().to_owned();
                aside.push(".unusable");
                fs::rename(&self.file, &aside).map_err(|e| self.error(e))?;
                tracing::warn!(checkpoint = %self.file.display(), %reason,
                    moved_to = %Path::new(&aside).display(),
                    "checkpoint unusable, following afresh under a new stream");
                Ok(Checkpoint::new(agent_id, followed))
            }
        }
    }

    /// Replaces the saved checkpoint, durably: the directory is synced after the rename, so
    /// that a power cut cannot bring an older checkpoint back.
    pub fn save(&self, checkpoint: &Checkpoint) -> Result<(), TailError> {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(|e| self.error(e))?;
        let body = serde_json::to_vec_pretty(checkpoint).map_err(io::Error::other);
        write_atomically(&self.file, &body.map_err(|e| self.error(e))?)
            .and_then(|()| File::open(dir)?.sync_all())
            .map_err(|e| self.error(e))
    }

    fn error(&self, source: io::Error) -> TailError {
        TailError::Checkpoint {
            path: self.file.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_checkpoint_loads_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auth.log");
        fs::write(&log, b"one\ntwo\n").unwrap();
        let file = File::open(&log).unwrap();
        let id = FileId::of(&file.metadata().unwrap());

        let store = CheckpointStore::new(dir.path(), &log);
        let mut checkpoint = store.load("agent-1", &log).unwrap();
        assert_eq!(checkpoint.next_seq, 1);
        assert!(checkpoint.position.is_none());
        assert!(
            checkpoint
                .stream
                .starts_with(&format!("agent-1:{}#", log.display()))
        );
        checkpoint.position = Some(Position::new(&file, id, 4, false).unwrap());
        checkpoint.next_seq = 2;
        store.save(&checkpoint).unwrap();

        let again = store.load("agent-1", &log).unwrap();
        assert_eq!(again, checkpoint);
        let position = again.position.unwrap();
        assert_eq!((position.offset, position.head_len), (4, 4));
        assert!(position.same_head(&file).unwrap());
        let names: Vec<String> = fs::read_dir(dir.path().join("tail"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file is left: {names:?}");
        assert!(names[0].ends_with(".json") && names[0].contains("auth.log"));
    }

    #[test]
    fn a_new_checkpoint_starts_a_new_stream() {
        let path = Path::new("/var/log/auth.log");
        let (a, b) = (Checkpoint::new("x", path), Checkpoint::new("x", path));
        assert_ne!(a.stream, b.stream);
        assert!(a.stream.starts_with("x:/var/log/auth.log#"));
    }

    #[test]
    fn the_head_digest_tells_a_rewritten_file_apart() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("secure");
        fs::write(&log, "first line\n").unwrap();
        let file = File::open(&log).unwrap();
        let id = FileId::of(&file.metadata().unwrap());
        let position = Position::new(&file, id, 11, false).unwrap();
        assert!(position.same_head(&file).unwrap());

        fs::write(&log, "other line\nand more\n").unwrap();
        assert!(!position.same_head(&file).unwrap(), "other first bytes");
        fs::write(&log, "first").unwrap();
        assert!(!position.same_head(&file).unwrap(), "shorter than the head");
    }

    #[test]
    fn the_head_stops_growing_at_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("big.log");
        fs::write(&log, "x\n".repeat(2000)).unwrap();
        let file = File::open(&log).unwrap();
        let id = FileId::of(&file.metadata().unwrap());
        let mut position = Position::new(&file, id, 2, false).unwrap();
        position.advance(&file, 3000, false).unwrap();
        assert_eq!((position.head_len, position.offset), (HEAD_BYTES, 3000));
        assert!(position.same_head(&file).unwrap());
    }

    #[test]
    fn a_checkpoint_it_cannot_read_is_kept_aside_and_following_starts_afresh() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("auth.log");
        let store = CheckpointStore::new(dir.path(), &log);
        fs::create_dir_all(store.file().parent().unwrap()).unwrap();
        fs::write(store.file(), "{ not a checkpoint").unwrap();

        let checkpoint = store.load("agent-1", &log).unwrap();
        assert_eq!(checkpoint.next_seq, 1);
        let mut aside = store.file().as_os_str().to_owned();
        aside.push(".unusable");
        assert_eq!(fs::read_to_string(aside).unwrap(), "{ not a checkpoint");
        assert!(!store.file().exists());
    }

    #[test]
    fn paths_that_read_alike_get_files_of_their_own() {
        let spool = Path::new("/spool");
        let a = CheckpointStore::new(spool, Path::new("/var/log/a_b"));
        let b = CheckpointStore::new(spool, Path::new("/var/log/a/b"));
        assert_ne!(a.file(), b.file());
        assert!(a.file().starts_with("/spool/tail"));
    }
}
