//! The hub → site runbooks: every hub runbook version, sent after the welcome from where the
//! site's hello says it stopped (`Hello.runbooks_after`), then live as versions become
//! durable. Every site is owed every version, so the queue is one log for all sites
//! (`runbook_log`), and each site's place in it is what it acknowledges by storing a version
//! and naming its sequence in its next hello: a site offline when a runbook was written gets
//! it (and every later version, a retirement included) when it reconnects. The site applies
//! each version once, by version number, so a resend costs nothing.

use super::Session;
use crate::error::HubError;
use crate::service::Commands;
use socfed_proto::pb::{self, hub_message};
use tokio::sync::mpsc;
use tonic::Status;

/// Versions read per store read.
const BATCH: usize = 64;

impl Session {
    /// Where to start for a site whose hello named `after` (`None`: it keeps no runbooks).
    pub(super) async fn start_runbooks(&mut self, after: Option<u64>) -> Result<(), Status> {
        let Some(after) = after else {
            return Ok(());
        };
        let store = self.service.store.clone();
        let last = tokio::task::spawn_blocking(move || store.last_runbook_seq())
            .await
            .map_err(|_| HubError::internal("runbook read task failed"))?
            .map_err(|e| crate::grpc::storage_status(&e))?;
        self.runbooks_after = Some(if after > last {
            tracing::warn!(site = %self.site, site_has = after, hub_has = last, "site holds runbook versions the hub no longer has (hub store restored?); sending every version again");
            0
        } else {
            after
        });
        self.send_runbooks().await
    }

    /// Sends every runbook version after the last one sent on this stream.
    pub(super) async fn send_runbooks(&mut self) -> Result<(), Status> {
        let Some(mut after) = self.runbooks_after else {
            return Ok(());
        };
        loop {
            let store = self.service.store.clone();
            let batch =
                tokio::task::spawn_blocking(move || store.runbook_versions_after(after, BATCH))
                    .await
                    .map_err(|_| HubError::internal("runbook read task failed"))?
                    .map_err(|e| crate::grpc::storage_status(&e))?;
            if batch.is_empty() {
                return Ok(());
            }
            let full = batch.len() == BATCH;
            // What was read may be applied but not yet flushed: the barrier's answer comes
            // after a flush that started after it, so no site holds a version the hub forgets.
            Commands::on(&self.service.ingest).barrier().await?;
            for (seq, runbook) in batch {
                let message = pb::HubMessage {
                    body: Some(hub_message::Body::Runbook(pb::RunbookVersion {
                        seq,
                        runbook: Some(runbook.to_wire()),
                    })),
                };
                // Never wait for room (see `states.rs`): a full queue leaves the rest to the
                // session's retry, from the last version that went out.
                match self.out.try_send(Ok(message)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        self.runbooks_blocked = true;
                        return Ok(());
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {
                        return Err(Status::cancelled("the site went away"));
                    }
                }
                after = seq;
                self.runbooks_after = Some(after);
                metrics::counter!("socfed_hub_runbooks_sent_total").increment(1);
                tracing::debug!(site = %self.site, seq, runbook = %runbook.id, version = runbook.version, "runbook version sent");
            }
            if !full {
                return Ok(());
            }
        }
    }
}
