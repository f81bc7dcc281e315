//! `GET /krl`: the OpenSSH key revocation list for hosts' `RevokedKeys`, built afresh from the
//! registry on every request so that it is always complete.
//!
//! A host that reads a broken list refuses every key, so the list is only served whole: any
//! problem answers 503 and the host keeps the copy it has.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ssh_key::PublicKey;

use crate::app::AppState;
use crate::certs::{krl, store};
use crate::error::ApiError;

pub async fn serve(State(state): State<AppState>) -> Result<Response, ApiError> {
    let rows = store::revocations(&state.db).await?;
    let mut revocations = krl::Revocations::default();
    for (ca_text, serial) in &rows.serials {
        let serial: u64 = serial
            .parse()
            .map_err(|_| ApiError::Internal(format!("stored serial {serial} is not a u64")))?;
        match revocations.serials.last_mut() {
            Some((ca, serials)) if ca.to_openssh().is_ok_and(|t| t.trim() == ca_text.trim()) => {
                serials.push(serial)
            }
            _ => revocations
                .serials
                .push((parse_key(ca_text)?, vec![serial])),
        }
    }
    for key in &rows.keys {
        revocations.keys.push(parse_key(key)?);
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let version = u64::try_from(rows.version).unwrap_or_default();
    let body = krl::encode(&revocations, version, now)
        .map_err(|e| ApiError::Internal(format!("encoding the revocation list: {e}")))?;

    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&version.to_string()) {
        headers.insert("x-krl-version", value);
    }
    Ok(response)
}

fn parse_key(text: &str) -> Result<PublicKey, ApiError> {
    PublicKey::from_openssh(text.trim())
        .map_err(|e| ApiError::Internal(format!("stored key does not parse: {e}")))
}
