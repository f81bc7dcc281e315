//! The real `opsportal-agent` binary, run against a test portal, and hand-made reports.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::TcpListener;

use super::{Answer, Client, TestApp};

/// The agent binary beside this test binary (`target/debug/opsportal-agent`), built first
/// when missing. `cargo xtask test` builds it before the tests.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target profile directory");
        let path = dir.join("opsportal-agent");
        if !path.exists() {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
            let status = Command::new(env!("CARGO"))
                .current_dir(&workspace)
                .args(["build", "--package", "opsportal-agent", "--bin"])
                .arg("opsportal-agent")
                .status()
                .expect("cargo build runs");
            assert!(status.success(), "building opsportal-agent failed");
        }
        path
    })
}

/// What an agent run reads besides the live kernel.
pub struct AgentOptions {
    pub interval_secs: u64,
    /// sshd_config to read; a path that does not exist when `None`.
    pub sshd_config: Option<PathBuf>,
    pub passwd: Option<PathBuf>,
    /// Log files to follow (`--tail-log`).
    pub tail_logs: Vec<PathBuf>,
    /// More options, e.g. `--tail-log-batch-lines 20`.
    pub extra_args: Vec<String>,
}

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            interval_secs: 1,
            sshd_config: None,
            passwd: None,
            tail_logs: Vec::new(),
            extra_args: Vec::new(),
        }
    }
}

/// A running agent with its own spool directory; killed and cleaned up on drop.
pub struct Agent {
    child: Option<Child>,
    pub dir: PathBuf,
    args: Vec<OsString>,
}

impl Agent {
    /// Starts the agent's loop against `app` with `token`.
    pub fn start(app: &TestApp, token: &str, options: AgentOptions) -> Self {
        let dir = std::env::temp_dir().join(format!("opsportal-agent-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("agent directory");
        let token_file = dir.join("token");
        std::fs::write(&token_file, token).expect("token file");
        let missing = dir.join("absent");
        let mut args: Vec<OsString> = vec![
            "--portal".into(),
            app.url("").into(),
            "--token-file".into(),
            token_file.into(),
            "--spool-dir".into(),
            dir.join("spool").into(),
            "--interval-secs".into(),
            options.interval_secs.to_string().into(),
            "--timeout-secs".into(),
            "5".into(),
            "--sshd-config".into(),
            options
                .sshd_config
                .unwrap_or_else(|| missing.clone())
                .into(),
            "--passwd".into(),
            options.passwd.unwrap_or(missing).into(),
        ];
        for path in options.tail_logs {
            args.extend(["--tail-log".into(), path.into()]);
        }
        args.extend(options.extra_args.into_iter().map(OsString::from));
        let mut agent = Self {
            child: None,
            dir,
            args,
        };
        agent.restart();
        agent
    }

    /// Starts the agent again, with the same options and spool, after [`Agent::stop`] or
    /// [`Agent::kill`].
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the agent is still running");
        let child = Command::new(binary())
            .args(&self.args)
            .env("OPSPORTAL_AGENT_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the agent starts");
        self.child = Some(child);
    }

    /// Stops the agent with SIGTERM, as systemd does, and waits for it on a blocking thread,
    /// so that a portal served by the test's runtime keeps answering meanwhile.
    pub async fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        tokio::task::spawn_blocking(move || {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        })
        .await
        .expect("stopping the agent");
    }

    /// Kills the agent with SIGKILL, as a crash or the OOM killer would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The checkpoint file the agent keeps for the followed file `path`, once it has one.
    pub fn checkpoint_file(&self, path: &Path) -> Option<PathBuf> {
        let entries = std::fs::read_dir(self.dir.join("spool/tail")).ok()?;
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|file| {
                file.extension().is_some_and(|e| e == "json")
                    && std::fs::read_to_string(file)
                        .ok()
                        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                        .is_some_and(|c| c["path"] == path.to_string_lossy().as_ref())
            })
    }

    /// That checkpoint as JSON; `Value::Null` before there is one.
    pub fn checkpoint(&self, path: &Path) -> Value {
        self.checkpoint_file(path)
            .and_then(|file| std::fs::read_to_string(file).ok())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(Value::Null)
    }

    /// The agent's last sequence number and the numbers still in its spool.
    pub fn spool(&self) -> (u64, Vec<u64>) {
        let dir = self.dir.join("spool");
        let last = std::fs::read_to_string(dir.join("last-seq"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let mut pending: Vec<u64> = std::fs::read_dir(dir.join("reports"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| {
                        let name = e.file_name().into_string().ok()?;
                        name.strip_suffix(".json")?.parse().ok()
                    })
                    .collect()
            })
            .unwrap_or_default();
        pending.sort_unstable();
        (last, pending)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        super::process::end(self.child.as_mut(), &self.dir);
    }
}

impl TestApp {
    /// Posts `body` as a host health report with `token`.
    pub async fn push_report(&self, token: Option<&str>, body: Vec<u8>) -> Answer {
        let mut request = self
            .raw_client()
            .post(self.url("/api/ingest/metrics"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        Answer::from(request.send().await.expect("POST /api/ingest/metrics")).await
    }

    /// Stops the portal, waits `pause` with nothing listening, and starts it again on the same
    /// port and database.
    pub async fn restart_after(&mut self, pause: Duration) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        tokio::time::sleep(pause).await;
        let listener = TcpListener::bind(self.addr).await.expect("rebind");
        self.serve(listener).await.expect("portal restarts");
    }

    /// Polls the fleet until the row of `host` satisfies `done`; returns the last row seen.
    pub async fn wait_for_fleet_row(
        &self,
        admin: &Client,
        host: &str,
        within: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let answer = admin.get("/api/admin/fleet").await;
            assert_eq!(answer.status, StatusCode::OK, "fleet: {}", answer.body);
            let row = answer.body["hosts"]
                .as_array()
                .and_then(|hosts| hosts.iter().find(|h| h["name"] == host))
                .cloned()
                .unwrap_or(Value::Null);
            if done(&row) || Instant::now() > deadline {
                return row;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The finding of `rule` in a fleet row, whose subject satisfies `subject`.
pub fn finding<'r>(
    row: &'r Value,
    rule: &str,
    subject: impl Fn(&str) -> bool,
) -> Option<&'r Value> {
    row["findings"]
        .as_array()?
        .iter()
        .find(|f| f["rule"] == rule && subject(f["subject"].as_str().unwrap_or_default()))
}
