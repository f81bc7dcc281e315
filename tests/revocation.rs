//! Revocation: admins revoke one certificate, a person's, or a key; the served KRL makes
//! sshd refuse them, and `ssh-keygen -Q` agrees with it.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::keys::{KeyPair, krl_revokes};
use crate::support::sshd::Sshd;
use crate::support::{AppOptions, SignerChoice, TestApp};

/// Issues a certificate for a new key and saves it; returns (key, certificate path, id).
async fn certified(client: &crate::support::Client) -> (KeyPair, std::path::PathBuf, i64, String) {
    let key = KeyPair::ed25519();
    let answer = client.issue(&key.public, Some(&["root"]), Some(600)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let cert = key.save_certificate(answer.body["certificate"].as_str().unwrap());
    let id = answer.body["id"].as_i64().unwrap();
    let fingerprint = answer.body["key_fingerprint"].as_str().unwrap().to_owned();
    (key, cert, id, fingerprint)
}

#[tokio::test]
async fn revoked_certificates_and_keys_are_refused_by_sshd_through_the_served_list() {
    for signer in [SignerChoice::Embedded, SignerChoice::vault_jwt()] {
        let app = TestApp::with(AppOptions {
            signer,
            ..AppOptions::default()
        })
        .await;
        let sshd = Sshd::start(&["root"]);
        let alice = app.client();
        alice.sign_in_as("alice").await;
        let bob = app.client();
        bob.sign_in_as("bob").await;

        let (key1, cert1, id1, _) = certified(&alice).await;
        let (key2, cert2, _, fingerprint2) = certified(&alice).await;
        let empty = app.krl().await;
        assert!(!krl_revokes(&empty, &cert1));
        sshd.install_krl(&empty);
        assert!(sshd.login(&key1.private_key, &cert1).status.success());

        // One certificate.
        let revoked = bob
            .post(
                &format!("/api/admin/certificates/{id1}/revoke"),
                &json!({ "reason": "laptop lost" }),
            )
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
        assert_eq!(revoked.body["revoked"], 1);
        let krl = app.krl().await;
        assert!(krl_revokes(&krl, &cert1), "ssh-keygen -Q finds the serial");
        assert!(!krl_revokes(&krl, &cert2));
        sshd.install_krl(&krl);
        assert!(
            !sshd.login(&key1.private_key, &cert1).status.success(),
            "a revoked certificate logs in"
        );
        assert!(sshd.login(&key2.private_key, &cert2).status.success());
        let again = bob
            .post(&format!("/api/admin/certificates/{id1}/revoke"), &json!({}))
            .await;
        assert_eq!(again.body["revoked"], 0, "revoking twice changes nothing");

        // Every certificate of a key, and the key from then on.
        let by_key = bob
            .post(
                "/api/admin/keys/revoke",
                &json!({ "key_fingerprint": fingerprint2 }),
            )
            .await;
        assert_eq!(by_key.status, StatusCode::OK, "{}", by_key.body);
        assert_eq!(by_key.body["revoked"], 1);
        let krl = app.krl().await;
        assert!(
            krl_revokes(&krl, &cert2),
            "the key's fingerprint is in the list"
        );
        sshd.install_krl(&krl);
        assert!(!sshd.login(&key2.private_key, &cert2).status.success());
        alice
            .issue(&key2.public, None, None)
            .await
            .expect_error(StatusCode::FORBIDDEN, "key_revoked");
        bob.post(
            "/api/admin/keys/revoke",
            &json!({ "key_fingerprint": "SHA256:unknown" }),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");

        // Everything a person holds.
        let (key3, cert3, _, _) = certified(&alice).await;
        let (_key4, cert4, _, _) = certified(&alice).await;
        let person = bob
            .post(
                "/api/admin/people/alice/revoke",
                &json!({ "reason": "left the team" }),
            )
            .await;
        assert_eq!(person.body["revoked"], 2, "{}", person.body);
        let krl = app.krl().await;
        assert!(krl_revokes(&krl, &cert3) && krl_revokes(&krl, &cert4));
        sshd.install_krl(&krl);
        assert!(!sshd.login(&key3.private_key, &cert3).status.success());
        let log = sshd.log_containing("revoked");
        assert!(log.contains("revoked"), "sshd says why:\n{log}");

        let mine = alice.get("/api/certificates").await;
        let states: Vec<_> = mine
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["state"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(states, ["revoked"; 4]);
        let audited: Vec<_> = [
            "certificate_revoke",
            "key_revoke",
            "certificate_revoke_person",
        ]
        .into_iter()
        .collect();
        for event in audited {
            let rows = app.audit(event).await;
            assert!(
                !rows.is_empty() && rows.iter().all(|r| r.actor.as_deref() == Some("bob")),
                "{event}"
            );
        }
    }
}

#[tokio::test]
async fn only_admins_revoke_and_only_admins_and_auditors_list_everyone() {
    let app = TestApp::start().await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let (_, _, id, fingerprint) = certified(&alice).await;
    let grace = app.client();
    grace.sign_in_as("grace").await;
    let carol = app.client();
    carol.sign_in_as("carol").await;

    for client in [&alice, &carol] {
        client
            .post(&format!("/api/admin/certificates/{id}/revoke"), &json!({}))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        client
            .post("/api/admin/people/alice/revoke", &json!({}))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        client
            .post(
                "/api/admin/keys/revoke",
                &json!({ "key_fingerprint": fingerprint }),
            )
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
    }
    alice
        .get("/api/admin/certificates")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
    grace
        .get(&format!("/api/certificates/{id}"))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        app.count("select count(*) from certificate where revoked_at is not null")
            .await,
        0
    );

    let listed = carol
        .get("/api/admin/certificates?user=ALICE&principal=root&state=valid")
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert_eq!(listed.body[0]["id"], id);
    let none = carol
        .get("/api/admin/certificates?principal=zone-databases")
        .await;
    assert_eq!(none.body, json!([]));
    carol
        .get("/api/admin/certificates?state=weird")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "invalid_request");
    let detail = carol.get(&format!("/api/certificates/{id}")).await;
    assert_eq!(
        detail.status,
        StatusCode::OK,
        "auditors read any certificate"
    );
}
