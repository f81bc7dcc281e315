//! Receiving hosts' secure logs: listeners, limits and how long lines are kept.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;

/// Log ingest. HTTP ingest (`POST /api/ingest/logs`) is always served; the syslog listeners
/// are off unless an address is given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Syslog over TCP (RFC 6587 framing), e.g. `0.0.0.0:1514`. Senders are known by their
    /// source address, which must be one of a host's `addresses`.
    #[serde(default)]
    pub syslog_tcp_listen: Option<SocketAddr>,
    /// Syslog over TLS (RFC 5425 framing as over TCP), e.g. `0.0.0.0:6514`. Needs
    /// `tls_cert_file` and `tls_key_file`.
    #[serde(default)]
    pub syslog_tls_listen: Option<SocketAddr>,
    /// PEM certificate chain the TLS listener presents.
    #[serde(default)]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of that certificate.
    #[serde(default)]
    pub tls_key_file: Option<PathBuf>,
    /// PEM CA certificates that sign hosts' client certificates. When set, every TLS sender
    /// must present one, and is the host whose name the certificate carries; otherwise TLS
    /// senders are known by their source address, as over TCP.
    #[serde(default)]
    pub tls_client_ca_file: Option<PathBuf>,
    /// Syslog over UDP. Datagrams from addresses no host lists are dropped and counted.
    #[serde(default)]
    pub syslog_udp_listen: Option<SocketAddr>,
    /// Longest syslog message, in bytes; longer lines are cut and marked.
    #[serde(default = "defaults::max_line_bytes")]
    pub max_line_bytes: usize,
    /// Largest HTTP batch, in bytes, after decompression.
    #[serde(default = "defaults::max_batch_bytes")]
    pub max_batch_bytes: usize,
    /// Most lines in one HTTP batch.
    #[serde(default = "defaults::max_batch_lines")]
    pub max_batch_lines: usize,
    /// Most syslog TCP connections at once.
    #[serde(default = "defaults::max_connections")]
    pub max_connections: usize,
    /// Lines received over syslog waiting to be stored; when full, TCP receivers stop reading
    /// and UDP datagrams are dropped and counted.
    #[serde(default = "defaults::queue_lines")]
    pub queue_lines: usize,
    /// Seconds an HTTP batch may wait for the database before the sender is told to come
    /// back later (503 with Retry-After).
    #[serde(default = "defaults::store_timeout_secs")]
    pub store_timeout_secs: u64,
    /// Database connections for ingest, apart from the web pool.
    #[serde(default = "defaults::database_connections")]
    pub database_connections: u32,
    /// Days lines are kept.
    #[serde(default = "defaults::retention_days")]
    pub retention_days: u32,
    /// Days host health is kept, as hourly rollups once older than `health_raw_days`.
    #[serde(default = "defaults::health_retention_days")]
    pub health_retention_days: u32,
    /// Days host health reports are kept whole; older days are rolled up per hour.
    #[serde(default = "defaults::health_raw_days")]
    pub health_raw_days: u32,
    /// RFC 3164 lines carry no zone; their times are read in this offset, in minutes east of
    /// UTC.
    #[serde(default)]
    pub rfc3164_utc_offset_minutes: i32,
    /// A line whose own time is further than this from when it arrived is marked skewed.
    #[serde(default = "defaults::clock_skew_secs")]
    pub clock_skew_secs: u64,
}

mod defaults {
    pub fn max_line_bytes() -> usize {
        8 * 1024
    }
    pub fn max_batch_bytes() -> usize {
        1024 * 1024
    }
    pub fn max_batch_lines() -> usize {
        10_000
    }
    pub fn max_connections() -> usize {
        256
    }
    pub fn queue_lines() -> usize {
        10_000
    }
    pub fn store_timeout_secs() -> u64 {
        10
    }
    pub fn database_connections() -> u32 {
        4
    }
    pub fn retention_days() -> u32 {
        90
    }
    pub fn health_retention_days() -> u32 {
        30
    }
    pub fn health_raw_days() -> u32 {
        2
    }
    pub fn clock_skew_secs() -> u64 {
        300
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            syslog_tcp_listen: None,
            syslog_udp_listen: None,
            syslog_tls_listen: None,
            tls_cert_file: None,
            tls_key_file: None,
            tls_client_ca_file: None,
            max_line_bytes: defaults::max_line_bytes(),
            max_batch_bytes: defaults::max_batch_bytes(),
            max_batch_lines: defaults::max_batch_lines(),
            max_connections: defaults::max_connections(),
            queue_lines: defaults::queue_lines(),
            store_timeout_secs: defaults::store_timeout_secs(),
            database_connections: defaults::database_connections(),
            retention_days: defaults::retention_days(),
            health_retention_days: defaults::health_retention_days(),
            health_raw_days: defaults::health_raw_days(),
            rfc3164_utc_offset_minutes: 0,
            clock_skew_secs: defaults::clock_skew_secs(),
        }
    }
}

impl IngestConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let at_least = |setting: &str, value: usize, min: usize| {
            if value < min {
                Err(ConfigError::invalid(
                    &format!("ingest.{setting}"),
                    format!("must be at least {min}"),
                ))
            } else {
                Ok(())
            }
        };
        at_least("max_line_bytes", self.max_line_bytes, 256)?;
        at_least("max_batch_bytes", self.max_batch_bytes, self.max_line_bytes)?;
        at_least("max_batch_lines", self.max_batch_lines, 1)?;
        at_least("max_connections", self.max_connections, 1)?;
        at_least("queue_lines", self.queue_lines, 100)?;
        at_least(
            "database_connections",
            self.database_connections as usize,
            1,
        )?;
        at_least("retention_days", self.retention_days as usize, 1)?;
        at_least("store_timeout_secs", self.store_timeout_secs as usize, 1)?;
        at_least("health_raw_days", self.health_raw_days as usize, 1)?;
        at_least(
            "health_retention_days",
            self.health_retention_days as usize,
            self.health_raw_days as usize,
        )?;
        if self.syslog_tls_listen.is_some()
            && (self.tls_cert_file.is_none() || self.tls_key_file.is_none())
        {
            return Err(ConfigError::invalid(
                "ingest.syslog_tls_listen",
                "needs ingest.tls_cert_file and ingest.tls_key_file",
            ));
        }
        if self.rfc3164_utc_offset_minutes.abs() > 14 * 60 {
            return Err(ConfigError::invalid(
                "ingest.rfc3164_utc_offset_minutes",
                "must be within 14 hours of UTC",
            ));
        }
        Ok(())
    }
}
