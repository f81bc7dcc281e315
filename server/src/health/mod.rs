//! Host health: what `opsportal-agent` reports about a host's limits and its sshd, stored,
//! judged and shown.
//!
//! A report is read and checked whole ([`validate`]), then stored in one transaction
//! ([`store`]) together with the rates and trends worked out from the agent's previous report
//! ([`rates`]) and the findings of the rules ([`rules`] for the numbers, [`ssh_rules`] for
//! sshd). The fleet page reads each host's latest state ([`fleet`]); a host's page draws its
//! numbers over time ([`series`]). Old reports are rolled into hourly rows ([`rollup`]).
//!
//! Reports use the ingest side's database pool, token check and partitions, so a flood of
//! reports cannot starve sign-in.

pub mod fleet;
pub mod rates;
pub mod rollup;
pub mod rules;
pub mod series;
pub mod ssh_rules;
pub mod store;
pub mod validate;

use std::collections::BTreeSet;

use crate::config::AccessConfig;

/// Every principal the portal may hand out, from `access.principal_grants`.
pub fn portal_principals(access: &AccessConfig) -> BTreeSet<String> {
    access
        .principal_grants
        .iter()
        .flat_map(|grant| grant.principals.iter().cloned())
        .collect()
}
