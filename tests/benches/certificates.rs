//! Certificate throughput and latency at concurrency 1, 8 and 32: through a release portal
//! signing with the stack's OpenBao (JWT login), straight at OpenBao's sign endpoint, and
//! through a portal with the embedded CA. All on this machine, in one run, made twice: with
//! every process on every core, then with OpenBao pinned to cores of its own and everything
//! else to the rest, so that OpenBao has the same cores whether called directly or through a
//! portal.
//!
//! Run by `cargo xtask bench`, which starts the stack and passes `OPSPORTAL_STACK`,
//! `OPSPORTAL_BIN` and `OPSPORTAL_BENCH_REPORT`. Writes a Markdown report and prints it.

// The benches share the integration tests' helpers and their own, and use only some of them.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use ssh_key::{Algorithm, PrivateKey};

use common::Portal;
use support::{AppOptions, SignerChoice, stack};

const LEVELS: [usize; 3] = [1, 8, 32];
/// How long each measurement runs.
const RUN_FOR: Duration = Duration::from_secs(6);
/// Distinct keys the requests cycle through.
const KEYS: usize = 64;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let binary = PathBuf::from(std::env::var("OPSPORTAL_BIN")?);
    let report_path = PathBuf::from(std::env::var("OPSPORTAL_BENCH_REPORT")?);
    let keys: Arc<Vec<String>> = Arc::new((0..KEYS).map(|_| new_key()).collect());

    let vault_portal = Portal::start(&binary, &options(SignerChoice::vault_jwt())).await?;
    let embedded_portal = Portal::start(&binary, &options(SignerChoice::Embedded)).await?;
    let alice = vault_portal.signed_in("alice").await?;
    let me: Value = alice
        .get(format!("{}/api/me", vault_portal.origin))
        .send()
        .await?
        .json()
        .await?;
    let groups: Vec<String> = serde_json::from_value(me["groups"].clone())?;
    let direct = Target::Direct(direct_client()?, person_token(&groups).await?);
    let through_vault = Target::Portal(alice, vault_portal.origin.clone());
    let through_embedded = Target::Portal(
        embedded_portal.signed_in("alice").await?,
        embedded_portal.origin.clone(),
    );

    let mut report = String::from("# opsportal certificate benchmark\n\n");
    writeln!(
        report,
        "{} cores; release portal processes and OpenBao's dev server (in-memory storage) on \
         loopback, the load generator on the same machine. Each cell runs {} s after a warm-up; \
         requests cycle through {KEYS} Ed25519 keys of one signed-in person. The direct calls use a \
         token from a JWT login as that person with the same groups, as the portal makes it (a \
         root token skips the policy checks and signs about twice as fast).\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        RUN_FOR.as_secs()
    )?;
    let portal_pids = [vault_portal.child.id(), embedded_portal.child.id()];
    for layout in [Layout::Shared, Layout::Split] {
        let _split = match layout {
            Layout::Shared => None,
            Layout::Split => Some(Split::apply(&portal_pids)?),
        };
        writeln!(report, "## {}\n", layout.describe())?;
        writeln!(
            report,
            "| path | concurrency | certificates/s | p50 | p99 | CPU ms per certificate: portal / OpenBao / PostgreSQL |\n\
             |---|---|---|---|---|---|"
        )?;
        let mut at_32 = (0.0, 0.0);
        for (name, target) in [
            ("OpenBao `sign/portal` directly, JWT-login token", &direct),
            ("portal, Vault JWT login", &through_vault),
            ("portal, embedded CA", &through_embedded),
        ] {
            for &concurrency in &LEVELS {
                run(target, concurrency, &keys, Duration::from_secs(1)).await?;
                let portal_pid = match target {
                    Target::Portal(_, origin) if *origin == vault_portal.origin => {
                        Some(vault_portal.child.id())
                    }
                    Target::Portal(..) => Some(embedded_portal.child.id()),
                    Target::Direct(..) => None,
                };
                let before = CpuUse::now(portal_pid);
                let result = run(target, concurrency, &keys, RUN_FOR).await?;
                let cpu = CpuUse::now(portal_pid).since(&before, result.count);
                writeln!(
                    report,
                    "| {name} | {concurrency} | {:.0} | {:.1} ms | {:.1} ms | {cpu} |",
                    result.rate,
                    result.p50.as_secs_f64() * 1000.0,
                    result.p99.as_secs_f64() * 1000.0
                )?;
                if concurrency == 32 {
                    match target {
                        Target::Direct(..) => at_32.0 = result.rate,
                        Target::Portal(_, origin) if *origin == vault_portal.origin => {
                            at_32.1 = result.rate
                        }
                        Target::Portal(..) => {}
                    }
                }
            }
        }
        writeln!(
            report,
            "\nAt concurrency 32 the portal keeps **{:.0}%** of OpenBao's own signing throughput \
             here (target: at least 80%).\n",
            100.0 * at_32.1 / at_32.0
        )?;
    }
    drop(vault_portal);
    drop(embedded_portal);

    std::fs::create_dir_all(report_path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&report_path, &report)?;
    println!("{report}");
    println!("report written to {}", report_path.display());
    Ok(())
}

