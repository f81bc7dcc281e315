//! `/history`: a person's own logins, refusals and certificates.

use chrono::Utc;
use fantoccini::Locator;
use reqwest::StatusCode;
use serde_json::json;

use super::{
    certificate_words, click, host_token, push, row_with, sign_in, sshd_line, texts, wait_texts,
};
use crate::support::TestApp;
use crate::support::browser::Browser;
use crate::support::keys::KeyPair;

#[tokio::test]
async fn a_person_reads_their_logins_refusals_and_certificates_in_their_history() {
    let app = TestApp::start().await;
    let token = host_token(&app, "web21", "127.0.0.21").await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let issued = alice
        .issue(&KeyPair::ed25519().public, Some(&["root"]), None)
        .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let serial = issued.body["serial"].as_str().unwrap().to_owned();
    let cert = certificate_words(&issued.body);

    // One connection refused once, then logged in for 125 s; a refusal under a name made to
    // look like markup; a login still open; and enough older refusals to need a second page.
    let start = Utc::now() - chrono::Duration::minutes(30);
    let at = |secs: i64| start + chrono::Duration::seconds(secs);
    let mut lines = vec![
        sshd_line(
            101,
            at(0),
            &format!("Failed publickey for root from 10.20.0.7 port 40001 ssh2: {cert}"),
        ),
        sshd_line(
            101,
            at(5),
            &format!("Accepted publickey for root from 10.20.0.7 port 40001 ssh2: {cert}"),
        ),
        sshd_line(
            101,
            at(130),
            "Disconnected from user root 10.20.0.7 port 40001",
        ),
        sshd_line(
            102,
            at(200),
            &format!(
                "Failed publickey for invalid user <script>alert(1)</script> from 10.20.0.9 port 40002 ssh2: {cert}"
            ),
        ),
        sshd_line(
            103,
            at(300),
            &format!("Accepted publickey for root from 10.20.0.8 port 40003 ssh2: {cert}"),
        ),
    ];
    lines.extend((0..52).map(|i| {
        sshd_line(
            200 + i,
            at(-600 - i64::from(i)),
            &format!(
                "Failed publickey for root from 10.20.0.6 port {} ssh2: {cert}",
                41000 + i
            ),
        )
    }));
    push(&app, &token, &lines).await;
    let api = alice.get("/api/history?limit=500").await;
    assert_eq!(
        api.body["events"].as_array().unwrap().len(),
        56,
        "every line but the disconnect names alice: {}",
        api.body
    );

    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(c, &app, "alice").await;
    click(c, ".nav a[href='/history']").await;
    let rows = wait_texts(c, "#history-table tr.event-row", |r| r.len() == 50).await;

    let login = row_with(&rows, &["Logged in", "10.20.0.7:40001"]);
    for part in [
        "web21",
        "root",
        serial.as_str(),
        "2 min 5 s",
        "after 1 failed attempt",
    ] {
        assert!(login.contains(part), "{part:?} in {login}");
    }
    let refusal = row_with(&rows, &["Refused", "10.20.0.7:40001"]);
    assert!(
        refusal.contains("The key was refused by the host."),
        "the explanation is shown: {refusal}"
    );
    let open = row_with(&rows, &["Logged in", "10.20.0.8:40003"]);
    assert!(open.contains("still open"), "{open}");

    // The name is shown as the text it is; nothing of it became markup or ran.
    let accounts = texts(c, "#history-table td.account").await;
    assert!(
        accounts.contains(&"<script>alert(1)</script>".to_owned()),
        "{accounts:?}"
    );
    let injected = c
        .execute(
            "return document.querySelectorAll('td script, #history-table script').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(injected, json!(0));
    assert!(
        c.get_alert_text().await.is_err(),
        "no alert was opened by the name"
    );
    let title = c
        .find(Locator::Css("#history-table time"))
        .await
        .unwrap()
        .attr("title")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(title.ends_with(" UTC"), "the UTC time on hover: {title}");

    // The older refusals come with "Load more", after which there is nothing more to load.
    click(c, "#history-more").await;
    wait_texts(c, "#history-table tr.event-row", |r| r.len() == 56).await;
    wait_texts(c, "#history-more", <[String]>::is_empty).await;

    let certificates = wait_texts(c, "#history-certificates tr.cert-row", |r| r.len() == 1).await;
    assert!(certificates[0].contains(&serial), "{certificates:?}");

    // Narrowed to logins, and to something that never happened.
    let kind = c.find(Locator::Id("history-kind")).await.unwrap();
    kind.select_by_value("accepted").await.unwrap();
    let logins = wait_texts(c, "#history-table tr.event-row", |r| r.len() == 2).await;
    assert!(logins.iter().all(|r| r.contains("Logged in")), "{logins:?}");
    kind.select_by_value("key_revoked").await.unwrap();
    wait_texts(c, "#history-table tr.event-row", <[String]>::is_empty).await;
    let empty = wait_texts(c, "#history-empty", |r| r.len() == 1).await;
    assert_eq!(empty[0], "Nothing matches these filters.");

    browser.close().await;
}
