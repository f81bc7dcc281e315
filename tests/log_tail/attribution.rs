//! Lines read from a file are what the portal makes of them over syslog: a certificate login
//! written to the file is that person's login, and a real sshd's login, written to files by
//! rsyslog and forwarded by it over TCP at the same time, is stored the same way on all
//! three paths.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::StatusCode;
use serde_json::Value;

use super::{LogDir, WAIT, follow, portal_with_host, stamp, token_host, wait_for_events};
use crate::browser_history::certificate_words;
use crate::support::rsyslog::Rsyslog;
use crate::support::sshd::{Sshd, SshdSetup};
use crate::support::{AppOptions, Client, TestApp};

/// A stored event's columns the history API does not show.
#[derive(Debug, PartialEq, Eq, sqlx::FromRow)]
struct Stored {
    kind: String,
    program: Option<String>,
    pid: Option<i32>,
    claimed_hostname: Option<String>,
    transport: String,
    flags: Vec<String>,
    raw: String,
    event_at: DateTime<Utc>,
}

async fn stored(app: &TestApp, host: i64) -> Vec<Stored> {
    sqlx::query_as(
        "select kind, program, pid, claimed_hostname, transport, flags, raw, event_at
         from log_event where host_id = $1 order by event_id",
    )
    .bind(host)
    .fetch_all(&app.db)
    .await
    .expect("stored events")
}

#[tokio::test]
async fn a_certificate_login_written_to_the_file_is_a_login_of_its_person() {
    let (app, _admin, host, token) = portal_with_host().await;
    let alice = app.client();
    alice.sign_in_as("alice").await;
    let (_, issued) = alice.root_certificate().await;

    let accepted = format!(
        "Accepted publickey for root from 10.20.0.7 port 40001 ssh2: {}",
        certificate_words(&issued)
    );
    let written_at = Utc::now();
    let precise = chrono::Local::now().to_rfc3339_opts(SecondsFormat::Micros, false);
    let logs = LogDir::new();
    logs.append(&format!(
        "{at} web01 sshd[5151]: {accepted}\n\
         {at} web01 sshd[5151]: Disconnected from user root 10.20.0.7 port 40001\n\
         {precise} web01 sshd-session[5152]: Connection closed by 10.0.0.9 port 5000 [preauth]\n\
         {at} elsewhere CRON[77]: pam_unix(cron:session): session opened for user root(uid=0)\n\
         no prefix at all\n",
        at = stamp(),
    ));
    let mut agent = follow(&app, &token, &[&logs.log], &[]);
    assert_eq!(wait_for_events(&app, host, 5).await, 5);
    agent.stop().await;

    let history = alice.get("/api/history?kind=accepted").await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.body);
    let events = history.body["events"].as_array().expect("events");
    assert_eq!(events.len(), 1, "{events:?}");
    let login = &events[0];
    assert_eq!(login["host"], "web01");
    assert_eq!(login["username"], "root");
    assert_eq!(login["src_ip"], "10.20.0.7");
    assert_eq!(login["src_port"], 40001);
    assert_eq!(login["serial"], issued["serial"]);
    assert_eq!(login["person"], "alice");
    assert_eq!(login["attribution"], "exact");
    assert_eq!(login["flagged"], false);
    assert!(
        login["ended_at"].is_string(),
        "tied to its disconnect: {login}"
    );
    assert_eq!(login["raw"], accepted.as_str());
    assert_eq!(login["flags"], serde_json::json!([]), "{login}");

    let rows = stored(&app, host).await;
    let shape: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r.kind.as_str(),
                r.program.as_deref(),
                r.pid,
                r.claimed_hostname.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("accepted", Some("sshd"), Some(5151), Some("web01")),
            ("disconnected", Some("sshd"), Some(5151), Some("web01")),
            (
                "connection_closed",
                Some("sshd-session"),
                Some(5152),
                Some("web01")
            ),
            ("other", Some("CRON"), Some(77), Some("elsewhere")),
            ("other", None, None, None),
        ]
    );
    assert!(rows.iter().all(|r| r.transport == "http"));
    let skew = (rows[0].event_at - written_at).num_seconds().abs();
    assert!(
        skew <= 2,
        "read in the host's zone: {} against {written_at}",
        rows[0].event_at
    );
    assert_eq!(
        rows[2].event_at,
        DateTime::parse_from_rfc3339(&precise).unwrap(),
        "an RFC 3339 time is kept to the microsecond"
    );
    assert_eq!(
        rows[3].flags,
        ["hostname_mismatch"],
        "a line naming another host is marked, as over syslog"
    );
    assert_eq!(rows[4].raw, "no prefix at all");
    assert!(rows[..3].iter().all(|r| r.flags.is_empty()), "{rows:?}");
}

