//! One walk over `/proc/<pid>`: who holds which listening socket, and how many descriptors
//! each process has open against its limit.
//!
//! Processes the agent may not inspect (another user's, without root or CAP_SYS_PTRACE) and
//! processes that exit during the walk are skipped without a word: they are normal.
//!
//! A busy host has thousands of processes, so each costs as little as the answer allows: its
//! `comm`, the one line of `limits` that matters, and a count of `fd/`. Descriptor links are
//! read only while some listening socket still has no owner; since owners are the lowest pid
//! holding a socket and the walk goes up by pid, the later processes cannot change an owner.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use opsportal_shared::health::{ProcessFds, ProcessRef};

use super::CollectError;

const PROC: &str = "/proc";

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
    let entries = std::fs::read_dir(PROC).map_err(|e| CollectError::io(PROC, e))?;
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();

    let mut scan = ProcessScan::default();
    for pid in pids {
        let looking = scan.socket_owners.len() < wanted_sockets.len();
        let Some((fds, sockets)) = inspect(pid, looking.then_some(wanted_sockets)) else {
            continue;
        };
        for inode in sockets {
            scan.socket_owners
                .entry(inode)
                .or_insert_with(|| fds.process.clone());
        }
        scan.fds.push(fds);
    }
    Ok(scan)
}

/// One process's descriptors, and the wanted sockets among them when `wanted` is given.
fn inspect(pid: u32, wanted: Option<&HashSet<u64>>) -> Option<(ProcessFds, Vec<u64>)> {
    let dir = Path::new(PROC).join(pid.to_string());
    let comm = std::fs::read_to_string(dir.join("comm")).ok()?;
    let soft_limit = soft_open_files(&std::fs::read_to_string(dir.join("limits")).ok()?)?;
    let mut open_fds = 0u64;
    let mut sockets = Vec::new();
    for entry in std::fs::read_dir(dir.join("fd")).ok()? {
        let Ok(entry) = entry else { continue };
        open_fds += 1;
        if let Some(wanted) = wanted
            && let Some(inode) = std::fs::read_link(entry.path())
                .ok()
                .and_then(|target| socket_inode(target.to_str()?))
            && wanted.contains(&inode)
        {
            sockets.push(inode);
        }
    }
    let fds = ProcessFds {
        process: ProcessRef {
            pid,
            comm: comm.trim_end_matches('\n').to_owned(),
        },
        open_fds,
        soft_limit,
    };
    Some((fds, sockets))
}

/// The inode of a descriptor link such as `socket:[12345]`.
fn socket_inode(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The soft limit in `/proc/<pid>/limits`' "Max open files" line; `Some(None)` when unlimited,
/// `None` when the line is missing or unreadable.
fn soft_open_files(limits: &str) -> Option<Option<u64>> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .strip_prefix("Max open files")?
        .split_whitespace()
        .next()?;
    match soft {
        "unlimited" => Some(None),
        value => value.parse().ok().map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_files_line_gives_the_soft_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(soft_open_files(limits), Some(Some(1024)));
        let unlimited = limits.replace("1024                ", "unlimited           ");
        assert_eq!(soft_open_files(&unlimited), Some(None));
        assert_eq!(soft_open_files("Max cpu time unlimited"), None);
    }

    #[test]
    fn only_socket_links_have_an_inode() {
        assert_eq!(socket_inode("socket:[4242]"), Some(4242));
        assert_eq!(socket_inode("pipe:[4242]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
        assert_eq!(socket_inode("socket:[x]"), None);
    }

    #[test]
    fn this_process_is_found_with_its_own_listener() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let inode = std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .filter_map(|t| socket_inode(t.to_str()?))
            .max()
            .unwrap();
        let scan = scan(&HashSet::from([inode])).unwrap();
        let me = std::process::id();
        assert_eq!(scan.socket_owners[&inode].pid, me);
        let mine = scan.fds.iter().find(|f| f.process.pid == me).unwrap();
        assert!(mine.open_fds >= 1);
        drop(listener);
    }
}
