//! The portal's ingest endpoints over HTTPS, and what their answers mean for a report or a
//! batch of log lines. One client, with one TLS setup, serves both.

use std::path::PathBuf;
use std::time::Duration;

use opsportal_shared::error::ErrorBody;
use opsportal_shared::ingest::IngestAck;
use reqwest::{StatusCode, header};

use super::PushError;

/// The path reports are posted to, below the portal's URL.
pub const METRICS_PATH: &str = "/api/ingest/metrics";
/// The path batches of log lines are posted to, below the portal's URL.
pub const LOGS_PATH: &str = "/api/ingest/logs";

/// How to reach the portal.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// The portal's base URL, `https://portal.example`.
    pub url: reqwest::Url,
    /// File holding the host's bearer token; read for every request, so a new token is
    /// picked up without a restart.
    pub token_file: PathBuf,
    /// PEM CA bundle to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

/// What became of one report or batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored (or already stored) by the portal.
    Stored,
    /// The portal refused the request's content; sending it again as it is cannot help.
    Rejected { status: u16, code: Option<String> },
    /// The portal refused the host's token; the report is fine.
    Unauthorized { code: Option<String> },
    /// The portal asked to be called later (429, 503, other server errors).
    RetryLater {
        after: Option<Duration>,
        status: u16,
    },
    /// No answer: connection refused, TLS failure, timeout.
    Unreachable { reason: String },
}

/// An HTTP client bound to one portal.
#[derive(Debug, Clone)]
pub struct PortalClient {
    http: reqwest::Client,
    metrics: reqwest::Url,
    logs: reqwest::Url,
    token_file: PathBuf,
}

impl PortalClient {
    pub fn new(settings: &PortalSettings) -> Result<Self, PushError> {
        check_scheme(&settings.url)?;
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("opsportal-agent/", env!("CARGO_PKG_VERSION")));
        if let Some(ca_file) = &settings.ca_file {
            let pem = std::fs::read(ca_file).map_err(|e| PushError::file(ca_file, e))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| PushError::Config(format!("{}: {e}", ca_file.display())))?;
            if certificates.is_empty() {
                return Err(PushError::Config(format!(
                    "{}: no certificate",
                    ca_file.display()
                )));
            }
            // A private CA replaces the public roots: the portal is only ever reached with it.
            builder = builder.tls_built_in_root_certs(false);
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder
            .build()
            .map_err(|e| PushError::Config(e.to_string()))?;
        let endpoint = |path| {
            settings
                .url
                .join(path)
                .map_err(|e| PushError::Config(format!("portal URL: {e}")))
        };
        Ok(Self {
            http,
            metrics: endpoint(METRICS_PATH)?,
            logs: endpoint(LOGS_PATH)?,
            token_file: settings.token_file.clone(),
        })
    }

    /// Posts one JSON report.
    pub async fn send(&self, body: Vec<u8>) -> Result<Outcome, PushError> {
        let (outcome, _) = self.post(&self.metrics, "application/json", body).await?;
        Ok(outcome)
    }

    /// Posts one NDJSON batch of log lines. A stored batch comes with the portal's count of
    /// new and already stored lines; `None` when a 2xx answer does not hold that count (a
    /// proxy answering for the portal, say), which says nothing about what was stored.
    pub async fn send_logs(
        &self,
        body: Vec<u8>,
    ) -> Result<(Outcome, Option<IngestAck>), PushError> {
        let (outcome, answer) = self.post(&self.logs, "application/x-ndjson", body).await?;
        let ack = match outcome {
            Outcome::Stored => serde_json::from_slice(&answer).ok(),
            _ => None,
        };
        Ok((outcome, ack))
    }

    /// Posts `body` with the host's token; the outcome, and the body of a 2xx answer.
    async fn post(
        &self,
        endpoint: &reqwest::Url,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Result<(Outcome, Vec<u8>), PushError> {
        let token = std::fs::read_to_string(&self.token_file)
            .map_err(|e| PushError::file(&self.token_file, e))?;
        let response = self
            .http
            .post(endpoint.clone())
            .bearer_auth(token.trim())
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(e) => {
                let reason = error_chain(&e);
                return Ok((Outcome::Unreachable { reason }, Vec::new()));
            }
        };
        let status = response.status();
        if status.is_success() {
            return match response.bytes().await {
                Ok(answer) => Ok((Outcome::Stored, answer.to_vec())),
                // Cut off mid-answer: whether the portal stored it is unknown, so it is sent
                // again, which numbered log lines and reports make harmless.
                Err(e) => Ok((
                    Outcome::Unreachable {
                        reason: error_chain(&e),
                    },
                    Vec::new(),
                )),
            };
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(parse_retry_after);
        let code = response
            .json::<ErrorBody>()
            .await
            .ok()
            .map(|body| body.error);
        let outcome = match status {
            StatusCode::BAD_REQUEST
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNPROCESSABLE_ENTITY => Outcome::Rejected {
                status: status.as_u16(),
                code,
            },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Outcome::Unauthorized { code },
            _ => Outcome::RetryLater {
                after: retry_after,
                status: status.as_u16(),
            },
        };
        Ok((outcome, Vec::new()))
    }
}

/// Tokens travel in a header, so plain HTTP is only accepted to the host itself.
fn check_scheme(url: &reqwest::Url) -> Result<(), PushError> {
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        scheme => Err(PushError::Config(format!(
            "portal URL must be https:// (http:// only to loopback), not {scheme}://"
        ))),
    }
}

/// `Retry-After` in seconds or as an HTTP date.
fn parse_retry_after(value: &header::HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// An error with its causes, one after the other.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let secs = header::HeaderValue::from_static("120");
        assert_eq!(parse_retry_after(&secs), Some(Duration::from_secs(120)));
        let past = header::HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after(&header::HeaderValue::from_static("soon")),
            None
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let ok = [
            "https://portal.example",
            "http://127.0.0.1:8080",
            "http://[::1]:1",
            "http://localhost",
        ];
        for url in ok {
            assert!(check_scheme(&url.parse().unwrap()).is_ok(), "{url}");
        }
        let err = check_scheme(&"http://portal.example".parse().unwrap()).unwrap_err();
        assert!(err.to_string().contains("must be https"));
    }
}
