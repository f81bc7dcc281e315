//! Faults during ingest: the database restarted or stopped and the portal killed while a
//! shipper pushes numbered lines over HTTP (nothing acknowledged lost, nothing doubled), and
//! the portal restarted while rsyslog forwards over TCP (the loss is measured and bounded,
//! and rsyslog reconnects by itself).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::postgres::PrivatePostgres;
use crate::support::process::{Portal, debug_binary};
use crate::support::rsyslog::Rsyslog;
use crate::support::{AppOptions, TestApp, psql_on};

const LINES: u64 = 2000;
const BATCH: u64 = 50;

fn batch(first: u64) -> String {
    (first..first + BATCH)
        .map(|seq| {
            json!({
                "stream": "faults",
                "seq": seq,
                "program": "sshd",
                "pid": 7,
                "message": format!("Connection closed by 10.0.0.1 port {seq} [preauth]"),
            })
            .to_string()
                + "\n"
        })
        .collect()
}

/// What a shipper saw while sending every batch until it was acknowledged.
#[derive(Debug, Default)]
struct Shipped {
    acknowledged: u64,
    unavailable: u64,
    unanswered: u64,
}

/// Sends batch after batch, each until it is acknowledged, as an at-least-once shipper does;
/// runs `fault` after the batch numbered `at`.
/// A fault injected once the batch of its number is due.
type Fault = (u64, Box<dyn FnMut()>);

