//! Hand-made reports: stored once with their rates, refused with the field named, and never
//! acknowledged before they are committed.

use chrono::{SecondsFormat, Utc};
use opsportal_shared::health::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{highest, portal_with_host};
use crate::support::TestApp;
use crate::support::ingest::sample;

const AGENT: &str = "5d0f9f4e-2b1c-4a57-8f3e-6a7b8c9d0e1f";

/// A report as the agent makes it, `secs_ago` seconds old, with ListenOverflows at
/// `overflows`.
pub(super) fn report(seq: u64, secs_ago: i64, overflows: u64) -> HostReport {
    let at = Utc::now() - chrono::Duration::seconds(secs_ago);
    let process = |pid, comm: &str| ProcessRef {
        pid,
        comm: comm.into(),
    };
    HostReport {
        agent_id: AGENT.into(),
        seq,
        agent_version: "0.1.0".into(),
        hostname: "web01".into(),
        collected_at: at.to_rfc3339_opts(SecondsFormat::Millis, true),
        interval_secs: 10,
        spool_dropped: 0,
        rejected: 0,
        listeners: vec![Listener {
            local: "0.0.0.0:443".into(),
            port: 443,
            accept_queue: 3,
            backlog: 511,
            process: Some(process(812, "nginx")),
        }],
        tcp: Some(TcpListenCounters {
            listen_overflows: overflows,
            listen_drops: overflows + 7,
        }),
        fds: FdReport {
            system: Some(SystemFiles {
                allocated: 3000,
                max: 100_000,
            }),
            top: vec![ProcessFds {
                process: process(812, "nginx"),
                open_fds: 100,
                soft_limit: Some(1024),
            }],
        },
        ipvs: IpvsReport::Loaded(IpvsState {
            version: "1.2.1".into(),
            table_size: 4096,
            connections: Some(20_000),
            services: Vec::new(),
        }),
        ssh: SshFacts {
            config_path: "/etc/ssh/sshd_config".into(),
            config_readable: true,
            log_level: Some("VERBOSE".into()),
            trusted_user_ca_keys: None,
            authorized_principals_file: Some("/etc/ssh/principals/%u".into()),
            revoked_keys: Some(RevokedKeysFile {
                path: "/etc/ssh/revoked.krl".into(),
                sha256: Some("ab".repeat(32)),
                age_secs: Some(30),
            }),
            accounts: Vec::new(),
        },
        problems: Vec::new(),
    }
}

pub(super) fn body(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

#[tokio::test]
async fn a_report_is_stored_once_with_rates_and_shown_with_the_logins() {
    let (app, admin, id, token) = portal_with_host().await;
    let first = app
        .push_report(Some(&token), body(&report(1, 30, 1000)))
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body, json!({ "stored": true, "duplicate": false }));
    let again = app
        .push_report(Some(&token), body(&report(1, 30, 1000)))
        .await;
    assert_eq!(again.body, json!({ "stored": false, "duplicate": true }));
    assert_eq!(app.count("select count(*) from health_report").await, 1);

    // 50 more in 10 s, then a reboot that reset the counter to 20: 5/s, then 2/s.
    for (seq, ago, overflows) in [(2, 20, 1050), (3, 10, 20)] {
        let answer = app
            .push_report(Some(&token), body(&report(seq, ago, overflows)))
            .await;
        assert_eq!(answer.body["stored"], true, "{}", answer.body);
    }
    let rates: Vec<Option<f64>> =
        sqlx::query_scalar("select overflow_rate from health_report order by seq")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let rounded: Vec<Option<f64>> = rates.iter().map(|r| r.map(|v| v.round())).collect();
    assert_eq!(rounded, [None, Some(5.0), Some(2.0)]);
    let metrics = app.metrics().await;
    assert_eq!(sample(&metrics, "opsportal_ingest_metric_reports_total"), 3);
    assert_eq!(
        sample(&metrics, "opsportal_ingest_metric_duplicate_total"),
        1
    );

    let login = json!({
        "message": "Accepted publickey for root from 10.1.2.3 port 40001 ssh2: ED25519 SHA256:plainkeyAAAA",
        "program": "sshd", "pid": 4242, "timestamp": Utc::now().to_rfc3339(),
    });
    assert_eq!(
        app.push_logs(Some(&token), &[login]).await.status,
        StatusCode::OK
    );

    let page = admin.get(&format!("/api/admin/hosts/{id}/health")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let view: HostHealthView = serde_json::from_value(page.body.clone()).unwrap();
    assert_eq!(view.logins.len(), 1);
    assert_eq!(view.logins[0].src_ip.as_deref(), Some("10.1.2.3"));
    assert_eq!(view.logins[0].kind, "accepted");
    assert!((highest(&page.body["overflow_rate"]) - 5.0).abs() < 0.1);
    assert_eq!(highest(&page.body["ipvs_table_size"]), 4096.0);
    assert_eq!(view.ssh.unwrap().log_level.as_deref(), Some("VERBOSE"));
    let rules: Vec<&str> = view.host.findings.iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["listen_overflows", "ipvs_table_small"]);
    assert_eq!(view.host.worst, Some(Severity::Critical));
    assert_eq!(app.audit("host_health_view").await.len(), 1);

    let carol = app.client();
    carol.sign_in_as("carol").await;
    let fleet = carol.get("/api/admin/fleet").await;
    assert_eq!(fleet.status, StatusCode::OK, "auditors may read the fleet");
    assert_eq!(fleet.body["hosts"][0]["name"], "web01");
    assert_eq!(fleet.body["hosts"][0]["agent_version"], "0.1.0");
    let alice = app.client();
    alice.sign_in_as("alice").await;
    alice
        .get("/api/admin/fleet")
        .await
        .expect_error(StatusCode::FORBIDDEN, "forbidden");
}

