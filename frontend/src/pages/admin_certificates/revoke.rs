//! Revoking from the list: one certificate, all of a person's, or all of a key's. Each is
//! confirmed first and may carry a reason for the audit trail.

use opsportal_shared::certs::RevokeOutcome;

use crate::api::{self, ApiError};
use crate::browser;

/// What a revocation applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Certificate {
        id: i64,
        serial: Option<String>,
        username: String,
    },
    Person(String),
    Key(String),
}

impl Target {
    /// Confirms with the person and asks for a reason: `None` when they cancel either dialog,
    /// `Some(None)` when they give no reason.
    pub fn ask(&self) -> Option<Option<String>> {
        if !browser::confirm(&self.question()) {
            return None;
        }
        let reason = browser::prompt(
            "Reason for revoking (optional, kept in the audit trail). Cancel to revoke nothing.",
        )?;
        Some(Some(reason.trim().to_owned()).filter(|r| !r.is_empty()))
    }

    pub async fn revoke(&self, reason: Option<String>) -> Result<RevokeOutcome, ApiError> {
        match self {
            Self::Certificate { id, .. } => api::revoke_certificate(*id, reason).await,
            Self::Person(username) => api::revoke_person(username.clone(), reason).await,
            Self::Key(fingerprint) => api::revoke_key(fingerprint.clone(), reason).await,
        }
    }

    /// `3 certificates revoked`, and for a key that it stays refused.
    pub fn outcome(&self, revoked: u64) -> String {
        let count = match revoked {
            1 => "1 certificate revoked".to_owned(),
            n => format!("{n} certificates revoked"),
        };
        match self {
            Self::Key(_) => format!("{count}; the key is refused from now on."),
            _ => format!("{count}."),
        }
    }

    fn question(&self) -> String {
        match self {
            Self::Certificate {
                serial, username, ..
            } => format!(
                "Revoke certificate {} of {}? Servers refuse it once they have the new list.",
                serial.as_deref().unwrap_or("without serial"),
                browser::one_line(username)
            ),
            Self::Person(username) => format!(
                "Revoke every certificate of {}?",
                browser::one_line(username)
            ),
            Self::Key(fingerprint) => format!(
                "Revoke every certificate of key {} and refuse the key from now on?",
                browser::one_line(fingerprint)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_count_in_words() {
        let person = Target::Person("alice".into());
        assert_eq!(person.outcome(1), "1 certificate revoked.");
        assert_eq!(person.outcome(3), "3 certificates revoked.");
        assert_eq!(
            Target::Key("SHA256:x".into()).outcome(0),
            "0 certificates revoked; the key is refused from now on."
        );
    }
}
