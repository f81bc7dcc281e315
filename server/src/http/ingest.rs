//! `POST /api/ingest/logs`: NDJSON batches from a host's shipper, and `GET /metrics`.
//!
//! A batch is all or nothing: it is checked whole (token, size, every line's JSON), stored in
//! one transaction, and answered 200 only once committed. When the database cannot take it,
//! the answer is 503 with `Retry-After`, so the shipper keeps the batch and sends it again;
//! numbered lines make that resend harmless.

use std::io::Read;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use opsportal_logparse::syslog::{self, Format, Syslog};
use opsportal_shared::ingest::{IngestAck, LogLine};

use crate::app::AppState;
use crate::error::error_response;
use crate::ingest::event::{EventRow, Origin, Transport};
use crate::ingest::hosts::HostRef;
use crate::ingest::{Ingest, tokens};

/// Seconds a shipper is asked to wait when the database is not taking lines.
const RETRY_AFTER_SECS: u64 = 5;

/// Why a batch was refused; each is counted under its reason at `/metrics`.
#[derive(Debug)]
enum Refusal {
    InvalidToken,
    TooLarge(String),
    InvalidBatch(String),
    UnsupportedEncoding,
    Unavailable,
}

impl Refusal {
    fn reason(&self) -> &'static str {
        match self {
            Self::InvalidToken => "invalid_token",
            Self::TooLarge(_) => "too_large",
            Self::InvalidBatch(_) => "invalid_batch",
            Self::UnsupportedEncoding => "unsupported_encoding",
            Self::Unavailable => "store_unavailable",
        }
    }

    fn into_response(self) -> Response {
        match self {
            Self::InvalidToken => invalid_token(),
            Self::TooLarge(message) => {
                error_response(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
            }
            Self::InvalidBatch(message) => {
                error_response(StatusCode::BAD_REQUEST, "invalid_batch", message)
            }
            Self::UnsupportedEncoding => error_response(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_encoding",
                "Send the batch plain or with Content-Encoding: gzip.".into(),
            ),
            Self::Unavailable => unavailable(
                "Lines cannot be stored right now; send the batch again later.",
                RETRY_AFTER_SECS,
            ),
        }
    }
}

pub async fn logs(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let ingest = &state.ingest;
    match receive(ingest, &headers, body).await {
        Ok(ack) => Json(ack).into_response(),
        Err((host, refusal)) => {
            ingest.metrics.rejected(refusal.reason(), 1);
            if let Some(host) = host {
                tracing::info!(host = %host.name, reason = refusal.reason(), "log batch refused");
                if let Err(error) =
                    crate::ingest::store::note_rejected(&ingest.db, host.id, 1).await
                {
                    tracing::debug!(%error, "cannot count a refused batch");
                }
            }
            refusal.into_response()
        }
    }
}

/// Checks, reads and stores one batch; a refusal names the host when it is known.
async fn receive(
    ingest: &Ingest,
    headers: &HeaderMap,
    body: Body,
) -> Result<IngestAck, (Option<HostRef>, Refusal)> {
    let host = authenticate(ingest, headers).await.map_err(|r| (None, r))?;
    let refused = |refusal| (Some(host.clone()), refusal);
    // Read here rather than by a layer, so that an oversized batch is counted, and never
    // read past the limit.
    let body = axum::body::to_bytes(body, ingest.config.max_batch_bytes)
        .await
        .map_err(|_| refused(too_large(ingest)))?;
    let text = decode(ingest, headers, &body).map_err(refused)?;
    let rows = read_batch(ingest, &host, &text).map_err(refused)?;
    let lines = rows.len();
    let deadline = std::time::Duration::from_secs(ingest.config.store_timeout_secs);
    // Dropped at the deadline, the batch's transaction is rolled back: nothing half-stored.
    match tokio::time::timeout(deadline, ingest.store(rows)).await {
        Ok(Ok(stored)) => {
            tracing::debug!(host = %host.name, lines, accepted = stored.accepted,
                duplicates = stored.duplicates, "log batch stored");
            Ok(IngestAck {
                accepted: stored.accepted,
                duplicates: stored.duplicates,
            })
        }
        Ok(Err(error)) => {
            tracing::warn!(host = %host.name, %error, lines, "log batch not stored");
            Err(refused(Refusal::Unavailable))
        }
        Err(_) => {
            tracing::warn!(host = %host.name, lines, ?deadline,
                "log batch not stored: the database is too slow");
            Err(refused(Refusal::Unavailable))
        }
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        state.ingest.metrics.render(state.ingest.queue.depth()),
    )
        .into_response()
}

