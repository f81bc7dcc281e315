//! The Active Directory client: verifies a person's password and reads who they are.
//!
//! Every sign-in opens a fresh TLS connection, binds as the portal's service account, searches
//! the person with an escaped filter, reads their groups (nested ones included, through AD's
//! `LDAP_MATCHING_RULE_IN_CHAIN`), and finally binds with the DN the search returned and the
//! password given. Each step has its own deadline, and domain controllers are tried in order
//! until one answers, so a directory that is down or hung costs seconds, not minutes.

mod ad_error;
mod entry;
pub mod name;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, SearchOptions};
use rustls::ClientConfig;
use tracing::{debug, instrument, warn};

use crate::config::{DirectoryConfig, Secret};

pub use ad_error::BindRefusal;
pub use entry::{Group, Person};
pub use name::LoginName;

/// LDAP result code for a refused bind.
const INVALID_CREDENTIALS: u32 = 49;
/// LDAP result code when a search matched more entries than the size limit.
const SIZE_LIMIT_EXCEEDED: u32 = 4;
/// AD's matching rule that follows group nesting to any depth (cycles included).
const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";
/// Most groups read for one person; enough for real accounts, bounded for pathological ones.
const MAX_GROUPS: i32 = 2000;

const PERSON_ATTRS: [&str; 6] = [
    "sAMAccountName",
    "userPrincipalName",
    "objectGUID",
    "displayName",
    "mail",
    "distinguishedName",
];

/// Why a sign-in was not confirmed by the directory.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("no account matches the name")]
    UserNotFound,
    #[error("more than one account matches the name")]
    Ambiguous,
    #[error("the directory refused the bind: {}", .0.audit_reason())]
    Refused(BindRefusal),
    #[error("the service account cannot bind: {0}")]
    ServiceBindFailed(String),
    #[error("no domain controller answered: {0}")]
    Unavailable(String),
    #[error("the directory did not answer in time")]
    Timeout,
    #[error("unexpected directory answer: {0}")]
    Protocol(String),
}

/// A configured directory. Cheap to clone.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    config: DirectoryConfig,
    bind_password: Secret,
    tls: Option<Arc<ClientConfig>>,
}

