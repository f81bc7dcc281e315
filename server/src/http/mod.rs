//! The HTTP surface: the router, its middleware stack, and one module per area.
//!
//! Requests pass, outermost first: request id and span → security headers → error-body
//! normalisation → panic catcher → timeout → body limit → session → (API only) CSRF guard.

mod admin;
mod assets;
mod certs;
pub mod csrf;
mod fallback;
mod fleet;
mod headers;
mod health;
mod history;
mod host_reports;
mod hosts;
mod ingest;
pub mod json;
mod krl;
pub mod request_id;
mod session;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::app::AppState;
use crate::session::PgSessionStore;

/// Builds the whole application router.
pub fn router(state: AppState) -> Router {
    let server = &state.config.server;
    let sessions = crate::session::layer(
        PgSessionStore::new(state.db.clone(), state.lanes.clone()),
        &state.config.session,
        server.dev_insecure_http,
    );
    let timeout = Duration::from_secs(server.request_timeout_secs);
    let body_limit = server.body_limit_bytes;

    let api = Router::new()
        .route("/session", post(session::sign_in).delete(session::sign_out))
        .route("/me", get(session::me))
        .route("/certificates", get(certs::mine).post(certs::issue))
        .route("/certificates/policy", get(certs::policy))
        .route("/certificates/{id}", get(certs::one))
        .route("/certificates/{id}/download", get(certs::download))
        .route("/admin/certificates", get(admin::list))
        .route("/admin/certificates/{id}/revoke", post(admin::revoke_one))
        .route(
            "/admin/people/{username}/revoke",
            post(admin::revoke_person),
        )
        .route("/admin/keys/revoke", post(admin::revoke_key))
        .route("/admin/hosts", get(hosts::list).post(hosts::add))
        .route("/admin/hosts/{id}/tokens", post(hosts::issue_token))
        .route("/admin/hosts/{id}/health", get(fleet::one))
        .route("/admin/fleet", get(fleet::list))
        .route("/admin/tokens/{id}/revoke", post(hosts::revoke_token))
        .route("/history", get(history::mine))
        .route("/audit/events", get(history::search))
        .route("/audit/export", get(history::export))
        .route("/audit/sessions", get(history::on_host))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(from_fn_with_state(state.clone(), csrf::guard));

    let ingest = Router::new()
        .route("/api/ingest/logs", post(ingest::logs))
        .route("/api/ingest/metrics", post(host_reports::receive))
        .route("/metrics", get(ingest::metrics))
        // The handlers read the body themselves, up to `ingest.max_batch_bytes` and
        // `health.max_report_bytes`, and count what they refuse.
        .layer(DefaultBodyLimit::disable());

    let web = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/krl", get(krl::serve))
        .nest("/api", api)
        .fallback(assets::serve)
        .layer(sessions)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit));

    Router::new()
        .merge(ingest)
        .merge(web)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(from_fn(fallback::normalize_errors))
        .layer(from_fn(headers::add))
        .layer(from_fn(request_id::assign))
        .with_state(state)
}
