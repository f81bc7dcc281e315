//! The audit trail: sign-ins, their failures with the reason, sign-outs, and later every
//! security-relevant action, one row each in `audit_event`.
//!
//! Rows name people and reasons, never secrets: no passwords, tokens or session ids (a session
//! is referred to by the hash its store row is keyed by).

use std::net::IpAddr;

use sqlx::PgExecutor;
use sqlx::types::ipnetwork::IpNetwork;
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
    let request_id = request_id::current().and_then(|id| Uuid::parse_str(&id).ok());
    sqlx::query(
        r#"
        insert into audit_event
            (event, outcome, actor, subject, reason, source_addr, user_agent, throttled,
             request_id, detail)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        "#,
    )
    .bind(event.event)
    .bind(event.outcome.as_str())
    .bind(event.actor)
    .bind(event.subject)
    .bind(event.reason)
    .bind(event.source_addr.map(IpNetwork::from))
    .bind(event.user_agent.map(truncate_user_agent))
    .bind(event.throttled)
    .bind(request_id)
    .bind(&event.detail)
    .execute(db)
    .await?;
    tracing::info!(
        event = event.event,
        outcome = event.outcome.as_str(),
        actor = event.actor,
        reason = event.reason,
        "audit"
    );
    Ok(())
}

/// User agents are client-controlled; keep a bounded prefix.
fn truncate_user_agent(agent: &str) -> &str {
    let mut end = agent.len().min(512);
    while !agent.is_char_boundary(end) {
        end -= 1;
    }
    &agent[..end]
}