/// How the machine's cores are shared out during a set of measurements.
#[derive(Clone, Copy)]
enum Layout {
    /// Every process on every core.
    Shared,
    /// OpenBao on cores of its own, as when Vault runs on its own machines; see [`Split`].
    Split,
}

impl Layout {
    fn describe(self) -> &'static str {
        match self {
            Self::Shared => "Every process on every core",
            Self::Split => {
                "OpenBao on half the cores, the portals, PostgreSQL and the load generator on the \
                 other half (OpenBao gets the same cores whether called directly or through a \
                 portal)"
            }
        }
    }
}

/// OpenBao pinned to the upper half of the cores and everything else of the measurement to
/// the lower half, with `taskset`; undone when dropped. Processes forked later (PostgreSQL
/// backends) and threads started later inherit their parent's cores.
struct Split {
    pids: Vec<u32>,
    all: String,
}

impl Split {
    fn apply(portals: &[u32]) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        anyhow::ensure!(
            cores >= 2,
            "giving OpenBao cores of its own needs two cores at least"
        );
        let vault = pids_named(&["bao", "openbao"]);
        anyhow::ensure!(!vault.is_empty(), "no OpenBao process to pin");
        let mut others = pids_named(&["postgres"]);
        others.extend_from_slice(portals);
        others.push(std::process::id());
        let split = Self {
            pids: vault.iter().chain(&others).copied().collect(),
            all: format!("0-{}", cores - 1),
        };
        for &pid in &vault {
            taskset(&format!("{}-{}", cores / 2, cores - 1), pid)?;
        }
        for &pid in &others {
            taskset(&format!("0-{}", cores / 2 - 1), pid)?;
        }
        Ok(split)
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        for &pid in &self.pids {
            if let Err(problem) = taskset(&self.all, pid) {
                eprintln!("could not give pid {pid} every core back: {problem}");
            }
        }
    }
}

/// Sets the cores of every thread of `pid`.
fn taskset(cores: &str, pid: u32) -> anyhow::Result<()> {
    let output = std::process::Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &pid.to_string()])
        .output()
        .map_err(|e| anyhow::anyhow!("taskset (util-linux) cannot run: {e}"))?;
    anyhow::ensure!(
        output.status.success(),
        "taskset {cores} {pid}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Processes whose command name is one of `names`.
fn pids_named(names: &[&str]) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            names.contains(&comm.trim())
        })
        .collect()
}

fn new_key() -> String {
    let key = PrivateKey::random(&mut rand::rngs::OsRng, Algorithm::Ed25519).expect("key");
    key.public_key().to_openssh().expect("OpenSSH line")
}

enum Target {
    /// OpenBao, with a token from a JWT login as the person, as the portal uses.
    Direct(reqwest::Client, String),
    /// A portal, with a signed-in client.
    Portal(reqwest::Client, String),
}

