//! Ingest counters, served at `/metrics` in Prometheus' text format.
//!
//! Labels come from fixed sets chosen in the code (a transport, a rejection reason, a parse
//! error kind), never from what senders write, so the number of series stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    accepted: Mutex<BTreeMap<&'static str, u64>>,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    parse_errors: Mutex<BTreeMap<&'static str, u64>>,
    metric_rejected: Mutex<BTreeMap<&'static str, u64>>,
    /// Host health reports stored, and those received again and stored once.
    pub metric_reports: AtomicU64,
    pub metric_duplicates: AtomicU64,
    pub duplicates: AtomicU64,
    pub hostname_mismatch: AtomicU64,
    pub clock_skew: AtomicU64,
    pub truncated: AtomicU64,
    pub short_frames: AtomicU64,
    pub store_failures: AtomicU64,
    /// Milliseconds between receiving and storing, for the last stored batch.
    pub lag_ms: AtomicU64,
}

fn bump(map: &Mutex<BTreeMap<&'static str, u64>>, key: &'static str, by: u64) {
    *map.lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key)
        .or_default() += by;
}

impl Metrics {
    pub fn accepted(&self, transport: &'static str, lines: u64) {
        bump(&self.accepted, transport, lines);
    }

    pub fn rejected(&self, reason: &'static str, lines: u64) {
        bump(&self.rejected, reason, lines);
    }

    pub fn parse_error(&self, kind: &'static str) {
        bump(&self.parse_errors, kind, 1);
    }

    /// A host health report refused, by reason.
    pub fn metric_rejected(&self, reason: &'static str) {
        bump(&self.metric_rejected, reason, 1);
    }

    pub fn rejected_count(&self, reason: &str) -> u64 {
        let map = self.rejected.lock().unwrap_or_else(|e| e.into_inner());
        map.get(reason).copied().unwrap_or(0)
    }

    /// The counters in Prometheus' text exposition format, with `queued`, the syslog lines
    /// received and not yet stored.
    pub fn render(&self, queued: usize) -> String {
        let mut out = String::new();
        labelled(
            &mut out,
            "opsportal_ingest_accepted_total",
            "Lines stored, by transport.",
            "transport",
            &self.accepted,
        );
        labelled(
            &mut out,
            "opsportal_ingest_rejected_total",
            "Lines or batches refused, by reason.",
            "reason",
            &self.rejected,
        );
        labelled(
            &mut out,
            "opsportal_ingest_parse_error_total",
            "Lines stored raw because their syslog header could not be read, by kind.",
            "kind",
            &self.parse_errors,
        );
        labelled(
            &mut out,
            "opsportal_ingest_metric_rejected_total",
            "Host health reports refused, by reason.",
            "reason",
            &self.metric_rejected,
        );
        let counters = [
            (
                "opsportal_ingest_metric_reports_total",
                "Host health reports stored.",
                &self.metric_reports,
            ),
            (
                "opsportal_ingest_metric_duplicate_total",
                "Host health reports received again and stored once.",
                &self.metric_duplicates,
            ),
            (
                "opsportal_ingest_duplicate_total",
                "Lines received again and stored once.",
                &self.duplicates,
            ),
            (
                "opsportal_ingest_hostname_mismatch_total",
                "Lines whose HOSTNAME differs from the sending host's name.",
                &self.hostname_mismatch,
            ),
            (
                "opsportal_ingest_clock_skew_total",
                "Lines whose own time is far from when they arrived.",
                &self.clock_skew,
            ),
            (
                "opsportal_ingest_oversize_total",
                "Lines cut at the length limit.",
                &self.truncated,
            ),
            (
                "opsportal_ingest_short_frame_total",
                "Connections that closed in the middle of a message.",
                &self.short_frames,
            ),
            (
                "opsportal_ingest_store_failure_total",
                "Batches the database refused; they are written again.",
                &self.store_failures,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP opsportal_ingest_queued_lines Lines received over syslog, not yet stored.\n\
             # TYPE opsportal_ingest_queued_lines gauge\nopsportal_ingest_queued_lines {}",
            queued
        );
        let _ = writeln!(
            out,
            "# HELP opsportal_ingest_lag_seconds Time from receiving to storing the last batch.\n\
             # TYPE opsportal_ingest_lag_seconds gauge\nopsportal_ingest_lag_seconds {:.3}",
            self.lag_ms.load(Ordering::Relaxed) as f64 / 1000.0
        );
        out
    }
}

fn labelled(
    out: &mut String,
    name: &str,
    help: &str,
    label: &str,
    values: &Mutex<BTreeMap<&'static str, u64>>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    let values = values.lock().unwrap_or_else(|e| e.into_inner());
    for (key, value) in values.iter() {
        let _ = writeln!(out, "{name}{{{label}=\"{key}\"}} {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_as_prometheus_text() {
        let metrics = Metrics::default();
        metrics.accepted("tcp", 3);
        metrics.rejected("invalid_token", 1);
        metrics.rejected("invalid_token", 1);
        metrics.duplicates.fetch_add(2, Ordering::Relaxed);
        metrics.metric_rejected("out_of_range");
        let text = metrics.render(7);
        assert!(text.contains("opsportal_ingest_accepted_total{transport=\"tcp\"} 3\n"));
        assert!(text.contains("opsportal_ingest_rejected_total{reason=\"invalid_token\"} 2\n"));
        assert!(text.contains("opsportal_ingest_duplicate_total 2\n"));
        assert!(
            text.contains("opsportal_ingest_metric_rejected_total{reason=\"out_of_range\"} 1\n")
        );
        assert!(text.contains("# TYPE opsportal_ingest_lag_seconds gauge\n"));
        assert!(text.contains("opsportal_ingest_queued_lines 7\n"));
        assert_eq!(metrics.rejected_count("invalid_token"), 2);
    }
}
