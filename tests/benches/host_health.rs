//! Host health at fleet scale: 2000 simulated hosts, each posting a realistic report (20
//! listeners, 10 top processes, sshd facts) every 10 s to a release portal, measured for
//! sustained ingest and for the fleet page's latency while that load runs.
//!
//! Run by `cargo xtask bench`, which starts the stack and passes `OPSPORTAL_STACK`,
//! `OPSPORTAL_BIN` and `OPSPORTAL_BENCH_REPORT`; the last two default to
//! `target/release/opsportal` and `target/bench/host_health.md`.

// The benches share the integration tests' helpers and their own, and use only some of them.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use opsportal_shared::health::*;
use serde_json::json;
use tokio::sync::Semaphore;

use common::Portal;
use support::AppOptions;

const HOSTS: usize = 2000;
/// Each host's report interval, as the agent's default.
const INTERVAL: Duration = Duration::from_secs(10);
/// Rounds of the whole fleet measured after one warm-up round.
const ROUNDS: u32 = 3;
/// Fleet page requests during the load.
const FLEET_SAMPLES: usize = 60;
/// Requests in flight at most, like a reverse proxy's upstream limit.
const IN_FLIGHT: usize = 64;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = std::env::var_os("OPSPORTAL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/opsportal"));
    let report_path = std::env::var_os("OPSPORTAL_BENCH_REPORT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench/host_health.md"));

    let portal = Portal::start(&binary, &AppOptions::default()).await?;
    let admin = portal.signed_in("bob").await?;
    let started = Instant::now();
    let tokens = Arc::new(register_hosts(&portal, &admin).await?);
    let register_secs = started.elapsed().as_secs_f64();
    let sender = portal.client(false)?;
    let url = Arc::new(portal.url("/api/ingest/metrics"));

    let sample_body = serde_json::to_vec(&report(0, 1))?;
    round(&sender, &url, &tokens, 1).await?;
    let cpu_before = common::cpu_ticks(portal.child.id());
    let load_started = Instant::now();
    let load = {
        let (sender, url, tokens) = (sender.clone(), url.clone(), tokens.clone());
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            for seq in 2..2 + ROUNDS as u64 {
                latencies.extend(round(&sender, &url, &tokens, seq).await?);
            }
            anyhow::Ok(latencies)
        })
    };
    let mut fleet = Vec::new();
    let mut fleet_bytes = 0;
    let fleet_every = INTERVAL * ROUNDS / FLEET_SAMPLES as u32;
    for _ in 0..FLEET_SAMPLES {
        let begun = Instant::now();
        let response = admin.get(portal.url("/api/admin/fleet")).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "fleet: {}",
            response.status()
        );
        let view: FleetView = response.json().await?;
        fleet.push(begun.elapsed());
        anyhow::ensure!(view.hosts.len() == HOSTS, "fleet lists every host");
        fleet_bytes = serde_json::to_vec(&view)?.len();
        tokio::time::sleep(fleet_every.saturating_sub(begun.elapsed())).await;
    }
    let mut posts = load.await??;
    let load_secs = load_started.elapsed().as_secs_f64();
    let cpu_secs = (common::cpu_ticks(portal.child.id()) - cpu_before) as f64 / 100.0;
    let stored = posts.len();
    let rate = stored as f64 / load_secs;

    let mut idle_fleet = {
        let mut samples = Vec::new();
        for _ in 0..20 {
            let begun = Instant::now();
            admin
                .get(portal.url("/api/admin/fleet"))
                .send()
                .await?
                .bytes()
                .await?;
            samples.push(begun.elapsed());
        }
        samples
    };
    let capacity = capacity(&sender, &url, &tokens, 2 + ROUNDS as u64).await?;

    let mut out = String::from("# opsportal host health benchmark\n\n");
    writeln!(
        out,
        "{cores} cores; a release portal process, PostgreSQL and the load generator on the same \
         machine. {HOSTS} hosts registered through the admin API ({register_secs:.0} s), each \
         posting a {size} KiB report (20 listeners, 10 top processes, sshd facts with two \
         accounts) every {interval} s at its own offset in the interval, at most {IN_FLIGHT} \
         requests in flight. One warm-up round, then {ROUNDS} measured rounds while the fleet \
         page is read {FLEET_SAMPLES} times by a signed-in admin. Every simulated host's \
         ListenOverflows rises, so every row of the fleet page carries one critical finding.\n",
        cores = std::thread::available_parallelism().map_or(1, |n| n.get()),
        size = sample_body.len() / 1024,
        interval = INTERVAL.as_secs(),
    )?;
    writeln!(out, "| measure | value |\n|---|---|")?;
    writeln!(
        out,
        "| offered load | {:.0} reports/s |",
        HOSTS as f64 / INTERVAL.as_secs_f64()
    )?;
    writeln!(
        out,
        "| sustained ingest (stored, answered 200) | {rate:.0} reports/s |"
    )?;
    writeln!(
        out,
        "| report POST latency p50 / p99 | {} / {} |",
        ms(&mut posts, 0.50),
        ms(&mut posts, 0.99)
    )?;
    writeln!(
        out,
        "| portal CPU per report | {:.2} ms |",
        cpu_secs * 1000.0 / stored as f64
    )?;
    writeln!(
        out,
        "| ingest capacity ({IN_FLIGHT} in flight, back to back) | {capacity:.0} reports/s |"
    )?;
    writeln!(
        out,
        "| `GET /api/admin/fleet` under load, p50 / p99 | {} / {} |",
        ms(&mut fleet, 0.50),
        ms(&mut fleet, 0.99)
    )?;
    writeln!(
        out,
        "| `GET /api/admin/fleet` idle, p50 / p99 | {} / {} |",
        ms(&mut idle_fleet, 0.50),
        ms(&mut idle_fleet, 0.99)
    )?;
    writeln!(out, "| fleet page size | {} KiB |", fleet_bytes / 1024)?;
    writeln!(
        out,
        "\nReproduce: `cargo build --release -p opsportal-server`, then \
         `OPSPORTAL_STACK=target/stack/stack.json cargo bench -p opsportal-tests --bench \
         host_health` (or `cargo xtask bench`)."
    )?;
    drop(portal);

    std::fs::create_dir_all(report_path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&report_path, &out)?;
    println!("{out}");
    println!("report written to {}", report_path.display());
    Ok(())
}

