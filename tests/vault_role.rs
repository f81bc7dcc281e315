//! The Vault SSH role's safety check: the portal refuses to start on an unsafe role, and a
//! role made unsafe later turns readiness red, naming the setting, and stops signing.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::keys::KeyPair;
use crate::support::{AppOptions, SignerChoice, TestApp, openbao, stack};

fn with_role(role: &str) -> AppOptions {
    let SignerChoice::Vault(mut vault) = SignerChoice::vault_jwt() else {
        unreachable!("vault_jwt is a Vault signer")
    };
    vault.role = role.to_owned();
    AppOptions {
        signer: SignerChoice::Vault(vault),
        ..AppOptions::default()
    }
}

#[tokio::test]
async fn each_unsafe_role_setting_fails_readiness_with_the_setting_named() {
    let mount = &stack().vault.ssh_mount;
    let safe = openbao::read(&format!("{mount}/roles/{}", stack().vault.ssh_role)).await;
    let role = format!("portal-check-{}", uuid::Uuid::new_v4().simple());
    let path = format!("{mount}/roles/{role}");
    openbao::write(&path, &safe).await;

    let app = TestApp::with(with_role(&role)).await;
    let ready = app.client().get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["checks"]["signer"], "ok");
    let alice = app.client();
    alice.sign_in_as("alice").await;

    let mutations: [(&str, Value); 8] = [
        ("allowed_users", json!("*")),
        ("allow_user_key_ids", json!(true)),
        ("allow_empty_principals", json!(true)),
        ("allow_host_certificates", json!(true)),
        ("allowed_critical_options", json!("")),
        ("allowed_extensions", json!("")),
        ("max_ttl", json!("2h")),
        // Backdated further than the portal's verification accepts (30 s here).
        ("not_before_duration", json!(600)),
    ];
    for (field, value) in mutations {
        let mut unsafe_role = safe.clone();
        unsafe_role[field] = value.clone();
        openbao::write(&path, &unsafe_role).await;

        let ready = app.client().get("/readyz").await;
        let message = ready.expect_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
        assert!(
            message.contains(&format!("signer unsafe: ssh role {role}: {field} ")),
            "{field}={value}: {message}"
        );
        let key = KeyPair::ed25519();
        let answer = alice.issue(&key.public, None, None).await;
        answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "signing_misconfigured");
    }
    assert_eq!(
        app.count("select count(*) from certificate where state = 'issued'")
            .await,
        0
    );

    // Restored, the role signs again.
    openbao::write(&path, &safe).await;
    assert_eq!(app.client().get("/readyz").await.status, StatusCode::OK);
    let key = KeyPair::ed25519();
    assert_eq!(
        alice.issue(&key.public, None, None).await.status,
        StatusCode::CREATED
    );

    // A portal does not start on an unsafe role at all.
    let mut unsafe_role = safe.clone();
    unsafe_role["allowed_users"] = json!("*");
    openbao::write(&path, &unsafe_role).await;
    let refused = TestApp::try_with(with_role(&role))
        .await
        .err()
        .expect("the portal refuses to start");
    let message = format!("{refused:#}");
    assert!(message.contains("allowed_users"), "{message}");

    // A role that does not exist is named as well.
    let absent = format!("portal-absent-{}", uuid::Uuid::new_v4().simple());
    let missing = TestApp::try_with(with_role(&absent))
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{missing:#}").contains("does not exist"),
        "{missing:#}"
    );
    openbao::delete(&path).await;
}
