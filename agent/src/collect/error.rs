//! The collection layer's error: what went wrong reading one source.

use std::path::PathBuf;

/// Why one collector could not produce its part of the report.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Format { path: PathBuf, reason: String },
    #[error("sock_diag netlink: {0}")]
    Netlink(String),
}

impl CollectError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn format(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Format {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

/// Reads a whole text file, naming it in the error.
pub(crate) fn read_text(path: &std::path::Path) -> Result<String, CollectError> {
    std::fs::read_to_string(path).map_err(|e| CollectError::io(path, e))
}
