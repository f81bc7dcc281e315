//! A small pool of PostgreSQL connections for the statements every certificate request runs:
//! the session read, the intent row and the record.
//!
//! sqlx's pool pings each connection it takes back, so that one a cancelled query left
//! half-read is never handed out again. That ping is a round trip, and a certificate request
//! pays it three times. Here a connection goes back to the pool only when the caller says its
//! statement finished ([`Lane::release`]); a lane dropped without that (an error, a cancelled
//! request) closes its connection, so nothing half-read is reused and no ping is needed.
//! Connections idle for longer than [`super::PING_AFTER_IDLE`] are pinged before use, as in
//! the general pool.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Connections for a few hot statements; cheap to clone.
#[derive(Clone)]
pub struct Lanes {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Lanes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lanes")
            .field("available", &self.inner.permits.available_permits())
            .finish_non_exhaustive()
    }
}

struct Inner {
    options: PgConnectOptions,
    acquire_timeout: Duration,
    permits: Arc<Semaphore>,
    /// Newest last, so that the connection used most recently is used next.
    idle: Mutex<Vec<(PgConnection, Instant)>>,
}

impl Lanes {
    /// At most `max` connections made with `options`; waiting longer than `acquire_timeout`
    /// for one fails as sqlx's pool does ([`sqlx::Error::PoolTimedOut`]). Connects lazily.
    pub fn new(options: PgConnectOptions, max: u32, acquire_timeout: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                options,
                acquire_timeout,
                permits: Arc::new(Semaphore::new(max.max(1) as usize)),
                idle: Mutex::new(Vec::new()),
            }),
        }
    }

    /// A connection: an idle one (pinged if it sat idle long), else a new one.
    pub async fn acquire(&self) -> Result<Lane, sqlx::Error> {
        let permits = Arc::clone(&self.inner.permits);
        let permit = tokio::time::timeout(self.inner.acquire_timeout, permits.acquire_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?;
        while let Some((mut connection, since)) = self.pop_idle() {
            if since.elapsed() <= super::PING_AFTER_IDLE || connection.ping().await.is_ok() {
                return Ok(self.lane(connection, permit));
            }
        }
        let connection = self.inner.options.connect().await?;
        Ok(self.lane(connection, permit))
    }

    fn pop_idle(&self) -> Option<(PgConnection, Instant)> {
        self.inner.idle.lock().ok()?.pop()
    }

    fn lane(&self, connection: PgConnection, permit: OwnedSemaphorePermit) -> Lane {
        Lane {
            connection: Some(connection),
            lanes: Arc::clone(&self.inner),
            _permit: permit,
        }
    }
}

/// A connection taken from [`Lanes`]. Give it back with [`Lane::release`] once its statement
/// finished; dropped otherwise, it closes the connection.
pub struct Lane {
    connection: Option<PgConnection>,
    lanes: Arc<Inner>,
    _permit: OwnedSemaphorePermit,
}

impl Lane {
    /// The connection, to run statements on (`&mut PgConnection` is an executor).
    pub fn connection(&mut self) -> &mut PgConnection {
        self.connection
            .as_mut()
            .expect("a lane holds its connection until released or dropped")
    }

    /// Returns the connection to the pool: its last statement finished, nothing is left to
    /// read.
    pub fn release(mut self) {
        if let (Some(connection), Ok(mut idle)) = (self.connection.take(), self.lanes.idle.lock()) {
            idle.push((connection, Instant::now()));
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        // Closing politely is a round trip; without a runtime, dropping closes the socket.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = connection.close().await;
            });
        }
    }
}
