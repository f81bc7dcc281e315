//! The rules over a host's numbers: listen queues, descriptors, IPVS, and what the agent
//! could not read. Each finding says what was seen, why it matters and what to do, in words
//! an on-call engineer can act on without opening the code.
//!
//! Thresholds come from `[health]` ([`HealthConfig`]). sshd's rules are in [`super::ssh_rules`].

use opsportal_shared::health::{Finding, HostReport, IpvsReport, Severity};

use super::rates::{self, Change, FdTrend};
use crate::config::HealthConfig;

/// What the rules look at: the report, and what it says together with the one before.
pub struct Observed<'a> {
    pub report: &'a HostReport,
    /// ListenOverflows since the previous report, when there was one.
    pub overflows: Option<Change>,
    /// ListenDrops since the previous report.
    pub drops: Option<Change>,
    /// Runs of non-falling descriptors, this report included.
    pub trend: &'a FdTrend,
}

pub(super) fn finding(
    rule: &str,
    severity: Severity,
    subject: Option<String>,
    title: String,
    explanation: String,
    remedy: &str,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        subject,
        title,
        explanation,
        remedy: remedy.into(),
    }
}

/// Every finding from the numbers of one report.
pub fn evaluate(observed: &Observed<'_>, config: &HealthConfig) -> Vec<Finding> {
    let mut findings = Vec::new();
    listen_queues(observed, config, &mut findings);
    descriptors(observed, config, &mut findings);
    ipvs(observed.report, config, &mut findings);
    for problem in &observed.report.problems {
        findings.push(finding(
            "collection_problem",
            Severity::Warning,
            Some(problem.source.clone()),
            format!("The agent could not read {}", problem.source),
            format!(
                "{} The rest of the report was sent; this part is unknown.",
                problem.message
            ),
            "Run the agent as root (or with CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH) and check \
             that the file exists on this host.",
        ));
    }
    findings
}

const QUEUE_REMEDY: &str = "Raise the listen backlog in the service and net.core.somaxconn, \
    or find why accept() lags (a blocked event loop, too few workers).";

fn listen_queues(observed: &Observed<'_>, config: &HealthConfig, out: &mut Vec<Finding>) {
    for listener in &observed.report.listeners {
        // An idle socket with backlog 0 has a queue of 0: nothing waits.
        if listener.accept_queue == 0 || listener.accept_queue < listener.backlog {
            continue;
        }
        let owner = listener
            .process
            .as_ref()
            .map(|p| format!(" ({} pid {})", p.comm, p.pid))
            .unwrap_or_default();
        out.push(finding(
            "accept_queue_full",
            Severity::Critical,
            Some(listener.local.clone()),
            format!("Accept queue full on {}{owner}", listener.local),
            format!(
                "{} connections wait to be accepted against a backlog of {}. Once the queue is \
                 full the kernel drops new handshakes, and clients see timeouts.",
                listener.accept_queue, listener.backlog
            ),
            QUEUE_REMEDY,
        ));
    }
    let overflowing = observed.overflows.and_then(|change| {
        let rate = change.per_sec?;
        (change.delta > 0 && rate > config.overflow_rate_per_sec).then_some((change.delta, rate))
    });
    if let Some((delta, rate)) = overflowing {
        let drops = observed
            .drops
            .and_then(|d| d.per_sec)
            .map(|r| format!(" ({r:.1} listen drops per second in all)"))
            .unwrap_or_default();
        out.push(finding(
            "listen_overflows",
            Severity::Critical,
            None,
            "Connections dropped: listen queues overflowing".into(),
            format!(
                "ListenOverflows rose by {delta} since the previous report, {rate:.1} per \
                 second{drops}: a listener's accept queue was full and handshakes were dropped."
            ),
            QUEUE_REMEDY,
        ));
    }
}

const FD_REMEDY: &str = "Raise LimitNOFILE in the service's unit (or its ulimit -n), or look \
    for a descriptor leak (ls -l /proc/<pid>/fd).";

fn descriptors(observed: &Observed<'_>, config: &HealthConfig, out: &mut Vec<Finding>) {
    for process in &observed.report.fds.top {
        let name = format!("{} (pid {})", process.process.comm, process.process.pid);
        if let Some(limit) = process.soft_limit.filter(|l| *l > 0) {
            let ratio = process.open_fds as f64 / limit as f64;
            let severity = if ratio >= config.fd_critical_ratio {
                Some(Severity::Critical)
            } else if ratio >= config.fd_warning_ratio {
                Some(Severity::Warning)
            } else {
                None
            };
            if let Some(severity) = severity {
                out.push(finding(
                    "fd_near_limit",
                    severity,
                    Some(name.clone()),
                    format!("{name} is near its descriptor limit"),
                    format!(
                        "{} of {limit} descriptors open ({:.0}%). At the limit, accept() and \
                         open() fail with EMFILE and the service stops taking connections.",
                        process.open_fds,
                        ratio * 100.0
                    ),
                    FD_REMEDY,
                ));
            }
        }
        let rising = rates::run_of(observed.trend, process).filter(|run| {
            run.reports >= config.fd_rising_reports
                && run.last.saturating_sub(run.start) >= config.fd_rising_min_growth
        });
        if let Some(run) = rising {
            out.push(finding(
                "fd_rising",
                Severity::Warning,
                Some(name.clone()),
                format!("{name}: open descriptors rising steadily"),
                format!(
                    "Open descriptors went from {} to {} over the last {} reports without \
                     falling once, as a leak does.",
                    run.start, run.last, run.reports
                ),
                FD_REMEDY,
            ));
        }
    }
    if let Some(system) = observed.report.fds.system.filter(|s| s.max > 0) {
        let ratio = system.allocated as f64 / system.max as f64;
        if ratio >= config.fd_warning_ratio {
            out.push(finding(
                "file_handles_high",
                Severity::Warning,
                None,
                "System file handles nearly exhausted".into(),
                format!(
                    "{} of fs.file-max {} handles allocated ({:.0}%).",
                    system.allocated,
                    system.max,
                    ratio * 100.0
                ),
                "Raise fs.file-max, or find the process holding most descriptors.",
            ));
        }
    }
}

