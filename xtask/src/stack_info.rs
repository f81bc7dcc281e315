//! What a running stack offers, written to `target/stack/stack.json` by `cargo xtask stack`
//! (and `demo`, `test`) and read by the integration tests through `OPSPORTAL_STACK`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The portal's `[access]` settings for the demo directory's groups, shared by the demo and
/// the tests so that both grant the same roles and principals.
pub const ACCESS_TOML: &str = r#"[access]
user_groups = ["opsportal-users"]
auditor_groups = ["opsportal-auditors"]
admin_groups = ["opsportal-admins"]

[[access.principal_grants]]
group = "ssh-webservers"
principals = ["root", "zone-webservers"]

[[access.principal_grants]]
group = "ssh-databases"
principals = ["root", "zone-databases"]
max_ttl_secs = 1800

[[access.principal_grants]]
group = "ssh-root-everywhere"
principals = ["root", "root-everywhere"]
"#;

/// Environment variable naming the stack file.
pub const STACK_ENV: &str = "OPSPORTAL_STACK";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackInfo {
    /// URL of a PostgreSQL role allowed to create databases.
    pub database_url: String,
    pub directory: DirectoryInfo,
    pub vault: VaultInfo,
    pub sshd: SshdInfo,
    pub embedded_ca: EmbeddedCaInfo,
    /// The demo directory's people, with their passwords.
    pub people: Vec<Person>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DirectoryInfo {
    pub ldaps_url: String,
    pub ldap_url: String,
    pub ca_file: PathBuf,
    pub base_dn: String,
    pub users_dn: String,
    pub bind_dn: String,
    pub bind_password_file: PathBuf,
    pub netbios_domain: String,
    pub upn_suffix: String,
    pub smb_conf: PathBuf,
    pub admin_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VaultInfo {
    pub addr: String,
    pub ca_file: PathBuf,
    pub root_token: String,
    pub ssh_mount: String,
    /// Role used by the portal to sign user certificates.
    pub ssh_role: String,
    pub jwt_mount: String,
    pub jwt_role: String,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// The portal's Ed25519 private key (PKCS#8 PEM) whose public half the JWT method trusts.
    pub jwt_key_file: PathBuf,
    pub ca_public_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SshdInfo {
    pub port: u16,
    pub log_file: PathBuf,
    /// Folder holding one principals file per account (`AuthorizedPrincipalsFile DIR/%u`).
    pub principals_dir: PathBuf,
    /// The file sshd reads for `TrustedUserCAKeys`.
    pub trusted_ca_file: PathBuf,
    /// The file sshd reads for `RevokedKeys`.
    pub revoked_keys_file: PathBuf,
}

/// A CA key for the portal's embedded signer, trusted by the stack's sshd.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddedCaInfo {
    /// OpenSSH private key, mode 0600.
    pub key_file: PathBuf,
    pub public_key: String,
}

/// One person of the demo directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Person {
    pub username: String,
    pub password: String,
    pub display_name: String,
    pub groups: Vec<String>,
    /// What makes this account special, for people reading the demo's list.
    pub note: String,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub must_change_password: bool,
}

impl StackInfo {
    /// Reads the stack file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read stack file {}: {e}", path.display()))?;
        Ok(serde_json::from_str(&text)?)
    }

    /// Reads the stack file named by `OPSPORTAL_STACK`, with a message that says how to start
    /// one when it is missing.
    pub fn from_env() -> anyhow::Result<Self> {
        let path = std::env::var_os(STACK_ENV).ok_or_else(|| {
            anyhow::anyhow!(
                "{STACK_ENV} is not set: run the tests with `cargo xtask test`, or start \
                 `cargo xtask stack` and export the {STACK_ENV} it prints"
            )
        })?;
        Self::read(Path::new(&path))
    }

    /// The demo person called `username`.
    pub fn person(&self, username: &str) -> &Person {
        self.people
            .iter()
            .find(|p| p.username == username)
            .unwrap_or_else(|| panic!("the demo directory has no {username}"))
    }
}
