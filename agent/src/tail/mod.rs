//! Following secure-log files, for hosts that do not forward sshd's lines with rsyslog: each
//! `--tail-log` path is read by a task of its own beside the report loop, and its lines are
//! posted to the portal's log ingest (`POST /api/ingest/logs`) with the host's token.
//!
//! The file itself is the spool. A checkpoint ([`checkpoint`]) keeps how far the portal has
//! stored it and moves only once the portal has acknowledged a batch, so a portal that is
//! away costs delay, never lines, and a restart resumes where the last acknowledged batch
//! ended. Each line is numbered in a stream of its own, so a batch sent again after a crash
//! between acknowledgement and checkpoint is stored once.
//!
//! - [`reader`] splits the file into whole, bounded lines and batches;
//! - [`line`] reads each line's `TIMESTAMP HOST program[pid]:` prefix into the portal's fields;
//! - [`ship`] posts a batch and reads the answer;
//! - [`locate`] finds the file to read when following starts or a rotated file is finished;
//! - [`follow`] ties them together and follows rotation and truncation.

pub mod checkpoint;
pub mod follow;
pub mod line;
pub mod locate;
pub mod reader;
pub mod ship;

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::TailStart;
use crate::push::{PortalClient, PushError};

pub use follow::Follower;
pub use reader::Limits;

/// The tail layer's error.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("checkpoint {path}: {source}")]
    Checkpoint {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Push(#[from] PushError),
    #[error("encoding a batch: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("a file task panicked")]
    Panicked,
}

/// How to follow one file.
#[derive(Debug, Clone)]
pub struct TailSettings {
    /// The followed path, absolute.
    pub path: PathBuf,
    /// The agent's spool directory; checkpoints go to its `tail/`.
    pub spool_dir: PathBuf,
    /// Part of the stream id, so that two hosts' files never share one.
    pub agent_id: String,
    /// Where a file without a checkpoint is started.
    pub start: TailStart,
    pub limits: Limits,
    /// Between two looks at a file that had nothing new.
    pub poll: Duration,
    /// How long a rotated-away file is still read.
    pub rotate_wait: Duration,
}

/// Starts following one file until `stop` turns true.
pub fn spawn(
    settings: TailSettings,
    client: PortalClient,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(Follower::new(settings, client, stop).run())
}
