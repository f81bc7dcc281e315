//! A small client for Vault's HTTP API: JSON in and out, a CA file for TLS, one timeout for
//! every call, Vault's error list turned into one message, and Vault's clock read from each
//! answer.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::clock::{self, VaultClock};
use crate::config::VaultConfig;

/// Header carrying a Vault token.
const TOKEN_HEADER: &str = "X-Vault-Token";

/// What went wrong talking to Vault.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("Vault did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Vault is unreachable: {0}")]
    Unreachable(String),
    #[error("Vault is sealed or not ready")]
    Sealed,
    /// Vault answered with an error status.
    #[error("Vault answered {status}: {message}")]
    Status { status: StatusCode, message: String },
    #[error("unexpected answer from Vault: {0}")]
    Malformed(String),
}

/// Vault at one address.
#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    addr: String,
    timeout: Duration,
    clock: Arc<VaultClock>,
}

impl VaultClient {
    pub fn new(config: &VaultConfig) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(config.timeout())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("opsportal/", env!("CARGO_PKG_VERSION")));
        if let Some(ca_file) = &config.ca_file {
            let pem = std::fs::read(ca_file)
                .map_err(|e| format!("vault.ca_file: cannot read {}: {e}", ca_file.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("vault.ca_file: {}: {e}", ca_file.display()))?;
            builder = builder.tls_built_in_root_certs(false);
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| format!("vault: cannot build the HTTP client: {e}"))?;
        Ok(Self {
            http,
            addr: config.addr.trim_end_matches('/').to_owned(),
            timeout: config.timeout(),
            clock: Arc::default(),
        })
    }

    /// Vault's clock, as learned from its answers so far.
    pub fn clock(&self) -> &VaultClock {
        &self.clock
    }

    /// `GET /v1/<path>`.
    pub async fn read(&self, path: &str, token: &str) -> Result<Value, VaultError> {
        let request = self.http.get(self.url(path)).header(TOKEN_HEADER, token);
        self.send(request).await
    }

    /// `POST /v1/<path>` with a JSON body, with or without a token.
    pub async fn write(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Value, VaultError> {
        let mut request = self.http.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.header(TOKEN_HEADER, token);
        }
        self.send(request).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{}", self.addr, path.trim_start_matches('/'))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, VaultError> {
        let response = request.send().await.map_err(|e| self.transport(e))?;
        if let Some(Ok(date)) = response
            .headers()
            .get(reqwest::header::DATE)
            .map(|d| d.to_str())
        {
            self.clock.observe(date, clock::local_now_secs());
        }
        let status = response.status();
        let text = response.text().await.map_err(|e| self.transport(e))?;
        if status.is_success() {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text).map_err(|e| VaultError::Malformed(e.to_string()));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return Err(VaultError::Sealed);
        }
        Err(VaultError::Status {
            status,
            message: error_message(&text),
        })
    }

    fn transport(&self, error: reqwest::Error) -> VaultError {
        if error.is_timeout() {
            VaultError::Timeout(self.timeout)
        } else {
            // The chain holds the cause (refused, TLS verification, ...); never a token.
            let mut message = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            VaultError::Unreachable(message)
        }
    }
}

/// Vault's `{"errors": [...]}` as one line, bounded in length.
fn error_message(body: &str) -> String {
    let joined = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v["errors"].as_array().map(|errors| {
                errors
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .unwrap_or_else(|| "no error message".into());
    // Vault's own messages span lines ("1 error occurred:\n\t* ..."): keep one line.
    let one_line = joined.split_whitespace().collect::<Vec<_>>().join(" ");
    one_line.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vault_error_lists_become_one_line() {
        assert_eq!(
            error_message(r#"{"errors":["permission denied","second"]}"#),
            "permission denied; second"
        );
        assert_eq!(error_message("<html>"), "no error message");
        assert_eq!(
            error_message(r#"{"errors":["1 error occurred:\n\t* permission denied\n\n"]}"#),
            "1 error occurred: * permission denied"
        );
        assert_eq!(
            error_message(&format!(r#"{{"errors":["{}"]}}"#, "x".repeat(500))).len(),
            300
        );
    }
}
