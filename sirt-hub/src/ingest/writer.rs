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
//! A storage failure (a failed flush, or an I/O error while applying) stops the hub, which then
//! exits non-zero: sled refuses every write after its first I/O error until the store is
//! reopened, so carrying on would answer errors forever; a restart (by the supervisor, once the
//! cause such as a full disk is fixed) reopens the store, and sites resend what was not
//! acknowledged. Everything submitted until the writer stops is answered with the cause.

use super::{ITEMS_PER_TRANSACTION, Reply, Request, StopHubOnExit, WriterSettings};
use crate::ingest::apply::{Applied, IncidentChange, Item, Outcome};
use crate::store::{HubStore, StoreError, SyncPoint};
use socfed_proto::vocab::SiteId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc as sync_mpsc};
use tokio::sync::{broadcast, mpsc};

/// Applied batches that may wait for a flush while the next one is applied.
const APPLIED_AHEAD: usize = 4;

/// The first storage failure, shared by both threads and the hub's shutdown.
pub type Failure = Arc<std::sync::OnceLock<Arc<StoreError>>>;

/// Where durable changes are announced.
pub(super) struct Publish {
    pub events: broadcast::Sender<IncidentChange>,
    pub directives: broadcast::Sender<SiteId>,
    /// Sites with new incident states to send.
    pub states: broadcast::Sender<SiteId>,
    /// The last event sequence durable (`crate::events`).
    pub event_seq: tokio::sync::watch::Sender<u64>,
    /// Bumped when a hub runbook version is durable: every site stream sends what is new.
    pub runbooks: tokio::sync::watch::Sender<u64>,
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
    failure: Failure,
    shutdown: tokio_util::sync::CancellationToken,
) -> Result<(), Arc<StoreError>> {
    let (to_flusher, flusher_rx) = sync_mpsc::sync_channel::<Applying>(APPLIED_AHEAD);
    // Batches sent to the flusher, and how many of them it made durable (see `only_barriers`).
    let mut sent: u64 = 0;
    // Set when a batch failed part-way: chunks it committed are in the trees but in no batch
    // the flusher was sent, so no barrier may be answered before the next batch is flushed.
    let mut unsent_writes = false;
    let durable = Arc::new(AtomicU64::new(0));
    let flusher_durable = durable.clone();
    let flusher_store = store.clone();
    let (flusher_failure, flusher_shutdown) = (failure.clone(), shutdown.clone());
    let flusher = std::thread::Builder::new()
        .name("hub-ingest-flush".into())
        .spawn(move || {
            let _guard = StopHubOnExit(flusher_shutdown.clone());
            flush_loop(
                &flusher_store,
                flusher_rx,
                &publish,
                (&flusher_failure, &flusher_durable),
                &flusher_shutdown,
            )
        });
    let flusher = match flusher {
        Ok(flusher) => flusher,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the ingest flusher thread");
            return Err(Arc::new(StoreError::Sync(e)));
        }
    };
    let failpoint = super::failpoint::Failpoint::from_env();
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
        if let Some(cause) = failure.get() {
            answer_error(replies.drain(..), cause.clone());
            break;
        }
        // Barriers alone, with every applied batch already durable: what their callers read
        // is durable now, so they are answered without a unit or a flush of their own. A
        // stream sends a barrier after each read of states or directives; answered with a unit
        // and a flush of its own, it could cost an fdatasync per escalation when sites
        // escalate one at a time.
        if only_barriers(&items) && !unsent_writes && durable.load(Ordering::Acquire) == sent {
            for reply in replies.drain(..).flatten() {
                let _ = reply.send(Ok(Outcome::Status));
            }
            items.clear();
            continue;
        }
        let started = std::time::Instant::now();
        let now = socfed_proto::now_millis();
        let result = apply(
            &store,
            &items,
            (now, settings.correlation_window_ms),
            &failpoint,
        )
        .and_then(|applied| Ok((applied, store.sync_point()?)));
        metrics::histogram!("socfed_hub_apply_seconds").record(started.elapsed().as_secs_f64());
        items.clear();
        match result {
            Ok((applied, point)) => {
                let batch = Applying {
                    replies: std::mem::take(&mut replies),
                    applied,
                    point,
                };
                // The flusher answers every batch it is sent, failed or not, until this
                // sender is dropped; a send fails only if it panicked.
                sent += 1;
                // This batch's flush covers whatever a failed batch left in the trees.
                unsent_writes = false;
                if let Err(sync_mpsc::SendError(batch)) = to_flusher.send(batch) {
                    let cause = failure.get().cloned().unwrap_or_else(|| stopped(&failure));
                    answer_error(batch.replies.into_iter(), cause);
                    break;
                }
                replies.reserve(settings.max_batch);
            }
            Err(e) => {
                // Chunks applied before the failure are not acknowledged; sites resend them
                // and the resend is recognised as a duplicate.
                tracing::error!(error = %e, "ingest batch failed; nothing in it was acknowledged");
                unsent_writes = true;
                let io = e.stops_the_store();
                let e = Arc::new(e);
                answer_error(replies.drain(..), e.clone());
                if io {
                    // sled takes no more writes after an I/O error: stop as a failed flush does.
                    fail(&failure, e, &shutdown);
                    break;
                }
            }
        }
    }
    drop(to_flusher);
    if let Some(cause) = failure.get().cloned() {
        // Refuse new requests and answer the queued ones: no stream waits for an answer.
        rx.close();
        while let Some(Request { reply, .. }) = rx.blocking_recv() {
            answer_error(std::iter::once(reply), cause.clone());
        }
    }
    let flushed = match flusher.join() {
        Ok(flushed) => flushed,
        Err(_) => Err(stopped(&failure)),
    };
    tracing::debug!("ingest writer stopped");
    match failure.get() {
        Some(cause) => Err(cause.clone()),
        None => flushed,
    }
}

