//! SSH certificates end to end: request, sign (embedded CA and the stack's OpenBao through the
//! JWT login), verify, record, download, log in to a real sshd, refuse what the policy does
//! not allow.

use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::support::keys::{KeyPair, keygen_list};
use crate::support::sshd::Sshd;
use crate::support::{AppOptions, SignerChoice, TestApp};

/// The signers every behaviour is checked with.
fn signers() -> [SignerChoice; 2] {
    [SignerChoice::Embedded, SignerChoice::vault_jwt()]
}

async fn app_with(signer: SignerChoice) -> TestApp {
    TestApp::with(AppOptions {
        signer,
        ..AppOptions::default()
    })
    .await
}

/// `<prefix>-<user>-<sha256 of the key blob>`, as the embedded CA and Vault write Key IDs.
fn expected_key_id(signer: &SignerChoice, username: &str, public: &str) -> String {
    let blob = base64_blob(public);
    let hash = hex::encode(Sha256::digest(blob));
    match signer {
        SignerChoice::Embedded => format!("portal-{username}-{hash}"),
        SignerChoice::Vault(_) => format!("vault-jwt-{username}-{hash}"),
    }
}

fn base64_blob(public: &str) -> Vec<u8> {
    use base64::Engine;
    let blob = public.split_whitespace().nth(1).expect("a key line");
    base64::engine::general_purpose::STANDARD
        .decode(blob)
        .expect("base64")
}

