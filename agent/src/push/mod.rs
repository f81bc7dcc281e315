//! Getting reports to the portal: every report goes to the spool first, then the spool is
//! sent oldest first for as long as the portal takes them. A portal that is down, restarting
//! or asking for patience costs nothing but delay; reports only get lost when the spool
//! overflows, and then the next report says how many.

pub mod client;
pub mod spool;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

pub use client::{Outcome, PortalClient, PortalSettings};
pub use spool::{Spool, SpoolLimits};

/// The push layer's error.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("spool {path}: {source}")]
    Spool {
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
    #[error("{0}")]
    Config(String),
}

impl PushError {
    fn spool(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Spool {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    fn file(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::File {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// What one pass over the spool did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    pub stored: u64,
    pub rejected: u64,
    /// Reports still waiting.
    pub pending: usize,
}

/// The spool and the portal, with the counts the next report carries.
#[derive(Debug)]
pub struct Pusher {
    spool: Spool,
    client: PortalClient,
    not_before: Option<Instant>,
    dropped: u64,
    rejected: u64,
}

impl Pusher {
    pub fn new(spool: Spool, client: PortalClient) -> Self {
        Self {
            spool,
            client,
            not_before: None,
            dropped: 0,
            rejected: 0,
        }
    }

    /// Spools a report to be sent.
    pub fn enqueue(&mut self, seq: u64, body: &[u8]) -> Result<(), PushError> {
        self.dropped += self.spool.push(seq, body)?;
        Ok(())
    }

    /// Takes the counts of dropped and rejected reports since the last call, for the next report.
    pub fn take_counts(&mut self) -> (u64, u64) {
        (
            std::mem::take(&mut self.dropped),
            std::mem::take(&mut self.rejected),
        )
    }

    /// The sequence numbers waiting in the spool.
    pub fn pending(&self) -> Vec<u64> {
        self.spool.pending()
    }

    /// Sends spooled reports in order until the spool is empty or the portal cannot take more.
    pub async fn drain(&mut self) -> Result<Drained, PushError> {
        let mut drained = Drained::default();
        if self.not_before.is_some_and(|t| Instant::now() < t) {
            drained.pending = self.spool.pending().len();
            return Ok(drained);
        }
        self.not_before = None;
        while let Some(report) = self.spool.oldest()? {
            let seq = report.seq;
            match self.client.send(report.body).await? {
                Outcome::Stored => {
                    self.spool.remove(seq)?;
                    drained.stored += 1;
                }
                Outcome::Rejected { status, code } => {
                    tracing::warn!(
                        seq,
                        status,
                        code = code.as_deref(),
                        "portal rejected report, dropped"
                    );
                    self.spool.remove(seq)?;
                    self.rejected += 1;
                    drained.rejected += 1;
                }
                Outcome::Unauthorized { code } => {
                    // The report is not at fault: keep the spool for when the token is fixed.
                    tracing::error!(seq, code = code.as_deref(), "portal refused the host token");
                    break;
                }
                Outcome::RetryLater { after, status } => {
                    tracing::info!(
                        seq,
                        status,
                        retry_after_secs = after.map(|d| d.as_secs()),
                        "portal busy, retrying later"
                    );
                    self.not_before =
                        after.map(|after| Instant::now() + after.min(MAX_RETRY_AFTER));
                    break;
                }
                Outcome::Unreachable { reason } => {
                    tracing::warn!(seq, %reason, "portal unreachable, report spooled");
                    break;
                }
            }
        }
        drained.pending = self.spool.pending().len();
        Ok(drained)
    }
}

/// A portal asking for more than this is taken to mean "soon" rather than "never".
const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
