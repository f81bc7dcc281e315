//! One host's numbers over a window, ready to draw: at most [`MAX_POINTS`] points per series,
//! each the highest value in its bucket, from whole reports where they are kept and from the
//! hourly rollups before that.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsportal_shared::health::{ListenerSeries, Point, ProcessSeries};
use sqlx::PgPool;

/// Points per series at most, about one per pixel of a wide chart.
pub const MAX_POINTS: i64 = 720;
/// Listeners and processes drawn, the fullest first.
const MAX_LISTENERS: usize = 50;
const MAX_PROCESSES: usize = 10;

/// The charts of one host.
#[derive(Debug, Default)]
pub struct Charts {
    pub bucket_secs: u64,
    pub raw_since: Option<DateTime<Utc>>,
    pub overflow_rate: Vec<Point>,
    pub drop_rate: Vec<Point>,
    pub queue_ratio: Vec<Point>,
    pub fd_ratio: Vec<Point>,
    pub file_handles_ratio: Vec<Point>,
    pub ipvs_connections: Vec<Point>,
    pub ipvs_table_size: Vec<Point>,
    pub listeners: Vec<ListenerSeries>,
    pub processes: Vec<ProcessSeries>,
}

/// A bucket of the host-wide numbers; raw and hourly rows share this shape.
#[derive(sqlx::FromRow)]
struct Bucket {
    t: i64,
    overflow_rate: Option<f64>,
    drop_rate: Option<f64>,
    queue_ratio: Option<f64>,
    fd_ratio: Option<f64>,
    files_ratio: Option<f64>,
    ipvs_connections: Option<f64>,
    ipvs_table_size: Option<f64>,
}

const HOURLY: &str = "select extract(epoch from hour)::bigint as t,
        overflow_rate_max as overflow_rate, drop_rate_max as drop_rate,
        queue_ratio_max as queue_ratio, fd_ratio_max as fd_ratio, files_ratio_max as files_ratio,
        ipvs_connections_max::float8 as ipvs_connections,
        ipvs_table_size::float8 as ipvs_table_size
     from health_hourly
     where host_id = $1 and hour >= date_trunc('hour', $2::timestamptz) and hour < $3
     order by hour";

const RAW: &str =
    "select extract(epoch from date_bin(make_interval(secs => $4), at, $2))::bigint as t,
        max(overflow_rate) as overflow_rate, max(drop_rate) as drop_rate,
        max(queue_ratio_max) as queue_ratio, max(fd_ratio_max) as fd_ratio,
        max(files_allocated::float8 / nullif(files_max, 0)) as files_ratio,
        max(ipvs_connections)::float8 as ipvs_connections,
        max(ipvs_table_size)::float8 as ipvs_table_size
     from health_report
     where host_id = $1 and at >= $2 and at < $3
     group by 1 order by 1";

const LISTENERS: &str = "select l.local, max(l.comm) as comm,
        extract(epoch from date_bin(make_interval(secs => $4), r.at, $2))::bigint as t,
        max(l.queue)::float8 as queue, max(l.backlog)::float8 as backlog
     from health_report r
     cross join lateral unnest(r.listener_local, r.listener_comm, r.listener_queue,
                               r.listener_backlog) as l(local, comm, queue, backlog)
     where r.host_id = $1 and r.at >= $2 and r.at < $3
     group by l.local, t order by l.local, t";

const PROCESSES: &str = "select p.pid, p.comm,
        extract(epoch from date_bin(make_interval(secs => $4), r.at, $2))::bigint as t,
        max(p.open::float8 / p.lim) as ratio
     from health_report r
     cross join lateral unnest(r.fd_pid, r.fd_comm, r.fd_open, r.fd_limit)
         as p(pid, comm, open, lim)
     where r.host_id = $1 and r.at >= $2 and r.at < $3 and p.lim > 0
     group by p.pid, p.comm, t order by p.pid, p.comm, t";

