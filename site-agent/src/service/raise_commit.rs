//! The raise committer: every raise (a `RaiseIncident` call, or each raise of a
//! `RaiseIncidents` batch) goes through one bounded queue to one committer, which takes every
//! raise waiting at that moment (a fold, at most [`FOLD_MAX_RAISES`]), writes them all in one
//! store unit, waits once for that unit to be durable (group commit, `store/sync.rs`), then
//! answers each caller; the next fold is committed while the last one waits for its flush.
//! Under concurrent callers a raise costs a share of one unit, one flush and one audit entry
//! instead of one each.
//!
//! Each raise is answered on its own: an invalid raise is refused before the unit, and one
//! refused at the outbox cap is refused inside it before it writes anything (the outbox checks
//! the cap before any write), so neither touches the others. Only a store failure fails the
//! whole fold. Idempotency holds inside a fold too: a unit reads its own writes, so a second
//! raise with the request id of an earlier one in the same fold is answered as a replay.

use super::link::{RaiseIncident, RaiseLimits, prepare};
use super::{Actor, SocService};
use crate::error::AgentError;
use crate::store::schema::{self, TreeId};
use crate::store::unit::Unit;
use crate::store::{Enqueued, StoreError};
use socfed_proto::UnixMillis;
use socfed_proto::vocab::IncidentReport;
use std::sync::Arc;
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Raises waiting in the queue (in calls: a batch is one entry); callers wait to queue more.
const QUEUE_CALLS: usize = 1024;

/// Bytes of raises queued or being committed, across every caller: a call waits for its share
/// before it is queued and gives it back once answered, so concurrent `RaiseIncidents` calls
/// (up to 8 MiB each, `MAX_BATCH_BYTES`) wait instead of holding gigabytes. A call larger
/// than the budget (a single raise the listener decoded, up to its 16 MiB message limit)
/// takes the whole budget and so still goes through, alone.
const QUEUE_BYTES: u32 = 64 * 1024 * 1024;

/// A fold takes no more calls once it holds this many raises (a batch is never split).
pub const FOLD_MAX_RAISES: usize = 2000;

/// Units the committer ran (`socfed_agent_raise_units_total`), against raises it took
/// (`socfed_agent_raises_total`): their ratio is the fold's effect.
const UNITS_METRIC: &str = "socfed_agent_raise_units_total";
const RAISES_METRIC: &str = "socfed_agent_raises_total";

/// Where a call's raises came from: it decides their idempotency keys and audit entry.
#[derive(Debug, Clone)]
pub enum Origin {
    /// One `RaiseIncident`: keyed by its request id; audited with the fold's other single
    /// raises of the same caller.
    Single,
    /// One `RaiseIncidents` batch: a raise without a request id is keyed by (batch id,
    /// position); one audit entry for the batch.
    Batch(String),
}

/// Each raise's answer, in the call's order; the outer error fails the whole call.
pub type Answers = Result<Vec<Result<Enqueued, AgentError>>, AgentError>;

struct Call {
    actor: Actor,
    origin: Origin,
    raises: Vec<RaiseIncident>,
    reply: oneshot::Sender<Answers>,
}

/// The queue's sending end, held by the `SiteLocal` service.
pub struct RaiseCommitter {
    queue: mpsc::Sender<Call>,
    /// [`QUEUE_BYTES`] of permits, one per byte of raises in flight.
    budget: Semaphore,
}

impl RaiseCommitter {
    /// Starts the committer on the runtime; it ends once every sender is dropped (the
    /// service with it), and the returned task ends then, so shutdown can wait for it.
    pub fn start(soc: Arc<SocService>, limits: RaiseLimits) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, calls) = mpsc::channel(QUEUE_CALLS);
        let folder = Arc::new(Folder { soc, limits });
        let budget = Semaphore::new(QUEUE_BYTES as usize);
        (Self { queue, budget }, tokio::spawn(run(calls, folder)))
    }

    /// Queues `raises` (already checked for the caller's role) and waits for their answers.
    pub async fn raise(&self, actor: Actor, origin: Origin, raises: Vec<RaiseIncident>) -> Answers {
        let stopped = || AgentError::internal("the agent is stopping: raise again shortly");
        let bytes = u32::try_from(held_bytes(&raises))
            .unwrap_or(u32::MAX)
            .min(QUEUE_BYTES);
        // Held until the call is answered (dropped on return, and if the caller goes away).
        let _budget = self
            .budget
            .acquire_many(bytes)
            .await
            .map_err(|_| stopped())?;
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Call {
                actor,
                origin,
                raises,
                reply,
            })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Two stages: while one fold waits for its flush and answers, the next is taken from the
