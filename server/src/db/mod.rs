//! The PostgreSQL pools and the schema's migrations.
//!
//! Three sets of connections to one database: the general pool ([`pool`]), and two
//! [`Lanes`] for what every certificate request runs: the session read and the record
//! ([`lanes`]), and the intent row ([`unflushed_lanes`]). Together they open up to
//! `max_connections` and three quarters as many again.

mod lanes;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgPool};

pub use lanes::{Lane, Lanes};

use crate::config::{ConfigError, DatabaseConfig};

/// The migrations in `migrations/`, compiled in.
pub static MIGRATOR: Migrator = sqlx::migrate!("../migrations");

/// Opens a pool. Connections are made lazily, so a database that is down at start shows in
/// readiness rather than stopping the process.
pub fn pool(config: &DatabaseConfig) -> Result<PgPool, ConfigError> {
    Ok(
        pool_options(config.max_connections, config.acquire_timeout_secs)
            .connect_lazy_with(connect_options(config)?),
    )
}

/// At most half of [`pool`]'s connections, for the session read and the certificate record.
pub fn lanes(config: &DatabaseConfig) -> Result<Lanes, ConfigError> {
    Ok(Lanes::new(
        connect_options(config)?,
        (config.max_connections / 2).max(1),
        Duration::from_secs(config.acquire_timeout_secs),
    ))
}

/// At most a quarter of [`pool`]'s connections, whose commits return before their
/// write-ahead log is flushed, for rows that a later, flushed commit makes durable: a
/// certificate's intent row, which the commit recording the certificate flushes with it
/// (the log is flushed in order) before anything is handed out. A database crash can lose an
/// intent made in the last moment before it, never one whose certificate left the portal.
pub fn unflushed_lanes(config: &DatabaseConfig) -> Result<Lanes, ConfigError> {
    let options = connect_options(config)?.options([("synchronous_commit", "off")]);
    Ok(Lanes::new(
        options,
        (config.max_connections / 4).max(1),
        Duration::from_secs(config.acquire_timeout_secs),
    ))
}

fn connect_options(config: &DatabaseConfig) -> Result<PgConnectOptions, ConfigError> {
    let mut options =
        PgConnectOptions::from_str(&config.url).map_err(|e| ConfigError::Invalid {
            setting: "database.url".into(),
            problem: e.to_string(),
        })?;
    if let Some(password) = config.password()? {
        options = options.password(password.expose());
    }
    Ok(options)
}

/// A pooled connection idle for longer than this is pinged before it is handed out.
///
/// A ping is a round trip, which under load costs about as much as a query: a certificate
/// takes three connections, and pinging each cut throughput by a tenth. A connection in
/// steady use is handed out again within milliseconds; one that sat idle this long is
/// pinged, so that a connection a database restart dropped is noticed here rather than by
/// a request. A connection that fails while in steady use fails the request using it.
const PING_AFTER_IDLE: Duration = Duration::from_millis(100);

fn pool_options(max_connections: u32, acquire_timeout_secs: u64) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(acquire_timeout_secs))
        .test_before_acquire(false)
        .before_acquire(|connection, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_AFTER_IDLE {
                    connection.ping().await?;
                }
                Ok(true)
            })
        })
}

/// Whether the database holds every migration this build knows.
pub async fn pending_migrations(db: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    let table_exists: bool =
        sqlx::query_scalar("select to_regclass('_sqlx_migrations') is not null")
            .fetch_one(db)
            .await?;
    let applied: Vec<i64> = if table_exists {
        sqlx::query_scalar("select version from _sqlx_migrations where success")
            .fetch_all(db)
            .await?
    } else {
        Vec::new()
    };
    Ok(MIGRATOR
        .iter()
        .map(|m| m.version)
        .filter(|v| !applied.contains(v))
        .collect())
}
