//! A JSON body extractor whose refusals use the portal's error body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Like `axum::Json`, but a malformed body becomes `invalid_request` (or
/// `unsupported_media_type`) in the usual error shape.
///
/// Error messages name fields but never echo values: a password typed into the wrong field, or
/// sent as a number, must not come back in the answer or reach a log.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|ct| ct.split(';').next())
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::InvalidRequest("the body is too large or unreadable".into()))?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(|e| ApiError::InvalidRequest(describe(&e)))
    }
}

fn describe(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => {
            let text = error.to_string();
            let text = text.split(" at line ").next().unwrap_or_default();
            if text.starts_with("unknown field") || text.starts_with("missing field") {
                // serde lists the expected fields after the unknown one; only the name matters.
                text.split(", expected").next().unwrap_or(text).to_owned()
            } else {
                "a field has a value of the wrong type".to_owned()
            }
        }
        Category::Syntax | Category::Eof | Category::Io => "the body is not valid JSON".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        username: String,
        password: String,
    }

    fn error_for(json: &str) -> String {
        describe(&serde_json::from_str::<Body>(json).expect_err("must fail"))
    }

    #[test]
    fn unknown_and_missing_fields_are_named() {
        assert_eq!(
            error_for(r#"{"username":"a","password":"b","role":"admin"}"#),
            "unknown field `role`"
        );
        assert_eq!(error_for(r#"{"username":"a"}"#), "missing field `password`");
    }

    #[test]
    fn wrong_types_do_not_echo_the_value() {
        let message = error_for(r#"{"username":"a","password":918273645}"#);
        assert!(!message.contains("918273645"), "{message}");
        assert_eq!(error_for("{not json"), "the body is not valid JSON");
    }
}
