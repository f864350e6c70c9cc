//! The ingest writer: the single writer of the hub store, with group commit.
//!
//! Site streams send [`Item`]s here. The writer takes everything that has queued up since its
//! last batch (up to `max_batch`) and applies it in transactions; a second thread makes applied
//! batches durable, one flush for every batch applied since the last flush, and only then
//! answers each stream with its outcome (`writer.rs`). Streams acknowledge to sites from those
//! answers, so an ack never runs ahead of durable storage.
//!
//! Before a batch is applied its escalations are appended to the journal and synced
//! (`store::journal`); the unit that applies them records that they are applied, and at
//! start-up [`replay`] applies whatever a crash left journaled but not applied.
//!
//! Both run on dedicated OS threads because sled calls block.

pub mod apply;
pub mod failpoint;
mod replay;
mod writer;

pub use replay::replay;

use crate::ingest::apply::{IncidentChange, Item, Outcome};
use crate::store::{HubStore, StoreError};
use socfed_proto::vocab::SiteId;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};

/// Items per sled transaction: large enough to amortise, small enough to keep sled's
/// per-transaction memory bounded.
const ITEMS_PER_TRANSACTION: usize = 64;

/// Where one item's outcome goes: a slot reserved in its caller's bounded channel before the
/// item is queued, so the writer's send neither waits on a slow reader nor fails for room
/// (the caller waits for the slot instead, before it submits).
pub type Reply = mpsc::OwnedPermit<Answer>;

/// One item's outcome, or the storage failure that stopped the writer.
pub type Answer = Result<Outcome, Arc<StoreError>>;

/// A slot for one answer in `tx`'s channel; `None` once its receiver is gone.
pub async fn reply_slot(tx: &mpsc::Sender<Answer>) -> Option<Reply> {
    tx.clone().reserve_owned().await.ok()
}

struct Request {
    item: Item,
    reply: Option<Reply>,
}

/// Sends items to the writer. Cloned into every stream.
#[derive(Clone)]
pub struct IngestHandle {
    tx: mpsc::Sender<Request>,
    events: broadcast::Sender<IncidentChange>,
    directives: broadcast::Sender<SiteId>,
    failure: writer::Failure,
    states: broadcast::Sender<SiteId>,
    event_seq: tokio::sync::watch::Sender<u64>,
    runbooks: tokio::sync::watch::Sender<u64>,
}

#[derive(Debug, thiserror::Error)]
#[error("the ingest writer has stopped")]
pub struct WriterStopped;

#[derive(Debug, thiserror::Error)]
pub enum TransitionError {
    #[error("the ingest writer has stopped")]
    Stopped,
    #[error("{0}")]
    Store(Arc<StoreError>),
}

impl IngestHandle {
    /// Queues `item`; its outcome arrives on `reply` after the batch holding it is durable.
    /// Waits when the writer's queue is full, which slows every stream fairly.
    pub async fn submit(&self, item: Item, reply: Option<Reply>) -> Result<(), WriterStopped> {
        self.tx
            .send(Request { item, reply })
            .await
            .map_err(|_| WriterStopped)
    }

    /// Queues `items` in order, as one submission: the room for all of them is reserved at
    /// once (in parts no larger than the queue), so a batch waits once, not once per item.
    pub async fn submit_many(
        &self,
        items: impl ExactSizeIterator<Item = (Item, Option<Reply>)>,
    ) -> Result<(), WriterStopped> {
        let mut items = items;
        let most = self.tx.max_capacity();
        while items.len() > 0 {
            let permits = self
                .tx
                .reserve_many(items.len().min(most))
                .await
                .map_err(|_| WriterStopped)?;
            for (permit, (item, reply)) in permits.zip(items.by_ref()) {
                permit.send(Request { item, reply });
            }
        }
        Ok(())
    }

    /// Runs one operator change through the writer and returns its outcome once durable.
    pub async fn call(&self, item: Item) -> Result<Outcome, TransitionError> {
        // One answer comes back: one slot, reserved here so the writer never waits on it.
        let (tx, mut rx) = mpsc::channel(1);
        let reply = reply_slot(&tx).await.ok_or(TransitionError::Stopped)?;
        self.submit(item, Some(reply))
            .await
            .map_err(|_| TransitionError::Stopped)?;
        match rx.recv().await {
            Some(Ok(outcome)) => Ok(outcome),
            None => Err(TransitionError::Stopped),
            Some(Err(e)) => Err(TransitionError::Store(e)),
        }
    }

    /// The storage failure that stopped the writer, if one did. It is recorded before the
    /// hub's shutdown is cancelled, so whoever sees the shutdown can tell a full disk from a
    /// plain stop and say which (a site must hear "disk full", not "shutting down").
    pub fn storage_failure(&self) -> Option<Arc<StoreError>> {
        self.failure.get().cloned()
    }

    /// Sites that have new directives to send, after they are durable.
    pub fn subscribe_directives(&self) -> broadcast::Receiver<SiteId> {
        self.directives.subscribe()
    }

    /// Sites that have new incident states to send, after they are durable.
    pub fn subscribe_states(&self) -> broadcast::Receiver<SiteId> {
        self.states.subscribe()
    }

