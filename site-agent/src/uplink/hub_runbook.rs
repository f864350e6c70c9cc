//! The hub's runbook versions arriving on the stream (`HubMessage.runbook`): converted once
//! (`vocab::runbook`, every bound checked like anything from a peer) and recorded with the
//! mark the next hello names (`store/runbooks.rs`). Runbook versions are rare (people write
//! them), so each is recorded as it arrives, awaited like a directive.

use crate::store::AgentStore;
use crate::store::runbooks::RunbookRecorded;
use socfed_proto::pb;
use socfed_proto::vocab::runbook::Runbook;
use std::sync::Arc;

/// Records one version. A version that does not convert is logged and skipped (its mark
/// still moves, so it is not asked for again: the hub's next version replaces it).
pub(super) async fn record(store: &Arc<AgentStore>, wire: pb::RunbookVersion) {
    let pb::RunbookVersion { seq, runbook } = wire;
    let runbook = runbook
        .ok_or_else(|| "runbook: missing".to_string())
        .and_then(|r| Runbook::from_wire(r).map_err(|e| e.to_string()));
    let runbook = match runbook {
        Ok(r) => r,
        Err(e) => {
            metrics::counter!("socfed_agent_runbooks_total", "outcome" => "invalid").increment(1);
            tracing::warn!(seq, error = %e, "ignoring a runbook from the hub that does not convert");
            return;
        }
    };
    let (id, version) = (runbook.id, runbook.version);
    let writer = store.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        writer.record_hub_runbooks(vec![(seq, runbook)], socfed_proto::now_millis())
    })
    .await;
    match recorded {
        Ok(Ok(outcomes)) => {
            let outcome = match outcomes.first() {
                Some(RunbookRecorded::Stored) => "stored",
                Some(RunbookRecorded::Duplicate) => "duplicate",
                Some(RunbookRecorded::Refused) | None => "invalid",
            };
            metrics::counter!("socfed_agent_runbooks_total", "outcome" => outcome).increment(1);
            tracing::info!(seq, runbook = %id, version, outcome, "hub runbook version");
        }
        // A failed write stops the store and the agent; the hub sends it again after the
        // restart, from the mark on disk.
        Ok(Err(e)) => tracing::error!(error = %e, "hub runbook not recorded"),
        Err(_) => tracing::error!("hub runbook task failed"),
    }
}
