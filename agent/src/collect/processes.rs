//! One walk over `/proc/<pid>`: who holds which listening socket, and how many descriptors
//! each process has open against its limit.
//!
//! Processes the agent may not inspect (another user's, without root or CAP_SYS_PTRACE) and
//! processes that exit during the walk are skipped without a word: they are normal.

use std::collections::{HashMap, HashSet};

use opsportal_shared::health::{ProcessFds, ProcessRef};
use procfs::process::{FDTarget, LimitValue, Process};

use super::CollectError;

/// What the walk found.
#[derive(Debug, Default)]
pub struct ProcessScan {
    /// Socket inode to the lowest pid holding it.
    pub socket_owners: HashMap<u64, ProcessRef>,
    /// Every inspectable process's descriptor count and soft limit.
    pub fds: Vec<ProcessFds>,
}

/// Walks every process, looking for the sockets in `wanted_sockets`.
pub fn scan(wanted_sockets: &HashSet<u64>) -> Result<ProcessScan, CollectError> {
    let mut scan = ProcessScan::default();
    for process in procfs::process::all_processes()? {
        let Ok(process) = process else { continue };
        if let Some((fds, sockets)) = inspect(&process, wanted_sockets) {
            for inode in sockets {
                let owner = scan
                    .socket_owners
                    .entry(inode)
                    .or_insert_with(|| fds.process.clone());
                if fds.process.pid < owner.pid {
                    *owner = fds.process.clone();
                }
            }
            scan.fds.push(fds);
        }
    }
    Ok(scan)
}

fn inspect(process: &Process, wanted_sockets: &HashSet<u64>) -> Option<(ProcessFds, Vec<u64>)> {
    let comm = process.stat().ok()?.comm;
    let limits = process.limits().ok()?;
    let mut open_fds = 0u64;
    let mut sockets = Vec::new();
    for fd in process.fd().ok()? {
        let Ok(fd) = fd else { continue };
        open_fds += 1;
        if let FDTarget::Socket(inode) = fd.target
            && wanted_sockets.contains(&inode)
        {
            sockets.push(inode);
        }
    }
    let soft_limit = match limits.max_open_files.soft_limit {
        LimitValue::Unlimited => None,
        LimitValue::Value(value) => Some(value),
    };
    let pid = u32::try_from(process.pid()).ok()?;
    let fds = ProcessFds {
        process: ProcessRef { pid, comm },
        open_fds,
        soft_limit,
    };
    Some((fds, sockets))
}
