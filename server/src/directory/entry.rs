//! People and groups as read from the directory.

use ldap3::SearchEntry;

/// A person the directory vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Canonical account name (`sAMAccountName`), as the directory spells it.
    pub username: String,
    /// `objectGUID`, formatted as AD tools show it.
    pub object_guid: String,
    pub user_principal_name: Option<String>,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    /// Every group the person belongs to, directly or through nested groups.
    pub groups: Vec<Group>,
}

/// A directory group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// The group's `sAMAccountName`, or its `cn` when it has none.
    pub name: String,
    pub dn: String,
}

impl Group {
    /// Whether a configured group reference names this group: a full DN when it holds `=`,
    /// otherwise the group's name; both compared case-insensitively, as AD does.
    pub fn matches(&self, configured: &str) -> bool {
        if configured.contains('=') {
            normalize_dn(configured) == normalize_dn(&self.dn)
        } else {
            self.name.eq_ignore_ascii_case(configured.trim())
        }
    }

    pub(super) fn from_entry(entry: SearchEntry) -> Self {
        let name = first(&entry, "sAMAccountName")
            .or_else(|| first(&entry, "cn"))
            .unwrap_or_else(|| entry.dn.clone());
        Self { name, dn: entry.dn }
    }
}

/// First value of a text attribute. Attribute names are matched case-insensitively because
/// servers may echo them in another case than requested.
pub(super) fn first(entry: &SearchEntry, attr: &str) -> Option<String> {
    entry
        .attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(attr))
        .and_then(|(_, values)| values.first().cloned())
}

/// Raw bytes of a binary attribute. ldap3 files values that happen to be valid UTF-8 under the
/// text attributes, so both maps are searched.
pub(super) fn first_bytes(entry: &SearchEntry, attr: &str) -> Option<Vec<u8>> {
    entry
        .bin_attrs
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(attr))
        .and_then(|(_, values)| values.first().cloned())
        .or_else(|| first(entry, attr).map(String::into_bytes))
}

/// Formats an `objectGUID` as AD shows it: the first three fields are little-endian.
pub(super) fn format_guid(bytes: &[u8]) -> Option<String> {
    let b: &[u8; 16] = bytes.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        b[8],
        b[9],
        hex::encode(&b[10..])
    ))
}

fn normalize_dn(dn: &str) -> String {
    dn.split(',')
        .map(|rdn| rdn.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_bytes_are_shown_with_little_endian_leading_fields() {
        let bytes = [
            0xa6, 0xdf, 0x59, 0x6d, 0x82, 0x5d, 0x8a, 0x41, 0xb8, 0xc7, 0xa7, 0xc8, 0x16, 0xb0,
            0xed, 0xed,
        ];
        assert_eq!(
            format_guid(&bytes).as_deref(),
            Some("6d59dfa6-5d82-418a-b8c7-a7c816b0eded")
        );
        assert_eq!(format_guid(&bytes[..15]), None);
    }

    #[test]
    fn groups_match_by_dn_regardless_of_case_and_spacing() {
        let group = Group {
            name: "opsportal-admins".into(),
            dn: "CN=opsportal-admins,CN=Users,DC=corp,DC=example,DC=test".into(),
        };
        assert!(group.matches("cn=OpsPortal-Admins, cn=users, dc=corp, dc=example, dc=test"));
        assert!(group.matches("OPSPORTAL-ADMINS"));
        assert!(!group.matches("CN=opsportal-admins,CN=Builtin,DC=corp,DC=example,DC=test"));
    }
}
