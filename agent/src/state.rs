//! The agent's identity and sequence counter, kept in its spool directory so that they survive
//! restarts: the portal drops a report it already has by `(agent_id, seq)`, which only works
//! if a restarted agent neither changes its id nor reuses a number.

use std::fs;
use std::path::{Path, PathBuf};

use crate::push::spool::write_atomically;

const AGENT_ID_FILE: &str = "agent-id";
const SEQ_FILE: &str = "last-seq";

/// Why the state could not be read or kept.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} does not hold a sequence number")]
    BadSeq { path: PathBuf },
}

/// Identity and counter, loaded from and saved to one directory.
#[derive(Debug)]
pub struct AgentState {
    dir: PathBuf,
    agent_id: String,
    last_seq: u64,
}

impl AgentState {
    /// Loads the state, creating a new random id on first start.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StateError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let id_path = dir.join(AGENT_ID_FILE);
        let agent_id = match fs::read_to_string(&id_path) {
            Ok(id) if !id.trim().is_empty() => id.trim().to_string(),
            Ok(_) => new_id(&id_path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => new_id(&id_path)?,
            Err(e) => return Err(io(&id_path)(e)),
        };
        let seq_path = dir.join(SEQ_FILE);
        let last_seq = match fs::read_to_string(&seq_path) {
            Ok(text) => text
                .trim()
                .parse()
                .map_err(|_| StateError::BadSeq { path: seq_path })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(io(&seq_path)(e)),
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            agent_id,
            last_seq,
        })
    }

    /// Reads the id and last number without creating or changing anything; an agent that has
    /// never run gives an empty id and 0.
    pub fn peek(dir: &Path) -> (String, u64) {
        let read = |name| {
            fs::read_to_string(dir.join(name))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        (read(AGENT_ID_FILE), read(SEQ_FILE).parse().unwrap_or(0))
    }

    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    /// Takes the next sequence number, saving it before it is used so that a crash right
    /// after can never hand the same number out twice.
    pub fn next_seq(&mut self) -> Result<u64, StateError> {
        let seq = self.last_seq + 1;
        let path = self.dir.join(SEQ_FILE);
        write_atomically(&path, seq.to_string().as_bytes())
            .map_err(|source| StateError::Io { path, source })?;
        self.last_seq = seq;
        Ok(seq)
    }
}

fn new_id(path: &Path) -> Result<String, StateError> {
    let id = uuid::Uuid::new_v4().to_string();
    write_atomically(path, id.as_bytes()).map_err(|source| StateError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_stable_and_seq_continues_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = AgentState::open(dir.path()).unwrap();
        assert_eq!(
            (first.next_seq().unwrap(), first.next_seq().unwrap()),
            (1, 2)
        );
        let id = first.agent_id().to_string();
        assert_eq!(id.len(), 36);

        let mut again = AgentState::open(dir.path()).unwrap();
        assert_eq!(again.agent_id(), id);
        assert_eq!(again.next_seq().unwrap(), 3);
    }
}
