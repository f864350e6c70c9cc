//! The two writer threads: one applies batches, one makes them durable and answers.
//!
//! Applying (sled transactions, in memory) and flushing (write-out and fdatasync, mostly
//! waiting on the disk) used to alternate on one thread, so the disk sat idle while a batch
//! was applied and the CPU sat idle while it was flushed. Now the applier goes on with the
//! next batch while the flusher syncs; the flusher takes every batch applied since its last
//! flush and covers them all with one. A batch is answered only after a flush that started
//! after the batch was applied, so acknowledgements still never run ahead of the disk.
//!
//! At most [`APPLIED_AHEAD`] batches wait for the flusher: that bounds memory, and the time
//! an applied but unacknowledged batch can wait.
//!
//! A failed flush stops both threads and, through their guards, the hub, which then exits
//! non-zero: sled refuses every write after its first I/O error until the store is reopened,
//! so carrying on would answer errors forever; a restart (by the supervisor, once the cause
//! such as a full disk is fixed) reopens the store, and sites resend what was not acknowledged.

use super::{ITEMS_PER_TRANSACTION, Reply, Request, StopHubOnExit, WriterSettings};
use crate::store::apply::{Applied, IncidentChange, Item, Outcome};
use crate::store::{HubStore, StoreError, SyncPoint};
use socfed_proto::vocab::SiteId;
use std::sync::{Arc, mpsc as sync_mpsc};
use tokio::sync::{broadcast, mpsc};

/// Applied batches that may wait for a flush while the next one is applied.
const APPLIED_AHEAD: usize = 4;

/// Where durable changes are announced.
pub(super) struct Publish {
    pub events: broadcast::Sender<IncidentChange>,
    pub directives: broadcast::Sender<SiteId>,
}

/// One applied batch waiting for its flush.
struct Applying {
    replies: Vec<Option<Reply>>,
    applied: Applied,
    point: SyncPoint,
}

/// The applier; spawns the flusher and waits for it before returning, so everything received
/// is answered.
pub(super) fn run(
    store: Arc<HubStore>,
    settings: WriterSettings,
    mut rx: mpsc::Receiver<Request>,
    publish: Publish,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), Arc<StoreError>> {
    let (to_flusher, flusher_rx) = sync_mpsc::sync_channel::<Applying>(APPLIED_AHEAD);
    let flusher_store = store.clone();
    // Why the flusher stopped, for the answers the applier still gives.
    let failure = Arc::new(std::sync::OnceLock::<Arc<StoreError>>::new());
    let flusher_failure = failure.clone();
    let flusher = std::thread::Builder::new()
        .name("hub-ingest-flush".into())
        .spawn(move || {
            let _guard = StopHubOnExit(shutdown);
            let result = flush_loop(&flusher_store, flusher_rx, &publish);
            if let Err(e) = &result {
                let _ = flusher_failure.set(e.clone());
            }
            result
        });
    let flusher = match flusher {
        Ok(flusher) => flusher,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the ingest flusher thread");
            return Err(Arc::new(StoreError::Sync(e)));
        }
    };
    let mut items: Vec<Item> = Vec::with_capacity(settings.max_batch);
    let mut replies: Vec<Option<Reply>> = Vec::with_capacity(settings.max_batch);
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(Request { item, reply }) = next.take() {
            items.push(item);
            replies.push(reply);
            if items.len() < settings.max_batch {
                next = rx.try_recv().ok();
            }
        }
        let started = std::time::Instant::now();
        let now = socfed_proto::now_millis();
        let result = apply(&store, &items, now, settings.correlation_window_ms)
            .and_then(|applied| Ok((applied, store.sync_point()?)));
        metrics::histogram!("socfed_hub_apply_seconds").record(started.elapsed().as_secs_f64());
        match result {
            Ok((applied, point)) => {
                let batch = Applying {
                    replies: std::mem::take(&mut replies),
                    applied,
                    point,
                };
                if let Err(sync_mpsc::SendError(batch)) = to_flusher.send(batch) {
                    // The flusher stopped on a failed flush: answer with its cause.
                    let cause = failure
                        .get()
                        .cloned()
                        .unwrap_or_else(|| Arc::new(StoreError::Stopped));
                    answer_error(batch.replies.into_iter(), cause);
                    break;
                }
                replies.reserve(settings.max_batch);
            }
            Err(e) => {
                // Chunks applied before the failure are not acknowledged; sites resend them
                // and the resend is recognised as a duplicate.
                tracing::error!(error = %e, items = items.len(), "ingest batch failed; nothing in it was acknowledged");
                answer_error(replies.drain(..), Arc::new(e));
                // The flusher may still hold earlier batches: they are answered by it.
            }
        }
        items.clear();
    }
    drop(to_flusher);
    // Requests still queued are dropped unanswered: their streams end without an ack.
    drop(rx);
    let flushed = match flusher.join() {
        Ok(flushed) => flushed,
        Err(_) => Err(Arc::new(StoreError::Stopped)),
    };
    tracing::debug!("ingest writer stopped");
    flushed
}

