//! Which directory groups grant which portal roles and SSH principals.

use serde::Deserialize;

/// Group names are matched case-insensitively against each group's `sAMAccountName` (or `cn`);
/// a name containing `=` is taken as a full distinguished name instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Members may request certificates.
    #[serde(default)]
    pub user_groups: Vec<String>,
    /// Members may read everyone's history and the audit trail.
    #[serde(default)]
    pub auditor_groups: Vec<String>,
    /// Members may manage certificates, hosts and tokens.
    #[serde(default)]
    pub admin_groups: Vec<String>,
    /// SSH principals granted per group.
    #[serde(default)]
    pub principal_grants: Vec<PrincipalGrant>,
}

/// Members of `group` may request certificates for `principals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrincipalGrant {
    pub group: String,
    pub principals: Vec<String>,
    /// Longest lifetime, in seconds, of a certificate holding these principals through this
    /// group; `certificates.max_ttl_secs` when absent.
    #[serde(default)]
    pub max_ttl_secs: Option<u64>,
}
