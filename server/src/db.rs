//! The PostgreSQL pool and the schema's migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

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

/// A pool of at most a quarter of [`pool`]'s connections whose commits return before their
/// write-ahead log is flushed, for rows that a later, flushed commit makes durable: a
/// certificate's intent row, which the commit recording the certificate flushes with it
/// (the log is flushed in order) before anything is handed out. A database crash can lose an
/// intent made in the last moment before it, never one whose certificate left the portal.
pub fn unflushed_pool(config: &DatabaseConfig) -> Result<PgPool, ConfigError> {
    let options = connect_options(config)?.options([("synchronous_commit", "off")]);
    Ok(pool_options(
        (config.max_connections / 4).max(1),
        config.acquire_timeout_secs,
    )
    .connect_lazy_with(options))
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

fn pool_options(max_connections: u32, acquire_timeout_secs: u64) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(acquire_timeout_secs))
        // A connection dropped by a database restart is noticed here, not inside a request.
        .test_before_acquire(true)
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
