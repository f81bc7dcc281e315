//! Why a certificate request was refused, each with the answer the person sees.

use axum::http::StatusCode;

use super::key::KeyProblem;
use super::policy::{PolicyProblem, human_duration};
use super::signer::SignError;
use crate::error::ApiError;

#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("not a user")]
    NotAUser,
    #[error("bad key: {0:?}")]
    Key(KeyProblem),
    #[error("policy: {0:?}")]
    Policy(PolicyProblem),
    #[error("key revoked")]
    KeyRevoked,
    #[error("key belongs to another person")]
    KeyOfAnotherPerson,
    #[error("too many requests")]
    TooMany,
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("the signed certificate breaks the policy")]
    PolicyViolation,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<KeyProblem> for CertError {
    fn from(problem: KeyProblem) -> Self {
        Self::Key(problem)
    }
}

impl From<PolicyProblem> for CertError {
    fn from(problem: PolicyProblem) -> Self {
        Self::Policy(problem)
    }
}

impl CertError {
    /// The reason in the audit trail.
    pub fn audit_reason(&self) -> &'static str {
        match self {
            Self::NotAUser => "not_a_user",
            Self::Key(problem) => problem.audit_reason(),
            Self::Policy(PolicyProblem::PrincipalNotAllowed(_)) => "principal_not_allowed",
            Self::Policy(PolicyProblem::DuplicatePrincipal(_)) => "duplicate_principal",
            Self::Policy(PolicyProblem::NoPrincipals) => "no_principals",
            Self::Policy(PolicyProblem::ZeroTtl) => "invalid_ttl",
            Self::Policy(PolicyProblem::TtlTooLong { .. }) => "ttl_too_long",
            Self::KeyRevoked => "key_revoked",
            Self::KeyOfAnotherPerson => "key_of_another_person",
            Self::TooMany => "rate_limited",
            Self::Sign(SignError::Unavailable(_)) => "signer_unavailable",
            Self::Sign(SignError::Misconfigured(_)) => "signer_misconfigured",
            Self::Sign(SignError::LoginRefused(_)) => "signer_login_refused",
            Self::Sign(SignError::Refused(_)) => "signer_refused",
            Self::Sign(SignError::Internal(_)) => "signer_error",
            Self::PolicyViolation => "policy_violation",
            Self::Database(_) => "database_error",
            Self::Internal(_) => "internal_error",
        }
    }
}

impl From<CertError> for ApiError {
    fn from(error: CertError) -> Self {
        let refuse = |status, code, message: &str| ApiError::Refused {
            status,
            code,
            message: message.to_owned(),
        };
        let bad = StatusCode::BAD_REQUEST;
        match error {
            CertError::NotAUser => ApiError::Forbidden,
            CertError::Key(problem) => match problem {
                KeyProblem::Empty | KeyProblem::Malformed | KeyProblem::SeveralKeys => refuse(
                    bad,
                    "invalid_key",
                    "Paste exactly one OpenSSH public key line (for example the contents of \
                     ~/.ssh/id_ed25519.pub).",
                ),
                KeyProblem::TooLong => refuse(
                    bad,
                    "invalid_key",
                    "That is far too long for an SSH public key.",
                ),
                KeyProblem::PrivateKey => refuse(
                    bad,
                    "private_key_submitted",
                    "This looks like a PRIVATE key. Never share it: it was not stored. Generate a \
                     new key pair and paste the public half (the .pub file).",
                ),
                KeyProblem::Certificate => refuse(
                    bad,
                    "certificate_not_allowed",
                    "This is a certificate. Paste your public key (for example ~/.ssh/id_ed25519.pub), \
                     not a certificate.",
                ),
                KeyProblem::Options => refuse(
                    bad,
                    "invalid_key",
                    "This is an authorized_keys line with options. Paste the key alone, starting \
                     with its type (for example ssh-ed25519).",
                ),
                KeyProblem::Dsa => refuse(
                    bad,
                    "unsupported_key_type",
                    "ssh-dss (DSA) keys are not accepted. Generate an Ed25519 key.",
                ),
                KeyProblem::UnsupportedType(kind) => ApiError::Refused {
                    status: bad,
                    code: "unsupported_key_type",
                    message: format!(
                        "Keys of type {kind} are not accepted. Use Ed25519, ECDSA or RSA."
                    ),
                },
                KeyProblem::WeakRsa { bits, minimum } => ApiError::Refused {
                    status: bad,
                    code: "weak_key",
                    message: format!(
                        "This RSA key has {bits} bits; at least {minimum} are needed. Ed25519 is recommended."
                    ),
                },
                KeyProblem::BadRsaExponent => refuse(
                    bad,
                    "invalid_key",
                    "This RSA key is malformed (its public exponent is not usable).",
                ),
            },
            CertError::Policy(problem) => match problem {
                PolicyProblem::PrincipalNotAllowed(principal) => ApiError::Refused {
                    status: StatusCode::FORBIDDEN,
                    code: "principal_not_allowed",
                    message: format!("Your groups do not grant the principal {principal:?}."),
                },
                PolicyProblem::DuplicatePrincipal(principal) => ApiError::Refused {
                    status: bad,
                    code: "invalid_principal",
                    message: format!("The principal {principal:?} is listed twice."),
                },
                PolicyProblem::NoPrincipals => refuse(
                    StatusCode::FORBIDDEN,
                    "no_principals",
                    "Choose at least one principal. If none is offered, your groups grant no SSH access.",
                ),
                PolicyProblem::ZeroTtl => refuse(
                    bad,
                    "invalid_ttl",
                    "The lifetime must be at least one second.",
                ),
                PolicyProblem::TtlTooLong { max_secs } => ApiError::Refused {
                    status: bad,
                    code: "ttl_too_long",
                    message: format!(
                        "The longest lifetime you may request is {}.",
                        human_duration(max_secs)
                    ),
                },
            },
            CertError::KeyRevoked => refuse(
                StatusCode::FORBIDDEN,
                "key_revoked",
                "This key was revoked. Generate a new key pair.",
            ),
            CertError::KeyOfAnotherPerson => refuse(
                StatusCode::CONFLICT,
                "key_in_use",
                "This key is registered to another person. Generate a key pair of your own.",
            ),
            CertError::TooMany => ApiError::Refused {
                status: StatusCode::TOO_MANY_REQUESTS,
                code: "rate_limited",
                message: "Too many certificates requested in the last minute. Try again shortly."
                    .into(),
            },
            CertError::Sign(SignError::Unavailable(_) | SignError::Internal(_)) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "signing_unavailable",
                "Certificate signing is temporarily unavailable. Nothing was issued.",
            ),
            CertError::Sign(SignError::Misconfigured(_)) => refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "signing_misconfigured",
                "Certificate signing is switched off because its setup is unsafe. Nothing was \
                 issued; the administrators have been told.",
            ),
            CertError::Sign(SignError::LoginRefused(_)) => refuse(
                StatusCode::BAD_GATEWAY,
                "signing_auth_failed",
                "The signing service did not accept your sign-in. Sign out and in again.",
            ),
            CertError::Sign(SignError::Refused(_)) => refuse(
                StatusCode::BAD_GATEWAY,
                "signing_refused",
                "The signing service refused this request. Nothing was issued.",
            ),
            CertError::PolicyViolation => refuse(
                StatusCode::BAD_GATEWAY,
                "issuance_policy_violation",
                "The signing service returned a certificate that breaks the portal's policy; it was \
                 not handed out.",
            ),
            CertError::Database(error) => error.into(),
            CertError::Internal(detail) => ApiError::Internal(detail),
        }
    }
}
