//! `/audit`: the auditors' search, its pages and export, a person's timeline, who was on a
//! host, and the page refused to a person who is no auditor.

use std::path::Path;

use chrono::Utc;
use fantoccini::Locator;
use serde_json::Value;

use super::{
    click, host_token, push, row_with, sign_in, sshd_line, texts, value_of, wait_for, wait_texts,
};
use crate::support::TestApp;
use crate::support::browser::Browser;

#[tokio::test]
async fn an_auditor_searches_pages_exports_and_asks_who_was_on_a_host() {
    let app = TestApp::start().await;
    let token = host_token(&app, "web22", "127.0.0.22").await;
    let other = host_token(&app, "web23", "127.0.0.23").await;
    let start = Utc::now() - chrono::Duration::minutes(2);
    let at = |secs: i64| start + chrono::Duration::seconds(secs);
    let mut lines: Vec<Value> = (0..12)
        .map(|i| {
            let closed = format!(
                "Connection closed by 10.20.0.9 port {} [preauth]",
                42000 + i
            );
            sshd_line(300 + i, at(i64::from(i)), &closed)
        })
        .collect();
    // A certificate the portal never issued, named by its Key ID, and a plain key on root.
    lines.push(sshd_line(
        400,
        at(20),
        "Accepted publickey for root from 10.20.0.5 port 43001 ssh2: ED25519-CERT \
         SHA256:graceskeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ID vault-ldap-grace-00ff \
         (serial 77) CA ED25519 SHA256:elsewhereAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ));
    lines.push(sshd_line(
        401,
        at(30),
        "Accepted publickey for root from 10.20.0.8 port 43002 ssh2: ED25519 SHA256:plainkeyAAAA",
    ));
    push(&app, &token, &lines).await;
    let elsewhere: Vec<Value> = (0..3)
        .map(|i| {
            sshd_line(
                500 + i,
                at(40),
                "Connection closed by 10.20.0.1 port 1 [preauth]",
            )
        })
        .collect();
    push(&app, &other, &elsewhere).await;

    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(c, &app, "carol").await;
    click(c, ".nav a[href='/audit']").await;
    wait_for(c, "#audit-host")
        .await
        .send_keys("web22")
        .await
        .unwrap();
    c.find(Locator::Id("audit-limit"))
        .await
        .unwrap()
        .select_by_value("10")
        .await
        .unwrap();
    click(c, "#audit-search").await;
    let first = wait_texts(c, "#audit-table tr.event-row", |r| r.len() == 10).await;
    let hosts = texts(c, "#audit-table td.host").await;
    assert!(hosts.iter().all(|h| h == "web22"), "{hosts:?}");
    let flagged = texts(c, "#audit-table tr.event-row.flagged").await;
    assert_eq!(flagged.len(), 2, "{first:#?}");
    row_with(&flagged, &["non_ca", "10.20.0.8:43002"]);
    row_with(&flagged, &["inferred", "grace"]);

    // The export links ask for the same search, and give every match, not just this page.
    let csv = c.find(Locator::Id("export-csv")).await.unwrap();
    let csv_href = csv.attr("href").await.unwrap().unwrap_or_default();
    assert!(
        csv_href.contains("format=csv") && csv_href.contains("host=web22"),
        "{csv_href}"
    );
    assert!(csv.attr("download").await.unwrap().is_some());
    let ndjson = c.find(Locator::Id("export-ndjson")).await.unwrap();
    let ndjson_href = ndjson.attr("href").await.unwrap().unwrap_or_default();
    assert!(
        ndjson_href.contains("format=ndjson&host=web22"),
        "{ndjson_href}"
    );
    let carol = app.client();
    carol.sign_in_as("carol").await;
    let exported = carol.get_text(&ndjson_href).await;
    assert_eq!(exported.lines().count(), 14, "{exported}");
    assert!(exported.lines().all(|l| l.contains("\"host\":\"web22\"")));

    click(c, "#audit-next").await;
    let second = wait_texts(c, "#audit-table tr.event-row", |r| r.len() == 4).await;
    assert!(second.iter().all(|row| !first.contains(row)), "no repeats");
    assert_eq!(texts(c, "#audit-summary").await, ["Page 2: 4 events."]);
    assert!(texts(c, "#audit-next").await.is_empty(), "the last page");

    click(c, "#audit-flagged").await;
    click(c, "#audit-search").await;
    wait_texts(c, "#audit-table tr.event-row", |r| {
        r.len() == 2 && all_flagged(r)
    })
    .await;
    // A person's name opens their timeline: the same search, narrowed to them.
    click(c, "#audit-table button.person-link").await;
    let timeline = wait_texts(c, "#audit-table tr.event-row", |r| r.len() == 1).await;
    assert!(timeline[0].contains("grace"), "{timeline:?}");
    assert_eq!(value_of(c, "#audit-person").await, "grace");

    // Who was on web22 in the last two hours: the two logins, neither ended.
    wait_for(c, "#onhost-host")
        .await
        .send_keys("web22")
        .await
        .unwrap();
    c.execute(
        "const local = ms => new Date(ms - new Date(ms).getTimezoneOffset() * 60000)
             .toISOString().slice(0, 16);
         for (const [id, ms] of [['onhost-from', Date.now() - 7200e3],
                                 ['onhost-to', Date.now() + 3600e3]]) {
             const input = document.getElementById(id);
             input.value = local(ms);
             input.dispatchEvent(new Event('input', { bubbles: true }));
         }",
        vec![],
    )
    .await
    .unwrap();
    click(c, "#onhost-search").await;
    let sessions = wait_texts(c, "#onhost-table tr.session-row", |r| r.len() == 2).await;
    row_with(&sessions, &["grace", "10.20.0.5:43001", "still open"]);
    row_with(&sessions, &["non_ca", "10.20.0.8:43002", "still open"]);
    assert_eq!(app.audit("audit_sessions").await.len(), 1);

    let screenshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    std::fs::write(screenshots.join("audit.png"), c.screenshot().await.unwrap()).unwrap();

    // A person who is no auditor has no link to the page, and is told so on it.
    click(c, ".who .link-button").await;
    wait_for(c, "#username").await;
    sign_in(c, &app, "alice").await;
    assert!(texts(c, ".nav a[href='/audit']").await.is_empty());
    c.goto(&app.url("/audit")).await.unwrap();
    let refused = wait_texts(c, "#not-allowed", |r| r.len() == 1).await;
    assert_eq!(refused[0], "This page is for auditors and admins.");
    assert!(texts(c, "#audit-form").await.is_empty());

    browser.close().await;
}

/// Whether every row is one the audit marked, going by the attribution it names.
fn all_flagged(rows: &[String]) -> bool {
    rows.iter().all(|r| {
        ["non_ca", "inferred", "suspicious", "unattributed"]
            .iter()
            .any(|a| r.contains(a))
    })
}
