//! Checks that span several settings, run once when the configuration is loaded.

use super::{Config, ConfigError, SignerKind, VaultLogin};
use crate::access::is_valid_principal;

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.validate_server()?;
        self.validate_directory()?;
        self.validate_session()?;
        self.validate_access()?;
        self.validate_certificates()?;
        self.ingest.validate()?;
        self.health.validate()
    }

    fn validate_server(&self) -> Result<(), ConfigError> {
        let server = &self.server;
        let origin = server.public_origin.trim_end_matches('/');
        let (scheme, rest) = origin.split_once("://").ok_or_else(|| {
            ConfigError::invalid("server.public_origin", "must look like https://host[:port]")
        })?;
        if rest.is_empty() || rest.contains('/') {
            return Err(ConfigError::invalid(
                "server.public_origin",
                "must be scheme, host and optional port, without a path",
            ));
        }
        match (scheme, server.dev_insecure_http) {
            ("https", _) | ("http", true) => {}
            ("http", false) => {
                return Err(ConfigError::invalid(
                    "server.public_origin",
                    "plain http needs server.dev_insecure_http = true (loopback only)",
                ));
            }
            _ => {
                return Err(ConfigError::invalid(
                    "server.public_origin",
                    "scheme must be https",
                ));
            }
        }
        if server.dev_insecure_http && !server.listen.ip().is_loopback() {
            return Err(ConfigError::invalid(
                "server.dev_insecure_http",
                "only allowed when server.listen is a loopback address",
            ));
        }
        if server.request_timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "server.request_timeout_secs",
                "must be at least 1",
            ));
        }
        if server.body_limit_bytes < 1024 {
            return Err(ConfigError::invalid(
                "server.body_limit_bytes",
                "must be at least 1024",
            ));
        }
        Ok(())
    }

    fn validate_directory(&self) -> Result<(), ConfigError> {
        let dir = &self.directory;
        if dir.urls.is_empty() {
            return Err(ConfigError::invalid(
                "directory.urls",
                "name at least one domain controller",
            ));
        }
        for url in &dir.urls {
            let lower = url.to_ascii_lowercase();
            if lower.starts_with("ldaps://") {
                if dir.starttls {
                    return Err(ConfigError::invalid(
                        "directory.starttls",
                        format!("{url} is already TLS; StartTLS applies to ldap:// only"),
                    ));
                }
            } else if lower.starts_with("ldap://") {
                if !dir.starttls && !dir.allow_insecure_plain_ldap {
                    return Err(ConfigError::invalid(
                        "directory.urls",
                        format!(
                            "{url} would send passwords in the clear: use ldaps://, set \
                             directory.starttls = true, or (loopback only) \
                             directory.allow_insecure_plain_ldap = true"
                        ),
                    ));
                }
            } else {
                return Err(ConfigError::invalid(
                    "directory.urls",
                    format!("{url} must start with ldaps:// or ldap://"),
                ));
            }
        }
        if let Some(ca) = dir.ca_file.as_ref().filter(|ca| !ca.is_file()) {
            return Err(ConfigError::invalid(
                "directory.ca_file",
                format!("{} is not a readable file", ca.display()),
            ));
        }
        for (setting, value) in [
            ("directory.base_dn", &dir.base_dn),
            ("directory.bind_dn", &dir.bind_dn),
            ("directory.netbios_domain", &dir.netbios_domain),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::invalid(setting, "must not be empty"));
            }
        }
        for (setting, secs) in [
            ("directory.connect_timeout_secs", dir.connect_timeout_secs),
            (
                "directory.operation_timeout_secs",
                dir.operation_timeout_secs,
            ),
        ] {
            if !(1..=60).contains(&secs) {
                return Err(ConfigError::invalid(setting, "must be between 1 and 60"));
            }
        }
        Ok(())
    }

    fn validate_session(&self) -> Result<(), ConfigError> {
        let session = &self.session;
        if session.idle_timeout_secs == 0 {
            return Err(ConfigError::invalid(
                "session.idle_timeout_secs",
                "must be at least 1",
            ));
        }
        if session.absolute_timeout_secs < session.idle_timeout_secs {
            return Err(ConfigError::invalid(
                "session.absolute_timeout_secs",
                "must not be shorter than session.idle_timeout_secs",
            ));
        }
        let sign_in = &self.sign_in;
        if sign_in.max_failures_per_user == 0 || sign_in.max_failures_per_address == 0 {
            return Err(ConfigError::invalid(
                "sign_in",
                "failure limits must be at least 1",
            ));
        }
        Ok(())
    }

    fn validate_access(&self) -> Result<(), ConfigError> {
        let access = &self.access;
        if access.user_groups.is_empty()
            && access.auditor_groups.is_empty()
            && access.admin_groups.is_empty()
        {
            return Err(ConfigError::invalid(
                "access",
                "no group grants any role, so nobody could sign in",
            ));
        }
        for grant in &access.principal_grants {
            if grant.principals.is_empty() {
                return Err(ConfigError::invalid(
                    "access.principal_grants",
                    format!("group {} grants no principals", grant.group),
                ));
            }
            if grant.max_ttl_secs == Some(0) {
                return Err(ConfigError::invalid(
                    "access.principal_grants",
                    format!("group {}: max_ttl_secs must be at least 1", grant.group),
                ));
            }
            if let Some(bad) = grant.principals.iter().find(|p| !is_valid_principal(p)) {
                return Err(ConfigError::invalid(
                    "access.principal_grants",
                    format!(
                        "principal {bad:?} of group {} may hold only letters, digits, '.', \
                         '_', '-' and '@'",
                        grant.group
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Extensions a certificate may carry.
const EXTENSIONS: [&str; 6] = [
    "permit-pty",
    "permit-port-forwarding",
    "permit-agent-forwarding",
    "permit-X11-forwarding",
    "permit-user-rc",
    "no-touch-required",
];

impl Config {
    fn validate_certificates(&self) -> Result<(), ConfigError> {
        let certs = &self.certificates;
        if !(60..=7 * 24 * 3600).contains(&certs.max_ttl_secs) {
            return Err(ConfigError::invalid(
                "certificates.max_ttl_secs",
                "must be between 60 and 604800 (a week)",
            ));
        }
        if certs.default_ttl_secs == 0 || certs.default_ttl_secs > certs.max_ttl_secs {
            return Err(ConfigError::invalid(
                "certificates.default_ttl_secs",
                "must be between 1 and certificates.max_ttl_secs",
            ));
        }
        if certs.min_rsa_bits < 2048 {
            return Err(ConfigError::invalid(
                "certificates.min_rsa_bits",
                "must be at least 2048",
            ));
        }
        if let Some(bad) = certs
            .extensions
            .iter()
            .find(|e| !EXTENSIONS.contains(&e.as_str()))
        {
            return Err(ConfigError::invalid(
                "certificates.extensions",
                format!("{bad:?} is not one of {}", EXTENSIONS.join(", ")),
            ));
        }
        if certs.backdate_secs > 300 {
            return Err(ConfigError::invalid(
                "certificates.backdate_secs",
                "must be at most 300",
            ));
        }
        match certs.signer {
            SignerKind::Embedded if certs.embedded.is_none() => Err(ConfigError::invalid(
                "certificates.embedded",
                "needed when certificates.signer = \"embedded\"",
            )),
            SignerKind::Vault => self.validate_vault(),
            SignerKind::Embedded => Ok(()),
        }
    }

    fn validate_vault(&self) -> Result<(), ConfigError> {
        let Some(vault) = &self.vault else {
            return Err(ConfigError::invalid(
                "vault",
                "needed when certificates.signer = \"vault\"",
            ));
        };
        if !vault.addr.starts_with("https://") && !is_loopback_http(&vault.addr) {
            return Err(ConfigError::invalid(
                "vault.addr",
                "must start with https:// (plain http only to a Vault on loopback)",
            ));
        }
        if !(1..=60).contains(&vault.timeout_secs) {
            return Err(ConfigError::invalid(
                "vault.timeout_secs",
                "must be between 1 and 60",
            ));
        }
        for (setting, value) in [
            ("vault.ssh_mount", &vault.ssh_mount),
            ("vault.ssh_role", &vault.ssh_role),
        ] {
            if value.trim().is_empty() || value.contains(['?', '#', ' ']) {
                return Err(ConfigError::invalid(
                    setting,
                    "must be a plain Vault path segment",
                ));
            }
        }
        match vault.login {
            VaultLogin::Jwt if vault.jwt.is_none() => Err(ConfigError::invalid(
                "vault.jwt",
                "needed when vault.login = \"jwt\"",
            )),
            VaultLogin::Ldap if vault.check_token_file.is_none() => Err(ConfigError::invalid(
                "vault.check_token_file",
                "needed when vault.login = \"ldap\" (a token that may read the SSH role)",
            )),
            _ => Ok(()),
        }
    }
}

/// `http://127.0.0.1:8200`, `http://[::1]:8200` or `http://localhost:8200`.
fn is_loopback_http(addr: &str) -> bool {
    let Some(rest) = addr.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::super::Config;

    const VALID: &str = r#"
[server]
listen = "127.0.0.1:8080"
public_origin = "https://portal.example.test"

[database]
url = "postgres://opsportal@127.0.0.1/opsportal"

[directory]
urls = ["ldaps://dc1.example.test"]
base_dn = "DC=example,DC=test"
bind_dn = "CN=svc,DC=example,DC=test"
bind_password_file = "/nonexistent/is-read-only-at-start"
netbios_domain = "EXAMPLE"

[access]
user_groups = ["portal-users"]

[[access.principal_grants]]
group = "web"
principals = ["root", "zone-webservers"]

[certificates]
signer = "embedded"

[certificates.embedded]
ca_key_file = "/etc/opsportal/ssh-ca"
"#;

    /// The error for `VALID` with `from` replaced by `to`.
    fn error_with(from: &str, to: &str) -> String {
        assert!(VALID.contains(from), "fixture lacks {from}");
        Config::from_toml(&VALID.replacen(from, to, 1))
            .expect_err("the change makes the configuration invalid")
            .to_string()
    }

    #[test]
    fn the_fixture_is_valid() {
        let config = Config::from_toml(VALID).expect("valid");
        assert_eq!(config.directory.connect_timeout_secs, 3);
        assert_eq!(config.sign_in.max_failures_per_user, 3);
    }

    #[test]
    fn plain_ldap_is_refused_unless_tls_or_explicitly_allowed() {
        let error = error_with("ldaps://dc1", "ldap://dc1");
        assert!(error.starts_with("directory.urls: ldap://dc1.example.test would send passwords"));
        let starttls = VALID.replacen("ldaps://dc1", "ldap://dc1", 1).replacen(
            "netbios_domain",
            "starttls = true\nnetbios_domain",
            1,
        );
        assert!(Config::from_toml(&starttls).is_ok());
        let both = VALID.replacen("netbios_domain", "starttls = true\nnetbios_domain", 1);
        let error = Config::from_toml(&both).unwrap_err().to_string();
        assert!(error.starts_with("directory.starttls:"), "{error}");
    }

    #[test]
    fn plain_http_is_for_loopback_development_only() {
        let error = error_with("https://portal", "http://portal");
        assert!(error.contains("server.dev_insecure_http = true"), "{error}");
        let wide = VALID
            .replacen("127.0.0.1:8080", "0.0.0.0:8080", 1)
            .replacen("[server]", "[server]\ndev_insecure_http = true", 1);
        let error = Config::from_toml(&wide).unwrap_err().to_string();
        assert!(
            error.starts_with("server.dev_insecure_http: only allowed"),
            "{error}"
        );
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases = [
            (
                "urls = [\"ldaps://dc1.example.test\"]",
                "urls = []",
                "directory.urls:",
            ),
            ("ldaps://dc1", "http://dc1", "directory.urls:"),
            (
                "https://portal.example.test",
                "https://portal.example.test/x",
                "server.public_origin:",
            ),
            (
                "netbios_domain = \"EXAMPLE\"",
                "netbios_domain = \" \"",
                "directory.netbios_domain:",
            ),
            (
                "user_groups = [\"portal-users\"]",
                "user_groups = []",
                "access:",
            ),
            (
                "[\"root\", \"zone-webservers\"]",
                "[\"root,admin\"]",
                "access.principal_grants:",
            ),
            (
                "[\"root\", \"zone-webservers\"]",
                "[]",
                "access.principal_grants:",
            ),
            (
                "[access]",
                "[session]\nidle_timeout_secs = 0\n[access]",
                "session.idle_timeout_secs:",
            ),
            (
                "[access]",
                "[session]\nidle_timeout_secs = 60\nabsolute_timeout_secs = 30\n[access]",
                "session.absolute_timeout_secs:",
            ),
            (
                "netbios_domain",
                "operation_timeout_secs = 0\nnetbios_domain",
                "directory.operation_timeout_secs:",
            ),
        ];
        for (from, to, setting) in cases {
            let error = error_with(from, to);
            assert!(error.starts_with(setting), "{to}: {error}");
        }
    }

    #[test]
    fn certificate_settings_are_checked() {
        let cases = [
            (
                "signer = \"embedded\"",
                "signer = \"embedded\"\nmax_ttl_secs = 0",
                "certificates.max_ttl_secs:",
            ),
            (
                "signer = \"embedded\"",
                "signer = \"embedded\"\ndefault_ttl_secs = 7200",
                "certificates.default_ttl_secs:",
            ),
            (
                "signer = \"embedded\"",
                "signer = \"embedded\"\nmin_rsa_bits = 1024",
                "certificates.min_rsa_bits:",
            ),
            (
                "signer = \"embedded\"",
                "signer = \"embedded\"\nextensions = [\"permit-everything\"]",
                "certificates.extensions:",
            ),
            ("signer = \"embedded\"", "signer = \"vault\"", "vault:"),
            (
                "principals = [\"root\", \"zone-webservers\"]",
                "principals = [\"root\"]\nmax_ttl_secs = 0",
                "access.principal_grants:",
            ),
        ];
        for (from, to, setting) in cases {
            let error = error_with(from, to);
            assert!(error.starts_with(setting), "{to}: {error}");
        }
        assert!(super::is_loopback_http("http://127.0.0.1:8200"));
        assert!(super::is_loopback_http("http://[::1]:8200/"));
        assert!(!super::is_loopback_http(
            "http://127.0.0.1.example.com:8200"
        ));
        let vault = VALID.replacen("signer = \"embedded\"", "signer = \"vault\"", 1)
            + "\n[vault]\naddr = \"http://vault:8200\"\nssh_mount = \"ssh\"\nssh_role = \"portal\"\nlogin = \"jwt\"\n";
        let error = Config::from_toml(&vault).unwrap_err().to_string();
        assert!(error.starts_with("vault.addr:"), "{error}");
        let error = Config::from_toml(&vault.replace("http://", "https://"))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("vault.jwt:"), "{error}");
    }

    #[test]
    fn unknown_settings_are_errors() {
        let error = error_with("[access]", "[access]\nadmin_group = \"typo\"");
        assert!(error.contains("admin_group"), "{error}");
    }
}
