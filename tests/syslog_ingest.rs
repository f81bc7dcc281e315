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
use crate::support::tls::{TestCa, connect};
use crate::support::{AppOptions, Client, SyslogTls, TestApp};

const WAIT: Duration = Duration::from_secs(15);

async fn syslog_app() -> (TestApp, Client) {
    let app = TestApp::with(AppOptions {
        syslog_tcp: true,
        max_line_bytes: 1024,
        ..AppOptions::default()
    })
    .await;
    let (admin, _) = app.admin_with_host("web01", &["127.0.0.1"]).await;
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
    let (key, issued) = alice.root_certificate().await;
    let cert = key.save_certificate(issued["certificate"].as_str().unwrap());
    let serial = issued["serial"].as_str().unwrap().to_owned();

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
            ..SshdSetup::default()
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

#[tokio::test]
async fn udp_is_kept_only_from_listed_addresses_and_the_sender_not_the_hostname_names_the_host() {
    let app = TestApp::with(AppOptions {
        syslog_udp: true,
        ..AppOptions::default()
    })
    .await;
    app.admin_with_host("web01", &["127.0.0.1"]).await;
    let target = app.syslog_udp_addr.unwrap();
    let ahead = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let listed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    listed
        .send_to(
            format!("<38>1 {ahead} db01 sshd 9 - - Connection closed by 10.2.2.2 port 4 [preauth]")
                .as_bytes(),
            target,
        )
        .unwrap();
    let stranger = std::net::UdpSocket::bind("127.0.0.3:0").unwrap();
    stranger
        .send_to(
            b"<38>1 - web01 sshd 9 - - Connection closed by 10.3.3.3 port 5",
            target,
        )
        .unwrap();

    let stored = app
        .wait_for_count("select count(*) from log_event", 1, WAIT)
        .await;
    assert_eq!(stored, 1);
    let (host, claimed, flags, skew): (String, Option<String>, Vec<String>, Option<i32>) =
        sqlx::query_as(
            "select h.name, e.claimed_hostname, e.flags, e.skew_secs
             from log_event e join ingest_host h using (host_id)",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        host, "web01",
        "the host is the sender's, not the HOSTNAME's"
    );
    assert_eq!(claimed.as_deref(), Some("db01"));
    assert!(flags.contains(&"hostname_mismatch".to_owned()), "{flags:?}");
    assert!(flags.contains(&"clock_skew".to_owned()), "{flags:?}");
    assert!((7190..=7200).contains(&skew.unwrap()), "{skew:?}");
    assert_eq!(
        app.wait_for_metric("opsportal_ingest_rejected_total{reason=\"udp_source_not_allowed\"}")
            .await,
        1
    );
    assert_eq!(
        app.wait_for_metric("opsportal_ingest_clock_skew_total")
            .await,
        1
    );
    assert_eq!(
        app.wait_for_metric("opsportal_ingest_hostname_mismatch_total")
            .await,
        1
    );
}

#[tokio::test]
async fn partitions_are_made_ahead_and_dropped_after_the_retention() {
    let app = TestApp::start().await;
    let now = chrono::Utc::now();
    // Within the portal's own 90-day retention, so that its upkeep leaves it alone.
    let old = (now - chrono::Duration::days(50)).date_naive();
    sqlx::query(&format!(
        "create table log_event_{} partition of log_event for values from ('{old}') to ('{}')",
        old.format("%Y%m%d"),
        old + chrono::Days::new(1)
    ))
    .execute(&app.db)
    .await
    .unwrap();
    opsportal::ingest::partitions::ensure(&app.db, now)
        .await
        .unwrap();
    // A session received on the old day goes with its partition; today's stays.
    for received in [format!("{old} 12:00:00+00"), now.to_rfc3339()] {
        sqlx::query(
            "insert into log_session (host_id, src_ip, src_port, login_at, received_at)
             values (1, '10.0.0.1', 40000, $1::timestamptz, $1::timestamptz)",
        )
        .bind(received)
        .execute(&app.db)
        .await
        .unwrap();
    }
    let ahead = (now + chrono::Duration::days(3)).date_naive();
    assert_eq!(
        app.count(&format!(
            "select count(*) from pg_class where relname = 'log_event_{}'",
            ahead.format("%Y%m%d")
        ))
        .await,
        1,
        "partitions exist three days ahead"
    );
    let dropped = opsportal::ingest::partitions::drop_expired(&app.db, now, 30)
        .await
        .unwrap();
    assert_eq!(dropped, [format!("log_event_{}", old.format("%Y%m%d"))]);
    assert_eq!(
        app.count("select count(*) from pg_inherits i join pg_class p on p.oid = i.inhparent where p.relname = 'log_event'")
            .await,
        5,
        "yesterday, today and three days ahead remain"
    );
    assert_eq!(
        app.count("select count(*) from log_session where received_at > now() - interval '1 day'")
            .await,
        1
    );
    assert_eq!(app.count("select count(*) from log_session").await, 1);
}

#[tokio::test]
async fn over_tls_a_host_is_known_by_its_client_certificate() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let ca = TestCa::new("opsportal test CA");
    let (server_cert, server_key) = ca.issue("portal", "IP:127.0.0.1");
    let (web01_cert, web01_key) = ca.issue("web01", "DNS:web01");
    let (other_cert, other_key) = ca.issue("other", "DNS:not-registered");
    let app = TestApp::with(AppOptions {
        syslog_tls: Some(SyslogTls {
            cert_file: server_cert,
            key_file: server_key,
            client_ca_file: Some(ca.cert.clone()),
        }),
        ..AppOptions::default()
    })
    .await;
    let admin = app.client();
    admin.sign_in_as("bob").await;
    // No source addresses: over TLS with a client CA, the certificate alone names the host.
    app.add_host(&admin, "web01", &[]).await;
    let addr = app.syslog_tls_addr.unwrap();

    let line = "<38>1 - web01 sshd 5 - - Connection closed by 10.4.4.4 port 44 [preauth]";
    let mut known = connect(addr, &ca.cert, Some((&web01_cert, &web01_key)))
        .await
        .expect("a registered host's certificate is accepted");
    known
        .write_all(format!("{} {line}\n", line.len() + 1).as_bytes())
        .await
        .unwrap();
    known.shutdown().await.unwrap();
    let stored = app
        .wait_for_count(
            "select count(*) from log_event where transport = 'tls'",
            1,
            WAIT,
        )
        .await;
    assert_eq!(stored, 1);
    assert_eq!(
        app.count(
            "select count(*) from log_event e join ingest_host h using (host_id)
             where h.name = 'web01' and e.src_port = 44"
        )
        .await,
        1
    );

    // A certificate for a name no host has: the connection is closed unread.
    let mut unknown = connect(addr, &ca.cert, Some((&other_cert, &other_key)))
        .await
        .expect("the handshake itself succeeds");
    let _ = unknown
        .write_all(format!("{} {line}\n", line.len() + 1).as_bytes())
        .await;
    let mut rest = Vec::new();
    let _ = unknown.read_to_end(&mut rest).await;
    assert_eq!(
        app.wait_for_metric("opsportal_ingest_rejected_total{reason=\"unknown_certificate\"}")
            .await,
        1
    );
    // No certificate at all: the handshake fails.
    let anonymous = connect(addr, &ca.cert, None).await;
    if let Ok(mut stream) = anonymous {
        // TLS 1.3 may report the refusal only on the first read.
        let mut rest = Vec::new();
        assert!(stream.read_to_end(&mut rest).await.is_err() || rest.is_empty());
    }
    assert_eq!(
        app.wait_for_metric("opsportal_ingest_rejected_total{reason=\"tls_handshake\"}")
            .await,
        1
    );
    assert_eq!(app.count("select count(*) from log_event").await, 1);
}
