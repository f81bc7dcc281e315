//! Direct reads of the test directory, to check what the portal did (or did not) to it.

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};

use super::stack;

/// A connection to the test directory over LDAPS, not yet bound.
async fn connect() -> Ldap {
    let dir = &stack().directory;
    let tls = opsportal::directory::tls::client_config(&dir.ca_file).expect("CA");
    let settings = LdapConnSettings::new().set_config(tls);
    let (conn, ldap) = LdapConnAsync::with_settings(settings, &dir.ldaps_url)
        .await
        .expect("connect to the test directory");
    ldap3::drive!(conn);
    ldap
}

/// Binds as `username` (by UPN) with `password` straight to the directory, as a person
/// guessing at another client would; returns the LDAP result code.
pub async fn bind_directly(username: &str, password: &str) -> u32 {
    let mut ldap = connect().await;
    let upn = format!("{username}@{}", stack().directory.upn_suffix);
    let rc = ldap
        .simple_bind(&upn, password)
        .await
        .expect("bind answered")
        .rc;
    let _ = ldap.unbind().await;
    rc
}

/// AD's count of bad passwords for `username` since its last good sign-in.
pub async fn bad_password_count(username: &str) -> u32 {
    let dir = &stack().directory;
    let mut ldap = connect().await;
    let password = std::fs::read_to_string(&dir.bind_password_file).expect("password file");
    ldap.simple_bind(&dir.bind_dn, password.trim())
        .await
        .and_then(|r| r.success())
        .expect("service bind");
    let filter = format!("(sAMAccountName={})", ldap3::ldap_escape(username));
    let (entries, _) = ldap
        .search(&dir.base_dn, Scope::Subtree, &filter, ["badPwdCount"])
        .await
        .and_then(|r| r.success())
        .expect("search");
    let _ = ldap.unbind().await;
    let entry = entries
        .into_iter()
        .filter(|e| !e.is_ref())
        .map(SearchEntry::construct)
        .next()
        .expect("account exists");
    entry
        .attrs
        .get("badPwdCount")
        .and_then(|v| v.first())
        .map(|v| v.parse().expect("number"))
        .unwrap_or(0)
}
