//! The HTTP surface: health, readiness, one error shape everywhere, security headers.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn health_and_readiness_report_the_dependencies() {
    let app = TestApp::start().await;
    let health = app.client().get("/healthz").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body, json!({ "status": "ok" }));

    let ready = app.client().get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(
        ready.body["checks"],
        json!({ "database": "ok", "directory": "ok", "signer": "ok" })
    );
}

#[tokio::test]
async fn every_error_uses_one_json_shape_with_the_request_id() {
    let app = TestApp::start().await;
    let client = app.client();

    client
        .get("/api/no-such-thing")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    client
        .get("/pkg/missing.js")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let wrong_method = client.get("/api/session").await;
    wrong_method.expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");

    let huge = json!({ "username": "a", "password": "x".repeat(100_000) });
    client
        .post("/api/session", &huge)
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    let response = client
        .http
        .post(app.url("/api/session"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(
        body["message"],
        "The request is not valid: the body is not valid JSON."
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        3,
        "code, message and request id only"
    );

    // The request id of an error can be found in the audit trail of that request.
    let wrong = client.sign_in("wendy", "still-not-her-password").await;
    wrong.expect_error(StatusCode::UNAUTHORIZED, "invalid_credentials");
    let audit = app.audit("sign_in").await;
    assert_eq!(
        audit[0].request_id.as_deref(),
        wrong.body["request_id"].as_str()
    );
}

#[tokio::test]
async fn security_headers_are_on_pages_api_answers_and_errors() {
    let app = TestApp::start().await;
    for path in ["/", "/api/me", "/healthz", "/api/nothing"] {
        let response = app.raw_client().get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "connect-src 'self'",
        ] {
            assert!(
                csp.contains(directive),
                "{path}: {directive} missing from {csp}"
            );
        }
        assert!(
            !csp.contains("'unsafe-eval'") && !csp.contains("'unsafe-inline'"),
            "{csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert!(
            headers["strict-transport-security"]
                .to_str()
                .unwrap()
                .contains("max-age=31536000")
        );
        if path.starts_with("/api/") {
            assert_eq!(headers["cache-control"], "no-store", "{path}");
        }
    }
}

#[tokio::test]
async fn the_web_app_is_served_with_its_bundle() {
    let app = TestApp::start().await;
    let page = app.raw_client().get(app.url("/me")).send().await.unwrap();
    assert_eq!(
        page.status(),
        StatusCode::OK,
        "run `cargo xtask frontend` first"
    );
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("/boot.js"), "the page loads the app: {html}");
    assert!(!html.contains("<script>"), "no inline script");

    let wasm = app
        .raw_client()
        .get(app.url("/pkg/opsportal_bg.wasm"))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status(), StatusCode::OK);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let etag = wasm.headers()["etag"].clone();
    let again = app
        .raw_client()
        .get(app.url("/pkg/opsportal_bg.wasm"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}