/// Posts `value` and expects a 400 `invalid_metric` whose message contains `names`.
async fn refused(app: &TestApp, token: &str, value: Value, names: &str) {
    let answer = app.push_report(Some(token), body(&value)).await;
    let message = answer.expect_error(StatusCode::BAD_REQUEST, "invalid_metric");
    assert!(message.contains(names), "{message:?} should name {names}");
}

#[tokio::test]
async fn bad_metric_values_are_refused_naming_the_field_and_nothing_is_stored() {
    let (app, _admin, _id, token) = portal_with_host().await;
    let good = serde_json::to_value(report(1, 10, 5)).unwrap();

    let mut value = good.clone();
    value["listeners"][0]["accept_queue"] = json!(-3);
    refused(&app, &token, value, "listeners[0].accept_queue is negative").await;
    let mut value = good.clone();
    value["listeners"][0]["accept_queue"] = json!(2_000_000_000u64);
    refused(&app, &token, value, "listeners[0].accept_queue is above").await;
    let mut value = good.clone();
    value["fds"]["top"][0]["open_fds"] = json!(50_000);
    refused(
        &app,
        &token,
        value,
        "fds.top[0].open_fds is more than ten times",
    )
    .await;
    let mut value = good.clone();
    value["fds"]["top"][0]["soft_limit"] = json!(1.5);
    refused(
        &app,
        &token,
        value,
        "fds.top[0].soft_limit is not a whole number",
    )
    .await;
    let mut value = good.clone();
    value["listeners"] = Value::Array(vec![good["listeners"][0].clone(); 1001]);
    refused(&app, &token, value, "listeners holds 1001 entries").await;
    let mut value = good.clone();
    value["collected_at"] = json!("last tuesday");
    refused(&app, &token, value, "collected_at").await;

    let huge = vec![b' '; 2 * 1024 * 1024];
    app.push_report(Some(&token), huge)
        .await
        .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    app.push_report(None, body(&good))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_token");
    app.push_report(Some("opsp_not-a-token"), body(&good))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "invalid_token");

    assert_eq!(app.count("select count(*) from health_report").await, 0);
    assert_eq!(app.count("select count(*) from health_latest").await, 0);
    assert_eq!(app.count("select count(*) from health_agent").await, 0);
    let metrics = app.metrics().await;
    let rejected = |reason: &str| {
        sample(
            &metrics,
            &format!("opsportal_ingest_metric_rejected_total{{reason=\"{reason}\"}}"),
        )
    };
    assert_eq!(rejected("out_of_range"), 4);
    assert_eq!(rejected("too_many"), 1);
    assert_eq!(rejected("bad_time"), 1);
    assert_eq!(rejected("too_large"), 1);
    assert_eq!(rejected("invalid_token"), 2);

    let stored = app.push_report(Some(&token), body(&good)).await;
    assert_eq!(stored.body["stored"], true, "the good report still goes in");
}

#[tokio::test]
async fn a_report_is_not_acknowledged_when_the_database_fails() {
    let (app, _admin, _id, token) = portal_with_host().await;
    // The report's last statement fails, after its numbers were written in the transaction.
    execute(
        &app,
        "alter table health_latest rename to health_latest_away",
    )
    .await;
    let answer = app.push_report(Some(&token), body(&report(1, 10, 5))).await;
    answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "ingest_unavailable");
    assert_eq!(
        answer
            .headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("10")
    );
    assert_eq!(app.count("select count(*) from health_report").await, 0);
    assert_eq!(app.count("select count(*) from health_agent").await, 0);

    execute(
        &app,
        "alter table health_latest_away rename to health_latest",
    )
    .await;
    let again = app.push_report(Some(&token), body(&report(1, 10, 5))).await;
    assert_eq!(again.body, json!({ "stored": true, "duplicate": false }));
    assert_eq!(app.count("select count(*) from health_report").await, 1);
}

/// Runs one statement in the portal's own database.
async fn execute(app: &TestApp, statement: &str) {
    sqlx::query(statement)
        .execute(&app.db)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
}