/// The charts of `host_id` in `[from, to)`.
pub async fn charts(
    db: &PgPool,
    host_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Charts, sqlx::Error> {
    let span = (to - from).num_seconds().max(1);
    let bucket_secs = (span + MAX_POINTS - 1) / MAX_POINTS;
    let raw_since: Option<DateTime<Utc>> =
        sqlx::query_scalar("select min(at) from health_report where host_id = $1")
            .bind(host_id)
            .fetch_one(db)
            .await?;
    let hourly_until = raw_since.map_or(to, |since| since.min(to));
    let mut buckets: Vec<Bucket> = if hourly_until > from {
        sqlx::query_as(HOURLY)
            .bind(host_id)
            .bind(from)
            .bind(hourly_until)
            .fetch_all(db)
            .await?
    } else {
        Vec::new()
    };
    let bind_window = |sql| {
        sqlx::query(sql)
            .bind(host_id)
            .bind(from)
            .bind(to)
            .bind(bucket_secs as f64)
    };
    let raw: Vec<Bucket> = sqlx::query_as(RAW)
        .bind(host_id)
        .bind(from)
        .bind(to)
        .bind(bucket_secs as f64)
        .fetch_all(db)
        .await?;
    buckets.extend(raw);

    let mut charts = Charts {
        bucket_secs: bucket_secs as u64,
        raw_since,
        ..Charts::default()
    };
    for b in &buckets {
        let push = |series: &mut Vec<Point>, value: Option<f64>| {
            if let Some(value) = value.filter(|v| v.is_finite()) {
                series.push(Point { t: b.t, value });
            }
        };
        push(&mut charts.overflow_rate, b.overflow_rate);
        push(&mut charts.drop_rate, b.drop_rate);
        push(&mut charts.queue_ratio, b.queue_ratio);
        push(&mut charts.fd_ratio, b.fd_ratio);
        push(&mut charts.file_handles_ratio, b.files_ratio);
        push(&mut charts.ipvs_connections, b.ipvs_connections);
        push(&mut charts.ipvs_table_size, b.ipvs_table_size);
    }

    let rows = bind_window(LISTENERS).fetch_all(db).await?;
    charts.listeners = listeners(&rows)?;
    let rows = bind_window(PROCESSES).fetch_all(db).await?;
    charts.processes = processes(&rows)?;
    Ok(charts)
}

fn listeners(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<ListenerSeries>, sqlx::Error> {
    use sqlx::Row;
    let mut by_local: BTreeMap<String, (f64, ListenerSeries)> = BTreeMap::new();
    for row in rows {
        let local: String = row.try_get("local")?;
        let t: i64 = row.try_get("t")?;
        let queue: f64 = row.try_get("queue")?;
        let backlog: f64 = row.try_get("backlog")?;
        let comm: Option<String> = row.try_get("comm")?;
        let (worst, series) = by_local.entry(local.clone()).or_insert_with(|| {
            let series = ListenerSeries {
                local,
                comm: comm.filter(|c| !c.is_empty()),
                accept_queue: Vec::new(),
                backlog: Vec::new(),
            };
            (0.0, series)
        });
        *worst = f64::max(*worst, queue / backlog.max(1.0));
        series.accept_queue.push(Point { t, value: queue });
        series.backlog.push(Point { t, value: backlog });
    }
    let mut ranked: Vec<(f64, ListenerSeries)> = by_local.into_values().collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.local.cmp(&b.1.local)));
    Ok(ranked
        .into_iter()
        .take(MAX_LISTENERS)
        .map(|(_, s)| s)
        .collect())
}

fn processes(rows: &[sqlx::postgres::PgRow]) -> Result<Vec<ProcessSeries>, sqlx::Error> {
    use sqlx::Row;
    let mut by_process: BTreeMap<(i32, String), (f64, Vec<Point>)> = BTreeMap::new();
    for row in rows {
        let pid: i32 = row.try_get("pid")?;
        let comm: String = row.try_get("comm")?;
        let t: i64 = row.try_get("t")?;
        let Some(ratio) = row.try_get::<Option<f64>, _>("ratio")? else {
            continue;
        };
        let (worst, points) = by_process.entry((pid, comm)).or_default();
        *worst = f64::max(*worst, ratio);
        points.push(Point { t, value: ratio });
    }
    let mut ranked: Vec<_> = by_process.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then_with(|| a.0.cmp(&b.0)));
    Ok(ranked
        .into_iter()
        .take(MAX_PROCESSES)
        .map(|((pid, comm), (_, fd_ratio))| ProcessSeries {
            pid: pid.max(0) as u32,
            comm,
            fd_ratio,
        })
        .collect())
}
