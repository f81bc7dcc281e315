//! Certificate administration: every certificate, filtered; revoking one, all of a person's,
//! or every certificate of a key. Listing is for admins and auditors, revoking for admins.

use axum::Json;
use axum::extract::{Path, Query, State};
use opsportal_shared::auth::Role;
use opsportal_shared::certs::{CertificateSummary, RevokeKeyRequest, RevokeOutcome, RevokeRequest};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::audit::{self, AuditEvent, Outcome};
use crate::certs::{self, store};
use crate::client::ClientInfo;
use crate::error::ApiError;
use crate::http::json::ApiJson;
use crate::session::CurrentUser;

/// Most rows one listing returns.
const MAX_LIMIT: i64 = 500;
/// Longest revocation reason kept.
const MAX_REASON_CHARS: usize = 500;

/// Query of `GET /api/admin/certificates`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    user: Option<String>,
    principal: Option<String>,
    state: Option<String>,
    limit: Option<i64>,
}

const STATES: [&str; 6] = [
    "valid",
    "expired",
    "revoked",
    "unfinished",
    "failed",
    "rejected",
];

/// `GET /api/admin/certificates?user=&principal=&state=&limit=`.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<CertificateSummary>>, ApiError> {
    if !(current.user.has_role(Role::Admin) || current.user.has_role(Role::Auditor)) {
        return Err(ApiError::Forbidden);
    }
    let wanted_state = query.state.filter(|s| !s.is_empty());
    if wanted_state
        .as_deref()
        .is_some_and(|s| !STATES.contains(&s))
    {
        return Err(ApiError::InvalidRequest(format!(
            "state must be one of {}",
            STATES.join(", ")
        )));
    }
    let filter = store::Filter {
        username: query.user.filter(|u| !u.is_empty()),
        principal: query.principal.filter(|p| !p.is_empty()),
        state: wanted_state,
        limit: query.limit.unwrap_or(100).clamp(1, MAX_LIMIT),
    };
    let rows = store::list(&state.db, &filter).await?;
    Ok(Json(rows.iter().map(certs::summary).collect()))
}

/// `POST /api/admin/certificates/{id}/revoke`.
pub async fn revoke_one(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Path(id): Path<i64>,
    ApiJson(request): ApiJson<RevokeRequest>,
) -> Result<Json<RevokeOutcome>, ApiError> {
    current.user.require(Role::Admin)?;
    let reason = reason(&request.reason);
    let row = store::get(&state.db, id).await?.ok_or(ApiError::NotFound)?;
    let revoked = u64::from(
        store::revoke_one(&state.db, id, &current.user.username, reason.as_deref()).await?,
    );
    let detail =
        json!({ "certificate_id": id, "serial": row.serial, "reason": reason, "revoked": revoked });
    record(
        &state,
        &client,
        &current,
        "certificate_revoke",
        Some(&row.username),
        detail,
    )
    .await?;
    Ok(Json(RevokeOutcome { revoked }))
}

/// `POST /api/admin/people/{username}/revoke`: every certificate of a person.
pub async fn revoke_person(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Path(username): Path<String>,
    ApiJson(request): ApiJson<RevokeRequest>,
) -> Result<Json<RevokeOutcome>, ApiError> {
    current.user.require(Role::Admin)?;
    let reason = reason(&request.reason);
    let revoked = store::revoke_person(
        &state.db,
        &username,
        &current.user.username,
        reason.as_deref(),
    )
    .await?;
    let detail = json!({ "reason": reason, "revoked": revoked });
    record(
        &state,
        &client,
        &current,
        "certificate_revoke_person",
        Some(&username),
        detail,
    )
    .await?;
    Ok(Json(RevokeOutcome { revoked }))
}

/// `POST /api/admin/keys/revoke`: every certificate of a key, and the key from then on.
pub async fn revoke_key(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    ApiJson(request): ApiJson<RevokeKeyRequest>,
) -> Result<Json<RevokeOutcome>, ApiError> {
    current.user.require(Role::Admin)?;
    let reason = reason(&request.reason);
    let fingerprint = request.key_fingerprint.trim();
    let revoked = store::revoke_key(
        &state.db,
        fingerprint,
        &current.user.username,
        reason.as_deref(),
    )
    .await?
    .ok_or(ApiError::NotFound)?;
    let detail = json!({ "key_fingerprint": fingerprint, "reason": reason, "revoked": revoked });
    record(
        &state,
        &client,
        &current,
        "key_revoke",
        Some(fingerprint),
        detail,
    )
    .await?;
    Ok(Json(RevokeOutcome { revoked }))
}

fn reason(reason: &Option<String>) -> Option<String> {
    reason
        .as_deref()
        .map(|r| {
            r.chars()
                .filter(|c| !c.is_control())
                .take(MAX_REASON_CHARS)
                .collect::<String>()
        })
        .filter(|r| !r.trim().is_empty())
}

pub(super) async fn record(
    state: &AppState,
    client: &ClientInfo,
    current: &CurrentUser,
    event: &str,
    subject: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let mut audit = AuditEvent::new(event, Outcome::Success);
    audit.actor = Some(&current.user.username);
    audit.subject = subject;
    audit.source_addr = client.addr;
    audit.user_agent = client.user_agent.as_deref();
    audit.detail = detail;
    audit::record(&state.db, &audit).await?;
    Ok(())
}
