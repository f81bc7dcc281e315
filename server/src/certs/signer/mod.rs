//! Who signs certificates: Vault's SSH secrets engine or the embedded CA, behind one type.
//!
//! A signer turns a checked request into an OpenSSH certificate line. It does not decide the
//! policy (the caller has) and it is not trusted to follow it: the caller verifies whatever
//! comes back before recording and handing it out.

mod embedded;
pub mod vault;

use std::time::Duration;

use ssh_key::PublicKey;

pub use embedded::EmbeddedCa;
pub use vault::VaultSigner;

use crate::certs::key::SubmittedKey;
use crate::config::{CertificatesConfig, SignerKind, VaultConfig};

/// One signing request, already checked against the policy.
pub struct SignRequest<'a> {
    /// The directory's canonical account name.
    pub username: &'a str,
    pub groups: &'a [String],
    pub key: &'a SubmittedKey,
    pub principals: &'a [String],
    pub ttl: Duration,
    pub backdate: Duration,
    pub extensions: &'a [String],
    /// The person's own Vault token, when Vault's LDAP login made one at sign-in.
    pub vault_token: Option<&'a str>,
}

/// Why nothing was signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The signer cannot be reached, is sealed, or did not answer in time.
    #[error("signing unavailable: {0}")]
    Unavailable(String),
    /// The signer's own setup is unsafe or incomplete.
    #[error("signer misconfigured: {0}")]
    Misconfigured(String),
    /// The signer did not accept the portal's proof of the person.
    #[error("signer refused the login: {0}")]
    LoginRefused(String),
    /// The signer refused the request itself.
    #[error("signer refused the request: {0}")]
    Refused(String),
    #[error("signing failed: {0}")]
    Internal(String),
}

/// The configured signer.
pub enum Signer {
    // Boxed: the two differ much in size, and a signer is built once and shared.
    Embedded(Box<EmbeddedCa>),
    Vault(Box<VaultSigner>),
}

impl Signer {
    /// Prepares the signer the configuration names. Reads key files; contacts nobody.
    pub fn build(certs: &CertificatesConfig, vault: Option<&VaultConfig>) -> Result<Self, String> {
        match certs.signer {
            SignerKind::Embedded => {
                let embedded = certs.embedded.as_ref().ok_or(
                    "certificates.embedded: needed when certificates.signer = \"embedded\"",
                )?;
                EmbeddedCa::load(&embedded.ca_key_file)
                    .map(|ca| Self::Embedded(Box::new(ca)))
                    .map_err(|e| format!("certificates.embedded.ca_key_file: {e}"))
            }
            SignerKind::Vault => {
                let vault = vault.ok_or("vault: needed when certificates.signer = \"vault\"")?;
                let limits = vault::role::Limits {
                    max_ttl_secs: certs.max_ttl_secs,
                    backdate_secs: certs.accepted_backdate_secs(),
                };
                VaultSigner::new(vault.clone(), limits).map(|v| Self::Vault(Box::new(v)))
            }
        }
    }

    /// The name recorded with each certificate: `embedded`, `vault-jwt` or `vault-ldap`.
    pub fn backend(&self) -> &'static str {
        match self {
            Self::Embedded(_) => "embedded",
            Self::Vault(vault) => vault.backend(),
        }
    }

    /// Whether the person's own Vault token is needed (Vault's LDAP login).
    pub fn needs_session_token(&self) -> bool {
        matches!(self, Self::Vault(vault) if vault.uses_ldap_login())
    }

    pub async fn sign(&self, request: &SignRequest<'_>) -> Result<String, SignError> {
        match self {
            Self::Embedded(ca) => ca.sign(request),
            Self::Vault(vault) => vault.sign(request).await,
        }
    }

    /// The CA key every certificate must be signed with.
    pub async fn ca_public_key(&self) -> Result<PublicKey, SignError> {
        match self {
            Self::Embedded(ca) => Ok(ca.public_key().clone()),
            Self::Vault(vault) => vault.ca_public_key().await,
        }
    }

    /// Now by the signer's clock, in Unix seconds: the clock its certificates' times are in.
    pub fn now_secs(&self) -> u64 {
        match self {
            Self::Embedded(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            Self::Vault(vault) => vault.now_secs(),
        }
    }

    /// The Key ID a certificate for `key` must carry for `username`.
    pub fn expected_key_id(&self, username: &str, key: &PublicKey) -> Result<String, SignError> {
        match self {
            Self::Embedded(_) => EmbeddedCa::key_id(username, key),
            Self::Vault(vault) => vault.expected_key_id(username, key),
        }
    }

    /// Readiness: the signer answers and its setup is safe.
    pub async fn check(&self) -> Result<(), SignError> {
        match self {
            Self::Embedded(_) => Ok(()),
            Self::Vault(vault) => vault.check().await,
        }
    }
}
