//! One walk over `/proc/<pid>`: who holds which listening socket, and how many descriptors
//! each process has open against its limit.
//!
//! Processes that exit during the walk, and those whose descriptors the agent may not count
//! (another user's, without root or CAP_SYS_PTRACE, on kernels before 6.2), are skipped
//! without a word: they are normal.
//!
//! A busy host has thousands of processes, so each costs as little as the answer allows, two
//! system calls where the kernel has them: `stat` of `fd/`, whose size is the number of open
//! descriptors since Linux 6.2, and `prlimit` for the soft limit. Older kernels report a size
//! of 0 and get a count of the directory; a limit the agent may not ask for is read from
//! `limits`. Names are read only for the processes a report shows.
//!
//! Finding who holds a listening socket means reading descriptor links, and a server with
//! ten thousand connections has ten thousand of them. So an [`OwnerCache`] remembers where
//! each listener was found (pid and descriptor number) and the next walk checks that one link;
//! links are read only while some listener is new. A new listener's owner is the lowest pid
//! holding it (the walk goes up by pid, so it stops reading links once every new listener is
//! found); it stays the owner while it still holds the socket. A listener no process holds
//! where the agent can see (the kernel's own, such as nfsd's, or one held in another pid
//! namespace) is remembered as such and not looked for again while it listens; otherwise it
//! would cost a walk of every link at every collection.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use opsportal_shared::health::ProcessRef;
use rlimit::Resource;

use super::CollectError;

const PROC: &str = "/proc";

/// One process's descriptor use, before it is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdUse {
    pub pid: u32,
    pub open_fds: u64,
    /// `None` when unlimited.
    pub soft_limit: Option<u64>,
}

/// What the walk found.
#[derive(Debug, Default)]
pub struct ProcessScan {
    /// Socket inode to the process holding it.
    pub socket_owners: HashMap<u64, ProcessRef>,
    /// Every countable process's descriptor use.
    pub fds: Vec<FdUse>,
}

/// Where each listening socket was found: the pid and descriptor number holding it, or that
/// a walk of every process did not find it.
#[derive(Debug, Default, Clone)]
pub struct OwnerCache {
    holders: HashMap<u64, Holder>,
    unheld: HashSet<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Holder {
    pid: u32,
    fd: u32,
}

impl OwnerCache {
    /// Forgets sockets no longer wanted and holders that let go of their socket; returns the
    /// wanted sockets to look for.
    fn confirm(&mut self, wanted: &HashSet<u64>) -> HashSet<u64> {
        self.holders
            .retain(|inode, holder| wanted.contains(inode) && holder.holds(*inode));
        self.unheld.retain(|inode| wanted.contains(inode));
        wanted
            .iter()
            .filter(|inode| !self.holders.contains_key(inode) && !self.unheld.contains(inode))
            .copied()
            .collect()
    }

    /// Names each holder, reading each process's name once.
    fn owners(&self) -> HashMap<u64, ProcessRef> {
        let mut names: HashMap<u32, Option<ProcessRef>> = HashMap::new();
        self.holders
            .iter()
            .filter_map(|(inode, holder)| {
                let owner = names
                    .entry(holder.pid)
                    .or_insert_with(|| process_ref(holder.pid))
                    .clone()?;
                Some((*inode, owner))
            })
            .collect()
    }
}

impl Holder {
    /// Whether this descriptor still leads to the socket `inode`.
    fn holds(&self, inode: u64) -> bool {
        let link = pid_dir(self.pid).join("fd").join(self.fd.to_string());
        std::fs::metadata(link)
            .is_ok_and(|target| target.file_type().is_socket() && target.ino() == inode)
    }
}

/// Walks every process, finding the holders of the sockets in `wanted_sockets` that `owners`
/// does not already know.
pub fn scan(
    wanted_sockets: &HashSet<u64>,
    owners: &mut OwnerCache,
) -> Result<ProcessScan, CollectError> {
    let entries = std::fs::read_dir(PROC).map_err(|e| CollectError::io(PROC, e))?;
    let mut pids: Vec<u32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();

    let mut unowned = owners.confirm(wanted_sockets);
    let mut fds = Vec::with_capacity(pids.len());
    for pid in pids {
        let looking = !unowned.is_empty();
        let Some((use_, sockets)) = inspect(pid, looking.then_some(&unowned)) else {
            continue;
        };
        for (inode, fd) in sockets {
            if unowned.remove(&inode) {
                owners.holders.insert(inode, Holder { pid, fd });
            }
        }
        fds.push(use_);
    }
    owners.unheld.extend(unowned);
    Ok(ProcessScan {
        socket_owners: owners.owners(),
        fds,
    })
}

/// A process's pid and name; `None` once it has exited.
pub fn process_ref(pid: u32) -> Option<ProcessRef> {
    let comm = std::fs::read_to_string(pid_dir(pid).join("comm")).ok()?;
    Some(ProcessRef {
        pid,
        comm: comm.trim_end_matches('\n').to_owned(),
    })
}

fn pid_dir(pid: u32) -> PathBuf {
    Path::new(PROC).join(pid.to_string())
}

/// One process's descriptors, and the wanted sockets among them (inode and descriptor
/// number) when `wanted` is given.
fn inspect(pid: u32, wanted: Option<&HashSet<u64>>) -> Option<(FdUse, Vec<(u64, u32)>)> {
    let dir = pid_dir(pid);
    let fd_dir = dir.join("fd");
    let (open_fds, sockets) = match wanted {
        Some(wanted) => walk_fds(&fd_dir, Some(wanted))?,
        None => match std::fs::metadata(&fd_dir).ok()?.len() {
            0 => walk_fds(&fd_dir, None)?,
            counted => (counted, Vec::new()),
        },
    };
    let soft_limit = soft_limit(pid, &dir)?;
    let fds = FdUse {
        pid,
        open_fds,
        soft_limit,
    };
    Some((fds, sockets))
}

/// Counts `fd/` entry by entry, reading each link when looking for `wanted` sockets.
fn walk_fds(fd_dir: &Path, wanted: Option<&HashSet<u64>>) -> Option<(u64, Vec<(u64, u32)>)> {
    let mut open_fds = 0u64;
    let mut sockets = Vec::new();
    for entry in std::fs::read_dir(fd_dir).ok()? {
        let Ok(entry) = entry else { continue };
        open_fds += 1;
        if let Some(wanted) = wanted
            && let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok())
            && let Some(inode) = std::fs::read_link(entry.path())
                .ok()
                .and_then(|target| socket_inode(target.to_str()?))
            && wanted.contains(&inode)
        {
            sockets.push((inode, fd));
        }
    }
    Some((open_fds, sockets))
}

