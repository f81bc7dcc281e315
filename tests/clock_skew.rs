//! Clocks that disagree: a portal whose clock runs ahead of OpenBao's, and a host whose clock
//! lags behind. OpenBao's clock is the reference (libfaketime cannot shift a Go program).
//!
//! What is tolerated, and what these tests hold to:
//! - The portal's clock may be off from Vault's (tested at 90 s ahead): it mints its JWTs in
//!   Vault's time, learned from the `Date` of Vault's answers. Without that, Vault's JWT login
//!   refuses a token whose `nbf` is more than its `clock_skew_leeway` (60 s by default) in its
//!   future. (Far enough off, TLS certificates would look expired or not yet valid to it.)
//! - A host's clock may lag Vault's by less than the certificate's backdating (the role's
//!   `not_before_duration`, 30 s by default). Beyond it, sshd refuses the certificate as not yet
//!   valid, and the portal's history says that the host's clock is behind and by how much.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::clock::ClockShift;
use crate::support::keys::KeyPair;
use crate::support::process::{Portal, debug_binary};
use crate::support::rsyslog::Rsyslog;
use crate::support::sshd::{Sshd, SshdSetup};
use crate::support::{AppOptions, SignerChoice, TestApp, openbao, stack};

/// How far the portal's clock runs ahead, and the host's lags, in these tests.
const PORTAL_AHEAD: ClockShift = ClockShift(90);
const HOST_BEHIND: ClockShift = ClockShift(-90);

#[tokio::test]
async fn a_portal_ahead_of_vault_still_issues_and_a_lagging_host_is_told_to_check_ntp() {
    let options = AppOptions {
        signer: SignerChoice::vault_jwt(),
        syslog_tcp: true,
        ..AppOptions::default()
    };
    let portal = Portal::start_with_clock(&debug_binary("opsportal"), &options, Some(PORTAL_AHEAD))
        .await
        .expect("a portal 90 s ahead of Vault becomes ready");
    let admin = portal.signed_in("bob").await.unwrap();
    portal
        .post_json(
            &admin,
            "/api/admin/hosts",
            &json!({ "name": "web01", "addresses": ["127.0.0.1"] }),
        )
        .await
        .unwrap();
    let rsyslog = Rsyslog::start_with_clock(portal.syslog_addr.unwrap(), HOST_BEHIND);
    let sshd = Sshd::start_with(
        &["root"],
        SshdSetup {
            syslog_socket: Some(rsyslog.socket.clone()),
            clock: Some(HOST_BEHIND),
            ..SshdSetup::default()
        },
    );

    // Issued, in Vault's time: backdated 30 s from OpenBao's (the real) clock, not the portal's.
    let alice = portal.signed_in("alice").await.unwrap();
    let key = KeyPair::ed25519();
    let asked_at = Utc::now();
    let issued = portal
        .post_json(
            &alice,
            "/api/certificates",
            &json!({ "public_key": key.public, "principals": ["root"] }),
        )
        .await
        .expect("issued although the portal's clock is 90 s ahead");
    let valid_after = time(&issued["valid_after"]);
    let backdated = (asked_at - valid_after).num_seconds();
    assert!((25..=35).contains(&backdated), "starts {backdated} s early");
    let serial = issued["serial"].as_str().unwrap().to_owned();
    let recorded = sqlx::query_as::<_, (String, String)>(
        "select state, key_id from certificate where serial = $1::numeric",
    )
    .bind(&serial)
    .fetch_one(&database(&portal).await)
    .await
    .unwrap();
    assert_eq!(recorded.0, "issued");
    assert_eq!(recorded.1, issued["key_id"].as_str().unwrap());
    assert!(recorded.1.starts_with("vault-jwt-alice-"), "{}", recorded.1);

    // The host, 90 s behind, sees a certificate that starts 60 s in its future.
    let cert = key.save_certificate(issued["certificate"].as_str().unwrap());
    let login = sshd.login(&key.private_key, &cert);
    assert!(!login.status.success(), "a host 90 s behind refuses it");

    let failed = wait_for_event(&portal, &alice, |e| {
        e["serial"] == serial.as_str() && e["kind"] == "failed"
    })
    .await;
    assert_eq!(failed["reason"], "not yet valid", "{failed}");
    assert_eq!(failed["person"], "alice");
    let explanation = failed["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("not yet valid on the host")
            && explanation.contains("check NTP on the host"),
        "{explanation}"
    );
    let lag = lag_in(explanation);
    assert!((55..=61).contains(&lag), "{explanation}");
    // The line carries the host's time and its arrival the portal's: 180 s apart, under the
    // 300 s beyond which a line is flagged as skewed.
    let apart = (time(&failed["received_at"]) - time(&failed["event_at"])).num_seconds();
    assert!((175..=185).contains(&apart), "{failed}");
    assert_eq!(failed["skew_secs"], Value::Null, "{failed}");
    drop(rsyslog);
}

