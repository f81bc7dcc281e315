//! Storing one checked report, in one transaction: the agent's row is locked, a copy is
//! recognised by its number, rates and findings are worked out from the previous report, and
//! the numbers, the agent's row and the host's latest state are written together.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use opsportal_shared::health::{HostReport, IpvsReport};
use sqlx::types::Json;
use sqlx::{PgPool, Postgres, Transaction};

use super::rates::{self, Change, FdTrend};
use super::validate::Checked;
use super::{rules, ssh_rules};
use crate::config::HealthConfig;
use crate::ingest::hosts::HostRef;
use crate::ingest::partitions;

/// What became of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    /// The agent's report with this number, or a later one, is stored already.
    Duplicate,
}

/// What the rules need besides the report.
pub struct RuleSettings<'a> {
    pub config: &'a HealthConfig,
    /// The principals the portal hands out.
    pub principals: &'a BTreeSet<String>,
}

/// Stores `checked` for `host`; nothing of it is stored when this fails.
pub async fn store(
    db: &PgPool,
    host: &HostRef,
    checked: &Checked,
    settings: &RuleSettings<'_>,
) -> Result<Outcome, sqlx::Error> {
    match try_store(db, host, checked, settings).await {
        Err(error) if partitions::is_missing_partition(&error) => {
            tracing::warn!("a health partition was missing; making partitions and writing again");
            partitions::ensure(db, Utc::now()).await?;
            try_store(db, host, checked, settings).await
        }
        other => other,
    }
}

/// The agent's row as the previous report left it.
#[derive(sqlx::FromRow)]
struct AgentRow {
    last_seq: i64,
    last_collected_at: Option<DateTime<Utc>>,
    last_overflows: Option<i64>,
    last_drops: Option<i64>,
    fd_trend: Json<FdTrend>,
}

async fn try_store(
    db: &PgPool,
    host: &HostRef,
    checked: &Checked,
    settings: &RuleSettings<'_>,
) -> Result<Outcome, sqlx::Error> {
    let report = &checked.report;
    let received_at = Utc::now();
    let mut tx = db.begin().await?;
    // Make the row first, so that the lock below serialises even an agent's first reports.
    sqlx::query(
        "insert into health_agent (host_id, agent_id, last_seq) values ($1, $2, -1)
         on conflict (host_id, agent_id) do nothing",
    )
    .bind(host.id)
    .bind(&report.agent_id)
    .execute(&mut *tx)
    .await?;
    let agent: AgentRow = sqlx::query_as(
        "select last_seq::bigint as last_seq, last_collected_at, last_overflows, last_drops,
                fd_trend
         from health_agent where host_id = $1 and agent_id = $2 for update",
    )
    .bind(host.id)
    .bind(&report.agent_id)
    .fetch_one(&mut *tx)
    .await?;
    // Validation keeps `seq` within i64.
    if report.seq as i64 <= agent.last_seq {
        tx.rollback().await?;
        return Ok(Outcome::Duplicate);
    }

    let counters = report.tcp.map(|t| (t.listen_overflows, t.listen_drops));
    let since = |previous: Option<i64>, current: u64| {
        Some(rates::change(
            u64::try_from(previous?).ok()?,
            agent.last_collected_at?,
            current,
            checked.collected_at,
        ))
    };
    let overflows = counters.and_then(|(o, _)| since(agent.last_overflows, o));
    let drops = counters.and_then(|(_, d)| since(agent.last_drops, d));
    let trend = rates::advance(&agent.fd_trend.0, &report.fds.top);
    let observed = rules::Observed {
        report,
        overflows,
        drops,
        trend: &trend,
    };
    let mut findings = rules::evaluate(&observed, settings.config);
    findings.extend(ssh_rules::evaluate(&report.ssh, settings.principals));
    rules::sort_worst_first(&mut findings);

    // A host clock running ahead must not put points in the future.
    let at = checked.collected_at.min(received_at);
    insert_report(&mut tx, host, report, received_at, at, overflows, drops).await?;
    sqlx::query(
        "update health_agent set last_seq = $3, last_received_at = $4, last_collected_at = $5,
            last_overflows = $6, last_drops = $7, fd_trend = $8
         where host_id = $1 and agent_id = $2",
    )
    .bind(host.id)
    .bind(&report.agent_id)
    .bind(report.seq as i64)
    .bind(received_at)
    .bind(checked.collected_at)
    .bind(counters.map(|(o, _)| o as i64))
    .bind(counters.map(|(_, d)| d as i64))
    .bind(Json(&trend))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into health_latest (host_id, agent_id, seq, received_at, collected_at,
            agent_version, hostname, interval_secs, findings, ssh, krl_written_at, report)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (host_id) do update set agent_id = excluded.agent_id, seq = excluded.seq,
            received_at = excluded.received_at, collected_at = excluded.collected_at,
            agent_version = excluded.agent_version, hostname = excluded.hostname,
            interval_secs = excluded.interval_secs, findings = excluded.findings,
            ssh = excluded.ssh, krl_written_at = excluded.krl_written_at,
            report = excluded.report
         where health_latest.collected_at <= excluded.collected_at",
    )
    .bind(host.id)
    .bind(&report.agent_id)
    .bind(report.seq as i64)
    .bind(received_at)
    .bind(at)
    .bind(&report.agent_version)
    .bind(&report.hostname)
    .bind(report.interval_secs as i32)
    .bind(Json(&findings))
    .bind(Json(&report.ssh))
    .bind(ssh_rules::krl_written_at(&report.ssh, at))
    .bind(Json(report))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Outcome::Stored)
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn max_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    values.filter(|v| v.is_finite()).reduce(f64::max)
}

