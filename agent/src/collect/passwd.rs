//! Local accounts from a passwd file.

use std::path::Path;

use super::{CollectError, error::read_text};

/// One passwd entry, the fields the agent needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub home: String,
}

/// Reads `name:password:uid:gid:gecos:home:shell` lines; malformed lines are skipped, as
/// getpwent(3) does.
pub fn read(path: &Path) -> Result<Vec<Account>, CollectError> {
    Ok(read_text(path)?.lines().filter_map(parse_line).collect())
}

fn parse_line(line: &str) -> Option<Account> {
    let fields: Vec<&str> = line.split(':').collect();
    let [name, _, uid, _, _, home, _] = fields.as_slice() else {
        return None;
    };
    Some(Account {
        name: name.to_string(),
        uid: uid.parse().ok()?,
        home: home.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_skips_junk() {
        assert_eq!(
            parse_line("zone-webservers:x:1001:1001:Web zone:/home/zone-webservers:/bin/bash"),
            Some(Account {
                name: "zone-webservers".into(),
                uid: 1001,
                home: "/home/zone-webservers".into()
            })
        );
        assert_eq!(parse_line("+@netgroup"), None);
    }
}
