//! Host administration: hosts that send logs, their source addresses, their ingest tokens and
//! their ingest health. Admins only; every change is audited.

use axum::Json;
use axum::extract::{Path, State};
use opsportal_shared::auth::Role;
use opsportal_shared::ingest::{HostView, IssuedToken, NewHost, TokenView};
use serde::Deserialize;
use serde_json::json;
use sqlx::types::ipnetwork::IpNetwork;

use crate::app::AppState;
use crate::client::ClientInfo;
use crate::error::ApiError;
use crate::http::admin::record;
use crate::http::json::ApiJson;
use crate::ingest::registry;
use crate::session::CurrentUser;

/// Most source addresses one host may list.
const MAX_ADDRESSES: usize = 16;

/// `GET /api/admin/hosts`.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<Vec<HostView>>, ApiError> {
    current.user.require(Role::Admin)?;
    let (hosts, tokens) = registry::hosts(&state.db).await?;
    let views = hosts
        .into_iter()
        .map(|host| HostView {
            id: host.host_id,
            addresses: host.addresses.iter().map(|a| a.ip().to_string()).collect(),
            created_at: host.created_at.to_rfc3339(),
            created_by: host.created_by,
            lag_secs: host
                .last_seen_at
                .zip(host.last_event_at)
                .map(|(seen, event)| (seen - event).num_seconds()),
            last_seen_at: host.last_seen_at.map(|t| t.to_rfc3339()),
            last_event_at: host.last_event_at.map(|t| t.to_rfc3339()),
            lines_total: host.lines_total,
            rejected_total: host.rejected_total,
            tokens: tokens
                .iter()
                .filter(|t| t.host_id == host.host_id)
                .map(|t| TokenView {
                    id: t.token_id,
                    hint: t.hint.clone(),
                    created_at: t.created_at.to_rfc3339(),
                    created_by: t.created_by.clone(),
                    revoked_at: t.revoked_at.map(|at| at.to_rfc3339()),
                })
                .collect(),
            name: host.name,
        })
        .collect();
    Ok(Json(views))
}

/// `POST /api/admin/hosts`: `{"name": "web01", "addresses": ["10.0.0.5"]}`.
pub async fn add(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    ApiJson(host): ApiJson<NewHost>,
) -> Result<Json<serde_json::Value>, ApiError> {
    current.user.require(Role::Admin)?;
    let name = host.name.trim();
    let valid_name = !name.is_empty()
        && name.len() <= 253
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        return Err(ApiError::InvalidRequest(
            "name must be a host name: letters, digits, '.', '_' and '-'".into(),
        ));
    }
    if host.addresses.len() > MAX_ADDRESSES {
        return Err(ApiError::InvalidRequest(format!(
            "a host lists at most {MAX_ADDRESSES} addresses"
        )));
    }
    let addresses = host
        .addresses
        .iter()
        .map(|a| {
            a.trim()
                .parse::<std::net::IpAddr>()
                .map(IpNetwork::from)
                .map_err(|_| ApiError::InvalidRequest(format!("{a:?} is not an IP address")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let id = registry::add(&state.db, name, &addresses, &current.user.username)
        .await?
        .ok_or_else(|| ApiError::Refused {
            status: axum::http::StatusCode::CONFLICT,
            code: "host_exists",
            message: format!("A host named {name} exists already."),
        })?;
    state.ingest.hosts.invalidate().await;
    let detail = json!({ "host_id": id, "addresses": host.addresses });
    record(&state, &client, &current, "host_add", Some(name), detail).await?;
    Ok(Json(json!({ "id": id })))
}

/// Body of `POST /api/admin/hosts/{id}/tokens`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// Revoke the host's other tokens in the same step.
    #[serde(default)]
    rotate: bool,
}

/// `POST /api/admin/hosts/{id}/tokens`: a new token, shown once.
pub async fn issue_token(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Path(host_id): Path<i64>,
    ApiJson(request): ApiJson<TokenRequest>,
) -> Result<Json<IssuedToken>, ApiError> {
    current.user.require(Role::Admin)?;
    let (id, token, revoked) =
        registry::issue_token(&state.db, host_id, request.rotate, &current.user.username)
            .await?
            .ok_or(ApiError::NotFound)?;
    let detail = json!({ "host_id": host_id, "token_id": id, "hint": token.hint,
        "rotate": request.rotate, "revoked": revoked });
    record(&state, &client, &current, "host_token_issue", None, detail).await?;
    Ok(Json(IssuedToken {
        id,
        host_id,
        hint: token.hint,
        token: token.secret,
        revoked,
    }))
}

/// `POST /api/admin/tokens/{id}/revoke`.
pub async fn revoke_token(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Path(token_id): Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    current.user.require(Role::Admin)?;
    let host_id = registry::revoke_token(&state.db, token_id, &current.user.username)
        .await?
        .ok_or(ApiError::NotFound)?;
    let detail = json!({ "host_id": host_id, "token_id": token_id });
    record(&state, &client, &current, "host_token_revoke", None, detail).await?;
    Ok(Json(json!({ "revoked": 1 })))
}
