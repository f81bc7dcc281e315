//! The certificate registry in PostgreSQL: the record of every certificate asked for, who
//! owns which key, and what was revoked.
//!
//! Serials are unsigned 64-bit; they are bound and read as text and stored as `numeric`.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sqlx::types::ipnetwork::IpNetwork;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::audit;
use crate::db::Lanes;

/// A row about to be written before the signer is called.
pub struct Intent<'a> {
    pub username: &'a str,
    pub object_guid: &'a str,
    pub principals: &'a [String],
    pub requested_ttl_secs: i32,
    pub key_fingerprint: &'a str,
    pub public_key: &'a str,
    pub backend: &'a str,
    pub client_addr: Option<IpAddr>,
    pub user_agent: Option<&'a str>,
    pub request_id: Option<Uuid>,
}

/// What a verified certificate adds to its row, and the audit row written with it.
#[derive(Debug)]
pub struct Completion {
    /// The intent row's id.
    pub id: i64,
    pub serial: u64,
    pub key_id: String,
    pub ca_fingerprint: String,
    pub ca_public_key: String,
    pub valid_after: DateTime<Utc>,
    pub valid_before: DateTime<Utc>,
    pub certificate: String,
    pub audit: audit::OwnedEvent,
}

/// The values of a [`Completion`] in a statement, in the order [`complete_all`] binds them.
const COMPLETION_TYPES: [&str; 8] = [
    "bigint",
    "numeric",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "text",
];

/// A certificate row as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub certificate_id: i64,
    pub state: String,
    pub username: String,
    pub principals: Vec<String>,
    pub serial: Option<String>,
    pub key_id: Option<String>,
    pub key_fingerprint: String,
    pub public_key: String,
    pub ca_fingerprint: Option<String>,
    pub valid_after: Option<DateTime<Utc>>,
    pub valid_before: Option<DateTime<Utc>>,
    pub certificate: Option<String>,
    pub created_at: DateTime<Utc>,
    pub backend: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<String>,
}

const COLUMNS: &str = "certificate_id, state, username, principals, serial::text as serial, \
    key_id, key_fingerprint, public_key, ca_fingerprint, valid_after, valid_before, \
    certificate, created_at, backend, revoked_at, revoked_by";

/// Filters for the admin listing; `None` matches everything.
#[derive(Debug, Default)]
pub struct Filter {
    pub username: Option<String>,
    pub principal: Option<String>,
    /// One of the API's state names.
    pub state: Option<String>,
    pub limit: i64,
}

/// What the checks before signing found.
pub enum Begun {
    /// The intent row was written; its id.
    Started(i64),
    KeyRevoked,
    /// The key belongs to this other person.
    KeyOfAnother(String),
    TooMany,
}

/// In one statement (one commit): refuses a revoked key, a key another person owns, or a
/// person over `max_per_minute` (0: no limit); otherwise claims the key and writes the intent
/// row. One statement rather than a transaction of five, because this runs for every
/// certificate.
pub async fn begin(
    lanes: &Lanes,
    intent: &Intent<'_>,
    max_per_minute: u32,
) -> Result<Begun, sqlx::Error> {
    let mut lane = lanes.acquire().await?;
    let begun = begin_on(lane.connection(), intent, max_per_minute).await?;
    lane.release();
    Ok(begun)
}

async fn begin_on(
    db: &mut PgConnection,
    intent: &Intent<'_>,
    max_per_minute: u32,
) -> Result<Begun, sqlx::Error> {
    // A key claimed by a request running at the same moment is invisible to this statement's
    // snapshot (the owner reads as none); a second statement sees who claimed it.
    for _ in 0..2 {
        if let Some(begun) = try_begin(&mut *db, intent, max_per_minute).await? {
            return Ok(begun);
        }
    }
    let owner: Option<String> =
        sqlx::query_scalar("select username from key_owner where key_fingerprint = $1")
            .bind(intent.key_fingerprint)
            .fetch_optional(db)
            .await?;
    Ok(Begun::KeyOfAnother(owner.unwrap_or_default()))
}