/// Records the first storage failure and stops the hub.
fn fail(failure: &Failure, cause: Arc<StoreError>, shutdown: &tokio_util::sync::CancellationToken) {
    if failure.set(cause).is_ok() {
        tracing::error!("the hub's store failed; stopping the hub so that it can be restarted");
    }
    shutdown.cancel();
}

/// The cause to report when a thread ended without recording one (a panic).
fn stopped(failure: &Failure) -> Arc<StoreError> {
    let cause = Arc::new(StoreError::Stopped);
    let _ = failure.set(cause.clone());
    failure.get().cloned().unwrap_or(cause)
}

fn only_barriers(items: &[Item]) -> bool {
    items.iter().all(|item| matches!(item, Item::Barrier))
}

fn flush_loop(
    store: &HubStore,
    rx: sync_mpsc::Receiver<Applying>,
    publish: &Publish,
    (failure, durable): (&Failure, &AtomicU64),
    shutdown: &tokio_util::sync::CancellationToken,
) -> Result<(), Arc<StoreError>> {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        group.extend(rx.try_iter());
        if let Some(cause) = failure.get() {
            // The applier failed: nothing it applied since may be acknowledged.
            for batch in group {
                answer_error(batch.replies.into_iter(), cause.clone());
            }
            continue;
        }
        let Some(point) = group.last().map(|batch| batch.point) else {
            continue;
        };
        let started = std::time::Instant::now();
        let result = store.commit(&point);
        metrics::histogram!("socfed_hub_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("socfed_hub_commit_items")
            .record(group.iter().map(|b| b.replies.len()).sum::<usize>() as f64);
        match result {
            Ok(()) => {
                durable.fetch_add(group.len() as u64, Ordering::Release);
                group.into_iter().for_each(|batch| answer(batch, publish));
            }
            Err(e) => {
                tracing::error!(error = %e, "ingest flush failed; nothing in it was acknowledged");
                fail(failure, Arc::new(e), shutdown);
                let cause = failure.get().cloned().unwrap_or_else(|| stopped(failure));
                // This group and everything applied after it (until the applier sees the
                // failure and drops its sender): none of it may be acknowledged.
                for batch in group {
                    answer_error(batch.replies.into_iter(), cause.clone());
                }
            }
        }
    }
    match failure.get() {
        Some(cause) => Err(cause.clone()),
        None => Ok(()),
    }
}

/// Answers every item of a durable batch, then announces what changed.
fn answer(batch: Applying, publish: &Publish) {
    let Applying {
        replies, applied, ..
    } = batch;
    for site in applied.directive_sites {
        let _ = publish.directives.send(site);
    }
    for site in applied.state_sites {
        let _ = publish.states.send(site);
    }
    if applied.runbooks {
        publish.runbooks.send_modify(|n| *n = n.wrapping_add(1));
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
    if let Some(seq) = applied.last_event {
        // Batches are answered in order, so the mark only grows; `max` keeps it so anyway.
        publish.event_seq.send_if_modified(|last| {
            let grew = seq > *last;
            *last = (*last).max(seq);
            grew
        });
    }
}

fn answer_error(replies: impl Iterator<Item = Option<Reply>>, e: Arc<StoreError>) {
    for reply in replies.flatten() {
        let _ = reply.send(Err(e.clone()));
    }
}

/// Journals the batch's escalations (one append and sync), then applies the batch in
/// transactions of at most [`ITEMS_PER_TRANSACTION`] items.
fn apply(
    store: &HubStore,
    items: &[Item],
    (now, window_ms): (socfed_proto::UnixMillis, i64),
    failpoint: &super::failpoint::Failpoint,
) -> Result<Applied, StoreError> {
    let ids = super::apply::journal(store, items, now)?;
    failpoint.after_journal(ids.len());
    let mut ids = ids.as_slice();
    let mut outcomes = Vec::with_capacity(items.len());
    let mut changes: Vec<IncidentChange> = Vec::new();
    let mut directive_sites: Vec<SiteId> = Vec::new();
    let mut state_sites: Vec<SiteId> = Vec::new();
    let mut runbooks = false;
    let mut last_event = None;
    for chunk in items.chunks(ITEMS_PER_TRANSACTION) {
        let escalations = chunk
            .iter()
            .filter(|item| matches!(item, Item::Escalation { .. }))
            .count()
            .min(ids.len());
        let (chunk_ids, rest) = ids.split_at(escalations);
        ids = rest;
        let applied = super::apply::apply_journaled(store, chunk, chunk_ids, now, window_ms)?;
        outcomes.extend(applied.outcomes);
        last_event = applied.last_event.or(last_event);
        runbooks |= applied.runbooks;
        for site in applied.directive_sites {
            if !directive_sites.contains(&site) {
                directive_sites.push(site);
            }
        }
        for site in applied.state_sites {
            if !state_sites.contains(&site) {
                state_sites.push(site);
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
        state_sites,
        runbooks,
        events: Vec::new(),
        last_event,
    })
}
