//! Following one file: find it, read what the portal has not stored, send it, move the
//! checkpoint, and notice when the path comes to name another file or the file shrinks.
//!
//! - A rotation by rename shows as the path naming another file, which is opened at once and
//!   queued. The old file stays open and is read for the rotate wait (its writer may add
//!   lines until it reopens the path), then to its end, a last line without a newline
//!   included; then the queued file is read from its start. The path is looked at on every
//!   step, also while the portal is away, so that a second rotation finds the first new file
//!   already open. If the agent was stopped across a rotation, the old file is looked for
//!   beside the path (`auth.log.1`) and finished first.
//! - A file shorter than the offset, or whose first bytes changed, was truncated
//!   (`copytruncate`) or replaced in place, and is read again from its start.
//! - An unreachable or busy portal leaves the checkpoint where it is; the lines wait in the
//!   file and are sent again after a backoff. File reads and checkpoint writes run on the
//!   blocking pool, never on the runtime's one thread.

use std::collections::VecDeque;
use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::checkpoint::{Checkpoint, CheckpointStore, FileId, Position};
use super::locate::{self, How, Look, Named};
use super::reader::{self, Chunk, Limits};
use super::ship::{self, Backoff, Delivery, Shipper, Shrunk};
use super::{TailError, TailSettings};
use crate::push::PortalClient;
use crate::push::client::error_chain;

/// What one step achieved, and so when the next one comes.
enum Step {
    /// Something moved: go on at once.
    Progress,
    /// Nothing new: look again after the poll interval.
    Idle,
    /// Something failed: wait this long.
    Wait(Duration),
    /// Shutdown began while waiting for the portal.
    Stop,
}

/// The file being read.
struct Open {
    file: Arc<File>,
    id: FileId,
    /// Where it was opened, for the logs (the path, or where a rotation moved it).
    name: PathBuf,
    /// Once the path names another file: when to stop waiting for more lines in this one.
    finish_at: Option<Instant>,
}

/// Lines accounted for since the start, for the logs.
#[derive(Debug, Default)]
struct Counts {
    stored: u64,
    duplicates: u64,
    cut: u64,
    skipped: u64,
}

/// One followed path, from its checkpoint on.
pub struct Follower {
    settings: TailSettings,
    client: PortalClient,
    store: CheckpointStore,
    stop: watch::Receiver<bool>,
    checkpoint: Option<(Checkpoint, Shipper)>,
    open: Option<Open>,
    /// Files the path named after the open one, oldest first, each opened when first seen.
    queued: VecDeque<Open>,
    looked_at: Option<Instant>,
    limits: Limits,
    backoff: Backoff,
    counts: Counts,
    missing_logged: bool,
}

impl Follower {
    pub fn new(settings: TailSettings, client: PortalClient, stop: watch::Receiver<bool>) -> Self {
        Self {
            store: CheckpointStore::new(&settings.spool_dir, &settings.path),
            limits: settings.limits,
            settings,
            client,
            stop,
            checkpoint: None,
            open: None,
            queued: VecDeque::new(),
            looked_at: None,
            backoff: Backoff::default(),
            counts: Counts::default(),
            missing_logged: false,
        }
    }

    /// Follows the file until shutdown; an error is logged and retried after a backoff.
    pub async fn run(mut self) {
        let path = self.settings.path.display().to_string();
        loop {
            if *self.stop.borrow() {
                break;
            }
            let step = match self.step().await {
                Ok(step) => step,
                Err(error) => {
                    let wait = self.backoff.failed();
                    tracing::error!(path, error = %error_chain(&error),
                        retry_in_ms = wait.as_millis() as u64, "following the file failed");
                    Step::Wait(wait)
                }
            };
            let pause = match step {
                Step::Progress => continue,
                Step::Idle => self.settings.poll,
                Step::Wait(wait) => wait,
                Step::Stop => break,
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.stop.changed() => break,
            }
        }
        let Counts {
            stored,
            duplicates,
            cut,
            skipped,
        } = self.counts;
        tracing::info!(path, stored, duplicates, cut, skipped, "stopped following");
    }

    async fn step(&mut self) -> Result<Step, TailError> {
        if self.checkpoint.is_none() {
            self.load().await?;
        }
        if self.open.is_none() && !self.locate().await? {
            return Ok(Step::Idle);
        }
        self.look_at_path().await?;
        self.read_and_send().await
    }

    async fn load(&mut self) -> Result<(), TailError> {
        let (store, agent_id, path) = (
            self.store.clone(),
            self.settings.agent_id.clone(),
            self.settings.path.clone(),
        );
        let checkpoint = blocking(move || store.load(&agent_id, &path)).await?;
        tracing::info!(
            path = %self.settings.path.display(),
            stream = checkpoint.stream,
            checkpoint = %self.store.file().display(),
            next_seq = checkpoint.next_seq,
            offset = checkpoint.position.as_ref().map(|p| p.offset),
            "following a log file"
        );
        let shipper = Shipper::new(self.client.clone(), checkpoint.stream.clone());
        self.checkpoint = Some((checkpoint, shipper));
        Ok(())
    }

