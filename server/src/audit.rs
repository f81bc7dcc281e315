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
    let owned = OwnedEvent::of(event);
    bind(sqlx::query(&statement), &owned).execute(db).await?;
    log(event);
    Ok(())
}

macro_rules! columns {
    () => {
        "event, outcome, actor, subject, reason, source_addr, user_agent, throttled, \
         request_id, detail"
    };
}

/// The audit row's columns, in the order [`bind`] binds them.
pub const COLUMNS: &str = columns!();

/// The SQL type of each of [`COLUMNS`], for values given in a `values` list.
pub const TYPES: [&str; 10] = [
    "text", "text", "text", "text", "text", "inet", "text", "boolean", "uuid", "jsonb",
];

/// The audit insert without its values, for a statement that writes the row together with
/// the change it records (`insert ... select` from a data-modifying `with` part), so that
/// both commit or neither does, in one round trip.
pub const INSERT: &str = concat!("insert into audit_event (", columns!(), ")");

/// The row's ten values as `$first, ..., $first+9`, bound by [`bind`] in that order.
pub fn placeholders(first: usize) -> String {
    let list: Vec<String> = (first..first + 10).map(|n| format!("${n}")).collect();
    list.join(", ")
}

/// An audit row's values, owned, with the id of the request it was made in: for writing
/// from another task than the request's.
#[derive(Debug, Clone)]
pub struct OwnedEvent {
    event: String,
    outcome: Outcome,
    actor: Option<String>,
    subject: Option<String>,
    reason: Option<String>,
    source_addr: Option<IpAddr>,
    user_agent: Option<String>,
    throttled: bool,
    request_id: Option<Uuid>,
    detail: serde_json::Value,
}

impl OwnedEvent {
    /// `event`'s values, and the current request's id.
    pub fn of(event: &AuditEvent<'_>) -> Self {
        Self {
            event: event.event.to_owned(),
            outcome: event.outcome,
            actor: event.actor.map(str::to_owned),
            subject: event.subject.map(str::to_owned),
            reason: event.reason.map(str::to_owned),
            source_addr: event.source_addr,
            user_agent: event.user_agent.map(|a| truncate_user_agent(a).to_owned()),
            throttled: event.throttled,
            request_id: request_id::current().and_then(|id| Uuid::parse_str(&id).ok()),
            detail: event.detail.clone(),
        }
    }
}

/// Binds the row's values, in the order [`placeholders`] numbers them.
pub fn bind<'q, Q: Bind<'q>>(query: Q, event: &'q OwnedEvent) -> Q {
    query
        .bind_one(Some(event.event.as_str()))
        .bind_one(Some(event.outcome.as_str()))
        .bind_one(event.actor.as_deref())
        .bind_one(event.subject.as_deref())
        .bind_one(event.reason.as_deref())
        .bind_one(event.source_addr.map(IpNetwork::from))
        .bind_one(event.user_agent.as_deref())
        .bind_one(event.throttled)
        .bind_one(event.request_id)
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
