//! SSH certificates: requesting one, what comes back, listings and revocation.
//!
//! Serials are unsigned 64-bit numbers, beyond what JavaScript numbers hold exactly, so they
//! travel as decimal strings (as sshd logs them) and as hex (as Vault shows them).

use serde::{Deserialize, Serialize};

/// `POST /api/certificates`: certify a public key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// One OpenSSH public key line, e.g. the contents of `~/.ssh/id_ed25519.pub`.
    pub public_key: String,
    /// Principals wanted; all that the person may have when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principals: Option<Vec<String>>,
    /// Lifetime in seconds; the policy's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
}

/// Where a certificate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateState {
    /// Issued and within its validity.
    Valid,
    /// Issued, validity over.
    Expired,
    /// Issued, then revoked.
    Revoked,
    /// Asked of the signer and never recorded as issued: the signer may have signed it.
    Unfinished,
    /// The signer signed nothing.
    Failed,
    /// The signer returned a certificate that broke the policy; it was not handed out.
    Rejected,
}

impl CertificateState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Unfinished => "unfinished",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
        }
    }
}

/// One certificate as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateSummary {
    pub id: i64,
    pub state: CertificateState,
    pub username: String,
    pub principals: Vec<String>,
    /// Decimal, as sshd logs it.
    pub serial: Option<String>,
    /// Hex, as Vault shows it.
    pub serial_hex: Option<String>,
    pub key_id: Option<String>,
    /// `SHA256:...` of the certified public key.
    pub key_fingerprint: String,
    pub ca_fingerprint: Option<String>,
    /// RFC 3339.
    pub valid_after: Option<String>,
    pub valid_before: Option<String>,
    pub created_at: String,
    pub backend: String,
    pub revoked_at: Option<String>,
    pub revoked_by: Option<String>,
}

/// A certificate with everything needed to use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCertificate {
    #[serde(flatten)]
    pub summary: CertificateSummary,
    /// The OpenSSH certificate line.
    pub certificate: String,
    /// The file name OpenSSH looks for beside the private key, e.g. `id_ed25519-cert.pub`.
    pub file_name: String,
    /// The private key's file name the certificate belongs beside, e.g. `id_ed25519`.
    pub identity_file: String,
    /// The details as `ssh-keygen -L` shows them.
    pub details: String,
}

/// `GET /api/certificates/policy`: what this person may request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificatePolicy {
    pub principals: Vec<PrincipalLimit>,
    pub default_ttl_secs: u64,
    pub max_ttl_secs: u64,
    pub min_rsa_bits: usize,
    pub extensions: Vec<String>,
}

/// A principal and the longest lifetime a certificate holding it may have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalLimit {
    pub principal: String,
    pub max_ttl_secs: u64,
}

/// `POST /api/admin/certificates/{id}/revoke` and the person-wide revocation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[serde(default)]
    pub reason: Option<String>,
}

/// `POST /api/admin/keys/revoke`: revoke every certificate of a public key, and the key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeKeyRequest {
    /// `SHA256:...` of a key the portal has certified.
    pub key_fingerprint: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// How many certificates a revocation touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeOutcome {
    pub revoked: u64,
}
