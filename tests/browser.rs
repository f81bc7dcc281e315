//! The real web app in headless Chromium.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::browser::Browser;
use crate::support::{TestApp, stack};

#[tokio::test]
async fn a_person_signs_in_on_the_real_page_and_sees_their_access() {
    let app = TestApp::start().await;
    let browser = Browser::start().await;
    let c = &browser.client;

    c.goto(&app.url("/")).await.unwrap();
    let username = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("username"))
        .await
        .expect("the sign-in form appears");
    assert_eq!(c.current_url().await.unwrap().path(), "/sign-in");

    // A wrong password first: the error is shown in words, with its reference.
    username.send_keys("zoe").await.unwrap();
    let password = c.find(Locator::Id("password")).await.unwrap();
    password.send_keys("not-the-password").await.unwrap();
    c.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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
    c.find(Locator::Id("sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("me-name"))
        .await
        .expect("the me page");
    assert_eq!(name.text().await.unwrap(), "Zoe Tester");
    assert_eq!(c.current_url().await.unwrap().path(), "/me");
    let principals = c
        .find(Locator::Id("principals"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        principals.contains("root") && principals.contains("zone-webservers"),
        "{principals}"
    );
    let roles = c
        .find(Locator::Id("roles"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(roles.trim().to_lowercase(), "user");

    // The session cookie is invisible to scripts (HttpOnly).
    let cookies = c.execute("return document.cookie", vec![]).await.unwrap();
    assert_eq!(cookies, "", "no cookie is readable from JavaScript");

    // A reload keeps the session; signing out ends it.
    c.refresh().await.unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("me-name"))
        .await
        .unwrap();
    c.find(Locator::Css(".who .link-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Id("username"))
        .await
        .unwrap();
    assert_eq!(app.session_rows().await, 0);
    assert_eq!(app.audit("sign_out").await.len(), 1);

    browser.close().await;
}
