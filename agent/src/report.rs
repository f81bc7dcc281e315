//! A snapshot stamped with who made it and when: the report the portal receives.

use opsportal_shared::health::HostReport;

use crate::collect::Snapshot;

/// What the agent adds to a snapshot.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub agent_id: String,
    pub seq: u64,
    pub interval_secs: u64,
    pub spool_dropped: u64,
    pub rejected: u64,
}

/// Builds the report, dated now by the host's clock.
pub fn build(snapshot: Snapshot, stamp: Stamp) -> HostReport {
    HostReport {
        agent_id: stamp.agent_id,
        seq: stamp.seq,
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
        hostname: hostname(),
        collected_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        interval_secs: stamp.interval_secs,
        spool_dropped: stamp.spool_dropped,
        rejected: stamp.rejected,
        listeners: snapshot.listeners,
        tcp: snapshot.tcp,
        fds: snapshot.fds,
        ipvs: snapshot.ipvs,
        ssh: snapshot.ssh,
        problems: snapshot.problems,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}
