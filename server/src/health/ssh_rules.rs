//! The rules over how a host's sshd decides who may log in, and over the host itself going
//! quiet.
//!
//! The revocation list is judged by age, not by content: the list the portal serves carries
//! the time it was made, so its SHA-256 changes every second and can never equal a host's
//! copy. A copy written before the portal's latest revocation (allowing the hosts' usual
//! fetch delay) misses that revocation; one written after it is complete.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use opsportal_shared::health::{Finding, Severity, SshFacts};

use super::rules::finding;

/// Log levels at which sshd writes a certificate's Key ID and serial.
const VERBOSE_OR_MORE: &[&str] = &["VERBOSE", "DEBUG", "DEBUG1", "DEBUG2", "DEBUG3"];

/// Findings from sshd's facts. `principals` are those the portal hands out.
pub fn evaluate(facts: &SshFacts, principals: &BTreeSet<String>) -> Vec<Finding> {
    let mut out = Vec::new();
    if !facts.config_readable {
        out.push(finding(
            "sshd_config_unreadable",
            Severity::Warning,
            Some(facts.config_path.clone()),
            "sshd's configuration could not be read".into(),
            format!(
                "The agent could not read {}, so nothing is known about who may log in.",
                facts.config_path
            ),
            "Run the agent as root, or point --sshd-config at the file sshd uses.",
        ));
        return out;
    }
    let level = facts.log_level.as_deref().unwrap_or("INFO");
    if !VERBOSE_OR_MORE.contains(&level) {
        out.push(finding(
            "log_level_low",
            Severity::Warning,
            None,
            format!("sshd logs at {level}, below VERBOSE"),
            "At this level sshd does not log a certificate's Key ID and serial, so logins on \
             this host cannot be tied to a person."
                .into(),
            "Set LogLevel VERBOSE in sshd_config and reload sshd.",
        ));
    }
    if facts.authorized_principals_file.is_none() {
        out.push(finding(
            "no_principals_file",
            Severity::Warning,
            None,
            "No AuthorizedPrincipalsFile".into(),
            "Without it, a certificate logs in to the account named like one of its \
             principals, and the portal's principals cannot be mapped to accounts per host."
                .into(),
            "Set AuthorizedPrincipalsFile /etc/ssh/principals/%u and list, per account, the \
             principals that may use it.",
        ));
    }
    for account in facts
        .accounts
        .iter()
        .filter(|a| principals.contains(&a.name))
    {
        // With a principals file configured, sshd refuses certificates for an account whose
        // file is missing, so nothing is open; without one, the principal is the account.
        let (severity, explanation) = if facts.authorized_principals_file.is_none() {
            (
                Severity::Critical,
                format!(
                    "Local account {0} is named like a principal the portal hands out, and no \
                     AuthorizedPrincipalsFile is set: everyone granted principal {0} logs in \
                     as this account.",
                    account.name
                ),
            )
        } else if account.principals.is_none() {
            (
                Severity::Warning,
                format!(
                    "Local account {} is named like a principal the portal hands out and has \
                     no principals file ({}); certificates cannot log in to it today, but \
                     whoever creates that file decides who can.",
                    account.name,
                    account.principals_file.as_deref().unwrap_or("none")
                ),
            )
        } else {
            continue;
        };
        out.push(finding(
            "principal_account",
            severity,
            Some(account.name.clone()),
            format!("Account {} is named like a portal principal", account.name),
            explanation,
            "Remove or rename the account, or give it a principals file listing exactly the \
             principals that may use it.",
        ));
    }
    match &facts.revoked_keys {
        None => out.push(finding(
            "revoked_keys_missing",
            Severity::Critical,
            None,
            "No RevokedKeys".into(),
            "sshd does not read the portal's revocation list, so a revoked certificate still \
             logs in here until it expires."
                .into(),
            "Set RevokedKeys /etc/ssh/revoked.krl and fetch the portal's /krl every minute.",
        )),
        Some(file) if file.sha256.is_none() => out.push(finding(
            "revoked_keys_missing",
            Severity::Critical,
            Some(file.path.clone()),
            "RevokedKeys file unreadable".into(),
            format!(
                "sshd is told to read {}, which cannot be read: sshd then refuses every key \
                 and certificate.",
                file.path
            ),
            "Fetch the portal's /krl into that path (curl -fsS .../krl -o file.new && mv).",
        )),
        Some(_) => {}
    }
    out
}

/// When the host's revocation list was written, by the portal's clock: the collection time
/// less the file's age.
pub fn krl_written_at(facts: &SshFacts, collected_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let age = facts.revoked_keys.as_ref()?.age_secs?;
    let age = chrono::Duration::seconds(i64::try_from(age).ok()?);
    collected_at.checked_sub_signed(age)
}

