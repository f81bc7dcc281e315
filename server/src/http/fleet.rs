//! Host health for people: the fleet at a glance (`/api/admin/fleet`) and one host over time
//! (`/api/admin/hosts/{id}/health`). Admins and auditors may read both; a host's page lists
//! who logged in there, so reading it is audited like the other history searches.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Duration, Utc};
use opsportal_shared::auth::Role;
use opsportal_shared::health::{FleetView, HostHealthView};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::client::ClientInfo;
use crate::error::ApiError;
use crate::health::{fleet, series};
use crate::history::filter::{EventFilter, MAX_PAGE};
use crate::history::{self, query};
use crate::http::admin::record;
use crate::session::CurrentUser;

/// The window shown when none is asked for.
const DEFAULT_WINDOW: Duration = Duration::hours(1);

fn require_reader(current: &CurrentUser) -> Result<(), ApiError> {
    if current.user.has_role(Role::Admin) || current.user.has_role(Role::Auditor) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

/// `GET /api/admin/fleet`: every host, worst first.
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> Result<Json<FleetView>, ApiError> {
    require_reader(&current)?;
    Ok(Json(fleet::fleet(&state.db, &state.config.health).await?))
}

/// Query of `GET /api/admin/hosts/{id}/health`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

/// `GET /api/admin/hosts/{id}/health?from=&to=`: charts, sshd's facts, findings and logins.
pub async fn one(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Path(host_id): Path<i64>,
    Query(window): Query<Window>,
) -> Result<Json<HostHealthView>, ApiError> {
    require_reader(&current)?;
    let to = window.to.unwrap_or_else(Utc::now);
    let from = window.from.unwrap_or(to - DEFAULT_WINDOW);
    if to <= from {
        return Err(ApiError::InvalidRequest("to must be after from".into()));
    }
    let kept = i64::from(state.config.ingest.health_retention_days);
    if to - from > Duration::days(kept + 1) {
        return Err(ApiError::InvalidRequest(format!(
            "a window spans at most the {kept} days host health is kept"
        )));
    }

    let host = fleet::one(&state.db, host_id, &state.config.health)
        .await?
        .ok_or(ApiError::NotFound)?;
    let charts = series::charts(&state.db, host_id, from, to).await?;
    let ssh = fleet::latest_ssh(&state.db, host_id).await?;
    let filter = EventFilter {
        host: Some(host.name.clone()),
        kind: Some("accepted".into()),
        from: Some(from),
        to: Some(to),
        limit: MAX_PAGE,
        ..EventFilter::default()
    };
    let logins = query::search(&state.db, &filter).await?;

    let detail = json!({ "host": host.name, "from": from, "to": to, "logins": logins.len() });
    record(&state, &client, &current, "host_health_view", None, detail).await?;
    Ok(Json(HostHealthView {
        from: from.to_rfc3339(),
        to: to.to_rfc3339(),
        bucket_secs: charts.bucket_secs,
        raw_since: charts.raw_since.map(|t| t.to_rfc3339()),
        overflow_rate: charts.overflow_rate,
        drop_rate: charts.drop_rate,
        queue_ratio: charts.queue_ratio,
        fd_ratio: charts.fd_ratio,
        file_handles_ratio: charts.file_handles_ratio,
        ipvs_connections: charts.ipvs_connections,
        ipvs_table_size: charts.ipvs_table_size,
        listeners: charts.listeners,
        processes: charts.processes,
        ssh,
        logins: logins.iter().map(history::view).collect(),
        host,
    }))
}
