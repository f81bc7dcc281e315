//! Host health reports, pushed by `opsportal-agent` to the portal.
//!
//! `POST /api/ingest/metrics` takes one [`HostReport`] as JSON with the host's bearer token.
//! Counters are sent raw (as the kernel keeps them); the portal computes rates from two
//! reports of the same `agent_id`. A report is identified by `(agent_id, seq)`, so one that the
//! agent resends after a lost answer can be recognised and stored once.
//!
//! Whatever the agent could not read is `None` (or listed in `problems`), never a made-up zero.

use serde::{Deserialize, Serialize};

/// Everything one agent saw on its host at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostReport {
    /// The agent's stable random id, kept in its spool directory across restarts.
    pub agent_id: String,
    /// Increases by one with every report the agent makes, across restarts.
    pub seq: u64,
    /// The agent's version (`CARGO_PKG_VERSION`).
    pub agent_version: String,
    /// The host name the agent claims; kept as data, never used as the host's identity.
    pub hostname: String,
    /// When the agent collected the report, by the host's clock (RFC 3339).
    pub collected_at: String,
    /// Seconds between two reports.
    pub interval_secs: u64,
    /// Reports the agent dropped, unsent, since its previous report, because its spool was full.
    pub spool_dropped: u64,
    /// Reports the portal refused as invalid (400) since the agent's previous report.
    pub rejected: u64,
    /// Listening TCP sockets, IPv4 and IPv6.
    pub listeners: Vec<Listener>,
    /// TCP listen counters from `/proc/net/netstat`, when readable.
    pub tcp: Option<TcpListenCounters>,
    /// File descriptors, system-wide and for the processes closest to their limit.
    pub fds: FdReport,
    /// The IPVS (LVS) load balancer's state.
    pub ipvs: IpvsReport,
    /// How sshd on this host decides who may log in.
    pub ssh: SshFacts,
    /// What the agent could not collect, one entry per source.
    pub problems: Vec<Problem>,
}

/// One listening TCP socket, as `ss -ltn` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// Local address and port: `0.0.0.0:22`, `[::]:443`.
    pub local: String,
    /// The local port alone.
    pub port: u16,
    /// Connections waiting to be accepted (`ss` Recv-Q). The kernel lets it reach `backlog + 1`
    /// before it drops new handshakes.
    pub accept_queue: u32,
    /// The listen backlog (`ss` Send-Q), as capped by `net.core.somaxconn`.
    pub backlog: u32,
    /// The process holding the socket (the lowest pid when several share it), when visible.
    pub process: Option<ProcessRef>,
}

/// A process, by id and short command name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRef {
    pub pid: u32,
    /// The kernel's command name (`/proc/<pid>/comm`, at most 15 bytes).
    pub comm: String,
}

/// Raw `TcpExt` counters, increasing since boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpListenCounters {
    /// Handshakes dropped because a listener's accept queue was full.
    pub listen_overflows: u64,
    /// Handshakes dropped at a listener for any reason (overflows included).
    pub listen_drops: u64,
}

/// Open file descriptors.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FdReport {
    /// `/proc/sys/fs/file-nr`, when readable.
    pub system: Option<SystemFiles>,
    /// The processes with the highest ratio of open descriptors to their soft limit, highest
    /// first.
    pub top: Vec<ProcessFds>,
}

/// The system-wide file handle table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemFiles {
    /// File handles allocated now.
    pub allocated: u64,
    /// The most the kernel will allocate (`fs.file-max`).
    pub max: u64,
}

/// One process's descriptors against its limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessFds {
    pub process: ProcessRef,
    /// Descriptors open now.
    pub open_fds: u64,
    /// The soft `RLIMIT_NOFILE`; `None` when unlimited.
    pub soft_limit: Option<u64>,
}

/// IPVS as `/proc/net/ip_vs` and `/proc/net/ip_vs_conn` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum IpvsReport {
    /// The `ip_vs` module is not loaded (no `/proc/net/ip_vs`).
    NotLoaded,
    /// The module is loaded.
    Loaded(IpvsState),
}

/// A loaded IPVS table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpvsState {
    /// The module's version, `1.2.1`.
    pub version: String,
    /// The connection hash table's size (`size=` in the header).
    pub table_size: u64,
    /// Entries in the connection table, when `/proc/net/ip_vs_conn` was readable.
    pub connections: Option<u64>,
    pub services: Vec<VirtualService>,
}

/// One virtual service and its real servers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualService {
    /// `TCP`, `UDP`, `SCTP`, or `FWM` for a firewall-mark service.
    pub protocol: String,
    /// `10.0.0.1:80`, `[2001:db8::1]:443`, or the firewall mark in decimal.
    pub address: String,
    /// The scheduler's name (`rr`, `wlc`, ...).
    pub scheduler: String,
    /// The persistence timeout in seconds, for a persistent service.
    pub persistent_secs: Option<u64>,
    pub real_servers: Vec<RealServer>,
}

/// One real server behind a virtual service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealServer {
    /// `10.0.0.2:8080` or `[2001:db8::2]:8080`.
    pub address: String,
    /// `Masq`, `Local`, `Tunnel` or `Route`.
    pub forward: String,
    pub weight: i64,
    pub active_conn: u64,
    pub inactive_conn: u64,
}

/// How sshd decides who may log in, read from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SshFacts {
    /// The main configuration file read.
    pub config_path: String,
    /// Whether it could be read; when not, every other field is unknown (`None` or empty).
    pub config_readable: bool,
    /// `LogLevel` (`INFO` when unset), upper case.
    pub log_level: Option<String>,
    /// `TrustedUserCAKeys`, when set.
    pub trusted_user_ca_keys: Option<CaKeysFile>,
    /// `AuthorizedPrincipalsFile` as written, tokens unexpanded, when set and not `none`.
    pub authorized_principals_file: Option<String>,
    /// `RevokedKeys`, when set.
    pub revoked_keys: Option<RevokedKeysFile>,
    /// Local accounts named like a principal the portal hands out.
    pub accounts: Vec<SshAccount>,
}

