//! Direct calls to the stack's OpenBao with its root token, to set up what a test needs.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::stack;

/// Calls `/v1/<path>` as root; panics unless OpenBao answers with success.
async fn call(method: Method, path: &str, body: Option<&Value>) -> Value {
    let (status, answer) = try_call(method.clone(), path, body, true).await;
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

/// `POST /v1/<path>` with `body` and no token, as a login is made: the status and the
/// answer, whatever they are.
pub async fn try_write(path: &str, body: &Value) -> (StatusCode, Value) {
    try_call(Method::POST, path, Some(body), false).await
}

async fn try_call(
    method: Method,
    path: &str,
    body: Option<&Value>,
    as_root: bool,
) -> (StatusCode, Value) {
    let vault = &stack().vault;
    let pem = std::fs::read(&vault.ca_file).expect("OpenBao's CA");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
        .build()
        .unwrap();
    let mut request = client.request(method, format!("{}/v1/{path}", vault.addr));
    if as_root {
        request = request.header("X-Vault-Token", &vault.root_token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.expect("OpenBao answers");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `GET /v1/<path>`'s `data`.
pub async fn read(path: &str) -> Value {
    call(Method::GET, path, None).await["data"].clone()
}

/// `POST /v1/<path>` with `body`.
pub async fn write(path: &str, body: &Value) {
    call(Method::POST, path, Some(body)).await;
}

/// `DELETE /v1/<path>`.
pub async fn delete(path: &str) {
    call(Method::DELETE, path, None).await;
}
