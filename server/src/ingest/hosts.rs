//! The hosts that send logs, and how a connection is mapped to one.
//!
//! Syslog senders are known by their source address: each host lists the addresses it sends
//! from. The map is read from the database at most every few seconds, so a host an admin adds
//! is recognised shortly after, without a query per datagram.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::RwLock;

/// How long the address map is trusted before it is read again.
const REFRESH_AFTER: Duration = Duration::from_secs(5);

/// A host, as ingest needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRef {
    pub id: i64,
    pub name: String,
}

/// Source address to host, refreshed from `ingest_host`.
#[derive(Clone)]
pub struct HostDirectory {
    db: PgPool,
    cache: Arc<RwLock<Cache>>,
}

struct Cache {
    by_address: HashMap<IpAddr, HostRef>,
    all: Vec<HostRef>,
    read_at: Option<Instant>,
}

impl Cache {
    fn fresh(&self) -> bool {
        self.read_at.is_some_and(|at| at.elapsed() < REFRESH_AFTER)
    }
}

impl HostDirectory {
    pub fn new(db: PgPool) -> Self {
        Self {
            db,
            cache: Arc::new(RwLock::new(Cache {
                by_address: HashMap::new(),
                all: Vec::new(),
                read_at: None,
            })),
        }
    }

    /// The host that sends from `addr`, if any. IPv4 addresses seen as IPv6-mapped are
    /// matched as IPv4.
    pub async fn by_address(&self, addr: IpAddr) -> Result<Option<HostRef>, sqlx::Error> {
        let cache = self.current().await?;
        Ok(cache.by_address.get(&addr.to_canonical()).cloned())
    }

    /// Every registered host.
    pub async fn all(&self) -> Result<Vec<HostRef>, sqlx::Error> {
        Ok(self.current().await?.all.clone())
    }

    async fn current(&self) -> Result<tokio::sync::RwLockReadGuard<'_, Cache>, sqlx::Error> {
        {
            let cache = self.cache.read().await;
            if cache.fresh() {
                return Ok(cache);
            }
        }
        let mut cache = self.cache.write().await;
        if !cache.fresh() {
            let (by_address, all) = self.read().await?;
            cache.by_address = by_address;
            cache.all = all;
            cache.read_at = Some(Instant::now());
        }
        Ok(cache.downgrade())
    }

    /// Forgets the map, after an admin changed hosts.
    pub async fn invalidate(&self) {
        self.cache.write().await.read_at = None;
    }

    async fn read(&self) -> Result<(HashMap<IpAddr, HostRef>, Vec<HostRef>), sqlx::Error> {
        let rows: Vec<(i64, String, Vec<sqlx::types::ipnetwork::IpNetwork>)> =
            sqlx::query_as("select host_id, name, addresses from ingest_host")
                .fetch_all(&self.db)
                .await?;
        let mut map = HashMap::new();
        let mut all = Vec::new();
        for (id, name, addresses) in rows {
            all.push(HostRef {
                id,
                name: name.clone(),
            });
            for network in addresses {
                map.insert(
                    network.ip().to_canonical(),
                    HostRef {
                        id,
                        name: name.clone(),
                    },
                );
            }
        }
        Ok((map, all))
    }
}
