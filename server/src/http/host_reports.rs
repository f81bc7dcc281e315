//! `POST /api/ingest/metrics`: one host health report from `opsportal-agent`.
//!
//! The answers follow the agent's contract: 200 only once the report is committed (or when
//! it was stored before), 400/413 for a report that sending again cannot mend (the agent
//! drops it), 401 for a token to fix (the agent keeps the report), 503 with `Retry-After`
//! when the database is not taking reports (the agent sends it again later).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsportal_shared::health::MetricsAck;

use crate::app::AppState;
use crate::error::error_response;
use crate::health::store::{self, Outcome, RuleSettings};
use crate::health::{portal_principals, validate};
use crate::ingest::hosts::HostRef;
use crate::ingest::tokens;

use super::ingest::{bearer_token, invalid_token, unavailable};

/// Seconds an agent is asked to wait when the database is not taking reports.
const RETRY_AFTER_SECS: u64 = 10;

/// Why a report was refused; each is counted under its reason at `/metrics`.
#[derive(Debug)]
enum Refusal {
    InvalidToken,
    TooLarge(usize),
    UnsupportedEncoding,
    Invalid(validate::Invalid),
    Unavailable,
}

impl Refusal {
    fn reason(&self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_token",
            Self::TooLarge(_) => "too_large",
            Self::UnsupportedEncoding => "unsupported_encoding",
            Self::Invalid(invalid) => invalid.reason,
            Self::Unavailable => "store_unavailable",
        }
    }

    fn into_response(self) -> Response {
        match self {
            Self::InvalidToken => invalid_token(),
            Self::TooLarge(limit) => error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("A report may hold at most {limit} bytes."),
            ),
            // Not 415: the agent sends any other refusal again, and this one cannot mend.
            Self::UnsupportedEncoding => error_response(
                StatusCode::BAD_REQUEST,
                "invalid_metric",
                "Send the report as plain JSON, without Content-Encoding.".into(),
            ),
            Self::Invalid(invalid) => {
                error_response(StatusCode::BAD_REQUEST, "invalid_metric", invalid.message)
            }
            Self::Unavailable => unavailable(
                "Reports cannot be stored right now; send this one again later.",
                RETRY_AFTER_SECS,
            ),
        }
    }
}

pub async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let metrics = &state.ingest.metrics;
    match handle(&state, &headers, body).await {
        Ok(ack) => {
            let counter = if ack.duplicate {
                &metrics.metric_duplicates
            } else {
                &metrics.metric_reports
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Json(ack).into_response()
        }
        Err((host, refusal)) => {
            metrics.metric_rejected(refusal.reason());
            if let Some(host) = host {
                tracing::info!(host = %host.name, reason = refusal.reason(),
                    "host health report refused");
            }
            refusal.into_response()
        }
    }
}

async fn handle(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<MetricsAck, (Option<HostRef>, Refusal)> {
    let ingest = &state.ingest;
    let token = bearer_token(headers).ok_or((None, Refusal::InvalidToken))?;
    let host = match tokens::host_of(&ingest.db, token).await {
        Ok(Some(host)) => host,
        Ok(None) => return Err((None, Refusal::InvalidToken)),
        Err(error) => {
            tracing::warn!(%error, "cannot check a host token");
            return Err((None, Refusal::Unavailable));
        }
    };
    let refused = |refusal| (Some(host.clone()), refusal);

    let config = &state.config.health;
    let identity = headers
        .get(header::CONTENT_ENCODING)
        .is_none_or(|v| v.as_bytes().eq_ignore_ascii_case(b"identity"));
    if !identity {
        return Err(refused(Refusal::UnsupportedEncoding));
    }
    // Read here rather than by a layer, so that an oversized report is counted, and never
    // read past the limit.
    let body = axum::body::to_bytes(body, config.max_report_bytes)
        .await
        .map_err(|_| refused(Refusal::TooLarge(config.max_report_bytes)))?;
    let checked = validate::check(&body, config).map_err(|i| refused(Refusal::Invalid(i)))?;

    let principals = portal_principals(&state.config.access);
    let settings = RuleSettings {
        config,
        principals: &principals,
    };
    match store::store(&ingest.db, &host, &checked, &settings).await {
        Ok(outcome) => {
            let seq = checked.report.seq;
            tracing::debug!(host = %host.name, seq, ?outcome, "host health report");
            Ok(MetricsAck {
                stored: outcome == Outcome::Stored,
                duplicate: outcome == Outcome::Duplicate,
            })
        }
        Err(error) => {
            tracing::warn!(host = %host.name, %error, "host health report not stored");
            Err(refused(Refusal::Unavailable))
        }
    }
}
