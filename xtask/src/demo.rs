//! `cargo xtask demo`: the portal against the stack, in a browser near you.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use xtask::stack_info::StackInfo;

use crate::frontend;
use crate::paths;
use crate::sh::{self, Background};
use crate::stack::Stack;

const LISTEN: &str = "127.0.0.1:8080";
const DATABASE: &str = "opsportal_demo";

pub fn run() -> anyhow::Result<()> {
    frontend::build()?;
    sh::run_visible(Command::new("cargo").current_dir(paths::root()).args([
        "build",
        "--release",
        "--package",
        "opsportal-server",
    ]))?;

    let mut stack = Stack::start()?;
    let database_url = fresh_database(&stack.info.database_url)?;
    let config = write_config(&stack.info, &database_url)?;
    let log = paths::stack().join("portal.log");
    let mut portal = Background::spawn(
        "opsportal",
        Command::new(paths::target().join("release/opsportal"))
            .arg("--config")
            .arg(&config)
            .args(["serve", "--migrate"]),
        &log,
    )?;
    if let Err(error) = sh::wait_for_port(LISTEN.parse()?, Duration::from_secs(30)) {
        portal.check_running(&log)?;
        return Err(error);
    }

    println!();
    stack.print_settings();
    println!();
    println!(
        "opsportal is running at http://{LISTEN}  (log: {})",
        log.display()
    );
    println!("Sign in as one of:");
    for person in &stack.info.people {
        println!(
            "  {:<8} {:<20} {}",
            person.username, person.password, person.note
        );
    }
    println!("Press Ctrl-C to stop everything.");

    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })?;
    loop {
        if stopped.recv_timeout(Duration::from_secs(2)).is_ok() {
            break;
        }
        portal.check_running(&log)?;
        stack.check()?;
    }
    eprintln!("stopping");
    portal.stop();
    Ok(())
}

/// Creates an empty database for the demo and returns its URL.
fn fresh_database(admin_url: &str) -> anyhow::Result<String> {
    for statement in [
        format!("drop database if exists {DATABASE} with (force)"),
        format!("create database {DATABASE}"),
    ] {
        sh::run(Command::new("psql").args([admin_url, "-Atqc", &statement]))?;
    }
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("database URL without a name")?;
    Ok(format!("{base}/{DATABASE}"))
}

fn write_config(info: &StackInfo, database_url: &str) -> anyhow::Result<PathBuf> {
    let dir = paths::stack().join("portal");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("opsportal.toml");
    std::fs::write(&path, demo_config(info, database_url))?;
    Ok(path)
}

fn quoted(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

fn demo_config(info: &StackInfo, database_url: &str) -> String {
    let dir = &info.directory;
    format!(
        r#"# opsportal demo configuration, written by `cargo xtask demo`.
[server]
listen = "{LISTEN}"
public_origin = "http://{LISTEN}"
dev_insecure_http = true

[database]
url = "{database_url}"

[directory]
urls = ["{ldaps}"]
ca_file = {ca}
base_dn = "{base}"
bind_dn = "{bind}"
bind_password_file = {password}
netbios_domain = "{netbios}"
upn_suffixes = ["{upn}"]

{access}
[certificates]
signer = "vault"

[vault]
addr = "{vault_addr}"
ca_file = {vault_ca}
ssh_mount = "{ssh_mount}"
ssh_role = "{ssh_role}"
login = "jwt"

[vault.jwt]
mount = "{jwt_mount}"
role = "{jwt_role}"
key_file = {jwt_key}
issuer = "{jwt_issuer}"
audience = "{jwt_audience}"
"#,
        access = xtask::stack_info::ACCESS_TOML,
        vault_addr = info.vault.addr,
        vault_ca = quoted(&info.vault.ca_file),
        ssh_mount = info.vault.ssh_mount,
        ssh_role = info.vault.ssh_role,
        jwt_mount = info.vault.jwt_mount,
        jwt_role = info.vault.jwt_role,
        jwt_key = quoted(&info.vault.jwt_key_file),
        jwt_issuer = info.vault.jwt_issuer,
        jwt_audience = info.vault.jwt_audience,
        ldaps = dir.ldaps_url,
        ca = quoted(&dir.ca_file),
        base = dir.base_dn,
        bind = dir.bind_dn,
        password = quoted(&dir.bind_password_file),
        netbios = dir.netbios_domain,
        upn = dir.upn_suffix,
    )
}
