//! The real-service stack on loopback: PostgreSQL, a Samba AD domain controller, an OpenBao
//! dev server and an OpenSSH server, all in the throwaway folder `target/stack`, all stopped
//! when the [`Stack`] is dropped.

mod openbao;
mod people;
mod postgres;
mod samba;
mod sshd;
mod tls;

use std::path::PathBuf;

use anyhow::Context;
use xtask::stack_info::{EmbeddedCaInfo, STACK_ENV, StackInfo};

use crate::paths;
use crate::setup;
use crate::sh::{self, Background};

/// A running stack. Dropping it stops every process it started.
pub struct Stack {
    pub info: StackInfo,
    pub file: PathBuf,
    // Declared last so the fields above stay valid while the processes stop.
    processes: Vec<Background>,
}

impl Stack {
    /// Installs what is missing, then starts every service.
    pub fn start() -> anyhow::Result<Self> {
        setup::debian_packages()?;
        stop_leftovers();
        let dir = paths::stack();
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        tls::set_mode(&dir, 0o755)?;

        let mut processes = Vec::new();
        let pg = postgres::start(&dir)?;
        processes.extend(pg.process);
        record_pids(&processes)?;

        let ca = tls::make_ca(&dir.join("ca"))?;
        let (samba, directory) = samba::start(&dir, &ca)?;
        processes.push(samba);
        record_pids(&processes)?;

        let (bao, vault) = openbao::start(&dir)?;
        processes.push(bao);
        record_pids(&processes)?;

        let embedded_ca = embedded_ca(&dir)?;
        let trusted = format!(
            "{}\n{}",
            vault.ca_public_key.trim(),
            embedded_ca.public_key.trim()
        );
        let (sshd, sshd_info) = sshd::start(&dir, &trusted)?;
        processes.push(sshd);
        record_pids(&processes)?;

        let info = StackInfo {
            database_url: pg.url,
            directory,
            vault,
            sshd: sshd_info,
            embedded_ca,
            people: people::people(),
        };
        let file = dir.join("stack.json");
        std::fs::write(&file, serde_json::to_string_pretty(&info)?)?;
        Ok(Self {
            info,
            file,
            processes,
        })
    }

    /// Fails when a service has died since it started.
    pub fn check(&mut self) -> anyhow::Result<()> {
        let dir = paths::stack();
        for process in &mut self.processes {
            process.check_running(&dir.join(format!("{}.log", process.name)))?;
        }
        Ok(())
    }

    /// Prints how to reach each service.
    pub fn print_settings(&self) {
        let info = &self.info;
        println!("Stack running (folder {}):", paths::stack().display());
        println!("  PostgreSQL    {}", info.database_url);
        println!(
            "  Samba AD      {}  CA {}  base {}",
            info.directory.ldaps_url,
            info.directory.ca_file.display(),
            info.directory.base_dn
        );
        println!(
            "                service account {} (password in {})",
            info.directory.bind_dn,
            info.directory.bind_password_file.display()
        );
        println!(
            "  OpenBao       {}  token {}  CA {}  ssh mount {} role {}",
            info.vault.addr,
            info.vault.root_token,
            info.vault.ca_file.display(),
            info.vault.ssh_mount,
            info.vault.ssh_role
        );
        println!(
            "  sshd          127.0.0.1:{}  log {}",
            info.sshd.port,
            info.sshd.log_file.display()
        );
        println!("  export {STACK_ENV}={}", self.file.display());
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        while let Some(mut process) = self.processes.pop() {
            process.stop();
        }
        let _ = std::fs::remove_file(pids_file());
    }
}

/// An Ed25519 key for the portal's embedded CA, readable by its owner only.
fn embedded_ca(dir: &std::path::Path) -> anyhow::Result<EmbeddedCaInfo> {
    let folder = dir.join("embedded-ca");
    std::fs::create_dir_all(&folder)?;
    let key_file = folder.join("ca");
    sh::ed25519_key(&key_file, "opsportal embedded CA")?;
    tls::set_mode(&key_file, 0o600)?;
    let public_key = std::fs::read_to_string(key_file.with_extension("pub"))?;
    Ok(EmbeddedCaInfo {
        key_file,
        public_key: public_key.trim().to_owned(),
    })
}

fn pids_file() -> PathBuf {
    paths::target().join("stack.pids")
}

/// Notes the process groups started so far, so that a stack left behind by a killed xtask is
/// stopped by the next one.
fn record_pids(processes: &[Background]) -> anyhow::Result<()> {
    let pids: Vec<String> = processes.iter().map(|p| p.pid().to_string()).collect();
    std::fs::write(pids_file(), pids.join("\n"))?;
    Ok(())
}

fn stop_leftovers() {
    let Ok(text) = std::fs::read_to_string(pids_file()) else {
        return;
    };
    for pid in text.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
        sh::kill_group(pid, "TERM");
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    for pid in text.lines().filter_map(|l| l.trim().parse::<u32>().ok()) {
        sh::kill_group(pid, "KILL");
    }
    let _ = std::fs::remove_file(pids_file());
}
