//! Secure-log ingest: sshd lines per second from syslog TCP clients through framing, parsing,
//! attribution and storage, against a plain COPY of the same rows into the same table with
//! the same indexes, and against rsyslog's own PostgreSQL output (`imtcp` into `ompgsql`, a
//! child rsyslogd of this benchmark) receiving the same stream into a table of its own; the
//! portal's memory meanwhile; then search latency over ten million stored events against grep
//! over the same lines in a flat file.
//!
//! Run by `cargo xtask bench`, which starts the stack and passes `OPSPORTAL_STACK`,
//! `OPSPORTAL_BIN` and `OPSPORTAL_BENCH_REPORT`. Writes a Markdown report and prints it.
//! The rsyslog comparison needs `rsyslogd` and its `ompgsql` module (Debian packages rsyslog
//! and rsyslog-pgsql), which `cargo xtask setup` installs.

// The benches share the integration tests' helpers and their own, and use only some of them.
#[allow(dead_code)]
mod common;
#[path = "ingest/rsyslog.rs"]
mod rsyslog;
#[path = "ingest/search.rs"]
mod search;
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::PgPool;

use common::Portal;
use support::AppOptions;

/// Lines sent through the portal.
const LINES: usize = 300_000;
/// Syslog connections they are spread over.
const CONNECTIONS: usize = 4;
/// Events stored for the search measurements.
const STORED: i64 = 10_000_000;
/// Searches of each kind.
const SEARCHES: usize = 200;
const PEOPLE: i64 = 200;
const HOSTS: i64 = 200;
const DAYS: i64 = 30;

const COLUMNS: &str = "received_at, event_at, host_id, transport, claimed_hostname, program, \
    pid, kind, username, src_ip, src_port, method, key_type, key_fingerprint, key_id, serial, \
    ca_fingerprint, certificate_id, person, attribution, reason, skew_secs, flags, raw";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let binary = PathBuf::from(std::env::var("OPSPORTAL_BIN")?);
    let report_path = PathBuf::from(std::env::var("OPSPORTAL_BENCH_REPORT")?);
    let options = AppOptions {
        syslog_tcp: true,
        ..AppOptions::default()
    };
    let portal = Portal::start(&binary, &options).await?;
    let db = PgPool::connect(&portal.database_url()).await?;
    let admin = portal.signed_in("bob").await?;
    portal
        .post_json(
            &admin,
            "/api/admin/hosts",
            &json!({ "name": "web01", "addresses": ["127.0.0.1"] }),
        )
        .await?;
    seed_certificates(&db).await?;

    let ingest = ingest_rate(&portal).await?;
    let copy = copy_rate(&portal, &db).await?;
    let rsyslog = rsyslog::rate(&portal, &db).await?;
    let search = search::latency(&portal, &db).await?;

    let mut report = String::from("# opsportal secure-log ingest benchmark\n\n");
    writeln!(
        report,
        "{} cores; a release portal process, PostgreSQL 15 and the load generator on one \
         machine, loopback only.\n",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    )?;
    writeln!(report, "## Ingest\n")?;
    writeln!(
        report,
        "{LINES} realistic sshd lines (certificate logins and refusals, invalid users, \
         disconnects, PAM sessions; RFC 5424, octet-counted) from {CONNECTIONS} TCP connections, \
         timed from the first byte sent until the last row is committed.\n"
    )?;
    writeln!(
        report,
        "| path | lines/s |\n|---|---|\n\
         | portal: framing, parsing, attribution, storage | {:.0} |\n\
         | `COPY` of the same rows into the same table and indexes | {:.0} |\n\
         | rsyslog-pgsql: the same stream, `imtcp` into `ompgsql`, raw fields | {:.0} |\n\
         | portal as a share of COPY | {:.0}% (target at least 50%) |\n",
        ingest.lines_per_sec,
        copy,
        rsyslog.lines_per_sec,
        100.0 * ingest.lines_per_sec / copy
    )?;
    writeln!(
        report,
        "CPU per line: portal {:.1} µs, PostgreSQL {:.1} µs; with rsyslog-pgsql, rsyslogd \
         {:.1} µs, PostgreSQL {:.1} µs. Portal resident memory during ingest: {:.1} MB at most \
         (target under 256 MB); {:.1} MB before.\n",
        ingest.portal_us_per_line,
        ingest.postgres_us_per_line,
        rsyslog.rsyslog_us_per_line,
        rsyslog.postgres_us_per_line,
        ingest.max_rss_mb,
        ingest.rss_before_mb
    )?;
    writeln!(
        report,
        "rsyslog-pgsql is rsyslogd {}, a child of this benchmark listening with `imtcp` on a \
         loopback port of its own. `ompgsql` writes every message, over plain TCP like the \
         portal's connections, into a table of its own (received and reported time, hostname, \
         program, procid, message; a primary key its only index) through a LinkedList action \
         queue: at most {queue} lines, dequeued in batches of {batch}, each \
         batch one transaction of one `INSERT` per line, by {workers} worker threads \
         with a connection each (the second starts once {batch} lines wait). Timed the \
         same way, until `count(*)` reaches {LINES}. It stores the fields syslog gives and \
         nothing more: no sshd parsing, no attribution to a certificate or a person, no \
         sessions, and nothing like the portal's exactly-once HTTP ingest.\n",
        rsyslog.version,
        queue = rsyslog::RSYSLOG_QUEUE,
        batch = rsyslog::RSYSLOG_BATCH,
        workers = rsyslog::RSYSLOG_WORKERS,
    )?;
    writeln!(report, "## Search over {STORED} stored events\n")?;
    writeln!(
        report,
        "{SEARCHES} searches of each kind through `GET /api/audit/events` as an auditor \
         (client-side latency, the audit row each search writes included), {PEOPLE} people, \
         {HOSTS} hosts, {DAYS} days, after `VACUUM (ANALYZE)` of the loaded table, a \
         checkpoint, and {} warm-up searches that match nothing (a person nobody is; every \
         day of a host that sent no line). grep runs once over the same lines in a flat file \
         ({:.0} MB).\n",
        2 * DAYS,
        search.file_mb
    )?;
    writeln!(
        report,
        "| query | p50 | p99 | grep over the flat file |\n|---|---|---|---|\n\
         | a person's newest 100 events | {:.1} ms | {:.1} ms | {:.0} ms |\n\
         | a host's logins in one day | {:.1} ms | {:.1} ms | {:.0} ms |\n\
         \nTarget: p99 at most 20 ms.\n",
        search.person.0,
        search.person.1,
        search.grep_person_ms,
        search.host_day.0,
        search.host_day.1,
        search.grep_host_ms,
    )?;
    std::fs::create_dir_all(report_path.parent().expect("report folder"))?;
    std::fs::write(&report_path, &report)?;
    println!("{report}");
    Ok(())
}

