//! Bearer tokens for HTTP ingest: made at random, shown once, stored as their SHA-256.
//!
//! A token is looked up by its hash, so the comparison happens inside the database's index on
//! a value the caller cannot steer byte by byte; a revoked token stops working at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::hosts::HostRef;

/// Every token starts with this, so that one pasted in the wrong place is recognisable.
const PREFIX: &str = "opsp_";

/// A new token: the secret to hand out once, and what is stored.
pub struct NewToken {
    pub secret: String,
    pub hash: Vec<u8>,
    pub hint: String,
}

pub fn generate() -> NewToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    NewToken {
        hash: hash(&secret),
        hint: secret[..PREFIX.len() + 6].to_owned(),
        secret,
    }
}

pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The host a live token belongs to.
pub async fn host_of(db: &PgPool, secret: &str) -> Result<Option<HostRef>, sqlx::Error> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "select h.host_id, h.name from ingest_token t join ingest_host h using (host_id)
         where t.token_hash = $1 and t.revoked_at is null",
    )
    .bind(hash(secret))
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, name)| HostRef { id, name }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_distinct_prefixed_and_hashed() {
        let a = generate();
        let b = generate();
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with(PREFIX));
        assert_eq!(a.secret.len(), PREFIX.len() + 43);
        assert_eq!(a.hash, hash(&a.secret));
        assert!(a.secret.starts_with(&a.hint));
        assert!(!a.hint.contains(&a.secret[a.hint.len()..]));
    }
}