/// The bearer token of a request, when it carries one.
pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

async fn authenticate(ingest: &Ingest, headers: &HeaderMap) -> Result<HostRef, Refusal> {
    let token = bearer_token(headers).ok_or(Refusal::InvalidToken)?;
    match tokens::host_of(&ingest.db, token).await {
        Ok(Some(host)) => Ok(host),
        Ok(None) => Err(Refusal::InvalidToken),
        Err(error) => {
            tracing::warn!(%error, "cannot check a host token");
            Err(Refusal::Unavailable)
        }
    }
}

/// The body as text, gunzipped when sent so, never past the batch limit.
fn decode(ingest: &Ingest, headers: &HeaderMap, body: &Bytes) -> Result<String, Refusal> {
    let limit = ingest.config.max_batch_bytes;
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    let bytes = match encoding {
        "identity" => body.to_vec(),
        "gzip" => {
            let mut out = Vec::new();
            // Reading one byte past the limit tells a bomb from a batch that just fits.
            flate2::read::GzDecoder::new(&body[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|_| Refusal::InvalidBatch("The body is not valid gzip.".into()))?;
            out
        }
        _ => return Err(Refusal::UnsupportedEncoding),
    };
    if bytes.len() > limit {
        return Err(too_large(ingest));
    }
    String::from_utf8(bytes)
        .map_err(|_| Refusal::InvalidBatch("The batch is not UTF-8 text.".into()))
}

/// Every line of the batch as a row; any bad line refuses the whole batch.
fn read_batch(ingest: &Ingest, host: &HostRef, text: &str) -> Result<Vec<EventRow>, Refusal> {
    let config = &ingest.config;
    let received_at = Utc::now();
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if rows.len() == config.max_batch_lines {
            return Err(Refusal::TooLarge(format!(
                "A batch may hold at most {} lines.",
                config.max_batch_lines
            )));
        }
        let line: LogLine = serde_json::from_str(line).map_err(|error| {
            Refusal::InvalidBatch(format!("Line {} is not a log line: {error}.", index + 1))
        })?;
        if line.message.len() > config.max_line_bytes {
            return Err(Refusal::TooLarge(format!(
                "Line {} is longer than {} bytes.",
                index + 1,
                config.max_line_bytes
            )));
        }
        rows.push(row_of(ingest, host, received_at, line));
    }
    Ok(rows)
}

fn row_of(ingest: &Ingest, host: &HostRef, received_at: DateTime<Utc>, line: LogLine) -> EventRow {
    let origin = Origin {
        host,
        transport: Transport::Http,
        received_at,
        truncated: false,
        skew_limit_secs: ingest.config.clock_skew_secs,
    };
    let parsed = if line.message.starts_with('<') {
        syslog::parse(line.message.as_bytes(), received_at, ingest.rfc3164_zone())
    } else {
        Syslog {
            format: Format::Unparsed,
            facility: None,
            severity: None,
            timestamp: line
                .timestamp
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            hostname: line.hostname.clone(),
            app_name: line.program.clone(),
            proc_id: line.pid.map(|p| p.to_string()),
            message: line.message.clone(),
            parse_error: None,
            invalid_utf8: false,
        }
    };
    let mut row = EventRow::from_syslog(&origin, parsed, line.message);
    if let (Some(stream), Some(seq)) = (line.stream, line.seq) {
        row.seq = Some((stream, seq));
    }
    row
}

/// 401 for a missing, wrong or revoked host token.
pub(super) fn invalid_token() -> Response {
    error_response(
        StatusCode::UNAUTHORIZED,
        "invalid_token",
        "Send a live host token as `Authorization: Bearer <token>`.".into(),
    )
}

/// 503 telling a sender to come back after `retry_after_secs`: nothing was stored.
pub(super) fn unavailable(message: &str, retry_after_secs: u64) -> Response {
    let mut response = error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "ingest_unavailable",
        message.to_owned(),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

fn too_large(ingest: &Ingest) -> Refusal {
    Refusal::TooLarge(format!(
        "A batch may hold at most {} bytes, decompressed.",
        ingest.config.max_batch_bytes
    ))
}