    /// Opens the file the checkpoint is about, or the one the path names now; false while
    /// there is none.
    async fn locate(&mut self) -> Result<bool, TailError> {
        let path = self.settings.path.clone();
        let (checkpoint, _) = self.checkpoint.as_ref().expect("checkpoint loaded");
        let position = checkpoint.position.clone();
        let (start, limits) = (self.settings.start, self.limits);
        let found = blocking(move || {
            locate::locate(&path, position, start, limits).map_err(|source| TailError::File {
                path: path.clone(),
                source,
            })
        })
        .await?;
        let Some(found) = found else {
            if !self.missing_logged {
                tracing::info!(path = %self.settings.path.display(),
                    "the log file does not exist (yet); waiting for it");
                self.missing_logged = true;
            }
            return Ok(false);
        };
        self.missing_logged = false;
        let path = self.settings.path.display().to_string();
        let name = found.name.display().to_string();
        let offset = found.position.offset;
        match found.how {
            How::Resumed => tracing::info!(path, offset, "resuming at the checkpoint"),
            How::Started => tracing::info!(path, offset, "following a new file"),
            How::RotatedWhileStopped => tracing::info!(
                path,
                rotated_to = name,
                offset,
                "the file was rotated while the agent was stopped; finishing it first"
            ),
            How::PreviousGone { offset: lost_after } => tracing::warn!(
                path,
                lost_after,
                "the file the checkpoint names is gone; lines written to it after that offset \
                 were not read"
            ),
            How::Rewritten => tracing::warn!(
                path,
                "the file was replaced in place since the checkpoint; reading it from its start"
            ),
        }
        let finish_at = matches!(found.how, How::RotatedWhileStopped).then(Instant::now);
        let saved = matches!(found.how, How::Resumed | How::RotatedWhileStopped);
        let file = Arc::new(found.file);
        self.open = Some(Open {
            file: file.clone(),
            id: found.position.id,
            name: found.name,
            finish_at,
        });
        for later in found.later {
            tracing::info!(path, then = %later.name.display(), "and then a later rotated file");
            self.queued.push_back(Open::superseded(later));
        }
        let (checkpoint, _) = self.checkpoint.as_mut().expect("checkpoint loaded");
        checkpoint.position = Some(found.position);
        if !saved {
            // So that a restart resumes here rather than deciding again.
            self.save(file, None).await?;
        }
        Ok(true)
    }

    async fn read_and_send(&mut self) -> Result<Step, TailError> {
        let open = self.open.as_ref().expect("file open");
        let (checkpoint, _) = self.checkpoint.as_ref().expect("checkpoint loaded");
        let position = checkpoint
            .position
            .clone()
            .expect("position set with the file");
        let finishing = open.finish_at.is_some_and(|at| Instant::now() >= at);
        let (file, name, limits) = (open.file.clone(), open.name.clone(), self.limits);
        let read = blocking(move || {
            let io = |source| TailError::File {
                path: name.clone(),
                source,
            };
            let size = file.metadata().map_err(io)?.len();
            if size < position.offset || !position.same_head(&file).map_err(io)? {
                return Ok(Read::Truncated { size });
            }
            let chunk = reader::read(&file, position.offset, position.skipping, limits, finishing)
                .map_err(io)?;
            Ok(Read::Chunk(chunk))
        })
        .await?;
        let offset = self.position().offset;
        match read {
            Read::Truncated { size } => {
                tracing::warn!(path = %self.open_name(), offset, size,
                    "the file was truncated or rewritten; reading it again from its start");
                let open = self.open.as_ref().expect("file open");
                let (file, name, id) = (open.file.clone(), open.name.clone(), open.id);
                let fresh = blocking(move || {
                    Position::new(&file, id, 0, false)
                        .map_err(|source| TailError::File { path: name, source })
                })
                .await?;
                self.set_position(fresh);
                let file = self.open.as_ref().expect("file open").file.clone();
                self.save(file, None).await?;
                Ok(Step::Progress)
            }
            Read::Chunk(chunk) if !chunk.lines.is_empty() => self.deliver(chunk).await,
            Read::Chunk(chunk)
                if chunk.end != offset || chunk.skipping != self.position().skipping =>
            {
                // Blank lines or the rest of a cut line: nothing to send, but read.
                let file = self.open.as_ref().expect("file open").file.clone();
                self.save(file, Some(Moved::past(&chunk, 0))).await?;
                Ok(Step::Progress)
            }
            Read::Chunk(_) if finishing => self.next_file().await,
            Read::Chunk(_) => Ok(Step::Idle),
        }
    }

