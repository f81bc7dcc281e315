//! A fresh id for every request: in the request's tracing span, in the `x-request-id` response
//! header and in every error body, so a person can quote it and an operator can find the logs.
//!
//! The id is never taken from the client, so it cannot be used to forge or split log lines.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served, if called from inside one.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Middleware: assigns the id, opens the request span and logs the outcome.
pub async fn assign(request: Request, next: Next) -> Response {
    let id = Uuid::new_v4().to_string();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| request.uri().path().to_owned());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %path,
        user = tracing::field::Empty,
    );

    let started = Instant::now();
    let mut response = REQUEST_ID
        .scope(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;

    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_millis() as u64;
    span.in_scope(|| tracing::info!(status, latency_ms, "request finished"));
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
