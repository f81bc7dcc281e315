//! Browser sessions: what a signed-in session holds, the cookie's settings, and the extractor
//! that handlers use to require a signed-in person.
//!
//! The idle timeout is the store's expiry, pushed forward by activity; the absolute timeout is
//! checked here against the sign-in time kept in the session. Both are enforced on the server,
//! whatever the browser does with the cookie. Activity is written back at most every tenth of
//! the idle timeout (and at least every minute) rather than on every request, since each
//! write is a database commit: a session may thus idle out up to that much early.

mod store;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use chrono::{DateTime, Utc};
use opsportal_shared::auth::{Me, Role};
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

use crate::app::AppState;
use crate::config::SessionConfig;
use crate::error::ApiError;

pub use store::{PgSessionStore, id_hash};

/// Session key under which the signed-in person is kept.
pub const USER_KEY: &str = "user";
/// Session key holding when activity was last written back (Unix seconds).
const TOUCHED_KEY: &str = "touched";

/// The signed-in person, as stored in the session at sign-in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionUser {
    pub username: String,
    pub object_guid: String,
    pub display_name: Option<String>,
    pub mail: Option<String>,
    pub groups: Vec<String>,
    pub roles: Vec<Role>,
    pub principals: Vec<String>,
    /// Principals whose certificates may live less than the portal's maximum, in seconds.
    #[serde(default)]
    pub principal_max_ttl: BTreeMap<String, u64>,
    /// The person's own Vault token, when Vault's LDAP login is used. It stays on the server:
    /// [`SessionUser::to_me`] leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_token: Option<SessionSecret>,
    pub signed_in_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl SessionUser {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Refuses with 403 unless the person holds `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.has_role(role) {
            Ok(())
        } else {
            tracing::info!(required = role.as_str(), "role missing");
            Err(ApiError::Forbidden)
        }
    }

    pub fn to_me(&self) -> Me {
        Me {
            username: self.username.clone(),
            object_guid: self.object_guid.clone(),
            display_name: self.display_name.clone(),
            mail: self.mail.clone(),
            groups: self.groups.clone(),
            roles: self.roles.clone(),
            principals: self.principals.clone(),
            session_expires_at: self.expires_at.to_rfc3339(),
        }
    }
}

/// A secret kept in the server-side session: stored, never printed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionSecret(String);

impl SessionSecret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The session cookie's name. The `__Host-` prefix makes browsers insist on `Secure`, `Path=/`
/// and no `Domain`, so no other host or plain-http page can set or overwrite it.
pub fn cookie_name(dev_insecure_http: bool) -> &'static str {
    if dev_insecure_http {
        "opsportal_session"
    } else {
        "__Host-opsportal_session"
    }
}

/// The session layer with the portal's cookie settings.
pub fn layer(
    store: PgSessionStore,
    config: &SessionConfig,
    dev_insecure_http: bool,
) -> SessionManagerLayer<PgSessionStore> {
    let idle = time::Duration::seconds(config.idle_timeout_secs as i64);
    SessionManagerLayer::new(store)
        .with_name(cookie_name(dev_insecure_http))
        .with_secure(!dev_insecure_http)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        // Saved when changed: at sign-in, and when `CurrentUser` notes activity.
        .with_always_save(false)
}

/// The signed-in person of this request; refuses with 401 when there is none.
pub struct CurrentUser {
    pub user: SessionUser,
    pub session: Session,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("session layer missing".into()))?;
        let user: Option<SessionUser> = session.get(USER_KEY).await?;

        let Some(user) = user else {
            return Err(if has_cookie(parts, state.session_cookie) {
                ApiError::SessionExpired
            } else {
                ApiError::Unauthenticated
            });
        };
        if Utc::now() >= user.expires_at {
            session.flush().await?;
            tracing::info!(user = %user.username, "session reached its absolute timeout");
            return Err(ApiError::SessionExpired);
        }

        touch(&session, &state.config.session).await?;
        tracing::Span::current().record("user", user.username.as_str());
        Ok(Self { user, session })
    }
}

/// Marks the session changed, so that it is saved with a later idle deadline, when activity
/// was last written back longer ago than a tenth of the idle timeout (at most a minute).
async fn touch(session: &Session, config: &SessionConfig) -> Result<(), ApiError> {
    let every = (config.idle_timeout_secs / 10).clamp(0, 60) as i64;
    let now = Utc::now().timestamp();
    let touched: Option<i64> = session.get(TOUCHED_KEY).await?;
    if touched.is_none_or(|at| now - at >= every) {
        note_activity(session).await?;
    }
    Ok(())
}

/// Notes activity now; the session is saved at the end of the request.
pub async fn note_activity(session: &Session) -> Result<(), ApiError> {
    session.insert(TOUCHED_KEY, Utc::now().timestamp()).await?;
    Ok(())
}

fn has_cookie(parts: &Parts, name: &str) -> bool {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim().split('=').next() == Some(name))
}

/// How long a new session may live at most.
pub fn absolute_timeout(config: &SessionConfig) -> Duration {
    Duration::from_secs(config.absolute_timeout_secs)
}