/// One attempt of [`begin`]; `None` when the key's owner was not visible yet.
async fn try_begin(
    db: &mut PgConnection,
    intent: &Intent<'_>,
    max_per_minute: u32,
) -> Result<Option<Begun>, sqlx::Error> {
    let (revoked, owner, id): (bool, Option<String>, Option<i64>) = sqlx::query_as(
        "with
           revoked as (
             select exists (select 1 from revoked_key where key_fingerprint = $5) as yes),
           claimed as (
             insert into key_owner (key_fingerprint, username)
             select $5, $1 where not (select yes from revoked)
             on conflict (key_fingerprint) do nothing
             returning username),
           owner as (
             select coalesce((select username from claimed),
                             (select username from key_owner where key_fingerprint = $5)) as username),
           recent as (
             -- Counts no further than the limit, so the check costs the same however busy.
             select count(*) as n from (
               select 1 from certificate
               where lower(username) = lower($1) and created_at > now() - interval '1 minute'
               limit $11) r),
           started as (
             insert into certificate (state, username, object_guid, principals,
                 requested_ttl_secs, key_fingerprint, public_key, backend, client_addr,
                 user_agent, request_id)
             select 'signing', $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
             where not (select yes from revoked)
               and lower((select username from owner)) = lower($1)
               and ($11 = 0 or (select n from recent) < $11)
             returning certificate_id)
         select (select yes from revoked), (select username from owner),
                (select certificate_id from started)",
    )
    .bind(intent.username)
    .bind(intent.object_guid)
    .bind(intent.principals)
    .bind(intent.requested_ttl_secs)
    .bind(intent.key_fingerprint)
    .bind(intent.public_key)
    .bind(intent.backend)
    .bind(intent.client_addr.map(IpNetwork::from))
    .bind(intent.user_agent)
    .bind(intent.request_id)
    .bind(i64::from(max_per_minute))
    .fetch_one(db)
    .await?;
    Ok(match (revoked, owner, id) {
        (true, _, _) => Some(Begun::KeyRevoked),
        (false, _, Some(id)) => Some(Begun::Started(id)),
        (false, Some(owner), None) if owner.eq_ignore_ascii_case(intent.username) => {
            Some(Begun::TooMany)
        }
        (false, Some(owner), None) => Some(Begun::KeyOfAnother(owner)),
        (false, None, None) => None,
    })
}

/// Marks an intent `failed` or `rejected`, with what went wrong.
pub async fn fail(db: &PgPool, id: i64, state: &str, failure: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update certificate set state = $2, failure = $3 where certificate_id = $1 and state = 'signing'",
    )
    .bind(id)
    .bind(state)
    .bind(failure)
    .execute(db)
    .await
    .map(drop)
}

/// Records verified certificates on their intent rows, each with its audit row, in one
/// statement: each record and its audit row commit together or not at all, and all of them
/// in one commit. Returns the completed rows; an intent that was no longer waiting for its
/// certificate has none.
pub async fn complete_all(
    db: &mut PgConnection,
    completions: &[Completion],
) -> Result<Vec<Row>, sqlx::Error> {
    let per_row = COMPLETION_TYPES.len() + audit::TYPES.len();
    let rows: Vec<String> = (0..completions.len())
        .map(|row| {
            let types = COMPLETION_TYPES.iter().chain(audit::TYPES.iter());
            let values: Vec<String> = types
                .enumerate()
                .map(|(n, ty)| format!("${}::{ty}", row * per_row + n + 1))
                .collect();
            format!("({})", values.join(", "))
        })
        .collect();
    let statement = format!(
        "with input (v_id, v_serial, v_key_id, v_ca_fingerprint, v_ca_public_key,
             v_valid_after, v_valid_before, v_certificate, {audit_columns}) as (
           values {rows}),
         done as (
           update certificate set state = 'issued', serial = v_serial, key_id = v_key_id,
               ca_fingerprint = v_ca_fingerprint, ca_public_key = v_ca_public_key,
               valid_after = v_valid_after, valid_before = v_valid_before,
               certificate = v_certificate, issued_at = now()
           from input
           where certificate_id = v_id and state = 'signing'
           returning {COLUMNS}),
         audited as ({insert} select {audit_columns} from input join done on v_id = certificate_id)
         select * from done",
        audit_columns = audit::COLUMNS,
        rows = rows.join(", "),
        insert = audit::INSERT,
    );
    let mut query = sqlx::query_as(&statement);
    for completion in completions {
        query = query
            .bind(completion.id)
            .bind(completion.serial.to_string())
            .bind(completion.key_id.as_str())
            .bind(completion.ca_fingerprint.as_str())
            .bind(completion.ca_public_key.as_str())
            .bind(completion.valid_after)
            .bind(completion.valid_before)
            .bind(completion.certificate.as_str());
        query = audit::bind(query, &completion.audit);
    }
    query.fetch_all(db).await
}