impl Directory {
    /// Prepares the client: reads the CA file and keeps the service account's password.
    pub fn new(config: DirectoryConfig, bind_password: Secret) -> Result<Self, String> {
        let tls = config
            .ca_file
            .as_deref()
            .map(tls::client_config)
            .transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                bind_password,
                tls,
            }),
        })
    }

    /// Parses a typed user name under this directory's domain settings.
    pub fn parse_name(&self, input: &str) -> Option<LoginName> {
        let config = &self.inner.config;
        name::parse(input, &config.netbios_domain, &config.upn_suffixes)
    }

    /// Verifies `password` for the account `name` designates and reads the person.
    ///
    /// The password must not be empty: an empty simple bind is an anonymous bind to many
    /// servers, so the caller refuses it before calling this.
    #[instrument(skip_all, fields(throttle_key = %name.throttle_key))]
    pub async fn authenticate(
        &self,
        name: &LoginName,
        password: &str,
    ) -> Result<Person, DirectoryError> {
        debug_assert!(!password.is_empty(), "empty passwords are refused earlier");
        if !name.is_searchable() {
            return Err(DirectoryError::UserNotFound);
        }
        let mut ldap = self.connect_as_service().await?;
        let result = self.find_and_bind(&mut ldap, name, password).await;
        // Unbinding is a courtesy to the server; the connection closes either way.
        let _ = ldap.unbind().await;
        result
    }

    /// Whether some domain controller accepts the service account now.
    pub async fn check(&self) -> Result<(), DirectoryError> {
        let mut ldap = self.connect_as_service().await?;
        let _ = ldap.unbind().await;
        Ok(())
    }

    async fn find_and_bind(
        &self,
        ldap: &mut Ldap,
        name: &LoginName,
        password: &str,
    ) -> Result<Person, DirectoryError> {
        let entry = self.search_person(ldap, name).await?;
        let groups = self.search_groups(ldap, &entry.dn).await?;
        let person = person_from_entry(&entry, groups)?;

        let bind = ldap
            .with_timeout(self.op_timeout())
            .simple_bind(&entry.dn, password)
            .await
            .map_err(|e| self.ldap_failure(e))?;
        match bind.rc {
            0 => Ok(person),
            INVALID_CREDENTIALS => Err(DirectoryError::Refused(BindRefusal::from_diagnostic(
                &bind.text,
            ))),
            rc => Err(DirectoryError::Protocol(format!("user bind answered {rc}"))),
        }
    }

    async fn search_person(
        &self,
        ldap: &mut Ldap,
        name: &LoginName,
    ) -> Result<SearchEntry, DirectoryError> {
        let filter = person_filter(name);
        debug!(%filter, "searching person");
        let options = SearchOptions::new().sizelimit(2);
        let result = ldap
            .with_search_options(options)
            .with_timeout(self.op_timeout())
            .search(
                &self.inner.config.base_dn,
                Scope::Subtree,
                &filter,
                PERSON_ATTRS,
            )
            .await
            .map_err(|e| self.ldap_failure(e))?;
        let (entries, status) = (result.0, result.1);
        // Referrals to other partitions arrive as continuation references; they are never
        // chased, since a referral could point the password at another server.
        let mut people = entries
            .into_iter()
            .filter(|e| !e.is_ref() && !e.is_intermediate())
            .map(SearchEntry::construct);
        match (status.rc, people.next(), people.next()) {
            (SIZE_LIMIT_EXCEEDED, _, _) | (0, Some(_), Some(_)) => Err(DirectoryError::Ambiguous),
            (0, Some(entry), None) => Ok(entry),
            (0, None, _) => Err(DirectoryError::UserNotFound),
            (rc, _, _) => Err(DirectoryError::Protocol(format!(
                "person search answered {rc}"
            ))),
        }
    }

    async fn search_groups(
        &self,
        ldap: &mut Ldap,
        person_dn: &str,
    ) -> Result<Vec<Group>, DirectoryError> {
        let filter = format!(
            "(&(objectClass=group)(member:{IN_CHAIN}:={}))",
            ldap3::ldap_escape(person_dn)
        );
        let result = ldap
            .with_search_options(SearchOptions::new().sizelimit(MAX_GROUPS))
            .with_timeout(self.op_timeout())
            .search(
                &self.inner.config.base_dn,
                Scope::Subtree,
                &filter,
                ["sAMAccountName", "cn"],
            )
            .await
            .map_err(|e| self.ldap_failure(e))?;
        if result.1.rc != 0 && result.1.rc != SIZE_LIMIT_EXCEEDED {
            return Err(DirectoryError::Protocol(format!(
                "group search answered {}",
                result.1.rc
            )));
        }
        let mut groups: Vec<Group> = result
            .0
            .into_iter()
            .filter(|e| !e.is_ref() && !e.is_intermediate())
            .map(|e| Group::from_entry(SearchEntry::construct(e)))
            .collect();
        groups.sort_by_key(|g| g.name.to_lowercase());
        Ok(groups)
    }

    /// Connects to the first domain controller that answers and binds as the service account.
    async fn connect_as_service(&self) -> Result<Ldap, DirectoryError> {
        let config = &self.inner.config;
        let mut last_error = String::from("no domain controller configured");
        for url in &config.urls {
            match self.connect(url).await {
                Ok(mut ldap) => {
                    let bind = ldap
                        .with_timeout(self.op_timeout())
                        .simple_bind(&config.bind_dn, self.inner.bind_password.expose())
                        .await;
                    return match bind {
                        Ok(res) if res.rc == 0 => Ok(ldap),
                        Ok(res) => Err(DirectoryError::ServiceBindFailed(format!(
                            "result code {}",
                            res.rc
                        ))),
                        Err(e) => Err(self.ldap_failure(e)),
                    };
                }
                Err(reason) => {
                    warn!(dc = %url, %reason, "domain controller unreachable, trying the next");
                    last_error = reason;
                }
            }
        }
        Err(DirectoryError::Unavailable(last_error))
    }

    async fn connect(&self, url: &str) -> Result<Ldap, String> {
        let config = &self.inner.config;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(config.connect_timeout())
            .set_starttls(config.starttls);
        if let Some(tls) = &self.inner.tls {
            settings = settings.set_config(tls.clone());
        }
        // ldap3 bounds the TCP connect, the TLS handshake and StartTLS with `conn_timeout`;
        // the outer timeout also covers name resolution.
        let connecting = LdapConnAsync::with_settings(settings, url);
        let (conn, ldap) = tokio::time::timeout(config.connect_timeout(), connecting)
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|e| describe_connect_error(&e))?;
        ldap3::drive!(conn);
        Ok(ldap)
    }

    fn op_timeout(&self) -> Duration {
        self.inner.config.operation_timeout()
    }

    fn ldap_failure(&self, error: LdapError) -> DirectoryError {
        match error {
            LdapError::Timeout { .. } => DirectoryError::Timeout,
            other => DirectoryError::Unavailable(other.to_string()),
        }
    }
}

