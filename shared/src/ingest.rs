//! Log lines pushed to the portal over HTTP, and the portal's answer.
//!
//! `POST /api/ingest/logs` takes newline-delimited JSON, one [`LogLine`] per line, with the
//! host's bearer token. Field names follow what common shippers send (Vector's `message` and
//! `timestamp`, Fluent Bit's `log` and `date`), so they can post without a transform.

use serde::{Deserialize, Serialize};

/// One log line as a shipper sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The sender's stream (a file, a journal cursor's origin); with `seq`, it makes a resent
    /// line recognisable, so that it is stored once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// The line's position in its stream, increasing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// The line: a whole syslog message (`<PRI>...`) or what the program wrote.
    #[serde(alias = "log", alias = "MESSAGE")]
    pub message: String,
    /// When the line was written (RFC 3339), when the sender knows it.
    #[serde(
        default,
        alias = "date",
        alias = "time",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<String>,
    /// The program that wrote the line (`sshd`), when `message` is not a syslog message.
    #[serde(default, alias = "appname", skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    /// The writing process, when `message` is not a syslog message.
    #[serde(default, alias = "procid", skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The host name the sender claims; kept as data, never used as the host's identity.
    #[serde(default, alias = "host", skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

/// The answer to an accepted batch, sent only once it is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestAck {
    /// Lines stored by this request.
    pub accepted: u64,
    /// Lines already stored by an earlier request (same stream and sequence number).
    pub duplicates: u64,
}

/// A host that sends logs, with its ingest health, as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostView {
    pub id: i64,
    pub name: String,
    /// Source addresses its syslog arrives from.
    pub addresses: Vec<String>,
    pub created_at: String,
    pub created_by: String,
    /// When a line from it was last stored (RFC 3339).
    pub last_seen_at: Option<String>,
    /// The newest event time among its stored lines.
    pub last_event_at: Option<String>,
    /// Seconds between its newest event and when that was stored, roughly its lag.
    pub lag_secs: Option<i64>,
    pub lines_total: i64,
    pub rejected_total: i64,
    pub tokens: Vec<TokenView>,
}

/// A host token, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: i64,
    /// The token's first characters.
    pub hint: String,
    pub created_at: String,
    pub created_by: String,
    pub revoked_at: Option<String>,
}

/// `POST /api/admin/hosts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewHost {
    pub name: String,
    #[serde(default)]
    pub addresses: Vec<String>,
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub id: i64,
    pub host_id: i64,
    pub token: String,
    pub hint: String,
    /// Tokens of the host revoked by this call (a rotation).
    pub revoked: u64,
}