/// Registers the hosts and makes a token for each.
async fn register_hosts(portal: &Portal, admin: &reqwest::Client) -> anyhow::Result<Vec<String>> {
    let gate = Arc::new(Semaphore::new(8));
    let mut tasks = Vec::new();
    for i in 0..HOSTS {
        let (admin, gate) = (admin.clone(), gate.clone());
        let hosts = portal.url("/api/admin/hosts");
        let base = portal.url("/api/admin/hosts");
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire().await?;
            let added: serde_json::Value = admin
                .post(hosts)
                .json(&json!({ "name": format!("host{i:04}"), "addresses": [] }))
                .send()
                .await?
                .json()
                .await?;
            let id = added["id"]
                .as_i64()
                .ok_or_else(|| anyhow::anyhow!("{added}"))?;
            let token: serde_json::Value = admin
                .post(format!("{base}/{id}/tokens"))
                .json(&json!({}))
                .send()
                .await?
                .json()
                .await?;
            anyhow::Ok(token["token"].as_str().unwrap_or_default().to_owned())
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await??);
    }
    Ok(tokens)
}

/// One round: every host posts report `seq`, spread evenly over the interval.
async fn round(
    sender: &reqwest::Client,
    url: &Arc<String>,
    tokens: &Arc<Vec<String>>,
    seq: u64,
) -> anyhow::Result<Vec<Duration>> {
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let spacing = INTERVAL / HOSTS as u32;
    let begun = tokio::time::Instant::now();
    let mut tasks = Vec::new();
    for host in 0..HOSTS {
        tokio::time::sleep_until(begun + spacing * host as u32).await;
        let permit = gate.clone().acquire_owned().await?;
        let (sender, url, tokens) = (sender.clone(), url.clone(), tokens.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            post(&sender, &url, &tokens[host], host, seq).await
        }));
    }
    let mut latencies = Vec::with_capacity(HOSTS);
    for task in tasks {
        latencies.push(task.await??);
    }
    Ok(latencies)
}

