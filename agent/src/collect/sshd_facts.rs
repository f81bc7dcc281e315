//! SSH access facts: which CA sshd trusts, which principals each shared account accepts, the
//! log level (which decides what login history the portal can build) and the revocation list.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use opsportal_shared::health::{CaKey, CaKeysFile, RevokedKeysFile, SshAccount, SshFacts};
use sha2::{Digest, Sha256};
use ssh_key::{HashAlg, PublicKey};

use super::passwd::{self, Account};
use super::{CollectError, sshd_config};

/// Where to read and which accounts matter.
#[derive(Debug, Clone)]
pub struct SshdSources {
    pub sshd_config: PathBuf,
    pub passwd: PathBuf,
    /// Principals the portal hands out; local accounts with these names are reported.
    pub principals: Vec<String>,
}

/// Collects the facts; an unreadable config gives a report saying so, plus the error.
pub fn collect(sources: &SshdSources) -> (SshFacts, Option<CollectError>) {
    let mut facts = SshFacts {
        config_path: sources.sshd_config.display().to_string(),
        ..SshFacts::default()
    };
    let config = match sshd_config::read(&sources.sshd_config) {
        Ok(config) => config,
        Err(error) => return (facts, Some(error)),
    };
    facts.config_readable = true;
    facts.log_level = Some(
        config
            .get("LogLevel")
            .unwrap_or("INFO")
            .to_ascii_uppercase(),
    );
    facts.trusted_user_ca_keys =
        setting_path(config.get("TrustedUserCAKeys")).map(|p| ca_keys_file(&p));
    facts.revoked_keys = setting_path(config.get("RevokedKeys")).map(|p| revoked_keys(&p));
    facts.authorized_principals_file = config
        .get("AuthorizedPrincipalsFile")
        .filter(|v| !v.eq_ignore_ascii_case("none"))
        .map(String::from);

    let accounts = match passwd::read(&sources.passwd) {
        Ok(accounts) => accounts,
        Err(error) => return (facts, Some(error)),
    };
    facts.accounts = accounts
        .into_iter()
        .filter(|a| sources.principals.contains(&a.name))
        .map(|a| account_facts(a, facts.authorized_principals_file.as_deref()))
        .collect();
    (facts, None)
}

fn setting_path(value: Option<&str>) -> Option<PathBuf> {
    value
        .filter(|v| !v.eq_ignore_ascii_case("none"))
        .map(PathBuf::from)
}

fn account_facts(account: Account, pattern: Option<&str>) -> SshAccount {
    let principals_file = pattern.map(|p| expand_tokens(p, &account));
    let principals = principals_file.as_deref().and_then(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                // A principals line may carry key options after the name; the name is first.
                .filter_map(|l| l.split_whitespace().next())
                .map(String::from)
                .collect(),
        )
    });
    SshAccount {
        name: account.name,
        uid: account.uid,
        home: account.home,
        principals_file: principals_file.map(|p| p.display().to_string()),
        principals,
    }
}

/// Expands `%%`, `%h`, `%U` and `%u` as sshd does for `AuthorizedPrincipalsFile`; a relative
/// result is taken from the account's home directory.
pub fn expand_tokens(pattern: &str, account: &Account) -> PathBuf {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some('h') => out.push_str(&account.home),
            Some('u') => out.push_str(&account.name),
            Some('U') => out.push_str(&account.uid.to_string()),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    let path = PathBuf::from(out);
    if path.is_absolute() {
        path
    } else {
        Path::new(&account.home).join(path)
    }
}

fn ca_keys_file(path: &Path) -> CaKeysFile {
    let mut file = CaKeysFile {
        path: path.display().to_string(),
        keys: Vec::new(),
        error: None,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => {
            file.error = Some(e.to_string());
            return file;
        }
    };
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match PublicKey::from_openssh(line) {
            Ok(key) => file.keys.push(CaKey {
                algorithm: key.algorithm().to_string(),
                fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
                comment: key.comment().to_string(),
            }),
            Err(e) => {
                file.error
                    .get_or_insert_with(|| format!("line {}: {e}", number + 1));
            }
        }
    }
    file
}

fn revoked_keys(path: &Path) -> RevokedKeysFile {
    let sha256 = std::fs::read(path)
        .ok()
        .map(|bytes| hex::encode(Sha256::digest(bytes)));
    let age_secs = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(|modified| {
            SystemTime::now()
                .duration_since(modified)
                .map_or(0, |d| d.as_secs())
        });
    RevokedKeysFile {
        path: path.display().to_string(),
        sha256,
        age_secs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            name: "root".into(),
            uid: 0,
            home: "/root".into(),
        }
    }

    #[test]
    fn tokens_expand_and_relative_paths_start_at_home() {
        assert_eq!(
            expand_tokens("/etc/ssh/principals/%u", &account()),
            Path::new("/etc/ssh/principals/root")
        );
        assert_eq!(
            expand_tokens("%h/.ssh/p_%U%%", &account()),
            Path::new("/root/.ssh/p_0%")
        );
        assert_eq!(
            expand_tokens(".ssh/principals", &account()),
            Path::new("/root/.ssh/principals")
        );
    }
}
