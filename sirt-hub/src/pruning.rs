//! The directive prune job: every [`PRUNE_INTERVAL`] (and once at start), a pass over the
//! finished directives removes those past `[response] directive_retention`
//! (`crate::response::retention`). Each step is one writer item removing at most
//! `PRUNE_PER_ITEM`, so a large backlog goes in bounded units with other writes between them.

use crate::ingest::IngestHandle;
use crate::response::retention::PRUNE_INTERVAL;
use crate::service::Commands;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Runs until `shutdown`.
pub async fn run(ingest: IngestHandle, retention: Duration, shutdown: CancellationToken) {
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    let mut ticker = tokio::time::interval(PRUNE_INTERVAL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let mut from = None;
        loop {
            let step = tokio::select! {
                () = shutdown.cancelled() => return,
                step = Commands::on(&ingest).prune_directives(retention_ms, from) => step,
            };
            match step {
                Ok(pruned) => {
                    metrics::counter!("socfed_hub_directives_pruned_total")
                        .increment(pruned.removed as u64);
                    if pruned.removed > 0 {
                        tracing::info!(
                            removed = pruned.removed,
                            "finished directives past retention pruned"
                        );
                    }
                    match pruned.resume_from {
                        Some(next) => from = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    // A stopped writer stops the hub; anything else is retried next interval.
                    tracing::warn!(error = %e, "directive prune step failed");
                    break;
                }
            }
        }
    }
}
