//! Reading and checking one agent report before anything of it is stored.
//!
//! A report is refused whole, with a message naming the field, when a number cannot be right
//! (a queue of billions, more open descriptors than ten times the limit), when a list is
//! longer than the configured bound, or when a value could not be stored as sent. The agent
//! drops a refused report, so only reports that are wrong in themselves are refused here;
//! anything the database fails at is answered 503 instead, so that it is sent again.

use chrono::{DateTime, Utc};
use opsportal_shared::health::{HostReport, IpvsReport};
use serde_json::Value;

use crate::config::HealthConfig;

/// More than this in a queue or a count is not a real measurement.
const ABSURD: u64 = 1_000_000_000;
/// Pids above this do not exist (the kernel's `pid_max` is at most 2^22).
const MAX_PID: u32 = 1 << 22;
/// Longest strings kept from a report.
const MAX_SHORT_TEXT: usize = 256;
const MAX_LONG_TEXT: usize = 4096;
/// Most entries in the lists that have no setting of their own.
const MAX_OTHER_ITEMS: usize = 1000;

/// Why a report was refused: a reason for the counter and a sentence for the agent's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub reason: &'static str,
    pub message: String,
}

impl Invalid {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// A report that passed every check, with its time read.
#[derive(Debug, Clone)]
pub struct Checked {
    pub report: HostReport,
    pub collected_at: DateTime<Utc>,
}

/// Reads `body` as a report and checks it.
pub fn check(body: &[u8], config: &HealthConfig) -> Result<Checked, Invalid> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| Invalid::new("malformed", format!("The body is not JSON: {e}.")))?;
    if let Some((path, problem)) = bad_number(&value, &mut String::new()) {
        return Err(Invalid::new(
            "out_of_range",
            format!("{path} {problem}; every number must be a whole number of 0 or more."),
        ));
    }
    let report: HostReport = serde_json::from_value(value)
        .map_err(|e| Invalid::new("malformed", format!("The body is not a report: {e}.")))?;
    check_sizes(&report, config)?;
    check_values(&report)?;
    check_texts(&report)?;
    let collected_at = DateTime::parse_from_rfc3339(&report.collected_at)
        .map_err(|_| {
            Invalid::new(
                "bad_time",
                "collected_at must be an RFC 3339 time, e.g. 2026-12-04T09:15:02Z.",
            )
        })?
        .with_timezone(&Utc);
    Ok(Checked {
        report,
        collected_at,
    })
}

