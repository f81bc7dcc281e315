//! Admins' side of the host registry: hosts, their addresses and their tokens.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::types::ipnetwork::IpNetwork;

use super::tokens::{self, NewToken};

#[derive(Debug, sqlx::FromRow)]
pub struct HostRow {
    pub host_id: i64,
    pub name: String,
    pub addresses: Vec<IpNetwork>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_event_at: Option<DateTime<Utc>>,
    pub lines_total: i64,
    pub rejected_total: i64,
}

#[derive(Debug, sqlx::FromRow)]
pub struct TokenRow {
    pub token_id: i64,
    pub host_id: i64,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn hosts(db: &PgPool) -> Result<(Vec<HostRow>, Vec<TokenRow>), sqlx::Error> {
    let hosts = sqlx::query_as(
        "select host_id, name, addresses, created_at, created_by, last_seen_at, last_event_at,
                lines_total, rejected_total
         from ingest_host order by name",
    )
    .fetch_all(db)
    .await?;
    let tokens = sqlx::query_as(
        "select token_id, host_id, hint, created_at, created_by, revoked_at
         from ingest_token order by created_at",
    )
    .fetch_all(db)
    .await?;
    Ok((hosts, tokens))
}

/// Adds a host; `None` when the name is taken.
pub async fn add(
    db: &PgPool,
    name: &str,
    addresses: &[IpNetwork],
    by: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "insert into ingest_host (name, addresses, created_by) values ($1, $2, $3)
         on conflict (name) do nothing returning host_id",
    )
    .bind(name)
    .bind(addresses)
    .bind(by)
    .fetch_optional(db)
    .await
}

/// Makes a token for a host, revoking its others first when `rotate` is set; `None` when the
/// host does not exist.
pub async fn issue_token(
    db: &PgPool,
    host_id: i64,
    rotate: bool,
    by: &str,
) -> Result<Option<(i64, NewToken, u64)>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let exists: Option<i64> =
        sqlx::query_scalar("select host_id from ingest_host where host_id = $1 for update")
            .bind(host_id)
            .fetch_optional(&mut *tx)
            .await?;
    if exists.is_none() {
        return Ok(None);
    }
    let revoked = if rotate {
        sqlx::query(
            "update ingest_token set revoked_at = now(), revoked_by = $2
             where host_id = $1 and revoked_at is null",
        )
        .bind(host_id)
        .bind(by)
        .execute(&mut *tx)
        .await?
        .rows_affected()
    } else {
        0
    };
    let token = tokens::generate();
    let id: i64 = sqlx::query_scalar(
        "insert into ingest_token (host_id, token_hash, hint, created_by) values ($1, $2, $3, $4)
         returning token_id",
    )
    .bind(host_id)
    .bind(&token.hash)
    .bind(&token.hint)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some((id, token, revoked)))
}

/// Revokes one token; the host it belonged to, or `None` when there was no live such token.
pub async fn revoke_token(
    db: &PgPool,
    token_id: i64,
    by: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "update ingest_token set revoked_at = now(), revoked_by = $2
         where token_id = $1 and revoked_at is null returning host_id",
    )
    .bind(token_id)
    .bind(by)
    .fetch_optional(db)
    .await
}