    /// Sends one chunk and, once the portal has stored it, moves the checkpoint past it.
    async fn deliver(&mut self, chunk: Chunk) -> Result<Step, TailError> {
        let (checkpoint, shipper) = self.checkpoint.as_ref().expect("checkpoint loaded");
        let first_seq = checkpoint.next_seq;
        let lines = chunk.lines.len();
        let body = shipper.body(first_seq, &chunk.lines, &chrono::Local::now())?;
        let delivery = tokio::select! {
            delivery = shipper.send(body, lines) => delivery?,
            // Whatever the portal does with a batch cut off here, the checkpoint has not
            // moved: the lines are sent again, and any stored are counted as duplicates.
            _ = self.stop.changed() => return Ok(Step::Stop),
        };
        let path = self.settings.path.display().to_string();
        match delivery {
            Delivery::Stored(ack) => {
                if ack.accepted + ack.duplicates != lines as u64 {
                    tracing::warn!(
                        path,
                        lines,
                        accepted = ack.accepted,
                        duplicates = ack.duplicates,
                        "the portal counted another number of lines"
                    );
                }
                if ack.duplicates > 0 {
                    tracing::info!(
                        path,
                        first_seq,
                        duplicates = ack.duplicates,
                        "the portal already had some of these lines (sent again after a restart)"
                    );
                }
                self.counts.stored += ack.accepted;
                self.counts.duplicates += ack.duplicates;
                for (seq, line) in (first_seq..).zip(&chunk.lines).filter(|(_, l)| l.cut > 0) {
                    self.counts.cut += 1;
                    tracing::warn!(
                        path,
                        seq,
                        cut_bytes = line.cut,
                        cut_total = self.counts.cut,
                        max_line_bytes = self.limits.max_line_bytes,
                        "a line too long was sent cut"
                    );
                }
                let file = self.open.as_ref().expect("file open").file.clone();
                self.save(file, Some(Moved::past(&chunk, lines as u64)))
                    .await?;
                self.backoff.reset();
                Ok(Step::Progress)
            }
            Delivery::Refused { status, code } => self.refused(status, code, chunk).await,
            Delivery::Retry { after } => {
                Ok(Step::Wait(after.unwrap_or_else(|| self.backoff.failed())))
            }
        }
    }

    /// The portal refused a batch as it is: send fewer lines, then shorter ones; a single
    /// line it still refuses is skipped (it stays in the file), so nothing blocks the rest.
    async fn refused(
        &mut self,
        status: u16,
        code: Option<String>,
        chunk: Chunk,
    ) -> Result<Step, TailError> {
        let path = self.settings.path.display().to_string();
        let code = code.as_deref();
        let lines = chunk.lines.len();
        match ship::shrink(&mut self.limits, status, &chunk.lines) {
            Shrunk::Batches => tracing::warn!(
                path,
                status,
                code,
                lines,
                batch_lines = self.limits.batch_lines,
                batch_bytes = self.limits.batch_bytes,
                "the portal refused a batch; sending smaller ones from now on"
            ),
            Shrunk::Lines => tracing::warn!(
                path,
                status,
                code,
                line_bytes = chunk.lines[0].text.len(),
                max_line_bytes = self.limits.max_line_bytes,
                "the portal refused a line as too long; cutting lines shorter from now on \
                 (set --tail-log-max-line-bytes to the portal's ingest.max_line_bytes)"
            ),
            Shrunk::Skip => {
                self.counts.skipped += 1;
                let (checkpoint, _) = self.checkpoint.as_ref().expect("checkpoint loaded");
                tracing::error!(
                    path,
                    status,
                    code,
                    seq = checkpoint.next_seq,
                    line_bytes = chunk.lines[0].text.len(),
                    skipped_total = self.counts.skipped,
                    "the portal refused a line; skipped (it stays in the file)"
                );
                let file = self.open.as_ref().expect("file open").file.clone();
                self.save(file, Some(Moved::past(&chunk, lines as u64)))
                    .await?;
            }
        }
        Ok(Step::Progress)
    }