#[tokio::test]
async fn a_certificate_logs_in_as_root_and_sshd_names_the_person() {
    let sshd = Sshd::start(&["root"]);
    for signer in signers() {
        let app = app_with(signer.clone()).await;
        let client = app.client();
        client.sign_in_as("alice").await;
        let key = KeyPair::ed25519();

        let answer = client.issue(&key.public, Some(&["root"]), None).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        let body = &answer.body;
        let key_id = expected_key_id(&signer, "alice", &key.public);
        assert_eq!(body["key_id"], key_id.as_str());
        assert_eq!(body["principals"], json!(["root"]));
        assert_eq!(body["state"], "valid");
        assert_eq!(body["backend"], signer.backend());
        assert_eq!(body["file_name"], "id_ed25519-cert.pub");
        let serial: u64 = body["serial"].as_str().unwrap().parse().unwrap();
        assert_ne!(serial, 0);
        assert_eq!(body["serial_hex"], format!("{serial:016x}"));

        // The details read as ssh-keygen -L shows them, the file name aside.
        let cert = key.save_certificate(body["certificate"].as_str().unwrap());
        let listed = keygen_list(&cert);
        let ours = body["details"].as_str().unwrap();
        assert_eq!(
            ours.split_once('\n').unwrap().1,
            listed.split_once('\n').unwrap().1,
            "details differ from ssh-keygen -L"
        );
        assert!(listed.contains("Critical Options: (none)"), "{listed}");
        assert!(listed.contains("                permit-pty\n"), "{listed}");
        let ca = &signer.ca_public_key();
        let valid_after =
            chrono::DateTime::parse_from_rfc3339(body["valid_after"].as_str().unwrap()).unwrap();
        let valid_before =
            chrono::DateTime::parse_from_rfc3339(body["valid_before"].as_str().unwrap()).unwrap();
        let lifetime = (valid_before - valid_after).num_seconds();
        assert!((3600..=3600 + 60).contains(&lifetime), "{lifetime} s");

        let login = sshd.login(&key.private_key, &cert);
        assert!(
            login.status.success(),
            "ssh: {}",
            String::from_utf8_lossy(&login.stderr)
        );
        let log = sshd.log_containing(&format!("(serial {serial})"));
        assert!(
            log.contains("Accepted publickey for root from 127.0.0.1")
                && log.contains(&format!("ID {key_id} (serial {serial}) CA ED25519")),
            "sshd's log names the person's Key ID and the serial:\n{log}"
        );

        // The record matches the certificate, serial without loss.
        let row: (String, String, String, String, String) = sqlx::query_as(
            "select state, serial::text, key_id, ca_fingerprint, backend from certificate",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(row.0, "issued");
        assert_eq!(row.1, serial.to_string());
        assert_eq!(row.2, key_id);
        assert_eq!(row.4, signer.backend());
        let ca_fp = ssh_fingerprint(ca);
        assert_eq!(row.3, ca_fp);
        assert!(ours.contains(&format!("Signing CA: ED25519 {ca_fp} (using ssh-ed25519)")));

        // The download is the same certificate, as a file named for OpenSSH.
        let id = body["id"].as_i64().unwrap();
        let download = client
            .http
            .get(app.url(&format!("/api/certificates/{id}/download")))
            .send()
            .await
            .unwrap();
        assert_eq!(download.status(), StatusCode::OK);
        assert_eq!(
            download.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            download.headers()["content-disposition"],
            "attachment; filename=\"id_ed25519-cert.pub\""
        );
        assert_eq!(
            download.text().await.unwrap().trim(),
            body["certificate"].as_str().unwrap()
        );

        let mine = client.get("/api/certificates").await;
        assert_eq!(mine.body.as_array().unwrap().len(), 1);
        assert_eq!(mine.body[0]["serial"], body["serial"]);
        let audit = app.audit("certificate_issue").await;
        assert_eq!(audit.len(), 1);
        assert_eq!(audit[0].outcome, "success");
        assert_eq!(audit[0].detail["serial"], body["serial"]);
    }
}

/// `SHA256:...` of an OpenSSH public key line, as ssh-keygen prints it.
fn ssh_fingerprint(public: &str) -> String {
    use base64::Engine;
    let digest = Sha256::digest(base64_blob(public));
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

#[tokio::test]
async fn a_zone_certificate_logs_in_only_where_its_zone_is_listed() {
    let webservers = Sshd::start(&["root", "zone-webservers"]);
    let databases = Sshd::start(&["root", "zone-databases"]);
    for signer in signers() {
        let app = app_with(signer).await;
        let client = app.client();
        client.sign_in_as("alice").await;
        let key = KeyPair::ed25519();
        let answer = client
            .issue(&key.public, Some(&["zone-webservers"]), Some(600))
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        let cert = key.save_certificate(answer.body["certificate"].as_str().unwrap());

        assert!(webservers.login(&key.private_key, &cert).status.success());
        let refused = databases.login(&key.private_key, &cert);
        assert!(
            !refused.status.success(),
            "a webservers certificate opened a database host"
        );
        let log = databases.log_containing("authorized principal");
        assert!(
            log.contains("Certificate does not contain an authorized principal"),
            "{log}"
        );
    }
}

#[tokio::test]
async fn requests_outside_the_policy_are_refused_with_nothing_signed_or_recorded() {
    for signer in signers() {
        let app = app_with(signer).await;
        let alice = app.client();
        alice.sign_in_as("alice").await;
        let key = KeyPair::ed25519();

        let answer = alice
            .issue(&key.public, Some(&["root", "zone-databases"]), None)
            .await;
        let message = answer.expect_error(StatusCode::FORBIDDEN, "principal_not_allowed");
        assert!(message.contains("zone-databases"), "{message}");
        alice
            .issue(&key.public, Some(&[]), None)
            .await
            .expect_error(StatusCode::FORBIDDEN, "no_principals");
        alice
            .issue(&key.public, Some(&["root,zone-databases"]), None)
            .await
            .expect_error(StatusCode::FORBIDDEN, "principal_not_allowed");
        let message = alice
            .issue(&key.public, None, Some(7200))
            .await
            .expect_error(StatusCode::BAD_REQUEST, "ttl_too_long");
        assert_eq!(message, "The longest lifetime you may request is 1 h.");
        alice
            .issue(&key.public, None, Some(0))
            .await
            .expect_error(StatusCode::BAD_REQUEST, "invalid_ttl");

        // Fields the person may not choose are not silently ignored.
        for extra in [
            json!({ "key_id": "alice-admin" }),
            json!({ "critical_options": { "force-command": "/bin/sh" } }),
            json!({ "extensions": { "permit-port-forwarding": "" } }),
            json!({ "cert_type": "host" }),
            json!({ "valid_principals": "root,admin" }),
            json!({ "ttl_secs": "15m" }),
            json!({ "ttl_secs": -5 }),
        ] {
            let mut body = json!({ "public_key": key.public });
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            alice
                .post("/api/certificates", &body)
                .await
                .expect_error(StatusCode::BAD_REQUEST, "invalid_request");
        }

        // A database zone lives at most 30 minutes, whatever the portal's maximum.
        let grace = app.client();
        grace.sign_in_as("grace").await;
        let message = grace
            .issue(&key.public, Some(&["zone-databases"]), Some(3600))
            .await
            .expect_error(StatusCode::BAD_REQUEST, "ttl_too_long");
        assert_eq!(message, "The longest lifetime you may request is 30 min.");

        // An auditor holds no user role.
        let carol = app.client();
        carol.sign_in_as("carol").await;
        carol
            .issue(&key.public, None, None)
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");

        assert_eq!(
            app.count("select count(*) from certificate").await,
            0,
            "nothing was asked of the signer"
        );
        assert_eq!(app.count("select count(*) from key_owner").await, 0);
        let reasons = app.failure_reasons("certificate_issue").await;
        assert_eq!(
            reasons,
            [
                "principal_not_allowed",
                "no_principals",
                "principal_not_allowed",
                "ttl_too_long",
                "invalid_ttl",
                "ttl_too_long",
                "not_a_user",
            ]
        );
    }
}

#[tokio::test]
async fn every_bad_key_gets_a_clear_refusal_and_nothing_is_signed() {
    let app = app_with(SignerChoice::Embedded).await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let good = KeyPair::ed25519();
    let weak = KeyPair::new(&["-t", "rsa", "-b", "2048"]);
    let marker = format!("PRIVATEMARKER{}", uuid::Uuid::new_v4().simple());
    let private = format!(
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{marker}\n-----END OPENSSH PRIVATE KEY-----\n"
    );
    let cases = [
        ("not a key".to_owned(), "invalid_key"),
        (format!("{}\n{}", good.public, good.public), "invalid_key"),
        (
            format!("from=\"10.0.0.0/8\" {}", good.public),
            "invalid_key",
        ),
        (
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqq".to_owned(),
            "invalid_key",
        ),
        (private.clone(), "private_key_submitted"),
        (
            "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9wZW5zc2guY29t"
                .to_owned(),
            "certificate_not_allowed",
        ),
        (
            "ssh-dss AAAAB3NzaC1kc3MAAACBAP1".to_owned(),
            "unsupported_key_type",
        ),
        (weak.public.clone(), "weak_key"),
        (
            format!("{} {}", good.public, "x".repeat(9000)),
            "invalid_key",
        ),
    ];
    for (text, code) in &cases {
        let answer = alice.issue(text, None, None).await;
        let message = answer.expect_error(StatusCode::BAD_REQUEST, code);
        assert!(!message.contains(&marker), "the paste is never echoed");
        if *code == "weak_key" {
            assert_eq!(
                message,
                "This RSA key has 2048 bits; at least 3072 are needed. Ed25519 is recommended."
            );
        }
    }
    assert_eq!(app.count("select count(*) from certificate").await, 0);
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from audit_event where detail::text like '%' || $1 || '%' or coalesce(reason, '') like '%' || $1 || '%'",
    )
    .bind(&marker)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored, 0, "the private key left no trace");

    // A CRLF line ending and a trailing newline are fine.
    let answer = alice
        .issue(&format!("{}\r\n", good.public), Some(&["root"]), Some(60))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
}

