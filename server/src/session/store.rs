//! Sessions kept in PostgreSQL, so they survive a restart and are shared by every portal
//! instance behind a load balancer.
//!
//! Rows are keyed by the SHA-256 of the session id, never the id itself: someone who can read
//! the table cannot take over a session. The account name is kept in its own column so that an
//! administrator can end all of a person's sessions.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::USER_KEY;
use crate::db::Lanes;

#[derive(Debug, Clone)]
pub struct PgSessionStore {
    db: PgPool,
    /// For the read every signed-in request makes.
    lanes: Lanes,
}

impl PgSessionStore {
    pub fn new(db: PgPool, lanes: Lanes) -> Self {
        Self { db, lanes }
    }

    /// Removes sessions past their expiry; run from time to time.
    pub async fn delete_expired(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("delete from web_session where expires_at <= now()")
            .execute(&self.db)
            .await?;
        Ok(done.rows_affected())
    }
}

/// The hash a session id is stored under.
pub fn id_hash(id: &Id) -> Vec<u8> {
    Sha256::digest(id.0.to_le_bytes()).to_vec()
}

fn backend(error: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(error.to_string())
}

fn expires_at(record: &Record) -> DateTime<Utc> {
    let at = record.expiry_date;
    DateTime::from_timestamp(at.unix_timestamp(), at.nanosecond()).unwrap_or_else(Utc::now)
}

fn username(record: &Record) -> Option<String> {
    record
        .data
        .get(USER_KEY)?
        .get("username")?
        .as_str()
        .map(str::to_owned)
}

fn data(record: &Record) -> Result<serde_json::Value, session_store::Error> {
    serde_json::to_value(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for PgSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A 128-bit random id colliding is practically impossible; if it ever does, draw again
        // rather than overwrite someone else's session.
        loop {
            let inserted = sqlx::query(
                r#"
                insert into web_session (id_hash, data, expires_at, username)
                values ($1, $2, $3, $4)
                on conflict (id_hash) do nothing
                "#,
            )
            .bind(id_hash(&record.id))
            .bind(data(record)?)
            .bind(expires_at(record))
            .bind(username(record))
            .execute(&self.db)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query(
            r#"
            insert into web_session (id_hash, data, expires_at, username)
            values ($1, $2, $3, $4)
            on conflict (id_hash) do update
            set data = excluded.data,
                expires_at = excluded.expires_at,
                username = excluded.username
            "#,
        )
        .bind(id_hash(&record.id))
        .bind(data(record)?)
        .bind(expires_at(record))
        .bind(username(record))
        .execute(&self.db)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let mut lane = self.lanes.acquire().await.map_err(backend)?;
        let row: Option<(serde_json::Value, DateTime<Utc>)> = sqlx::query_as(
            r#"
            select data, expires_at
            from web_session
            where id_hash = $1
              and expires_at > now()
            "#,
        )
        .bind(id_hash(id))
        .fetch_optional(lane.connection())
        .await
        .map_err(backend)?;
        lane.release();

        let Some((data, expires_at)) = row else {
            return Ok(None);
        };
        let data = serde_json::from_value(data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires_at.timestamp())
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("delete from web_session where id_hash = $1")
            .bind(id_hash(id))
            .execute(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
