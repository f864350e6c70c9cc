//! The raise committer: every raise (a `RaiseIncident` call, or each raise of a
//! `RaiseIncidents` batch) goes through one bounded queue to one committer, which takes every
//! raise waiting at that moment (a fold, at most [`FOLD_MAX_RAISES`]), writes them all in one
//! store unit, waits once for that unit to be durable (group commit, `store/sync.rs`), then
//! answers each caller. Under concurrent callers a raise costs a share of one unit, one flush
//! and one audit entry instead of one each.
//!
//! Each raise is answered on its own: an invalid raise is refused before the unit, and one
//! refused at the outbox cap is refused inside it before it writes anything (the outbox checks
//! the cap before any write), so neither touches the others. Only a store failure fails the
//! whole fold. Idempotency holds inside a fold too: a unit reads its own writes, so a second
//! raise with the request id of an earlier one in the same fold is answered as a replay.

use super::link::{RaiseIncident, RaiseLimits, prepare};
use super::{Actor, SocService};
use crate::error::AgentError;
use crate::soc::incident::{self, IncidentStatus, LocalIncident};
use crate::store::schema::{self, RequestRecord, TreeId};
use crate::store::unit::Unit;
use crate::store::{Enqueued, StoreError};
use prost::Message;
use socfed_proto::UnixMillis;
use socfed_proto::vocab::IncidentReport;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Raises waiting in the queue (in calls: a batch is one entry); callers wait to queue more.
const QUEUE_CALLS: usize = 1024;

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
}

impl RaiseCommitter {
    /// Starts the committer on the runtime; it ends once every sender is dropped (the
    /// service with it), and the returned task ends then, so shutdown can wait for it.
    pub fn start(soc: Arc<SocService>, limits: RaiseLimits) -> (Self, tokio::task::JoinHandle<()>) {
        let (queue, calls) = mpsc::channel(QUEUE_CALLS);
        let folder = Arc::new(Folder { soc, limits });
        (Self { queue }, tokio::spawn(run(calls, folder)))
    }

    /// Queues `raises` (already checked for the caller's role) and waits for their answers.
    pub async fn raise(&self, actor: Actor, origin: Origin, raises: Vec<RaiseIncident>) -> Answers {
        let stopped = || AgentError::internal("the agent is stopping: raise again shortly");
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

async fn run(mut calls: mpsc::Receiver<Call>, folder: Arc<Folder>) {
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
        let folder = folder.clone();
        // A panic drops the fold's reply senders: its callers are told the agent is stopping.
        if tokio::task::spawn_blocking(move || folder.fold(fold))
            .await
            .is_err()
        {
            tracing::error!("the raise committer's fold failed");
        }
    }
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
    /// Checks every raise, writes the valid ones in one unit, waits once, answers everyone.
    fn fold(&self, calls: Vec<Call>) {
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
        let store = &self.soc.store;
        let written = store
            .unit_deferred(|unit| self.write(unit, &mut work, now))
            .and_then(|(refused, pending)| {
                store.wait_durable(pending)?;
                Ok(refused)
            });
        metrics::counter!(UNITS_METRIC).increment(1);
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
                let answer = match self.raise_one(unit, &call.actor, key.as_deref(), report, now) {
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

    /// One raise in the fold's unit: replayed if its key was seen (in an earlier unit or
    /// earlier in this one), else its local incident, outbox entry and request record.
    /// A refusal at the cap returns before any write.
    fn raise_one(
        &self,
        unit: &mut Unit,
        actor: &Actor,
        key: Option<&str>,
        mut report: IncidentReport,
        now: UnixMillis,
    ) -> Result<Enqueued, StoreError> {
        if let Some(key) = key
            && let Some(previous) = unit.request(key)?
        {
            return Ok(Enqueued {
                local_incident_id: previous.local_incident_id,
                seq: previous.seq,
                replayed: true,
                dropped: vec![],
            });
        }
        let id = incident::new_incident_id(now);
        report.local_incident_id = id.clone();
        report.revision = 1;
        let settings = &self.soc.settings;
        let (seq, dropped) = unit.enqueue(
            report.to_wire().encode_to_vec(),
            now,
            settings.outbox_cap,
            settings.on_full,
        )?;
        if let Some(key) = key {
            unit.put_request(
                key,
                &RequestRecord {
                    local_incident_id: id.clone(),
                    seq,
                    at_ms: now,
                },
            )?;
        }
        unit.put_incident(&LocalIncident {
            id: id.clone(),
            title: report.title,
            status: IncidentStatus::Open,
            owner: Some(actor.name.clone()),
            severity: report.severity,
            tlp: report.tlp,
            groups: Vec::new(),
            hosts: Vec::new(),
            indicators: report.indicators,
            techniques: report.techniques,
            rule_id: report.rule_id,
            first_seen_ms: report.observed_at_ms,
            created_at_ms: now,
            updated_at_ms: now,
            escalation_reason: Some(format!("raised by hand ({})", actor.name)),
            revision: 1,
            revision_pending: false,
        })?;
        Ok(Enqueued {
            local_incident_id: id,
            seq,
            replayed: false,
            dropped,
        })
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
