//! An OpenBao (Vault-compatible) dev server with TLS, the SSH secrets engine and a JWT auth
//! method that trusts the portal's signing key.
//!
//! The SSH role follows the hardening every deployment needs: explicit principals only, no
//! user-chosen key ids, no host certificates, a restricted set of extensions, a critical-option
//! allow-list that matches nothing (an empty list would allow any), minimum key lengths and a
//! one-hour maximum lifetime.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::bail;
use xtask::stack_info::VaultInfo;

use crate::setup;
use crate::sh::{self, Background};

const ADDR: &str = "127.0.0.1:18200";
const ROOT_TOKEN: &str = "root";
pub const SSH_MOUNT: &str = "ssh-client-signer";
pub const SSH_ROLE: &str = "portal";
const JWT_MOUNT: &str = "jwt";
const JWT_ROLE: &str = "portal";
const JWT_ISSUER: &str = "opsportal";
const JWT_AUDIENCE: &str = "openbao-ssh";
/// Every principal the demo's groups grant; the role allows exactly these.
pub const PRINCIPALS: &str = "root,zone-webservers,zone-databases,root-everywhere";

/// Starts and configures the server.
pub fn start(stack: &Path) -> anyhow::Result<(Background, VaultInfo)> {
    if sh::port_open(ADDR.parse()?) {
        bail!("something already listens on {ADDR}; stop the other stack first");
    }
    let bao = setup::openbao()?;
    let dir = stack.join("openbao");
    std::fs::create_dir_all(&dir)?;
    let log = stack.join("openbao.log");
    let mut process = Background::spawn(
        "openbao",
        Command::new(&bao)
            .args(["server", "-dev", "-dev-tls"])
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .arg(format!("-dev-listen-address={ADDR}"))
            .arg(format!("-dev-tls-cert-dir={}", dir.display())),
        &log,
    )?;

    let cli = Cli {
        bao,
        ca: dir.join("vault-ca.pem"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while cli.run(&["status"]).is_err() {
        process.check_running(&log)?;
        if Instant::now() > deadline {
            bail!("OpenBao did not come up; see {}", log.display());
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let jwt_key_file = dir.join("portal-jwt.key");
    let jwt_pub_file = dir.join("portal-jwt.pub");
    make_jwt_key(&jwt_key_file, &jwt_pub_file)?;
    configure(&cli, &jwt_pub_file)?;
    let ca_public_key = cli.run(&[
        "read",
        "-field=public_key",
        &format!("{SSH_MOUNT}/config/ca"),
    ])?;

    let info = VaultInfo {
        addr: format!("https://{ADDR}"),
        ca_file: cli.ca.clone(),
        root_token: ROOT_TOKEN.into(),
        ssh_mount: SSH_MOUNT.into(),
        ssh_role: SSH_ROLE.into(),
        jwt_mount: JWT_MOUNT.into(),
        jwt_role: JWT_ROLE.into(),
        jwt_issuer: JWT_ISSUER.into(),
        jwt_audience: JWT_AUDIENCE.into(),
        jwt_key_file,
        ca_public_key: ca_public_key.trim().to_owned(),
    };
    Ok((process, info))
}

struct Cli {
    bao: PathBuf,
    ca: PathBuf,
}

impl Cli {
    fn run(&self, args: &[&str]) -> anyhow::Result<String> {
        sh::run(
            Command::new(&self.bao)
                .args(args)
                .env("BAO_ADDR", format!("https://{ADDR}"))
                .env("BAO_TOKEN", ROOT_TOKEN)
                .env("BAO_CACERT", &self.ca),
        )
    }
}

fn make_jwt_key(key: &Path, public: &Path) -> anyhow::Result<()> {
    sh::run(
        Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(key),
    )?;
    super::tls::set_mode(key, 0o600)?;
    sh::run(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(key)
            .arg("-out")
            .arg(public),
    )?;
    Ok(())
}

fn configure(cli: &Cli, jwt_pub_file: &Path) -> anyhow::Result<()> {
    cli.run(&["secrets", "enable", &format!("-path={SSH_MOUNT}"), "ssh"])?;
    cli.run(&[
        "write",
        &format!("{SSH_MOUNT}/config/ca"),
        "generate_signing_key=true",
        "key_type=ed25519",
    ])?;
    let role = serde_json::json!({
        "key_type": "ca",
        "allow_user_certificates": true,
        "allow_host_certificates": false,
        "allow_user_key_ids": false,
        "allow_empty_principals": false,
        "allowed_users": PRINCIPALS,
        "default_user": "",
        "allowed_extensions": "permit-pty",
        "default_extensions": { "permit-pty": "" },
        "allowed_critical_options": "none@opsportal",
        "ttl": "1h",
        "max_ttl": "1h",
        "algorithm_signer": "default",
        "allowed_user_key_lengths": { "rsa": [3072, 4096], "ed25519": [0], "ec": [256, 384] },
    });
    let role_file = jwt_pub_file.with_file_name("ssh-role.json");
    std::fs::write(&role_file, role.to_string())?;
    cli.run(&[
        "write",
        &format!("{SSH_MOUNT}/roles/{SSH_ROLE}"),
        &format!("@{}", role_file.display()),
    ])?;

    // `portal*` also covers the roles tests make beside the demo's own.
    let policy = format!(
        "path \"{SSH_MOUNT}/sign/{SSH_ROLE}*\" {{ capabilities = [\"update\"] }}\n\
         path \"{SSH_MOUNT}/roles/{SSH_ROLE}*\" {{ capabilities = [\"read\"] }}\n\
         path \"{SSH_MOUNT}/config/ca\" {{ capabilities = [\"read\"] }}\n"
    );
    let policy_file = jwt_pub_file.with_file_name("ssh-sign.hcl");
    std::fs::write(&policy_file, policy)?;
    cli.run(&[
        "policy",
        "write",
        "ssh-sign",
        &policy_file.to_string_lossy(),
    ])?;

    cli.run(&["auth", "enable", &format!("-path={JWT_MOUNT}"), "jwt"])?;
    cli.run(&[
        "write",
        &format!("auth/{JWT_MOUNT}/config"),
        &format!("jwt_validation_pubkeys=@{}", jwt_pub_file.display()),
        &format!("bound_issuer={JWT_ISSUER}"),
    ])?;
    cli.run(&[
        "write",
        &format!("auth/{JWT_MOUNT}/role/{JWT_ROLE}"),
        "role_type=jwt",
        "user_claim=sub",
        "groups_claim=groups",
        &format!("bound_audiences={JWT_AUDIENCE}"),
        "token_policies=ssh-sign",
        "token_ttl=2m",
        "token_max_ttl=2m",
        "token_type=service",
    ])?;
    Ok(())
}