#[tokio::test]
async fn vault_refuses_a_jwt_issued_further_ahead_than_its_leeway() {
    // What the portal would meet if it minted by its own clock: OpenBao's JWT login accepts
    // a token that starts 50 s in its future and refuses one 90 s ahead (its default
    // `clock_skew_leeway` is 60 s; 59 s passes and 61 s fails here).
    let vault = &stack().vault;
    let minter = opsportal::certs::signer::vault::jwt::JwtMinter::load(
        &vault.jwt_key_file,
        &vault.jwt_issuer,
        &vault.jwt_audience,
    )
    .unwrap();
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    let login = |ahead: u64| {
        let jwt = minter.mint("alice", &[], now + ahead);
        let body = json!({ "role": vault.jwt_role, "jwt": jwt });
        async move { openbao::try_write(&format!("auth/{}/login", vault.jwt_mount), &body).await }
    };
    let (status, body) = login(50).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["auth"]["client_token"].is_string());
    let (status, body) = login(90).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("token not yet valid"), "{body}");
}

#[tokio::test]
async fn a_host_lagging_less_than_the_backdating_accepts_the_certificate() {
    // A role that backdates 150 s, beside the stack's; the portal accepts that much.
    let mount = &stack().vault.ssh_mount;
    let mut role = openbao::read(&format!("{mount}/roles/{}", stack().vault.ssh_role)).await;
    role["not_before_duration"] = json!(150);
    let role_name = format!("portal-backdate-{}", uuid::Uuid::new_v4().simple());
    openbao::write(&format!("{mount}/roles/{role_name}"), &role).await;
    let SignerChoice::Vault(mut vault) = SignerChoice::vault_jwt() else {
        unreachable!("vault_jwt is a Vault signer")
    };
    vault.role = role_name.clone();

    let host = Sshd::start_with(
        &["root"],
        SshdSetup {
            clock: Some(HOST_BEHIND),
            ..SshdSetup::default()
        },
    );
    for signer in [SignerChoice::Vault(vault), SignerChoice::Embedded] {
        let app = TestApp::with(AppOptions {
            signer: signer.clone(),
            backdate_secs: 150,
            ..AppOptions::default()
        })
        .await;
        let alice = app.client();
        alice.sign_in_as("alice").await;
        let (key, issued) = alice.root_certificate().await;
        let backdated = (Utc::now() - time(&issued["valid_after"])).num_seconds();
        assert!(
            (145..=155).contains(&backdated),
            "{signer:?}: {backdated} s"
        );

        let cert = key.save_certificate(issued["certificate"].as_str().unwrap());
        let login = host.login(&key.private_key, &cert);
        assert!(
            login.status.success(),
            "{signer:?}: {}",
            String::from_utf8_lossy(&login.stderr)
        );
        let serial = issued["serial"].as_str().unwrap();
        let log = host.log_containing(&format!("serial {serial}"));
        assert!(
            log.contains(&format!(
                "ID {} (serial {serial})",
                issued["key_id"].as_str().unwrap()
            )),
            "{log}"
        );
    }
    openbao::delete(&format!("{mount}/roles/{role_name}")).await;
}

fn time(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// The seconds in "it starts N seconds after" (or "1 minute").
fn lag_in(explanation: &str) -> i64 {
    let after = explanation
        .split("starts ")
        .nth(1)
        .expect("the explanation says when it starts");
    if after.starts_with("1 minute") {
        return 60;
    }
    after
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no lag in {explanation:?}"))
}

async fn database(portal: &Portal) -> sqlx::PgPool {
    sqlx::PgPool::connect(&portal.database_url()).await.unwrap()
}

/// Waits until the history `client`'s person sees lists an event for which `wanted` holds.
async fn wait_for_event(
    portal: &Portal,
    client: &reqwest::Client,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let page: Value = client
            .get(portal.url("/api/history"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(event) = page["events"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| wanted(e))
        {
            return event.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no such event: {page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
