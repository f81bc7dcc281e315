//! Login history: a person's own (`/api/history`), and the auditors' search, export and
//! "who was on this host" (`/api/audit/...`). Every auditor search is itself audited.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use opsportal_shared::auth::Role;
use opsportal_shared::history::{EventPage, LogEventView};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::client::ClientInfo;
use crate::error::ApiError;
use crate::history::filter::{EventFilter, MAX_PAGE, SearchQuery};
use crate::history::{self, export, query};
use crate::http::admin::record;
use crate::session::CurrentUser;

/// Most events one export holds.
const MAX_EXPORT: usize = 100_000;

/// `GET /api/history`: the signed-in person's own logins, failures and sessions.
pub async fn mine(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(search): Query<SearchQuery>,
) -> Result<Json<EventPage>, ApiError> {
    let mut filter = search.check().map_err(ApiError::InvalidRequest)?;
    filter.person = Some(current.user.username.clone());
    Ok(Json(page(&state, &filter).await?))
}

/// `GET /api/audit/events`: every stored event, filtered.
pub async fn search(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Query(search): Query<SearchQuery>,
) -> Result<Json<EventPage>, ApiError> {
    require_auditor(&current)?;
    let filter = search.check().map_err(ApiError::InvalidRequest)?;
    let page = page(&state, &filter).await?;
    audit_search(
        &state,
        &client,
        &current,
        "audit_search",
        &filter,
        page.events.len(),
    )
    .await?;
    Ok(Json(page))
}

/// `GET /api/audit/export?format=csv|ndjson`: a whole result as a file.
pub async fn export(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Query(search): Query<SearchQuery>,
) -> Result<Response, ApiError> {
    require_auditor(&current)?;
    let format = search.format.clone().unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "ndjson" {
        return Err(ApiError::InvalidRequest(
            "format must be csv or ndjson".into(),
        ));
    }
    let mut filter = search.check().map_err(ApiError::InvalidRequest)?;
    filter.limit = MAX_PAGE;
    let mut body = if format == "csv" {
        export::CSV_HEADER.to_owned()
    } else {
        String::new()
    };
    let mut count = 0;
    loop {
        let rows = query::search(&state.db, &filter).await?;
        for row in &rows {
            let view = history::view(row);
            body.push_str(&if format == "csv" {
                export::csv_record(&view)
            } else {
                export::ndjson_record(&view)
            });
        }
        count += rows.len();
        match rows.last() {
            Some(last) if rows.len() as i64 == filter.limit && count < MAX_EXPORT => {
                filter.after = Some(last.cursor());
            }
            _ => break,
        }
    }
    audit_search(&state, &client, &current, "audit_export", &filter, count).await?;
    let (content_type, extension) = if format == "csv" {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "ndjson")
    };
    let disposition = format!("attachment; filename=\"opsportal-events.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .map_err(|e| ApiError::Internal(e.to_string()))?,
            ),
        ],
        body,
    )
        .into_response())
}

/// Query of `GET /api/audit/sessions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnHostQuery {
    host: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// `GET /api/audit/sessions?host=&from=&to=`: who was logged in on a host in a window.
pub async fn on_host(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
    Query(window): Query<OnHostQuery>,
) -> Result<Json<Vec<LogEventView>>, ApiError> {
    require_auditor(&current)?;
    if window.to <= window.from {
        return Err(ApiError::InvalidRequest("to must be after from".into()));
    }
    let rows =
        query::sessions_on_host(&state.db, &window.host, window.from, window.to, MAX_PAGE).await?;
    let detail = json!({ "host": window.host, "from": window.from, "to": window.to,
        "results": rows.len() });
    record(&state, &client, &current, "audit_sessions", None, detail).await?;
    Ok(Json(rows.iter().map(history::view).collect()))
}

fn require_auditor(current: &CurrentUser) -> Result<(), ApiError> {
    if current.user.has_role(Role::Auditor) || current.user.has_role(Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

async fn page(state: &AppState, filter: &EventFilter) -> Result<EventPage, ApiError> {
    let rows = query::search(&state.db, filter).await?;
    let next = (rows.len() as i64 == filter.limit)
        .then(|| rows.last().map(|row| row.cursor().encode()))
        .flatten();
    Ok(EventPage {
        events: rows.iter().map(history::view).collect(),
        next,
    })
}

async fn audit_search(
    state: &AppState,
    client: &ClientInfo,
    current: &CurrentUser,
    event: &str,
    filter: &EventFilter,
    results: usize,
) -> Result<(), ApiError> {
    let detail = json!({
        "person": filter.person, "host": filter.host, "src": filter.src,
        "serial": filter.serial.map(|s| s.to_string()), "key": filter.key, "kind": filter.kind,
        "from": filter.from, "to": filter.to, "q": filter.text, "flagged": filter.flagged_only,
        "results": results,
    });
    record(
        state,
        client,
        current,
        event,
        filter.person.as_deref(),
        detail,
    )
    .await
}
