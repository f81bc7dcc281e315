//! The application's shared state and its router, buildable without a listening socket.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::certs::{Recorder, Signer};
use crate::config::Config;
use crate::db::Lanes;
use crate::directory::Directory;
use crate::http::csrf;
use crate::ingest::Ingest;
use crate::signin::SignInLocks;

/// What every handler may reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: PgPool,
    /// The same database, for the session read and the certificate record; see
    /// [`crate::db::lanes`].
    pub lanes: Lanes,
    /// The same database, for certificate intent rows; see [`crate::db::unflushed_lanes`].
    pub intents: Lanes,
    /// Writes certificate records, in groups under load.
    pub recorder: Recorder,
    pub directory: Directory,
    pub signer: Arc<Signer>,
    pub sign_in_locks: SignInLocks,
    pub ingest: Ingest,
    pub session_cookie: &'static str,
}

impl FromRef<AppState> for csrf::Origin {
    fn from_ref(state: &AppState) -> Self {
        csrf::Origin(
            state
                .config
                .server
                .public_origin
                .trim_end_matches('/')
                .to_owned(),
        )
    }
}
