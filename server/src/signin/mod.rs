//! The sign-in flow: input checks, throttling, the directory's verdict, roles from groups, and
//! an audit row for every outcome.
//!
//! The HTTP handler only turns the result into a session; everything that decides whether a
//! person gets in lives here.

mod locks;
mod throttle;

use opsportal_shared::auth::SignInRequest;
use tracing::{error, warn};

use crate::access::{self, Grants};
use crate::app::AppState;
use crate::audit::{self, AuditEvent, Outcome};
use crate::certs::Signer;
use crate::client::ClientInfo;
use crate::directory::{BindRefusal, DirectoryError, Person};
use crate::error::ApiError;
use crate::session::SessionSecret;

pub use locks::SignInLocks;

/// Longest password passed to the directory. AD's own limit is 256 characters; longer input is
/// refused before any bind rather than truncated.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A person the directory confirmed, with what their groups grant.
pub struct SignedIn {
    pub person: Person,
    pub grants: Grants,
    /// The person's Vault token, when certificates are signed through Vault's LDAP login.
    pub vault_token: Option<SessionSecret>,
}

/// Checks the credentials in `request`; on success the caller opens the session.
pub async fn sign_in(
    state: &AppState,
    request: &SignInRequest,
    client: &ClientInfo,
) -> Result<SignedIn, ApiError> {
    if request.password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::InvalidRequest(format!(
            "the password is longer than {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    let name = state
        .directory
        .parse_name(&request.username)
        .ok_or_else(|| {
            ApiError::InvalidRequest("username must be between 1 and 256 bytes".into())
        })?;
    let mut audit = AuditEvent::new("sign_in", Outcome::Failure);
    audit.subject = Some(&name.throttle_key);
    audit.source_addr = client.addr;
    audit.user_agent = client.user_agent.as_deref();

    // An empty simple bind is an anonymous bind that many directories accept, so it never
    // reaches the directory.
    if request.password.is_empty() {
        audit.reason = Some("empty_password");
        audit::record(&state.db, &audit).await?;
        return Err(ApiError::InvalidCredentials);
    }

    // Attempts for one name run one at a time, so parallel guesses cannot slip past the limit.
    let _turn = state.sign_in_locks.lock(&name.throttle_key).await;
    let limits = &state.config.sign_in;
    if let Some(retry_after) =
        throttle::retry_after(&state.db, limits, &name.throttle_key, client.addr).await?
    {
        audit.reason = Some("throttled");
        audit::record(&state.db, &audit).await?;
        return Err(ApiError::TooManyAttempts { retry_after });
    }

    let verdict = state.directory.authenticate(&name, &request.password).await;
    let person = match verdict {
        Ok(person) => person,
        Err(failure) => {
            let (reason, counts, answer) = classify(&failure);
            audit.reason = Some(reason);
            audit.throttled = counts;
            audit::record(&state.db, &audit).await?;
            return Err(answer);
        }
    };

    let grants = access::resolve(&state.config.access, &person.groups);
    audit.actor = Some(&person.username);
    if !grants.allows_sign_in() {
        audit.reason = Some("no_portal_role");
        audit::record(&state.db, &audit).await?;
        return Err(ApiError::NotAuthorized);
    }
    let vault_token = vault_login(state, &person.username, &request.password).await;
    Ok(SignedIn {
        person,
        grants,
        vault_token,
    })
}

/// With Vault's LDAP login, the password goes to Vault once, now, and the token is kept in the
/// session. A failure does not stop the sign-in: certificates then answer that signing is
/// unavailable until the person signs in again.
async fn vault_login(state: &AppState, username: &str, password: &str) -> Option<SessionSecret> {
    let Signer::Vault(vault) = state.signer.as_ref() else {
        return None;
    };
    if !vault.uses_ldap_login() {
        return None;
    }
    match vault.ldap_login(username, password).await {
        Ok(token) => Some(SessionSecret::new(token.token)),
        Err(error) => {
            warn!(%error, "Vault's LDAP login failed; this session cannot get certificates");
            None
        }
    }
}

/// Audit reason, whether it counts towards throttling, and the client's answer.
fn classify(failure: &DirectoryError) -> (&'static str, bool, ApiError) {
    match failure {
        DirectoryError::UserNotFound => ("user_not_found", true, ApiError::InvalidCredentials),
        DirectoryError::Ambiguous => {
            warn!("sign-in name matches more than one account");
            ("ambiguous_user", true, ApiError::InvalidCredentials)
        }
        DirectoryError::Refused(refusal) => {
            let answer = match refusal {
                BindRefusal::NoSuchUser | BindRefusal::BadPassword | BindRefusal::Unknown => {
                    ApiError::InvalidCredentials
                }
                BindRefusal::LogonHours
                | BindRefusal::Workstation
                | BindRefusal::Disabled
                | BindRefusal::AccountExpired => ApiError::AccountUnavailable,
                BindRefusal::PasswordExpired => ApiError::PasswordExpired,
                BindRefusal::MustChangePassword => ApiError::PasswordChangeRequired,
                BindRefusal::LockedOut => ApiError::AccountLocked,
            };
            // A locked account is throttled too, so the portal stops binding while AD's
            // lockout runs.
            let counts = refusal.is_bad_credentials() || *refusal == BindRefusal::LockedOut;
            (refusal.audit_reason(), counts, answer)
        }
        DirectoryError::ServiceBindFailed(detail) => {
            error!(%detail, "the portal's service account cannot bind; check its password");
            ("service_bind_failed", false, ApiError::DirectoryUnavailable)
        }
        DirectoryError::Unavailable(detail) => {
            warn!(%detail, "no domain controller reachable");
            (
                "directory_unreachable",
                false,
                ApiError::DirectoryUnavailable,
            )
        }
        DirectoryError::Timeout => {
            warn!("directory operation timed out");
            ("directory_timeout", false, ApiError::DirectoryUnavailable)
        }
        DirectoryError::Protocol(detail) => {
            warn!(%detail, "unexpected directory answer");
            ("directory_error", false, ApiError::DirectoryUnavailable)
        }
    }
}
