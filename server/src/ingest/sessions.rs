//! Sessions in `log_session`, kept as lines are stored.
//!
//! Each accepted login with an address and port opens a row, with the attempts its
//! connection failed before it (counted by the correlator), and the connection's first
//! disconnect (same host, address and port, at or after the login) ends it. A history page then reads a
//! login's end and failures with one lookup. A disconnect stored before its login (lines out
//! of order across batches) ends nothing, and that session reads as still open.

use sqlx::types::ipnetwork::IpNetwork;
use sqlx::{Postgres, Transaction};

use super::event::EventRow;

/// Opens a session for each login in `rows`, then ends the open sessions their disconnects
/// close; a login and its disconnect in one batch are both seen.
pub async fn note(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[&EventRow],
) -> Result<(), sqlx::Error> {
    let connection =
        |row: &EventRow| Some((row.host_id, IpNetwork::from(row.src_ip?), row.src_port?));
    let logins: Vec<_> = rows
        .iter()
        .filter(|row| row.kind == "accepted")
        .filter_map(|row| Some((connection(row)?, row)))
        .collect();
    if !logins.is_empty() {
        sqlx::query(
            "insert into log_session
                (host_id, src_ip, src_port, login_at, received_at, failures_before)
             select * from unnest($1::bigint[], $2::inet[], $3::int[], $4::timestamptz[],
                $5::timestamptz[], $6::bigint[])
             on conflict do nothing",
        )
        .bind(logins.iter().map(|((h, _, _), _)| *h).collect::<Vec<_>>())
        .bind(logins.iter().map(|((_, ip, _), _)| *ip).collect::<Vec<_>>())
        .bind(logins.iter().map(|((_, _, p), _)| *p).collect::<Vec<_>>())
        .bind(
            logins
                .iter()
                .map(|(_, row)| row.event_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            logins
                .iter()
                .map(|(_, row)| row.received_at)
                .collect::<Vec<_>>(),
        )
        .bind(
            logins
                .iter()
                .map(|(_, row)| row.failures_before.unwrap_or(0))
                .collect::<Vec<_>>(),
        )
        .execute(&mut **tx)
        .await?;
    }

    let ends: Vec<_> = rows
        .iter()
        .filter(|row| matches!(row.kind, "disconnected" | "connection_closed"))
        .filter_map(|row| Some((connection(row)?, row.event_at)))
        .collect();
    if !ends.is_empty() {
        sqlx::query(
            "update log_session s set ended_at = d.ended_at
             from (select host_id, src_ip, src_port, min(ended_at) as ended_at
                   from unnest($1::bigint[], $2::inet[], $3::int[], $4::timestamptz[])
                     as t(host_id, src_ip, src_port, ended_at)
                   group by host_id, src_ip, src_port) d
             where s.host_id = d.host_id and s.src_ip = d.src_ip and s.src_port = d.src_port
               and s.ended_at is null and s.login_at <= d.ended_at",
        )
        .bind(ends.iter().map(|((h, _, _), _)| *h).collect::<Vec<_>>())
        .bind(ends.iter().map(|((_, ip, _), _)| *ip).collect::<Vec<_>>())
        .bind(ends.iter().map(|((_, _, p), _)| *p).collect::<Vec<_>>())
        .bind(ends.iter().map(|(_, at)| *at).collect::<Vec<_>>())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