/// The soft open-files limit, `Some(None)` when unlimited, `None` when the process is gone.
fn soft_limit(pid: u32, dir: &Path) -> Option<Option<u64>> {
    let (mut soft, mut hard) = (0, 0);
    let asked = i32::try_from(pid)
        .ok()
        .map(|pid| rlimit::prlimit(pid, Resource::NOFILE, None, Some((&mut soft, &mut hard))));
    match asked {
        Some(Ok(())) => Some((soft != rlimit::INFINITY).then_some(soft)),
        _ => soft_open_files(&std::fs::read_to_string(dir.join("limits")).ok()?),
    }
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
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;

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
    fn a_count_without_a_listing_agrees_with_one() {
        // A child whose descriptors no test thread touches: stdin, stdout, stderr and whatever
        // the test runner's parent left inheritable.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        // spawn() can return before the child has run exec; until then it is a copy of us.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while process_ref(pid).unwrap().comm != "sleep" && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let (counted, sockets) = inspect(pid, None).unwrap();
        let (listed, _) = walk_fds(&pid_dir(pid).join("fd"), None).unwrap();
        let named = process_ref(pid).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();

        assert_eq!(named.comm, "sleep");
        assert!(sockets.is_empty());
        assert_eq!(counted.open_fds, listed);
        assert!(listed >= 3);
    }

    fn inode_of(listener: &TcpListener) -> u64 {
        let link = format!("/proc/self/fd/{}", listener.as_raw_fd());
        std::fs::metadata(link).unwrap().ino()
    }

    #[test]
    fn this_process_is_found_with_its_own_listener() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let inode = inode_of(&listener);
        let scan = scan(&HashSet::from([inode]), &mut OwnerCache::default()).unwrap();
        let me = std::process::id();
        assert_eq!(scan.socket_owners[&inode].pid, me);
        let mine = scan.fds.iter().find(|f| f.pid == me).unwrap();
        assert!(mine.open_fds >= 1);
        let (soft, _) = rlimit::getrlimit(Resource::NOFILE).unwrap();
        assert_eq!(mine.soft_limit, (soft != rlimit::INFINITY).then_some(soft));
    }

    #[test]
    fn a_holder_is_remembered_while_it_holds_and_forgotten_after() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let inode = inode_of(&listener);
        let wanted = HashSet::from([inode]);
        let mut owners = OwnerCache::default();
        let first = scan(&wanted, &mut owners).unwrap();
        let me = std::process::id();
        assert_eq!(first.socket_owners[&inode].pid, me);
        let fd = u32::try_from(listener.as_raw_fd()).unwrap();
        assert_eq!(owners.holders[&inode], Holder { pid: me, fd });

        assert!(
            owners.confirm(&wanted).is_empty(),
            "still held: no walk needed"
        );
        let again = scan(&wanted, &mut owners).unwrap();
        assert_eq!(again.socket_owners[&inode].pid, me);

        drop(listener);
        assert_eq!(owners.confirm(&wanted), wanted);
        assert!(owners.holders.is_empty());
        assert!(owners.confirm(&HashSet::new()).is_empty());
    }

    #[test]
    fn a_socket_nobody_holds_is_looked_for_once_while_it_is_wanted() {
        // Socket inodes are 32-bit, so this one is held by no process.
        let nobody = u64::from(u32::MAX) + 7;
        let wanted = HashSet::from([nobody]);
        let mut owners = OwnerCache::default();
        assert_eq!(owners.confirm(&wanted), wanted);
        let scan = scan(&wanted, &mut owners).unwrap();
        assert!(!scan.socket_owners.contains_key(&nobody));
        assert!(owners.confirm(&wanted).is_empty(), "not looked for again");
        assert!(owners.confirm(&HashSet::new()).is_empty());
        assert!(
            owners.unheld.is_empty(),
            "forgotten once it stops listening"
        );
        assert_eq!(owners.confirm(&wanted), wanted);
    }
}