/// The first number that is negative or not whole, with its path (`listeners[3].backlog`).
/// IPVS weights are signed in the kernel and left alone.
fn bad_number(value: &Value, path: &mut String) -> Option<(String, &'static str)> {
    match value {
        Value::Number(n) if path.ends_with(".weight") => n
            .as_i64()
            .is_none()
            .then(|| (path.clone(), "is not a whole number")),
        Value::Number(n) if n.is_u64() => None,
        Value::Number(n) if n.is_i64() => Some((path.clone(), "is negative")),
        Value::Number(_) => Some((path.clone(), "is not a whole number")),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = bad_number(item, path);
            path.truncate(len);
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(key);
            let found = bad_number(item, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

fn too_many(field: &str, len: usize, max: usize) -> Result<(), Invalid> {
    if len > max {
        return Err(Invalid::new(
            "too_many",
            format!("{field} holds {len} entries; a report may hold at most {max}."),
        ));
    }
    Ok(())
}

fn check_sizes(report: &HostReport, config: &HealthConfig) -> Result<(), Invalid> {
    too_many("listeners", report.listeners.len(), config.max_listeners)?;
    too_many("fds.top", report.fds.top.len(), config.max_top_processes)?;
    too_many("problems", report.problems.len(), MAX_OTHER_ITEMS)?;
    too_many("ssh.accounts", report.ssh.accounts.len(), MAX_OTHER_ITEMS)?;
    if let Some(ca) = &report.ssh.trusted_user_ca_keys {
        too_many(
            "ssh.trusted_user_ca_keys.keys",
            ca.keys.len(),
            MAX_OTHER_ITEMS,
        )?;
    }
    if let IpvsReport::Loaded(ipvs) = &report.ipvs {
        too_many(
            "ipvs.services",
            ipvs.services.len(),
            config.max_ipvs_services,
        )?;
        for (i, service) in ipvs.services.iter().enumerate() {
            too_many(
                &format!("ipvs.services[{i}].real_servers"),
                service.real_servers.len(),
                MAX_OTHER_ITEMS,
            )?;
        }
    }
    Ok(())
}

fn out_of_range(field: String, why: &str) -> Invalid {
    Invalid::new("out_of_range", format!("{field} {why}."))
}

fn at_most(field: impl FnOnce() -> String, value: u64, max: u64) -> Result<(), Invalid> {
    if value > max {
        return Err(out_of_range(field(), &format!("is above {max}")));
    }
    Ok(())
}

fn check_values(report: &HostReport) -> Result<(), Invalid> {
    if report.interval_secs == 0 || report.interval_secs > 86_400 {
        return Err(out_of_range(
            "interval_secs".into(),
            "must be between 1 and 86400",
        ));
    }
    // Values stored as bigint must fit one; the counts are bounded far lower.
    let big = i64::MAX as u64;
    at_most(|| "seq".into(), report.seq, big)?;
    at_most(|| "spool_dropped".into(), report.spool_dropped, ABSURD)?;
    at_most(|| "rejected".into(), report.rejected, ABSURD)?;
    for (i, listener) in report.listeners.iter().enumerate() {
        let field = |name: &str| format!("listeners[{i}].{name}");
        at_most(
            || field("accept_queue"),
            listener.accept_queue.into(),
            ABSURD,
        )?;
        at_most(|| field("backlog"), listener.backlog.into(), ABSURD)?;
        if let Some(process) = &listener.process {
            at_most(|| field("process.pid"), process.pid.into(), MAX_PID.into())?;
        }
    }
    if let Some(tcp) = &report.tcp {
        at_most(|| "tcp.listen_overflows".into(), tcp.listen_overflows, big)?;
        at_most(|| "tcp.listen_drops".into(), tcp.listen_drops, big)?;
    }
    if let Some(system) = &report.fds.system {
        at_most(|| "fds.system.allocated".into(), system.allocated, big)?;
        at_most(|| "fds.system.max".into(), system.max, big)?;
    }
    for (i, process) in report.fds.top.iter().enumerate() {
        let field = |name: &str| format!("fds.top[{i}].{name}");
        at_most(
            || field("process.pid"),
            process.process.pid.into(),
            MAX_PID.into(),
        )?;
        at_most(|| field("open_fds"), process.open_fds, ABSURD)?;
        if let Some(limit) = process.soft_limit {
            at_most(|| field("soft_limit"), limit, big)?;
            // The kernel refuses descriptors beyond the limit; a process can hold more only
            // if its limit was lowered after it opened them, never ten times more.
            if limit > 0 && process.open_fds > limit.saturating_mul(10) {
                return Err(out_of_range(
                    field("open_fds"),
                    &format!("is more than ten times its soft_limit of {limit}"),
                ));
            }
        }
    }
    if let IpvsReport::Loaded(ipvs) = &report.ipvs {
        at_most(|| "ipvs.table_size".into(), ipvs.table_size, ABSURD)?;
        if let Some(connections) = ipvs.connections {
            at_most(|| "ipvs.connections".into(), connections, ABSURD)?;
        }
    }
    Ok(())
}

fn check_texts(report: &HostReport) -> Result<(), Invalid> {
    let text = |field: &str, value: &str, max: usize| {
        if value.len() > max {
            Err(Invalid::new(
                "bad_text",
                format!("{field} is longer than {max} bytes."),
            ))
        } else {
            Ok(())
        }
    };
    let id = &report.agent_id;
    let id_ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !id_ok {
        return Err(Invalid::new(
            "bad_text",
            "agent_id must be 1 to 64 letters, digits, '-' or '_'.",
        ));
    }
    text("agent_version", &report.agent_version, MAX_SHORT_TEXT)?;
    text("hostname", &report.hostname, MAX_SHORT_TEXT)?;
    for (i, listener) in report.listeners.iter().enumerate() {
        text(
            &format!("listeners[{i}].local"),
            &listener.local,
            MAX_SHORT_TEXT,
        )?;
    }
    for (i, problem) in report.problems.iter().enumerate() {
        text(
            &format!("problems[{i}].message"),
            &problem.message,
            MAX_LONG_TEXT,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Value {
        serde_json::json!({
            "agent_id": "0b6c7e9e-5a43-4b59-9a53-1f0a3e6d2c11", "seq": 3,
            "agent_version": "0.1.0", "hostname": "web01",
            "collected_at": "2026-12-04T09:15:02.120Z", "interval_secs": 10,
            "spool_dropped": 0, "rejected": 0,
            "listeners": [{"local": "0.0.0.0:443", "port": 443, "accept_queue": 0,
                           "backlog": 511, "process": {"pid": 812, "comm": "nginx"}}],
            "tcp": {"listen_overflows": 10, "listen_drops": 12},
            "fds": {"system": {"allocated": 2000, "max": 100000},
                    "top": [{"process": {"pid": 812, "comm": "nginx"}, "open_fds": 40,
                             "soft_limit": 1024}]},
            "ipvs": {"state": "not_loaded"},
            "ssh": {"config_path": "/etc/ssh/sshd_config", "config_readable": true,
                    "log_level": "VERBOSE", "trusted_user_ca_keys": null,
                    "authorized_principals_file": null, "revoked_keys": null,
                    "accounts": []},
            "problems": []
        })
    }

    fn checked(value: &Value) -> Result<Checked, Invalid> {
        check(value.to_string().as_bytes(), &HealthConfig::default())
    }

    #[test]
    fn a_sound_report_passes_with_its_time_read() {
        let checked = checked(&report()).unwrap();
        assert_eq!(checked.report.seq, 3);
        assert_eq!(checked.collected_at.timestamp(), 1_796_375_702);
    }

    #[test]
    fn negative_and_fractional_numbers_are_named_by_path() {
        let mut value = report();
        value["listeners"][0]["accept_queue"] = serde_json::json!(-1);
        let error = checked(&value).unwrap_err();
        assert_eq!(error.reason, "out_of_range");
        assert!(
            error
                .message
                .contains("listeners[0].accept_queue is negative")
        );

        let mut value = report();
        value["fds"]["top"][0]["open_fds"] = serde_json::json!(1.5);
        let error = checked(&value).unwrap_err();
        assert!(error.message.contains("fds.top[0].open_fds is not a whole"));
    }

    #[test]
    fn absurd_values_are_refused() {
        let mut value = report();
        value["listeners"][0]["accept_queue"] = serde_json::json!(2_000_000_000u64);
        let error = checked(&value).unwrap_err();
        assert!(error.message.contains("listeners[0].accept_queue is above"));

        let mut value = report();
        value["fds"]["top"][0]["open_fds"] = serde_json::json!(20_000);
        let error = checked(&value).unwrap_err();
        assert!(error.message.contains("ten times its soft_limit of 1024"));
    }

    #[test]
    fn long_lists_bad_times_and_bad_ids_are_refused() {
        let mut value = report();
        let one = value["listeners"][0].clone();
        value["listeners"] = Value::Array(vec![one; 1001]);
        let error = checked(&value).unwrap_err();
        assert_eq!(error.reason, "too_many");
        assert!(error.message.starts_with("listeners holds 1001 entries"));

        let mut value = report();
        value["collected_at"] = "yesterday".into();
        assert_eq!(checked(&value).unwrap_err().reason, "bad_time");

        let mut value = report();
        value["agent_id"] = "../../etc".into();
        assert_eq!(checked(&value).unwrap_err().reason, "bad_text");

        assert_eq!(
            check(b"{not json", &HealthConfig::default())
                .unwrap_err()
                .reason,
            "malformed"
        );
    }
}