/// A finding when the host's list predates the latest revocation by more than the grace.
pub fn krl_stale(
    written_at: Option<DateTime<Utc>>,
    last_revocation: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    grace_secs: u64,
) -> Option<Finding> {
    let (written_at, revoked_at) = (written_at?, last_revocation?);
    let waited = (now - revoked_at).num_seconds();
    if written_at >= revoked_at || waited < grace_secs as i64 {
        return None;
    }
    Some(finding(
        "revoked_keys_stale",
        Severity::Critical,
        None,
        "Revocation list out of date".into(),
        format!(
            "The host's RevokedKeys file was written at {}, before the latest revocation at {}: \
             certificates revoked since still log in here.",
            written_at.to_rfc3339(),
            revoked_at.to_rfc3339()
        ),
        "Check the job that fetches the portal's /krl every minute (curl -fsS, then mv into \
         place).",
    ))
}

/// A finding when nothing arrived for `factor` intervals.
pub fn not_reporting(
    received_at: DateTime<Utc>,
    interval_secs: u64,
    now: DateTime<Utc>,
    factor: u32,
) -> Option<Finding> {
    let silent = (now - received_at).num_seconds();
    let limit = interval_secs.saturating_mul(u64::from(factor));
    if silent <= limit as i64 {
        return None;
    }
    Some(finding(
        "not_reporting",
        Severity::Critical,
        None,
        "Host stopped reporting".into(),
        format!(
            "No report for {silent} s, {factor} times its interval of {interval_secs} s: the \
             host, its agent or the way to the portal is down. Everything else shown is from \
             the last report."
        ),
        "Check the host is up, then systemctl status opsportal-agent and its log.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsportal_shared::health::{RevokedKeysFile, SshAccount};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn facts() -> SshFacts {
        SshFacts {
            config_path: "/etc/ssh/sshd_config".into(),
            config_readable: true,
            log_level: Some("INFO".into()),
            trusted_user_ca_keys: None,
            authorized_principals_file: None,
            revoked_keys: None,
            accounts: vec![SshAccount {
                name: "zone-webservers".into(),
                uid: 1001,
                home: "/home/zone-webservers".into(),
                principals_file: None,
                principals: None,
            }],
        }
    }

    fn principals() -> BTreeSet<String> {
        ["root", "zone-webservers"].map(String::from).into()
    }

    #[test]
    fn an_info_sshd_without_mapping_or_krl_has_four_findings() {
        let found = evaluate(&facts(), &principals());
        let rules: Vec<(&str, Severity)> = found
            .iter()
            .map(|f| (f.rule.as_str(), f.severity))
            .collect();
        assert_eq!(
            rules,
            [
                ("log_level_low", Severity::Warning),
                ("no_principals_file", Severity::Warning),
                ("principal_account", Severity::Critical),
                ("revoked_keys_missing", Severity::Critical),
            ]
        );
        assert_eq!(found[2].subject.as_deref(), Some("zone-webservers"));
    }

    #[test]
    fn a_mapped_account_and_verbose_logging_are_fine() {
        let mut facts = facts();
        facts.log_level = Some("VERBOSE".into());
        facts.authorized_principals_file = Some("/etc/ssh/principals/%u".into());
        facts.accounts[0].principals = Some(vec!["zone-webservers".into()]);
        facts.revoked_keys = Some(RevokedKeysFile {
            path: "/etc/ssh/revoked.krl".into(),
            sha256: Some("00".into()),
            age_secs: Some(30),
        });
        assert!(evaluate(&facts, &principals()).is_empty());
        facts.accounts[0].principals = None;
        let found = evaluate(&facts, &principals());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
    }

    #[test]
    fn a_list_older_than_the_last_revocation_is_stale_after_the_grace() {
        assert!(krl_stale(Some(at(0)), Some(at(100)), at(200), 300).is_none());
        let stale = krl_stale(Some(at(0)), Some(at(100)), at(500), 300).unwrap();
        assert_eq!(stale.severity, Severity::Critical);
        assert!(krl_stale(Some(at(150)), Some(at(100)), at(500), 300).is_none());
        assert!(krl_stale(None, Some(at(100)), at(500), 300).is_none());
    }

    #[test]
    fn silence_beyond_three_intervals_is_a_finding() {
        assert!(not_reporting(at(0), 10, at(30), 3).is_none());
        let found = not_reporting(at(0), 10, at(31), 3).unwrap();
        assert_eq!(found.rule, "not_reporting");
        assert!(found.explanation.contains("No report for 31 s"));
    }
}
