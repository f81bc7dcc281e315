//! Daily partitions of `log_event` and `health_report`: made a few days ahead; log
//! partitions are dropped after the retention, health partitions once rolled up
//! ([`crate::health::rollup`]).
//!
//! Rows are placed by the time the portal received them, so the partitions for today and the
//! next days always cover new rows; one that is missing anyway (the clock jumped) is made
//! when an insert finds no partition, and the insert is tried again.

use chrono::{DateTime, Days, NaiveDate, Utc};
use sqlx::PgPool;

/// How many days of partitions exist ahead of today.
const DAYS_AHEAD: u64 = 3;

/// The tables partitioned by day of their `received_at`.
pub const LOG_EVENT: &str = "log_event";
pub const HEALTH_REPORT: &str = "health_report";

fn name(table: &str, day: NaiveDate) -> String {
    format!("{table}_{}", day.format("%Y%m%d"))
}

/// Makes the partitions of both tables from yesterday to a few days ahead of `now`.
pub async fn ensure(db: &PgPool, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let today = now.date_naive();
    let first = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    for table in [LOG_EVENT, HEALTH_REPORT] {
        for offset in 0..=DAYS_AHEAD + 1 {
            let Some(day) = first.checked_add_days(Days::new(offset)) else {
                continue;
            };
            let Some(next) = day.succ_opt() else { continue };
            // Identifiers and bounds come from dates formatted here, never from input.
            let statement = format!(
                "create table if not exists {} partition of {table} \
                 for values from ('{day} 00:00:00+00') to ('{next} 00:00:00+00')",
                name(table, day)
            );
            sqlx::query(&statement).execute(db).await?;
        }
    }
    Ok(())
}

/// The daily partitions of `table` that exist, by day, oldest first.
pub async fn existing(db: &PgPool, table: &str) -> Result<Vec<(NaiveDate, String)>, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar(
        "select c.relname::text from pg_inherits i
         join pg_class c on c.oid = i.inhrelid
         join pg_class p on p.oid = i.inhparent
         where p.relname = $1",
    )
    .bind(table)
    .fetch_all(db)
    .await?;
    let prefix = format!("{table}_");
    let mut days: Vec<(NaiveDate, String)> = names
        .into_iter()
        .filter_map(|partition| {
            let day = partition
                .strip_prefix(&prefix)
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())?;
            // Only names this module made, so that the name can be used in a statement.
            (partition == name(table, day)).then_some((day, partition))
        })
        .collect();
    days.sort();
    Ok(days)
}

/// Drops the partitions, and the sequence claims and sessions, older than `retention_days`.
pub async fn drop_expired(
    db: &PgPool,
    now: DateTime<Utc>,
    retention_days: u32,
) -> Result<Vec<String>, sqlx::Error> {
    let Some(cutoff) = now
        .date_naive()
        .checked_sub_days(Days::new(u64::from(retention_days)))
    else {
        return Ok(Vec::new());
    };
    let mut dropped = Vec::new();
    for (day, partition) in existing(db, LOG_EVENT).await? {
        if day < cutoff {
            sqlx::query(&format!("drop table if exists {partition}"))
                .execute(db)
                .await?;
            dropped.push(partition);
        }
    }
    let cutoff = cutoff.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    for table in ["log_seq", "log_session"] {
        sqlx::query(&format!("delete from {table} where received_at < $1"))
            .bind(cutoff)
            .execute(db)
            .await?;
    }
    Ok(dropped)
}

/// Whether an insert failed because no partition covers the row.
pub fn is_missing_partition(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.code().as_deref() == Some("23514") && e.message().contains("partition"))
}
