//! The agent following a secure-log file (`--tail-log`) into a test portal's HTTP log ingest:
//! lines appended to a file become stored events, attributed exactly as over syslog
//! ([`attribution`]); restarts, crashes and an absent portal lose and double nothing
//! ([`delivery`]); rotation, truncation, partial and overlong lines are followed ([`files`]).

mod attribution;
mod delivery;
mod files;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::agent::{Agent, AgentOptions};
use crate::support::{Client, TestApp};

/// How long a test waits for lines to be stored.
const WAIT: Duration = Duration::from_secs(30);

/// A portal with a host `web01` known by its token alone; its admin, host id and token.
async fn portal_with_host() -> (TestApp, Client, i64, String) {
    let app = TestApp::start().await;
    let admin = app.client();
    admin.sign_in_as("bob").await;
    let (host, token) = token_host(&app, &admin, "web01").await;
    (app, admin, host, token)
}

/// Registers `name` without addresses and gives it a token.
async fn token_host(app: &TestApp, admin: &Client, name: &str) -> (i64, String) {
    let host = app.add_host(admin, name, &[]).await;
    (host, app.host_secret(admin, host).await)
}

/// A folder of log files of one test, removed on drop.
struct LogDir {
    dir: PathBuf,
    /// The followed file.
    log: PathBuf,
}

impl LogDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("opsportal-tail-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("log folder");
        Self {
            log: dir.join("auth.log"),
            dir,
        }
    }

    /// Appends `text` to `file` in one write, as a syslog daemon appends a line.
    fn append_to(file: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .expect("log file");
        file.write_all(text.as_bytes()).expect("append");
    }

    fn append(&self, text: &str) {
        Self::append_to(&self.log, text);
    }

    /// Rotates as logrotate does with `create` and no compression: `auth.log.1` becomes
    /// `auth.log.2` and so on, `auth.log` becomes `auth.log.1`, and a new `auth.log` holds
    /// `text`.
    fn rotate(log: &Path, text: &str) {
        let rotated = |n: u32| PathBuf::from(format!("{}.{n}", log.display()));
        let mut n = 1;
        while rotated(n).exists() {
            n += 1;
        }
        for k in (1..n).rev() {
            std::fs::rename(rotated(k), rotated(k + 1)).expect("rotate");
        }
        std::fs::rename(log, rotated(1)).expect("rotate");
        Self::append_to(log, text);
    }
}

impl Drop for LogDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Now, as a traditional syslog file line starts (`Dec  4 10:00:00`), in the host's zone.
fn stamp() -> String {
    chrono::Local::now().format("%b %e %H:%M:%S").to_string()
}

/// sshd's line for a connection closed from port `port`, as rsyslog writes it to a file.
fn closed(port: u32) -> String {
    format!(
        "{} web01 sshd[4242]: Connection closed by 10.0.0.9 port {port} [preauth]\n",
        stamp()
    )
}

/// The lines of `ports`, one each.
fn closed_lines(ports: impl IntoIterator<Item = u32>) -> String {
    ports.into_iter().map(closed).collect()
}

/// The agent following `logs` with short waits; `extra` adds options.
fn follow(app: &TestApp, token: &str, logs: &[&Path], extra: &[&str]) -> Agent {
    let extra_args: Vec<String> = [
        "--tail-log-poll-ms",
        "100",
        "--tail-log-rotate-wait-secs",
        "1",
    ]
    .iter()
    .chain(extra)
    .map(|s| (*s).to_owned())
    .collect();
    Agent::start(
        app,
        token,
        AgentOptions {
            // Few reports, so that the lines are what the portal is busy with.
            interval_secs: 60,
            tail_logs: logs.iter().map(|p| p.to_path_buf()).collect(),
            extra_args,
            ..AgentOptions::default()
        },
    )
}

/// Waits until host `host` has at least `lines` stored events; returns the count.
async fn wait_for_events(app: &TestApp, host: i64, lines: i64) -> i64 {
    app.wait_for_count(
        &format!("select count(*) from log_event where host_id = {host}"),
        lines,
        WAIT,
    )
    .await
}

/// The source ports of host `host`'s events, in the order they were stored.
async fn stored_ports(app: &TestApp, host: i64) -> Vec<i32> {
    sqlx::query_scalar(
        "select src_port from log_event where host_id = $1 and src_port is not null
         order by event_id",
    )
    .bind(host)
    .fetch_all(&app.db)
    .await
    .expect("ports")
}

/// The sequence numbers the portal holds: how many, the lowest and the highest.
async fn sequence_numbers(app: &TestApp) -> (i64, i64, i64) {
    sqlx::query_as("select count(*), coalesce(min(seq), 0)::bigint, coalesce(max(seq), 0)::bigint from log_seq")
        .fetch_one(&app.db)
        .await
        .expect("sequence numbers")
}

/// Asserts that `ports` are exactly `expected`, in that order: nothing lost, nothing twice.
fn assert_ports(ports: &[i32], expected: impl IntoIterator<Item = u32>) {
    let expected: Vec<i32> = expected.into_iter().map(|p| p as i32).collect();
    let mut seen = std::collections::HashSet::new();
    let twice: Vec<i32> = ports.iter().copied().filter(|p| !seen.insert(*p)).collect();
    assert!(twice.is_empty(), "stored twice: {twice:?}");
    let lost: Vec<i32> = expected
        .iter()
        .copied()
        .filter(|p| !ports.contains(p))
        .collect();
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!(ports, expected, "stored in the file's order");
}

/// Polls the agent's checkpoint of `path` until `done` holds; returns the last one read.
async fn wait_for_checkpoint(agent: &Agent, path: &Path, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let checkpoint = agent.checkpoint(path);
        if done(&checkpoint) || Instant::now() > deadline {
            return checkpoint;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The size of `path` in bytes.
fn size(path: &Path) -> u64 {
    std::fs::metadata(path).expect("log file").len()
}

/// The inode number of `path`.
fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).expect("log file").ino()
}