pub async fn get(db: &PgPool, id: i64) -> Result<Option<Row>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from certificate where certificate_id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
}

/// A person's certificates, newest first.
pub async fn list_for(db: &PgPool, username: &str, limit: i64) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from certificate where lower(username) = lower($1)
         and state in ('issued', 'signing')
         order by created_at desc limit $2"
    ))
    .bind(username)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Every certificate matching `filter`, newest first.
pub async fn list(db: &PgPool, filter: &Filter) -> Result<Vec<Row>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from certificate
         where ($1::text is null or lower(username) = lower($1))
           and ($2::text is null or $2 = any(principals))
           and ($3::text is null or case
                 when $3 = 'revoked' then revoked_at is not null
                 when $3 = 'valid' then state = 'issued' and revoked_at is null and valid_before > now()
                 when $3 = 'expired' then state = 'issued' and revoked_at is null and valid_before <= now()
                 when $3 = 'unfinished' then state = 'signing'
                 else state = $3 end)
         order by created_at desc limit $4"
    ))
    .bind(&filter.username)
    .bind(&filter.principal)
    .bind(&filter.state)
    .bind(filter.limit)
    .fetch_all(db)
    .await
}

/// Revokes one issued certificate; returns whether it was revoked now.
pub async fn revoke_one(
    db: &PgPool,
    id: i64,
    by: &str,
    reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update certificate set revoked_at = now(), revoked_by = $2, revoke_reason = $3
         where certificate_id = $1 and state = 'issued' and revoked_at is null",
    )
    .bind(id)
    .bind(by)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every issued, unrevoked certificate of `username`; returns how many.
pub async fn revoke_person(
    db: &PgPool,
    username: &str,
    by: &str,
    reason: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "update certificate set revoked_at = now(), revoked_by = $2, revoke_reason = $3
         where lower(username) = lower($1) and state = 'issued' and revoked_at is null",
    )
    .bind(username)
    .bind(by)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Puts a key the portal has certified on the deny list and revokes its certificates, in one
/// transaction. `None` when the portal never saw the key.
pub async fn revoke_key(
    db: &PgPool,
    fingerprint: &str,
    by: &str,
    reason: Option<&str>,
) -> Result<Option<u64>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let public_key: Option<String> =
        sqlx::query_scalar("select public_key from certificate where key_fingerprint = $1 limit 1")
            .bind(fingerprint)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(public_key) = public_key else {
        return Ok(None);
    };
    sqlx::query(
        "insert into revoked_key (key_fingerprint, public_key, revoked_by, reason)
         values ($1, $2, $3, $4) on conflict (key_fingerprint) do nothing",
    )
    .bind(fingerprint)
    .bind(&public_key)
    .bind(by)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    let done = sqlx::query(
        "update certificate set revoked_at = now(), revoked_by = $2, revoke_reason = $3
         where key_fingerprint = $1 and state = 'issued' and revoked_at is null",
    )
    .bind(fingerprint)
    .bind(by)
    .bind(reason)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(done.rows_affected()))
}

/// Everything a revocation list holds, read in one snapshot: revoked serials by CA key, the
/// revoked keys, and a version that grows with every revocation.
pub struct RevocationRows {
    pub serials: Vec<(String, String)>,
    pub keys: Vec<String>,
    pub version: i64,
}

pub async fn revocations(db: &PgPool) -> Result<RevocationRows, sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("set transaction isolation level repeatable read read only")
        .execute(&mut *tx)
        .await?;
    let serials: Vec<(String, String)> = sqlx::query_as(
        "select ca_public_key, serial::text from certificate
         where revoked_at is not null and state = 'issued' order by ca_public_key, serial",
    )
    .fetch_all(&mut *tx)
    .await?;
    let keys: Vec<String> =
        sqlx::query_scalar("select public_key from revoked_key order by key_fingerprint")
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    let version = (serials.len() + keys.len()) as i64;
    Ok(RevocationRows {
        serials,
        keys,
        version,
    })
}
