//! Checks that span several settings, run once when the configuration is loaded.

use super::{Config, ConfigError};
use crate::access::is_valid_principal;

impl Config {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        self.validate_server()?;
        self.validate_directory()?;
        self.validate_session()?;
        self.validate_access()
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