    /// Notices the path naming another file (or none), at most once per poll interval: a new
    /// file is opened and queued, and the newest file known until then gets the rotate wait
    /// before it is finished.
    async fn look_at_path(&mut self) -> Result<(), TailError> {
        if self
            .looked_at
            .is_some_and(|at| at.elapsed() < self.settings.poll)
        {
            return Ok(());
        }
        self.looked_at = Some(Instant::now());
        let path = self.settings.path.clone();
        let open = self.open.as_ref().expect("file open");
        let known: Vec<FileId> = std::iter::once(open.id)
            .chain(self.queued.iter().map(|q| q.id))
            .collect();
        let newest = self.queued.back().unwrap_or(open).file.clone();
        let look = blocking(move || {
            locate::look(&path, &known, &newest).map_err(|source| TailError::File { path, source })
        })
        .await?;
        let open = self.open.as_mut().expect("file open");
        let newest = self.queued.back_mut().unwrap_or(open);
        let finish_at = Instant::now() + self.settings.rotate_wait;
        match look {
            Look::Known(id) if id == newest.id => {
                // Renamed back, or never gone: the newest file is still being written.
                newest.finish_at = None;
            }
            Look::Known(_) => {}
            Look::Missing => {
                if newest.finish_at.is_none() {
                    newest.finish_at = Some(finish_at);
                    tracing::info!(path = %self.settings.path.display(),
                        "the path names no file now; finishing the one it named");
                }
            }
            Look::New { missed, named } => {
                newest.finish_at.get_or_insert(finish_at);
                tracing::info!(path = %self.settings.path.display(),
                    rotate_wait_secs = self.settings.rotate_wait.as_secs(), missed = missed.len(),
                    "the path names another file now; it is read once the old one is finished");
                self.queued.extend(missed.into_iter().map(Open::superseded));
                self.queued.push_back(Open {
                    file: Arc::new(named.file),
                    id: named.id,
                    name: named.name,
                    finish_at: None,
                });
            }
        }
        Ok(())
    }

    /// The open file is read to its end: go on with the next one, from its start.
    async fn next_file(&mut self) -> Result<Step, TailError> {
        let Some(next) = self.queued.pop_front() else {
            // The path names no new file yet.
            return Ok(Step::Idle);
        };
        let (file, id, name) = (next.file.clone(), next.id, next.name.clone());
        let position = blocking(move || {
            Position::new(&file, id, 0, false)
                .map_err(|source| TailError::File { path: name, source })
        })
        .await?;
        let finished = self.open.replace(next).expect("file open");
        tracing::info!(path = %self.settings.path.display(), finished = %finished.name.display(),
            finished_at = self.position().offset, next = %self.open_name(),
            "a rotated file is finished; reading the next one");
        self.set_position(position);
        let file = self.open.as_ref().expect("file open").file.clone();
        self.save(file, None).await?;
        Ok(Step::Progress)
    }

    /// Writes the checkpoint, first moved as `moved` says within `file`. The checkpoint in
    /// memory changes only once the write succeeded: after a failed write, the same lines
    /// are sent again under the same numbers.
    async fn save(&mut self, file: Arc<File>, moved: Option<Moved>) -> Result<(), TailError> {
        let (checkpoint, _) = self.checkpoint.as_ref().expect("checkpoint loaded");
        let mut next = checkpoint.clone();
        let store = self.store.clone();
        let saved = blocking(move || {
            if let (Some(position), Some(moved)) = (next.position.as_mut(), moved) {
                next.next_seq += moved.lines;
                position
                    .advance(&file, moved.offset, moved.skipping)
                    .map_err(|source| TailError::File {
                        path: next.path.clone(),
                        source,
                    })?;
            }
            store.save(&next)?;
            Ok(next)
        })
        .await?;
        self.checkpoint.as_mut().expect("checkpoint loaded").0 = saved;
        Ok(())
    }

    fn position(&self) -> &Position {
        let (checkpoint, _) = self.checkpoint.as_ref().expect("checkpoint loaded");
        checkpoint
            .position
            .as_ref()
            .expect("position set with the file")
    }

    fn set_position(&mut self, position: Position) {
        self.checkpoint
            .as_mut()
            .expect("checkpoint loaded")
            .0
            .position = Some(position);
    }

    fn open_name(&self) -> String {
        self.open
            .as_ref()
            .map(|open| open.name.display().to_string())
            .unwrap_or_default()
    }
}

impl Open {
    /// A file known to be rotated away already: finished as soon as it is read to its end.
    fn superseded(named: Named) -> Self {
        Self {
            file: Arc::new(named.file),
            id: named.id,
            name: named.name,
            finish_at: Some(Instant::now()),
        }
    }
}

/// How far a checkpoint moves past a chunk: its end, and the sequence numbers it used.
#[derive(Debug, Clone, Copy)]
struct Moved {
    offset: u64,
    skipping: bool,
    lines: u64,
}

impl Moved {
    fn past(chunk: &Chunk, lines: u64) -> Self {
        Self {
            offset: chunk.end,
            skipping: chunk.skipping,
            lines,
        }
    }
}

/// What a read of the open file found.
enum Read {
    Chunk(Chunk),
    /// Shorter than the offset, or other first bytes.
    Truncated {
        size: u64,
    },
}

/// Runs blocking file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, TailError> + Send + 'static,
) -> Result<T, TailError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| TailError::Panicked)?
}