/// A Vault token for alice from the JWT login, made as the portal makes it: her name and her
/// directory groups as the portal read them at sign-in (the role maps the groups claim, so
/// OpenBao weighs them on every request).
async fn person_token(groups: &[String]) -> anyhow::Result<String> {
    let vault = &stack().vault;
    let minter = opsportal::certs::signer::vault::jwt::JwtMinter::load(
        &vault.jwt_key_file,
        &vault.jwt_issuer,
        &vault.jwt_audience,
    )
    .map_err(anyhow::Error::msg)?;
    let now = u64::try_from(chrono::Utc::now().timestamp())?;
    let answer: Value = direct_client()?
        .post(format!("{}/v1/auth/{}/login", vault.addr, vault.jwt_mount))
        .json(&json!({ "role": vault.jwt_role, "jwt": minter.mint("alice", groups, now) }))
        .send()
        .await?
        .json()
        .await?;
    answer["auth"]["client_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("JWT login failed: {answer}"))
}

fn direct_client() -> anyhow::Result<reqwest::Client> {
    let pem = std::fs::read(&stack().vault.ca_file)?;
    Ok(reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
        .build()?)
}

struct Outcome {
    count: usize,
    rate: f64,
    p50: Duration,
    p99: Duration,
}

async fn run(
    target: &Target,
    concurrency: usize,
    keys: &Arc<Vec<String>>,
    run_for: Duration,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let deadline = started + run_for;
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let request = match target {
            Target::Direct(client, token) => Request::Direct(client.clone(), token.clone()),
            Target::Portal(client, origin) => Request::Portal(client.clone(), origin.clone()),
        };
        let keys = Arc::clone(keys);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker;
            while Instant::now() < deadline {
                let key = &keys[n % keys.len()];
                n += concurrency;
                let sent = Instant::now();
                request.send(key).await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for worker in workers {
        latencies.extend(worker.await??);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    anyhow::ensure!(!latencies.is_empty(), "no request finished");
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    Ok(Outcome {
        count: latencies.len(),
        rate: latencies.len() as f64 / elapsed.as_secs_f64(),
        p50: at(0.5),
        p99: at(0.99),
    })
}

enum Request {
    Direct(reqwest::Client, String),
    Portal(reqwest::Client, String),
}

impl Request {
    async fn send(&self, key: &str) -> anyhow::Result<()> {
        let response = match self {
            Self::Direct(client, token) => {
                let vault = &stack().vault;
                client
                    .post(format!(
                        "{}/v1/{}/sign/{}",
                        vault.addr, vault.ssh_mount, vault.ssh_role
                    ))
                    .header("X-Vault-Token", token)
                    .json(&json!({
                        "public_key": key,
                        "cert_type": "user",
                        "valid_principals": "root",
                        "ttl": "3600s",
                        "extensions": { "permit-pty": "" },
                    }))
                    .send()
                    .await?
            }
            Self::Portal(client, origin) => {
                client
                    .post(format!("{origin}/api/certificates"))
                    .json(&json!({ "public_key": key, "principals": ["root"] }))
                    .send()
                    .await?
            }
        };
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "{status}: {body}");
        Ok(())
    }
}

/// CPU time used so far by the portal, OpenBao and PostgreSQL, in clock ticks.
struct CpuUse {
    portal: u64,
    openbao: u64,
    postgres: u64,
}

impl CpuUse {
    fn now(portal: Option<u32>) -> Self {
        let ticks = |names: &[&str]| pids_named(names).into_iter().map(common::cpu_ticks).sum();
        Self {
            portal: portal.map_or(0, common::cpu_ticks),
            openbao: ticks(&["bao", "openbao"]),
            postgres: ticks(&["postgres"]),
        }
    }

    /// Per certificate since `before`, formatted for the report.
    fn since(&self, before: &Self, count: usize) -> String {
        // Linux reports CPU time in ticks of 1/100 s.
        let per =
            |now: u64, then: u64| now.saturating_sub(then) as f64 * 10.0 / count.max(1) as f64;
        format!(
            "{:.2} / {:.2} / {:.2}",
            per(self.portal, before.portal),
            per(self.openbao, before.openbao),
            per(self.postgres, before.postgres)
        )
    }
}

fn options(signer: SignerChoice) -> AppOptions {
    AppOptions {
        signer,
        // The load generator is one person asking for thousands of certificates.
        max_certificates_per_minute: 0,
        db_max_connections: 20,
        ..AppOptions::default()
    }
}
