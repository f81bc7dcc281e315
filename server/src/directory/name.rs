//! The spellings people type for their account, reduced to what the directory is asked for.
//!
//! `alice`, `ALICE`, `CORP\alice` and `alice@corp.example.test` all name one account. The
//! directory decides which; this module only works out which attributes to search and the key
//! that sign-in throttling counts failures under.

/// Longest user name accepted; AD's own limits are far below this.
pub const MAX_USERNAME_BYTES: usize = 256;

/// What to search the directory for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName {
    /// Value to match against `sAMAccountName`, if any.
    pub sam_account_name: Option<String>,
    /// Value to match against `userPrincipalName`, if any.
    pub user_principal_name: Option<String>,
    /// Lowercase key under which failed sign-ins for this name are counted, with control
    /// characters escaped (`\u{0}`), so it can be stored and logged as it is.
    pub throttle_key: String,
}

impl LoginName {
    /// Whether the spelling can name an account of this domain at all. A `DOMAIN\user` with
    /// another domain cannot; it is answered like an unknown user.
    pub fn is_searchable(&self) -> bool {
        self.sam_account_name.is_some() || self.user_principal_name.is_some()
    }
}

/// Reads a typed user name. `None` when it is empty or longer than [`MAX_USERNAME_BYTES`].
pub fn parse(input: &str, netbios_domain: &str, upn_suffixes: &[String]) -> Option<LoginName> {
    let input = input.trim();
    if input.is_empty() || input.len() > MAX_USERNAME_BYTES {
        return None;
    }
    // No account name holds control characters, and some directories compare values as C
    // strings, so that `alice\0` would match `alice`: such a name is searched for nothing.
    if input.chars().any(char::is_control) {
        return Some(LoginName {
            sam_account_name: None,
            user_principal_name: None,
            throttle_key: key(input),
        });
    }

    if let Some((domain, user)) = input.split_once('\\') {
        let ours = domain.eq_ignore_ascii_case(netbios_domain) && !user.is_empty();
        return Some(LoginName {
            sam_account_name: ours.then(|| user.to_owned()),
            user_principal_name: None,
            throttle_key: key(if ours { user } else { input }),
        });
    }

    if let Some((local, suffix)) = input.rsplit_once('@') {
        let ours = upn_suffixes.iter().any(|s| s.eq_ignore_ascii_case(suffix));
        let sam = (ours && !local.is_empty()).then(|| local.to_owned());
        return Some(LoginName {
            throttle_key: key(sam.as_deref().unwrap_or(input)),
            sam_account_name: sam,
            user_principal_name: Some(input.to_owned()),
        });
    }

    Some(LoginName {
        sam_account_name: Some(input.to_owned()),
        user_principal_name: None,
        throttle_key: key(input),
    })
}

fn key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.to_lowercase().chars() {
        if c.is_control() {
            key.extend(c.escape_default());
        } else {
            key.push(c);
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_corp(input: &str) -> Option<LoginName> {
        parse(input, "CORP", &["corp.example.test".to_owned()])
    }

    #[test]
    fn four_spellings_share_one_throttle_key_and_search_the_account_name() {
        for spelling in ["alice", "ALICE", "corp\\alice", "alice@CORP.example.test"] {
            let name = parse_corp(spelling).expect("parses");
            assert_eq!(name.throttle_key, "alice", "{spelling}");
            assert_eq!(
                name.sam_account_name
                    .as_deref()
                    .map(str::to_lowercase)
                    .as_deref(),
                Some("alice"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn a_upn_with_a_foreign_suffix_is_searched_as_a_upn_only() {
        let name = parse_corp("alice@elsewhere.test").expect("parses");
        assert_eq!(name.sam_account_name, None);
        assert_eq!(
            name.user_principal_name.as_deref(),
            Some("alice@elsewhere.test")
        );
    }

    #[test]
    fn another_domain_is_not_searchable() {
        let name = parse_corp("OTHER\\alice").expect("parses");
        assert!(!name.is_searchable());
        assert_eq!(name.throttle_key, "other\\alice");
    }

    #[test]
    fn names_with_control_characters_are_not_searched() {
        let name = parse_corp("Alice\0").expect("parses");
        assert_eq!(name.throttle_key, "alice\\u{0}");
        assert!(
            !name.is_searchable(),
            "a name with a NUL matches no account"
        );
    }

    #[test]
    fn empty_and_oversize_names_are_refused() {
        assert_eq!(parse_corp("   "), None);
        assert_eq!(parse_corp(&"a".repeat(MAX_USERNAME_BYTES + 1)), None);
    }
}
