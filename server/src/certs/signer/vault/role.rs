//! The safety check of the Vault SSH role the portal signs with. Vault's defaults suit no one
//! who needs a Key ID to name a person: an empty critical-option list allows any option, unset
//! key lengths sign DSA and RSA-1024, `max_ttl = 0` means the system's 32 days. The portal
//! refuses to sign through a role that would let a certificate be more than the portal asked.

use serde_json::Value;

/// What the portal's own policy allows, which the role must not exceed.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The longest lifetime the portal grants.
    pub max_ttl_secs: u64,
    /// How far before its signing a certificate may start (`certificates.backdate_secs`, at
    /// least Vault's default of 30 s): what the portal's verification accepts.
    pub backdate_secs: u64,
}

/// Checks the role as Vault returns it (`GET <mount>/roles/<role>`, field `data`); the error
/// names the first unsafe field and what it must be.
pub fn check(role: &Value, limits: Limits) -> Result<(), String> {
    let portal_max_ttl_secs = limits.max_ttl_secs;
    let field = |name: &str| role.get(name).unwrap_or(&Value::Null);
    let flag = |name: &str| field(name).as_bool();

    if field("key_type").as_str() != Some("ca") {
        return Err(unsafe_field("key_type", "must be 'ca'", field("key_type")));
    }
    if flag("allow_user_certificates") != Some(true) {
        return Err(unsafe_field(
            "allow_user_certificates",
            "must be true",
            field("allow_user_certificates"),
        ));
    }
    for name in [
        "allow_host_certificates",
        "allow_user_key_ids",
        "allow_empty_principals",
    ] {
        if flag(name) != Some(false) {
            return Err(unsafe_field(name, "must be false", field(name)));
        }
    }

    let users = field("allowed_users").as_str().unwrap_or_default();
    if users.trim().is_empty() || users.split(',').any(|u| u.contains('*')) {
        return Err(unsafe_field(
            "allowed_users",
            "must list the principals, without '*'",
            field("allowed_users"),
        ));
    }
    if field("allowed_users_template").as_bool() == Some(true) {
        return Err(unsafe_field(
            "allowed_users_template",
            "must be false",
            field("allowed_users_template"),
        ));
    }
    if field("allowed_critical_options")
        .as_str()
        .is_none_or(|v| v.trim().is_empty())
    {
        return Err(unsafe_field(
            "allowed_critical_options",
            "must not be empty (empty allows every option); set a name no option has",
            field("allowed_critical_options"),
        ));
    }
    let extensions = field("allowed_extensions").as_str().unwrap_or_default();
    if extensions.trim().is_empty() || extensions.contains('*') {
        return Err(unsafe_field(
            "allowed_extensions",
            "must list the extensions (empty or '*' allows every one)",
            field("allowed_extensions"),
        ));
    }
    let lengths = field("allowed_user_key_lengths");
    if lengths.as_object().is_none_or(|m| m.is_empty()) {
        return Err(unsafe_field(
            "allowed_user_key_lengths",
            "must be set (unset signs DSA and short RSA keys)",
            lengths,
        ));
    }
    let max_ttl = field("max_ttl")
        .as_u64()
        .or_else(|| field("max_ttl").as_str().and_then(|s| s.parse().ok()));
    match max_ttl {
        Some(secs) if secs > 0 && secs <= portal_max_ttl_secs => {}
        _ => {
            return Err(unsafe_field(
                "max_ttl",
                &format!("must be between 1 and {portal_max_ttl_secs} seconds"),
                field("max_ttl"),
            ));
        }
    }
    // A role that backdates further than the portal accepts has every certificate refused
    // after Vault signed it; said here, it is a setting to fix rather than failed requests.
    let backdate = field("not_before_duration");
    if backdate
        .as_u64()
        .is_some_and(|secs| secs > limits.backdate_secs)
    {
        return Err(unsafe_field(
            "not_before_duration",
            &format!(
                "must be at most {} seconds (certificates.backdate_secs)",
                limits.backdate_secs
            ),
            backdate,
        ));
    }
    if field("algorithm_signer").as_str() == Some("ssh-rsa") {
        return Err(unsafe_field(
            "algorithm_signer",
            "must not be 'ssh-rsa' (SHA-1)",
            field("algorithm_signer"),
        ));
    }
    Ok(())
}

fn unsafe_field(name: &str, rule: &str, found: &Value) -> String {
    format!("{name} {rule}, found {found}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn safe() -> Value {
        json!({
            "key_type": "ca",
            "allow_user_certificates": true,
            "allow_host_certificates": false,
            "allow_user_key_ids": false,
            "allow_empty_principals": false,
            "allowed_users": "root,zone-webservers",
            "allowed_users_template": false,
            "allowed_critical_options": "none@opsportal",
            "allowed_extensions": "permit-pty",
            "allowed_user_key_lengths": { "ed25519": [0] },
            "max_ttl": 3600,
            "not_before_duration": 30,
            "algorithm_signer": "default",
        })
    }

    const LIMITS: Limits = Limits {
        max_ttl_secs: 3600,
        backdate_secs: 30,
    };

    #[test]
    fn the_hardened_role_passes() {
        assert_eq!(check(&safe(), LIMITS), Ok(()));
    }

    #[test]
    fn a_role_may_backdate_as_far_as_the_portal_accepts() {
        let mut role = safe();
        role["not_before_duration"] = json!(150);
        let wide = Limits {
            backdate_secs: 150,
            ..LIMITS
        };
        assert_eq!(check(&role, wide), Ok(()));
    }

    #[test]
    fn every_unsafe_setting_is_named() {
        let cases = [
            ("key_type", json!("otp")),
            ("allow_user_certificates", json!(false)),
            ("allow_host_certificates", json!(true)),
            ("allow_user_key_ids", json!(true)),
            ("allow_empty_principals", json!(true)),
            ("allowed_users", json!("*")),
            ("allowed_users", json!("")),
            ("allowed_users_template", json!(true)),
            ("allowed_critical_options", json!("")),
            ("allowed_extensions", json!("")),
            ("allowed_extensions", json!("*")),
            ("allowed_user_key_lengths", json!({})),
            ("max_ttl", json!(0)),
            ("max_ttl", json!(7200)),
            ("not_before_duration", json!(31)),
            ("algorithm_signer", json!("ssh-rsa")),
        ];
        for (name, value) in cases {
            let mut role = safe();
            role[name] = value.clone();
            let error = check(&role, LIMITS).expect_err(name);
            assert!(error.starts_with(name), "{name}={value}: {error}");
        }
        let mut missing = safe();
        missing
            .as_object_mut()
            .unwrap()
            .remove("allow_user_key_ids");
        assert!(
            check(&missing, LIMITS)
                .unwrap_err()
                .starts_with("allow_user_key_ids")
        );
    }
}
