//! The portal's configuration: one TOML file, overridden by `OPSPORTAL__SECTION__KEY`
//! environment variables, checked as a whole before anything starts.
//!
//! Secrets never live in this file or on the command line: each one is named by a `*_file`
//! setting and read from that file at start (see [`secret`]).

mod access;
mod certs;
mod health;
mod ingest;
mod secret;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

pub use access::{AccessConfig, PrincipalGrant};
pub use certs::{
    CertificatesConfig, EmbeddedConfig, JwtLoginConfig, LdapLoginConfig, SignerKind, VaultConfig,
    VaultLogin,
};
pub use health::HealthConfig;
pub use ingest::IngestConfig;
pub use secret::Secret;

/// Everything the portal reads at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub directory: DirectoryConfig,
    #[serde(default)]
    pub session: SessionConfig,
    #[serde(default)]
    pub sign_in: SignInConfig,
    pub access: AccessConfig,
    pub certificates: CertificatesConfig,
    /// Vault, when `certificates.signer = "vault"`.
    pub vault: Option<VaultConfig>,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub health: HealthConfig,
}

/// The HTTP listener and what it answers with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on, e.g. `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// The origin people reach the portal at, e.g. `https://portal.corp.example.test`.
    /// State-changing calls whose `Origin` header differs are refused.
    pub public_origin: String,
    /// Serve plain http and send the session cookie without `Secure` and the `__Host-` prefix.
    /// Only allowed when `listen` is a loopback address; meant for local development.
    #[serde(default)]
    pub dev_insecure_http: bool,
    /// Seconds a request may take before the portal answers 503.
    #[serde(default = "defaults::request_timeout_secs")]
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    #[serde(default = "defaults::body_limit_bytes")]
    pub body_limit_bytes: usize,
    /// Addresses of reverse proxies whose `X-Forwarded-For` header is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// The PostgreSQL database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Connection URL without a password, e.g. `postgres://opsportal@db.internal/opsportal`.
    pub url: String,
    /// File holding the database password, if the server asks for one.
    pub password_file: Option<PathBuf>,
    #[serde(default = "defaults::max_connections")]
    pub max_connections: u32,
    /// Seconds to wait for a free connection before answering 503.
    #[serde(default = "defaults::acquire_timeout_secs")]
    pub acquire_timeout_secs: u64,
}

/// The Active Directory domain people sign in with.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// Domain controllers, tried in order: `ldaps://dc1.corp.example.test` or, with
    /// `starttls = true`, `ldap://dc1.corp.example.test`.
    pub urls: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS before anything is sent.
    #[serde(default)]
    pub starttls: bool,
    /// PEM file with the CA certificates the domain controllers' certificates chain to.
    pub ca_file: Option<PathBuf>,
    /// Allow `ldap://` without StartTLS. Passwords then cross the network in the clear; only for
    /// a directory on the same host that is reached over loopback.
    #[serde(default)]
    pub allow_insecure_plain_ldap: bool,
    /// Where people and groups are searched, e.g. `DC=corp,DC=example,DC=test`.
    pub base_dn: String,
    /// The portal's service account, e.g. `CN=svc-portal,CN=Users,DC=corp,DC=example,DC=test`.
    pub bind_dn: String,
    /// File holding the service account's password.
    pub bind_password_file: PathBuf,
    /// The NetBIOS domain name accepted in `DOMAIN\user` spellings, e.g. `CORP`.
    pub netbios_domain: String,
    /// UPN suffixes accepted in `user@suffix` spellings, e.g. `corp.example.test`.
    #[serde(default)]
    pub upn_suffixes: Vec<String>,
    /// Seconds to wait for a TCP and TLS connection to one domain controller.
    #[serde(default = "defaults::ldap_connect_timeout_secs")]
    pub connect_timeout_secs: u64,
    /// Seconds to wait for any one LDAP operation.
    #[serde(default = "defaults::ldap_operation_timeout_secs")]
    pub operation_timeout_secs: u64,
}

