//! The real `opsportal-agent` binary, run against a test portal, and hand-made reports.

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
}

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            interval_secs: 1,
            sshd_config: None,
            passwd: None,
        }
    }
}

/// A running agent with its own spool directory; killed and cleaned up on drop.
pub struct Agent {
    child: Option<Child>,
    pub dir: PathBuf,
}

impl Agent {
    /// Starts the agent's loop against `app` with `token`.
    pub fn start(app: &TestApp, token: &str, options: AgentOptions) -> Self {
        let dir = std::env::temp_dir().join(format!("opsportal-agent-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("agent directory");
        let token_file = dir.join("token");
        std::fs::write(&token_file, token).expect("token file");
        let missing = dir.join("absent");
        let child = Command::new(binary())
            .arg("--portal")
            .arg(app.url(""))
            .arg("--token-file")
            .arg(&token_file)
            .arg("--spool-dir")
            .arg(dir.join("spool"))
            .arg("--interval-secs")
            .arg(options.interval_secs.to_string())
            .arg("--timeout-secs")
            .arg("5")
            .arg("--sshd-config")
            .arg(options.sshd_config.unwrap_or_else(|| missing.clone()))
            .arg("--passwd")
            .arg(options.passwd.unwrap_or(missing))
            .env("OPSPORTAL_AGENT_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the agent starts");
        Self {
            child: Some(child),
            dir,
        }
    }

    /// Stops the agent with SIGTERM, as systemd does, and waits for it.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
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
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
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
