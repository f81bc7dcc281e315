//! Tying the lines of one sshd connection together.
//!
//! Each connection has a process of its own, which writes all its lines. sshd writes why it
//! refused a certificate (`Certificate invalid: expired`, `... does not contain an authorized
//! principal`, `... revoked by file`) on a line of its own, just before the `Failed publickey`
//! line that names the key; the reason is remembered per host and process for a short while
//! and given to that failure. The failures are counted per process too, and a login is given
//! the count of those before it, which its session keeps.
//!
//! This memory is the portal's own: lines of one connection that reach two portal instances,
//! or arrive on both sides of a restart, are not tied together.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::event::EventRow;

/// A reason older than this belongs to no failure that is still to come.
const KEEP_REASON_FOR: Duration = Duration::seconds(30);
/// Failures older than this are not counted against a login (sshd's LoginGraceTime is at
/// most a few minutes).
const KEEP_FAILURES_FOR: Duration = Duration::minutes(10);
/// Bound on each kind of remembered state, however many connections are open at once.
const MAX_PENDING: usize = 10_000;

/// A connection's process: host and pid.
type Connection = (i64, i32);

#[derive(Default)]
pub struct Correlator {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    reasons: HashMap<Connection, (String, DateTime<Utc>)>,
    /// Failed attempts so far, and when the last one arrived.
    failures: HashMap<Connection, (i64, DateTime<Utc>)>,
}

impl Correlator {
    /// Carries reasons forward to the failures they explain and failure counts to the logins
    /// they precede, in the order lines arrived.
    pub fn apply(&self, rows: &mut [EventRow]) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows.iter_mut() {
            let Some(pid) = row.pid else { continue };
            let key = (row.host_id, pid);
            match row.kind {
                "no_authorized_principal" | "certificate_invalid" | "key_revoked" => {
                    if let Some(reason) = &row.reason {
                        let at = row.received_at;
                        remember(
                            &mut state.reasons,
                            key,
                            (reason.clone(), at),
                            at - KEEP_REASON_FOR,
                        );
                    }
                }
                "failed" | "connection_closed" | "accepted" => {
                    if let Some((reason, at)) = state.reasons.remove(&key)
                        && row.received_at - at <= KEEP_REASON_FOR
                        && row.kind != "accepted"
                    {
                        row.reason.get_or_insert(reason);
                    }
                    state.count(row, key);
                }
                "disconnected" => {
                    state.failures.remove(&key);
                }
                _ => {}
            }
        }
    }
}

impl State {
    /// Counts by the lines' own times: a connection's lines all come from one host's clock.
    fn count(&mut self, row: &mut EventRow, key: Connection) {
        let at = row.event_at;
        let earlier = self
            .failures
            .remove(&key)
            .filter(|(_, last)| at - *last <= KEEP_FAILURES_FOR)
            .map_or(0, |(count, _)| count);
        match row.kind {
            "failed" => remember(
                &mut self.failures,
                key,
                (earlier + 1, at),
                at - KEEP_FAILURES_FOR,
            ),
            "accepted" => row.failures_before = Some(earlier),
            _ => {}
        }
    }
}

/// Inserts `value`, first forgetting entries older than `cutoff` when the map is full; drops
/// `value` when it is still full.
fn remember<V>(
    map: &mut HashMap<Connection, (V, DateTime<Utc>)>,
    key: Connection,
    value: (V, DateTime<Utc>),
    cutoff: DateTime<Utc>,
) {
    if map.len() >= MAX_PENDING {
        map.retain(|_, (_, at)| *at >= cutoff);
    }
    if map.len() < MAX_PENDING {
        map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use opsportal_logparse::syslog;

    use super::*;
    use crate::ingest::event::{Origin, Transport};
    use crate::ingest::hosts::HostRef;

    fn row(pid: u32, received_at: DateTime<Utc>, message: &str) -> EventRow {
        let host = HostRef {
            id: 1,
            name: "web01".into(),
        };
        let origin = Origin {
            host: &host,
            transport: Transport::Tcp,
            received_at,
            truncated: false,
            skew_limit_secs: 3600,
        };
        let line = format!(
            "<38>1 {} web01 sshd {pid} - - {message}",
            received_at.to_rfc3339()
        );
        let parsed = syslog::parse(line.as_bytes(), received_at, syslog::utc());
        EventRow::from_syslog(&origin, parsed, line)
    }

    const FAILED: &str = "Failed publickey for root from 10.0.0.1 port 5000 ssh2: ED25519 SHA256:x";
    const ACCEPTED: &str =
        "Accepted publickey for root from 10.0.0.1 port 5000 ssh2: ED25519 SHA256:y";

    #[test]
    fn a_login_gets_its_own_processes_failures_across_batches() {
        let correlator = Correlator::default();
        let now = Utc::now();
        let mut first = vec![row(10, now, FAILED), row(11, now, FAILED)];
        correlator.apply(&mut first);
        let mut second = vec![
            row(10, now, FAILED),
            row(10, now, ACCEPTED),
            row(11, now, ACCEPTED),
            row(12, now, ACCEPTED),
        ];
        correlator.apply(&mut second);
        let counts: Vec<_> = second.iter().map(|r| (r.kind, r.failures_before)).collect();
        assert_eq!(
            counts,
            [
                ("failed", None),
                ("accepted", Some(2)),
                ("accepted", Some(1)),
                ("accepted", Some(0)),
            ]
        );
    }

    #[test]
    fn old_failures_and_those_of_an_ended_connection_do_not_count() {
        let correlator = Correlator::default();
        let now = Utc::now();
        let long_ago = now - Duration::minutes(11);
        let mut rows = vec![
            row(20, long_ago, FAILED),
            row(20, now, ACCEPTED),
            row(21, now, FAILED),
            row(21, now, "Connection closed by 10.0.0.1 port 5000 [preauth]"),
            row(21, now, ACCEPTED),
        ];
        correlator.apply(&mut rows);
        assert_eq!(rows[1].failures_before, Some(0));
        assert_eq!(rows[4].failures_before, Some(0));
    }

    #[test]
    fn a_refusal_reason_goes_to_the_failure_after_it() {
        let correlator = Correlator::default();
        let now = Utc::now();
        let mut rows = vec![
            row(30, now, "error: Certificate invalid: expired"),
            row(30, now, FAILED),
        ];
        correlator.apply(&mut rows);
        assert_eq!(rows[0].kind, "certificate_invalid");
        assert_eq!(rows[1].reason.as_deref(), rows[0].reason.as_deref());
        assert!(rows[1].reason.is_some());
    }
}
