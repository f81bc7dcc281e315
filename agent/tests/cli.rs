//! The binary as an operator runs it: `--help`, `--once` with `--textfile`, and refusals.

use std::fs;
use std::path::Path;
use std::process::Command;

use opsportal_shared::health::{HostReport, IpvsReport};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn agent() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsportal-agent"));
    command
        .env_remove("OPSPORTAL_AGENT_PORTAL")
        .env_remove("OPSPORTAL_AGENT_TEXTFILE")
        .env_remove("OPSPORTAL_AGENT_TAIL_LOG");
    command
}

#[test]
fn help_stands_alone() {
    let output = agent().arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--portal",
        "--token-file",
        "--spool-dir",
        "--textfile",
        "--once",
        "OPSPORTAL_AGENT_PORTAL",
        "--tail-log <PATH>",
        "OPSPORTAL_AGENT_TAIL_LOG",
        "--tail-log-start",
        "--tail-log-max-line-bytes",
    ] {
        assert!(text.contains(option), "{option} missing from --help");
    }
    assert!(
        text.contains("/api/ingest/logs") && text.contains("checkpoint"),
        "--help says where lines go and how the position is kept"
    );
}

#[test]
fn following_a_file_needs_a_portal_and_an_absolute_path() {
    let refusals = [
        (
            vec![
                "--tail-log",
                "/var/log/auth.log",
                "--textfile",
                "/tmp/x.prom",
            ],
            "--portal",
        ),
        (
            vec![
                "--portal",
                "http://127.0.0.1:1",
                "--token-file",
                "/t",
                "--tail-log",
                "auth.log",
            ],
            "absolute path",
        ),
        (
            vec![
                "--portal",
                "http://127.0.0.1:1",
                "--token-file",
                "/t",
                "--tail-log",
                "/var/log/secure,/var/log/secure",
            ],
            "the same file twice",
        ),
        (
            vec!["--once", "--tail-log", "/var/log/auth.log"],
            "cannot be used with",
        ),
    ];
    for (args, expected) in refusals {
        let output = agent().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[test]
fn without_a_destination_it_refuses_to_start() {
    let output = agent().output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("nothing to do"));
}

#[test]
fn once_prints_the_report_and_writes_the_textfile_without_state() {
    let dir = tempfile::tempdir().unwrap();
    let proc_net = dir.path().join("net");
    fs::create_dir(&proc_net).unwrap();
    for name in ["ip_vs", "ip_vs_conn"] {
        fs::copy(Path::new(FIXTURES).join(name), proc_net.join(name)).unwrap();
    }
    fs::copy("/proc/net/netstat", proc_net.join("netstat")).unwrap();
    fs::write(dir.path().join("sshd_config"), "LogLevel VERBOSE\n").unwrap();
    fs::write(
        dir.path().join("passwd"),
        "zone-webservers:x:1001:1001::/home/zw:/bin/sh\n",
    )
    .unwrap();
    let spool = dir.path().join("spool");
    let textfile = dir.path().join("agent.prom");

    let output = agent()
        .arg("--once")
        .arg("--proc-net")
        .arg(&proc_net)
        .arg("--sshd-config")
        .arg(dir.path().join("sshd_config"))
        .arg("--passwd")
        .arg(dir.path().join("passwd"))
        .arg("--spool-dir")
        .arg(&spool)
        .arg("--textfile")
        .arg(&textfile)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let report: HostReport = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report.agent_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(report.interval_secs, 10);
    assert!(chrono::DateTime::parse_from_rfc3339(&report.collected_at).is_ok());
    assert!(report.tcp.is_some());
    let IpvsReport::Loaded(ipvs) = &report.ipvs else {
        panic!("fixture ip_vs read")
    };
    assert_eq!((ipvs.table_size, ipvs.connections), (4096, Some(3)));
    assert_eq!(report.ssh.log_level.as_deref(), Some("VERBOSE"));
    assert_eq!(report.ssh.accounts.len(), 1);
    assert!(!spool.exists(), "--once writes no state");

    let metrics = fs::read_to_string(&textfile).unwrap();
    assert!(metrics.contains("# TYPE opsportal_agent_listen_queue gauge\n"));
    assert!(metrics.contains("# TYPE opsportal_agent_tcp_listen_overflows_total counter\n"));
    assert!(metrics.contains("\nopsportal_agent_ipvs_table_size 4096\n"));
    assert!(metrics.contains("\nopsportal_agent_ipvs_connections 3\n"));
    assert!(metrics.contains(
        "\nopsportal_agent_ipvs_active_connections{protocol=\"TCP\",service=\"10.0.0.100:80\",server=\"10.0.11.2:8080\"} 3\n"
    ));
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "textfile written through a renamed temporary"
    );
}
