//! Downsampling: whole reports are kept for `ingest.health_raw_days`, then each day's
//! partition is rolled into one row per host and hour and dropped; hourly rows are kept for
//! `ingest.health_retention_days`.
//!
//! A partition is rolled up and dropped in one transaction, so a crash in between leaves the
//! raw rows and no rollup, and the next run does it again. Hours are those of the host's
//! collection time, and reports of one hour can arrive on two days (a spool sent late): the
//! second partition's rows are merged into the hour already written.

use chrono::{DateTime, Days, Utc};
use sqlx::PgPool;

use crate::ingest::partitions::{self, HEALTH_REPORT};

/// What one maintenance run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rolled {
    /// Partitions rolled up and dropped.
    pub partitions: Vec<String>,
    /// Hourly rows written or merged.
    pub hours: u64,
    /// Hourly rows past the retention, deleted.
    pub expired: u64,
}

/// Rolls up the partitions older than `raw_days` and deletes rollups older than
/// `retention_days`.
pub async fn run(
    db: &PgPool,
    now: DateTime<Utc>,
    raw_days: u32,
    retention_days: u32,
) -> Result<Rolled, sqlx::Error> {
    let mut rolled = Rolled::default();
    let today = now.date_naive();
    if let Some(cutoff) = today.checked_sub_days(Days::new(u64::from(raw_days))) {
        for (day, partition) in partitions::existing(db, HEALTH_REPORT).await? {
            if day >= cutoff {
                continue;
            }
            rolled.hours += roll_up(db, &partition).await?;
            rolled.partitions.push(partition);
        }
    }
    let horizon = now - chrono::Duration::days(i64::from(retention_days));
    rolled.expired = sqlx::query("delete from health_hourly where hour < $1")
        .bind(horizon)
        .execute(db)
        .await?
        .rows_affected();
    Ok(rolled)
}

/// Rolls one partition into `health_hourly` and drops it. `partition` is a name
/// [`partitions::existing`] made, never input.
async fn roll_up(db: &PgPool, partition: &str) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let hours = sqlx::query(&format!(
        "insert into health_hourly as h (host_id, hour, reports, queue_ratio_max, fd_ratio_max,
            files_ratio_max, overflow_delta, overflow_rate_max, drop_rate_max,
            ipvs_connections_max, ipvs_table_size)
         select r.host_id, date_trunc('hour', r.at), count(*), max(r.queue_ratio_max),
            max(r.fd_ratio_max), max(r.files_allocated::float8 / nullif(r.files_max, 0)),
            sum(r.overflow_delta)::bigint, max(r.overflow_rate), max(r.drop_rate),
            max(r.ipvs_connections), max(r.ipvs_table_size)
         from {partition} r join ingest_host using (host_id)
         group by 1, 2
         on conflict (host_id, hour) do update set
            reports = h.reports + excluded.reports,
            queue_ratio_max = greatest(h.queue_ratio_max, excluded.queue_ratio_max),
            fd_ratio_max = greatest(h.fd_ratio_max, excluded.fd_ratio_max),
            files_ratio_max = greatest(h.files_ratio_max, excluded.files_ratio_max),
            overflow_delta = case when h.overflow_delta is null and excluded.overflow_delta is null
                then null
                else coalesce(h.overflow_delta, 0) + coalesce(excluded.overflow_delta, 0) end,
            overflow_rate_max = greatest(h.overflow_rate_max, excluded.overflow_rate_max),
            drop_rate_max = greatest(h.drop_rate_max, excluded.drop_rate_max),
            ipvs_connections_max = greatest(h.ipvs_connections_max, excluded.ipvs_connections_max),
            ipvs_table_size = greatest(h.ipvs_table_size, excluded.ipvs_table_size)"
    ))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(&format!("drop table {partition}"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(hours)
}
