//! Every call to the portal's JSON API, with its error body decoded. Login history, host
//! administration and host health have their own submodules.

mod health;
mod history;
mod hosts;

pub use self::health::{fleet, host_health};
pub use self::history::{
    EventQuery, audit_events, audit_export_path, my_history, sessions_on_host,
};
pub use self::hosts::{add_host, hosts, issue_token, revoke_token};

use opsportal_shared::auth::{Me, SignInRequest};
use opsportal_shared::certs::{
    CertificatePolicy, CertificateSummary, IssueRequest, IssuedCertificate, RevokeKeyRequest,
    RevokeOutcome, RevokeRequest,
};
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

    /// A problem found in the page before anything was sent, e.g. an empty form field.
    pub fn local(message: impl Into<String>) -> Self {
        Self {
            status: 0,
            code: "local".into(),
            message: message.into(),
            request_id: None,
        }
    }
}

/// What the certificate administration list is narrowed to; empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CertificateFilter {
    pub user: String,
    pub principal: String,
    pub state: String,
    pub limit: u32,
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

pub async fn certificate_policy() -> Result<CertificatePolicy, ApiError> {
    call("GET", "/api/certificates/policy", None::<&()>).await
}

pub async fn issue_certificate(request: IssueRequest) -> Result<IssuedCertificate, ApiError> {
    call("POST", "/api/certificates", Some(&request)).await
}

pub async fn my_certificates() -> Result<Vec<CertificateSummary>, ApiError> {
    call("GET", "/api/certificates", None::<&()>).await
}

pub async fn certificate(id: i64) -> Result<IssuedCertificate, ApiError> {
    call("GET", &format!("/api/certificates/{id}"), None::<&()>).await
}

/// Where the browser downloads a certificate file from; the server names the file.
pub fn certificate_download_path(id: i64) -> String {
    format!("/api/certificates/{id}/download")
}

pub async fn all_certificates(
    filter: CertificateFilter,
) -> Result<Vec<CertificateSummary>, ApiError> {
    let mut path = format!("/api/admin/certificates?limit={}", filter.limit);
    for (name, value) in [
        ("user", &filter.user),
        ("principal", &filter.principal),
        ("state", &filter.state),
    ] {
        let value = value.trim();
        if !value.is_empty() {
            path.push_str(&format!("&{name}={}", encode(value)));
        }
    }
    call("GET", &path, None::<&()>).await
}

pub async fn revoke_certificate(
    id: i64,
    reason: Option<String>,
) -> Result<RevokeOutcome, ApiError> {
    call(
        "POST",
        &format!("/api/admin/certificates/{id}/revoke"),
        Some(&RevokeRequest { reason }),
    )
    .await
}

pub async fn revoke_person(
    username: String,
    reason: Option<String>,
) -> Result<RevokeOutcome, ApiError> {
    call(
        "POST",
        &format!("/api/admin/people/{}/revoke", encode(&username)),
        Some(&RevokeRequest { reason }),
    )
    .await
}

pub async fn revoke_key(
    key_fingerprint: String,
    reason: Option<String>,
) -> Result<RevokeOutcome, ApiError> {
    call(
        "POST",
        "/api/admin/keys/revoke",
        Some(&RevokeKeyRequest {
            key_fingerprint,
            reason,
        }),
    )
    .await
}

/// Percent-encodes a query value or path segment: usernames may hold `/`, `&` or `#`.
fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<&impl Serialize>,
) -> Result<T, ApiError> {
    let text = call_raw(method, path, body).await?;
    let value = js_sys::JSON::parse(&text).map_err(|_| ApiError::network("unexpected answer"))?;
    serde_wasm_bindgen::from_value(value).map_err(|_| ApiError::network("unexpected answer"))
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
        let json = body
            .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
            .ok()
            .and_then(|value| js_sys::JSON::stringify(&value).ok())
            .ok_or_else(|| ApiError::network("encoding"))?;
        headers
            .set("content-type", "application/json")
            .map_err(js_error)?;
        init.set_body(&json);
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
    let parsed = js_sys::JSON::parse(&text)
        .ok()
        .and_then(|value| serde_wasm_bindgen::from_value::<ErrorBody>(value).ok());
    Err(match parsed {
        Some(body) => ApiError {
            status,
            code: body.error,
            message: body.message,
            request_id: Some(body.request_id).filter(|id| !id.is_empty()),
        },
        None => ApiError {
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
