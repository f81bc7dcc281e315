//! A Samba Active Directory domain controller on loopback, holding the demo directory.
//!
//! Provisioning takes seconds, so the provisioned and seeded database is kept in the cache
//! folder and copied into the throwaway stack folder on later starts (at the same absolute
//! path, which Samba's configuration records).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;
use xtask::stack_info::DirectoryInfo;

use super::people::{self, ADMIN_PASSWORD, GROUPS, SERVICE_ACCOUNT, SERVICE_PASSWORD};
use super::tls::Ca;
use crate::paths;
use crate::sh::{self, Background};

const SEED_SCRIPT: &str = include_str!("samba_seed.py");
const REALM: &str = "CORP.EXAMPLE.TEST";
const NETBIOS: &str = "CORP";
const UPN_SUFFIX: &str = "corp.example.test";
const BASE_DN: &str = "DC=corp,DC=example,DC=test";
const LDAPS: &str = "127.0.0.1:636";

/// Starts the domain controller, provisioning it first when the cache has none.
pub fn start(stack: &Path, ca: &Ca) -> anyhow::Result<(Background, DirectoryInfo)> {
    if sh::port_open(LDAPS.parse()?) {
        bail!("something already listens on {LDAPS}; stop the other stack (or Samba) first");
    }
    let dir = stack.join("samba");
    let spec = seed_spec();
    let template = paths::cache().join(format!("samba-{:016x}", fingerprint(&spec, &dir)));
    if template.is_dir() {
        copy_dir(&template, &dir)?;
    } else {
        eprintln!("provisioning the demo Active Directory domain (once; cached afterwards)");
        provision(&dir, &spec)?;
        std::fs::create_dir_all(paths::cache())?;
        let partial = template.with_extension("partial");
        let _ = std::fs::remove_dir_all(&partial);
        copy_dir(&dir, &partial)?;
        std::fs::rename(&partial, &template)?;
    }

    let tls_dir = stack.join("samba-tls");
    std::fs::create_dir_all(&tls_dir)?;
    let (cert, key) = ca.issue(&tls_dir, "dc")?;
    let smb_conf = dir.join("etc/smb.conf");
    configure(&smb_conf, &dir, &cert, &key, &ca.cert)?;

    let log = stack.join("samba.log");
    let mut process = Background::spawn(
        "samba",
        Command::new("samba")
            .arg("-s")
            .arg(&smb_conf)
            .args(["-i", "--debug-stdout"]),
        &log,
    )?;
    let ready = sh::wait_for_port(LDAPS.parse::<SocketAddr>()?, Duration::from_secs(60));
    if let Err(error) = ready {
        process.check_running(&log)?;
        return Err(error);
    }

    let bind_password_file = stack.join("svc-portal.password");
    std::fs::write(&bind_password_file, format!("{SERVICE_PASSWORD}\n"))?;
    super::tls::set_mode(&bind_password_file, 0o600)?;
    let info = DirectoryInfo {
        ldaps_url: format!("ldaps://{LDAPS}"),
        ldap_url: "ldap://127.0.0.1:389".into(),
        ca_file: ca.cert.clone(),
        base_dn: BASE_DN.into(),
        users_dn: format!("CN=Users,{BASE_DN}"),
        bind_dn: format!("CN={SERVICE_ACCOUNT},CN=Users,{BASE_DN}"),
        bind_password_file,
        netbios_domain: NETBIOS.into(),
        upn_suffix: UPN_SUFFIX.into(),
        smb_conf,
        admin_password: ADMIN_PASSWORD.into(),
    };
    Ok((process, info))
}

fn seed_spec() -> serde_json::Value {
    json!({
        "service_account": SERVICE_ACCOUNT,
        "service_password": SERVICE_PASSWORD,
        "upn_suffix": UPN_SUFFIX,
        "groups": GROUPS,
        "people": people::people(),
    })
}

/// Identifies a provisioned directory: what was seeded, how, and where.
fn fingerprint(spec: &serde_json::Value, dir: &Path) -> u64 {
    let mut hasher = DefaultHasher::new();
    spec.to_string().hash(&mut hasher);
    SEED_SCRIPT.hash(&mut hasher);
    dir.hash(&mut hasher);
    hasher.finish()
}

fn provision(dir: &Path, spec: &serde_json::Value) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    sh::run(
        Command::new("samba-tool")
            .args(["domain", "provision", "--server-role=dc", "--use-rfc2307"])
            .args(["--dns-backend=NONE", "--realm", REALM, "--domain", NETBIOS])
            .arg(format!("--adminpass={ADMIN_PASSWORD}"))
            .arg(format!("--targetdir={}", dir.display()))
            .args([
                "--option=interfaces=lo",
                "--option=bind interfaces only=yes",
            ]),
    )
    .context("provisioning the domain")?;

    let script = dir.join("seed.py");
    std::fs::write(&script, SEED_SCRIPT)?;
    // Debian's python3 has Samba's bindings; another python3 earlier on PATH may not.
    let mut child = Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(dir.join("etc/smb.conf"))
        .arg(dir.join("private/sam.ldb"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the directory seed script")?;
    child
        .stdin
        .take()
        .context("seed script stdin")?
        .write_all(spec.to_string().as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!(
            "seeding the directory failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Restricts Samba to LDAP on loopback with the stack's certificate, logging into the folder.
fn configure(
    smb_conf: &Path,
    dir: &Path,
    cert: &Path,
    key: &Path,
    ca: &Path,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(smb_conf)?;
    let mut out = String::new();
    for line in text.lines() {
        let setting = line.trim_start();
        if setting.starts_with("server services")
            || setting.starts_with("log file")
            || setting.starts_with("tls ")
        {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if setting == "[global]" {
            out.push_str(&format!(
                "\tserver services = ldap\n\
                 \tlog file = {}\n\
                 \ttls enabled = yes\n\
                 \ttls keyfile = {}\n\
                 \ttls certfile = {}\n\
                 \ttls cafile = {}\n",
                dir.join("log.samba").display(),
                key.display(),
                cert.display(),
                ca.display()
            ));
        }
    }
    std::fs::write(smb_conf, out)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(to);
    sh::run(Command::new("cp").arg("-a").arg(from).arg(to)).map(drop)
}