fn ipvs(report: &HostReport, config: &HealthConfig, out: &mut Vec<Finding>) {
    let IpvsReport::Loaded(state) = &report.ipvs else {
        return;
    };
    let Some(connections) = state.connections else {
        return;
    };
    if state.table_size == 0 {
        return;
    }
    let factor = connections as f64 / state.table_size as f64;
    if factor > config.ipvs_conn_factor {
        out.push(finding(
            "ipvs_table_small",
            Severity::Warning,
            None,
            "IPVS connection table too small".into(),
            format!(
                "{connections} connections in a hash table of {} buckets, {factor:.1} per \
                 bucket: every packet walks long chains, which costs CPU on the director.",
                state.table_size
            ),
            "Raise ip_vs.conn_tab_bits (a module option, e.g. options ip_vs conn_tab_bits=20) \
             and reload the module.",
        ));
    }
}

/// Worst first, then by rule and subject, so that the order is stable.
pub fn sort_worst_first(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.subject.cmp(&b.subject))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use opsportal_shared::health::*;

    fn report() -> HostReport {
        HostReport {
            agent_id: "a".into(),
            seq: 1,
            agent_version: "0.1.0".into(),
            hostname: "web01".into(),
            collected_at: "2026-12-04T09:15:02Z".into(),
            interval_secs: 10,
            spool_dropped: 0,
            rejected: 0,
            listeners: vec![Listener {
                local: "127.0.0.1:8080".into(),
                port: 8080,
                accept_queue: 5,
                backlog: 4,
                process: Some(ProcessRef {
                    pid: 42,
                    comm: "app".into(),
                }),
            }],
            tcp: None,
            fds: FdReport {
                system: None,
                top: vec![ProcessFds {
                    process: ProcessRef {
                        pid: 42,
                        comm: "app".into(),
                    },
                    open_fds: 61,
                    soft_limit: Some(64),
                }],
            },
            ipvs: IpvsReport::Loaded(IpvsState {
                version: "1.2.1".into(),
                table_size: 4096,
                connections: Some(20_000),
                services: Vec::new(),
            }),
            ssh: SshFacts::default(),
            problems: Vec::new(),
        }
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn full_queue_overflows_descriptors_and_ipvs_are_found() {
        let report = report();
        let trend = rates::advance(&FdTrend::new(), &report.fds.top);
        let observed = Observed {
            report: &report,
            overflows: Some(rates::change(10, at(0), 30, at(10))),
            drops: None,
            trend: &trend,
        };
        let mut findings = evaluate(&observed, &HealthConfig::default());
        sort_worst_first(&mut findings);
        let rules: Vec<(&str, Severity)> = findings
            .iter()
            .map(|f| (f.rule.as_str(), f.severity))
            .collect();
        assert_eq!(
            rules,
            [
                ("accept_queue_full", Severity::Critical),
                ("fd_near_limit", Severity::Critical),
                ("listen_overflows", Severity::Critical),
                ("ipvs_table_small", Severity::Warning),
            ]
        );
        assert!(findings[0].remedy.contains("net.core.somaxconn"));
        assert!(findings[2].explanation.contains("rose by 20"));
        assert!(findings[3].remedy.contains("conn_tab_bits"));
    }

    #[test]
    fn a_steady_rise_is_a_leak_warning() {
        let mut report = report();
        report.listeners.clear();
        report.ipvs = IpvsReport::NotLoaded;
        let config = HealthConfig {
            fd_rising_reports: 3,
            fd_rising_min_growth: 10,
            ..HealthConfig::default()
        };
        let mut trend = FdTrend::new();
        for open in [10, 15, 25] {
            report.fds.top[0].open_fds = open;
            trend = rates::advance(&trend, &report.fds.top);
        }
        let observed = Observed {
            report: &report,
            overflows: None,
            drops: None,
            trend: &trend,
        };
        let findings = evaluate(&observed, &config);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "fd_rising");
        assert!(findings[0].explanation.contains("from 10 to 25"));
        assert!(findings[0].remedy.contains("LimitNOFILE"));
    }
}
