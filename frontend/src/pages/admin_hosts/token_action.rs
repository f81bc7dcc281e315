//! What the token buttons do: issue a token, rotate (a new token, the host's others revoked)
//! or revoke one. Rotating and revoking are confirmed first: a host still sending with the old
//! token is refused from that moment.

use crate::api::{self, ApiError};
use crate::browser;

use super::new_secret::Shown;

#[derive(Debug, Clone, PartialEq)]
pub enum TokenAction {
    Issue { host_id: i64, host: String },
    Rotate { host_id: i64, host: String },
    Revoke { token_id: i64, hint: String },
}

impl TokenAction {
    /// Whether the admin wants it done; issuing needs no question.
    pub fn confirmed(&self) -> bool {
        match self {
            Self::Issue { .. } => true,
            Self::Rotate { host, .. } => browser::confirm(&format!(
                "Rotate the token of {}? Its current tokens stop working at once.",
                browser::one_line(host)
            )),
            Self::Revoke { hint, .. } => browser::confirm(&format!(
                "Revoke token {}…? The host can no longer send logs with it.",
                browser::one_line(hint)
            )),
        }
    }

    /// Does it; a new secret comes back from issuing and rotating.
    pub async fn run(&self) -> Result<Option<Shown>, ApiError> {
        let (host_id, host, rotate) = match self {
            Self::Issue { host_id, host } => (*host_id, host, false),
            Self::Rotate { host_id, host } => (*host_id, host, true),
            Self::Revoke { token_id, .. } => {
                return api::revoke_token(*token_id).await.map(|()| None);
            }
        };
        let token = api::issue_token(host_id, rotate).await?;
        Ok(Some(Shown {
            host: host.clone(),
            token,
        }))
    }

    /// Whether it revokes the token whose secret is on screen.
    pub fn revokes(&self, shown: &Shown) -> bool {
        matches!(self, Self::Revoke { token_id, .. } if *token_id == shown.token.id)
    }

    /// What a revocation did, in words; issuing shows its secret instead.
    pub fn revoked(&self) -> Option<String> {
        match self {
            Self::Revoke { hint, .. } => Some(format!("Token {hint}… revoked.")),
            Self::Issue { .. } | Self::Rotate { .. } => None,
        }
    }
}
