//! Hosts' secure logs: received over syslog or HTTP, read, attributed to people, stored.
//!
//! Every path ends in [`Ingest::store`], which ties each failure to its reason
//! ([`correlate`]), names the person behind each login ([`attribute`]) and writes the batch
//! in one transaction ([`store`]). HTTP batches are stored while the sender waits, so an
//! answer of 200 means committed. Syslog lines go through a bounded queue ([`queue`]): when
//! it is full, TCP receivers stop reading, so a slow database slows senders down instead of
//! losing lines. Ingest has its own database pool, so a flood of lines cannot starve sign-in.

pub mod attribute;
pub mod copy;
pub mod correlate;
pub mod event;
pub mod hosts;
pub mod metrics;
pub mod partitions;
pub mod queue;
pub mod registry;
pub mod sessions;
pub mod store;
pub mod tcp;
pub mod tls;
pub mod tokens;
pub mod udp;

use std::sync::Arc;
use std::time::Duration;

use chrono::{FixedOffset, Utc};
use sqlx::PgPool;

use crate::config::{DatabaseConfig, IngestConfig};
use crate::db;

use self::correlate::Correlator;
use self::event::EventRow;
use self::hosts::HostDirectory;
use self::metrics::Metrics;
use self::store::Stored;

/// How often partitions are made ahead, old ones dropped and health rolled up.
const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(3600);

/// The ingest side of the portal. Cheap to clone.
#[derive(Clone)]
pub struct Ingest {
    pub config: Arc<IngestConfig>,
    pub db: PgPool,
    pub hosts: HostDirectory,
    pub metrics: Arc<Metrics>,
    correlator: Arc<Correlator>,
    pub queue: queue::Queue,
    /// Set once the portal is shutting down: receivers stop reading, the writer drains.
    stop: Arc<tokio::sync::watch::Sender<bool>>,
}

/// The tasks [`Ingest::spawn`] started.
pub struct IngestTasks {
    writer: tokio::task::JoinHandle<()>,
    others: Vec<tokio::task::JoinHandle<()>>,
}

/// How long a shutdown waits for queued lines to be stored.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

impl Ingest {
    /// Prepares ingest with a pool of its own on the portal's database.
    pub fn new(config: IngestConfig, database: &DatabaseConfig) -> Result<Self, String> {
        let database = DatabaseConfig {
            max_connections: config.database_connections,
            ..database.clone()
        };
        let db = db::pool(&database).map_err(|e| e.to_string())?;
        let metrics = Arc::new(Metrics::default());
        let queue = queue::Queue::new(config.queue_lines);
        Ok(Self {
            config: Arc::new(config),
            hosts: HostDirectory::new(db.clone()),
            db,
            metrics,
            correlator: Arc::default(),
            queue,
            stop: Arc::new(tokio::sync::watch::channel(false).0),
        })
    }

    /// Resolves once shutdown has begun.
    pub async fn stopping(&self) {
        let mut stop = self.stop.subscribe();
        let _ = stop.wait_for(|stopped| *stopped).await;
    }

    /// The zone RFC 3164 times are read in.
    pub fn rfc3164_zone(&self) -> FixedOffset {
        opsportal_logparse::syslog::zone_from_minutes(self.config.rfc3164_utc_offset_minutes)
            .unwrap_or_else(opsportal_logparse::syslog::utc)
    }

    /// Ties, attributes and stores one batch in one transaction.
    pub async fn store(&self, mut rows: Vec<EventRow>) -> Result<Stored, sqlx::Error> {
        self.correlator.apply(&mut rows);
        attribute::attribute(&self.db, &mut rows).await?;
        for row in &rows {
            if row.attribution == Some("suspicious") {
                tracing::warn!(host_id = row.host_id, serial = ?row.serial,
                    "login with a known serial but another key");
            } else if row.attribution == Some("non_ca") {
                tracing::warn!(host_id = row.host_id, user = ?row.username,
                    "login without a portal certificate");
            }
        }
        let received_at = rows.first().map(|r| r.received_at);
        let transport = rows.first().map(|r| r.transport.as_str());
        let counted = count_flags(&rows);
        let stored = store::store(&self.db, rows).await?;
        counted.commit(&self.metrics);
        if let (Some(at), Some(transport)) = (received_at, transport) {
            let lag = (Utc::now() - at).num_milliseconds().max(0) as u64;
            self.metrics
                .lag_ms
                .store(lag, std::sync::atomic::Ordering::Relaxed);
            self.metrics.accepted(transport, stored.accepted);
        }
        self.metrics
            .duplicates
            .fetch_add(stored.duplicates, std::sync::atomic::Ordering::Relaxed);
        Ok(stored)
    }

