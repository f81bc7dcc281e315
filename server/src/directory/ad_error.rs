//! Active Directory's reasons for refusing a bind.
//!
//! AD answers every refused simple bind with result code 49 (invalidCredentials) and hides the
//! reason in the diagnostic text as `data <hex>`, e.g.
//! `80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v1db1`.
//! AD only reports the account states (disabled, locked, ...) when the password was right, so
//! mapping them to messages does not reveal whether an account exists.

/// A refused bind, by the sub-code AD gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindRefusal {
    /// 525: no such user.
    NoSuchUser,
    /// 52e: wrong password.
    BadPassword,
    /// 530: not permitted at this time.
    LogonHours,
    /// 531: not permitted from this workstation.
    Workstation,
    /// 532: password expired.
    PasswordExpired,
    /// 533: account disabled.
    Disabled,
    /// 701: account expired.
    AccountExpired,
    /// 773: the password must be changed before first use.
    MustChangePassword,
    /// 775: account locked out.
    LockedOut,
    /// No recognised sub-code; treated like a wrong password.
    Unknown,
}

impl BindRefusal {
    /// Reads the sub-code out of AD's diagnostic message.
    pub fn from_diagnostic(text: &str) -> Self {
        let Some(code) = sub_code(text) else {
            return Self::Unknown;
        };
        match code.as_str() {
            "525" => Self::NoSuchUser,
            "52e" => Self::BadPassword,
            "530" => Self::LogonHours,
            "531" => Self::Workstation,
            "532" => Self::PasswordExpired,
            "533" => Self::Disabled,
            "701" => Self::AccountExpired,
            "773" => Self::MustChangePassword,
            "775" => Self::LockedOut,
            _ => Self::Unknown,
        }
    }

    /// The reason recorded in the audit trail.
    pub fn audit_reason(self) -> &'static str {
        match self {
            Self::NoSuchUser => "ad_525_no_such_user",
            Self::BadPassword => "ad_52e_bad_password",
            Self::LogonHours => "ad_530_logon_hours",
            Self::Workstation => "ad_531_workstation",
            Self::PasswordExpired => "ad_532_password_expired",
            Self::Disabled => "ad_533_disabled",
            Self::AccountExpired => "ad_701_account_expired",
            Self::MustChangePassword => "ad_773_must_change_password",
            Self::LockedOut => "ad_775_locked_out",
            Self::Unknown => "ad_unknown_subcode",
        }
    }

    /// Whether this refusal counts as a wrong password towards sign-in throttling.
    pub fn is_bad_credentials(self) -> bool {
        matches!(self, Self::NoSuchUser | Self::BadPassword | Self::Unknown)
    }
}

/// The hex token after `data `, lowercased. AD writes it in lowercase; other servers vary.
fn sub_code(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("data ")? + "data ".len();
    let token: String = lower[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .take(8)
        .collect();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diagnostic(code: &str) -> String {
        format!(
            "80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data {code}, v1db1"
        )
    }

    #[test]
    fn every_known_sub_code_maps_to_its_refusal() {
        let cases = [
            ("525", BindRefusal::NoSuchUser),
            ("52e", BindRefusal::BadPassword),
            ("52E", BindRefusal::BadPassword),
            ("530", BindRefusal::LogonHours),
            ("531", BindRefusal::Workstation),
            ("532", BindRefusal::PasswordExpired),
            ("533", BindRefusal::Disabled),
            ("701", BindRefusal::AccountExpired),
            ("773", BindRefusal::MustChangePassword),
            ("775", BindRefusal::LockedOut),
        ];
        for (code, expected) in cases {
            assert_eq!(
                BindRefusal::from_diagnostic(&diagnostic(code)),
                expected,
                "{code}"
            );
        }
    }

    #[test]
    fn unknown_or_garbled_diagnostics_fail_closed() {
        let huge = "x".repeat(10 * 1024);
        for text in [
            diagnostic("52f").as_str(),
            "no sub-code here",
            "data zz, v1db1",
            "",
            huge.as_str(),
        ] {
            let refusal = BindRefusal::from_diagnostic(text);
            assert_eq!(refusal, BindRefusal::Unknown);
            assert!(refusal.is_bad_credentials());
        }
    }
}
