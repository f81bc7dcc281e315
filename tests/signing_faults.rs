//! Certificates when something fails: Vault down or hung, the database refusing the record
//! or gone. Nothing unrecorded is ever handed out, and the answer is clear and quick.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::keys::KeyPair;
use crate::support::{AppOptions, SignerChoice, TestApp, VaultOptions, psql, stack};

async fn app_with(signer: SignerChoice) -> TestApp {
    TestApp::with(AppOptions {
        signer,
        ..AppOptions::default()
    })
    .await
}

#[tokio::test]
async fn vault_down_or_hung_answers_within_the_timeout_and_nothing_is_issued() {
    // Nothing listens here: refused at once.
    let down = TestApp::with(AppOptions {
        signer: SignerChoice::Vault(VaultOptions {
            addr: "https://127.0.0.1:1".into(),
            timeout_secs: 2,
            ..vault_options()
        }),
        ..AppOptions::default()
    })
    .await;
    // Accepts connections and never answers, like a stopped process.
    let hung = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hung_addr = hung.local_addr().unwrap();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = hung.accept().await {
            held.push(socket);
        }
    });
    let stalled = TestApp::with(AppOptions {
        signer: SignerChoice::Vault(VaultOptions {
            addr: format!("https://{hung_addr}"),
            timeout_secs: 2,
            ..vault_options()
        }),
        ..AppOptions::default()
    })
    .await;

    for (app, bound) in [
        (&down, Duration::from_secs(1)),
        (&stalled, Duration::from_secs(3)),
    ] {
        let client = app.client();
        client.sign_in_as("alice").await;
        let key = KeyPair::ed25519();
        let started = Instant::now();
        let answer = client.issue(&key.public, None, None).await;
        let elapsed = started.elapsed();
        let message = answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "signing_unavailable");
        assert!(message.contains("Nothing was issued"), "{message}");
        assert!(elapsed < bound, "answered after {elapsed:?}");
        assert_eq!(
            app.count("select count(*) from certificate where state = 'issued'")
                .await,
            0
        );
        let ready = client.get("/readyz").await;
        ready.expect_error(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
        assert!(
            ready.body["message"]
                .as_str()
                .unwrap()
                .contains("signer unavailable"),
            "{}",
            ready.body
        );
    }
    holder.abort();
}

fn vault_options() -> VaultOptions {
    match SignerChoice::vault_jwt() {
        SignerChoice::Vault(options) => options,
        SignerChoice::Embedded => unreachable!("vault_jwt is a Vault signer"),
    }
}

#[tokio::test]
async fn a_certificate_that_cannot_be_recorded_is_not_handed_out_and_leaves_a_trace() {
    let app = app_with(SignerChoice::vault_jwt()).await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    // The database refuses to complete any certificate record, as a full disk or a lost
    // connection would between signing and recording.
    for statement in [
        "create function refuse_issue() returns trigger language plpgsql as
         $$ begin if new.state = 'issued' then raise exception 'disk full'; end if; return new; end $$",
        "create trigger refuse_issue before update on certificate for each row execute function refuse_issue()",
    ] {
        sqlx::query(statement).execute(&app.db).await.unwrap();
    }
    let key = KeyPair::ed25519();
    let answer = alice.issue(&key.public, None, None).await;
    assert!(answer.status.is_server_error(), "{}", answer.body);
    assert!(answer.body.get("certificate").is_none(), "{}", answer.body);
    assert!(
        !answer.body.to_string().contains("ssh-ed25519-cert"),
        "{}",
        answer.body
    );
    // The success audit row is written with the record, so it fell with it; the refusal is
    // audited on its own.
    let audit = app.audit("certificate_issue").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].outcome, "failure");
    assert_eq!(audit[0].actor.as_deref(), Some("alice"));

    // The intent row is the trace an admin sees: signed perhaps, never recorded.
    let bob = app.client();
    bob.sign_in_as("bob").await;
    let unfinished = bob.get("/api/admin/certificates?state=unfinished").await;
    assert_eq!(unfinished.status, StatusCode::OK, "{}", unfinished.body);
    let rows = unfinished.body.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{}", unfinished.body);
    assert_eq!(rows[0]["username"], "alice");
    assert_eq!(rows[0]["state"], "unfinished");
    assert_eq!(rows[0]["serial"], Value::Null);
}

/// Intent rows go over connections whose commits do not wait for the log flush; the record,
/// whose flush carries the intent with it, over connections whose commits do.
#[tokio::test]
async fn intents_do_not_wait_for_the_log_flush_and_records_do() {
    let database = opsportal::config::DatabaseConfig {
        url: stack().database_url.clone(),
        password_file: None,
        max_connections: 4,
        acquire_timeout_secs: 5,
    };
    let setting = |lanes: opsportal::db::Lanes| async move {
        let mut lane = lanes.acquire().await.unwrap();
        let value = sqlx::query_scalar::<_, String>("show synchronous_commit")
            .fetch_one(lane.connection())
            .await
            .unwrap();
        lane.release();
        value
    };
    let intents = opsportal::db::unflushed_lanes(&database).unwrap();
    assert_eq!(setting(intents).await, "off");
    let records = opsportal::db::lanes(&database).unwrap();
    assert_eq!(setting(records).await, "on");
}

#[tokio::test]
async fn connections_the_database_dropped_while_idle_fail_no_request() {
    // A database restart or failover ends every backend; the portal's idle connections are
    // pinged before use, so the first requests after it find fresh ones.
    let app = app_with(SignerChoice::Embedded).await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let (_, first) = alice.root_certificate().await;
    psql(&format!(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = '{}'",
        app.database()
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let me = alice.get("/api/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["username"], "alice");
    let (_, second) = alice.root_certificate().await;
    assert_ne!(second["serial"], first["serial"]);
    assert_eq!(
        app.count("select count(*) from certificate where state = 'issued'")
            .await,
        2
    );
}

#[tokio::test]
async fn with_the_database_gone_nothing_is_signed_and_nobody_is_treated_as_signed_out() {
    let app = app_with(SignerChoice::vault_jwt()).await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let name = app.database().to_owned();
    psql(&format!(
        "alter database {name} with allow_connections = false"
    ));
    psql(&format!(
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = '{name}'"
    ));

    let key = KeyPair::ed25519();
    let started = Instant::now();
    let answer = alice.issue(&key.public, None, None).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        answer.body.as_object().map(|o| o.len()),
        Some(3),
        "only the error: {}",
        answer.body
    );
    let text = answer.body.to_string();
    assert!(
        !text.contains("opsportal_test") && !text.to_lowercase().contains("sql"),
        "{text}"
    );
    let me = alice.get("/api/me").await;
    assert_eq!(
        me.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "never signed out or anonymous: {}",
        me.body
    );

    psql(&format!(
        "alter database {name} with allow_connections = true"
    ));
    assert_eq!(
        app.count("select count(*) from certificate").await,
        0,
        "nothing was signed"
    );
}
