//! Sign-in throttling, counted from the audit trail so that every portal instance sees the same
//! failures.
//!
//! A name is throttled after `max_failures_per_user` counted failures within
//! `user_window_secs`, an address after `max_failures_per_address` within
//! `address_window_secs`. The wait is until the oldest of those failures leaves the window.

use std::net::IpAddr;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::types::ipnetwork::IpNetwork;

use crate::config::SignInConfig;

/// How long the caller must wait, or `None` when an attempt may go ahead.
pub async fn retry_after(
    db: &PgPool,
    limits: &SignInConfig,
    throttle_key: &str,
    addr: Option<IpAddr>,
) -> Result<Option<Duration>, sqlx::Error> {
    let by_user = sqlx::query_as::<_, (i64, Option<f64>)>(
        r#"
        with recent as (
            select occurred_at
            from audit_event
            where event = 'sign_in' and outcome = 'failure' and throttled
              and subject = $1
              and occurred_at > now() - make_interval(secs => $2)
            order by occurred_at desc
            limit $3
        )
        select count(*),
               extract(epoch from min(occurred_at) + make_interval(secs => $2) - now())::float8
        from recent
        "#,
    )
    .bind(throttle_key)
    .bind(limits.user_window_secs as f64)
    .bind(i64::from(limits.max_failures_per_user))
    .fetch_one(db)
    .await?;

    let by_addr = match addr {
        None => (0, None),
        Some(addr) => {
            sqlx::query_as::<_, (i64, Option<f64>)>(
                r#"
                with recent as (
                    select occurred_at
                    from audit_event
                    where event = 'sign_in' and outcome = 'failure' and throttled
                      and source_addr = $1
                      and occurred_at > now() - make_interval(secs => $2)
                    order by occurred_at desc
                    limit $3
                )
                select count(*),
                       extract(epoch from min(occurred_at) + make_interval(secs => $2) - now())::float8
                from recent
                "#,
            )
            .bind(IpNetwork::from(addr))
            .bind(limits.address_window_secs as f64)
            .bind(i64::from(limits.max_failures_per_address))
            .fetch_one(db)
            .await?
        }
    };

    let wait = |(count, secs): (i64, Option<f64>), max: u32| {
        (count >= i64::from(max))
            .then(|| Duration::from_secs_f64(secs.unwrap_or(1.0).max(1.0).ceil()))
    };
    Ok(
        match (
            wait(by_user, limits.max_failures_per_user),
            wait(by_addr, limits.max_failures_per_address),
        ) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        },
    )
}
