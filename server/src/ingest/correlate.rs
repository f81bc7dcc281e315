//! Tying the lines of one sshd connection together.
//!
//! sshd writes why it refused a certificate (`Certificate invalid: expired`, `... does not
//! contain an authorized principal`, `... revoked by file`) on a line of its own, just before
//! the `Failed publickey` line that names the key, both from the connection's process. The
//! reason is remembered per host and process for a short while and given to that failure.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::event::EventRow;

/// A reason older than this belongs to no failure that is still to come.
const KEEP_FOR: Duration = Duration::seconds(30);
/// Bound on remembered reasons, however many connections fail at once.
const MAX_PENDING: usize = 10_000;

/// A connection's process: host and pid.
type Connection = (i64, i32);

#[derive(Default)]
pub struct Correlator {
    pending: Mutex<HashMap<Connection, (String, DateTime<Utc>)>>,
}

impl Correlator {
    /// Carries reasons forward to the failures they explain, in the order lines arrived.
    pub fn apply(&self, rows: &mut [EventRow]) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        for row in rows.iter_mut() {
            let Some(pid) = row.pid else { continue };
            let key = (row.host_id, pid);
            match row.kind {
                "no_authorized_principal" | "certificate_invalid" | "key_revoked" => {
                    if let Some(reason) = &row.reason {
                        if pending.len() >= MAX_PENDING {
                            let cutoff = row.received_at - KEEP_FOR;
                            pending.retain(|_, (_, at)| *at >= cutoff);
                        }
                        if pending.len() < MAX_PENDING {
                            pending.insert(key, (reason.clone(), row.received_at));
                        }
                    }
                }
                "failed" | "connection_closed" | "accepted" => {
                    if let Some((reason, at)) = pending.remove(&key)
                        && row.received_at - at <= KEEP_FOR
                        && row.kind != "accepted"
                    {
                        row.reason.get_or_insert(reason);
                    }
                }
                _ => {}
            }
        }
    }
}
