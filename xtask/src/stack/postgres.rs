//! PostgreSQL: the one already running on 127.0.0.1:5432 when it lets us in, otherwise the
//! Debian cluster started, otherwise a private cluster in the stack folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::setup;
use crate::sh::{self, Background};

const SYSTEM_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const PRIVATE_PORT: u16 = 55432;

/// A usable server: its admin URL, and the process when the stack started its own.
pub struct Postgres {
    pub url: String,
    pub process: Option<Background>,
}

pub fn start(stack: &Path) -> anyhow::Result<Postgres> {
    if !sh::have("psql") {
        setup::apt_install(&["postgresql-client"])?;
    }
    if accepts(SYSTEM_URL) {
        return Ok(Postgres {
            url: SYSTEM_URL.into(),
            process: None,
        });
    }
    let port_free = !sh::port_open("127.0.0.1:5432".parse()?);
    if let Some(version) =
        debian_cluster_version().filter(|_| sh::have("pg_ctlcluster") && port_free)
    {
        eprintln!("starting the Debian PostgreSQL {version} cluster");
        let _ = sh::run(Command::new("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &version,
            "main",
            "start",
        ]));
        let _ = sh::wait_for_port("127.0.0.1:5432".parse()?, Duration::from_secs(20));
        if accepts(SYSTEM_URL) {
            return Ok(Postgres {
                url: SYSTEM_URL.into(),
                process: None,
            });
        }
    }
    private_cluster(stack)
}

fn accepts(url: &str) -> bool {
    Command::new("psql")
        .args([url, "-Atqc", "select 1"])
        .env("PGCONNECT_TIMEOUT", "3")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn debian_cluster_version() -> Option<String> {
    let entries = std::fs::read_dir("/etc/postgresql").ok()?;
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
}

fn server_bin() -> anyhow::Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .max();
    match newest {
        Some(bin) => Ok(bin),
        None => {
            setup::apt_install(&["postgresql"])?;
            server_bin_installed()
        }
    }
}

fn server_bin_installed() -> anyhow::Result<PathBuf> {
    std::fs::read_dir("/usr/lib/postgresql")?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .find(|bin| bin.join("initdb").is_file())
        .context("PostgreSQL installed but initdb not found")
}

/// A cluster of our own, with trust authentication on loopback, run as the `postgres` user
/// (PostgreSQL refuses to run as root).
fn private_cluster(stack: &Path) -> anyhow::Result<Postgres> {
    eprintln!("starting a private PostgreSQL cluster on port {PRIVATE_PORT}");
    let bin = server_bin()?;
    let data = stack.join("postgres");
    std::fs::create_dir_all(&data)?;
    sh::run(Command::new("chown").args(["postgres:postgres"]).arg(&data))?;
    sh::run(
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data),
    )?;
    let process = Background::spawn(
        "postgres",
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("postgres"))
            .arg("-D")
            .arg(&data)
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &PRIVATE_PORT.to_string(),
                "-k",
                "/tmp",
            ]),
        &stack.join("postgres.log"),
    )?;
    let addr: SocketAddr = format!("127.0.0.1:{PRIVATE_PORT}").parse()?;
    sh::wait_for_port(addr, Duration::from_secs(30))?;
    let url = format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/postgres");
    if !accepts(&url) {
        bail!("the private PostgreSQL cluster does not accept connections");
    }
    Ok(Postgres {
        url,
        process: Some(process),
    })
}
