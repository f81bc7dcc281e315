//! The bounded queue between the syslog receivers and the database.
//!
//! The bound is in lines: a receiver takes one permit per line before handing a batch over and
//! waits while none are free, which is what stops a TCP receiver from reading when the
//! database falls behind. The writer merges waiting batches into one transaction and gives the
//! permits back only once they are stored; a batch the database refuses is written again,
//! never dropped.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore, mpsc};

use super::Ingest;
use super::event::EventRow;

/// Most lines written in one transaction.
const MAX_WRITE: usize = 2000;
/// Longest wait between two tries of a batch the database refused.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

struct Batch {
    rows: Vec<EventRow>,
    _permits: OwnedSemaphorePermit,
}

#[derive(Clone)]
pub struct Queue {
    permits: Arc<Semaphore>,
    capacity: usize,
    sender: mpsc::UnboundedSender<Batch>,
    receiver: Arc<Mutex<mpsc::UnboundedReceiver<Batch>>>,
}

impl Queue {
    pub fn new(capacity: usize) -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
            sender,
            receiver: Arc::new(Mutex::new(receiver)),
        }
    }

    /// Hands `rows` to the writer, waiting while the queue is full.
    pub async fn push(&self, rows: Vec<EventRow>) {
        let Some(permits) = self.permits_for(rows.len()).await else {
            return;
        };
        self.send(rows, permits);
    }

    /// Hands `rows` to the writer if there is room now; gives them back otherwise.
    pub fn try_push(&self, rows: Vec<EventRow>) -> Result<(), Vec<EventRow>> {
        let wanted = rows.len().min(self.capacity) as u32;
        match self.permits.clone().try_acquire_many_owned(wanted) {
            Ok(permits) => {
                self.send(rows, permits);
                Ok(())
            }
            Err(_) => Err(rows),
        }
    }

    /// Lines in the queue now: received and not yet stored.
    pub fn depth(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    async fn permits_for(&self, lines: usize) -> Option<OwnedSemaphorePermit> {
        // A batch larger than the whole queue takes all of it rather than waiting forever.
        let wanted = lines.min(self.capacity) as u32;
        self.permits.clone().acquire_many_owned(wanted).await.ok()
    }

    fn send(&self, rows: Vec<EventRow>, permits: OwnedSemaphorePermit) {
        // The receiver lives as long as the queue, so sending cannot fail.
        let _ = self.sender.send(Batch {
            rows,
            _permits: permits,
        });
    }
}

/// Stores queued batches until shutdown, then what is still queued.
pub async fn write(ingest: Ingest) {
    let mut receiver = ingest.queue.receiver.lock().await;
    loop {
        let first = tokio::select! {
            batch = receiver.recv() => batch,
            () = ingest.stopping() => receiver.try_recv().ok(),
        };
        let Some(first) = first else { break };
        let mut batches = vec![first];
        let mut lines = batches[0].rows.len();
        while lines < MAX_WRITE {
            match receiver.try_recv() {
                Ok(batch) => {
                    lines += batch.rows.len();
                    batches.push(batch);
                }
                Err(_) => break,
            }
        }
        let rows: Vec<EventRow> = batches
            .iter()
            .flat_map(|b| b.rows.iter().cloned())
            .collect();
        store_until_done(&ingest, rows).await;
        // Dropping the batches gives their permits back: the lines have left the queue.
        drop(batches);
    }
}

async fn store_until_done(ingest: &Ingest, rows: Vec<EventRow>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match ingest.store(rows.clone()).await {
            Ok(_) => return,
            Err(error) => {
                ingest
                    .metrics
                    .store_failures
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(%error, lines = rows.len(), retry_in = ?backoff,
                    "cannot store syslog lines; holding them");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