fn flush_loop(
    store: &HubStore,
    rx: sync_mpsc::Receiver<Applying>,
    publish: &Publish,
) -> Result<(), Arc<StoreError>> {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        group.extend(rx.try_iter());
        let Some(point) = group.last().map(|batch| batch.point) else {
            continue;
        };
        let started = std::time::Instant::now();
        let result = store.commit(&point);
        metrics::histogram!("socfed_hub_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("socfed_hub_commit_items")
            .record(group.iter().map(|b| b.replies.len()).sum::<usize>() as f64);
        match result {
            Ok(()) => group.into_iter().for_each(|batch| answer(batch, publish)),
            Err(e) => {
                tracing::error!(error = %e, "ingest flush failed; nothing in it was acknowledged; stopping the hub");
                let e = Arc::new(e);
                // This group and everything applied after it: none of it may be acknowledged.
                for batch in group.into_iter().chain(rx.try_iter()) {
                    answer_error(batch.replies.into_iter(), e.clone());
                }
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Answers every item of a durable batch, then announces what changed.
fn answer(batch: Applying, publish: &Publish) {
    let Applying {
        replies, applied, ..
    } = batch;
    for site in applied.directive_sites {
        let _ = publish.directives.send(site);
    }
    for outcome in &applied.outcomes {
        if let Outcome::Escalation { outcome, .. } = outcome {
            metrics::counter!("socfed_hub_escalations_total", "outcome" => outcome.label())
                .increment(1);
        }
    }
    for (reply, outcome) in replies.into_iter().zip(applied.outcomes) {
        if let Some(reply) = reply {
            // A stream that went away no longer needs its answer.
            let _ = reply.send(Ok(outcome));
        }
    }
    for change in applied.changes {
        let _ = publish.events.send(change);
    }
}

fn answer_error(replies: impl Iterator<Item = Option<Reply>>, e: Arc<StoreError>) {
    for reply in replies.flatten() {
        let _ = reply.send(Err(e.clone()));
    }
}

/// Applies one batch in transactions of at most [`ITEMS_PER_TRANSACTION`] items.
fn apply(
    store: &HubStore,
    items: &[Item],
    now: socfed_proto::UnixMillis,
    window_ms: i64,
) -> Result<Applied, StoreError> {
    let mut outcomes = Vec::with_capacity(items.len());
    let mut changes: Vec<IncidentChange> = Vec::new();
    let mut directive_sites: Vec<SiteId> = Vec::new();
    for chunk in items.chunks(ITEMS_PER_TRANSACTION) {
        let applied = store.apply(chunk, now, window_ms)?;
        outcomes.extend(applied.outcomes);
        for site in applied.directive_sites {
            if !directive_sites.contains(&site) {
                directive_sites.push(site);
            }
        }
        for change in applied.changes {
            // Report each incident once per batch, in its latest state; "created" sticks.
            match changes.iter_mut().find(|c| c.record.id == change.record.id) {
                Some(existing) => existing.record = change.record,
                None => changes.push(change),
            }
        }
    }
    Ok(Applied {
        outcomes,
        changes,
        directive_sites,
    })
}
