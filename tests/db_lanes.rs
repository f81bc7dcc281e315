//! The connections of the certificate path's hot statements (`opsportal::db::Lanes`): reused
//! only when given back after a finished statement, closed otherwise, and bounded like a pool.

use std::time::{Duration, Instant};

use opsportal::config::DatabaseConfig;
use opsportal::db::{self, Lanes};

use crate::support::stack;

fn lanes(max_connections: u32) -> Lanes {
    // `db::lanes` takes half of `max_connections`.
    db::lanes(&DatabaseConfig {
        url: stack().database_url.clone(),
        password_file: None,
        max_connections: max_connections * 2,
        acquire_timeout_secs: 1,
    })
    .unwrap()
}

async fn backend_pid(lanes: &Lanes, release: bool) -> i32 {
    let mut lane = lanes.acquire().await.unwrap();
    let pid = sqlx::query_scalar("select pg_backend_pid()")
        .fetch_one(lane.connection())
        .await
        .unwrap();
    if release {
        lane.release();
    }
    pid
}

async fn is_connected(pid: i32) -> bool {
    let mut lane = lanes(1).acquire().await.unwrap();
    sqlx::query_scalar("select exists (select 1 from pg_stat_activity where pid = $1)")
        .bind(pid)
        .fetch_one(lane.connection())
        .await
        .unwrap()
}

/// Waits until the backend `pid` is gone; false if it is still there after a few seconds.
async fn disconnects(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !is_connected(pid).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_connection_given_back_is_reused_and_one_dropped_is_closed() {
    let lanes = lanes(2);
    let first = backend_pid(&lanes, true).await;
    assert_eq!(backend_pid(&lanes, true).await, first, "given back, reused");

    let dropped = backend_pid(&lanes, false).await;
    assert_eq!(dropped, first);
    let next = backend_pid(&lanes, true).await;
    assert_ne!(
        next, dropped,
        "a dropped lane's connection is not handed out again"
    );
    assert!(disconnects(dropped).await, "and it is closed");
}

#[tokio::test]
async fn a_statement_cancelled_midway_leaves_nothing_half_read_for_the_next() {
    let lanes = lanes(1);
    let before = backend_pid(&lanes, true).await;
    let cancelled = tokio::time::timeout(Duration::from_millis(200), async {
        let mut lane = lanes.acquire().await.unwrap();
        sqlx::query("select pg_sleep(3)")
            .execute(lane.connection())
            .await
            .unwrap();
        lane.release();
    })
    .await;
    assert!(cancelled.is_err(), "the statement was cut off");

    let mut lane = lanes.acquire().await.unwrap();
    let (pid, one): (i32, i32) = sqlx::query_as("select pg_backend_pid(), 1")
        .fetch_one(lane.connection())
        .await
        .unwrap();
    lane.release();
    assert_eq!(one, 1);
    assert_ne!(
        pid, before,
        "a fresh connection, not the one left mid-statement"
    );
}

#[tokio::test]
async fn waiting_past_the_acquire_timeout_fails_as_sqlx_pools_do() {
    let lanes = lanes(1);
    let held = lanes.acquire().await.unwrap();
    let started = Instant::now();
    let waited = lanes.acquire().await;
    assert!(
        matches!(waited, Err(sqlx::Error::PoolTimedOut)),
        "{:?}",
        waited.err()
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    held.release();
    assert!(lanes.acquire().await.is_ok(), "free again once given back");
}
