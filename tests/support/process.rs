//! The portal as a process of its own, for benchmarks and for tests that kill it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use super::clock::ClockShift;
use super::{AppOptions, Listeners, config_toml, psql_on, stack};

/// The `opsportal` binary as its own process; stopped, and its database dropped, on drop.
pub struct Portal {
    pub child: Child,
    pub origin: String,
    /// Where it receives syslog over TCP, when `AppOptions::syslog_tcp` asked for it.
    #[allow(dead_code, reason = "read by the ingest benchmark, not by the tests")]
    pub syslog_addr: Option<std::net::SocketAddr>,
    binary: std::path::PathBuf,
    config: std::path::PathBuf,
    clock: Option<ClockShift>,
    database: String,
    database_server: String,
}

impl Portal {
    /// Starts `binary` with the test configuration for `options` and waits until it is ready.
    pub async fn start(binary: &Path, options: &AppOptions) -> anyhow::Result<Self> {
        Self::start_with_clock(binary, options, None).await
    }

    /// Starts it as [`Portal::start`] does, on a wall clock shifted by `clock`.
    pub async fn start_with_clock(
        binary: &Path,
        options: &AppOptions,
        clock: Option<ClockShift>,
    ) -> anyhow::Result<Self> {
        let database = format!("opsportal_proc_{}", uuid::Uuid::new_v4().simple());
        let database_server = options
            .database_server
            .clone()
            .unwrap_or_else(|| stack().database_url.clone());
        psql_on(&database_server, &format!("create database {database}"));
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let origin = format!("http://{addr}");
        let config = std::env::temp_dir().join(format!("{database}.toml"));
        let listeners = Listeners::for_options(options);
        let syslog_addr = listeners.tcp;
        std::fs::write(
            &config,
            config_toml(options, &database, addr, &origin, &listeners),
        )?;
        let mut portal = Self {
            child: spawn(binary, &config, clock)?,
            origin,
            syslog_addr,
            binary: binary.to_owned(),
            config,
            clock,
            database,
            database_server,
        };
        portal.wait_ready().await?;
        Ok(portal)
    }

    /// Kills the process with SIGKILL, requests in flight and all, and starts it again.
    pub async fn kill_and_restart(&mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        self.child = spawn(&self.binary, &self.config, self.clock)?;
        self.wait_ready().await
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let probe = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = probe.get(self.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < deadline, "the portal did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Posts `body` to `path` with `client`, as the portal's own pages do; the JSON answer.
    pub async fn post_json(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let answer = client
            .post(self.url(path))
            .header("origin", &self.origin)
            .json(body)
            .send()
            .await?;
        anyhow::ensure!(answer.status().is_success(), "{path}: {}", answer.status());
        Ok(answer.json().await?)
    }

    /// The URL of the portal's own database.
    pub fn database_url(&self) -> String {
        let (base, _) = self.database_server.rsplit_once('/').expect("database URL");
        format!("{base}/{}", self.database)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// A client that sends the anti-forgery header, with or without a cookie jar.
    pub fn client(&self, cookies: bool) -> anyhow::Result<reqwest::Client> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            opsportal_shared::CSRF_HEADER,
            opsportal_shared::CSRF_HEADER_VALUE.parse()?,
        );
        Ok(reqwest::Client::builder()
            .cookie_store(cookies)
            .default_headers(headers)
            .pool_max_idle_per_host(64)
            .build()?)
    }

    /// A client signed in as the demo person `username`.
    pub async fn signed_in(&self, username: &str) -> anyhow::Result<reqwest::Client> {
        let client = self.client(true)?;
        let password = &stack().person(username).password;
        let response = client
            .post(self.url("/api/session"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == StatusCode::OK,
            "sign-in: {}",
            response.status()
        );
        Ok(client)
    }
}

fn spawn(binary: &Path, config: &Path, clock: Option<ClockShift>) -> std::io::Result<Child> {
    let mut command = Command::new(binary);
    command
        .arg("--config")
        .arg(config)
        .args(["serve", "--migrate"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(clock) = clock {
        clock.apply(&mut command);
    }
    command.spawn()
}

/// Kills `child` and waits for it, then removes `dir`, its scratch folder: what each helper
/// that owns a process and a folder does when dropped. Errors are ignored; nothing is left
/// to do about them in a drop.
pub fn end(child: Option<&mut Child>, dir: &Path) {
    if let Some(child) = child {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A binary of this workspace, built by `cargo build` (debug profile).
pub fn debug_binary(name: &str) -> std::path::PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/debug")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --bins` first (cargo xtask test does)",
        path.display()
    );
    path
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        psql_on(
            &self.database_server,
            &format!("drop database if exists {} with (force)", self.database),
        );
        let _ = std::fs::remove_file(&self.config);
    }
}