    /// Starts the syslog listeners configured, the queue's writer and partition upkeep.
    pub async fn spawn(&self) -> std::io::Result<IngestTasks> {
        let mut tasks = vec![tokio::spawn(maintain(self.clone()))];
        if let Some(addr) = self.config.syslog_tcp_listen {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "syslog over TCP");
            tasks.push(tokio::spawn(tcp::serve(self.clone(), listener, None)));
        }
        if let Some(addr) = self.config.syslog_tls_listen {
            let acceptor = tls::acceptor(&self.config).map_err(std::io::Error::other)?;
            let listener = tokio::net::TcpListener::bind(addr).await?;
            tracing::info!(%addr, "syslog over TLS");
            tasks.push(tokio::spawn(tcp::serve(
                self.clone(),
                listener,
                Some(acceptor),
            )));
        }
        if let Some(addr) = self.config.syslog_udp_listen {
            let socket = tokio::net::UdpSocket::bind(addr).await?;
            tracing::info!(%addr, "syslog over UDP");
            tasks.push(tokio::spawn(udp::serve(self.clone(), socket)));
        }
        Ok(IngestTasks {
            writer: tokio::spawn(queue::write(self.clone())),
            others: tasks,
        })
    }

    /// Stops the receivers and waits, for a bounded time, until queued lines are stored.
    pub async fn shutdown(&self, tasks: IngestTasks) {
        self.stop.send_replace(true);
        for task in tasks.others {
            task.abort();
            // Awaited so that the listeners are closed before a successor binds their ports.
            let _ = task.await;
        }
        if tokio::time::timeout(DRAIN_TIMEOUT, tasks.writer)
            .await
            .is_err()
        {
            let left = self.queue.depth();
            tracing::warn!(lines = left, "shutting down with syslog lines not stored");
        }
    }
}

/// Flag counts of a batch, added to the counters once the batch is stored.
struct FlagCounts {
    parse_errors: Vec<&'static str>,
    hostname_mismatch: u64,
    clock_skew: u64,
    truncated: u64,
}

fn count_flags(rows: &[EventRow]) -> FlagCounts {
    let has = |row: &EventRow, flag: &str| row.flags.iter().any(|f| f == flag);
    let parse_errors = rows
        .iter()
        .flat_map(|row| &row.flags)
        .filter_map(|flag| flag.strip_prefix("parse_error:"))
        .map(|kind| match kind {
            "bad_priority" => "bad_priority",
            _ => "no_header",
        })
        .collect();
    FlagCounts {
        parse_errors,
        hostname_mismatch: rows.iter().filter(|r| has(r, "hostname_mismatch")).count() as u64,
        clock_skew: rows.iter().filter(|r| has(r, "clock_skew")).count() as u64,
        truncated: rows.iter().filter(|r| has(r, "truncated")).count() as u64,
    }
}

impl FlagCounts {
    fn commit(self, metrics: &Metrics) {
        use std::sync::atomic::Ordering::Relaxed;
        for kind in self.parse_errors {
            metrics.parse_error(kind);
        }
        metrics
            .hostname_mismatch
            .fetch_add(self.hostname_mismatch, Relaxed);
        metrics.clock_skew.fetch_add(self.clock_skew, Relaxed);
        metrics.truncated.fetch_add(self.truncated, Relaxed);
    }
}

async fn maintain(ingest: Ingest) {
    let mut tick = tokio::time::interval(MAINTENANCE_INTERVAL);
    loop {
        tick.tick().await;
        let now = Utc::now();
        if let Err(error) = partitions::ensure(&ingest.db, now).await {
            tracing::warn!(%error, "cannot make log partitions ahead");
        }
        match partitions::drop_expired(&ingest.db, now, ingest.config.retention_days).await {
            Ok(dropped) if !dropped.is_empty() => {
                tracing::info!(?dropped, "old log partitions dropped")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot drop old log partitions"),
        }
        let (raw_days, retention_days) = (
            ingest.config.health_raw_days,
            ingest.config.health_retention_days,
        );
        match crate::health::rollup::run(&ingest.db, now, raw_days, retention_days).await {
            Ok(rolled) if !rolled.partitions.is_empty() || rolled.expired > 0 => {
                tracing::info!(partitions = ?rolled.partitions, hours = rolled.hours,
                    expired_hours = rolled.expired, "host health rolled up")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot roll up host health"),
        }
    }
}