/// Reports/s with the hosts sending back to back, for a few seconds.
async fn capacity(
    sender: &reqwest::Client,
    url: &Arc<String>,
    tokens: &Arc<Vec<String>>,
    seq: u64,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let begun = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..IN_FLIGHT {
        let (sender, url, tokens, done) =
            (sender.clone(), url.clone(), tokens.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut host = worker;
            while host < HOSTS {
                post(&sender, &url, &tokens[host], host, seq).await?;
                done.fetch_add(1, Ordering::Relaxed);
                host += IN_FLIGHT;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / begun.elapsed().as_secs_f64())
}

async fn post(
    sender: &reqwest::Client,
    url: &str,
    token: &str,
    host: usize,
    seq: u64,
) -> anyhow::Result<Duration> {
    let body = serde_json::to_vec(&report(host, seq))?;
    let begun = Instant::now();
    let response = sender
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let ack: MetricsAck = response.json().await?;
    anyhow::ensure!(
        status.is_success() && ack.stored,
        "report not stored: {status}"
    );
    Ok(begun.elapsed())
}

/// A report of the size a busy host sends.
fn report(host: usize, seq: u64) -> HostReport {
    let process = |pid: u32, comm: &str| ProcessRef {
        pid,
        comm: comm.into(),
    };
    let services = ["nginx", "haproxy", "java", "postgres", "redis-server"];
    HostReport {
        agent_id: format!("00000000-0000-4000-8000-{host:012}"),
        seq,
        agent_version: "0.1.0".into(),
        hostname: format!("host{host:04}.corp.example.test"),
        collected_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        interval_secs: INTERVAL.as_secs(),
        spool_dropped: 0,
        rejected: 0,
        listeners: (0..20u32)
            .map(|i| Listener {
                local: format!("0.0.0.0:{}", 8000 + i),
                port: 8000 + i as u16,
                accept_queue: (seq as u32 + i) % 7,
                backlog: 4096,
                process: Some(process(1000 + i, services[i as usize % services.len()])),
            })
            .collect(),
        tcp: Some(TcpListenCounters {
            listen_overflows: seq * 3,
            listen_drops: seq * 4,
        }),
        fds: FdReport {
            system: Some(SystemFiles {
                allocated: 12_000 + seq,
                max: 9_223_372_036_854_775_807,
            }),
            top: (0..10u32)
                .map(|i| ProcessFds {
                    process: process(1000 + i, services[i as usize % services.len()]),
                    open_fds: 200 + u64::from(i) * 50 + seq,
                    soft_limit: Some(65_536),
                })
                .collect(),
        },
        ipvs: IpvsReport::NotLoaded,
        ssh: SshFacts {
            config_path: "/etc/ssh/sshd_config".into(),
            config_readable: true,
            log_level: Some("VERBOSE".into()),
            trusted_user_ca_keys: Some(CaKeysFile {
                path: "/etc/ssh/user_ca.pub".into(),
                keys: vec![CaKey {
                    algorithm: "ssh-ed25519".into(),
                    fingerprint: "SHA256:4rTcVj0Y3bq6mq4i1zVd0W9jv0bBfX2oD0r5Gm3oN7w".into(),
                    comment: "vault-ssh-ca".into(),
                }],
                error: None,
            }),
            authorized_principals_file: Some("/etc/ssh/principals/%u".into()),
            revoked_keys: Some(RevokedKeysFile {
                path: "/etc/ssh/revoked.krl".into(),
                sha256: Some("ab".repeat(32)),
                age_secs: Some(40),
            }),
            accounts: ["root", "zone-webservers"]
                .iter()
                .enumerate()
                .map(|(i, name)| SshAccount {
                    name: (*name).into(),
                    uid: i as u32 * 1001,
                    home: format!("/home/{name}"),
                    principals_file: Some(format!("/etc/ssh/principals/{name}")),
                    principals: Some(vec!["root".into(), "zone-webservers".into()]),
                })
                .collect(),
        },
        problems: Vec::new(),
    }
}

/// The `q` quantile of `samples`, in milliseconds.
fn ms(samples: &mut [Duration], q: f64) -> String {
    samples.sort_unstable();
    let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples.get(index).map_or("-".into(), |d| {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    })
}
