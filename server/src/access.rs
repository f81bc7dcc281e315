//! Turns a person's directory groups into portal roles and SSH principals.

use std::collections::{BTreeMap, BTreeSet};

use opsportal_shared::auth::Role;

use crate::config::AccessConfig;
use crate::directory::Group;

/// What a person may do in the portal, as their groups decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    pub roles: BTreeSet<Role>,
    pub principals: BTreeSet<String>,
    /// Principals whose certificates may live less than the portal's maximum: the longest
    /// lifetime any of the person's grants allows for each, in seconds.
    pub principal_max_ttl: BTreeMap<String, u64>,
}

impl Grants {
    /// Whether the person may use the portal at all.
    pub fn allows_sign_in(&self) -> bool {
        !self.roles.is_empty()
    }
}

/// Resolves the roles and principals that `groups` grant under `access`.
pub fn resolve(access: &AccessConfig, groups: &[Group]) -> Grants {
    let member_of = |configured: &str| groups.iter().any(|g| g.matches(configured));
    let any_member = |list: &[String]| list.iter().any(|name| member_of(name));

    let mut grants = Grants::default();
    for (role, list) in [
        (Role::User, &access.user_groups),
        (Role::Auditor, &access.auditor_groups),
        (Role::Admin, &access.admin_groups),
    ] {
        if any_member(list) {
            grants.roles.insert(role);
        }
    }
    // A principal is limited only if every grant that gives it is limited: the most generous
    // grant wins, as membership in any one of those groups would allow.
    let mut unlimited = BTreeSet::new();
    for grant in access
        .principal_grants
        .iter()
        .filter(|g| member_of(&g.group))
    {
        for principal in &grant.principals {
            grants.principals.insert(principal.clone());
            match grant.max_ttl_secs {
                None => {
                    unlimited.insert(principal.clone());
                }
                Some(limit) => {
                    let entry = grants
                        .principal_max_ttl
                        .entry(principal.clone())
                        .or_insert(limit);
                    *entry = (*entry).max(limit);
                }
            }
        }
    }
    grants
        .principal_max_ttl
        .retain(|p, _| !unlimited.contains(p));
    grants
}

/// Whether `principal` is safe to put in a certificate.
///
/// sshd splits `AuthorizedPrincipalsFile` lines and `principals=` options on commas and
/// whitespace, and matches some fields as patterns, so a principal may hold none of those:
/// only letters, digits, `.`, `_`, `-` and `@`, not starting with `-`, at most 64 bytes.
pub fn is_valid_principal(principal: &str) -> bool {
    !principal.is_empty()
        && principal.len() <= 64
        && !principal.starts_with('-')
        && principal
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::PrincipalGrant;

    fn group(name: &str) -> Group {
        Group {
            name: name.to_owned(),
            dn: format!("CN={name},CN=Users,DC=corp,DC=example,DC=test"),
        }
    }

    fn access() -> AccessConfig {
        AccessConfig {
            user_groups: vec!["opsportal-users".into()],
            auditor_groups: vec!["opsportal-auditors".into()],
            admin_groups: vec!["CN=opsportal-admins,CN=Users,DC=corp,DC=example,DC=test".into()],
            principal_grants: vec![
                PrincipalGrant {
                    max_ttl_secs: None,
                    group: "ssh-webservers".into(),
                    principals: vec!["root".into(), "zone-webservers".into()],
                },
                PrincipalGrant {
                    max_ttl_secs: Some(900),
                    group: "ssh-databases".into(),
                    principals: vec!["root".into(), "zone-databases".into()],
                },
            ],
        }
    }

    #[test]
    fn groups_grant_roles_by_name_or_dn_case_insensitively() {
        let grants = resolve(
            &access(),
            &[group("OPSPORTAL-USERS"), group("opsportal-admins")],
        );
        assert_eq!(grants.roles, BTreeSet::from([Role::User, Role::Admin]));
    }

    #[test]
    fn principals_from_several_groups_are_merged_without_duplicates() {
        let grants = resolve(
            &access(),
            &[group("ssh-webservers"), group("ssh-databases")],
        );
        let expected = ["root", "zone-databases", "zone-webservers"];
        assert_eq!(grants.principals.iter().collect::<Vec<_>>(), expected);
        assert!(!grants.allows_sign_in(), "principals alone grant no role");
    }

    #[test]
    fn a_lifetime_limit_holds_only_where_every_granting_group_sets_one() {
        let databases = resolve(&access(), &[group("ssh-databases")]);
        let limits: Vec<_> = databases.principal_max_ttl.into_iter().collect();
        assert_eq!(
            limits,
            [("root".into(), 900), ("zone-databases".into(), 900)]
        );

        let both = resolve(
            &access(),
            &[group("ssh-webservers"), group("ssh-databases")],
        );
        let limits: Vec<_> = both.principal_max_ttl.into_iter().collect();
        assert_eq!(
            limits,
            [("zone-databases".into(), 900)],
            "root is also granted unlimited"
        );
    }

    #[test]
    fn nobody_in_no_group_gets_anything() {
        let grants = resolve(&access(), &[group("domain users")]);
        assert_eq!(grants, Grants::default());
    }

    #[test]
    fn principals_with_separators_or_patterns_are_refused() {
        for bad in [
            "",
            "deploy,root",
            "root everywhere",
            "*",
            "ro?t",
            "-oProxy",
            "a\0b",
        ] {
            assert!(!is_valid_principal(bad), "{bad:?} should be refused");
        }
        for good in [
            "root",
            "zone-webservers",
            "root-everywhere",
            "svc_app.1",
            "a@b",
        ] {
            assert!(is_valid_principal(good), "{good:?} should be accepted");
        }
    }
}
