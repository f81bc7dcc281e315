//! An OpenSSH server on a loopback port that trusts the stack's certificate authorities, maps
//! principals per account through `AuthorizedPrincipalsFile`, reads a revocation list, and logs
//! at VERBOSE so that every certificate login names its Key ID and serial.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::bail;
use xtask::stack_info::SshdInfo;

use crate::sh::{self, Background};

pub const PORT: u16 = 2222;

/// Starts sshd trusting `ca_public_keys` (one OpenSSH public key per line).
pub fn start(stack: &Path, ca_public_keys: &str) -> anyhow::Result<(Background, SshdInfo)> {
    let addr = format!("127.0.0.1:{PORT}");
    if sh::port_open(addr.parse()?) {
        bail!("something already listens on {addr}; stop the other stack first");
    }
    // The folder is 0755 and owned by whoever runs the stack; it may still sit below a
    // world-writable one such as /tmp, which sshd's StrictModes would refuse.
    let dir = stack.join("sshd");
    let principals = dir.join("principals");
    std::fs::create_dir_all(&principals)?;
    for folder in [&dir, &principals] {
        super::tls::set_mode(folder, 0o755)?;
    }
    // Privilege separation needs this folder; a system without a running sshd may lack it.
    std::fs::create_dir_all("/run/sshd")?;

    let host_key = dir.join("host_ed25519_key");
    sh::ed25519_key(&host_key, "opsportal-stack")?;
    let trusted = dir.join("trusted_user_ca_keys.pub");
    std::fs::write(&trusted, format!("{}\n", ca_public_keys.trim()))?;
    let revoked = dir.join("revoked_keys");
    std::fs::write(&revoked, "")?;
    std::fs::write(
        principals.join("root"),
        "root\nroot-everywhere\nzone-webservers\n",
    )?;

    let log_file = dir.join("sshd.log");
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {PORT}\n\
             ListenAddress 127.0.0.1\n\
             HostKey {host_key}\n\
             PidFile {pid}\n\
             TrustedUserCAKeys {trusted}\n\
             AuthorizedPrincipalsFile {principals}/%u\n\
             AuthorizedKeysFile none\n\
             RevokedKeys {revoked}\n\
             PubkeyAuthentication yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             UsePAM yes\n\
             LogLevel VERBOSE\n\
             SyslogFacility AUTHPRIV\n\
             StrictModes no\n",
            host_key = host_key.display(),
            pid = dir.join("sshd.pid").display(),
            trusted = trusted.display(),
            principals = principals.display(),
            revoked = revoked.display(),
        ),
    )?;
    let process = Background::spawn(
        "sshd",
        Command::new("/usr/sbin/sshd")
            .args(["-D", "-f"])
            .arg(&config)
            .arg("-E")
            .arg(&log_file),
        &stack.join("sshd.out"),
    )?;
    sh::wait_for_port(addr.parse()?, Duration::from_secs(10))?;
    Ok((
        process,
        SshdInfo {
            port: PORT,
            log_file,
            principals_dir: principals,
            trusted_ca_file: trusted,
            revoked_keys_file: revoked,
        },
    ))
}