#[tokio::test]
async fn a_key_registered_to_another_person_is_refused() {
    let app = app_with(SignerChoice::Embedded).await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let key = KeyPair::ed25519();
    assert_eq!(
        alice.issue(&key.public, None, Some(60)).await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        alice.issue(&key.public, None, Some(60)).await.status,
        StatusCode::CREATED,
        "the owner may reuse it"
    );

    let grace = app.client();
    grace.sign_in_as("grace").await;
    grace
        .issue(&key.public, None, Some(60))
        .await
        .expect_error(StatusCode::CONFLICT, "key_in_use");
    assert_eq!(app.count("select count(*) from certificate").await, 2);
}

#[tokio::test]
async fn a_person_asking_for_too_many_certificates_is_told_to_wait() {
    let app = TestApp::with(AppOptions {
        max_certificates_per_minute: 2,
        ..AppOptions::default()
    })
    .await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let key = KeyPair::ed25519();
    for _ in 0..2 {
        assert_eq!(
            alice.issue(&key.public, None, Some(60)).await.status,
            StatusCode::CREATED
        );
    }
    let message = alice
        .issue(&key.public, None, Some(60))
        .await
        .expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert!(message.contains("last minute"), "{message}");
    // Another person is not affected.
    let grace = app.client();
    grace.sign_in_as("grace").await;
    assert_eq!(
        grace
            .issue(&KeyPair::ed25519().public, None, Some(60))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(app.count("select count(*) from certificate").await, 3);
}

#[tokio::test]
async fn a_burst_of_requests_gets_distinct_recorded_certificates_or_a_clear_refusal() {
    let app = TestApp::with(AppOptions {
        max_certificates_per_minute: 10,
        ..AppOptions::default()
    })
    .await;
    let alice = std::sync::Arc::new(app.client());
    alice.sign_in_as("alice").await;
    let key = KeyPair::ed25519();
    let mut requests = Vec::new();
    for _ in 0..30 {
        let (alice, public) = (alice.clone(), key.public.clone());
        requests.push(tokio::spawn(async move {
            alice.issue(&public, Some(&["root"]), Some(60)).await
        }));
    }
    let mut serials = std::collections::BTreeSet::new();
    let mut refused = 0;
    for request in requests {
        let answer = request.await.unwrap();
        match answer.status {
            StatusCode::CREATED => {
                assert!(serials.insert(answer.body["serial"].as_str().unwrap().to_owned()))
            }
            StatusCode::TOO_MANY_REQUESTS => {
                answer.expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
                refused += 1;
            }
            other => panic!("{other}: {}", answer.body),
        }
    }
    assert!(
        refused >= 15,
        "the limit held back most of the burst ({refused} refused)"
    );
    let issued = app
        .count("select count(*) from certificate where state = 'issued'")
        .await;
    assert_eq!(
        issued as usize,
        serials.len(),
        "every certificate handed out is recorded, once"
    );
}

#[tokio::test]
async fn parallel_first_requests_with_a_new_key_all_succeed_for_its_owner() {
    // Concurrent requests claim the new key at the same moment; none may see it as another's.
    let app = TestApp::with(AppOptions {
        max_certificates_per_minute: 0,
        ..AppOptions::default()
    })
    .await;
    let alice = std::sync::Arc::new(app.client());
    alice.sign_in_as("alice").await;
    for _ in 0..5 {
        let key = KeyPair::ed25519();
        let mut requests = Vec::new();
        for _ in 0..8 {
            let (alice, public) = (alice.clone(), key.public.clone());
            requests.push(tokio::spawn(async move {
                alice.issue(&public, Some(&["root"]), Some(60)).await
            }));
        }
        for request in requests {
            let answer = request.await.unwrap();
            assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
        }
    }
    assert_eq!(
        app.count("select count(*) from certificate where state = 'issued'")
            .await,
        40
    );
    assert_eq!(app.count("select count(*) from key_owner").await, 5);
}
