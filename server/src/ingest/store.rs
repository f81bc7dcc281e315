//! Writing received lines: one transaction per batch, the events written with `COPY`, and
//! the sessions they open and end ([`sessions`](super::sessions)).
//!
//! Lines a sender numbered (a stream and a sequence number) are claimed in `log_seq` in the
//! same transaction as they are stored, so a batch that is sent again, even at the same time
//! as the first copy, is stored once: the second claim waits for the first and then finds the
//! numbers taken.

use std::collections::{BTreeSet, HashMap, HashSet};

use sqlx::{PgPool, Postgres, Transaction};

use super::event::EventRow;
use super::{copy, partitions, sessions};

/// What storing a batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub accepted: u64,
    pub duplicates: u64,
}

/// Stores `rows` in one transaction; nothing of the batch is stored when this fails.
pub async fn store(db: &PgPool, rows: Vec<EventRow>) -> Result<Stored, sqlx::Error> {
    match try_store(db, &rows).await {
        Err(error) if partitions::is_missing_partition(&error) => {
            tracing::warn!("a partition was missing; making partitions and writing again");
            partitions::ensure(db, chrono::Utc::now()).await?;
            try_store(db, &rows).await
        }
        other => other,
    }
}

async fn try_store(db: &PgPool, rows: &[EventRow]) -> Result<Stored, sqlx::Error> {
    let mut tx = db.begin().await?;
    let fresh = claim_sequence_numbers(&mut tx, rows).await?;
    let keep: Vec<&EventRow> = rows
        .iter()
        .filter(|row| match &row.seq {
            Some((stream, seq)) => fresh.contains(&(row.host_id, stream.as_str(), *seq)),
            None => true,
        })
        .collect();
    insert_events(&mut tx, &keep).await?;
    sessions::note(&mut tx, &keep).await?;
    note_hosts(&mut tx, &keep).await?;
    tx.commit().await?;
    Ok(Stored {
        accepted: keep.len() as u64,
        duplicates: (rows.len() - keep.len()) as u64,
    })
}

/// Claims the batch's sequence numbers; returns those no earlier batch had.
async fn claim_sequence_numbers<'r>(
    tx: &mut Transaction<'_, Postgres>,
    rows: &'r [EventRow],
) -> Result<HashSet<(i64, &'r str, u64)>, sqlx::Error> {
    let streams: BTreeSet<(i64, &str)> = rows
        .iter()
        .filter_map(|row| Some((row.host_id, row.seq.as_ref()?.0.as_str())))
        .collect();
    if streams.is_empty() {
        return Ok(HashSet::new());
    }
    let (hosts, names): (Vec<i64>, Vec<&str>) = streams.iter().copied().unzip();
    let ids: Vec<(i64, i64, String)> = sqlx::query_as(
        "insert into log_stream (host_id, name) select * from unnest($1::bigint[], $2::text[])
         on conflict (host_id, name) do update set name = excluded.name
         returning stream_id, host_id, name",
    )
    .bind(&hosts)
    .bind(&names)
    .fetch_all(&mut **tx)
    .await?;
    let id_of: HashMap<(i64, &str), i64> = ids
        .iter()
        .map(|(id, host, name)| ((*host, name.as_str()), *id))
        .collect();
    let mut by_id: HashMap<i64, (i64, &str)> = HashMap::new();
    let (stream_ids, seqs): (Vec<i64>, Vec<String>) = rows
        .iter()
        .filter_map(|row| {
            let (stream, seq) = row.seq.as_ref()?;
            let id = *id_of.get(&(row.host_id, stream.as_str()))?;
            by_id.insert(id, (row.host_id, stream.as_str()));
            Some((id, seq.to_string()))
        })
        .unzip();
    let claimed: Vec<(i64, String)> = sqlx::query_as(
        "insert into log_seq (stream_id, seq) select * from unnest($1::bigint[], $2::numeric[])
         on conflict do nothing returning stream_id, seq::text",
    )
    .bind(&stream_ids)
    .bind(&seqs)
    .fetch_all(&mut **tx)
    .await?;
    Ok(claimed
        .into_iter()
        .filter_map(|(id, seq)| {
            let (host, stream) = by_id.get(&id)?;
            Some((*host, *stream, seq.parse().ok()?))
        })
        .collect())
}

/// Writes the rows with `COPY`, inside the batch's transaction.
async fn insert_events(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[&EventRow],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut data = String::with_capacity(rows.len() * 256);
    copy::encode(rows, &mut data);
    let mut copy_in = tx.copy_in_raw(copy::STATEMENT).await?;
    if let Err(error) = copy_in.send(data.into_bytes()).await {
        // Ends the COPY so the connection can be used again; the transaction is rolled back.
        let _ = copy_in.abort("batch not sent").await;
        return Err(error);
    }
    copy_in.finish().await?;
    Ok(())
}

/// Keeps each host's ingest health: when it was last heard and how many lines it sent.
async fn note_hosts(
    tx: &mut Transaction<'_, Postgres>,
    rows: &[&EventRow],
) -> Result<(), sqlx::Error> {
    let mut per_host: HashMap<i64, (i64, chrono::DateTime<chrono::Utc>)> = HashMap::new();
    for row in rows {
        let entry = per_host.entry(row.host_id).or_insert((0, row.event_at));
        entry.0 += 1;
        entry.1 = entry.1.max(row.event_at);
    }
    if per_host.is_empty() {
        return Ok(());
    }
    let mut hosts: Vec<i64> = per_host.keys().copied().collect();
    hosts.sort_unstable();
    let counts: Vec<i64> = hosts.iter().map(|h| per_host[h].0).collect();
    let latest: Vec<_> = hosts.iter().map(|h| per_host[h].1).collect();
    sqlx::query(
        "update ingest_host h set last_seen_at = now(), lines_total = h.lines_total + t.n,
            last_event_at = greatest(h.last_event_at, t.latest)
         from unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) as t(host_id, n, latest)
         where h.host_id = t.host_id",
    )
    .bind(&hosts)
    .bind(&counts)
    .bind(&latest)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Counts lines refused for a host (too long, unparseable batches and the like).
pub async fn note_rejected(db: &PgPool, host_id: i64, count: u64) -> Result<(), sqlx::Error> {
    sqlx::query("update ingest_host set rejected_total = rejected_total + $2 where host_id = $1")
        .bind(host_id)
        .bind(count as i64)
        .execute(db)
        .await?;
    Ok(())
}
