//! The intake pipeline behind one `SubmitAlerts` stream: batches are parsed on the blocking
//! thread pool (several at once, handed on in order), one writer thread commits them,
//! folding whatever is already parsed into the same commit, and a sync thread waits for each
//! commit's flush while the writer prepares the next. The caller's answer comes from
//! [`Pipeline::finish`], only once every commit is durable: an intake batch is acknowledged
//! only after it is on disk, as when each batch was parsed, stored and synced in turn.
//!
//! Retries stay harmless for the reason they always were: every source event is remembered
//! (`seen_events`) in the same unit as its group, so a resent batch counts as duplicates.

use super::{Committed, IntakeResult, ParsedBatch};
use crate::error::AgentError;
use crate::service::{Actor, SocService};
use crate::soc::alert::Format;
use crate::store::Pending;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use ulid::Ulid;

/// Parsed batches waiting for the writer: enough to fill a commit while one syncs.
const WRITE_AHEAD: usize = 8;
/// Most alerts one commit takes from what is waiting: bounds a unit's memory and the time
/// a batch waits for its acknowledgement.
const MAX_COMMIT_ALERTS: usize = 4_000;
/// Commits waiting for their flush at most: the writer runs ahead of the disk by no more.
const SYNC_AHEAD: usize = 4;

/// One stream's intake; dropped without [`Pipeline::finish`], it stops after the batches
/// already handed to it.
pub struct Pipeline {
    batches: mpsc::Sender<ParsedBatch>,
    writer: JoinHandle<Result<IntakeResult, AgentError>>,
    syncer: JoinHandle<Result<(), AgentError>>,
}

impl Pipeline {
    /// Starts the writer and sync threads for `actor`'s stream.
    pub fn start(service: Arc<SocService>, actor: Actor) -> Self {
        let (batches, parsed) = mpsc::channel(WRITE_AHEAD);
        let (commits, committed) = mpsc::channel(SYNC_AHEAD);
        let writer = {
            let service = service.clone();
            tokio::task::spawn_blocking(move || write(&service, &actor, parsed, commits))
        };
        let syncer = tokio::task::spawn_blocking(move || sync(&service, committed));
        Self {
            batches,
            writer,
            syncer,
        }
    }

    /// Hands a parsed batch to the writer (waits while it is `WRITE_AHEAD` behind).
    pub async fn push(&self, batch: ParsedBatch) -> Result<(), AgentError> {
        if self.batches.send(batch).await.is_err() {
            // The writer stopped on an error; `finish` returns it.
            return Err(AgentError::internal(
                "alert intake stopped; the batch was not stored",
            ));
        }
        Ok(())
    }

    /// Waits until every batch pushed is stored and durable; the counts of them all.
    pub async fn finish(self) -> Result<IntakeResult, AgentError> {
        let Pipeline {
            batches,
            writer,
            syncer,
        } = self;
        drop(batches);
        let written = writer
            .await
            .map_err(|_| AgentError::internal("alert intake writer failed"))?;
        let synced = syncer
            .await
            .map_err(|_| AgentError::internal("alert intake sync failed"))?;
        // A write error is the cause; a sync error after good writes still refuses the answer.
        let total = written?;
        synced?;
        Ok(total)
    }
}

/// The writer: commits in arrival order, each commit taking what is already parsed.
fn write(
    service: &SocService,
    actor: &Actor,
    mut parsed: mpsc::Receiver<ParsedBatch>,
    commits: mpsc::Sender<(Pending, Vec<Ulid>)>,
) -> Result<IntakeResult, AgentError> {
    let mut total = IntakeResult::default();
    let mut held: Option<ParsedBatch> = None;
    while let Some(first) = held.take().or_else(|| parsed.blocking_recv()) {
        let format: Format = first.format;
        let mut alerts = first.alerts.len();
        let mut take = vec![first];
        while alerts < MAX_COMMIT_ALERTS {
            match parsed.try_recv() {
                // One format per commit keeps each audit entry's batch as it came.
                Ok(next) if next.format == format => {
                    alerts += next.alerts.len();
                    take.push(next);
                }
                Ok(next) => {
                    held = Some(next);
                    break;
                }
                Err(_) => break,
            }
        }
        let Committed {
            result,
            pending,
            touched,
        } = service.store_parsed(actor, take)?;
        total.add(result);
        if commits.blocking_send((pending, touched)).is_err() {
            // The sync thread stopped on an error, which `finish` reports.
            break;
        }
    }
    Ok(total)
}

/// The sync thread: one wait covers every commit queued behind it.
fn sync(
    service: &SocService,
    mut committed: mpsc::Receiver<(Pending, Vec<Ulid>)>,
) -> Result<(), AgentError> {
    while let Some((mut pending, mut touched)) = committed.blocking_recv() {
        while let Ok((more, groups)) = committed.try_recv() {
            pending = pending.and(more);
            touched.extend(groups);
        }
        service.finish_durable(pending, touched)?;
    }
    Ok(())
}
