//! Downsampling: raw reports older than `ingest.health_raw_days` become hourly rows, their
//! partitions are dropped, and the host's page draws the hours before the raw data.

use chrono::{Duration, Utc};
use opsportal::health::rollup;
use opsportal::ingest::partitions;
use reqwest::StatusCode;

use super::portal_with_host;
use super::reports::{body, report};

#[tokio::test]
async fn old_reports_are_rolled_into_hours_and_their_partitions_dropped() {
    let (app, admin, id, token) = portal_with_host().await;
    for (seq, ago, overflows) in [(1, 30, 100), (2, 20, 160)] {
        let answer = app
            .push_report(Some(&token), body(&report(seq, ago, overflows)))
            .await;
        assert_eq!(answer.body["stored"], true, "{}", answer.body);
    }
    // The same two reports as if received five days ago.
    let now = Utc::now();
    partitions::ensure(&app.db, now - Duration::days(5))
        .await
        .unwrap();
    sqlx::query(
        "insert into health_report
         select received_at - interval '5 days', at - interval '5 days', host_id, agent_id,
            seq, interval_secs, listen_overflows, listen_drops, overflow_delta, overflow_rate,
            drop_rate, files_allocated, files_max, ipvs_loaded, ipvs_connections,
            ipvs_table_size, queue_ratio_max, fd_ratio_max, listener_local, listener_comm,
            listener_queue, listener_backlog, fd_pid, fd_comm, fd_open, fd_limit,
            spool_dropped, rejected
         from health_report",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let old_day = (now - Duration::days(5)).format("%Y%m%d");
    let old_partition = format!("health_report_{old_day}");

    let rolled = rollup::run(&app.db, now, 2, 30).await.unwrap();
    assert!(rolled.partitions.contains(&old_partition), "{rolled:?}");
    assert_eq!(app.count("select count(*) from health_report").await, 2);
    let (reports, delta, ratio): (i32, i64, f64) = sqlx::query_as(
        "select sum(reports)::int, sum(overflow_delta)::bigint, max(fd_ratio_max)
         from health_hourly where host_id = $1",
    )
    .bind(id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((reports, delta), (2, 60));
    assert!((ratio - 100.0 / 1024.0).abs() < 1e-9);
    let gone: bool = sqlx::query_scalar("select to_regclass($1) is null")
        .bind(&old_partition)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(gone, "the rolled partition is dropped");

    let from = (now - Duration::days(6)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let page = admin
        .get(&format!("/api/admin/hosts/{id}/health?from={from}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let points = page.body["fd_ratio"].as_array().unwrap();
    let first_t = points[0]["t"].as_i64().unwrap();
    assert!(
        first_t < (now - Duration::days(4)).timestamp(),
        "hourly point first: {points:?}"
    );
    assert!(points.len() >= 2, "then the raw points: {points:?}");
    assert!(page.body["raw_since"].is_string());
}
