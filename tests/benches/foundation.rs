//! Budgets of the foundation, measured against the real stack and a release `opsportal`
//! process: the web app's size, the sign-in page's first render in Chromium, the portal's
//! resident memory, and a sign-in through the portal beside the same LDAPS work done directly.
//!
//! Run by `cargo xtask bench`, which builds the release binary and the web app, starts the
//! stack and passes `OPSPORTAL_STACK`, `OPSPORTAL_BIN` and `OPSPORTAL_BENCH_REPORT`. Writes a
//! Markdown report and prints it.

// The benches share the integration tests' helpers and their own, and use only some of them.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use reqwest::StatusCode;
use serde_json::json;

use common::Portal;
use support::browser::Browser;
use support::{AppOptions, stack};

/// Sign-ins measured on each side; alternated so that both see the same directory load.
const SIGN_INS: usize = 60;
/// Page loads measured in one browser.
const PAGE_LOADS: usize = 15;
/// The person whose sign-ins are measured.
const PERSON: &str = "alice";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let binary = PathBuf::from(env("OPSPORTAL_BIN")?);
    let report_path = PathBuf::from(env("OPSPORTAL_BENCH_REPORT")?);
    let dist = dist_dir();

    let mut report = String::from("# opsportal foundation benchmark\n\n");
    writeln!(report, "Machine: {} cores, {}.", cores(), kernel())?;
    writeln!(report, "Release build, every service on loopback.\n")?;

    size_section(&mut report, &dist)?;

    // Every measured sign-in succeeds, and the throttle counts only failures.
    let portal = Portal::start(&binary, &AppOptions::default()).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(portal.child.id())?;

    sign_in_section(&mut report, &portal).await?;
    let after_sign_ins = rss_kib(portal.child.id())?;
    render_section(&mut report, &portal).await?;
    let after_pages = rss_kib(portal.child.id())?;

    writeln!(report, "## Resident memory (budget: at most 64 MB idle)\n")?;
    writeln!(report, "VmRSS of the release `opsportal` process.\n")?;
    writeln!(report, "| when | VmRSS |\n|---|---|")?;
    for (when, kib) in [
        ("idle, 2 s after start".to_owned(), idle_rss),
        (format!("after {SIGN_INS} sign-ins"), after_sign_ins),
        (
            format!("after {PAGE_LOADS} page loads as well"),
            after_pages,
        ),
    ] {
        writeln!(report, "| {when} | {:.1} MB |", kib as f64 / 1024.0)?;
    }
    writeln!(report)?;
    drop(portal);

    std::fs::create_dir_all(report_path.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&report_path, &report)?;
    println!("{report}");
    println!("report written to {}", report_path.display());
    Ok(())
}

fn env(name: &str) -> anyhow::Result<String> {
    std::env::var(name).map_err(|_| anyhow::anyhow!("{name} is not set; run `cargo xtask bench`"))
}

fn dist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../frontend/dist")
}

/// The gzip-compressed size of every file the browser loads.
fn size_section(report: &mut String, dist: &Path) -> anyhow::Result<()> {
    writeln!(report, "## Web app size (budget: at most 400 KB gzip)\n")?;
    writeln!(report, "| file | bytes | gzip -9 |\n|---|---|---|")?;
    let files = [
        "pkg/opsportal_bg.wasm",
        "pkg/opsportal.js",
        "portal.css",
        "boot.js",
        "index.html",
        "favicon.svg",
    ];
    let (mut raw_total, mut gzip_total) = (0, 0);
    for file in files {
        let path = dist.join(file);
        let raw = std::fs::metadata(&path)
            .map_err(|e| anyhow::anyhow!("{}: {e}; build the web app first", path.display()))?
            .len();
        let gzip = gzip_len(&path)?;
        raw_total += raw;
        gzip_total += gzip;
        writeln!(report, "| {file} | {raw} | {gzip} |")?;
    }
    writeln!(
        report,
        "| **total** | {raw_total} | **{gzip_total} ({:.1} KB)** |\n",
        gzip_total as f64 / 1000.0
    )?;
    Ok(())
}

fn gzip_len(path: &Path) -> anyhow::Result<u64> {
    let output = Command::new("gzip").arg("-9c").arg(path).output()?;
    anyhow::ensure!(output.status.success(), "gzip {} failed", path.display());
    Ok(output.stdout.len() as u64)
}

