//! Who logged in where: the stored sshd lines, searched, explained and exported.
//!
//! [`filter`] checks what a search asks for, [`query`] runs it, [`explain`] turns a refusal
//! into a sentence, and [`export`] writes results as files.

pub mod explain;
pub mod export;
pub mod filter;
pub mod query;

use opsportal_shared::history::LogEventView;

use self::query::{EventRow, FLAGGED};

/// The API's view of a stored event.
pub fn view(row: &EventRow) -> LogEventView {
    LogEventView {
        id: row.event_id,
        event_at: row.event_at.to_rfc3339(),
        received_at: row.received_at.to_rfc3339(),
        host: row.host.clone(),
        kind: row.kind.clone(),
        username: row.username.clone(),
        src_ip: row.src_ip.clone(),
        src_port: row.src_port,
        method: row.method.clone(),
        key_type: row.key_type.clone(),
        key_fingerprint: row.key_fingerprint.clone(),
        key_id: row.key_id.clone(),
        serial: row.serial.clone(),
        ca_fingerprint: row.ca_fingerprint.clone(),
        certificate_id: row.certificate_id,
        person: row.person.clone(),
        attribution: row.attribution.clone(),
        flagged: row
            .attribution
            .as_deref()
            .is_some_and(|a| FLAGGED.contains(&a)),
        reason: row.reason.clone(),
        explanation: explain::explain(row),
        skew_secs: row.skew_secs,
        flags: row.flags.clone(),
        raw: row.raw.clone(),
        ended_at: row.ended_at.map(|t| t.to_rfc3339()),
        duration_secs: row.ended_at.map(|end| (end - row.event_at).num_seconds()),
        failures_before: row.failures_before,
    }
}