/// Certificates the generated logins name, so attribution has a registry to match against.
async fn seed_certificates(db: &PgPool) -> anyhow::Result<()> {
    sqlx::query(
        "insert into certificate (state, username, object_guid, principals, requested_ttl_secs,
            key_fingerprint, public_key, backend, serial, key_id, ca_fingerprint, ca_public_key,
            valid_after, valid_before, certificate, issued_at)
         select 'issued', 'user' || g, 'guid', '{root}', 3600, 'SHA256:key' || g, 'k', 'embedded',
            g, 'portal-user' || g || '-ab', 'SHA256:benchca', 'ca', now(), now() + interval '1 hour',
            'c', now()
         from generate_series(1, 1000) g",
    )
    .execute(db)
    .await?;
    Ok(())
}

/// One syslog message as rsyslog forwards it, octet-counted.
fn frame(n: usize) -> String {
    let pid = 1000 + n / 8;
    let port = 1024 + n % 60000;
    let user = n % 1000 + 1;
    let cert = format!(
        "ED25519-CERT SHA256:key{user} ID portal-user{user}-ab (serial {user}) CA ED25519 SHA256:benchca"
    );
    let message = match n % 8 {
        0 => format!(
            "Connection from 10.1.{}.{} port {port} on 10.0.0.1 port 22 rdomain \"\"",
            n % 250,
            n / 250 % 250
        ),
        1 => "error: Certificate does not contain an authorized principal".to_owned(),
        2 => format!("Failed publickey for root from 10.1.0.9 port {port} ssh2: {cert}"),
        3 => format!("Accepted publickey for root from 10.1.0.9 port {port} ssh2: {cert}"),
        4 => "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)".to_owned(),
        5 => format!(
            "Invalid user admin{n} from 203.0.113.{} port {port}",
            n % 250
        ),
        6 => format!("Disconnected from user root 10.1.0.9 port {port}"),
        _ => "pam_unix(sshd:session): session closed for user root".to_owned(),
    };
    let line = format!("<38>1 2026-12-04T10:00:00.000000+00:00 web01 sshd {pid} - - {message}\n");
    format!("{} {line}", line.len())
}

