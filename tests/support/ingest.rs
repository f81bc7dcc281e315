//! Hosts, tokens and waits for stored lines, for the log-ingest tests.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Answer, Client, TestApp};

impl TestApp {
    /// Signs in the admin bob and registers `name` as sending from `addresses`; returns bob's
    /// client and the host id.
    pub async fn admin_with_host(&self, name: &str, addresses: &[&str]) -> (Client, i64) {
        let admin = self.client();
        admin.sign_in_as("bob").await;
        let host = self.add_host(&admin, name, addresses).await;
        (admin, host)
    }

    /// Registers `name` at `address` as the admin bob, with a token; returns bob's client,
    /// the host id and the token's secret.
    pub async fn host_with_token(&self, name: &str, address: &str) -> (Client, i64, String) {
        let (admin, host) = self.admin_with_host(name, &[address]).await;
        let secret = self.host_secret(&admin, host).await;
        (admin, host, secret)
    }

    /// A new token for `host_id`, beside its others; returns only its secret.
    pub async fn host_secret(&self, admin: &Client, host_id: i64) -> String {
        let token = self.host_token(admin, host_id, false).await;
        token["token"].as_str().expect("token").to_owned()
    }

    /// Registers `name` as sending from `addresses`, as an admin does; returns the host id.
    pub async fn add_host(&self, admin: &Client, name: &str, addresses: &[&str]) -> i64 {
        let answer = admin
            .post(
                "/api/admin/hosts",
                &json!({ "name": name, "addresses": addresses }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "add host: {}", answer.body);
        answer.body["id"].as_i64().expect("host id")
    }

    /// A new token for `host_id`; with `rotate`, the host's other tokens are revoked.
    pub async fn host_token(&self, admin: &Client, host_id: i64, rotate: bool) -> Value {
        let answer = admin
            .post(
                &format!("/api/admin/hosts/{host_id}/tokens"),
                &json!({ "rotate": rotate }),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "token: {}", answer.body);
        answer.body
    }

    /// Posts an NDJSON batch with `token`, plain.
    pub async fn push_logs(&self, token: Option<&str>, lines: &[Value]) -> Answer {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        self.push_raw(token, body.into_bytes(), None).await
    }

    /// Posts `body` to the log ingest with `token` and an optional content encoding.
    pub async fn push_raw(
        &self,
        token: Option<&str>,
        body: Vec<u8>,
        encoding: Option<&str>,
    ) -> Answer {
        let mut request = self
            .raw_client()
            .post(self.url("/api/ingest/logs"))
            .header("content-type", "application/x-ndjson")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(encoding) = encoding {
            request = request.header("content-encoding", encoding);
        }
        Answer::from(request.send().await.expect("POST /api/ingest/logs")).await
    }

    /// Waits until `sql` (a `select count(*)`) reaches `at_least`; returns the last count.
    pub async fn wait_for_count(&self, sql: &str, at_least: i64, within: Duration) -> i64 {
        let deadline = Instant::now() + within;
        loop {
            let count = self.count(sql).await;
            if count >= at_least || Instant::now() > deadline {
                return count;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the sample `series` of `/metrics` is above zero; returns its value.
    pub async fn wait_for_metric(&self, series: &str) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let value = sample(&self.metrics().await, series);
            if value > 0 || Instant::now() > deadline {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The portal's `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.raw_client()
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body")
    }
}

/// The value of one sample in Prometheus text, e.g. `name{label="x"}`; 0 when absent.
pub fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// One line as a shipper posts it: sshd's text, pid 4242, stamped now; with `stream`, numbered.
pub fn sshd_line(stream: Option<(&str, u64)>, message: &str) -> Value {
    let mut line = json!({
        "message": message,
        "program": "sshd",
        "pid": 4242,
        "timestamp": chrono::Utc::now().to_rfc3339(),
    });
    if let Some((stream, seq)) = stream {
        line["stream"] = json!(stream);
        line["seq"] = json!(seq);
    }
    line
}

/// sshd's line for a connection closed before authentication.
pub fn closed(port: u16) -> String {
    format!("Connection closed by 10.0.0.9 port {port} [preauth]")
}
