//! What two consecutive reports of one agent say together: counter rates, and how long each
//! process's open descriptors have gone without falling.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsportal_shared::health::ProcessFds;
use serde::{Deserialize, Serialize};

/// A raw counter's change between two reports.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// How much it grew; a counter that fell was reset (a reboot) and counts from zero.
    pub delta: u64,
    /// Per second of the host's clock; `None` when the reports are not in time order.
    pub per_sec: Option<f64>,
}

/// The change from `previous` at `then` to `current` at `now`.
pub fn change(previous: u64, then: DateTime<Utc>, current: u64, now: DateTime<Utc>) -> Change {
    let delta = if current >= previous {
        current - previous
    } else {
        current
    };
    let secs = (now - then).num_milliseconds() as f64 / 1000.0;
    Change {
        delta,
        per_sec: (secs > 0.0).then(|| delta as f64 / secs),
    }
}

/// One process's run of reports without a fall in open descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdRun {
    /// Open descriptors when the run began.
    pub start: u64,
    /// In the latest report.
    pub last: u64,
    /// Reports in the run, the first included.
    pub reports: u32,
}

/// Runs by process, keyed `pid/comm` so that a reused pid starts afresh.
pub type FdTrend = BTreeMap<String, FdRun>;

fn key(process: &ProcessFds) -> String {
    format!("{}/{}", process.process.pid, process.process.comm)
}

/// The runs after one more report. Processes that left the top list are forgotten.
pub fn advance(previous: &FdTrend, top: &[ProcessFds]) -> FdTrend {
    top.iter()
        .map(|process| {
            let open = process.open_fds;
            let run = match previous.get(&key(process)) {
                Some(run) if open >= run.last => FdRun {
                    start: run.start,
                    last: open,
                    reports: run.reports.saturating_add(1),
                },
                _ => FdRun {
                    start: open,
                    last: open,
                    reports: 1,
                },
            };
            (key(process), run)
        })
        .collect()
}

/// The run of `process` in `trend`.
pub fn run_of<'t>(trend: &'t FdTrend, process: &ProcessFds) -> Option<&'t FdRun> {
    trend.get(&key(process))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsportal_shared::health::ProcessRef;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn rates_per_second_and_resets_count_from_zero() {
        assert_eq!(
            change(100, at(0), 150, at(10)),
            Change {
                delta: 50,
                per_sec: Some(5.0)
            }
        );
        let reset = change(1_000_000, at(0), 30, at(10));
        assert_eq!(reset.delta, 30);
        assert_eq!(reset.per_sec, Some(3.0));
        assert_eq!(change(5, at(10), 5, at(10)).per_sec, None);
        assert_eq!(change(5, at(10), 9, at(0)).per_sec, None);
    }

    fn fds(pid: u32, open: u64) -> ProcessFds {
        ProcessFds {
            process: ProcessRef {
                pid,
                comm: "java".into(),
            },
            open_fds: open,
            soft_limit: Some(1024),
        }
    }

    #[test]
    fn runs_grow_while_descriptors_do_not_fall() {
        let mut trend = FdTrend::new();
        for open in [100, 110, 110, 130] {
            trend = advance(&trend, &[fds(7, open)]);
        }
        let run = run_of(&trend, &fds(7, 0)).unwrap();
        assert_eq!((run.start, run.last, run.reports), (100, 130, 4));

        trend = advance(&trend, &[fds(7, 120), fds(8, 5)]);
        assert_eq!(run_of(&trend, &fds(7, 0)).unwrap().reports, 1);
        trend = advance(&trend, &[fds(8, 6)]);
        assert!(run_of(&trend, &fds(7, 0)).is_none());
        assert_eq!(run_of(&trend, &fds(8, 0)).unwrap().reports, 2);
    }
}
