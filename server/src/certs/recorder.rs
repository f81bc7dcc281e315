//! Records verified certificates in groups: the requests that finish signing at about the same
//! time share one statement and one commit.
//!
//! The record's commit waits for the write-ahead log to reach the disk, and with the statement
//! around it that is most of what a certificate costs the database. A few workers take
//! whatever records are waiting, up to [`MAX_GROUP`], and write them together, so under load
//! the flush and the round trip are shared; a lone request is written at once, alone. Each
//! request still gets its own answer, and only after the commit. If the database refuses a
//! group's statement, its records are written one by one, so that one record it refuses
//! withholds only its own certificate; if the database cannot be reached, every record of
//! the group fails at once.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::warn;

use super::store::{self, Completion, Row};
use crate::db::Lanes;

/// Records written in one statement at most.
const MAX_GROUP: usize = 32;
/// Groups being written at once: one collects while another waits for its commit.
const WORKERS: usize = 2;
/// Records waiting for a worker at most; a request past that waits to hand its record over.
const QUEUE: usize = 1024;

type Reply = oneshot::Sender<Result<Row, sqlx::Error>>;

/// Hands records to the workers; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<(Completion, Reply)>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    /// Starts the workers, writing over `lanes`. They stop when every `Recorder` is dropped.
    pub fn start(lanes: Lanes) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..WORKERS {
            tokio::spawn(work(lanes.clone(), Arc::clone(&waiting)));
        }
        Self { queue }
    }

    /// Writes `completion` and its audit row; returns the completed row once committed,
    /// `RowNotFound` if the intent was no longer waiting for its certificate.
    pub async fn record(&self, completion: Completion) -> Result<Row, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((completion, reply))
            .await
            .map_err(|_| sqlx::Error::WorkerCrashed)?;
        answer.await.map_err(|_| sqlx::Error::WorkerCrashed)?
    }
}

async fn work(lanes: Lanes, waiting: Arc<Mutex<mpsc::Receiver<(Completion, Reply)>>>) {
    loop {
        let mut group = Vec::new();
        {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            group.push(first);
            while group.len() < MAX_GROUP {
                match waiting.try_recv() {
                    Ok(next) => group.push(next),
                    Err(_) => break,
                }
            }
        }
        write_group(&lanes, group).await;
    }
}

/// Writes `group` in one statement, or, if the database refused it, each record on its own.
async fn write_group(lanes: &Lanes, group: Vec<(Completion, Reply)>) {
    let (completions, replies): (Vec<Completion>, Vec<Reply>) = group.into_iter().unzip();
    match write(lanes, &completions).await {
        Ok(mut rows) => {
            for (completion, reply) in completions.iter().zip(replies) {
                let row = rows.remove(&completion.id).ok_or(sqlx::Error::RowNotFound);
                let _ = reply.send(row);
            }
        }
        Err(error) if completions.len() == 1 => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(error));
            }
        }
        // Not a refusal of the statement (the database unreachable, hung or in the middle of
        // a reply): writing the records one by one would only wait as long again each time.
        Err(error) if !matches!(error, sqlx::Error::Database(_)) => {
            warn!(records = completions.len(), %error, "a group of certificate records could not be written");
            for reply in replies {
                let _ = reply.send(Err(same_failure(&error)));
            }
        }
        Err(error) => {
            warn!(records = completions.len(), %error, "a group of certificate records failed; writing them one by one");
            for (completion, reply) in completions.iter().zip(replies) {
                let row = write(lanes, std::slice::from_ref(completion))
                    .await
                    .and_then(|mut rows| {
                        rows.remove(&completion.id).ok_or(sqlx::Error::RowNotFound)
                    });
                let _ = reply.send(row);
            }
        }
    }
}

/// An error of the same kind as `error`, for each of the requests it failed.
fn same_failure(error: &sqlx::Error) -> sqlx::Error {
    match error {
        sqlx::Error::PoolTimedOut => sqlx::Error::PoolTimedOut,
        sqlx::Error::PoolClosed => sqlx::Error::PoolClosed,
        sqlx::Error::Io(io) => sqlx::Error::Io(std::io::Error::new(io.kind(), io.to_string())),
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

async fn write(
    lanes: &Lanes,
    completions: &[Completion],
) -> Result<HashMap<i64, Row>, sqlx::Error> {
    let mut lane = lanes.acquire().await?;
    let rows = store::complete_all(lane.connection(), completions).await?;
    lane.release();
    Ok(rows
        .into_iter()
        .map(|row| (row.certificate_id, row))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use chrono::Utc;
    use sqlx::postgres::{PgConnectOptions, PgSslMode};

    use super::*;
    use crate::audit::{AuditEvent, Outcome, OwnedEvent};

    fn completion(id: i64) -> Completion {
        Completion {
            id,
            serial: 1000 + id as u64,
            key_id: format!("portal-alice-{id}"),
            ca_fingerprint: "SHA256:ca".into(),
            ca_public_key: "ssh-ed25519 AAAA".into(),
            valid_after: Utc::now(),
            valid_before: Utc::now(),
            certificate: "ssh-ed25519-cert-v01@openssh.com AAAA".into(),
            audit: OwnedEvent::of(&AuditEvent::new("certificate_issue", Outcome::Success)),
        }
    }

    #[tokio::test]
    async fn a_group_that_cannot_reach_the_database_fails_at_once_without_retrying_each() {
        // A "database" that hangs up on every connection, counting them.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(socket);
            }
        });
        let options = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(port)
            .username("nobody")
            .ssl_mode(PgSslMode::Disable);
        let lanes = Lanes::new(options, 4, Duration::from_secs(2));

        let (group, answers): (Vec<_>, Vec<_>) = (0..3)
            .map(|id| {
                let (reply, answer) = oneshot::channel();
                ((completion(id), reply), answer)
            })
            .unzip();
        write_group(&lanes, group).await;
        for answer in answers {
            let failure = answer.await.expect("every request is answered");
            assert!(
                matches!(failure, Err(ref e) if !matches!(e, sqlx::Error::Database(_))),
                "{failure:?}"
            );
        }
        assert_eq!(
            connections.load(Ordering::SeqCst),
            1,
            "one attempt, not one per record"
        );
    }
}
