//! Every call to the portal's JSON API, with its error body decoded.

use opsportal_shared::auth::{Me, SignInRequest};
use opsportal_shared::error::ErrorBody;
use opsportal_shared::{CSRF_HEADER, CSRF_HEADER_VALUE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCredentials, RequestInit, Response};

/// Why a call failed, in words a person can act on.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl ApiError {
    fn network(detail: &str) -> Self {
        Self {
            status: 0,
            code: "network".into(),
            message: format!("The portal cannot be reached ({detail}). Check your connection."),
            request_id: None,
        }
    }
}

pub async fn me() -> Result<Me, ApiError> {
    call("GET", "/api/me", None::<&()>).await
}

pub async fn sign_in(username: String, password: String) -> Result<Me, ApiError> {
    call(
        "POST",
        "/api/session",
        Some(&SignInRequest { username, password }),
    )
    .await
}

pub async fn sign_out() -> Result<(), ApiError> {
    call_raw("DELETE", "/api/session", None::<&()>)
        .await
        .map(drop)
}

async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiError> {
    let text = call_raw(method, path, body).await?;
    serde_json::from_str(&text).map_err(|_| ApiError::network("unexpected answer"))
}

/// Sends a request; state-changing ones carry the anti-forgery header the server demands.
async fn call_raw(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<String, ApiError> {
    let headers = Headers::new().map_err(js_error)?;
    headers
        .set("accept", "application/json")
        .map_err(js_error)?;
    if method != "GET" {
        headers
            .set(CSRF_HEADER, CSRF_HEADER_VALUE)
            .map_err(js_error)?;
    }
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    if let Some(body) = body {
        let json = serde_json::to_string(body).map_err(|_| ApiError::network("encoding"))?;
        headers
            .set("content-type", "application/json")
            .map_err(js_error)?;
        init.set_body(&JsValue::from_str(&json));
    }
    init.set_headers(&headers);

    let request = Request::new_with_str_and_init(path, &init).map_err(js_error)?;
    let window = web_sys::window().ok_or_else(|| ApiError::network("no window"))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(js_error)?
        .dyn_into()
        .map_err(js_error)?;
    let text = JsFuture::from(response.text().map_err(js_error)?)
        .await
        .map_err(js_error)?
        .as_string()
        .unwrap_or_default();

    if response.ok() {
        return Ok(text);
    }
    let status = response.status();
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            code: body.error,
            message: body.message,
            request_id: Some(body.request_id).filter(|id| !id.is_empty()),
        },
        Err(_) => ApiError {
            status,
            code: "unexpected".into(),
            message: format!("The portal answered with status {status}."),
            request_id: None,
        },
    })
}

fn js_error(_: JsValue) -> ApiError {
    ApiError::network("request failed")
}
