//! Settings for SSH certificates: the policy every certificate follows, and the signer that
//! makes them (Vault's SSH secrets engine, or a CA inside the portal).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// What a certificate may be, and who signs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificatesConfig {
    /// `vault` (the `[vault]` section) or `embedded` (`[certificates.embedded]`).
    pub signer: SignerKind,
    /// Lifetime of a certificate when the request names none, in seconds.
    #[serde(default = "defaults::default_ttl_secs")]
    pub default_ttl_secs: u64,
    /// Longest lifetime anyone may request, in seconds; a principal grant may lower it.
    #[serde(default = "defaults::max_ttl_secs")]
    pub max_ttl_secs: u64,
    /// Smallest RSA key accepted, in bits.
    #[serde(default = "defaults::min_rsa_bits")]
    pub min_rsa_bits: usize,
    /// Extensions every certificate carries, and no others.
    #[serde(default = "defaults::extensions")]
    pub extensions: Vec<String>,
    /// Seconds a certificate's start is moved into the past, for hosts whose clocks lag.
    #[serde(default = "defaults::backdate_secs")]
    pub backdate_secs: u64,
    /// Certificates one person may request per minute; 0 for no limit.
    #[serde(default = "defaults::max_per_minute")]
    pub max_per_minute: u32,
    pub embedded: Option<EmbeddedConfig>,
}

impl CertificatesConfig {
    /// How long before its signing a certificate may start: `backdate_secs`, but at least
    /// the 30 s a Vault role backdates by default.
    pub fn accepted_backdate_secs(&self) -> u64 {
        self.backdate_secs.max(30)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignerKind {
    Vault,
    Embedded,
}

/// The portal's own CA, for small installs and the demo.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddedConfig {
    /// OpenSSH private key file of the CA (Ed25519, unencrypted), readable by the portal only.
    pub ca_key_file: PathBuf,
}

/// Vault or OpenBao, with the SSH secrets engine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// e.g. `https://vault.corp.example.com:8200`.
    pub addr: String,
    /// PEM file with the CA that issued Vault's TLS certificate.
    pub ca_file: Option<PathBuf>,
    /// Seconds any one call to Vault may take.
    #[serde(default = "defaults::vault_timeout_secs")]
    pub timeout_secs: u64,
    /// Mount path of the SSH secrets engine, e.g. `ssh-client-signer`.
    pub ssh_mount: String,
    /// The engine's role that signs the portal's certificates.
    pub ssh_role: String,
    /// How the portal proves the person to Vault: `jwt` or `ldap`.
    pub login: VaultLogin,
    pub jwt: Option<JwtLoginConfig>,
    pub ldap: Option<LdapLoginConfig>,
    /// File holding a token that may read the SSH role, for the safety check. Not needed with
    /// `jwt`, where the portal logs in as itself.
    pub check_token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VaultLogin {
    Jwt,
    Ldap,
}

/// Vault's JWT auth method, trusting the portal's signing key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtLoginConfig {
    /// Mount path of the JWT auth method, e.g. `jwt`.
    #[serde(default = "defaults::jwt_mount")]
    pub mount: String,
    /// The auth method's role.
    pub role: String,
    /// The portal's Ed25519 private key (PKCS#8 PEM) whose public half Vault trusts.
    pub key_file: PathBuf,
    pub issuer: String,
    pub audience: String,
}

/// Vault's LDAP auth method, given the person's password once at sign-in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LdapLoginConfig {
    /// Mount path of the LDAP auth method, e.g. `ldap`.
    #[serde(default = "defaults::ldap_mount")]
    pub mount: String,
}

impl VaultConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// The mount whose name Vault puts into Key IDs: `vault-<mount>-<user>-<hash>`.
    pub fn login_mount(&self) -> &str {
        match self.login {
            VaultLogin::Jwt => self.jwt.as_ref().map_or("jwt", |j| j.mount.as_str()),
            VaultLogin::Ldap => self.ldap.as_ref().map_or("ldap", |l| l.mount.as_str()),
        }
    }
}

mod defaults {
    pub fn default_ttl_secs() -> u64 {
        3600
    }
    pub fn max_ttl_secs() -> u64 {
        3600
    }
    pub fn min_rsa_bits() -> usize {
        3072
    }
    pub fn extensions() -> Vec<String> {
        vec!["permit-pty".into()]
    }
    pub fn backdate_secs() -> u64 {
        30
    }
    pub fn max_per_minute() -> u32 {
        20
    }
    pub fn vault_timeout_secs() -> u64 {
        5
    }
    pub fn jwt_mount() -> String {
        "jwt".into()
    }
    pub fn ldap_mount() -> String {
        "ldap".into()
    }
}
