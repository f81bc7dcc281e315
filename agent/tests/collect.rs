//! Collection against the real kernel and real files: a listener that overflows, a process
//! near its descriptor limit, and an sshd configuration with its CA, principals and KRL.

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use opsportal_agent::collect::{self, Snapshot, Sources, SshdSources, netstat};
use opsportal_shared::health::TcpListenCounters;
use socket2::{Domain, Socket, Type};

fn sources(sshd: SshdSources) -> Sources {
    Sources {
        top_fds: 10,
        proc_net: PathBuf::from("/proc/net"),
        file_nr: PathBuf::from("/proc/sys/fs/file-nr"),
        sshd,
    }
}

fn no_sshd() -> SshdSources {
    SshdSources {
        sshd_config: PathBuf::from("/nonexistent/sshd_config"),
        passwd: PathBuf::from("/nonexistent/passwd"),
        principals: Vec::new(),
    }
}

fn tcp_counters() -> TcpListenCounters {
    netstat::collect(Path::new("/proc/net/netstat")).unwrap()
}

/// A listener with backlog 4 that never accepts.
fn stuck_listener() -> TcpListener {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    socket.listen(4).unwrap();
    socket.into()
}

fn connect_nonblocking(to: SocketAddr) -> Socket {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_nonblocking(true).unwrap();
    // EINPROGRESS is the expected answer of a non-blocking connect.
    let _in_progress = socket.connect(&to.into());
    socket
}

fn collect_until(sources: &Sources, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let snapshot = collect::collect(sources);
        if done(&snapshot) || Instant::now() > deadline {
            return snapshot;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn overflowing_listener_shows_queue_over_backlog_and_counts_overflows() {
    let listener = stuck_listener();
    let local = listener.local_addr().unwrap();
    let before = tcp_counters();

    let _clients: Vec<Socket> = (0..20).map(|_| connect_nonblocking(local)).collect();
    let sources = sources(no_sshd());
    let snapshot = collect_until(&sources, |s| {
        let full = s
            .listeners
            .iter()
            .any(|l| l.port == local.port() && l.accept_queue > 4);
        full && s
            .tcp
            .is_some_and(|t| t.listen_overflows > before.listen_overflows)
    });

    let ours = snapshot
        .listeners
        .iter()
        .find(|l| l.port == local.port())
        .expect("listener reported");
    assert_eq!(ours.local, local.to_string());
    assert_eq!(
        (ours.accept_queue, ours.backlog),
        (5, 4),
        "accept queue one over backlog"
    );
    let owner = ours.process.as_ref().expect("owner visible to itself");
    assert_eq!(owner.pid, std::process::id());
    let after = snapshot.tcp.expect("netstat readable");
    assert!(
        after.listen_overflows > before.listen_overflows,
        "{before:?} -> {after:?}"
    );
    assert!(after.listen_drops >= after.listen_overflows);
}

#[test]
fn ipv6_listeners_are_reported_too() {
    let Ok(listener) = TcpListener::bind("[::1]:0") else {
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let snapshot = collect::collect(&sources(no_sshd()));
    let ours = snapshot
        .listeners
        .iter()
        .find(|l| l.port == port)
        .expect("v6 listener reported");
    assert_eq!(ours.local, format!("[::1]:{port}"));
}

/// A shell that lowers its descriptor limit to 64, opens 60 more, then sleeps holding them.
struct NearLimit(Child);

impl NearLimit {
    fn start() -> Self {
        let child = Command::new("bash")
            .arg("-c")
            // Descriptors inherited from whatever runs the tests are closed first, so that
            // exactly 63 are open (0-62) under the limit of 64.
            .arg(
                "for fd in /proc/$$/fd/*; do n=${fd##*/}; [ \"$n\" -gt 2 ] && eval \"exec $n>&-\" 2>/dev/null; done; \
                 ulimit -n 64; for fd in $(seq 3 62); do eval \"exec $fd</dev/null\"; done; exec sleep 30",
            )
            .spawn()
            .unwrap();
        Self(child)
    }
}

impl Drop for NearLimit {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn process_near_its_fd_limit_is_in_the_top() {
    let child = NearLimit::start();
    let pid = child.0.id();
    let sources = sources(no_sshd());
    let snapshot = collect_until(&sources, |s| {
        s.fds
            .top
            .iter()
            .any(|p| p.process.pid == pid && p.process.comm == "sleep" && p.open_fds >= 60)
    });

    let entry = snapshot
        .fds
        .top
        .iter()
        .find(|p| p.process.pid == pid)
        .expect("child in top 10");
    assert_eq!(entry.process.comm, "sleep");
    assert_eq!(entry.soft_limit, Some(64));
    assert!(
        (60..=64).contains(&entry.open_fds),
        "open fds {}",
        entry.open_fds
    );
    assert!(snapshot.fds.top.len() <= 10);
    let system = snapshot.fds.system.expect("file-nr readable");
    assert!(system.max >= system.allocated && system.allocated > 0);
    let pids: HashSet<u32> = snapshot.fds.top.iter().map(|p| p.process.pid).collect();
    assert_eq!(pids.len(), snapshot.fds.top.len(), "each process once");
}

#[test]
fn unreadable_sshd_config_is_reported_as_unknown() {
    let snapshot = collect::collect(&sources(no_sshd()));
    assert!(!snapshot.ssh.config_readable);
    assert_eq!(snapshot.ssh.log_level, None);
    assert!(
        snapshot
            .problems
            .iter()
            .any(|p| p.source == "sshd" && p.message.contains("/nonexistent/sshd_config"))
    );
}
