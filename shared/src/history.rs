//! Login history read from hosts' secure logs: a person's own, and the auditors' search.

use serde::{Deserialize, Serialize};

/// Every kind of event the portal stores; a search may name only these.
pub const EVENT_KINDS: &[&str] = &[
    "accepted",
    "failed",
    "certificate_accepted",
    "no_authorized_principal",
    "certificate_invalid",
    "key_revoked",
    "invalid_user",
    "connection_closed",
    "received_disconnect",
    "disconnected",
    "session_opened",
    "session_closed",
    "sshd_other",
    "other",
];

/// One stored line with what was read from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEventView {
    pub id: i64,
    /// When it happened, by the host's clock (RFC 3339, UTC).
    pub event_at: String,
    /// When the portal received it.
    pub received_at: String,
    pub host: String,
    /// `accepted`, `failed`, `invalid_user`, `disconnected`, ... or `other`.
    pub kind: String,
    /// The account logged in to (on a shared account, `root`).
    pub username: Option<String>,
    pub src_ip: Option<String>,
    pub src_port: Option<i32>,
    pub method: Option<String>,
    pub key_type: Option<String>,
    pub key_fingerprint: Option<String>,
    pub key_id: Option<String>,
    /// Decimal; serials are unsigned 64-bit.
    pub serial: Option<String>,
    pub ca_fingerprint: Option<String>,
    pub certificate_id: Option<i64>,
    /// The person behind it.
    pub person: Option<String>,
    /// `exact`, `inferred`, `suspicious`, `unattributed` or `non_ca`.
    pub attribution: Option<String>,
    /// Whether the security team should look at it.
    pub flagged: bool,
    /// sshd's reason for a refusal.
    pub reason: Option<String>,
    /// A refusal in plain words.
    pub explanation: Option<String>,
    /// Seconds the host's clock is off, when beyond the limit.
    pub skew_secs: Option<i32>,
    pub flags: Vec<String>,
    pub raw: String,
    /// For an accepted login: when its connection ended, and how long it lasted.
    pub ended_at: Option<String>,
    pub duration_secs: Option<i64>,
    /// For an accepted login: failed attempts on the same connection before it.
    pub failures_before: Option<i64>,
}

/// One page of events, newest first; `next` fetches the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    pub events: Vec<LogEventView>,
    pub next: Option<String>,
}