async fn insert_report(
    tx: &mut Transaction<'_, Postgres>,
    host: &HostRef,
    report: &HostReport,
    received_at: DateTime<Utc>,
    at: DateTime<Utc>,
    overflows: Option<Change>,
    drops: Option<Change>,
) -> Result<(), sqlx::Error> {
    let listeners = &report.listeners;
    let top = &report.fds.top;
    // A backlog of 0 still holds one connection.
    let queue_ratio_max = max_of(
        listeners
            .iter()
            .filter_map(|l| ratio(l.accept_queue.into(), u64::from(l.backlog).max(1))),
    );
    let fd_ratio_max = max_of(top.iter().filter_map(|p| ratio(p.open_fds, p.soft_limit?)));
    let (ipvs_loaded, ipvs_connections, ipvs_table_size) = match &report.ipvs {
        IpvsReport::NotLoaded => (false, None, None),
        IpvsReport::Loaded(state) => (
            true,
            state.connections.map(|c| c as i64),
            Some(state.table_size as i64),
        ),
    };
    let comm = |p: &Option<opsportal_shared::health::ProcessRef>| {
        p.as_ref().map(|p| p.comm.clone()).unwrap_or_default()
    };
    sqlx::query(
        "insert into health_report (received_at, at, host_id, agent_id, seq, interval_secs,
            listen_overflows, listen_drops, overflow_delta, overflow_rate, drop_rate,
            files_allocated, files_max, ipvs_loaded, ipvs_connections, ipvs_table_size,
            queue_ratio_max, fd_ratio_max, listener_local, listener_comm, listener_queue,
            listener_backlog, fd_pid, fd_comm, fd_open, fd_limit, spool_dropped, rejected)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
            $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)",
    )
    .bind(received_at)
    .bind(at)
    .bind(host.id)
    .bind(&report.agent_id)
    .bind(report.seq as i64)
    .bind(report.interval_secs as i32)
    .bind(report.tcp.map(|t| t.listen_overflows as i64))
    .bind(report.tcp.map(|t| t.listen_drops as i64))
    .bind(overflows.map(|c| c.delta as i64))
    .bind(overflows.and_then(|c| c.per_sec))
    .bind(drops.and_then(|c| c.per_sec))
    .bind(report.fds.system.map(|s| s.allocated as i64))
    .bind(report.fds.system.map(|s| s.max as i64))
    .bind(ipvs_loaded)
    .bind(ipvs_connections)
    .bind(ipvs_table_size)
    .bind(queue_ratio_max)
    .bind(fd_ratio_max)
    .bind(
        listeners
            .iter()
            .map(|l| l.local.clone())
            .collect::<Vec<_>>(),
    )
    .bind(
        listeners
            .iter()
            .map(|l| comm(&l.process))
            .collect::<Vec<_>>(),
    )
    .bind(
        listeners
            .iter()
            .map(|l| l.accept_queue as i32)
            .collect::<Vec<_>>(),
    )
    .bind(
        listeners
            .iter()
            .map(|l| i64::from(l.backlog))
            .collect::<Vec<_>>(),
    )
    .bind(top.iter().map(|p| p.process.pid as i32).collect::<Vec<_>>())
    .bind(
        top.iter()
            .map(|p| p.process.comm.clone())
            .collect::<Vec<_>>(),
    )
    .bind(top.iter().map(|p| p.open_fds as i64).collect::<Vec<_>>())
    .bind(
        top.iter()
            .map(|p| p.soft_limit.map(|l| l as i64))
            .collect::<Vec<_>>(),
    )
    .bind(report.spool_dropped as i64)
    .bind(report.rejected as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