async fn ship(url: &str, token: &str, mut faults: Vec<Fault>, pause: Duration) -> Shipped {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut shipped = Shipped::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    for (index, first) in (1..=LINES).step_by(BATCH as usize).enumerate() {
        for (at, fault) in faults.iter_mut() {
            if *at == index as u64 {
                fault();
            }
        }
        loop {
            assert!(
                Instant::now() < deadline,
                "shipping took too long: {shipped:?}"
            );
            let sent = client
                .post(url)
                .bearer_auth(token)
                .body(batch(first))
                .send()
                .await;
            match sent {
                Ok(answer) if answer.status() == StatusCode::OK => {
                    let ack: Value = answer.json().await.unwrap();
                    shipped.acknowledged +=
                        ack["accepted"].as_u64().unwrap() + ack["duplicates"].as_u64().unwrap();
                    tokio::time::sleep(pause).await;
                    break;
                }
                Ok(answer) => {
                    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
                    assert!(answer.headers().contains_key("retry-after"));
                    shipped.unavailable += 1;
                }
                Err(_) => shipped.unanswered += 1,
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    shipped
}

async fn stored(url: &str) -> (i64, i64, i64) {
    let db = sqlx::PgPool::connect(url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let row = sqlx::query_as(
        "select (select count(*) from log_event), (select count(distinct src_port) from log_event),
                (select count(*) from log_seq)",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    db.close().await;
    row
}

#[tokio::test]
async fn database_restarts_and_outages_lose_and_double_nothing_acknowledged() {
    let postgres = std::sync::Arc::new(PrivatePostgres::start());
    let app = TestApp::with(AppOptions {
        database_server: Some(postgres.url()),
        ..AppOptions::default()
    })
    .await;
    let (admin, host) = app.admin_with_host("faulty", &[]).await;
    let token = app.host_secret(&admin, host).await;

    let crashed = postgres.clone();
    let stopped = postgres.clone();
    let faults: Vec<Fault> = vec![
        (10, Box::new(move || crashed.restart_immediately())),
        (
            20,
            Box::new(move || {
                stopped.stop();
                let restarted = stopped.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(3));
                    restarted.start_again();
                });
            }),
        ),
    ];
    let shipped = ship(&app.url("/api/ingest/logs"), &token, faults, Duration::ZERO).await;
    eprintln!("database faults: {shipped:?}");
    assert!(shipped.unavailable > 0, "the outage was seen: {shipped:?}");
    let database_url = format!(
        "postgres://postgres@127.0.0.1:{}/{}",
        postgres.port,
        app.database()
    );
    assert_eq!(stored(&database_url).await, (2000, 2000, 2000));
    drop(app);
    psql_on(&postgres.url(), "select 1");
}

#[tokio::test]
async fn a_killed_portal_loses_and_doubles_nothing_acknowledged() {
    let mut portal = Portal::start(&debug_binary("opsportal"), &AppOptions::default())
        .await
        .unwrap();
    let admin = portal.signed_in("bob").await.unwrap();
    let host = portal
        .post_json(
            &admin,
            "/api/admin/hosts",
            &json!({ "name": "killed", "addresses": [] }),
        )
        .await
        .unwrap();
    let token = portal
        .post_json(
            &admin,
            &format!("/api/admin/hosts/{}/tokens", host["id"]),
            &json!({}),
        )
        .await
        .unwrap();
    let token = token["token"].as_str().expect("a token").to_owned();

    let url = portal.url("/api/ingest/logs");
    let database_url = portal.database_url();
    let killer = tokio::spawn(async move {
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            portal.kill_and_restart().await.unwrap();
        }
        portal
    });
    let shipped = ship(&url, &token, Vec::new(), Duration::from_millis(40)).await;
    let portal = killer.await.unwrap();
    eprintln!("portal kills: {shipped:?}");
    assert!(
        shipped.unanswered > 0,
        "the kills hit the shipping: {shipped:?}"
    );
    assert_eq!(stored(&database_url).await, (2000, 2000, 2000));
    drop(portal);
}

#[tokio::test]
async fn a_portal_restart_during_syslog_over_tcp_loses_little_and_rsyslog_resumes() {
    let mut app = TestApp::with(AppOptions {
        syslog_tcp: true,
        ..AppOptions::default()
    })
    .await;
    app.admin_with_host("web01", &["127.0.0.1"]).await;
    let rsyslog = Rsyslog::start(app.syslog_addr.unwrap());
    let mut logger = Command::new("logger")
        .arg("-u")
        .arg(&rsyslog.socket)
        .args(["-t", "sshd", "-p", "authpriv.info"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("logger (bsdutils) runs");
    let mut input = logger.stdin.take().unwrap();
    let total = 3000u32;
    for n in 1..=total {
        writeln!(input, "Connection closed by 10.0.0.2 port {n} [preauth]").unwrap();
        if n % 100 == 0 {
            input.flush().unwrap();
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        if n == total / 2 {
            app.restart().await;
        }
    }
    drop(input);
    logger.wait().unwrap();

    let last = format!(
        "select count(*) from log_event where src_port = {total} and kind = 'connection_closed'"
    );
    assert_eq!(
        app.wait_for_count(&last, 1, Duration::from_secs(30)).await,
        1,
        "rsyslog reconnected by itself and delivered the lines after the restart"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let distinct = app
        .count("select count(distinct src_port) from log_event where kind = 'connection_closed'")
        .await;
    let lost = i64::from(total) - distinct;
    eprintln!("lines lost over the restart: {lost} of {total}");
    assert!(lost <= 200, "at most what was in flight is lost: {lost}");
    let doubled = app
        .count("select count(*) from log_event where kind = 'connection_closed'")
        .await
        - distinct;
    assert!(doubled <= 200, "{doubled}");
}

#[tokio::test]
async fn a_locked_table_pushes_back_on_senders_and_leaves_the_web_responsive() {
    let app = TestApp::with(AppOptions {
        syslog_tcp: true,
        queue_lines: 1000,
        store_timeout_secs: 2,
        ..AppOptions::default()
    })
    .await;
    let (admin, _, token) = app.host_with_token("web01", "127.0.0.1").await;

    let mut lock = app.db.begin().await.unwrap();
    sqlx::query("lock table log_event in access exclusive mode")
        .execute(&mut *lock)
        .await
        .unwrap();

    // Syslog keeps arriving; the portal may hold only its queue's worth.
    let addr = app.syslog_addr.unwrap();
    let sender = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        for n in 1..=200_000 {
            let port = n % 60_000 + 1;
            let line =
                format!("<38>1 - web01 sshd 3 - - Connection closed by 10.5.5.5 port {port}\n");
            stream
                .write_all(format!("{} {line}", line.len()).as_bytes())
                .unwrap();
        }
    });
    let started = Instant::now();
    let batch = [
        json!({ "stream": "s", "seq": 1, "program": "sshd", "message": "Connection closed by 10.6.6.6 port 1" }),
    ];
    let answer = app.push_logs(Some(&token), &batch).await;
    answer.expect_error(StatusCode::SERVICE_UNAVAILABLE, "ingest_unavailable");
    assert!(answer.headers.contains_key("retry-after"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused within the store timeout"
    );

    let web = Instant::now();
    assert_eq!(admin.get("/api/me").await.status, StatusCode::OK);
    assert!(
        web.elapsed() < Duration::from_secs(1),
        "the web pool is not the ingest pool"
    );
    let queued =
        crate::support::ingest::sample(&app.metrics().await, "opsportal_ingest_queued_lines");
    assert!(queued <= 1000, "the queue stays within its bound: {queued}");
    assert!(
        !sender.is_finished(),
        "the sender is held back, not buffered without end"
    );

    lock.commit().await.unwrap();
    // Joined off the runtime: the portal under test runs on this thread too.
    tokio::task::spawn_blocking(move || sender.join().unwrap())
        .await
        .unwrap();
    let stored = app
        .wait_for_count(
            "select count(*) from log_event where src_ip = '10.5.5.5'",
            200_000,
            Duration::from_secs(120),
        )
        .await;
    assert_eq!(
        stored, 200_000,
        "every line held back is stored once the table is free"
    );
    assert_eq!(
        app.push_logs(Some(&token), &batch).await.body,
        json!({ "accepted": 1, "duplicates": 0 }),
        "the batch refused during the lock is stored when sent again"
    );
}
