//! The login history ([`history`]), the audit search ([`audit`]) and the host administration
//! ([`hosts`]) in the real web app, in headless Chromium, over lines pushed through the real
//! log ingest. The helpers here read the page the way a person does: by its visible text.

mod audit;
mod history;
mod hosts;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fantoccini::{Client, Locator};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::TestApp;

/// An NDJSON line as a shipper sends what sshd's process `pid` wrote at `at`.
pub(crate) fn sshd_line(pid: u32, at: DateTime<Utc>, message: &str) -> Value {
    json!({ "message": message, "program": "sshd", "pid": pid, "timestamp": at.to_rfc3339() })
}

/// How sshd names the certificate the portal issued: key, Key ID, serial and CA.
pub(crate) fn certificate_words(issued: &Value) -> String {
    format!(
        "ED25519-CERT {} ID {} (serial {}) CA ED25519 {}",
        issued["key_fingerprint"].as_str().unwrap(),
        issued["key_id"].as_str().unwrap(),
        issued["serial"].as_str().unwrap(),
        issued["ca_fingerprint"].as_str().unwrap(),
    )
}

/// Registers `name` and returns a token for it.
async fn host_token(app: &TestApp, name: &str, address: &str) -> String {
    app.host_with_token(name, address).await.2
}

async fn push(app: &TestApp, token: &str, lines: &[Value]) {
    let answer = app.push_logs(Some(token), lines).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["accepted"], lines.len());
}

/// Signs in on the real page, as the other browser tests do.
pub(crate) use crate::browser::sign_in;

pub(crate) async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
}

pub(crate) async fn click(c: &Client, css: &str) {
    wait_for(c, css).await.click().await.unwrap();
}

/// The visible text of every element `css` matches, read at one instant.
pub(crate) async fn texts(c: &Client, css: &str) -> Vec<String> {
    let found = c
        .execute(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText)",
            vec![json!(css)],
        )
        .await
        .unwrap();
    serde_json::from_value(found).unwrap()
}

/// The texts of what `css` matches, once `done` holds for them (within 15 seconds).
pub(crate) async fn wait_texts(
    c: &Client,
    css: &str,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = texts(c, css).await;
        if done(&found) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{css} never got there: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `value` of the input `css` finds.
async fn value_of(c: &Client, css: &str) -> String {
    let value = c
        .execute(
            "return document.querySelector(arguments[0]).value",
            vec![json!(css)],
        )
        .await
        .unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

/// The one row of `rows` that holds every one of `parts`.
fn row_with<'a>(rows: &'a [String], parts: &[&str]) -> &'a str {
    let found: Vec<&String> = rows
        .iter()
        .filter(|row| parts.iter().all(|p| row.contains(p)))
        .collect();
    assert_eq!(found.len(), 1, "one row with {parts:?} in {rows:#?}");
    found[0]
}
