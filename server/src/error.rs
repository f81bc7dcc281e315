//! The HTTP error type: every failure a handler returns becomes the one JSON error body, with
//! the status, a stable code, a plain sentence and the request id.
//!
//! Internal detail (SQL, DNs, upstream messages) is logged once, inside the request's span, and
//! never sent to the client.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use opsportal_shared::error::ErrorBody;

use crate::http::request_id;

/// An answer other than success, as the client will see it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("invalid username or password")]
    InvalidCredentials,
    #[error("account cannot sign in")]
    AccountUnavailable,
    #[error("account locked")]
    AccountLocked,
    #[error("password expired")]
    PasswordExpired,
    #[error("password must be changed")]
    PasswordChangeRequired,
    #[error("not permitted to use the portal")]
    NotAuthorized,
    #[error("not signed in")]
    Unauthenticated,
    #[error("session ended")]
    SessionExpired,
    #[error("role does not allow this")]
    Forbidden,
    #[error("not found")]
    NotFound,
    /// A refusal decided by a domain layer, which chose the status, code and sentence.
    #[error("{code}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("cross-site request refused: {0}")]
    CsrfRejected(&'static str),
    #[error("content type must be application/json")]
    UnsupportedMediaType,
    #[error("too many attempts")]
    TooManyAttempts { retry_after: Duration },
    #[error("directory unavailable")]
    DirectoryUnavailable,
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// Status and stable code of each variant.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            Self::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
            Self::AccountUnavailable => (StatusCode::FORBIDDEN, "account_unavailable"),
            Self::AccountLocked => (StatusCode::FORBIDDEN, "account_locked"),
            Self::PasswordExpired => (StatusCode::FORBIDDEN, "password_expired"),
            Self::PasswordChangeRequired => (StatusCode::FORBIDDEN, "password_change_required"),
            Self::NotAuthorized => (StatusCode::FORBIDDEN, "not_authorized"),
            Self::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            Self::SessionExpired => (StatusCode::UNAUTHORIZED, "session_expired"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Self::Refused { status, code, .. } => (*status, code),
            Self::CsrfRejected(_) => (StatusCode::FORBIDDEN, "csrf_rejected"),
            Self::UnsupportedMediaType => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            Self::DirectoryUnavailable => {
                (StatusCode::SERVICE_UNAVAILABLE, "directory_unavailable")
            }
            Self::ServiceUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }

    /// The sentence shown to the person.
    fn message(&self) -> String {
        match self {
            Self::InvalidRequest(detail) => format!("The request is not valid: {detail}."),
            Self::InvalidCredentials => "Invalid username or password.".into(),
            Self::AccountUnavailable => {
                "Your account cannot sign in at the moment. Contact the service desk.".into()
            }
            Self::AccountLocked => {
                "Your account is locked. Try again later or contact the service desk.".into()
            }
            Self::PasswordExpired => {
                "Your Windows password has expired. Change it, then sign in again.".into()
            }
            Self::PasswordChangeRequired => {
                "You must change your Windows password before using the portal.".into()
            }
            Self::NotAuthorized => "Your account is not permitted to use this portal.".into(),
            Self::Unauthenticated => "Sign in to continue.".into(),
            Self::SessionExpired => "Your session has ended. Sign in again.".into(),
            Self::Forbidden => "Your role does not allow this.".into(),
            Self::NotFound => "There is nothing here.".into(),
            Self::Refused { message, .. } => message.clone(),
            Self::CsrfRejected(_) => {
                "This request did not come from the portal's own pages and was refused.".into()
            }
            Self::UnsupportedMediaType => "Send the request body as application/json.".into(),
            Self::TooManyAttempts { retry_after } => format!(
                "Too many failed sign-in attempts. Try again in {} s.",
                retry_after.as_secs().max(1)
            ),
            Self::DirectoryUnavailable => {
                "Sign-in is temporarily unavailable. Try again in a minute.".into()
            }
            Self::ServiceUnavailable(_) => {
                "The portal is temporarily unavailable. Try again in a minute.".into()
            }
            Self::Internal(_) => "Something went wrong on our side.".into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            Self::Internal(detail) => tracing::error!(error.code = code, %detail, "request failed"),
            Self::ServiceUnavailable(detail) => {
                tracing::warn!(error.code = code, %detail, "dependency unavailable")
            }
            _ => tracing::debug!(error.code = code, "request refused"),
        }
        let mut response = error_response(status, code, self.message());
        if let Self::TooManyAttempts { retry_after } = &self {
            let secs = retry_after.as_secs().max(1).to_string();
            if let Ok(value) = HeaderValue::from_str(&secs) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        response
    }
}

/// Builds the JSON error body for `status` with the current request's id.
pub fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    let body = ErrorBody {
        error: code.to_owned(),
        message,
        request_id: request_id::current().unwrap_or_default(),
    };
    (status, axum::Json(body)).into_response()
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::ServiceUnavailable(format!("database: {error}"))
            }
            other => Self::Internal(format!("database: {other}")),
        }
    }
}

impl From<tower_sessions::session::Error> for ApiError {
    fn from(error: tower_sessions::session::Error) -> Self {
        Self::ServiceUnavailable(format!("session store: {error}"))
    }
}
