//! The real agent on this machine's kernel, reporting to a test portal: a full accept
//! queue, a process at its descriptor limit, sshd fixtures, and a portal restart that the
//! agent's spool rides out.

use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;
use socket2::{Domain, Socket, Type};

use super::{highest, portal_with_host};
use crate::support::agent::{Agent, AgentOptions, finding};

/// A listener with backlog 4 that never accepts.
fn stuck_listener() -> TcpListener {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(4).unwrap();
    socket.into()
}

fn flood(to: SocketAddr, count: usize) -> Vec<Socket> {
    (0..count)
        .map(|_| {
            let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            socket.set_nonblocking(true).unwrap();
            // EINPROGRESS is the expected answer of a non-blocking connect.
            let _in_progress = socket.connect(&to.into());
            socket
        })
        .collect()
}

#[tokio::test]
async fn a_listener_that_never_accepts_makes_its_host_critical_with_the_remedy() {
    let (app, admin, id, token) = portal_with_host().await;
    let listener = stuck_listener();
    let local = listener.local_addr().unwrap().to_string();
    let _first = flood(listener.local_addr().unwrap(), 20);
    let mut agent = Agent::start(&app, &token, AgentOptions::default());
    let stored = app
        .wait_for_count(
            "select count(*) from health_report",
            1,
            Duration::from_secs(30),
        )
        .await;
    assert!(stored >= 1, "the agent's first report is stored");
    // More handshakes against the full queue, so that the counter rises between reports.
    let _second = flood(listener.local_addr().unwrap(), 20);

    let row = app
        .wait_for_fleet_row(&admin, "web01", Duration::from_secs(30), |row| {
            finding(row, "accept_queue_full", |s| s == local).is_some()
                && finding(row, "listen_overflows", |_| true).is_some()
        })
        .await;
    agent.stop().await;
    let full = finding(&row, "accept_queue_full", |s| s == local)
        .unwrap_or_else(|| panic!("no accept-queue finding for {local}: {row}"));
    assert_eq!(full["severity"], "critical");
    assert!(
        full["remedy"]
            .as_str()
            .unwrap()
            .contains("net.core.somaxconn")
    );
    assert!(
        full["explanation"]
            .as_str()
            .unwrap()
            .contains("against a backlog of 4"),
        "{full}"
    );
    let overflows = finding(&row, "listen_overflows", |_| true).expect("overflow finding");
    assert_eq!(overflows["severity"], "critical");
    assert_eq!(row["worst"], "critical");
    assert!(row["critical"].as_u64().unwrap() >= 2);
    assert_eq!(row["findings"][0]["severity"], "critical", "worst first");

    let rose: bool = sqlx::query_scalar(
        "select max(listen_overflows) > min(listen_overflows) from health_report
         where host_id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(rose, "ListenOverflows rose between stored reports");

    let page = admin.get(&format!("/api/admin/hosts/{id}/health")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let series = page.body["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["local"] == local.as_str())
        .unwrap_or_else(|| panic!("no series for {local}"));
    assert!(highest(&series["accept_queue"]) >= 5.0, "{series}");
    assert_eq!(highest(&series["backlog"]), 4.0);
    assert!(highest(&page.body["overflow_rate"]) > 0.0);
    assert!(highest(&page.body["queue_ratio"]) >= 1.0);
}

#[tokio::test]
async fn a_process_near_its_descriptor_limit_is_a_finding() {
    let (app, admin, id, token) = portal_with_host().await;
    // 3 standard descriptors and 58 more under a limit of 64: 95%.
    let mut holder = Command::new("bash")
        .args([
            "-c",
            "ulimit -n 64; for fd in $(seq 3 60); do eval \"exec $fd</dev/null\"; done; \
             exec sleep 60",
        ])
        .spawn()
        .expect("bash");
    let subject = format!("sleep (pid {})", holder.id());
    let mut agent = Agent::start(&app, &token, AgentOptions::default());
    let row = app
        .wait_for_fleet_row(&admin, "web01", Duration::from_secs(30), |row| {
            finding(row, "fd_near_limit", |s| s == subject).is_some()
        })
        .await;
    agent.stop().await;
    let found = finding(&row, "fd_near_limit", |s| s == subject)
        .unwrap_or_else(|| panic!("no descriptor finding for {subject}: {row}"));
    assert!(
        found["explanation"]
            .as_str()
            .unwrap()
            .contains(" of 64 descriptors open"),
        "{found}"
    );
    assert!(found["remedy"].as_str().unwrap().contains("LimitNOFILE"));

    let page = admin.get(&format!("/api/admin/hosts/{id}/health")).await;
    let process = page.body["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == holder.id() && p["comm"] == "sleep")
        .unwrap_or_else(|| panic!("no series for the holder: {}", page.body["processes"]));
    assert!(highest(&process["fd_ratio"]) >= 0.9, "{process}");
    let _ = holder.kill();
    let _ = holder.wait();
}

#[tokio::test]
async fn sshd_at_info_and_an_account_named_like_a_principal_are_findings() {
    let (app, admin, id, token) = portal_with_host().await;
    let fixtures = std::env::temp_dir().join(format!("opsportal-sshd-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&fixtures).unwrap();
    let sshd_config = fixtures.join("sshd_config");
    std::fs::write(
        &sshd_config,
        "Port 22\nLogLevel INFO\nPasswordAuthentication no\n",
    )
    .unwrap();
    let passwd = fixtures.join("passwd");
    std::fs::write(
        &passwd,
        "root:x:0:0:root:/root:/bin/bash\n\
         zone-webservers:x:1001:1001::/home/zone-webservers:/bin/bash\n",
    )
    .unwrap();
    let options = AgentOptions {
        sshd_config: Some(sshd_config),
        passwd: Some(passwd),
        ..AgentOptions::default()
    };
    let mut agent = Agent::start(&app, &token, options);
    let row = app
        .wait_for_fleet_row(&admin, "web01", Duration::from_secs(30), |row| {
            finding(row, "log_level_low", |_| true).is_some()
        })
        .await;
    agent.stop().await;
    let _ = std::fs::remove_dir_all(&fixtures);

    let level = finding(&row, "log_level_low", |_| true).expect("log level finding");
    assert_eq!(level["title"], "sshd logs at INFO, below VERBOSE");
    assert!(
        level["remedy"]
            .as_str()
            .unwrap()
            .contains("LogLevel VERBOSE")
    );
    let account = finding(&row, "principal_account", |s| s == "zone-webservers")
        .unwrap_or_else(|| panic!("no account finding: {row}"));
    assert_eq!(account["severity"], "critical");
    assert!(finding(&row, "no_principals_file", |_| true).is_some());
    let krl = finding(&row, "revoked_keys_missing", |_| true).expect("KRL finding");
    assert_eq!(krl["severity"], "critical");

    let page = admin.get(&format!("/api/admin/hosts/{id}/health")).await;
    assert_eq!(page.body["ssh"]["log_level"], "INFO");
    let accounts: Vec<&str> = page.body["ssh"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(accounts.contains(&"zone-webservers"), "{accounts:?}");
}

#[tokio::test]
async fn the_agent_spool_rides_out_a_portal_restart_without_gaps_or_copies() {
    let (mut app, _admin, id, token) = portal_with_host().await;
    let mut agent = Agent::start(&app, &token, AgentOptions::default());
    app.wait_for_count(
        "select count(*) from health_report",
        2,
        Duration::from_secs(30),
    )
    .await;
    // Down for a few intervals: the agent keeps its reports and sends them afterwards.
    app.restart_after(Duration::from_secs(3)).await;
    let made_while_down = agent.spool().0;
    let stored = app
        .wait_for_count(
            &format!("select count(*) from health_report where seq > {made_while_down}"),
            2,
            Duration::from_secs(30),
        )
        .await;
    assert!(stored >= 2, "reports after the restart arrive");
    agent.stop().await;

    let (total, distinct, low, high): (i64, i64, i64, i64) = sqlx::query_as(
        "select count(*), count(distinct seq), min(seq)::bigint, max(seq)::bigint
         from health_report where host_id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(total, distinct, "no report stored twice");
    assert_eq!(low, 1);
    assert_eq!(total, high - low + 1, "stored numbers are contiguous");
    assert!(
        high as u64 > made_while_down,
        "reports made while down were sent"
    );
    let (last, pending) = agent.spool();
    let lost: Vec<u64> = (1..=last)
        .filter(|seq| *seq > high as u64 && !pending.contains(seq))
        .collect();
    assert!(
        lost.is_empty(),
        "reports neither stored nor spooled: {lost:?}"
    );
    let latest: i64 =
        sqlx::query_scalar("select seq::bigint from health_latest where host_id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(latest, high);
}
