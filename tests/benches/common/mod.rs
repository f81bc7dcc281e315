//! What the benchmarks share: a release `opsportal` process on a fresh database.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{self, AppOptions, psql, stack};

/// A release portal as its own process; stopped, and its database dropped, on drop.
pub struct Portal {
    pub child: Child,
    pub origin: String,
    database: String,
}

impl Portal {
    /// Starts `binary` with the test configuration for `options` and waits until it is ready.
    pub async fn start(binary: &Path, options: &AppOptions) -> anyhow::Result<Self> {
        let database = format!("opsportal_bench_{}", uuid::Uuid::new_v4().simple());
        psql(&format!("create database {database}"));
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let origin = format!("http://{addr}");
        let config = std::env::temp_dir().join(format!("{database}.toml"));
        std::fs::write(
            &config,
            support::config_toml(options, &database, addr, &origin, None),
        )?;
        let child = Command::new(binary)
            .arg("--config")
            .arg(&config)
            .args(["serve", "--migrate"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let portal = Self {
            child,
            origin,
            database,
        };
        let probe = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = probe.get(portal.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return Ok(portal);
            }
            anyhow::ensure!(Instant::now() < deadline, "the portal did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        psql(&format!(
            "drop database if exists {} with (force)",
            self.database
        ));
    }
}
