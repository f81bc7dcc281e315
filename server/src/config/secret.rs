//! Secrets read from files, kept out of `Debug` output and logs.

use std::fmt;
use std::path::Path;

use super::ConfigError;

/// A secret value. Its `Debug` form never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Reads a secret file; surrounding whitespace and the final newline are dropped.
    pub fn read(setting: &str, path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Secret {
            setting: setting.to_owned(),
            path: path.to_owned(),
            source,
        })?;
        let value = text.trim().to_owned();
        if value.is_empty() {
            return Err(ConfigError::invalid(
                setting,
                format!("secret file {} is empty", path.display()),
            ));
        }
        Ok(Self(value))
    }

    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}
