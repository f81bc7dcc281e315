//! `/admin/hosts`: adding a host, and each token's secret shown once until it is revoked.

use chrono::Utc;
use fantoccini::Locator;
use reqwest::StatusCode;

use super::{click, sign_in, sshd_line, texts, value_of, wait_for, wait_texts};
use crate::support::TestApp;
use crate::support::browser::Browser;

#[tokio::test]
async fn an_admin_adds_a_host_and_sees_each_token_once_until_it_is_revoked() {
    let app = TestApp::start().await;
    let line = [sshd_line(
        1,
        Utc::now(),
        "Connection closed by 10.0.0.9 port 1 [preauth]",
    )];
    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(c, &app, "bob").await;
    click(c, ".nav a[href='/admin/hosts']").await;
    wait_for(c, "#host-name")
        .await
        .send_keys("web24")
        .await
        .unwrap();
    c.find(Locator::Id("host-addresses"))
        .await
        .unwrap()
        .send_keys("10.0.0.24, 10.0.0.25")
        .await
        .unwrap();
    click(c, "#add-host").await;
    let hosts = wait_texts(c, "#hosts-table tr.host-row", |r| r.len() == 1).await;
    for part in ["web24", "10.0.0.24, 10.0.0.25", "never"] {
        assert!(hosts[0].contains(part), "{part:?} in {hosts:?}");
    }
    assert_eq!(
        app.count("select count(*) from ingest_host where name = 'web24'")
            .await,
        1
    );

    click(c, "#hosts-table button.new-token").await;
    wait_for(c, "#new-token-secret").await;
    let first = value_of(c, "#new-token-secret").await;
    assert!(first.len() > 20, "a whole secret: {first}");
    let panel = texts(c, "#new-token").await.concat();
    assert!(panel.contains("It will not be shown again"), "{panel}");
    assert_eq!(
        app.push_logs(Some(&first), &line).await.status,
        StatusCode::OK
    );
    let tokens = wait_texts(c, "#hosts-table li.token", |r| r.len() == 1).await;
    assert!(
        !tokens[0].contains(&first),
        "the list shows a hint, not the secret"
    );

    // Rotating, once confirmed, shows a new secret and ends the old one.
    click(c, "#hosts-table button.rotate-token").await;
    c.accept_alert().await.unwrap();
    let tokens = wait_texts(c, "#hosts-table li.token", |r| r.len() == 2).await;
    assert_eq!(tokens.iter().filter(|t| t.contains("revoked")).count(), 1);
    let second = value_of(c, "#new-token-secret").await;
    assert!(!second.is_empty() && second != first);
    app.push_logs(Some(&first), &line)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_token");

    click(c, "#hosts-table button.revoke-token").await;
    c.accept_alert().await.unwrap();
    wait_texts(c, "#hosts-table button.revoke-token", <[String]>::is_empty).await;
    assert!(
        texts(c, "#new-token").await.is_empty(),
        "a revoked token's secret is taken off the screen"
    );
    let notice = wait_texts(c, "#hosts-notice", |r| r.len() == 1).await;
    assert!(notice[0].ends_with("revoked."), "{notice:?}");
    assert_eq!(
        app.count("select count(*) from ingest_token where revoked_at is null")
            .await,
        0
    );
    assert_eq!(app.audit("host_token_revoke").await.len(), 1);
    app.push_logs(Some(&second), &line)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_token");

    // After a reload no secret is anywhere on the page.
    c.refresh().await.unwrap();
    wait_texts(c, "#hosts-table tr.host-row", |r| r.len() == 1).await;
    let source = c.source().await.unwrap();
    assert!(!source.contains(&first) && !source.contains(&second));

    browser.close().await;
}
