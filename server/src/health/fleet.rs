//! The fleet at a glance: every registered host with its latest findings, worst first.
//!
//! Findings that depend only on a report were worked out when it arrived and are read back
//! as stored; the two that depend on the present (a host gone quiet, a revocation since the
//! host last fetched the list) are added here, on every read.

use std::cmp::Reverse;

use chrono::{DateTime, Utc};
use opsportal_shared::health::{Finding, FleetView, HostHealthSummary, Severity};
use sqlx::PgPool;
use sqlx::types::Json;

use super::rules::sort_worst_first;
use super::ssh_rules;
use crate::config::HealthConfig;

#[derive(sqlx::FromRow)]
struct Row {
    host_id: i64,
    name: String,
    received_at: Option<DateTime<Utc>>,
    collected_at: Option<DateTime<Utc>>,
    agent_version: Option<String>,
    hostname: Option<String>,
    interval_secs: Option<i32>,
    findings: Option<Json<Vec<Finding>>>,
    krl_written_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "select h.host_id, h.name, l.received_at, l.collected_at, l.agent_version,
        l.hostname, l.interval_secs, l.findings, l.krl_written_at
     from ingest_host h left join health_latest l using (host_id)";

/// When the portal last revoked anything that is in its revocation list.
pub async fn last_revocation(db: &PgPool) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "select greatest(
            (select max(revoked_at) from certificate where state = 'issued'),
            (select max(revoked_at) from revoked_key))",
    )
    .fetch_one(db)
    .await
}

/// Every host, worst first.
pub async fn fleet(db: &PgPool, config: &HealthConfig) -> Result<FleetView, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(SELECT).fetch_all(db).await?;
    let revoked = last_revocation(db).await?;
    let now = Utc::now();
    let mut hosts: Vec<HostHealthSummary> = rows
        .into_iter()
        .map(|row| summary(row, now, revoked, config))
        .collect();
    hosts.sort_by_key(|h| {
        (
            h.last_report_at.is_none(),
            Reverse(h.worst),
            Reverse(h.critical),
            Reverse(h.warning),
            h.name.clone(),
        )
    });
    Ok(FleetView {
        generated_at: now.to_rfc3339(),
        hosts,
    })
}

/// One host's summary; `None` when no such host is registered.
pub async fn one(
    db: &PgPool,
    host_id: i64,
    config: &HealthConfig,
) -> Result<Option<HostHealthSummary>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} where h.host_id = $1"))
        .bind(host_id)
        .fetch_optional(db)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let revoked = last_revocation(db).await?;
    Ok(Some(summary(row, Utc::now(), revoked, config)))
}

fn summary(
    row: Row,
    now: DateTime<Utc>,
    last_revocation: Option<DateTime<Utc>>,
    config: &HealthConfig,
) -> HostHealthSummary {
    let mut findings = row.findings.map(|f| f.0).unwrap_or_default();
    if let (Some(received_at), Some(interval)) = (row.received_at, row.interval_secs) {
        findings.extend(ssh_rules::not_reporting(
            received_at,
            interval.max(1) as u64,
            now,
            config.silent_after_intervals,
        ));
        findings.extend(ssh_rules::krl_stale(
            row.krl_written_at,
            last_revocation,
            now,
            config.krl_grace_secs,
        ));
    }
    sort_worst_first(&mut findings);
    let count = |severity| findings.iter().filter(|f| f.severity == severity).count() as u32;
    HostHealthSummary {
        host_id: row.host_id,
        name: row.name,
        last_report_at: row.received_at.map(|t| t.to_rfc3339()),
        collected_at: row.collected_at.map(|t| t.to_rfc3339()),
        agent_version: row.agent_version,
        hostname: row.hostname,
        interval_secs: row.interval_secs.map(|i| i.max(0) as u64),
        worst: findings.first().map(|f| f.severity),
        critical: count(Severity::Critical),
        warning: count(Severity::Warning),
        findings,
    }
}

/// sshd's facts from the host's latest report.
pub async fn latest_ssh(
    db: &PgPool,
    host_id: i64,
) -> Result<Option<opsportal_shared::health::SshFacts>, sqlx::Error> {
    let facts: Option<Json<opsportal_shared::health::SshFacts>> =
        sqlx::query_scalar("select ssh from health_latest where host_id = $1")
            .bind(host_id)
            .fetch_optional(db)
            .await?;
    Ok(facts.map(|f| f.0))
}
