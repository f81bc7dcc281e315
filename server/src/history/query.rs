//! The history search: filters, keyset pagination, and each login tied to its connection.
//!
//! Pages are cut on (event time, id), newest first, so a page costs the same however deep it
//! is. A time range also bounds the receive time, which the table is partitioned by, to a
//! day either side. A login's end and the attempts its connection failed before it are read
//! from `log_session`, which ingest keeps.
//! Free text (`q`) is a case-insensitive substring of the raw line; it has no index of its own
//! and is meant to narrow a search the other filters and a time range already bound.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::filter::{Cursor, EventFilter, KINDS};

/// Attributions the security team is shown as needing a look.
pub const FLAGGED: &[&str] = &["inferred", "suspicious", "unattributed", "non_ca"];

/// How far a line's arrival may be from its own time and still be found by a time-range
/// search.
const RECEIVE_SLACK: chrono::TimeDelta = chrono::TimeDelta::days(1);

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub event_id: i64,
    pub event_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub host: String,
    pub kind: String,
    pub username: Option<String>,
    pub src_ip: Option<String>,
    pub src_port: Option<i32>,
    pub method: Option<String>,
    pub key_type: Option<String>,
    pub key_fingerprint: Option<String>,
    pub key_id: Option<String>,
    pub serial: Option<String>,
    pub ca_fingerprint: Option<String>,
    pub certificate_id: Option<i64>,
    pub person: Option<String>,
    pub attribution: Option<String>,
    pub reason: Option<String>,
    pub skew_secs: Option<i32>,
    pub flags: Vec<String>,
    pub raw: String,
    pub cert_valid_after: Option<DateTime<Utc>>,
    pub cert_valid_before: Option<DateTime<Utc>>,
    pub cert_principals: Option<Vec<String>>,
    pub cert_revoked_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub failures_before: Option<i64>,
}

impl EventRow {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            event_at: self.event_at,
            event_id: self.event_id,
        }
    }
}

/// One page of events matching `filter`, newest first.
///
/// The page is cut first, on `log_event` alone, and only its rows are then joined to their
/// host, certificate and connection: the joins cost the same for every page, and the planner
/// has a plain indexed scan to choose, prepared statement or not.
pub async fn search(db: &PgPool, filter: &EventFilter) -> Result<Vec<EventRow>, sqlx::Error> {
    let host_ids = match &filter.host {
        Some(name) => {
            let ids: Vec<i64> =
                sqlx::query_scalar("select host_id from ingest_host where lower(name) = lower($1)")
                    .bind(name)
                    .fetch_all(db)
                    .await?;
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            Some(ids)
        }
        None => None,
    };
    let mut query = QueryBuilder::<Postgres>::new(
        "with page as materialized (select * from log_event e where true",
    );
    push_filters(&mut query, filter, host_ids);
    // The limit is a checked integer; written out, it lets the planner see how few rows
    // are wanted even in a generic plan.
    query.push(format!(
        " order by e.event_at desc, e.event_id desc limit {})",
        filter.limit
    ));
    query.push(
        " select e.event_id, e.event_at, e.received_at, h.name as host, e.kind, e.username,
            host(e.src_ip) as src_ip, e.src_port, e.method, e.key_type, e.key_fingerprint,
            e.key_id, e.serial::text as serial, e.ca_fingerprint, e.certificate_id, e.person,
            e.attribution, e.reason, e.skew_secs, e.flags, e.raw,
            c.valid_after as cert_valid_after, c.valid_before as cert_valid_before, c.principals as cert_principals,
            c.revoked_at as cert_revoked_at, s.ended_at, s.failures_before
         from page e
         join ingest_host h on h.host_id = e.host_id
         left join certificate c on c.certificate_id = e.certificate_id
         left join log_session s on e.kind = 'accepted' and s.host_id = e.host_id
            and s.src_ip = e.src_ip and s.src_port = e.src_port and s.login_at = e.event_at
         order by e.event_at desc, e.event_id desc",
    );
    query.build_query_as().fetch_all(db).await
}

fn push_filters(
    query: &mut QueryBuilder<'_, Postgres>,
    filter: &EventFilter,
    host_ids: Option<Vec<i64>>,
) {
    if let Some(person) = &filter.person {
        query.push(" and lower(e.person) = lower(");
        query.push_bind(person.clone());
        query.push(")");
    }
    match host_ids.as_deref() {
        // One host, the usual case: an equality keeps the index's order by time.
        Some([id]) => {
            query.push(" and e.host_id = ");
            query.push_bind(*id);
        }
        Some(ids) => {
            query.push(" and e.host_id = any(");
            query.push_bind(ids.to_vec());
            query.push(")");
        }
        None => {}
    }
    if let Some(src) = filter.src {
        query.push(" and e.src_ip = ");
        query.push_bind(sqlx::types::ipnetwork::IpNetwork::from(src));
    }
    if let Some(serial) = filter.serial {
        query.push(" and e.serial = ");
        query.push_bind(serial.to_string());
        query.push("::numeric");
    }
    if let Some(key) = &filter.key {
        query.push(" and e.key_fingerprint = ");
        query.push_bind(key.clone());
    }
    if let Some(kind) = &filter.kind {
        // Written out, as the limit is, so that the planner sees it even in a generic plan
        // and can use the index of logins; the filter admits only the known kinds, which
        // are plain words.
        match KINDS.iter().find(|known| **known == kind.as_str()) {
            Some(known) => {
                query.push(format!(" and e.kind = '{known}'"));
            }
            None => {
                query.push(" and e.kind = ");
                query.push_bind(kind.clone());
            }
        }
    }
    // Rows are partitioned by when they arrived; bounding that too lets a time-range search
    // read only the partitions around the range. A line whose host's clock was off by more
    // than RECEIVE_SLACK is found by a search around when it arrived instead.
    if let Some(from) = filter.from {
        query.push(" and e.event_at >= ");
        query.push_bind(from);
        query.push(" and e.received_at >= ");
        query.push_bind(from - RECEIVE_SLACK);
    }
    if let Some(to) = filter.to {
        query.push(" and e.event_at < ");
        query.push_bind(to);
        query.push(" and e.received_at < ");
        query.push_bind(to + RECEIVE_SLACK);
    }
    if let Some(text) = &filter.text {
        query.push(" and strpos(lower(e.raw), lower(");
        query.push_bind(text.clone());
        query.push(")) > 0");
    }
    if filter.flagged_only {
        query.push(" and e.attribution = any(");
        query.push_bind(FLAGGED.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        query.push(")");
    }
    if let Some(after) = filter.after {
        query.push(" and (e.event_at, e.event_id) < (");
        query.push_bind(after.event_at);
        query.push(", ");
        query.push_bind(after.event_id);
        query.push(")");
    }
}

/// Accepted logins on `host` whose connection overlapped `[from, to)`.
pub async fn sessions_on_host(
    db: &PgPool,
    host: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    let filter = EventFilter {
        host: Some(host.to_owned()),
        kind: Some("accepted".into()),
        to: Some(to),
        limit: super::filter::MAX_PAGE,
        ..EventFilter::default()
    };
    let mut rows = search(db, &filter).await?;
    rows.retain(|row| row.ended_at.is_none_or(|end| end >= from));
    rows.truncate(limit as usize);
    Ok(rows)
}