/// Browser sessions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// A session unused for this many seconds ends.
    #[serde(default = "defaults::idle_timeout_secs")]
    pub idle_timeout_secs: u64,
    /// A session ends this many seconds after sign-in, however active.
    #[serde(default = "defaults::absolute_timeout_secs")]
    pub absolute_timeout_secs: u64,
}

/// Throttling of failed sign-ins. Keep `max_failures_per_user` below the domain's lockout
/// threshold so that the portal cannot be used to lock accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInConfig {
    #[serde(default = "defaults::max_failures_per_user")]
    pub max_failures_per_user: u32,
    #[serde(default = "defaults::user_window_secs")]
    pub user_window_secs: u64,
    #[serde(default = "defaults::max_failures_per_address")]
    pub max_failures_per_address: u32,
    #[serde(default = "defaults::address_window_secs")]
    pub address_window_secs: u64,
}

mod defaults {
    pub fn request_timeout_secs() -> u64 {
        30
    }
    pub fn body_limit_bytes() -> usize {
        64 * 1024
    }
    pub fn max_connections() -> u32 {
        10
    }
    pub fn acquire_timeout_secs() -> u64 {
        3
    }
    pub fn ldap_connect_timeout_secs() -> u64 {
        3
    }
    pub fn ldap_operation_timeout_secs() -> u64 {
        5
    }
    pub fn idle_timeout_secs() -> u64 {
        30 * 60
    }
    pub fn absolute_timeout_secs() -> u64 {
        8 * 60 * 60
    }
    // AD's usual lockout threshold is 5 to 10 bad passwords; three keeps the portal below it.
    pub fn max_failures_per_user() -> u32 {
        3
    }
    pub fn user_window_secs() -> u64 {
        5 * 60
    }
    pub fn max_failures_per_address() -> u32 {
        20
    }
    pub fn address_window_secs() -> u64 {
        60
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_secs: defaults::idle_timeout_secs(),
            absolute_timeout_secs: defaults::absolute_timeout_secs(),
        }
    }
}

impl Default for SignInConfig {
    fn default() -> Self {
        Self {
            max_failures_per_user: defaults::max_failures_per_user(),
            user_window_secs: defaults::user_window_secs(),
            max_failures_per_address: defaults::max_failures_per_address(),
            address_window_secs: defaults::address_window_secs(),
        }
    }
}

/// Why the configuration could not be used. Each message names the setting at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("{setting}: {problem}")]
    Invalid { setting: String, problem: String },
    #[error("{setting}: cannot read secret file {path}: {source}")]
    Secret {
        setting: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl ConfigError {
    fn invalid(setting: &str, problem: impl Into<String>) -> Self {
        Self::Invalid {
            setting: setting.to_owned(),
            problem: problem.into(),
        }
    }
}

impl Config {
    /// Reads `path`, applies `OPSPORTAL__*` environment overrides (sections and keys separated
    /// by a double underscore, e.g. `OPSPORTAL__SERVER__LISTEN`), and checks the result.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let config: Config = Figment::new()
            .merge(Toml::file_exact(path))
            .merge(Env::prefixed("OPSPORTAL__").split("__"))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Parses a configuration from TOML text, without environment overrides.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = Figment::new()
            .merge(Toml::string(text))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }
}

impl DirectoryConfig {
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }

    pub fn operation_timeout(&self) -> Duration {
        Duration::from_secs(self.operation_timeout_secs)
    }

    /// Reads the service account's password from its file.
    pub fn bind_password(&self) -> Result<Secret, ConfigError> {
        Secret::read("directory.bind_password_file", &self.bind_password_file)
    }
}

impl DatabaseConfig {
    /// Reads the database password, if one is configured.
    pub fn password(&self) -> Result<Option<Secret>, ConfigError> {
        self.password_file
            .as_deref()
            .map(|path| Secret::read("database.password_file", path))
            .transpose()
    }
}
