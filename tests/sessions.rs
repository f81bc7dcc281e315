//! Sessions: fixation, sign-out, timeouts, restarts, cookie attributes and CSRF.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::json;

use crate::support::{AppOptions, TestApp, stack};

#[tokio::test]
async fn signing_in_issues_a_new_session_id_and_the_planted_one_is_worthless() {
    let app = TestApp::start().await;
    let client = app.client();
    let planted = "opsportal_session=AAAAAAAAAAAAAAAAAAAAAA";
    let response = client
        .http
        .post(app.url("/api/session"))
        .header(COOKIE, planted)
        .json(&json!({ "username": "uma", "password": stack().person("uma").password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("opsportal_session="))
        .expect("a session cookie");
    let issued = cookie.split(';').next().unwrap();
    assert_ne!(issued, planted);
    assert_eq!(issued.len(), planted.len(), "128-bit ids, base64url");

    let replay = app
        .raw_client()
        .get(app.url("/api/me"))
        .header(COOKIE, planted)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);

    // Signing in again on the same client rotates the id once more.
    let second = client.sign_in_as("uma").await;
    let rotated = second.session_cookie().expect("new cookie");
    assert_ne!(rotated, issued);
    let old = app
        .raw_client()
        .get(app.url("/api/me"))
        .header(COOKIE, issued)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the previous id died with the rotation"
    );

    let audit = app.audit("sign_in").await;
    let hash = audit.last().unwrap().detail["session_id_hash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(hash.len(), 64, "sessions are audited by hash");
    assert!(!hash.contains(rotated.split('=').nth(1).unwrap()));
}

#[tokio::test]
async fn a_signed_out_cookie_no_longer_works() {
    let app = TestApp::start().await;
    let client = app.client();
    let cookie = client.sign_in_as("victor").await.session_cookie().unwrap();
    assert_eq!(app.session_rows().await, 1);

    let out = client.delete("/api/session").await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(out.headers["clear-site-data"], "\"cookies\", \"storage\"");
    assert_eq!(
        app.session_rows().await,
        0,
        "the server-side session is gone"
    );

    let replay = app
        .raw_client()
        .get(app.url("/api/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(body["error"], "session_expired");

    let audit = app.audit("sign_out").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor.as_deref(), Some("victor"));

    let anonymous = app.client().get("/api/me").await;
    anonymous.expect_error(StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn an_idle_session_expires_on_the_server_and_activity_keeps_it_alive() {
    let app = TestApp::with(AppOptions {
        idle_timeout_secs: 2,
        absolute_timeout_secs: 60,
        ..AppOptions::default()
    })
    .await;
    let active = app.client();
    active.sign_in_as("uma").await;
    let idle = app.client();
    let cookie = idle.sign_in_as("victor").await.session_cookie().unwrap();

    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert_eq!(active.get("/api/me").await.status, StatusCode::OK);
    }
    // The idle client's cookie would still be sent by a browser that ignored Max-Age.
    let replay = app
        .raw_client()
        .get(app.url("/api/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_busy_session_still_ends_at_the_absolute_timeout() {
    let app = TestApp::with(AppOptions {
        idle_timeout_secs: 3,
        absolute_timeout_secs: 4,
        ..AppOptions::default()
    })
    .await;
    let client = app.client();
    let signed_in = Instant::now();
    let cookie = client.sign_in_as("uma").await.session_cookie().unwrap();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(client.get("/api/me").await.status, StatusCode::OK);
    }
    tokio::time::sleep(
        (signed_in + Duration::from_millis(4300)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert_eq!(
        app.session_rows().await,
        1,
        "activity kept the session within its idle timeout"
    );
    // Sent by hand: the client's own jar may already have dropped the cookie by Max-Age, and
    // what is tested is the server's refusal.
    let replay = app
        .raw_client()
        .get(app.url("/api/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(body["error"], "session_expired");
    assert_eq!(
        app.session_rows().await,
        0,
        "the expired session is deleted"
    );
}

#[tokio::test]
async fn sessions_survive_a_portal_restart() {
    let mut app = TestApp::start().await;
    let client = app.client();
    client.sign_in_as("victor").await;
    app.restart().await;
    let me = client.get("/api/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["username"], "victor");
}

#[tokio::test]
async fn the_production_cookie_is_host_prefixed_secure_httponly_and_strict() {
    let app = TestApp::with(AppOptions {
        dev_insecure_http: false,
        ..AppOptions::default()
    })
    .await;
    let response = app
        .raw_client()
        .post(app.url("/api/session"))
        .header(
            opsportal_shared::CSRF_HEADER,
            opsportal_shared::CSRF_HEADER_VALUE,
        )
        .json(&json!({ "username": "uma", "password": stack().person("uma").password }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-opsportal_session="), "{cookie}");
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=1800",
    ] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing in {cookie}"
        );
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn state_changing_calls_without_the_csrf_defence_are_refused() {
    let app = TestApp::start().await;
    let signed_in = app.client();
    signed_in.sign_in_as("uma").await;
    let body = json!({ "username": "uma", "password": stack().person("uma").password });
    let url = app.url("/api/session");
    let header = opsportal_shared::CSRF_HEADER;
    let raw = app.raw_client();

    let no_header = raw.post(&url).json(&body).send().await.unwrap();
    let evil_origin = raw
        .post(&url)
        .header(header, "1")
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    let cross_site = raw
        .post(&url)
        .header(header, "1")
        .header("sec-fetch-site", "cross-site")
        .json(&body)
        .send()
        .await
        .unwrap();
    for response in [no_header, evil_origin, cross_site] {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "csrf_rejected");
    }
    let text_plain = raw
        .post(&url)
        .header(header, "1")
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(text_plain.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A forged sign-out leaves the session in place.
    let sign_out = signed_in
        .http
        .delete(&url)
        .header(header, "0")
        .send()
        .await
        .unwrap();
    assert_eq!(sign_out.status(), StatusCode::FORBIDDEN);
    assert_eq!(signed_in.get("/api/me").await.status, StatusCode::OK);

    let audited = app.audit("sign_in").await;
    assert_eq!(audited.len(), 1, "refused calls never reached sign-in");
}
