//! The audit trail: sign-ins, their failures with the reason, sign-outs, and later every
//! security-relevant action, one row each in `audit_event`.
//!
//! Rows name people and reasons, never secrets: no passwords, tokens or session ids (a session
//! is referred to by the hash its store row is keyed by).

use std::net::IpAddr;

use sqlx::postgres::PgArguments;
use sqlx::query::{Query, QueryAs};
use sqlx::types::ipnetwork::IpNetwork;
use sqlx::{PgExecutor, Postgres};
use uuid::Uuid;

use crate::http::request_id;

/// Whether the audited action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

/// One audited action.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// Dotted event name, e.g. `sign_in` or `sign_out`.
    pub event: &'a str,
    pub outcome: Outcome,
    /// The canonical account acting, once the directory has confirmed it.
    pub actor: Option<&'a str>,
    /// What the action was about: for sign-ins, the name as typed, lowercased.
    pub subject: Option<&'a str>,
    /// Machine-readable reason for a failure.
    pub reason: Option<&'a str>,
    pub source_addr: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    /// Whether this failure counts towards sign-in throttling.
    pub throttled: bool,
    pub detail: serde_json::Value,
}

impl<'a> AuditEvent<'a> {
    pub fn new(event: &'a str, outcome: Outcome) -> Self {
        Self {
            event,
            outcome,
            actor: None,
            subject: None,
            reason: None,
            source_addr: None,
            user_agent: None,
            throttled: false,
            detail: serde_json::Value::Object(Default::default()),
        }
    }
}

/// Writes one audit row, tagged with the current request id.
pub async fn record(db: impl PgExecutor<'_>, event: &AuditEvent<'_>) -> Result<(), sqlx::Error> {
    let statement = format!("{INSERT} values ({})", placeholders(1));
    bind(sqlx::query(&statement), event).execute(db).await?;
    log(event);
    Ok(())
}

/// The audit insert without its values, for a statement that writes the row together with
/// the change it records (`insert ... select` from a data-modifying `with` part), so that
/// both commit or neither does, in one round trip.
pub const INSERT: &str = "insert into audit_event (event, outcome, actor, subject, reason, \
    source_addr, user_agent, throttled, request_id, detail)";

/// The row's ten values as `$first, ..., $first+9`, bound by [`bind`] in that order.
pub fn placeholders(first: usize) -> String {
    let list: Vec<String> = (first..first + 10).map(|n| format!("${n}")).collect();
    list.join(", ")
}

/// Binds the row's values, in the order [`placeholders`] numbers them.
pub fn bind<'q, Q: Bind<'q>>(query: Q, event: &'q AuditEvent<'q>) -> Q {
    let request_id = request_id::current().and_then(|id| Uuid::parse_str(&id).ok());
    query
        .bind_one(Some(event.event))
        .bind_one(Some(event.outcome.as_str()))
        .bind_one(event.actor)
        .bind_one(event.subject)
        .bind_one(event.reason)
        .bind_one(event.source_addr.map(IpNetwork::from))
        .bind_one(event.user_agent.map(truncate_user_agent))
        .bind_one(event.throttled)
        .bind_one(request_id)
        .bind_one(event.detail.clone())
}

/// Logs an audit row once it is written.
pub fn log(event: &AuditEvent<'_>) {
    tracing::info!(
        event = event.event,
        outcome = event.outcome.as_str(),
        actor = event.actor,
        reason = event.reason,
        "audit"
    );
}

/// What [`bind`] needs of a query: `sqlx::query` and `sqlx::query_as` alike.
pub trait Bind<'q>: Sized {
    fn bind_one<T>(self, value: T) -> Self
    where
        T: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>;
}

impl<'q> Bind<'q> for Query<'q, Postgres, PgArguments> {
    fn bind_one<T>(self, value: T) -> Self
    where
        T: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
    {
        self.bind(value)
    }
}

impl<'q, O> Bind<'q> for QueryAs<'q, Postgres, O, PgArguments> {
    fn bind_one<T>(self, value: T) -> Self
    where
        T: 'q + sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
    {
        self.bind(value)
    }
}

/// User agents are client-controlled; keep a bounded prefix.
fn truncate_user_agent(agent: &str) -> &str {
    let mut end = agent.len().min(512);
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    &agent[..end]
}
