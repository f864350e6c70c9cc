//! The hub's incident states arriving on the stream (`HubMessage.incident_state`): converted
//! once (`vocab::IncidentState`, range-checked like anything from a peer) and recorded with
//! the mark the next hello names (`store/hub_states.rs`).
//!
//! Recording runs in its own task, fed by the stream in the order the hub sent: the stream
//! keeps reading acknowledgements and directives while states are written, and every state
//! that arrived together is written in one unit (one flush), so a reconnect that brings a long
//! backlog of states does not hold up the outbox. The channel is bounded: a recorder that falls
//! far behind slows the stream rather than growing memory.

use crate::store::{AgentStore, Recorded};
use socfed_proto::pb;
use socfed_proto::vocab::IncidentState;
use std::sync::Arc;
use tokio::sync::mpsc;

/// States waiting to be recorded before the stream waits for the recorder.
const QUEUE: usize = 1024;
/// Most states written in one unit.
const BATCH: usize = 256;

pub(super) type Sender = mpsc::Sender<pb::IncidentState>;

/// Starts the recorder; it ends once every sender is dropped and what they sent is recorded.
pub(super) fn start(store: Arc<AgentStore>) -> (Sender, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (tx, tokio::spawn(record(store, rx)))
}

async fn record(store: Arc<AgentStore>, mut rx: mpsc::Receiver<pb::IncidentState>) {
    while let Some(first) = rx.recv().await {
        let mut wire = vec![first];
        while wire.len() < BATCH {
            match rx.try_recv() {
                Ok(more) => wire.push(more),
                Err(_) => break,
            }
        }
        // A state that does not convert is logged and dropped; the hub sends each local
        // incident's state again at its next change.
        let states: Vec<IncidentState> = wire
            .into_iter()
            .filter_map(|w| {
                IncidentState::from_wire(w)
                    .inspect_err(|e| tracing::warn!(error = %e, "ignoring an incident state from the hub that does not convert"))
                    .ok()
            })
            .collect();
        if states.is_empty() {
            continue;
        }
        let described: Vec<_> = states
            .iter()
            .map(|s| (s.seq, s.local_incident_id.clone(), s.hub_incident, s.phase))
            .collect();
        let writer = store.clone();
        // Recording flushes the store: off the async workers.
        let recorded = tokio::task::spawn_blocking(move || {
            writer.record_hub_states(states, socfed_proto::now_millis())
        })
        .await;
        match recorded {
            Ok(Ok(outcomes)) => {
                for ((seq, local, hub, phase), outcome) in described.into_iter().zip(outcomes) {
                    match outcome {
                        Recorded::Stored => {
                            metrics::counter!("socfed_agent_incident_states_total").increment(1);
                            tracing::info!(local_incident = %local, hub_incident = %hub, %phase, seq, "hub state of a local incident recorded");
                        }
                        Recorded::Unchanged => {}
                        Recorded::Unknown => {
                            tracing::debug!(local_incident = %local, seq, "hub state of a local incident this store does not hold")
                        }
                    }
                }
            }
            // A failed write stops the store and the agent (`app.rs`); the hub sends these
            // again after the restart, from the mark on disk.
            Ok(Err(e)) => tracing::error!(error = %e, "incident states from the hub not recorded"),
            Err(_) => tracing::error!("incident state task failed"),
        }
    }
}
