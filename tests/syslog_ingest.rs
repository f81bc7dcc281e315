//! The whole path a host's log takes: a real sshd logs through syslog to a real rsyslogd,
//! which forwards with the README's snippet over octet-counted TCP to the portal, which names
//! the person behind each `root` login.

use std::io::Write;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::keys::KeyPair;
use crate::support::rsyslog::Rsyslog;
use crate::support::sshd::{Sshd, SshdSetup};
use crate::support::{AppOptions, Client, TestApp};

const WAIT: Duration = Duration::from_secs(15);

async fn syslog_app() -> (TestApp, Client) {
    let app = TestApp::with(AppOptions {
        syslog_tcp: true,
        max_line_bytes: 1024,
        ..AppOptions::default()
    })
    .await;
    let admin = app.client();
    admin.sign_in_as("bob").await;
    app.add_host(&admin, "web01", &["127.0.0.1"]).await;
    (app, admin)
}

/// Waits until `client`'s `path` lists an event for which `wanted` holds.
async fn wait_for_event(client: &Client, path: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let page = client.get(path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        if let Some(event) = page.body["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| wanted(e))
        {
            return event.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no such event at {path}: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_certificate_login_forwarded_by_rsyslog_shows_in_the_persons_history() {
    let (app, _) = syslog_app().await;
    let rsyslog = Rsyslog::start(app.syslog_addr.unwrap());
    let setup = SshdSetup {
        syslog_socket: Some(rsyslog.socket.clone()),
        ..SshdSetup::default()
    };
    let sshd = Sshd::start_with(&["root"], setup.clone());
    let databases_only = Sshd::start_with(&["zone-databases"], setup);

    let alice = app.client();
    alice.sign_in_as("alice").await;
    let key = KeyPair::ed25519();
    let issued = alice.issue(&key.public, Some(&["root"]), None).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let cert = key.save_certificate(issued.body["certificate"].as_str().unwrap());
    let serial = issued.body["serial"].as_str().unwrap().to_owned();

    let login = sshd.login(&key.private_key, &cert);
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let accepted = wait_for_event(&alice, "/api/history?kind=accepted", |e| {
        e["serial"] == serial.as_str() && e["ended_at"].is_string()
    })
    .await;
    assert_eq!(accepted["host"], "web01");
    assert_eq!(accepted["src_ip"], "127.0.0.1");
    assert_eq!(accepted["username"], "root");
    assert_eq!(accepted["attribution"], "exact");
    assert_eq!(accepted["person"], "alice");
    assert!(accepted["duration_secs"].as_i64().unwrap() >= 0);
    assert!(
        accepted["raw"].as_str().unwrap().contains("ED25519-CERT"),
        "the raw line is kept"
    );

    let refused = databases_only.login(&key.private_key, &cert);
    assert!(!refused.status.success());

    let failed = wait_for_event(&alice, "/api/history?kind=failed", |e| {
        e["serial"] == serial.as_str() && e["reason"].is_string()
    })
    .await;
    assert_eq!(failed["reason"], "no authorized principal");
    assert!(
        failed["explanation"]
            .as_str()
            .unwrap()
            .contains("lacks a principal this host accepts"),
        "{failed}"
    );
    drop(rsyslog);
}

#[tokio::test]
async fn names_that_imitate_sshd_create_no_login_and_plain_keys_are_flagged() {
    let (app, _) = syslog_app().await;
    let rsyslog = Rsyslog::start(app.syslog_addr.unwrap());
    let plain = KeyPair::ed25519();
    let sshd = Sshd::start_with(
        &["root"],
        SshdSetup {
            syslog_socket: Some(rsyslog.socket.clone()),
            authorized_key: Some(plain.public.clone()),
        },
    );
    let stranger = KeyPair::ed25519();
    for name in [
        "x from 10.9.9.9 port 22 ssh2: Accepted publickey for root",
        "Invalid user root from 123.123.123.123",
    ] {
        let attempt = sshd.attempt(name, &stranger.private_key);
        assert!(!attempt.status.success());
    }
    assert!(sshd.attempt("root", &plain.private_key).status.success());

    let carol = app.client();
    carol.sign_in_as("carol").await;
    let non_ca = wait_for_event(&carol, "/api/audit/events?flagged=true", |e| {
        e["attribution"] == "non_ca"
    })
    .await;
    assert_eq!(non_ca["username"], "root");
    assert_eq!(non_ca["key_type"], "ED25519");
    let invalid = app
        .wait_for_count(
            "select count(*) from log_event where kind = 'invalid_user'",
            2,
            WAIT,
        )
        .await;
    assert_eq!(invalid, 2);
    assert_eq!(
        app.count(
            "select count(*) from log_event where kind = 'invalid_user' and src_ip = '127.0.0.1'"
        )
        .await,
        2,
        "the address is the one sshd saw"
    );
    assert_eq!(
        app.count("select count(*) from log_event where kind = 'accepted'")
            .await,
        1,
        "only the real login is a login"
    );
    assert_eq!(
        app.count(
            "select count(*) from log_event
             where src_ip in ('10.9.9.9', '123.123.123.123')"
        )
        .await,
        0
    );
    let names: Vec<String> = sqlx::query_scalar(
        "select username from log_event where kind = 'invalid_user' order by username",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        names,
        [
            "Invalid user root from 123.123.123.123",
            // sshd itself drops a `:style` suffix from the name it is given.
            "x from 10.9.9.9 port 22 ssh2"
        ]
    );
}

#[tokio::test]
async fn raw_tcp_framing_edge_cases_and_unknown_senders() {
    let (app, _) = syslog_app().await;
    let addr = app.syslog_addr.unwrap();
    let line = |n: u32| {
        format!(
            "<38>1 2026-12-04T10:00:00Z web01 sshd 77 - - Connection closed by 10.1.1.1 port {n} [preauth]"
        )
    };
    let counted = |text: String| format!("{} {text}", text.len());
    let long = format!(
        "<38>1 2026-12-04T10:00:00Z web01 sshd 77 - - {}",
        "A".repeat(100 * 1024)
    );
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let payload = format!(
        "{}\n{}{}\n{long}\n{}\n",
        line(1),
        counted(line(2)),
        line(3),
        line(4)
    );
    stream.write_all(payload.as_bytes()).unwrap();
    stream.write_all(b"12 <38>short").unwrap();
    drop(stream);
    let stored = app
        .wait_for_count("select count(*) from log_event", 5, WAIT)
        .await;
    assert_eq!(
        stored, 5,
        "four lines and the cut one; the short frame is not stored"
    );
    let ports: Vec<i32> = sqlx::query_scalar(
        "select src_port from log_event where kind = 'connection_closed' order by src_port",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        ports,
        [1, 2, 3, 4],
        "mixed framing on one stream, and resync after the cut"
    );
    assert_eq!(
        app.count("select count(*) from log_event where 'truncated' = any(flags)")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from log_event where 'hostname_mismatch' = any(flags)")
            .await,
        0,
        "HOSTNAME web01 is the registered host's name"
    );

    // A sender no host lists is refused; a broken octet count closes the connection.
    let mut absurd = std::net::TcpStream::connect(addr).unwrap();
    absurd.write_all(b"99999999999 <38>x").unwrap();
    assert_eq!(
        app.wait_for_metric("opsportal_ingest_rejected_total{reason=\"framing_bad_count\"}")
            .await,
        1
    );
    assert_eq!(
        app.wait_for_metric("opsportal_ingest_short_frame_total")
            .await,
        1
    );
    assert_eq!(app.count("select count(*) from log_event").await, 5);
}