/// queue and committed (group commit covers both with as few flushes as it can). At most one
/// fold waits at a time, so a slow disk holds the queue rather than piling up folds.
async fn run(mut calls: mpsc::Receiver<Call>, folder: Arc<Folder>) {
    let mut waiting: Option<tokio::task::JoinHandle<()>> = None;
    while let Some(first) = calls.recv().await {
        let mut raises = first.raises.len();
        let mut fold = vec![first];
        while raises < FOLD_MAX_RAISES {
            match calls.try_recv() {
                Ok(call) => {
                    raises += call.raises.len();
                    fold.push(call);
                }
                Err(_) => break,
            }
        }
        let committer = folder.clone();
        // A panic drops the fold's reply senders: its callers are told the agent is stopping.
        let Ok(committed) = tokio::task::spawn_blocking(move || committer.commit(fold)).await
        else {
            tracing::error!("the raise committer's fold failed");
            continue;
        };
        if let Some(previous) = waiting.take()
            && previous.await.is_err()
        {
            tracing::error!("the raise committer's answers failed");
        }
        let finisher = folder.clone();
        waiting = Some(tokio::task::spawn_blocking(move || {
            finisher.finish(committed);
        }));
    }
    if let Some(last) = waiting
        && last.await.is_err()
    {
        tracing::error!("the raise committer's answers failed");
    }
}

/// A fold whose unit is committed (or failed), waiting to be durable and answered.
struct Committed {
    work: Vec<(Call, Vec<Slot>)>,
    raises: usize,
    written: Result<(u64, crate::store::Pending), StoreError>,
}

/// One raise on its way through a fold.
enum Slot {
    Ready {
        key: Option<String>,
        report: IncidentReport,
    },
    Done(Result<Enqueued, AgentError>),
}

struct Folder {
    soc: Arc<SocService>,
    limits: RaiseLimits,
}

impl Folder {
    /// Checks every raise and writes the valid ones in one unit, not yet durable.
    fn commit(&self, calls: Vec<Call>) -> Committed {
        let now = self.soc.now();
        let mut work: Vec<(Call, Vec<Slot>)> = calls
            .into_iter()
            .map(|mut call| {
                let raises = std::mem::take(&mut call.raises);
                let slots = raises
                    .into_iter()
                    .enumerate()
                    .map(
                        |(i, raise)| match prepare(&self.limits, &self.soc, &call.actor, raise) {
                            Ok((request_id, report)) => Slot::Ready {
                                key: record_key(request_id, &call.origin, i),
                                report,
                            },
                            Err(e) => Slot::Done(Err(e)),
                        },
                    )
                    .collect();
                (call, slots)
            })
            .collect();
        let raises: usize = work.iter().map(|(_, slots)| slots.len()).sum();
        metrics::counter!(RAISES_METRIC).increment(raises as u64);
        let written = self
            .soc
            .store
            .unit_deferred(|unit| self.write(unit, &mut work, now));
        metrics::counter!(UNITS_METRIC).increment(1);
        Committed {
            work,
            raises,
            written,
        }
    }

    /// Waits once for the fold's unit to be durable, then answers everyone.
    fn finish(&self, committed: Committed) {
        let Committed {
            work,
            raises,
            written,
        } = committed;
        let store = &self.soc.store;
        let written = written.and_then(|(refused, pending)| {
            store.wait_durable(pending)?;
            Ok(refused)
        });
        let refused = match written {
            Ok(refused) => refused,
            Err(error) => {
                tracing::error!(%error, raises, "a fold of raises failed");
                for (call, _) in work {
                    let _ = call.reply.send(Err(AgentError::Store(like(store, &error))));
                }
                return;
            }
        };
        if refused > 0 {
            metrics::counter!("socfed_agent_outbox_refused_total").increment(refused);
            tracing::error!(refused, "escalations refused at the outbox cap");
        }
        metrics::gauge!("socfed_agent_outbox_depth").set(store.outbox_len() as f64);
        for (call, slots) in work {
            let answers = slots
                .into_iter()
                .map(|slot| match slot {
                    Slot::Done(answer) => answer,
                    Slot::Ready { .. } => Err(AgentError::internal("a raise was left unwritten")),
                })
                .collect();
            let _ = call.reply.send(Ok(answers));
        }
    }