/// Sign-ins through the portal beside the same directory work done directly: connect over
/// LDAPS, bind as the service account, search the person and their groups, bind as the person.
async fn sign_in_section(report: &mut String, portal: &Portal) -> anyhow::Result<()> {
    let password = &stack().person(PERSON).password;
    let client = portal.client(false)?;
    let mut direct = Vec::with_capacity(SIGN_INS);
    let mut through = Vec::with_capacity(SIGN_INS);
    // One warm-up round each, not counted: the first TLS handshake loads certificates.
    direct_sign_in(PERSON, password).await?;
    portal_sign_in(portal, &client, password).await?;
    for _ in 0..SIGN_INS {
        let started = Instant::now();
        direct_sign_in(PERSON, password).await?;
        direct.push(started.elapsed());
        let started = Instant::now();
        portal_sign_in(portal, &client, password).await?;
        through.push(started.elapsed());
    }
    let (d, p) = (Stats::of(&mut direct), Stats::of(&mut through));
    writeln!(
        report,
        "## Sign-in (budget: through the portal at most 2x the direct LDAPS work)\n"
    )?;
    writeln!(
        report,
        "{SIGN_INS} sign-ins of `{PERSON}` each way, alternated. Direct: connect over LDAPS, \
         bind as the service account, search the person, search their groups (nested), bind as \
         the person. Portal: `POST /api/session`, which does the same and also checks the \
         throttle, writes the audit row and stores the session in PostgreSQL.\n"
    )?;
    writeln!(report, "| path | p50 | p90 | max |\n|---|---|---|---|")?;
    writeln!(
        report,
        "| direct LDAPS | {} | {} | {} |",
        ms(d.p50),
        ms(d.p90),
        ms(d.max)
    )?;
    writeln!(
        report,
        "| through the portal | {} | {} | {} |",
        ms(p.p50),
        ms(p.p90),
        ms(p.max)
    )?;
    writeln!(
        report,
        "\nRatio at p50: **{:.2}x**.\n",
        p.p50.as_secs_f64() / d.p50.as_secs_f64()
    )?;
    Ok(())
}

async fn direct_sign_in(username: &str, password: &str) -> anyhow::Result<()> {
    let dir = &stack().directory;
    let tls = opsportal::directory::tls::client_config(&dir.ca_file).map_err(anyhow::Error::msg)?;
    let settings = LdapConnSettings::new().set_config(tls);
    let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &dir.ldaps_url).await?;
    ldap3::drive!(conn);
    let service_password = std::fs::read_to_string(&dir.bind_password_file)?;
    ldap.simple_bind(&dir.bind_dn, service_password.trim())
        .await?
        .success()?;
    let filter = format!(
        "(&(objectCategory=person)(objectClass=user)(|(sAMAccountName={})))",
        ldap3::ldap_escape(username)
    );
    let attrs = [
        "sAMAccountName",
        "userPrincipalName",
        "objectGUID",
        "displayName",
        "mail",
    ];
    let (entries, _) = ldap
        .search(&dir.base_dn, Scope::Subtree, &filter, attrs)
        .await?
        .success()?;
    let entry = SearchEntry::construct(entries.into_iter().next().expect("the person exists"));
    let groups = format!(
        "(&(objectClass=group)(member:1.2.840.113556.1.4.1941:={}))",
        ldap3::ldap_escape(&entry.dn)
    );
    ldap.search(
        &dir.base_dn,
        Scope::Subtree,
        &groups,
        ["sAMAccountName", "cn"],
    )
    .await?
    .success()?;
    ldap.simple_bind(&entry.dn, password).await?.success()?;
    ldap.unbind().await?;
    Ok(())
}

async fn portal_sign_in(
    portal: &Portal,
    client: &reqwest::Client,
    password: &str,
) -> anyhow::Result<()> {
    let response = client
        .post(portal.url("/api/session"))
        .json(&json!({ "username": PERSON, "password": password }))
        .send()
        .await?;
    anyhow::ensure!(
        response.status() == StatusCode::OK,
        "sign-in answered {}",
        response.status()
    );
    response.bytes().await?;
    Ok(())
}

/// Time from navigation start to the sign-in form on screen, as the page itself marks it.
async fn render_section(report: &mut String, portal: &Portal) -> anyhow::Result<()> {
    let browser = Browser::start().await;
    let c = &browser.client;
    let mut renders = Vec::with_capacity(PAGE_LOADS);
    let mut first = None;
    for _ in 0..PAGE_LOADS {
        c.goto(&format!("{}/sign-in", portal.origin)).await?;
        c.wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Id("username"))
            .await?;
        let mark = c
            .execute(
                "const m = performance.getEntriesByName('opsportal:sign-in-rendered');\
                 return m.length ? m[m.length - 1].startTime : null;",
                vec![],
            )
            .await?;
        let millis = mark
            .as_f64()
            .ok_or_else(|| anyhow::anyhow!("the page set no render mark"))?;
        let render = Duration::from_secs_f64(millis / 1000.0);
        first.get_or_insert(render);
        renders.push(render);
    }
    browser.close().await;
    let first = first.unwrap_or_default();
    let stats = Stats::of(&mut renders);
    writeln!(
        report,
        "## First render of the sign-in page (budget: under 300 ms)\n"
    )?;
    writeln!(
        report,
        "Headless Chromium, {PAGE_LOADS} loads of `/sign-in`; from navigation start to the form \
         rendered (a `performance.mark` the page sets after the form is on screen: HTML, \
         script, WebAssembly compile and start, `GET /api/me`, render).\n"
    )?;
    writeln!(report, "| load | time |\n|---|---|")?;
    writeln!(report, "| first (empty cache) | {} |", ms(first))?;
    writeln!(report, "| p50 of all | {} |", ms(stats.p50))?;
    writeln!(report, "| max of all | {} |\n", ms(stats.max))?;
    Ok(())
}

struct Stats {
    p50: Duration,
    p90: Duration,
    max: Duration,
}

impl Stats {
    fn of(samples: &mut [Duration]) -> Self {
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Self {
            p50: at(0.5),
            p90: at(0.9),
            max: at(1.0),
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|v| format!("Linux {}", v.trim()))
        .unwrap_or_else(|_| "Linux".into())
}