#[tokio::test]
async fn a_real_sshd_login_read_from_rsyslogs_files_is_stored_as_over_syslog() {
    let app = TestApp::with(AppOptions {
        syslog_tcp: true,
        ..AppOptions::default()
    })
    .await;
    let (admin, _) = app.admin_with_host("web01", &["127.0.0.1"]).await;
    let (_, traditional_token) = token_host(&app, &admin, "web02").await;
    let (_, rfc3339_token) = token_host(&app, &admin, "web03").await;

    // One rsyslogd forwards to the portal over TCP and writes the same lines to two files,
    // in the traditional format and in RFC 3339, as Debian's rsyslog writes auth.log.
    let logs = LogDir::new();
    let rfc3339_log = logs.dir.join("auth-rfc3339.log");
    let rsyslog = Rsyslog::start_writing(
        app.syslog_addr.unwrap(),
        &[
            (&logs.log, "RSYSLOG_TraditionalFileFormat"),
            (&rfc3339_log, "RSYSLOG_FileFormat"),
        ],
    );
    let setup = SshdSetup {
        syslog_socket: Some(rsyslog.socket.clone()),
        ..SshdSetup::default()
    };
    let sshd = Sshd::start_with(&["root"], setup.clone());
    let databases_only = Sshd::start_with(&["zone-databases"], setup);
    let mut traditional = follow(&app, &traditional_token, &[&logs.log], &[]);
    let mut rfc3339 = follow(&app, &rfc3339_token, &[&rfc3339_log], &[]);

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
    assert!(
        !databases_only
            .login(&key.private_key, &cert)
            .status
            .success()
    );

    let hosts = ["web01", "web02", "web03"];
    let accepted = events_on_every_host(&alice, "accepted", &hosts, |e| {
        e["serial"] == serial.as_str() && e["ended_at"].is_string()
    })
    .await;
    let failed = events_on_every_host(&alice, "failed", &hosts, |e| {
        e["serial"] == serial.as_str() && e["reason"].is_string()
    })
    .await;
    traditional.stop().await;
    rfc3339.stop().await;
    drop(rsyslog);

    assert_eq!(accepted[0]["attribution"], "exact");
    assert_eq!(accepted[0]["person"], "alice");
    assert_eq!(failed[0]["reason"], "no authorized principal");
    for events in [&accepted, &failed] {
        let over_syslog = &events[0];
        for from_file in &events[1..] {
            for field in [
                "kind",
                "username",
                "src_ip",
                "src_port",
                "method",
                "key_type",
                "key_fingerprint",
                "key_id",
                "serial",
                "ca_fingerprint",
                "certificate_id",
                "person",
                "attribution",
                "flagged",
                "reason",
                "explanation",
                "flags",
                "failures_before",
            ] {
                assert_eq!(
                    from_file[field], over_syslog[field],
                    "{field} of {} and over syslog\n{from_file}\n{over_syslog}",
                    from_file["host"]
                );
            }
            let apart = (time(from_file, "event_at") - time(over_syslog, "event_at"))
                .num_milliseconds()
                .abs();
            assert!(apart < 1000, "event times {apart} ms apart");
            assert_eq!(
                from_file["duration_secs"].is_i64(),
                over_syslog["duration_secs"].is_i64()
            );
            let text = from_file["raw"].as_str().unwrap();
            assert!(
                over_syslog["raw"].as_str().unwrap().ends_with(text),
                "the file line's text is the syslog message's: {text}"
            );
        }
    }
    let programs: Vec<(String, Option<String>, Option<i32>)> = sqlx::query_as(
        "select h.name, e.program, e.pid from log_event e join ingest_host h using (host_id)
         where e.kind = 'accepted' order by h.name",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(programs.len(), 3, "{programs:?}");
    assert!(
        programs
            .iter()
            .all(|p| (&p.1, p.2) == (&programs[0].1, programs[0].2)),
        "the same program and process: {programs:?}"
    );
}

/// Waits until `client`'s history holds an event of `kind` for which `wanted` holds on each
/// of `hosts`; returns them in the order of `hosts`.
async fn events_on_every_host(
    client: &Client,
    kind: &str,
    hosts: &[&str],
    wanted: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let page = client.get(&format!("/api/history?kind={kind}")).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let events = page.body["events"].as_array().unwrap();
        let found: Vec<Value> = hosts
            .iter()
            .filter_map(|host| {
                events
                    .iter()
                    .find(|e| e["host"] == *host && wanted(e))
                    .cloned()
            })
            .collect();
        if found.len() == hosts.len() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} event on each of {hosts:?}: {}",
            page.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn time(event: &Value, field: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(event[field].as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}
