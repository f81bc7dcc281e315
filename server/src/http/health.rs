//! Liveness and readiness for load balancers and orchestrators.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::app::AppState;
use crate::certs::signer::SignError;
use crate::error::error_response;

/// Longest a readiness check waits for one dependency.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// `GET /healthz`: the process is up and serving.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database, the directory and the certificate signer answer, and the
/// signer's setup is safe. 503 names what is not ready.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = async {
        sqlx::query("select 1")
            .execute(&state.db)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    };
    let directory = async { state.directory.check().await.map_err(|e| e.to_string()) };
    let signer = async {
        match state.signer.check().await {
            Ok(()) => Ok(()),
            // An unsafe setting is named, so that the operator knows what to change.
            Err(SignError::Misconfigured(problem)) => Err(Problem::Named(problem)),
            Err(other) => Err(Problem::Hidden(other.to_string())),
        }
    };
    let (database, directory, signer) = tokio::join!(
        bounded(async { database.await.map_err(Problem::Hidden) }),
        bounded(async { directory.await.map_err(Problem::Hidden) }),
        bounded(signer),
    );

    let checks = [
        ("database", database),
        ("directory", directory),
        ("signer", signer),
    ];
    let failing: Vec<String> = checks
        .iter()
        .filter_map(|(name, result)| {
            result.as_ref().err().map(|problem| match problem {
                Problem::Named(detail) => {
                    tracing::warn!(check = name, problem = %detail, "readiness check failed");
                    format!("{name} unsafe: {detail}")
                }
                Problem::Hidden(detail) => {
                    tracing::warn!(check = name, error = %detail, "readiness check failed");
                    format!("{name} unavailable")
                }
            })
        })
        .collect();
    if failing.is_empty() {
        let checks = json!({ "database": "ok", "directory": "ok", "signer": "ok" });
        let body = json!({ "status": "ready", "checks": checks });
        return (StatusCode::OK, Json(body)).into_response();
    }
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "not_ready",
        format!("Not ready: {}.", failing.join(", ")),
    )
}

/// Why a check failed: a detail fit to show (an unsafe setting) or one only for the log.
enum Problem {
    Named(String),
    Hidden(String),
}

async fn bounded(check: impl Future<Output = Result<(), Problem>>) -> Result<(), Problem> {
    tokio::time::timeout(CHECK_TIMEOUT, check)
        .await
        .unwrap_or_else(|_| Err(Problem::Hidden("timed out".into())))
}
