//! The report's numbers in the Prometheus text format, for node_exporter's textfile
//! collector. The file is replaced atomically, so the collector never reads half of it.

use std::fmt::Write;
use std::path::Path;

use opsportal_shared::health::{HostReport, IpvsReport};

use crate::push::spool::write_atomically;

/// Writes the report's metrics to `path`.
pub fn write(path: &Path, report: &HostReport) -> std::io::Result<()> {
    write_atomically(path, render(report).as_bytes())
}

/// Renders the report's metrics, each family with its HELP and TYPE lines.
pub fn render(report: &HostReport) -> String {
    let mut out = Metrics::default();

    out.family(
        "opsportal_agent_listen_queue",
        "gauge",
        "Connections waiting in a listening socket's accept queue.",
    );
    for l in &report.listeners {
        out.sample(
            "opsportal_agent_listen_queue",
            &[("local", &l.local)],
            l.accept_queue,
        );
    }
    out.family(
        "opsportal_agent_listen_backlog",
        "gauge",
        "A listening socket's backlog (the accept queue's size).",
    );
    for l in &report.listeners {
        out.sample(
            "opsportal_agent_listen_backlog",
            &[("local", &l.local)],
            l.backlog,
        );
    }

    if let Some(tcp) = report.tcp {
        out.family(
            "opsportal_agent_tcp_listen_overflows_total",
            "counter",
            "Handshakes dropped because an accept queue was full (TcpExt ListenOverflows).",
        );
        out.sample(
            "opsportal_agent_tcp_listen_overflows_total",
            &[],
            tcp.listen_overflows,
        );
        out.family(
            "opsportal_agent_tcp_listen_drops_total",
            "counter",
            "Handshakes dropped at listeners for any reason (TcpExt ListenDrops).",
        );
        out.sample(
            "opsportal_agent_tcp_listen_drops_total",
            &[],
            tcp.listen_drops,
        );
    }

    out.family(
        "opsportal_agent_process_open_fds",
        "gauge",
        "Open file descriptors of the processes nearest their limit.",
    );
    for p in &report.fds.top {
        let pid = p.process.pid.to_string();
        out.sample(
            "opsportal_agent_process_open_fds",
            &[("pid", &pid), ("comm", &p.process.comm)],
            p.open_fds,
        );
    }
    out.family(
        "opsportal_agent_process_max_fds",
        "gauge",
        "Soft RLIMIT_NOFILE of the same processes (absent when unlimited).",
    );
    for p in &report.fds.top {
        if let Some(limit) = p.soft_limit {
            let pid = p.process.pid.to_string();
            out.sample(
                "opsportal_agent_process_max_fds",
                &[("pid", &pid), ("comm", &p.process.comm)],
                limit,
            );
        }
    }
    if let Some(system) = report.fds.system {
        out.family(
            "opsportal_agent_file_handles_allocated",
            "gauge",
            "File handles allocated system-wide (fs.file-nr).",
        );
        out.sample(
            "opsportal_agent_file_handles_allocated",
            &[],
            system.allocated,
        );
        out.family(
            "opsportal_agent_file_handles_max",
            "gauge",
            "Most file handles the kernel allocates (fs.file-max).",
        );
        out.sample("opsportal_agent_file_handles_max", &[], system.max);
    }

    out.family(
        "opsportal_agent_ipvs_loaded",
        "gauge",
        "Whether the ip_vs module is loaded.",
    );
    match &report.ipvs {
        IpvsReport::NotLoaded => out.sample("opsportal_agent_ipvs_loaded", &[], 0),
        IpvsReport::Loaded(state) => {
            out.sample("opsportal_agent_ipvs_loaded", &[], 1);
            out.family(
                "opsportal_agent_ipvs_table_size",
                "gauge",
                "Size of the IPVS connection hash table.",
            );
            out.sample("opsportal_agent_ipvs_table_size", &[], state.table_size);
            if let Some(connections) = state.connections {
                out.family(
                    "opsportal_agent_ipvs_connections",
                    "gauge",
                    "Entries in the IPVS connection table.",
                );
                out.sample("opsportal_agent_ipvs_connections", &[], connections);
            }
            for (name, help) in [
                (
                    "opsportal_agent_ipvs_active_connections",
                    "Active connections to an IPVS real server.",
                ),
                (
                    "opsportal_agent_ipvs_inactive_connections",
                    "Inactive connections to an IPVS real server.",
                ),
            ] {
                out.family(name, "gauge", help);
                for service in &state.services {
                    for server in &service.real_servers {
                        let labels = [
                            ("protocol", service.protocol.as_str()),
                            ("service", &service.address),
                            ("server", &server.address),
                        ];
                        let value = if name.ends_with("_inactive_connections") {
                            server.inactive_conn
                        } else {
                            server.active_conn
                        };
                        out.sample(name, &labels, value);
                    }
                }
            }
        }
    }

    if let Some(ca) = &report.ssh.trusted_user_ca_keys {
        out.family(
            "opsportal_agent_ssh_trusted_ca_keys",
            "gauge",
            "Keys in sshd's TrustedUserCAKeys file.",
        );
        out.sample(
            "opsportal_agent_ssh_trusted_ca_keys",
            &[("path", &ca.path)],
            ca.keys.len(),
        );
    }
    if let Some(age) = report.ssh.revoked_keys.as_ref().and_then(|k| k.age_secs) {
        out.family(
            "opsportal_agent_ssh_revoked_keys_age_seconds",
            "gauge",
            "Seconds since sshd's RevokedKeys file changed.",
        );
        out.sample("opsportal_agent_ssh_revoked_keys_age_seconds", &[], age);
    }
    out.text
}

