//! Sending a batch of lines to the portal, and what its answer means for the checkpoint.
//!
//! Lines go as NDJSON `LogLine`s, numbered from the checkpoint's next sequence number, with
//! their prefix read into the portal's fields ([`super::line`]). Only the portal's
//! acknowledgement (`{"accepted": N, "duplicates": M}`, sent once the batch is committed)
//! lets the checkpoint move; every other answer leaves the lines in the file, to be sent
//! again with the same numbers.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeZone};
use opsportal_shared::ingest::{IngestAck, LogLine};

use super::TailError;
use super::line;
use super::reader::{Limits, Line};
use crate::push::{Outcome, PortalClient};

/// What became of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Committed by the portal: the checkpoint may move past these lines.
    Stored(IngestAck),
    /// Refused as it is (too large, or not taken as log lines): send less.
    Refused { status: u16, code: Option<String> },
    /// Nothing is known to be stored: send the same lines again, after `after` when the
    /// portal said so.
    Retry { after: Option<Duration> },
}

/// Sends the batches of one stream.
#[derive(Debug, Clone)]
pub struct Shipper {
    client: PortalClient,
    stream: String,
}

impl Shipper {
    pub fn new(client: PortalClient, stream: String) -> Self {
        Self { client, stream }
    }

    /// The NDJSON body for `lines`, the first numbered `first_seq`; `now` is the host's
    /// clock in its own zone, for traditional timestamps.
    pub fn body<Tz: TimeZone>(
        &self,
        first_seq: u64,
        lines: &[Line],
        now: &DateTime<Tz>,
    ) -> Result<Vec<u8>, TailError> {
        let mut body = Vec::new();
        for (seq, line) in (first_seq..).zip(lines) {
            let parsed = line::parse(&line.text, now);
            let log_line = LogLine {
                stream: Some(self.stream.clone()),
                seq: Some(seq),
                message: parsed.message.to_owned(),
                timestamp: parsed
                    .timestamp
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
                program: parsed.program.map(str::to_owned),
                pid: parsed.pid,
                hostname: parsed.hostname.map(str::to_owned),
            };
            serde_json::to_writer(&mut body, &log_line)?;
            body.push(b'\n');
        }
        Ok(body)
    }

    /// Posts one batch of `lines` lines and reads the answer.
    pub async fn send(&self, body: Vec<u8>, lines: usize) -> Result<Delivery, TailError> {
        let stream = self.stream.as_str();
        let (outcome, ack) = self.client.send_logs(body).await?;
        Ok(match outcome {
            Outcome::Stored => match ack {
                Some(ack) => Delivery::Stored(ack),
                None => {
                    tracing::warn!(
                        stream,
                        lines,
                        "the portal's answer holds no count of stored lines; sending again"
                    );
                    Delivery::Retry { after: None }
                }
            },
            Outcome::Rejected { status, code } => Delivery::Refused { status, code },
            Outcome::Unauthorized { code } => {
                tracing::error!(
                    stream,
                    code = code.as_deref(),
                    "the portal refused the host token; lines wait in the file"
                );
                Delivery::Retry { after: None }
            }
            Outcome::RetryLater { after, status } => {
                tracing::info!(
                    stream,
                    status,
                    retry_after_secs = after.map(|d| d.as_secs()),
                    "portal busy, lines wait in the file"
                );
                Delivery::Retry {
                    after: after.map(|after| after.min(MAX_RETRY_AFTER)),
                }
            }
            Outcome::Unreachable { reason } => {
                tracing::warn!(stream, %reason, "portal unreachable, lines wait in the file");
                Delivery::Retry { after: None }
            }
        })
    }
}

/// What to send after the portal refused a batch as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shrunk {
    /// Half as many lines and bytes per batch.
    Batches,
    /// One line refused as too long: lines are cut shorter.
    Lines,
    /// One line refused however short: it is passed over, so that the rest still goes.
    Skip,
}

/// Minimum of the portal's `ingest.max_line_bytes`: no line this short is too long.
const MIN_LINE_BYTES: usize = 256;

/// Adapts `limits` to a refusal (`status`) of `lines`, so that the portal's own limits are
/// found in a few halvings. A portal never refuses a line for its content, since every line
/// is valid JSON; a refusal of a single short line means something else is wrong, and the
/// line is skipped rather than blocking every line behind it.
pub fn shrink(limits: &mut Limits, status: u16, lines: &[Line]) -> Shrunk {
    if lines.len() > 1 {
        let bytes: usize = lines.iter().map(|l| l.text.len()).sum();
        limits.batch_lines = (lines.len() / 2).max(1);
        limits.batch_bytes = (bytes / 2).max(1);
        return Shrunk::Batches;
    }
    let length = lines.first().map_or(0, |l| l.text.len());
    if status == 413 && length > MIN_LINE_BYTES {
        limits.max_line_bytes = (length / 2).max(MIN_LINE_BYTES);
        return Shrunk::Lines;
    }
    Shrunk::Skip
}

