//! Hosts that send their logs, and their ingest tokens.

use opsportal_shared::ingest::{HostView, IssuedToken, NewHost};
use serde::{Deserialize, Serialize};

use super::{ApiError, call};

/// The answer to adding a host.
#[derive(Debug, Deserialize)]
struct Added {
    id: i64,
}

/// Body of a token request.
#[derive(Debug, Serialize)]
struct TokenRequest {
    rotate: bool,
}

/// Body of a token revocation, which carries nothing.
#[derive(Debug, Serialize)]
struct Empty {}

pub async fn hosts() -> Result<Vec<HostView>, ApiError> {
    call("GET", "/api/admin/hosts", None::<&()>).await
}

/// Registers a host; returns its id.
pub async fn add_host(name: String, addresses: Vec<String>) -> Result<i64, ApiError> {
    let added: Added = call(
        "POST",
        "/api/admin/hosts",
        Some(&NewHost { name, addresses }),
    )
    .await?;
    Ok(added.id)
}

/// A new token for a host, its secret shown this once; `rotate` revokes the host's others.
pub async fn issue_token(host_id: i64, rotate: bool) -> Result<IssuedToken, ApiError> {
    call(
        "POST",
        &format!("/api/admin/hosts/{host_id}/tokens"),
        Some(&TokenRequest { rotate }),
    )
    .await
}

pub async fn revoke_token(token_id: i64) -> Result<(), ApiError> {
    call::<serde::de::IgnoredAny>(
        "POST",
        &format!("/api/admin/tokens/{token_id}/revoke"),
        Some(&Empty {}),
    )
    .await
    .map(drop)
}
