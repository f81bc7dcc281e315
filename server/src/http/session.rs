//! Sign-in, sign-out and "who am I".

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use opsportal_shared::auth::{Me, SignInRequest};
use serde_json::json;
use tower_sessions::Session;

use crate::app::AppState;
use crate::audit::{self, AuditEvent, Outcome};
use crate::client::ClientInfo;
use crate::error::ApiError;
use crate::http::json::ApiJson;
use crate::session::{self, CurrentUser, SessionUser, USER_KEY};
use crate::signin;

/// `POST /api/session`: checks the credentials and opens a session under a new id.
pub async fn sign_in(
    State(state): State<AppState>,
    client: ClientInfo,
    session: Session,
    ApiJson(request): ApiJson<SignInRequest>,
) -> Result<Json<Me>, ApiError> {
    let signed_in = signin::sign_in(&state, &request, &client).await?;

    // A new id at every sign-in, so an id planted before sign-in is worth nothing after.
    session.cycle_id().await?;
    let now = Utc::now();
    let absolute = session::absolute_timeout(&state.config.session);
    let person = signed_in.person;
    let user = SessionUser {
        username: person.username,
        object_guid: person.object_guid,
        display_name: person.display_name,
        mail: person.mail,
        groups: person.groups.into_iter().map(|g| g.name).collect(),
        roles: signed_in.grants.roles.into_iter().collect(),
        principals: signed_in.grants.principals.into_iter().collect(),
        principal_max_ttl: signed_in.grants.principal_max_ttl,
        vault_token: signed_in.vault_token,
        signed_in_at: now,
        expires_at: now + absolute,
    };
    session.insert(USER_KEY, &user).await?;
    session::note_activity(&session).await?;
    session.save().await?;
    tracing::Span::current().record("user", user.username.as_str());

    let session_id_hash = session.id().map(|id| hex::encode(session::id_hash(&id)));
    let mut event = AuditEvent::new("sign_in", Outcome::Success);
    event.actor = Some(&user.username);
    event.subject = Some(&user.username);
    event.source_addr = client.addr;
    event.user_agent = client.user_agent.as_deref();
    event.detail = json!({
        "session_id_hash": session_id_hash,
        "roles": user.roles,
        "principals": user.principals,
    });
    audit::record(&state.db, &event).await?;

    Ok(Json(user.to_me()))
}

/// `DELETE /api/session`: ends the session on the server and tells the browser to forget it.
pub async fn sign_out(
    State(state): State<AppState>,
    client: ClientInfo,
    current: CurrentUser,
) -> Result<Response, ApiError> {
    current.session.flush().await?;

    let mut event = AuditEvent::new("sign_out", Outcome::Success);
    event.actor = Some(&current.user.username);
    event.subject = Some(&current.user.username);
    event.source_addr = client.addr;
    event.user_agent = client.user_agent.as_deref();
    audit::record(&state.db, &event).await?;

    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        "clear-site-data",
        HeaderValue::from_static("\"cookies\", \"storage\""),
    );
    Ok(response)
}

/// `GET /api/me`: the signed-in person, their groups, roles and principals.
pub async fn me(current: CurrentUser) -> Json<Me> {
    Json(current.user.to_me())
}