fn describe_connect_error(error: &LdapError) -> String {
    match error {
        LdapError::Timeout { .. } => "connect timed out".to_owned(),
        other => other.to_string(),
    }
}

/// The search filter for a typed name; every value is escaped (RFC 4515), so `*`, `(`, `)`,
/// `\` and NUL in a name match only themselves.
fn person_filter(name: &LoginName) -> String {
    let mut alternatives = String::new();
    if let Some(sam) = &name.sam_account_name {
        alternatives.push_str(&format!("(sAMAccountName={})", ldap3::ldap_escape(sam)));
    }
    if let Some(upn) = &name.user_principal_name {
        alternatives.push_str(&format!("(userPrincipalName={})", ldap3::ldap_escape(upn)));
    }
    format!("(&(objectCategory=person)(objectClass=user)(|{alternatives}))")
}

fn person_from_entry(entry: &SearchEntry, groups: Vec<Group>) -> Result<Person, DirectoryError> {
    let username = entry::first(entry, "sAMAccountName")
        .ok_or_else(|| DirectoryError::Protocol("person without sAMAccountName".into()))?;
    let object_guid = entry::first_bytes(entry, "objectGUID")
        .and_then(|bytes| entry::format_guid(&bytes))
        .ok_or_else(|| DirectoryError::Protocol("person without a valid objectGUID".into()))?;
    Ok(Person {
        username,
        object_guid,
        user_principal_name: entry::first(entry, "userPrincipalName"),
        display_name: entry::first(entry, "displayName"),
        mail: entry::first(entry, "mail"),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_escapes_every_special_character() {
        // After the domain prefix, the rest is the account name, backslash and all.
        let name = name::parse("CORP\\*)(|(sAMAccountName=*\\", "CORP", &[]).expect("parses");
        let filter = person_filter(&name);
        assert_eq!(
            filter,
            "(&(objectCategory=person)(objectClass=user)\
             (|(sAMAccountName=\\2a\\29\\28|\\28sAMAccountName=\\2a\\5c)))"
        );
    }

    #[test]
    fn upn_spellings_search_both_attributes() {
        let name = name::parse(
            "alice@corp.example.test",
            "CORP",
            &["corp.example.test".into()],
        )
        .expect("parses");
        assert_eq!(
            person_filter(&name),
            "(&(objectCategory=person)(objectClass=user)\
             (|(sAMAccountName=alice)(userPrincipalName=alice@corp.example.test)))"
        );
    }
}