#[derive(Default)]
struct Metrics {
    text: String,
}

impl Metrics {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.text.push_str(name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// Label values escape backslash, double quote and newline, per the exposition format.
fn escape(value: &str) -> String {
    value
        .replace('\\', r"\\")
        .replace('"', "\\\"")
        .replace('\n', r"\n")
}

#[cfg(test)]
mod tests {
    use opsportal_shared::health::{
        FdReport, Listener, ProcessFds, ProcessRef, SshFacts, TcpListenCounters,
    };

    use super::*;

    fn report() -> HostReport {
        HostReport {
            agent_id: "a".into(),
            seq: 1,
            agent_version: "0".into(),
            hostname: "h".into(),
            collected_at: "2026-12-04T00:00:00Z".into(),
            interval_secs: 10,
            spool_dropped: 0,
            rejected: 0,
            listeners: vec![Listener {
                local: "0.0.0.0:22".into(),
                port: 22,
                accept_queue: 5,
                backlog: 4,
                process: None,
            }],
            tcp: Some(TcpListenCounters {
                listen_overflows: 30,
                listen_drops: 31,
            }),
            fds: FdReport {
                system: None,
                top: vec![ProcessFds {
                    process: ProcessRef {
                        pid: 42,
                        comm: "we\"ird\\name".into(),
                    },
                    open_fds: 63,
                    soft_limit: Some(64),
                }],
            },
            ipvs: IpvsReport::NotLoaded,
            ssh: SshFacts::default(),
            problems: Vec::new(),
        }
    }

    #[test]
    fn families_have_help_and_type_and_labels_are_escaped() {
        let text = render(&report());
        let expected = "\
# HELP opsportal_agent_listen_queue Connections waiting in a listening socket's accept queue.
# TYPE opsportal_agent_listen_queue gauge
opsportal_agent_listen_queue{local=\"0.0.0.0:22\"} 5
# HELP opsportal_agent_listen_backlog A listening socket's backlog (the accept queue's size).
# TYPE opsportal_agent_listen_backlog gauge
opsportal_agent_listen_backlog{local=\"0.0.0.0:22\"} 4
";
        assert!(text.starts_with(expected), "{text}");
        assert!(text.contains("\nopsportal_agent_tcp_listen_overflows_total 30\n"));
        assert!(text.contains(
            "\nopsportal_agent_process_open_fds{pid=\"42\",comm=\"we\\\"ird\\\\name\"} 63\n"
        ));
        assert!(text.contains(
            "\nopsportal_agent_process_max_fds{pid=\"42\",comm=\"we\\\"ird\\\\name\"} 64\n"
        ));
        assert!(text.contains("\nopsportal_agent_ipvs_loaded 0\n"));
        assert!(
            !text.contains("opsportal_agent_ipvs_table_size"),
            "no table without the module"
        );
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} has no TYPE line"
            );
        }
    }
}
