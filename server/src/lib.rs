//! opsportal: a self-service portal that hands out short-lived SSH certificates to people who
//! sign in with Active Directory, so that logins on a shared account still name a person.
//!
//! Layout: [`config`] reads and checks settings; [`directory`] talks to AD; [`signin`] and
//! [`access`] decide who gets in with which roles; [`session`] keeps them signed in; [`certs`]
//! checks, signs, records and revokes SSH certificates; [`ingest`] receives hosts' secure logs
//! and names the person behind each login; [`health`] judges what host agents report;
//! [`http`] is the web surface; [`audit`] records what happened. [`Portal`] ties them together.

pub mod access;
pub mod app;
pub mod audit;
pub mod certs;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod directory;
pub mod error;
pub mod health;
pub mod history;
pub mod http;
pub mod ingest;
pub mod session;
pub mod signin;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::config::Config;
use crate::directory::Directory;
use crate::session::PgSessionStore;

/// How often expired sessions are swept from the store.
const SESSION_SWEEP_INTERVAL: Duration = Duration::from_secs(300);

/// A configured portal, ready to serve.
pub struct Portal {
    state: AppState,
}

impl Portal {
    /// Reads the secrets the configuration names and prepares every client. Fails when the
    /// database schema lacks migrations this build needs.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = db::pool(&config.database)?;
        let lanes = db::lanes(&config.database)?;
        let intents = db::unflushed_lanes(&config.database)?;
        let pending = db::pending_migrations(&db)
            .await
            .context("cannot read the database schema version")?;
        if !pending.is_empty() {
            bail!("the database lacks migrations {pending:?}; run `opsportal migrate` first");
        }
        let directory = Directory::new(config.directory.clone(), config.directory.bind_password()?)
            .map_err(|e| anyhow::anyhow!("directory.ca_file: {e}"))?;
        let signer = certs::Signer::build(&config.certificates, config.vault.as_ref())
            .map_err(anyhow::Error::msg)?;
        check_signer(&signer).await?;
        let ingest = ingest::Ingest::new(config.ingest.clone(), &config.database)
            .map_err(anyhow::Error::msg)?;
        if let Err(error) = ingest::partitions::ensure(&ingest.db, chrono::Utc::now()).await {
            tracing::warn!(%error, "cannot make log partitions yet");
        }
        let session_cookie = session::cookie_name(config.server.dev_insecure_http);
        let state = AppState {
            config: Arc::new(config),
            db,
            recorder: certs::Recorder::start(lanes.clone()),
            lanes,
            intents,
            directory,
            signer: Arc::new(signer),
            sign_in_locks: Default::default(),
            ingest,
            session_cookie,
        };
        Ok(Self { state })
    }

    /// The router, for serving or for calling in tests without a socket.
    pub fn router(&self) -> Router {
        http::router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then finishes the requests in flight.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let sweeper = tokio::spawn(sweep_sessions(PgSessionStore::new(
            self.state.db.clone(),
            self.state.lanes.clone(),
        )));
        let ingest_tasks = self.state.ingest.spawn().await?;
        let app = self.router();
        let result = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        sweeper.abort();
        self.state.ingest.shutdown(ingest_tasks).await;
        result
    }
}

/// Refuses to start on a signer whose setup is unsafe. One that cannot be reached yet is only
/// reported: readiness stays red and nothing is signed until it answers.
async fn check_signer(signer: &certs::Signer) -> anyhow::Result<()> {
    match signer.check().await {
        Ok(()) => Ok(()),
        Err(certs::signer::SignError::Misconfigured(problem)) => {
            bail!("the certificate signer is unsafe, refusing to start: {problem}")
        }
        Err(error) => {
            tracing::warn!(%error, "the certificate signer cannot be checked yet");
            Ok(())
        }
    }
}

async fn sweep_sessions(store: PgSessionStore) {
    let mut tick = tokio::time::interval(SESSION_SWEEP_INTERVAL);
    loop {
        tick.tick().await;
        match store.delete_expired().await {
            Ok(0) => {}
            Ok(removed) => tracing::debug!(removed, "expired sessions removed"),
            Err(error) => tracing::warn!(%error, "cannot remove expired sessions"),
        }
    }
}
