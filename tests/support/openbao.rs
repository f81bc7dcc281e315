//! Direct calls to the stack's OpenBao with its root token, to set up what a test needs.

use serde_json::Value;

use super::stack;

fn client() -> reqwest::Client {
    let pem = std::fs::read(&stack().vault.ca_file).expect("OpenBao's CA");
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM"))
        .build()
        .unwrap()
}

fn url(path: &str) -> String {
    format!("{}/v1/{path}", stack().vault.addr)
}

/// `GET /v1/<path>`'s `data`.
pub async fn read(path: &str) -> Value {
    let response = client()
        .get(url(path))
        .header("X-Vault-Token", &stack().vault.root_token)
        .send()
        .await
        .expect("OpenBao answers");
    assert!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    response.json::<Value>().await.unwrap()["data"].clone()
}

/// `POST /v1/<path>` with `body`.
pub async fn write(path: &str, body: &Value) {
    let response = client()
        .post(url(path))
        .header("X-Vault-Token", &stack().vault.root_token)
        .json(body)
        .send()
        .await
        .expect("OpenBao answers");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "POST {path}: {status} {text}");
}

/// `DELETE /v1/<path>`.
pub async fn delete(path: &str) {
    let response = client()
        .delete(url(path))
        .header("X-Vault-Token", &stack().vault.root_token)
        .send()
        .await
        .expect("OpenBao answers");
    assert!(
        response.status().is_success(),
        "DELETE {path}: {}",
        response.status()
    );
}
