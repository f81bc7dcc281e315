//! The real web app in headless Chromium.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::browser::Browser;
use crate::support::keys::KeyPair;
use crate::support::sshd::Sshd;
use crate::support::{TestApp, stack};

#[tokio::test]
async fn a_person_signs_in_on_the_real_page_and_sees_their_access() {
    let app = TestApp::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&app.url("/")).await.unwrap();
    let username = wait_for(c, "username", 20).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/sign-in");

    // A wrong password first: the error is shown in words, with its reference.
    username.send_keys("zoe").await.unwrap();
    let password = c.find(Locator::Id("password")).await.unwrap();
    password.send_keys("not-the-password").await.unwrap();
    click(c, Locator::Id("sign-in")).await;
    let error = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(".error-note"))
        .await
        .expect("an error note");
    let text = error.text().await.unwrap();
    assert!(text.contains("Invalid username or password."), "{text}");
    assert!(text.contains("Reference:"), "{text}");

    password.clear().await.unwrap();
    password
        .send_keys(&stack().person("zoe").password)
        .await
        .unwrap();
    click(c, Locator::Id("sign-in")).await;
    let name = wait_for(c, "me-name", 10).await;
    assert_eq!(name.text().await.unwrap(), "Zoe Tester");
    assert_eq!(c.current_url().await.unwrap().path(), "/me");
    let principals = text_of(c, "principals").await;
    assert!(
        principals.contains("root") && principals.contains("zone-webservers"),
        "{principals}"
    );
    let roles = text_of(c, "roles").await;
    assert_eq!(roles.trim().to_lowercase(), "user");

    // The session cookie is invisible to scripts (HttpOnly).
    let cookies = c.execute("return document.cookie", vec![]).await.unwrap();
    assert_eq!(cookies, "", "no cookie is readable from JavaScript");

    // A reload keeps the session; signing out ends it.
    c.refresh().await.unwrap();
    wait_for(c, "me-name", 10).await;
    click(c, Locator::Css(".who .link-button")).await;
    wait_for(c, "username", 10).await;
    assert_eq!(app.session_rows().await, 0);
    assert_eq!(app.audit("sign_out").await.len(), 1);

    browser.close().await;
}

/// The element with `id`, once it is on the page (within `secs` seconds).
async fn wait_for(c: &fantoccini::Client, id: &str, secs: u64) -> fantoccini::elements::Element {
    c.wait()
        .at_most(Duration::from_secs(secs))
        .for_element(Locator::Id(id))
        .await
        .unwrap_or_else(|e| panic!("#{id} did not appear: {e}"))
}

/// Clicks the element `locator` finds.
async fn click(c: &fantoccini::Client, locator: Locator<'_>) {
    c.find(locator).await.unwrap().click().await.unwrap();
}

/// The text of the element with `id`.
async fn text_of(c: &fantoccini::Client, id: &str) -> String {
    c.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

pub(crate) async fn sign_in(c: &fantoccini::Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/sign-in")).await.unwrap();
    let field = wait_for(c, "username", 20).await;
    field.send_keys(username).await.unwrap();
    let password = c.find(Locator::Id("password")).await.unwrap();
    password
        .send_keys(&stack().person(username).password)
        .await
        .unwrap();
    click(c, Locator::Id("sign-in")).await;
    wait_for(c, "me-name", 10).await;
}

/// Requests a certificate with the form as it stands and returns the certificate line.
async fn request_and_read(c: &fantoccini::Client) -> String {
    click(c, Locator::Id("request-certificate")).await;
    wait_for(c, "issued", 15).await;
    text_of(c, "certificate-text").await
}

#[tokio::test]
async fn a_person_gets_a_certificate_in_the_browser_and_logs_in_with_it() {
    let app = TestApp::start().await;
    let sshd = Sshd::start(&["root", "zone-webservers"]);
    let browser = Browser::start().await;
    let c = &browser.client;
    sign_in(c, &app, "zoe").await;

    // The pasted-key path, from the navigation.
    click(c, Locator::LinkText("Certificates")).await;
    let textarea = wait_for(c, "public-key", 10).await;
    let key = KeyPair::ed25519();
    textarea.send_keys(&key.public).await.unwrap();
    let shown = request_and_read(c).await;
    assert!(
        shown.starts_with("ssh-ed25519-cert-v01@openssh.com "),
        "{shown}"
    );
    click(c, Locator::Id("download-certificate")).await;
    let downloaded = browser.downloaded("id_ed25519-cert.pub").await;
    assert_eq!(
        downloaded.trim(),
        shown.trim(),
        "the download is the certificate shown"
    );
    let details = text_of(c, "certificate-details").await;
    assert!(details.contains("Key ID: \"portal-zoe-"), "{details}");
    let config = text_of(c, "ssh-config").await;
    assert!(
        config.contains("CertificateFile ~/.ssh/id_ed25519-cert.pub")
            && config.contains("IdentitiesOnly yes"),
        "{config}"
    );
    let countdown = text_of(c, "countdown").await;
    assert!(countdown.starts_with("expires in "), "{countdown}");

    let cert = key.save_certificate(&downloaded);
    let login = sshd.login(&key.private_key, &cert);
    assert!(
        login.status.success(),
        "ssh: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    let rows = c
        .find_all(Locator::Css("#my-certificates tbody tr.cert-row"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "my certificates lists it");

    // The in-browser key pair path: the private key never reaches the portal.
    c.refresh().await.unwrap();
    wait_for(c, "generate-key", 10).await.click().await.unwrap();
    let public = c
        .find(Locator::Id("public-key"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(public.starts_with("ssh-ed25519 "), "{public}");
    let certificate = request_and_read(c).await;
    let link = wait_for(c, "download-private-key", 10).await;
    let href = link.attr("href").await.unwrap().unwrap_or_default();
    assert!(
        href.starts_with("blob:"),
        "made and kept in the page: {href}"
    );
    link.click().await.unwrap();
    let private = browser.downloaded("id_ed25519").await;
    assert!(
        private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"),
        "the private key downloads"
    );
    let leaked: i64 =
        sqlx::query_scalar("select count(*) from certificate where public_key like '%PRIVATE%'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(leaked, 0);
    let audit_text: String =
        sqlx::query_scalar("select coalesce(string_agg(detail::text, ''), '') from audit_event")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let body = private.lines().nth(1).unwrap_or_default();
    assert!(
        !audit_text.contains(body),
        "no trace of the private key in the audit trail"
    );

    let generated = KeyPair::from_private(&private, &public);
    let cert = generated.save_certificate(&certificate);
    let login = sshd.login(&generated.private_key, &cert);
    assert!(
        login.status.success(),
        "ssh with the browser's key: {}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert_eq!(
        app.count("select count(*) from certificate where state = 'issued'")
            .await,
        2
    );

    browser.close().await;
}
