//! Collection: one pass over the kernel's and sshd's state, giving everything a report holds
//! except the agent's identity and sequence number.
//!
//! Each source is read on its own; one that fails leaves its part unknown and adds a
//! [`Problem`], so that a missing permission never costs the whole report.

mod error;
pub mod fds;
pub mod ipvs;
pub mod listeners;
pub mod netstat;
pub mod passwd;
pub mod processes;
pub mod sshd_config;
pub mod sshd_facts;

use std::collections::HashSet;
use std::path::PathBuf;

use opsportal_shared::health::{
    FdReport, IpvsReport, Listener, Problem, SshFacts, SystemFiles, TcpListenCounters,
};

pub use error::CollectError;
pub use processes::OwnerCache;
pub use sshd_facts::SshdSources;

/// Where each collector reads, and how much it keeps.
#[derive(Debug, Clone)]
pub struct Sources {
    /// How many processes to report by descriptor use.
    pub top_fds: usize,
    /// Directory holding `netstat`, `ip_vs` and `ip_vs_conn` (normally `/proc/net`).
    pub proc_net: PathBuf,
    /// The system file table (normally `/proc/sys/fs/file-nr`).
    pub file_nr: PathBuf,
    pub sshd: SshdSources,
}

/// The host's state at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub listeners: Vec<Listener>,
    pub tcp: Option<TcpListenCounters>,
    pub fds: FdReport,
    pub ipvs: IpvsReport,
    pub ssh: SshFacts,
    pub problems: Vec<Problem>,
}

/// Reads every source once, from scratch. Blocking: run it off the async executor.
pub fn collect(sources: &Sources) -> Snapshot {
    collect_with(sources, &mut OwnerCache::default())
}

/// Reads every source once, checking the listeners' holders in `owners` first and keeping
/// there the ones it finds. Blocking: run it off the async executor.
pub fn collect_with(sources: &Sources, owners: &mut OwnerCache) -> Snapshot {
    let mut problems = Vec::new();

    let raw_listeners =
        ok_or_note(listeners::collect(), "listeners", &mut problems).unwrap_or_default();
    let wanted: HashSet<u64> = raw_listeners.iter().map(|l| l.inode).collect();
    let scan = ok_or_note(processes::scan(&wanted, owners), "processes", &mut problems)
        .unwrap_or_default();
    let listeners = raw_listeners
        .into_iter()
        .map(|raw| Listener {
            local: raw.local.to_string(),
            port: raw.local.port(),
            accept_queue: raw.accept_queue,
            backlog: raw.backlog,
            process: scan.socket_owners.get(&raw.inode).cloned(),
        })
        .collect();

    let tcp = ok_or_note(
        netstat::collect(&sources.proc_net.join("netstat")),
        "netstat",
        &mut problems,
    );
    let system: Option<SystemFiles> =
        ok_or_note(fds::system_files(&sources.file_nr), "fds", &mut problems);
    let fds = fds::report(system, scan.fds, sources.top_fds);
    let ipvs = ok_or_note(ipvs::collect(&sources.proc_net), "ipvs", &mut problems)
        .unwrap_or(IpvsReport::NotLoaded);
    let (ssh, ssh_error) = sshd_facts::collect(&sources.sshd);
    if let Some(error) = ssh_error {
        note("sshd", &error, &mut problems);
    }

    Snapshot {
        listeners,
        tcp,
        fds,
        ipvs,
        ssh,
        problems,
    }
}

fn ok_or_note<T>(
    result: Result<T, CollectError>,
    source: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    result.map_err(|error| note(source, &error, problems)).ok()
}

fn note(source: &str, error: &CollectError, problems: &mut Vec<Problem>) {
    tracing::debug!(source, %error, "source not collected");
    problems.push(Problem {
        source: source.to_string(),
        message: error.to_string(),
    });
}