/// A portal asking for more than this is taken to mean "soon" rather than "never".
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// Waits between attempts that failed: doubling from one second to a minute, each with up
/// to a quarter more, so that a fleet whose portal comes back does not call all at once.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(60);

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST_WAIT }
    }
}

impl Backoff {
    /// The wait after one more failure.
    pub fn failed(&mut self) -> Duration {
        let wait = self.next;
        self.next = (self.next * 2).min(LONGEST_WAIT);
        wait + wait.mul_f64(jitter() * 0.25)
    }

    pub fn reset(&mut self) {
        self.next = FIRST_WAIT;
    }
}

/// A number in [0, 1) that differs between hosts and attempts; not for secrets.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    f64::from(nanos % 1_000_000) / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::FixedOffset;

    use super::*;
    use crate::push::PortalSettings;

    fn shipper() -> Shipper {
        let settings = PortalSettings {
            url: "http://127.0.0.1:9".parse().unwrap(),
            token_file: "/nonexistent".into(),
            ca_file: None,
            timeout: Duration::from_secs(1),
        };
        Shipper::new(
            PortalClient::new(&settings).unwrap(),
            "agent:/var/log/auth.log#0a1b2c3d".into(),
        )
    }

    #[test]
    fn lines_are_numbered_in_order_with_their_prefix_read() {
        let lines = [
            Line {
                text: "Dec  4 10:00:00 web01 sshd[42]: Connection closed by 10.0.0.9 port 5000"
                    .into(),
                cut: 0,
            },
            Line {
                text: "no prefix here".into(),
                cut: 0,
            },
        ];
        let now = DateTime::parse_from_rfc3339("2026-12-04T12:00:00+01:00").unwrap();
        let zone: FixedOffset = *now.offset();
        let body = shipper()
            .body(41, &lines, &now.with_timezone(&zone))
            .unwrap();
        let text = String::from_utf8(body).unwrap();
        let sent: Vec<LogLine> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            sent[0],
            LogLine {
                stream: Some("agent:/var/log/auth.log#0a1b2c3d".into()),
                seq: Some(41),
                message: "Connection closed by 10.0.0.9 port 5000".into(),
                timestamp: Some("2026-12-04T10:00:00+01:00".into()),
                program: Some("sshd".into()),
                pid: Some(42),
                hostname: Some("web01".into()),
            }
        );
        assert_eq!(sent[1].seq, Some(42));
        assert_eq!(sent[1].message, "no prefix here");
        assert_eq!(
            (sent[1].program.as_deref(), sent[1].timestamp.as_deref()),
            (None, None)
        );
    }

    #[test]
    fn refusals_halve_the_batch_then_the_line_then_skip_it() {
        let line = |len: usize| Line {
            text: "x".repeat(len),
            cut: 0,
        };
        let mut limits = Limits {
            batch_lines: 1000,
            batch_bytes: 100_000,
            max_line_bytes: 8192,
        };
        let batch: Vec<Line> = (0..10).map(|_| line(100)).collect();
        assert_eq!(shrink(&mut limits, 413, &batch), Shrunk::Batches);
        assert_eq!((limits.batch_lines, limits.batch_bytes), (5, 500));

        assert_eq!(shrink(&mut limits, 413, &[line(4000)]), Shrunk::Lines);
        assert_eq!(limits.max_line_bytes, 2000);
        assert_eq!(shrink(&mut limits, 413, &[line(300)]), Shrunk::Lines);
        assert_eq!(
            limits.max_line_bytes, 256,
            "never below the portal's least limit"
        );
        assert_eq!(shrink(&mut limits, 413, &[line(256)]), Shrunk::Skip);
        assert_eq!(shrink(&mut limits, 400, &[line(4000)]), Shrunk::Skip);
    }

    #[test]
    fn backoff_doubles_to_a_minute_and_starts_over() {
        let mut backoff = Backoff::default();
        let waits: Vec<Duration> = (0..8).map(|_| backoff.failed()).collect();
        for (wait, base) in waits.iter().zip([1, 2, 4, 8, 16, 32, 60, 60]) {
            let base = Duration::from_secs(base);
            assert!(
                *wait >= base && *wait <= base.mul_f64(1.25),
                "{wait:?} for {base:?}"
            );
        }
        backoff.reset();
        assert!(backoff.failed() < Duration::from_millis(1250));
    }

    #[tokio::test]
    async fn an_unreachable_portal_means_the_same_lines_again() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "t").unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let settings = PortalSettings {
            url: format!("http://127.0.0.1:{port}").parse().unwrap(),
            token_file: token,
            ca_file: None,
            timeout: Duration::from_secs(1),
        };
        let shipper = Shipper::new(PortalClient::new(&settings).unwrap(), "s".into());
        let delivery = shipper.send(b"{}\n".to_vec(), 1).await.unwrap();
        assert_eq!(delivery, Delivery::Retry { after: None });
    }
}
