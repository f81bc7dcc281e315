//! Cross-site request forgery defence for a single-page app that talks JSON.
//!
//! Every state-changing API call (anything but GET, HEAD and OPTIONS), sign-in included, must
//! carry the portal's custom header, must not come from another site according to the browser's
//! Fetch Metadata, must name the portal's own origin if it names one, and must send JSON. A
//! cross-site page can do none of that without a CORS preflight, which the portal never grants.

use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use opsportal_shared::{CSRF_HEADER, CSRF_HEADER_VALUE};

use crate::error::ApiError;

/// The portal's own origin, as configured (`https://host[:port]`).
#[derive(Clone)]
pub struct Origin(pub String);

/// Middleware: refuses state-changing calls that may come from another site.
pub async fn guard(State(origin): State<Origin>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    match check(&origin, &request) {
        Ok(()) => next.run(request).await,
        Err(error) => {
            tracing::info!(reason = error.to_string(), "state-changing call refused");
            error.into_response()
        }
    }
}

fn check(origin: &Origin, request: &Request) -> Result<(), ApiError> {
    let headers = request.headers();
    let header_str = |name| headers.get(name).and_then(|v| v.to_str().ok());

    if header_str("sec-fetch-site").is_some_and(|site| site != "same-origin") {
        return Err(ApiError::CsrfRejected("fetch metadata is not same-origin"));
    }
    if header_str(header::ORIGIN.as_str()).is_some_and(|sent| sent != origin.0) {
        return Err(ApiError::CsrfRejected("origin differs from the portal's"));
    }
    if header_str(CSRF_HEADER) != Some(CSRF_HEADER_VALUE) {
        return Err(ApiError::CsrfRejected("anti-forgery header missing"));
    }

    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .is_some_and(|len| len != "0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    if has_body {
        let content_type = header_str(header::CONTENT_TYPE.as_str()).unwrap_or_default();
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    Ok(())
}