/// A file of CA public keys sshd trusts for user certificates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaKeysFile {
    pub path: String,
    /// The keys it holds; empty when unreadable (see `error`).
    pub keys: Vec<CaKey>,
    /// Why the file or a line of it could not be read.
    pub error: Option<String>,
}

/// One trusted CA key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaKey {
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, ...
    pub algorithm: String,
    /// `SHA256:...`, as sshd logs it.
    pub fingerprint: String,
    pub comment: String,
}

/// The key revocation list sshd consults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedKeysFile {
    pub path: String,
    /// SHA-256 of the file's content, lower-case hex; `None` when unreadable.
    pub sha256: Option<String>,
    /// Seconds since the file was last modified.
    pub age_secs: Option<u64>,
}

/// A local account that certificates may log in to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshAccount {
    pub name: String,
    pub uid: u32,
    pub home: String,
    /// The account's principals file, tokens expanded, when sshd is configured with one.
    pub principals_file: Option<String>,
    /// The principals it lists; `None` when the file is missing or unreadable.
    pub principals: Option<Vec<String>>,
}

/// Something the agent could not collect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The collector: `listeners`, `netstat`, `fds`, `ipvs`, `sshd`.
    pub source: String,
    pub message: String,
}

/// The answer to `POST /api/ingest/metrics`, sent only once the report is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricsAck {
    /// Whether this request stored the report.
    pub stored: bool,
    /// Whether the report had been stored before (same `agent_id` and `seq`).
    pub duplicate: bool,
}

/// How bad a finding is. Ordered: `Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth fixing soon; nothing is failing yet.
    Warning,
    /// Failing now, or open to misuse.
    Critical,
}

/// Something wrong on a host, in plain words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code of the rule: `accept_queue_full`, `listen_overflows`, `fd_near_limit`,
    /// `fd_rising`, `file_handles_high`, `ipvs_table_small`, `principal_account`,
    /// `no_principals_file`, `log_level_low`, `revoked_keys_missing`, `revoked_keys_stale`,
    /// `sshd_config_unreadable`, `collection_problem`, `not_reporting`.
    pub rule: String,
    pub severity: Severity,
    /// What it is about, when the rule looks at one thing: a listener (`0.0.0.0:443`), a
    /// process (`nginx (pid 812)`), an account.
    pub subject: Option<String>,
    /// One line.
    pub title: String,
    /// What was seen and why it matters.
    pub explanation: String,
    /// What to do about it.
    pub remedy: String,
}

/// One host's state, as the fleet page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostHealthSummary {
    pub host_id: i64,
    pub name: String,
    /// When the latest report arrived (RFC 3339); `None` for a host that never reported.
    pub last_report_at: Option<String>,
    /// When the agent collected it, by the portal's clock.
    pub collected_at: Option<String>,
    pub agent_version: Option<String>,
    /// The host name the agent claims.
    pub hostname: Option<String>,
    pub interval_secs: Option<u64>,
    /// The worst finding's severity; `None` when there is nothing to report.
    pub worst: Option<Severity>,
    pub critical: u32,
    pub warning: u32,
    /// Worst first.
    pub findings: Vec<Finding>,
}

/// `GET /api/admin/fleet`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetView {
    /// When the view was made (RFC 3339).
    pub generated_at: String,
    /// Worst host first; hosts without any report come last.
    pub hosts: Vec<HostHealthSummary>,
}

/// One point of a chart: a time (RFC 3339) and a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Seconds since the epoch, UTC.
    pub t: i64,
    pub value: f64,
}

/// One listener's queue against its backlog over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerSeries {
    /// `0.0.0.0:443`.
    pub local: String,
    /// The owning process's command name, when known.
    pub comm: Option<String>,
    pub accept_queue: Vec<Point>,
    pub backlog: Vec<Point>,
}

/// One process's open descriptors over its soft limit over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessSeries {
    pub pid: u32,
    pub comm: String,
    pub fd_ratio: Vec<Point>,
}

/// `GET /api/admin/hosts/{id}/health?from=&to=`.
///
/// Every point is the highest value within its bucket (`bucket_secs` long, or an hour for
/// data older than `raw_since`), so that a short spike stays visible at any zoom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostHealthView {
    pub host: HostHealthSummary,
    pub from: String,
    pub to: String,
    pub bucket_secs: u64,
    /// The oldest whole report kept for this host; before it, series come from hourly
    /// rollups, and the per-listener and per-process series are empty.
    pub raw_since: Option<String>,
    /// ListenOverflows and ListenDrops per second, from consecutive reports.
    pub overflow_rate: Vec<Point>,
    pub drop_rate: Vec<Point>,
    /// The worst listener's accept queue over its backlog.
    pub queue_ratio: Vec<Point>,
    /// The worst process's open descriptors over its soft limit.
    pub fd_ratio: Vec<Point>,
    /// System file handles allocated over the maximum.
    pub file_handles_ratio: Vec<Point>,
    pub ipvs_connections: Vec<Point>,
    pub ipvs_table_size: Vec<Point>,
    /// The listeners with the fullest queues, at most 50.
    pub listeners: Vec<ListenerSeries>,
    /// The processes closest to their limits, at most 10.
    pub processes: Vec<ProcessSeries>,
    /// sshd's facts from the latest report.
    pub ssh: Option<SshFacts>,
    /// Logins accepted on the host in the window, newest first.
    pub logins: Vec<crate::history::LogEventView>,
}