    /// The fold's unit: every ready raise in order, one audit entry per batch and one per
    /// caller of single raises, the refusals counted. Returns how many were refused.
    fn write(
        &self,
        unit: &mut Unit,
        work: &mut [(Call, Vec<Slot>)],
        now: UnixMillis,
    ) -> Result<u64, StoreError> {
        let mut refused = 0u64;
        // Single raises' audit entries, one per caller (by certificate) for the whole fold.
        let mut singles: Vec<(Actor, Vec<(String, u64)>)> = Vec::new();
        for (call, slots) in work.iter_mut() {
            let mut queued = Vec::new();
            for slot in slots.iter_mut() {
                if !matches!(slot, Slot::Ready { .. }) {
                    continue;
                }
                let Slot::Ready { key, report } = std::mem::replace(slot, Slot::Done(Ok(empty())))
                else {
                    continue;
                };
                let answer = match self
                    .soc
                    .raise_in(unit, &call.actor, key.as_deref(), report, now)
                {
                    Ok(enqueued) => enqueued,
                    Err(error @ StoreError::OutboxFull { .. }) => {
                        refused += 1;
                        *slot = Slot::Done(Err(AgentError::Store(error)));
                        continue;
                    }
                    Err(error) => return Err(error),
                };
                for seq in &answer.dropped {
                    tracing::error!(
                        seq,
                        "outbox at cap: dropped the oldest unsent escalation (on_full = drop-oldest)"
                    );
                }
                metrics::counter!("socfed_agent_outbox_dropped_total")
                    .increment(answer.dropped.len() as u64);
                if !answer.replayed {
                    queued.push((answer.local_incident_id.clone(), answer.seq));
                }
                *slot = Slot::Done(Ok(answer));
            }
            if queued.is_empty() {
                continue;
            }
            match &call.origin {
                Origin::Batch(batch_id) => {
                    let summary = serde_json::json!({
                        "raises": slots.len(),
                        "queued": queued,
                    });
                    let (id, actor) = (batch_id.clone(), &call.actor);
                    let after = Some(summary.to_string());
                    self.soc
                        .audit(unit, actor, "incident.raise_batch", &id, None, after)?;
                }
                Origin::Single => match singles.iter_mut().find(|(a, _)| a.cert == call.actor.cert)
                {
                    Some((_, list)) => list.extend(queued),
                    None => singles.push((call.actor.clone(), queued)),
                },
            }
        }
        for (actor, queued) in singles {
            // One raise keeps its incident id as the target; several name their count.
            let target = match queued.as_slice() {
                [(id, _)] => id.clone(),
                many => format!("{} incidents", many.len()),
            };
            let after = Some(serde_json::json!({ "queued": queued }).to_string());
            self.soc
                .audit(unit, &actor, "incident.raise", &target, None, after)?;
        }
        if refused > 0 {
            // In this unit: the refused raises wrote nothing, the others commit with the count.
            let key = schema::REFUSED_TOTAL.as_bytes();
            let total = unit.get_u64(TreeId::Meta, key)? + refused;
            unit.put_u64(TreeId::Meta, key, total);
        }
        Ok(refused)
    }
}

/// The key a raise's answer is recorded under: its own request id, else within a batch its
/// position. A NUL (refused in caller keys, `link::check_key`) keeps the two apart.
fn record_key(request_id: Option<String>, origin: &Origin, position: usize) -> Option<String> {
    match (request_id, origin) {
        (Some(id), _) => Some(id),
        (None, Origin::Batch(batch)) => Some(format!("\0batch\0{batch}\0{position}")),
        (None, Origin::Single) => None,
    }
}

/// About what `raises` hold in memory: their strings and indicators, and a little per raise.
fn held_bytes(raises: &[RaiseIncident]) -> usize {
    use prost::Message;
    raises
        .iter()
        .map(|r| {
            let strings =
                r.request_id.len() + r.title.len() + r.description.len() + r.rule_id.len();
            let techniques: usize = r.techniques.iter().map(|t| t.len() + 8).sum();
            let indicators: usize = r.indicators.iter().map(|i| i.encoded_len() + 8).sum();
            64 + strings + techniques + indicators
        })
        .sum()
}

/// A placeholder while a slot is being written.
fn empty() -> Enqueued {
    Enqueued {
        local_incident_id: String::new(),
        seq: 0,
        replayed: false,
        dropped: vec![],
    }
}

/// The fold's store error for each of its callers (errors are not `Clone`): the store's
/// recorded failure if it failed, else the same message as an unavailable store.
fn like(store: &crate::store::AgentStore, error: &StoreError) -> StoreError {
    store
        .failure()
        .unwrap_or_else(|| StoreError::Sync(std::io::Error::other(error.to_string())))
}

#[cfg(test)]
#[path = "raise_commit_tests.rs"]
mod tests;
