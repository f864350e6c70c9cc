//! The hub → site incident states: what the hub says of each of the site's escalated local
//! incidents (its hub incident, phase and IR lead), sent after the welcome from where the
//! site's hello says it stopped, then live as changes become durable.
//!
//! The site names the last state it stored (`Hello.incident_states_after`); the hub sends every
//! queued state after it, in sequence order (`store::query_states`). A site ahead of the hub's
//! last sequence means the hub's store went back (restored from a backup): everything is sent
//! again from the start, and the site records whatever it is sent. Nothing is deleted on
//! delivery: the queue holds one entry per local incident, replaced by the next change.

use super::Session;
use crate::error::HubError;
use crate::service::Commands;
use socfed_proto::pb::{self, hub_message};
use tokio::sync::mpsc;
use tonic::Status;

/// States read per store read; a long backlog is sent in batches of this size.
const BATCH: usize = 256;

impl Session {
    /// Where to start for a site whose hello named `after` (`None`: it keeps no states).
    pub(super) async fn start_states(&mut self, after: Option<u64>) -> Result<(), Status> {
        let Some(after) = after else {
            return Ok(());
        };
        let store = self.service.store.clone();
        let site = self.site.clone();
        let last = tokio::task::spawn_blocking(move || store.last_state_seq(&site))
            .await
            .map_err(|_| HubError::internal("incident state read task failed"))?
            .map_err(|e| crate::grpc::storage_status(&e))?;
        self.states_after = Some(if after > last {
            tracing::warn!(site = %self.site, site_has = after, hub_has = last, "site holds incident states the hub no longer has (hub store restored?); sending every state again");
            0
        } else {
            after
        });
        self.send_states().await
    }

    /// Sends the site's queued incident states after the last one sent on this stream.
    pub(super) async fn send_states(&mut self) -> Result<(), Status> {
        let Some(mut after) = self.states_after else {
            return Ok(());
        };
        loop {
            let store = self.service.store.clone();
            let site = self.site.clone();
            let batch =
                tokio::task::spawn_blocking(move || store.incident_states(&site, after, BATCH))
                    .await
                    .map_err(|_| HubError::internal("incident state read task failed"))?
                    .map_err(|e| crate::grpc::storage_status(&e))?;
            if batch.is_empty() {
                return Ok(());
            }
            let full = batch.len() == BATCH;
            // The read may include changes applied but not yet flushed: the barrier's answer
            // comes after a flush that started after it, so nothing sent can be lost to a hub
            // crash (a site must never hold a state the hub then forgets).
            Commands::on(&self.service.ingest).barrier().await?;
            let mut sent = 0u64;
            for state in batch {
                let message = pb::HubMessage {
                    body: Some(hub_message::Body::IncidentState(state.to_wire())),
                };
                // Never wait for room here: the site may itself be waiting to send to us, and
                // this loop is the one that reads it. A full queue leaves the rest to the
                // session's retry (`states_blocked`), from the last state that went out.
                match self.out.try_send(Ok(message)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        self.states_blocked = true;
                        metrics::counter!("socfed_hub_incident_states_sent_total").increment(sent);
                        return Ok(());
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        return Err(Status::cancelled("the site went away"));
                    }
                }
                sent += 1;
                after = state.seq;
                self.states_after = Some(after);
                tracing::debug!(site = %self.site, seq = state.seq, local = %state.local_incident_id, hub = %state.hub_incident, phase = %state.phase, "incident state sent");
            }
            metrics::counter!("socfed_hub_incident_states_sent_total").increment(sent);
            if !full {
                return Ok(());
            }
        }
    }
}