struct Ingest {
    lines_per_sec: f64,
    portal_us_per_line: f64,
    postgres_us_per_line: f64,
    max_rss_mb: f64,
    rss_before_mb: f64,
}

/// The [`LINES`] lines dealt round-robin to [`CONNECTIONS`] payloads, one per connection.
fn payloads() -> Vec<Vec<u8>> {
    (0..CONNECTIONS)
        .map(|c| {
            (0..LINES)
                .filter(|n| n % CONNECTIONS == c)
                .map(frame)
                .collect::<String>()
                .into_bytes()
        })
        .collect()
}

type Sender = JoinHandle<std::io::Result<()>>;

/// Sends each payload at once over a TCP connection of its own to `addr`.
fn send_all(addr: SocketAddr, payloads: Vec<Vec<u8>>) -> Vec<Sender> {
    payloads
        .into_iter()
        .map(|payload| {
            std::thread::spawn(move || -> std::io::Result<()> {
                let mut stream = std::net::TcpStream::connect(addr)?;
                stream.write_all(&payload)?;
                stream.flush()
            })
        })
        .collect()
}

fn join_all(senders: Vec<Sender>) -> anyhow::Result<()> {
    for sender in senders {
        sender.join().expect("sender thread")?;
    }
    Ok(())
}

async fn ingest_rate(portal: &Portal) -> anyhow::Result<Ingest> {
    let addr = portal.syslog_addr.expect("a syslog listener");
    let payloads = payloads();
    let pid = portal.child.id();
    let rss_before_mb = rss_mb(pid);
    let (portal_before, postgres_before) = (common::cpu_ticks(pid), postgres_ticks());
    let started = Instant::now();
    let senders = send_all(addr, payloads);
    let mut max_rss_mb = rss_before_mb;
    loop {
        max_rss_mb = max_rss_mb.max(rss_mb(pid));
        // The portal's own counter: a count(*) every few milliseconds would load the database
        // the benchmark measures.
        let stored = accepted_tcp(portal).await?;
        if stored >= LINES as u64 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "only {stored} of {LINES} lines stored"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let portal_cpu = (common::cpu_ticks(pid) - portal_before) as f64 / 100.0;
    let postgres_cpu = postgres_ticks().saturating_sub(postgres_before) as f64 / 100.0;
    join_all(senders)?;
    Ok(Ingest {
        portal_us_per_line: portal_cpu * 1e6 / LINES as f64,
        postgres_us_per_line: postgres_cpu * 1e6 / LINES as f64,
        lines_per_sec: LINES as f64 / elapsed.as_secs_f64(),
        max_rss_mb,
        rss_before_mb,
    })
}

/// CPU ticks of every PostgreSQL server process on this machine.
fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(common::cpu_ticks)
        .sum()
}

/// Lines the portal has stored from syslog over TCP, from `/metrics`.
async fn accepted_tcp(portal: &Portal) -> anyhow::Result<u64> {
    let text = reqwest::get(portal.url("/metrics")).await?.text().await?;
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix("opsportal_ingest_accepted_total{transport=\"tcp\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0))
}

/// The same rows, exported and loaded again with `COPY` into the emptied table.
async fn copy_rate(portal: &Portal, db: &PgPool) -> anyhow::Result<f64> {
    let file = std::env::temp_dir().join("opsportal-bench-rows.csv");
    let url = portal.database_url();
    psql(
        &url,
        &format!(
            "\\copy (select {COLUMNS} from log_event) to '{}' csv",
            file.display()
        ),
    )?;
    sqlx::query("truncate log_event").execute(db).await?;
    let started = Instant::now();
    psql(
        &url,
        &format!("\\copy log_event ({COLUMNS}) from '{}' csv", file.display()),
    )?;
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&file);
    Ok(LINES as f64 / elapsed.as_secs_f64())
}

fn psql(url: &str, command: &str) -> anyhow::Result<()> {
    // Plain TCP, as the portal's own connections: libpq would choose TLS where the server
    // offers it, which would slow the COPY baseline down.
    let output = Command::new("psql")
        .env("PGSSLMODE", "disable")
        .args([url, "-Atqc", command])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "psql {command}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

fn rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
