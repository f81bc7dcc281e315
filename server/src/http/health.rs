//! Liveness and readiness for load balancers and orchestrators.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;
use crate::error::error_response;

/// Longest a readiness check waits for one dependency.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database and the directory answer. 503 names what does not.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = async {
        sqlx::query("select 1")
            .execute(&state.db)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let directory = async { state.directory.check().await.map_err(|e| e.to_string()) };
    let (database, directory) = tokio::join!(bounded(database), bounded(directory),);

    let checks = [("database", database), ("directory", directory)];
    let failing: Vec<String> = checks
        .iter()
        .filter_map(|(name, result)| {
            result.as_ref().err().map(|e| {
                tracing::warn!(check = name, error = %e, "readiness check failed");
                format!("{name} unavailable")
            })
        })
        .collect();
    if failing.is_empty() {
        let body = json!({ "status": "ready", "checks": { "database": "ok", "directory": "ok" } });
        return (StatusCode::OK, Json(body)).into_response();
    }
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        format!("Not ready: {}.", failing.join(", ")),
    )
}

async fn bounded(check: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err("timed out".into()))
}