    /// Incidents created or changed from now on, after they are durable.
    pub fn subscribe(&self) -> broadcast::Receiver<IncidentChange> {
        self.events.subscribe()
    }

    /// The last durable sequence of the hub event log, updated after each flush that made
    /// events durable (`crate::events::EventLog` reads up to it).
    pub fn durable_events(&self) -> tokio::sync::watch::Receiver<u64> {
        self.event_seq.subscribe()
    }

    /// Changes whenever a hub runbook version becomes durable (its value means nothing).
    pub fn subscribe_runbooks(&self) -> tokio::sync::watch::Receiver<u64> {
        self.runbooks.subscribe()
    }

    /// Wakes the streams of `directive_sites` and `state_sites` for what another replica made
    /// durable (`crate::replicas`), as a local batch would.
    pub fn wake_streams(&self, directive_sites: &[SiteId], state_sites: &[SiteId]) {
        for site in directive_sites {
            let _ = self.directives.send(site.clone());
        }
        for site in state_sites {
            let _ = self.states.send(site.clone());
        }
    }

    /// Wakes every stream this replica holds for directives and incident states.
    pub fn wake_every_stream(&self, live: &crate::live::LiveSites) {
        let sites: Vec<SiteId> = live.leases().into_iter().map(|(site, _)| site).collect();
        self.wake_streams(&sites, &sites);
    }

    /// Announces an incident another replica created or changed to this replica's watchers.
    pub fn announce_change(&self, change: IncidentChange) {
        let _ = self.events.send(change);
    }

    /// Every stream looks for hub runbook versions it has not sent.
    pub fn wake_runbooks(&self) {
        self.runbooks.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The event log is durable through `seq` (written by another replica); the mark only
    /// grows.
    pub fn events_durable_through(&self, seq: u64) {
        self.event_seq.send_if_modified(|last| {
            let grew = seq > *last;
            *last = (*last).max(seq);
            grew
        });
    }

    /// The hub event log, as far as it is durable.
    pub fn event_log(&self, store: Arc<HubStore>) -> crate::events::EventLog {
        crate::events::EventLog::new(store, self.durable_events())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct WriterSettings {
    pub max_batch: usize,
    pub correlation_window_ms: i64,
}

/// The writer threads' end: `Err` when a storage failure stopped them (the hub must exit
/// non-zero so its supervisor restarts it).
pub struct WriterJoin {
    thread: std::thread::JoinHandle<Result<(), Arc<StoreError>>>,
    failure: writer::Failure,
}

impl WriterJoin {
    /// Why the writer stopped storing, if it did; filled in as soon as it happens.
    pub fn failure(&self) -> writer::Failure {
        self.failure.clone()
    }

    pub fn join(self) -> std::thread::Result<Result<(), Arc<StoreError>>> {
        self.thread.join()
    }
}

/// Starts the writer thread. It stops when every [`IngestHandle`] clone is dropped, after
/// committing and answering everything it received.
/// `shutdown` is cancelled if the writer ever stops on its own (a panic): a hub that can no
/// longer store anything must stop, visibly, so its supervisor restarts it.
pub fn start(
    store: Arc<HubStore>,
    settings: WriterSettings,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<(IngestHandle, WriterJoin)> {
    let (tx, rx) = mpsc::channel(settings.max_batch.max(1) * 4);
    let (events, _) = broadcast::channel(4096);
    let (directives, _) = broadcast::channel(1024);
    let (states, _) = broadcast::channel(1024);
    // Everything in the store at start is durable (opening flushed it).
    let (event_seq, _) = tokio::sync::watch::channel(
        store
            .last_event_seq()
            .map_err(|e| std::io::Error::other(e.to_string()))?,
    );
    let writer_event_seq = event_seq.clone();
    let (runbooks, _) = tokio::sync::watch::channel(0u64);
    let writer_runbooks = runbooks.clone();
    let writer_events = events.clone();
    let writer_directives = directives.clone();
    let writer_states = states.clone();
    let failure = writer::Failure::default();
    let writer_failure = failure.clone();
    let thread = std::thread::Builder::new()
        .name("hub-ingest-writer".into())
        .spawn(move || {
            let _guard = StopHubOnExit(shutdown.clone());
            writer::run(
                store,
                settings,
                rx,
                writer::Publish {
                    events: writer_events,
                    directives: writer_directives,
                    states: writer_states,
                    event_seq: writer_event_seq,
                    runbooks: writer_runbooks,
                },
                writer_failure,
                shutdown,
            )
        })?;
    Ok((
        IngestHandle {
            tx,
            events,
            directives,
            failure: failure.clone(),
            states,
            event_seq,
            runbooks,
        },
        WriterJoin { thread, failure },
    ))
}

/// Runs on every exit of the writer threads, unwinding included.
struct StopHubOnExit(tokio_util::sync::CancellationToken);

impl Drop for StopHubOnExit {
    fn drop(&mut self) {
        if !self.0.is_cancelled() {
            tracing::error!(
                "the ingest writer stopped unexpectedly; stopping the hub so it can be restarted"
            );
            self.0.cancel();
        }
    }
}
